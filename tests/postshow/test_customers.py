"""Customers part (issue 11): lifecycle stages, RFM quintiles, net value and tiers, the 80/20 view — the pure rules on
fixed data, then the grouped queries on a real database (values at an edition, query budget)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from expo.core.scoping import Scope
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.pipeline_models import Contract
from expo.extensions import db
from expo.postshow import customers, values
from expo.postshow import lifecycle as lc
from expo.postshow.lifecycle import Point

# --- lifecycle stages on fixed histories ------------------------------------------------------------------


def h(*sizes):
    """A history from sizes, oldest first: None = did not take part."""
    return [Point(f"E{i + 1}", s is not None, s) for i, s in enumerate(sizes)]


def test_never_took_part_has_no_stage():
    assert lc.stage(h(None, None)) is None


def test_first_edition_is_exploration():
    s = lc.stage(h(None, None, 18))
    assert s.code == "exploration" and "E3" in s.rule
    assert lc.stage(h(18)).code == "exploration"


def test_back_after_a_gap_is_exploration():
    s = lc.stage(h(18, None, None, 18))
    assert s.code == "exploration" and "2" in s.rule


def test_second_edition_in_a_row_is_formation():
    s = lc.stage(h(None, 18, 18))
    assert s.code == "formation" and "2 editions in a row" in s.rule


def test_growing_booth_is_formation_beyond_the_tolerance_only():
    s = lc.stage(h(18, 18, 36))
    assert s.code == "formation" and "18 m²" in s.rule and "36 m²" in s.rule
    # +10 % exactly is "about the same": with three in a row, stable
    assert lc.stage(h(20, 20, 22)).code == "stability"
    assert lc.stage(h(20, 20, 22.5)).code == "formation"


def test_steady_repeat_is_stability():
    s = lc.stage(h(36, 36, 36, 36))
    assert s.code == "stability" and "4 editions in a row" in s.rule and "36 m²" in s.rule


def test_missed_the_latest_edition_is_decline():
    s = lc.stage(h(36, 36, 36, None))
    assert s.code == "decline" and "E4" in s.rule and "E3" in s.rule
    s = lc.stage(h(36, None, None))
    assert s.code == "decline" and "2 editions" in s.rule


def test_shrinking_booth_is_decline():
    s = lc.stage(h(36, 36, 18))
    assert s.code == "decline" and "36 m²" in s.rule and "18 m²" in s.rule
    assert lc.stage(h(20, 20, 18)).code == "stability"  # -10 %: within the tolerance
    assert lc.stage(h(20, 20, 17.9)).code == "decline"


def test_unknown_area_counts_as_the_same_size():
    assert lc.stage(h(None, 18, None)).code == "decline"  # did not take part
    unknown = [Point("E1", True, None), Point("E2", True, None), Point("E3", True, None)]
    assert lc.stage(unknown).code == "stability"


def test_person_attendance_rules():
    assert lc.stage(h(1.0, 0.5), "attendance").code == "decline"
    assert "did not come" in lc.stage(h(1.0, 0.5), "attendance").rule
    assert lc.stage(h(0.5, 1.0), "attendance").code == "formation"
    assert lc.stage(h(1.0, 1.0, 1.0), "attendance").code == "stability"
    # registered three times and never came: not steady
    never = lc.stage(h(0.5, 0.5, 0.5), "attendance")
    assert never.code == "decline" and "did not come" in never.rule
    assert lc.stage(h(0.5), "attendance").code == "exploration"


def test_stability_needs_every_step_of_the_run_at_about_the_same_size():
    grown = lc.stage(h(10, 20, 40, 42))
    assert grown.code == "formation" and "only the last 2" in grown.rule
    assert lc.stage(h(10, 40, 40, 42)).code == "stability"


# --- RFM quintiles ------------------------------------------------------------------------------------------


def test_quintiles_of_ten_values():
    scores = lc.quintile_scores({k: k for k in range(1, 11)})
    assert [scores[k] for k in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_quintiles_lower_is_better_and_ties_share_the_middle_score():
    scores = lc.quintile_scores({"a": 0, "b": 0, "c": 0, "d": 3, "e": 5}, higher_is_better=False)
    assert scores == {"a": 4, "b": 4, "c": 4, "d": 2, "e": 1}
    assert lc.quintile_scores({"a": 7, "b": 7}) == {"a": 3, "b": 3}
    # most exhibitors came once: "once" is a low score, not the top one its best rank would give
    frequency = {k: (1 if k < 80 else 2 + k % 3) for k in range(100)}
    scores = lc.quintile_scores(frequency)
    assert scores[0] == 2 and scores[99] in (4, 5) and max(scores.values()) == 5
    assert lc.quintile_scores({}) == {}


# --- net value and tiers ------------------------------------------------------------------------------------


def test_tier_boundaries_at_default_shares():
    net = {k: float(100 - k) for k in range(100)}  # key 0 is the best
    t = lc.tiers(net)
    assert [k for k in net if t[k] == "vip"] == list(range(5))
    assert sum(1 for v in t.values() if v == "important") == 15
    assert sum(1 for v in t.values() if v == "general") == 50
    assert sum(1 for v in t.values() if v == "low") == 30
    assert t[4] == "vip" and t[5] == "important" and t[19] == "important" and t[20] == "general"
    assert t[69] == "general" and t[70] == "low"


def test_a_small_show_still_has_a_vip_and_shares_are_configurable():
    t = lc.tiers({"a": 3.0, "b": 2.0, "c": 1.0})
    assert t == {"a": "vip", "b": "general", "c": "general"}  # cumulative bounds: ceil(3 × 20 %) = 1
    t = lc.tiers({k: float(k) for k in range(10)}, (20, 30, 30))
    assert [t[k] for k in (9, 8, 7, 5, 4, 2, 1)] == ["vip", "vip", "important", "important", "general", "general",
                                                      "low"]


def test_tier_rule_in_words():
    rule = str(lc.tier_rule("important", (5, 15, 50), 7, 100))
    assert "Rank 7 of 100" in rule and "ranks 6–20" in rule and "5–20%" in rule
    # ten customers: 5 % rounds up to one VIP, and the rule says so
    t = lc.tiers({k: float(k) for k in range(10)})
    assert t[9] == "vip" and t[8] == "important"
    assert "ranks 1–1" in str(lc.tier_rule("vip", lc.DEFAULT_TIER_SHARES, 1, 10))
    assert "ranks 2–2" in str(lc.tier_rule("important", lc.DEFAULT_TIER_SHARES, 2, 10))


def test_weights_change_the_ranking():
    features = {"revenue": {"big": 1.0, "loyal": 0.2}, "years": {"big": 0.0, "loyal": 1.0},
                "service_cost": {"big": 0.0, "loyal": 0.0}}
    money = lc.net_values(features, {"revenue": 80, "years": 20, "service_cost": 0})
    loyalty = lc.net_values(features, {"revenue": 20, "years": 80, "service_cost": 0})
    assert money["big"] > money["loyal"] and loyalty["loyal"] > loyalty["big"]
    costly = lc.net_values({**features, "service_cost": {"big": 1.0, "loyal": 0.0}},
                           {"revenue": 80, "years": 20, "service_cost": 100})
    assert costly["big"] < 0 < costly["loyal"]


def test_normalise():
    assert lc.normalise({"a": 0, "b": 10}) == {"a": 0.0, "b": 1.0}
    assert lc.normalise({"a": 3, "b": 3}) == {"a": 0.5, "b": 0.5}
    n = lc.normalise({"a": 0, "b": 9, "c": 99}, log=True)
    assert n["a"] == 0 and n["c"] == 1 and 0.4 < n["b"] < 0.6


# --- 80/20 --------------------------------------------------------------------------------------------------


def test_pareto_numbers():
    p = lc.pareto([80, 5, 5, 5, 5, 0, 0, 0, 0, 0])
    assert p.customers == 10 and p.revenue == 100
    assert p.share_for_80 == 10.0  # one customer in ten brings 80 %
    assert p.top20_share == 85.0
    assert p.points[0] == (0.0, 0.0) and p.points[-1] == (100.0, 100.0) and p.points[1] == (10.0, 80.0)
    assert lc.pareto([]).share_for_80 is None and lc.pareto([0, 0]).share_for_80 is None
    even = lc.pareto([1] * 10)
    assert even.share_for_80 == 80.0 and even.top20_share == 20.0


# --- on the database ----------------------------------------------------------------------------------------


@pytest.fixture
def show(make):
    """A show with four editions and companies whose histories reach every stage; the last edition is looked at."""
    org = make.organizer()
    first = make.edition(org, starts_on=date(2022, 5, 1), name="Expo 2022", status="closed")
    editions = [first] + [make.edition(org, show=first.show, starts_on=date(year, 5, 1), name=f"Expo {year}",
                                       status="closed") for year in (2023, 2024)]
    editions.append(make.edition(org, show=first.show, starts_on=date(2025, 5, 1), name="Expo 2025"))
    scope = Scope(org.id)
    plans = {
        "Steady Co": (36, 36, 36, 36),
        "Grower Co": (None, None, 18, 54),
        "Newcomer Co": (None, None, None, 9),
        "Lapsed Co": (54, 54, 54, None),
        "Shrinker Co": (None, 72, 72, 24),
        "Prospect Co": (None, None, None, None),  # only ever a prospect: not a customer
    }
    made = {}
    for name, areas in plans.items():
        for edition, area in zip(editions, areas):
            status = "prospect" if area is None else "exhibited"
            if area is None and name != "Prospect Co":
                continue
            ex = exhibitor_services.add_exhibitor(scope, edition, name, status=status,
                                                  area_m2=Decimal(area) if area else None,
                                                  price=Decimal(area * 1000) if area else None)
            made[name] = ex.company_id
    db.session.commit()
    return scope, editions, made


def test_company_values_at_an_edition(show):
    scope, editions, made = show
    found = values.company_values(scope, editions[-1])
    assert made["Prospect Co"] not in found
    stages = {name: found[cid].stage for name, cid in made.items() if cid in found}
    assert stages == {"Steady Co": "stability", "Grower Co": "formation", "Newcomer Co": "exploration",
                      "Lapsed Co": "decline", "Shrinker Co": "decline"}
    steady = found[made["Steady Co"]]
    assert steady.stage_label == "Stability" and "4 editions in a row" in steady.stage_rule
    assert steady.rfm_raw == (0, 4, 144000.0) and steady.rfm[1] == 5
    lapsed = found[made["Lapsed Co"]]
    assert lapsed.rfm_raw[0] == 1 and lapsed.rfm[0] < steady.rfm[0]
    assert {v.tier for v in found.values()} <= set(lc.TIERS)
    assert sorted(v.rank for v in found.values()) == [1, 2, 3, 4, 5]
    assert [v.tier_label for v in sorted(found.values(), key=lambda v: v.rank)] == ["VIP"] + ["General"] * 3 + ["Low value"]
    assert "Rank 1 of 5" in min(found.values(), key=lambda v: v.rank).tier_rule
    # the edition given by id works the same
    assert values.company_values(scope, editions[-1].id)[made["Steady Co"]].stage == "stability"


def test_contracts_are_the_revenue_and_the_pareto_is_of_the_edition(show):
    scope, editions, made = show
    analysis = values.analyse_companies(scope, editions[-1])
    # this edition: Steady 36k, Grower 54k, Newcomer 9k, Shrinker 24k
    assert analysis.pareto.customers == 4 and analysis.pareto.revenue == 123000
    assert analysis.pareto.share_for_80 == 75.0  # 54k + 36k + 24k = 92.7 %: three of four
    rank_before = analysis.values[made["Newcomer Co"]].rank
    from expo.exhibitors.models import Exhibitor

    newcomer = db.session.scalar(db.select(Exhibitor).where(Exhibitor.company_id == made["Newcomer Co"]))
    db.session.add(Contract(organizer_id=scope.organizer_id, exhibitor_id=newcomer.id, number="C-1",
                            signed_on=date(2025, 1, 1), amount=Decimal("500000")))
    db.session.commit()
    analysis = values.analyse_companies(scope, editions[-1])
    assert analysis.values[made["Newcomer Co"]].figures["revenue_this"] == 500000
    assert analysis.values[made["Newcomer Co"]].rank < rank_before
    assert analysis.values[made["Newcomer Co"]].rfm[2] == 5
    assert analysis.pareto.share_for_80 == 25.0


def test_weights_change_the_tiers_on_the_database(show):
    scope, editions, made = show
    form = {f"company_{k}": "0" for k in values.COMPANY_FEATURES}
    form.update({f"person_{k}": "10" for k in values.PERSON_FEATURES},
                vip_percent="20", important_percent="20", general_percent="40")
    form["company_revenue"] = "100"
    customers.save_settings(scope, customers.parse_settings(form))
    db.session.commit()
    by_money = values.company_values(scope, editions[-1])
    assert by_money[made["Shrinker Co"]].rank == 1  # 72k + 72k + 24k is the most over the window
    form["company_revenue"], form["company_years"] = "0", "100"
    customers.save_settings(scope, customers.parse_settings(form))
    db.session.commit()
    by_years = values.company_values(scope, editions[-1])
    assert by_years[made["Steady Co"]].rank == 1 and by_years[made["Steady Co"]].tier == "vip"
    assert by_years[made["Shrinker Co"]].tier != "vip"


@pytest.mark.parametrize("field,value", [
    ("company_revenue", "-1"), ("company_revenue", "1e308"), ("company_revenue", "101"), ("company_area", "nan"),
    ("company_years", "inf"), ("company_leads", "1\x00"), ("person_leads", "abc"), ("person_years", ""),
    ("vip_percent", "0"), ("vip_percent", "0.001"), ("general_percent", "90"), ("important_percent", "9" * 400),
])
def test_hostile_weights_are_refused_with_a_clear_error(field, value):
    form = {f"company_{k}": "10" for k in values.COMPANY_FEATURES}
    form.update({f"person_{k}": "10" for k in values.PERSON_FEATURES},
                vip_percent="5", important_percent="15", general_percent="50")
    form[field] = value
    with pytest.raises(customers.ServiceError) as refused:
        customers.parse_settings(form)
    assert refused.value.field in (field, "general_percent")
    assert str(refused.value)


def test_all_zero_weights_are_refused():
    form = {f"company_{k}": "0" for k in values.COMPANY_FEATURES}
    form.update({f"person_{k}": "10" for k in values.PERSON_FEATURES},
                vip_percent="5", important_percent="15", general_percent="50")
    form["company_service_cost"] = "50"
    with pytest.raises(customers.ServiceError):
        customers.parse_settings(form)


def test_the_default_settings_until_saved(show):
    scope, _editions, _made = show
    assert customers.load_settings(scope) is customers.DEFAULTS
    assert customers.DEFAULTS.company_weights == values.DEFAULT_COMPANY_WEIGHTS


def _measure(scope, edition_id, count_queries):
    from expo.core.models import Edition

    with count_queries() as q:
        edition = db.session.get(Edition, edition_id)
        companies = values.company_values(scope, edition)
        persons = values.person_values(scope, edition)
    return len(q), len(companies), len(persons), q


def test_values_stay_within_a_query_budget(show, make, count_queries):
    """A fixed number of grouped queries, whatever the number of customers."""
    scope, editions, made = show
    last_id = editions[-1].id
    small, companies, persons, q = _measure(scope, last_id, count_queries)
    assert companies == 5 and persons == 0
    assert small <= 30, q.report()
    last = db.session.get(type(editions[-1]), last_id)
    for n in range(30):
        make.registration(last)
        exhibitor_services.add_exhibitor(scope, last, f"More Co {n}", status="paid", area_m2=Decimal(9 + n))
    db.session.commit()
    big, companies, persons, q = _measure(scope, last_id, count_queries)
    assert companies == 35 and persons == 30
    assert big == small, q.report()


def test_the_pages_stay_within_a_query_budget(show, make, client, count_queries):
    """The overview and the lists cost the same number of queries with 5 or 35 companies and 1 or 31 persons."""
    from ..conftest import login

    scope, editions, made = show
    last_id = editions[-1].id
    from expo.core.models import Organizer

    owner = make.user("owner", db.session.get(Organizer, scope.organizer_id), email="owner.customers@example.com")
    make.registration(editions[-1])  # one person: the persons page looks up its page's names
    db.session.commit()
    login(client, "owner.customers@example.com")
    urls = [f"/org/editions/{last_id}/customers", f"/org/editions/{last_id}/customers/companies",
            f"/org/editions/{last_id}/customers/persons"]

    def measure():
        counts = []
        for url in urls:
            with count_queries() as q:
                assert client.get(url).status_code == 200
            counts.append(len(q))
        return counts

    small = measure()
    assert max(small) <= 45, small
    last = db.session.get(type(editions[-1]), last_id)
    for n in range(30):
        make.registration(last)
        exhibitor_services.add_exhibitor(scope, last, f"More Co {n}", status="paid", area_m2=Decimal(9 + n))
    db.session.commit()
    assert measure() == small
    assert owner.id


def test_single_stage_agrees_with_the_analysis(show, make):
    """The panels' cheap path (one customer's own history) gives the stage the whole analysis gives."""
    scope, editions, made = show
    found = values.company_values(scope, editions[-1])
    for company_id, value in found.items():
        single = values.single_stage(scope, editions[-1], "company", company_id)
        assert single.code == value.stage and single.rule == value.stage_rule
    assert values.single_stage(scope, editions[-1], "company", made["Prospect Co"]) is None
    assert values.population(scope, editions[-1], "company") == 5
    person = make.registration(editions[-1])
    db.session.commit()
    assert values.single_stage(scope, editions[-1], "person", person.person_id).code == "exploration"
    assert values.population(scope, editions[-1], "person") == 1


def test_the_panel_shows_the_stage_only_above_the_limit(show, monkeypatch, app):
    from expo.postshow import customer_views

    scope, editions, made = show
    latest = {editions[-1].show_id: editions[-1]}
    with app.test_request_context():
        full = customer_views._panel(scope, "company", made["Steady Co"], latest)
        assert full["kpi"]["label"] and full["rows"][0]["rfm"]
        monkeypatch.setattr(customer_views, "PANEL_RANK_LIMIT", 2)
        light = customer_views._panel(scope, "company", made["Steady Co"], latest)
    assert "kpi" not in light and light["rows"][0]["stage"].code == "stability"
    assert light["rows"][0]["rfm"] is None
