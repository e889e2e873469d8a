"""The scan API over HTTP (POST /api/v1/scans and /api/v1/scans/batch): leads, check-in, every refusal
reason, idempotency, consent, authentication, and the exhibitor's CSV export of what was scanned."""
import base64
import csv
import io
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from expo.core import badge_codes
from expo.core import services as core
from expo.core.db import utcnow
from expo.core.models import Organizer
from expo.extensions import db
from expo.leads.models import Lead
from expo.onsite.models import Scan
from expo.visitors import services as visitor_services

from ..conftest import count, csrf_token, login, new_scan_id

SCANS = "/api/v1/scans"
BATCH = "/api/v1/scans/batch"


# --- helpers -------------------------------------------------------------------------------------------

def organizer_of(row) -> Organizer:
    return db.session.get(Organizer, row.organizer_id)


def token_for(user) -> str:
    _token, clear = core.create_api_token(user, "scanner")
    return clear


def bearer(clear: str) -> dict:
    return {"Authorization": f"Bearer {clear}"}


def post(client, clear, body, path=SCANS):
    return client.post(path, json=body, headers=bearer(clear))


def lead_scan(client, clear, code, **extra):
    return post(client, clear, {"code": code, "kind": "lead", "client_scan_id": new_scan_id(), **extra})


def code_of(registration) -> str:
    return visitor_services.badge_code(registration)


def all_scans() -> list[Scan]:
    return list(db.session.scalars(select(Scan).order_by(Scan.id)))


def b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii")


class Booth:
    """An edition with one exhibitor whose booth staff member holds an API token."""

    def __init__(self, make, edition=None):
        self.edition = edition or make.edition()
        self.exhibitor = make.exhibitor(self.edition)
        self.staff = make.user("booth_staff", exhibitor=self.exhibitor)
        self.token = token_for(self.staff)


@pytest.fixture
def booth(make):
    return Booth(make)


def assert_refused(client, booth, code, reason):
    """Scan ``code`` at the booth: refused with ``reason``, and the refusal is a stored fact."""
    db.session.commit()
    response = lead_scan(client, booth.token, code)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["result"] == "refused"
    assert response.json["reason"] == reason
    assert response.json["visitor"] is None
    assert response.json["lead_id"] is None
    [scan] = all_scans()
    assert (scan.result, scan.reason, scan.raw_code) == ("refused", reason, code)
    assert scan.user_id == booth.staff.id and scan.exhibitor_id == booth.exhibitor.id
    assert scan.id == response.json["scan_id"]
    assert count(Lead) == 0
    return scan


# --- lead capture -----------------------------------------------------------------------------------

def test_lead_scan_ok_creates_one_lead_and_one_scan_row(client, make, booth):
    visitor = make.registration(booth.edition, name="王小明", company="深圳宏达家具有限公司")
    db.session.commit()
    code = code_of(visitor)
    before = utcnow()

    response = post(client, booth.token, {"code": code, "kind": "lead", "client_scan_id": "scan-1",
                                          "scanned_at": "2025-03-05T10:15:00+08:00"})
    after = utcnow()

    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.json
    assert (answer["result"], answer["reason"], answer["kind"], answer["replayed"]) == ("ok", None, "lead", False)
    assert answer["visitor"]["name"] == "王小明"
    assert answer["visitor"]["company"] == "深圳宏达家具有限公司"
    assert answer["visitor"]["shared"] is True
    [lead] = db.session.scalars(select(Lead)).all()
    assert (lead.exhibitor_id, lead.registration_id, lead.captured_by_id, lead.scan_count) == (
        booth.exhibitor.id, visitor.id, booth.staff.id, 1)
    assert answer["lead_id"] == lead.id
    [scan] = all_scans()
    assert scan.raw_code == code
    assert scan.client_scan_id == "scan-1"
    assert scan.scanned_at == datetime(2025, 3, 5, 2, 15, tzinfo=timezone.utc)  # the device's clock
    assert before <= scan.received_at <= after  # the server's clock
    assert (scan.user_id, scan.exhibitor_id, scan.registration_id, scan.lead_id) == (
        booth.staff.id, booth.exhibitor.id, visitor.id, lead.id)
    assert (scan.kind, scan.result, scan.reason, scan.edition_id) == ("lead", "ok", None, booth.edition.id)


def test_scanned_at_without_zone_is_utc_and_missing_scanned_at_is_the_server_time(client, make, booth):
    first, second = make.registration(booth.edition), make.registration(booth.edition)
    db.session.commit()

    lead_scan(client, booth.token, code_of(first), scanned_at="2025-03-05T10:15:00")
    before = utcnow()
    lead_scan(client, booth.token, code_of(second))
    after = utcnow()

    naive, missing = all_scans()
    assert naive.scanned_at == datetime(2025, 3, 5, 10, 15, tzinfo=timezone.utc)
    assert before <= missing.scanned_at <= after


def test_rescan_of_same_visitor_is_duplicate_and_updates_the_one_lead(client, make, booth):
    visitor = make.registration(booth.edition)
    db.session.commit()

    first = lead_scan(client, booth.token, code_of(visitor), scanned_at="2025-03-05T10:00:00Z").json
    second = lead_scan(client, booth.token, code_of(visitor), scanned_at="2025-03-05T11:00:00Z").json

    assert (first["result"], second["result"]) == ("ok", "duplicate")
    assert second["reason"] is None
    assert second["lead_id"] == first["lead_id"]
    assert second["visitor"]["name"] == visitor.person.name
    [lead] = db.session.scalars(select(Lead)).all()
    assert lead.scan_count == 2
    assert lead.first_scanned_at == datetime(2025, 3, 5, 10, tzinfo=timezone.utc)
    assert lead.last_scanned_at == datetime(2025, 3, 5, 11, tzinfo=timezone.utc)
    assert [(s.result, s.lead_id) for s in all_scans()] == [("ok", lead.id), ("duplicate", lead.id)]


