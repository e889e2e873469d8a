"""The churn watch list (issue 11): valuable customers at risk after an edition, each with the prediction's
reasons, value tier, lifecycle stage and a suggested action.

A customer is on the list when their value tier is VIP or important (``postshow.values``) and their predicted
probability to come back to the show's next edition is low (``postshow.predictions``). Rows are ranked by
value × risk (net value × (1 − probability)). Exhibitor companies and visitors (persons) are two lists.

The values and the predictions are read through ``value_source`` and ``score_source`` (adapters that answer
{} while those parts are absent), so the ranking and the rules are plain functions on plain data: ``rank``
takes the dicts, ``watch_list`` fetches them. The suggested action comes from ``RULES``: the first rule whose
test holds on the customer's facts (open complaints, leads against peers, booth area and price trends,
satisfaction, check-in) wins; every matching rule is kept as a further hint.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..core import services as core
from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..exhibitors.models import PARTICIPATING_STATUSES, Company, Exhibitor
from ..extensions import db
from ..leads.models import Lead
from ..onsite import services as onsite
from ..onsite.models import Scan
from ..visitors.models import Person, Registration

KINDS = ("exhibitor", "visitor")
AT_RISK_TIERS = ("vip", "important")
RISK_THRESHOLD = 0.5  # a probability to come back below this puts a valuable customer on the list
LOW_SATISFACTION = 6.0  # of 10
FEW_LEADS_SHARE = 0.5  # fewer leads than this share of the median exhibitor's


# --- the other parts, through adapters -----------------------------------------------------------------

def value_source(scope: Scope, edition: Edition, kind: str) -> dict:
    """{subject id: CustomerValue} of postshow.values (part "customers"), {} while it is absent."""
    try:
        from . import values
    except ImportError:
        return {}
    function = getattr(values, "company_values" if kind == "exhibitor" else "person_values", None)
    if function is None:
        return {}
    try:
        return dict(function(scope, edition) or {})
    except NotImplementedError:
        return {}


def score_source(scope: Scope, edition: Edition, kind: str) -> dict:
    """{subject id: Score} of postshow.predictions (part "predictions"), {} while it is absent."""
    try:
        from . import predictions
    except ImportError:
        return {}
    function = getattr(predictions, "scores", None)
    if function is None:
        return {}
    try:
        return {score.subject_id: score for score in (function(scope, edition, kind) or [])}
    except NotImplementedError:
        return {}


def _optional(module: str, name: str, *args) -> dict:
    """A lower module's figure function that may not exist yet (surveys, support): {} while absent."""
    import importlib

    try:
        function = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return {}
    try:
        return function(*args) or {}
    except NotImplementedError:
        return {}


# --- facts and the suggested action ------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    code: str
    label: Any  # lazy translated: the action in words
    test: Callable[[dict], bool]
    icon: str = "lightning"


def _number(facts: dict, key: str):
    value = facts.get(key)
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _below(facts, key, limit) -> bool:
    value = _number(facts, key)
    return value is not None and value < limit


def _above(facts, key, limit) -> bool:
    value = _number(facts, key)
    return value is not None and value > limit


EXHIBITOR_RULES = (
    Rule("service_call", _l("Service call: settle the open complaint before offering anything"),
         lambda f: _above(f, "open_tickets", 0), "telephone"),
    Rule("call_back", _l("Call back: ask what disappointed them and what would bring them back"),
         lambda f: _below(f, "satisfaction", LOW_SATISFACTION), "emoji-frown"),
    Rule("reactivate", _l("Account manager visit: find out why they skipped the last edition"),
         lambda f: f.get("took_part") is False, "briefcase"),
    Rule("matchmaking", _l("Offer matchmaking: book meetings with matching buyers for the next edition"),
         lambda f: _below(f, "leads_vs_median", FEW_LEADS_SHARE), "people"),
    Rule("early_bird", _l("Early-bird offer: keep last edition's price if they book early"),
         lambda f: _above(f, "price_trend", 0), "tag"),
    Rule("visit", _l("Account manager visit: find out why they took less space"),
         lambda f: _below(f, "area_trend", 0), "briefcase"),
)
EXHIBITOR_DEFAULT = Rule("personal_offer", _l("Personal call from the account manager with the rebooking offer"),
                         lambda f: True, "person-check")
VISITOR_RULES = (
    Rule("service_call", _l("Service call: settle the open complaint first"),
         lambda f: _above(f, "open_tickets", 0), "telephone"),
    Rule("call_back", _l("Call back: ask what disappointed them and what would bring them back"),
         lambda f: _below(f, "satisfaction", LOW_SATISFACTION), "emoji-frown"),
    Rule("fast_track", _l("Send the programme with a fast-track badge: they registered but did not come"),
         lambda f: f.get("checked_in") is False, "lightning"),
    Rule("matchmaking", _l("Offer matchmaking: suggest exhibitors that match their interests"),
         lambda f: _below(f, "booths_visited", 3), "people"),
)
VISITOR_DEFAULT = Rule("hosted_buyer", _l("Personal invitation to the buyer programme of the next edition"),
                       lambda f: True, "envelope-heart")


