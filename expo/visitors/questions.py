"""Qualification questions of an edition's registration form: typed, required or not, shown only when an
earlier answer matches, worded in English and Chinese, and versioned.

A question's wording (labels, help, choices, type) has versions: editing it makes a new version and keeps
the old one, and an answer stores the version it answered (``Registration.answers`` =
``{"purchase_authority": {"v": 2, "value": "decides"}}``), so an old answer is always shown with the words
the visitor read. Answers stored before questions had versions (a plain value under the key) stay readable
and are shown with the question's current wording.

Plain functions, no request: the form view hands ``read_answers`` the posted form data. Adding, changing,
reordering and deactivating questions (staff) is ``visitors.questions_admin``.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from babel import Locale
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import UTCDateTime, utcnow
from ..core.services import unstorable
from ..extensions import db

KINDS = {
    "text": _l("Text"), "single": _l("Single choice"), "multi": _l("Multiple choice"), "country": _l("Country"),
    "yes_no": _l("Yes / no"), "number": _l("Number"), "date": _l("Date"),
}
CHOICE_KINDS = ("single", "multi")
OPERATORS = {"equals": _l("equals"), "contains": _l("contains")}
KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
CHOICE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_TEXT = 500
MAX_CHOICES = 60
MAX_NUMBER = Decimal(10) ** 12  # answers beyond a trillion are typing errors, not trade data
DATE_RANGE = (date(1900, 1, 1), date(2100, 12, 31))
FIELD_PREFIX = "q_"  # the form field of question "budget" is "q_budget"


def _check(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Question(db.Model):
    """The current version of a question of an edition's form; older wordings are ``QuestionVersion`` rows."""

    __tablename__ = "registration_questions"
    __table_args__ = (
        UniqueConstraint("edition_id", "key"),
        CheckConstraint(_check("kind", KINDS), name="valid_kind"),
        CheckConstraint("version >= 1", name="positive_version"),
        CheckConstraint("condition_op IS NULL OR " + _check("condition_op", OPERATORS), name="valid_condition_op"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))  # indexed by (edition_id, key)
    key: Mapped[str] = mapped_column(String(40))  # the answer's key; never changes once created
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    required: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    version: Mapped[int] = mapped_column(default=1)
    label_en: Mapped[str] = mapped_column(String(300), default="")
    label_zh: Mapped[str] = mapped_column(String(300), default="")
    help_en: Mapped[str] = mapped_column(String(500), default="")
    help_zh: Mapped[str] = mapped_column(String(500), default="")
    # [{"value": "decides", "en": "I decide", "zh": "我决定"}, …] for single and multiple choice
    choices: Mapped[list] = mapped_column(JSON, default=list)
    # Shown only when the answer to the earlier question ``condition_key`` equals / contains ``condition_value``.
    condition_key: Mapped[str | None] = mapped_column(String(40))
    condition_op: Mapped[str | None] = mapped_column(String(10))
    condition_value: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def field_name(self) -> str:
        return FIELD_PREFIX + self.key

    @property
    def kind_label(self) -> str:
        return str(KINDS.get(self.kind, self.kind))

    def wording(self) -> "Wording":
        return Wording(self.version, self.kind, self.label_en, self.label_zh, self.help_en, self.help_zh,
                       list(self.choices or []))


class QuestionVersion(db.Model):
    """A question's wording as it was in one version (the current one included)."""

    __tablename__ = "registration_question_versions"
    __table_args__ = (
        UniqueConstraint("question_id", "version"),
        CheckConstraint(_check("kind", KINDS), name="valid_kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("registration_questions.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20))
    label_en: Mapped[str] = mapped_column(String(300), default="")
    label_zh: Mapped[str] = mapped_column(String(300), default="")
    help_en: Mapped[str] = mapped_column(String(500), default="")
    help_zh: Mapped[str] = mapped_column(String(500), default="")
    choices: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    def wording(self) -> "Wording":
        return Wording(self.version, self.kind, self.label_en, self.label_zh, self.help_en, self.help_zh,
                       list(self.choices or []))


# --- words in the visitor's language ---------------------------------------------------------------

def in_language(english: str, chinese: str, locale: str | None) -> str:
    """The text in the visitor's language, else in the other one."""
    if (locale or "").lower().startswith("zh"):
        return chinese or english
    return english or chinese