def test_late_upload_of_an_older_scan_moves_the_first_scan_back_not_the_last(client, make, booth):
    visitor, other = make.registration(booth.edition), make.registration(booth.edition)
    db.session.commit()

    lead_scan(client, booth.token, code_of(visitor), scanned_at="2025-03-05T11:00:00Z")
    lead_scan(client, booth.token, code_of(visitor), scanned_at="2025-03-05T09:00:00Z")  # offline, synced late
    # The same through the batch upload (another statement on PostgreSQL).
    batch = [{"code": code_of(other), "kind": "lead", "client_scan_id": new_scan_id(), "scanned_at": at}
             for at in ("2025-03-05T11:00:00Z", "2025-03-05T09:00:00Z")]
    for item in batch:
        assert client.post(BATCH, json=[item], headers=bearer(booth.token)).status_code == 200

    for lead in db.session.scalars(select(Lead)):
        assert lead.first_scanned_at == datetime(2025, 3, 5, 9, tzinfo=timezone.utc)
        assert lead.last_scanned_at == datetime(2025, 3, 5, 11, tzinfo=timezone.utc)
        assert lead.scan_count == 2


def test_another_exhibitor_scanning_the_same_visitor_gets_its_own_lead(client, make, booth):
    other = Booth(make, booth.edition)
    visitor = make.registration(booth.edition)
    db.session.commit()

    mine = lead_scan(client, booth.token, code_of(visitor)).json
    theirs = lead_scan(client, other.token, code_of(visitor)).json

    assert (mine["result"], theirs["result"]) == ("ok", "ok")
    assert mine["lead_id"] != theirs["lead_id"]
    leads = {lead.exhibitor_id: lead for lead in db.session.scalars(select(Lead))}
    assert set(leads) == {booth.exhibitor.id, other.exhibitor.id}
    assert all(lead.scan_count == 1 and lead.registration_id == visitor.id for lead in leads.values())


# --- idempotency ------------------------------------------------------------------------------------

def test_reupload_same_client_scan_id_is_stored_once_with_the_same_answer(client, make, booth):
    visitor = make.registration(booth.edition)
    db.session.commit()
    body = {"code": code_of(visitor), "kind": "lead", "client_scan_id": new_scan_id(),
            "scanned_at": "2025-03-05T10:00:00Z"}

    first = post(client, booth.token, body).json
    again = post(client, booth.token, body).json

    assert (first["replayed"], again["replayed"]) == (False, True)
    assert {**again, "replayed": False} == first
    assert count(Scan) == 1
    assert db.session.scalars(select(Lead)).one().scan_count == 1


def test_reupload_of_a_refused_scan_is_stored_once(client, make, booth):
    db.session.commit()
    body = {"code": "not a badge!", "kind": "lead", "client_scan_id": new_scan_id()}

    first = post(client, booth.token, body).json
    again = post(client, booth.token, body).json

    assert (first["result"], first["reason"]) == ("refused", "malformed")
    assert {**again, "replayed": False} == first
    assert count(Scan) == 1


def test_reused_client_scan_id_answers_the_first_scan_even_with_another_code(client, make, booth):
    first_visitor, second_visitor = make.registration(booth.edition), make.registration(booth.edition)
    db.session.commit()

    first = post(client, booth.token, {"code": code_of(first_visitor), "kind": "lead", "client_scan_id": "dup"}).json
    again = post(client, booth.token, {"code": code_of(second_visitor), "kind": "lead", "client_scan_id": "dup"}).json

    assert again["replayed"] is True
    assert again["scan_id"] == first["scan_id"]
    assert again["visitor"]["name"] == first_visitor.person.name
    assert count(Scan) == 1 and count(Lead) == 1


def test_same_client_scan_id_in_two_organizers_is_two_scans(client, make, booth):
    elsewhere = Booth(make)
    mine, theirs = make.registration(booth.edition), make.registration(elsewhere.edition)
    db.session.commit()

    a = post(client, booth.token, {"code": code_of(mine), "kind": "lead", "client_scan_id": "1"}).json
    b = post(client, elsewhere.token, {"code": code_of(theirs), "kind": "lead", "client_scan_id": "1"}).json

    assert (a["result"], a["replayed"], b["result"], b["replayed"]) == ("ok", False, "ok", False)
    assert count(Scan) == 2


def test_client_scan_id_of_another_exhibitor_does_not_leak_its_visitor(client, make, booth):
    """Simple scanner apps number their scans 1, 2, 3...: exhibitor B's scan "1" must never be answered
    with exhibitor A's scan "1" (A's lead, A's visitor's contact data)."""
    other = Booth(make, booth.edition)
    a_visitor = make.registration(booth.edition, name="Alice Secret", email="alice@example.com")
    b_visitor = make.registration(booth.edition, name="Bob Visible")
    db.session.commit()

    post(client, booth.token, {"code": code_of(a_visitor), "kind": "lead", "client_scan_id": "1"})
    answer = post(client, other.token, {"code": code_of(b_visitor), "kind": "lead", "client_scan_id": "1"})

    assert "Alice Secret" not in answer.get_data(as_text=True)
    assert "alice@example.com" not in answer.get_data(as_text=True)


def test_client_scan_id_of_another_exhibitor_does_not_swallow_the_scan(client, make, booth):
    other = Booth(make, booth.edition)
    a_visitor, b_visitor = make.registration(booth.edition), make.registration(booth.edition)
    db.session.commit()

    post(client, booth.token, {"code": code_of(a_visitor), "kind": "lead", "client_scan_id": "1"})
    answer = post(client, other.token, {"code": code_of(b_visitor), "kind": "lead", "client_scan_id": "1"}).json

    assert (answer["result"], answer["replayed"]) == ("ok", False)
    assert db.session.scalar(select(Lead).where(Lead.exhibitor_id == other.exhibitor.id)).registration_id == b_visitor.id


# --- refusals: each one a stored fact with its reason ------------------------------------------------

