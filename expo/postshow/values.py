"""Every company's and person's lifecycle stage, RFM scores, net value and value tier at one edition of a show.

One pass of grouped queries per audience (a fixed number of queries whatever the number of customers), then
plain Python over the rows with the pure rules of ``lifecycle``. Used by the customers pages, the company and
person panels and the win-back part (``company_values`` / ``person_values``).

What counts (the show's editions up to the edition looked at, oldest first):

- a company took part in an edition when one of its exhibitor rows there is contracted, paid or exhibited; its
  size is the booth's m²; its revenue there is the sum of its contracts, else the deal's agreed price, else
  m² × the booth type's price per m² (``Exhibitor.deal_value``);
- a person took part when registered (not cancelled; booth staff badges are not visitors); size 1 when checked
  in, 0.5 when registered and did not come;
- RFM over the last ``RFM_WINDOW`` editions: recency = editions since the last one taken part in (0 = this one),
  frequency = editions taken part in, monetary = revenue (companies) or engagement = leads given + hot leads given
  + meetings (persons); each scored 1–5 by quintile within the show;
- satisfaction (the latest of the last ``SERVICE_EDITIONS`` editions) comes from ``expo.surveys.services.company_scores`` / ``person_scores`` and service cost (tickets)
  from ``expo.support.services.ticket_counts`` through ``_optional``: when those functions do not exist (the modules
  are not installed yet) the figures are simply empty (neutral satisfaction, no service cost).
"""
from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func

from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..exhibitors.models import PARTICIPATING_STATUSES, BoothType, Contract, Exhibitor
from ..extensions import db
from ..leads.models import Lead
from ..matchmaking.models import meeting_models
from ..onsite.models import Scan
from ..visitors.models import Registration
from . import lifecycle as lc

Meeting = meeting_models.Meeting

RFM_WINDOW = 5  # editions looked at for frequency and monetary
SERVICE_EDITIONS = 2  # satisfaction (the latest answer) and tickets (summed) are read at the last two editions
MET = ("accepted", "attended")  # meetings that count
NOT_VISITORS = ("exhibitor_staff",)
AUTHORITY_KEYS = ("purchase_authority", "authority", "purchasing_role")
AUTHORITY_VALUE = {"decides": 1.0, "recommends": 0.6, "none": 0.2}  # anything else / unknown: 0.4

# The weights of the net-value score (0–100 each; service cost is subtracted). Documented in docs/parts/customers.md.
COMPANY_FEATURES = ("revenue", "area", "years", "leads", "satisfaction", "service_cost")
PERSON_FEATURES = ("years", "leads", "hot_leads", "meetings", "authority", "satisfaction", "service_cost")
DEFAULT_COMPANY_WEIGHTS = {"revenue": 40, "area": 15, "years": 15, "leads": 10, "satisfaction": 10, "service_cost": 10}
DEFAULT_PERSON_WEIGHTS = {"years": 20, "leads": 15, "hot_leads": 25, "meetings": 15, "authority": 10,
                          "satisfaction": 10, "service_cost": 5}
FEATURE_LABELS = {
    "revenue": _l("Revenue"), "area": _l("Booth area (m²)"), "years": _l("Editions taken part in"),
    "leads": _l("Leads (received by a company, given by a person)"), "hot_leads": _l("Hot leads given"),
    "meetings": _l("Meetings"), "authority": _l("Purchase authority"), "satisfaction": _l("Satisfaction"),
    "service_cost": _l("Service cost (tickets, subtracted)"),
}
COMPANY_LABELS = {**FEATURE_LABELS, "leads": _l("Leads received")}
PERSON_LABELS = {**FEATURE_LABELS, "leads": _l("Leads given")}
LOG_FEATURES = {"revenue", "area", "leads", "hot_leads", "meetings", "service_cost"}  # heavy-tailed: log(1 + x)


@dataclass
class CustomerValue:
    subject_id: int  # company id or person id
    kind: str  # "company" / "person"
    stage: str | None
    lazy_stage_rule: object  # translated when read (.stage_rule): a page shows a few of many customers
    rfm: tuple[int, int, int]
    rfm_raw: tuple[int, int, float]  # editions since last, editions in the window, revenue / engagement
    net_value: float
    tier: str
    lazy_tier_rule: object
    rank: int
    figures: dict = field(default_factory=dict)  # the raw figures behind the score

    @property
    def stage_rule(self) -> str:
        return str(self.lazy_stage_rule)

    @property
    def tier_rule(self) -> str:
        return str(self.lazy_tier_rule)

    @property
    def stage_label(self) -> str:
        return str(lc.STAGE_LABELS[self.stage]) if self.stage else ""

    @property
    def tier_label(self) -> str:
        return str(lc.TIER_LABELS[self.tier])

    @property
    def rfm_text(self) -> str:
        return "-".join(str(s) for s in self.rfm)


