"""The reps' follow-ups (R16): a task about one exhibitor, due at a moment; the "Today" page (overdue, today, the
next days, in the edition's time zone); done, snoozed, reopened; overdue ones escalated to the managers by mail,
once per follow-up (rep_tasks.escalate_overdue_follow_ups, Celery beat)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from ..core import activity
from ..core import services as core
from ..core.db import utcnow
from ..core.models import Edition, Organizer, User
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, move_status, unstorable
from ..extensions import db
from .assignment import rep_in_scope
from .models import Company, Exhibitor
from .rep_models import FOLLOW_UP_STATUS, FollowUp

NEXT_DAYS = 7  # the Today page shows what is due up to a week ahead
SNOOZE_DAYS = (1, 3, 7)
# Overdue by this much, an open follow-up is mailed to the managers (the rep had the rest of the day).
ESCALATE_AFTER = timedelta(hours=24)
ESCALATION_ROLES = ("manager",)  # who is told; the owner when the organizer has no manager
MAX_TITLE = 300
MAX_NOTE = 2000
DEFAULT_TIME = time(9, 0)
LATEST_DAY = date(2100, 1, 1)


def local_today(edition: Edition, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(edition.timezone)).date()


def due_moment(edition: Edition, day: date, at: time | None = None) -> datetime:
    """A local date (and time, default 09:00) in the edition's zone, as a UTC moment."""
    return datetime.combine(day, at or DEFAULT_TIME, ZoneInfo(edition.timezone))


# --- writing -----------------------------------------------------------------------------------------

def add_follow_up(scope: Scope, exhibitor: Exhibitor, title: str, due_on: date | None, *, at: time | None = None,
                  rep_id: int | None = None, note: str = "", actor_id: int | None = None,
                  now: datetime | None = None) -> FollowUp:
    """A follow-up of an exhibitor for a rep (default: the exhibitor's rep, else the actor)."""
    if exhibitor.organizer_id != scope.organizer_id:
        raise ServiceError(_l("No such exhibitor."), "exhibitor_id")
    title = " ".join((title or "").split())
    if not title:
        raise ServiceError(_l("Say what is to be done."), "title")
    if len(title) > MAX_TITLE or unstorable(title):
        raise ServiceError(_l("At most %(n)s characters.", n=MAX_TITLE), "title")
    note = (note or "").strip()
    if len(note) > MAX_NOTE or unstorable(note):
        raise ServiceError(_l("At most %(n)s characters.", n=MAX_NOTE), "note")
    if due_on is None:
        raise ServiceError(_l("Say when it is due."), "due_on")
    if not date(2000, 1, 1) <= due_on <= LATEST_DAY:
        raise ServiceError(_l("Choose a date between 2000 and 2100."), "due_on")
    rep = rep_in_scope(scope, rep_id if rep_id is not None else (exhibitor.sales_rep_id or actor_id))
    if rep is None:
        raise ServiceError(_l("Choose the sales rep who does it."), "rep_id")
    edition = exhibitor.edition or db.session.get(Edition, exhibitor.edition_id)
    follow_up = FollowUp(organizer_id=scope.organizer_id, edition_id=exhibitor.edition_id, exhibitor_id=exhibitor.id,
                         rep_id=rep.id, title=title, note=note, due_at=due_moment(edition, due_on, at),
                         status="open", created_by_id=actor_id, created_at=now or utcnow())
    db.session.add(follow_up)
    db.session.flush()
    audit("follow_up.added", organizer_id=scope.organizer_id, user_id=actor_id, obj=follow_up,
          details={"exhibitor_id": exhibitor.id, "rep_id": rep.id, "due_on": due_on.isoformat()})
    return follow_up


def can_change(user: User, follow_up: FollowUp, *, may_assign: bool) -> bool:
    """Its rep, whoever made it, or someone who assigns accounts (a manager) may tick it off or put it off."""
    return may_assign or user.id in (follow_up.rep_id, follow_up.created_by_id)


def complete(follow_up: FollowUp, *, actor_id: int | None = None, now: datetime | None = None) -> bool:
    """Done (audited; on the company's timeline)."""
    if not move_status(follow_up, FOLLOW_UP_STATUS, "done", actor_id=actor_id):
        return False
    follow_up.done_at = now or utcnow()
    follow_up.done_by_id = actor_id
    exhibitor = follow_up.exhibitor
    activity.record("follow_up.done", organizer_id=follow_up.organizer_id, subject_type="company",
                    subject_id=exhibitor.company_id, edition_id=follow_up.edition_id, user_id=actor_id,
                    obj=follow_up, details={"title": follow_up.title, "edition": exhibitor.edition.name})
    db.session.flush()
    return True


