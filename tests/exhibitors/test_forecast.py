"""The booth-sales forecast on fixed data: contracted in full + the open pipeline weighted by each stage's chance,
and the previous edition rebuilt from the audit log at the same number of days before its opening."""
from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import insert

from expo.core.models import AuditEntry, Organizer
from expo.core.scoping import Scope
from expo.exhibitors import forecast
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.models import BoothType, StageProbability
from expo.extensions import db

from ..conftest import Browser

D = Decimal


def test_figures_add_contracted_in_full_and_weight_the_open_deals():
    deals = [forecast.Deal("contracted", D("18000"), D("18")), forecast.Deal("paid", D("40000"), D("36")),
             forecast.Deal("exhibited", D("9000"), D("9")), forecast.Deal("prospect", D("9000"), D("9")),
             forecast.Deal("contacted", D("20000"), D("18")), forecast.Deal("negotiating", D("60000"), D("54")),
             forecast.Deal("negotiating", None, D("9")),  # no price, no booth type: value 0, m² counted
             forecast.Deal("lost", D("36000"), D("36")), forecast.Deal("cancelled", D("9000"), D("9"))]
    percents = {"prospect": 10, "contacted": 20, "negotiating": 50, "contracted": 90, "paid": 100, "exhibited": 100,
                "lost": 0, "cancelled": 0}
    f = forecast.figures(deals, percents)
    assert (f.contracted_value, f.contracted_m2, f.contracted_count) == (D("67000"), D("63"), 3)
    assert (f.pipeline_value, f.pipeline_m2, f.open_count) == (D("89000"), D("90"), 4)
    assert f.weighted_value == D("900") + D("4000") + D("30000")
    assert f.weighted_m2 == D("0.9") + D("3.6") + D("27") + D("4.5")
    assert (f.expected_value, f.expected_m2) == (D("101900.00"), D("99.00"))
    assert f.without_value == 1
    assert f.stages["negotiating"].count == 2 and f.stages["lost"].value == D("36000")
    assert forecast.figures([], percents).expected_value == 0
    assert round(forecast.change(D("34500"), D("18000")), 2) == 91.67
    assert forecast.change(D("1"), D("0")) is None and forecast.change(D("1"), None) is None


