"""Tenant and exhibitor isolation: nobody sees rows of another organizer, exhibitor or visitor.

The world: organizers A and B, each with a live edition. Edition A has two exhibitors (E1, E2), each
with an exhibitor admin and a booth staff member; edition B has one exhibitor. Visitors are
registered on both sides (one email address on both sides, as two separate people) and leads are
captured on both sides.
"""
from __future__ import annotations

import csv
import io
import uuid
from types import SimpleNamespace

import pytest

from expo.core import services as core
from expo.core.models import Category, Edition, User
from expo.core.scoping import Scope
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.leads import services as leads_services
from expo.leads.models import Lead
from expo.onsite import services as onsite
from expo.onsite.models import Scan
from expo.visitors import services as visitor_services

from .conftest import Browser


def lead_scan(user, registration) -> Lead:
    outcome = onsite.record_scan(user, code=visitor_services.badge_code(registration), kind="lead",
                                 client_scan_id=str(uuid.uuid4()))
    assert outcome.result == "ok"
    return outcome.lead


@pytest.fixture
def w(make):
    """The two-organizer world (make.tenant); every object is reachable as an attribute."""
    ta = make.tenant("A", organizer_name="Alpha Events", edition_name="Alpha Expo 2025", leads=False,
                     exhibitors=["Kettle Works", "Lamp House"],
                     visitors=[("Alice Anders", "alice@visitor-a.example"), ("Arthur Amsel", "arthur@visitor-a.example"),
                               ("Anna Abel", "anna@visitor-a.example"), ("Anton Shared", "shared@example.com")],
                     emails={**{role: f"{role}@alpha.example" for role in ("owner", "manager", "sales", "onsite",
                                                                           "analyst")},
                             "exhibitor_admin": "admin@kettle.example", "booth_staff": "booth@kettle.example",
                             "exhibitor_admin2": "admin@lamp.example", "booth_staff2": "booth@lamp.example"})
    a = SimpleNamespace(organizer=ta.organizer, edition=ta.edition, show=ta.show, **ta.users)
    (a.e1, a.e1_admin, a.e1_booth), (a.e2, a.e2_admin, a.e2_booth) = ta.exhibitors
    a.alice, a.arthur, a.anna, a.anton = ta.registrations
    # Leads: E1's booth staff caught Alice, E1's admin caught Arthur; E2 caught Anna and Alice.
    a.l1 = lead_scan(a.e1_booth, a.alice)
    a.l2 = lead_scan(a.e1_admin, a.arthur)
    a.l3 = lead_scan(a.e2_booth, a.anna)
    a.l4 = lead_scan(a.e2_admin, a.alice)
    leads_services.update_lead(a.l4, rating="hot", notes="E2-confidential-note", actor_id=a.e2_admin.id)

    tb = make.tenant("B", organizer_name="Beta Fairs", edition_name="Beta Fair 2025", roles=("owner",),
                     exhibitors=["Bolt Corp"], leads=False,
                     visitors=[("Bernd Berger", "bernd@visitor-b.example"), ("Bettina Shared", "shared@example.com")],
                     emails={"owner": "owner@beta.example", "exhibitor_admin": "admin@bolt.example"})
    b = SimpleNamespace(organizer=tb.organizer, edition=tb.edition, show=tb.show, owner=tb.users["owner"],
                        exhibitor=tb.exhibitor, admin=tb.users["exhibitor_admin"])
    b.bernd, b.bettina = tb.registrations
    core.add_category(Scope(b.organizer.id), b.show, "Beta Secret Category")
    b.lead = lead_scan(b.admin, b.bernd)
    core.queue_mail(b.organizer.id, "bernd@visitor-b.example", "Beta confidential subject", "body")
    db.session.commit()
    return SimpleNamespace(a=a, b=b)


B_SECRETS = ("Beta Fairs", "Beta Fair 2025", "Bolt Corp", "Bernd Berger", "bernd@visitor-b.example",
             "Bettina Shared", "Beta Secret Category", "Beta confidential subject")


def assert_no_b_data(response):
    body = response.get_data(as_text=True)
    leaked = [secret for secret in B_SECRETS if secret in body]
    assert not leaked, f"organizer B's data in the answer: {leaked}"