def test_refused_malformed_garbage_text(client, make, booth):
    assert_refused(client, booth, "hello, this is not a badge!", "malformed")


def test_refused_malformed_url_from_another_qr_code(client, make, booth):
    assert_refused(client, booth, "https://example.com/product?id=42", "malformed")


def test_refused_unsupported_version(client, make, booth):
    visitor = make.registration(booth.edition)
    db.session.flush()
    raw = bytearray(base64.b32decode(code_of(visitor)))
    raw[0] = 2

    assert_refused(client, booth, b32(bytes(raw)), "unsupported_version")


def test_refused_other_edition_of_the_same_organizer(client, make, booth):
    last_year = make.edition(organizer_of(booth.edition), status="closed")
    visitor = make.registration(last_year, source="import")
    db.session.flush()

    scan = assert_refused(client, booth, code_of(visitor), "other_edition")
    assert scan.registration_id is None


def test_refused_other_edition_of_another_organizer(client, make, booth):
    visitor = make.registration(make.edition())
    db.session.flush()

    scan = assert_refused(client, booth, code_of(visitor), "other_edition")
    assert scan.registration_id is None


def test_refused_invalid_signature_altered_registration_id(client, make, booth):
    visitor, victim = make.registration(booth.edition), make.registration(booth.edition)
    db.session.flush()
    claim = badge_codes.read_badge(code_of(visitor))
    altered = b32(badge_codes._HEADER.pack(claim.version, claim.edition_id, victim.id, claim.serial) + claim.signature)

    scan = assert_refused(client, booth, altered, "invalid_signature")
    assert scan.registration_id is None


def test_refused_invalid_signature_forged_with_a_fresh_key(client, make, booth):
    visitor = make.registration(booth.edition)
    db.session.flush()
    forger_key, _public = badge_codes.generate_keypair()

    forged = badge_codes.sign_badge(forger_key, booth.edition.id, visitor.id, visitor.badge_serial)

    assert_refused(client, booth, forged, "invalid_signature")


def test_refused_revoked_after_reissue_and_the_new_code_works(client, make, booth):
    visitor = make.registration(booth.edition)
    db.session.flush()
    old = code_of(visitor)
    new = visitor_services.reissue_badge(visitor)

    scan = assert_refused(client, booth, old, "revoked")
    assert scan.registration_id == visitor.id
    answer = lead_scan(client, booth.token, new).json
    assert (answer["result"], answer["reason"]) == ("ok", None)
    assert db.session.scalars(select(Lead)).one().registration_id == visitor.id


def test_refused_revoked_when_registration_is_cancelled(client, make, booth):
    visitor = make.registration(booth.edition)
    db.session.flush()
    visitor_services.cancel_registration(visitor)

    assert_refused(client, booth, code_of(visitor), "revoked")


def test_refused_unknown_registration_validly_signed(client, make, booth):
    db.session.flush()
    code = badge_codes.sign_badge(booth.edition.signing_key, booth.edition.id, 987_654, 1)

    assert_refused(client, booth, code, "unknown_registration")


def test_refused_unknown_registration_of_another_edition_under_this_editions_key(client, make, booth):
    other_visitor = make.registration(make.edition(organizer_of(booth.edition)))
    db.session.flush()
    code = badge_codes.sign_badge(booth.edition.signing_key, booth.edition.id, other_visitor.id, 1)

    scan = assert_refused(client, booth, code, "unknown_registration")
    assert scan.registration_id is None


def test_refused_not_admitted_while_waitlisted(client, make, booth):
    visitor = make.registration(booth.edition)
    db.session.flush()
    visitor.status = "waitlisted"
    db.session.commit()

    answer = lead_scan(client, booth.token, code_of(visitor)).json

    assert (answer["result"], answer["reason"]) == ("refused", "not_admitted")
    assert answer["visitor"] is None  # a refused booth scan gives the exhibitor nothing of the visitor
    assert count(Lead) == 0
    assert all_scans()[0].reason == "not_admitted"


# --- consent ----------------------------------------------------------------------------------------

def test_lead_scan_of_visitor_without_sharing_consent_shows_no_contact_data(client, make, booth):
    visitor = make.registration(booth.edition, name="王小明", email="private@example.cn", phone="+86 139 1234 5678",
                                company="保密公司", share=False)
    db.session.commit()

    response = lead_scan(client, booth.token, code_of(visitor))

    assert response.json["result"] == "ok"
    assert response.json["visitor"] == {"category": "buyer", "shared": False}
    answer = json.dumps(response.json, ensure_ascii=False)
    for private in ("private@example.cn", "+86 139 1234 5678", "王小明", "保密公司"):
        assert private not in answer


def read_csv(response) -> list[dict]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_leads_csv_has_empty_contact_cells_without_sharing_consent(client, make, booth):
    admin = make.user("exhibitor_admin", exhibitor=booth.exhibitor)
    private = make.registration(booth.edition, name="Private Person", email="private@example.com",
                                phone="+86 139 1234 5678", company="Hidden Co", share=False)
    shared = make.registration(booth.edition, name="Open Person", email="open@example.com", company="Open Co")
    db.session.commit()
    lead_scan(client, booth.token, code_of(private))
    lead_scan(client, booth.token, code_of(shared))

    login(client, admin)
    rows = read_csv(client.get("/portal/leads.csv"))

    hidden, open_ = sorted(rows, key=lambda row: row["Name"])
    assert (hidden["Name"], open_["Name"]) == ("", "Open Person")
    assert {key: hidden[key] for key in ("Name", "Company", "Job title", "Country", "Email", "Phone")} == {
        "Name": "", "Company": "", "Job title": "", "Country": "", "Email": "", "Phone": ""}
    assert hidden["Category"] == "Buyer" and hidden["Scans"] == "1"
    assert (open_["Email"], open_["Company"]) == ("open@example.com", "Open Co")


