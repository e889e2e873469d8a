"""Support tickets: creation (portal, visitor link, staff), SLA deadlines, owner, status moves, notes, resolution,
the requester's rating, escalation of overdue tickets, and the counts other modules read.

Plain functions: no request, no current user. Services flush; the caller commits once. Every event is audited
and lands on the customer's timeline (the company's or the person's).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from ..core import activity
from ..core import services as core
from ..core.db import utcnow
from ..core.models import Edition, Organizer, User
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, move_status
from ..exhibitors.models import Exhibitor
from ..extensions import db
from ..visitors.models import Registration
from . import sla
from .models import (TICKET_KIND, TICKET_OPEN_STATUSES, TICKET_SOURCE, TICKET_STATUS, TICKET_URGENCY, SlaSetting,
                     Ticket, TicketNote)

MAX_SUBJECT = 200
MAX_TEXT = 5000
MAX_CONTACT = 200
MAX_COMMENT = 2000
VISITOR_SALT = "support-visitor-ticket"
RATING_SALT = "support-ticket-rating"
FALLBACK_URL = "http://127.0.0.1:5000"
ESCALATION_ROLES = ("manager",)


# --- the counts other modules read (customers, predictions) ---------------------------------------------

def ticket_counts(scope: Scope, edition_id: int | None) -> dict[str, dict[int, int]]:
    """Tickets per customer in one edition (every edition when ``edition_id`` is None):
    {"company": {company_id: n}, "person": {person_id: n}}."""
    out: dict[str, dict[int, int]] = {"company": {}, "person": {}}
    for key, column in (("company", Ticket.company_id), ("person", Ticket.person_id)):
        stmt = scoped(Ticket, Scope(scope.organizer_id), column, func.count(Ticket.id)).where(column.is_not(None))
        if edition_id is not None:
            stmt = stmt.where(Ticket.edition_id == edition_id)
        out[key] = {subject: int(n) for subject, n in db.session.execute(stmt.group_by(column))}
    return out


# --- SLA settings ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sla:
    urgent_days: int
    normal_days: int
    calendar: sla.Calendar
    holidays: tuple = ()
    workdays: tuple = ()
    source: str = "default"  # "default", "organizer" or "edition"

    def days(self, urgency: str) -> int:
        return self.urgent_days if urgency == "urgent" else self.normal_days


def _setting(organizer_id: int, edition_id: int | None) -> SlaSetting | None:
    stmt = scoped(SlaSetting, Scope(organizer_id))
    stmt = stmt.where(SlaSetting.edition_id.is_(None) if edition_id is None else SlaSetting.edition_id == edition_id)
    return db.session.scalar(stmt)


def sla_for(organizer_id: int, edition_id: int | None) -> Sla:
    """The SLA in force: the edition's own settings, else the organizer's, else 2 and 5 working days."""
    for source, ident in (("edition", edition_id), ("organizer", None)):
        if source == "edition" and edition_id is None:
            continue
        row = _setting(organizer_id, ident)
        if row is not None:
            return Sla(row.urgent_days, row.normal_days, sla.calendar(row.holidays, row.workdays),
                       tuple(row.holidays or ()), tuple(row.workdays or ()), source)
    return Sla(sla.DEFAULT_DAYS["urgent"], sla.DEFAULT_DAYS["normal"], sla.Calendar())


def save_sla(scope: Scope, edition_id: int | None, *, urgent_days, normal_days, holidays: str = "",
             workdays: str = "", actor_id: int | None = None) -> SlaSetting:
    """Set the organizer's default SLA (``edition_id`` None) or one edition's. Deadlines of tickets already in are
    kept (they were promised); new tickets follow the new settings."""
    values = {}
    for name, raw in (("urgent_days", urgent_days), ("normal_days", normal_days)):
        number = core.parse_id(str(raw).strip()) if raw is not None else None
        if number is None or number > sla.MAX_DAYS:
            raise ServiceError(_l("Give a number of working days between 1 and %(n)s.", n=sla.MAX_DAYS), name)
        values[name] = number
    if values["urgent_days"] > values["normal_days"]:
        raise ServiceError(_l("Urgent tickets cannot have more time than normal ones."), "urgent_days")
    days = {}
    for name, raw in (("holidays", holidays), ("workdays", workdays)):
        if core.unstorable(raw or "") or len(raw or "") > 5000:
            raise ServiceError(_l("Give days as YYYY-MM-DD, one per line."), name)
        try:
            days[name] = [d.isoformat() for d in sla.parse_days(raw or "")]
        except ValueError as error:
            raise ServiceError(_l("“%(day)s” is not a day: use YYYY-MM-DD.", day=str(error)[:20]), name) from None
    if any(date.fromisoformat(d).weekday() < 5 for d in days["workdays"]):
        raise ServiceError(_l("Make-up working days are weekend days."), "workdays")
    row = _setting(scope.organizer_id, edition_id)
    if row is None:
        row = SlaSetting(organizer_id=scope.organizer_id, edition_id=edition_id)
        db.session.add(row)
    row.urgent_days, row.normal_days = values["urgent_days"], values["normal_days"]
    row.holidays, row.workdays = days["holidays"], days["workdays"]
    db.session.flush()
    audit("ticket.sla_set", organizer_id=scope.organizer_id, user_id=actor_id, obj=row,
          details={"edition_id": edition_id, **values, "holidays": len(days["holidays"])})
    return row


def clear_edition_sla(scope: Scope, edition_id: int, *, actor_id: int | None = None) -> bool:
    row = _setting(scope.organizer_id, edition_id)
    if row is None:
        return False
    db.session.delete(row)
    audit("ticket.sla_cleared", organizer_id=scope.organizer_id, user_id=actor_id, object_type="support_sla_settings",
          object_id=row.id, details={"edition_id": edition_id})
    db.session.flush()
    return True


# --- text checks -----------------------------------------------------------------------------------------

def clean(text, field: str, limit: int, *, required: bool = False, one_line: bool = False) -> str:
    text = (text or "") if isinstance(text, str) else ""
    if core.unstorable(text):
        raise ServiceError(_l("This text holds characters that cannot be stored."), field)
    text = " ".join(text.split()) if one_line else text.strip()
    if len(text) > limit:
        raise ServiceError(_l("The text is too long (at most %(n)s characters).", n=limit), field)
    if required and not text:
        raise ServiceError(_l("This field is required."), field)
    return text


# --- creating tickets ------------------------------------------------------------------------------------

def _event(ticket: Ticket, kind: str, *, actor_id: int | None, details: dict | None = None,
           at: datetime | None = None) -> None:
    """One ticket event: on the customer's timeline and in the audit log."""
    base = {"subject": ticket.subject[:80], "number": ticket.id, "kind": ticket.kind}
    base.update(details or {})
    activity.record(kind, organizer_id=ticket.organizer_id, subject_type=ticket.subject_type,
                    subject_id=ticket.subject_id, edition_id=ticket.edition_id, user_id=actor_id, obj=ticket,
                    details=base, at=at)
    audit(kind, organizer_id=ticket.organizer_id, user_id=actor_id, obj=ticket, details=details or None)


