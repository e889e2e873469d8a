"""The audit log: every sign-in, export and change of personal data leaves an entry with who, when and
what; nothing in the app edits or deletes entries; only the owner reads the log."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from expo.core.models import AuditEntry, Organizer, User
from expo.extensions import db
from expo.visitors.models import Registration

from .conftest import Browser, csrf_token

ROLES = ("owner", "manager", "sales", "onsite", "analyst", "exhibitor_admin", "booth_staff")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@pytest.fixture
def w(make):
    t = make.tenant("Audit", exhibitors=["Kettle Works"], visitors=[("Alice Anders", "alice@visitor.example")],
                    edition_name="Audit Expo 2025",
                    emails={**{role: f"{role}@audit.example" for role in ROLES[:5]},
                            "exhibitor_admin": "admin@kettle.example", "booth_staff": "booth@kettle.example"})
    w = SimpleNamespace(edition=t.edition, organizer_id=t.organizer.id, exhibitor=t.exhibitor, visitor=t.registration,
                        lead=t.lead, **t.users)
    db.session.commit()
    return w


def now():
    return datetime.now(timezone.utc)


def entries(action: str, **filters) -> list[AuditEntry]:
    db.session.expire_all()
    stmt = select(AuditEntry).where(AuditEntry.action == action).filter_by(**filters).order_by(AuditEntry.id)
    return list(db.session.scalars(stmt))


def the_entry(action: str, since: datetime, **filters) -> AuditEntry:
    """Exactly one entry of this action since ``since``, with a time between then and now."""
    found = [e for e in entries(action, **filters) if e.at >= since.replace(microsecond=0)]
    assert len(found) == 1, [(e.action, e.user_id, e.details) for e in entries(action)]
    entry = found[0]
    assert since.replace(microsecond=0) <= entry.at <= now()
    return entry


def audit_page(app, w) -> str:
    response = Browser(app, w.owner).get("/org/audit")
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- what leaves an entry ----------------------------------------------------------------------------

def test_sign_in(app, w):
    since = now()
    Browser(app, w.manager)
    entry = the_entry("user.login", since, user_id=w.manager.id)
    assert entry.organizer_id == w.organizer_id
    assert entry.ip == "127.0.0.1"
    page = audit_page(app, w)
    assert "user.login" in page and "manager@audit.example" in page


def test_failed_sign_in(app, w):
    since = now()
    browser = Browser(app)
    browser.get("/login")
    response = browser.post("/login", data={"email": "manager@audit.example", "password": "wrong-password-1"})
    assert response.status_code == 200  # the form again, with the error
    entry = the_entry("user.login_failed", since)
    assert entry.details["email"] == "manager@audit.example"
    assert entry.user_id is None  # nobody signed in
    assert entry.ip == "127.0.0.1"
    assert not entries("user.login", user_id=w.manager.id)

    unknown = browser.post("/login", data={"email": "nobody@nowhere.example", "password": "wrong-password-1"})
    assert unknown.status_code == 200
    assert any(e.details.get("email") == "nobody@nowhere.example" for e in entries("user.login_failed"))


def test_failed_sign_in_to_an_account_is_in_its_organizers_log(app, w):
    """The owner must see failed attempts on their staff's accounts (guessing, a locked-out colleague);
    an entry without organizer is in no organizer's log at all."""
    browser = Browser(app)
    browser.get("/login")
    browser.post("/login", data={"email": "manager@audit.example", "password": "wrong-password-1"})
    entry = entries("user.login_failed")[-1]
    assert entry.organizer_id == w.organizer_id
    page = audit_page(app, w)
    assert "user.login_failed" in page and "manager@audit.example" in page


def test_sign_out(app, w):
    browser = Browser(app, w.sales)
    since = now()
    response = browser.post("/logout")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    entry = the_entry("user.logout", since, user_id=w.sales.id)
    assert entry.organizer_id == w.organizer_id
    assert browser.get("/profile").status_code == 302  # really signed out
    assert "user.logout" in audit_page(app, w)


def test_lead_export(app, w):
    browser = Browser(app, w.exhibitor_admin)
    since = now()
    response = browser.get("/portal/leads.csv")
    assert response.status_code == 200 and "Alice Anders" in response.get_data(as_text=True)
    entry = the_entry("leads.exported", since, user_id=w.exhibitor_admin.id)
    assert entry.organizer_id == w.organizer_id
    assert entry.details == {"exhibitor_id": w.exhibitor.id, "rows": 1, "format": "csv"}
    page = audit_page(app, w)
    assert "leads.exported" in page and "admin@kettle.example" in page


