"""Query budgets of the hot paths (pretix's test_query_load, Indico's count_queries): the number of SQL
statements one request sends, from the token look-up to the commit. A change that adds a query to a
hot path fails here and has to say why in the budget it raises. Measured on both databases; budgets
are the maximum over the two (SQLite's BEGIN IMMEDIATE write lock counts as a statement there)."""
from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import select

from expo.core import services as core
from expo.extensions import db
from expo.leads.models import Lead
from expo.onsite.models import Scan
from expo.visitors.models import Registration
from expo.visitors.services import badge_code

from .conftest import csrf_token, new_scan_id

# Statements per request with a token in use (its last_used_at is written once per 10 minutes, not per scan).
BUDGETS = {
    "lead scan": 8,  # token+user+exhibitor+edition+company, idempotency, registration+person, lead?, lead, audit,
    #                  the visitor's timeline (activity, +1 in issue 7), scan
    "re-scan": 6,  # token…, idempotency, registration+person, lead?, lead count, scan
    "replay": 3,  # token…, the stored scan, its registration+person
    "check-in": 7,  # token+user, edition (scoped), idempotency, registration+person, admitted today?, scan,
    #                 the visitor's timeline (activity, +1 in issue 7)
    "registration submit": 7,  # edition with its show and registration policy (one statement), the edition's
    #                            questions and category rules (and the interests sent) in one statement, person?,
    #                            person, registration, audit, the visitor's timeline (activity). Not here: the
    #                            category tree (only the GET page shows it); with interests +1 INSERT of the links;
    #                            with a category setting +1 (+1 FOR UPDATE when the category has a capacity)
}


def client_of(edition):
    return current_app.test_client()


@pytest.fixture
def scanner(make):
    edition = make.edition()
    exhibitor = make.exhibitor(edition)
    booth = make.user("booth_staff", exhibitor=exhibitor)
    gate = make.user("onsite", _organizer(edition))
    visitor, early_bird = make.registration(edition), make.registration(edition)
    tokens = {"booth": core.create_api_token(booth, "t")[1], "gate": core.create_api_token(gate, "t")[1]}
    db.session.commit()
    edition_id, visitor_id, code, early_code = edition.id, visitor.id, badge_code(visitor), badge_code(early_bird)
    # Each device has scanned someone already this shift: its token is in use.
    for token, kind in ((tokens["booth"], "lead"), (tokens["gate"], "checkin")):
        _scan(client_of(edition), token, {"code": early_code, "kind": kind, "client_scan_id": new_scan_id(),
                                          "edition_id": edition_id})
    return edition_id, visitor_id, code, tokens


def _organizer(edition):
    from expo.core.models import Organizer

    return db.session.get(Organizer, edition.organizer_id)


def _scan(client, token, body):
    response = client.post("/api/v1/scans", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


def _within(name, counter):
    assert len(counter) <= BUDGETS[name], f"{name}: {len(counter)} statements > {BUDGETS[name]}\n{counter.report()}"


def test_lead_scan_rescan_and_replay(client, scanner, count_queries):
    _edition_id, visitor_id, code, tokens = scanner
    first = {"code": code, "kind": "lead", "client_scan_id": new_scan_id()}
    with count_queries() as new_lead:
        assert _scan(client, tokens["booth"], first)["result"] == "ok"
    _within("lead scan", new_lead)
    with count_queries() as rescan:
        assert _scan(client, tokens["booth"], {**first, "client_scan_id": new_scan_id()})["result"] == "duplicate"
    _within("re-scan", rescan)
    with count_queries() as replay:
        assert _scan(client, tokens["booth"], first)["replayed"] is True
    _within("replay", replay)
    db.session.rollback()
    assert db.session.scalar(select(Lead.scan_count).where(Lead.registration_id == visitor_id)) == 2
    assert len(list(db.session.scalars(select(Scan).where(Scan.registration_id == visitor_id)))) == 2


def test_checkin(client, scanner, count_queries):
    edition_id, _visitor_id, code, tokens = scanner
    body = {"code": code, "kind": "checkin", "client_scan_id": new_scan_id(), "edition_id": edition_id}
    with count_queries() as checkin:
        assert _scan(client, tokens["gate"], body)["result"] == "ok"
    _within("check-in", checkin)


def test_registration_submit(client, make, count_queries):
    slug = make.edition().slug
    db.session.commit()
    token = csrf_token(client, f"/e/{slug}")
    form = {"csrf_token": token, "name": "王小明", "email": "wang@example.cn", "phone": "13912345678",
            "company": "深圳宏达家具有限公司", "job_title": "采购经理", "country": "CN", "category": "buyer",
            "consent": "y", "share_with_exhibitors": "y"}
    with count_queries() as submit:
        response = client.post(f"/e/{slug}", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.scalar(select(Registration.id)) is not None
    _within("registration submit", submit)
