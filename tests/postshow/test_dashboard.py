"""The edition dashboard on a small world built by hand: every figure is known in advance, the clock is set
by the test (``now``), and both editions are read in the edition's zone (Shanghai, UTC+8)."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from expo.core import services as core
from expo.core.models import Edition, Organizer
from expo.core.scoping import Scope
from expo.exhibitors import services as exhibitor_services
from expo.extensions import db
from expo.onsite import services as onsite
from expo.postshow.services import PACE_MAX_DAYS, day_label, edition_dashboard
from expo.visitors import services as visitor_services
from expo.visitors.services import badge_code

from ..conftest import Browser, new_scan_id

ZONE = "Asia/Shanghai"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


@dataclass
class World:
    organizer_id: int
    last_id: int
    this_id: int
    users: dict


def registered(make, edition, when: str, category="buyer", **kwargs):
    registration = make.registration(edition, category=category, **kwargs)
    registration.created_at = utc(when)
    return registration


def checkin(user, registration, edition, when, gate, expected="ok"):
    outcome = onsite.record_scan(user, code=badge_code(registration), kind="checkin", client_scan_id=new_scan_id(),
                                 scanned_at=when, gate=gate, edition_id=edition.id)
    assert outcome.result == expected, outcome.reason


def lead(user, registration, when):
    outcome = onsite.record_scan(user, code=badge_code(registration), kind="lead", client_scan_id=new_scan_id(),
                                 scanned_at=when)
    assert outcome.result == "ok", outcome.reason


@pytest.fixture
def world(make) -> World:
    organizer = make.organizer("Greater Bay Expo 大湾区会展")
    scope = Scope(organizer.id)
    show = core.create_show(scope, "Shenzhen Furniture Fair 深圳家具展")
    # Four show days each year: 10–13 June, opening day D-0, last day D+3.
    last = make.edition(organizer, show=show, starts_on=date(2025, 6, 10), name="SZFF 2025", timezone=ZONE)
    this = make.edition(organizer, show=show, starts_on=date(2026, 6, 10), name="SZFF 2026", timezone=ZONE)
    owner = make.user("owner", organizer)
    onsite_user = make.user("onsite", organizer)

    # This year (the dashboard is read on 31 May 2026 at 11:00 in Shenzhen = D-10):
    r1 = registered(make, this, "2026-05-01T02:00Z")  # D-40
    registered(make, this, "2026-05-24T02:00Z")  # D-17: one day too early for "last 7 days"
    r2 = registered(make, this, "2026-05-25T02:00Z", "trade_visitor")  # D-16: the first of the last 7 days
    r3 = registered(make, this, "2026-05-28T02:00Z", "trade_visitor")  # D-13
    r4 = registered(make, this, "2026-05-30T17:00Z", "media")  # 01:00 on 31 May in Shenzhen: today, D-10
    registered(make, this, "2026-05-31T02:00Z")  # today, D-10
    gone = registered(make, this, "2026-05-30T02:00Z")  # cancelled: counted nowhere
    visitor_services.cancel_registration(gone)
    # Last year, aligned on its own opening (10 June 2025):
    registered(make, last, "2025-05-20T02:00Z")  # D-21
    registered(make, last, "2025-05-31T15:59Z")  # 23:59 on 31 May in Shenzhen: D-10, still "the same point"
    registered(make, last, "2025-05-31T16:00Z")  # 00:00 on 1 June in Shenzhen: D-9, after it
    old_walk_up = registered(make, last, "2025-06-11T02:00Z", "public")  # D+1
    db.session.flush()

    # Exhibitors: three take part (one with no lead yet), a fourth does not any more: its deal cooled back to
    # negotiating after its staff scanned (its lead still counts as a lead).
    def exhibitor(edition, name, status, stand):
        return exhibitor_services.add_exhibitor(scope, edition, name, hall="1", stand=stand, status=status)

    alpha = exhibitor(this, "Alpha Furniture Ltd.", "contracted", "A01")
    huamei = exhibitor(this, "北京华美家具有限公司", "paid", "B02")
    exhibitor(this, "Gamma Lighting", "exhibited", "C03")
    prospect = exhibitor(this, "Delta Prospect", "contracted", "")
    alpha_last = exhibitor(last, "Alpha Furniture Ltd.", "exhibited", "A01")
    staff = {e: make.user("booth_staff", exhibitor=e) for e in (alpha, huamei, prospect, alpha_last)}
    lead(staff[alpha], r1, "2026-06-10T03:00Z")
    lead(staff[alpha], r2, "2026-06-10T03:10Z")
    lead(staff[alpha], r3, "2026-06-11T03:20Z")
    lead(staff[huamei], r1, "2026-06-11T06:00Z")
    lead(staff[prospect], r4, "2026-06-11T07:00Z")
    exhibitor_services.set_status(prospect, "negotiating")
    lead(staff[alpha_last], old_walk_up, "2025-06-11T03:00Z")  # last year's: not this year's

    # The gates, in Shenzhen time: D-0 09:30 North, 09:45 South; D+1 07:30 North, 10:10 North, 10:20 no gate.
    checkin(onsite_user, r1, this, "2026-06-10T01:30Z", "North 北门")
    checkin(onsite_user, r2, this, "2026-06-10T01:45Z", "South")
    checkin(onsite_user, r1, this, "2026-06-10T05:00Z", "North 北门", expected="duplicate")  # not an entry
    checkin(onsite_user, r3, this, "2026-06-10T23:30Z", "North 北门")
    checkin(onsite_user, r1, this, "2026-06-11T02:10Z", "North 北门")
    checkin(onsite_user, r4, this, "2026-06-11T02:20Z", None)
    checkin(onsite_user, gone, this, "2026-06-11T02:30Z", "South", expected="refused")
    checkin(onsite_user, old_walk_up, last, "2025-06-11T02:00Z", "North 北门")  # last year's gate
    db.session.commit()
    return World(organizer.id, last.id, this.id, {"owner": owner, "onsite": onsite_user, "exhibitor": staff[alpha]})


def dashboard(world: World, now: str, edition_id: int | None = None) -> dict:
    edition = db.session.get(Edition, edition_id or world.this_id)
    return edition_dashboard(Scope(world.organizer_id), edition, now=utc(now))


def at(pace: dict, label: str, series: str = "current"):
    return pace[series][pace["labels"].index(label)]


# --- the figures ---------------------------------------------------------------------------------------

def test_figures_ten_days_before_opening(world):
    data = dashboard(world, "2026-05-31T03:00Z")

    assert (data["today"], data["day"], data["day_label"], data["phase"]) == ("2026-05-31", -10, "D-10", "before")
    assert data["previous"]["name"] == "SZFF 2025"
    assert data["figures"] == {
        "registrations": 6,  # not the cancelled one
        "registrations_today": 2,  # 01:00 and 10:00 on 31 May in Shenzhen (one of them 30 May in UTC)
        "registrations_7d": 4,  # D-16 … D-10
        "previous_registrations": 2,  # last year up to the end of its D-10 (23:59 counts, 00:00 next day not)
        "checked_in": 4,  # r1 (twice, on two days), r2, r3, r4; the refused and the duplicate are not entries
        "checked_in_today": 0,
        "exhibitors": 3,  # contracted, paid, exhibited; not the prospect
        "leads": 5,  # every lead of this year's exhibitors, the prospect's too
        "days_to_opening": 10,
    }


def test_figures_on_the_second_show_day(world):
    data = dashboard(world, "2026-06-11T04:00Z")  # 12:00 on 11 June in Shenzhen

    assert (data["day"], data["day_label"], data["phase"]) == (1, "D+1", "during")
    figures = data["figures"]
    assert figures["checked_in_today"] == 3  # r3 at 07:30, r1 at 10:10, r4 at 10:20 local
    assert figures["checked_in"] == 4
    assert figures["previous_registrations"] == 4  # last year up to D+1: the walk-up too
    assert figures["registrations_today"] == 0 and figures["registrations_7d"] == 0
    assert figures["days_to_opening"] == 0


def test_figures_after_the_show(world):
    data = dashboard(world, "2026-07-01T04:00Z")

    assert data["phase"] == "after"
    assert data["figures"]["previous_registrations"] == 4  # the whole of last year
    assert data["pace"]["current"][-1] == 6


def test_checkins_by_hour_and_gate(world):
    checkins = dashboard(world, "2026-06-11T04:00Z")["checkins"]

    assert checkins["hours"] == [7, 8, 9, 10]  # local hours, from the first to the last entry
    assert checkins["gates"] == [
        {"gate": "North 北门", "counts": [1, 0, 1, 1]},  # the busiest gate first
        {"gate": "South", "counts": [0, 0, 1, 0]},
        {"gate": "", "counts": [0, 0, 0, 1]},  # scans without a gate come last
    ]


def test_leads_per_exhibitor(world):
    leads = dashboard(world, "2026-06-11T04:00Z")["leads"]

    assert [(e["name"], e["booth"], e["leads"]) for e in leads["exhibitors"]] == [
        ("Alpha Furniture Ltd.", "1-A01", 3), ("北京华美家具有限公司", "1-B02", 1), ("Gamma Lighting", "1-C03", 0)]
    assert leads["median"] == 1


def test_category_mix(world):
    assert dashboard(world, "2026-05-31T03:00Z")["categories"] == [
        {"code": "buyer", "count": 3}, {"code": "trade_visitor", "count": 2}, {"code": "media", "count": 1}]


# --- the pace: both editions on the days-before-opening axis ---------------------------------------------

def test_pace_aligns_the_previous_edition_on_days_before_opening(world):
    pace = dashboard(world, "2026-05-31T03:00Z")["pace"]

    # from the earliest registration of either edition (D-40) to the last show day (D+3)
    assert pace["days"] == list(range(-40, 4))
    assert (pace["labels"][0], pace["labels"][40], pace["labels"][-1]) == ("D-40", "D-0", "D+3")
    assert pace["today"] == -10
    # this year: cumulative up to today, nothing after it
    assert [at(pace, d) for d in ("D-40", "D-18", "D-17", "D-16", "D-13", "D-11", "D-10")] == [1, 1, 2, 3, 4, 4, 6]
    assert at(pace, "D-9") is None and at(pace, "D+3") is None
    # last year, at the same distance from its own opening (10 June 2025)
    assert [at(pace, d, "previous") for d in ("D-40", "D-21", "D-10", "D-9", "D-0", "D+1", "D+3")] == [
        0, 1, 2, 3, 3, 4, 4]


def test_pace_of_the_first_edition_has_no_previous_series(world):
    data = dashboard(world, "2025-06-01T03:00Z", world.last_id)  # D-9 of 2025

    assert data["previous"] is None
    assert data["pace"]["previous"] is None and data["figures"]["previous_registrations"] is None
    assert data["pace"]["days"][0] == -21  # its own earliest registration
    assert at(data["pace"], "D-10") == 2 and at(data["pace"], "D-9") == 3


def test_pace_window_is_at_least_two_weeks_and_at_most_half_a_year(make):
    edition = make.edition(starts_on=date(2026, 6, 10), timezone=ZONE)
    early = registered(make, edition, "2025-06-10T02:00Z")  # a year ahead
    registered(make, edition, "2026-06-01T02:00Z")
    db.session.commit()

    pace = edition_dashboard(Scope(early.organizer_id), edition, now=utc("2026-06-05T02:00Z"))["pace"]
    assert pace["days"][0] == -PACE_MAX_DAYS
    assert pace["current"][0] == 1  # what came before the window is in its first point

    empty = make.edition(starts_on=date(2026, 6, 10), timezone=ZONE)
    pace = edition_dashboard(Scope(empty.organizer_id), empty, now=utc("2026-06-05T02:00Z"))["pace"]
    assert pace["labels"][0] == "D-14" and pace["current"][:10] == [0] * 10


def test_day_labels():
    assert [day_label(d) for d in (-3, 0, 2)] == ["D-3", "D-0", "D+2"]


def test_dashboard_counts_only_its_own_organizer(world, make):
    other = make.edition(starts_on=date(2026, 6, 10), timezone=ZONE)
    registered(make, other, "2026-05-31T02:00Z")
    db.session.commit()
    this = db.session.get(Edition, world.this_id)

    # another organizer's scope sees nothing of this edition
    data = edition_dashboard(Scope(other.organizer_id), this, now=utc("2026-05-31T03:00Z"))
    assert data["figures"]["registrations"] == 0 and data["figures"]["leads"] == 0
    assert dashboard(world, "2026-05-31T03:00Z")["figures"]["registrations"] == 6


# --- the page and the JSON -------------------------------------------------------------------------------

def chart_data(html: str, chart_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', html, re.S)
    assert match, f"no data for chart {chart_id}"
    return json.loads(match.group(1))


def kpi_links(html: str) -> dict[str, str]:
    """label -> href of every linked KPI tile."""
    tiles = re.findall(r'<a class="kpi[^"]*" href="([^"]+)".*?<span class="kpi-label">(.*?)</span>', html, re.S)
    return {unescape(label).strip(): unescape(href) for href, label in tiles}


def test_edition_page_shows_the_dashboard(app, world):
    html = Browser(app, world.users["owner"]).get(f"/org/editions/{world.this_id}").get_data(as_text=True)

    for chart in ("chart-pace", "chart-categories", "chart-checkins", "chart-leads"):
        assert f'id="{chart}"' in html
    assert "echarts.min.js" in html and "charts.js" in html
    pace = chart_data(html, "chart-pace")
    assert pace["type"] == "line"
    assert [s["name"] for s in pace["series"]] == ["SZFF 2026", "SZFF 2025"]
    assert pace["series"][1]["dashed"] and pace["series"][1]["muted"]
    assert {"at": "D-0", "label": "Opening"} in pace["marks"]
    categories = chart_data(html, "chart-categories")
    assert categories["type"] == "hbar"
    assert categories["categories"] == ["Buyer", "Trade visitor", "Media"]  # largest first
    assert categories["series"][0]["data"] == [3, 2, 1]
    query = parse_qs(urlsplit(categories["urls"][0]).query)  # a click opens the list of buyers
    assert query["category"] == ["buyer"] and "cancelled" not in query["status"]
    checkins = chart_data(html, "chart-checkins")
    assert checkins["type"] == "stack" and checkins["categories"] == ["07:00", "08:00", "09:00", "10:00"]
    assert [s["name"] for s in checkins["series"]] == ["North 北门", "South", "No gate named"]
    assert chart_data(html, "chart-leads")["categories"][:2] == ["Alpha Furniture Ltd.", "北京华美家具有限公司"]

    links = kpi_links(html)
    registrations = urlsplit(links["Registrations"])
    assert registrations.path == f"/org/editions/{world.this_id}/registrations"
    assert set(parse_qs(registrations.query)["status"]) == {"pending", "confirmed", "waitlisted"}
    assert parse_qs(urlsplit(links["Checked in today"]).query) == {"checked_in": ["yes"]}
    assert set(parse_qs(urlsplit(links["Exhibitors taking part"]).query)["status"]) == {"contracted", "paid",
                                                                                        "exhibited"}
    assert links["Leads"].endswith(f"/org/editions/{world.this_id}/report#leads-per-exhibitor")
    assert "SZFF 2025" in html  # the comparison tile names last year's edition
    assert f"/e/{db.session.get(Edition, world.this_id).slug}" in html  # the public page


def test_edition_page_in_chinese(app, world):
    browser = Browser(app, world.users["owner"])
    browser.get("/lang/zh_CN")
    html = browser.get(f"/org/editions/{world.this_id}").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert chart_data(html, "chart-categories")["categories"] == ["采购商", "专业观众", "媒体"]
    assert {"at": "D-0", "label": "开幕"} in chart_data(html, "chart-pace")["marks"]


def test_onsite_staff_see_the_edition_page_without_figures(app, world):
    response = Browser(app, world.users["onsite"]).get(f"/org/editions/{world.this_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "SZFF 2026" in html and "Entrance check-in" in html
    assert "chart-pace" not in html and 'class="kpi' not in html
    assert "echarts.min.js" not in html  # no chart library for a page without charts


def test_dashboard_json(app, world):
    response = Browser(app, world.users["owner"]).get(f"/org/editions/{world.this_id}/dashboard.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.get_json()
    assert set(data) >= {"edition", "previous", "today", "day", "day_label", "phase", "figures", "pace",
                         "categories", "checkins", "leads", "charts"}
    assert data["edition"]["id"] == world.this_id and data["edition"]["timezone"] == ZONE
    assert set(data["figures"]) == {"registrations", "registrations_today", "registrations_7d",
                                    "previous_registrations", "checked_in", "checked_in_today", "exhibitors",
                                    "leads", "days_to_opening"}
    # the figures that do not depend on today's date
    assert (data["figures"]["registrations"], data["figures"]["checked_in"], data["figures"]["exhibitors"],
            data["figures"]["leads"]) == (6, 4, 3, 5)
    assert set(data["pace"]) == {"days", "labels", "today", "current", "previous"}
    assert len(data["pace"]["labels"]) == len(data["pace"]["current"]) == len(data["pace"]["previous"])
    assert set(data["charts"]) == {"pace", "categories", "checkins", "leads"}
    assert data["charts"]["leads"]["series"][0]["data"] == [3, 1, 0]


@pytest.mark.parametrize("role, status", [("onsite", 403), ("exhibitor", 403)])
def test_dashboard_json_needs_the_report_permission(app, world, role, status):
    assert Browser(app, world.users[role]).get(f"/org/editions/{world.this_id}/dashboard.json").status_code == status


def test_dashboard_json_of_another_organizer_is_not_found(app, world, make):
    stranger = make.user("owner")
    db.session.commit()
    assert Browser(app, stranger).get(f"/org/editions/{world.this_id}/dashboard.json").status_code == 404


@pytest.mark.parametrize("now, marks", [
    ("2026-05-31T03:00Z", [("D-0", "Opening"), ("D-10", "Today")]),
    ("2026-06-09T03:00Z", [("D-0", "Opening")]),  # the day before: one label, not two on top of each other
    ("2026-06-10T03:00Z", [("D-0", "Opening")]),
    ("2026-06-11T04:00Z", [("D+1", "Today")]),  # during the show, today's
    ("2026-07-01T04:00Z", [("D-0", "Opening")]),  # after the show, today is off the axis
], ids=["D-10", "D-1", "D-0", "D+1", "after"])
def test_pace_marks_opening_and_today(app, world, now, marks):
    from expo.postshow.views import dashboard_charts

    with app.test_request_context():
        pace = dashboard_charts(dashboard(world, now))["pace"]
    assert [(m["at"], m["label"]) for m in pace["marks"]] == marks


def test_dashboard_of_a_new_edition_is_empty_not_broken(app, make):
    edition = make.edition(status="draft", starts_on=date.today() + timedelta(days=60))
    owner = make.user("owner", db.session.get(Organizer, edition.organizer_id))
    db.session.commit()

    html = Browser(app, owner).get(f"/org/editions/{edition.id}").get_data(as_text=True)
    pace = chart_data(html, "chart-pace")
    assert pace["series"][0]["data"][0] == 0 and len(pace["series"]) == 1  # no earlier edition: one line
    assert chart_data(html, "chart-checkins") == {"type": "stack", "categories": [], "series": []}
    assert chart_data(html, "chart-leads")["categories"] == []
    assert 'data-empty="No check-ins yet."' in html  # charts.js shows the sentence instead of a blank canvas
    assert "No earlier edition to compare with." in html
    assert "Days to opening" in html


def test_analyst_reads_the_figures_without_links_to_lists_they_cannot_open(app, world, make):
    analyst = make.user("analyst", db.session.get(Organizer, world.organizer_id))
    db.session.commit()

    html = Browser(app, analyst).get(f"/org/editions/{world.this_id}").get_data(as_text=True)
    assert "chart-pace" in html
    assert "/registrations" not in html and "/exhibitors" not in html
    assert "urls" not in chart_data(html, "chart-categories")
    assert kpi_links(html) == {"vs SZFF 2025": f"/org/editions/{world.this_id}/report",
                               "Leads": f"/org/editions/{world.this_id}/report#leads-per-exhibitor"}
