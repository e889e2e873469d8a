"""Rebooking (R7): offers to the exhibitors of one edition to book again for the next, with their results.

The organizer makes offers for an edition (``edition``) to the companies that took part in an earlier edition of
the same show (``from_edition``, by default the one just before): each offer carries that company's results
there (leads, hot leads, meetings; satisfaction from any module answering the ``exhibitor_satisfaction``
hook), a deadline and a priority window for booth choice, and is mailed to the company's exhibitor admins.
They answer in the portal: accepting makes the company an exhibitor of the edition (exhibitors.services) at
the stage the organizer chose; declining asks for a reason. Offers past their deadline expire (Celery beat,
``expire_due``; an answer after the deadline is refused even before the task ran).

Plain functions: no request, no current user. Services flush; the caller commits once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..core import activity
from ..core import services as core
from ..core.db import take_write_lock
from ..core.models import Edition
from ..core.registry import registry
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, move_status
from ..exhibitors import services as exhibitor_services
from ..exhibitors.models import EXHIBITOR_STATUS, PARTICIPATING_STATUSES, BoothType, Exhibitor
from ..extensions import db
from ..leads.models import Lead
from ..matchmaking.models import meeting_models
from .models import ACCEPT_STAGES, DECLINE_REASON, REBOOKING_STATUS, RebookingOffer

MAX_MESSAGE = 2000
MAX_NOTE = 500
MAX_AREA = Decimal(100_000)  # m²: beyond any hall
MET_OR_AGREED = ("accepted", "attended")
Meeting = meeting_models.Meeting
FALLBACK_URL = "http://127.0.0.1:5000"


# --- editions -----------------------------------------------------------------------------------------

def next_edition(edition: Edition) -> Edition | None:
    """The edition of the same show that comes right after this one."""
    return db.session.scalar(scoped(Edition, Scope(edition.organizer_id))
                             .where(Edition.show_id == edition.show_id, Edition.starts_on > edition.starts_on)
                             .order_by(Edition.starts_on).limit(1))


def source_editions(edition: Edition) -> list[Edition]:
    """The earlier editions of the show an offer for ``edition`` can come from, latest first."""
    return list(db.session.scalars(scoped(Edition, Scope(edition.organizer_id))
                                   .where(Edition.show_id == edition.show_id, Edition.starts_on < edition.starts_on)
                                   .order_by(Edition.starts_on.desc())))


def edition_today(edition: Edition, now: datetime | None = None) -> date:
    return (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(edition.timezone)).date()


# --- results ------------------------------------------------------------------------------------------

def exhibitor_results(scope: Scope, exhibitor_ids: list[int]) -> dict[int, dict]:
    """Per exhibitor: leads, hot leads, meetings agreed or held, and satisfaction (None until a module answers
    the ``exhibitor_satisfaction`` hook with {exhibitor id: score})."""
    ids = list(exhibitor_ids)
    out = {i: {"leads": 0, "hot_leads": 0, "meetings": 0, "satisfaction": None} for i in ids}
    if not ids:
        return out
    for exhibitor_id, leads, hot in db.session.execute(
            scoped(Lead, scope, Lead.exhibitor_id, func.count(Lead.id),
                   func.coalesce(func.sum(func.cast(Lead.rating == "hot", db.Integer)), 0))
            .where(Lead.exhibitor_id.in_(ids)).group_by(Lead.exhibitor_id)):
        out[exhibitor_id].update(leads=int(leads), hot_leads=int(hot))
    for exhibitor_id, meetings in db.session.execute(
            scoped(Meeting, scope, Meeting.exhibitor_id, func.count(Meeting.id))
            .where(Meeting.exhibitor_id.in_(ids), Meeting.status.in_(MET_OR_AGREED)).group_by(Meeting.exhibitor_id)):
        out[exhibitor_id]["meetings"] = int(meetings)
    for hook in registry.hook("exhibitor_satisfaction"):  # surveys, once they exist
        for exhibitor_id, score in (hook(scope, ids) or {}).items():
            if exhibitor_id in out and score is not None:
                out[exhibitor_id]["satisfaction"] = score
    return out


@dataclass
class Candidate:
    exhibitor: Exhibitor
    results: dict
    rebooked: bool  # already taking part in the offered edition (no offer needed)
    offer: RebookingOffer | None  # the offer it has for the edition already


def candidates(scope: Scope, edition: Edition, from_edition: Edition) -> list[Candidate]:
    """The companies that took part in ``from_edition``, with their results, whether they already take part in
    ``edition`` and the offer they have for it."""
    exhibitors = list(db.session.scalars(
        scoped(Exhibitor, scope).options(joinedload(Exhibitor.company))
        .where(Exhibitor.edition_id == from_edition.id, Exhibitor.status.in_(PARTICIPATING_STATUSES))))
    exhibitors.sort(key=lambda e: e.company.name.lower())
    results = exhibitor_results(scope, [e.id for e in exhibitors])
    taking_part = set(db.session.scalars(scoped(Exhibitor, scope, Exhibitor.company_id).where(
        Exhibitor.edition_id == edition.id, Exhibitor.status.in_(PARTICIPATING_STATUSES))))
    offers = {o.company_id: o for o in db.session.scalars(
        scoped(RebookingOffer, scope).where(RebookingOffer.edition_id == edition.id))}
    return [Candidate(e, results[e.id], e.company_id in taking_part, offers.get(e.company_id)) for e in exhibitors]


# --- making offers --------------------------------------------------------------------------------------

@dataclass
class OfferTerms:
    deadline_on: date
    priority_from: date | None = None
    priority_until: date | None = None
    accept_stage: str = "negotiating"
    message: str = ""


def check_terms(edition: Edition, terms: OfferTerms, today: date) -> None:
    if terms.deadline_on < today:
        raise ServiceError(_l("The deadline cannot be in the past."), "deadline_on")
    if terms.deadline_on > edition.ends_on:
        raise ServiceError(_l("The deadline must be before the edition ends."), "deadline_on")
    if (terms.priority_from is None) != (terms.priority_until is None):
        raise ServiceError(_l("Give both days of the priority window, or neither."), "priority_until")
    if terms.priority_from is not None:
        if terms.priority_until < terms.priority_from:
            raise ServiceError(_l("The priority window ends before it starts."), "priority_until")
        if terms.priority_until > edition.ends_on:
            raise ServiceError(_l("The priority window must end before the edition ends."), "priority_until")
    if terms.accept_stage not in ACCEPT_STAGES:
        raise ServiceError(_l("Choose the stage an acceptance leads to."), "accept_stage")
    if len(terms.message) > MAX_MESSAGE:
        raise ServiceError(_l("The message is too long (at most %(n)s characters).", n=MAX_MESSAGE), "message")


def make_offers(scope: Scope, edition: Edition, from_edition: Edition, terms: OfferTerms, *,
                exhibitor_ids: list[int] | None = None, actor_id: int | None = None,
                now: datetime | None = None) -> list[RebookingOffer]:
    """Offers to the companies of ``from_edition`` (all of them, or those of ``exhibitor_ids``) that neither take
    part in ``edition`` yet nor have an offer for it; each is mailed. Returns the new offers."""
    now = now or datetime.now(timezone.utc)
    if edition.organizer_id != scope.organizer_id or from_edition.organizer_id != scope.organizer_id \
            or from_edition.show_id != edition.show_id or from_edition.starts_on >= edition.starts_on:
        raise ServiceError(_l("Offers go to the exhibitors of an earlier edition of the same show."), "from_edition")
    terms.message = (terms.message or "").strip()
    check_terms(edition, terms, edition_today(edition, now))
    chosen = None if exhibitor_ids is None else set(exhibitor_ids)
    offers = []
    for candidate in candidates(scope, edition, from_edition):
        exhibitor = candidate.exhibitor
        if candidate.rebooked or candidate.offer is not None or (chosen is not None and exhibitor.id not in chosen):
            continue
        results = candidate.results
        offer = RebookingOffer(
            organizer_id=scope.organizer_id, edition_id=edition.id, from_edition_id=from_edition.id,
            company_id=exhibitor.company_id, exhibitor_id=exhibitor.id, status="open",
            deadline_on=terms.deadline_on, priority_from=terms.priority_from, priority_until=terms.priority_until,
            accept_stage=terms.accept_stage, message=terms.message, leads=results["leads"],
            hot_leads=results["hot_leads"], meetings=results["meetings"],
            satisfaction=results["satisfaction"],
            results={"booth": exhibitor.booth, "area_m2": str(exhibitor.area_m2) if exhibitor.area_m2 else None,
                     "booth_type": exhibitor.booth_type.code if exhibitor.booth_type else None},
            created_by_id=actor_id, created_at=now)
        db.session.add(offer)
        db.session.flush()
        audit("rebooking.offered", organizer_id=scope.organizer_id, user_id=actor_id, obj=offer,
              details={"company_id": exhibitor.company_id, "edition_id": edition.id,
                       "deadline_on": terms.deadline_on.isoformat()})
        activity.record("rebooking.offered", organizer_id=scope.organizer_id, subject_type="company",
                        subject_id=exhibitor.company_id, edition_id=edition.id, user_id=actor_id, obj=offer,
                        details={"edition": edition.name, "deadline": terms.deadline_on.isoformat()})
        send_offer(offer, now=now)
        offers.append(offer)
    return offers


# --- mail ------------------------------------------------------------------------------------------------

def recipients(offer: RebookingOffer) -> list[tuple[str, str]]:
    """(email, locale) of whom the offer is mailed to: the active exhibitor admins of the company's participation
    in the earlier edition, else the company's own address."""
    admins = [(u.email, u.locale or "en") for u in exhibitor_services.staff(offer.exhibitor)
              if u.active and u.role == "exhibitor_admin" and u.email]
    if admins:
        return admins
    return [(offer.company.email, "en")] if offer.company.email else []


