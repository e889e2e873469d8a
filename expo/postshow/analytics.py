"""Edition analytics (issue 11, R5 R22–R26): the figures of an edition against the earlier editions of its show.

Every figure is a grouped query over all the compared editions at once (no loop over rows in Python): the number of
queries does not grow with the data. Definitions (the drill-down lists count the same rows):
- registrations: not cancelled; buyers: category "buyer" (``BUYER_CATEGORIES``);
- attended: a registration (not cancelled) with an admitted check-in (kind check-in, result ok or duplicate: the
  registrations list's "checked in" filter); visitors per day: admissions on that show day (one per visitor a day);
- arrivals by hour: the first admission of a visitor each day, by the hour in the edition's own zone;
- zones: visitors who entered each zone (admitted check-ins at a zone's gate);
- returning: registrations of a person with a registration (not cancelled) in an earlier edition of the same show;
- exhibitors: those taking part (contracted, paid, exhibited); leads and hot leads per exhibitor; meetings
  accepted or held;
- NPS from the survey answers (``None`` without answers, or without the surveys module); follow-up from the
  leads' follow-up columns (``None`` while no lead was followed up).
The result is plain JSON (codes, ids, numbers): labels and links are added per request by analytics_views.
"""
from __future__ import annotations

import time
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from statistics import median
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select

from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..exhibitors.models import PARTICIPATING_STATUSES, Company, Exhibitor
from ..extensions import db
from ..leads.models import Lead
from ..onsite.models import Scan
from ..visitors.models import Registration

EDITIONS_COMPARED = 4  # the edition and up to three earlier ones of its show
BUYER_CATEGORIES = ("buyer",)
ATTENDED_RESULTS = ("ok", "duplicate")
MEETING_STATUSES = ("accepted", "attended")
LEAD_BUCKETS = (0, 1, 10, 50, 100, 250)  # exhibitors by leads: 0, 1–9, 10–49, 50–99, 100–249, 250+
TOP_EXHIBITORS = 20
VERSION = 1  # the snapshot's shape: older snapshots are computed again


def compared_editions(scope: Scope, edition: Edition) -> list[Edition]:
    """The edition and the earlier editions of its show (at most ``EDITIONS_COMPARED``), oldest first."""
    rows = db.session.scalars(scoped(Edition, scope).where(Edition.show_id == edition.show_id,
                                                           Edition.starts_on <= edition.starts_on)
                              .order_by(Edition.starts_on.desc(), Edition.id.desc()).limit(EDITIONS_COMPARED))
    editions = [e for e in rows if e.id != edition.id][: EDITIONS_COMPARED - 1]
    return sorted(editions, key=lambda e: e.starts_on) + [edition]


def _counted(scope: Scope, ids: list[int], *columns):
    return scoped(Registration, scope, *columns).where(Registration.edition_id.in_(ids),
                                                        Registration.status != "cancelled")


def _attended_ids(ids: list[int]):
    return (select(Scan.registration_id).where(Scan.edition_id.in_(ids), Scan.kind == "checkin",
                                               Scan.result.in_(ATTENDED_RESULTS), Scan.registration_id.is_not(None)))


