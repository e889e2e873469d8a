"""Public pre-registration, the visitor's own confirmation page and badge, the organizer's list."""
from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, edition_scoped, require
from ..core.forms import choices
from ..core.registry import registry
from ..core.scoping import get_in_edition_or_404
from ..core.services import ServiceError, audit, category_tree
from ..core.templating import current_language, label
from ..extensions import db
from . import badges as badge_render
from . import MANAGE_REGISTRATIONS, VIEW_REGISTRATIONS
from . import services
from .forms import REGISTERABLE_CATEGORIES, RegistrationForm, SearchForm
from .models import Registration

bp = edition_scoped(Blueprint("visitors", __name__))


@bp.route("/e/<slug>", methods=["GET", "POST"])
def register(slug):
    edition = services.edition_by_slug(slug)
    if edition is None:
        abort(404)
    form = RegistrationForm()
    form.category.choices = choices((c, label(c)) for c in REGISTERABLE_CATEGORIES)
    form.interests.choices = choices((c.id, "— " * depth + c.name) for c, depth in category_tree(edition.show))
    if edition.registration_open and form.validate_on_submit():
        data = services.RegistrationData(
            name=form.name.data, email=form.email.data, phone=form.phone.data or "", company=form.company.data or "",
            job_title=form.job_title.data or "", country=form.country.data or "", category=form.category.data,
            interest_ids=form.interests.data or [], consent=form.consent.data,
            share_with_exhibitors=form.share_with_exhibitors.data, locale=current_language())
        try:
            registration = services.register(edition, data, public_url=request.url_root)
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field if hasattr(form, error.field or "") else "email").errors.append(str(error))
        else:
            return redirect(url_for("visitors.confirmation", key=registration.access_key))
    return render_template("visitors/register.html", edition=edition, form=form)


def _own_registration(key):
    registration = services.registration_by_access_key(key)
    if registration is None:
        abort(404)
    return registration


@bp.route("/r/<key>")
def confirmation(key):
    registration = _own_registration(key)
    return render_template("visitors/confirmation.html", registration=registration, person=registration.person,
                           edition=registration.edition, code=services.badge_code(registration))


@bp.route("/r/<key>/badge.png")
def badge_png(key):
    registration = _own_registration(key)
    return Response(badge_render.qr_png(services.badge_code(registration)), mimetype="image/png",
                    headers={"Cache-Control": "private, no-store"})


def _badge_pdf(registration) -> Response:
    face = badge_render.BadgeFace(code=services.badge_code(registration), name=registration.person.name,
                                  company=registration.person.company, category_label=str(label(registration.category)),
                                  edition_name=registration.edition.name, number=f"#{registration.id}")
    return Response(badge_render.badges_pdf([face]), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="badge-{registration.id}.pdf"',
                             "Cache-Control": "private, no-store"})


@bp.route("/r/<key>/badge.pdf")
def badge_pdf(key):
    return _badge_pdf(_own_registration(key))


@bp.route("/org/editions/<int:edition_id>/registrations")
@require(VIEW_REGISTRATIONS, organizer=True)
def registrations():
    scope, edition = current_scope(), g.edition
    form = SearchForm(request.args)
    rows = services.registrations(scope, edition, search=form.q.data or "")
    return render_template("visitors/registrations.html", edition=edition, form=form, registrations=rows,
                           total=services.registration_count(scope, edition))


def _registration_in_edition(registration_id):
    return get_in_edition_or_404(Registration, registration_id, g.edition.id, current_scope())


@bp.route("/org/editions/<int:edition_id>/registrations/<int:registration_id>")
@require(VIEW_REGISTRATIONS, organizer=True)
def registration(registration_id):
    registration = _registration_in_edition(registration_id)
    panels = [panel for hook in registry.hook("registration_panels")
              if (panel := hook(current_scope(), registration)) is not None]
    return render_template("visitors/registration.html", registration=registration, person=registration.person,
                           edition=registration.edition, panels=panels)


@bp.route("/org/editions/<int:edition_id>/registrations/<int:registration_id>/badge.pdf")
@require(MANAGE_REGISTRATIONS, organizer=True)
def print_badge(registration_id):
    """On-site badge printing at the help desk."""
    registration = _registration_in_edition(registration_id)
    audit("badge.printed", organizer_id=registration.organizer_id, user_id=current_user.id, obj=registration)
    return _badge_pdf(registration)


@bp.route("/org/editions/<int:edition_id>/registrations/<int:registration_id>/reissue", methods=["POST"])
@require(MANAGE_REGISTRATIONS, organizer=True)
def reissue_badge(registration_id):
    """A lost badge: a new code, and the old one is refused as revoked from now on."""
    registration = _registration_in_edition(registration_id)
    services.reissue_badge(registration, actor_id=current_user.id)
    flash(_("New badge issued; the old one no longer admits."), "success")
    return redirect(url_for("visitors.registration", registration_id=registration_id))


@bp.route("/org/editions/<int:edition_id>/registrations/<int:registration_id>/cancel", methods=["POST"])
@require(MANAGE_REGISTRATIONS, organizer=True)
def cancel_registration(registration_id):
    registration = _registration_in_edition(registration_id)
    services.cancel_registration(registration, actor_id=current_user.id)
    flash(_("Registration cancelled; its badge no longer admits."), "success")
    return redirect(url_for("visitors.registration", registration_id=registration_id))
