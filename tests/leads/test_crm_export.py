"""Exports for other systems: XLSX with the Salesforce lead-import and HubSpot contact-import columns, vCards per
lead and for a selection — only what the visitor shares, names split as those systems want them, every export
audited; and a lead scanned through the API is in the export at once."""
from __future__ import annotations

import io
import re
import uuid
from datetime import datetime, timezone

import pytest
import vobject
from openpyxl import load_workbook
from sqlalchemy import select

from expo.core.models import AuditEntry
from expo.extensions import db
from expo.leads import questions as lq
from expo.leads import services as lead_services
from expo.leads.models import Lead

from ..conftest import Browser

PHONE = "+86 139 1234 5678"


@pytest.fixture
def booth(make):
    t = make.tenant("A", leads=False, visitors=0, tokens=True)
    admin = t.users["exhibitor_admin"]
    lq.save_question(t.exhibitor, lq.QuestionInput("single", "Budget", "预算", "low | Low | 低\nhigh | High | 高"),
                     actor_id=admin.id)
    at = datetime(2026, 5, 20, 2, 30, tzinfo=timezone.utc)

    def lead(registration, rating, notes, answers):
        lead_id, _ = lead_services.capture_lead(t.exhibitor, registration, admin, at)
        row = db.session.get(Lead, lead_id)
        lead_services.update_lead(row, rating=rating, notes=notes, answers=answers, actor_id=admin.id)
        return row

    t.chinese = lead(make.registration(t.edition, name="王小明", email="xiaoming@example.cn", phone=PHONE,
                                       company="佛山金雅家居有限公司", job_title="采购经理", country="CN"),
                     "hot", "对办公家具很感兴趣", {"budget": "high"})
    t.western = lead(make.registration(t.edition, name="Anna Maria Schmidt", email="anna@example.de",
                                       company="Möbel, Stühle; und mehr", job_title="=Buyer", country="DE"),
                     "cold", "Line one\nLine two, with; separators \\ and more", {})
    t.hidden = lead(make.registration(t.edition, name="Li Lei", email="hidden@example.com", share=False,
                                      company="Hidden Co"), None, "never shared", {})
    db.session.commit()
    return t


def workbook(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Cache-Control"] == "private, no-store"
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    return sheet, rows[0], [dict(zip(rows[0], r)) for r in rows[1:]]


def test_salesforce_preset(app, booth):
    admin = Browser(app, booth.users["exhibitor_admin"])
    admin.get("/lang/zh_CN")  # the preset's headers are Salesforce's field names whatever the user's language
    sheet, header, rows = workbook(admin.get("/portal/leads.xlsx?preset=salesforce"))
    assert sheet.title == "Salesforce"
    assert header == ["First Name", "Last Name", "Company", "Title", "Email", "Phone", "Country", "Lead Source",
                      "Rating", "Description"]
    chinese = next(r for r in rows if r["Email"] == "xiaoming@example.cn")
    # a Chinese name is one field: whole in Last Name (Salesforce's required one), First Name empty
    assert (chinese["First Name"], chinese["Last Name"]) == (None, "王小明")
    assert (chinese["Company"], chinese["Title"], chinese["Phone"]) == ("佛山金雅家居有限公司", "采购经理", PHONE)
    assert (chinese["Country"], chinese["Lead Source"], chinese["Rating"]) == ("China", "Trade Show", "Hot")
    assert "对办公家具很感兴趣" in chinese["Description"] and re.search("预算[:：] ?高", chinese["Description"])
    western = next(r for r in rows if r["Email"] == "anna@example.de")
    assert (western["First Name"], western["Last Name"], western["Rating"]) == ("Anna Maria", "Schmidt", "Cold")
    assert western["Title"] == "=Buyer"  # a text cell, not a formula
    # the visitor who does not share: no contact details at all, the exhibitor's own notes only — and still the
    # Last Name and Company Salesforce requires, or the row would fail the import
    hidden = next(r for r in rows if r["Email"] is None)
    assert "Li Lei" not in str(hidden) and "Hidden Co" not in str(hidden)
    assert hidden["Last Name"] == f"观众 #{booth.hidden.id}"  # the export speaks the user's language (zh_CN here)
    assert hidden["Company"] == _category_label(app, "buyer", "zh_CN") and hidden["First Name"] is None
    assert hidden["Description"] and "never shared" in hidden["Description"]
    assert "hidden@example.com" not in str(rows)


def test_hubspot_preset(app, booth):
    admin = Browser(app, booth.users["exhibitor_admin"])
    sheet, header, rows = workbook(admin.get("/portal/leads.xlsx?preset=hubspot&rating=hot"))
    assert header == ["First Name", "Last Name", "Email", "Phone Number", "Company Name", "Job Title",
                      "Country/Region", "Lifecycle Stage", "Lead Status", "Lead Rating", "Message"]
    assert len(rows) == 1  # the list's filters hold for presets too
    row = rows[0]
    assert (row["Last Name"], row["Email"], row["Phone Number"], row["Company Name"]) == (
        "王小明", "xiaoming@example.cn", PHONE, "佛山金雅家居有限公司")
    assert (row["Country/Region"], row["Lifecycle Stage"], row["Lead Status"], row["Lead Rating"]) == (
        "China", "Lead", "New", "Hot")
    assert "对办公家具很感兴趣" in row["Message"] and "Budget: High" in row["Message"]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "leads.exported")).one()
    assert entry.details["preset"] == "hubspot" and entry.details["format"] == "xlsx" and entry.details["rows"] == 1


