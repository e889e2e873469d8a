"""Surveys: writing questionnaires, the signed links takers reach them by, taking them, and the scores other
modules read (company_scores, person_scores, exhibitor_satisfaction).

Plain functions: no request, no current user. Services flush; the caller commits once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..core import activity, badge_codes
from ..core import services as core
from ..core.db import take_write_lock, utcnow
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit
from ..exhibitors.models import PARTICIPATING_STATUSES, Exhibitor
from ..extensions import db
from ..visitors.models import Registration
from .models import (AUDIENCES, CHOICE_KINDS, QUESTION_KINDS, SURVEY_STATUS, Survey, SurveyAnswer, SurveyQuestion,
                     SurveyResponse)

TAKE_SALT = "survey-take"
MAX_TITLE = 200
MAX_INTRO = 2000
MAX_QUESTION = 500
MAX_OPTION = 200
MAX_OPTIONS = 20
MAX_TEXT_ANSWER = 2000
MAX_QUESTIONS = 50
TAKING_REGISTRATION = ("confirmed",)  # registrations whose visitor may answer


# --- signed links -------------------------------------------------------------------------------------

def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=TAKE_SALT)


def take_token(survey: Survey, *, registration_id: int | None = None, exhibitor_id: int | None = None) -> str:
    if (registration_id is None) == (exhibitor_id is None):
        raise ValueError("a survey link is for one registration or one exhibitor")
    if registration_id is not None:
        return _signer().dumps([survey.id, "r", int(registration_id)])
    return _signer().dumps([survey.id, "e", int(exhibitor_id)])


def take_path(survey: Survey, *, registration_id: int | None = None, exhibitor_id: int | None = None) -> str:
    """The public path (/s/<token>) at which this registration's visitor or this exhibitor takes the survey."""
    return "/s/" + take_token(survey, registration_id=registration_id, exhibitor_id=exhibitor_id)


def read_token(token) -> tuple[int, str, int] | None:
    """(survey id, "r" or "e", taker id) of a well-signed token, else None."""
    if not isinstance(token, str) or not token or len(token) > 200 or core.unstorable(token):
        return None
    try:
        value = _signer().loads(token)
    except (BadData, UnicodeError, ValueError):
        return None
    if (not isinstance(value, list) or len(value) != 3 or value[1] not in ("r", "e")
            or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= core.MAX_DB_INT
                       for v in (value[0], value[2]))):
        return None
    return value[0], value[1], value[2]


@dataclass
class Taker:
    survey: Survey
    registration: Registration | None = None
    exhibitor: Exhibitor | None = None

    @property
    def organizer_id(self) -> int:
        return self.survey.organizer_id

    @property
    def subject(self) -> tuple[str, int]:
        if self.registration is not None:
            return "person", self.registration.person_id
        return "company", self.exhibitor.company_id

    @property
    def key(self) -> tuple[str, int]:
        return ("r", self.registration.id) if self.registration is not None else ("e", self.exhibitor.id)


def taker_of(token) -> Taker | None:
    """The survey and taker a link names, or None when the link is bad or names a taker that does not belong to
    the survey (another edition, another organizer, the wrong audience)."""
    read = read_token(token)
    if read is None:
        return None
    survey_id, kind, taker_id = read
    survey = db.session.get(Survey, survey_id)
    if survey is None:
        return None
    if kind == "r":
        if survey.audience != "visitor":
            return None
        registration = db.session.get(Registration, taker_id)
        if (registration is None or registration.organizer_id != survey.organizer_id
                or registration.edition_id != survey.edition_id or registration.erased_at is not None
                or registration.status in ("cancelled", "waitlisted")):  # never had a place at the show
            return None
        return Taker(survey, registration=registration)
    if survey.audience != "exhibitor":
        return None
    exhibitor = db.session.get(Exhibitor, taker_id)
    if (exhibitor is None or exhibitor.organizer_id != survey.organizer_id or exhibitor.edition_id != survey.edition_id
            or exhibitor.status not in PARTICIPATING_STATUSES):  # a prospect or a cancelled booth did not exhibit
        return None
    return Taker(survey, exhibitor=exhibitor)


# --- reading ------------------------------------------------------------------------------------------

