"""A visitor's personal data (issue 6): consent texts in versions with the exact text kept per registration,
sharing with exhibitors as a consent of its own that can be withdrawn (exhibitors then see no contact data,
wherever they look), the visitor's copy of their data (JSON and a readable page), and erasure by the visitor
through their signed link or by staff, which anonymises while counts stay."""
from __future__ import annotations

import io
import json
import re

import openpyxl
import pytest
from sqlalchemy import func, select

from expo.core import services as core
from expo.core.models import AuditEntry, ConsentVersion, MailMessage
from expo.extensions import db
from expo.leads.models import Lead
from expo.onsite import services as onsite
from expo.onsite.models import Scan
from expo.visitors import privacy
from expo.visitors import services as visitors
from expo.visitors.models import Person, Registration

from ..conftest import Browser, count, csrf_token, new_scan_id

PRIVATE = ("王小明", "xiaoming@private.example.cn", "+86 139 1234 5678", "保密家具公司", "采购总监")


def _visitor(make, edition, **kwargs):
    name, email, phone, company, job_title = PRIVATE
    return make.registration(edition, name=name, email=email, phone=phone, company=company, job_title=job_title,
                             **kwargs)


def _post(client, url, data=None):
    return client.post(url, data={**(data or {}), "csrf_token": csrf_token(client, "/login")})


def _audit(action):
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


# --- consent texts in versions --------------------------------------------------------------------

def test_editing_the_consent_text_adds_a_version_and_each_registration_keeps_the_text_it_agreed_to(app, make):
    t = make.tenant("A", leads=False, visitors=0)
    before = _visitor(make, t.edition)
    db.session.commit()
    first_text = t.edition.consent_text
    owner = Browser(app, t.users["owner"])

    response = owner.post(f"/org/editions/{t.edition.id}/consent",
                          data={"consent_text": "Version two: we also send you the catalogue.",
                                "sharing_text": "Exhibitors receive your business card."})

    assert response.status_code == 302
    db.session.expire_all()
    versions = core.consent_versions(t.edition)
    assert [(v.version, v.text) for v in versions] == [(2, "Version two: we also send you the catalogue."),
                                                       (1, first_text)]
    assert versions[0].created_by_id == t.users["owner"].id and versions[0].sharing_text.startswith("Exhibitors")
    assert t.edition.consent_version == "2"
    after = make.registration(t.edition, email="later@example.com")
    db.session.commit()
    assert (before.consent.version, before.consent.text) == (1, first_text)
    assert (after.consent.version, after.consent.text) == (2, "Version two: we also send you the catalogue.")
    assert after.sharing_consent.sharing_text == "Exhibitors receive your business card."
    # the edition page lists the history; the visitor's page shows the exact text they agreed to
    page = owner.get(f"/org/editions/{t.edition.id}").get_data(as_text=True)
    assert "Earlier versions (1)" in page and "Version two" in page
    own_page = owner.client.get(f"/r/{before.access_key}/privacy").get_data(as_text=True)
    assert first_text in own_page and "Version two" not in own_page
    staff_page = owner.get(f"/org/editions/{t.edition.id}/registrations/{before.id}").get_data(as_text=True)
    assert first_text in staff_page
    assert [e.details for e in _audit("consent.version")] == [{"consent_version": 2}]


def test_the_same_consent_text_again_is_no_new_version_and_versions_are_numbered_per_edition(make):
    edition, other = make.edition(), make.edition()
    assert core.update_consent_text(edition, f"  {edition.consent_text} ") is None
    assert core.update_consent_text(edition, "Second").version == 2
    assert core.update_consent_text(edition, "Third").version == 3
    assert core.current_consent(other).version == 1
    assert db.session.scalar(select(func.count(ConsentVersion.id)).where(ConsentVersion.edition_id == edition.id)) == 3


