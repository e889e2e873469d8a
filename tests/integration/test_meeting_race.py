"""1,000 concurrent meeting requests for 100 slots: exactly 100 booked, no slot twice, no visitor in two places
at once. Real threads against the real database (PostgreSQL: row locks and partial unique indexes under true
concurrency); every request runs the whole service with its own session and its own commit, like a web worker.

On SQLite this suite's other integration tests that need a server skip; this one runs there too, where the write
lock serialises the requests (a smaller crowd, the same invariants)."""
from __future__ import annotations

import random
from datetime import date, time, timedelta

from sqlalchemy import func, select

from expo.core.db import on_commit
from expo.core.services import ServiceError
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.matchmaking import meeting_tasks, meetings
from expo.matchmaking.meeting_models import LIVE, Meeting, MeetingSlot
from expo.visitors.models import Registration

from ..conftest import race

EXHIBITORS = 10
SLOTS_EACH = 10  # 100 slots: ten exhibitors, the same ten times each
SINGLE_PER_SLOT = 6  # visitors asking for one slot only: every slot surely ends booked
DOUBLE = 200  # visitors asking for two slots at the same time with two exhibitors: at most one may be theirs


def _race(app, requests: list[tuple[int, int]]):
    """Every (registration id, slot id) request at the same moment (tests.conftest.race), each in its own thread,
    app context and transaction. Returns (booked, refused): (registration id, slot id, meeting id) of each
    booking, and the refusals' messages."""
    def ask(registration_id, slot_id):
        registration = db.session.get(Registration, registration_id)
        meeting = meetings.request_by_visitor(registration, db.session.get(MeetingSlot, slot_id))
        return registration_id, slot_id, meeting.id

    outcomes = race(app, ask, requests, timeout=120)
    return ([o for o in outcomes if not isinstance(o, ServiceError)],
            [str(o) for o in outcomes if isinstance(o, ServiceError)])


