"""The public front door and show pages, pre-registration, the visitor's own confirmation page and badge;
the organizer's registrations list (filters, pages, export), the help desk, and the duplicate review."""
import json

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, edition_scoped, require
from ..core.forms import choices
from ..core.paging import page_number, page_size
from ..core.permissions import has_permission
from ..core.registry import registry
from ..core.scoping import get_in_edition_or_404
from ..core import services as core_services
from ..core.db import utcnow
from ..core.services import ServiceError, audit, audit_contact_view, category_tree
from ..core.tabular import XLSX_MIMETYPE
from ..core.templating import current_language, label
from ..extensions import db, limiter
from . import EXPORT_REGISTRATIONS, MANAGE_REGISTRATIONS, VIEW_REGISTRATIONS, notifications, services
from . import MANAGE_PERSONAL_DATA
from . import privacy as privacy_services
from . import invitations, policy, policy_views
from . import questions, rules
from . import customers
from . import badges as badge_render
from . import badge_layouts
from .forms import REGISTERABLE_CATEGORIES, LinkRequestForm, PersonForm, RegistrationForm
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


def _public_form_limit() -> str:
    return current_app.config["PUBLIC_FORM_RATE_LIMIT"]


def _too_many_submits(_limit) -> Response:
    """A friendly page for an address that sent the public forms too often (HTTP 429, with Retry-After)."""
    return Response(render_template("visitors/too_many.html"), status=429)


# The public forms (register, "send the link again") share one budget per address: counted per POST,
# whatever its outcome, so a bot gains nothing by alternating between them. Config PUBLIC_FORM_RATE_LIMIT.
public_form_limit = limiter.shared_limit(_public_form_limit, scope="public-form", methods=["POST"],
                                         on_breach=_too_many_submits)


def _group_form_limit() -> str:
    return current_app.config["GROUP_FORM_RATE_LIMIT"]


def _colleagues_sent() -> int:
    """How many colleagues a submit registers (rows with an address): each is a badge mail to an address the
    submitter chose, so each counts against the address's group budget."""
    return min(policy.MAX_GROUP, sum(1 for key, value in request.form.items()
                                     if key.startswith("colleagues-") and key.endswith("-email") and value.strip()))


# A group submit sends up to eleven mails for one POST: its colleagues have a budget of their own per address
# (config GROUP_FORM_RATE_LIMIT), on top of the public forms' one, so the form cannot be used to mail strangers.
group_form_limit = limiter.limit(_group_form_limit, scope="group-form", methods=["POST"], cost=_colleagues_sent,
                                 exempt_when=lambda: _colleagues_sent() == 0, on_breach=_too_many_submits)


def _published_edition(slug):
    edition = services.edition_by_slug(slug)
    if edition is None:
        abort(404)
    return edition


def _tracked_link(edition) -> dict:
    """``?c=<token>`` of a campaign mail's link: the ``registration_link`` hook (campaigns) records the opening
    and answers the registration's fields (source, campaign); a bogus token is ignored."""
    token = request.args.get("c")
    if not token:
        return {}
    for hook in registry.hook("registration_link"):
        if fields := hook(edition, token):
            return fields
    return {}


def _interest_choices(edition):
    return choices((c.id, "— " * depth + c.name) for c, depth in category_tree(edition.show))


