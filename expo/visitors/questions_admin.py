"""The staff side of the qualification questions: add and change a question (a change of wording makes a
new version), reorder, deactivate, delete one nobody answered — every refusal as a message by form field.
The questions themselves, the public form and the answers live in ``visitors.questions``."""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, cast, func, select

from ..core.services import ServiceError, audit, unstorable
from ..extensions import db
from .questions import (CHOICE_KINDS, CHOICE_PATTERN, KEY_PATTERN, KINDS, MAX_CHOICES, OPERATORS, Question,
                        QuestionVersion, _clean_line, all_questions)

@dataclass
class QuestionInput:
    key: str = ""
    kind: str = "text"
    required: bool = False
    label_en: str = ""
    label_zh: str = ""
    help_en: str = ""
    help_zh: str = ""
    choices_text: str = ""  # one choice a line: "code | English | 中文"
    condition_key: str = ""
    condition_op: str = "equals"
    condition_value: str = ""


class QuestionErrors(ServiceError):
    """Everything wrong with a question as typed, by form field."""

    def __init__(self, errors: dict):
        super().__init__(next(iter(errors.values())), next(iter(errors)))
        self.errors = errors


def parse_choices(text: str) -> tuple[list[dict], str | None]:
    """Choices from lines "code | English | 中文" ("English | 中文" or one label: the code is made from it)."""
    choices, seen = [], set()
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        if len(parts) >= 3:
            code, english, chinese = parts[0], parts[1], " | ".join(parts[2:])
        elif len(parts) == 2:
            english, chinese = parts
            code = _code_from(english or chinese, len(choices) + 1)
        else:
            english, chinese = parts[0], ""
            code = _code_from(english, len(choices) + 1)
        code = code.lower()
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
    if len(choices) > MAX_CHOICES:
        return [], str(_l("At most %(n)d choices.", n=MAX_CHOICES))
    return choices, None


def _code_from(label: str, number: int) -> str:
    code = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:40]
    return code if code and code[0].isalnum() else f"choice_{number}"


def choices_text(choices: list) -> str:
    return "\n".join(f"{c.get('value')} | {c.get('en', '')} | {c.get('zh', '')}" for c in choices or [])


def _validate(edition, data: QuestionInput, question: Question | None) -> tuple[dict, list]:
    errors: dict = {}
    texts = {name: getattr(data, name) or "" for name in ("key", "label_en", "label_zh", "help_en", "help_zh",
                                                           "choices_text", "condition_value")}
    for name, value in texts.items():
        if unstorable(value):
            errors[name] = str(_l("This text contains characters that cannot be stored."))
    if errors:
        return errors, []
    for name in ("label_en", "label_zh"):
        setattr(data, name, _clean_line(getattr(data, name) or ""))
    data.help_en, data.help_zh = _clean_line(data.help_en or ""), _clean_line(data.help_zh or "")
    if question is None:
        data.key = (data.key or "").strip().lower()
        if not KEY_PATTERN.match(data.key):
            errors["key"] = str(_l("A short code of small letters, digits and _, starting with a letter "
                                   "(e.g. purchase_authority)."))
        elif db.session.scalar(select(Question.id).where(Question.edition_id == edition.id, Question.key == data.key)):
            errors["key"] = str(_l("Another question of this edition has this code."))
    if data.kind not in KINDS:
        errors["kind"] = str(_l("Choose a type."))
    if not data.label_en and not data.label_zh:
        errors["label_en"] = str(_l("Give the question in English or Chinese (better: both)."))
    for name, limit in (("label_en", 300), ("label_zh", 300), ("help_en", 500), ("help_zh", 500)):
        if len(getattr(data, name)) > limit:
            errors[name] = str(_l("At most %(n)d characters.", n=limit))
    choices: list = []
    if data.kind in CHOICE_KINDS:
        choices, error = parse_choices(data.choices_text)
        if error:
            errors["choices_text"] = error
        elif len(choices) < 2:
            errors["choices_text"] = str(_l("A choice question needs at least two choices, one a line."))
    key = question.key if question is not None else data.key
    condition_key = (data.condition_key or "").strip()
    if condition_key:
        others = all_questions(edition)
        by_key = {q.key: q for q in others}
        target = by_key.get(condition_key)
        own_position = question.position if question is not None else (max((q.position for q in others),
                                                                           default=0) + 1)
        if condition_key == key:
            errors["condition_key"] = str(_l("A question cannot depend on itself."))
        elif target is None:
            errors["condition_key"] = str(_l("There is no question with this code."))
        elif (target.position, target.id) >= (own_position, question.id if question is not None else 10**12):
            errors["condition_key"] = str(_l("A question can only depend on a question asked before it."))
        elif _depends_on(by_key, condition_key, key):
            errors["condition_key"] = str(_l("This would make a loop: that question depends on this one."))
        elif not target.active:
            errors["condition_key"] = str(_l("That question is deactivated."))
        if data.condition_op not in OPERATORS:
            errors["condition_op"] = str(_l("Choose how to compare."))
        value = (data.condition_value or "").strip()
        if not value:
            errors["condition_value"] = str(_l("Give the answer that shows this question."))
        elif len(value) > 200:
            errors["condition_value"] = str(_l("At most %(n)d characters.", n=200))
        elif target is not None and target.kind in CHOICE_KINDS + ("yes_no",) and "condition_key" not in errors:
            allowed = [c["value"] for c in target.choices or []] if target.kind in CHOICE_KINDS else ["yes", "no"]
            if value not in allowed:
                errors["condition_value"] = str(_l("Use one of the codes of that question: %(codes)s.",
                                                   codes=", ".join(allowed)))
    return errors, choices