def test_an_empty_consent_text_is_refused_next_to_the_field(app, make):
    t = make.tenant("A", leads=False, visitors=0)
    db.session.commit()
    response = Browser(app, t.users["owner"]).post(f"/org/editions/{t.edition.id}/consent",
                                                   data={"consent_text": "", "sharing_text": "x"})
    assert response.status_code == 200
    assert core.current_consent(t.edition).version == 1


# --- sharing with exhibitors: its own time and version, withdrawn and given again ---------------------

def test_sharing_has_its_own_time_and_version_and_is_not_given_by_default(make):
    edition = make.edition()
    shared, private = make.registration(edition, share=True), make.registration(edition, share=False)
    db.session.commit()
    assert shared.sharing_at is not None and shared.sharing_version_id == shared.consent_version_id is not None
    assert (private.sharing_at, private.sharing_version_id) == (None, None)


def test_visitor_withdraws_and_gives_sharing_again_on_their_page(app, client, make):
    t = make.tenant("A")
    db.session.commit()
    key = t.registration.access_key
    page = client.get(f"/r/{key}/privacy")
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]

    response = _post(client, f"/r/{key}/sharing", {"share": "no"})

    assert response.status_code == 302 and response.headers["Location"].endswith(f"/r/{key}/privacy")
    db.session.expire_all()
    registration = db.session.get(Registration, t.registration.id)
    assert registration.share_with_exhibitors is False and registration.sharing_withdrawn_at is not None
    assert visitors.visible_to_exhibitor(registration) == {"category": "buyer", "shared": False}
    assert "You withdrew sharing" in client.get(f"/r/{key}/privacy").get_data(as_text=True)

    given_before = registration.sharing_at
    core.update_consent_text(t.edition, t.edition.consent_text, sharing_text="New words on sharing.")
    db.session.commit()
    _post(client, f"/r/{key}/sharing", {"share": "yes"})
    db.session.expire_all()
    registration = db.session.get(Registration, t.registration.id)
    assert registration.share_with_exhibitors is True and registration.sharing_at > given_before
    assert registration.sharing_consent.sharing_text == "New words on sharing."  # the text shown when given again
    assert registration.consent.version == 1  # the registration's own consent is untouched
    assert [e.details for e in _audit("registration.sharing")] == [{"shared": False}, {"shared": True}]


@pytest.fixture
def withdrawn(app, make):
    """A tenant whose visitor (with contact details worth hiding) was captured by a booth, then withdrew
    sharing through their page; the exhibitor admin is signed in."""
    t = make.tenant("A", visitors=0, tokens=True)
    registration = _visitor(make, t.edition)
    t.registration, t.lead = registration, t.capture(t.users["booth_staff"], registration)
    db.session.commit()
    visitor = app.test_client()
    admin = Browser(app, t.users["exhibitor_admin"])
    assert PRIVATE[0] in admin.get("/portal/leads").get_data(as_text=True)  # shared until now
    _post(visitor, f"/r/{registration.access_key}/sharing", {"share": "no"})
    t.admin = admin
    return t


def _xlsx_text(response) -> str:
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    return " ".join(str(cell.value) for row in book.active.iter_rows() for cell in row if cell.value is not None)


PLACES = {
    "lead list": lambda t: t.admin.get("/portal/leads").get_data(as_text=True),
    "lead detail": lambda t: t.admin.get(f"/portal/leads/{t.lead.id}").get_data(as_text=True),
    "lead csv": lambda t: t.admin.get("/portal/leads.csv").get_data(as_text=True),
    "lead xlsx": lambda t: _xlsx_text(t.admin.get("/portal/leads.xlsx")),
    "scanner page": lambda t: t.admin.get("/portal/scan").get_data(as_text=True),
    "scan api": lambda t: json.dumps(t.admin.api("/api/v1/scans", {
        "code": t.code_now, "kind": "lead", "client_scan_id": new_scan_id()}, t.tokens["booth_staff"][1]).json,
        ensure_ascii=False),
}


