"""Edition analytics on a hand-built world (Shanghai, UTC+8): three editions of one show, every figure known in
advance; the drill-down links open lists holding exactly the counted rows; the page's query budget; hostile input."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from html import unescape

import pytest

from expo.core import services as core
from expo.core.models import Edition
from expo.core.scoping import Scope
from expo.exhibitors import services as exhibitor_services
from expo.extensions import db
from expo.leads.models import Lead
from expo.onsite import services as onsite
from expo.postshow import aggregates, analytics
from expo.postshow.analytics import edition_analytics, local_hour
from expo.postshow.models_analytics import AnalyticsSnapshot
from expo.visitors import services as visitor_services
from expo.visitors.services import badge_code

from ..conftest import login, new_scan_id

ZONE = "Asia/Shanghai"
QUERY_BUDGET = 40  # the page with a stored snapshot (session, user, edition, nav, the snapshot …)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def checkin(user, registration, edition, when, expected="ok"):
    outcome = onsite.record_scan(user, code=badge_code(registration), kind="checkin", client_scan_id=new_scan_id(),
                                 scanned_at=when, gate="North", edition_id=edition.id)
    assert outcome.result == expected, outcome.reason


def lead(user, registration, when, rating=None):
    outcome = onsite.record_scan(user, code=badge_code(registration), kind="lead", client_scan_id=new_scan_id(),
                                 scanned_at=when)
    assert outcome.result == "ok", outcome.reason
    if rating:
        db.session.get(Lead, outcome.lead_id if hasattr(outcome, "lead_id") else outcome.lead.id).rating = rating


@pytest.fixture
def world(make):
    organizer = make.organizer("Greater Bay Expo")
    scope = Scope(organizer.id)
    show = core.create_show(scope, "Shenzhen Furniture Fair")
    older = make.edition(organizer, show=show, starts_on=date(2024, 6, 10), name="SZFF 2024", timezone=ZONE)
    last = make.edition(organizer, show=show, starts_on=date(2025, 6, 10), name="SZFF 2025", timezone=ZONE)
    this = make.edition(organizer, show=show, starts_on=date(2026, 6, 10), name="SZFF 2026", timezone=ZONE)
    other_show = make.edition(organizer, starts_on=date(2025, 3, 1), name="Other fair 2025", timezone=ZONE)
    owner, gate = make.user("owner", organizer), make.user("onsite", organizer)

    # 2024: Ann. 2025: Ann, Bo, Cy (buyer ×2, public). 2026: Ann (third time), Bo (back), Di (was only at
    # another show: not returning), Ed and Fay new, Gus cancelled (counted nowhere).
    def reg(edition, who, category="buyer"):
        return make.registration(edition, name=who, email=f"{who.lower()}@example.com", category=category)

    reg(older, "Ann")
    ann25, bo25, cy25 = reg(last, "Ann"), reg(last, "Bo"), reg(last, "Cy", "public")
    reg(other_show, "Di")
    ann, bo = reg(this, "Ann"), reg(this, "Bo", "trade_visitor")
    di, ed, fay = reg(this, "Di", "buyer"), reg(this, "Ed", "public"), reg(this, "Fay", "media")
    gus = reg(this, "Gus")
    visitor_services.cancel_registration(gus)
    db.session.flush()

    # Check-ins in Shanghai time. 2026 day 1 (10 June): Ann 09:30, Bo 09:45, Ann again 13:00 (duplicate);
    # 10 June 23:30 UTC = 11 June 07:30 local: Di on day 2; day 2 also Ann 10:10; Ed never comes.
    checkin(gate, ann, this, "2026-06-10T01:30Z")
    checkin(gate, bo, this, "2026-06-10T01:45Z")
    checkin(gate, ann, this, "2026-06-10T05:00Z", expected="duplicate")
    checkin(gate, di, this, "2026-06-10T23:30Z")
    checkin(gate, ann, this, "2026-06-11T02:10Z")
    checkin(gate, fay, this, "2026-06-11T02:20Z")
    checkin(gate, ann25, last, "2025-06-10T02:00Z")
    checkin(gate, cy25, last, "2025-06-10T03:00Z")

    alpha = exhibitor_services.add_exhibitor(scope, this, "Alpha Furniture", hall="1", stand="A1", status="paid")
    beta = exhibitor_services.add_exhibitor(scope, this, "Beta Lighting", hall="1", stand="B1", status="exhibited")
    exhibitor_services.add_exhibitor(scope, this, "Gamma Prospect", status="negotiating")
    alpha25 = exhibitor_services.add_exhibitor(scope, last, "Alpha Furniture", status="exhibited")
    staff = {x: make.user("booth_staff", exhibitor=x) for x in (alpha, beta, alpha25)}
    lead(staff[alpha], ann, "2026-06-10T03:00Z", "hot")
    lead(staff[alpha], bo, "2026-06-10T03:10Z", "warm")
    lead(staff[alpha], di, "2026-06-11T03:20Z", "hot")
    lead(staff[beta], ann, "2026-06-11T06:00Z")
    lead(staff[alpha25], ann25, "2025-06-10T03:00Z", "hot")
    db.session.commit()
    return {"scope": scope, "this": this, "last": last, "older": older, "owner": owner, "ids": {
        "ann": ann.id, "ann25": ann25.id, "bo": bo.id, "di": di.id, "ed": ed.id, "fay": fay.id, "bo25": bo25.id}}


def figures(world):
    data = edition_analytics(world["scope"], world["this"], now=utc("2026-06-20T00:00Z"))
    return data, {e["name"]: e for e in data["editions"]}


def test_editions_compared_oldest_first_and_same_show_only(world):
    data, by_name = figures(world)
    assert [e["name"] for e in data["editions"]] == ["SZFF 2024", "SZFF 2025", "SZFF 2026"]


def test_registrations_buyers_and_returning(world):
    _data, e = figures(world)
    this, last, older = e["SZFF 2026"], e["SZFF 2025"], e["SZFF 2024"]
    assert this["registrations"] == 5  # Gus cancelled
    assert this["categories"] == {"buyer": 2, "trade_visitor": 1, "public": 1, "media": 1}
    assert (this["buyers"], this["buyer_share"]) == (2, 0.4)  # Ann, Di
    assert this["attended"] == 4  # Ann, Bo, Di, Fay
    assert (this["buyers_attended"], this["buyer_share_attended"]) == (2, 0.5)
    assert this["returning"] == 2  # Ann and Bo; Di was at another show only
    assert (last["registrations"], last["returning"], last["buyer_share"]) == (3, 1, pytest.approx(2 / 3))
    assert (older["registrations"], older["returning"]) == (1, 0)
    assert last["attended"] == 2 and last["buyers_attended"] == 1


def test_attendance_by_day_and_hour_in_the_edition_zone(world):
    _data, e = figures(world)
    this = e["SZFF 2026"]
    assert this["days"] == [{"day": "2026-06-10", "visitors": 2}, {"day": "2026-06-11", "visitors": 3},
                            {"day": "2026-06-12", "visitors": 0}, {"day": "2026-06-13", "visitors": 0}]
    # Arrivals (first entry a day), by the local hour: 09 (Ann, Bo), 07 (Di), 10 (Ann, Fay).
    assert this["hours"] == {"7": 1, "9": 2, "10": 2}
    assert e["SZFF 2025"]["hours"] == {"10": 1, "11": 1}
    assert local_hour("2026-06-10 23", analytics.ZoneInfo(ZONE)) == (date(2026, 6, 11), 7)


def test_exhibitor_results_against_the_previous_edition(world):
    data, e = figures(world)
    this, last = e["SZFF 2026"]["exhibitors"], e["SZFF 2025"]["exhibitors"]
    assert (this["exhibitors"], this["leads"], this["hot"], this["median_leads"]) == (2, 4, 2, 2.0)
    assert this["buckets"] == [0, 2, 0, 0, 0, 0]
    assert (last["exhibitors"], last["leads"], last["hot"]) == (1, 1, 1)
    assert [(x["name"], x["leads"], x["hot"]) for x in data["top_exhibitors"]] == [
        ("Alpha Furniture", 3, 2), ("Beta Lighting", 1, 0)]


def test_other_organizer_sees_nothing_of_it(world, make):
    stranger = make.organizer("Stranger")
    data = edition_analytics(Scope(stranger.id), world["this"])
    assert data["editions"][-1]["registrations"] == 0 and data["top_exhibitors"] == []


# --- the page, the drill-down and the snapshot ----------------------------------------------------------------

def _ids(html: str, edition_id: int) -> set[int]:
    return {int(n) for n in re.findall(rf"/org/editions/{edition_id}/registrations/(\d+)\"", html)}


def _spec(html: str, chart: str) -> dict:
    import json
    match = re.search(rf'<script type="application/json" id="{chart}-data">(.*?)</script>', html, re.S)
    return json.loads(unescape(match.group(1)))


def test_page_links_open_lists_of_exactly_the_counted_rows(world, client):
    login(client, world["owner"])
    this = world["this"]
    html = client.get(f"/org/editions/{this.id}/analytics").get_data(as_text=True)
    ids = world["ids"]
    days = _spec(html, "chart-days")
    day1 = client.get(unescape(days["urls"][0])).get_data(as_text=True)
    assert _ids(day1, this.id) == {ids["ann"], ids["bo"]}
    day2 = client.get(unescape(days["urls"][1])).get_data(as_text=True)
    assert _ids(day2, this.id) == {ids["ann"], ids["di"], ids["fay"]}
    hours = _spec(html, "chart-hours")
    assert hours["categories"] == ["07:00", "08:00", "09:00", "10:00", "11:00"]  # 11:00: last year's
    assert [s["data"] for s in hours["series"]][-1] == [1, 0, 2, 2, 0]
    at_nine = client.get(unescape(hours["urls"][2])).get_data(as_text=True)
    assert _ids(at_nine, this.id) == {ids["ann"], ids["bo"]}
    returning = _spec(html, "chart-returning")
    back = client.get(unescape(returning["urls"][-1])).get_data(as_text=True)
    assert _ids(back, this.id) == {ids["ann"], ids["bo"]}
    buyers = client.get(unescape(_spec(html, "chart-buyers")["urls"][-1])).get_data(as_text=True)
    assert _ids(buyers, this.id) == {ids["ann"], ids["di"]}
    came = re.search(r'href="([^"]*checked_in=yes[^"]*)"', html).group(1)
    assert _ids(client.get(unescape(came)).get_data(as_text=True), this.id) == {ids["ann"], ids["bo"], ids["di"],
                                                                                 ids["fay"]}
    last_returning = client.get(unescape(returning["urls"][1])).get_data(as_text=True)
    assert _ids(last_returning, world["last"].id) == {world["ids"]["ann25"]}


def test_page_reads_the_snapshot_and_refresh_computes_again(world, client):
    login(client, world["owner"])
    this = world["this"]
    assert client.get(f"/org/editions/{this.id}/analytics").status_code == 200
    snapshot = db.session.get(AnalyticsSnapshot, this.id)
    assert snapshot is not None and snapshot.data["editions"][-1]["registrations"] == 5
    from ..conftest import csrf_token
    token = csrf_token(client, f"/org/editions/{this.id}/analytics")
    response = client.post(f"/org/editions/{this.id}/analytics/refresh", data={"csrf_token": token})
    assert response.status_code == 302
    data = client.get(f"/org/editions/{this.id}/analytics.json").get_json()
    assert data["editions"][-1]["returning"] == 2 and "charts" in data


def test_beat_task_refreshes_editions_in_season(world, app):
    assert aggregates.refresh_analytics() >= 0  # every edition of the test database in season, no error


def test_query_budget_of_the_page(world, client, count_queries):
    login(client, world["owner"])
    url = f"/org/editions/{world['this'].id}/analytics"
    client.get(url)  # computes the snapshot
    with count_queries() as queries:
        assert client.get(url).status_code == 200
    assert len(queries) <= QUERY_BUDGET, queries.report()


@pytest.mark.parametrize("query", [
    "figure=day&value=2026-13-45", "figure=day&value=%00", "figure=hour&value=99", "figure=hour&value=%C2%B2",
    "figure=zone&value=99999999999999999999", "figure=zone&value=-1", "figure=nope", "figure=returning&page=999999999",
    "figure=hour&value=9&page=%00", "figure=day&value=" + "9" * 5000])
def test_hostile_drill_down_queries_never_500(world, client, query):
    login(client, world["owner"])
    response = client.get(f"/org/editions/{world['this'].id}/analytics/rows?{query}")
    assert response.status_code in (200, 400, 404)


def test_large_edition_dashboard_is_read_from_the_snapshot(world, client, monkeypatch):
    monkeypatch.setattr(aggregates, "LARGE_EDITION", 1)
    this = world["this"]
    aggregates.refresh(world["scope"], this)
    db.session.commit()
    login(client, world["owner"])
    data = client.get(f"/org/editions/{this.id}/dashboard.json").get_json()
    assert data["as_of"] and data["figures"]["registrations"] == 5
    monkeypatch.setattr(aggregates, "LARGE_EDITION", 10**9)
    aggregates.refresh(world["scope"], this)  # a small edition again: computed on each request
    db.session.commit()
    assert "as_of" not in client.get(f"/org/editions/{this.id}/dashboard.json").get_json()


def test_nps_and_follow_up_agree_with_the_surveys_and_follow_up_parts(make):
    from sqlalchemy import select as sql_select

    from expo import demo
    from expo.leads.follow_up import follow_up_rates
    from expo.surveys.results import edition_nps

    demo.generate(visitors=150, exhibitors=12, editions=2)
    live = db.session.scalar(sql_select(Edition).where(Edition.status == "live"))
    scope = Scope(live.organizer_id)
    data = edition_analytics(scope, live)
    for row in data["editions"]:
        for audience in ("visitor", "exhibitor"):
            expected = edition_nps(scope, row["id"], audience)
            got = row["nps"][audience]
            if not expected.n:
                assert got is None
            else:
                assert (got["n"], got["score"], got["margin"]) == (expected.n, round(expected.score, 1),
                                                                   round(expected.margin, 1))
        rates = follow_up_rates(scope, row["id"]).values()
        followed, won = sum(r["followed_up"] for r in rates), sum(r["won"] for r in rates)
        got = row["follow_up"] or {"leads": 0, "followed_up": 0, "won": 0}
        assert (got["followed_up"], got["won"]) == (followed, won)
        if followed:
            assert got["leads"] == sum(r["leads"] for r in rates)
    assert any(row["nps"]["visitor"] for row in data["editions"])  # the demo has answers