# --- organizer A's staff on organizer B's URLs -----------------------------------------------------

ORG_URLS = {
    "edition": "/org/editions/{edition}",
    "registrations": "/org/editions/{edition}/registrations",
    "exhibitors": "/org/editions/{edition}/exhibitors",
    "checkin": "/org/editions/{edition}/checkin",
    "report": "/org/editions/{edition}/report",
    "show": "/org/shows/{show}",
    "new_edition": "/org/shows/{show}/editions/new",
}


@pytest.mark.parametrize("role", ["owner", "manager", "sales", "onsite", "analyst"])
@pytest.mark.parametrize("page", list(ORG_URLS))
def test_organizer_staff_get_404_on_another_organizers_urls(app, w, page, role):
    browser = Browser(app, getattr(w.a, role))
    own = browser.get(ORG_URLS[page].format(edition=w.a.edition.id, show=w.a.show.id))
    foreign = browser.get(ORG_URLS[page].format(edition=w.b.edition.id, show=w.b.show.id))
    assert_no_b_data(own)
    assert_no_b_data(foreign)
    if own.status_code == 200 or "{edition}" in ORG_URLS[page]:
        # The edition is loaded (in the user's scope) before anyone is authorised: another organizer's
        # edition is not there, whatever the role — not 403, not the page.
        assert foreign.status_code == 404
    else:
        # A role refused on its own pages gets the very same refusal, whatever the id: nothing to learn.
        assert own.status_code == 403
        assert foreign.status_code == 403


def test_at_least_one_role_reaches_every_page(app, w):
    """The 404 above is only meaningful if someone gets the page on their own organizer."""
    reached = set()
    for role in ("owner", "manager", "sales", "onsite", "analyst"):
        browser = Browser(app, getattr(w.a, role))
        for page, url in ORG_URLS.items():
            if browser.get(url.format(edition=w.a.edition.id, show=w.a.show.id)).status_code == 200:
                reached.add(page)
    assert reached == set(ORG_URLS)


def test_nonexistent_and_foreign_ids_look_the_same(app, w):
    browser = Browser(app, w.a.owner)
    missing = browser.get("/org/editions/987654")
    foreign = browser.get(f"/org/editions/{w.b.edition.id}")
    assert missing.status_code == foreign.status_code == 404
    assert missing.get_data(as_text=True).replace("987654", "ID") == \
        foreign.get_data(as_text=True).replace(f"/org/editions/{w.b.edition.id}", "/org/editions/ID")


def test_organizer_cannot_change_another_organizers_rows(app, w):
    browser = Browser(app, w.a.owner)
    edition_b, show_b = w.b.edition.id, w.b.show.id
    code_b = visitor_services.badge_code(w.b.bernd)
    scans_before = db.session.query(Scan).count()

    assert browser.post(f"/org/editions/{edition_b}", data={"status": "closed"}).status_code == 404
    assert browser.post(f"/org/editions/{edition_b}/checkin",
                        data={"code": code_b, "client_scan_id": str(uuid.uuid4())}).status_code == 404
    assert browser.post(f"/org/editions/{edition_b}/exhibitors", data={
        "company_name": "Intruder Ltd", "status": "contracted", "admin_name": "Intruder",
        "admin_email": "intruder@alpha.example", "admin_password": "long-enough-1"}).status_code == 404
    assert browser.post(f"/org/shows/{show_b}", data={"name": "Intruder category", "parent_id": "0"}).status_code == 404
    assert browser.post(f"/org/shows/{show_b}/editions/new", data={
        "name": "Intruder edition", "starts_on": "2030-01-01", "ends_on": "2030-01-02",
        "timezone": "UTC"}).status_code == 404

    db.session.expire_all()
    assert db.session.get(Edition, edition_b).status == "live"
    assert db.session.query(Scan).count() == scans_before
    assert db.session.query(Exhibitor).filter_by(edition_id=edition_b).count() == 1
    assert db.session.query(User).filter_by(email="intruder@alpha.example").count() == 0
    assert db.session.query(Category).filter_by(show_id=show_b).count() == 1
    assert db.session.query(Edition).filter_by(show_id=show_b).count() == 1


