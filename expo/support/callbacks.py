"""Call-backs (回访, R21): call lists for key exhibitors and buyers, a script of questions, calls with outcomes.

A list is made for an edition from a selection — exhibitors by booth-sales stage, hall, area and hot leads
received; visitors by category, purchase authority, check-in and hot leads given — or customers picked by hand,
and split round-robin between callers. A caller's queue gives the next customer due: first those who asked to be
called back and whose time has come, then those never called, then those who did not answer (retried after
``RETRY_AFTER``). Each call lands on the customer's timeline (company or person) and in the audit log.

Plain functions: no request, no current user. Services flush; the caller commits once. Time is ``now``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload

from ..core import activity
from ..core.db import take_write_lock
from ..core.models import Activity, Edition, User
from ..core.permissions import has_permission
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, unstorable
from ..exhibitors.models import EXHIBITOR_STATUS, Exhibitor
from ..extensions import db
from ..visitors.models import VISITOR_CATEGORY, Registration
from .callback_models import (CALL_AUDIENCE, CALL_OUTCOME, NOT_REACHED_STATUSES, OPEN_STATUSES, QUESTION_KIND,
                              Call, CallList, CallQuestion, CallTarget)
# The selection and the customer's context live in callback_selection; they are part of this module's interface.
from .callback_selection import (AUTHORITIES, AUTHORITY_LABELS, Context, Selection, _hot_given,  # noqa: F401
                                 _hot_received, _text, authority_of, context, describe_filters, display_name,
                                 parse_number, select_exhibitors, select_registrations)

MAKE_CALLS = "make_calls"
MAX_NAME = 200
MAX_NOTE = 2000
MAX_TEXT_ANSWER = 1000
MAX_QUESTION = 300
MAX_CHOICES = 20
MAX_CALL_BACK_DAYS = 180
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
RETRY_AFTER = timedelta(hours=2)  # an unanswered customer comes back to the queue after this


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(timezone.utc)


# --- lists ------------------------------------------------------------------------------------------------

def get_list(scope: Scope, list_id, edition_id: int) -> CallList | None:
    if not isinstance(list_id, int):
        return None
    return db.session.scalar(scoped(CallList, scope).where(CallList.id == list_id, CallList.edition_id == edition_id))


def get_target(call_list: CallList, target_id) -> CallTarget | None:
    if not isinstance(target_id, int):
        return None
    return db.session.scalar(select(CallTarget).where(
        CallTarget.id == target_id, CallTarget.call_list_id == call_list.id,
        CallTarget.organizer_id == call_list.organizer_id))


def lists(scope: Scope, edition: Edition) -> list[CallList]:
    return list(db.session.scalars(scoped(CallList, scope).where(CallList.edition_id == edition.id)
                                   .order_by(CallList.created_at.desc(), CallList.id.desc())))


def create_list(scope: Scope, edition: Edition, name: str, audience: str, selection: Selection | None, *,
                max_attempts: int = 3, actor_id: int | None = None, now: datetime | None = None) -> CallList:
    """A new list; with a selection, every customer it selects is on it (``None``: customers are picked by hand)."""
    if edition.organizer_id != scope.organizer_id:
        raise ServiceError(_l("No such edition."))
    name = _text(name, MAX_NAME, "name", _l("Name"))
    if not name:
        raise ServiceError(_l("Give the list a name."), "name")
    if audience not in CALL_AUDIENCE:
        raise ServiceError(_l("Choose whom the list calls."), "audience")
    if not isinstance(max_attempts, int) or not 1 <= max_attempts <= 20:
        raise ServiceError(_l("Attempts: between 1 and 20."), "max_attempts")
    selection = selection.clean() if selection is not None else None
    call_list = CallList(organizer_id=scope.organizer_id, edition_id=edition.id, name=name, audience=audience,
                         filters=selection.as_dict(audience) if selection else {"by_hand": True}, caller_ids=[],
                         max_attempts=max_attempts, created_by_id=actor_id, created_at=_now(now))
    db.session.add(call_list)
    db.session.flush()
    added = 0
    if selection is not None:
        if audience == "exhibitor":
            added = add_targets(call_list, exhibitor_ids=[e.id for e in select_exhibitors(scope, edition, selection)],
                                now=now)
        else:
            added = add_targets(call_list, registration_ids=[r.id for r in select_registrations(
                scope, edition, selection)], now=now)
    audit("callback.list_created", organizer_id=scope.organizer_id, user_id=actor_id, obj=call_list,
          details={"name": name, "audience": audience, "customers": added, **call_list.filters})
    return call_list


def add_targets(call_list: CallList, *, exhibitor_ids=(), registration_ids=(), actor_id: int | None = None,
                now: datetime | None = None) -> int:
    """Put customers of the list's edition and audience on it (those on it already are skipped); how many."""
    scope = Scope(call_list.organizer_id)
    now = _now(now)
    position = db.session.scalar(select(func.coalesce(func.max(CallTarget.position), 0))
                                 .where(CallTarget.call_list_id == call_list.id)) or 0
    if call_list.audience == "exhibitor":
        ids = [i for i in dict.fromkeys(exhibitor_ids) if isinstance(i, int)]
        on = set(db.session.scalars(select(CallTarget.exhibitor_id).where(CallTarget.call_list_id == call_list.id)))
        rows = [(e.id, e.company_id) for e in db.session.scalars(
            scoped(Exhibitor, scope).where(Exhibitor.edition_id == call_list.edition_id, Exhibitor.id.in_(ids)))
            if e.id not in on] if ids else []
        order = {i: n for n, i in enumerate(ids)}
        rows.sort(key=lambda r: order[r[0]])
        for exhibitor_id, company_id in rows:
            position += 1
            db.session.add(CallTarget(organizer_id=call_list.organizer_id, call_list_id=call_list.id,
                                      exhibitor_id=exhibitor_id, company_id=company_id, position=position,
                                      added_at=now))
    else:
        ids = [i for i in dict.fromkeys(registration_ids) if isinstance(i, int)]
        on = set(db.session.scalars(select(CallTarget.registration_id)
                                    .where(CallTarget.call_list_id == call_list.id)))
        rows = [(r.id, r.person_id) for r in db.session.scalars(
            scoped(Registration, scope).where(Registration.edition_id == call_list.edition_id,
                                              Registration.id.in_(ids), Registration.erased_at.is_(None)))
            if r.id not in on] if ids else []
        order = {i: n for n, i in enumerate(ids)}
        rows.sort(key=lambda r: order[r[0]])
        for registration_id, person_id in rows:
            position += 1
            db.session.add(CallTarget(organizer_id=call_list.organizer_id, call_list_id=call_list.id,
                                      registration_id=registration_id, person_id=person_id, position=position,
                                      added_at=now))
    db.session.flush()
    if actor_id is not None and rows:
        audit("callback.customers_added", organizer_id=call_list.organizer_id, user_id=actor_id, obj=call_list,
              details={"customers": len(rows)})
    return len(rows)