@dataclass
class Analysis:
    """All customers of one audience at one edition, with what the pages show around them."""

    kind: str
    edition: Edition
    editions: list[Edition]
    values: dict[int, CustomerValue]
    weights: dict[str, float]
    shares: tuple[float, float, float]
    pareto: lc.Pareto | None = None  # companies: the 80/20 view of the edition's revenue

    def counts(self, attribute: str, codes) -> dict[str, int]:
        found = {code: 0 for code in codes}
        for v in self.values.values():
            code = getattr(v, attribute)
            if code in found:
                found[code] += 1
        return found


def _optional(module: str, name: str):
    """The function ``module.name`` when both exist, else None (no import error is hidden: a module that
    exists but fails to import still raises)."""
    if importlib.util.find_spec(module.rsplit(".", 1)[0]) is None or importlib.util.find_spec(module) is None:
        return None
    return getattr(importlib.import_module(module), name, None)


def satisfaction_scores(scope: Scope, edition_id: int, audience: str) -> dict[int, float]:
    """Mean 0–10 survey scores by company or person id at an edition; {} when the surveys module has none."""
    fn = _optional("expo.surveys.services", "company_scores" if audience == "company" else "person_scores")
    return dict(fn(scope, edition_id) or {}) if fn else {}


def ticket_counts(scope: Scope, edition_id: int, audience: str) -> dict[int, int]:
    """Tickets by company or person id at an edition; {} when the support module has no ticket counts."""
    fn = _optional("expo.support.services", "ticket_counts")
    return dict((fn(scope, edition_id) or {}).get(audience, {})) if fn else {}


def show_editions(scope: Scope, edition: Edition) -> list[Edition]:
    """The show's editions up to this one, oldest first."""
    return list(db.session.scalars(scoped(Edition, scope).where(Edition.show_id == edition.show_id,
                                                                Edition.starts_on <= edition.starts_on)
                                   .order_by(Edition.starts_on, Edition.id)))


def _edition(scope: Scope, edition) -> Edition:
    if isinstance(edition, Edition):
        return edition
    found = db.session.scalar(scoped(Edition, scope).where(Edition.id == int(edition)))
    if found is None:
        raise LookupError("no such edition")
    return found


def _settings(scope: Scope):
    from .customers import load_settings  # the settings service (validation, storage) lives there

    return load_settings(scope)


# --- companies ------------------------------------------------------------------------------------------


def _company_rows(scope: Scope, editions: list[Edition]):
    ids = [e.id for e in editions]
    window = ids[-RFM_WINDOW:]
    value = func.coalesce(Exhibitor.price, Exhibitor.area_m2 * BoothType.price_per_m2)
    exhibitors = db.session.execute(
        scoped(Exhibitor, scope, Exhibitor.id, Exhibitor.company_id, Exhibitor.edition_id, Exhibitor.area_m2, value)
        .outerjoin(BoothType, BoothType.id == Exhibitor.booth_type_id)
        .where(Exhibitor.edition_id.in_(ids), Exhibitor.status.in_(PARTICIPATING_STATUSES))).all()
    contracts = dict(db.session.execute(
        scoped(Contract, scope, Contract.exhibitor_id, func.sum(Contract.amount))
        .join(Exhibitor, Exhibitor.id == Contract.exhibitor_id)
        .where(Exhibitor.edition_id.in_(ids)).group_by(Contract.exhibitor_id)).all())
    leads = {row[0]: (row[1], row[2] or 0) for row in db.session.execute(
        scoped(Lead, scope, Lead.exhibitor_id, func.count(Lead.id),
               func.sum(func.cast(Lead.rating == "hot", db.Integer)))
        .join(Exhibitor, Exhibitor.id == Lead.exhibitor_id)
        .where(Exhibitor.edition_id.in_(window)).group_by(Lead.exhibitor_id)).all()}
    meetings = dict(db.session.execute(
        scoped(Meeting, scope, Meeting.exhibitor_id, func.count(Meeting.id))
        .where(Meeting.edition_id.in_(window), Meeting.status.in_(MET)).group_by(Meeting.exhibitor_id)).all())
    return exhibitors, contracts, leads, meetings


def _latest(scores_by_edition: list[dict]) -> dict:
    """The latest score each key has (the list is oldest first)."""
    out = {}
    for scores in scores_by_edition:
        out.update(scores)
    return out


