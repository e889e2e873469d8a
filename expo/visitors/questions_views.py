"""Staff pages of an edition's qualification questions and category rules (owner, manager), the preview of
the public form, and the category override on a registration. Thin: parse, check, call questions/rules."""
from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, edition_scoped, require
from ..core.scoping import get_in_edition_or_404
from ..core.services import ServiceError
from ..core.templating import current_language
from ..extensions import db
from . import MANAGE_QUESTIONS, MANAGE_REGISTRATIONS, VIEW_REGISTRATIONS
from . import questions as qs
from . import questions_admin as qa
from . import rules as rs
from .models import VISITOR_CATEGORY, Registration

bp = edition_scoped(Blueprint("questions", __name__))


def _questions_page(form=None, errors=None, editing=None, status=200):
    edition = g.edition
    questions = qs.all_questions(edition)
    answered = qa.answer_counts(edition) if questions else {}
    counts = {q.id: answered.get(q.key, 0) for q in questions}
    return render_template("visitors/questions.html", edition=edition, questions=questions, counts=counts,
                           form=form or qa.QuestionInput(), errors=errors or {}, editing=editing,
                           kinds=qs.KINDS, operators=qs.OPERATORS), status


@bp.route("/org/editions/<int:edition_id>/questions", methods=["GET", "POST"])
@require(MANAGE_QUESTIONS, organizer=True)
def questions():
    """The edition's questions in order, with the form to add one or change one (``?edit=<id>``)."""
    edition = g.edition
    if request.method == "GET":
        editing = qa.question_in_edition(edition, request.args.get("edit")) if request.args.get("edit") else None
        return _questions_page(qa.question_input(editing) if editing else None, editing=editing)
    editing = None
    if request.form.get("question_id"):
        editing = qa.question_in_edition(edition, request.form.get("question_id"))
        if editing is None:
            flash(_("No such question."), "error")
            return redirect(url_for("questions.questions"))
    data = qa.form_input(request.form)
    try:
        question = qa.save_question(edition, data, question=editing, actor_id=current_user.id)
    except qa.QuestionErrors as error:
        db.session.rollback()
        return _questions_page(data, error.errors, editing)
    flash(_("Question saved (version %(v)d).", v=question.version), "success")
    return redirect(url_for("questions.questions"))


def _question_from_form():
    question = qa.question_in_edition(g.edition, request.form.get("question_id"))
    if question is None:
        flash(_("No such question."), "error")
    return question


