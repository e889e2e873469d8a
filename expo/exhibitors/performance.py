"""Rep performance (R14): per sales rep, for an edition and optionally a period of signing dates: revenue and m²
booked (exhibitors at contracted or beyond), new exhibitors (the company's first edition of the show), retention
of their accounts (companies they had at the previous edition that took part, and booked again) and their
overdue follow-ups.

A booking's signing moment is its last move into contracted/paid/exhibited in the audit log, else when the
exhibitor was added (added as contracted, or imported)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ..core.db import utcnow
from ..core.models import AuditEntry, Edition, User
from ..core.scoping import Scope, scoped
from ..core.services import previous_edition
from ..extensions import db
from .followups import overdue_counts
from .models import PARTICIPATING_STATUSES, Exhibitor
from .rep_models import FollowUp

OPEN_STATUSES = ("prospect", "contacted", "negotiating")
NOBODY = 0  # the row of exhibitors nobody looks after


@dataclass
class RepFigures:
    rep_id: int
    name: str
    accounts: int = 0
    in_pipeline: int = 0
    won: int = 0
    revenue: Decimal = Decimal("0")
    area_m2: Decimal = Decimal("0")
    new_exhibitors: int = 0
    last_edition_accounts: int = 0  # their companies that took part in the previous edition
    rebooked: int = 0  # of those, booked again for this edition
    overdue: int = 0
    open_follow_ups: int = 0

    @property
    def retention(self) -> float | None:
        """Share of last edition's accounts booked again (None: they had none)."""
        return self.rebooked / self.last_edition_accounts if self.last_edition_accounts else None


@dataclass
class Performance:
    edition: Edition
    previous: Edition | None
    start: date | None
    end: date | None
    rows: list[RepFigures] = field(default_factory=list)
    total: RepFigures | None = None

    def chart(self, revenue_label: str) -> dict:
        shown = [r for r in self.rows if r.rep_id != NOBODY or r.won]
        return {"type": "bar", "categories": [r.name for r in shown],
                "series": [{"name": revenue_label, "data": [float(r.revenue) for r in shown]}],
                "labels": True}

    def area_chart(self, area_label: str) -> dict:
        shown = [r for r in self.rows if r.rep_id != NOBODY or r.won]
        return {"type": "bar", "categories": [r.name for r in shown], "unit": "m²",
                "series": [{"name": area_label, "data": [float(r.area_m2) for r in shown]}], "labels": True}


def signed_moments(scope: Scope, exhibitors: list[Exhibitor]) -> dict[int, datetime]:
    """exhibitor id → when it last moved into contracted or beyond (audit log), else when it was added."""
    ids = [e.id for e in exhibitors]
    moments: dict[int, datetime] = {}
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        rows = db.session.execute(scoped(AuditEntry, scope, AuditEntry.object_id, AuditEntry.at, AuditEntry.details)
                                  .where(AuditEntry.action == "exhibitor.status",
                                         AuditEntry.object_type == "exhibitors", AuditEntry.object_id.in_(chunk))
                                  .order_by(AuditEntry.at, AuditEntry.id)).all()
        for object_id, at, details in rows:
            details = details or {}
            if details.get("to") in PARTICIPATING_STATUSES and details.get("from") not in PARTICIPATING_STATUSES:
                moments[object_id] = at
    return {e.id: moments.get(e.id, e.created_at) for e in exhibitors}


def rep_performance(scope: Scope, edition: Edition, *, start: date | None = None, end: date | None = None,
                    now: datetime | None = None) -> Performance:
    """Every rep with accounts in the edition (and every active sales rep), plus a row for exhibitors nobody
    looks after; ``start``/``end``: count only bookings signed on those days (edition's time zone)."""
    now = now or utcnow()
    zone = ZoneInfo(edition.timezone)
    previous = previous_edition(edition)
    result = Performance(edition, previous, start, end)
    users = {u.id: u for u in db.session.scalars(scoped(User, scope).where(User.exhibitor_id.is_(None)))}
    figures: dict[int, RepFigures] = {}

    def row(rep_id: int | None) -> RepFigures:
        key = rep_id or NOBODY
        if key not in figures:
            name = users[key].name if key in users else ""
            figures[key] = RepFigures(key, name)
        return figures[key]

    for user in users.values():
        if user.role == "sales" and user.active:
            row(user.id)
    exhibitors = list(db.session.scalars(scoped(Exhibitor, scope).where(Exhibitor.edition_id == edition.id)))
    won = [e for e in exhibitors if e.status in PARTICIPATING_STATUSES]
    signed = signed_moments(scope, won)
    earlier = _companies_before(scope, edition)
    for exhibitor in exhibitors:
        figures_ = row(exhibitor.sales_rep_id)
        figures_.accounts += 1
        if exhibitor.status in OPEN_STATUSES:
            figures_.in_pipeline += 1
        if exhibitor.status not in PARTICIPATING_STATUSES:
            continue
        day = signed[exhibitor.id].astimezone(zone).date()
        if (start is not None and day < start) or (end is not None and day > end):
            continue
        figures_.won += 1
        figures_.revenue += exhibitor.deal_value or 0
        figures_.area_m2 += exhibitor.area_m2 or 0
        if exhibitor.company_id not in earlier:
            figures_.new_exhibitors += 1
    if previous is not None:
        booked_now = {e.company_id for e in won}
        for company_id, rep_id in db.session.execute(
                scoped(Exhibitor, scope, Exhibitor.company_id, Exhibitor.sales_rep_id)
                .where(Exhibitor.edition_id == previous.id, Exhibitor.status.in_(PARTICIPATING_STATUSES))).all():
            figures_ = row(rep_id)
            figures_.last_edition_accounts += 1
            if company_id in booked_now:
                figures_.rebooked += 1
    for rep_id, count in overdue_counts(scope, edition, now=now).items():
        row(rep_id).overdue = count
    for rep_id, count in db.session.execute(
            scoped(FollowUp, scope, FollowUp.rep_id, db.func.count(FollowUp.id))
            .where(FollowUp.edition_id == edition.id, FollowUp.status == "open").group_by(FollowUp.rep_id)).all():
        row(rep_id).open_follow_ups = count
    rows = sorted(figures.values(), key=lambda r: (r.rep_id == NOBODY, -r.revenue, r.name.lower()))
    total = RepFigures(-1, "")
    for r in rows:
        for name in ("accounts", "in_pipeline", "won", "revenue", "area_m2", "new_exhibitors",
                     "last_edition_accounts", "rebooked", "overdue", "open_follow_ups"):
            setattr(total, name, getattr(total, name) + getattr(r, name))
    result.rows, result.total = rows, total
    return result


def _companies_before(scope: Scope, edition: Edition) -> set[int]:
    """Companies that took part in an earlier edition of the same show."""
    earlier = select(Edition.id).where(Edition.show_id == edition.show_id, Edition.starts_on < edition.starts_on)
    return set(db.session.scalars(scoped(Exhibitor, scope, Exhibitor.company_id)
                                  .where(Exhibitor.edition_id.in_(earlier),
                                         Exhibitor.status.in_(PARTICIPATING_STATUSES))))
