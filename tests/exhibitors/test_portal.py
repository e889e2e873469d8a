"""Exhibitors: the organizer adds one with its admin account; the admin keeps the company profile and staff."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.security import check_password_hash

from expo.core.models import AuditEntry, Organizer, User
from expo.exhibitors.models import Company, Exhibitor
from expo.extensions import db

from ..conftest import Browser, count, field_errors, login, redirect_path

ADMIN_PASSWORD = "hongda-admin-42"


def exhibitor_form(**changes) -> dict:
    return {"company_name": "Shenzhen Hongda Furniture Co.", "country": "cn", "hall": "3", "stand": "B12",
            "area_m2": "36", "status": "contracted", "admin_name": "Chen Jing",
            "admin_email": "chen.jing@hongda.example.cn", "admin_password": ADMIN_PASSWORD, **changes}


@pytest.fixture
def fair(make):
    """An organizer with an owner and a sales rep, and two editions of one show a year apart."""
    organizer = make.organizer("Shenzhen Expo Co")
    first = make.edition(organizer, status="registration_open")
    second = make.edition(organizer, show=first.show, starts_on=first.starts_on + timedelta(days=365),
                          status="draft")
    owner, sales = make.user("owner", organizer), make.user("sales", organizer)
    db.session.commit()
    return {"organizer": organizer, "first": first, "second": second, "owner": owner, "sales": sales}


def signed_in(app, user, password) -> Browser:
    browser = Browser(app)
    login(browser.client, user, password)
    return browser


def add_exhibitor(browser, edition, **changes):
    return browser.post(f"/org/editions/{edition.id}/exhibitors", data=exhibitor_form(**changes))


def admin_of(app, fair_):
    """The exhibitor of the first edition, added over HTTP by the owner, and its admin."""
    response = add_exhibitor(Browser(app, fair_["owner"]), fair_["first"])
    assert redirect_path(response) == f"/org/editions/{fair_['first'].id}/exhibitors"
    admin = db.session.scalar(select(User).where(User.email == "chen.jing@hongda.example.cn"))
    return admin.exhibitor, admin


# --- the organizer adds exhibitors ---------------------------------------------------------------

@pytest.mark.parametrize("via", ["owner", "sales"])
def test_organizer_adds_an_exhibitor_with_its_admin(app, fair, via):
    browser = Browser(app, fair[via])
    edition = fair["first"]
    response = add_exhibitor(browser, edition)
    assert redirect_path(response) == f"/org/editions/{edition.id}/exhibitors"

    exhibitor = db.session.scalar(select(Exhibitor))
    assert exhibitor.edition_id == edition.id and exhibitor.organizer_id == fair["organizer"].id
    assert (exhibitor.hall, exhibitor.stand, exhibitor.area_m2, exhibitor.status) == ("3", "B12", Decimal("36"),
                                                                                     "contracted")
    assert exhibitor.company.name == "Shenzhen Hongda Furniture Co."
    assert exhibitor.company.country == "CN"
    assert exhibitor.company.organizer_id == fair["organizer"].id

    admin = db.session.scalar(select(User).where(User.email == "chen.jing@hongda.example.cn"))
    assert admin.role == "exhibitor_admin" and admin.exhibitor_id == exhibitor.id
    assert admin.organizer_id == fair["organizer"].id and admin.name == "Chen Jing"
    assert admin.password_hash != ADMIN_PASSWORD and check_password_hash(admin.password_hash, ADMIN_PASSWORD)

    page = browser.get(f"/org/editions/{edition.id}/exhibitors").get_data(as_text=True)
    assert "Shenzhen Hongda Furniture Co." in page and "3-B12" in page
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.user_id == fair[via].id)))
    assert {"exhibitor.created", "user.created"} <= actions


def test_same_company_twice_at_one_edition_is_refused(app, fair):
    browser = Browser(app, fair["owner"])
    add_exhibitor(browser, fair["first"])
    before = count(Exhibitor), count(Company), count(User)

    response = add_exhibitor(browser, fair["first"], company_name="  SHENZHEN HONGDA furniture co. ",
                             admin_email="other.admin@hongda.example.cn", stand="C1")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert field_errors(page, "company_name") == ["This company already exhibits at this edition."]
    assert (count(Exhibitor), count(Company), count(User)) == before
    assert db.session.scalar(select(User).where(User.email == "other.admin@hongda.example.cn")) is None


def test_admin_email_in_use_elsewhere_gets_its_own_account(app, fair):
    """Emails are unique per organizer's staff or per exhibitor's staff (issue 6): the new exhibitor's admin gets an
    account of its own even when the address is someone's elsewhere, and nothing says it is."""
    browser = Browser(app, fair["owner"])
    before = count(Exhibitor), count(Company), count(User)
    response = add_exhibitor(browser, fair["first"], admin_email=fair["sales"].email.upper())
    assert redirect_path(response) == "/org/editions/%d/exhibitors" % fair["first"].id
    assert (count(Exhibitor), count(Company), count(User)) == (before[0] + 1, before[1] + 1, before[2] + 1)


