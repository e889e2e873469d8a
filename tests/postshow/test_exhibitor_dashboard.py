"""The exhibitor's own dashboard: leads over time by rating, hot leads, meetings, and the visitor profile of its
leads against the show's — with country and answers counted only over leads who share their details, hidden
below a handful of them and small groups folded into "other". The clock is the test's (``now``)."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from html import unescape
from zoneinfo import ZoneInfo

import pytest

from expo.core.models import Organizer
from expo.extensions import db
from expo.onsite import services as onsite
from expo.postshow.exhibitor_dashboard import OTHER, exhibitor_dashboard
from expo.visitors.questions import Question
from expo.visitors.services import badge_code

from ..conftest import Browser, Tenant, new_scan_id

ZONE = ZoneInfo("Asia/Shanghai")


def at(edition, day: int, hour: int) -> datetime:
    """``hour`` o'clock in Shenzhen on show day ``day`` (0: the opening day), as UTC."""
    local = datetime.combine(edition.starts_on + timedelta(days=day), datetime.min.time(), ZONE).replace(hour=hour)
    return local.astimezone(timezone.utc)


@pytest.fixture
def world(make):
    edition = make.edition(timezone="Asia/Shanghai")
    ours, second, _third = (make.exhibitor(edition, name) for name in ("Ours 我们", "Second", "Third"))
    admin = make.user("exhibitor_admin", exhibitor=ours)
    booth = make.user("booth_staff", exhibitor=ours)
    other_booth = make.user("booth_staff", exhibitor=second)
    db.session.add(Question(organizer_id=edition.organizer_id, edition_id=edition.id, key="role", kind="single",
                            label_en="Your role", label_zh="您的角色",
                            choices=[{"value": "decides", "en": "I decide", "zh": "我决定"},
                                     {"value": "advises", "en": "I advise", "zh": "我建议"}]))
    db.session.add(Question(organizer_id=edition.organizer_id, edition_id=edition.id, key="notes", kind="text",
                            label_en="Anything else"))
    # Ten visitors: seven leads of ours (six share their details), one lead of Second, two without leads.
    plan = [  # category, country, role answer, shares, rating, show day, hour
        ("buyer", "DE", "decides", True, "hot", 0, 10),
        ("buyer", "DE", "decides", True, "hot", 0, 11),
        ("buyer", "DE", "decides", True, "warm", 0, 11),
        ("trade_visitor", "DE", "decides", True, "warm", 1, 15),
        ("trade_visitor", "CN", "decides", True, "warm", 1, 15),
        ("buyer", "CN", "advises", True, "cold", 1, 16),
        ("media", "US", "advises", False, None, 1, 16),
    ]
    registrations = []
    for n, (category, country, role, shares, rating, day, hour) in enumerate(plan):
        registration = make.registration(edition, category=category, country=country, share=shares)
        registration.answers = {"role": {"v": 1, "value": role}}
        lead = Tenant.capture(booth, registration)
        lead.rating = rating
        lead.first_scanned_at = at(edition, day, hour)
        registrations.append(registration)
    theirs = make.registration(edition, category="buyer", country="JP")
    theirs.answers = {"role": {"v": 1, "value": "decides"}}
    Tenant.capture(other_booth, theirs)
    for _ in range(2):
        make.registration(edition, category="vip", country="FR")
    db.session.commit()
    return {"edition": edition, "ours": ours, "admin": admin, "booth": booth, "registrations": registrations}


def now_of(w):
    return at(w["edition"], 1, 18)


def dimension(data, key):
    return next(d for d in data["profile"]["dimensions"] if d["key"] == key)


def test_figures_and_leads_over_time(world):
    data = exhibitor_dashboard(world["ours"], now=now_of(world))
    f = data["figures"]
    assert (f["leads"], f["hot"], f["warm"], f["cold"], f["unrated"]) == (7, 2, 3, 1, 1)
    assert f["hot_share"] == round(100 * 2 / 7, 1) and f["leads_today"] == 4
    assert (f["median_leads"], f["exhibitors"]) == (1.0, 3)  # 7, 1, 0 leads
    assert data["phase"] == "during"
    starts = world["edition"].starts_on
    assert data["by_day"]["days"][:2] == [starts.isoformat(), (starts + timedelta(days=1)).isoformat()]
    assert len(data["by_day"]["days"]) == 2  # the show days so far, not the days ahead
    ratings = data["by_day"]["ratings"]
    assert (ratings["hot"][:2], ratings["warm"][:2], ratings["cold"][:2], ratings["none"][:2]) == \
        ([2, 0], [1, 2], [0, 1], [0, 1])
    assert data["by_hour"] == {"hours": [10, 11, 12, 13, 14, 15, 16], "counts": [1, 2, 0, 0, 0, 2, 2]}