def create_ticket(scope: Scope, edition: Edition, *, kind: str, subject: str, description: str = "",
                  urgency: str = "normal", source: str = "staff", exhibitor: Exhibitor | None = None,
                  registration: Registration | None = None, contact: str = "", owner_id: int | None = None,
                  actor_id: int | None = None, now: datetime | None = None) -> Ticket:
    now = now or utcnow()
    if edition.organizer_id != scope.organizer_id:
        raise ServiceError(_l("Unknown edition."))
    if kind not in TICKET_KIND:
        raise ServiceError(_l("Choose what kind of ticket this is."), "kind")
    if urgency not in TICKET_URGENCY:
        raise ServiceError(_l("Choose an urgency."), "urgency")
    if source not in TICKET_SOURCE:
        raise ServiceError(_l("Unknown source."), "source")
    subject = clean(subject, "subject", MAX_SUBJECT, required=True, one_line=True)
    description = clean(description, "description", MAX_TEXT)
    contact = clean(contact, "contact", MAX_CONTACT, one_line=True)
    if (exhibitor is None) == (registration is None):
        raise ServiceError(_l("Choose the exhibitor or the visitor the ticket is about."), "customer")
    customer = exhibitor or registration
    if customer.organizer_id != scope.organizer_id or customer.edition_id != edition.id:
        raise ServiceError(_l("Choose the exhibitor or the visitor the ticket is about."), "customer")
    if owner_id is not None:
        _check_owner(scope, owner_id)
    terms = sla_for(scope.organizer_id, edition.id)
    days = terms.days(urgency)
    ticket = Ticket(organizer_id=scope.organizer_id, edition_id=edition.id, kind=kind, urgency=urgency,
                    status="open", source=source, subject=subject, description=description, contact=contact,
                    exhibitor_id=exhibitor.id if exhibitor else None,
                    company_id=exhibitor.company_id if exhibitor else None,
                    registration_id=registration.id if registration else None,
                    person_id=registration.person_id if registration else None,
                    owner_id=owner_id, created_by_id=actor_id, created_at=now, sla_days=days,
                    due_at=sla.add_working_days(now, days, edition.timezone, terms.calendar))
    db.session.add(ticket)
    db.session.flush()
    _event(ticket, "ticket.created", actor_id=actor_id, at=now,
           details={"source": source, "urgency": urgency, "due_at": ticket.due_at.isoformat()})
    return ticket


