"""The exhibitor manual (issue 8): services, no request state.

The organizer writes the edition's manual (sections) and defines forms (fields: text, number, choice,
yes/no), each with a deadline (the last day, in the edition's time zone), mandatory or not. Every exhibitor
taking part in the edition (contracted, paid, exhibited) sees a checklist: done, due in N days, late. An
exhibitor fills in and submits a form; the answers stay editable until the deadline, then are locked unless
the organizer reopens them. Reminders go by mail to the exhibitor admins who have not submitted, ``remind_days``
before the deadline, once per form and exhibitor (``send_due_reminders``, Celery beat). The organizer sees who is
late per form and exports the answers (CSV).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..core import activity
from ..core.db import insert_unless_exists, take_write_lock, utcnow
from ..core.models import Edition, User
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, move_status, queue_mail, unstorable
from ..core.tabular import csv_text
from ..extensions import db
from .manual_models import (
    FIELD_TYPES, MANUAL_SUBMISSION_STATUS, ManualForm, ManualReminder, ManualSection, ManualSubmission,
)
from .models import PARTICIPATING_STATUSES, Company, Exhibitor

TITLE_MAX = 200
DESCRIPTION_MAX = 5000
BODY_MAX = 20000
LABEL_MAX = 200
ANSWER_MAX = 2000
CHOICES_MAX = 30
FIELDS_MAX = 40
NUMBER_MAX = Decimal("1e12")
REMIND_DAYS_DEFAULT = 7


class AnswersInvalid(ServiceError):
    """Some answers of a form are wrong: ``errors`` maps each field's key to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(_l("Please check the answers marked below."))
        self.errors = errors