def suggest(kind: str, facts: dict) -> list[Rule]:
    """The rules that hold on the facts, strongest first; the default action when none does."""
    rules = EXHIBITOR_RULES if kind == "exhibitor" else VISITOR_RULES
    found = [rule for rule in rules if rule.test(facts)]
    return found or [EXHIBITOR_DEFAULT if kind == "exhibitor" else VISITOR_DEFAULT]


def exhibitor_facts(scope: Scope, edition: Edition, company_ids: list[int]) -> dict[int, dict]:
    """Per company: leads taken at the edition against the median exhibitor's, the booth area and price per m²
    against the previous edition (+1 rose, -1 shrank, 0 same), open tickets and satisfaction (0–10)."""
    facts: dict[int, dict] = {cid: {} for cid in company_ids}
    if not company_ids:
        return facts
    participating = scoped(Exhibitor, scope, Exhibitor.id, Exhibitor.company_id, Exhibitor.area_m2, Exhibitor.price) \
        .where(Exhibitor.edition_id == edition.id, Exhibitor.status.in_(PARTICIPATING_STATUSES))
    rows = db.session.execute(participating).all()
    leads = dict(db.session.execute(select(Lead.exhibitor_id, func.count()).where(
        Lead.organizer_id == scope.organizer_id, Lead.exhibitor_id.in_(select(participating.subquery().c.id)))
        .group_by(Lead.exhibitor_id)).all())
    per_company = {}
    for exhibitor_id, company_id, _area, _price in rows:
        per_company[company_id] = per_company.get(company_id, 0) + leads.get(exhibitor_id, 0)
    median = statistics.median(per_company.values()) if per_company else 0
    previous = core.previous_edition(edition)
    before = {}
    if previous is not None:
        before = {cid: (area, price) for cid, area, price in db.session.execute(
            scoped(Exhibitor, scope, Exhibitor.company_id, Exhibitor.area_m2, Exhibitor.price)
            .where(Exhibitor.edition_id == previous.id, Exhibitor.company_id.in_(company_ids)))}
    tickets = _optional("expo.support.services", "ticket_counts", scope, edition.id).get("company", {})
    satisfaction = _optional("expo.surveys.services", "company_scores", scope, edition.id)
    for _eid, company_id, area, price in rows:
        if company_id not in facts:
            continue
        f = facts[company_id]
        f["leads"] = per_company.get(company_id, 0)
        f["leads_vs_median"] = (f["leads"] / median) if median else None
        old_area, old_price = before.get(company_id, (None, None))
        if area and old_area:
            f["area_trend"] = (area > old_area) - (area < old_area)
        if area and old_area and price and old_price:
            now_m2, then_m2 = float(price) / float(area), float(old_price) / float(old_area)
            f["price_trend"] = (now_m2 > then_m2 * 1.001) - (now_m2 < then_m2 * 0.999)
    for company_id, f in facts.items():
        f["took_part"] = company_id in per_company
        f["open_tickets"] = int(tickets.get(company_id, 0) or 0)
        if company_id in satisfaction:
            f["satisfaction"] = float(satisfaction[company_id])
    return facts


def visitor_facts(scope: Scope, edition: Edition, person_ids: list[int]) -> dict[int, dict]:
    """Per person: checked in at the edition, booths that scanned their badge, open tickets, satisfaction."""
    facts: dict[int, dict] = {pid: {} for pid in person_ids}
    if not person_ids:
        return facts
    registrations = dict(db.session.execute(scoped(Registration, scope, Registration.id, Registration.person_id).where(
        Registration.edition_id == edition.id, Registration.person_id.in_(person_ids),
        Registration.status != "cancelled")).all())
    admitted = set(db.session.scalars(onsite.checked_in_registrations(edition.id)
                                      .where(Scan.registration_id.in_(list(registrations) or [-1]))))
    booths = dict(db.session.execute(select(Lead.registration_id, func.count(func.distinct(Lead.exhibitor_id))).where(
        Lead.organizer_id == scope.organizer_id, Lead.registration_id.in_(list(registrations) or [-1]))
        .group_by(Lead.registration_id)).all())
    tickets = _optional("expo.support.services", "ticket_counts", scope, edition.id).get("person", {})
    satisfaction = _optional("expo.surveys.services", "person_scores", scope, edition.id)
    for registration_id, person_id in registrations.items():
        f = facts[person_id]
        f["checked_in"] = f.get("checked_in", False) or registration_id in admitted
        f["booths_visited"] = f.get("booths_visited", 0) + booths.get(registration_id, 0)
    for person_id, f in facts.items():
        f["open_tickets"] = int(tickets.get(person_id, 0) or 0)
        if person_id in satisfaction:
            f["satisfaction"] = float(satisfaction[person_id])
    return facts