@dataclass(frozen=True)
class Wording:
    version: int
    kind: str
    label_en: str
    label_zh: str
    help_en: str
    help_zh: str
    choices: list

    def label(self, locale) -> str:
        return in_language(self.label_en, self.label_zh, locale)

    def help(self, locale) -> str:
        return in_language(self.help_en, self.help_zh, locale)

    def choice_label(self, value, locale) -> str:
        for choice in self.choices:
            if choice.get("value") == value:
                return in_language(choice.get("en", ""), choice.get("zh", ""), locale) or str(value)
        return str(value)

    def display(self, value, locale) -> str:
        """An answer as words: choice labels, the country's name, yes/no."""
        if value is None or value == "" or value == []:
            return ""
        if self.kind in CHOICE_KINDS:
            values = value if isinstance(value, list) else [value]
            return ", ".join(self.choice_label(v, locale) for v in values)
        if self.kind == "country":
            return country_label(str(value), locale)
        if self.kind == "yes_no":
            return _yes_no(locale)[0 if value in ("yes", True) else 1]
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)


def _yes_no(locale: str | None) -> tuple[str, str]:
    """"Yes" and "No" in the language asked for (the staff preview shows the other language's form)."""
    if not locale:
        return str(_l("Yes")), str(_l("No"))
    with force_locale(locale):
        return str(_l("Yes")), str(_l("No"))


# --- countries -----------------------------------------------------------------------------------

def _babel_locale(locale: str | None) -> Locale:
    return Locale.parse("zh_Hans_CN" if (locale or "").lower().startswith("zh") else "en")


def country_choices(locale: str | None) -> list[tuple[str, str]]:
    """(ISO code, name) of every country, by name in the visitor's language."""
    names = _babel_locale(locale).territories
    pairs = [(code, name) for code, name in names.items() if len(code) == 2 and code.isalpha() and code != "ZZ"]
    return sorted(pairs, key=lambda pair: pair[1])


def country_label(code: str, locale: str | None) -> str:
    return _babel_locale(locale).territories.get(code.upper(), code) if code else ""


_COUNTRY_CODES = frozenset(code for code in Locale.parse("en").territories if len(code) == 2 and code.isalpha()
                           and code != "ZZ")


# --- reading the form ------------------------------------------------------------------------------

def active_questions(edition) -> list[Question]:
    """The questions the public form asks, in their order."""
    return list(db.session.scalars(select(Question).where(Question.edition_id == edition.id,
                                                          Question.active.is_(True))
                                   .order_by(Question.position, Question.id)))


def all_questions(edition) -> list[Question]:
    """Every question of the edition (an Edition or its id), deactivated ones too, in their order."""
    edition_id = edition if isinstance(edition, int) else edition.id
    return list(db.session.scalars(select(Question).where(Question.edition_id == edition_id)
                                   .order_by(Question.position, Question.id)))


def plain_value(stored):
    """The value of a stored answer, versioned (``{"v": 2, "value": …}``) or from before versions (the value)."""
    if isinstance(stored, dict) and "value" in stored:
        return stored["value"]
    return stored


def condition_holds(op: str | None, expected: str | None, value) -> bool:
    """Does an answer match a condition ("equals" / "contains" a value)? A missing answer never matches."""
    if value is None or value == "" or value == []:
        return False
    expected = (expected or "").strip()
    if isinstance(value, bool):
        value = "yes" if value else "no"
    if op == "contains":
        if isinstance(value, list):
            return expected in [str(v) for v in value]
        return expected.casefold() in str(value).casefold()
    if isinstance(value, list):
        return [str(v) for v in value] == [expected]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return Decimal(str(value)) == Decimal(expected)
        except InvalidOperation:
            return False
    return str(value).casefold() == expected.casefold()


def shown_keys(questions: list[Question], values: dict) -> set[str]:
    """The keys of the questions shown for these answers (``values``: key -> plain value): a question with a
    condition is shown only when the earlier question it depends on is shown and its answer matches."""
    shown: set[str] = set()
    for question in questions:
        if question.condition_key:
            if question.condition_key not in shown:
                continue
            if not condition_holds(question.condition_op, question.condition_value,
                                   values.get(question.condition_key)):
                continue
        shown.add(question.key)
    return shown


def _getlist(form_data, name: str) -> list[str]:
    if hasattr(form_data, "getlist"):
        return [v for v in form_data.getlist(name) if isinstance(v, str)]
    value = form_data.get(name) if form_data else None
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def _clean_line(text: str) -> str:
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    return re.sub(r"\s+", " ", text).strip()


