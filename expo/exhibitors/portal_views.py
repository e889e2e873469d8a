"""The portal's logo and product pictures (exhibitor admins), and the images themselves (anyone: they are
shown on the public show page). Thin: parse, check access, call ``portal``, redirect with a message."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import require
from ..core.services import ServiceError, parse_id
from ..extensions import db
from . import EDIT_COMPANY, images, portal, products

bp = Blueprint("portal", __name__)

YEAR = 365 * 24 * 3600


def _upload():
    """The uploaded file's bytes (at most images.MAX_BYTES + 1 read) and its name."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ServiceError(_("Choose an image file to upload."), "file")
    return images.read_upload(upload.stream), upload.filename


@bp.route("/portal/logo", methods=["POST"])
@require(EDIT_COMPANY, exhibitor=True)
def logo():
    exhibitor = current_user.exhibitor
    try:
        data, filename = _upload()
        portal.set_logo(exhibitor, data, filename, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(_("Logo not saved: %(reason)s", reason=str(error)), "error")
    else:
        flash(_("Logo saved."), "success")
    return redirect(url_for("exhibitors.portal"))


@bp.route("/portal/logo/remove", methods=["POST"])
@require(EDIT_COMPANY, exhibitor=True)
def remove_logo():
    if portal.remove_logo(current_user.exhibitor, actor_id=current_user.id):
        flash(_("Logo removed."), "success")
    return redirect(url_for("exhibitors.portal"))


def _back_to(product_id):
    if product_id:
        return redirect(url_for("products.catalogue", edit=product_id) + "#pictures")
    return redirect(url_for("products.catalogue"))


@bp.route("/portal/products/pictures", methods=["POST"])
@require(EDIT_COMPANY, exhibitor=True)
def add_picture():
    exhibitor = current_user.exhibitor
    product = products.get_product(exhibitor, parse_id(request.form.get("product_id")))
    if product is None:
        flash(_("No such product."), "error")
        return _back_to(None)
    try:
        data, filename = _upload()
        portal.add_picture(exhibitor, product, data, filename, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(_("Picture not added: %(reason)s", reason=str(error)), "error")
    else:
        flash(_("Picture added."), "success")
    return _back_to(product.id)


def _picture(exhibitor):
    return portal.get_picture(exhibitor, parse_id(request.form.get("picture_id")))


@bp.route("/portal/products/pictures/remove", methods=["POST"])
@require(EDIT_COMPANY, exhibitor=True)
def remove_picture():
    exhibitor = current_user.exhibitor
    picture = _picture(exhibitor)
    if picture is None:
        flash(_("No such picture."), "error")
        return _back_to(None)
    product_id = picture.product_id
    portal.remove_picture(exhibitor, picture, actor_id=current_user.id)
    flash(_("Picture removed."), "success")
    return _back_to(product_id)


@bp.route("/portal/products/pictures/move", methods=["POST"])
@require(EDIT_COMPANY, exhibitor=True)
def move_picture():
    exhibitor = current_user.exhibitor
    picture = _picture(exhibitor)
    if picture is None:
        flash(_("No such picture."), "error")
        return _back_to(None)
    direction = request.form.get("direction", "")
    try:
        portal.move_picture(exhibitor, picture, direction, actor_id=current_user.id)
    except ServiceError as error:
        flash(str(error), "error")
    return _back_to(picture.product_id)


@bp.route("/media/<name>")
def media(name):
    """An image by its file name (``<key>-<size>.webp``). Keys are random and a file never changes: cached for a
    year. No row is read: a removed image's files are gone."""
    match = images.NAME.fullmatch(name)
    if match is None or match["size"] not in images.ALL_SIZES:
        abort(404)
    path = images.path_of(match["key"], match["size"])
    if not path.is_file():
        abort(404)
    response = send_file(path, mimetype="image/webp", max_age=YEAR, conditional=True, etag=True)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


@bp.app_template_global()
def media_url(key: str | None, size: str) -> str | None:
    """The address of an image's file of this size (None without an image)."""
    return url_for("portal.media", name=images.file_name(key, size)) if key else None


@bp.app_template_global()
def company_logo(company) -> str | None:
    """The key of a company's logo, or None (one query: for pages showing one company)."""
    profile = portal.profile_of(company) if company is not None else None
    return profile.logo_key if profile else None
