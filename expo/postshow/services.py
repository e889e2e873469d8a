"""Post-show analytics: the edition report, computed with pandas from scoped queries."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import DateTime, func, type_coerce

from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..core.services import previous_edition
from ..exhibitors.models import PARTICIPATING_STATUSES, Company, Exhibitor
from ..extensions import db
from ..leads.models import Lead
from ..onsite.models import Scan
from ..visitors.models import VISITOR_CATEGORIES, Registration


@dataclass
class EditionReport:
    edition: Edition
    previous: Edition | None
    registrations_total: int
    by_category: pd.DataFrame  # category, registrations, checked_in
    by_source: pd.DataFrame  # source, registrations
    checkins_by_day: pd.DataFrame  # day, visitors, scans
    leads_per_exhibitor: pd.DataFrame  # exhibitor, booth, leads, hot
    returning_visitors: int
    previous_visitors: int
    rebooked_exhibitors: int
    previous_exhibitors: int
    churned_exhibitors: list[str]

    @property
    def visitor_return_rate(self) -> float | None:
        return self.returning_visitors / self.previous_visitors if self.previous_visitors else None

    @property
    def exhibitor_rebooking_rate(self) -> float | None:
        return self.rebooked_exhibitors / self.previous_exhibitors if self.previous_exhibitors else None


def _frame(stmt, columns) -> pd.DataFrame:
    """The rows as a frame, built column by column (pandas inspects each Row object otherwise: slow)."""
    rows = db.session.execute(stmt).all()
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.DataFrame(dict(zip(columns, zip(*rows))), columns=columns)


def _utc(column):
    """A UTC time column read as the naive UTC it is stored as: no per-row conversion in Python; pandas
    makes the whole column aware at once (``pd.to_datetime(..., utc=True)``)."""
    return type_coerce(column, DateTime()).label(column.key)


def edition_report(scope: Scope, edition: Edition) -> EditionReport:
    regs = _frame(scoped(Registration, scope, Registration.id, Registration.person_id, Registration.category,
                         Registration.source).where(Registration.edition_id == edition.id,
                                                    Registration.status != "cancelled"),
                  ["id", "person_id", "category", "source"])
    checkins = _frame(scoped(Scan, scope, Scan.registration_id, _utc(Scan.scanned_at))
                      .where(Scan.edition_id == edition.id, Scan.kind == "checkin", Scan.result == "ok"),
                      ["registration_id", "scanned_at"])
    checked_in = set(checkins["registration_id"])
    regs["checked_in"] = regs["id"].isin(checked_in)
    by_category = (regs.groupby("category").agg(registrations=("id", "size"), checked_in=("checked_in", "sum"))
                   .reset_index().sort_values("registrations", ascending=False))
    by_source = (regs.groupby("source").size().rename("registrations").reset_index()
                 .sort_values("registrations", ascending=False))

    zone = ZoneInfo(edition.timezone)
    if len(checkins):
        checkins["day"] = pd.to_datetime(checkins["scanned_at"], utc=True).dt.tz_convert(zone).dt.date
        by_day = (checkins.groupby("day").agg(visitors=("registration_id", "nunique"),
                                              scans=("registration_id", "size")).reset_index())
    else:
        by_day = pd.DataFrame(columns=["day", "visitors", "scans"])

    lead_counts = (scoped(Lead, scope, Lead.exhibitor_id, func.count(Lead.id),
                          func.sum(func.cast(Lead.rating == "hot", db.Integer)))
                   .join(Exhibitor, Exhibitor.id == Lead.exhibitor_id)
                   .where(Exhibitor.edition_id == edition.id).group_by(Lead.exhibitor_id).subquery())
    leads = _frame(scoped(Exhibitor, scope, Company.name, Exhibitor.hall, Exhibitor.stand,
                          func.coalesce(lead_counts.c[1], 0), func.coalesce(lead_counts.c[2], 0))
                   .join(Company).outerjoin(lead_counts, lead_counts.c.exhibitor_id == Exhibitor.id)
                   .where(Exhibitor.edition_id == edition.id, Exhibitor.status.in_(PARTICIPATING_STATUSES)),
                   ["exhibitor", "hall", "stand", "leads", "hot"])
    leads["booth"] = (leads["hall"].fillna("") + "-" + leads["stand"].fillna("")).str.strip("-")
    leads = leads[["exhibitor", "booth", "leads", "hot"]].sort_values(["leads", "exhibitor"],
                                                                        ascending=[False, True])

    previous = previous_edition(edition)
    returning = previous_visitors = rebooked = previous_exhibitors = 0
    churned: list[str] = []
    if previous is not None:
        before = set(db.session.scalars(scoped(Registration, scope, Registration.person_id)
                                        .where(Registration.edition_id == previous.id,
                                               Registration.status != "cancelled")))
        previous_visitors = len(before)
        returning = len(before & set(regs["person_id"]))
        companies_before = dict(db.session.execute(
            scoped(Exhibitor, scope, Exhibitor.company_id, Company.name).join(Company)
            .where(Exhibitor.edition_id == previous.id, Exhibitor.status.in_(PARTICIPATING_STATUSES))).all())
        companies_now = set(db.session.scalars(
            scoped(Exhibitor, scope, Exhibitor.company_id).where(Exhibitor.edition_id == edition.id,
                                                                 Exhibitor.status.in_(PARTICIPATING_STATUSES))))
        previous_exhibitors = len(companies_before)
        rebooked = len(companies_before.keys() & companies_now)
        churned = sorted(name for cid, name in companies_before.items() if cid not in companies_now)

    return EditionReport(edition=edition, previous=previous, registrations_total=len(regs),
                         by_category=by_category, by_source=by_source, checkins_by_day=by_day,
                         leads_per_exhibitor=leads, returning_visitors=returning,
                         previous_visitors=previous_visitors, rebooked_exhibitors=rebooked,
                         previous_exhibitors=previous_exhibitors, churned_exhibitors=churned)


# --- the edition dashboard ---------------------------------------------------------------------------
# Days are counted from the opening day in the edition's own zone: D-3 is three days before it opens,
# D-0 the opening day, D+2 the third show day. Aligning two editions on that axis compares their pace.

PACE_MIN_DAYS = 14  # the pace chart shows at least two weeks before the opening …
PACE_MAX_DAYS = 180  # … and at most half a year (earlier registrations are in its first point)
TOP_EXHIBITORS = 20


def day_label(offset: int) -> str:
    return f"D{offset:+d}" if offset > 0 else f"D-{-offset}"


def _offsets(moments, edition: Edition) -> pd.Series:
    """Days from the edition's opening day (local) to each moment's local date."""
    if not len(moments):
        return pd.Series([], dtype="int64")
    local = pd.to_datetime(moments, utc=True).dt.tz_convert(ZoneInfo(edition.timezone))
    days = local.dt.tz_localize(None).dt.normalize() - pd.Timestamp(edition.starts_on)
    return days.dt.days.astype("int64")


def _registration_times(scope: Scope, edition: Edition) -> pd.DataFrame:
    return _frame(scoped(Registration, scope, _utc(Registration.created_at), Registration.category)
                  .where(Registration.edition_id == edition.id, Registration.status != "cancelled"),
                  ["created_at", "category"])


def _cumulative(offsets: pd.Series, days: list[int]) -> list[int]:
    counts = offsets.value_counts()
    ordered = sorted(offsets.unique())
    out, total, i = [], 0, 0
    for day in days:
        while i < len(ordered) and ordered[i] <= day:
            total += int(counts[ordered[i]])
            i += 1
        out.append(total)
    return out


def edition_dashboard(scope: Scope, edition: Edition, *, now: datetime | None = None) -> dict:
    """The figures of the edition page, as plain JSON-ready data (see ``dashboard_charts`` for the charts).

    registrations: not cancelled; checked in: visitors with an admitted check-in; exhibitors: those taking
    part (contracted, paid, exhibited); "today" and the hours are in the edition's zone. The previous
    edition is compared at the same number of days before its own opening.
    """
    now = now or datetime.now(timezone.utc)
    zone = ZoneInfo(edition.timezone)
    today = now.astimezone(zone).date()
    day = (today - edition.starts_on).days  # -12 = D-12
    length = (edition.ends_on - edition.starts_on).days  # the last show day is D+length

    regs = _registration_times(scope, edition)
    offsets = _offsets(regs["created_at"], edition)
    previous = previous_edition(edition)
    previous_offsets = None
    if previous is not None:
        previous_offsets = _offsets(_registration_times(scope, previous)["created_at"], previous)

    # The pace: cumulative registrations per day, both editions on the same D-n axis.
    starts = [-PACE_MIN_DAYS, day] + [int(o.min()) for o in (offsets, previous_offsets) if o is not None and len(o)]
    first = max(min(starts), -PACE_MAX_DAYS)
    days = list(range(first, length + 1))
    current_pace = [count if d <= day else None for d, count in zip(days, _cumulative(offsets, days))]
    if days and day >= days[-1]:
        current_pace[-1] = len(offsets)  # registrations added after the show count at its end
    pace = {"days": days, "labels": [day_label(d) for d in days], "today": day, "current": current_pace,
            "previous": None}
    previous_same_point = None
    if previous_offsets is not None:
        previous_pace = _cumulative(previous_offsets, days)
        if previous_pace:
            previous_pace[-1] = len(previous_offsets)
        pace["previous"] = previous_pace
        previous_same_point = (len(previous_offsets) if day >= length
                               else int((previous_offsets <= day).sum()))

    by_category = regs.groupby("category").size().sort_values(ascending=False, kind="stable")
    categories = [{"code": code, "count": int(n)} for code, n in
                  sorted(by_category.items(), key=lambda item: (-item[1], VISITOR_CATEGORIES.index(item[0])
                                                                if item[0] in VISITOR_CATEGORIES else 99))]

    # Check-ins: admitted entrance scans; a visitor counts once per day in "checked in today".
    scans = _frame(scoped(Scan, scope, Scan.registration_id, _utc(Scan.scanned_at), Scan.gate)
                   .where(Scan.edition_id == edition.id, Scan.kind == "checkin", Scan.result == "ok"),
                   ["registration_id", "scanned_at", "gate"])
    checkins = {"hours": [], "gates": []}
    checked_in = checked_in_today = 0
    if len(scans):
        local = pd.to_datetime(scans["scanned_at"], utc=True).dt.tz_convert(zone)
        scans["date"] = local.dt.date
        scans["hour"] = local.dt.hour
        scans["gate"] = scans["gate"].fillna("").astype(str).str.strip()
        checked_in = int(scans["registration_id"].nunique())
        checked_in_today = int(scans.loc[scans["date"] == today, "registration_id"].nunique())
        hours = list(range(int(scans["hour"].min()), int(scans["hour"].max()) + 1))
        table = scans.groupby(["gate", "hour"]).size()
        gate_totals = scans.groupby("gate").size().sort_values(ascending=False, kind="stable")
        checkins = {"hours": hours, "gates": [
            {"gate": gate, "counts": [int(table.get((gate, h), 0)) for h in hours]}
            for gate in sorted(gate_totals.index, key=lambda g: (-int(gate_totals[g]), g == "", g))]}

    # Leads per exhibitor taking part, most first; the median over the same exhibitors.
    lead_counts = (scoped(Lead, scope, Lead.exhibitor_id, func.count(Lead.id).label("leads"))
                   .join(Exhibitor, Exhibitor.id == Lead.exhibitor_id)
                   .where(Exhibitor.edition_id == edition.id).group_by(Lead.exhibitor_id).subquery())
    per_exhibitor = db.session.execute(
        scoped(Exhibitor, scope, Exhibitor.id, Company.name, Exhibitor.hall, Exhibitor.stand,
               func.coalesce(lead_counts.c.leads, 0))
        .join(Company).outerjoin(lead_counts, lead_counts.c.exhibitor_id == Exhibitor.id)
        .where(Exhibitor.edition_id == edition.id, Exhibitor.status.in_(PARTICIPATING_STATUSES))).all()
    per_exhibitor = sorted(per_exhibitor, key=lambda r: (-r[4], r[1], r[0]))
    leads_total = db.session.scalar(scoped(Lead, scope, func.count(Lead.id))
                                    .join(Exhibitor, Exhibitor.id == Lead.exhibitor_id)
                                    .where(Exhibitor.edition_id == edition.id)) or 0
    counts = [int(r[4]) for r in per_exhibitor]
    median = float(pd.Series(counts).median()) if counts else None

    figures = {
        "registrations": len(regs),
        "registrations_today": int((offsets == day).sum()),
        "registrations_7d": int(((offsets <= day) & (offsets > day - 7)).sum()),
        "previous_registrations": previous_same_point,
        "checked_in": checked_in,
        "checked_in_today": checked_in_today,
        "exhibitors": len(per_exhibitor),
        "leads": int(leads_total),
        "days_to_opening": max(0, -day),
    }
    return {
        "edition": {"id": edition.id, "name": edition.name, "starts_on": edition.starts_on.isoformat(),
                    "ends_on": edition.ends_on.isoformat(), "timezone": edition.timezone, "status": edition.status},
        "previous": None if previous is None else {"id": previous.id, "name": previous.name,
                                                   "starts_on": previous.starts_on.isoformat()},
        "today": today.isoformat(),
        "day": day,
        "day_label": day_label(day),
        "phase": "before" if day < 0 else ("during" if day <= length else "after"),
        "figures": figures,
        "pace": pace,
        "categories": categories,
        "checkins": checkins,
        "leads": {"median": median, "exhibitors": [
            {"id": r[0], "name": r[1], "booth": "-".join(p for p in (r[2], r[3]) if p), "leads": int(r[4])}
            for r in per_exhibitor[:TOP_EXHIBITORS]]},
    }
