"""Post-show analytics: the edition report, computed with pandas from scoped queries."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import func

from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..core.services import previous_edition
from ..exhibitors.models import PARTICIPATING_STATUSES, Company, Exhibitor
from ..extensions import db
from ..leads.models import Lead
from ..onsite.models import Scan
from ..visitors.models import Registration



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
    rows = db.session.execute(stmt).all()
    return pd.DataFrame(rows, columns=columns)


def edition_report(scope: Scope, edition: Edition) -> EditionReport:
    regs = _frame(scoped(Registration, scope, Registration.id, Registration.person_id, Registration.category,
                         Registration.source).where(Registration.edition_id == edition.id,
                                                    Registration.status != "cancelled"),
                  ["id", "person_id", "category", "source"])
    checkins = _frame(scoped(Scan, scope, Scan.registration_id, Scan.scanned_at)
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
