"""The exhibitor's leads: the list (filters in the URL), one lead's rating, answers and notes, the exports
(CSV, XLSX plain or with a Salesforce/HubSpot preset, vCards), and the exhibitor's own qualifying questions."""
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, require
from ..core.forms import choices
from ..core.paging import page_number, page_size
from ..core.scoping import get_scoped_or_404
from ..core.services import ServiceError, audit_contact_view, parse_id
from ..core.tabular import XLSX_MIMETYPE
from ..core.templating import label
from ..extensions import db
from . import EXPORT_LEADS, MANAGE_LEAD_QUESTIONS, VIEW_LEADS, follow_up, follow_up_views, services
from . import questions as lq
from .forms import LeadForm
from .models import LEAD_RATINGS, QUESTION_KINDS, Lead

bp = Blueprint("leads", __name__)
MAX_SELECTION = 1000


def _zone() -> ZoneInfo:
    return ZoneInfo(current_user.exhibitor.edition.timezone)


@bp.route("/portal/leads")
@require(VIEW_LEADS, exhibitor=True)
def leads():
    exhibitor = current_user.exhibitor
    filters = services.LeadFilters.from_args(request.args)
    listing = services.lead_list(current_user, filters=filters, zone=_zone(),
                                 page=page_number(request.args.get("page")),
                                 per_page=page_size(request.args.get("per_page")))
    options = services.filter_options(current_user, exhibitor)
    zone = _zone()
    pipeline = follow_up.pipeline(lambda *columns: services._visible_leads(current_user, *columns),
                                  datetime.now(zone).date())
    return render_template("leads/list.html", exhibitor=exhibitor, listing=listing, filters=filters,
                           options=options, chips=services.filter_chips(filters, options),
                           export_params=filters.params(), presets=services.PRESETS, pipeline=pipeline,
                           follow_up=follow_up, today=datetime.now(zone).date())


@bp.route("/portal/leads/<int:lead_id>", methods=["GET", "POST"])
@require(VIEW_LEADS, exhibitor=True)
def lead(lead_id):
    lead = get_scoped_or_404(Lead, lead_id, current_scope())
    if not services.lead_visible_to(current_user, lead):
        abort(404)
    if request.method == "POST":
        # locked until the commit: the scanner's PATCH of the same lead waits, no answer is stored twice
        services.lock_lead(lead)
    form = LeadForm(obj=lead)
    form.rating.choices = choices((v, label(v) if v else "—") for v in ("", *LEAD_RATINGS))
    questions = lq.exhibitor_questions(lead.exhibitor_id)
    stored = lq.answers_of([lead.id]).get(lead.id, {})
    # Asked: the active questions, and a deactivated one this lead has an answer to (it stays editable).
    shown = [q for q in questions if q.active or q.key in stored]
    answer_errors: dict = {}
    posted = None
    if form.validate_on_submit():
        values, answer_errors = lq.form_answers(shown, request.form)
        posted = request.form
        if not answer_errors:
            try:
                changed = services.update_lead(lead, rating=form.rating.data or None, notes=form.notes.data or "",
                                               answers=values, actor_id=current_user.id)
            except ServiceError as error:
                db.session.rollback()
                (form.notes if error.field == "notes" else form.rating).errors.append(str(error))
            else:
                flash(_("Lead saved.") if changed else _("Nothing changed."), "success")
                return redirect(url_for("leads.leads"))
    audit_contact_view(current_user, lead)  # the page shows the contact details the visitor shared, if any
    fields = [_question_field(q, stored.get(q.key), posted, answer_errors) for q in shown]
    return render_template("leads/lead.html", lead=lead, contact=services.lead_contact(lead), form=form,
                           edition=current_user.exhibitor.edition, question_fields=fields,
                           can_manage_questions=MANAGE_LEAD_QUESTIONS, follow_up=follow_up_views.panel(lead))


def _question_field(question, stored, posted, errors) -> dict:
    name = "q_" + question.key
    if posted is not None:
        values = posted.getlist(name) if question.kind == "multi" else [posted.get(name, "")]
    else:
        values = stored if isinstance(stored, list) else ([stored] if stored else [])
    return {"name": name, "label": lq.label(question), "kind": question.kind, "active": question.active,
            "required": question.required, "options": lq.choice_options(question), "values": values,
            "value": values[0] if values else "", "error": errors.get(name), "max": lq.MAX_ANSWER}


# --- exports --------------------------------------------------------------------------------------------

@bp.route("/portal/leads.csv")
@require(EXPORT_LEADS, exhibitor=True)
def leads_csv():
    return _export("csv", "text/csv")


@bp.route("/portal/leads.xlsx")
@require(EXPORT_LEADS, exhibitor=True)
def leads_xlsx():
    return _export("xlsx", XLSX_MIMETYPE)


def _export(fmt: str, mimetype: str) -> Response:
    """The leads this user may see, as the list shows them (its filters in the query string), as a file:
    plain in the user's language, or (``preset``, XLSX only) with the columns another system imports."""
    exhibitor = current_user.exhibitor
    preset = request.args.get("preset", "")
    if preset and (fmt != "xlsx" or preset not in services.PRESETS):
        abort(404)
    filters = services.LeadFilters.from_args(request.args)
    zone = _zone()
    body = services.export_leads(current_user, services.leads_for(current_user, filters=filters, zone=zone),
                                 zone, fmt, preset, edition_name=exhibitor.edition.name, filters=filters)
    name = f"leads-{exhibitor.id}{'-' + preset if preset else ''}.{fmt}"
    return _file(body, mimetype if fmt == "xlsx" else f"{mimetype}; charset=utf-8", name)