def test_dashboard_and_outbox_show_only_the_own_organizer(app, w):
    browser = Browser(app, w.a.owner)
    dashboard = browser.get("/org")
    assert dashboard.status_code == 200 and "Alpha Expo 2025" in dashboard.get_data(as_text=True)
    assert_no_b_data(dashboard)
    outbox = browser.get("/org/outbox")
    assert outbox.status_code == 200
    assert_no_b_data(outbox)


# --- the organizer's registrations list ---------------------------------------------------------------

def test_registrations_list_shows_only_the_own_organizers_people(app, w):
    browser = Browser(app, w.a.manager)
    page = browser.get(f"/org/editions/{w.a.edition.id}/registrations")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    for name in ("Alice Anders", "Arthur Amsel", "Anna Abel", "Anton Shared"):
        assert name in body
    assert_no_b_data(page)
    # The same email address registered with both organizers is two people: A sees only its own.
    found = browser.get(f"/org/editions/{w.a.edition.id}/registrations", query_string={"q": "shared@example.com"})
    assert "Anton Shared" in found.get_data(as_text=True)
    assert_no_b_data(found)
    nothing = browser.get(f"/org/editions/{w.a.edition.id}/registrations", query_string={"q": "bernd"})
    assert nothing.status_code == 200
    assert_no_b_data(nothing)
    assert "Alice Anders" not in nothing.get_data(as_text=True)


def test_analyst_reads_the_report_but_not_the_registrations(app, w):
    browser = Browser(app, w.a.analyst)
    report = browser.get(f"/org/editions/{w.a.edition.id}/report")
    assert report.status_code == 200
    body = report.get_data(as_text=True)
    assert "Kettle Works" in body  # leads per exhibitor
    for contact in ("Alice Anders", "alice@visitor-a.example", "Arthur Amsel", "E2-confidential-note"):
        assert contact not in body
    assert_no_b_data(report)
    assert browser.get(f"/org/editions/{w.a.edition.id}/registrations").status_code == 403
    edition_page = browser.get(f"/org/editions/{w.a.edition.id}").get_data(as_text=True)
    assert f"/org/editions/{w.a.edition.id}/registrations" not in edition_page


def test_report_counts_only_the_own_organizer(app, w):
    browser = Browser(app, w.a.owner)
    body = browser.get(f"/org/editions/{w.a.edition.id}/report").get_data(as_text=True)
    assert 'id="fig-registrations">4<' in body
    assert_no_b_data(browser.get(f"/org/editions/{w.a.edition.id}/report"))


# --- exhibitors and their staff ------------------------------------------------------------------------

def test_exhibitor_admin_sees_all_own_leads_and_none_of_another_exhibitor(app, w):
    browser = Browser(app, w.a.e1_admin)
    page = browser.get("/portal/leads")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Alice Anders" in body and "Arthur Amsel" in body
    assert "Anna Abel" not in body
    assert "E2-confidential-note" not in body
    assert "Lamp House" not in body
    assert_no_b_data(page)
    assert browser.get(f"/portal/leads/{w.a.l1.id}").status_code == 200
    assert browser.get(f"/portal/leads/{w.a.l2.id}").status_code == 200


@pytest.mark.parametrize("who", ["e1_admin", "e1_booth"])
def test_another_exhibitors_lead_is_404(app, w, who):
    browser = Browser(app, getattr(w.a, who))
    for lead in (w.a.l3, w.a.l4, w.b.lead):
        response = browser.get(f"/portal/leads/{lead.id}")
        assert response.status_code == 404
        body = response.get_data(as_text=True)
        assert "Anna Abel" not in body and "E2-confidential-note" not in body
        assert_no_b_data(response)
    # nor can it be changed
    assert browser.post(f"/portal/leads/{w.a.l4.id}", data={"rating": "cold", "notes": "overwritten"}).status_code == 404
    db.session.expire_all()
    l4 = db.session.get(Lead, w.a.l4.id)
    assert (l4.rating, l4.notes) == ("hot", "E2-confidential-note")


