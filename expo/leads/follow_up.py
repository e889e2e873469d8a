"""The exhibitor's follow-up of a lead after the show: a status (to contact → contacted → quote sent → won / lost,
``models.LEAD_FOLLOW_UP``), the next step's day (a reminder), a won deal's value, a lost lead's reason.

``move`` makes every status move (audited through core.services.move_status, and a ``LeadFollowUp`` row: the
lead's history); ``set_next_step`` changes the reminder day. The organizer gets ``follow_up_rates``: counts and
shares per exhibitor, never a lead's content or the visitor's identity.

Plain functions: no request, no current user. Services flush; the caller commits once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select

from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, move_status, unstorable
from ..exhibitors.models import PARTICIPATING_STATUSES, Exhibitor
from ..extensions import db
from .models import LEAD_FOLLOW_UP, Lead, LeadFollowUp

OPEN_STATUSES = ("to_contact", "contacted", "quote_sent")  # a reminder still makes sense
CLOSED_STATUSES = ("won", "lost")
MAX_WON_VALUE = Decimal("999999999999.99")  # Numeric(14, 2)
CONTACT_WITHIN = timedelta(days=7)  # the organizer's "contacted within 7 days of capture"
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2999, 12, 31)  # a next step outside these is a typo

LOST_REASONS = {
    "price": _l("Price"),
    "competitor": _l("Chose a competitor"),
    "no_budget": _l("No budget"),
    "no_need": _l("No need"),
    "no_answer": _l("Never answered"),
    "other": _l("Other reason"),
}

UNSET = object()
AMOUNT = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,10})?", re.ASCII)  # plain digits: no exponent, no separators


def lost_reason_label(code: str) -> str:
    return str(LOST_REASONS.get(code, code or ""))


# --- reading the input (views and the API share it) -------------------------------------------------------

def parse_status(value) -> str:
    if not isinstance(value, str) or value not in LEAD_FOLLOW_UP:
        raise ServiceError(_l("Unknown follow-up status."), "follow_up_status")
    return value


def parse_next_step(value) -> date | None:
    """A day as YYYY-MM-DD, or empty / None to clear it."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or unstorable(value) or len(value) > 10:
        raise ServiceError(_l("The next step must be a date (YYYY-MM-DD)."), "next_step_on")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ServiceError(_l("The next step must be a date (YYYY-MM-DD)."), "next_step_on") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ServiceError(_l("The next step's date is out of range."), "next_step_on")
    return day