def _depends_on(by_key: dict, start: str, key: str) -> bool:
    """Does question ``start`` (through its chain of conditions) depend on ``key``?"""
    seen = set()
    current = by_key.get(start)
    while current is not None and current.condition_key and current.key not in seen:
        seen.add(current.key)
        if current.condition_key == key:
            return True
        current = by_key.get(current.condition_key)
    return False


def save_question(edition, data: QuestionInput, *, question: Question | None = None,
                  actor_id: int | None = None) -> Question:
    """Add a question, or change one. A change of wording (labels, help, choices, type) makes a new version;
    answers keep the version they answered. Raises QuestionErrors (by field) on bad input. Audited."""
    errors, choices = _validate(edition, data, question)
    if errors:
        raise QuestionErrors(errors)
    condition = ((data.condition_key.strip(), data.condition_op, data.condition_value.strip())
                 if (data.condition_key or "").strip() else (None, None, None))
    if question is None:
        position = (db.session.scalar(select(func.max(Question.position)).where(Question.edition_id == edition.id))
                    or 0) + 1
        question = Question(organizer_id=edition.organizer_id, edition_id=edition.id, key=data.key,
                            position=position, kind=data.kind, version=1, choices=choices)
        db.session.add(question)
        new, reworded = True, True
    else:
        new = False
        reworded = (question.kind, question.label_en, question.label_zh, question.help_en, question.help_zh,
                    question.choices or []) != (data.kind, data.label_en, data.label_zh, data.help_en, data.help_zh,
                                                choices)
        if reworded:
            question.version += 1
    question.kind, question.required = data.kind, bool(data.required)
    question.label_en, question.label_zh, question.help_en, question.help_zh = (
        data.label_en, data.label_zh, data.help_en, data.help_zh)
    question.choices = choices
    question.condition_key, question.condition_op, question.condition_value = condition
    db.session.flush()
    if reworded:
        db.session.add(QuestionVersion(organizer_id=question.organizer_id, question_id=question.id,
                                       version=question.version, kind=question.kind, label_en=question.label_en,
                                       label_zh=question.label_zh, help_en=question.help_en, help_zh=question.help_zh,
                                       choices=choices, created_by_id=actor_id))
        db.session.flush()
    audit("question.created" if new else "question.changed", organizer_id=edition.organizer_id, user_id=actor_id,
          obj=question, details={"key": question.key, "version": question.version,
                                 "required": question.required, "condition": question.condition_key or ""})
    return question


def _dependents(question: Question) -> list[Question]:
    return list(db.session.scalars(select(Question).where(Question.edition_id == question.edition_id,
                                                          Question.condition_key == question.key,
                                                          Question.active.is_(True))))


