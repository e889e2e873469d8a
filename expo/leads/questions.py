"""The exhibitor's own qualifying questions (defined in the portal by the exhibitor admin, asked at the booth)
and a lead's answers to them.

A question has a stable ``key`` (made once from its first wording, never changed): its answers are stored
under that key, so the wording in either language, the choices' labels, the order and whether it is asked
can all change without losing what was answered. A choice's ``value`` is stable the same way (shown in the
choices box as ``value | English | 中文``). Answers are rows of ``lead_answers`` (one per value).

These are not the organizer's registration questions (``visitors.questions``): those are asked of the visitor
and belong to the edition; these are the exhibitor's notes about a conversation and belong to the exhibitor.
Plain functions, no request state.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select

from ..core.services import ServiceError, audit, parse_id, unstorable
from ..extensions import db
from .models import CHOICE_KINDS, QUESTION_KINDS, LeadAnswer, LeadQuestion

MAX_QUESTIONS = 40  # per exhibitor: a booth conversation, not a survey
MAX_CHOICES = 30
MAX_ANSWER = 1000  # characters of a text answer
MAX_LABEL = 300
YES_NO = ("yes", "no")
CHOICE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class AnswerErrors(ServiceError):
    """Answers that cannot be stored, by question key (``field`` is ``answers.<key>`` of the first)."""

    def __init__(self, errors: dict):
        key, message = next(iter(errors.items()))
        super().__init__(message, f"answers.{key}" if key else "answers")
        self.errors = errors


class QuestionErrors(ServiceError):
    def __init__(self, errors: dict):
        super().__init__(next(iter(errors.values())), next(iter(errors)))
        self.errors = errors


# --- reading ---------------------------------------------------------------------------------------

def exhibitor_questions(exhibitor_id: int, *, active_only: bool = False) -> list[LeadQuestion]:
    """The exhibitor's questions in their order (deactivated ones too unless ``active_only``)."""
    stmt = select(LeadQuestion).where(LeadQuestion.exhibitor_id == exhibitor_id)
    if active_only:
        stmt = stmt.where(LeadQuestion.active.is_(True))
    return list(db.session.scalars(stmt.order_by(LeadQuestion.position, LeadQuestion.id)))


def in_language(english: str, chinese: str, locale: str | None) -> str:
    """The text in the reader's language, else in the other one."""
    if (locale or "").lower().startswith("zh"):
        return chinese or english
    return english or chinese


def parse_choices(text: str) -> tuple[list[dict], str | None]:
    """Choices from lines "value | English | 中文" ("English | 中文" or one label: the value is made from it)."""
    choices, seen = [], set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [" ".join(part.split()) for part in line.split("|")]
        if len(parts) >= 3:
            code, english, chinese = parts[0].lower(), parts[1], " | ".join(parts[2:])
        else:
            english, chinese = parts[0], parts[1] if len(parts) == 2 else ""
            code = _code_from(english, len(choices) + 1, seen)
        if not CHOICE_PATTERN.match(code):
            return [], str(_l("Line %(n)d: the code “%(code)s” may hold only small letters, digits, - and _ "
                              "(at most 40).", n=number, code=code[:40]))
        if code in seen:
            return [], str(_l("Line %(n)d: the code “%(code)s” is used twice.", n=number, code=code))
        if not (english or chinese):
            return [], str(_l("Line %(n)d: give the choice a label.", n=number))
        if len(english) > 200 or len(chinese) > 200:
            return [], str(_l("Line %(n)d: a label has at most 200 characters.", n=number))
        seen.add(code)
        choices.append({"value": code, "en": english, "zh": chinese})
    return choices, None


def _code_from(label: str, number: int, seen: set) -> str:
    code = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:36]
    code = code if code and code[0].isalnum() else f"choice_{number}"
    while code in seen:
        number += 1
        code = f"{code[:30]}_{number}"
    return code


def choices_text(choices: list) -> str:
    return "\n".join(f"{c.get('value')} | {c.get('en', '')} | {c.get('zh', '')}" for c in choices or [])