def parse_won_value(value) -> Decimal | None:
    """A deal's value: a number ≥ 0 with at most 2 decimals, below a trillion; empty / None: not given."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ServiceError(_l("The deal's value must be a number."), "won_value")
    if isinstance(value, str) and (unstorable(value) or len(value) > 40):
        raise ServiceError(_l("The deal's value must be a number."), "won_value")
    text = str(value).strip() if isinstance(value, str) else repr(value)
    if isinstance(value, str) and not AMOUNT.fullmatch(text):
        raise ServiceError(_l("The deal's value must be a number."), "won_value")
    try:
        amount = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ServiceError(_l("The deal's value must be a number."), "won_value") from None
    if not amount.is_finite():
        raise ServiceError(_l("The deal's value must be a number."), "won_value")
    if amount < 0:
        raise ServiceError(_l("The deal's value cannot be negative."), "won_value")
    if amount > MAX_WON_VALUE:
        raise ServiceError(_l("The deal's value is too large."), "won_value")
    cents = amount.quantize(Decimal("0.01"))
    if cents != amount:  # 12.345 is a typo, not 12.35: rounding it silently would change what was typed
        raise ServiceError(_l("The deal's value has at most 2 decimals."), "won_value")
    return abs(cents)  # "-0" is 0.00


def parse_lost_reason(value) -> str:
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or value not in LOST_REASONS:
        raise ServiceError(_l("Choose why the lead was lost."), "lost_reason")
    return value


# --- the moves ------------------------------------------------------------------------------------------

def move(lead: Lead, target: str, *, actor_id: int | None, next_step_on=UNSET, won_value: Decimal | None = None,
         lost_reason: str = "", now: datetime | None = None) -> bool:
    """Move the lead's follow-up status to ``target`` (legal moves only, audited, recorded in its history).
    Won: ``won_value`` optional; lost: ``lost_reason`` (a LOST_REASONS code) required. A closed lead (won, lost)
    has no next step. Returns False when nothing changed."""
    now = now or datetime.now(timezone.utc)
    target = parse_status(target)
    source = lead.follow_up_status or "to_contact"
    if target == "lost" and not lost_reason:
        raise ServiceError(_l("Choose why the lead was lost."), "lost_reason")
    if target == source:
        changed = False
        if target == "won" and won_value is not None and won_value != lead.won_value:
            # that it changed, not the amount: the organizer's audit log is no place for the exhibitor's deals
            audit("lead.won_value", organizer_id=lead.organizer_id, user_id=actor_id, obj=lead,
                  details={"fields": ["won_value"]})
            lead.won_value, changed = won_value, True
        if target == "lost" and lost_reason != lead.lost_reason:
            audit("lead.updated", organizer_id=lead.organizer_id, user_id=actor_id, obj=lead,
                  details={"fields": ["lost_reason"]})
            lead.lost_reason, changed = lost_reason, True
        if next_step_on is not UNSET and target in OPEN_STATUSES:
            changed = set_next_step(lead, next_step_on, actor_id=actor_id) or changed
        return changed
    lead.follow_up_status = source
    move_status(lead, LEAD_FOLLOW_UP, target, actor_id=actor_id, column="follow_up_status")
    lead.follow_up_at, lead.follow_up_by_id = now, actor_id
    if target != "to_contact" and lead.first_followed_up_at is None:
        lead.first_followed_up_at = now
    lead.won_value = won_value if target == "won" else None
    lead.lost_reason = lost_reason if target == "lost" else ""
    if target in CLOSED_STATUSES:
        lead.next_step_on = None
    elif next_step_on is not UNSET:
        lead.next_step_on = next_step_on
    db.session.add(LeadFollowUp(organizer_id=lead.organizer_id, exhibitor_id=lead.exhibitor_id, lead_id=lead.id,
                                from_status=source, to_status=target, moved_at=now, moved_by_id=actor_id,
                                next_step_on=lead.next_step_on, won_value=lead.won_value,
                                lost_reason=lead.lost_reason))
    db.session.flush()
    return True


def set_next_step(lead: Lead, day: date | None, *, actor_id: int | None) -> bool:
    """The day of the lead's next step (its reminder), or None. A closed lead (won, lost) takes none."""
    if day == lead.next_step_on:
        return False
    if day is not None and lead.follow_up_status in CLOSED_STATUSES:
        raise ServiceError(_l("A won or lost lead has no next step."), "next_step_on")
    audit("lead.next_step", organizer_id=lead.organizer_id, user_id=actor_id, obj=lead,
          details={"from": lead.next_step_on.isoformat() if lead.next_step_on else None,
                   "to": day.isoformat() if day else None})
    lead.next_step_on = day
    db.session.flush()
    return True


def apply_change(lead: Lead, *, status=UNSET, next_step_on=UNSET, won_value=UNSET, lost_reason=UNSET,
                 actor_id: int | None, now: datetime | None = None) -> bool:
    """One follow-up change as the lead page, the list's quick change and the API give it: raw values, read and
    checked first (a ServiceError names the field), then one move and/or a new next step."""
    target = parse_status(status) if status is not UNSET else lead.follow_up_status
    day = parse_next_step(next_step_on) if next_step_on is not UNSET else UNSET
    value = parse_won_value(won_value) if won_value is not UNSET else None
    reason = parse_lost_reason(lost_reason) if lost_reason is not UNSET else ""
    if target == "lost" and not reason and lead.follow_up_status == "lost":
        reason = lead.lost_reason
    if value is not None and target != "won":
        raise ServiceError(_l("A deal's value is given for a won lead only."), "won_value")
    if day not in (UNSET, None) and target in CLOSED_STATUSES:
        raise ServiceError(_l("A won or lost lead has no next step."), "next_step_on")
    if target == lead.follow_up_status and won_value is UNSET and target == "won":
        value = lead.won_value
    return move(lead, target, actor_id=actor_id, next_step_on=day, won_value=value, lost_reason=reason, now=now)


