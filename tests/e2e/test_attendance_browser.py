"""Live attendance in a real browser: the page draws its charts (ECharts, under the strict CSP), and a check-in
made after it opened shows up by itself at the next poll (the page's clock is Playwright's: 15 seconds pass at
once) — in the KPI tiles, the zone's "inside now" row and the check-ins chart. The edition page's "inside now"
card updates the same way. Screenshots at 1366×768 and 360×800 in English and Chinese go to
$EXPO_SCREENSHOTS (default: the test's tmp dir)."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from expo.core import services as core
from expo.core.models import Organizer
from expo.core.scoping import Scope
from expo.extensions import db
from expo.onsite import zones
from expo.visitors.services import badge_code

from .conftest import sign_in

pytestmark = pytest.mark.e2e

ZONE = "Asia/Shanghai"
SIZES = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 360, "height": 800}}


def _world(app, make) -> dict:
    """A live edition with halls (main entrance, capacity 10) and a conference room, gates, a manager, a token of
    an on-site user, visitors of whom a few came in the last hours; plain values only."""
    edition = make.edition(status="live", timezone=ZONE, starts_on=datetime.now(ZoneInfo(ZONE)).date() - timedelta(days=1))
    organizer = db.session.get(Organizer, edition.organizer_id)
    scope = Scope(edition.organizer_id)
    manager = make.user("manager", organizer=organizer)
    onsite = make.user("onsite", organizer=organizer)
    token = core.create_api_token(onsite, "gate")[1]
    everyone = {c: None for c in ("buyer", "trade_visitor", "public", "media", "vip", "exhibitor_staff", "speaker")}
    halls = zones.save_zone(scope, edition, name_en="Exhibition halls", name_zh="展馆", capacity=10, access=everyone,
                            reentry="free", admission=True, actor_id=None)
    room = zones.save_zone(scope, edition, name_en="Conference room", name_zh="会议室", capacity=50,
                           access={"buyer": None, "media": None}, reentry="daily", admission=False, actor_id=None)
    zones.save_gate(scope, edition, code="N1", name="North 北门", zone_id=halls.id, direction="in", actor_id=None)
    zones.save_gate(scope, edition, code="S1", name="South 南门", zone_id=halls.id, direction="both", actor_id=None)
    zones.save_gate(scope, edition, code="CONF", name="Conference 会议室", zone_id=room.id, direction="both",
                    actor_id=None)
    visitors = [make.registration(edition, category="buyer", name=f"Visitor {n}") for n in range(10)]
    db.session.commit()
    values = {"edition_id": edition.id, "manager": manager.email, "token": token, "halls": halls.id,
              "codes": [badge_code(r) for r in visitors]}
    db.session.remove()
    client = app.test_client()
    now = datetime.now(timezone.utc)
    # five came in over the last hours (at N1 and S1), one left, one went to the conference room
    for n, code in enumerate(values["codes"][:5]):
        _checkin(client, values, code, "N1" if n % 2 else "S1", now - timedelta(minutes=30 + 40 * n))
    _checkin(client, values, values["codes"][0], "S1", now - timedelta(minutes=10), "out")
    _checkin(client, values, values["codes"][1], "CONF", now - timedelta(minutes=5))
    return values


def _checkin(client, world, code, gate, at, direction=None, expect="ok"):
    body = {"code": code, "kind": "checkin", "client_scan_id": str(uuid.uuid4()), "gate": gate,
            "scanned_at": at.isoformat(), "edition_id": world["edition_id"]}
    if direction:
        body["direction"] = direction
    response = client.post("/api/v1/scans", json=body, headers={"Authorization": f"Bearer {world['token']}"})
    assert response.status_code == 200 and response.get_json()["result"] == expect, response.get_data(as_text=True)

def _kpis(page) -> list[str]:
    return [t.strip() for t in page.locator("#attendance .kpi .kpi-value").all_inner_texts()]


def _chart_total(page, chart_id) -> int:
    """The sum of every series of the drawn ECharts chart (what the canvas shows)."""
    return page.evaluate("""(id) => {
        const chart = echarts.getInstanceByDom(document.getElementById(id));
        if (!chart) return -1;
        return chart.getOption().series.reduce((sum, s) => sum + s.data.reduce((a, v) =>
            a + Number(v && v.value !== undefined ? v.value : v || 0), 0), 0);
    }""", chart_id)


def _until(page, script, arg=None, timeout=10.0):
    """Wait (in Python: the page's own timers are Playwright's fake clock) until the script returns truthy."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if page.evaluate(script, arg):
            return
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {script}")


def _refreshed(page, root_id, before):
    _until(page, "([id, before]) => document.getElementById(id).getAttribute('data-refreshed') !== before",
           [root_id, before])


