"""Lifecycle stages, RFM scores and value tiers as pure functions on plain history records (no database, no
Flask request): the rules the customers pages show, testable on fixed data.

The four stages are those of the source documents (客户生命周期: 考察期, 形成期, 稳定期, 衰退期):

- **exploration** — the first edition, or back after a gap: both sides are still finding out;
- **formation** — the relationship grows: a second edition in a row, or a bigger booth / more attendance;
- **stability** — steady repeat: three or more editions in a row at about the same size;
- **decline** — the relationship turns: missed the latest edition, or a smaller booth / registered and stayed away.

A history is the show's editions, oldest first, up to the edition looked at; each point says whether the customer
took part and how big that part was (m² of booth for a company; 1 = came, 0.5 = registered and did not come for a
person). Sizes within ±``TOLERANCE`` of each other count as the same size.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import ceil
from typing import NamedTuple

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

TOLERANCE = 0.10  # ±10 %: a booth of 36 m² after 40 m² is "about the same"
STABLE_RUN = 3  # editions in a row that make a steady customer

STAGES = ("exploration", "formation", "stability", "decline")
STAGE_LABELS = {"exploration": _l("Exploration"), "formation": _l("Formation"), "stability": _l("Stability"),
                "decline": _l("In decline")}
STAGE_STYLES = {"exploration": "info", "formation": "primary", "stability": "success", "decline": "danger"}
STAGE_ADVICE = {
    "exploration": _l("Remove the uncertainty: explain the show, make the first visit easy."),
    "formation": _l("Deepen the relationship: keep in touch, offer more (space, meetings)."),
    "stability": _l("Keep the loyalty: reward it, serve it well."),
    "decline": _l("Find out why; win back the valuable, let the costly go."),
}

TIERS = ("vip", "important", "general", "low")
TIER_LABELS = {"vip": _l("VIP"), "important": _l("Important"), "general": _l("General"), "low": _l("Low value")}
TIER_STYLES = {"vip": "warning", "important": "primary", "general": "secondary", "low": "light"}
DEFAULT_TIER_SHARES = (5.0, 15.0, 50.0)  # VIP top 5 %, important the next 15 %, general the next 50 %, low the rest


class Point(NamedTuple):
    """One edition of the show in a customer's history."""

    edition: str  # the edition's name, for the rule's words
    took_part: bool
    size: float | None = None  # m² (company) or 1 / 0.5 (person came / registered only); None: unknown


class Words:
    """A message and its figures, translated only when shown (``str()``): a page shows 25 of 40,000 customers,
    and a lazy string per customer costs more than the whole computation."""

    __slots__ = ("message", "params")

    def __init__(self, message: str, **params):
        self.message, self.params = message, params

    def __str__(self) -> str:
        return gettext(self.message, **{k: (v if isinstance(v, (int, float)) else str(v))
                                        for k, v in self.params.items()})

    def __html__(self) -> str:
        from markupsafe import escape

        return str(escape(str(self)))


N_ = Words  # the extraction keyword (babel's default N_): the message is in the catalogue, translated when shown


@dataclass(frozen=True)
class Stage:
    code: str
    lazy_rule: object  # the rule that fired, with its figures: translated when shown (a page shows 25 of 40,000)

    @property
    def rule(self) -> str:
        return str(self.lazy_rule)

    @property
    def label(self) -> str:
        return str(STAGE_LABELS[self.code])


def _size_words(size: float | None, measure: str):
    if size is None:
        return "?"
    if measure == "area":
        return N_("%(area)s m²", area=f"{size:g}")
    return N_("came") if size >= 1 else N_("registered, did not come")


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return True
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b))


