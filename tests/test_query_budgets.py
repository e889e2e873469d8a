"""Query budgets of the hot paths (pretix's test_query_load, Indico's count_queries): the number of SQL
statements one request sends, from the token look-up to the commit. A change that adds a query to a
hot path fails here and has to say why in the budget it raises. Measured on both databases; budgets
are the maximum over the two, or one per database where they differ."""
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
    # issue 9: Core selects of plain rows, the idempotency check folded into the registration's select, the
    # lead as one INSERT … ON CONFLICT DO UPDATE (was: lead?, then an insert or an update).
    # token+user+exhibitor+company+edition, (scan sent before? + registration+person), lead upsert, audit, the
    # visitor's timeline (activity), scan (was 8); on PostgreSQL the upsert, the audit and the timeline entry are
    # one statement (data-modifying CTEs, leads.services.capture_lead).
    "lead scan": {"postgresql": 4, "sqlite": 6},
    "re-scan": 4,  # token…, (sent before? + registration+person), lead upsert (a count), scan (was 6)
    "replay": 3,  # token…, (sent before? + registration…), the stored scan with its registration+person
    "check-in": 6,  # token+user, edition (the organizer's), (sent before? + registration+person + admitted that
    #                 day?), the gates' set-up stamp (zones.gate_decision, issue 9), scan, the visitor's timeline
    #                 (activity) (was 7, without the stamp)
    # A batch upload of booth scans, whatever its size (up to BATCH_LIMIT): token…, the scans sent before with
    # their registrations, the registrations+persons, SAVEPOINT, lead upsert, audit entries, timeline entries,
    # the scans, RELEASE. A batch of replays: token…, the scans sent before, SAVEPOINT, RELEASE.
    "batch of lead scans": 9,
    # A batch upload of check-ins, whatever its size: token…, the edition, the scans sent before, the
    # registrations+persons, the gates' set-up stamp, today's admissions, SAVEPOINT, the scans, the timeline
    # entries, RELEASE (the visitors' exits only when a zone restricts re-entry: +1).
    "batch of check-ins": 10,
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
    budget = BUDGETS[name]
    if isinstance(budget, dict):  # a budget per database
        budget = budget[db.engine.dialect.name]
    assert len(counter) <= budget, f"{name}: {len(counter)} statements > {budget}\n{counter.report()}"


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


def _batch(client, token, codes, prefix):
    response = client.post("/api/v1/scans/batch", headers={"Authorization": f"Bearer {token}"},
                           json=[{"code": code, "kind": "lead", "client_scan_id": f"{prefix}-{n}"}
                                 for n, code in enumerate(codes)])
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json


@pytest.mark.parametrize("size", [10, 100])
def test_batch_of_lead_scans_does_not_grow_with_its_size(client, make, count_queries, size):
    """New leads, re-scans, a visitor twice and a replay in one batch: a fixed number of statements."""
    edition = make.edition()
    exhibitor = make.exhibitor(edition)
    booth = make.user("booth_staff", exhibitor=exhibitor)
    visitors = [make.registration(edition) for _ in range(size // 2)]
    token = core.create_api_token(booth, "t")[1]
    db.session.commit()
    codes = [badge_code(v) for v in visitors]
    _batch(client, token, codes[:3], "warm")  # the token in use; three leads there before
    batch_codes = (codes + codes)[:size - 1]
    with count_queries() as batch:
        answers = _batch(client, token, [codes[0], *batch_codes], "b")
    _within("batch of lead scans", batch)
    assert len(answers) == size
    assert {a["result"] for a in answers} == {"ok", "duplicate"}
    with count_queries() as replay:
        again = _batch(client, token, [codes[0], *batch_codes], "b")
    _within("batch of lead scans", replay)
    assert all(a["replayed"] for a in again)


@pytest.mark.parametrize("size", [10, 100])
def test_batch_of_checkins_does_not_grow_with_its_size(client, make, count_queries, size):
    """Admissions, second entries of the day and exits at a gate in one upload: a fixed number of statements."""
    edition = make.edition()
    gate = make.user("onsite", _organizer(edition))
    visitors = [make.registration(edition) for _ in range(size // 2)]
    token = core.create_api_token(gate, "t")[1]
    db.session.commit()
    codes = [badge_code(v) for v in visitors]
    items = [{"code": code, "kind": "checkin", "client_scan_id": f"c-{n}", "edition_id": edition.id,
              "gate": "North", "direction": "out" if n % 5 == 4 else None, "scanned_at": "2025-03-05T09:00:00+08:00"}
             for n, code in enumerate((codes + codes)[:size])]
    client.post("/api/v1/scans", headers={"Authorization": f"Bearer {token}"},  # the token in use
                json={"code": codes[0], "kind": "checkin", "client_scan_id": "warm", "edition_id": edition.id})
    with count_queries() as batch:
        response = client.post("/api/v1/scans/batch", headers={"Authorization": f"Bearer {token}"}, json=items)
    assert response.status_code == 200, response.get_data(as_text=True)
    _within("batch of check-ins", batch)
    assert {a["result"] for a in response.json} == {"ok", "duplicate"}