def edition_surveys(scope: Scope, edition_id: int) -> list[Survey]:
    return list(db.session.scalars(scoped(Survey, scope).where(Survey.edition_id == edition_id)
                                   .order_by(Survey.audience.desc(), Survey.id)))


def open_surveys(scope: Scope, edition_id: int, audience: str) -> list[Survey]:
    """The edition's open surveys for "visitor" or "exhibitor", oldest first."""
    return list(db.session.scalars(scoped(Survey, scope).where(
        Survey.edition_id == edition_id, Survey.audience == audience, Survey.status == "open").order_by(Survey.id)))


def responded(survey: Survey) -> set[int]:
    """The registration ids (visitor survey) or exhibitor ids (exhibitor survey) that answered."""
    column = SurveyResponse.registration_id if survey.audience == "visitor" else SurveyResponse.exhibitor_id
    return set(db.session.scalars(select(column).where(SurveyResponse.survey_id == survey.id,
                                                       SurveyResponse.organizer_id == survey.organizer_id)))


def _mean_scores(scope: Scope, column, *conditions) -> dict[int, float]:
    stmt = (scoped(SurveyResponse, scope, column, func.avg(SurveyResponse.nps))
            .where(SurveyResponse.nps.is_not(None), column.is_not(None), *conditions).group_by(column))
    return {key: round(float(mean), 2) for key, mean in db.session.execute(stmt)}


def company_scores(scope: Scope, edition_id: int) -> dict[int, float]:
    """Per company: the mean 0–10 recommend score its exhibitor gave in the edition's surveys."""
    return _mean_scores(scope, SurveyResponse.company_id, SurveyResponse.edition_id == edition_id)


def person_scores(scope: Scope, edition_id: int) -> dict[int, float]:
    """Per person: the mean 0–10 recommend score they gave in the edition's surveys."""
    return _mean_scores(scope, SurveyResponse.person_id, SurveyResponse.edition_id == edition_id)


def exhibitor_satisfaction(scope: Scope, exhibitor_ids) -> dict[int, float]:
    """The hook ``exhibitor_satisfaction``: per exhibitor, the mean 0–10 recommend score of its answers."""
    ids = [i for i in exhibitor_ids if isinstance(i, int)]
    if not ids:
        return {}
    return _mean_scores(scope, SurveyResponse.exhibitor_id, SurveyResponse.exhibitor_id.in_(ids))


# --- writing surveys ----------------------------------------------------------------------------------

def _clean(value, limit: int, label, field: str, *, required: bool = False) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if core.unstorable(text):
        raise ServiceError(_l("%(what)s holds characters that cannot be stored.", what=label), field)
    if len(text) > limit:
        raise ServiceError(_l("%(what)s is too long (at most %(n)s characters).", what=label, n=limit), field)
    if required and not text:
        raise ServiceError(_l("%(what)s is needed.", what=label), field)
    return text


@dataclass
class SurveyData:
    audience: str = "visitor"
    title_en: str = ""
    title_zh: str = ""
    intro_en: str = ""
    intro_zh: str = ""


def _apply(survey: Survey, data: SurveyData) -> None:
    survey.title_en = _clean(data.title_en, MAX_TITLE, _l("The English title"), "title_en")
    survey.title_zh = _clean(data.title_zh, MAX_TITLE, _l("The Chinese title"), "title_zh")
    if not (survey.title_en or survey.title_zh):
        raise ServiceError(_l("Give the survey a title."), "title_en")
    survey.intro_en = _clean(data.intro_en, MAX_INTRO, _l("The English introduction"), "intro_en")
    survey.intro_zh = _clean(data.intro_zh, MAX_INTRO, _l("The Chinese introduction"), "intro_zh")


def create_survey(scope: Scope, edition, data: SurveyData, *, actor_id: int | None = None) -> Survey:
    if data.audience not in AUDIENCES:
        raise ServiceError(_l("Choose who answers: visitors or exhibitors."), "audience")
    survey = Survey(organizer_id=scope.organizer_id, edition_id=edition.id, audience=data.audience, status="draft",
                    created_by_id=actor_id)
    _apply(survey, data)
    db.session.add(survey)
    db.session.flush()
    audit("survey.created", organizer_id=scope.organizer_id, user_id=actor_id, obj=survey,
          details={"audience": survey.audience, "title": survey.title_en or survey.title_zh})
    return survey