def _base() -> str:
    return (current_app.config.get("PUBLIC_URL") or FALLBACK_URL).rstrip("/")


def send_offer(offer: RebookingOffer, *, now: datetime | None = None, kind: str = "offer") -> int:
    """Queue the offer's mail to each recipient (in their language) and hand it to delivery after the commit.
    Returns how many were queued (an unsubscribed address gets none: the offer still waits in the portal)."""
    from ..core.tasks import deliver_mail

    sent = 0
    for email, locale in recipients(offer):
        with force_locale(locale):
            subject = (_("Book again for %(edition)s", edition=offer.edition.name) if kind == "offer" else
                       _("Your offer for %(edition)s is open again", edition=offer.edition.name))
            body = render_template("postshow/rebooking_mail.txt", offer=offer, kind=kind,
                                   url=f"{_base()}/portal/rebooking/{offer.id}",
                                   reason=lambda code: DECLINE_REASON.label(code))
            message = core.queue_mail(offer.organizer_id, email, " ".join(subject.split())[:300], body,
                                      marketing=True)
        if message is not None:
            deliver_mail.delay(message.id)
            sent += 1
    offer.sent_at = now or datetime.now(timezone.utc)
    offer.mailed_to = sent
    return sent


# --- answers --------------------------------------------------------------------------------------------