def _utc_hour(column):
    """The UTC hour of a stored (naive UTC) time as text "YYYY-MM-DD HH", on SQLite and PostgreSQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def local_hour(bucket: str, zone: ZoneInfo) -> tuple[date, int]:
    moment = datetime.strptime(bucket, "%Y-%m-%d %H").replace(tzinfo=timezone.utc).astimezone(zone)
    return moment.date(), moment.hour


def _registrations(scope, ids) -> dict:
    by_category: dict = defaultdict(dict)
    by_source: dict = defaultdict(dict)
    rows = db.session.execute(_counted(scope, ids, Registration.edition_id, Registration.category,
                                       Registration.source, func.count())
                              .group_by(Registration.edition_id, Registration.category, Registration.source)).all()
    for edition_id, category, source, n in rows:
        by_category[edition_id][category] = by_category[edition_id].get(category, 0) + n
        by_source[edition_id][source] = by_source[edition_id].get(source, 0) + n
    attended: dict = defaultdict(dict)
    for edition_id, category, n in db.session.execute(
            _counted(scope, ids, Registration.edition_id, Registration.category, func.count())
            .where(Registration.id.in_(_attended_ids(ids)))
            .group_by(Registration.edition_id, Registration.category)):
        attended[edition_id][category] = n
    return {"by_category": by_category, "by_source": by_source, "attended": attended}


def _returning(scope: Scope, editions: list[Edition]) -> dict[int, int]:
    """Per edition: its registrations whose person registered for an earlier edition of the same show."""
    earlier = Registration.__table__.alias("earlier")
    earlier_edition = Edition.__table__.alias("earlier_edition")
    this_edition = Edition.__table__.alias("this_edition")
    before = (select(earlier.c.id).join(earlier_edition, earlier_edition.c.id == earlier.c.edition_id)
              .where(earlier.c.person_id == Registration.person_id, earlier.c.status != "cancelled",
                     earlier.c.organizer_id == scope.organizer_id,
                     earlier_edition.c.show_id == this_edition.c.show_id,
                     earlier_edition.c.starts_on < this_edition.c.starts_on).exists())
    stmt = (_counted(scope, [e.id for e in editions], Registration.edition_id, func.count())
            .join(this_edition, this_edition.c.id == Registration.edition_id).where(before)
            .group_by(Registration.edition_id))
    return dict(db.session.execute(stmt).all())


def _attendance(scope: Scope, editions: list[Edition]) -> tuple[dict, dict]:
    """Visitors per show day (admissions) and arrivals per local hour, per edition."""
    ids = [e.id for e in editions]
    by_day: dict = defaultdict(dict)
    for edition_id, day, n in db.session.execute(
            scoped(Scan, scope, Scan.edition_id, Scan.admitted_on, func.count())
            .where(Scan.edition_id.in_(ids), Scan.admitted_on.is_not(None))
            .group_by(Scan.edition_id, Scan.admitted_on)):
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        by_day[edition_id][day.isoformat()] = n
    zones = {e.id: ZoneInfo(e.timezone) for e in editions}
    by_hour: dict = defaultdict(lambda: defaultdict(int))
    bucket = _utc_hour(Scan.scanned_at)
    for edition_id, utc_hour, n in db.session.execute(
            scoped(Scan, scope, Scan.edition_id, bucket, func.count())
            .where(Scan.edition_id.in_(ids), Scan.admitted_on.is_not(None))
            .group_by(Scan.edition_id, bucket)):
        _day, hour = local_hour(utc_hour, zones[edition_id])
        by_hour[edition_id][hour] += n
    return by_day, {k: dict(v) for k, v in by_hour.items()}


def _zones(scope: Scope, edition: Edition) -> list[dict]:
    from ..onsite.models import zone_models

    Zone = zone_models.Zone

    rows = db.session.execute(
        scoped(Zone, scope, Zone.id, Zone.name_en, Zone.name_zh, func.count(func.distinct(Scan.registration_id)))
        .outerjoin(Scan, (Scan.zone_id == Zone.id) & (Scan.kind == "checkin") & (Scan.result == "ok")
                   & (Scan.direction.is_(None) | (Scan.direction == "in")))
        .where(Zone.edition_id == edition.id).group_by(Zone.id, Zone.name_en, Zone.name_zh, Zone.position)
        .order_by(Zone.position, Zone.id)).all()
    return [{"id": r[0], "name_en": r[1], "name_zh": r[2], "visitors": r[3]} for r in rows]


def _exhibitors(scope: Scope, editions: list[Edition], edition: Edition) -> dict:
    ids = [e.id for e in editions]
    taking_part = dict(db.session.execute(
        scoped(Exhibitor, scope, Exhibitor.id, Exhibitor.edition_id)
        .where(Exhibitor.edition_id.in_(ids), Exhibitor.status.in_(PARTICIPATING_STATUSES))).all())
    lead_rows = db.session.execute(
        scoped(Lead, scope, Lead.exhibitor_id, func.count(), func.sum(case((Lead.rating == "hot", 1), else_=0)))
        .where(Lead.exhibitor_id.in_(select(Exhibitor.id).where(Exhibitor.edition_id.in_(ids))))
        .group_by(Lead.exhibitor_id)).all()
    leads = {r[0]: (int(r[1]), int(r[2] or 0)) for r in lead_rows}
    from ..matchmaking.models import meeting_models

    Meeting = meeting_models.Meeting

    meetings = dict(db.session.execute(
        scoped(Meeting, scope, Meeting.exhibitor_id, func.count())
        .where(Meeting.edition_id.in_(ids), Meeting.status.in_(MEETING_STATUSES))
        .group_by(Meeting.exhibitor_id)).all())
    per_edition: dict = {}
    for edition_id in ids:
        mine = [x for x, e in taking_part.items() if e == edition_id]
        counts = [leads.get(x, (0, 0))[0] for x in mine]
        buckets = [0] * len(LEAD_BUCKETS)
        for n in counts:
            buckets[max(i for i, low in enumerate(LEAD_BUCKETS) if n >= low)] += 1
        per_edition[edition_id] = {
            "exhibitors": len(mine), "leads": sum(counts),
            "hot": sum(leads.get(x, (0, 0))[1] for x in mine),
            "meetings": sum(meetings.get(x, 0) for x in mine),
            "median_leads": float(median(counts)) if counts else None, "buckets": buckets}
    current = [x for x, e in taking_part.items() if e == edition.id]
    top = []
    if current:
        names = dict(db.session.execute(scoped(Exhibitor, scope, Exhibitor.id, Company.name).join(Company)
                                        .where(Exhibitor.id.in_(current))).all())
        ranked = sorted(current, key=lambda x: (-leads.get(x, (0, 0))[0], names.get(x, ""), x))[:TOP_EXHIBITORS]
        top = [{"id": x, "name": names.get(x, ""), "leads": leads.get(x, (0, 0))[0], "hot": leads.get(x, (0, 0))[1],
                "meetings": meetings.get(x, 0)} for x in ranked]
    return {"per_edition": per_edition, "top": top}


# --- adapters to the parts written beside this one: an absent or failing part gives None --------------------

Z95 = 1.959964


def nps_adapter(scope: Scope, ids: list[int]) -> dict:
    """{(edition_id, audience): {score, n, margin, promoters, detractors}} from the survey answers' 0–10
    recommend scores (promoters 9–10, detractors 0–6; margin: half the 95 % interval), one grouped query."""
    try:
        from ..surveys.models import Survey, SurveyResponse
    except ImportError:
        return {}
    rows = db.session.execute(
        scoped(SurveyResponse, scope, SurveyResponse.edition_id, Survey.audience, func.count(),
               func.sum(case((SurveyResponse.nps >= 9, 1), else_=0)), func.sum(case((SurveyResponse.nps <= 6, 1), else_=0)))
        .join(Survey, Survey.id == SurveyResponse.survey_id)
        .where(SurveyResponse.edition_id.in_(ids), SurveyResponse.nps.is_not(None))
        .group_by(SurveyResponse.edition_id, Survey.audience)).all()
    out = {}
    for edition_id, audience, n, promoters, detractors in rows:
        p, d = int(promoters or 0) / n, int(detractors or 0) / n
        margin = 100.0 * Z95 * (max(0.0, p + d - (p - d) ** 2) / n) ** 0.5
        out[(edition_id, audience)] = {"score": round(100.0 * (p - d), 1), "n": n, "margin": round(margin, 1),
                                       "promoters": int(promoters or 0), "detractors": int(detractors or 0)}
    return out


def follow_up_figures(scope: Scope, ids: list[int]) -> dict[int, dict]:
    """Per edition: leads of all its exhibitors, those followed up (moved out of "to contact" at least once) and
    won — the totals of expo.leads.follow_up.follow_up_rates, in one grouped query over the compared editions
    (the rates per exhibitor take seconds each at millions of leads). Counts only, never a lead's content."""
    rows = db.session.execute(
        scoped(Lead, scope, Exhibitor.edition_id, func.count(), func.count(Lead.first_followed_up_at),
               func.sum(case((Lead.follow_up_status == "won", 1), else_=0)))
        .join(Exhibitor, Exhibitor.id == Lead.exhibitor_id)
        .where(Exhibitor.edition_id.in_(ids), Exhibitor.organizer_id == scope.organizer_id)
        .group_by(Exhibitor.edition_id)).all()
    out = {}
    for edition_id, leads, followed, won in rows:
        followed, won = int(followed or 0), int(won or 0)
        if leads and followed:
            out[edition_id] = {"leads": leads, "followed_up": followed, "won": won,
                               "followed_up_rate": followed / leads, "won_rate": won / leads}
    return out


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def edition_analytics(scope: Scope, edition: Edition, *, now: datetime | None = None) -> dict:
    """Every figure of the analytics page for ``edition`` and its earlier editions (see the module's text)."""
    started = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    editions = compared_editions(scope, edition)
    ids = [e.id for e in editions]
    regs = _registrations(scope, ids)
    returning = _returning(scope, editions)
    by_day, by_hour = _attendance(scope, editions)
    exhibitors = _exhibitors(scope, editions, edition)
    nps = nps_adapter(scope, ids)
    follow_up = follow_up_figures(scope, ids)
    rows = []
    for e in editions:
        categories = regs["by_category"].get(e.id, {})
        attended = regs["attended"].get(e.id, {})
        total, came = sum(categories.values()), sum(attended.values())
        buyers = sum(categories.get(c, 0) for c in BUYER_CATEGORIES)
        buyers_came = sum(attended.get(c, 0) for c in BUYER_CATEGORIES)
        days = by_day.get(e.id, {})
        show_days = [(e.starts_on + timedelta(days=i)).isoformat() for i in range((e.ends_on - e.starts_on).days + 1)]
        extra = sorted(d for d in days if d not in show_days)
        nps_visitors, nps_exhibitors = nps.get((e.id, "visitor")), nps.get((e.id, "exhibitor"))
        rows.append({
            "id": e.id, "name": e.name, "starts_on": e.starts_on.isoformat(), "ends_on": e.ends_on.isoformat(),
            "timezone": e.timezone, "registrations": total, "attended": came,
            "attendance_rate": _share(came, total), "categories": categories, "attended_categories": attended,
            "sources": regs["by_source"].get(e.id, {}), "buyers": buyers, "buyers_attended": buyers_came,
            "buyer_share": _share(buyers, total), "buyer_share_attended": _share(buyers_came, came),
            "returning": returning.get(e.id, 0), "returning_share": _share(returning.get(e.id, 0), total),
            "days": [{"day": d, "visitors": days.get(d, 0)} for d in show_days + extra],
            "hours": {str(h): n for h, n in sorted(by_hour.get(e.id, {}).items())},
            "exhibitors": exhibitors["per_edition"][e.id],
            "nps": {"visitor": nps_visitors, "exhibitor": nps_exhibitors},
            "follow_up": follow_up.get(e.id),
        })
    return {"version": VERSION, "edition_id": edition.id, "computed_at": now.isoformat(),
            "editions": rows, "zones": _zones(scope, edition), "top_exhibitors": exhibitors["top"],
            "lead_buckets": list(LEAD_BUCKETS),
            "duration_ms": int((time.perf_counter() - started) * 1000)}


