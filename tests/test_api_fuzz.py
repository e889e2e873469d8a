"""A property-based run of the JSON API against its own OpenAPI document (schemathesis over Hypothesis).

Schemathesis reads /api/v1/openapi.json from the app and generates calls from it: bodies that fit the document
(positive) and bodies that break it on purpose (negative: wrong types, missing fields, out-of-range numbers,
odd JSON). On top, one scan in ten gets a hostile value the document cannot express (a NUL byte, a lone
surrogate, an id beyond the integer range, a time that overflows in UTC). Each call goes through the real app
(WSGI, no server) into a real world: two organizers, exhibitors (one of them cancelled), registrations in every
state, a real API token of every role (and no token, and a forged one). So that the success path is walked as
well as the refusals, half of the positive scans carry a real badge code — valid, reissued, revoked, of a
cancelled or unconfirmed registration, of another organizer's edition, altered by one character — and some
check-ins name the live edition.

Every case is sent twice, as a scanner retrying would. Every answer must be no server error and what the document
says for its status (schema, content type, headers), and the retry must answer as the first call did (a stored
scan is replayed, never stored twice). Hypothesis runs derandomized and without its example database: the same
calls every run, nothing written into the repository. The sizes below keep the file at about a minute of CPU;
run it alone with ``.venv/bin/pytest -q -s tests/test_api_fuzz.py`` (-s prints what the run reached), with
EXPO_TEST_DATABASE_URL for PostgreSQL (docs/development.md).
"""
from __future__ import annotations

import random
import tempfile
import time
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from expo.core import services as core
from expo.core.openapi import DOCUMENT_PATH
from expo.core.scoping import Scope
from expo.exhibitors import services as exhibitor_services
from expo.extensions import db
from expo.visitors import services as visitor_services

from .conftest import PASSWORD, Factory

# Hypothesis keeps caches (the constants it reads from the code, Unicode tables) in .hypothesis/ of the working
# directory even without its example database: here, in the temporary directory instead, not in the repository.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "expo-hypothesis")

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
# Generated cases per operation and mode, each sent twice (a retry): a little over 2,000 calls in all.
EXAMPLES = {("scan", GenerationMode.POSITIVE): 550, ("scan", GenerationMode.NEGATIVE): 300,
            ("scan_batch", GenerationMode.POSITIVE): 100, ("scan_batch", GenerationMode.NEGATIVE): 80}
# What a hostile scanner sends besides what the document allows (Hypothesis' text never holds a lone
# surrogate): text no database can hold, ids beyond the integer range, times that overflow in UTC.
HOSTILE = {"code": ["ABC\x00DEF", "\ud800", "x" * 5000], "client_scan_id": ["scan\x00id", "\udfff"],
           "gate": ["North\x00", "\ud83d", "G" * 500], "edition_id": [2**31, 10**30, -1, 0, True, 1.5],
           "scanned_at": ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", "2026-02-30T10:00:00",
                          "2026-11-23T09:41:07.123456789+08:00"]}
VISITORS = 30  # in organizer A's live edition: 27 confirmed, one reissued badge, one cancelled, one pending
# Whose token a scan carries: mostly one whose role makes that kind of scan, at times anyone's, none or a forged one.
LEAD_ROLES = ("booth_staff.a", "exhibitor_admin.a", "booth_staff.a2", "booth_staff.b", "booth_staff.cancelled")
CHECKIN_ROLES = ("onsite.a", "owner.a", "manager.a")


@dataclass
class World:
    codes: list[str]  # badges that admit, and capture a lead
    odd_codes: list[str]  # badges refused for every reason there is
    tokens: dict[str, str]
    edition_ids: list[int]
    tally: Counter = field(default_factory=Counter)


@pytest.fixture
def world(app) -> World:
    """Built and committed once for a test; the calls then run outside any app context, as in production."""
    with app.app_context():
        make = Factory()
        a = make.tenant("A", exhibitors=2, visitors=VISITORS, tokens=True)
        b = make.tenant("B", visitors=1, tokens=True)
        cancelled = exhibitor_services.add_exhibitor(Scope(a.organizer.id), a.edition, "Withdrawn Co", status="cancelled")
        gone = core.create_user(a.organizer.id, "booth.gone@example.com", "Gone", PASSWORD, "booth_staff",
                                exhibitor_id=cancelled.id)
        *confirmed, reissue, cancel, pending = a.registrations
        valid = [visitor_services.badge_code(r) for r in confirmed]
        revoked = visitor_services.badge_code(reissue)
        reissued = visitor_services.reissue_badge(reissue)
        visitor_services.cancel_registration(cancel)
        pending.status = "pending"  # awaiting approval (a waiting list, an import): not admitted yet
        odd = [revoked, visitor_services.badge_code(cancel), visitor_services.badge_code(pending), b.code,
               valid[0].lower(), f" {valid[1][:60]} {valid[1][60:]}\n",  # as some readers deliver them
               valid[2][:-1] + ("A" if valid[2][-1] != "A" else "B"), valid[0][:100]]
        tokens = {f"{role}.a": clear for role, (_token, clear) in a.tokens.items()}
        tokens["booth_staff.b"] = b.tokens["booth_staff"][1]
        tokens["booth_staff.cancelled"] = core.create_api_token(gone, "scanner")[1]
        tokens["booth_staff.a2"] = core.create_api_token(a.exhibitors[1][2], "scanner")[1]
        edition_ids = [a.edition.id, b.edition.id]
        db.session.commit()
        db.session.remove()
    return World([*valid, reissued], odd, tokens, edition_ids)