def lock_offer(offer: RebookingOffer) -> RebookingOffer:
    """The offer row locked until the commit (PostgreSQL: a row lock; SQLite: the write lock): two answers at
    once are made one after the other, and the second sees the first."""
    take_write_lock(db.session)
    db.session.execute(select(RebookingOffer.id).where(RebookingOffer.id == offer.id).with_for_update())
    db.session.refresh(offer)
    return offer


def past_deadline(offer: RebookingOffer, now: datetime | None = None) -> bool:
    return edition_today(offer.edition, now) > offer.deadline_on


def _check_open(offer: RebookingOffer, now: datetime | None) -> None:
    if offer.status == "open" and past_deadline(offer, now):
        expire(offer)
    if offer.status != "open":
        raise ServiceError(_l("This offer is %(state)s: it cannot be answered any more.",
                              state=REBOOKING_STATUS.label(offer.status).lower()))


def parse_area(text: str | None) -> Decimal | None:
    text = (text or "").strip().replace(",", ".")
    if not text:
        return None
    try:
        area = Decimal(text)
    except InvalidOperation:
        raise ServiceError(_l("Give the area as a number of m²."), "wanted_area_m2") from None
    if not area.is_finite() or area <= 0 or area > MAX_AREA:
        raise ServiceError(_l("Give an area between 1 and %(max)s m².", max=f"{MAX_AREA:,}"), "wanted_area_m2")
    return area.quantize(Decimal("0.01"))


def _booking_row(offer: RebookingOffer, scope: Scope, *, actor_id: int | None) -> Exhibitor:
    """The company's exhibitor row in the offered edition at the offer's stage: a new one, or its row in the
    pipeline moved on (a lost or cancelled row starts over as a prospect first)."""
    edition = offer.edition
    row = db.session.scalar(scoped(Exhibitor, scope).where(Exhibitor.edition_id == edition.id,
                                                           Exhibitor.company_id == offer.company_id))
    target = offer.accept_stage
    if row is None:
        row = exhibitor_services.add_exhibitor(scope, edition, offer.company.name, status=target,
                                               country=offer.company.country, actor_id=actor_id)
        return row
    if row.status in PARTICIPATING_STATUSES or row.status == target:
        return row
    if row.status in ("lost", "cancelled"):
        exhibitor_services.set_status(row, "prospect", actor_id=actor_id)
    if EXHIBITOR_STATUS.can_move(row.status, target):
        exhibitor_services.set_status(row, target, actor_id=actor_id)
    return row