def test_leads_csv_neutralises_formula_injection(client, make, booth):
    admin = make.user("exhibitor_admin", exhibitor=booth.exhibitor)
    visitors = [
        make.registration(booth.edition, name='=HYPERLINK("x")', company="Plain Co"),
        make.registration(booth.edition, name="Plus", company="+cmd"),
        make.registration(booth.edition, name="Minus", company="-2"),
        make.registration(booth.edition, name="At", company="@SUM(A1)"),
    ]
    db.session.commit()
    for visitor in visitors:
        lead_scan(client, booth.token, code_of(visitor))

    login(client, admin)
    rows = {row["Company"]: row for row in read_csv(client.get("/portal/leads.csv"))}

    assert rows["Plain Co"]["Name"] == '\'=HYPERLINK("x")'
    assert {"'+cmd", "'-2", "'@SUM(A1)"} <= set(rows)
    for row in rows.values():
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), row


# --- check-in at the gate ----------------------------------------------------------------------------

@pytest.fixture
def gate(make):
    edition = make.edition()
    staff = make.user("onsite", organizer_of(edition))
    return edition, staff, token_for(staff)


def checkin(client, clear, edition, code, scanned_at, **extra):
    return post(client, clear, {"code": code, "kind": "checkin", "client_scan_id": new_scan_id(),
                                "edition_id": edition.id, "scanned_at": scanned_at, "gate": "North", **extra})


def test_checkin_once_per_show_day(client, make, gate):
    edition, staff, clear = gate
    visitor = make.registration(edition)
    db.session.commit()
    code = code_of(visitor)

    first = checkin(client, clear, edition, code, "2025-03-05T09:00:00+08:00")
    same_day = checkin(client, clear, edition, code, "2025-03-05T16:00:00+08:00")
    next_day = checkin(client, clear, edition, code, "2025-03-06T09:30:00+08:00")

    assert [r.status_code for r in (first, same_day, next_day)] == [200, 200, 200]
    assert [r.json["result"] for r in (first, same_day, next_day)] == ["ok", "duplicate", "ok"]
    assert first.json["visitor"]["name"] == visitor.person.name
    scans = all_scans()
    assert {(s.kind, s.gate, s.user_id, s.edition_id, s.exhibitor_id, s.lead_id) for s in scans} == {
        ("checkin", "North", staff.id, edition.id, None, None)}
    assert count(Lead) == 0


def test_checkin_show_day_is_the_editions_local_day_not_the_utc_day(client, make, gate):
    edition, _staff, clear = gate  # Asia/Shanghai, UTC+8
    visitor = make.registration(edition)
    db.session.commit()
    code = code_of(visitor)

    late = checkin(client, clear, edition, code, "2025-03-05T15:30:00Z")       # 23:30 in Shanghai
    after_midnight = checkin(client, clear, edition, code, "2025-03-05T16:30:00Z")  # 00:30 next day there
    morning = checkin(client, clear, edition, code, "2025-03-06T01:00:00Z")         # 09:00 that same day

    assert [r.json["result"] for r in (late, after_midnight, morning)] == ["ok", "ok", "duplicate"]


def test_checkin_answer_reports_the_device_time_in_utc(client, make, gate):
    edition, _staff, clear = gate
    visitor = make.registration(edition)
    db.session.commit()

    answer = checkin(client, clear, edition, code_of(visitor), "2025-03-06T00:30:00+08:00").json

    assert datetime.fromisoformat(answer["scanned_at"]) == datetime(2025, 3, 5, 16, 30, tzinfo=timezone.utc)
    assert datetime.fromisoformat(answer["received_at"]).utcoffset().total_seconds() == 0


def test_checkin_refused_badge_is_stored_with_reason(client, make, gate):
    edition, _staff, clear = gate
    db.session.commit()

    answer = checkin(client, clear, edition, "not a badge", "2025-03-05T09:00:00+08:00").json

    assert (answer["result"], answer["reason"]) == ("refused", "malformed")
    assert [(s.kind, s.result, s.reason) for s in all_scans()] == [("checkin", "refused", "malformed")]


def test_checkin_for_an_edition_of_another_organizer_is_refused(client, make, gate):
    _edition, _staff, clear = gate
    foreign = make.edition()
    visitor = make.registration(foreign)
    db.session.commit()

    response = checkin(client, clear, foreign, code_of(visitor), "2025-03-05T09:00:00+08:00")

    assert response.status_code == 400
    assert count(Scan) == 0


def test_booth_staff_asking_for_checkin_is_forbidden(client, make, booth):
    visitor = make.registration(booth.edition)
    db.session.commit()

    response = post(client, booth.token, {"code": code_of(visitor), "kind": "checkin",
                                          "client_scan_id": new_scan_id(), "edition_id": booth.edition.id})

    assert response.status_code == 403
    assert response.json["error"]


def test_onsite_staff_asking_for_lead_is_forbidden(client, make, gate):
    edition, _staff, clear = gate
    visitor = make.registration(edition)
    db.session.commit()

    response = post(client, clear, {"code": code_of(visitor), "kind": "lead", "client_scan_id": new_scan_id()})

    assert response.status_code == 403
    assert response.json["error"]
    assert count(Lead) == 0


# --- authentication and bad requests -------------------------------------------------------------------

def valid_body(booth, make):
    visitor = make.registration(booth.edition)
    db.session.commit()
    return {"code": code_of(visitor), "kind": "lead", "client_scan_id": new_scan_id()}


def test_missing_authorization_is_401(client, make, booth):
    response = client.post(SCANS, json=valid_body(booth, make))

    assert response.status_code == 401
    assert response.json["error"]
    assert count(Scan) == 0


@pytest.mark.parametrize("header", ["Bearer expo_wrong", "Bearer ", "Basic dXNlcjpwYXNz", "garbage"])
def test_wrong_token_is_401(client, make, booth, header):
    response = client.post(SCANS, json=valid_body(booth, make), headers={"Authorization": header})

    assert response.status_code == 401
    assert count(Scan) == 0