def update_survey(survey: Survey, data: SurveyData, *, actor_id: int | None = None) -> Survey:
    _apply(survey, data)
    db.session.flush()
    audit("survey.changed", organizer_id=survey.organizer_id, user_id=actor_id, obj=survey)
    return survey


def set_status(survey: Survey, target: str, *, actor_id: int | None = None) -> bool:
    if target == "open" and not survey.questions:
        raise ServiceError(_l("Add a question before opening the survey."), "status")
    return core.move_status(survey, SURVEY_STATUS, target, actor_id=actor_id)


def get_survey(scope: Scope, survey_id, edition_id: int) -> Survey | None:
    if not isinstance(survey_id, int) or not 0 < survey_id <= core.MAX_DB_INT:
        return None
    return db.session.scalar(scoped(Survey, scope).where(Survey.id == survey_id, Survey.edition_id == edition_id))


def response_count(survey: Survey) -> int:
    return db.session.scalar(select(func.count(SurveyResponse.id)).where(SurveyResponse.survey_id == survey.id)) or 0


def response_counts(surveys: list[Survey]) -> dict[int, int]:
    """survey id → answers, for a list of surveys in one query."""
    counts = dict(db.session.execute(
        select(SurveyResponse.survey_id, func.count(SurveyResponse.id))
        .where(SurveyResponse.survey_id.in_([s.id for s in surveys] or [-1])).group_by(SurveyResponse.survey_id)).all())
    return {s.id: counts.get(s.id, 0) for s in surveys}


@dataclass
class QuestionData:
    kind: str = "nps"
    text_en: str = ""
    text_zh: str = ""
    options_en: str = ""  # one option a line
    options_zh: str = ""
    required: bool = False


def _options(data: QuestionData) -> list[dict]:
    if data.kind not in CHOICE_KINDS:
        return []
    en = [line.strip() for line in (data.options_en or "").splitlines() if line.strip()]
    zh = [line.strip() for line in (data.options_zh or "").splitlines() if line.strip()]
    if zh and len(zh) != len(en):
        raise ServiceError(_l("Give as many Chinese options as English ones (one a line), or none."), "options_zh")
    if len(en) < 2:
        raise ServiceError(_l("A choice question needs at least two options, one a line."), "options_en")
    if len(en) > MAX_OPTIONS:
        raise ServiceError(_l("At most %(n)s options.", n=MAX_OPTIONS), "options_en")
    for text in en + zh:
        if len(text) > MAX_OPTION or core.unstorable(text):
            raise ServiceError(_l("An option is too long or holds characters that cannot be stored."), "options_en")
    return [{"en": e, "zh": zh[n] if zh else ""} for n, e in enumerate(en)]


def _apply_question(question: SurveyQuestion, data: QuestionData, locked: bool) -> None:
    if data.kind not in QUESTION_KINDS:
        raise ServiceError(_l("Choose the kind of question."), "kind")
    options = _options(data)
    if locked and (data.kind != question.kind or [o["en"] for o in options] != [o["en"] for o in question.options]):
        raise ServiceError(_l("The survey has answers already: its questions' kinds and options stay as they are "
                              "(the wording can change)."), "kind")
    question.kind = data.kind
    question.options = options
    question.text_en = _clean(data.text_en, MAX_QUESTION, _l("The English question"), "text_en")
    question.text_zh = _clean(data.text_zh, MAX_QUESTION, _l("The Chinese question"), "text_zh")
    if not (question.text_en or question.text_zh):
        raise ServiceError(_l("Write the question."), "text_en")
    question.required = bool(data.required)