def _doctor(body, rnd, world: World, *, real_codes: bool) -> str | None:
    """Real badge codes in about half of the scans (and at times a real edition or none), a hostile
    value in one in ten; then the token to send: mostly one whose role fits the first scan's kind.

    ``rnd`` is seeded from the generated case: the same case is doctored the same way every run (and while
    Hypothesis shrinks it), and the choices are even, where Hypothesis' own draws favour their "simplest"
    value (the first item, zero) and would make the hostile values the common case."""
    items = body if isinstance(body, list) else [body]
    for item in items:
        if not isinstance(item, dict):
            continue
        if real_codes and rnd.random() < 0.5:
            item["code"] = rnd.choice(world.codes if rnd.random() < 0.6 else world.odd_codes)
            if rnd.random() < 0.5:  # a fresh scan, not a replay of a client_scan_id this user sent before
                item["client_scan_id"] = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
            if rnd.random() < 0.5:  # at times the live edition (or none): a generated id is rarely a real one
                item["edition_id"] = rnd.choice([None, *world.edition_ids])
        if rnd.random() < 0.1:
            name = rnd.choice(sorted(HOSTILE))
            item[name] = rnd.choice(HOSTILE[name])
    kind = next((item.get("kind") for item in items if isinstance(item, dict)), None)
    fitting = LEAD_ROLES if kind == "lead" else CHECKIN_ROLES if kind == "checkin" else ()
    if fitting and rnd.random() < 0.75:
        return world.tokens[rnd.choice(fitting)]
    return rnd.choice([*world.tokens.values(), "expo_forged-token", None])


def _same_answer(first, again) -> None:
    """A retry (same token, same body) answers as the first call did: a stored scan is stored once and its
    answer replayed; what was refused is refused again."""
    assert again.status_code == first.status_code
    if first.status_code != 200:
        return
    before, after = first.json(), again.json()
    pairs = zip(before, after) if isinstance(before, list) else [(before, after)]
    for one, two in pairs:
        assert one["result"] == two["result"] and one.get("reason") == two.get("reason"), (one, two)
        if "scan_id" in one:
            assert two["scan_id"] == one["scan_id"] and two["replayed"] is True, (one, two)
            assert two["visitor"] == one["visitor"], (one, two)


def _tally(world: World, response) -> None:
    world.tally["calls"] += 1
    world.tally[f"status {response.status_code}"] += 1
    if response.status_code == 400:
        world.tally[f"400 {(response.json() or {}).get('field')}"] += 1
    if response.status_code != 200:
        return
    answers = response.json()
    for answer in answers if isinstance(answers, list) else [answers]:
        world.tally["scans"] += 1
        world.tally[f"{answer.get('kind', 'item')} {answer['result']} {answer.get('reason') or answer.get('field') or ''}".strip()] += 1


def _fuzz(app, world: World, path: str, operation_id: str, mode: GenerationMode):
    schema = schemathesis.openapi.from_wsgi(DOCUMENT_PATH, app)
    operation = schema[path]["POST"]
    if mode is GenerationMode.POSITIVE:
        # Valid scans should mostly be storable: NUL bytes are the hostile values' and the negative run's job.
        schema.config.generation.update(allow_x00=False)
    cases = operation.as_strategy(generation_mode=mode)

    @settings(max_examples=EXAMPLES[operation_id, mode], deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate, Phase.shrink], report_multiple_bugs=False,
              suppress_health_check=list(HealthCheck))
    @given(case=cases, data=st.data())
    def call(case, data):
        seed = f"{data.draw(st.integers(0, 2**16))}:{case.body!r}"
        token = _doctor(case.body, random.Random(zlib.crc32(seed.encode("utf-8", "surrogatepass"))), world,
                        real_codes=mode is GenerationMode.POSITIVE)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        first = case.call(headers=headers)
        case.validate_response(first, checks=CHECKS, headers=headers)
        again = case.call(headers=headers)
        case.validate_response(again, checks=CHECKS, headers=headers)
        _same_answer(first, again)
        _tally(world, first)
        world.tally["calls"] += 1

    started, cpu = time.perf_counter(), time.process_time()
    call()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"\n{operation_id} {mode.value}: {world.tally['calls']} calls, {world.tally['scans']} scans answered "
          f"in {seconds:.1f} s ({cpu:.1f} s CPU); {dict(sorted(world.tally.items()))}")
    return world.tally


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_fuzz_single_scans(app, world, mode):
    tally = _fuzz(app, world, "/api/v1/scans", "scan", mode)
    assert tally["calls"] >= 2 * EXAMPLES["scan", mode]
    if mode is GenerationMode.POSITIVE:
        # The generated calls reach the success path, not only the refusals.
        assert tally["lead ok"] and tally["checkin ok"] and tally["lead duplicate"] + tally["checkin duplicate"], tally
        assert len({key.rsplit(" ", 1)[1] for key in tally if " refused " in key}) >= 5, tally  # reasons
        assert tally["status 401"] and tally["status 403"] and tally["status 400"], tally


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_fuzz_batches(app, world, mode):
    tally = _fuzz(app, world, "/api/v1/scans/batch", "scan_batch", mode)
    assert tally["calls"] >= 2 * EXAMPLES["scan_batch", mode]
    if mode is GenerationMode.POSITIVE:
        assert tally["lead ok"] and tally["item error"], tally
