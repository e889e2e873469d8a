"""The backtest: recall@10 / precision@10 against the category-overlap baseline, on generated shows."""
import numpy as np
import pytest
import scipy.sparse as sp

from expo.matchmaking import backtest, engine


@pytest.fixture(scope="module")
def show():
    return backtest.generate(1500, 150, past_editions=2, seed=11)


def test_metrics_of_a_perfect_and_of_an_empty_list():
    truth = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], dtype=np.float32))
    rows = np.array([0, 1])
    perfect = np.array([[0, 1, -1], [2, -1, -1]])
    assert backtest._metrics(perfect, truth, rows, 3) == {"recall": 1.0, "precision": round(1.5 / 3, 4)}
    assert backtest._metrics(np.full((2, 3), -1), truth, rows, 3) == {"recall": 0.0, "precision": 0.0}


def test_engine_beats_the_category_overlap_baseline(show):
    inputs, truth = show
    report = backtest.backtest(inputs, truth)
    assert report["k"] == 10 and report["visitors"] > 1000
    model, base = report["model"], report["baseline"]
    assert model["recall"] > base["recall"] + 0.05 and model["precision"] > base["precision"]
    # each signal alone, beside them, for the chart
    assert set(report["per_signal"]) == set(engine.SIGNALS)
    assert report["per_signal"]["category"]["recall"] > report["per_signal"]["profile"]["recall"]
    assert report["per_signal"]["history"]["recall"] > 0.2
    assert report["weights"] == pytest.approx(engine.DEFAULT_WEIGHTS)


def test_without_history_or_text_the_comparison_is_still_reported(show):
    """No past edition and no text: only declared categories — the engine's tree spreading against the plain
    overlap. Reported as it comes out, whichever is ahead."""
    inputs, truth = backtest.generate(1500, 150, past_editions=0, text=False, seed=12)
    assert inputs.history is None and not any(inputs.visitor_needs)
    report = backtest.backtest(inputs, truth, per_signal=False)
    for side in ("model", "baseline"):
        assert 0 < report[side]["recall"] <= 1 and 0 < report[side]["precision"] <= 1
    # declared categories carry most of what there is to know: neither side is far ahead
    assert abs(report["model"]["recall"] - report["baseline"]["recall"]) < 0.15


def test_weights_move_the_backtest(show):
    inputs, truth = show
    model = engine.prepare(inputs)
    profile_only = backtest.backtest(inputs, truth, {"category": 0, "text": 0, "profile": 1, "history": 0},
                                     per_signal=False, model=model)
    default = backtest.backtest(inputs, truth, per_signal=False, model=model)
    assert default["model"]["recall"] > profile_only["model"]["recall"] * 2


def test_the_truth_is_never_an_input(show):
    """Recommendations made before and after shuffling the truth are the same: only history feeds the engine."""
    inputs, truth = show
    a = backtest.backtest(inputs, truth, per_signal=False)
    shuffled = [(v, (e + 1) % inputs.n_exhibitors) for v, e in truth]
    b = backtest.backtest(inputs, shuffled, per_signal=False)
    assert a["model"] != b["model"]  # scored against another truth …
    r1 = engine.recommend(inputs, k=10, visitor_rows=[0, 1, 2])
    r2 = engine.recommend(inputs, k=10, visitor_rows=[0, 1, 2])
    assert (r1.visitor_top == r2.visitor_top).all()  # … from the same recommendations


def test_fewer_exhibitors_than_k():
    inputs, truth = backtest.generate(200, 4, past_editions=1, seed=5)
    report = backtest.backtest(inputs, truth, k=10, per_signal=False)
    assert report["visitors"] > 0 and 0 < report["baseline"]["recall"] <= 1 and 0 < report["model"]["recall"] <= 1


def test_explain_many_equals_explain_pair_by_pair(show):
    inputs, _truth = show
    model = engine.prepare(inputs)
    result = engine.recommend(model, k=3, visitor_rows=range(40))
    v = np.repeat(np.arange(40), 3)
    e = result.visitor_top[:40].ravel()
    keep = e >= 0
    many = engine.explain_many(model, v[keep], e[keep])
    assert len(many) == keep.sum()
    for i in (0, 7, 31):
        one = engine.explain(model, int(v[keep][i]), int(e[keep][i]))
        assert one == many[i]
    kinds = {(r["signal"], r.get("kind")) for x in many for r in x["reasons"]}
    assert {("category", None), ("text", None), ("history", "peers"), ("profile", None)} <= kinds


def test_run_grades_under_the_live_exclusions(make):
    """A returning buyer and company met at the past edition and again now. "Met at an earlier edition" is off by
    default (a repeat buyer is often the best suggestion): the pair counts. With the rule on, the engine may not
    recommend it live, so the backtest may not either — the hit is a miss. This edition's own lead (the truth)
    never excludes anything: it was not known before the edition."""
    from datetime import date, timedelta
    from types import SimpleNamespace

    from sqlalchemy import insert

    from expo.core import services as core
    from expo.core.scoping import Scope
    from expo.extensions import db
    from expo.leads.models import Lead
    from expo.visitors.models import registration_interests

    organizer = make.organizer()
    scope = Scope(organizer.id)
    show = core.create_show(scope, "Furniture Fair")
    office = core.add_category(scope, show, "Office furniture 办公家具")
    past = make.edition(organizer, show=show, starts_on=date.today() - timedelta(days=365), status="closed")
    current = make.edition(organizer, show=show, starts_on=date.today() - timedelta(days=1))
    old_ex = make.exhibitor(past, "Ergo Seating Co")
    old_reg = make.registration(past, email="b@example.com", source="import")
    ex = make.exhibitor(current, "Ergo Seating Co")  # the same company and person, back again
    reg = make.registration(current, email="b@example.com", source="import")
    other = make.exhibitor(current, "Desk Co")
    for e in (old_ex, ex, other):
        e.categories.append(office)
    db.session.execute(insert(registration_interests), [{"registration_id": r.id, "category_id": office.id}
                                                         for r in (old_reg, reg)])
    db.session.execute(insert(Lead), [{"organizer_id": organizer.id, "exhibitor_id": e.id, "registration_id": r.id,
                                       "rating": "hot"} for e, r in ((old_ex, old_reg), (ex, reg))])
    db.session.flush()

    default = backtest.run(current.id, k=2)  # default settings: exclude_met (this edition) on, met before off
    assert default["excluded"] == {"pairs": 0, "true_pairs": 0, "met_before": False, "competitors": True}
    assert default["model"]["recall"] == 1.0 and default["baseline"]["recall"] == 1.0
    rules = SimpleNamespace(exclude_met=True, exclude_met_before=True, exclude_competitors=True)
    before = backtest.run(current.id, k=2, settings=rules)
    assert before["excluded"] == {"pairs": 1, "true_pairs": 1, "met_before": True, "competitors": True}
    assert before["model"]["recall"] == 0.0 and before["baseline"]["recall"] == 0.0