def _file(body: bytes, content_type: str, name: str) -> Response:
    return Response(body, content_type=content_type,
                    headers={"Content-Disposition": f'attachment; filename="{name}"',
                             "Cache-Control": "private, no-store"})  # personal data: no copies on the way


@bp.route("/portal/leads.vcf")
@require(EXPORT_LEADS, exhibitor=True)
def leads_vcard():
    """vCards of the leads ticked on the list (``ids``), else of every lead the list's filters show; only
    visitors who share their contact details have a card."""
    exhibitor = current_user.exhibitor
    ids = [ident for ident in map(parse_id, request.args.getlist("ids")[:MAX_SELECTION]) if ident is not None]
    zone = _zone()
    if request.args.getlist("ids"):
        if not ids:
            abort(404)
        chosen = services.leads_for(current_user, ids=ids, zone=zone)
    else:
        chosen = services.leads_for(current_user, filters=services.LeadFilters.from_args(request.args), zone=zone)
    body, count = services.lead_vcards(current_user, chosen, edition_name=exhibitor.edition.name, zone=zone)
    if not count:
        flash(_("None of these visitors shares contact details: there is no card to make."), "warning")
        return redirect(url_for("leads.leads"))
    return _file(body, "text/vcard; charset=utf-8", f"leads-{exhibitor.id}.vcf")


@bp.route("/portal/leads/<int:lead_id>.vcf")
@require(EXPORT_LEADS, exhibitor=True)
def lead_vcard(lead_id):
    lead = get_scoped_or_404(Lead, lead_id, current_scope())
    if not services.lead_visible_to(current_user, lead):
        abort(404)
    body, count = services.lead_vcards(current_user, [lead], edition_name=current_user.exhibitor.edition.name,
                                       zone=_zone())
    if not count:
        flash(_("The visitor did not agree to share contact details with exhibitors."), "warning")
        return redirect(url_for("leads.lead", lead_id=lead.id))
    return _file(body, "text/vcard; charset=utf-8", f"lead-{lead.id}.vcf")


# --- the exhibitor's qualifying questions ----------------------------------------------------------------

def _questions_page(form=None, errors=None, editing=None):
    exhibitor = current_user.exhibitor
    questions = lq.exhibitor_questions(exhibitor.id)
    counts = lq.answer_counts(exhibitor.id) if questions else {}
    return render_template("leads/questions.html", exhibitor=exhibitor, questions=questions, counts=counts,
                           form=form or lq.QuestionInput(), errors=errors or {}, editing=editing,
                           kinds=QUESTION_KINDS, label_of=lq.label)


@bp.route("/portal/lead-questions", methods=["GET", "POST"])
@require(MANAGE_LEAD_QUESTIONS, exhibitor=True)
def questions():
    """The exhibitor's questions in order, with the form to add one or change one (``?edit=<id>``)."""
    exhibitor = current_user.exhibitor
    if request.method == "GET":
        editing = lq.question_of(exhibitor.id, request.args.get("edit")) if request.args.get("edit") else None
        return _questions_page(lq.QuestionInput.of(editing) if editing else None, editing=editing)
    editing = None
    if request.form.get("question_id"):
        editing = lq.question_of(exhibitor.id, request.form.get("question_id"))
        if editing is None:
            flash(_("No such question."), "error")
            return redirect(url_for("leads.questions"))
    data = lq.QuestionInput.from_form(request.form)
    try:
        lq.save_question(exhibitor, data, question=editing, actor_id=current_user.id)
    except lq.QuestionErrors as error:
        db.session.rollback()
        return _questions_page(data, error.errors, editing)
    flash(_("Question saved."), "success")
    return redirect(url_for("leads.questions"))


def _posted_question():
    question = lq.question_of(current_user.exhibitor_id, request.form.get("question_id"))
    if question is None:
        flash(_("No such question."), "error")
    return question


@bp.route("/portal/lead-questions/move", methods=["POST"])
@require(MANAGE_LEAD_QUESTIONS, exhibitor=True)
def move_question():
    question = _posted_question()
    if question is not None:
        try:
            lq.move_question(question, request.form.get("direction", ""), actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
    return redirect(url_for("leads.questions"))


@bp.route("/portal/lead-questions/active", methods=["POST"])
@require(MANAGE_LEAD_QUESTIONS, exhibitor=True)
def question_active():
    question = _posted_question()
    if question is not None:
        lq.set_active(question, request.form.get("active") == "1", actor_id=current_user.id)
    return redirect(url_for("leads.questions"))


@bp.route("/portal/lead-questions/delete", methods=["POST"])
@require(MANAGE_LEAD_QUESTIONS, exhibitor=True)
def delete_question():
    question = _posted_question()
    if question is not None:
        try:
            lq.delete_question(question, actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(_("Question deleted."), "success")
    return redirect(url_for("leads.questions"))