def _check_owner(scope: Scope, owner_id: int) -> User:
    user = db.session.scalar(scoped(User, scope).where(User.id == owner_id, User.exhibitor_id.is_(None),
                                                       User.active.is_(True)))
    if user is None:
        raise ServiceError(_l("Choose an owner among the organizer's staff."), "owner_id")
    return user


def owners(scope: Scope) -> list[User]:
    """Whom a ticket can be given to: the organizer's active staff."""
    return list(db.session.scalars(scoped(User, Scope(scope.organizer_id))
                                   .where(User.exhibitor_id.is_(None), User.active.is_(True))
                                   .order_by(User.name, User.email)))


# --- working on a ticket -----------------------------------------------------------------------------------

def _responded(ticket: Ticket, now: datetime) -> None:
    if ticket.first_response_at is None:
        ticket.first_response_at = now


def assign(ticket: Ticket, owner_id: int | None, *, actor_id: int | None = None, now: datetime | None = None) -> bool:
    now = now or utcnow()
    if owner_id == ticket.owner_id:
        return False
    name = ""
    if owner_id is not None:
        name = _check_owner(Scope(ticket.organizer_id), owner_id).name
    previous, ticket.owner_id = ticket.owner_id, owner_id
    db.session.flush()
    _event(ticket, "ticket.assigned", actor_id=actor_id, at=now,
           details={"owner_id": owner_id, "previous_owner_id": previous, "owner": name})
    return True


def move(ticket: Ticket, target: str, *, actor_id: int | None = None, now: datetime | None = None) -> bool:
    """Open → in progress → resolved → closed, reopen from resolved; illegal moves are refused. Resolving goes
    through :func:`resolve` (it needs the resolution)."""
    now = now or utcnow()
    if target == "resolved":
        raise ServiceError(_l("Write the resolution to resolve the ticket."), "resolution")
    source = ticket.status
    if not move_status(ticket, TICKET_STATUS, target, actor_id=actor_id):
        return False
    if target == "in_progress" and source == "resolved":
        ticket.resolved_at = None  # reopened: the clock runs again
        kind = "ticket.reopened"
    else:
        kind = "ticket.status"
    if target == "closed":
        ticket.closed_at = now
    if actor_id is not None:
        _responded(ticket, now)
    db.session.flush()
    activity.record(kind, organizer_id=ticket.organizer_id, subject_type=ticket.subject_type,
                    subject_id=ticket.subject_id, edition_id=ticket.edition_id, user_id=actor_id, obj=ticket, at=now,
                    details={"subject": ticket.subject[:80], "number": ticket.id, "from": source, "to": target,
                             "status": str(TICKET_STATUS.label(target))})
    return True