# --- the ranking -----------------------------------------------------------------------------------

@dataclass
class WatchRow:
    subject_id: int
    name: str
    tier: str
    tier_label: Any
    stage: str
    stage_label: Any
    net_value: float
    probability: float
    reasons: list = field(default_factory=list)
    actions: list = field(default_factory=list)  # Rules, the suggested one first
    facts: dict = field(default_factory=dict)

    @property
    def risk(self) -> float:
        return 1.0 - self.probability

    @property
    def priority(self) -> float:
        return max(self.net_value, 0.0) * self.risk

    @property
    def action(self) -> Rule:
        return self.actions[0]


def _label(value, name: str, fallback):
    label = getattr(value, name, None)
    return label if label not in (None, "") else fallback


def rank(kind: str, values: dict, scores: dict, names: dict, facts: dict | None = None, *,
         threshold: float = RISK_THRESHOLD) -> list[WatchRow]:
    """The watch list from plain data: {id: CustomerValue}, {id: Score}, {id: name}, {id: facts}. A customer
    needs a value, a score and a name; VIP / important with probability below ``threshold``; ranked by value ×
    risk (then higher tier, then lower probability, then name)."""
    facts = facts or {}
    rows = []
    for subject_id, value in values.items():
        score = scores.get(subject_id)
        if score is None or subject_id not in names or getattr(value, "tier", None) not in AT_RISK_TIERS:
            continue
        probability = float(getattr(score, "probability", 1.0))
        if not probability < threshold:
            continue
        stage = str(getattr(value, "stage", "") or "")
        rows.append(WatchRow(
            subject_id=subject_id, name=names[subject_id], tier=value.tier,
            tier_label=_label(value, "tier_label", value.tier), stage=stage,
            stage_label=_label(value, "stage_label", stage), net_value=float(getattr(value, "net_value", 0) or 0),
            probability=max(0.0, min(probability, 1.0)), reasons=list(getattr(score, "reasons", None) or [])[:3],
            actions=suggest(kind, facts.get(subject_id, {})), facts=facts.get(subject_id, {})))
    rows.sort(key=lambda r: (-r.priority, AT_RISK_TIERS.index(r.tier), r.probability, r.name, r.subject_id))
    return rows


def names_of(scope: Scope, kind: str, ids) -> dict[int, str]:
    ids = [i for i in ids if isinstance(i, int)]
    if not ids:
        return {}
    if kind == "exhibitor":
        stmt = scoped(Company, scope, Company.id, Company.name).where(Company.id.in_(ids),
                                                                    Company.merged_into_id.is_(None))
    else:
        stmt = scoped(Person, scope, Person.id, Person.name).where(Person.id.in_(ids), Person.merged_into_id.is_(None),
                                                                   Person.erased_at.is_(None))
    return dict(db.session.execute(stmt).all())


def watch_list(scope: Scope, edition: Edition, kind: str, *, threshold: float = RISK_THRESHOLD) -> list[WatchRow]:
    """The edition's watch list of exhibitor companies ("exhibitor") or visitors ("visitor")."""
    if kind not in KINDS or edition.organizer_id != scope.organizer_id:
        return []
    values = value_source(scope, edition, kind)
    candidates = [i for i, v in values.items() if getattr(v, "tier", None) in AT_RISK_TIERS]
    if not candidates:
        return []
    scores = score_source(scope, edition, kind)
    candidates = [i for i in candidates if i in scores and float(scores[i].probability) < threshold]
    names = names_of(scope, kind, candidates)
    facts = (exhibitor_facts if kind == "exhibitor" else visitor_facts)(scope, edition, candidates)
    return rank(kind, {i: values[i] for i in candidates}, scores, names, facts, threshold=threshold)


# --- editions --------------------------------------------------------------------------------------

def held_edition(edition: Edition) -> Edition | None:
    """The edition the watch list looks back on: this one once it is closed, else the show's previous one."""
    if edition.status == "closed":
        return edition
    return core.previous_edition(edition)


def next_edition(edition: Edition) -> Edition | None:
    """The show's edition after this one (where rebooking / return is measured), or None."""
    return db.session.scalar(scoped(Edition, Scope(edition.organizer_id))
                             .where(Edition.show_id == edition.show_id, Edition.starts_on > edition.starts_on)
                             .order_by(Edition.starts_on).limit(1))
