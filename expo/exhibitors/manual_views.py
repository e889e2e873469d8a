"""The exhibitor manual's pages: the organizer's forms, sections and who is late (edition bar, Booth sales);
the exhibitor's checklist and forms (portal)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..core.auth import current_scope, edition_scoped, require
from ..core.forms import Form, choices
from ..core.scoping import get_in_edition_or_404
from ..core.services import ServiceError, parse_id
from ..extensions import db
from . import MANAGE_EXHIBITORS
from . import manual as services
from .manual_models import FIELD_TYPES, ManualSection
from .models import Exhibitor

FILL_MANUAL = "fill_manual"
MANAGE_MANUAL = "manage_manual"

bp = edition_scoped(Blueprint("manual", __name__))


class ManualFormForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    deadline = DateField(_l("Deadline (last day)"), validators=[DataRequired()])
    description = TextAreaField(_l("What to fill in, and why"), validators=[Optional(), Length(max=5000)])
    mandatory = BooleanField(_l("Mandatory"), default=True)
    remind_days = IntegerField(_l("Remind this many days before"), default=7,
                               validators=[Optional(), NumberRange(min=0, max=90)])


class FieldForm(Form):
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=200)])
    type = SelectField(_l("Kind"), choices=[])
    choices = TextAreaField(_l("Options (one per line, for a choice)"), validators=[Optional(), Length(max=5000)])
    required = BooleanField(_l("Required"))


class SectionForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Text"), validators=[Optional(), Length(max=20000)])


def _field_form() -> FieldForm:
    form = FieldForm(prefix="field")
    form.type.choices = choices(FIELD_TYPES.items())
    return form


def _data(form: ManualFormForm) -> services.FormData:
    return services.FormData(title=form.title.data or "", deadline=form.deadline.data,
                             description=form.description.data or "", mandatory=bool(form.mandatory.data),
                             remind_days=form.remind_days.data)


def _form_or_404(form_id: int):
    found = services.get_form(current_scope(), g.edition.id, form_id)
    if found is None:
        abort(404)
    return found


def _attach(form, error: ServiceError, default: str) -> None:
    getattr(form, error.field if hasattr(form, error.field or "") else default).errors.append(str(error))


# --- organizer ----------------------------------------------------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/manual", methods=["GET", "POST"])
@require(MANAGE_EXHIBITORS, organizer=True, POST=MANAGE_MANUAL)
def index():
    """The edition's forms (done / late per form), a new form, and the manual's sections."""
    scope, edition = current_scope(), g.edition
    new_form = ManualFormForm(prefix="form")
    section_form = SectionForm(prefix="section")
    if request.method == "POST" and "form-title" in request.form and new_form.validate_on_submit():
        try:
            created = services.create_form(scope, edition, _data(new_form), actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            _attach(new_form, error, "title")
        else:
            flash(_("Form added: now give it its fields."), "success")
            return redirect(url_for("manual.form", form_id=created.id))
    elif request.method == "POST" and "section-title" in request.form and section_form.validate_on_submit():
        try:
            services.add_section(scope, edition, section_form.title.data, section_form.body.data,
                                 actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            _attach(section_form, error, "title")
        else:
            flash(_("Section added."), "success")
            return redirect(url_for("manual.index"))
    reports = services.form_reports(scope, edition)
    return render_template("exhibitors/manual_organizer.html", edition=edition, reports=reports,
                           new_form=new_form, section_form=section_form,
                           sections=services.sections(scope, edition), exhibitors=services.participants(scope, edition))


@bp.route("/org/editions/<int:edition_id>/manual/sections/<int:section_id>/delete", methods=["POST"])
@require(MANAGE_MANUAL, organizer=True)
def delete_section(section_id):
    section = get_in_edition_or_404(ManualSection, section_id, g.edition.id, current_scope())
    services.delete_section(section, actor_id=current_user.id)
    flash(_("Section removed."), "success")
    return redirect(url_for("manual.index"))


@bp.route("/org/editions/<int:edition_id>/manual/forms/<int:form_id>", methods=["GET", "POST"])
@require(MANAGE_EXHIBITORS, organizer=True, POST=MANAGE_MANUAL)
def form(form_id):
    """One form: its settings and fields, and every exhibitor's state (late first) with the answers."""
    scope, edition = current_scope(), g.edition
    found = _form_or_404(form_id)
    settings = ManualFormForm(prefix="form", obj=found)
    field_form = _field_form()
    if request.method == "POST" and "field-label" in request.form:
        if field_form.validate_on_submit():
            try:
                services.add_field(found, field_form.label.data, field_form.type.data, field_form.choices.data,
                                   field_form.required.data, actor_id=current_user.id)
            except ServiceError as error:
                db.session.rollback()
                found = _form_or_404(form_id)
                _attach(field_form, error, "label")
            else:
                flash(_("Field added."), "success")
                return redirect(url_for("manual.form", form_id=found.id))
    elif request.method == "POST" and settings.validate_on_submit():
        try:
            changed = services.update_form(found, _data(settings), actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            found = _form_or_404(form_id)
            _attach(settings, error, "title")
        else:
            flash(_("Form saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("manual.form", form_id=found.id))
    report = services.form_reports(scope, edition, only=found)[0]
    return render_template("exhibitors/manual_form_organizer.html", edition=edition, found=found, report=report,
                           settings=settings, field_form=field_form, field_types=FIELD_TYPES,
                           display=services.display_answer)


@bp.route("/org/editions/<int:edition_id>/manual/forms/<int:form_id>/fields/remove", methods=["POST"])
@require(MANAGE_MANUAL, organizer=True)
def remove_field(form_id):
    found = _form_or_404(form_id)
    key = request.form.get("key", "")
    try:
        services.remove_field(found, key if isinstance(key, str) else "", actor_id=current_user.id)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(_("Field removed. Answers already given to it stay in the records."), "success")
    return redirect(url_for("manual.form", form_id=found.id))


@bp.route("/org/editions/<int:edition_id>/manual/forms/<int:form_id>/delete", methods=["POST"])
@require(MANAGE_MANUAL, organizer=True)
def delete_form(form_id):
    found = _form_or_404(form_id)
    services.delete_form(found, actor_id=current_user.id)
    flash(_("Form deleted, with its answers."), "success")
    return redirect(url_for("manual.index"))


@bp.route("/org/editions/<int:edition_id>/manual/forms/<int:form_id>/reopen", methods=["POST"])
@require(MANAGE_MANUAL, organizer=True)
def reopen(form_id):
    found = _form_or_404(form_id)
    exhibitor_id = parse_id(request.form.get("exhibitor_id"))
    exhibitor = db.session.get(Exhibitor, exhibitor_id) if exhibitor_id else None
    if exhibitor is None or exhibitor.organizer_id != current_scope().organizer_id \
            or exhibitor.edition_id != g.edition.id:
        flash(_("No such exhibitor in this edition."), "error")
        return redirect(url_for("manual.form", form_id=found.id))
    try:
        services.reopen(found, exhibitor, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Reopened for %(company)s: they may change and send it again.", company=exhibitor.company.name),
              "success")
    return redirect(url_for("manual.form", form_id=found.id))


@bp.route("/org/editions/<int:edition_id>/manual/forms/<int:form_id>/answers.csv")
@require(MANAGE_EXHIBITORS, organizer=True)
def export(form_id):
    found = _form_or_404(form_id)
    text = services.export_answers(current_scope(), g.edition, found, actor_id=current_user.id)
    filename = f"manual-form-{found.id}.csv"
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# --- exhibitor ----------------------------------------------------------------------------------------------

@bp.route("/portal/manual")
@require(FILL_MANUAL, exhibitor=True)
def checklist():
    exhibitor = current_user.exhibitor
    items = services.checklist(exhibitor)
    return render_template("exhibitors/manual_checklist.html", exhibitor=exhibitor, items=items,
                           summary=services.summary(items), takes_part=services.takes_part(exhibitor),
                           sections=services.sections(current_scope(), exhibitor.edition))


@bp.route("/portal/manual/forms/<int:form_id>", methods=["GET", "POST"])
@require(FILL_MANUAL, exhibitor=True)
def fill(form_id):
    exhibitor = current_user.exhibitor
    found = services.get_form(current_scope(), exhibitor.edition_id, form_id)
    if found is None:
        abort(404)
    submission = services.submission_of(found, exhibitor)
    values = dict(submission.answers) if submission is not None else {}
    errors, message = {}, None
    if request.method == "POST":
        values = {spec["key"]: request.form.get(spec["key"], "") for spec in found.fields or []}
        try:
            services.submit(found, exhibitor, request.form, actor_id=current_user.id)
        except services.AnswersInvalid as error:
            db.session.rollback()
            errors, message = error.errors, str(error)
        except ServiceError as error:
            db.session.rollback()
            message = str(error)
        else:
            flash(_("Thank you: “%(form)s” is sent. You may change it until the deadline.", form=found.title),
                  "success")
            return redirect(url_for("manual.checklist"))
        found = services.get_form(current_scope(), exhibitor.edition_id, form_id)
        submission = services.submission_of(found, exhibitor)
    item = next(i for i in services.checklist(exhibitor) if i.form.id == found.id)
    return render_template("exhibitors/manual_fill.html", exhibitor=exhibitor, found=found, item=item,
                           values=values, errors=errors, message=message,
                           takes_part=services.takes_part(exhibitor)), 422 if message else 200
