"""The booth-sales forecast (issue 8, R13): what an edition is expected to sell, against the previous edition of
the show at the same number of days before its opening.

For a set of deals (an exhibitor's stage, value and m²):
  contracted = the deals at contracted, paid or exhibited, in full (value and m²);
  pipeline   = the open deals (prospect, contacted, negotiating), each weighted by its stage's closing chance
               (expo.exhibitors.pipeline.probabilities: the edition's own figures over the defaults);
  expected   = contracted + weighted pipeline.
Lost and cancelled deals count for nothing. A deal's value is Exhibitor.deal_value (the agreed price, else m² ×
the booth type's price per m²); a deal without one counts 0 and is reported as such.

The past is rebuilt from the audit log: an exhibitor exists from its ``created_at``; its stage at a moment is the
"from" of its first ``exhibitor.status`` move after that moment, else its stage now. Values and m² are today's
(the log does not keep their history)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import joinedload

from ..core.models import AuditEntry, Edition
from ..core.scoping import Scope, scoped
from ..extensions import db
from .models import EXHIBITOR_STATUSES, PARTICIPATING_STATUSES, WITHDRAWN_STATUSES, Exhibitor
from .pipeline import probabilities

OPEN_STATUSES = tuple(s for s in EXHIBITOR_STATUSES if s not in PARTICIPATING_STATUSES + WITHDRAWN_STATUSES)
MAX_DAYS = 365  # the chart looks back a year at most
MIN_DAYS = 30
ZERO = Decimal(0)


@dataclass(frozen=True)
class Deal:
    status: str
    value: Decimal | None
    area_m2: Decimal | None


@dataclass
class StageLine:
    status: str
    count: int = 0
    value: Decimal = ZERO
    area_m2: Decimal = ZERO
    percent: int = 0

    @property
    def weighted_value(self) -> Decimal:
        return (self.value * self.percent / 100).quantize(Decimal("0.01"))

    @property
    def weighted_m2(self) -> Decimal:
        return (self.area_m2 * self.percent / 100).quantize(Decimal("0.01"))


@dataclass
class Figures:
    contracted_value: Decimal = ZERO
    contracted_m2: Decimal = ZERO
    contracted_count: int = 0
    pipeline_value: Decimal = ZERO  # open deals, not weighted
    pipeline_m2: Decimal = ZERO
    weighted_value: Decimal = ZERO
    weighted_m2: Decimal = ZERO
    open_count: int = 0
    without_value: int = 0  # deals (contracted or open) without a price or m² × booth type
    stages: dict[str, StageLine] = field(default_factory=dict)

    @property
    def expected_value(self) -> Decimal:
        return self.contracted_value + self.weighted_value

    @property
    def expected_m2(self) -> Decimal:
        return self.contracted_m2 + self.weighted_m2


def figures(deals, percents: dict[str, int]) -> Figures:
    """The forecast of a set of deals with the given closing chance (percent) per stage."""
    out = Figures(stages={s: StageLine(s, percent=percents.get(s, 0)) for s in EXHIBITOR_STATUSES})
    for deal in deals:
        value, area = deal.value or ZERO, deal.area_m2 or ZERO
        line = out.stages[deal.status]
        line.count += 1
        line.value += value
        line.area_m2 += area
        if deal.status in PARTICIPATING_STATUSES:
            out.contracted_value += value
            out.contracted_m2 += area
            out.contracted_count += 1
        elif deal.status in OPEN_STATUSES:
            out.pipeline_value += value
            out.pipeline_m2 += area
            out.open_count += 1
        else:
            continue
        if deal.value is None:
            out.without_value += 1
    for status in OPEN_STATUSES:
        out.weighted_value += out.stages[status].weighted_value
        out.weighted_m2 += out.stages[status].weighted_m2
    return out


# --- the past, from the audit log -----------------------------------------------------------------------

@dataclass
class History:
    """An edition's deals with their stage moves: the deals at any past moment."""

    edition: Edition
    exhibitors: list[tuple[int, datetime, str, Decimal | None, Decimal | None]]  # id, created, status now, value, m²
    moves: dict[int, list[tuple[datetime, str]]]  # exhibitor id -> (when, stage it left), oldest first
    percents: dict[str, int]

    def deals_at(self, moment: datetime) -> list[Deal]:
        deals = []
        for exhibitor_id, created_at, status, value, area in self.exhibitors:
            if created_at > moment:
                continue
            later = next((source for at, source in self.moves.get(exhibitor_id, ()) if at > moment), None)
            deals.append(Deal(later or status, value, area))
        return deals

    def figures_at(self, moment: datetime) -> Figures:
        return figures(self.deals_at(moment), self.percents)

    def first_day_before(self) -> int:
        """How many days before the opening the first deal was made (0 without deals)."""
        if not self.exhibitors:
            return 0
        first = min(created for _id, created, *_rest in self.exhibitors)
        return max(0, (self.edition.starts_on - first.astimezone(_zone(self.edition)).date()).days)


def _zone(edition: Edition):
    try:
        return ZoneInfo(edition.timezone or "UTC")
    except (KeyError, ValueError):
        return timezone.utc


