"""Hostile input to the scan API never reaches a 500, and a poisoned batch keeps its good scans: NUL bytes,
lone surrogates, ids beyond the integer range, times that overflow, JSON nested 100,000 deep."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from expo.core import services as core
from expo.core.models import Organizer
from expo.extensions import db
from expo.onsite.models import Scan
from expo.visitors.services import badge_code

from ..conftest import new_scan_id

BAD_FIELDS = [
    ("code", "ABC\x00DEF"),
    ("code", "\ud800ABC"),
    ("client_scan_id", "scan\x00id"),
    ("client_scan_id", "\udfff"),
    ("gate", "North\x00"),
    ("gate", "\ud83d"),
    ("edition_id", 2**31),
    ("edition_id", 10**30),
    ("edition_id", -1),
    ("scanned_at", "0001-01-01T00:00:00+05:00"),
    ("scanned_at", "9999-12-31T23:59:59-05:00"),
    ("scanned_at", "9999-12-31T23:00:00Z"),  # a valid UTC time whose day in Shanghai is past the calendar
    ("scanned_at", "1999-12-31T23:59:59Z"),
]


@pytest.fixture
def gate(make):
    edition = make.edition()
    staff = make.user("onsite", db.session.get(Organizer, edition.organizer_id))
    visitors = [make.registration(edition) for _ in range(3)]
    clear = core.create_api_token(staff, "gate")[1]
    db.session.commit()
    return edition.id, [badge_code(v) for v in visitors], clear


def _scan(edition_id, code, **extra):
    return {"code": code, "kind": "checkin", "client_scan_id": new_scan_id(), "edition_id": edition_id, **extra}


def _post(client, clear, body, path="/api/v1/scans"):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", headers={"Authorization": f"Bearer {clear}"})


@pytest.mark.parametrize("field, value", BAD_FIELDS, ids=[f"{f}-{i}" for i, (f, _v) in enumerate(BAD_FIELDS)])
def test_a_hostile_field_gets_a_clear_400(client, gate, field, value):
    edition_id, codes, clear = gate
    body = {**_scan(edition_id, codes[0]), field: value}
    response = _post(client, clear, body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["field"] == field
    db.session.rollback()
    assert db.session.scalars(select(Scan)).all() == []


def test_json_nested_100000_deep_is_a_400(client, gate):
    _edition_id, _codes, clear = gate
    response = _post(client, clear, "[" * 100_000 + "]" * 100_000)
    assert response.status_code == 400
    response = _post(client, clear, "[" * 100_000 + "]" * 100_000, path="/api/v1/scans/batch")
    assert response.status_code == 400


@pytest.mark.parametrize("field, value", BAD_FIELDS, ids=[f"{f}-{i}" for i, (f, _v) in enumerate(BAD_FIELDS)])
def test_a_poisoned_batch_stores_its_good_scans(client, gate, field, value):
    edition_id, codes, clear = gate
    good = [_scan(edition_id, code) for code in codes]
    bad = {**_scan(edition_id, codes[0]), field: value}
    response = _post(client, clear, [good[0], bad, good[1], good[2]], path="/api/v1/scans/batch")
    assert response.status_code == 200, response.get_data(as_text=True)
    answers = response.json
    assert [a["result"] for a in answers] == ["ok", "error", "ok", "ok"]
    assert answers[1]["status"] == 400
    db.session.rollback()
    stored = {s.client_scan_id for s in db.session.scalars(select(Scan))}
    assert stored == {item["client_scan_id"] for item in good}