def test_company_persists_into_the_next_edition(app, fair):
    add_exhibitor(Browser(app, fair["owner"]), fair["first"])
    response = add_exhibitor(Browser(app, fair["sales"]), fair["second"],
                             company_name="shenzhen hongda furniture co.", hall="5", stand="D8", area_m2="54",
                             status="negotiating", admin_email="chen.jing.2032@hongda.example.cn")
    assert redirect_path(response) == f"/org/editions/{fair['second'].id}/exhibitors"

    assert count(Company) == 1
    first, second = (db.session.scalar(select(Exhibitor).where(Exhibitor.edition_id == fair[e].id))
                     for e in ("first", "second"))
    assert first.company_id == second.company_id
    assert second.company.name == "Shenzhen Hongda Furniture Co."  # the company keeps its name as first written
    assert (second.hall, second.stand, second.area_m2, second.status) == ("5", "D8", Decimal("54"), "negotiating")
    assert (first.hall, first.stand, first.status) == ("3", "B12", "contracted")


# --- the exhibitor portal ------------------------------------------------------------------------

def test_admin_lands_on_the_portal_and_edits_the_company_profile(app, fair):
    exhibitor, admin = admin_of(app, fair)
    browser = Browser(app)
    browser.get("/login")
    landed = browser.post("/login", data={"email": admin.email, "password": ADMIN_PASSWORD}, follow_redirects=True)
    # the portal's home (the exhibitor dashboard once the postshow module adds it)
    assert landed.status_code == 200 and landed.request.path in ("/portal", "/portal/dashboard")
    page = browser.get("/portal").get_data(as_text=True)
    assert "Shenzhen Hongda Furniture Co." in page and "3-B12" in page

    profile = {"name": "Shenzhen Hongda Furniture Co., Ltd.", "country": "hk", "website": "https://hongda.example.cn",
               "email": "sales@hongda.example.cn", "phone": "+86 755 8888 0000",
               "description": "Office furniture since 1998 / 办公家具"}
    response = browser.post("/portal", data=profile)
    assert redirect_path(response) == "/portal"
    company = db.session.get(Company, exhibitor.company_id)
    db.session.refresh(company)
    assert (company.name, company.country, company.website, company.email, company.phone, company.description) == (
        "Shenzhen Hongda Furniture Co., Ltd.", "HK", "https://hongda.example.cn", "sales@hongda.example.cn",
        "+86 755 8888 0000", "Office furniture since 1998 / 办公家具")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "company.updated"))
    assert entry.user_id == admin.id
    assert set(entry.details["fields"]) == {"name", "country", "website", "email", "phone", "description"}
    assert "Shenzhen Hongda Furniture Co., Ltd." in browser.get("/portal").get_data(as_text=True)


def test_company_profile_needs_a_valid_email(app, fair):
    exhibitor, admin = admin_of(app, fair)
    browser = signed_in(app, admin, ADMIN_PASSWORD)
    response = browser.post("/portal", data={"name": "Hongda", "email": "not-an-email"})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "email")
    db.session.refresh(exhibitor.company)
    assert exhibitor.company.name == "Shenzhen Hongda Furniture Co."


def test_renaming_the_company_to_another_companys_name_is_refused(app, fair, make):
    """Companies are matched on their name (case-insensitive) when the organizer adds an exhibitor:
    two companies of one organizer must never share a name, or the next edition picks either one."""
    exhibitor, admin = admin_of(app, fair)
    make.exhibitor(fair["first"], "Guangzhou Lighting Ltd")
    db.session.commit()
    response = signed_in(app, admin, ADMIN_PASSWORD).post("/portal", data={"name": "GUANGZHOU LIGHTING LTD"})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "name")
    db.session.refresh(exhibitor.company)
    assert exhibitor.company.name == "Shenzhen Hongda Furniture Co."