def _line(text, name: str, limit: int, *, required: bool = False, message=None) -> str:
    """One line of text from a form, cleaned (control characters out, spaces collapsed), checked."""
    text = text if isinstance(text, str) else ""
    if unstorable(text):
        raise ServiceError(_l("This text contains characters that cannot be stored."), name)
    text = re.sub(r"\s+", " ", "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)).strip()
    if required and not text:
        raise ServiceError(message or _l("This field is required."), name)
    if len(text) > limit:
        raise ServiceError(_l("At most %(max)s characters.", max=limit), name)
    return text


def _block(text, name: str, limit: int) -> str:
    """Free text over several lines (descriptions, the manual's sections)."""
    text = text if isinstance(text, str) else ""
    if unstorable(text):
        raise ServiceError(_l("This text contains characters that cannot be stored."), name)
    text = "".join(c for c in text.replace("\r\n", "\n") if c in "\n\t" or not unicodedata.category(c).startswith("C"))
    text = text.strip()
    if len(text) > limit:
        raise ServiceError(_l("At most %(max)s characters.", max=limit), name)
    return text


# --- time ------------------------------------------------------------------------------------------------

def _zone(edition: Edition) -> ZoneInfo:
    try:
        return ZoneInfo(edition.timezone or "UTC")
    except Exception:  # an unknown zone name: UTC rather than a failing page
        return ZoneInfo("UTC")


def deadline_moment(form: ManualForm, edition: Edition) -> datetime:
    """The end of the deadline day in the edition's time zone, in UTC."""
    local = datetime.combine(form.deadline + timedelta(days=1), time(0, 0), tzinfo=_zone(edition))
    return local.astimezone(timezone.utc)


def local_today(edition: Edition, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(_zone(edition)).date()


# --- the manual's sections -----------------------------------------------------------------------------------

def sections(scope: Scope, edition: Edition) -> list[ManualSection]:
    return list(db.session.scalars(scoped(ManualSection, Scope(scope.organizer_id))
                                   .where(ManualSection.edition_id == edition.id)
                                   .order_by(ManualSection.position, ManualSection.id)))


def add_section(scope: Scope, edition: Edition, title, body, *, actor_id: int | None = None) -> ManualSection:
    title = _line(title, "title", TITLE_MAX, required=True, message=_l("A section needs a title."))
    body = _block(body, "body", BODY_MAX)
    last = db.session.scalar(scoped(ManualSection, scope, func.max(ManualSection.position))
                             .where(ManualSection.edition_id == edition.id))
    section = ManualSection(organizer_id=scope.organizer_id, edition_id=edition.id, title=title, body=body,
                            position=(last or 0) + 1)
    db.session.add(section)
    db.session.flush()
    audit("manual.section_added", organizer_id=scope.organizer_id, user_id=actor_id, obj=section,
          details={"title": title})
    return section


def delete_section(section: ManualSection, *, actor_id: int | None = None) -> None:
    audit("manual.section_deleted", organizer_id=section.organizer_id, user_id=actor_id, obj=section,
          details={"title": section.title})
    db.session.delete(section)
    db.session.flush()


# --- forms ---------------------------------------------------------------------------------------------------

@dataclass
class FormData:
    title: str
    deadline: date | None
    description: str = ""
    mandatory: bool = True
    remind_days: int | None = REMIND_DAYS_DEFAULT


def _checked(data: FormData) -> dict:
    title = _line(data.title, "title", TITLE_MAX, required=True, message=_l("A form needs a title."))
    if not isinstance(data.deadline, date):
        raise ServiceError(_l("Give the deadline."), "deadline")
    if not date(2000, 1, 1) <= data.deadline <= date(2200, 12, 31):
        raise ServiceError(_l("Give a real date."), "deadline")
    remind = REMIND_DAYS_DEFAULT if data.remind_days is None else data.remind_days
    if not isinstance(remind, int) or not 0 <= remind <= 90:
        raise ServiceError(_l("Between 0 and 90 days."), "remind_days")
    return {"title": title, "deadline": data.deadline, "description": _block(data.description, "description",
                                                                              DESCRIPTION_MAX),
            "mandatory": bool(data.mandatory), "remind_days": remind}


def forms(scope: Scope, edition: Edition) -> list[ManualForm]:
    """The edition's forms, the nearest deadline first (exhibitor staff read them too: organizer scope)."""
    return list(db.session.scalars(scoped(ManualForm, Scope(scope.organizer_id))
                                   .where(ManualForm.edition_id == edition.id)
                                   .order_by(ManualForm.deadline, ManualForm.id)))


def get_form(scope: Scope, edition_id: int, form_id: int) -> ManualForm | None:
    return db.session.scalar(scoped(ManualForm, Scope(scope.organizer_id))
                             .where(ManualForm.id == form_id, ManualForm.edition_id == edition_id))


def create_form(scope: Scope, edition: Edition, data: FormData, *, fields: list | None = None,
                actor_id: int | None = None) -> ManualForm:
    if edition.organizer_id != scope.organizer_id:
        raise ServiceError(_l("No such edition."))
    values = _checked(data)
    form = ManualForm(organizer_id=scope.organizer_id, edition_id=edition.id, fields=[], **values)
    db.session.add(form)
    db.session.flush()
    for spec in fields or ():
        add_field(form, **spec)
    audit("manual.form_created", organizer_id=scope.organizer_id, user_id=actor_id, obj=form,
          details={"title": form.title, "deadline": form.deadline.isoformat()})
    return form


def update_form(form: ManualForm, data: FormData, *, actor_id: int | None = None) -> list[str]:
    values = _checked(data)
    changed = [key for key, value in values.items() if getattr(form, key) != value]
    for key in changed:
        setattr(form, key, values[key])
    if changed:
        form.updated_at = utcnow()
        audit("manual.form_changed", organizer_id=form.organizer_id, user_id=actor_id, obj=form,
              details={"fields": changed, "deadline": form.deadline.isoformat()})
    db.session.flush()
    return changed


def delete_form(form: ManualForm, *, actor_id: int | None = None) -> None:
    audit("manual.form_deleted", organizer_id=form.organizer_id, user_id=actor_id, obj=form,
          details={"title": form.title})
    for model in (ManualSubmission, ManualReminder):
        for row in db.session.scalars(select(model).where(model.form_id == form.id)):
            db.session.delete(row)
    db.session.flush()
    db.session.delete(form)
    db.session.flush()


def add_field(form: ManualForm, label, type="text", choices="", required=False, *,
              actor_id: int | None = None) -> dict:
    """A new field at the end of the form. ``choices``: one per line (or a list), for a choice field."""
    label = _line(label, "label", LABEL_MAX, required=True, message=_l("A field needs a label."))
    if type not in FIELD_TYPES:
        raise ServiceError(_l("Choose a kind of field."), "type")
    options = []
    if type == "choice":
        raw = choices if isinstance(choices, (list, tuple)) else (choices or "").splitlines() \
            if isinstance(choices, str) else []
        for item in raw:
            item = _line(item, "choices", LABEL_MAX)
            if item and item not in options:
                options.append(item)
        if len(options) < 2:
            raise ServiceError(_l("A choice needs at least two options, one per line."), "choices")
        if len(options) > CHOICES_MAX:
            raise ServiceError(_l("At most %(max)s options.", max=CHOICES_MAX), "choices")
    existing = list(form.fields or [])
    if len(existing) >= FIELDS_MAX:
        raise ServiceError(_l("At most %(max)s fields in a form.", max=FIELDS_MAX), "label")
    number = max([int(f["key"][1:]) for f in existing if str(f.get("key", "")).startswith("f")] or [0]) + 1
    spec = {"key": f"f{number}", "label": label, "type": type, "choices": options, "required": bool(required)}
    form.fields = [*existing, spec]  # a new list: the JSON column sees the change
    form.updated_at = utcnow()
    db.session.flush()
    if actor_id is not None:
        audit("manual.form_changed", organizer_id=form.organizer_id, user_id=actor_id, obj=form,
              details={"added_field": label})
    return spec


def remove_field(form: ManualForm, key: str, *, actor_id: int | None = None) -> None:
    kept = [f for f in form.fields or [] if f.get("key") != key]
    if len(kept) == len(form.fields or []):
        raise ServiceError(_l("No such field."), "key")
    form.fields = kept
    form.updated_at = utcnow()
    db.session.flush()
    audit("manual.form_changed", organizer_id=form.organizer_id, user_id=actor_id, obj=form,
          details={"removed_field": key})


# --- answers ------------------------------------------------------------------------------------------------

YES, NO = "yes", "no"


def parse_answers(form: ManualForm, raw) -> dict:
    """The form's answers from what was sent (a mapping of field key to text), checked field by field.
    Raises AnswersInvalid with a message per wrong field."""
    answers, errors = {}, {}
    for spec in form.fields or []:
        key, kind = spec["key"], spec["type"]
        value = raw.get(key, "") if hasattr(raw, "get") else ""
        value = value if isinstance(value, str) else ""
        if unstorable(value):
            errors[key] = str(_l("This text contains characters that cannot be stored."))
            continue
        value = value.strip()
        if not value:
            if spec.get("required"):
                errors[key] = str(_l("This field is required."))
            answers[key] = ""
            continue
        if kind == "text":
            value = "".join(c for c in value.replace("\r\n", "\n")
                            if c in "\n\t" or not unicodedata.category(c).startswith("C"))
            if len(value) > ANSWER_MAX:
                errors[key] = str(_l("At most %(max)s characters.", max=ANSWER_MAX))
                continue
        elif kind == "number":
            try:
                number = Decimal(value.replace(",", "")) if len(value) <= 30 else None
            except InvalidOperation:
                number = None
            if number is None or not number.is_finite() or abs(number) >= NUMBER_MAX:
                errors[key] = str(_l("Give a number."))
                continue
            value = format(number.normalize(), "f")
        elif kind == "choice":
            if value not in spec.get("choices", []):
                errors[key] = str(_l("Choose one of the options."))
                continue
        elif kind == "yes_no":
            if value not in (YES, NO):
                errors[key] = str(_l("Answer yes or no."))
                continue
        answers[key] = value
    if errors:
        raise AnswersInvalid(errors)
    return answers


def display_answer(spec: dict, value) -> str:
    if spec.get("type") == "yes_no" and value in (YES, NO):
        return str(_l("Yes")) if value == YES else str(_l("No"))
    return "" if value is None else str(value)


def submission_of(form: ManualForm, exhibitor: Exhibitor) -> ManualSubmission | None:
    return db.session.scalar(select(ManualSubmission).where(ManualSubmission.form_id == form.id,
                                                            ManualSubmission.exhibitor_id == exhibitor.id))


def may_edit(form: ManualForm, submission: ManualSubmission | None, now: datetime | None = None) -> bool:
    """Editable until the deadline; after it only when the organizer reopened it."""
    if submission is not None and submission.status == "reopened":
        return True
    return (now or utcnow()) < deadline_moment(form, _edition(form))


def _edition(form: ManualForm) -> Edition:
    return db.session.get(Edition, form.edition_id)


def takes_part(exhibitor: Exhibitor) -> bool:
    return exhibitor.status in PARTICIPATING_STATUSES


def submit(form: ManualForm, exhibitor: Exhibitor, raw, *, actor_id: int | None = None,
           now: datetime | None = None) -> ManualSubmission:
    """An exhibitor sends (or changes) its answers to a form; refused after the deadline unless reopened."""
    now = now or utcnow()
    if form.edition_id != exhibitor.edition_id or form.organizer_id != exhibitor.organizer_id:
        raise ServiceError(_l("No such form."))
    if not takes_part(exhibitor):
        raise ServiceError(_l("Forms open once your booking is contracted."))
    take_write_lock(db.session)
    submission = submission_of(form, exhibitor)
    if not may_edit(form, submission, now):
        raise ServiceError(_l("The deadline of this form has passed: it is locked. Ask the organizer to reopen it."))
    answers = parse_answers(form, raw)
    first = submission is None or submission.submitted_at is None
    if submission is None:
        submission_id = insert_unless_exists(ManualSubmission, {
            "organizer_id": exhibitor.organizer_id, "edition_id": exhibitor.edition_id, "form_id": form.id,
            "exhibitor_id": exhibitor.id, "status": "submitted", "answers": answers, "submitted_at": now,
            "submitted_by_id": actor_id, "reopened_by_id": None, "updated_at": now}, None, ManualSubmission.id)
        if submission_id is None:  # a concurrent submit of the same form won: change its answers instead
            submission = submission_of(form, exhibitor)
        else:
            submission = db.session.get(ManualSubmission, submission_id)
    if submission.answers != answers or submission.submitted_at is None or submission.status != "submitted":
        submission.answers = answers
        submission.submitted_at, submission.submitted_by_id, submission.updated_at = now, actor_id, now
        if submission.status != "submitted":
            move_status(submission, MANUAL_SUBMISSION_STATUS, "submitted", actor_id=actor_id)
    db.session.flush()
    audit("manual.submitted", organizer_id=exhibitor.organizer_id, user_id=actor_id, obj=submission,
          details={"form_id": form.id, "exhibitor_id": exhibitor.id, "first": first})
    if first:
        activity.record("manual.submitted", organizer_id=exhibitor.organizer_id, subject_type="company",
                        subject_id=exhibitor.company_id, edition_id=exhibitor.edition_id, user_id=actor_id,
                        obj=submission, details={"form": form.title, "edition": _edition(form).name}, at=now)
    return submission


def reopen(form: ManualForm, exhibitor: Exhibitor, *, actor_id: int | None = None) -> ManualSubmission:
    """The organizer opens a form again for one exhibitor (after the deadline): editable until sent again."""
    if form.edition_id != exhibitor.edition_id or form.organizer_id != exhibitor.organizer_id:
        raise ServiceError(_l("No such form."))
    take_write_lock(db.session)
    submission = submission_of(form, exhibitor)
    if submission is None:
        submission = ManualSubmission(organizer_id=exhibitor.organizer_id, edition_id=exhibitor.edition_id,
                                      form_id=form.id, exhibitor_id=exhibitor.id, status="reopened", answers={},
                                      reopened_by_id=actor_id, updated_at=utcnow())
        db.session.add(submission)
        db.session.flush()
        audit("manualsubmission.status", organizer_id=exhibitor.organizer_id, user_id=actor_id, obj=submission,
              details={"from": None, "to": "reopened"})
    elif submission.status != "reopened":
        move_status(submission, MANUAL_SUBMISSION_STATUS, "reopened", actor_id=actor_id)
        submission.reopened_by_id, submission.updated_at = actor_id, utcnow()
        db.session.flush()
    return submission


# --- the exhibitor's checklist -----------------------------------------------------------------------------

@dataclass
class ChecklistItem:
    form: ManualForm
    submission: ManualSubmission | None
    state: str  # done, due, late, reopened
    days_left: int  # days until the deadline (negative: late by)
    editable: bool
    deadline_at: datetime

    @property
    def done(self) -> bool:
        return self.state == "done"


def _state(form, submission, today: date, now: datetime, edition: Edition) -> tuple[str, int, bool]:
    days_left = (form.deadline - today).days
    editable = may_edit(form, submission, now) if edition is not None else False
    if submission is not None and submission.status == "reopened":
        return "reopened", days_left, True
    if submission is not None and submission.submitted_at is not None:
        return "done", days_left, editable
    if now >= deadline_moment(form, edition):
        return "late", days_left, editable
    return "due", days_left, editable


def checklist(exhibitor: Exhibitor, now: datetime | None = None) -> list[ChecklistItem]:
    """What the exhibitor has to fill in: every form of its edition with where it stands."""
    now = now or utcnow()
    edition = exhibitor.edition
    today = local_today(edition, now)
    found = forms(Scope(exhibitor.organizer_id), edition)
    submitted = {s.form_id: s for s in db.session.scalars(
        scoped(ManualSubmission, Scope(exhibitor.organizer_id, exhibitor.id))
        .where(ManualSubmission.edition_id == edition.id))}
    items = []
    for form in found:
        submission = submitted.get(form.id)
        state, days_left, editable = _state(form, submission, today, now, edition)
        items.append(ChecklistItem(form, submission, state, days_left, editable, deadline_moment(form, edition)))
    return items


@dataclass
class ChecklistSummary:
    total: int
    done: int
    late: int
    next_due: ChecklistItem | None


def summary(items: list[ChecklistItem]) -> ChecklistSummary:
    open_items = [i for i in items if i.state in ("due", "reopened")]
    return ChecklistSummary(len(items), sum(1 for i in items if i.done),
                            sum(1 for i in items if i.state == "late" and i.form.mandatory),
                            min(open_items, key=lambda i: i.form.deadline) if open_items else None)


# --- the organizer's view: who is late ----------------------------------------------------------------------

@dataclass
class ReportRow:
    exhibitor: Exhibitor
    submission: ManualSubmission | None
    state: str
    reminded_at: datetime | None


@dataclass
class FormReport:
    form: ManualForm
    rows: list[ReportRow] = field(default_factory=list)

    def count(self, state: str) -> int:
        return sum(1 for row in self.rows if row.state == state)


def participants(scope: Scope, edition: Edition) -> list[Exhibitor]:
    return list(db.session.scalars(scoped(Exhibitor, Scope(scope.organizer_id)).join(Company)
                                   .where(Exhibitor.edition_id == edition.id,
                                          Exhibitor.status.in_(PARTICIPATING_STATUSES))
                                   .order_by(Company.name, Exhibitor.id)))


def form_reports(scope: Scope, edition: Edition, now: datetime | None = None,
                 only: ManualForm | None = None) -> list[FormReport]:
    """Per form: every exhibitor taking part with its state (done, due, late, reopened); late ones first."""
    now = now or utcnow()
    today = local_today(edition, now)
    wanted = [only] if only is not None else forms(scope, edition)
    exhibitors = participants(scope, edition)
    ids = [f.id for f in wanted]
    submissions = {(s.form_id, s.exhibitor_id): s for s in db.session.scalars(
        scoped(ManualSubmission, scope).where(ManualSubmission.form_id.in_(ids)))} if ids else {}
    reminders = {(r.form_id, r.exhibitor_id): r.sent_at for r in db.session.scalars(
        scoped(ManualReminder, scope).where(ManualReminder.form_id.in_(ids)))} if ids else {}
    order = {"late": 0, "reopened": 1, "due": 2, "done": 3}
    reports = []
    for form in wanted:
        rows = []
        for exhibitor in exhibitors:
            submission = submissions.get((form.id, exhibitor.id))
            state, _days, _editable = _state(form, submission, today, now, edition)
            rows.append(ReportRow(exhibitor, submission, state, reminders.get((form.id, exhibitor.id))))
        rows.sort(key=lambda r: order[r.state])
        reports.append(FormReport(form, rows))
    return reports


def export_answers(scope: Scope, edition: Edition, form: ManualForm, now: datetime | None = None,
                   *, actor_id: int | None = None) -> str:
    """The form's answers as CSV: one line per exhibitor taking part (with its state), one column per field."""
    report = form_reports(scope, edition, now, only=form)[0]
    specs = form.fields or []
    header = [str(_l("Company")), str(_l("Booth")), str(_l("State")), str(_l("Submitted at (UTC)")),
              *[spec["label"] for spec in specs]]
    states = {"done": _l("Done"), "due": _l("Due"), "late": _l("Late"), "reopened": _l("Reopened")}
    rows = []
    for row in report.rows:
        answers = row.submission.answers if row.submission is not None else {}
        submitted = row.submission.submitted_at if row.submission is not None else None
        rows.append([row.exhibitor.company.name, row.exhibitor.booth, str(states[row.state]),
                     submitted.strftime("%Y-%m-%d %H:%M") if submitted else "",
                     *[display_answer(spec, answers.get(spec["key"], "")) for spec in specs]])
    audit("manual.exported", organizer_id=scope.organizer_id, user_id=actor_id, obj=form,
          details={"rows": len(rows)})
    return csv_text(header, rows)


# --- reminders ----------------------------------------------------------------------------------------------

def due_reminders(now: datetime | None = None) -> list[tuple[int, int]]:
    """(form id, exhibitor id) pairs to remind now: the form's reminder day has come (``remind_days`` before
    the deadline, in the edition's time zone), the deadline has not passed, the exhibitor takes part, has not
    submitted and was not reminded of this form yet. Every organizer's (the beat task's view)."""
    now = now or utcnow()
    window = now.date() + timedelta(days=91)  # no form reminds more than 90 days ahead (+1 for time zones)
    candidates = db.session.execute(
        select(ManualForm, Edition).join(Edition, Edition.id == ManualForm.edition_id)
        .where(ManualForm.deadline >= now.date() - timedelta(days=1), ManualForm.deadline <= window)
        .order_by(ManualForm.deadline, ManualForm.id)).all()
    pairs = []
    for form, edition in candidates:
        if now >= deadline_moment(form, edition):
            continue
        if local_today(edition, now) < form.deadline - timedelta(days=form.remind_days):
            continue
        done = select(ManualSubmission.exhibitor_id).where(ManualSubmission.form_id == form.id,
                                                            ManualSubmission.status == "submitted")
        reminded = select(ManualReminder.exhibitor_id).where(ManualReminder.form_id == form.id)
        for exhibitor_id in db.session.scalars(
                select(Exhibitor.id).where(Exhibitor.edition_id == edition.id,
                                           Exhibitor.organizer_id == form.organizer_id,
                                           Exhibitor.status.in_(PARTICIPATING_STATUSES),
                                           Exhibitor.id.not_in(done), Exhibitor.id.not_in(reminded))
                .order_by(Exhibitor.id)):
            pairs.append((form.id, exhibitor_id))
    return pairs


def exhibitor_admins(exhibitor_id: int) -> list[User]:
    return list(db.session.scalars(select(User).where(User.exhibitor_id == exhibitor_id,
                                                      User.role == "exhibitor_admin", User.active.is_(True))
                                   .order_by(User.id)))


def claim_reminder(form_id: int, exhibitor_id: int, organizer_id: int, now: datetime | None = None) -> int | None:
    """The reminder row for this form and exhibitor, once: None when it exists already (sent before, or by a
    run at the same moment)."""
    return insert_unless_exists(ManualReminder, {"organizer_id": organizer_id, "form_id": form_id,
                                                 "exhibitor_id": exhibitor_id, "recipients": 0,
                                                 "sent_at": now or utcnow()}, None, ManualReminder.id)


def queue_reminder(form_id: int, exhibitor_id: int, render, now: datetime | None = None) -> list | None:
    """Claim the reminder of this form for this exhibitor and queue one mail per exhibitor admin
    (``render(user, form, exhibitor, edition) -> (subject, body)``); the queued messages, or None when the
    reminder was claimed already (sent before, or by a concurrent run)."""
    form = db.session.get(ManualForm, form_id)
    exhibitor = db.session.get(Exhibitor, exhibitor_id)
    if form is None or exhibitor is None:
        return None
    reminder_id = claim_reminder(form.id, exhibitor.id, form.organizer_id, now)
    if reminder_id is None:
        return None
    edition = db.session.get(Edition, form.edition_id)
    messages = []
    for user in exhibitor_admins(exhibitor.id):
        subject, body = render(user, form, exhibitor, edition)
        message = queue_mail(form.organizer_id, user.email, subject, body)
        if message is not None:
            messages.append(message)
    db.session.get(ManualReminder, reminder_id).recipients = len(messages)
    audit("manual.reminded", organizer_id=form.organizer_id, object_type="manual_forms", object_id=form.id,
          details={"exhibitor_id": exhibitor.id, "recipients": len(messages)})
    db.session.flush()
    return messages