def _parse(question: Question, raw: list[str]):
    """(value, error) of one question's posted value; value None when unanswered."""
    if any(unstorable(v) for v in raw):
        return None, _l("This text contains characters that cannot be stored.")
    kind = question.kind
    if kind == "multi":
        values = list(dict.fromkeys(v.strip() for v in raw if v.strip()))
        allowed = [c.get("value") for c in question.choices or []]
        if any(v not in allowed for v in values):
            return None, _l("Choose among the options given.")
        return ([v for v in allowed if v in values] or None), None
    text = _clean_line(raw[0]) if raw else ""
    if not text:
        return None, None
    if kind == "text":
        if len(text) > MAX_TEXT:
            return None, _l("At most %(n)d characters.", n=MAX_TEXT)
        return text, None
    if kind == "single":
        if text not in [c.get("value") for c in question.choices or []]:
            return None, _l("Choose among the options given.")
        return text, None
    if kind == "country":
        code = text.upper()
        if code not in _COUNTRY_CODES:
            return None, _l("Choose a country from the list.")
        return code, None
    if kind == "yes_no":
        if text not in ("yes", "no"):
            return None, _l("Answer yes or no.")
        return text, None
    if kind == "number":
        try:
            number = Decimal(text.replace(",", "").replace(" ", "").replace("\u00a0", ""))
        except (InvalidOperation, ValueError):
            return None, _l("Enter a number.")
        if not number.is_finite() or number.adjusted() > 13 or abs(number) > MAX_NUMBER:
            return None, _l("Enter a number between -1,000,000,000,000 and 1,000,000,000,000.")
        number = number.quantize(Decimal("0.0001")) if number != number.to_integral_value() else number
        value = int(number) if number == number.to_integral_value() else float(number)
        if isinstance(value, float) and not math.isfinite(value):
            return None, _l("Enter a number.")
        return value, None
    if kind == "date":
        try:
            day = date.fromisoformat(text)
        except ValueError:
            return None, _l("Enter a date as YYYY-MM-DD.")
        if not DATE_RANGE[0] <= day <= DATE_RANGE[1]:
            return None, _l("Enter a date between 1900 and 2100.")
        return day.isoformat(), None
    return None, _l("This question cannot be answered.")


def read_answers(edition, form_data, questions: list[Question] | None = None) -> tuple[dict, dict]:
    """The answers posted to the edition's active questions, checked: (answers to store, errors by form field).

    A question hidden by its condition is not asked: its value is dropped and its required flag does not
    apply, whatever the browser sent. Stored answers carry the version of the question they answer."""
    questions = active_questions(edition) if questions is None else questions
    values: dict = {}
    errors: dict = {}
    for question in questions:
        value, error = _parse(question, _getlist(form_data, question.field_name))
        if error:
            errors[question.field_name] = str(error)
        values[question.key] = value
    shown = shown_keys(questions, values)
    answers = {}
    for question in questions:
        if question.key not in shown:
            errors.pop(question.field_name, None)
            continue
        value = values[question.key]
        if value is None:
            if question.required and question.field_name not in errors:
                errors[question.field_name] = str(_l("Please answer this question."))
            continue
        answers[question.key] = {"v": question.version, "value": value}
    return answers, errors


# --- the public form ---------------------------------------------------------------------------------

@dataclass
class FormQuestion:
    """What the template needs to render one question in the visitor's language."""

    question: Question
    name: str
    label: str
    help: str
    kind: str
    required: bool
    options: list = field(default_factory=list)  # (value, label)
    values: list = field(default_factory=list)  # what was posted (to show it again)
    error: str | None = None
    condition: dict | None = None  # {"field": "q_x", "op": "equals", "value": "…"}

    @property
    def value(self) -> str:
        return self.values[0] if self.values else ""


def form_questions(edition, locale: str | None, form_data=None, errors: dict | None = None,
                   questions: list[Question] | None = None) -> list[FormQuestion]:
    questions = active_questions(edition) if questions is None else questions
    errors = errors or {}
    kinds = {q.key: q.kind for q in questions}  # a condition compares numbers as numbers (the browser too)
    fields = []
    for q in questions:
        wording = q.wording()
        if q.kind in CHOICE_KINDS:
            options = [(c["value"], wording.choice_label(c["value"], locale)) for c in q.choices or []]
        elif q.kind == "country":
            options = country_choices(locale)
        elif q.kind == "yes_no":
            options = list(zip(("yes", "no"), _yes_no(locale)))
        else:
            options = []
        condition = ({"field": FIELD_PREFIX + q.condition_key, "op": q.condition_op or "equals",
                      "value": q.condition_value or "", "kind": kinds.get(q.condition_key, "")}
                     if q.condition_key else None)
        fields.append(FormQuestion(q, q.field_name, wording.label(locale), wording.help(locale), q.kind, q.required,
                                   options, _getlist(form_data, q.field_name) if form_data is not None else [],
                                   errors.get(q.field_name), condition))
    return fields