@bp.route("/e/<slug>", methods=["GET", "POST"])
@public_form_limit
@group_form_limit
def register(slug):
    """The edition's public page: what, when and where, and the pre-registration form.

    No registration oracle: a valid submit always ends on "check your inbox" (``mail_sent``), whether the
    address is new (registered, confirmation mailed), already registered (its own link mailed to it, nothing
    stored) or the honeypot was filled in (a bot: nothing stored, nothing mailed)."""
    edition = services.public_form_edition(slug)  # with its show and registration policy, one statement
    if edition is None:
        abort(404)
    tracked = _tracked_link(edition)  # a campaign's link (?c=…): its fields for the registration, else {}
    form = RegistrationForm()
    form.category.choices = choices((c, label(c)) for c in REGISTERABLE_CATEGORIES)
    # The edition's qualification questions (visitors.questions), its category rules (visitors.rules) and, on a
    # submit, the show's categories among the interests sent, in one statement. A submit checks only the ids it
    # sent (held here: register() finds them in the session); the page shows the whole tree.
    sent = ([int(v) for v in request.form.getlist("interests") if v.isdecimal() and len(v) < 10]
            if request.method == "POST" else [])
    asked, active_rules, sent_interests = services.public_form_setup(edition, sent)
    form.interests.choices = (choices((c.id, c.name) for c in sent_interests) if request.method == "POST"
                              else _interest_choices(edition))
    answers, answer_errors = (questions.read_answers(edition, request.form, asked) if request.method == "POST"
                              else ({}, {}))
    opening = policy.opening(edition)  # status, open/close times, invitation-only (registration policy)
    if request.args.get("invite") and not form.invitation_code.data:  # the exhibitor's link: /e/<slug>?invite=CODE
        form.invitation_code.data = invitations.clean_code(request.args.get("invite"))
    colleagues = []
    if (opening.open and form.validate_on_submit() and not answer_errors
            and (colleagues := policy_views.colleagues_from(form)) is not None):
        if form.website.data:
            return redirect(url_for("visitors.mail_sent", slug=edition.slug))
        data = services.RegistrationData(
            name=form.name.data, email=form.email.data, phone=form.phone.data or "", company=form.company.data or "",
            job_title=form.job_title.data or "", country=form.country.data or "", category=form.category.data,
            interest_ids=form.interests.data or [], consent=form.consent.data,
            share_with_exhibitors=form.share_with_exhibitors.data, locale=current_language(), answers=answers,
            invitation_code=form.invitation_code.data or "", **tracked)
        try:
            if colleagues:  # a group: each colleague gets their own registration, badge and mail (policy)
                services.retry_on_race(lambda: policy.register_group(edition, data, colleagues,
                                                                     public_url=notifications.request_base_url()))
            else:
                services.retry_on_race(lambda: services.register_online(
                    edition, data, public_url=notifications.request_base_url(), category_rules=active_rules))
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field if hasattr(form, error.field or "") else "email").errors.append(str(error))
        else:
            return redirect(url_for("visitors.mail_sent", slug=edition.slug))
    if request.method == "POST":  # shown again with its errors: every choice, every colleague row
        form.interests.choices = _interest_choices(edition)
    form.colleagues.pad()
    return render_template("visitors/register.html", edition=edition, form=form, opening=opening,
                           inviter=policy_views.inviter(edition, form.invitation_code.data),
                           question_fields=questions.form_questions(
                               edition, current_language(), request.form if request.method == "POST" else None,
                               answer_errors, asked))


@bp.route("/e/<slug>/mail-sent", methods=["GET", "POST"])
@public_form_limit
def mail_sent(slug):
    """"Check your inbox", after every registration; its form sends the link again to a registered address
    (throttled), and answers every address alike."""
    edition = _published_edition(slug)
    form = LinkRequestForm()
    if form.validate_on_submit():
        if not form.website.data:
            services.request_registration_link(edition, form.email.data, public_url=notifications.request_base_url())
        return redirect(url_for("visitors.mail_sent", slug=edition.slug, again=1))
    return render_template("visitors/mail_sent.html", edition=edition, form=form, again="again" in request.args,
                           minutes=services.LINK_MAIL_INTERVAL.seconds // 60)


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
                           in_wechat="MicroMessenger" in (request.user_agent.string or ""),
                           answer_rows=questions.answer_rows(registration, current_language()),
                           # The hook ``visitor_page_sections``: what the modules above add to the visitor's own
                           # page (meetings, exhibitors to see), each a rendered partial or None.
                           sections=[s for hook in registry.hook("visitor_page_sections")
                                     if (s := hook(registration)) is not None])