def add_note(ticket: Ticket, body: str, *, actor_id: int | None = None, now: datetime | None = None) -> TicketNote:
    now = now or utcnow()
    body = clean(body, "body", MAX_TEXT, required=True)
    note = TicketNote(organizer_id=ticket.organizer_id, ticket_id=ticket.id, user_id=actor_id, body=body, at=now)
    db.session.add(note)
    if actor_id is not None:
        _responded(ticket, now)
    db.session.flush()
    _event(ticket, "ticket.noted", actor_id=actor_id, at=now, details={"note_id": note.id})
    return note


def resolve(ticket: Ticket, resolution: str, *, actor_id: int | None = None, now: datetime | None = None) -> int:
    """Resolved with its resolution note; the requester is asked to rate it. Returns the mails queued."""
    now = now or utcnow()
    resolution = clean(resolution, "resolution", MAX_TEXT, required=True)
    if ticket.status == "resolved":  # a second click: the first resolution, its time and its rating mail stand
        raise ServiceError(_l("This ticket is resolved already."), "resolution")
    move_status(ticket, TICKET_STATUS, "resolved", actor_id=actor_id)
    ticket.resolution, ticket.resolved_at = resolution, now
    _responded(ticket, now)
    db.session.flush()
    _event(ticket, "ticket.resolved", actor_id=actor_id, at=now,
           details={"on_time": now <= ticket.due_at})
    return ask_rating(ticket)


def rate(ticket: Ticket, rating, comment: str = "", *, actor_id: int | None = None,
         now: datetime | None = None) -> None:
    """The requester's rating of the resolution (1–5 and a comment), once."""
    now = now or utcnow()
    if ticket.status not in ("resolved", "closed") or ticket.resolved_at is None:
        raise ServiceError(_l("Only a resolved ticket can be rated."))
    if ticket.rating is not None:
        raise ServiceError(_l("This resolution was rated already. Thank you!"))
    number = core.parse_id(str(rating).strip()) if rating is not None else None
    if number is None or number > 5:
        raise ServiceError(_l("Choose a rating from 1 to 5."), "rating")
    comment = clean(comment, "comment", MAX_COMMENT)
    # once, even when two answers arrive together: only the first UPDATE finds the rating empty
    result = db.session.execute(update(Ticket).where(Ticket.id == ticket.id, Ticket.rating.is_(None))
                                .values(rating=number, rating_comment=comment, rated_at=now),
                                execution_options={"synchronize_session": False})
    if result.rowcount != 1:
        db.session.refresh(ticket)
        raise ServiceError(_l("This resolution was rated already. Thank you!"))
    db.session.refresh(ticket)
    _event(ticket, "ticket.rated", actor_id=actor_id, at=now, details={"rating": number})


# --- signed links -------------------------------------------------------------------------------------------

def _signer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _loads(salt: str, token) -> object | None:
    if not isinstance(token, str) or not token or len(token) > 200 or core.unstorable(token):
        return None
    try:
        return _signer(salt).loads(token)
    except (BadData, UnicodeError, ValueError):
        return None


def visitor_token(registration: Registration) -> str:
    return _signer(VISITOR_SALT).dumps([registration.organizer_id, registration.id])


def registration_from_token(token) -> Registration | None:
    data = _loads(VISITOR_SALT, token)
    if not (isinstance(data, list) and len(data) == 2 and all(isinstance(x, int) for x in data)):
        return None
    registration = db.session.scalar(scoped(Registration, Scope(data[0])).where(Registration.id == data[1]))
    if registration is None or registration.erased_at is not None or registration.status == "cancelled":
        return None
    return registration


def rating_token(ticket: Ticket) -> str:
    return _signer(RATING_SALT).dumps([ticket.organizer_id, ticket.id])


