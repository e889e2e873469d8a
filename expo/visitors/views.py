"""The public front door and show pages, pre-registration, the visitor's own confirmation page and badge;
the organizer's registrations list (filters, pages, export), the help desk, and the duplicate review."""
from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, edition_scoped, require
from ..core.forms import choices
from ..core.paging import page_number, page_size
from ..core.registry import registry
from ..core.scoping import get_in_edition_or_404
from ..core.services import ServiceError, audit, category_tree
from ..core.tabular import XLSX_MIMETYPE
from ..core.templating import current_language, label
from ..extensions import db
from . import EXPORT_REGISTRATIONS, MANAGE_REGISTRATIONS, VIEW_REGISTRATIONS, services
from . import badges as badge_render
from .forms import REGISTERABLE_CATEGORIES, PersonForm, RegistrationForm
from .listing import RegistrationFilters
from .models import REGISTRATION_SOURCE, REGISTRATION_STATUS, VISITOR_CATEGORY, Registration

bp = edition_scoped(Blueprint("visitors", __name__))


def public_page_url(edition) -> str:
    """The hook ``public_page_url``: where visitors register for an edition (shown on its back-office page)."""
    return url_for("visitors.register", slug=edition.slug, _external=True)


def front_door():
    """The hook ``front_door``: what ``/`` shows a visitor without an account — the shows open for
    registration, each with its public page; staff sign in from a link there."""
    return render_template("visitors/front_door.html", editions=services.open_editions())


@bp.route("/e/<slug>", methods=["GET", "POST"])
def register(slug):
    """The edition's public page: what, when and where, and the pre-registration form."""
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
                           edition=registration.edition, code=services.badge_code(registration),
                           in_wechat="MicroMessenger" in (request.user_agent.string or ""))


@bp.route("/r/<key>/badge.png")
def badge_png(key):
    registration = _own_registration(key)
    return Response(badge_render.qr_png(services.badge_code(registration)), mimetype="image/png",
                    headers={"Cache-Control": "private, no-store"})


def _badge_pdf(registration) -> Response:
    face = badge_render.BadgeFace(code=services.badge_code(registration), name=registration.visitor_name,
                                  company=registration.visitor_company, category_label=str(label(registration.category)),
                                  edition_name=registration.edition.name, number=f"#{registration.id}")
    return Response(badge_render.badges_pdf([face]), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="badge-{registration.id}.pdf"',
                             "Cache-Control": "private, no-store"})


@bp.route("/r/<key>/badge.pdf")
def badge_pdf(key):
    return _badge_pdf(_own_registration(key))


def _page_args() -> tuple[int, int]:
    return page_number(request.args.get("page")), page_size(request.args.get("per_page"))


def _filter_chips(filters: RegistrationFilters) -> list[tuple[str, str, str]]:
    chips = [("q", filters.q, _("Search") + ": " + filters.q)] if filters.q else []
    for param, title, machine in (("category", _("Category"), VISITOR_CATEGORY),
                                  ("status", _("Status"), REGISTRATION_STATUS),
                                  ("source", _("Source"), REGISTRATION_SOURCE)):
        chips += [(param, code, f"{title}: {machine.label(code)}") for code in getattr(filters, param)]
    if filters.checked_in:
        chips.append(("checked_in", filters.checked_in,
                      _("Checked in") if filters.checked_in == "yes" else _("Not checked in")))
    return chips


@bp.route("/org/editions/<int:edition_id>/registrations")
@require(VIEW_REGISTRATIONS, organizer=True)
def registrations():
    scope, edition = current_scope(), g.edition
    filters = RegistrationFilters.from_args(request.args)
    page_number, per_page = _page_args()
    page = services.registrations_page(scope, edition, filters, page=page_number, per_page=per_page)
    return render_template(
        "visitors/registrations.html", edition=edition, filters=filters, page=page,
        total=services.registration_count(scope, edition) if filters.active else page.total,
        chips=_filter_chips(filters), checked_in=services.checked_in_among(edition, [r.id for r in page.items]),
        checked_in_available=services.checked_in_available(), categories=VISITOR_CATEGORY.states.values(),
        statuses=REGISTRATION_STATUS.states.values(), sources=REGISTRATION_SOURCE.states.values(),
        export_query=request.query_string.decode())


