"""Staff badges' pages: the exhibitor admin's list (add within the quota, remove, print), the organizer's quota
rule and overview per exhibitor."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, edition_scoped, require
from ..core.services import ServiceError
from ..exhibitors import MANAGE_EXHIBITORS, MANAGE_STAFF
from ..extensions import db
from ..visitors.services import request_base_url
from . import staff_badges as services

from . import MANAGE_STAFF_BADGES  # noqa: E402

bp = edition_scoped(Blueprint("staff_badges", __name__))


@bp.route("/portal/staff-badges", methods=["GET", "POST"])
@require(MANAGE_STAFF, exhibitor=True)
def portal():
    exhibitor = current_user.exhibitor
    errors, values = {}, {}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in ("name", "job_title", "email")}
        member = services.StaffMember(name=values["name"], job_title=values["job_title"], email=values["email"],
                                      locale=str(get_locale() or "en"))
        try:
            services.add_staff_badge(exhibitor, member, actor_id=current_user.id, public_url=request_base_url())
        except ServiceError as error:
            db.session.rollback()
            errors[error.field or "name"] = str(error)
        else:
            flash(_("Badge added for %(name)s.", name=member.name.strip()), "success")
            return redirect(url_for("staff_badges.portal"))
    return render_template("onsite/staff_badges.html", exhibitor=exhibitor, badges=services.active_badges(exhibitor),
                           quota=services.quota_of(exhibitor), errors=errors, values=values,
                           takes_part=exhibitor.status in services.PARTICIPATING_STATUSES), 422 if errors else 200


@bp.route("/portal/staff-badges/<int:badge_id>/remove", methods=["POST"])
@require(MANAGE_STAFF, exhibitor=True)
def remove(badge_id):
    badge = services.get_badge(current_user.exhibitor, badge_id)
    if badge is None:
        abort(404)
    services.remove_staff_badge(badge, actor_id=current_user.id)
    flash(_("Badge removed: it no longer admits, and its place is free."), "success")
    return redirect(url_for("staff_badges.portal"))


def _pdf(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})


@bp.route("/portal/staff-badges/<int:badge_id>/badge.pdf")
@require(MANAGE_STAFF, exhibitor=True)
def badge_pdf(badge_id):
    exhibitor = current_user.exhibitor
    badge = services.get_badge(exhibitor, badge_id)
    if badge is None:
        abort(404)
    return _pdf(services.badges_pdf([badge], exhibitor.edition), f"staff-badge-{badge.id}.pdf")


@bp.route("/portal/staff-badges/badges.pdf")
@require(MANAGE_STAFF, exhibitor=True)
def all_pdf():
    exhibitor = current_user.exhibitor
    badges = services.active_badges(exhibitor)
    if not badges:
        flash(_("No badges to print yet."), "info")
        return redirect(url_for("staff_badges.portal"))
    return _pdf(services.badges_pdf(badges, exhibitor.edition), "staff-badges.pdf")


@bp.route("/org/editions/<int:edition_id>/staff-badges", methods=["GET", "POST"])
@require(MANAGE_EXHIBITORS, organizer=True, POST=MANAGE_STAFF_BADGES)
def edition():
    scope, edition = current_scope(), g.edition
    errors = {}
    rule = services.quota_rule(edition)
    values = {"base": rule.base, "per_m2": format(rule.per_m2.normalize(), "f") if rule.per_m2 is not None else "",
              "maximum": rule.maximum if rule.maximum is not None else ""}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in ("base", "per_m2", "maximum")}
        try:
            services.set_quota(scope, edition, base=values["base"], per_m2=values["per_m2"],
                               maximum=values["maximum"], actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            errors[error.field or "base"] = str(error)
        else:
            flash(_("Staff badge quota saved."), "success")
            return redirect(url_for("staff_badges.edition"))
    rows = services.edition_overview(scope, edition)
    return render_template("onsite/staff_badges_edition.html", edition=edition, rows=rows, values=values,
                           errors=errors), 422 if errors else 200