def _satisfaction_feature(scores: dict, keys) -> dict:
    known = [float(s) for s in scores.values() if s is not None]
    neutral = (sum(known) / len(known) / 10.0) if known else 0.5
    return {k: (min(max(float(scores[k]), 0.0), 10.0) / 10.0 if scores.get(k) is not None else neutral) for k in keys}


def _score(kind: str, keys, history: dict, rfm_raw: dict, raw: dict, weights: dict, shares, satisfaction: dict,
           measure: str, tiebreak: dict) -> dict[int, CustomerValue]:
    features = {}
    for name, per_key in raw.items():
        if name == "satisfaction":
            features[name] = _satisfaction_feature(satisfaction, keys)
        elif name == "authority":
            features[name] = per_key
        else:
            features[name] = lc.normalise(per_key, log=name in LOG_FEATURES)
    net = lc.net_values(features, weights)
    tier_of = lc.tiers(net, shares, tiebreak)
    order = sorted(net, key=lambda k: (-net[k], -tiebreak.get(k, 0), k))
    rank_of = {k: i + 1 for i, k in enumerate(order)}
    r = lc.quintile_scores({k: v[0] for k, v in rfm_raw.items()}, higher_is_better=False)
    f = lc.quintile_scores({k: v[1] for k, v in rfm_raw.items()})
    m = lc.quintile_scores({k: v[2] for k, v in rfm_raw.items()})
    n = len(keys)
    out = {}
    for k in keys:
        st = lc.stage(history[k], measure)
        figures = {name: raw[name].get(k) for name in raw if name != "satisfaction"}
        figures["satisfaction"] = satisfaction.get(k)
        out[k] = CustomerValue(
            subject_id=k, kind=kind, stage=st.code if st else None, lazy_stage_rule=st.lazy_rule if st else "",
            rfm=(r[k], f[k], m[k]), rfm_raw=rfm_raw[k], net_value=net.get(k, 0.0), tier=tier_of[k],
            lazy_tier_rule=lc.tier_rule(tier_of[k], shares, rank_of[k], n), rank=rank_of[k], figures=figures)
    return out


def analyse_companies(scope: Scope, edition, settings=None) -> Analysis:
    edition = _edition(scope, edition)
    settings = settings or _settings(scope)
    editions = show_editions(scope, edition)
    ids = [e.id for e in editions]
    position = {e.id: i for i, e in enumerate(editions)}
    window = ids[-RFM_WINDOW:]
    exhibitors, contracts, leads, meetings = _company_rows(scope, editions)

    area: dict[int, dict[int, float]] = {}  # company -> edition position -> m²
    revenue: dict[int, dict[int, float]] = {}
    took: dict[int, set[int]] = {}
    led: dict[int, list[int]] = {}
    met: dict[int, int] = {}
    for ex_id, company_id, edition_id, m2, deal in exhibitors:
        p = position[edition_id]
        took.setdefault(company_id, set()).add(p)
        if m2 is not None:
            area.setdefault(company_id, {})[p] = area.get(company_id, {}).get(p, 0.0) + float(m2)
        money = contracts.get(ex_id)
        money = float(money) if money is not None else float(deal or 0)
        revenue.setdefault(company_id, {})[p] = revenue.get(company_id, {}).get(p, 0.0) + money
        count, hot = leads.get(ex_id, (0, 0))
        tally = led.setdefault(company_id, [0, 0])
        tally[0] += count
        tally[1] += int(hot)
        met[company_id] = met.get(company_id, 0) + meetings.get(ex_id, 0)

    keys = list(took)
    names = [e.name for e in editions]
    last = len(editions) - 1
    window_positions = set(range(len(editions) - len(window), len(editions)))
    history, rfm_raw = {}, {}
    raw = {name: {} for name in COMPANY_FEATURES}
    for k in keys:
        taken, sizes = took[k], area.get(k, {})
        history[k] = [lc.Point(name, i in taken, sizes.get(i)) for i, name in enumerate(names)]
        in_window = took[k] & window_positions
        money = sum(v for p, v in revenue.get(k, {}).items() if p in window_positions)
        rfm_raw[k] = (last - max(took[k]), len(in_window), round(money, 2))
        raw["revenue"][k] = money
        latest_area = [area[k][p] for p in sorted(area.get(k, {}))]
        raw["area"][k] = latest_area[-1] if latest_area else 0.0
        raw["years"][k] = float(len(took[k]))
        raw["leads"][k] = float(led.get(k, [0, 0])[0])
    satisfaction = _latest([satisfaction_scores(scope, e, "company") for e in ids[-SERVICE_EDITIONS:]])
    tickets: dict[int, int] = {}
    for e in ids[-SERVICE_EDITIONS:]:
        for k, n in ticket_counts(scope, e, "company").items():
            tickets[k] = tickets.get(k, 0) + int(n or 0)
    raw["service_cost"] = {k: float(tickets.get(k, 0)) for k in keys}
    raw["satisfaction"] = {}
    weights = {k: float(v) for k, v in settings.company_weights.items()}
    shares = settings.shares
    values = _score("company", keys, history, rfm_raw, raw, weights, shares, satisfaction, "area",
                    tiebreak=raw["revenue"])
    for k, v in values.items():
        v.figures.update(hot_leads=led.get(k, [0, 0])[1], meetings=met.get(k, 0), tickets=tickets.get(k, 0),
                         revenue_this=round(revenue.get(k, {}).get(last, 0.0), 2))
    this_edition = [revenue[k][last] for k in keys if last in revenue.get(k, {})]
    return Analysis("company", edition, editions, values, weights, shares, lc.pareto(this_edition))