def accept(offer: RebookingOffer, *, wanted_area_m2: Decimal | None = None, booth_wish: str = "",
           actor_id: int | None = None, now: datetime | None = None) -> Exhibitor:
    """The company books again: it becomes an exhibitor of the offered edition at the offer's stage, with the
    area it asks for (else last edition's), last edition's booth type if the edition sells it, and its sales rep."""
    now = now or datetime.now(timezone.utc)
    lock_offer(offer)
    _check_open(offer, now)
    booth_wish = " ".join((booth_wish or "").split())
    if len(booth_wish) > MAX_NOTE:
        raise ServiceError(_l("At most %(n)s characters.", n=MAX_NOTE), "booth_wish")
    if wanted_area_m2 is not None and (wanted_area_m2 <= 0 or wanted_area_m2 > MAX_AREA):
        raise ServiceError(_l("Give an area between 1 and %(max)s m².", max=f"{MAX_AREA:,}"), "wanted_area_m2")
    scope = Scope(offer.organizer_id)
    previous = offer.exhibitor
    row = _booking_row(offer, scope, actor_id=actor_id)
    if wanted_area_m2 is not None or row.area_m2 is None:
        row.area_m2 = wanted_area_m2 if wanted_area_m2 is not None else previous.area_m2
    if row.booth_type_id is None and previous.booth_type is not None:
        row.booth_type_id = db.session.scalar(scoped(BoothType, scope, BoothType.id).where(
            BoothType.edition_id == offer.edition_id, BoothType.code == previous.booth_type.code))
    if row.sales_rep_id is None:
        row.sales_rep_id = previous.sales_rep_id
    move_status(offer, REBOOKING_STATUS, "accepted", actor_id=actor_id)
    offer.answered_at, offer.answered_by_id = now, actor_id
    offer.wanted_area_m2, offer.booth_wish, offer.new_exhibitor_id = wanted_area_m2, booth_wish, row.id
    db.session.flush()
    activity.record("rebooking.accepted", organizer_id=offer.organizer_id, subject_type="company",
                    subject_id=offer.company_id, edition_id=offer.edition_id, user_id=actor_id, obj=offer,
                    details={"edition": offer.edition.name})
    return row


def decline(offer: RebookingOffer, reason: str, *, note: str = "", actor_id: int | None = None,
            now: datetime | None = None) -> None:
    now = now or datetime.now(timezone.utc)
    if reason not in DECLINE_REASON:
        raise ServiceError(_l("Tell us why, please: choose a reason."), "decline_reason")
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE:
        raise ServiceError(_l("At most %(n)s characters.", n=MAX_NOTE), "decline_note")
    lock_offer(offer)
    _check_open(offer, now)
    offer.decline_reason, offer.decline_note = reason, note
    move_status(offer, REBOOKING_STATUS, "declined", actor_id=actor_id)
    offer.answered_at, offer.answered_by_id = now, actor_id
    db.session.flush()
    activity.record("rebooking.declined", organizer_id=offer.organizer_id, subject_type="company",
                    subject_id=offer.company_id, edition_id=offer.edition_id, user_id=actor_id, obj=offer,
                    details={"edition": offer.edition.name, "machine": "rebooking_decline_reason", "reason": reason})


# --- the organizer's moves -----------------------------------------------------------------------------

def expire(offer: RebookingOffer, *, actor_id: int | None = None) -> bool:
    return move_status(offer, REBOOKING_STATUS, "expired", actor_id=actor_id)


def withdraw(offer: RebookingOffer, *, actor_id: int | None = None) -> None:
    lock_offer(offer)
    if not REBOOKING_STATUS.can_move(offer.status, "withdrawn"):
        raise ServiceError(_l("This offer is %(state)s: it cannot be withdrawn.",
                              state=REBOOKING_STATUS.label(offer.status).lower()))
    move_status(offer, REBOOKING_STATUS, "withdrawn", actor_id=actor_id)


def reopen(offer: RebookingOffer, deadline_on: date, *, actor_id: int | None = None,
           now: datetime | None = None) -> int:
    """An expired or declined offer open again until a new deadline, mailed again. Returns the mails queued."""
    now = now or datetime.now(timezone.utc)
    lock_offer(offer)
    if not REBOOKING_STATUS.can_move(offer.status, "open"):
        raise ServiceError(_l("Only an expired or declined offer can be opened again."))
    check_terms(offer.edition, OfferTerms(deadline_on, offer.priority_from, offer.priority_until,
                                          offer.accept_stage, offer.message), edition_today(offer.edition, now))
    move_status(offer, REBOOKING_STATUS, "open", actor_id=actor_id)
    offer.deadline_on = deadline_on
    offer.decline_reason, offer.decline_note, offer.answered_at, offer.answered_by_id = None, "", None, None
    db.session.flush()
    return send_offer(offer, now=now, kind="reopened")