@bp.route("/r/<key>/badge.png")
def badge_png(key):
    registration = _own_registration(key)
    return Response(badge_render.qr_png(services.badge_code(registration)), mimetype="image/png",
                    headers={"Cache-Control": "private, no-store"})


def _badge_pdf(registration, fmt: str = badge_render.DEFAULT_FORMAT) -> Response:
    """The badge in its edition's layout for its category (visitors.badge_layouts), on A6 or a label sheet."""
    face = badge_layouts.badge_face(registration)
    return Response(badge_render.badges_pdf([face], fmt), mimetype="application/pdf",
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
    audit_contact_view(current_user, edition, rows=len(page.items), page=page.page, search=bool(filters.q))
    return render_template(
        "visitors/registrations.html", edition=edition, filters=filters, page=page,
        total=services.registration_count(scope, edition) if filters.active else page.total,
        chips=_filter_chips(filters), checked_in=services.checked_in_among(edition, [r.id for r in page.items]),
        checked_in_available=services.checked_in_available(), categories=VISITOR_CATEGORY.states.values(),
        statuses=REGISTRATION_STATUS.states.values(), sources=REGISTRATION_SOURCE.states.values(),
        export_query=request.query_string.decode(), badge_formats=badge_render.FORMATS.values())


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
    audit_contact_view(current_user, registration)  # the desk shows the visitor's email and phone
    panels = [panel for hook in registry.hook("registration_panels")
              if (panel := hook(current_scope(), registration)) is not None]
    return render_template("visitors/registration.html", registration=registration, person=registration.person,
                           edition=registration.edition, panels=panels,
                           person_form=person_form or PersonForm(obj=registration.person, formdata=None),
                           answer_rows=questions.answer_rows(registration, current_language()),
                           category_decided_by=rules.decided_by(registration),
                           category_choices=VISITOR_CATEGORY.states.values())


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
    services.registration_activity("badge.printed", registration, actor_id=current_user.id)
    fmt = request.args.get("format", "")
    return _badge_pdf(registration, fmt if fmt in badge_render.FORMATS else badge_render.DEFAULT_FORMAT)


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


# --- customer 360: the person page -----------------------------------------------------------------

@bp.route("/org/persons/<int:person_id>")
@require(VIEW_REGISTRATIONS, organizer=True)
def person(person_id):
    """Everything about one visitor: contact, every edition, check-ins and leads (counts and ratings, from
    the modules above), the timeline. A merged duplicate's address leads to the person it was merged into."""
    scope = current_scope()
    found = customers.person_in_scope(scope, person_id)
    if found is None:
        abort(404)
    if found.merged_into_id is not None:
        return redirect(url_for("visitors.person", person_id=found.merged_into_id))
    audit_contact_view(current_user, found)  # the page shows the visitor's email and phone
    data = customers.person_page(scope, found, allowed=lambda p: has_permission(current_user, p),
                                 page=page_number(request.args.get("page")))
    return render_template("visitors/person.html", data=data)


# --- possible duplicates: the staff review list -----------------------------------------------------

@bp.route("/org/duplicates")
@require(MANAGE_REGISTRATIONS, organizer=True)
def duplicates():
    page_number, per_page = _page_args()
    page = services.possible_duplicates(current_scope(), page=page_number, per_page=per_page)
    audit_contact_view(current_user, object_type="persons", rows=len(page.items), page=page.page)
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
    if ids is not None and not all(1 <= i <= core_services.MAX_DB_INT for i in ids):
        ids = None  # beyond any id column: no such visitor (the database would refuse the number)
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
    if ids is not None and not all(1 <= i <= core_services.MAX_DB_INT for i in ids):
        ids = None  # beyond any id column: no such visitor (the database would refuse the number)
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


# --- personal data: the visitor's own (through their signed link) and staff on their behalf -------------
# Pages with personal data are never cached on the way (no-store), like the badge.

NO_STORE = {"Cache-Control": "private, no-store"}


def _privacy_page(template: str, registration, **context):
    person = registration.person
    return Response(render_template(template, registration=registration, person=person,
                                    edition=registration.edition, **context), headers=NO_STORE)


@bp.route("/r/<key>/privacy")
def privacy(key):
    """The visitor's privacy page: the consents they gave (the exact texts), sharing with exhibitors (withdraw
    or give), their data to download, and erasure."""
    registration = _own_registration(key)
    return _privacy_page("visitors/privacy.html", registration,
                         current=core_services.current_consent(registration.edition))


@bp.route("/r/<key>/sharing", methods=["POST"])
def sharing(key):
    """Give or withdraw the consent to share contact details with exhibitors (``share=yes`` gives it)."""
    registration = _own_registration(key)
    share = request.form.get("share") == "yes"
    if privacy_services.set_sharing(registration, share):
        flash(_("Exhibitors who scan your badge now receive your contact details.") if share else
              _("Withdrawn: exhibitors no longer see your contact details, also for scans made before."), "success")
    return redirect(url_for("visitors.privacy", key=key))


def _data_json(person, filename: str) -> Response:
    body = json.dumps(privacy_services.personal_data(person), ensure_ascii=False, indent=2, default=str)
    return Response(body, mimetype="application/json", headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="{filename}.json"'})


def _data_html(registration, *, staff: bool) -> Response:
    person = registration.person
    return _privacy_page("visitors/privacy_data.html", registration, staff=staff, now=utcnow(),
                         registrations=privacy_services.person_registrations(person),
                         sections=privacy_services.personal_data_sections(person))


@bp.route("/r/<key>/data.json")
def data_json(key):
    registration = _own_registration(key)
    return _data_json(registration.person, f"my-data-{registration.edition.slug}")


@bp.route("/r/<key>/data.html")
def data_html(key):
    return _data_html(_own_registration(key), staff=False)


@bp.route("/r/<key>/erase", methods=["GET", "POST"])
def erase(key):
    """Erasure at the visitor's request: a page that says what goes and what stays, then a POST."""
    registration = _own_registration(key)
    if request.method == "POST":
        privacy_services.erase_person(registration.person, by="visitor")
        return redirect(url_for("visitors.erased"))
    return _privacy_page("visitors/erase.html", registration,
                         registrations=privacy_services.person_registrations(registration.person))


@bp.route("/privacy/erased")
def erased():
    return render_template("visitors/erased.html")


@bp.route("/org/editions/<int:edition_id>/registrations/<int:registration_id>/personal-data.json")
@require(VIEW_REGISTRATIONS, MANAGE_PERSONAL_DATA, organizer=True)
def staff_data_json(registration_id):
    """The visitor's data for staff to hand over (a request by mail or at the desk); the download is audited."""
    registration = _registration_in_edition(registration_id)
    privacy_services.record_staff_download(registration.person, actor_id=current_user.id, fmt="json")
    return _data_json(registration.person, f"visitor-{registration.person_id}")


@bp.route("/org/editions/<int:edition_id>/registrations/<int:registration_id>/personal-data")
@require(VIEW_REGISTRATIONS, MANAGE_PERSONAL_DATA, organizer=True)
def staff_data_html(registration_id):
    registration = _registration_in_edition(registration_id)
    privacy_services.record_staff_download(registration.person, actor_id=current_user.id, fmt="html")
    return _data_html(registration, staff=True)


@bp.route("/org/editions/<int:edition_id>/registrations/<int:registration_id>/erase", methods=["POST"])
@require(VIEW_REGISTRATIONS, MANAGE_PERSONAL_DATA, organizer=True)
def staff_erase(registration_id):
    """Staff erase a visitor on their behalf (a request by mail or phone): the same erasure, audited with
    who did it."""
    registration = _registration_in_edition(registration_id)
    privacy_services.erase_person(registration.person, by="staff", actor_id=current_user.id)
    flash(_("The visitor's personal data is erased; their registrations stay as anonymous counts."), "success")
    return redirect(url_for("visitors.registration", registration_id=registration_id))
