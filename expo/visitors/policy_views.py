"""Qualified registration pages: the edition's registration setup and approval queue (owner, manager), the
report of registrations per inviting exhibitor, the exhibitor's own invitation codes (portal), and the
visitor's own edit and cancel pages (their signed link). Thin: parse, check, call policy/invitations."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateTimeLocalField, IntegerField, StringField, TelField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..core.auth import current_scope, edition_scoped, require
from ..core.forms import Form
from ..core.scoping import get_in_edition_or_404
from ..core.services import ServiceError, audit_contact_view
from ..core.templating import current_language
from ..extensions import db
from . import INVITATION_REPORT, INVITE_VISITORS, SETUP_REGISTRATION, invitations, notifications, policy, services
from .models import Registration

bp = edition_scoped(Blueprint("registration", __name__))
NO_STORE = {"Cache-Control": "private, no-store"}


# --- forms ------------------------------------------------------------------------------------------------

def setup_form_class():
    """The setup form: the times, invitation-only, and per category a capacity and an approval box."""

    class SetupForm(Form):
        opens_at = DateTimeLocalField(_l("Registration opens"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
        closes_at = DateTimeLocalField(_l("Registration closes"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
        invitation_only = BooleanField(_l("By invitation only: the public form needs a valid invitation code"))

    for category in policy.SETUP_CATEGORIES:
        setattr(SetupForm, f"capacity_{category}", IntegerField(
            _l("Places"), validators=[Optional(), NumberRange(min=0, max=policy.MAX_CAPACITY)]))
        setattr(SetupForm, f"approval_{category}", BooleanField(_l("Needs approval")))
    return SetupForm


class RefuseForm(Form):
    reason = TextAreaField(_l("Reason (the visitor reads it)"), validators=[Optional(), Length(max=policy.REASON_MAX)])


class CodeForm(Form):
    label = StringField(_l("Name of the code (e.g. the mailing it goes with)"),
                        validators=[DataRequired(), Length(max=invitations.LABEL_MAX)])
    max_uses = IntegerField(_l("Usage limit (empty: no limit)"),
                            validators=[Optional(), NumberRange(min=1, max=invitations.MAX_USES)])


class VisitorEditForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=200)])
    phone = TelField(_l("Mobile phone"), validators=[Optional(), Length(max=40)])


# --- the registration setup ---------------------------------------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/registration-setup", methods=["GET", "POST"])
@require(SETUP_REGISTRATION, organizer=True)
def setup():
    """Dates, capacity and approval per visitor category, invitation-only mode; places taken and waiting."""
    edition = g.edition
    existing = policy.policy_of(edition)
    settings = policy.category_settings(edition)
    form_class = setup_form_class()
    if request.method == "POST":
        form = form_class()
    else:
        data = {"opens_at": policy.local_time(edition, existing.opens_at).replace(tzinfo=None)
                if existing and existing.opens_at else None,
                "closes_at": policy.local_time(edition, existing.closes_at).replace(tzinfo=None)
                if existing and existing.closes_at else None,
                "invitation_only": bool(existing and existing.invitation_only)}
        for category, row in settings.items():
            data[f"capacity_{category}"] = row.capacity
            data[f"approval_{category}"] = row.needs_approval
        form = form_class(data=data)
    if form.validate_on_submit():
        rules = [policy.CategoryRule(c, getattr(form, f"capacity_{c}").data, getattr(form, f"approval_{c}").data)
                 for c in policy.SETUP_CATEGORIES]
        try:
            changes = policy.save_setup(edition, opens_at=policy.from_local(edition, form.opens_at.data),
                                        closes_at=policy.from_local(edition, form.closes_at.data),
                                        invitation_only=form.invitation_only.data, rules=rules,
                                        actor_id=current_user.id, public_url=notifications.request_base_url())
        except ServiceError as error:
            db.session.rollback()
            field = getattr(form, error.field or "", None) or form.opens_at
            field.errors = [*field.errors, str(error)]
        else:
            flash(_("Registration setup saved.") if changes else _("Nothing changed."), "success")
            return redirect(url_for("registration.setup"))
    rows = [(c, getattr(form, f"capacity_{c}"), getattr(form, f"approval_{c}"), settings.get(c))
            for c in policy.SETUP_CATEGORIES]
    return render_template("visitors/setup.html", edition=edition, form=form, rows=rows,
                           counts=policy.status_counts(edition), opening=policy.opening(edition, existing, load=False),
                           public_url=url_for("visitors.register", slug=edition.slug, _external=True))


# --- the approval queue ---------------------------------------------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/approvals")
@require(SETUP_REGISTRATION, organizer=True)
def approvals():
    edition = g.edition
    pending = policy.pending_registrations(current_scope(), edition)
    audit_contact_view(current_user, edition, rows=len(pending))  # the queue shows the visitors' emails
    return render_template("visitors/setup_approvals.html", edition=edition, pending=pending, form=RefuseForm())


@bp.route("/org/editions/<int:edition_id>/approvals/<int:registration_id>", methods=["POST"])
@require(SETUP_REGISTRATION, organizer=True)
def decide(registration_id):
    """Approve (confirmed, or waitlisted when the category is full) or refuse with a reason; the visitor is mailed."""
    registration = get_in_edition_or_404(Registration, registration_id, g.edition.id, current_scope())
    decision = request.form.get("decision")
    form = RefuseForm()
    try:
        if decision == "approve":
            status = policy.approve(registration, actor_id=current_user.id,
                                    public_url=notifications.request_base_url())
            flash(_("%(name)s approved: confirmed, badge mailed.", name=registration.visitor_name)
                  if status == "confirmed" else
                  _("%(name)s approved, but the category is full: on the waiting list.",
                    name=registration.visitor_name), "success")
        elif decision == "refuse":
            if not form.validate():
                raise ServiceError(" ".join(str(e) for e in form.reason.errors) or _("Give the visitor a reason."))
            policy.refuse(registration, form.reason.data or "", actor_id=current_user.id,
                          public_url=notifications.request_base_url())
            flash(_("%(name)s refused; the visitor is told why.", name=registration.visitor_name), "success")
        else:
            raise ServiceError(_("Choose approve or refuse."))
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    return redirect(url_for("registration.approvals"))


# --- invitations: the organizer's report, the exhibitor's codes -------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/invitations", methods=["GET", "POST"])
@require(INVITATION_REPORT, organizer=True, POST=SETUP_REGISTRATION)
def invitations_report():
    """Registrations per inviting exhibitor, and the organizer's own codes (VIP, press: what admits to an
    invitation-only edition besides the exhibitors' links); POST creates one of those."""
    edition = g.edition
    form = CodeForm() if request.method == "POST" else CodeForm(formdata=None)
    if request.method == "POST" and form.validate_on_submit():
        try:
            invitations.create_organizer_code(current_scope(), edition, form.label.data, form.max_uses.data,
                                              actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field or "label").errors.append(str(error))
        else:
            flash(_("Invitation code created."), "success")
            return redirect(url_for("registration.invitations_report", edition_id=edition.id))
    report = invitations.organizer_report(current_scope(), edition)
    return render_template("visitors/setup_invitations.html", edition=edition, report=report,
                           totals=invitations.report_totals(report), form=form,
                           codes=invitations.organizer_codes(current_scope(), edition),
                           code_counts=invitations.organizer_code_counts(edition),
                           link=url_for("visitors.register", slug=edition.slug, _external=True))