def _locale() -> str:
    return str(get_locale() or "en")


def label(question: LeadQuestion, locale: str | None = None) -> str:
    return in_language(question.label_en, question.label_zh, locale or _locale())


def choice_options(question: LeadQuestion, locale: str | None = None) -> list[dict]:
    """The answers one may pick, as ``{"value", "label"}`` in the language asked for (yes/no too)."""
    locale = locale or _locale()
    if question.kind in CHOICE_KINDS:
        return [{"value": c["value"], "label": in_language(c.get("en", ""), c.get("zh", ""), locale) or c["value"]}
                for c in question.choices or []]
    if question.kind == "yes_no":
        return [{"value": "yes", "label": str(_l("Yes"))}, {"value": "no", "label": str(_l("No"))}]
    return []


def question_dict(question: LeadQuestion, locale: str | None = None) -> dict:
    return {"key": question.key, "label": label(question, locale), "kind": question.kind,
            "choices": choice_options(question, locale), "required": bool(question.required)}


def lead_questions_for(exhibitor) -> list[dict]:
    """The exhibitor's active questions, in order, for the scanner's offline bundle and the lead API:
    ``[{"key", "label", "kind", "choices": [{"value", "label"}], "required"}]``, labels in the current
    language. ``exhibitor``: an Exhibitor or its id."""
    exhibitor_id = exhibitor if isinstance(exhibitor, int) else exhibitor.id
    return [question_dict(q) for q in exhibitor_questions(exhibitor_id, active_only=True)]


def display(question: LeadQuestion | None, value, locale: str | None = None) -> str:
    """An answer as words: choice labels (a choice removed since: its stored value), yes/no, the text."""
    if value is None or value == "" or value == []:
        return ""
    values = value if isinstance(value, list) else [value]
    if question is None:
        return ", ".join(str(v) for v in values)
    labels = {o["value"]: o["label"] for o in choice_options(question, locale)}
    return ", ".join(labels.get(v, str(v)) for v in values)


def answers_of(lead_ids: list[int]) -> dict[int, dict]:
    """The answers of these leads (ids already in the caller's scope): {lead id: {key: value}} with a
    multiple-choice answer as a list (in the order stored), every other answer as its text. One query."""
    out: dict[int, dict] = {}
    if not lead_ids:
        return out
    rows = db.session.execute(select(LeadAnswer.exhibitor_id, LeadAnswer.lead_id, LeadAnswer.question_key,
                                     LeadAnswer.value).where(LeadAnswer.lead_id.in_(lead_ids)).order_by(LeadAnswer.id))
    grouped: dict[tuple, list] = {}
    for exhibitor_id, lead_id, key, value in rows:
        grouped.setdefault((exhibitor_id, lead_id, key), []).append(value)
    kinds = {}
    if grouped:
        kinds = {(e, k): kind for e, k, kind in db.session.execute(
            select(LeadQuestion.exhibitor_id, LeadQuestion.key, LeadQuestion.kind)
            .where(LeadQuestion.exhibitor_id.in_({e for e, _l_, _k in grouped})))}
    for (exhibitor_id, lead_id, key), values in grouped.items():
        out.setdefault(lead_id, {})[key] = values if kinds.get((exhibitor_id, key)) == "multi" else values[0]
    return out


# --- checking answers ------------------------------------------------------------------------------

def _clean_text(text: str) -> str:
    """A text answer on one or more lines: control characters out (line breaks kept), ends trimmed."""
    text = "".join(c if c in "\n\t" or not unicodedata.category(c).startswith("C") else " " for c in text)
    return re.sub(r"[ \t]+\n", "\n", text.replace("\r\n", "\n")).strip()