def remove_target(target: CallTarget, *, actor_id: int | None = None) -> None:
    if target.attempts:
        raise ServiceError(_l("This customer was called already: the calls stay on the list."))
    audit("callback.customer_removed", organizer_id=target.organizer_id, user_id=actor_id, obj=target.call_list,
          details={"company_id": target.company_id, "person_id": target.person_id})
    db.session.delete(target)
    db.session.flush()


def candidates(call_list: CallList, q: str, limit: int = 20) -> list[tuple[int, str, str]]:
    """Customers of the list's edition and audience not on it yet whose name matches ``q``: (id, name, detail)."""
    q = (q or "").strip()[:100]
    if not q or unstorable(q):
        return []
    like = f"%{q.lower()}%"
    scope = Scope(call_list.organizer_id)
    if call_list.audience == "exhibitor":
        from ..exhibitors.models import Company
        on = select(CallTarget.exhibitor_id).where(CallTarget.call_list_id == call_list.id,
                                                   CallTarget.exhibitor_id.is_not(None))
        rows = db.session.scalars(scoped(Exhibitor, scope).join(Company, Company.id == Exhibitor.company_id)
                                  .options(joinedload(Exhibitor.company))
                                  .where(Exhibitor.edition_id == call_list.edition_id,
                                         func.lower(Company.name).like(like), Exhibitor.id.not_in(on))
                                  .order_by(Company.name).limit(limit))
        return [(e.id, e.company.name, " ".join(p for p in (e.hall, e.stand, EXHIBITOR_STATUS.label(e.status)) if p))
                for e in rows]
    from ..visitors.models import Person
    on = select(CallTarget.registration_id).where(CallTarget.call_list_id == call_list.id,
                                                  CallTarget.registration_id.is_not(None))
    rows = db.session.scalars(scoped(Registration, scope).join(Person, Person.id == Registration.person_id)
                              .options(joinedload(Registration.person))
                              .where(Registration.edition_id == call_list.edition_id, Registration.erased_at.is_(None),
                                     or_(func.lower(Person.name).like(like), func.lower(Person.company).like(like),
                                         func.lower(Registration.name_as_given).like(like)),
                                     Registration.id.not_in(on))
                              .order_by(Person.name).limit(limit))
    return [(r.id, display_name(r), " · ".join(p for p in (r.company_as_given or r.person.company,
                                                           VISITOR_CATEGORY.label(r.category)) if p)) for r in rows]