# --- answers as words (staff page, confirmation, exports) --------------------------------------------

@dataclass(frozen=True)
class AnswerRow:
    key: str
    label: str
    text: str
    version: int | None  # None: an answer stored before versions
    current_version: int | None  # the question's version now (None: no such question any more)

    @property
    def outdated(self) -> bool:
        return self.version is not None and self.current_version is not None and self.version != self.current_version


def wordings(edition_ids) -> dict:
    """{(edition_id, key): {"current": Question, version: Wording}} for the questions of these editions."""
    edition_ids = list(set(edition_ids))
    if not edition_ids:
        return {}
    out: dict = {}
    questions = {q.id: q for q in db.session.scalars(select(Question).where(Question.edition_id.in_(edition_ids)))}
    for q in questions.values():
        out[(q.edition_id, q.key)] = {"current": q, q.version: q.wording()}
    if questions:
        for v in db.session.scalars(select(QuestionVersion).where(QuestionVersion.question_id.in_(list(questions)))):
            q = questions[v.question_id]
            out[(q.edition_id, q.key)].setdefault(v.version, v.wording())
    return out


def answer_rows(registration, locale: str | None, known: dict | None = None) -> list[AnswerRow]:
    """A registration's answers, each with the wording of the version it answered, in question order
    (answers to questions that no longer exist last, under their key)."""
    return answers_as_rows(registration.edition_id, registration.answers, locale, known)


def answers_as_rows(edition_id: int, answers: dict | None, locale: str | None,
                    known: dict | None = None) -> list[AnswerRow]:
    known = wordings([edition_id]) if known is None else known
    rows = []
    for key, stored in (answers or {}).items():
        value = plain_value(stored)
        version = stored.get("v") if isinstance(stored, dict) and "value" in stored else None
        entry = known.get((edition_id, key))
        if entry is None:
            rows.append((10**9, AnswerRow(key, key, _as_text(value), version, None)))
            continue
        current = entry["current"]
        wording = entry.get(version) or current.wording()
        rows.append((current.position, AnswerRow(key, wording.label(locale) or key, wording.display(value, locale),
                                                 version, current.version)))
    return [row for _position, row in sorted(rows, key=lambda pair: pair[0])]


def _as_text(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def export_columns(edition, locale: str | None) -> tuple[list[Question], list[str]]:
    """The edition's questions (inactive ones too: old answers stay exportable) and their column titles."""
    questions = all_questions(edition)
    return questions, [q.wording().label(locale) or q.key for q in questions]


def export_values(registration, questions: list[Question], known: dict, locale: str | None) -> list[str]:
    values = []
    for q in questions:
        stored = (registration.answers or {}).get(q.key)
        if stored is None:
            values.append("")
            continue
        version = stored.get("v") if isinstance(stored, dict) and "value" in stored else None
        wording = known.get((q.edition_id, q.key), {}).get(version) or q.wording()
        values.append(wording.display(plain_value(stored), locale))
    return values


def export_part(edition):
    """The export's extra columns: who decided the category, then one column per question of the edition
    (in the language of the request), and a function giving a registration's values for them."""
    from .rules import decided_by

    try:
        from ..core.templating import current_language

        locale = current_language()
    except Exception:  # outside a request (a task): English
        locale = "en"
    asked, titles = export_columns(edition, locale)
    known = wordings([edition.id])

    def values(registration) -> list:
        return [decided_by(registration)] + export_values(registration, asked, known, locale)

    return [str(_l("Category decided by"))] + titles, values


def keep_unasked(previous: dict | None, answers: dict, asked: list[Question]) -> dict:
    """New answers from a form, plus the earlier answers to questions the form no longer asks (deactivated or
    removed): re-answering the form never erases what the visitor said to a question now retired."""
    asked_keys = {q.key for q in asked}
    kept = {key: value for key, value in (previous or {}).items() if key not in asked_keys}
    return {**kept, **answers}


# The staff side (add, change, reorder, deactivate) lives in questions_admin; its names stay reachable from
# here (``questions.save_question``), imported when first asked for (no import cycle between the two files).
_ADMIN_NAMES = frozenset({
    "QuestionInput", "QuestionErrors", "parse_choices", "choices_text", "save_question", "move_question",
    "set_active", "answer_count", "answer_counts", "delete_question", "question_in_edition", "form_input",
    "question_input"})


def __getattr__(name):
    if name in _ADMIN_NAMES:
        from . import questions_admin

        return getattr(questions_admin, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