def _category_label(app, code: str, locale: str) -> str:
    from flask_babel import force_locale

    from expo.core.templating import state

    with app.test_request_context(), force_locale(locale):
        return str(state(code, "visitor_category"))


def test_crm_presets_import_visitors_who_do_not_share(app, booth):
    """Salesforce refuses a lead without Last Name and Company: a visitor who shares nothing is
    "Visitor #<lead id>" of their category (in the user's language); one who shares a name keeps it."""
    admin = Browser(app, booth.users["exhibitor_admin"])
    for preset, company in (("salesforce", "Company"), ("hubspot", "Company Name")):
        _sheet, _header, rows = workbook(admin.get(f"/portal/leads.xlsx?preset={preset}"))
        hidden = next(r for r in rows if r["Email"] is None)
        assert (hidden["First Name"], hidden["Last Name"]) == (None, f"Visitor #{booth.hidden.id}")
        assert hidden[company] == _category_label(app, "buyer", "en") and hidden[company]
        assert "Li Lei" not in str(hidden) and "Hidden Co" not in str(hidden)
        assert all(r["Last Name"] and r[company] for r in rows)


def test_unknown_presets_and_csv_presets_are_404(app, booth):
    admin = Browser(app, booth.users["exhibitor_admin"])
    assert admin.get("/portal/leads.xlsx?preset=zoho").status_code == 404
    assert admin.get("/portal/leads.csv?preset=salesforce").status_code == 404


@pytest.mark.parametrize("name, first, last", [
    ("王小明", "", "王小明"), ("欧阳娜娜", "", "欧阳娜娜"), ("Anna Maria Schmidt", "Anna Maria", "Schmidt"),
    ("Madonna", "", "Madonna"), ("  Li   Na ", "Li", "Na"), ("", "", ""), ("山田 太郎", "", "山田 太郎"),
])
def test_split_name(name, first, last):
    assert lead_services.split_name(name) == (first, last)


def cards(response) -> list:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/vcard"
    assert response.headers["Content-Disposition"].endswith('.vcf"')
    return list(vobject.readComponents(response.get_data(as_text=True)))