def add_question(survey: Survey, data: QuestionData, *, actor_id: int | None = None) -> SurveyQuestion:
    if response_count(survey):
        raise ServiceError(_l("The survey has answers already: no questions can be added."), "kind")
    if len(survey.questions) >= MAX_QUESTIONS:
        raise ServiceError(_l("At most %(n)s questions.", n=MAX_QUESTIONS), "kind")
    question = SurveyQuestion(organizer_id=survey.organizer_id, kind="nps", options=[],
                              position=max((q.position for q in survey.questions), default=0) + 1)
    _apply_question(question, data, locked=False)
    survey.questions.append(question)
    db.session.flush()
    audit("survey.question_added", organizer_id=survey.organizer_id, user_id=actor_id, obj=survey,
          details={"question_id": question.id, "kind": question.kind})
    return question


def update_question(question: SurveyQuestion, data: QuestionData, *, actor_id: int | None = None) -> None:
    _apply_question(question, data, locked=response_count(question.survey) > 0)
    db.session.flush()
    audit("survey.question_changed", organizer_id=question.organizer_id, user_id=actor_id, obj=question.survey,
          details={"question_id": question.id})


def delete_question(question: SurveyQuestion, *, actor_id: int | None = None) -> None:
    survey = question.survey
    if response_count(survey):
        raise ServiceError(_l("The survey has answers already: its questions stay."))
    survey.questions.remove(question)
    db.session.flush()
    audit("survey.question_deleted", organizer_id=survey.organizer_id, user_id=actor_id, obj=survey,
          details={"question_id": question.id})


def move_question(question: SurveyQuestion, step: int) -> None:
    """Move a question one place up (-1) or down (+1)."""
    ordered = list(question.survey.questions)
    n = ordered.index(question)
    other = n + (1 if step > 0 else -1)
    if not 0 <= other < len(ordered):
        return
    ordered[n], ordered[other] = ordered[other], ordered[n]
    for position, q in enumerate(ordered, start=1):
        q.position = position
    db.session.flush()
    db.session.expire(question.survey, ["questions"])  # read again in the new order


# --- taking -------------------------------------------------------------------------------------------

class AnswersRefused(ServiceError):
    """Some answers are missing or wrong: ``errors`` by question id; ``values`` what was understood, to show
    the form again with everything the taker gave."""

    def __init__(self, errors: dict[int, str], values: dict[int, object]):
        super().__init__(_l("Some answers need a look: see the questions marked below."))
        self.errors = errors
        self.values = values


def _number(raw: str, low: int, high: int) -> int | None:
    raw = raw.strip()
    if not raw or len(raw) > 3 or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if low <= value <= high else None


def _text(raw: str) -> str:
    text = raw.replace("\x00", "")
    return "".join(ch for ch in text if not 0xD800 <= ord(ch) <= 0xDFFF).strip()


def parse_answers(survey: Survey, form: dict[str, list[str]]) -> dict[int, object]:
    """The answers a submitted form gives, by question id (nps / rating / single: int; multiple: list of ints;
    text: str). Raises AnswersRefused with a message per question that is missing or wrong."""
    values: dict[int, object] = {}
    errors: dict[int, str] = {}
    for q in survey.questions:
        raw = [v for v in form.get(f"q{q.id}", []) if isinstance(v, str)]
        given = [v for v in raw if v.strip()]
        if q.kind == "text":
            text = _text(given[0]) if given else ""
            if len(text) > MAX_TEXT_ANSWER:
                errors[q.id] = str(_l("At most %(n)s characters, please.", n=MAX_TEXT_ANSWER))
                text = text[:MAX_TEXT_ANSWER]
            if text:
                values[q.id] = text
        elif q.kind == "multiple":
            picked = sorted({n for v in given if (n := _number(v, 0, len(q.options) - 1)) is not None})
            if len(picked) != len(set(v.strip() for v in given)):
                errors[q.id] = str(_l("Choose among the options shown."))
            if picked:
                values[q.id] = picked
        else:
            low, high = {"nps": (0, 10), "rating": (1, 5)}.get(q.kind, (0, len(q.options) - 1))
            if given:
                value = _number(given[0], low, high)
                if value is None:
                    errors[q.id] = str(_l("Choose one of the answers shown.")) if q.kind == "single" else \
                        str(_l("Choose a number from %(low)s to %(high)s.", low=low, high=high))
                else:
                    values[q.id] = value
        if q.required and q.id not in values and q.id not in errors:
            errors[q.id] = str(_l("Please answer this question."))
    if errors:
        raise AnswersRefused(errors, values)
    return values


