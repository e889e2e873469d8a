"""The scanner's offline bundle (GET /api/v1/scanner/config), the web app manifest and the service worker
(expo/onsite/pwa.py): what the bundle holds, that it is scoped to the caller's edition and exhibitor, every
role's answer, hostile parameters, and that the public key it hands out verifies the edition's badges."""
from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask_babel import force_locale

from expo.core import badge_codes
from expo.extensions import db
from expo.onsite import pwa
from expo.onsite.models import SCAN_REASON
from expo.visitors import services as visitor_services

from ..conftest import login, new_scan_id

CONFIG = "/api/v1/scanner/config"


@pytest.fixture
def tenant(make):
    t = make.tenant("A", visitors=4, tokens=True)
    other = make.tenant("B", visitors=1, tokens=True)
    db.session.commit()
    return t, other


def bearer(t, role) -> dict:
    return {"Authorization": f"Bearer {t.tokens[role][1]}"}


def test_booth_bundle_holds_the_key_labels_ratings_and_the_exhibitors_edition(client, tenant):
    t, _other = tenant
    response = client.get(CONFIG, headers=bearer(t, "booth_staff"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "private, no-store"
    bundle = response.get_json()
    assert bundle["kind"] == "lead"
    assert bundle["edition"]["id"] == t.edition.id and bundle["edition"]["timezone"] == t.edition.timezone
    assert base64.b64decode(bundle["edition"]["public_key"]) == t.edition.verify_key
    assert bundle["exhibitor"] == {"id": t.exhibitor.id, "name": t.exhibitor.company.name}
    assert set(bundle["labels"]["reasons"]) == set(SCAN_REASON.codes)
    assert {"ok", "duplicate", "refused", "queued", "error"} <= set(bundle["labels"]["results"])
    assert [r["value"] for r in bundle["labels"]["ratings"]] == ["hot", "warm", "cold"]
    assert isinstance(bundle["questions"], list)
    assert bundle["gates"] == [] and bundle["counters"] is None
    assert bundle["lead_url"].endswith("/{id}") and "{id}" in bundle["lead_url"]
    assert bundle["csrf_token"]
    # nothing personal: no visitor's name or e-mail anywhere in the bundle
    text = json.dumps(bundle, ensure_ascii=False)
    for registration in t.registrations:
        assert registration.person.name not in text and registration.person.email not in text


def test_the_public_key_verifies_a_real_badge_and_not_a_forged_one(client, tenant):
    t, _other = tenant
    bundle = client.get(CONFIG, headers=bearer(t, "booth_staff")).get_json()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(bundle["edition"]["public_key"]))
    claim = badge_codes.read_badge(t.code)
    key.verify(claim.signature, b"EXPO-BADGE" + claim.signed)
    assert badge_codes.signature_valid(claim, base64.b64decode(bundle["edition"]["public_key"]))
    forged = badge_codes.read_badge(t.code[:-6] + ("A" if t.code[-6] != "A" else "B") + t.code[-5:])
    assert not badge_codes.signature_valid(forged, base64.b64decode(bundle["edition"]["public_key"]))


def test_revocation_list_names_reissued_serials_and_cancelled_registrations(client, tenant):
    t, other = tenant
    reissued, cancelled = t.registrations[1], t.registrations[2]
    visitor_services.reissue_badge(reissued)
    visitor_services.reissue_badge(reissued)
    visitor_services.cancel_registration(cancelled)
    visitor_services.reissue_badge(other.registration)  # another organizer's: never in this bundle
    db.session.commit()
    for role in ("booth_staff", "onsite"):
        revoked = client.get(CONFIG, headers=bearer(t, role)).get_json()["revoked"]
        assert revoked == {"reissued": {str(reissued.id): 3}, "cancelled": [cancelled.id]}, role


@pytest.mark.parametrize("role", ["owner", "manager", "onsite"])
def test_entrance_bundle_has_counters_and_gates(client, tenant, role):
    t, _other = tenant
    from expo.onsite import services

    services.record_scan(t.users["onsite"], code=t.code, kind="checkin", client_scan_id=new_scan_id(),
                         edition_id=t.edition.id)
    db.session.commit()
    bundle = client.get(f"{CONFIG}?kind=checkin&edition_id={t.edition.id}", headers=bearer(t, role)).get_json()
    assert bundle["kind"] == "checkin" and bundle["edition"]["id"] == t.edition.id
    assert bundle["counters"]["checked_in"] == 1 and bundle["counters"]["expected"] == 4
    assert isinstance(bundle["gates"], list)
    assert "exhibitor" not in bundle and bundle["questions"] == []
    # without parameters an organizer's default is the check-in of the live edition
    assert client.get(CONFIG, headers=bearer(t, role)).get_json()["edition"]["id"] == t.edition.id


# every role, by session (GET needs no CSRF token) and by bearer token
EXPECTED = {"anonymous": 401, "owner": 200, "manager": 200, "sales": 403, "onsite": 200, "analyst": 403,
            "exhibitor_admin": 200, "booth_staff": 200}


@pytest.mark.parametrize("role", EXPECTED)
@pytest.mark.parametrize("auth", ["session", "token"])
def test_every_role(client, tenant, role, auth):
    t, _other = tenant
    headers = {}
    if role != "anonymous":
        if auth == "session":
            login(client, t.users[role])
        else:
            headers = bearer(t, role)
    response = client.get(CONFIG, headers=headers)
    assert response.status_code == EXPECTED[role], (role, auth, response.get_data(as_text=True))
    if response.status_code == 200:
        kind = "lead" if role in ("exhibitor_admin", "booth_staff") else "checkin"
        assert response.get_json()["kind"] == kind


@pytest.mark.parametrize("role, kind, status", [
    ("booth_staff", "checkin", 403), ("exhibitor_admin", "checkin", 403), ("onsite", "lead", 403),
    ("owner", "lead", 403), ("booth_staff", "bogus", 400), ("onsite", "", 200)])
def test_kind_must_fit_the_role(client, tenant, role, kind, status):
    t, _other = tenant
    response = client.get(f"{CONFIG}?kind={kind}", headers=bearer(t, role))
    assert response.status_code == status, response.get_data(as_text=True)
    if status != 200:
        assert response.get_json()["error"]


def test_scoped_to_the_callers_organizer_and_exhibitor(client, tenant):
    t, other = tenant
    foreign = other.edition.id
    assert client.get(f"{CONFIG}?kind=checkin&edition_id={foreign}", headers=bearer(t, "onsite")).status_code == 404
    assert client.get(f"{CONFIG}?kind=lead&edition_id={foreign}", headers=bearer(t, "booth_staff")).status_code == 404
    assert client.get(f"{CONFIG}?kind=lead&edition_id={t.edition.id}",
                      headers=bearer(t, "booth_staff")).status_code == 200
    mine = client.get(CONFIG, headers=bearer(other, "booth_staff")).get_json()
    assert mine["edition"]["id"] == foreign and mine["exhibitor"]["id"] == other.exhibitor.id
    assert base64.b64decode(mine["edition"]["public_key"]) == other.edition.verify_key


@pytest.mark.parametrize("value", ["abc", "-1", "0", "99999999999999999999", "1.5", "１２", "%00", "2147483648"])
def test_hostile_edition_ids_are_clear_errors(client, tenant, value):
    t, _other = tenant
    response = client.get(f"{CONFIG}?kind=checkin&edition_id={value}", headers=bearer(t, "onsite"))
    assert response.status_code == 400, (value, response.status_code)


def test_huge_but_valid_edition_id_is_not_found(client, tenant):
    t, _other = tenant
    assert client.get(f"{CONFIG}?kind=checkin&edition_id=2147483647", headers=bearer(t, "onsite")).status_code == 404


def test_labels_come_in_the_users_language(app, client, tenant):
    t, _other = tenant
    login(client, t.users["booth_staff"])
    client.get("/lang/zh_CN")
    bundle = client.get(CONFIG).get_json()
    with app.test_request_context(), force_locale("zh_CN"):
        assert bundle["labels"]["reasons"]["invalid_signature"] == str(SCAN_REASON.label("invalid_signature"))


def test_lead_questions_come_from_the_leads_module_when_it_has_them(client, tenant, monkeypatch):
    t, _other = tenant
    from expo.leads import services as leads

    questions = [{"key": "budget", "label": "Budget", "kind": "single",
                  "choices": [{"value": "lt10k", "label": "< 10k"}], "required": False}]
    monkeypatch.setattr(leads, "lead_questions_for", lambda exhibitor: questions, raising=False)
    assert client.get(CONFIG, headers=bearer(t, "booth_staff")).get_json()["questions"] == questions


def test_manifest_and_service_worker(client, tenant):
    t, _other = tenant
    manifest = client.get(f"/manifest.webmanifest?start=/org/editions/{t.edition.id}/checkin")
    assert manifest.status_code == 200 and manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["start_url"] == f"/org/editions/{t.edition.id}/checkin" and body["display"] == "standalone"
    assert body["icons"] and body["scope"] == "/"
    # anything else as start: the booth scanner, never another site or page
    for start in ("https://evil.example/", "//evil.example", "/org", "/portal/scan/../../x"):
        assert client.get("/manifest.webmanifest", query_string={"start": start}).get_json()["start_url"] == "/portal/scan"
    worker = client.get("/sw.js?v=x")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Cache-Control"] == "no-cache"
    assert "expo-scanner-shell-" in worker.get_data(as_text=True)


def test_the_workers_version_follows_the_shell_files(app, tenant):
    with app.test_request_context():
        version = pwa.shell_version()
        assert len(version) == 12 and pwa.register_url() == f"/sw.js?v={version}"
        assert pwa.shell_version() == version  # stable while no file changes


def test_scan_pages_link_the_manifest_and_the_worker(client, tenant):
    t, _other = tenant
    login(client, t.users["booth_staff"])
    page = client.get("/portal/scan").get_data(as_text=True)
    assert 'rel="manifest"' in page and "/manifest.webmanifest?start=/portal/scan" in page
    assert 'data-sw="/sw.js?v=' in page and "/api/v1/scanner/config?kind=lead" in page