def history(lead: Lead) -> list[LeadFollowUp]:
    """The lead's follow-up moves, newest first."""
    return list(db.session.scalars(select(LeadFollowUp).where(LeadFollowUp.lead_id == lead.id,
                                                               LeadFollowUp.organizer_id == lead.organizer_id)
                                   .order_by(LeadFollowUp.moved_at.desc(), LeadFollowUp.id.desc())))


# --- the exhibitor's list: filters and the pipeline summary --------------------------------------------------

REMINDER_FILTERS = {"due": _l("Next step due"), "overdue": _l("Next step overdue")}


def apply_filters(stmt, statuses: list[str], reminder: str, today: date):
    if statuses:
        stmt = stmt.where(Lead.follow_up_status.in_(statuses))
    if reminder == "due":  # today or earlier
        stmt = stmt.where(Lead.next_step_on <= today, Lead.follow_up_status.in_(OPEN_STATUSES))
    elif reminder == "overdue":  # before today
        stmt = stmt.where(Lead.next_step_on < today, Lead.follow_up_status.in_(OPEN_STATUSES))
    return stmt


@dataclass
class Pipeline:
    counts: dict[str, int]  # status -> leads
    won_value: Decimal
    due: int  # open leads whose next step is today or earlier

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def pipeline(visible, today: date) -> Pipeline:
    """Counts per status, the won value and the due reminders over ``visible`` (a function of columns -> the
    select of the leads the user may see: leads.services._visible_leads bound to the user)."""
    counts = dict.fromkeys(LEAD_FOLLOW_UP.codes, 0)
    won = Decimal(0)
    for status, n, value in db.session.execute(visible(Lead.follow_up_status, func.count(Lead.id),
                                                       func.sum(Lead.won_value)).group_by(Lead.follow_up_status)):
        counts[status] = int(n)
        if status == "won" and value is not None:
            won = Decimal(value)
    due = db.session.scalar(visible(func.count(Lead.id)).where(
        Lead.next_step_on <= today, Lead.follow_up_status.in_(OPEN_STATUSES))) or 0
    return Pipeline(counts, won, int(due))


# --- the organizer's figures: rates per exhibitor, never a lead's content ----------------------------------------

