"""The edition report on a small world built by hand, where every figure is known in advance."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from html import unescape

import pytest

from expo.cli import main
from expo.core import services as core
from expo.core.scoping import Scope
from expo.exhibitors import services as exhibitor_services
from expo.extensions import db
from expo.leads import services as leads_services
from expo.onsite import services as onsite
from expo.postshow.services import edition_report
from expo.visitors import services as visitor_services
from expo.visitors.services import badge_code

from ..conftest import login, new_scan_id

ZONE = "Asia/Shanghai"  # UTC+8, no daylight saving


@dataclass
class World:
    organizer_id: int
    owner_id: int
    last_id: int
    this_id: int


def rows(frame) -> list[tuple]:
    return [tuple(row) for row in frame.itertuples(index=False)]


def checkin(user, registration, edition, scanned_at, expected="ok"):
    outcome = onsite.record_scan(user, code=badge_code(registration), kind="checkin", client_scan_id=new_scan_id(),
                                 scanned_at=scanned_at, gate="North 北门", edition_id=edition.id)
    assert outcome.result == expected, (registration.person.name, scanned_at, outcome.reason)
    return outcome


def lead(user, registration, scanned_at, expected="ok"):
    outcome = onsite.record_scan(user, code=badge_code(registration), kind="lead", client_scan_id=new_scan_id(),
                                 scanned_at=scanned_at)
    assert outcome.result == expected, outcome.reason
    return outcome.lead


@pytest.fixture
def world(make) -> World:
    organizer = make.organizer("Greater Bay Expo 大湾区会展")
    scope = Scope(organizer.id)
    owner = make.user("owner", organizer)
    onsite_user = make.user("onsite", organizer)
    show = core.create_show(scope, "Shenzhen Furniture Fair 深圳家具展")
    # Both editions start live so that visitors can register online; last year's is closed afterwards.
    last = make.edition(organizer, show=show, starts_on=date(2025, 6, 10), name="SZFF 2025", timezone=ZONE)
    this = make.edition(organizer, show=show, starts_on=date(2026, 6, 10), name="SZFF 2026", timezone=ZONE)

    def exhibitor(edition, name, status, hall="", stand=""):
        return exhibitor_services.add_exhibitor(scope, edition, name, hall=hall, stand=stand, status=status)

    # Last year: three exhibitors that took a booth, one lost prospect (not counted).
    alpha_last = exhibitor(last, "Alpha Furniture Ltd.", "exhibited", "1", "A01")
    exhibitor(last, "北京华美家具有限公司", "exhibited", "2", "B02")
    exhibitor(last, "Crown Lighting GmbH", "paid", "3", "C03")
    exhibitor(last, "Delta Lost Co", "lost")
    # This year: two of them rebooked, Crown is still negotiating (so it churned), one newcomer,
    # one cancellation (left out of the lead table).
    alpha = exhibitor(this, "Alpha Furniture Ltd.", "contracted", "1", "A01")
    huamei = exhibitor(this, "北京华美家具有限公司", "paid", "2", "B02")
    exhibitor(this, "Crown Lighting GmbH", "negotiating")
    exhibitor(this, "Evergreen Home Inc.", "contracted", "3")
    exhibitor(this, "Gone Cancelled Co", "cancelled", "9", "Z99")

    alpha_staff = make.user("booth_staff", exhibitor=alpha)
    huamei_staff = make.user("exhibitor_admin", exhibitor=huamei)
    alpha_last_staff = make.user("booth_staff", exhibitor=alpha_last)

    # Last year's visitors: p1, p2 and p9 come back this year; q3 cancelled (not counted).
    reg = make.registration
    p1_last = reg(last, name="王伟", email="wangwei@example.cn", category="buyer")
    reg(last, name="Sarah Smith", email="sarah@example.com", category="trade_visitor")
    q1 = reg(last, name="Old Visitor One", email="q1@example.com", category="buyer")
    reg(last, name="Old Visitor Two", email="q2@example.com", category="public")
    q3 = reg(last, name="Old Visitor Three", email="q3@example.com", category="buyer")
    visitor_services.cancel_registration(q3)
    reg(last, name="Cancelled Later", email="p9@example.com", category="buyer")

    # This year: 8 counted registrations (p9 cancels), in every category and several sources.
    p1 = reg(this, name="王伟", email="WangWei@example.cn", category="buyer")  # same person, other case
    p2 = reg(this, name="Sarah Smith", email="sarah@example.com", category="buyer")
    p3 = reg(this, name="张敏", email="zhangmin@example.cn", category="buyer", source="import")
    p4 = reg(this, name="Lucas Rossi", email="lucas@example.com", category="trade_visitor")
    reg(this, name="刘洋", email="liuyang@example.cn", category="trade_visitor", source="exhibitor_invitation")
    p6 = reg(this, name="Mia Tanaka", email="mia@example.com", category="media")
    reg(this, name="陈静", email="chenjing@example.cn", category="vip", source="campaign")
    reg(this, name="Walk Up", email="walkup@example.com", category="public", source="walk_up")
    p9 = reg(this, name="Cancelled Later", email="p9@example.com", category="buyer")
    visitor_services.cancel_registration(p9)
    assert p1.person_id == p1_last.person_id

    core.set_edition_status(last, "closed")
    db.session.flush()

    # Check-ins last year (must not show up in this year's report).
    checkin(onsite_user, p1_last, last, "2025-06-10T02:00:00Z")
    checkin(onsite_user, q1, last, "2025-06-11T02:00:00Z")
    lead(alpha_last_staff, q1, "2025-06-11T03:00:00Z")

    # This year's gate: 10 June (local) p1 and p2; 11 June (local) p4, p1 and p6.
    checkin(onsite_user, p1, this, "2026-06-10T01:30:00Z")  # 09:30 in Shenzhen
    checkin(onsite_user, p1, this, "2026-06-10T05:00:00Z", expected="duplicate")  # same day again
    checkin(onsite_user, p2, this, "2026-06-10T02:00:00+00:00")
    checkin(onsite_user, p4, this, "2026-06-10T23:30:00Z")  # 07:30 on 11 June in Shenzhen
    checkin(onsite_user, p4, this, "2026-06-11T02:00:00Z", expected="duplicate")  # 10:00 on 11 June
    checkin(onsite_user, p1, this, "2026-06-11T03:00:00Z")
    checkin(onsite_user, p6, this, "2026-06-11T08:00:00+08:00")
    checkin(onsite_user, p9, this, "2026-06-11T04:00:00Z", expected="refused")  # cancelled: revoked
    refused = onsite.record_scan(onsite_user, code="NOT-A-BADGE", kind="checkin", client_scan_id=new_scan_id(),
                                 scanned_at="2026-06-11T04:05:00Z", edition_id=this.id)
    assert refused.result == "refused"

    # Leads: Alpha scans p1, p2, p3 (two hot, p1 twice); Huamei scans p1 (warm).
    lead_p1 = lead(alpha_staff, p1, "2026-06-10T03:00:00Z")
    lead_p2 = lead(alpha_staff, p2, "2026-06-10T03:10:00Z")
    lead(alpha_staff, p3, "2026-06-10T03:20:00Z")
    lead(alpha_staff, p1, "2026-06-11T03:30:00Z", expected="duplicate")
    leads_services.update_lead(lead_p1, rating="hot", notes="wants 200 sofas", actor_id=alpha_staff.id)
    leads_services.update_lead(lead_p2, rating="hot", notes="", actor_id=alpha_staff.id)
    huamei_lead = lead(huamei_staff, p1, "2026-06-11T06:00:00Z")
    leads_services.update_lead(huamei_lead, rating="warm", notes="", actor_id=huamei_staff.id)
    db.session.commit()
    return World(organizer.id, owner.id, last.id, this.id)


def report_for(world: World, edition_id: int | None = None):
    from expo.core.models import Edition

    edition = db.session.get(Edition, edition_id or world.this_id)
    return edition_report(Scope(world.organizer_id), edition)


def test_report_figures(world):
    report = report_for(world)

    assert report.previous.id == world.last_id
    assert report.registrations_total == 8
    assert sorted(rows(report.by_category)) == [
        ("buyer", 3, 2), ("media", 1, 1), ("public", 1, 0), ("trade_visitor", 2, 1), ("vip", 1, 0)]
    assert rows(report.by_category)[0] == ("buyer", 3, 2)  # the largest group first
    assert sorted(rows(report.by_source)) == [
        ("campaign", 1), ("exhibitor_invitation", 1), ("import", 1), ("online", 4), ("walk_up", 1)]
    assert rows(report.by_source)[0] == ("online", 4)
    assert rows(report.checkins_by_day) == [(date(2026, 6, 10), 2, 2), (date(2026, 6, 11), 3, 3)]
    assert rows(report.leads_per_exhibitor) == [
        ("Alpha Furniture Ltd.", "1-A01", 3, 2),
        ("北京华美家具有限公司", "2-B02", 1, 0),
        ("Evergreen Home Inc.", "3", 0, 0),
    ]

    assert report.previous_visitors == 5  # q3 cancelled last year
    assert report.returning_visitors == 2  # p1 and p2; p9 came back but cancelled
    assert report.visitor_return_rate == pytest.approx(0.4)
    assert report.previous_exhibitors == 3  # the lost prospect is not an exhibitor
    assert report.rebooked_exhibitors == 2
    assert report.exhibitor_rebooking_rate == pytest.approx(2 / 3)
    assert report.churned_exhibitors == ["Crown Lighting GmbH"]


def test_report_of_the_first_edition_has_nothing_to_compare(world):
    report = report_for(world, world.last_id)

    assert report.previous is None
    assert report.registrations_total == 5
    assert rows(report.checkins_by_day) == [(date(2025, 6, 10), 1, 1), (date(2025, 6, 11), 1, 1)]
    assert rows(report.leads_per_exhibitor)[0] == ("Alpha Furniture Ltd.", "1-A01", 1, 0)
    assert (report.returning_visitors, report.previous_visitors) == (0, 0)
    assert (report.rebooked_exhibitors, report.previous_exhibitors) == (0, 0)
    assert report.churned_exhibitors == []
    assert report.visitor_return_rate is None and report.exhibitor_rebooking_rate is None


def test_report_of_an_edition_without_scans(make):
    edition = make.edition()
    make.registration(edition, category="vip")
    db.session.commit()

    report = edition_report(Scope(edition.organizer_id), edition)

    assert report.registrations_total == 1
    assert rows(report.by_category) == [("vip", 1, 0)]
    assert report.checkins_by_day.empty
    assert list(report.checkins_by_day.columns) == ["day", "visitors", "scans"]


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """The text of each body row's cells of the table with this id."""
    table = html[html.index(f'id="{table_id}"'):]
    table = table[:table.index("</table>")]
    body = table[table.index("<tbody>"):] if "<tbody>" in table else table
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def chart_data(html: str, chart_id: str) -> dict:
    """The JSON a chart is drawn from (``<script type="application/json" id="<chart>-data">``)."""
    match = re.search(rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', html, re.S)
    assert match, f"no data for chart {chart_id}"
    return json.loads(match.group(1))


def figure(html: str, name: str) -> int:
    match = re.search(rf'id="{name}">\s*(\d+)\s*<', html)
    assert match, f"{name} not on the page"
    return int(match.group(1))


def test_report_page(world, client):
    from expo.core.models import User

    owner = db.session.get(User, world.owner_id)
    login(client, owner)
    response = client.get(f"/org/editions/{world.this_id}/report")
    assert response.status_code == 200
    html = response.get_data(as_text=True)

    assert figure(html, "fig-registrations") == 8
    assert figure(html, "fig-returning") == 2
    assert figure(html, "fig-rebooked") == 2
    assert "SZFF 2025" in html  # compared with last year
    churned = html[html.index('id="churned"'):]
    assert "Crown Lighting GmbH" in churned[:churned.index("</ul>")]
    by_day = html[html.index('id="by-day"'):]
    by_day = by_day[:by_day.index("</table>")]
    assert "2026-06-10" in by_day and "2026-06-11" in by_day and "2026-06-12" not in by_day
    assert table_rows(html, "leads-per-exhibitor") == [
        ["Alpha Furniture Ltd.", "1-A01", "3", "2"], ["北京华美家具有限公司", "2-B02", "1", "0"],
        ["Evergreen Home Inc.", "3", "0", "0"]]
    # labels, not codes, in the tables and in the charts beside them
    assert table_rows(html, "by-category")[0] == ["Buyer", "3", "2"]
    assert ["Exhibitor invitation", "1"] in table_rows(html, "by-source")
    by_category = chart_data(html, "chart-by-category")
    assert by_category["type"] == "hbar"
    assert dict(zip(by_category["categories"], by_category["series"][0]["data"])) == {
        "Buyer": 3, "Trade visitor": 2, "Media": 1, "Public": 1, "VIP": 1}
    assert by_category["categories"][0] == "Buyer"  # largest first
    by_source = chart_data(html, "chart-by-source")
    assert (by_source["categories"][0], by_source["series"][0]["data"][0]) == ("Online", 4)
    assert chart_data(html, "chart-by-day") == {
        "type": "bar", "categories": ["2026-06-10", "2026-06-11"],
        "series": [{"name": "Visitors", "data": [2, 3]}, {"name": "Scans", "data": [2, 3]}]}
    leads_chart = chart_data(html, "chart-leads")
    assert leads_chart["categories"] == ["Alpha Furniture Ltd.", "北京华美家具有限公司", "Evergreen Home Inc."]
    assert leads_chart["series"][0]["data"] == [3, 1, 0]
    assert "echarts.min.js" in html and "charts.js" in html


def test_report_page_in_chinese(world, client):
    from expo.core.models import User

    login(client, db.session.get(User, world.owner_id))
    client.get("/lang/zh_CN")
    html = client.get(f"/org/editions/{world.this_id}/report").get_data(as_text=True)
    assert table_rows(html, "leads-per-exhibitor")[1][0] == "北京华美家具有限公司"
    assert chart_data(html, "chart-leads")["categories"][1] == "北京华美家具有限公司"
    assert table_rows(html, "by-category")[0][0] == "采购商"  # the category's label in Chinese


def test_report_page_is_not_visible_to_another_organizer(world, client, make):
    stranger = make.user("owner")
    db.session.commit()
    login(client, stranger)
    assert client.get(f"/org/editions/{world.this_id}/report").status_code == 404


def test_report_command(world, app):
    result = app.test_cli_runner().invoke(main, ["report", str(world.this_id)])

    assert result.exit_code == 0, result.output
    assert "SZFF 2026: 8 registrations, 2 returning visitors, 2 rebooked exhibitors" in result.output
    assert "Registrations by visitor category" in result.output and "Leads" in result.output
    assert "2026-06-11" in result.output
    assert "北京华美家具有限公司" in result.output


def test_report_command_unknown_edition(app, ctx):
    result = app.test_cli_runner().invoke(main, ["report", "999999"])

    assert result.exit_code != 0
    assert "No such edition" in result.output