CHART_DRAWN = "() => !!(window.echarts && echarts.getInstanceByDom(document.getElementById('chart-hours')))"


def _inside(page, zone_id) -> str:
    return page.inner_text(f'[data-zone="{zone_id}"] [data-field="inside"]').strip()


def test_attendance_page_updates_itself_after_a_new_scan(app, make, new_page):
    world = _world(app, make)
    page = new_page(viewport=SIZES["laptop"])
    page.clock.install()  # the page's timers run when the test says so
    sign_in(page, world["manager"])
    page.goto(f"/org/editions/{world['edition_id']}/attendance")
    _until(page, CHART_DRAWN)
    assert page.locator("#chart-hours canvas").count() == 1
    assert _kpis(page)[:3] == ["5", "6", "1"]  # admitted, entries (5 + the conference room), exits
    assert _inside(page, world["halls"]) == "4"
    assert _chart_total(page, "chart-hours") == 6
    assert page.locator(f'[data-zone="{world["halls"]}"] [data-field="level"]').inner_text().strip() == "Room left"

    # Two more come in at the north gate while the page is open; 15 seconds later the page shows them.
    client = app.test_client()
    for code in world["codes"][5:7]:
        _checkin(client, world, code, "N1", datetime.now(timezone.utc))
    before = page.get_attribute("#attendance", "data-refreshed")
    page.clock.run_for(16_000)
    _refreshed(page, "attendance", before)
    assert _kpis(page)[:3] == ["7", "8", "1"]
    assert _inside(page, world["halls"]) == "6"
    assert _chart_total(page, "chart-hours") == 8
    assert _chart_total(page, "chart-occupancy") == 7  # 6 in the halls, 1 in the conference room
    assert page.get_attribute("#attendance", "data-live") == "ok"

    # Nine inside a hall for ten: nearly full, and the row says so.
    for code in world["codes"][7:9]:
        _checkin(client, world, code, "S1", datetime.now(timezone.utc))
    _checkin(client, world, world["codes"][0], "S1", datetime.now(timezone.utc), "in", "duplicate")  # back again
    before = page.get_attribute("#attendance", "data-refreshed")
    page.clock.run_for(16_000)
    _refreshed(page, "attendance", before)
    assert _inside(page, world["halls"]) == "9"
    assert page.get_attribute(f'[data-zone="{world["halls"]}"]', "data-level") == "warning"
    assert page.locator(f'[data-zone="{world["halls"]}"] [data-field="level"]').inner_text().strip() == "Nearly full"


def test_edition_card_updates_itself(app, make, new_page):
    world = _world(app, make)
    page = new_page(viewport=SIZES["laptop"])
    page.clock.install()
    sign_in(page, world["manager"])
    page.goto(f"/org/editions/{world['edition_id']}")
    assert _inside(page, world["halls"]) == "4"
    client = app.test_client()
    for code in world["codes"][5:8]:
        _checkin(client, world, code, "N1", datetime.now(timezone.utc))
    before = page.get_attribute("#inside-now", "data-refreshed")
    page.clock.run_for(16_000)
    _refreshed(page, "inside-now", before)
    assert _inside(page, world["halls"]) == "7"
    assert page.get_attribute(f'[data-zone="{world["halls"]}"]', "data-level") == "ok"


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_attendance_and_setup_pages_on_laptop_and_phone(app, make, new_page, shots, language):
    world = _world(app, make)
    for size, viewport in SIZES.items():
        page = new_page("zh-CN" if language == "zh_CN" else "en-US", viewport=viewport)
        sign_in(page, world["manager"], language)
        for name, path in (("attendance", "attendance"), ("zones", "zones")):
            page.goto(f"/org/editions/{world['edition_id']}/{path}")
            assert page.locator("html").get_attribute("lang") == ("zh-CN" if language == "zh_CN" else "en")
            if name == "attendance":
                page.wait_for_function(CHART_DRAWN)
                page.wait_for_timeout(600)  # the charts' entry animation
            page.screenshot(path=str(shots / f"attendance-{language}-{size}-{name}.png"), full_page=True)
            if viewport["width"] < 576:
                wide = page.evaluate("""() => Array.from(document.querySelectorAll('main, main *'))
                    .filter(el => !el.closest('.table-responsive'))
                    .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                    .map(el => el.tagName + '.' + el.className + ' ' + Math.round(el.getBoundingClientRect().right))""")
                assert not wide, f"{name} is wider than the phone: {wide[:5]}"
        page.goto(f"/org/editions/{world['edition_id']}")
        page.screenshot(path=str(shots / f"attendance-{language}-{size}-edition-card.png"), full_page=False)