# --- the script -------------------------------------------------------------------------------------------

def parse_choices(text: str) -> list[dict]:
    """One choice a line: "value | English | 中文", "English | 中文" or just the words."""
    out, seen = [], set()
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.split("|")]
        if not any(parts):
            continue
        if len(parts) >= 3:
            value, en, zh = parts[0], parts[1], parts[2]
        elif len(parts) == 2:
            value, en, zh = "", parts[0], parts[1]
        else:
            value, en, zh = "", parts[0], ""
        value = (value or en or zh)[:40]
        if value in seen:
            raise ServiceError(_l("Two choices have the same value: %(v)s.", v=value), "choices")
        seen.add(value)
        out.append({"value": value, "en": en[:100], "zh": zh[:100]})
    if len(out) > MAX_CHOICES:
        raise ServiceError(_l("At most %(n)s choices.", n=MAX_CHOICES), "choices")
    return out


def add_question(call_list: CallList, kind: str, text_en: str, text_zh: str, choices_text: str = "", *,
                 actor_id: int | None = None) -> CallQuestion:
    if kind not in QUESTION_KIND:
        raise ServiceError(_l("Choose the kind of answer."), "kind")
    text_en = _text(text_en, MAX_QUESTION, "text_en", _l("Question"))
    text_zh = _text(text_zh, MAX_QUESTION, "text_zh", _l("Question"))
    if not (text_en or text_zh):
        raise ServiceError(_l("Write the question in at least one language."), "text_en")
    if unstorable(choices_text or ""):
        raise ServiceError(_l("This text contains characters that cannot be stored."), "choices")
    choices = parse_choices(choices_text) if kind == "choice" else []
    if kind == "choice" and len(choices) < 2:
        raise ServiceError(_l("Give at least two choices, one a line."), "choices")
    position = (max((q.position for q in call_list.questions), default=0)) + 1
    question = CallQuestion(organizer_id=call_list.organizer_id, call_list_id=call_list.id, position=position,
                            kind=kind, text_en=text_en, text_zh=text_zh, choices=choices)
    db.session.add(question)
    call_list.questions.append(question)
    db.session.flush()
    audit("callback.question_added", organizer_id=call_list.organizer_id, user_id=actor_id, obj=call_list,
          details={"question": text_en or text_zh, "kind": kind})
    return question


def get_question(call_list: CallList, question_id) -> CallQuestion | None:
    return next((q for q in call_list.questions if q.id == question_id), None)


def remove_question(question: CallQuestion, *, actor_id: int | None = None) -> None:
    call_list = question.call_list
    audit("callback.question_removed", organizer_id=call_list.organizer_id, user_id=actor_id, obj=call_list,
          details={"question": question.text_en or question.text_zh})
    call_list.questions.remove(question)
    db.session.flush()


def move_question(question: CallQuestion, step: int) -> None:
    ordered = list(question.call_list.questions)
    n = ordered.index(question)
    other = n + (1 if step > 0 else -1)
    if 0 <= other < len(ordered):
        ordered[n], ordered[other] = ordered[other], ordered[n]
        for position, q in enumerate(ordered, 1):
            q.position = position
        question.call_list.questions.sort(key=lambda q: q.position)
        db.session.flush()