def test_revoked_token_is_401(client, make, booth):
    body = valid_body(booth, make)
    assert post(client, booth.token, {**body, "client_scan_id": new_scan_id()}).status_code == 200
    token = core.user_tokens(booth.staff)[0]
    core.revoke_api_token(booth.staff, token.id)
    db.session.commit()

    response = post(client, booth.token, body)

    assert response.status_code == 401
    assert count(Scan) == 1


def test_token_of_a_deactivated_user_is_401(client, make, booth):
    body = valid_body(booth, make)
    booth.staff.active = False
    db.session.commit()

    assert post(client, booth.token, body).status_code == 401


def test_body_not_json_is_400_with_an_error(client, make, booth):
    db.session.commit()

    response = client.post(SCANS, data="code=ABC&kind=lead", headers=bearer(booth.token),
                           content_type="application/x-www-form-urlencoded")
    broken = client.post(SCANS, data="{not json", headers=bearer(booth.token), content_type="application/json")

    assert (response.status_code, broken.status_code) == (400, 400)
    assert response.json["error"] and broken.json["error"]
    assert count(Scan) == 0


@pytest.mark.parametrize("change", [
    {"client_scan_id": None},
    {"client_scan_id": ""},
    {"client_scan_id": "x" * 65},
    {"client_scan_id": 12345},
    {"kind": "exit"},
    {"kind": None},
    {"code": None},
    {"code": 12345},
    {"scanned_at": "yesterday"},
    {"scanned_at": 1741140000},
    {"gate": ["North"]},
], ids=["no-id", "empty-id", "long-id", "int-id", "unknown-kind", "no-kind", "no-code", "int-code",
        "bad-time", "epoch-time", "list-gate"])
def test_invalid_scan_fields_are_400_and_nothing_is_stored(client, make, booth, change):
    body = {key: value for key, value in {**valid_body(booth, make), **change}.items() if value is not None}

    response = post(client, booth.token, body)

    assert response.status_code == 400
    assert response.json["error"]
    assert count(Scan) == 0 and count(Lead) == 0


@pytest.mark.parametrize("body", [["a list"], "a string", 42])
def test_single_scan_body_that_is_not_an_object_is_400(client, make, booth, body):
    db.session.commit()

    response = post(client, booth.token, body)

    assert response.status_code == 400
    assert response.json["error"]


@pytest.mark.parametrize("edition_id", ["abc", [1], {"id": 1}])
def test_checkin_with_an_edition_id_that_is_not_a_number_is_400(client, make, gate, edition_id):
    edition, _staff, clear = gate
    visitor = make.registration(edition)
    db.session.commit()

    response = post(client, clear, {"code": code_of(visitor), "kind": "checkin", "client_scan_id": new_scan_id(),
                                    "edition_id": edition_id})

    assert response.status_code == 400
    assert count(Scan) == 0


# --- batch (offline upload) ---------------------------------------------------------------------------

def test_batch_answers_each_scan_in_order(client, make, booth):
    first = make.registration(booth.edition)
    db.session.commit()
    items = [
        {"code": code_of(first), "kind": "lead", "client_scan_id": "b-1", "scanned_at": "2025-03-05T10:00:00Z"},
        {"code": code_of(first), "kind": "lead", "client_scan_id": "b-2", "scanned_at": "2025-03-05T10:05:00Z"},
        {"code": "##garbage##", "kind": "lead", "client_scan_id": "b-3", "scanned_at": "2025-03-05T10:06:00Z"},
    ]

    response = post(client, booth.token, items, path=BATCH)

    assert response.status_code == 200, response.get_data(as_text=True)
    answers = response.json
    assert [(a["client_scan_id"], a["result"], a["reason"]) for a in answers] == [
        ("b-1", "ok", None), ("b-2", "duplicate", None), ("b-3", "refused", "malformed")]
    assert answers[0]["lead_id"] == answers[1]["lead_id"]
    assert [s.client_scan_id for s in all_scans()] == ["b-1", "b-2", "b-3"]
    assert db.session.scalars(select(Lead)).one().scan_count == 2


def test_batch_reupload_answers_the_stored_result(client, make, booth):
    visitor = make.registration(booth.edition)
    db.session.commit()
    item = {"code": code_of(visitor), "kind": "lead", "client_scan_id": new_scan_id()}
    online = post(client, booth.token, item).json

    answers = post(client, booth.token, [item, {**item, "client_scan_id": new_scan_id()}], path=BATCH).json

    assert answers[0]["replayed"] is True
    assert {**answers[0], "replayed": False} == online
    assert (answers[1]["result"], answers[1]["replayed"]) == ("duplicate", False)
    assert count(Scan) == 2
    assert db.session.scalars(select(Lead)).one().scan_count == 2


def test_batch_same_upload_twice_is_stored_once(client, make, booth):
    visitor = make.registration(booth.edition)
    db.session.commit()
    items = [{"code": code_of(visitor), "kind": "lead", "client_scan_id": new_scan_id()} for _ in range(3)]

    first = post(client, booth.token, items, path=BATCH).json
    again = post(client, booth.token, items, path=BATCH).json

    assert [a["result"] for a in first] == ["ok", "duplicate", "duplicate"]
    assert [{**a, "replayed": False} for a in again] == first
    assert all(a["replayed"] for a in again)
    assert count(Scan) == 3


def test_batch_bad_item_is_answered_in_place_and_the_others_are_kept(client, make, booth):
    visitor = make.registration(booth.edition)
    db.session.commit()
    items = [{"code": code_of(visitor), "kind": "lead", "client_scan_id": "good"},
             {"code": code_of(visitor), "kind": "lead"},
             "not an object",
             {"code": code_of(visitor), "kind": "checkin", "client_scan_id": "forbidden"}]

    answers = post(client, booth.token, items, path=BATCH).json

    assert [(a["result"], a.get("status")) for a in answers] == [("ok", None), ("error", 400), ("error", 400),
                                                                ("error", 403)]
    assert [s.client_scan_id for s in all_scans()] == ["good"]


