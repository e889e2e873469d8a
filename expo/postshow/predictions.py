"""Rebooking (exhibitors) and return (visitors) predictions for the next edition (issue 11): history features.

For one show, a customer's features at edition N are computed from the editions of the show up to N only
(``History`` holds the editions up to N and nothing after: no leakage). The label of a (customer, N) pair is
whether the customer took part in N+1: a company exhibited with a participating status; a person registered
(not cancelled) and, when N+1 has check-ins, came in. ``model.py`` trains the regularised logistic regression,
``backtest.py`` checks it on the organizer's history and stores the runs; ``scores()`` is what other parts read.

Satisfaction, NPS, tickets and lead follow-up come from the surveys, support and leads parts through
``_interface`` (an empty answer while a module does not provide the function yet).

Plain functions: no request, no current user.
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from statistics import median

from sqlalchemy import case, func

from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..exhibitors.models import PARTICIPATING_STATUSES, Exhibitor
from ..extensions import db
from ..leads.models import Lead
from ..matchmaking.models import meeting_models
from ..onsite.models import Scan
from ..visitors.models import Registration
from .values import NOT_VISITORS

log = logging.getLogger(__name__)
Meeting = meeting_models.Meeting
KINDS = ("exhibitor", "visitor")
MET_OR_AGREED = ("accepted", "attended")
PROFESSIONAL = ("buyer", "trade_visitor", "vip")
WINDOW = 5  # "took part in n of the last 5 editions"

# The model's inputs, in order. Raw values (None when unknown: the model imputes the training mean).
COMPANY_FEATURES = ("last_share", "editions", "recency", "area_m2", "area_trend", "price_trend", "leads_vs_median",
                    "hot_share", "meetings", "satisfaction", "tickets", "follow_up_rate")
PERSON_FEATURES = ("last_share", "editions", "attended_editions", "recency", "checked_in", "leads_given",
                   "hot_leads_given", "meetings", "nps", "tickets", "professional")
FEATURES = {"exhibitor": COMPANY_FEATURES, "visitor": PERSON_FEATURES}


# --- the other parts' figures (surveys, support, leads follow-up) ---------------------------------------

def _interface(module: str, name: str, *args):
    """Call ``module.name(*args)``; {} while that function is not there (the part is being written) or fails."""
    try:
        function = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return {}
    if function is None:
        return {}
    try:
        return function(*args) or {}
    except Exception:  # noqa: BLE001 (a broken neighbour must not take the predictions down)
        log.exception("%s.%s failed", module, name)
        return {}


def company_satisfaction(scope: Scope, edition_id: int) -> dict:
    return _interface("expo.surveys.services", "company_scores", scope, edition_id)


def person_nps(scope: Scope, edition_id: int) -> dict:
    return _interface("expo.surveys.services", "person_scores", scope, edition_id)


def ticket_counts(scope: Scope, edition_id: int) -> dict:
    return _interface("expo.support.services", "ticket_counts", scope, edition_id)


def follow_up_rates(scope: Scope, edition_id: int) -> dict:
    return _interface("expo.leads.follow_up", "follow_up_rates", scope, edition_id)


# --- one edition's figures ------------------------------------------------------------------------------

@dataclass
class EditionFigures:
    edition: Edition
    companies: dict[int, dict] = field(default_factory=dict)  # company id → figures as exhibitor
    persons: dict[int, dict] = field(default_factory=dict)  # person id → figures as visitor
    has_checkins: bool = False
    median_leads: float = 0.0


def _num(value):
    return None if value is None else float(value)


def edition_figures(scope: Scope, edition: Edition) -> EditionFigures:
    """What happened at one edition, per company and per person (bulk queries, no per-row reads)."""
    figures = EditionFigures(edition)
    eid = edition.id
    exhibitors = db.session.execute(
        scoped(Exhibitor, scope, Exhibitor.id, Exhibitor.company_id, Exhibitor.area_m2, Exhibitor.price)
        .where(Exhibitor.edition_id == eid, Exhibitor.status.in_(PARTICIPATING_STATUSES))).all()
    hot = func.sum(case((Lead.rating == "hot", 1), else_=0))
    leads = dict((row[0], (row[1], row[2] or 0)) for row in db.session.execute(
        scoped(Lead, scope, Lead.exhibitor_id, func.count(Lead.id), hot)
        .join(Exhibitor, Exhibitor.id == Lead.exhibitor_id)
        .where(Exhibitor.edition_id == eid).group_by(Lead.exhibitor_id)))
    meetings = dict(db.session.execute(
        scoped(Meeting, scope, Meeting.exhibitor_id, func.count(Meeting.id))
        .where(Meeting.edition_id == eid, Meeting.status.in_(MET_OR_AGREED)).group_by(Meeting.exhibitor_id)).all())
    satisfaction = company_satisfaction(scope, eid)
    tickets = ticket_counts(scope, eid)
    follow_up = follow_up_rates(scope, eid)
    for exhibitor_id, company_id, area, price in exhibitors:
        n, n_hot = leads.get(exhibitor_id, (0, 0))
        rate = follow_up.get(exhibitor_id) or {}
        area, price = _num(area), _num(price)
        figures.companies[company_id] = {
            "area": area, "price_per_m2": price / area if area and price is not None else None,
            "leads": n, "hot": n_hot, "meetings": meetings.get(exhibitor_id, 0),
            "satisfaction": _num(satisfaction.get(company_id)),
            "tickets": int((tickets.get("company") or {}).get(company_id, 0)),
            "follow_up": (rate.get("followed_up", 0) / rate["leads"]) if rate.get("leads") else None,
        }
    figures.median_leads = float(median(f["leads"] for f in figures.companies.values())) if figures.companies else 0.0

    registrations = db.session.execute(
        scoped(Registration, scope, Registration.id, Registration.person_id, Registration.category)
        .where(Registration.edition_id == eid, Registration.status != "cancelled",
               Registration.category.notin_(NOT_VISITORS))).all()  # an exhibitor's staff badge is no visitor
    attended = set(db.session.scalars(
        scoped(Scan, scope, Scan.registration_id).where(Scan.edition_id == eid, Scan.kind == "checkin",
                                                        Scan.result == "ok").distinct()))
    figures.has_checkins = bool(attended)
    given = dict((row[0], (row[1], row[2] or 0)) for row in db.session.execute(
        scoped(Lead, scope, Lead.registration_id, func.count(Lead.id), hot)
        .join(Registration, Registration.id == Lead.registration_id)
        .where(Registration.edition_id == eid).group_by(Lead.registration_id)))
    met = dict(db.session.execute(
        scoped(Meeting, scope, Meeting.registration_id, func.count(Meeting.id))
        .where(Meeting.edition_id == eid, Meeting.status.in_(MET_OR_AGREED)).group_by(Meeting.registration_id)).all())
    nps = person_nps(scope, eid)
    person_tickets = tickets.get("person") or {}
    for registration_id, person_id, category in registrations:
        n, n_hot = given.get(registration_id, (0, 0))
        figures.persons[person_id] = {
            "attended": registration_id in attended, "leads_given": n, "hot_given": n_hot,
            "meetings": met.get(registration_id, 0), "nps": _num(nps.get(person_id)),
            "tickets": int(person_tickets.get(person_id, 0)), "professional": category in PROFESSIONAL,
        }
    return figures


# --- a show's history -----------------------------------------------------------------------------------

def show_editions(scope: Scope, edition: Edition) -> list[Edition]:
    """The editions of the edition's show, oldest first."""
    return list(db.session.scalars(scoped(Edition, scope).where(Edition.show_id == edition.show_id)
                                   .order_by(Edition.starts_on, Edition.id)))