@pytest.mark.parametrize("place", PLACES)
def test_after_withdrawal_exhibitors_see_the_lead_without_contact_data(withdrawn, place):
    withdrawn.code_now = visitors.badge_code(db.session.get(Registration, withdrawn.registration.id))
    seen = PLACES[place](withdrawn)
    for private in PRIVATE:
        assert private not in seen, f"{place} shows {private!r} after the visitor withdrew sharing"
    assert count(Lead) == 1  # the lead itself stays the exhibitor's


def test_scan_api_answer_after_withdrawal_is_the_category_only(withdrawn):
    answer = withdrawn.admin.api("/api/v1/scans", {
        "code": visitors.badge_code(db.session.get(Registration, withdrawn.registration.id)), "kind": "lead",
        "client_scan_id": new_scan_id()}, withdrawn.tokens["booth_staff"][1]).json
    assert answer["result"] == "duplicate" and answer["visitor"] == {"category": "buyer", "shared": False}


# --- the visitor's copy of their data ---------------------------------------------------------------

@pytest.fixture
def visitor_world(make):
    """One visitor registered for two editions of an organizer, with answers, a check-in, a lead; and a
    namesake at another organizer who must not show up."""
    t = make.tenant("A", visitors=0)
    earlier = make.edition(t.organizer, show=t.show, starts_on=t.edition.starts_on.replace(
        year=t.edition.starts_on.year - 1), name="Expo A last year")
    past = _visitor(make, earlier, answers={"What do you buy?": "Office chairs, 200 a year"})
    earlier.status = "closed"
    now = _visitor(make, t.edition)
    t.capture(t.users["booth_staff"], now)
    outcome = onsite.record_scan(t.users["onsite"], code=visitors.badge_code(now), kind="checkin",
                                 client_scan_id=new_scan_id(), edition_id=t.edition.id, gate="North gate")
    assert outcome.result == "ok", outcome.reason
    other = make.tenant("B", leads=False, visitors=0)
    _visitor(make, other.edition)
    db.session.commit()
    return t, past, now


def test_visitor_downloads_their_data_as_json(client, visitor_world):
    t, past, now = visitor_world

    response = client.get(f"/r/{now.access_key}/data.json")

    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    assert (data["person"]["name"], data["person"]["email"], data["person"]["phone"]) == PRIVATE[:3]
    assert [r["edition"] for r in data["registrations"]] == ["Expo A last year", t.edition.name]
    assert data["registrations"][0]["answers"] == {"What do you buy?": "Office chairs, 200 a year"}
    assert data["registrations"][1]["consent"]["text"] == t.edition.consent_text
    assert data["registrations"][1]["sharing_with_exhibitors"]["shared"] is True
    assert data["registrations"][1]["sharing_with_exhibitors"]["text"] == t.edition.sharing_text
    assert [(lead["exhibitor"], lead["has_contact_details"]) for lead in data["leads"]] == [
        (t.exhibitor.company.name, True)]
    assert [(c["gate"], c["result"]) for c in data["checkins"]] == [("North gate", "ok")]
    assert {r["id"] for r in data["registrations"]} == {past.id, now.id}  # nothing of the other organizer


def test_visitor_reads_their_data_as_a_page(client, visitor_world):
    t, past, now = visitor_world

    response = client.get(f"/r/{past.access_key}/data.html")

    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    page = response.get_data(as_text=True)
    for text in (*PRIVATE, "Expo A last year", t.edition.name, "Office chairs, 200 a year", t.edition.consent_text,
                 t.exhibitor.company.name, "North gate"):
        assert text in page, text


def test_staff_download_a_visitors_data_and_it_is_audited(app, visitor_world):
    t, _past, now = visitor_world
    manager = Browser(app, t.users["manager"])
    url = f"/org/editions/{t.edition.id}/registrations/{now.id}/personal-data"

    assert PRIVATE[1] in manager.get(url).get_data(as_text=True)
    assert json.loads(manager.get(url + ".json").get_data(as_text=True))["person"]["email"] == PRIVATE[1]
    assert [(e.user_id, e.object_id, e.details) for e in _audit("person.data_downloaded")] == [
        (t.users["manager"].id, now.person_id, {"format": "html"}),
        (t.users["manager"].id, now.person_id, {"format": "json"})]
    assert Browser(app, t.users["onsite"]).get(url).status_code == 403