def ticket_from_rating_token(token) -> Ticket | None:
    data = _loads(RATING_SALT, token)
    if not (isinstance(data, list) and len(data) == 2 and all(isinstance(x, int) for x in data)):
        return None
    return db.session.scalar(scoped(Ticket, Scope(data[0])).where(Ticket.id == data[1]))


def visitor_tickets(registration: Registration) -> list[Ticket]:
    return list(db.session.scalars(scoped(Ticket, Scope(registration.organizer_id))
                                   .where(Ticket.registration_id == registration.id)
                                   .order_by(Ticket.created_at.desc(), Ticket.id.desc())))


def _base() -> str:
    return (current_app.config.get("PUBLIC_URL") or FALLBACK_URL).rstrip("/")


def requesters(ticket: Ticket) -> list[tuple[str, str]]:
    """(email, locale) of whom to ask for a rating: the visitor, or the company's active exhibitor admins (else
    the company's address)."""
    if ticket.registration is not None:
        person = ticket.person
        return [(person.email, ticket.registration.locale or "en")] \
            if person is not None and person.email and person.erased_at is None else []
    if ticket.exhibitor is not None:
        admins = [(u.email, u.locale or "en") for u in db.session.scalars(
            scoped(User, Scope(ticket.organizer_id)).where(User.exhibitor_id == ticket.exhibitor_id,
                                                           User.role == "exhibitor_admin", User.active.is_(True)))
            if u.email]
        if admins:
            return admins
        return [(ticket.company.email, "en")] if ticket.company and ticket.company.email else []
    return []


def ask_rating(ticket: Ticket) -> int:
    from ..core.tasks import deliver_mail

    sent = 0
    url = f"{_base()}/help/rate/{rating_token(ticket)}"
    for email, locale in requesters(ticket):
        with force_locale(locale if locale in ("en", "zh_CN") else "en"):
            subject = _("Your request is resolved: how did we do?")
            body = render_template("support/tickets_mail_rating.txt", ticket=ticket, url=url)
            message = core.queue_mail(ticket.organizer_id, email, " ".join(subject.split())[:300], body)
        if message is not None:
            deliver_mail.delay(message.id)
            sent += 1
    return sent


# --- escalation (Celery beat) ------------------------------------------------------------------------------

def due_escalations(now: datetime, limit: int = 1000) -> list[int]:
    return list(db.session.scalars(select(Ticket.id).where(Ticket.status.in_(TICKET_OPEN_STATUSES), Ticket.due_at < now,
                                                           Ticket.escalated_at.is_(None))
                                   .order_by(Ticket.organizer_id, Ticket.due_at).limit(limit)))


def claim_escalation(ticket_id: int, now: datetime) -> bool:
    """Mark the ticket escalated, once: two overlapping runs never mail about it twice."""
    result = db.session.execute(update(Ticket).where(Ticket.id == ticket_id, Ticket.escalated_at.is_(None),
                                                     Ticket.status.in_(TICKET_OPEN_STATUSES))
                                .values(escalated_at=now), execution_options={"synchronize_session": False})
    return result.rowcount == 1


def escalation_recipients(organizer_id: int) -> list[User]:
    """The organizer's active managers; its owners when it has none."""
    for roles in (ESCALATION_ROLES, ("owner",)):
        users = list(db.session.scalars(scoped(User, Scope(organizer_id)).where(
            User.role.in_(roles), User.active.is_(True), User.exhibitor_id.is_(None), User.email != "")
            .order_by(User.id)))
        if users:
            return users
    return []