@pytest.mark.parametrize("body", [{"code": "X", "kind": "lead", "client_scan_id": "1"}, "scans", 3])
def test_batch_body_that_is_not_a_list_is_400(client, make, booth, body):
    db.session.commit()

    response = post(client, booth.token, body, path=BATCH)

    assert response.status_code == 400
    assert response.json["error"]
    assert count(Scan) == 0


def test_batch_not_json_is_400(client, make, booth):
    db.session.commit()

    response = client.post(BATCH, data="[", headers=bearer(booth.token), content_type="application/json")

    assert response.status_code == 400
    assert response.json["error"]


def test_batch_over_the_limit_is_400_and_nothing_is_stored(client, make, booth):
    db.session.commit()
    items = [{"code": "X", "kind": "lead", "client_scan_id": str(n)} for n in range(501)]

    response = post(client, booth.token, items, path=BATCH)

    assert response.status_code == 400
    assert count(Scan) == 0


def test_batch_without_token_is_401(client, make, booth):
    db.session.commit()

    assert client.post(BATCH, json=[]).status_code == 401


# --- pages of the app calling the API with their session ----------------------------------------------

def test_session_caller_without_csrf_token_is_400(client, make, booth):
    body = valid_body(booth, make)
    login(client, booth.staff)

    response = client.post(SCANS, json=body)

    assert response.status_code == 400
    assert response.json["error"]
    assert count(Scan) == 0


def test_session_caller_with_the_pages_csrf_token_is_200(client, make, booth):
    body = valid_body(booth, make)
    login(client, booth.staff)
    token = csrf_token(client, "/portal/scan")

    response = client.post(SCANS, json=body, headers={"X-CSRFToken": token})

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["result"] == "ok"
    assert all_scans()[0].user_id == booth.staff.id


def test_session_caller_with_a_wrong_csrf_token_is_400(client, make, booth):
    body = valid_body(booth, make)
    login(client, booth.staff)

    response = client.post(SCANS, json=body, headers={"X-CSRFToken": "forged"})

    assert response.status_code == 400
    assert count(Scan) == 0


def test_session_caller_with_a_bad_bearer_token_is_401_not_the_session_user(client, make, booth):
    body = valid_body(booth, make)
    login(client, booth.staff)

    response = client.post(SCANS, json=body, headers={"Authorization": "Bearer nope",
                                                      "X-CSRFToken": csrf_token(client, "/portal/scan")})

    assert response.status_code == 401
    assert count(Scan) == 0


# Withdrawn, or still a prospect in the booth-sales pipeline (no stand booked): no lead, no visitor shown.
@pytest.mark.parametrize("status", ["cancelled", "lost", "prospect", "contacted", "negotiating"])
def test_staff_of_an_exhibitor_not_taking_part_capture_no_lead(client, make, booth, status):
    from expo.exhibitors import services as exhibitor_services

    visitor = make.registration(booth.edition, name="王小明")
    exhibitor_services.set_status(booth.exhibitor, "cancelled")
    if status != "cancelled":
        booth.exhibitor.status = status  # the pipeline's moves are tested elsewhere; here only the state counts
    db.session.commit()

    answer = lead_scan(client, booth.token, code_of(visitor)).json

    assert (answer["result"], answer["reason"]) == ("refused", "exhibitor_not_taking_part")
    assert answer["visitor"] is None and answer["lead_id"] is None
    assert count(Lead) == 0
    [scan] = all_scans()
    assert (scan.result, scan.reason, scan.registration_id) == ("refused", "exhibitor_not_taking_part", None)


# --- issue 9: nothing about a token, a key or a badge is remembered between requests ------------------------

def test_a_token_revoked_elsewhere_stops_working_at_once(client, make, booth):
    """The token is looked up on every request: a revocation written by another process (here: a plain
    UPDATE committed outside the app's services) counts from the next scan on."""
    from expo.core.models import ApiToken

    first, second = make.registration(booth.edition), make.registration(booth.edition)
    db.session.commit()
    assert lead_scan(client, booth.token, code_of(first)).json["result"] == "ok"
    db.session.execute(ApiToken.__table__.update().values(revoked_at=utcnow()))
    db.session.commit()

    response = lead_scan(client, booth.token, code_of(second))

    assert response.status_code == 401
    assert count(Scan) == 1


def test_a_user_deactivated_while_scanning_is_refused_at_once(client, make, booth):
    first, second = make.registration(booth.edition), make.registration(booth.edition)
    db.session.commit()
    assert lead_scan(client, booth.token, code_of(first)).status_code == 200
    booth.staff.active = False
    db.session.commit()

    assert lead_scan(client, booth.token, code_of(second)).status_code == 401
    assert post(client, booth.token, [{"code": code_of(second), "kind": "lead", "client_scan_id": "x"}],
                path=BATCH).status_code == 401


@pytest.mark.parametrize("path", [SCANS, BATCH])
def test_a_rotated_edition_key_is_honoured_at_once(client, make, booth, path):
    """The key object is kept per process, keyed by the key's bytes read with every scan: after a rotation
    old badges are forged ones and the new ones pass, from the next scan on."""
    visitor, other = make.registration(booth.edition), make.registration(booth.edition)
    db.session.commit()
    old_code = code_of(visitor)
    assert lead_scan(client, booth.token, old_code).json["result"] == "ok"  # the old key now in memory

    booth.edition.signing_key, booth.edition.verify_key = badge_codes.generate_keypair()
    db.session.commit()
    new_code = code_of(other)

    def scan(code):
        body = {"code": code, "kind": "lead", "client_scan_id": new_scan_id()}
        answer = post(client, booth.token, [body] if path == BATCH else body, path=path).json
        return answer[0] if path == BATCH else answer

    refused, accepted = scan(old_code), scan(new_code)
    assert (refused["result"], refused["reason"]) == ("refused", "invalid_signature")
    assert (accepted["result"], accepted["reason"]) == ("ok", None)