def check_answer(question: LeadQuestion, raw):
    """(value to store or None to clear, error or None) of one answer as given: JSON (a string, a list of
    strings for multiple choice, true/false for yes/no) or form values (always strings)."""
    if raw is None or raw == "" or raw == []:
        return None, None
    kind = question.kind
    if kind == "yes_no" and isinstance(raw, bool):
        raw = "yes" if raw else "no"
    if kind == "multi":
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            return None, _l("A multiple-choice answer is a list of choice values.")
        if len(raw) > MAX_CHOICES:
            return None, _l("Choose among the options given.")
        if any(unstorable(v) for v in raw):
            return None, _l("This text contains characters that cannot be stored.")
        allowed = [c["value"] for c in question.choices or []]
        values = {v.strip() for v in raw if v.strip()}
        if values - set(allowed):
            return None, _l("Choose among the options given.")
        return ([v for v in allowed if v in values] or None), None
    if not isinstance(raw, str):
        return None, _l("The answer must be text.")
    if unstorable(raw):
        return None, _l("This text contains characters that cannot be stored.")
    if kind == "text":
        if len(raw) > MAX_ANSWER * 2:
            return None, _l("At most %(n)d characters.", n=MAX_ANSWER)
        text = _clean_text(raw)
        if len(text) > MAX_ANSWER:
            return None, _l("At most %(n)d characters.", n=MAX_ANSWER)
        return text or None, None
    text = raw.strip()
    if kind == "single":
        if text not in [c["value"] for c in question.choices or []]:
            return None, _l("Choose among the options given.")
        return text, None
    if kind == "yes_no":
        if text not in YES_NO:
            return None, _l("Answer yes or no.")
        return text, None
    return None, _l("This question cannot be answered.")


def check_answers(exhibitor_id: int, given, questions: list[LeadQuestion] | None = None) -> dict:
    """Answers as given ({key: raw}) checked against the exhibitor's questions: {key: value or None}.
    Raises AnswerErrors naming every bad key (an unknown key, a wrong type, a value not among the choices).
    Deactivated questions may still be answered (a scanner that was offline asks what it had)."""
    values, errors = sort_answers(exhibitor_id, given, questions)
    if errors:
        raise AnswerErrors(errors)
    return values


MAX_GIVEN_ANSWERS = 2 * MAX_QUESTIONS  # keys in one change: the questions, and as many stale ones


def sort_answers(exhibitor_id: int, given, questions: list[LeadQuestion] | None = None) -> tuple[dict, dict]:
    """Answers as given ({key: raw}) sorted into those that can be stored ({key: value or None}) and those
    that cannot ({key: reason}: an unknown key — the question was deleted —, a wrong type, a value not among
    the choices). Raises AnswerErrors only when ``given`` is no object of answers at all."""
    if not isinstance(given, dict):
        raise AnswerErrors({"": str(_l("The answers must be an object of question keys and answers."))})
    if len(given) > MAX_GIVEN_ANSWERS:
        raise AnswerErrors({"": str(_l("Too many answers."))})
    by_key = {q.key: q for q in (questions if questions is not None else exhibitor_questions(exhibitor_id))}
    errors, values = {}, {}
    for key, raw in given.items():
        question = by_key.get(key) if isinstance(key, str) else None
        if question is None:
            errors[str(key)[:60]] = str(_l("No such question."))
            continue
        value, error = check_answer(question, raw)
        if error:
            errors[key] = str(error)
        else:
            values[key] = value
    return values, errors


def form_answers(questions: list[LeadQuestion], form) -> tuple[dict, dict]:
    """The answers posted by the lead page (fields ``q_<key>``; only the questions shown on it)."""
    values, errors = {}, {}
    for question in questions:
        name = "q_" + question.key
        raw = [v for v in form.getlist(name)] if question.kind == "multi" else form.get(name, "")
        value, error = check_answer(question, raw)
        if error:
            errors[name] = str(error)
        else:
            values[question.key] = value
    return values, errors