def is_complete(edition: Edition, today: date) -> bool:
    """An edition whose participants are known (it has begun): usable as the label of the one before."""
    return edition.status in ("live", "closed") or edition.starts_on <= today


class History:
    """The figures of a show's editions, loaded once each, read up to a given edition only."""

    def __init__(self, scope: Scope, editions: list[Edition]):
        self.scope = scope
        self.editions = editions
        self._figures: dict[int, EditionFigures] = {}

    def figures(self, index: int) -> EditionFigures:
        if index not in self._figures:
            self._figures[index] = edition_figures(self.scope, self.editions[index])
        return self._figures[index]

    def participants(self, index: int, kind: str) -> set[int]:
        """Who took part in edition ``index`` (the label of the pairs at index - 1)."""
        figures = self.figures(index)
        if kind == "exhibitor":
            return set(figures.companies)
        if figures.has_checkins:
            return {pid for pid, f in figures.persons.items() if f["attended"]}
        return set(figures.persons)

    def features(self, index: int, kind: str) -> dict[int, dict]:
        """Every customer seen in editions 0..index → their features at ``index``. Reads nothing after it."""
        seen: dict[int, list[int]] = {}
        for i in range(index + 1):
            rows = self.figures(i).companies if kind == "exhibitor" else self.figures(i).persons
            for subject in rows:
                seen.setdefault(subject, []).append(i)
        build = _company_features if kind == "exhibitor" else _person_features
        return {subject: build(self, index, subject, parts) for subject, parts in seen.items()}


def _trend(now, before):
    return (now - before) / before if now is not None and before else None