def test_a_thousand_concurrent_requests_for_a_hundred_slots_book_exactly_a_hundred(app, make, monkeypatch):
    # No worker here: the mail each booking hands over after its commit is counted, not run. (Eager tasks would
    # run inside the commit hook on a second pooled connection while the first is still held: with a thousand
    # threads on fifteen connections the pool itself would be the bottleneck under test, not the slots.)
    handed = []
    monkeypatch.setattr(meeting_tasks.send_meeting_mail, "delay",
                        lambda *args: on_commit(lambda: handed.append(args)))
    postgres = db.engine.dialect.name == "postgresql"
    scale = 1 if postgres else 4  # SQLite: a smaller crowd (one writer at a time, the same invariants)
    edition = make.edition(starts_on=date.today() + timedelta(days=1))
    exhibitors = [make.exhibitor(edition, f"Maker {n}") for n in range(EXHIBITORS // (1 if postgres else 2))]
    grid = {}  # (exhibitor index, time index) -> slot id
    for e, exhibitor in enumerate(exhibitors):
        slots = meetings.add_slots(exhibitor, edition.starts_on, time(9, 0), time(14, 0), 30)  # ten slots
        for t, slot in enumerate(slots):
            grid[(e, t)] = slot.id
    requests = []
    for slot_id in grid.values():
        for _ in range(SINGLE_PER_SLOT // (1 if postgres else 2)):
            requests.append((make.registration(edition).id, slot_id))
    times = sorted({t for _e, t in grid})
    rng = random.Random(10)
    for _ in range(DOUBLE // scale):
        registration_id = make.registration(edition).id
        t = rng.choice(times)
        first, second = rng.sample(range(len(exhibitors)), 2)
        requests += [(registration_id, grid[(first, t)]), (registration_id, grid[(second, t)])]
    db.session.commit()
    edition_id = edition.id
    db.session.remove()
    rng.shuffle(requests)
    if postgres:
        assert len(requests) == 1000 and len(grid) == 100

    booked, refused = _race(app, requests)

    assert len(booked) == len(grid)  # every slot booked, exactly once
    # each booking handed its mail over after its own commit; refused requests handed nothing
    assert sorted(meeting_id for meeting_id, _kind in handed) == sorted(m for _r, _s, m in booked)
    assert len(refused) == len(requests) - len(grid)
    live = db.session.execute(select(Meeting.slot_id, Meeting.registration_id, Meeting.starts_at).where(
        Meeting.edition_id == edition_id, Meeting.status.in_(LIVE))).all()
    assert len(live) == len(grid)
    assert sorted(slot for slot, _r, _s in live) == sorted(grid.values())  # no slot twice
    per_visitor_and_time = {}
    for _slot, registration_id, starts_at in live:
        per_visitor_and_time.setdefault((registration_id, starts_at), 0)
        per_visitor_and_time[(registration_id, starts_at)] += 1
    assert max(per_visitor_and_time.values()) == 1  # no visitor in two places at once
    assert db.session.scalar(select(func.count(Meeting.id)).where(Meeting.edition_id == edition_id)) == len(grid)
    assert db.session.scalar(select(func.count(Exhibitor.id)).where(Exhibitor.edition_id == edition_id)) \
        == len(exhibitors)


def test_staff_tapping_accept_at_the_same_moment_make_one_move(app, make, monkeypatch):
    """Several phones of the stand accept the same request at once: one move, one audit entry, SEQUENCE 1."""
    from expo.core.models import AuditEntry, User

    handed = []
    monkeypatch.setattr(meeting_tasks.send_meeting_mail, "delay",
                        lambda *args: on_commit(lambda: handed.append(args)))
    edition = make.edition(starts_on=date.today() + timedelta(days=1))
    exhibitor = make.exhibitor(edition)
    staff_ids = [make.user("booth_staff", exhibitor=exhibitor).id for _ in range(8)]
    slot = meetings.add_slots(exhibitor, edition.starts_on, time(10), time(10, 30), 30)[0]
    meeting_id = meetings.request_by_visitor(make.registration(edition), slot).id
    db.session.commit()
    db.session.remove()
    handed.clear()
    outcomes = race(app, lambda meeting_user: meetings.accept(*meeting_user[:2], actor_id=meeting_user[2]), staff_ids,
                    prepare=lambda user_id: (db.session.get(Meeting, meeting_id), "exhibitor", user_id), timeout=30)
    outcomes = ["refused" if isinstance(o, ServiceError) else "accepted" for o in outcomes]
    assert sorted(outcomes) == ["accepted"] + ["refused"] * (len(staff_ids) - 1)
    meeting = db.session.get(Meeting, meeting_id)
    assert meeting.status == "accepted" and meeting.sequence == 1
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "meeting.accepted")) == 1
    assert handed == [(meeting_id, "accepted")]
    assert db.session.get(User, staff_ids[0]) is not None


def test_slot_grids_of_other_lengths_published_at_once_never_overlap_at_a_table(app, make):
    """Several staff publish slots of different lengths for the same table at the same moment (30, 45, 20, 40,
    60 minutes over the same morning): under the exhibitor's lock one grid wins, the others are refused, and
    the table never holds two overlapping slots."""
    edition = make.edition(starts_on=date.today() + timedelta(days=1))
    exhibitor = make.exhibitor(edition)
    db.session.commit()
    exhibitor_id, day = exhibitor.id, edition.starts_on
    db.session.remove()
    lengths = [30, 45, 20, 40, 60, 30, 45, 20]
    def publish(minutes):
        made = meetings.add_slots(db.session.get(Exhibitor, exhibitor_id), day, time(10), time(12), minutes, ["T1"])
        return minutes, len(made)

    outcomes = [o for o in race(app, publish, lengths, timeout=30) if not isinstance(o, ServiceError)]
    winners = {minutes for minutes, made in outcomes if made}
    assert len(winners) == 1  # one length holds the table (the same grid again adds nothing)
    spans = sorted(db.session.execute(select(MeetingSlot.starts_at, MeetingSlot.ends_at).where(
        MeetingSlot.exhibitor_id == exhibitor_id, MeetingSlot.table_label == "T1")).all())
    assert spans and all(a.ends_at <= b.starts_at for a, b in zip(spans, spans[1:]))