@bp.route("/org/editions/<int:edition_id>/invitations/switch", methods=["POST"])
@require(SETUP_REGISTRATION, organizer=True)
def organizer_code_switch():
    """Switch one of the edition's codes off (its link stops working) or on again."""
    try:
        code = invitations.set_code_active(current_scope(), request.form.get("code_id"),
                                           request.form.get("active") == "yes", actor_id=current_user.id,
                                           edition_id=g.edition.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("The code works again.") if code.active else _("The code no longer works."), "success")
    return redirect(url_for("registration.invitations_report", edition_id=g.edition.id))


def _portal_page(form=None, status=200):
    exhibitor = current_user.exhibitor
    codes = invitations.exhibitor_codes(current_scope(), exhibitor)
    counts, per_code = invitations.exhibitor_counts(exhibitor)
    link = url_for("visitors.register", slug=exhibitor.edition.slug, _external=True)
    return render_template("visitors/setup_portal.html", exhibitor=exhibitor, codes=codes, counts=counts,
                           per_code=per_code, link=link, form=form or CodeForm(formdata=None)), status


@bp.route("/portal/invitations", methods=["GET", "POST"])
@require(INVITE_VISITORS, exhibitor=True)
def portal_invitations():
    """The exhibitor's own invitation link, its extra codes, and how many invitees registered and came."""
    if request.method == "GET":
        return _portal_page()
    form = CodeForm()
    if form.validate_on_submit():
        try:
            invitations.create_code(current_scope(), current_user.exhibitor, form.label.data, form.max_uses.data,
                                    actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field or "label").errors.append(str(error))
        else:
            flash(_("Invitation code created."), "success")
            return redirect(url_for("registration.portal_invitations"))
    return _portal_page(form)


@bp.route("/portal/invitations/switch", methods=["POST"])
@require(INVITE_VISITORS, exhibitor=True)
def portal_code_switch():
    """Switch one of the exhibitor's codes off (its link stops working) or on again."""
    try:
        code = invitations.set_code_active(current_scope(), request.form.get("code_id"),
                                           request.form.get("active") == "yes", actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("The code works again.") if code.active else _("The code no longer works."), "success")
    return redirect(url_for("registration.portal_invitations"))


