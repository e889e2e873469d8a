"""The audit log: every sign-in, export and change of personal data leaves an entry with who, when and
what; nothing in the app edits or deletes entries; only the owner reads the log."""
from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

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


def test_failed_sign_in_to_an_email_with_accounts_at_two_organizers_is_in_both_logs(app, w, make):
    other = make.organizer("Other Organizer")
    twin = make.user("manager", other, email="manager@audit.example")  # one person, an account at each
    db.session.commit()
    browser = Browser(app)
    browser.get("/login")
    browser.post("/login", data={"email": "Manager@Audit.example", "password": "wrong-password-1"})
    found = {(e.organizer_id, e.object_type, e.object_id) for e in entries("user.login_failed")}
    assert found == {(w.organizer_id, "users", w.manager.id), (other.id, "users", twin.id)}


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


# --- looking at contact details, and every export ----------------------------------------------------

def assert_no_contact_data(entry, *texts):
    """An entry names records by id: none of the visitor's contact data is copied into the log."""
    stored = str(entry.details)
    for text_ in texts:
        assert text_ not in stored, (text_, entry.details)


def test_the_registration_desk_page_records_who_saw_the_contact_details(app, w):
    since = now()
    url = f"/org/editions/{w.edition.id}/registrations/{w.visitor.id}"
    page = Browser(app, w.onsite).get(url).get_data(as_text=True)
    assert "alice@visitor.example" in page  # the page shows the contact details …
    entry = the_entry("contact.viewed", since, user_id=w.onsite.id)  # … and the log says who saw them
    assert (entry.object_type, entry.object_id, entry.organizer_id) == ("registrations", w.visitor.id, w.organizer_id)
    assert_no_contact_data(entry, "alice@visitor.example", "Alice")
    owner_page = Browser(app, w.owner).get(f"/org/audit?object=registrations:{w.visitor.id}").get_data(as_text=True)
    assert "Contact details viewed" in owner_page and "onsite@audit.example" in owner_page


def test_the_registrations_list_records_a_page_of_contact_details(app, w):
    since = now()
    page = Browser(app, w.manager).get(f"/org/editions/{w.edition.id}/registrations?q=alice").get_data(as_text=True)
    assert "alice@visitor.example" in page
    entry = the_entry("contact.viewed", since, user_id=w.manager.id)
    assert (entry.object_type, entry.object_id) == ("editions", w.edition.id)
    assert entry.details == {"rows": 1, "page": 1, "search": True}  # that a search was made, not its text
    assert_no_contact_data(entry, "alice")


def test_the_duplicates_list_records_a_page_of_contact_details(app, w):
    since = now()
    assert Browser(app, w.manager).get("/org/duplicates").status_code == 200
    entry = the_entry("contact.viewed", since, user_id=w.manager.id)
    assert entry.object_type == "persons" and entry.details["page"] == 1


def test_the_outbox_records_a_page_of_recipients(app, w):
    """The outbox shows every recipient's address (and the mails' text): a page of it is a look at contact data."""
    since = now()
    assert Browser(app, w.manager).get("/org/outbox").status_code == 200
    entry = the_entry("contact.viewed", since, user_id=w.manager.id)
    assert entry.object_type == "mail_messages" and entry.details["page"] == 1
    assert "Outbox" in audit_page(app, w)


def test_a_lead_page_records_who_saw_the_visitors_contact_details(app, w):
    since = now()
    page = Browser(app, w.booth_staff).get(f"/portal/leads/{w.lead.id}").get_data(as_text=True)
    assert "alice@visitor.example" in page
    entry = the_entry("contact.viewed", since, user_id=w.booth_staff.id)
    assert (entry.object_type, entry.object_id, entry.organizer_id) == ("leads", w.lead.id, w.organizer_id)
    assert_no_contact_data(entry, "alice@visitor.example")
    assert "Contact details viewed" in audit_page(app, w)


def test_a_refused_lead_page_records_nothing(app, w, make):
    """Only a page that was shown counts: another exhibitor's lead is a 404 and no entry."""
    other = make.exhibitor(w.edition, "Other Stand")
    other_admin = make.user("exhibitor_admin", exhibitor=other, email="admin@other-stand.example")
    db.session.commit()
    since = now()
    assert Browser(app, other_admin).get(f"/portal/leads/{w.lead.id}").status_code == 404
    assert not [e for e in entries("contact.viewed") if e.at >= since.replace(microsecond=0)]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_registrations_export_records_who_what_filters_format_and_rows(app, w, fmt):
    since = now()
    response = Browser(app, w.manager).get(
        f"/org/editions/{w.edition.id}/registrations.{fmt}?q=alice%40visitor.example&category=buyer")
    assert response.status_code == 200
    entry = the_entry("registrations.exported", since, user_id=w.manager.id)
    assert (entry.object_type, entry.object_id) == ("editions", w.edition.id)
    assert entry.details == {"rows": 1, "format": fmt, "filters": {"search": True, "category": ["buyer"]}}
    assert_no_contact_data(entry, "alice")
    assert "Registrations exported" in audit_page(app, w)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_leads_export_records_who_format_and_rows(app, w, fmt):
    since = now()
    assert Browser(app, w.exhibitor_admin).get(f"/portal/leads.{fmt}").status_code == 200
    entry = the_entry("leads.exported", since, user_id=w.exhibitor_admin.id)
    assert entry.details == {"exhibitor_id": w.exhibitor.id, "rows": 1, "format": fmt}


# --- the instance's own entries: failed sign-ins with an email no account has ---------------------------