def end_of_day_before(edition: Edition, days: int) -> datetime:
    """The moment (UTC) when the day ``days`` days before the opening ends where the show is."""
    day = edition.starts_on - timedelta(days=days) + timedelta(days=1)
    return datetime.combine(day, time(0), _zone(edition)).astimezone(timezone.utc)


def history(scope: Scope, edition: Edition) -> History:
    rows = list(db.session.scalars(scoped(Exhibitor, scope).where(Exhibitor.edition_id == edition.id)
                                   .options(joinedload(Exhibitor.booth_type))))
    exhibitors = [(e.id, e.created_at, e.status, e.deal_value, e.area_m2) for e in rows]
    moves: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    ids = [e.id for e in rows]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for object_id, at, details in db.session.execute(
                scoped(AuditEntry, scope, AuditEntry.object_id, AuditEntry.at, AuditEntry.details)
                .where(AuditEntry.action == "exhibitor.status", AuditEntry.object_type == "exhibitors",
                       AuditEntry.object_id.in_(chunk)).order_by(AuditEntry.at, AuditEntry.id)):
            source = (details or {}).get("from")
            if source in EXHIBITOR_STATUSES:
                moves[object_id].append((at, source))
    return History(edition, exhibitors, dict(moves), probabilities(edition.id))


def previous_edition(scope: Scope, edition: Edition) -> Edition | None:
    """The show's edition that opened last before this one."""
    return db.session.scalar(scoped(Edition, scope).where(Edition.show_id == edition.show_id,
                                                          Edition.starts_on < edition.starts_on,
                                                          Edition.id != edition.id)
                             .order_by(Edition.starts_on.desc()).limit(1))


# --- the page --------------------------------------------------------------------------------------------

@dataclass
class Forecast:
    edition: Edition
    days_before: int  # days left to the opening (0 once it opened)
    now: Figures
    previous_edition: Edition | None
    previous: Figures | None  # the previous edition at the same number of days before its opening
    previous_final: Figures | None  # the previous edition at its opening
    days: list[int]  # the chart's x axis: days before the opening, oldest first
    series: dict[str, list]  # name -> one value per day (None: not reached yet)


def forecast(scope: Scope, edition: Edition, *, today: date) -> Forecast:
    """The edition's forecast now and day by day, and the previous edition's at the same days before."""
    days_before = max(0, (edition.starts_on - today).days)
    mine = history(scope, edition)
    # Now: today's stages (what the history gives at this moment too, without the reconstruction).
    now = mine.figures_at(datetime.max.replace(tzinfo=timezone.utc))
    previous = previous_edition(scope, edition)
    theirs = history(scope, previous) if previous is not None else None
    span = max(MIN_DAYS, days_before, mine.first_day_before(), theirs.first_day_before() if theirs else 0)
    span = min(MAX_DAYS, span)
    days = list(range(span, -1, -1))
    series: dict[str, list] = {"value": [], "m2": [], "contracted_value": [], "contracted_m2": [],
                               "previous_value": [], "previous_m2": [], "previous_contracted_value": [],
                               "previous_contracted_m2": []}
    for day in days:
        if day >= days_before:
            f = now if day == days_before else mine.figures_at(end_of_day_before(edition, day))
            series["value"].append(f.expected_value)
            series["m2"].append(f.expected_m2)
            series["contracted_value"].append(f.contracted_value)
            series["contracted_m2"].append(f.contracted_m2)
        else:
            for key in ("value", "m2", "contracted_value", "contracted_m2"):
                series[key].append(None)
        if theirs is not None:
            p = theirs.figures_at(end_of_day_before(previous, day))
            series["previous_value"].append(p.expected_value)
            series["previous_m2"].append(p.expected_m2)
            series["previous_contracted_value"].append(p.contracted_value)
            series["previous_contracted_m2"].append(p.contracted_m2)
    previous_same = theirs.figures_at(end_of_day_before(previous, days_before)) if theirs else None
    previous_final = theirs.figures_at(end_of_day_before(previous, 0)) if theirs else None
    return Forecast(edition, days_before, now, previous, previous_same, previous_final, days, series)


def chart(result: Forecast, what: str, labels: dict[str, str], unit: str = "") -> dict:
    """The ECharts spec (static/charts.js format) of one measure: "value" (revenue) or "m2"."""
    def numbers(values):
        return [None if v is None else float(v) for v in values]

    series = [{"name": labels["expected"], "data": numbers(result.series[what])},
              {"name": labels["contracted"], "data": numbers(result.series[f"contracted_{what}"])}]
    if result.previous_edition is not None:
        series += [{"name": labels["previous_expected"], "data": numbers(result.series[f"previous_{what}"]),
                    "dashed": True, "muted": True},
                   {"name": labels["previous_contracted"],
                    "data": numbers(result.series[f"previous_contracted_{what}"]), "dashed": True}]
    spec = {"type": "line", "categories": [f"D-{d}" for d in result.days], "series": series, "unit": unit}
    if result.days_before in result.days:
        spec["marks"] = [{"at": f"D-{result.days_before}", "label": labels["today"]}]
    return spec


def change(now: Decimal, before: Decimal | None) -> float | None:
    """Now against before, in percent (None when there is nothing to compare with)."""
    if before is None or before == 0:
        return None
    return float((now - before) / before * 100)