# --- the visitor's own changes, through their signed link -----------------------------------------------------

def _own_registration(key):
    registration = services.registration_by_access_key(key)
    if registration is None:
        abort(404)
    return registration


def _questions_module():
    try:
        from . import questions
    except ImportError:  # the questions feature is not there
        return None
    return questions if hasattr(questions, "read_answers") and hasattr(questions, "form_questions") else None


def _stored_answers_as_form(questions, registration) -> MultiDict:
    data = MultiDict()
    for question in questions.active_questions(registration.edition):
        stored = (registration.answers or {}).get(question.key)
        if stored is None:
            continue
        value = questions.plain_value(stored)
        for item in value if isinstance(value, list) else [value]:
            data.add(question.field_name, "yes" if item is True else "no" if item is False else str(item))
    return data


@bp.route("/r/<key>/edit", methods=["GET", "POST"])
def manage(key):
    """The visitor corrects their name, company, job title, phone and answers for this registration."""
    registration = _own_registration(key)
    if registration.status == "cancelled" or registration.erased_at is not None:
        return redirect(url_for("visitors.confirmation", key=key))
    questions = _questions_module()
    if request.method == "POST":
        form = VisitorEditForm()
    else:
        form = VisitorEditForm(data={"name": registration.visitor_name, "company": registration.visitor_company,
                                     "job_title": registration.visitor_job_title,
                                     "phone": registration.visitor_phone})
    answers, answer_errors, answer_data = None, {}, None
    if questions is not None:
        answer_data = request.form if request.method == "POST" else _stored_answers_as_form(questions, registration)
        if request.method == "POST":
            answers, answer_errors = questions.read_answers(registration.edition, request.form)
    if form.validate_on_submit() and not answer_errors:
        try:
            changed = policy.edit_by_visitor(registration, form.data, answers=answers)
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field or "name").errors.append(str(error))
        else:
            flash(_("Your changes are saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("visitors.confirmation", key=key))
    form_questions = (questions.form_questions(registration.edition, current_language(), answer_data, answer_errors)
                      if questions is not None else [])
    return Response(render_template("visitors/manage.html", registration=registration, edition=registration.edition,
                                    form=form, question_fields=form_questions), headers=NO_STORE)


@bp.route("/r/<key>/cancel", methods=["GET", "POST"])
def cancel(key):
    """The visitor cancels: a page that says what it means, then a POST. The place goes to the waiting list."""
    registration = _own_registration(key)
    if request.method == "POST":
        if registration.status != "cancelled":
            policy.cancel(registration, by_visitor=True, public_url=notifications.request_base_url())
            flash(_("Your registration is cancelled. Thank you for letting us know."), "success")
        return redirect(url_for("visitors.confirmation", key=key))
    return Response(render_template("visitors/manage_cancel.html", registration=registration,
                                    edition=registration.edition), headers=NO_STORE)



# --- the public form's part (visitors.register calls these) ---------------------------------------------------

def colleagues_from(form) -> list[policy.Colleague] | None:
    """The colleague rows of a group registration that were filled in, or None when one is wrong (the errors
    are then beside the fields: a row needs a name and an email; an address may appear once in a group)."""
    rows, entries, ok = [], [], True
    for entry in form.colleagues:
        sub = entry.form
        name, email = (sub.name.data or "").strip(), (sub.email.data or "").strip()
        if not (name or email or (sub.job_title.data or "").strip()):
            continue
        if sub.name.errors or sub.email.errors or sub.job_title.errors:
            ok = False
        if not name:
            sub.name.errors = [*sub.name.errors, _("Give your colleague's name.")]
            ok = False
        if not email:
            sub.email.errors = [*sub.email.errors, _("Give your colleague's email: their badge goes there.")]
            ok = False
        rows.append(policy.Colleague(name=name, email=email, job_title=(sub.job_title.data or "").strip()))
        entries.append(sub)
    for index in policy.group_duplicates(form.email.data or "", rows):
        entries[index].email.errors = [*entries[index].email.errors,
                                       _("This address is already in this registration.")]
        ok = False
    if rows and not form.group_consent.data:
        form.group_consent.errors = [*form.group_consent.errors,
                                     _("Confirm that your colleagues agree to be registered.")]
        ok = False
    return rows if ok else None


def inviter(edition, code_text: str | None):
    """Who invites the visitor, for the public page's greeting: the exhibitor's company name (None when the
    code is unknown, switched off or the organizer's own)."""
    code = invitations.find_code(edition, code_text) if code_text else None
    if not invitations.usable(code) or code.exhibitor is None:
        return None
    return code.exhibitor.company.name
