"""Staff pages for badges: the layouts of an edition (colour band and label per visitor category, with a
preview) and the batch PDF of the registrations list (a background job; its page is core.job)."""
from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, edition_scoped, require
from ..core.services import ServiceError
from ..extensions import db
from . import MANAGE_BADGE_LAYOUTS, MANAGE_REGISTRATIONS, VIEW_REGISTRATIONS
from . import badge_layouts, badges
from .listing import RegistrationFilters
from .models import VISITOR_CATEGORY

bp = edition_scoped(Blueprint("badges", __name__))


@bp.route("/org/editions/<int:edition_id>/badges", methods=["GET", "POST"])
@require(MANAGE_BADGE_LAYOUTS, organizer=True)
def layouts():
    """Every category's colour and label, one small form each; POST saves one (or resets it)."""
    edition = g.edition
    errors, typed = {}, {}
    if request.method == "POST":
        category = request.form.get("category", "")
        try:
            if category not in VISITOR_CATEGORY:
                raise ServiceError(_("No such visitor category."), "category")
            if request.form.get("action") == "reset":
                badge_layouts.reset_layout(current_scope(), edition, category, actor_id=current_user.id)
                flash(_("Badge layout of %(category)s back to the defaults.",
                        category=VISITOR_CATEGORY.label(category)), "success")
            else:
                badge_layouts.save_layout(current_scope(), edition, category, colour=request.form.get("colour"),
                                          label_en=request.form.get("label_en"),
                                          label_zh=request.form.get("label_zh"), actor_id=current_user.id)
                flash(_("Badge layout of %(category)s saved.", category=VISITOR_CATEGORY.label(category)),
                      "success")
        except ServiceError as error:
            db.session.rollback()
            if category not in VISITOR_CATEGORY:
                flash(str(error), "error")
                return redirect(url_for("badges.layouts"))
            errors = {category: {error.field or "colour": str(error)}}
            typed = {category: {name: (request.form.get(name) or "").replace("\x00", "")[:200]
                                for name in ("colour", "label_en", "label_zh")}}
        else:
            db.session.commit()
            return redirect(url_for("badges.layouts", _anchor=f"layout-{category}"))
    return render_template("visitors/badge_layouts.html", edition=edition,
                           layouts=badge_layouts.layouts_for(edition), errors=errors, typed=typed,
                           formats=badges.FORMATS.values()), 400 if errors else 200


@bp.route("/org/editions/<int:edition_id>/badges/preview.png")
@require(MANAGE_BADGE_LAYOUTS, organizer=True)
def preview():
    """An A6 badge of the category's layout with a sample visitor (?category=buyer)."""
    category = request.args.get("category", "")
    layouts = badge_layouts.layouts_for(g.edition)
    layout = layouts.get(category) or layouts[VISITOR_CATEGORY.codes[0]]
    language = "zh" if request.args.get("lang", "").startswith("zh") else "en"
    return Response(badge_layouts.preview_png(g.edition, layout, language), mimetype="image/png",
                    headers={"Cache-Control": "private, no-store"})


@bp.route("/org/editions/<int:edition_id>/registrations/badges", methods=["POST"])
@require(VIEW_REGISTRATIONS, MANAGE_REGISTRATIONS, organizer=True)
def print_batch():
    """The badges of the registrations list as filtered (the query string), in the chosen format, as a
    background job; its page shows the progress and offers the PDF."""
    edition = g.edition
    filters = RegistrationFilters.from_args(request.args)
    back = url_for("visitors.registrations", **request.args.to_dict(flat=False))
    fmt = request.form.get("format", "")
    try:
        if fmt not in badges.FORMATS:
            raise ServiceError(_("Choose a badge format."))
        job = badge_layouts.start_batch(current_scope(), edition, filters, fmt, actor_id=current_user.id,
                                        title=_("Badges: %(format)s", format=badges.FORMATS[fmt].title),
                                        back_url=back)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    return redirect(url_for("core.job", job_id=job.id))