def cli(app, *args) -> str:
    from expo.cli import main

    result = app.test_cli_runner().invoke(main, ["audit", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_failed_sign_ins_with_unknown_emails_are_listed_for_whoever_runs_the_instance(app, w):
    """Nobody's organizer log holds them: ``expo audit`` (a shell on the server) shows them, with the email
    tried, the address and the time."""
    browser = Browser(app)
    browser.get("/login")
    for email in ("nobody@nowhere.example", "admin@guess.example", "admin@guess.example"):
        assert browser.post("/login", data={"email": email, "password": "wrong-password-1"}).status_code == 200
    browser.post("/login", data={"email": "manager@audit.example", "password": "wrong-password-1"})  # a known one
    unknown = [e for e in entries("user.login_failed") if e.organizer_id is None]
    assert len(unknown) == 3

    output = cli(app)
    lines = output.splitlines()
    assert lines[0].split() == ["Time", "(UTC)", "Action", "User", "IP", "Object", "Details"]
    assert len(lines) == 1 + 3  # the instance's entries only: not the organizer's
    assert all("user.login_failed" in line and "127.0.0.1" in line for line in lines[1:])
    assert "Email: admin@guess.example" in lines[1] and "Email: nobody@nowhere.example" in lines[3]  # newest first
    assert unknown[-1].at.strftime("%Y-%m-%d %H:%M:%S") in lines[1]
    assert "manager@audit.example" not in output

    assert len(cli(app, "--email", "ADMIN@guess.example").splitlines()) == 1 + 2
    assert len(cli(app, "--failed-sign-ins", "--ip", "127.0.0.1", "--limit", "1").splitlines()) == 1 + 1
    assert cli(app, "--ip", "198.51.100.7").strip() == "No entries."
    assert cli(app, "--since", "2000-01-01", "--until", "2000-01-02").strip() == "No entries."

    # one organizer's log, for the same person
    organizer = cli(app, "--organizer", str(w.organizer_id), "--failed-sign-ins")
    assert "manager@audit.example" in organizer and "nobody@nowhere.example" not in organizer

    # and still in no organizer's page
    assert "nobody@nowhere.example" not in audit_page(app, w)


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


def _one_entry(w) -> AuditEntry:
    return entries("user.created")[0]


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET action = 'user.nothing', details = '{}' WHERE id = :id",
    "UPDATE audit_entries SET organizer_id = NULL WHERE id = :id",
    "DELETE FROM audit_entries WHERE id = :id",
    "DELETE FROM audit_entries",
])
def test_the_database_refuses_to_change_or_delete_an_entry(app, w, statement):
    """Append-only in the database itself: a statement typed in a database shell, or a bug in the app,
    cannot rewrite history. The row stays as it was."""
    entry = _one_entry(w)
    before = (entry.id, entry.action, entry.organizer_id, entry.details, entry.at)
    total = db.session.query(AuditEntry).count()
    with pytest.raises(IntegrityError, match="append-only"):
        db.session.execute(text(statement), {"id": entry.id})
    db.session.rollback()
    entry = db.session.get(AuditEntry, before[0])
    assert (entry.id, entry.action, entry.organizer_id, entry.details, entry.at) == before
    assert db.session.query(AuditEntry).count() == total


def test_the_orm_cannot_change_or_delete_an_entry_either(app, w):
    entry = _one_entry(w)
    email = entry.details["email"]
    entry.details = {"email": "someone.else@example.com"}
    with pytest.raises(IntegrityError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(IntegrityError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).details["email"] == email


def test_truncate_is_refused_on_postgresql(app, w):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE; its DELETE without WHERE is refused above")
    with pytest.raises(IntegrityError, match="append-only"):
        db.session.execute(text("TRUNCATE audit_entries"))
    db.session.rollback()
    assert db.session.query(AuditEntry).count() > 0


def test_appending_still_works(app, w):
    total = db.session.query(AuditEntry).count()
    Browser(app, w.manager)
    db.session.expire_all()
    assert db.session.query(AuditEntry).count() == total + 1


def test_the_triggers_come_from_the_migration_and_go_with_its_downgrade(app, tmp_path):
    """Migration 0006 creates the guard; its downgrade drops it (and an upgrade brings it back)."""
    from flask_migrate import downgrade, upgrade

    from expo import create_app

    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite'}",
                        "INSTANCE_DIR": tmp_path / "instance", "SECRET_KEY": "test-secret", "SMTP_URL": None})

    def triggers():
        with db.engine.connect() as conn:
            return set(conn.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                                         "AND tbl_name = 'audit_entries'")))

    try:
        with fresh.app_context():
            upgrade()
            assert triggers() == {"audit_entries_no_update", "audit_entries_no_delete"}
            downgrade(revision="0005")
            assert triggers() == set()
            upgrade()
            assert triggers() == {"audit_entries_no_update", "audit_entries_no_delete"}
            db.engine.dispose()
    finally:
        app.extensions["celery"].set_current()
        app.extensions["celery"].set_default()


def test_a_schema_made_by_create_all_is_guarded_too(tmp_path):
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'create_all.sqlite'}")
    AuditEntry.__table__.metadata.create_all(engine, tables=[AuditEntry.__table__.metadata.tables["organizers"],
                                                             AuditEntry.__table__.metadata.tables["users"],
                                                             AuditEntry.__table__])
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_entries (action, at, details) VALUES ('x.y', '2026-01-01', '{}')"))
    with pytest.raises(IntegrityError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_entries"))
    engine.dispose()


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