# --- the rows behind a figure that no existing list can filter on (the drill-down list) ----------------------
FIGURES = ("returning", "day", "hour", "zone")
ROWS_PER_PAGE = 50


def _hour_ranges(edition: Edition, hour: int) -> list[tuple[datetime, datetime]]:
    """The UTC intervals of local hour ``hour`` on every day around the show (DST-safe)."""
    zone = ZoneInfo(edition.timezone)
    out = []
    for offset in range(-7, (edition.ends_on - edition.starts_on).days + 8):
        day = edition.starts_on + timedelta(days=offset)
        start = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
        out.append((start.astimezone(timezone.utc), (start + timedelta(hours=1)).astimezone(timezone.utc)))
    return out


def figure_condition(scope: Scope, edition: Edition, figure: str, value: str):
    """The condition on Registration selecting exactly the rows counted by a figure, or None for a bad value."""
    from sqlalchemy import or_

    from ..core.services import parse_id

    if figure == "returning":
        earlier = Registration.__table__.alias("earlier")
        earlier_edition = Edition.__table__.alias("earlier_edition")
        return (Registration.status != "cancelled") & (
            select(earlier.c.id).join(earlier_edition, earlier_edition.c.id == earlier.c.edition_id)
            .where(earlier.c.person_id == Registration.person_id, earlier.c.status != "cancelled",
                   earlier.c.organizer_id == scope.organizer_id, earlier_edition.c.show_id == edition.show_id,
                   earlier_edition.c.starts_on < edition.starts_on).exists())
    admitted = select(Scan.registration_id).where(Scan.edition_id == edition.id, Scan.admitted_on.is_not(None))
    if figure == "day":
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError):
            return None
        return Registration.id.in_(admitted.where(Scan.admitted_on == day))
    if figure == "hour":
        if not (isinstance(value, str) and value.isascii() and value.isdecimal() and int(value) < 24):
            return None
        ranges = _hour_ranges(edition, int(value))
        return Registration.id.in_(admitted.where(or_(*[(Scan.scanned_at >= a) & (Scan.scanned_at < b)
                                                        for a, b in ranges])))
    if figure == "zone":
        zone_id = parse_id(value)
        if zone_id is None:
            return None
        return Registration.id.in_(select(Scan.registration_id).where(
            Scan.edition_id == edition.id, Scan.zone_id == zone_id, Scan.kind == "checkin", Scan.result == "ok",
            Scan.direction.is_(None) | (Scan.direction == "in")))
    return None


def figure_rows(scope: Scope, edition: Edition, figure: str, value: str, *, page: int = 1):
    """The page (core.paging.Page) of registrations behind a figure, newest first; None for an unknown figure or value."""
    from sqlalchemy.orm import joinedload

    condition = figure_condition(scope, edition, figure, value)
    if condition is None:
        return None
    base = scoped(Registration, scope).where(Registration.edition_id == edition.id, condition)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = min(max(page, 1), max(1, -(-total // ROWS_PER_PAGE)))
    rows = list(db.session.scalars(base.options(joinedload(Registration.person)).order_by(Registration.id.desc())
                                   .limit(ROWS_PER_PAGE).offset((page - 1) * ROWS_PER_PAGE)))
    from ..core.paging import Page

    return Page(rows, total, page, ROWS_PER_PAGE)