def test_lead_export_holds_only_the_own_exhibitors_leads(app, w):
    browser = Browser(app, w.a.e1_admin)
    response = browser.get("/portal/leads.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert sorted(row["Name"] for row in rows) == ["Alice Anders", "Arthur Amsel"]
    assert all(row["Notes"] != "E2-confidential-note" and row["Rating"] != "Hot" for row in rows)
    text = response.get_data(as_text=True)
    assert "Anna Abel" not in text and "anna@visitor-a.example" not in text
    assert_no_b_data(response)


def test_staff_page_lists_only_the_own_exhibitors_staff(app, w):
    browser = Browser(app, w.a.e1_admin)
    page = browser.get("/portal/staff")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "admin@kettle.example" in body and "booth@kettle.example" in body
    for other in ("admin@lamp.example", "booth@lamp.example", "admin@bolt.example", "owner@alpha.example",
                  "owner@beta.example"):
        assert other not in body
    assert_no_b_data(page)


def test_booth_staff_see_only_their_own_captures(app, w):
    browser = Browser(app, w.a.e1_booth)
    body = browser.get("/portal/leads").get_data(as_text=True)
    assert "Alice Anders" in body  # caught by this booth staff member
    assert "Arthur Amsel" not in body  # caught by the exhibitor admin
    assert "Anna Abel" not in body
    assert browser.get(f"/portal/leads/{w.a.l1.id}").status_code == 200
    assert browser.get(f"/portal/leads/{w.a.l2.id}").status_code == 404
    assert browser.post(f"/portal/leads/{w.a.l2.id}", data={"rating": "cold"}).status_code == 404
    assert browser.get("/portal/leads.csv").status_code == 403
    assert browser.get("/portal/staff").status_code == 403

    other_booth = Browser(app, w.a.e2_booth)
    body = other_booth.get("/portal/leads").get_data(as_text=True)
    assert "Anna Abel" in body
    assert "Alice Anders" not in body  # E2 has a lead on Alice, but its admin caught it


# --- visitors ----------------------------------------------------------------------------------------

def test_visitor_page_shows_only_the_own_registration(app, w):
    browser = Browser(app)
    page = browser.get(f"/r/{w.a.alice.access_key}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Alice Anders" in body
    assert visitor_services.badge_code(w.a.alice) in body
    for other in ("Arthur Amsel", "Anna Abel", "Anton Shared", visitor_services.badge_code(w.a.arthur)):
        assert other not in body
    assert_no_b_data(page)
    assert browser.get(f"/r/{w.a.alice.access_key}/badge.png").status_code == 200
    assert browser.get(f"/r/{w.a.alice.access_key}/badge.pdf").status_code == 200


@pytest.mark.parametrize("key", ["made-up-key", "x" * 43, "x" * 200, "0b6f4c8e-6d0c-4f0e-9a57-3f1d2c7e8a90"])
@pytest.mark.parametrize("suffix", ["", "/badge.png", "/badge.pdf"])
def test_made_up_visitor_key_is_404(app, w, key, suffix):
    response = Browser(app).get(f"/r/{key}{suffix}")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Alice Anders" not in body
    assert_no_b_data(response)


def test_visitor_key_is_not_an_id(app, w):
    """Neither the registration's number nor a prefix of somebody's key opens a registration."""
    browser = Browser(app)
    assert browser.get(f"/r/{w.a.alice.id}").status_code == 404
    assert browser.get(f"/r/{w.a.alice.access_key[:20]}").status_code == 404


# --- the scan API ------------------------------------------------------------------------------------

def test_scan_api_refuses_another_organizers_badge_without_leaking(app, w):
    _token, clear = core.create_api_token(w.a.e1_booth, "scanner")
    db.session.commit()
    leads_before = db.session.query(Lead).count()
    code_b = visitor_services.badge_code(w.b.bernd)
    client_scan_id = str(uuid.uuid4())
    response = Browser(app).api("/api/v1/scans", {"code": code_b, "kind": "lead", "client_scan_id": client_scan_id},
                                clear)
    assert response.status_code == 200
    answer = response.get_json()
    assert (answer["result"], answer["reason"]) == ("refused", "other_edition")
    assert answer["visitor"] is None and answer["lead_id"] is None
    assert_no_b_data(response)
    assert "Beta" not in response.get_data(as_text=True) and "bernd" not in response.get_data(as_text=True).lower()
    assert str(w.b.bernd.id) not in {str(v) for v in answer.values()}

    scan = db.session.query(Scan).filter_by(client_scan_id=client_scan_id).one()
    assert scan.organizer_id == w.a.organizer.id
    assert scan.edition_id == w.a.edition.id
    assert scan.exhibitor_id == w.a.e1.id and scan.user_id == w.a.e1_booth.id
    assert (scan.kind, scan.result, scan.reason) == ("lead", "refused", "other_edition")
    assert scan.raw_code == code_b
    assert scan.registration_id is None and scan.lead_id is None
    assert db.session.query(Lead).count() == leads_before


def test_check_in_refuses_another_organizers_badge(app, w):
    _token, clear = core.create_api_token(w.a.onsite, "gate")
    db.session.commit()
    response = Browser(app).api("/api/v1/scans", {"code": visitor_services.badge_code(w.b.bernd), "kind": "checkin",
                                                  "client_scan_id": str(uuid.uuid4())}, clear)
    assert response.status_code == 200
    assert (response.json["result"], response.json["reason"], response.json["visitor"]) == (
        "refused", "other_edition", None)
    assert_no_b_data(response)
    # Naming the other organizer's edition explicitly does not help either.
    response = Browser(app).api("/api/v1/scans", {"code": visitor_services.badge_code(w.b.bernd), "kind": "checkin",
                                                  "edition_id": w.b.edition.id,
                                                  "client_scan_id": str(uuid.uuid4())}, clear)
    assert response.status_code == 400
    assert_no_b_data(response)
    assert db.session.query(Scan).filter_by(edition_id=w.b.edition.id, kind="checkin").count() == 0


def test_reused_client_scan_id_does_not_reveal_another_exhibitors_scan(app, w):
    """client_scan_id makes a retry idempotent; it must not hand one exhibitor another exhibitor's scan.

    Scanner apps choose these ids themselves (the API takes any string of 1 to 64 characters), so two
    exhibitors' devices can send the same one, e.g. a per-device counter."""
    _t1, e1_token = core.create_api_token(w.a.e1_booth, "scanner")
    _t2, e2_token = core.create_api_token(w.a.e2_booth, "scanner")
    db.session.commit()
    first = Browser(app).api("/api/v1/scans", {"code": visitor_services.badge_code(w.a.arthur), "kind": "lead",
                                               "client_scan_id": "scan-1"}, e1_token)
    assert first.status_code == 200 and first.json["visitor"]["name"] == "Arthur Amsel"
    e1_lead_id = first.json["lead_id"]

    second = Browser(app).api("/api/v1/scans", {"code": visitor_services.badge_code(w.a.anna), "kind": "lead",
                                                "client_scan_id": "scan-1"}, e2_token)
    text = second.get_data(as_text=True)
    assert "Arthur Amsel" not in text and "arthur@visitor-a.example" not in text, (
        "exhibitor 2 received exhibitor 1's visitor through a reused client_scan_id")
    assert second.status_code == 200, text
    assert second.json["lead_id"] != e1_lead_id
    assert second.json["visitor"]["name"] == "Anna Abel"
    assert db.session.get(Lead, second.json["lead_id"]).exhibitor_id == w.a.e2.id
    assert db.session.query(Scan).filter_by(client_scan_id="scan-1").count() == 2  # both scans are facts


def test_api_tokens_are_personal(app, w):
    """Nobody, not even a colleague of the same organizer, sees or revokes another user's token."""
    token, clear = core.create_api_token(w.a.e1_booth, "booth phone")
    db.session.commit()
    for who in (w.a.e1_admin, w.a.owner, w.b.owner):
        browser = Browser(app, who)
        assert browser.post(f"/profile/tokens/{token.id}/revoke").status_code == 404
        assert "booth phone" not in browser.get("/profile").get_data(as_text=True)
    db.session.expire_all()
    assert core.user_for_token(clear).id == w.a.e1_booth.id
    assert "booth phone" in Browser(app, w.a.e1_booth).get("/profile").get_data(as_text=True)