def test_registration_created(app, w):
    browser = Browser(app)
    since = now()
    token = csrf_token(browser.client, "/login")
    response = browser.client.post(f"/e/{w.edition.slug}", data={
        "csrf_token": token, "name": "王小明", "email": "xiaoming@example.cn", "phone": "+86 138 0000 1111",
        "company": "深圳宏达家具有限公司", "job_title": "采购经理", "country": "CN", "category": "buyer",
        "consent": "y", "share_with_exhibitors": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    registration = db.session.scalar(select(Registration).join(Registration.person)
                                     .where(Registration.edition_id == w.edition.id)
                                     .order_by(Registration.id.desc()).limit(1))
    assert registration.person.name == "王小明"
    entry = the_entry("registration.created", since, object_id=registration.id)
    assert entry.object_type == "registrations"
    assert entry.organizer_id == w.organizer_id
    assert entry.user_id is None  # the visitor registered themselves
    assert entry.details["source"] == "online"
    assert entry.details["consent_version"] == w.edition.consent_version
    assert entry.details["person_id"] == registration.person_id
    assert "registration.created" in audit_page(app, w)


def test_company_profile_edit(app, w):
    browser = Browser(app, w.exhibitor_admin)
    since = now()
    response = browser.post("/portal", data={"name": "Kettle Works", "website": "https://kettle.example",
                                              "description": "Kettles since 1999", "country": "", "email": "",
                                              "phone": ""})
    assert response.status_code == 302, response.get_data(as_text=True)
    entry = the_entry("company.updated", since, user_id=w.exhibitor_admin.id)
    assert (entry.object_type, entry.object_id) == ("companies", w.exhibitor.company_id)
    assert {"website", "description"} <= set(entry.details["fields"])
    assert "name" not in entry.details["fields"]
    assert "company.updated" in audit_page(app, w)


def test_staff_added(app, w):
    browser = Browser(app, w.exhibitor_admin)
    since = now()
    response = browser.post("/portal/staff", data={"name": "New Booth", "email": "new.booth@kettle.example",
                                                    "password": "long-enough-1", "role": "booth_staff"})
    assert response.status_code == 302, response.get_data(as_text=True)
    new = db.session.scalar(select(User).where(User.email == "new.booth@kettle.example"))
    entry = the_entry("user.created", since, object_id=new.id)
    assert entry.object_type == "users"
    assert entry.user_id == w.exhibitor_admin.id  # who added them
    assert entry.details == {"email": "new.booth@kettle.example", "role": "booth_staff",
                             "exhibitor_id": w.exhibitor.id}
    page = audit_page(app, w)
    assert "user.created" in page and "new.booth@kettle.example" in page


def test_lead_rating_change(app, w):
    browser = Browser(app, w.booth_staff)
    since = now()
    response = browser.post(f"/portal/leads/{w.lead.id}", data={"rating": "hot", "notes": "wants 200 kettles"})
    assert response.status_code == 302, response.get_data(as_text=True)
    entry = the_entry("lead.updated", since, user_id=w.booth_staff.id)
    assert (entry.object_type, entry.object_id) == ("leads", w.lead.id)
    assert entry.details["rating"] == "hot"
    assert entry.organizer_id == w.organizer_id
    assert "lead.updated" in audit_page(app, w)


def test_api_token_created(app, w):
    browser = Browser(app, w.onsite)
    since = now()
    response = browser.post("/profile", data={"name": "gate 3 scanner"})
    assert response.status_code == 200 and 'id="new-token"' in response.get_data(as_text=True)
    entry = the_entry("api_token.created", since, user_id=w.onsite.id)
    assert entry.object_type == "api_tokens"
    assert entry.organizer_id == w.organizer_id
    page = audit_page(app, w)
    assert "api_token.created" in page and "onsite@audit.example" in page
    # the clear token is never written to the log
    clear = response.get_data(as_text=True).split('id="new-token">')[1].split("<")[0]
    assert clear and clear not in str(entry.details) and clear not in page


# --- append-only -------------------------------------------------------------------------------------

def test_no_route_changes_or_deletes_audit_entries(app):
    rules = [rule for rule in app.url_map.iter_rules() if "audit" in rule.rule or "audit" in rule.endpoint]
    assert rules, "the audit page itself must exist"
    for rule in rules:
        assert not rule.methods & WRITE_METHODS, f"{rule.rule} accepts {rule.methods & WRITE_METHODS}"


@pytest.mark.parametrize("method", sorted(WRITE_METHODS))
def test_audit_page_refuses_writes(app, w, method):
    browser = Browser(app, w.owner)
    token = csrf_token(browser.client, "/login")
    count = db.session.query(AuditEntry).count()
    response = browser.client.open("/org/audit", method=method, data={"csrf_token": token},
                                   headers={"X-CSRFToken": token})
    assert response.status_code == 405
    db.session.expire_all()
    assert db.session.query(AuditEntry).count() == count


# --- who reads it --------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ("anonymous",) + ROLES)
def test_only_the_owner_reads_the_audit_log(app, w, role):
    browser = Browser(app, getattr(w, role) if role != "anonymous" else None)
    response = browser.get("/org/audit")
    if role == "owner":
        assert response.status_code == 200
        assert "user.login" in response.get_data(as_text=True)
    elif role == "anonymous":
        assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"
    else:
        assert response.status_code == 403
        assert "user.login" not in response.get_data(as_text=True)
    if role != "anonymous":
        home = browser.get("/profile").get_data(as_text=True)
        assert ('href="/org/audit"' in home) == (role == "owner")


def test_owner_reads_only_the_own_organizers_entries(app, w, make):
    other = make.edition(name="Other Expo 2025")
    other_owner = make.user("owner", db.session.get(Organizer, other.organizer_id), email="owner@other.example")
    make.registration(other, name="Other Visitor", email="other.visitor@other.example")
    db.session.commit()
    Browser(app, other_owner)  # a sign-in in the other organizer's log
    page = audit_page(app, w)
    assert "owner@other.example" not in page
    assert "other.visitor@other.example" not in page
    other_page = Browser(app, other_owner).get("/org/audit").get_data(as_text=True)
    assert "owner@audit.example" not in other_page and "admin@kettle.example" not in other_page
    assert "owner@other.example" in other_page
