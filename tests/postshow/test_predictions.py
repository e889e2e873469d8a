"""Rebooking and return predictions (issue 11): features without leakage, the model against the recency-only
baseline on a generated history whose behaviour the test controls, reasons on fixed data, stored runs."""
from __future__ import annotations

import math
import random
import secrets
from datetime import date, datetime, timezone

import pytest
from sqlalchemy import insert, select

from expo.core import services as core
from expo.core.scoping import Scope
from expo.exhibitors.models import Company, Exhibitor
from expo.extensions import db
from expo.leads.models import Lead
from expo.postshow import backtest, predictions
from expo.postshow.model import Model, reason_text
from expo.postshow.models import PredictionScore
from expo.visitors.models import Person, Registration

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def generated_history(make, *, editions=6, companies=160, seed=7):
    """A show of ``editions`` yearly editions. Each company has a lasting lead pull and satisfaction; whether it
    books the next edition depends on how often it came (share of the last editions), the leads it received
    against the median and its satisfaction, with logistic noise. Recency is no cause: a company that skipped
    editions comes back as readily as its frequency, leads and satisfaction say. Returns (organizer, show,
    editions, {(company id, edition index): satisfaction})."""
    rng = random.Random(seed)
    organizer = make.organizer("Generated Expo")
    scope = Scope(organizer.id)
    show = core.create_show(scope, "Generated Fair")
    rows = [make.edition(organizer, show=show, starts_on=date(2020 + i, 5, 10), name=f"Generated {2020 + i}",
                         status="closed") for i in range(editions)]
    pool = []
    for n in range(companies):
        company = Company(organizer_id=organizer.id, name=f"Company {n}", country="CN", external_ref=f"C-{n}")
        pool.append(company)
    db.session.add_all(pool)
    db.session.flush()
    pull = {c.id: rng.gauss(2.0, 0.8) for c in pool}  # log of the mean leads a company draws
    liking = {c.id: rng.gauss(7.0, 1.5) for c in pool}
    people = [Person(organizer_id=organizer.id, name=f"Person {k}", email=f"p{k}@x.test", external_ref=f"P-{k}")
              for k in range(100)]
    db.session.add_all(people)
    db.session.flush()
    visitors = []
    for i, edition in enumerate(rows):  # 60 of the 100 persons register for each edition; leads point at them
        regs = [Registration(organizer_id=organizer.id, edition_id=edition.id, person_id=p.id, category="buyer",
                             status="confirmed", access_key=secrets.token_urlsafe(32), external_ref=f"R{i}-{p.id}")
                for p in rng.sample(people, 60)]
        db.session.add_all(regs)
        db.session.flush()
        visitors.append([r.id for r in regs])
    scores = {}
    history: dict[int, list[int]] = {c.id: [] for c in pool}
    present = set(rng.sample([c.id for c in pool], 70))
    for i, edition in enumerate(rows):
        leads_now = {}
        for company_id in present:
            history[company_id].append(i)
            exhibitor = Exhibitor(organizer_id=organizer.id, edition_id=edition.id, company_id=company_id,
                                  status="exhibited", area_m2=18, price=18000, external_ref=f"E{i}-{company_id}")
            db.session.add(exhibitor)
            db.session.flush()
            n_leads = min(59, max(0, int(round(math.exp(pull[company_id] + rng.gauss(0, 0.3))))))
            leads_now[company_id] = n_leads
            if n_leads:
                db.session.execute(insert(Lead), [
                    {"organizer_id": organizer.id, "exhibitor_id": exhibitor.id, "registration_id": r,
                     "rating": "hot" if rng.random() < 0.2 else "warm", "notes": "", "scan_count": 1}
                    for r in rng.sample(visitors[i], n_leads)])
            scores[(company_id, i)] = round(min(10.0, max(0.0, liking[company_id] + rng.gauss(0, 0.7))), 1)
        median_leads = sorted(leads_now.values())[len(leads_now) // 2] if leads_now else 1
        nxt = set()
        for company_id, parts in history.items():
            if not parts:
                continue
            last = parts[-1]
            window = min(5, i + 1)
            share = sum(1 for p in parts if p > i - window) / window
            if last == i:
                leads = leads_now[company_id]
            else:
                leads = math.exp(pull[company_id])
            z = (3.0 * (share - 0.5) + 1.5 * math.log((leads + 1) / (median_leads + 1))
                 + 0.8 * (scores.get((company_id, last), 7.0) - 7.0) + 0.3 * (last == i) - 0.2)
            z += rng.gauss(0, 0.6)
            if rng.random() < 1 / (1 + math.exp(-z)):
                nxt.add(company_id)
        newcomers = [c.id for c in pool if not history[c.id]]
        nxt |= set(rng.sample(newcomers, min(len(newcomers), 12)))
        present = nxt
    db.session.flush()
    satisfaction_by_edition = {}
    for (company_id, i), value in scores.items():
        satisfaction_by_edition.setdefault(rows[i].id, {})[company_id] = value
    return organizer, show, rows, satisfaction_by_edition


@pytest.fixture
def generated(make, monkeypatch):
    organizer, show, editions, satisfaction = generated_history(make)
    monkeypatch.setattr(predictions, "company_satisfaction", lambda scope, edition_id: satisfaction.get(edition_id, {}))
    return organizer, show, editions


def test_model_beats_recency_baseline_on_generated_history(generated):
    organizer, _show, editions = generated
    history = predictions.History(Scope(organizer.id), editions)
    result = backtest.backtest(history, "exhibitor", NOW.date())
    assert result["editions"], result
    assert result["auc"] is not None and result["baseline_auc"] is not None
    assert result["auc"] >= 0.75, result
    assert result["auc"] - result["baseline_auc"] >= 0.1, result
    assert 0 <= result["brier"] <= 0.25
    assert sum(b["n"] for b in result["bins"]) == result["n"]
    for b in result["bins"]:  # calibrated within reason where the bin is populated
        if b["n"] >= 40:
            assert abs(b["predicted"] - b["observed"]) < 0.2, b


def test_compute_stores_run_scores_and_reasons(generated):
    organizer, _show, editions = generated
    scope = Scope(organizer.id)
    run = backtest.compute(editions[-1], "exhibitor", now=NOW)
    db.session.commit()
    assert run.status == "done", run.message
    assert run.scored == db.session.scalar(select(db.func.count()).select_from(PredictionScore)
                                           .where(PredictionScore.run_id == run.id))
    assert run.metrics["backtest"]["auc"] > run.metrics["backtest"]["baseline_auc"]
    coefficients = run.metrics["coefficients"]
    assert coefficients["satisfaction"] > 0 and coefficients["leads_vs_median"] > 0 and coefficients["last_share"] > 0
    out = predictions.scores(scope, editions[-1], "exhibitor")
    assert len(out) == run.scored
    assert out[0].probability >= out[-1].probability
    assert all(0 <= s.probability <= 1 for s in out)
    top = out[0]
    assert top.reasons and all(isinstance(r, str) and r for r in top.reasons)
    assert set(predictions.COMPANY_FEATURES) <= set(top.features)
    # an edition with too little history before it: a clear message, no scores
    first = backtest.compute(editions[0], "exhibitor", now=NOW)
    assert first.status == "too_little_history" and "Too little history" in first.message
    assert predictions.scores(scope, editions[0], "exhibitor") == []


def test_scores_without_a_run_are_computed_on_the_fly(generated):
    organizer, _show, editions = generated
    out = predictions.scores(Scope(organizer.id), editions[3], "exhibitor", now=NOW)
    assert out and all(s.reasons is not None for s in out)
    assert predictions.scores(Scope(organizer.id + 999), editions[3], "exhibitor") == []
    assert predictions.scores(Scope(organizer.id), editions[3], "nonsense") == []


def test_features_never_read_the_next_edition(generated, make):
    """Features at N are the same whatever happens at N + 1 (leads added there change nothing)."""
    organizer, _show, editions = generated
    scope = Scope(organizer.id)
    before = predictions.History(scope, editions).features(3, "exhibitor")
    exhibitors = db.session.scalars(select(Exhibitor).where(Exhibitor.edition_id == editions[4].id)).all()
    reg = make.registration(editions[4], source="import")
    for exhibitor in exhibitors[:5]:
        db.session.add(Lead(organizer_id=organizer.id, exhibitor_id=exhibitor.id, registration_id=reg.id,
                            rating="hot"))
        exhibitor.area_m2 = 200
    db.session.flush()
    after = predictions.History(scope, editions).features(3, "exhibitor")
    assert before == after
    # and a history cut at N gives the same features as the whole one, for visitors too
    assert predictions.History(scope, editions[:4]).features(3, "exhibitor") == before
    assert predictions.History(scope, editions[:4]).features(3, "visitor") == \
        predictions.History(scope, editions).features(3, "visitor")
    # labels are read from N + 1 only: the registrations there
    came = predictions.History(scope, editions).participants(4, "visitor")
    assert reg.person_id in came


def test_an_exhibitors_staff_badge_is_no_visitor(generated, make):
    organizer, _show, editions = generated
    staff = make.registration(editions[3], category="exhibitor_staff", source="import")
    visitor = make.registration(editions[3], category="buyer", source="import")
    db.session.flush()
    persons = predictions.edition_figures(Scope(organizer.id), editions[3]).persons
    assert visitor.person_id in persons and staff.person_id not in persons


def test_reasons_on_fixed_data(app):
    rows = [{"last_share": s / 5, "last_count": s, "window": 5, "leads_vs_median": lv, "leads": 10, "median_leads": 25,
             "satisfaction": sat} for s, lv, sat in
            [(5, 0.5, 9), (4, 0.2, 8), (1, -0.6, 4), (0, -0.8, 3), (5, 0.0, 8), (2, -0.5, 5)] * 5]
    labels = [1, 1, 0, 0, 1, 0] * 5
    model = Model(("last_share", "leads_vs_median", "satisfaction")).fit(rows, labels)
    row = {"last_share": 0.8, "last_count": 4, "window": 5, "leads_vs_median": -0.6, "leads": 10,
           "median_leads": 25, "satisfaction": None}
    reasons = model.reasons(row, model.contributions([row])[0])
    assert [r["feature"] for r in reasons] == sorted([r["feature"] for r in reasons],
                                                     key=lambda f: -abs(next(x["weight"] for x in reasons
                                                                             if x["feature"] == f)))
    assert "satisfaction" not in [r["feature"] for r in reasons]  # unknown: no reason
    with app.test_request_context():
        words = {r["feature"]: reason_text(r, "exhibitor") for r in reasons}
        assert words["last_share"] == "Took part in 4 of the last 5 editions"
        assert words["leads_vs_median"] == "Received 60% fewer leads than the median exhibitor"
        weights = {r["feature"]: r["weight"] for r in reasons}
        assert weights["last_share"] > 0 and weights["leads_vs_median"] < 0
        assert reason_text({"feature": "tickets", "figures": {"value": 2}}, "visitor") == "Raised 2 tickets"
        assert reason_text({"feature": "recency", "figures": {"value": 1}}, "visitor") == \
            "Last took part 1 edition ago"
        assert reason_text({"feature": "nope", "figures": {"value": 1}}, "visitor") == ""
        assert reason_text({"feature": "tickets", "figures": {}}, "visitor") == ""


def test_interface_adapter_returns_empty_while_absent(app):
    assert predictions._interface("expo.no_such_module", "x", 1) == {}
    assert predictions._interface("expo.postshow.predictions", "no_such_function", 1) == {}

    def broken(*args):
        raise RuntimeError("boom")

    predictions.broken_for_test = broken
    try:
        assert predictions._interface("expo.postshow.predictions", "broken_for_test") == {}
    finally:
        del predictions.broken_for_test