def reopen(follow_up: FollowUp, *, actor_id: int | None = None) -> bool:
    if not move_status(follow_up, FOLLOW_UP_STATUS, "open", actor_id=actor_id):
        return False
    follow_up.done_at = follow_up.done_by_id = None
    db.session.flush()
    return True


def cancel(follow_up: FollowUp, *, actor_id: int | None = None) -> bool:
    return move_status(follow_up, FOLLOW_UP_STATUS, "cancelled", actor_id=actor_id)


def snooze(follow_up: FollowUp, days: int, *, actor_id: int | None = None, now: datetime | None = None) -> None:
    """Put an open follow-up off by some days, counted from today (an overdue one) or from its due day; the
    time of day stays. It was escalated already? That stays: managers hear of a follow-up once."""
    if days not in SNOOZE_DAYS:
        raise ServiceError(_l("Put it off by 1, 3 or 7 days."), "days")
    if follow_up.status != "open":
        raise ServiceError(_l("Only an open follow-up can be put off."))
    edition = follow_up.exhibitor.edition
    zone = ZoneInfo(edition.timezone)
    local = follow_up.due_at.astimezone(zone)
    base = max(local.date(), local_today(edition, now))
    before = follow_up.due_at
    follow_up.due_at = datetime.combine(base + timedelta(days=days), local.time(), zone)
    follow_up.snoozed += 1
    audit("follow_up.snoozed", organizer_id=follow_up.organizer_id, user_id=actor_id, obj=follow_up,
          details={"days": days, "from_time": before.isoformat(), "to_time": follow_up.due_at.isoformat()})
    db.session.flush()


# --- reading -----------------------------------------------------------------------------------------

@dataclass
class TodayPage:
    """A rep's follow-ups of one edition, as the Today page groups them."""

    today: date
    overdue: list[FollowUp] = field(default_factory=list)
    due_today: list[FollowUp] = field(default_factory=list)
    upcoming: list[tuple[date, list[FollowUp]]] = field(default_factory=list)  # the next days, by day
    done_today: list[FollowUp] = field(default_factory=list)
    later: int = 0  # open ones due after the next days

    @property
    def open_count(self) -> int:
        return len(self.overdue) + len(self.due_today) + sum(len(v) for _d, v in self.upcoming) + self.later


def today_page(scope: Scope, edition: Edition, rep_id: int | None, *, now: datetime | None = None) -> TodayPage:
    """``rep_id`` None: the whole team's."""
    now = now or utcnow()
    zone = ZoneInfo(edition.timezone)
    today = local_today(edition, now)
    start = datetime.combine(today, time(0), zone)
    stmt = scoped(FollowUp, scope).join(Exhibitor, Exhibitor.id == FollowUp.exhibitor_id).join(Company) \
        .where(FollowUp.edition_id == edition.id)
    if rep_id is not None:
        stmt = stmt.where(FollowUp.rep_id == rep_id)
    page = TodayPage(today)
    horizon = datetime.combine(today + timedelta(days=NEXT_DAYS + 1), time(0), zone)
    rows = db.session.scalars(stmt.where(FollowUp.status == "open", FollowUp.due_at < horizon)
                              .order_by(FollowUp.due_at, FollowUp.id)).all()
    days: dict[date, list[FollowUp]] = defaultdict(list)
    for row in rows:
        day = row.due_at.astimezone(zone).date()
        if day < today:
            page.overdue.append(row)
        elif day == today:
            page.due_today.append(row)
        else:
            days[day].append(row)
    page.upcoming = sorted(days.items())
    page.later = db.session.scalar(select(func.count()).select_from(
        stmt.where(FollowUp.status == "open", FollowUp.due_at >= horizon).subquery())) or 0
    page.done_today = list(db.session.scalars(stmt.where(FollowUp.status == "done", FollowUp.done_at >= start)
                                              .order_by(FollowUp.done_at.desc())))
    return page


def is_overdue(follow_up: FollowUp, now: datetime | None = None) -> bool:
    return follow_up.status == "open" and follow_up.due_at < (now or utcnow())


def open_counts(scope: Scope, exhibitor_ids: list[int], *, now: datetime | None = None) -> dict[int, tuple]:
    """exhibitor id → (open follow-ups, overdue ones, next due moment)."""
    if not exhibitor_ids:
        return {}
    now = now or utcnow()
    rows = db.session.execute(scoped(FollowUp, scope, FollowUp.exhibitor_id, FollowUp.due_at)
                              .where(FollowUp.exhibitor_id.in_(exhibitor_ids), FollowUp.status == "open")).all()
    out: dict[int, list] = {}
    for exhibitor_id, due_at in rows:
        entry = out.setdefault(exhibitor_id, [0, 0, None])
        entry[0] += 1
        if due_at < now:
            entry[1] += 1
        if entry[2] is None or due_at < entry[2]:
            entry[2] = due_at
    return {k: tuple(v) for k, v in out.items()}