def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def follow_up_rates(scope: Scope, edition_id: int) -> dict[int, dict]:
    """Per exhibitor of the edition (those taking part, and any other with leads): ``leads``, ``followed_up``
    (leads moved out of "to contact" at least once), ``contacted_7d`` (first moved within 7 days of the first
    scan), ``quotes`` (leads that reached "quote sent", now or before), ``won``, ``won_value`` (float), ``lost``,
    and the shares ``followed_up_rate``, ``contacted_7d_rate``, ``won_rate`` (None without leads). Counts only."""
    org_scope = Scope(scope.organizer_id, scope.exhibitor_id)
    exhibitor_ids = set(db.session.scalars(scoped(Exhibitor, org_scope, Exhibitor.id).where(
        Exhibitor.edition_id == edition_id, Exhibitor.status.in_(PARTICIPATING_STATUSES))))
    in_edition = select(Exhibitor.id).where(Exhibitor.edition_id == edition_id,
                                            Exhibitor.organizer_id == scope.organizer_id)
    rows = db.session.execute(
        scoped(Lead, org_scope, Lead.exhibitor_id, func.count(Lead.id),
               func.count(Lead.first_followed_up_at),
               func.sum(func.cast(Lead.follow_up_status == "won", db.Integer)),
               func.sum(func.cast(Lead.follow_up_status == "lost", db.Integer)),
               func.sum(Lead.won_value))
        .where(Lead.exhibitor_id.in_(in_edition)).group_by(Lead.exhibitor_id)).all()
    out: dict[int, dict] = {}

    def blank():
        return {"leads": 0, "followed_up": 0, "contacted_7d": 0, "quotes": 0, "won": 0, "won_value": 0.0, "lost": 0}

    for exhibitor_id in exhibitor_ids:
        out[exhibitor_id] = blank()
    for exhibitor_id, leads, followed, won, lost, value in rows:
        out.setdefault(exhibitor_id, blank()).update(
            leads=int(leads), followed_up=int(followed or 0), won=int(won or 0), lost=int(lost or 0),
            won_value=float(value or 0))
    # contacted within 7 days of the first scan: the date arithmetic of each database, counted in SQL
    if db.session.get_bind().dialect.name == "sqlite":
        within = func.julianday(Lead.first_followed_up_at) - func.julianday(Lead.first_scanned_at) \
            <= CONTACT_WITHIN.total_seconds() / 86400
    else:
        within = (Lead.first_followed_up_at - Lead.first_scanned_at) <= CONTACT_WITHIN
    for exhibitor_id, n in db.session.execute(
            scoped(Lead, org_scope, Lead.exhibitor_id, func.count(Lead.id))
            .where(Lead.exhibitor_id.in_(in_edition), Lead.first_followed_up_at.is_not(None), within)
            .group_by(Lead.exhibitor_id)):
        out[exhibitor_id]["contacted_7d"] = int(n)
    quoted = or_(Lead.follow_up_status == "quote_sent",
                 select(LeadFollowUp.id).where(LeadFollowUp.lead_id == Lead.id,
                                               LeadFollowUp.to_status == "quote_sent").exists())
    for exhibitor_id, n in db.session.execute(
            scoped(Lead, org_scope, Lead.exhibitor_id, func.count(Lead.id))
            .where(and_(Lead.exhibitor_id.in_(in_edition), quoted)).group_by(Lead.exhibitor_id)):
        out[exhibitor_id]["quotes"] = int(n)
    for figures in out.values():
        figures["followed_up_rate"] = _share(figures["followed_up"], figures["leads"])
        figures["contacted_7d_rate"] = _share(figures["contacted_7d"], figures["leads"])
        figures["won_rate"] = _share(figures["won"], figures["leads"])
    return out


# --- what the API and the exports carry -----------------------------------------------------------------------

# HubSpot's own "Lead Status" options, as it ships (its import maps them by itself)
HUBSPOT_STATUS = {"to_contact": "New", "contacted": "Connected", "quote_sent": "Open Deal", "won": "Open Deal",
                  "lost": "Unqualified"}


def payload(lead: Lead) -> dict:
    """The follow-up fields of the lead API's answer."""
    return {"follow_up_status": lead.follow_up_status or "to_contact",
            "next_step_on": lead.next_step_on.isoformat() if lead.next_step_on else None,
            "won_value": str(lead.won_value) if lead.won_value is not None else None,
            "lost_reason": lead.lost_reason or None,
            "follow_up_at": lead.follow_up_at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
            if lead.follow_up_at else None}


def status_line(lead: Lead) -> str:
    """One line for a CRM import's description: "Follow-up: Won (12500.00)", "Follow-up: Lost (Price)"."""
    words = LEAD_FOLLOW_UP.label(lead.follow_up_status)
    if lead.follow_up_status == "won" and lead.won_value is not None:
        words = f"{words} ({lead.won_value})"
    elif lead.follow_up_status == "lost" and lead.lost_reason:
        words = f"{words} ({lost_reason_label(lead.lost_reason)})"
    elif lead.next_step_on:
        words = f"{words} → {lead.next_step_on.isoformat()}"
    return str(_l("Follow-up: %(value)s", value=words))


# the lead API's PATCH fields -> apply_change's arguments
API_FIELDS = {"follow_up_status": "status", "next_step_on": "next_step_on", "won_value": "won_value",
              "lost_reason": "lost_reason"}


# --- reminders (Celery beat: follow_up_tasks) -------------------------------------------------------------------

def _recipient(lead: Lead, users: dict, admins: dict) -> list:
    """Who is reminded of a lead: the exhibitor user who last moved its follow-up, else the one who captured
    it (if still active at the exhibitor), else the exhibitor's admins."""
    for user_id in (lead.follow_up_by_id, lead.captured_by_id):
        user = users.get(user_id)
        if user is not None and user.active and user.exhibitor_id == lead.exhibitor_id and user.email:
            return [user]
    return admins.get(lead.exhibitor_id, [])