def stage(history: list[Point], measure: str = "area") -> Stage | None:
    """The lifecycle stage of one customer from its history (oldest first; the last point is the edition looked
    at), or None for a customer who never took part. ``measure`` is "area" (companies) or "attendance" (persons)."""
    taken = [i for i, p in enumerate(history) if p.took_part]
    if not taken:
        return None
    last = len(history) - 1
    latest = history[-1]
    if not latest.took_part:
        missed = last - taken[-1]
        if missed == 1:
            rule = N_("Missed the latest edition (%(edition)s); last took part in %(last)s.",
                      edition=latest.edition, last=history[taken[-1]].edition)
        else:
            rule = N_("Missed the last %(count)d editions; last took part in %(last)s.",
                      count=missed, last=history[taken[-1]].edition)
        return Stage("decline", rule)
    run = 1  # editions in a row ending with the latest
    while last - run >= 0 and history[last - run].took_part:
        run += 1
    run = min(run, last + 1)
    if len(taken) == 1:
        return Stage("exploration", N_("First edition: %(edition)s.", edition=latest.edition))
    if run == 1:
        gap = last - taken[-2] - 1
        return Stage("exploration", N_("Back in %(edition)s after missing %(count)d edition(s).",
                                       edition=latest.edition, count=gap))
    before = history[last - 1]
    if measure == "attendance" and latest.size is not None and latest.size < 1 and (before.size or 0) < 1:
        # registered again and stayed away again: not a steady visitor, whatever the run of registrations
        return Stage("decline", N_("Registered for %(edition)s but did not come, nor to %(previous)s.",
                                   edition=latest.edition, previous=before.edition))
    now_words, before_words = _size_words(latest.size, measure), _size_words(before.size, measure)
    if not _same(latest.size, before.size):
        if latest.size < before.size:
            if measure == "area":
                rule = N_("Booth shrank from %(before)s to %(now)s (more than %(pct)d%% smaller).",
                          before=before_words, now=now_words, pct=round(TOLERANCE * 100))
            else:
                rule = N_("Registered for %(edition)s but did not come (came to %(previous)s).",
                          edition=latest.edition, previous=before.edition)
            return Stage("decline", rule)
        if measure == "area":
            rule = N_("Booth grew from %(before)s to %(now)s (more than %(pct)d%% bigger).",
                      before=before_words, now=now_words, pct=round(TOLERANCE * 100))
        else:
            rule = N_("Came to %(edition)s after only registering for %(previous)s.",
                      edition=latest.edition, previous=before.edition)
        return Stage("formation", rule)
    if run < STABLE_RUN:
        return Stage("formation", N_("%(count)d editions in a row (%(needed)d make a steady customer).",
                                     count=run, needed=STABLE_RUN))
    steady = 2  # the editions in a row, ending with the latest, each about the size of the one before
    while steady < run and _same(history[last - steady + 1].size, history[last - steady].size):
        steady += 1
    if steady < STABLE_RUN:
        return Stage("formation", N_("%(count)d editions in a row, but at about the same size for only the last "
                                     "%(steady)d (%(needed)d make a steady customer).",
                                     count=run, steady=steady, needed=STABLE_RUN))
    if measure == "area":
        rule = N_("%(count)d editions in a row at about the same size (%(now)s, within %(pct)d%%).",
                  count=run, now=now_words, pct=round(TOLERANCE * 100))
    else:
        rule = N_("%(count)d editions in a row, %(now)s this time.", count=run, now=now_words)
    return Stage("stability", rule)


# --- RFM ------------------------------------------------------------------------------------------------


def quintile_scores(values: dict, *, higher_is_better: bool = True) -> dict:
    """Scores 1–5 by quintile of rank within the population: the top fifth gets 5. Equal values share the score of
    the middle of their ranks: when 80 % of the exhibitors came once, "once" scores 2, not the 4 of its best rank
    nor the 1 of its worst. ``values``: key → number."""
    n = len(values)
    if not n:
        return {}
    ordered = sorted(values.values(), reverse=not higher_is_better)  # worst first
    first, last = {}, {}
    for i, v in enumerate(ordered):
        first.setdefault(v, i)
        last[v] = i + 1
    # the middle of the value's share of the ranking, e.g. 0.25 for the worst of two
    return {key: max(1, min(5, ceil((first[v] + last[v]) * 5 / (2 * n) - 1e-9))) for key, v in values.items()}


# --- net value and tiers --------------------------------------------------------------------------------


def normalise(values: dict, *, log: bool = False) -> dict:
    """Min–max scaling to 0–1 (of log(1 + x) for heavy-tailed figures); all equal → 0.5 each."""
    from math import log1p

    if not values:
        return {}
    scaled = {k: (log1p(max(v, 0.0)) if log else float(v)) for k, v in values.items()}
    low, high = min(scaled.values()), max(scaled.values())
    if high - low <= 1e-12:
        return {k: 0.5 for k in scaled}
    return {k: (v - low) / (high - low) for k, v in scaled.items()}