# --- callers ---------------------------------------------------------------------------------------------

def possible_callers(scope: Scope) -> list[User]:
    users = db.session.scalars(select(User).where(User.organizer_id == scope.organizer_id,
                                                  User.exhibitor_id.is_(None), User.active.is_(True))
                               .order_by(User.name, User.id))
    return [u for u in users if has_permission(_Role(u.role), MAKE_CALLS)]


@dataclass
class _Role:
    role: str
    is_authenticated: bool = True


def assign(call_list: CallList, caller_ids: list[int], *, actor_id: int | None = None) -> dict[int, int]:
    """Split the list's open customers round-robin between the callers, in list order: {caller id: customers}.
    Customers already closed (reached, refused …) keep the caller who called them."""
    allowed = {u.id: u for u in possible_callers(Scope(call_list.organizer_id))}
    callers = [i for i in dict.fromkeys(caller_ids) if i in allowed]
    if not callers:
        raise ServiceError(_l("Choose at least one caller."), "callers")
    targets = list(db.session.scalars(select(CallTarget).where(
        CallTarget.call_list_id == call_list.id, CallTarget.status.in_(OPEN_STATUSES))
        .order_by(CallTarget.position, CallTarget.id)))
    split = {i: 0 for i in callers}
    for n, target in enumerate(targets):
        target.caller_id = callers[n % len(callers)]
        split[target.caller_id] += 1
    call_list.caller_ids = callers
    db.session.flush()
    audit("callback.assigned", organizer_id=call_list.organizer_id, user_id=actor_id, obj=call_list,
          details={"callers": callers, "customers": len(targets)})
    return split


# --- the queue --------------------------------------------------------------------------------------------

def queue(scope: Scope, edition: Edition, caller_id: int, *, now: datetime | None = None,
          list_id: int | None = None) -> tuple[list[CallTarget], list[CallTarget]]:
    """The caller's customers due now (next first) and those due later (call back at a time, or retried)."""
    now = _now(now)
    stmt = (scoped(CallTarget, scope).join(CallList, CallList.id == CallTarget.call_list_id)
            .options(joinedload(CallTarget.call_list), joinedload(CallTarget.company),
                     joinedload(CallTarget.registration), joinedload(CallTarget.person))  # the names and phones shown
            .where(CallList.edition_id == edition.id, CallTarget.caller_id == caller_id,
                   CallTarget.status.in_(OPEN_STATUSES)))
    if list_id is not None:
        stmt = stmt.where(CallTarget.call_list_id == list_id)
    rows = list(db.session.scalars(stmt))
    due = [t for t in rows if t.due_at is None or t.due_at <= now]
    later = sorted((t for t in rows if t.due_at is not None and t.due_at > now), key=lambda t: (t.due_at, t.id))
    # asked to be called back (their time has come) first, earliest first; then by attempts, then list order
    due.sort(key=lambda t: (0, t.due_at, 0, 0, 0) if t.status == "call_back" and t.due_at else
             (1, EPOCH, t.attempts, t.call_list_id, t.position, t.id))
    return due, later


# --- calls ------------------------------------------------------------------------------------------------

def parse_answers(questions: list[CallQuestion], raw: dict) -> dict:
    """The script's answers from form values (``q<id>`` → text): unknown questions ignored, empty ones skipped,
    a bad value is an error naming the question."""
    answers = {}
    for q in questions:
        value = raw.get(f"q{q.id}")
        value = value.strip() if isinstance(value, str) else ""
        if not value:
            continue
        if unstorable(value):
            raise ServiceError(_l("This text contains characters that cannot be stored."), f"q{q.id}")
        if q.kind == "yes_no":
            if value not in ("yes", "no"):
                raise ServiceError(_l("Answer yes or no."), f"q{q.id}")
            answers[str(q.id)] = value
        elif q.kind == "rating":
            if value not in ("1", "2", "3", "4", "5"):
                raise ServiceError(_l("Give a rating from 1 to 5."), f"q{q.id}")
            answers[str(q.id)] = int(value)
        elif q.kind == "choice":
            if value not in {c["value"] for c in q.choices}:
                raise ServiceError(_l("Choose one of the answers."), f"q{q.id}")
            answers[str(q.id)] = value
        else:
            if len(value) > MAX_TEXT_ANSWER:
                raise ServiceError(_l("%(what)s is too long (at most %(n)s characters).", what=_l("Answer"),
                                      n=MAX_TEXT_ANSWER), f"q{q.id}")
            answers[str(q.id)] = value
    return answers


