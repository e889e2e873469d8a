"""A visitor's survey answers in their personal data (hook ``personal_data``) and their erasure (hook
``erase_personal_data``): what they wrote in free text goes; scores and choices stay as anonymous figures."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..core.scoping import Scope
from ..extensions import db
from .models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse


def _answer_text(question: SurveyQuestion, answer: SurveyAnswer) -> str:
    if question.kind == "text":
        return answer.text
    labels = question.option_labels("en")
    if question.kind == "multiple":
        return ", ".join(labels[n] for n in answer.choices if isinstance(n, int) and 0 <= n < len(labels))
    if question.kind == "single":
        return labels[answer.number] if answer.number is not None and 0 <= answer.number < len(labels) else ""
    return "" if answer.number is None else str(answer.number)


def visitor_answers(scope: Scope, registration_ids: list[int]) -> dict | None:
    """The hook ``personal_data``: every answer the visitor gave, per survey and question."""
    if not registration_ids:
        return None
    rows = db.session.execute(
        select(SurveyResponse, SurveyAnswer, SurveyQuestion, Survey)
        .join(SurveyAnswer, SurveyAnswer.response_id == SurveyResponse.id)
        .join(SurveyQuestion, SurveyQuestion.id == SurveyAnswer.question_id)
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(SurveyResponse.organizer_id == scope.organizer_id,
               SurveyResponse.registration_id.in_(registration_ids))
        .order_by(SurveyResponse.submitted_at, SurveyQuestion.position, SurveyQuestion.id)).all()
    return {"key": "surveys", "title": _l("Your survey answers"),
            "columns": [("registration_id", _l("Registration")), ("survey", _l("Survey")),
                        ("question", _l("Question")), ("answer", _l("Answer")), ("submitted_at", _l("Answered on"))],
            "rows": [{"registration_id": response.registration_id, "survey": survey.title_en or survey.title_zh,
                      "question": question.text_en or question.text_zh, "answer": _answer_text(question, answer),
                      "submitted_at": response.submitted_at} for response, answer, question, survey in rows]}


def forget_visitor(scope: Scope, registration_ids: list[int]) -> None:
    """The hook ``erase_personal_data``: blank the visitor's free-text answers."""
    if not registration_ids:
        return
    responses = select(SurveyResponse.id).where(SurveyResponse.organizer_id == scope.organizer_id,
                                                SurveyResponse.registration_id.in_(registration_ids))
    db.session.execute(update(SurveyAnswer).where(SurveyAnswer.organizer_id == scope.organizer_id,
                                                  SurveyAnswer.response_id.in_(responses)).values(text=""),
                       execution_options={"synchronize_session": False})
    for answer in db.session.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id.in_(responses))):
        db.session.expire(answer, ["text"])