# --- persons --------------------------------------------------------------------------------------------


def _authority(answers) -> float:
    for key, raw in (answers or {}).items() if isinstance(answers, dict) else ():
        if key in AUTHORITY_KEYS or "authority" in str(key):
            value = raw.get("value") if isinstance(raw, dict) else raw
            return AUTHORITY_VALUE.get(str(value).strip().lower(), 0.4)
    return 0.4


def analyse_persons(scope: Scope, edition, settings=None) -> Analysis:
    edition = _edition(scope, edition)
    settings = settings or _settings(scope)
    editions = show_editions(scope, edition)
    ids = [e.id for e in editions]
    position = {e.id: i for i, e in enumerate(editions)}
    window = ids[-RFM_WINDOW:]
    regs = db.session.execute(
        scoped(Registration, scope, Registration.id, Registration.person_id, Registration.edition_id)
        .where(Registration.edition_id.in_(ids), Registration.status != "cancelled",
               Registration.category.notin_(NOT_VISITORS))).all()
    came = set(db.session.scalars(
        scoped(Scan, scope, Scan.registration_id)
        .where(Scan.edition_id.in_(ids), Scan.kind == "checkin", Scan.result == "ok",
               Scan.registration_id.is_not(None)).group_by(Scan.registration_id)))
    leads = {row[0]: (row[1], row[2] or 0) for row in db.session.execute(
        scoped(Lead, scope, Lead.registration_id, func.count(Lead.id),
               func.sum(func.cast(Lead.rating == "hot", db.Integer)))
        .join(Registration, Registration.id == Lead.registration_id)
        .where(Registration.edition_id.in_(window)).group_by(Lead.registration_id)).all()}
    meetings = dict(db.session.execute(
        scoped(Meeting, scope, Meeting.registration_id, func.count(Meeting.id))
        .where(Meeting.edition_id.in_(window), Meeting.status.in_(MET)).group_by(Meeting.registration_id)).all())
    answers = dict(db.session.execute(
        scoped(Registration, scope, Registration.person_id, Registration.answers)
        .where(Registration.edition_id == edition.id, Registration.status != "cancelled",
               Registration.category.notin_(NOT_VISITORS))).all())

    size: dict[int, dict[int, float]] = {}
    tally: dict[int, list[int]] = {}  # person -> [leads, hot, meetings] in the window
    window_positions = set(range(len(editions) - len(window), len(editions)))
    for reg_id, person_id, edition_id in regs:
        p = position[edition_id]
        sizes = size.setdefault(person_id, {})
        sizes[p] = max(sizes.get(p, 0.0), 1.0 if reg_id in came else 0.5)
        if p in window_positions:
            count, hot = leads.get(reg_id, (0, 0))
            t = tally.setdefault(person_id, [0, 0, 0])
            t[0] += count
            t[1] += int(hot)
            t[2] += meetings.get(reg_id, 0)
    keys = list(size)
    names = [e.name for e in editions]
    last = len(editions) - 1
    history, rfm_raw = {}, {}
    raw = {name: {} for name in PERSON_FEATURES}
    for k in keys:
        sizes = size[k]
        history[k] = [lc.Point(name, i in sizes, sizes.get(i)) for i, name in enumerate(names)]
        t = tally.get(k, [0, 0, 0])
        in_window = set(size[k]) & window_positions
        rfm_raw[k] = (last - max(size[k]), len(in_window), float(t[0] + t[1] + t[2]))
        raw["years"][k] = float(sum(1 for s in size[k].values() if s >= 1.0) or 0.5)
        raw["leads"][k], raw["hot_leads"][k], raw["meetings"][k] = float(t[0]), float(t[1]), float(t[2])
        raw["authority"][k] = _authority(answers.get(k))
    satisfaction = _latest([satisfaction_scores(scope, e, "person") for e in ids[-SERVICE_EDITIONS:]])
    tickets: dict[int, int] = {}
    for e in ids[-SERVICE_EDITIONS:]:
        for k, n in ticket_counts(scope, e, "person").items():
            tickets[k] = tickets.get(k, 0) + int(n or 0)
    raw["service_cost"] = {k: float(tickets.get(k, 0)) for k in keys}
    raw["satisfaction"] = {}
    weights = {k: float(v) for k, v in settings.person_weights.items()}
    values = _score("person", keys, history, rfm_raw, raw, weights, settings.shares, satisfaction, "attendance",
                    tiebreak={k: rfm_raw[k][2] for k in keys})
    for k, v in values.items():
        v.figures.update(tickets=tickets.get(k, 0), came=sum(1 for s in size[k].values() if s >= 1.0),
                         registered=len(size[k]))
    return Analysis("person", edition, editions, values, weights, settings.shares)