def escalate_overdue(now: datetime | None = None) -> list:
    """Claim every overdue ticket not escalated yet and mail the organizer's managers one mail per ticket (in their
    language). Returns the queued messages: the caller hands them to delivery after its commit."""
    now = now or utcnow()
    messages = []
    for ticket_id in due_escalations(now):
        if not claim_escalation(ticket_id, now):
            continue
        ticket = db.session.get(Ticket, ticket_id)
        db.session.refresh(ticket)
        organizer = db.session.get(Organizer, ticket.organizer_id)
        url = f"{_base()}/org/editions/{ticket.edition_id}/tickets/{ticket.id}"
        for manager in escalation_recipients(ticket.organizer_id):
            with force_locale(manager.locale or "en"):
                subject = _("Overdue ticket #%(n)s: %(subject)s", n=ticket.id, subject=ticket.subject)
                body = render_template("support/tickets_mail_escalation.txt", ticket=ticket, manager=manager,
                                       organizer=organizer, url=url)
                message = core.queue_mail(ticket.organizer_id, manager.email, " ".join(subject.split())[:300], body)
            if message is not None:
                messages.append(message)
        _event(ticket, "ticket.escalated", actor_id=None, at=now, details={"due_at": ticket.due_at.isoformat()})
    db.session.flush()
    return messages


# --- reading -------------------------------------------------------------------------------------------------

def get_ticket(scope: Scope, ticket_id, edition_id: int, *, for_update: bool = False) -> Ticket | None:
    """The edition's ticket, or None; ``for_update`` locks its row (a change: two clicks at once are one)."""
    query = scoped(Ticket, Scope(scope.organizer_id)).where(Ticket.id == ticket_id)
    ticket = db.session.scalar(query.with_for_update() if for_update else query)
    return ticket if ticket is not None and ticket.edition_id == edition_id else None


def company_tickets(exhibitor: Exhibitor) -> list[Ticket]:
    """The tickets of the signed-in exhibitor's company (any edition), newest first."""
    return list(db.session.scalars(
        scoped(Ticket, Scope(exhibitor.organizer_id)).options(joinedload(Ticket.edition))
        .where(Ticket.company_id == exhibitor.company_id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())))


def company_ticket(exhibitor: Exhibitor, ticket_id) -> Ticket | None:
    ticket = db.session.scalar(scoped(Ticket, Scope(exhibitor.organizer_id)).where(Ticket.id == ticket_id))
    return ticket if ticket is not None and ticket.company_id == exhibitor.company_id else None


@dataclass
class Filters:
    status: str = ""
    kind: str = ""
    urgency: str = ""
    owner: int | None = None  # a user id; 0: nobody
    overdue: bool = False
    q: str = ""


def list_tickets(scope: Scope, edition_id: int, filters: Filters, *, now: datetime | None = None,
                 limit: int = 500) -> list[Ticket]:
    now = now or utcnow()
    stmt = (scoped(Ticket, Scope(scope.organizer_id))
            .options(joinedload(Ticket.company), joinedload(Ticket.person), joinedload(Ticket.owner))
            .where(Ticket.edition_id == edition_id))
    if filters.status in TICKET_STATUS:
        stmt = stmt.where(Ticket.status == filters.status)
    elif filters.status == "active":
        stmt = stmt.where(Ticket.status.in_(TICKET_OPEN_STATUSES))
    if filters.kind in TICKET_KIND:
        stmt = stmt.where(Ticket.kind == filters.kind)
    if filters.urgency in TICKET_URGENCY:
        stmt = stmt.where(Ticket.urgency == filters.urgency)
    if filters.owner == 0:
        stmt = stmt.where(Ticket.owner_id.is_(None))
    elif filters.owner is not None:
        stmt = stmt.where(Ticket.owner_id == filters.owner)
    if filters.overdue:
        stmt = stmt.where(Ticket.status.in_(TICKET_OPEN_STATUSES), Ticket.due_at < now)
    if filters.q:
        stmt = stmt.where(Ticket.subject.ilike(f"%{filters.q.replace('%', '').replace('_', '')}%"))
    return list(db.session.scalars(stmt.order_by(Ticket.due_at, Ticket.id).limit(limit)))


def subject_tickets(scope: Scope, subject_type: str, subject_id: int) -> list[Ticket]:
    column = Ticket.company_id if subject_type == "company" else Ticket.person_id
    return list(db.session.scalars(scoped(Ticket, Scope(scope.organizer_id)).where(column == subject_id)
                                   .order_by(Ticket.created_at.desc()).limit(50)))