def exhibitor_follow_ups(scope: Scope, exhibitor: Exhibitor) -> list[FollowUp]:
    return list(db.session.scalars(scoped(FollowUp, scope).where(FollowUp.exhibitor_id == exhibitor.id)
                                   .order_by(FollowUp.status != "open", FollowUp.due_at)))


def overdue_counts(scope: Scope, edition: Edition, *, now: datetime | None = None) -> dict[int, int]:
    """rep id → open follow-ups of the edition past their due moment."""
    return dict(db.session.execute(
        scoped(FollowUp, scope, FollowUp.rep_id, func.count(FollowUp.id))
        .where(FollowUp.edition_id == edition.id, FollowUp.status == "open", FollowUp.due_at < (now or utcnow()))
        .group_by(FollowUp.rep_id)).all())


# --- escalation ----------------------------------------------------------------------------------------

def due_escalations(now: datetime | None = None, limit: int = 500) -> list[int]:
    """Open follow-ups overdue by ESCALATE_AFTER that no manager heard of yet (every organizer)."""
    now = now or utcnow()
    return list(db.session.scalars(select(FollowUp.id).where(FollowUp.status == "open",
                                                             FollowUp.escalated_at.is_(None),
                                                             FollowUp.due_at < now - ESCALATE_AFTER)
                                   .order_by(FollowUp.organizer_id, FollowUp.due_at, FollowUp.id).limit(limit)))


def claim_escalation(follow_up_id: int, now: datetime | None = None) -> bool:
    """Mark the follow-up escalated, once: two overlapping runs never mail about it twice."""
    result = db.session.execute(update(FollowUp).where(FollowUp.id == follow_up_id, FollowUp.escalated_at.is_(None),
                                                       FollowUp.status == "open")
                                .values(escalated_at=now or utcnow()), execution_options={"synchronize_session": False})
    return result.rowcount == 1


def escalation_recipients(organizer_id: int) -> list[User]:
    """The organizer's active managers; its owners when it has none."""
    scope = Scope(organizer_id)
    for roles in (ESCALATION_ROLES, ("owner",)):
        users = list(db.session.scalars(scoped(User, scope).where(User.role.in_(roles), User.active.is_(True),
                                                                  User.exhibitor_id.is_(None), User.email != "")
                                        .order_by(User.id)))
        if users:
            return users
    return []


def escalate_overdue(now: datetime | None = None) -> list:
    """Claim every follow-up due for escalation and queue one mail per manager and organizer listing them
    (in the manager's language). Returns the queued messages (the caller hands them to delivery after its commit)."""
    now = now or utcnow()
    claimed: dict[int, list[FollowUp]] = defaultdict(list)
    for follow_up_id in due_escalations(now):
        if claim_escalation(follow_up_id, now):
            follow_up = db.session.get(FollowUp, follow_up_id)
            claimed[follow_up.organizer_id].append(follow_up)
    messages = []
    base = (current_app.config.get("PUBLIC_URL") or "http://127.0.0.1:5000").rstrip("/")
    for organizer_id, follow_ups in claimed.items():
        organizer = db.session.get(Organizer, organizer_id)
        for manager in escalation_recipients(organizer_id):
            with force_locale(manager.locale or "en"):
                subject = _("Overdue follow-ups: %(n)s", n=len(follow_ups))
                lines = [_("Hello %(name)s,", name=manager.name), "",
                         _("These follow-ups of your sales team are overdue by more than a day:"), ""]
                for f in follow_ups:
                    edition = f.exhibitor.edition
                    zone = ZoneInfo(edition.timezone)
                    lines.append(_("- %(company)s (%(edition)s): %(title)s — due %(due)s, %(rep)s",
                                   company=f.exhibitor.company.name, edition=edition.name, title=f.title,
                                   due=f.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"), rep=f.rep.name))
                    lines.append(f"  {base}/org/editions/{edition.id}/sales/today?rep={f.rep_id}")
                lines += ["", _("Each overdue follow-up is mailed once, a day after it was due."), "",
                          organizer.name]
                message = core.queue_mail(organizer_id, manager.email, subject[:300], "\n".join(lines))
            if message is not None:
                messages.append(message)
    for follow_ups in claimed.values():
        for f in follow_ups:
            audit("follow_up.escalated", organizer_id=f.organizer_id, obj=f,
                  details={"rep_id": f.rep_id, "exhibitor_id": f.exhibitor_id})
    db.session.flush()
    return messages
