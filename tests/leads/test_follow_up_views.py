"""The follow-up in the pages and the API: the lead page's form and history, the list's quick change, filters
and pipeline summary, the lead API's PATCH (hostile input → 400 JSON and nothing lost), the exports carrying the
status, and the organizer's rates page — which never shows a lead's content or the visitor's identity."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from expo.extensions import db
from expo.leads import follow_up
from expo.leads import services as lead_services
from expo.leads.models import Lead

from ..conftest import Browser, redirect_path

SECRET_NOTE = "Budget 2 million, call Mr Zhang on Friday"


@pytest.fixture
def world(make):
    t = make.tenant("A", exhibitors=2, visitors=3, tokens=True)
    _ex, admin, booth = t.exhibitors[0]
    t.admin, t.booth = admin, booth
    t.second = t.capture(booth, t.registrations[1])
    lead_services.update_lead(t.lead, rating="hot", notes=SECRET_NOTE, actor_id=booth.id)
    t.other_lead = t.capture(t.exhibitors[1][2], t.registrations[2])
    db.session.commit()
    return t


def _fresh(lead_id):
    db.session.expire_all()
    return db.session.get(Lead, lead_id)


def test_the_lead_page_moves_the_status_and_shows_the_history(app, world):
    t = world
    booth = Browser(app, t.booth)
    page = booth.get(f"/portal/leads/{t.lead.id}").get_data(as_text=True)
    assert 'id="follow-up-form"' in page and "Not followed up yet." in page
    response = booth.post(f"/portal/leads/{t.lead.id}/follow-up", {"status": "contacted", "next_step_on": "2026-12-09"})
    assert redirect_path(response) == f"/portal/leads/{t.lead.id}"
    lead = _fresh(t.lead.id)
    assert (lead.follow_up_status, lead.next_step_on, lead.follow_up_by_id) == ("contacted", date(2026, 12, 9), t.booth.id)
    booth.post(f"/portal/leads/{t.lead.id}/follow-up", {"status": "quote_sent", "next_step_on": "2026-12-09"})
    # the form keeps the day filled in when the status becomes won: the day goes, the move stands
    booth.post(f"/portal/leads/{t.lead.id}/follow-up", {"status": "won", "won_value": "125000", "next_step_on": "2026-12-09"})
    lead = _fresh(t.lead.id)
    assert (lead.follow_up_status, lead.won_value, lead.next_step_on) == ("won", Decimal("125000.00"), None)
    page = booth.get(f"/portal/leads/{t.lead.id}").get_data(as_text=True)
    assert page.count('class="mb-2"') >= 3 and "125,000.00" in page

    # an illegal move and a bad value: a message, nothing changed
    response = booth.post(f"/portal/leads/{t.lead.id}/follow-up", {"status": "to_contact"}, follow_redirects=True)
    assert response.status_code == 200 and "cannot change to" in response.get_data(as_text=True)
    response = booth.post(f"/portal/leads/{t.lead.id}/follow-up", {"status": "won", "won_value": "9" * 40},
                          follow_redirects=True)
    assert response.status_code == 200
    assert _fresh(t.lead.id).won_value == Decimal("125000.00")
    response = booth.post(f"/portal/leads/{t.lead.id}/follow-up", {"status": "lost\x00"}, follow_redirects=True)
    assert response.status_code == 200 and _fresh(t.lead.id).follow_up_status == "won"


def test_the_list_quick_change_filters_and_pipeline(app, world):
    t = world
    admin = Browser(app, t.admin)
    page = admin.get("/portal/leads").get_data(as_text=True)
    assert 'id="pipeline"' in page and page.count('class="d-flex gap-1 align-items-center quick-follow-up"') == 2
    assert 'value="lost:price"' in page
    response = admin.post(f"/portal/leads/{t.second.id}/follow-up", {"status": "lost:competitor",
                                                                      "back": "list?rating=hot"})
    assert redirect_path(response) == "/portal/leads"
    assert response.headers["Location"].endswith("?rating=hot")
    second = _fresh(t.second.id)
    assert (second.follow_up_status, second.lost_reason) == ("lost", "competitor")
    follow_up.set_next_step(_fresh(t.lead.id), date.today() - timedelta(days=1), actor_id=t.admin.id)
    db.session.commit()

    lost = admin.get("/portal/leads?status=lost").get_data(as_text=True)
    assert f"/portal/leads/{t.second.id}\"" in lost and f"/portal/leads/{t.lead.id}\"" not in lost
    due = admin.get("/portal/leads?reminder=overdue").get_data(as_text=True)
    assert f"/portal/leads/{t.lead.id}\"" in due and f"/portal/leads/{t.second.id}\"" not in due
    assert "Next step overdue" in due  # the chip
    assert admin.get("/portal/leads?status=bogus&reminder=soon").status_code == 200  # ignored, never a 500
    assert admin.get("/portal/leads?status=%00").status_code in (200, 400)
    visible = lambda *columns: lead_services._visible_leads(t.admin, *columns)  # noqa: E731
    summary = follow_up.pipeline(visible, date.today())
    assert summary.counts == {"to_contact": 1, "contacted": 0, "quote_sent": 0, "won": 0, "lost": 1}
    assert summary.due == 1

    # another exhibitor's lead: 404, untouched
    response = admin.post(f"/portal/leads/{t.other_lead.id}/follow-up", {"status": "contacted"})
    assert response.status_code == 404 and _fresh(t.other_lead.id).follow_up_status == "to_contact"


def bearer(t, role):
    return {"Authorization": f"Bearer {t.tokens[role][1]}"}


def test_api_patch_moves_the_follow_up(client, world):
    t = world
    url = f"/api/v1/leads/{t.lead.id}"
    body = client.get(url, headers=bearer(t, "booth_staff")).json
    assert body["follow_up_status"] == "to_contact" and body["next_step_on"] is None
    response = client.patch(url, headers=bearer(t, "booth_staff"),
                            json={"follow_up_status": "contacted", "next_step_on": "2026-12-10", "rating": "warm"})
    assert response.status_code == 200, response.json
    assert (response.json["follow_up_status"], response.json["next_step_on"], response.json["rating"]) == (
        "contacted", "2026-12-10", "warm")
    response = client.patch(url, headers=bearer(t, "booth_staff"),
                            json={"follow_up_status": "won", "won_value": 9800.5})
    assert response.status_code == 200 and response.json["won_value"] == "9800.50"
    assert response.json["next_step_on"] is None


@pytest.mark.parametrize("body, field", [
    ({"follow_up_status": "maybe"}, "follow_up_status"),
    ({"follow_up_status": "won"}, "follow_up_status"),  # to contact -> won: illegal
    ({"follow_up_status": 3}, "follow_up_status"),
    ({"follow_up_status": "contacted\x00"}, "follow_up_status"),
    ({"next_step_on": "2026-02-30"}, "next_step_on"),
    ({"next_step_on": "next week"}, "next_step_on"),
    ({"next_step_on": "2026-12-01\x00"}, "next_step_on"),
    ({"next_step_on": 10 ** 30}, "next_step_on"),
    ({"follow_up_status": "contacted", "won_value": 5}, "won_value"),
    ({"follow_up_status": "lost"}, "lost_reason"),
    ({"follow_up_status": "lost", "lost_reason": "x" * 10_000}, "lost_reason"),
])
def test_api_patch_refuses_bad_input_and_loses_nothing(client, world, body, field):
    t = world
    url = f"/api/v1/leads/{t.lead.id}"
    response = client.patch(url, headers=bearer(t, "booth_staff"), json={"rating": "cold", "notes": "new", **body})
    assert response.status_code == 400, response.json
    assert response.is_json and response.json.get("field") == field
    lead = _fresh(t.lead.id)
    assert (lead.follow_up_status, lead.rating, lead.notes) == ("to_contact", "hot", SECRET_NOTE)


@pytest.mark.parametrize("value", [10 ** 400, "1e999", 1e308, -1, "12,5,5", "１２"])
def test_api_patch_refuses_huge_or_odd_deal_values(client, world, value):
    t = world
    url = f"/api/v1/leads/{t.lead.id}"
    assert client.patch(url, headers=bearer(t, "booth_staff"), json={"follow_up_status": "contacted"}).status_code == 200
    response = client.patch(url, headers=bearer(t, "booth_staff"),
                            data=f'{{"follow_up_status": "won", "won_value": {value if not isinstance(value, str) else repr(value).replace(chr(39), chr(34))}}}',
                            content_type="application/json")
    assert response.status_code == 400 and response.is_json
    assert _fresh(t.lead.id).follow_up_status == "contacted"


def test_exports_carry_the_status(app, world):
    t = world
    lead = _fresh(t.lead.id)
    follow_up.move(lead, "contacted", actor_id=t.admin.id)
    follow_up.move(lead, "won", actor_id=t.admin.id, won_value=Decimal("5000"))
    follow_up.move(_fresh(t.second.id), "lost", actor_id=t.admin.id, lost_reason="price")
    db.session.commit()
    admin = Browser(app, t.admin)
    text = admin.get("/portal/leads.csv").get_data().decode("utf-8")[1:]
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[13:17] == ["Follow-up status", "Next step on", "Deal value", "Lost reason"]
    by_name = {r[0]: dict(zip(header, r)) for r in rows[1:]}
    won = by_name[t.registrations[0].person.name]
    assert (won["Follow-up status"], won["Deal value"]) == ("Won", "5000.00")
    assert by_name[t.registrations[1].person.name]["Lost reason"] == "Price"
    sheet = load_workbook(io.BytesIO(admin.get("/portal/leads.xlsx").get_data())).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert "Follow-up status" in values[0] and any("Won" in r for r in values[1:])
    hub = load_workbook(io.BytesIO(admin.get("/portal/leads.xlsx?preset=hubspot").get_data())).active
    hub_rows = [list(r) for r in hub.iter_rows(values_only=True)]
    assert {(r[7], r[8]) for r in hub_rows[1:]} == {("Customer", "Open Deal"), ("Lead", "Unqualified")}
    sales = load_workbook(io.BytesIO(admin.get("/portal/leads.xlsx?preset=salesforce").get_data())).active
    assert any("Follow-up: Won (5000.00)" in (r[-1] or "") for r in sales.iter_rows(values_only=True))
    vcard = admin.get(f"/portal/leads/{t.lead.id}.vcf").get_data(as_text=True)
    assert "Follow-up: Won (5000.00)" in vcard.replace("\r\n ", "")
    # the list's status filter holds for the export too
    only_lost = list(csv.reader(io.StringIO(admin.get("/portal/leads.csv?status=lost").get_data().decode()[1:])))
    assert len(only_lost) == 2 and only_lost[1][13] == "Lost"


def test_the_organizer_sees_rates_never_the_leads(app, world):
    t = world
    lead = _fresh(t.lead.id)
    scan = lead.first_scanned_at
    follow_up.move(lead, "contacted", actor_id=t.booth.id, now=scan + timedelta(days=1))
    follow_up.move(lead, "quote_sent", actor_id=t.booth.id, now=scan + timedelta(days=2))
    follow_up.move(lead, "won", actor_id=t.booth.id, won_value=Decimal("77777"), now=scan + timedelta(days=3))
    follow_up.move(_fresh(t.second.id), "lost", actor_id=t.booth.id, lost_reason="no_budget",
                   now=scan + timedelta(days=9))
    db.session.commit()
    for role in ("owner", "manager", "sales", "analyst"):
        response = Browser(app, t.users[role]).get(f"/org/editions/{t.edition.id}/lead-follow-up")
        assert response.status_code == 200
    page = Browser(app, t.users["analyst"]).get(f"/org/editions/{t.edition.id}/lead-follow-up").get_data(as_text=True)
    assert t.exhibitor.company.name in page and "77,777" not in page and 'id="follow-up-rates-data"' in page
    assert "50%" in page  # 1 of 2 leads contacted within 7 days (the other moved on day 9)
    for secret in (SECRET_NOTE, "Budget 2 million", *[r.person.name for r in t.registrations],
                   *[r.person.email for r in t.registrations], *[r.person.company or "" for r in t.registrations],
                   "No budget", f"/portal/leads/{t.lead.id}"):
        assert secret and secret not in page, secret
    assert Browser(app, t.users["onsite"]).get(f"/org/editions/{t.edition.id}/lead-follow-up").status_code == 403
    assert Browser(app, t.admin).get(f"/org/editions/{t.edition.id}/lead-follow-up").status_code == 403


@pytest.mark.parametrize("form", [
    {"status": "contacted\x00"}, {"next_step_on": "2026-12-01\x00"}, {"next_step_on": "99999-01-01"},
    {"status": "won", "won_value": "1" * 5000}, {"status": "lost:\x00"}, {"lost_reason": "x" * 400},
    {"status": "contacted", "back": "list?a=\r\nSet-Cookie: x=1"},
])
def test_hostile_forms_never_500_and_store_nothing(app, world, form):
    t = world
    booth = Browser(app, t.booth)
    response = booth.post(f"/portal/leads/{t.lead.id}/follow-up", form)
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 302:
        assert "\n" not in response.headers["Location"] and "Set-Cookie" not in response.headers.get("Location", "")
    lead = _fresh(t.lead.id)
    assert lead.follow_up_status in ("to_contact", "contacted") and lead.next_step_on is None
    assert booth.post("/portal/leads/99999999999/follow-up", {"status": "contacted"}).status_code == 404