def store_answers(lead, values: dict, current: dict) -> list[str]:
    """Write the checked answers (``values``: key -> value or None) of one lead over its ``current`` ones;
    returns the keys that changed. Core statements: a delete and an insert for the changed keys."""
    changed = [key for key, value in values.items() if _normal(value) != _normal(current.get(key))]
    if not changed:
        return []
    db.session.execute(delete(LeadAnswer).where(LeadAnswer.lead_id == lead.id, LeadAnswer.question_key.in_(changed)))
    rows = []
    for key in changed:
        value = values[key]
        for item in (value if isinstance(value, list) else [value] if value is not None else []):
            rows.append({"organizer_id": lead.organizer_id, "exhibitor_id": lead.exhibitor_id, "lead_id": lead.id,
                         "question_key": key, "value": item})
    if rows:
        db.session.execute(insert(LeadAnswer), rows)
    return changed


def _normal(value):
    if value is None or value == "" or value == []:
        return None
    return tuple(value) if isinstance(value, list) else value


def answer_counts(exhibitor_id: int) -> dict[str, int]:
    """How many leads answered each question (by key)."""
    return dict(db.session.execute(select(LeadAnswer.question_key, func.count(func.distinct(LeadAnswer.lead_id)))
                                   .where(LeadAnswer.exhibitor_id == exhibitor_id)
                                   .group_by(LeadAnswer.question_key)).all())


# --- the exhibitor admin's page --------------------------------------------------------------------

@dataclass
class QuestionInput:
    kind: str = "single"
    label_en: str = ""
    label_zh: str = ""
    choices_text: str = ""  # one a line: "value | English | 中文" (or "English | 中文": the value is made)
    required: bool = False

    @classmethod
    def from_form(cls, form) -> QuestionInput:
        return cls(kind=str(form.get("kind", "")), label_en=str(form.get("label_en", "")),
                   label_zh=str(form.get("label_zh", "")), choices_text=str(form.get("choices_text", "")),
                   required=form.get("required") == "1")

    @classmethod
    def of(cls, question: LeadQuestion) -> QuestionInput:
        return cls(kind=question.kind, label_en=question.label_en, label_zh=question.label_zh,
                   choices_text=choices_text(question.choices), required=question.required)


def question_of(exhibitor_id: int, question_id) -> LeadQuestion | None:
    """The exhibitor's question with this id (a form value: anything), or None."""
    ident = parse_id(question_id if isinstance(question_id, str) else str(question_id))
    if ident is None:
        return None
    return db.session.scalar(select(LeadQuestion).where(LeadQuestion.id == ident,
                                                        LeadQuestion.exhibitor_id == exhibitor_id))


def _new_key(exhibitor_id: int, data: QuestionInput) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", (data.label_en or "").lower()).strip("_")[:30]
    if not base or not base[0].isalpha():
        base = "question"
    taken = set(db.session.scalars(select(LeadQuestion.key).where(LeadQuestion.exhibitor_id == exhibitor_id)))
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    return key