# --- one customer (the company and person pages' panels) -------------------------------------------------


def population(scope: Scope, edition, audience: str) -> int:
    """How many companies / persons the analysis at this edition would rank (one count query)."""
    edition = _edition(scope, edition)
    ids = [e.id for e in show_editions(scope, edition)]
    if audience == "company":
        stmt = scoped(Exhibitor, scope, func.count(func.distinct(Exhibitor.company_id))).where(
            Exhibitor.edition_id.in_(ids), Exhibitor.status.in_(PARTICIPATING_STATUSES))
    else:
        stmt = scoped(Registration, scope, func.count(func.distinct(Registration.person_id))).where(
            Registration.edition_id.in_(ids), Registration.status != "cancelled",
            Registration.category.notin_(NOT_VISITORS))
    return db.session.scalar(stmt) or 0


def single_stage(scope: Scope, edition, audience: str, subject_id: int) -> lc.Stage | None:
    """One company's or person's stage at this edition from its own history only (a few queries): the panels use
    it where ranking the whole show on every page view would cost too much."""
    edition = _edition(scope, edition)
    editions = show_editions(scope, edition)
    position = {e.id: i for i, e in enumerate(editions)}
    sizes: dict[int, float] = {}
    if audience == "company":
        for edition_id, m2 in db.session.execute(
                scoped(Exhibitor, scope, Exhibitor.edition_id, Exhibitor.area_m2)
                .where(Exhibitor.company_id == subject_id, Exhibitor.edition_id.in_(list(position)),
                       Exhibitor.status.in_(PARTICIPATING_STATUSES))).all():
            p = position[edition_id]
            before = sizes.get(p)
            sizes[p] = before if m2 is None else (before or 0.0) + float(m2)
        history = [lc.Point(e.name, i in sizes, sizes.get(i)) for i, e in enumerate(editions)]
        return lc.stage(history, "area")
    regs = db.session.execute(
        scoped(Registration, scope, Registration.id, Registration.edition_id)
        .where(Registration.person_id == subject_id, Registration.edition_id.in_(list(position)),
               Registration.status != "cancelled", Registration.category.notin_(NOT_VISITORS))).all()
    came = set(db.session.scalars(
        scoped(Scan, scope, Scan.registration_id).where(Scan.registration_id.in_([r[0] for r in regs]),
                                                        Scan.kind == "checkin", Scan.result == "ok"))) if regs else set()
    for reg_id, edition_id in regs:
        p = position[edition_id]
        sizes[p] = max(sizes.get(p, 0.0), 1.0 if reg_id in came else 0.5)
    history = [lc.Point(e.name, i in sizes, sizes.get(i)) for i, e in enumerate(editions)]
    return lc.stage(history, "attendance")


def company_values(scope: Scope, edition) -> dict[int, CustomerValue]:
    """company id → its CustomerValue at this edition (companies that took part in any edition of the show up to
    this one)."""
    return analyse_companies(scope, edition).values


def person_values(scope: Scope, edition) -> dict[int, CustomerValue]:
    """person id → its CustomerValue at this edition (persons registered for any edition of the show up to this
    one; booth staff badges are not visitors)."""
    return analyse_persons(scope, edition).values


__all__ = ["Analysis", "CustomerValue", "analyse_companies", "analyse_persons", "company_values", "person_values"]