def record_call(target: CallTarget, *, caller_id: int | None, attempt: int, outcome: str, answers: dict | None = None,
                note: str = "", call_back_at: datetime | None = None, now: datetime | None = None) -> Call:
    """Record attempt number ``attempt`` on the customer (the attempt the caller's page showed: the same call
    recorded twice — a double click, two tabs — is refused, not stored twice)."""
    now = _now(now)
    if outcome not in CALL_OUTCOME:
        raise ServiceError(_l("Choose the outcome of the call."), "outcome")
    note = _text(note, MAX_NOTE, "note", _l("Note"))
    take_write_lock(db.session)
    fresh = db.session.scalar(select(CallTarget).where(CallTarget.id == target.id).with_for_update()
                              .execution_options(populate_existing=True))
    if fresh is None:
        raise ServiceError(_l("This customer is not on the list any more."))
    target = fresh
    if not isinstance(attempt, int) or attempt != target.attempts + 1:
        raise ServiceError(_l("This call was recorded already (attempt %(n)s).", n=target.attempts))
    if not target.is_open:
        raise ServiceError(_l("This customer's calls are closed: %(status)s.", status=target.status_state.label))
    call_list = target.call_list
    if outcome == "call_back":
        if call_back_at is None:
            raise ServiceError(_l("Give the time to call back."), "call_back_at")
        if call_back_at.tzinfo is None:
            raise ServiceError(_l("Give the time to call back."), "call_back_at")
        if call_back_at <= now:
            raise ServiceError(_l("The time to call back must be in the future."), "call_back_at")
        if call_back_at > now + timedelta(days=MAX_CALL_BACK_DAYS):
            raise ServiceError(_l("Call back within %(n)s days.", n=MAX_CALL_BACK_DAYS), "call_back_at")
    else:
        call_back_at = None
    answers = answers if outcome == "reached" else {}
    call = Call(organizer_id=target.organizer_id, call_list_id=target.call_list_id, target_id=target.id,
                caller_id=caller_id, attempt=attempt, outcome=outcome, call_back_at=call_back_at,
                answers=answers or {}, note=note, called_at=now)
    db.session.add(call)
    target.attempts = attempt
    target.last_outcome = outcome
    target.last_called_at = now
    if outcome == "call_back":
        target.status, target.due_at = "call_back", call_back_at
    elif outcome == "no_answer":
        if attempt >= call_list.max_attempts:
            target.status, target.due_at = "unreachable", None
        else:
            target.status, target.due_at = "pending", now + RETRY_AFTER
    else:
        target.status, target.due_at = outcome, None
    if target.caller_id is None:
        target.caller_id = caller_id
    db.session.flush()
    subject = ("company", target.company_id) if target.company_id else ("person", target.person_id)
    audit("callback.called", organizer_id=target.organizer_id, user_id=caller_id, obj=call,
          details={"list": call_list.name, "outcome": outcome, "attempt": attempt, f"{subject[0]}_id": subject[1],
                   "answers": len(answers or {})})
    activity.record(f"callback.{outcome}", organizer_id=target.organizer_id, subject_type=subject[0],
                    subject_id=subject[1], edition_id=call_list.edition_id, user_id=caller_id, obj=call, at=now,
                    details={"list": call_list.name, "attempt": attempt, "note": note[:200],
                             "answers": len(answers or {}),
                             "when": call_back_at.isoformat(timespec="minutes") if call_back_at else ""})
    return call


def calls_of(target: CallTarget) -> list[Call]:
    return list(db.session.scalars(select(Call).options(joinedload(Call.caller)).where(Call.target_id == target.id)
                                   .order_by(Call.attempt.desc())))


# --- progress and the report ------------------------------------------------------------------------------