# --- erasure ----------------------------------------------------------------------------------------

def _counts(edition_id):
    return {"registrations": count(Registration), "leads": count(Lead), "scans": count(Scan),
            "by_category": db.session.execute(select(Registration.category, func.count()).where(
                Registration.edition_id == edition_id).group_by(Registration.category)).all()}


def _audit_rows():
    return [tuple(row) for row in db.session.execute(select(AuditEntry.__table__)).all()]


def test_visitor_erases_their_data_after_a_confirmation_step(app, client, visitor_world):
    t, past, now = visitor_world
    lead = db.session.scalar(select(Lead))
    lead.notes = f"Call {PRIVATE[0]} on {PRIVATE[2]}"
    core.queue_mail(t.organizer.id, PRIVATE[1], "Your badge", f"Dear {PRIVATE[0]}")
    db.session.commit()
    counts, audit_before = _counts(t.edition.id), _audit_rows()
    old_code, key, person_id = visitors.badge_code(now), now.access_key, now.person_id

    confirm = client.get(f"/r/{key}/erase")  # the confirmation step changes nothing
    assert confirm.status_code == 200 and "Expo A last year" in confirm.get_data(as_text=True)
    assert db.session.get(Person, person_id).email == PRIVATE[1]

    response = _post(client, f"/r/{key}/erase")

    assert response.headers["Location"].endswith("/privacy/erased")
    assert "Your data is erased" in client.get("/privacy/erased").get_data(as_text=True)
    db.session.expire_all()
    person = db.session.get(Person, person_id)
    assert person.erased_at is not None
    assert (person.name, person.email, person.phone, person.company, person.job_title) == ("", None, "", "", "")
    assert (person.email_key, person.phone_key, person.name_key) == (None, None, None)
    assert person.country == ""  # kept as it was (a statistic): the factory gave none
    for registration in db.session.scalars(select(Registration).where(Registration.person_id == person_id)):
        assert registration.erased_at is not None and registration.answers == {}
        assert (registration.name_as_given, registration.company_as_given, registration.job_title_as_given,
                registration.phone_as_given) == ("", "", "", "")
        assert registration.share_with_exhibitors is False
    assert client.get(f"/r/{key}").status_code == 404  # the signed link ends
    gate = onsite.record_scan(t.users["onsite"], code=old_code, kind="checkin", client_scan_id=new_scan_id(),
                              edition_id=t.edition.id)
    assert (gate.result, gate.reason) == ("refused", "revoked")  # and the badge
    db.session.rollback()
    assert _counts(t.edition.id) == counts  # registrations, leads, check-ins, categories: all still countable
    lead = db.session.scalar(select(Lead))
    assert lead.notes == "" and lead.scan_count == 1
    assert db.session.scalar(select(func.count(MailMessage.id)).where(MailMessage.recipient == PRIVATE[1])) == 0
    # the audit log: earlier entries untouched, one entry more, and no erased value anywhere in it
    audit_after = _audit_rows()
    assert audit_after[:len(audit_before)] == audit_before
    erased = _audit("person.erased")
    assert [(e.user_id, e.object_id, e.details) for e in erased] == [
        (None, person_id, {"registration_ids": sorted([past.id, now.id]), "by": "visitor"})]
    everything = json.dumps([row for row in audit_after], ensure_ascii=False, default=str)
    for private in PRIVATE:
        assert private not in everything


def test_exhibitors_see_an_anonymised_lead_after_erasure(app, client, visitor_world):
    t, _past, now = visitor_world
    db.session.commit()
    _post(client, f"/r/{now.access_key}/erase")
    admin = Browser(app, t.users["exhibitor_admin"])
    for page in (admin.get("/portal/leads"), admin.get("/portal/leads.csv")):
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        for private in PRIVATE:
            assert private not in text
    assert "Contact details not shared" in admin.get("/portal/leads").get_data(as_text=True)