def _claim(lead_id: int, day: date) -> bool:
    """Mark the reminder of this lead for this day as sent; False when another run did it already."""
    from sqlalchemy import update

    done = db.session.execute(update(Lead).where(
        Lead.id == lead_id, Lead.next_step_on == day,
        or_(Lead.reminded_on.is_(None), Lead.reminded_on != day)).values(reminded_on=day))
    return done.rowcount == 1


def send_reminders(now: datetime | None = None, *, base_url: str = "http://127.0.0.1:5000") -> list:
    """Queue one mail per exhibitor user listing their open leads whose next step's day (in the edition's time
    zone) has come, each lead once per next-step day. Returns the queued messages (the caller commits, then
    hands them to delivery)."""
    from zoneinfo import ZoneInfo

    from flask import current_app
    from flask_babel import force_locale
    from flask_babel import gettext as _

    from ..core import services as core
    from ..core.models import Edition, User
    from .services import lead_contact

    now = now or datetime.now(timezone.utc)
    horizon = (now + timedelta(days=1)).date()  # no zone is more than a day ahead of UTC
    rows = db.session.execute(
        select(Lead, Edition.timezone).join(Exhibitor, Exhibitor.id == Lead.exhibitor_id)
        .join(Edition, Edition.id == Exhibitor.edition_id)
        .where(Lead.next_step_on.is_not(None), Lead.next_step_on <= horizon,
               Lead.follow_up_status.in_(OPEN_STATUSES),
               or_(Lead.reminded_on.is_(None), Lead.reminded_on != Lead.next_step_on))
        .order_by(Lead.exhibitor_id, Lead.next_step_on, Lead.id)).all()
    due = [(lead, zone) for lead, zone in rows if lead.next_step_on <= now.astimezone(ZoneInfo(zone)).date()]
    if not due:
        return []
    user_ids = {i for lead, _z in due for i in (lead.follow_up_by_id, lead.captured_by_id) if i}
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))} if user_ids else {}
    admins: dict[int, list] = {}
    for user in db.session.scalars(select(User).where(
            User.exhibitor_id.in_({lead.exhibitor_id for lead, _z in due}), User.role == "exhibitor_admin",
            User.active.is_(True), User.email != "").order_by(User.id)):
        admins.setdefault(user.exhibitor_id, []).append(user)
    per_user: dict[int, list] = {}
    recipients: dict[int, object] = {}
    for lead, zone in due:
        targets = _recipient(lead, users, admins)
        if not targets or not _claim(lead.id, lead.next_step_on):
            continue
        audit("lead.reminded", organizer_id=lead.organizer_id, obj=lead,
              details={"next_step_on": lead.next_step_on.isoformat(), "to": [u.id for u in targets]})
        for user in targets:
            recipients[user.id] = user
            per_user.setdefault(user.id, []).append((lead, zone))
    base = (current_app.config.get("PUBLIC_URL") or base_url).rstrip("/")
    messages = []
    for user_id, leads in per_user.items():
        user = recipients[user_id]
        with force_locale(user.locale or "en"):
            lines = [_("Hello %(name)s,", name=user.name), "",
                     _("The next step of these leads is due:"), ""]
            for lead, zone in leads:
                contact = lead_contact(lead)
                who = contact["name"] or _("Visitor #%(id)s", id=lead.id)
                if contact["company"]:
                    who = f"{who}, {contact['company']}"
                late = lead.next_step_on < now.astimezone(ZoneInfo(zone)).date()
                lines.append(_("- %(who)s — %(status)s, next step %(day)s%(late)s", who=who,
                               status=LEAD_FOLLOW_UP.label(lead.follow_up_status), day=lead.next_step_on.isoformat(),
                               late=" " + _("(overdue)") if late else ""))
                lines.append(f"  {base}/portal/leads/{lead.id}")
            lines += ["", _("Each lead is reminded once per next-step date. Set a new date on the lead to be "
                            "reminded again."), ""]
            subject = _("Leads to follow up today: %(n)s", n=len(leads))
            message = core.queue_mail(user.organizer_id, user.email, subject[:300], "\n".join(lines))
        if message is not None:
            messages.append(message)
    db.session.flush()
    return messages