def progress(list_ids: list[int]) -> dict[int, dict]:
    """Per list: customers, reached, not reached (closed without reaching them), pending (still to call), called
    (at least one attempt)."""
    out = {i: {"total": 0, "reached": 0, "not_reached": 0, "pending": 0, "called": 0} for i in list_ids}
    if not list_ids:
        return out
    for list_id, status, called, n in db.session.execute(
            select(CallTarget.call_list_id, CallTarget.status,
                   func.sum(case((CallTarget.attempts > 0, 1), else_=0)), func.count())
            .where(CallTarget.call_list_id.in_(list_ids)).group_by(CallTarget.call_list_id, CallTarget.status)):
        row = out[list_id]
        row["total"] += n
        row["called"] += int(called or 0)
        if status == "reached":
            row["reached"] += n
        elif status in NOT_REACHED_STATUSES:
            row["not_reached"] += n
        else:
            row["pending"] += n
    for row in out.values():
        row["share"] = row["reached"] / row["total"] if row["total"] else None
    return out


def targets(call_list: CallList, status: str = "") -> list[CallTarget]:
    stmt = (select(CallTarget).options(joinedload(CallTarget.company), joinedload(CallTarget.exhibitor),
                                       joinedload(CallTarget.person), joinedload(CallTarget.registration),
                                       joinedload(CallTarget.caller))
            .where(CallTarget.call_list_id == call_list.id).order_by(CallTarget.position, CallTarget.id))
    if status == "open":
        stmt = stmt.where(CallTarget.status.in_(OPEN_STATUSES))
    elif status == "not_reached":
        stmt = stmt.where(CallTarget.status.in_(NOT_REACHED_STATUSES))
    elif status:
        stmt = stmt.where(CallTarget.status == status)
    return list(db.session.scalars(stmt))


def target_name(target: CallTarget) -> str:
    return target.company.name if target.company_id else display_name(target.registration)


def target_phone(target: CallTarget) -> str:
    if target.company_id:
        return target.company.phone or ""
    return target.registration.phone_as_given or target.person.phone or ""


# --- the visitor's own data (hooks personal_data / erase_personal_data) -------------------------------------

def visitor_calls(scope: Scope, registration_ids: list[int]) -> dict | None:
    """The hook ``personal_data``: the call-backs made to the visitor, with what they answered and the note."""
    rows = db.session.execute(
        select(Call, CallList.name).join(CallTarget, CallTarget.id == Call.target_id)
        .join(CallList, CallList.id == Call.call_list_id)
        .where(Call.organizer_id == scope.organizer_id, CallTarget.registration_id.in_(registration_ids or [-1]))
        .order_by(Call.called_at, Call.id)).all()
    if not rows:
        return None
    return {"key": "callbacks", "title": _l("Calls we made to you"),
            "columns": [("list", _l("Call list")), ("called_at", _l("Called at")), ("outcome", _l("Outcome")),
                        ("answers", _l("Answers")), ("note", _l("Note"))],
            "rows": [{"list": name, "called_at": call.called_at, "outcome": str(CALL_OUTCOME.label(call.outcome)),
                      "answers": "; ".join(f"{k}: {v}" for k, v in sorted((call.answers or {}).items())),
                      "note": call.note} for call, name in rows]}


def forget_visitor(scope: Scope, registration_ids: list[int]) -> None:
    """The hook ``erase_personal_data``: the calls stay as counts (the call-back report); the visitor's answers
    and the caller's note about them go."""
    if not registration_ids:
        return
    targets = select(CallTarget.id).where(CallTarget.organizer_id == scope.organizer_id,
                                          CallTarget.registration_id.in_(registration_ids))
    erased = []
    for call in db.session.scalars(select(Call).where(Call.organizer_id == scope.organizer_id,
                                                      Call.target_id.in_(targets))):
        call.note, call.answers = "", {}
        erased.append(call.id)
    # the timeline's lines of those calls quoted the note
    for line in db.session.scalars(select(Activity).where(
            Activity.organizer_id == scope.organizer_id, Activity.object_type == Call.__tablename__,
            Activity.object_id.in_(erased or [-1]))):
        line.details = {**(line.details or {}), "note": ""}
    db.session.flush()