def test_audit_entries_never_hold_a_visitors_details_so_erasure_needs_no_update(app, make):
    """Staff corrections and merges are audited by field names and ids; after the erasure nothing of the
    person is left in the (append-only) log."""
    t = make.tenant("A", leads=False, visitors=0)
    later = make.edition(t.organizer, show=t.show, starts_on=t.edition.starts_on.replace(
        year=t.edition.starts_on.year + 1))
    keep = _visitor(make, t.edition)
    twin = make.registration(later, name=PRIVATE[0], email="second.address@private.example.cn",
                             company=PRIVATE[3])
    db.session.commit()
    manager = Browser(app, t.users["manager"])
    manager.post(f"/org/editions/{t.edition.id}/registrations/{keep.id}/person",
                 data={"name": PRIVATE[0], "email": PRIVATE[1], "phone": "+86 139 0000 0000",
                       "company": PRIVATE[3], "job_title": "Chief buyer", "country": "CN"})
    manager.post("/org/duplicates/merge", data={"keep": keep.person_id, "merge": twin.person_id})
    assert _audit("person.merged") and _audit("person.updated")

    response = manager.post(f"/org/editions/{t.edition.id}/registrations/{keep.id}/erase")

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Person, twin.person_id).email is None  # the merged record's address goes too
    everything = json.dumps(_audit_rows(), ensure_ascii=False, default=str)
    for private in (*PRIVATE, "second.address@private.example.cn", "+86 139 0000 0000", "Chief buyer"):
        assert private not in everything
    [entry] = _audit("person.erased")
    assert (entry.user_id, entry.details["by"]) == (t.users["manager"].id, "staff")


def test_staff_erase_from_the_registration_page(app, make):
    t = make.tenant("A", visitors=0, leads=False)
    registration = _visitor(make, t.edition)
    db.session.commit()
    owner = Browser(app, t.users["owner"])
    page = owner.get(f"/org/editions/{t.edition.id}/registrations/{registration.id}").get_data(as_text=True)
    assert "Erase the visitor’s personal data" in page

    response = owner.post(f"/org/editions/{t.edition.id}/registrations/{registration.id}/erase")

    assert response.headers["Location"].endswith(f"/registrations/{registration.id}")
    page = owner.get(f"/org/editions/{t.edition.id}/registrations/{registration.id}").get_data(as_text=True)
    assert "Erased on" in page and PRIVATE[1] not in page and "Erased visitor" in page
    listing = owner.get(f"/org/editions/{t.edition.id}/registrations").get_data(as_text=True)
    assert PRIVATE[0] not in listing and re.search(r"Erased visitor", listing)
    assert Browser(app, t.users["onsite"]).post(
        f"/org/editions/{t.edition.id}/registrations/{registration.id}/erase").status_code == 403


def test_an_erased_visitor_can_register_again_as_a_new_person(make):
    t = make.tenant("A", leads=False, visitors=0)
    first = _visitor(make, t.edition)
    privacy.erase_person(first.person, by="staff")
    again = _visitor(make, make.edition(t.organizer, show=t.show, starts_on=t.edition.starts_on.replace(
        year=t.edition.starts_on.year + 1)))
    assert again.person_id != first.person_id and again.person.email == PRIVATE[1]


def test_sharing_cannot_be_given_again_after_erasure(make):
    registration = make.registration(make.edition(), share=False)
    privacy.erase_person(registration.person, by="visitor")
    registration = db.session.get(Registration, registration.id)
    with pytest.raises(core.ServiceError):
        privacy.set_sharing(registration, True)


def test_erasure_needs_the_forms_csrf_token(app, client, make):
    registration = _visitor(make, make.edition())
    db.session.commit()
    client.get("/login")  # a session exists: the token is missing, not the session
    assert client.post(f"/r/{registration.access_key}/erase").status_code == 400
    db.session.expire_all()
    assert db.session.get(Person, registration.person_id).email == PRIVATE[1]
