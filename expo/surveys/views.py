"""Survey pages of the organizer: an edition's surveys (create), one survey's questions (write, order, open,
close), its results, and the kiosk on site (a visitor's badge opens their survey)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, edition_scoped, require
from ..core.permissions import has_permission
from ..core.services import ServiceError, parse_id
from ..core.templating import country_name, current_language
from ..extensions import db
from . import MANAGE_SURVEYS, RUN_SURVEY_KIOSK, VIEW_SURVEYS, results as survey_results, services
from .models import AUDIENCE, QUESTION_KIND, SURVEY_STATUS

bp = edition_scoped(Blueprint("surveys", __name__))


def _survey_or_404(survey_id):
    survey = services.get_survey(current_scope(), survey_id, g.edition.id)
    if survey is None:
        abort(404)
    return survey


def _survey_data(form) -> services.SurveyData:
    return services.SurveyData(audience=form.get("audience", ""), title_en=form.get("title_en", ""),
                               title_zh=form.get("title_zh", ""), intro_en=form.get("intro_en", ""),
                               intro_zh=form.get("intro_zh", ""))


def _question_data(form) -> services.QuestionData:
    return services.QuestionData(kind=form.get("kind", ""), text_en=form.get("text_en", ""),
                                 text_zh=form.get("text_zh", ""), options_en=form.get("options_en", ""),
                                 options_zh=form.get("options_zh", ""), required=form.get("required") == "y")


@bp.route("/org/editions/<int:edition_id>/surveys", methods=["GET", "POST"])
@require(VIEW_SURVEYS, organizer=True, POST=MANAGE_SURVEYS)
def index():
    scope, edition = current_scope(), g.edition
    error, given = None, {}
    if request.method == "POST":
        given = request.form
        try:
            survey = services.create_survey(scope, edition, _survey_data(request.form), actor_id=current_user.id)
        except ServiceError as failure:
            db.session.rollback()
            error = failure
        else:
            flash(_("Survey created: now add its questions."), "success")
            return redirect(url_for("surveys.edit", survey_id=survey.id))
    surveys = services.edition_surveys(scope, edition.id)
    figures = services.response_counts(surveys)
    by_audience = {}  # who could answer depends on the audience only
    for survey in surveys:
        if survey.audience not in by_audience:
            by_audience[survey.audience] = survey_results.eligible_count(survey)
    return render_template("surveys/index.html", edition=edition, surveys=surveys, figures=figures,
                           eligible={s.id: by_audience[s.audience] for s in surveys},
                           audiences=AUDIENCE, error=error, given=given,
                           can_manage=has_permission(current_user, MANAGE_SURVEYS)), 400 if error else 200


@bp.route("/org/editions/<int:edition_id>/surveys/<int:survey_id>", methods=["GET", "POST"])
@require(MANAGE_SURVEYS, organizer=True)
def edit(survey_id):
    survey = _survey_or_404(survey_id)
    error, error_question, given = None, None, {}
    if request.method == "POST":
        action = request.form.get("action", "")
        question = None
        if action in ("update_question", "delete_question", "up", "down"):
            question_id = parse_id(request.form.get("question_id"))
            question = next((q for q in survey.questions if q.id == question_id), None)
            if question is None:
                abort(404)
        try:
            if action == "save":
                services.update_survey(survey, _survey_data(request.form), actor_id=current_user.id)
                flash(_("Survey saved."), "success")
            elif action == "add_question":
                services.add_question(survey, _question_data(request.form), actor_id=current_user.id)
                flash(_("Question added."), "success")
            elif action == "update_question":
                services.update_question(question, _question_data(request.form), actor_id=current_user.id)
                flash(_("Question saved."), "success")
            elif action == "delete_question":
                services.delete_question(question, actor_id=current_user.id)
                flash(_("Question deleted."), "success")
            elif action in ("up", "down"):
                services.move_question(question, -1 if action == "up" else 1)
            elif action in ("open", "closed"):
                services.set_status(survey, action, actor_id=current_user.id)
                flash(_("The survey is open: its links work.") if action == "open" else
                      _("The survey is closed: its links say so."), "success")
            else:
                raise ServiceError(_("Nothing to do."))
        except ServiceError as failure:
            db.session.rollback()
            error, given = failure, request.form
            error_question = question.id if question is not None else (
                "new" if action == "add_question" else None)
        else:
            return redirect(url_for("surveys.edit", survey_id=survey.id))
        survey = _survey_or_404(survey_id)
    return render_template("surveys/edit.html", edition=g.edition, survey=survey, kinds=QUESTION_KIND,
                           statuses=SURVEY_STATUS, error=error, error_question=error_question, given=given,
                           answered=services.response_count(survey)), 400 if error else 200


@bp.route("/org/editions/<int:edition_id>/surveys/<int:survey_id>/results")
@require(VIEW_SURVEYS, organizer=True)
def results(survey_id):
    survey = _survey_or_404(survey_id)
    found = survey_results.results(survey, country_name=country_name)
    language = "zh" if current_language() == "zh_CN" else "en"
    return render_template("surveys/results.html", edition=g.edition, survey=survey, r=found, language=language,
                           chart_specs=_charts(found, language),
                           can_manage=has_permission(current_user, MANAGE_SURVEYS),
                           can_kiosk=has_permission(current_user, RUN_SURVEY_KIOSK))


def _charts(found, language: str) -> dict:
    specs = {}
    for result in found.questions:
        q = result.question
        if q.kind == "nps":
            specs[q.id] = {"type": "bar", "categories": [str(n) for n in range(11)],
                           "series": [{"name": _("Answers"), "data": result.counts}],
                           "option": {"color": ["#2f6fed"]}}
        elif q.kind == "rating":
            specs[q.id] = {"type": "bar", "categories": ["★" * n for n in range(1, 6)],
                           "series": [{"name": _("Answers"), "data": result.counts}]}
        elif q.kind in ("single", "multiple"):
            specs[q.id] = {"type": "hbar", "categories": q.option_labels(language),
                           "series": [{"name": _("Answers"), "data": result.counts}]}
    nps = found.nps
    specs["mix"] = {"type": "donut", "series": [{"name": _("Answers"), "data": [
        {"name": _("Promoters (9–10)"), "value": nps.promoters}, {"name": _("Passives (7–8)"), "value": nps.passives},
        {"name": _("Detractors (0–6)"), "value": nps.detractors}]}],
        "option": {"color": ["#20a36b", "#adb5bd", "#e8590c"]}}
    return specs


@bp.route("/org/editions/<int:edition_id>/surveys/<int:survey_id>/kiosk", methods=["GET", "POST"])
@require(RUN_SURVEY_KIOSK, organizer=True)
def kiosk(survey_id):
    """On site: staff scan (or type) a visitor's badge code and hand over the tablet with their survey."""
    survey = _survey_or_404(survey_id)
    if survey.audience != "visitor":
        abort(404)
    error = None
    if request.method == "POST":
        code = request.form.get("code", "")
        registration, error = services.registration_for_badge(survey, code)
        if registration is not None:
            return redirect(services.take_path(survey, registration_id=registration.id) + "?via=kiosk")
    return render_template("surveys/kiosk.html", edition=g.edition, survey=survey, error=error,
                           poster_qr=services.qr_svg(url_for("surveys.kiosk", survey_id=survey.id, _external=True))), \
        400 if error else 200