@bp.route("/org/editions/<int:edition_id>/questions/move", methods=["POST"])
@require(MANAGE_QUESTIONS, organizer=True)
def move_question():
    question = _question_from_form()
    if question is not None:
        try:
            qa.move_question(question, request.form.get("direction", ""), actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
    return redirect(url_for("questions.questions"))


@bp.route("/org/editions/<int:edition_id>/questions/active", methods=["POST"])
@require(MANAGE_QUESTIONS, organizer=True)
def question_active():
    question = _question_from_form()
    if question is not None:
        try:
            qa.set_active(question, request.form.get("active") == "1", actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
    return redirect(url_for("questions.questions"))


@bp.route("/org/editions/<int:edition_id>/questions/delete", methods=["POST"])
@require(MANAGE_QUESTIONS, organizer=True)
def delete_question():
    question = _question_from_form()
    if question is not None:
        try:
            qa.delete_question(question, actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(_("Question deleted."), "success")
    return redirect(url_for("questions.questions"))


@bp.route("/org/editions/<int:edition_id>/questions/preview")
@require(MANAGE_QUESTIONS, organizer=True)
def preview():
    """The questions as the public form shows them, in the chosen language; "check" (a GET: nothing is
    stored) reads the answers as the real form would and tells the category the rules give."""
    edition = g.edition
    locale = request.args.get("lang") if request.args.get("lang") in ("en", "zh_CN") else current_language()
    active = qs.active_questions(edition)
    checked = "check" in request.args
    answers, errors, outcome = {}, {}, None
    if checked:
        answers, errors = qs.read_answers(edition, request.args, active)
        if not errors:
            outcome = rs.decide_category(edition, answers)
    fields = qs.form_questions(edition, locale, request.args if checked else None, errors, active)
    return render_template("visitors/questions_preview.html", edition=edition, question_fields=fields,
                           answers=answers, errors=errors, outcome=outcome, posted=checked,
                           preview_locale=locale, answer_rows=_answer_rows(edition, answers, locale))


def _answer_rows(edition, answers, locale):
    return qs.answers_as_rows(edition.id, answers, locale)


# --- category rules --------------------------------------------------------------------------------

def _rules_page(form=None, errors=None, editing=None, test=None, status=200):
    edition = g.edition
    questions = qs.all_questions(edition)
    return render_template("visitors/questions_rules.html", edition=edition, rules=rs.edition_rules(edition),
                           questions=questions, by_key={q.key: q for q in questions},
                           form=form or rs.RuleInput(), errors=errors or {}, editing=editing,
                           categories=[VISITOR_CATEGORY.state(c) for c in VISITOR_CATEGORY.codes],
                           operators=qs.OPERATORS, max_conditions=rs.MAX_CONDITIONS, test=test,
                           test_fields=(test or {}).get("fields") or qs.form_questions(edition, current_language(),
                                                                                     None, None)), status


@bp.route("/org/editions/<int:edition_id>/category-rules", methods=["GET", "POST"])
@require(MANAGE_QUESTIONS, organizer=True)
def category_rules():
    edition = g.edition
    if request.method == "GET":
        editing = rs.rule_in_edition(edition, request.args.get("edit")) if request.args.get("edit") else None
        return _rules_page(rs.rule_input(editing) if editing else None, editing=editing)
    editing = None
    if request.form.get("rule_id"):
        editing = rs.rule_in_edition(edition, request.form.get("rule_id"))
        if editing is None:
            flash(_("No such rule."), "error")
            return redirect(url_for("questions.category_rules"))
    data = rs.rule_form_input(request.form)
    try:
        rs.save_rule(edition, data, rule=editing, actor_id=current_user.id)
    except rs.RuleErrors as error:
        db.session.rollback()
        return _rules_page(data, error.errors, editing)
    flash(_("Rule saved."), "success")
    return redirect(url_for("questions.category_rules"))


def _rule_from_form():
    rule = rs.rule_in_edition(g.edition, request.form.get("rule_id"))
    if rule is None:
        flash(_("No such rule."), "error")
    return rule


@bp.route("/org/editions/<int:edition_id>/category-rules/move", methods=["POST"])
@require(MANAGE_QUESTIONS, organizer=True)
def move_rule():
    rule = _rule_from_form()
    if rule is not None:
        rs.move_rule(rule, request.form.get("direction", ""), actor_id=current_user.id)
    return redirect(url_for("questions.category_rules"))


@bp.route("/org/editions/<int:edition_id>/category-rules/active", methods=["POST"])
@require(MANAGE_QUESTIONS, organizer=True)
def rule_active():
    rule = _rule_from_form()
    if rule is not None:
        rs.set_rule_active(rule, request.form.get("active") == "1", actor_id=current_user.id)
    return redirect(url_for("questions.category_rules"))


@bp.route("/org/editions/<int:edition_id>/category-rules/test")
@require(MANAGE_QUESTIONS, organizer=True)
def test_rules():
    """The live test: these answers → this category (which rule). A GET: nothing is stored."""
    edition = g.edition
    active = qs.active_questions(edition)
    answers, errors = qs.read_answers(edition, request.args, active)
    category, rule = rs.decide_category(edition, answers)
    fields = qs.form_questions(edition, current_language(), request.args, errors, active)
    return _rules_page(test={"fields": fields, "errors": errors, "category": category, "rule": rule})


# --- the category of one registration ----------------------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/registrations/<int:registration_id>/category", methods=["POST"])
@require(VIEW_REGISTRATIONS, MANAGE_REGISTRATIONS, organizer=True)
def override_category(registration_id):
    """Staff set the visitor category by hand (audited; the registration shows "set by staff")."""
    registration = get_in_edition_or_404(Registration, registration_id, g.edition.id, current_scope())
    try:
        changed = rs.override_category(registration, request.form.get("category", ""), actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Category changed.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("visitors.registration", registration_id=registration_id))