def _company_features(history: History, index: int, subject: int, parts: list[int]) -> dict:
    last = parts[-1]
    here = history.figures(last).companies[subject]
    before = history.figures(parts[-2]).companies[subject] if len(parts) > 1 else None
    window = min(WINDOW, index + 1)
    median_leads = history.figures(last).median_leads
    return {
        "last_share": sum(1 for i in parts if i > index - window) / window, "window": window,
        "last_count": sum(1 for i in parts if i > index - window),
        "editions": len(parts), "recency": index - last,
        "area_m2": here["area"], "area_trend": _trend(here["area"], before["area"]) if before else None,
        "price_trend": _trend(here["price_per_m2"], before["price_per_m2"]) if before else None,
        "leads": here["leads"], "median_leads": median_leads,
        "leads_vs_median": min(here["leads"] / median_leads, 5.0) - 1 if median_leads else None,
        "hot_share": here["hot"] / here["leads"] if here["leads"] else None,
        "meetings": here["meetings"], "satisfaction": here["satisfaction"], "tickets": here["tickets"],
        "follow_up_rate": here["follow_up"],
    }


def _person_features(history: History, index: int, subject: int, parts: list[int]) -> dict:
    last = parts[-1]
    here = history.figures(last).persons[subject]
    window = min(WINDOW, index + 1)
    attended = sum(1 for i in parts if history.figures(i).persons[subject]["attended"])
    return {
        "last_share": sum(1 for i in parts if i > index - window) / window, "window": window,
        "last_count": sum(1 for i in parts if i > index - window),
        "editions": len(parts), "attended_editions": attended, "recency": index - last,
        "checked_in": 1.0 if here["attended"] else 0.0, "leads_given": here["leads_given"],
        "hot_leads_given": here["hot_given"], "meetings": here["meetings"], "nps": here["nps"],
        "tickets": here["tickets"], "professional": 1.0 if here["professional"] else 0.0,
    }



# --- what other parts read ------------------------------------------------------------------------------

@dataclass
class Score:
    subject_id: int  # company id (exhibitor) or person id (visitor)
    probability: float
    reasons: list[str]  # sentences in the current language, strongest first
    features: dict
    reason_data: list[dict] = field(default_factory=list)  # {feature, weight, figures}: the stored reasons


def latest_run(scope: Scope, edition: Edition, kind: str, *, done_only: bool = False):
    from .models_predictions import PredictionRun

    stmt = scoped(PredictionRun, scope).where(PredictionRun.edition_id == edition.id, PredictionRun.kind == kind)
    if done_only:
        stmt = stmt.where(PredictionRun.status == "done")
    return db.session.scalar(stmt.order_by(PredictionRun.created_at.desc(), PredictionRun.id.desc()).limit(1))


def texts(reasons: list[dict], kind: str) -> list[str]:
    from .model import reason_text

    return [text for text in (reason_text(r, kind) for r in reasons or []) if text]


def scores(scope: Scope, edition: Edition, kind: str, *, now: datetime | None = None) -> list[Score]:
    """Every customer's chance of taking part in the edition after ``edition``, highest first.

    Read from the latest finished run; without one, computed now (not stored). [] when the history is too
    short to learn from (see ``backtest.compute`` for the stored message)."""
    from .models_predictions import PredictionScore

    if kind not in KINDS or edition.organizer_id != scope.organizer_id:
        return []
    run = latest_run(scope, edition, kind, done_only=True)
    if run is not None:
        rows = db.session.execute(
            scoped(PredictionScore, scope, PredictionScore.subject_id, PredictionScore.probability,
                   PredictionScore.reasons, PredictionScore.features)
            .where(PredictionScore.run_id == run.id)
            .order_by(PredictionScore.probability.desc(), PredictionScore.subject_id)).all()
        return [Score(s, p, texts(r, kind), f or {}, r or []) for s, p, r, f in rows]
    from .backtest import predict
    from .model import TooLittleHistory

    editions = show_editions(scope, edition)
    index = next(i for i, e in enumerate(editions) if e.id == edition.id)
    today = (now or datetime.now(timezone.utc)).date()
    try:
        prediction = predict(History(scope, editions[: index + 1]), index, kind, today)
    except TooLittleHistory:
        return []
    contributions = prediction.model.contributions(prediction.rows)
    out = []
    for i, (subject, row, p) in enumerate(zip(prediction.subject_ids, prediction.rows, prediction.probabilities)):
        reasons = prediction.model.reasons(row, contributions[i])
        out.append(Score(subject, float(p), texts(reasons, kind), row, reasons))
    out.sort(key=lambda s: (-s.probability, s.subject_id))
    return out