def _export(fmt: str) -> Response:
    """The filtered list, every page of it, as a file in the user's language (audited)."""
    edition = g.edition
    body = services.export_registrations(current_scope(), edition, RegistrationFilters.from_args(request.args), fmt,
                                         actor_id=current_user.id)
    mimetype = XLSX_MIMETYPE if fmt == "xlsx" else "text/csv; charset=utf-8"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="registrations-{edition.slug}.{fmt}"',
        "Cache-Control": "private, no-store"})


@bp.route("/org/editions/<int:edition_id>/registrations.xlsx")
@require(VIEW_REGISTRATIONS, EXPORT_REGISTRATIONS, organizer=True)
def registrations_xlsx():
    return _export("xlsx")


@bp.route("/org/editions/<int:edition_id>/registrations.csv")
@require(VIEW_REGISTRATIONS, EXPORT_REGISTRATIONS, organizer=True)
def registrations_csv():
    return _export("csv")


def _registration_in_edition(registration_id):
    return get_in_edition_or_404(Registration, registration_id, g.edition.id, current_scope())


@bp.route("/org/editions/<int:edition_id>/registrations/<int:registration_id>")
@require(VIEW_REGISTRATIONS, organizer=True)
def registration(registration_id):
    return _desk(_registration_in_edition(registration_id))


def _desk(registration, person_form=None):
    panels = [panel for hook in registry.hook("registration_panels")
              if (panel := hook(current_scope(), registration)) is not None]
    return render_template("visitors/registration.html", registration=registration, person=registration.person,
                           edition=registration.edition, panels=panels,
                           person_form=person_form or PersonForm(obj=registration.person, formdata=None))


@bp.route("/org/editions/<int:edition_id>/registrations/<int:registration_id>/person", methods=["POST"])
@require(MANAGE_REGISTRATIONS, organizer=True)
def edit_person(registration_id):
    """Staff correct the visitor's stored details (audited); a registration never does."""
    registration = _registration_in_edition(registration_id)
    form = PersonForm()
    if form.validate_on_submit():
        try:
            changes = services.update_person(current_scope(), registration.person, form.data,
                                             actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors.append(str(error))
        else:
            flash(_("Visitor details saved.") if changes else _("Nothing changed."), "success")
            return redirect(url_for("visitors.registration", registration_id=registration_id))
    return _desk(registration, person_form=form)


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


@bp.route("/org/editions/<int:edition_id>/registrations/<int:registration_id>/status", methods=["POST"])
@require(MANAGE_REGISTRATIONS, organizer=True)
def registration_status(registration_id):
    """Confirm a pending registration, waitlist it, or reinstate a cancelled one."""
    registration = _registration_in_edition(registration_id)
    try:
        services.set_registration_status(registration, request.form.get("status", ""), actor_id=current_user.id)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(_("Status changed."), "success")
    return redirect(url_for("visitors.registration", registration_id=registration_id))


# --- possible duplicates: the staff review list -----------------------------------------------------

@bp.route("/org/duplicates")
@require(MANAGE_REGISTRATIONS, organizer=True)
def duplicates():
    page_number, per_page = _page_args()
    page = services.possible_duplicates(current_scope(), page=page_number, per_page=per_page)
    return render_template("visitors/duplicates.html", page=page)


def _person_ids(*names) -> list[int] | None:
    try:
        return [int(request.form[name]) for name in names]
    except (KeyError, ValueError):
        return None


@bp.route("/org/duplicates/merge", methods=["POST"])
@require(MANAGE_REGISTRATIONS, organizer=True)
def merge_duplicates():
    ids = _person_ids("keep", "merge")
    try:
        if ids is None:
            raise ServiceError(_("No such pair of visitors."))
        kept = services.merge_persons(current_scope(), *ids, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Merged into %(name)s: every registration and lead now belongs to this visitor.", name=kept.name),
              "success")
    return redirect(url_for("visitors.duplicates"))


@bp.route("/org/duplicates/distinct", methods=["POST"])
@require(MANAGE_REGISTRATIONS, organizer=True)
def distinct_persons():
    ids = _person_ids("person", "other")
    try:
        if ids is None:
            raise ServiceError(_("No such pair of visitors."))
        services.mark_distinct(current_scope(), *ids, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Noted: these are two people. The pair will not be suggested again."), "success")
    return redirect(url_for("visitors.duplicates"))
