"""The exhibitor's own dashboard (portal), during and after the show: leads over time, hot leads, meetings, and
the profile of its leads (visitor category, country, answers to the show's questions) against the show's.

What an exhibitor may learn of visitors holds here too (visitors.services.visible_to_exhibitor): the category
of every lead, but a lead's country and answers only while the visitor shares their details with exhibitors.
Those breakdowns count only sharing leads, need at least ``MIN_BASE`` of them, and fold a value held by fewer
than ``MIN_GROUP`` leads into "other", so that no single visitor's answer can be read off a bar. The show's
side is counted over the visitors who came (admitted at a gate), or every registration before any check-in.

Plain functions: no request, no current user; JSON-ready data (the view turns it into charts).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime, func, type_coerce

from ..core.registry import registry
from ..core.scoping import Scope, scoped
from ..exhibitors.models import PARTICIPATING_STATUSES, Exhibitor
from ..extensions import db
from ..leads.models import LEAD_RATINGS, Lead
from ..matchmaking.models import meeting_models
from ..onsite.models import Scan
from ..visitors.models import Person, Registration
from ..visitors.models import questions as visitor_questions

MIN_BASE = 5  # sharing leads needed before a shared-only breakdown is shown at all
MIN_GROUP = 3  # a value held by fewer leads than this goes to "other"
TOP_VALUES = 8  # values per breakdown; the rest is "other"
PROFILE_KINDS = ("single", "multi", "yes_no", "country")  # questions whose answers make a breakdown
OTHER = "__other__"
Meeting = meeting_models.Meeting
NONE = "none"  # a lead not rated yet


def _utc(column):
    return type_coerce(column, DateTime()).label(column.key)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _lead_rows(exhibitor: Exhibitor) -> list[tuple]:
    scope = Scope(exhibitor.organizer_id, exhibitor.id)
    return db.session.execute(scoped(Lead, scope, Lead.registration_id, Lead.rating, _utc(Lead.first_scanned_at))
                              .where(Lead.exhibitor_id == exhibitor.id)).all()


def _days(edition, first: date | None, last: date | None, today: date) -> list[date]:
    """The show days, widened to the days with leads (an early scan, a late import), never past today."""
    start = min(edition.starts_on, first) if first else edition.starts_on
    end = max(edition.ends_on, last) if last else edition.ends_on
    end = min(end, max(today, last or today, start))
    days, day = [], start
    while day <= end and len(days) < 400:
        days.append(day)
        day += timedelta(days=1)
    return days


def _median(values: list[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _show_lead_counts(exhibitor: Exhibitor) -> list[int]:
    """Leads per exhibitor taking part in the edition (zeros included): for the median, nothing else."""
    scope = Scope(exhibitor.organizer_id)
    counts = dict(db.session.execute(
        scoped(Lead, scope, Lead.exhibitor_id, func.count(Lead.id)).join(Exhibitor, Exhibitor.id == Lead.exhibitor_id)
        .where(Exhibitor.edition_id == exhibitor.edition_id).group_by(Lead.exhibitor_id)).all())
    ids = set(db.session.scalars(scoped(Exhibitor, scope, Exhibitor.id).where(
        Exhibitor.edition_id == exhibitor.edition_id, Exhibitor.status.in_(PARTICIPATING_STATUSES))))
    ids.add(exhibitor.id)
    return [int(counts.get(i, 0)) for i in ids]


def _visitors(edition_id: int, organizer_id: int, registration_ids=None) -> tuple[list[tuple], bool]:
    """(registration id, category, country, answers, shares) of the show's visitors who came (or of all its
    registrations before any check-in), or of the given registrations; and whether "who came" was used."""
    scope = Scope(organizer_id)
    stmt = (scoped(Registration, scope, Registration.id, Registration.category, Person.country, Registration.answers,
                   Registration.share_with_exhibitors, Registration.erased_at)
            .join(Person, Person.id == Registration.person_id).where(Registration.edition_id == edition_id))
    came = False
    if registration_ids is not None:
        ids = list(registration_ids)
        if not ids:
            return [], False
        stmt = stmt.where(Registration.id.in_(ids))
    else:
        stmt = stmt.where(Registration.status != "cancelled")
        admitted = (scoped(Scan, scope, Scan.registration_id)
                    .where(Scan.edition_id == edition_id, Scan.kind == "checkin", Scan.result == "ok"))
        if db.session.scalar(admitted.limit(1)) is not None:
            stmt = stmt.where(Registration.id.in_(admitted))
            came = True
    rows = [(r[0], r[1], r[2] or "", r[3] or {}, bool(r[4]) and r[5] is None) for r in db.session.execute(stmt)]
    return rows, came


def _answer_values(question, answers: dict) -> list[str]:
    value = visitor_questions.plain_value(answers.get(question.key))
    if value is None or value == "" or value == []:
        return []
    if question.kind == "yes_no":
        return ["yes" if value in ("yes", True) else "no"]
    if isinstance(value, list):
        return [str(v) for v in value]
    return [str(value)]


def _breakdown(key: str, label: str, lead_values: list[list[str]], show_values: list[list[str]],
               name_of, *, shared_only: bool) -> dict:
    """Counts per value for the leads and for the show, as shares of the people answering on each side."""
    lead_base = sum(1 for values in lead_values if values)
    show_base = sum(1 for values in show_values if values)
    leads: dict[str, int] = {}
    show: dict[str, int] = {}
    for values in lead_values:
        for value in set(values):
            leads[value] = leads.get(value, 0) + 1
    for values in show_values:
        for value in set(values):
            show[value] = show.get(value, 0) + 1
    hidden = shared_only and lead_base < MIN_BASE
    if shared_only:  # no value of a handful of leads: it would tell one visitor's answer
        for value in [v for v, n in leads.items() if n < MIN_GROUP]:
            leads[OTHER] = leads.get(OTHER, 0) + leads.pop(value)
            show[OTHER] = show.get(OTHER, 0) + show.pop(value, 0)
    ranked = sorted((v for v in set(leads) | set(show) if v != OTHER),
                    key=lambda v: (-(leads.get(v, 0) / (lead_base or 1) + show.get(v, 0) / (show_base or 1)), v))
    for value in ranked[TOP_VALUES:]:
        leads[OTHER] = leads.get(OTHER, 0) + leads.pop(value, 0)
        show[OTHER] = show.get(OTHER, 0) + show.pop(value, 0)
    rows = []
    for value in ranked[:TOP_VALUES] + ([OTHER] if OTHER in leads or OTHER in show else []):
        n, m = leads.get(value, 0), show.get(value, 0)
        rows.append({"value": value, "label": None if value == OTHER else name_of(value), "leads": n,
                     "show": m, "leads_pct": round(100 * n / lead_base, 1) if lead_base else 0.0,
                     "show_pct": round(100 * m / show_base, 1) if show_base else 0.0})
    return {"key": key, "label": label, "leads_base": lead_base, "show_base": show_base, "hidden": hidden,
            "shared_only": shared_only, "rows": [] if hidden else rows}


def profile(exhibitor: Exhibitor, lead_registration_ids: list[int], locale: str | None) -> dict:
    """The visitor profile of the exhibitor's leads against the show's (see the module's note on privacy)."""
    edition = exhibitor.edition
    show_rows, came = _visitors(edition.id, exhibitor.organizer_id)
    lead_rows, _came = _visitors(edition.id, exhibitor.organizer_id, lead_registration_ids)
    sharing = [r for r in lead_rows if r[4]]
    machine = registry.machines().get("visitor_category")
    category_name = (lambda code: machine.label(code)) if machine else str
    dimensions = [
        _breakdown("category", "category", [[r[1]] for r in lead_rows], [[r[1]] for r in show_rows],
                   category_name, shared_only=False),
        _breakdown("country", "country", [[r[2]] if r[2] else [] for r in sharing],
                   [[r[2]] if r[2] else [] for r in show_rows], lambda code: visitor_questions.country_label(code, locale),
                   shared_only=True),
    ]
    for question in visitor_questions.all_questions(edition.id):
        if question.kind not in PROFILE_KINDS or not question.active:
            continue
        wording = question.wording()
        dimensions.append(_breakdown(
            f"q_{question.key}", wording.label(locale) or question.key,
            [_answer_values(question, r[3]) for r in sharing], [_answer_values(question, r[3]) for r in show_rows],
            lambda value, w=wording: w.display(value, locale), shared_only=True))
    return {"came": came, "leads": len(lead_rows), "sharing": len(sharing), "show": len(show_rows),
            "dimensions": dimensions}


def exhibitor_dashboard(exhibitor: Exhibitor, *, now: datetime | None = None, locale: str | None = None) -> dict:
    """The exhibitor's figures as plain JSON-ready data; days and hours in the edition's zone."""
    now = now or datetime.now(timezone.utc)
    edition = exhibitor.edition
    zone = ZoneInfo(edition.timezone)
    today = now.astimezone(zone).date()
    leads = _lead_rows(exhibitor)
    ratings = {code: 0 for code in (*LEAD_RATINGS, NONE)}
    per_day: dict[tuple[date, str], int] = {}
    per_hour: dict[int, int] = {}
    local_days = []
    for _registration_id, rating, first in leads:
        local = _aware(first).astimezone(zone)
        code = rating if rating in ratings else NONE
        ratings[code] += 1
        per_day[(local.date(), code)] = per_day.get((local.date(), code), 0) + 1
        per_hour[local.hour] = per_hour.get(local.hour, 0) + 1
        local_days.append(local.date())
    days = _days(edition, min(local_days) if local_days else None, max(local_days) if local_days else None, today)
    by_day = {"days": [d.isoformat() for d in days],
              "ratings": {code: [per_day.get((d, code), 0) for d in days] for code in ratings}}
    hours = list(range(min(per_hour), max(per_hour) + 1)) if per_hour else []
    meetings = dict(db.session.execute(
        scoped(Meeting, Scope(exhibitor.organizer_id, exhibitor.id), Meeting.status, func.count(Meeting.id))
        .where(Meeting.exhibitor_id == exhibitor.id).group_by(Meeting.status)).all())
    counts = _show_lead_counts(exhibitor)
    length = (edition.ends_on - edition.starts_on).days
    day = (today - edition.starts_on).days
    total = len(leads)
    return {
        "edition": {"id": edition.id, "name": edition.name, "starts_on": edition.starts_on.isoformat(),
                    "ends_on": edition.ends_on.isoformat(), "timezone": edition.timezone},
        "today": today.isoformat(),
        "phase": "before" if day < 0 else ("during" if day <= length else "after"),
        "figures": {
            "leads": total, "hot": ratings["hot"], "warm": ratings["warm"], "cold": ratings["cold"],
            "unrated": ratings[NONE], "hot_share": round(100 * ratings["hot"] / total, 1) if total else None,
            "leads_today": sum(per_day.get((today, code), 0) for code in ratings),
            "meetings_agreed": int(meetings.get("accepted", 0)), "meetings_held": int(meetings.get("attended", 0)),
            "meetings_requested": int(meetings.get("requested", 0)),
            "median_leads": _median(counts), "exhibitors": len(counts),
        },
        "by_day": by_day,
        "by_hour": {"hours": hours, "counts": [per_hour.get(h, 0) for h in hours]},
        "profile": profile(exhibitor, [r[0] for r in leads], locale),
    }