@pytest.mark.parametrize("path", [SCANS, BATCH])
def test_a_reissued_badge_is_honoured_at_once(client, make, booth, path):
    visitor = make.registration(booth.edition)
    db.session.commit()
    old_code = code_of(visitor)
    assert lead_scan(client, booth.token, old_code).json["result"] == "ok"

    new_code = visitor_services.reissue_badge(visitor)
    db.session.commit()

    def scan(code):
        body = {"code": code, "kind": "lead", "client_scan_id": new_scan_id()}
        answer = post(client, booth.token, [body] if path == BATCH else body, path=path).json
        return answer[0] if path == BATCH else answer

    old, new = scan(old_code), scan(new_code)
    assert (old["result"], old["reason"], old["visitor"]) == ("refused", "revoked", None)
    assert (new["result"], new["reason"]) == ("duplicate", None)
    assert db.session.scalars(select(Lead)).one().scan_count == 2


def test_a_cancelled_registration_is_refused_at_once(client, make, gate):
    edition, _staff, clear = gate
    visitor = make.registration(edition)
    db.session.commit()
    code = code_of(visitor)
    assert checkin(client, clear, edition, code, "2025-03-05T09:00:00+08:00").json["result"] == "ok"
    visitor_services.cancel_registration(visitor)
    db.session.commit()

    answer = checkin(client, clear, edition, code, "2025-03-06T09:00:00+08:00").json

    assert (answer["result"], answer["reason"]) == ("refused", "revoked")


# --- issue 9: direction at the gate -------------------------------------------------------------------------

def test_checkin_direction_out_is_an_exit_not_an_admission(client, make, gate):
    edition, _staff, clear = gate
    visitor = make.registration(edition)
    db.session.commit()
    code = code_of(visitor)

    out = checkin(client, clear, edition, code, "2025-03-05T08:00:00+08:00", direction="out").json
    entry = checkin(client, clear, edition, code, "2025-03-05T09:00:00+08:00", direction="in").json
    again = checkin(client, clear, edition, code, "2025-03-05T10:00:00+08:00").json

    assert [a["result"] for a in (out, entry, again)] == ["ok", "ok", "duplicate"]
    scans = all_scans()
    assert [(s.direction, s.admitted_on is not None) for s in scans] == [("out", False), ("in", True), ("in", False)]


@pytest.mark.parametrize("direction", ["sideways", 1, ["in"]])
def test_checkin_with_an_unknown_direction_is_400(client, make, gate, direction):
    edition, _staff, clear = gate
    visitor = make.registration(edition)
    db.session.commit()

    response = checkin(client, clear, edition, code_of(visitor), "2025-03-05T09:00:00+08:00", direction=direction)

    assert response.status_code == 400
    assert response.json["field"] == "direction"
    assert count(Scan) == 0


def test_lead_scan_with_a_direction_is_400(client, make, booth):
    visitor = make.registration(booth.edition)
    db.session.commit()

    response = lead_scan(client, booth.token, code_of(visitor), direction="in")

    assert response.status_code == 400
    assert count(Scan) == 0


# --- issue 9: the batch in bulk keeps every per-item guarantee ------------------------------------------------

def test_batch_same_client_scan_id_twice_in_one_batch_is_stored_once(client, make, booth):
    first, second = make.registration(booth.edition), make.registration(booth.edition)
    db.session.commit()
    items = [{"code": code_of(first), "kind": "lead", "client_scan_id": "same"},
             {"code": code_of(second), "kind": "lead", "client_scan_id": "same"}]

    answers = post(client, booth.token, items, path=BATCH).json

    assert (answers[0]["replayed"], answers[1]["replayed"]) == (False, True)
    assert {**answers[1], "replayed": False} == answers[0]
    assert count(Scan) == 1 and count(Lead) == 1


def test_batch_one_admission_per_day_even_at_two_gates_in_one_batch(client, make, gate):
    edition, _staff, clear = gate
    visitor, other = make.registration(edition), make.registration(edition)
    db.session.commit()
    code = code_of(visitor)
    items = [{"code": code, "kind": "checkin", "client_scan_id": new_scan_id(), "edition_id": edition.id,
              "gate": gate_name, "scanned_at": at}
             for gate_name, at in (("North", "2025-03-05T09:00:00+08:00"), ("South", "2025-03-05T09:01:00+08:00"),
                                   ("North", "2025-03-06T09:00:00+08:00"))]
    items.append({"code": code_of(other), "kind": "checkin", "client_scan_id": new_scan_id(),
                  "edition_id": edition.id, "gate": "South", "scanned_at": "2025-03-05T09:02:00+08:00"})

    answers = post(client, clear, items, path=BATCH).json

    assert [a["result"] for a in answers] == ["ok", "duplicate", "ok", "ok"]
    assert answers[0]["visitor"]["name"] == visitor.person.name
    admissions = [(s.registration_id, s.admitted_on) for s in all_scans() if s.admitted_on]
    assert len(admissions) == 3 and len(set(admissions)) == 3
    again = post(client, clear, [{**items[1], "client_scan_id": new_scan_id()}], path=BATCH).json
    assert again[0]["result"] == "duplicate"  # admitted that day by an earlier batch