def resend(offer: RebookingOffer, *, actor_id: int | None = None, now: datetime | None = None) -> int:
    if offer.status != "open":
        raise ServiceError(_l("Only an offer waiting for an answer is mailed again."))
    sent = send_offer(offer, now=now)
    audit("rebooking.resent", organizer_id=offer.organizer_id, user_id=actor_id, obj=offer,
          details={"mailed_to": sent})
    return sent


def expire_due(now: datetime | None = None, *, limit: int = 1000) -> int:
    """Beat: open offers past their deadline (the end of that day in their edition's zone) expire. Idempotent."""
    now = now or datetime.now(timezone.utc)
    rows = db.session.execute(select(RebookingOffer, Edition.timezone).join(Edition, Edition.id == RebookingOffer.edition_id)
                              .where(RebookingOffer.status == "open",
                                     # a local day is at most one ahead of UTC's: a coarse filter first
                                     RebookingOffer.deadline_on <= now.astimezone(timezone.utc).date())
                              .order_by(RebookingOffer.id).limit(limit)).all()
    expired = 0
    for offer, zone in rows:
        if now.astimezone(ZoneInfo(zone)).date() > offer.deadline_on:
            expire(offer)
            expired += 1
    db.session.flush()
    return expired


# --- reading ---------------------------------------------------------------------------------------------

def get_offer(scope: Scope, offer_id, edition_id: int) -> RebookingOffer | None:
    offer = db.session.scalar(scoped(RebookingOffer, scope).where(RebookingOffer.id == offer_id))
    return offer if offer is not None and offer.edition_id == edition_id else None


def company_offers(exhibitor: Exhibitor) -> list[RebookingOffer]:
    """The offers of the signed-in exhibitor's company (any of its participations), newest first; withdrawn
    ones are gone. The company is the customer: its admins in any edition read and answer its offers."""
    return list(db.session.scalars(
        scoped(RebookingOffer, Scope(exhibitor.organizer_id))
        .options(joinedload(RebookingOffer.edition), joinedload(RebookingOffer.from_edition))
        .where(RebookingOffer.company_id == exhibitor.company_id, RebookingOffer.status != "withdrawn")
        .order_by(RebookingOffer.created_at.desc(), RebookingOffer.id.desc())))


def company_offer(exhibitor: Exhibitor, offer_id) -> RebookingOffer | None:
    offer = db.session.scalar(scoped(RebookingOffer, Scope(exhibitor.organizer_id))
                              .where(RebookingOffer.id == offer_id))
    if offer is None or offer.company_id != exhibitor.company_id or offer.status == "withdrawn":
        return None
    return offer


@dataclass
class Overview:
    offers: list[RebookingOffer]
    counts: dict[str, int]
    made: int  # offers not withdrawn
    accepted: int
    answered: int
    reasons: list[tuple[str, int]]  # decline reason code, count, most first
    waiting: list[RebookingOffer]  # open, nearest deadline first

    @property
    def rebooking_rate(self) -> float | None:
        return self.accepted / self.made if self.made else None

    @property
    def answer_rate(self) -> float | None:
        return self.answered / self.made if self.made else None


def overview(scope: Scope, edition: Edition, *, status: str = "") -> Overview:
    everything = list(db.session.scalars(
        scoped(RebookingOffer, scope).options(joinedload(RebookingOffer.company),
                                              joinedload(RebookingOffer.new_exhibitor))
        .where(RebookingOffer.edition_id == edition.id)))
    everything.sort(key=lambda o: o.company.name.lower())
    counts = {code: 0 for code in REBOOKING_STATUS.codes}
    reasons: dict[str, int] = {}
    for offer in everything:
        counts[offer.status] += 1
        if offer.status == "declined" and offer.decline_reason:
            reasons[offer.decline_reason] = reasons.get(offer.decline_reason, 0) + 1
    made = len(everything) - counts["withdrawn"]
    shown = [o for o in everything if o.status == status] if status in REBOOKING_STATUS else everything
    waiting = sorted((o for o in everything if o.status == "open"), key=lambda o: (o.deadline_on, o.company.name))
    return Overview(offers=shown, counts=counts, made=made, accepted=counts["accepted"],
                    answered=counts["accepted"] + counts["declined"],
                    reasons=sorted(reasons.items(), key=lambda item: (-item[1], item[0])), waiting=waiting)