def move_question(question: Question, direction: str, *, actor_id: int | None = None) -> None:
    """Swap a question with its neighbour ("up" or "down"); refused when a condition would then point at a
    later question."""
    questions = all_questions(question.edition_id)
    for n, q in enumerate(questions):  # positions 1..n, whatever they were
        q.position = n + 1
    index = questions.index(question)
    other_index = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other_index < len(questions):
        return
    other = questions[other_index]
    first, second = (other, question) if direction == "up" else (question, other)
    if second.condition_key == first.key:
        raise ServiceError(_l("“%(q)s” depends on “%(other)s”: it must stay after it.",
                              q=second.label_en or second.label_zh, other=first.label_en or first.label_zh))
    question.position, other.position = other.position, question.position
    db.session.flush()
    audit("question.moved", organizer_id=question.organizer_id, user_id=actor_id, obj=question,
          details={"key": question.key, "position": question.position})


def set_active(question: Question, active: bool, *, actor_id: int | None = None) -> None:
    """Deactivate a question (the form stops asking it; its answers stay) or bring it back."""
    if not active:
        dependents = _dependents(question)
        if dependents:
            raise ServiceError(_l("Other questions are shown depending on this one (%(keys)s): change or "
                                  "deactivate them first.", keys=", ".join(q.key for q in dependents)))
    elif question.condition_key:
        target = db.session.scalar(select(Question).where(Question.edition_id == question.edition_id,
                                                          Question.key == question.condition_key))
        if target is None or not target.active:
            raise ServiceError(_l("This question depends on a deactivated question: activate that one first."))
    if question.active == active:
        return
    question.active = active
    audit("question.activated" if active else "question.deactivated", organizer_id=question.organizer_id,
          user_id=actor_id, obj=question, details={"key": question.key})


def answer_count(question: Question) -> int:
    """How many registrations answered this question (any version)."""
    from .models import Registration

    needle = f'%"{question.key}"%'
    count = 0
    for answers in db.session.scalars(select(Registration.answers).where(
            Registration.edition_id == question.edition_id, cast(Registration.answers, String).like(needle))):
        if isinstance(answers, dict) and question.key in answers:
            count += 1
    return count


def answer_counts(edition) -> dict[str, int]:
    """How many registrations of the edition answered each question (by key), in one pass."""
    from .models import Registration

    counts: dict[str, int] = {}
    for answers in db.session.scalars(select(Registration.answers).where(Registration.edition_id == edition.id)):
        for key in answers or {}:
            counts[key] = counts.get(key, 0) + 1
    return counts


def delete_question(question: Question, *, actor_id: int | None = None) -> None:
    """Remove a question nobody answered (a typo caught in time); one with answers can only be deactivated."""
    if answer_count(question):
        raise ServiceError(_l("This question has answers: deactivate it instead (its answers stay)."))
    if _dependents(question):
        raise ServiceError(_l("Other questions are shown depending on this one: change them first."))
    from .rules import rules_using

    if rules_using(question):
        raise ServiceError(_l("A category rule uses this question: change the rule first."))
    audit("question.deleted", organizer_id=question.organizer_id, user_id=actor_id, obj=question,
          details={"key": question.key})
    db.session.delete(question)
    db.session.flush()


def question_in_edition(edition, question_id) -> Question | None:
    try:
        question_id = int(question_id)
    except (TypeError, ValueError):
        return None
    if not 0 < question_id < 2**31:
        return None
    return db.session.scalar(select(Question).where(Question.id == question_id, Question.edition_id == edition.id,
                                                    Question.organizer_id == edition.organizer_id))


def form_input(form_data) -> QuestionInput:
    """The staff form's fields as a QuestionInput (strings only; nothing checked yet)."""
    def text(name):
        value = form_data.get(name, "")
        return value if isinstance(value, str) else ""
    return QuestionInput(key=text("key"), kind=text("kind") or "text", required=bool(form_data.get("required")),
                         label_en=text("label_en"), label_zh=text("label_zh"), help_en=text("help_en"),
                         help_zh=text("help_zh"), choices_text=text("choices_text"),
                         condition_key=text("condition_key"), condition_op=text("condition_op") or "equals",
                         condition_value=text("condition_value"))


def question_input(question: Question) -> QuestionInput:
    return QuestionInput(key=question.key, kind=question.kind, required=question.required,
                         label_en=question.label_en, label_zh=question.label_zh, help_en=question.help_en,
                         help_zh=question.help_zh, choices_text=choices_text(question.choices),
                         condition_key=question.condition_key or "", condition_op=question.condition_op or "equals",
                         condition_value=question.condition_value or "")