def test_batch_every_refusal_reason_in_place(client, make, booth):
    """A batch of every kind of badge answers each one as a single scan would, in order."""
    other_edition = make.edition(organizer_of(booth.edition))
    good, waitlisted, cancelled, reissued = (make.registration(booth.edition) for _ in range(4))
    foreign = make.registration(other_edition)
    db.session.flush()
    waitlisted.status = "waitlisted"
    old_reissued = code_of(reissued)
    visitor_services.reissue_badge(reissued)
    visitor_services.cancel_registration(cancelled)
    forger_key, _public = badge_codes.generate_keypair()
    db.session.commit()
    codes = [code_of(good), "garbage!", code_of(foreign), badge_codes.sign_badge(forger_key, booth.edition.id,
                                                                                  good.id, good.badge_serial),
             badge_codes.sign_badge(booth.edition.signing_key, booth.edition.id, 987_654, 1), old_reissued,
             code_of(cancelled), code_of(waitlisted), code_of(good)]
    items = [{"code": code, "kind": "lead", "client_scan_id": f"r-{n}"} for n, code in enumerate(codes)]

    answers = post(client, booth.token, items, path=BATCH).json

    assert [(a["result"], a["reason"]) for a in answers] == [
        ("ok", None), ("refused", "malformed"), ("refused", "other_edition"), ("refused", "invalid_signature"),
        ("refused", "unknown_registration"), ("refused", "revoked"), ("refused", "revoked"),
        ("refused", "not_admitted"), ("duplicate", None)]
    assert all(a["visitor"] is None for a in answers[1:8])
    assert [s.client_scan_id for s in all_scans()] == [item["client_scan_id"] for item in items]
    assert db.session.scalars(select(Lead)).one().scan_count == 2


def test_batch_answers_as_single_scans_would(app, make):
    """The same mixed upload, once as a batch and once scan by scan by another device of another exhibitor:
    the same results, reasons, visitors and lead counts."""
    edition = make.edition()
    booths = [Booth(make, edition), Booth(make, edition)]
    visitors = [make.registration(edition, share=n % 3 != 0) for n in range(12)]
    db.session.commit()
    codes = [code_of(v) for v in visitors]
    sequence = [codes[n % 7] for n in range(25)] + ["junk", codes[11], codes[0]]
    client = app.test_client()

    def item(n, code):
        return {"code": code, "kind": "lead", "client_scan_id": f"s-{n}", "scanned_at": f"2025-03-05T10:{n:02d}:00Z"}

    batch = post(client, booths[0].token, [item(n, code) for n, code in enumerate(sequence)], path=BATCH).json
    single = [post(client, booths[1].token, item(n, code)).json for n, code in enumerate(sequence)]

    def shape(answers):
        return [(a["result"], a["reason"], a["visitor"], a["replayed"], a["scanned_at"]) for a in answers]

    assert shape(batch) == shape(single)
    counts = [sorted((lead.registration_id, lead.scan_count, lead.first_scanned_at, lead.last_scanned_at)
                     for lead in db.session.scalars(select(Lead).where(Lead.exhibitor_id == b.exhibitor.id)))
              for b in booths]
    assert counts[0] == counts[1]


def test_batch_of_an_exhibitor_not_taking_part_captures_no_lead(client, make, booth):
    from expo.exhibitors import services as exhibitor_services

    visitor = make.registration(booth.edition)
    exhibitor_services.set_status(booth.exhibitor, "cancelled")
    db.session.commit()

    answers = post(client, booth.token, [{"code": code_of(visitor), "kind": "lead", "client_scan_id": "1"}],
                   path=BATCH).json

    assert (answers[0]["result"], answers[0]["reason"], answers[0]["visitor"]) == (
        "refused", "exhibitor_not_taking_part", None)
    assert count(Lead) == 0


def test_batch_a_new_lead_is_audited_and_on_the_visitors_timeline_once(client, make, booth):
    from expo.core.models import Activity, AuditEntry

    visitor = make.registration(booth.edition)
    db.session.commit()
    items = [{"code": code_of(visitor), "kind": "lead", "client_scan_id": new_scan_id()} for _ in range(3)]

    post(client, booth.token, items, path=BATCH)

    lead = db.session.scalars(select(Lead)).one()
    assert lead.scan_count == 3 and lead.captured_by_id == booth.staff.id
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.captured")).all()
    assert (entry.object_id, entry.user_id) == (lead.id, booth.staff.id)
    [timeline] = db.session.scalars(select(Activity).where(Activity.kind == "lead.captured")).all()
    assert (timeline.subject_id, timeline.object_id) == (visitor.person_id, lead.id)
    assert timeline.details["exhibitor"] == booth.exhibitor.company.name


def test_scan_answers_with_a_token_are_private(client, make, booth):
    """An answer carries the visitor's shared details: never kept by a shared cache, also when the caller
    authenticates with a token and has no session (before: no Cache-Control at all on token calls)."""
    registration = make.registration(booth.edition)
    db.session.commit()
    response = lead_scan(client, booth.token, code_of(registration))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"


def test_a_page_left_open_by_the_previous_user_cannot_send_in_the_next_users_name(client, make):
    """A shared phone: A's scanner page (kept by the service worker, with A's queue and A's CSRF token) must not
    upload A's scans with B's session cookie once A signed out and B signed in. Every sign-in and sign-out makes
    a new CSRF token; the refusal says "csrf" so the page keeps its queue (and asks for a new sign-in)."""
    first = Booth(make)
    second = Booth(make, edition=first.edition)
    visitor = make.registration(first.edition)
    db.session.commit()
    login(client, first.staff)
    token_of_first = csrf_token(client, "/portal/scan")
    assert client.post("/logout", data={"csrf_token": token_of_first}).status_code == 302
    login(client, second.staff)

    response = client.post(BATCH, json=[{"code": code_of(visitor), "kind": "lead", "client_scan_id": new_scan_id()}],
                           headers={"X-CSRFToken": token_of_first})

    assert response.status_code == 400 and response.json["code"] == "csrf"
    assert count(Lead) == 0 and count(Scan) == 0
    # B's own page works with B's token
    own = client.post(BATCH, json=[{"code": code_of(visitor), "kind": "lead", "client_scan_id": new_scan_id()}],
                      headers={"X-CSRFToken": csrf_token(client, "/portal/scan")})
    assert own.status_code == 200 and db.session.scalar(select(Lead.exhibitor_id)) == second.exhibitor.id