def net_values(features: dict[str, dict], weights: dict[str, float], cost_key: str = "service_cost") -> dict:
    """key → net value 0–100ish: 100 × (Σ weight × feature − cost weight × cost) / Σ positive weights.
    ``features``: feature name → {key: normalised 0–1}; a feature missing for a key counts 0."""
    keys = set().union(*(f.keys() for f in features.values())) if features else set()
    total = sum(w for name, w in weights.items() if name != cost_key) or 1.0
    out = {}
    for key in keys:
        gain = sum(w * features.get(name, {}).get(key, 0.0) for name, w in weights.items() if name != cost_key)
        cost = weights.get(cost_key, 0.0) * features.get(cost_key, {}).get(key, 0.0)
        out[key] = round(100.0 * (gain - cost) / total, 2)
    return out


def tier_bounds(count: int, shares: tuple[float, float, float] = DEFAULT_TIER_SHARES) -> list[int]:
    """The last rank of VIP, important and general among ``count`` customers: the cumulative shares rounded up, so
    a small show still has one VIP."""
    bounds, cumulative = [], 0.0
    for share in shares:
        cumulative += share
        bounds.append(min(count, ceil(count * cumulative / 100 - 1e-9)))
    return bounds


def tiers(values: dict, shares: tuple[float, float, float] = DEFAULT_TIER_SHARES, tiebreak: dict | None = None) -> dict:
    """key → tier by rank of net value: the top ``shares[0]`` % are VIP, the next ``shares[1]`` % important, the
    next ``shares[2]`` % general, the rest low (``tier_bounds``)."""
    tiebreak = tiebreak or {}
    order = sorted(values, key=lambda k: (-values[k], -tiebreak.get(k, 0), k))
    bounds = tier_bounds(len(values), shares)
    out = {}
    for position, key in enumerate(order):
        if position < bounds[0]:
            out[key] = "vip"
        elif position < bounds[1]:
            out[key] = "important"
        elif position < bounds[2]:
            out[key] = "general"
        else:
            out[key] = "low"
    return out


def tier_rule(tier: str, shares: tuple[float, float, float], rank: int, count: int):
    """The tier's rule in words, with the ranks the shares give at this count: "Rank 7 of 100 by net value;
    Important = ranks 6–20 (the 5–20% band, rounded up)"."""
    vip, important, general = shares
    bands = {"vip": (0, vip), "important": (vip, vip + important), "general": (vip + important,
                                                                                vip + important + general),
             "low": (vip + important + general, 100)}
    edges = [0, *tier_bounds(count, shares), count]
    index = TIERS.index(tier)
    low, high = bands[tier]
    return N_("Rank %(rank)d of %(count)d by net value; %(tier)s = ranks %(first)d–%(last)d (the %(low)s–%(high)s%% "
              "band, rounded up).", rank=rank, count=count, tier=TIER_LABELS[tier], first=edges[index] + 1,
              last=edges[index + 1], low=f"{low:g}", high=f"{high:g}")


# --- 80/20 ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pareto:
    points: list[tuple[float, float]]  # (customer share %, cumulative revenue share %), best customers first
    customers: int
    revenue: float
    share_for_80: float | None  # % of customers that bring 80 % of the revenue
    top20_share: float | None  # % of the revenue the top 20 % of customers bring


def pareto(revenues: list[float]) -> Pareto:
    """The 80/20 view of revenues (one per customer; zero revenue customers count as customers)."""
    values = sorted((max(float(v), 0.0) for v in revenues), reverse=True)
    n, total = len(values), sum(values)
    if not n or total <= 0:
        return Pareto([(0.0, 0.0)], n, total, None, None)
    points, running, share_for_80 = [(0.0, 0.0)], 0.0, None
    for i, v in enumerate(values, start=1):
        running += v
        revenue_share = 100.0 * running / total
        points.append((round(100.0 * i / n, 2), round(revenue_share, 2)))
        if share_for_80 is None and revenue_share >= 80.0 - 1e-9:
            share_for_80 = round(100.0 * i / n, 1)
    top = ceil(n * 0.2 - 1e-9)
    top20 = round(100.0 * sum(values[:top]) / total, 1)
    return Pareto(points, n, total, share_for_80, top20)