def _at(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def _move(exhibitor, at, source, target):
    db.session.execute(insert(AuditEntry), [{
        "organizer_id": exhibitor.organizer_id, "user_id": None, "at": at, "action": "exhibitor.status",
        "object_type": "exhibitors", "object_id": exhibitor.id, "details": {"from": source, "to": target}, "ip": None}])


def _world(make):
    """Two editions of one show in Shanghai: last year's opened 2025-12-11, this one opens 2026-12-11."""
    before = make.edition(starts_on=date(2025, 12, 11), status="closed", name="Expo 2025")
    organizer = db.session.get(Organizer, before.organizer_id)
    edition = make.edition(organizer, starts_on=date(2026, 12, 11), show=before.show, name="Expo 2026")
    scope = Scope(organizer.id)
    # last year: its own chance for "negotiating"
    db.session.add(StageProbability(organizer_id=organizer.id, edition_id=before.id, status="negotiating", percent=40))
    x = exhibitor_services.add_exhibitor(scope, before, "X", area_m2=D("9"), price=D("10000"), status="exhibited")
    x.created_at = _at(2025, 10, 1, 2)
    y = exhibitor_services.add_exhibitor(scope, before, "Y", area_m2=D("18"), price=D("20000"), status="lost")
    y.created_at = _at(2025, 11, 25, 2)  # D-16
    z = exhibitor_services.add_exhibitor(scope, before, "Z", area_m2=D("9"), price=D("5000"), status="paid")
    z.created_at = _at(2025, 12, 5, 2)  # D-6: not there yet at D-10
    db.session.flush()
    _move(x, _at(2025, 11, 20, 3), "prospect", "contracted")  # D-21
    _move(x, _at(2025, 12, 5, 3), "contracted", "paid")  # D-6
    _move(x, _at(2025, 12, 11, 1), "paid", "exhibited")  # the opening morning (09:00 in Shanghai)
    _move(y, _at(2025, 11, 28, 3), "prospect", "negotiating")  # D-13
    _move(y, _at(2025, 12, 3, 3), "negotiating", "lost")  # D-8
    # this year
    booth = BoothType(organizer_id=organizer.id, edition_id=edition.id, code="SH", price_per_m2=D("1000"))
    db.session.add(booth)
    db.session.flush()
    a = exhibitor_services.add_exhibitor(scope, edition, "A", area_m2=D("18"), price=D("30000"), status="contracted")
    a.created_at = _at(2026, 11, 1, 2)  # D-40
    b = exhibitor_services.add_exhibitor(scope, edition, "B", area_m2=D("9"), status="negotiating")
    b.booth_type_id = booth.id  # 9 m² × 1000
    b.created_at = _at(2026, 11, 20, 2)
    c = exhibitor_services.add_exhibitor(scope, edition, "C", status="prospect")  # no value yet
    c.created_at = _at(2026, 11, 25, 2)
    _move(b, _at(2026, 11, 22, 2), "prospect", "negotiating")
    db.session.flush()
    return scope, edition, before


def test_the_forecast_against_the_previous_edition_at_the_same_days_before(make):
    scope, edition, before = _world(make)
    result = forecast.forecast(scope, edition, today=date(2026, 12, 1))
    assert result.days_before == 10 and result.previous_edition.id == before.id
    now = result.now
    assert (now.contracted_value, now.contracted_m2) == (D("30000"), D("18"))
    assert (now.weighted_value, now.weighted_m2) == (D("4500.00"), D("4.50"))
    assert (now.expected_value, now.expected_m2) == (D("34500.00"), D("22.50"))
    assert now.without_value == 1 and now.open_count == 2

    # last year at D-10 (the end of 2025-12-01 in Shanghai): X contracted, Y negotiating at 40 %, Z not yet there
    then = result.previous
    assert (then.contracted_value, then.contracted_m2, then.contracted_count) == (D("10000"), D("9"), 1)
    assert (then.weighted_value, then.weighted_m2) == (D("8000.00"), D("7.20"))
    assert (then.expected_value, then.expected_m2) == (D("18000.00"), D("16.20"))
    # last year at its opening: X exhibited, Z paid, Y lost
    final = result.previous_final
    assert (final.contracted_value, final.contracted_m2, final.weighted_value) == (D("15000"), D("18"), 0)
    assert final.stages["exhibited"].count == 1 and final.stages["lost"].count == 1

    # the chart's days: from X's creation (D-71) to the opening; this year's line stops today
    assert result.days[0] == 71 and result.days[-1] == 0
    series = dict(zip(result.days, result.series["value"]))
    assert series[10] == D("34500.00") and series[9] is None and series[0] is None
    assert series[40] == D("30000")  # only A, contracted since it was entered
    assert series[41] == 0
    assert series[20] == D("30900.00")  # B entered (D-21) as a prospect: 10 % of 9000; C not yet
    assert series[15] == D("34500.00")  # B negotiating since D-19; C a prospect without a value
    previous = dict(zip(result.days, result.series["previous_value"]))
    assert previous[71] == D("1000.00")  # X entered as a prospect: 10 % of its price
    assert previous[10] == D("18000.00") and previous[0] == D("15000")
    assert previous[21] == D("10000")  # X contracted at D-21, Y not entered yet
    assert previous[30] == D("1000.00")  # X a prospect: 10 % of 10000
    assert dict(zip(result.days, result.series["previous_m2"]))[10] == D("16.20")

    spec = forecast.chart(result, "value", {"expected": "E", "contracted": "C", "previous_expected": "PE",
                                            "previous_contracted": "PC", "today": "T"})
    assert [s["name"] for s in spec["series"]] == ["E", "C", "PE", "PC"]
    assert spec["series"][2]["dashed"] and spec["categories"][0] == "D-71" and spec["marks"][0]["at"] == "D-10"
    json.dumps(spec)  # plain JSON for the page


def test_the_first_edition_has_nothing_to_compare_with(make):
    edition = make.edition(starts_on=date(2026, 12, 11))
    scope = Scope(edition.organizer_id)
    exhibitor_services.add_exhibitor(scope, edition, "Solo", area_m2=D("9"), price=D("9000"), status="paid")
    result = forecast.forecast(scope, edition, today=date(2026, 12, 20))  # the show is over: D-0
    assert result.days_before == 0 and result.previous_edition is None and result.previous is None
    assert result.now.expected_value == D("9000") and result.days == list(range(30, -1, -1))
    assert result.series["previous_value"] == []


def test_the_forecast_page(app, make):
    scope, edition, before = _world(make)
    organizer = db.session.get(Organizer, edition.organizer_id)
    analyst, onsite = make.user("analyst", organizer), make.user("onsite", organizer)
    db.session.commit()
    page = Browser(app, analyst).get(f"/org/editions/{edition.id}/forecast")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Booth-sales forecast" in html and "Expo 2025" in html and "¥30,000" in html
    blocks = dict(re.findall(r'<script type="application/json" id="([^"]+)">(.*?)</script>', html, re.S))
    value = json.loads(blocks["forecast-value-data"])
    assert value["type"] == "line" and len(value["series"]) == 4
    assert "Deals without a value yet (no price, or no m² or booth type): 1." in html
    assert Browser(app, onsite).get(f"/org/editions/{edition.id}/forecast").status_code == 403