def test_admin_adds_booth_staff_who_scan_and_cannot_manage_staff(app, fair):
    exhibitor, admin = admin_of(app, fair)
    browser = signed_in(app, admin, ADMIN_PASSWORD)
    response = browser.post("/portal/staff", data={"name": "Wang Fang", "email": "Wang.Fang@hongda.example.cn",
                                                   "password": "booth-staff-77", "role": "booth_staff"})
    assert redirect_path(response) == "/portal/staff"
    staff = db.session.scalar(select(User).where(User.email == "wang.fang@hongda.example.cn"))
    assert staff.role == "booth_staff" and staff.exhibitor_id == exhibitor.id
    assert staff.organizer_id == fair["organizer"].id
    assert check_password_hash(staff.password_hash, "booth-staff-77")
    page = browser.get("/portal/staff").get_data(as_text=True)
    assert "Wang Fang" in page and "wang.fang@hongda.example.cn" in page

    booth = Browser(app)
    booth.get("/login")
    response = booth.post("/login", data={"email": "wang.fang@hongda.example.cn", "password": "booth-staff-77"})
    assert response.status_code == 302
    assert redirect_path(booth.get("/")) == "/portal/scan"  # their home is the scanner
    assert booth.get("/portal").status_code == 403  # the company profile is the admin's
    assert booth.get("/portal/scan").status_code == 200
    assert booth.get("/portal/staff").status_code == 403
    before = count(User)
    assert booth.post("/portal/staff", data={"name": "Sneaky", "email": "sneaky@hongda.example.cn",
                                             "password": "sneaky-pass-1", "role": "exhibitor_admin"}).status_code == 403
    assert count(User) == before


def test_staff_email_already_in_use_is_refused_at_the_field(app, fair):
    """Only an email the admin can see in their own staff list is refused (another organizer's or another
    exhibitor's is not even mentioned: tests/core/test_sign_in_security.py)."""
    exhibitor, admin = admin_of(app, fair)
    browser = signed_in(app, admin, ADMIN_PASSWORD)
    before = count(User)
    for email in (admin.email.upper(), admin.email):
        response = browser.post("/portal/staff", data={"name": "Dup", "email": email, "password": "booth-staff-77",
                                                       "role": "booth_staff"})
        assert response.status_code == 200, email
        assert field_errors(response.get_data(as_text=True), "email") == ["A user with this email already exists."]
        assert count(User) == before


def test_staff_of_one_exhibitor_see_only_their_own_colleagues(app, fair, make):
    exhibitor, admin = admin_of(app, fair)
    other = make.exhibitor(fair["first"], "Guangzhou Lighting Ltd")
    stranger = make.user("booth_staff", exhibitor=other, email="stranger@lighting.example.com")
    db.session.commit()
    page = signed_in(app, admin, ADMIN_PASSWORD).get("/portal/staff").get_data(as_text=True)
    assert admin.email in page
    assert stranger.email not in page


def test_organizer_cannot_open_the_portal(app, fair):
    browser = Browser(app, fair["owner"])
    assert browser.get("/portal").status_code == 403
    assert browser.get("/portal/staff").status_code == 403


def test_organizer_moves_an_exhibitor_along_the_pipeline(app, make):
    edition = make.edition()
    exhibitor = make.exhibitor(edition, "Pipeline Furniture Co.")
    exhibitor.status = "negotiating"
    sales = make.user("sales", db.session.get(Organizer, edition.organizer_id))
    db.session.commit()
    browser = Browser(app, sales)
    url = f"/org/editions/{edition.id}/exhibitors/{exhibitor.id}/status"
    assert redirect_path(browser.post(url, data={"status": "contracted"})) == f"/org/editions/{edition.id}/exhibitors"
    db.session.refresh(exhibitor)
    assert exhibitor.status == "contracted"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "exhibitor.status"))
    assert entry.details == {"from": "negotiating", "to": "contracted"} and entry.user_id == sales.id
    browser.post(url, data={"status": "sold-out"})  # not a pipeline status: refused, nothing changes
    db.session.refresh(exhibitor)
    assert exhibitor.status == "contracted"
    page = browser.get(f"/org/editions/{edition.id}/exhibitors").get_data(as_text=True)
    assert '<option value="contracted" selected>' in page