def save_question(exhibitor, data: QuestionInput, *, question: LeadQuestion | None = None,
                  actor_id: int) -> LeadQuestion:
    """Add a question or change one (wording, choices, type while nobody answered, required). A choice that
    has answers cannot be removed (its answers would lose their words); its labels can change."""
    errors: dict = {}
    for name in ("label_en", "label_zh", "choices_text"):
        if unstorable(getattr(data, name)):
            errors[name] = str(_l("This text contains characters that cannot be stored."))
    if errors:
        raise QuestionErrors(errors)
    data.label_en = " ".join(data.label_en.split())
    data.label_zh = " ".join(data.label_zh.split())
    if data.kind not in QUESTION_KINDS:
        errors["kind"] = str(_l("Choose a type."))
    if not data.label_en and not data.label_zh:
        errors["label_en"] = str(_l("Give the question in English or Chinese (better: both)."))
    for name in ("label_en", "label_zh"):
        if len(getattr(data, name)) > MAX_LABEL:
            errors[name] = str(_l("At most %(n)d characters.", n=MAX_LABEL))
    choices: list = []
    if data.kind in CHOICE_KINDS:
        if len(data.choices_text) > 20000:
            errors["choices_text"] = str(_l("At most %(n)d choices.", n=MAX_CHOICES))
        else:
            choices, error = parse_choices(data.choices_text)
            if error:
                errors["choices_text"] = error
            elif len(choices) < 2:
                errors["choices_text"] = str(_l("A choice question needs at least two choices, one a line."))
            elif len(choices) > MAX_CHOICES:
                errors["choices_text"] = str(_l("At most %(n)d choices.", n=MAX_CHOICES))
    answered: set = set()
    if question is not None:
        answered = set(db.session.scalars(select(LeadAnswer.value).where(
            LeadAnswer.exhibitor_id == question.exhibitor_id, LeadAnswer.question_key == question.key).distinct()))
        if answered and data.kind != question.kind and "kind" not in errors:
            errors["kind"] = str(_l("Leads have answered this question: its type cannot change any more."))
        elif question.kind in CHOICE_KINDS and data.kind in CHOICE_KINDS and "choices_text" not in errors:
            missing = sorted(answered - {c["value"] for c in choices})
            if missing:
                errors["choices_text"] = str(_l("Leads have chosen “%(values)s”: keep these choices (you may "
                                                "change their words).", values=", ".join(missing)))
    elif db.session.scalar(select(func.count(LeadQuestion.id)).where(
            LeadQuestion.exhibitor_id == exhibitor.id)) >= MAX_QUESTIONS:
        errors["label_en"] = str(_l("At most %(n)d questions.", n=MAX_QUESTIONS))
    if errors:
        raise QuestionErrors(errors)
    if question is None:
        last = db.session.scalar(select(func.max(LeadQuestion.position)).where(
            LeadQuestion.exhibitor_id == exhibitor.id))
        question = LeadQuestion(organizer_id=exhibitor.organizer_id, exhibitor_id=exhibitor.id,
                                key=_new_key(exhibitor.id, data), position=(last or 0) + 1, active=True)
        db.session.add(question)
        action = "lead_question.created"
    else:
        action = "lead_question.updated"
    question.kind = data.kind
    question.label_en, question.label_zh = data.label_en, data.label_zh
    question.choices = choices if data.kind in CHOICE_KINDS else []
    question.required = bool(data.required)
    db.session.flush()
    audit(action, organizer_id=question.organizer_id, user_id=actor_id, obj=question,
          details={"exhibitor_id": question.exhibitor_id, "key": question.key})
    return question


def move_question(question: LeadQuestion, direction: str, *, actor_id: int) -> None:
    if direction not in ("up", "down"):
        raise ServiceError(_l("Move a question up or down."))
    questions = exhibitor_questions(question.exhibitor_id)
    index = next(i for i, q in enumerate(questions) if q.id == question.id)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(questions):
        return
    questions[index], questions[other] = questions[other], questions[index]
    for position, q in enumerate(questions, start=1):
        q.position = position
    audit("lead_question.moved", organizer_id=question.organizer_id, user_id=actor_id, obj=question,
          details={"exhibitor_id": question.exhibitor_id, "key": question.key})


def set_active(question: LeadQuestion, active: bool, *, actor_id: int) -> None:
    """Asked at the booth or not; a deactivated question keeps its answers (the lead page shows them)."""
    if question.active == active:
        return
    question.active = active
    audit("lead_question.activated" if active else "lead_question.deactivated", organizer_id=question.organizer_id,
          user_id=actor_id, obj=question, details={"exhibitor_id": question.exhibitor_id, "key": question.key})


def delete_question(question: LeadQuestion, *, actor_id: int) -> None:
    """Only a question no lead has answered (else: deactivate it, its answers stay)."""
    if db.session.scalar(select(LeadAnswer.id).where(LeadAnswer.exhibitor_id == question.exhibitor_id,
                                                     LeadAnswer.question_key == question.key).limit(1)):
        raise ServiceError(_l("Leads have answered this question: deactivate it instead."))
    audit("lead_question.deleted", organizer_id=question.organizer_id, user_id=actor_id, obj=question,
          details={"exhibitor_id": question.exhibitor_id, "key": question.key})
    db.session.delete(question)