def test_the_profile_of_the_leads_against_the_show(world):
    data = exhibitor_dashboard(world["ours"], now=now_of(world), locale="en")
    profile = data["profile"]
    assert (profile["leads"], profile["sharing"], profile["show"], profile["came"]) == (7, 6, 10, False)
    categories = {r["value"]: r for r in dimension(data, "category")["rows"]}
    # Category: every lead (it is what an exhibitor always sees), against all ten registrations.
    assert categories["buyer"]["leads"] == 4 and categories["buyer"]["show"] == 5
    assert categories["media"]["leads_pct"] == round(100 / 7, 1) and categories["vip"]["leads"] == 0
    assert categories["vip"]["show_pct"] == 20.0
    countries = {r["value"]: r for r in dimension(data, "country")["rows"]}
    # Country: only the six sharing leads; CN (2 leads) is too small a group and goes to "other" on both sides.
    assert dimension(data, "country")["leads_base"] == 6
    assert countries["DE"]["leads"] == 4 and countries["DE"]["leads_pct"] == round(400 / 6, 1)
    assert "CN" not in countries and countries[OTHER]["leads"] == 2
    assert countries["FR"]["leads"] == 0 and countries["FR"]["show"] == 2 and countries["FR"]["label"] == "France"
    assert "US" not in countries or countries["US"]["leads"] == 0  # the one lead who does not share: not counted
    role = dimension(data, "q_role")
    assert role["label"] == "Your role" and {r["label"] for r in role["rows"]} >= {"I decide"}
    decides = next(r for r in role["rows"] if r["value"] == "decides")
    assert (decides["leads"], decides["show"]) == (5, 6)
    assert not any(d["key"] == "q_notes" for d in profile["dimensions"])  # free text makes no breakdown


def test_a_breakdown_of_too_few_sharing_leads_is_hidden(world):
    for registration in world["registrations"][:3]:
        registration.share_with_exhibitors = False
    db.session.flush()
    data = exhibitor_dashboard(world["ours"], now=now_of(world))
    country = dimension(data, "country")
    assert country["hidden"] and country["rows"] == [] and country["leads_base"] == 3
    assert not dimension(data, "category")["hidden"]


def test_the_show_side_counts_the_visitors_who_came_once_anyone_checked_in(world, make):
    gate = make.user("onsite", db.session.get(Organizer, world["edition"].organizer_id))
    registration = world["registrations"][0]
    outcome = onsite.record_scan(gate, code=badge_code(registration), kind="checkin", client_scan_id=new_scan_id(),
                                 edition_id=world["edition"].id)
    assert outcome.result == "ok", outcome.reason
    data = exhibitor_dashboard(world["ours"], now=now_of(world))
    assert data["profile"]["came"] and data["profile"]["show"] == 1


def test_another_exhibitors_leads_are_not_counted(world):
    data = exhibitor_dashboard(world["ours"], now=now_of(world))
    countries = {r["value"] for r in dimension(data, "country")["rows"]}
    assert "JP" in countries or OTHER in countries
    jp = [r for r in dimension(data, "country")["rows"] if r["value"] == "JP"]
    assert not jp or jp[0]["leads"] == 0


def _chart(page: str, chart_id: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', page, re.S)
    return json.loads(unescape(match.group(1)))


def test_the_page_in_english_and_chinese(app, world):
    admin = Browser(app, world["admin"].email)
    response = admin.get("/portal/dashboard")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Leads per day, by rating" in page and "exhibitor_dashboard.js" in page and "echarts" in page
    by_day = _chart(page, "chart-by-day")
    assert by_day["type"] == "stack" and [s["name"] for s in by_day["series"]] == ["Hot", "Warm", "Cold", "Not rated"]
    profile = _chart(page, "chart-profile-category")
    assert [s["name"] for s in profile["series"]] == ["Your leads", "Registered visitors"] and profile["unit"] == "%"
    assert "<script>" not in page.replace('<script type="application/json"', "")  # CSP: no inline script
    admin.get("/lang/zh_CN")
    chinese = admin.get("/portal/dashboard").get_data(as_text=True)
    assert 'lang="zh-CN"' in chinese and "您的角色" in chinese
    data = admin.get("/portal/dashboard.json").get_json()
    assert data["figures"]["leads"] == 7 and "profile-q_role" in data["charts"]


def test_booth_staff_and_organizer_staff_do_not_see_it(app, world, make):
    assert Browser(app, world["booth"].email).get("/portal/dashboard").status_code == 403
    owner = make.user("owner", db.session.get(Organizer, world["edition"].organizer_id))
    db.session.commit()
    assert Browser(app, owner.email).get("/portal/dashboard.json").status_code == 403