def test_vcard_of_one_lead(app, booth):
    admin = Browser(app, booth.users["exhibitor_admin"])
    [card] = cards(admin.get(f"/portal/leads/{booth.western.id}.vcf"))
    assert card.fn.value == "Anna Maria Schmidt"
    assert (card.n.value.family, card.n.value.given) == ("Schmidt", "Anna Maria")
    assert card.org.value == ["Möbel, Stühle; und mehr"]  # escaped on the way out, whole on the way in
    assert card.title.value == "=Buyer" and card.email.value == "anna@example.de"
    assert "Line one\nLine two, with; separators \\ and more" in card.note.value
    raw = admin.get(f"/portal/leads/{booth.western.id}.vcf").get_data(as_text=True)
    assert "ORG:Möbel\\, Stühle\\; und mehr" in raw and "\r\n" in raw
    [chinese] = cards(admin.get(f"/portal/leads/{booth.chinese.id}.vcf"))
    assert chinese.fn.value == "王小明" and chinese.n.value.family == "王小明" and chinese.tel.value == PHONE
    # a visitor who does not share has no card
    response = admin.get(f"/portal/leads/{booth.hidden.id}.vcf")
    assert response.status_code == 302
    # the booth staff may not export; another exhibitor's lead does not exist
    assert Browser(app, booth.users["booth_staff"]).get(f"/portal/leads/{booth.western.id}.vcf").status_code == 403


def test_vcards_of_a_selection_and_of_the_view(app, make, booth):
    admin = Browser(app, booth.users["exhibitor_admin"])
    picked = cards(admin.get(f"/portal/leads.vcf?ids={booth.chinese.id}&ids={booth.hidden.id}"))
    assert [c.fn.value for c in picked] == ["王小明"]  # the one who does not share is left out
    everything = cards(admin.get("/portal/leads.vcf"))
    assert sorted(c.fn.value for c in everything) == ["Anna Maria Schmidt", "王小明"]
    filtered = cards(admin.get("/portal/leads.vcf?rating=cold"))
    assert [c.fn.value for c in filtered] == ["Anna Maria Schmidt"]
    # another organizer's lead ids select nothing; junk ids are ignored
    other = make.tenant("B")
    db.session.commit()
    assert admin.get(f"/portal/leads.vcf?ids={other.lead.id + 1000}").status_code == 302
    assert admin.get("/portal/leads.vcf?ids=abc&ids=-3").status_code == 404
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "leads.exported")))
    assert [e.details["format"] for e in entries] == ["vcf"] * 4 and entries[0].details["rows"] == 1
    # the list has a tick box per lead that shares, tied to the selection form
    page = admin.get("/portal/leads").get_data(as_text=True)
    assert page.count('name="ids"') == 2 and 'form="selection"' in page


def test_a_scanned_lead_is_in_the_export_at_once(app, client, make, booth):
    visitor = make.registration(booth.edition, name="Scanned Just Now", email="now@example.com", company="Now Ltd")
    db.session.commit()
    from expo.visitors import services as visitor_services

    response = client.post("/api/v1/scans", json={"code": visitor_services.badge_code(visitor), "kind": "lead",
                                                  "client_scan_id": str(uuid.uuid4())},
                           headers={"Authorization": f"Bearer {booth.tokens['booth_staff'][1]}"})
    assert response.status_code == 200 and response.json["result"] == "ok"
    lead_id = response.json["lead_id"]
    # rated from the scanner a moment later
    response = client.patch(f"/api/v1/leads/{lead_id}", json={"rating": "hot", "answers": {"budget": "low"}},
                            headers={"Authorization": f"Bearer {booth.tokens['booth_staff'][1]}"})
    assert response.status_code == 200
    admin = Browser(app, booth.users["exhibitor_admin"])
    for url in ("/portal/leads.xlsx", "/portal/leads.xlsx?preset=salesforce", "/portal/leads.xlsx?preset=hubspot"):
        _sheet, _header, rows = workbook(admin.get(url))
        row = next((r for r in rows if "now@example.com" in r.values()), None)
        assert row is not None, url
    _sheet, _header, rows = workbook(admin.get("/portal/leads.xlsx?preset=salesforce&rating=hot"))
    assert [r["Last Name"] for r in rows if r["Email"] == "now@example.com"] == ["Now"]
    assert any("Budget: Low" in (r["Description"] or "") for r in rows if r["Email"] == "now@example.com")
    assert "Scanned Just Now" in [c.fn.value for c in cards(admin.get("/portal/leads.vcf"))]