def already_answered(taker: Taker) -> SurveyResponse | None:
    column = SurveyResponse.registration_id if taker.registration is not None else SurveyResponse.exhibitor_id
    return db.session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == taker.survey.id,
                                                          column == taker.key[1]))


def submit(taker: Taker, form: dict[str, list[str]], *, language: str = "en", channel: str = "link",
           now: datetime | None = None) -> SurveyResponse:
    """Store one taker's answers (one response per taker: answering again is refused), put them on the
    person's or company's timeline and audit them."""
    survey = taker.survey
    if survey.status != "open":
        raise ServiceError(_l("This survey is closed. Thank you all the same!"))
    values = parse_answers(survey, form)
    take_write_lock(db.session)
    if already_answered(taker) is not None:
        raise ServiceError(_l("You have answered this survey already. Thank you!"))
    nps_question = next((q for q in survey.questions if q.kind == "nps"), None)
    response = SurveyResponse(
        organizer_id=survey.organizer_id, survey_id=survey.id, edition_id=survey.edition_id,
        language="zh" if language.startswith("zh") else "en",
        channel=channel if channel in ("link", "kiosk") else "link",
        nps=values.get(nps_question.id) if nps_question is not None else None, submitted_at=now or utcnow())
    if taker.registration is not None:
        response.registration_id, response.person_id = taker.registration.id, taker.registration.person_id
    else:
        response.exhibitor_id, response.company_id = taker.exhibitor.id, taker.exhibitor.company_id
    for q in survey.questions:
        if q.id not in values:
            continue
        value = values[q.id]
        response.answers.append(SurveyAnswer(
            organizer_id=survey.organizer_id, question_id=q.id,
            number=value if isinstance(value, int) else None,
            choices=value if isinstance(value, list) else [], text=value if isinstance(value, str) else ""))
    try:
        with db.session.begin_nested():
            db.session.add(response)
            db.session.flush()
    except IntegrityError:
        raise ServiceError(_l("You have answered this survey already. Thank you!")) from None
    subject_type, subject_id = taker.subject
    details = {"survey": survey.title_en or survey.title_zh, "survey_id": survey.id}
    if response.nps is not None:
        details["nps"] = response.nps
    activity.record("survey.answered", organizer_id=survey.organizer_id, subject_type=subject_type,
                    subject_id=subject_id, edition_id=survey.edition_id, obj=response, details=details,
                    at=response.submitted_at)
    audit("survey.answered", organizer_id=survey.organizer_id, obj=response,
          details={"survey_id": survey.id, "nps": response.nps, "channel": response.channel})
    return response


# --- on site ------------------------------------------------------------------------------------------

def registration_for_badge(survey: Survey, code) -> tuple[Registration | None, str | None]:
    """The visitor a scanned badge code names, for the kiosk: (registration, None) or (None, the reason)."""
    if not isinstance(code, str) or not code.strip() or len(code) > 500 or core.unstorable(code):
        return None, str(_l("Scan or type the code of a badge."))
    if survey.status != "open":
        return None, str(_l("This survey is not open."))
    registration = _badge_registration(survey.edition, code.strip())
    if registration is None or registration.status != "confirmed":
        return None, str(_l("This badge is not one of this edition's confirmed visitors."))
    taker = Taker(survey, registration=registration)
    if already_answered(taker) is not None:
        return None, str(_l("This visitor has answered the survey already."))
    return registration, None


def _badge_registration(edition, code: str) -> Registration | None:
    """The registration a badge code names, when its signature is this edition's and its serial the current one
    (the check the scan API makes; read here from core's badge codes: on-site is a floor above)."""
    try:
        claim = badge_codes.read_badge(code)
    except badge_codes.BadgeRefused:
        return None
    if claim.edition_id != edition.id or not badge_codes.signature_valid(claim, edition.verify_key):
        return None
    registration = db.session.get(Registration, claim.registration_id)
    if registration is None or registration.edition_id != edition.id or claim.serial != registration.badge_serial:
        return None
    return registration


def qr_svg(url: str) -> str:
    """An inline SVG QR code of ``url`` (no image request, no external asset)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return image.to_string(encoding="unicode")
