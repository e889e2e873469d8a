"""Round-robin under concurrency: prospects arriving at the same moment, each in its own thread, session and
commit (like web workers), are dealt evenly — the rule's row lock (PostgreSQL) or the write lock (SQLite) means
no two of them take the same turn."""
from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import select

from expo.core.db import take_write_lock
from expo.core.models import Edition, Organizer
from expo.core.scoping import Scope
from expo.exhibitors import assignment, services
from expo.exhibitors.models import Exhibitor
from expo.extensions import db

REPS = 4


def test_concurrent_prospects_are_dealt_evenly_by_round_robin(app, make):
    postgres = db.engine.dialect.name == "postgresql"
    per_rep = 10 if postgres else 4
    edition = make.edition()
    organizer = db.session.get(Organizer, edition.organizer_id)
    reps = [make.user("sales", organizer, email=f"rep{n}@example.com") for n in range(REPS)]
    assignment.add_rule(Scope(organizer.id), edition, assignment.RuleData("round_robin",
                                                                          rep_ids=tuple(r.id for r in reps)))
    db.session.commit()
    edition_id, organizer_id = edition.id, organizer.id
    count = REPS * per_rep
    barrier = threading.Barrier(count)
    errors = []

    def arrive(n):
        with app.app_context():
            try:
                barrier.wait(timeout=120)
                take_write_lock(db.session)
                edition_ = db.session.get(Edition, edition_id)
                exhibitor = services.add_exhibitor(Scope(organizer_id), edition_, f"Prospect {n}", status="prospect")
                assignment.assign_new(exhibitor)
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - reported below
                db.session.rollback()
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=arrive, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors[:3]
    db.session.expire_all()
    dealt = Counter(db.session.scalars(select(Exhibitor.sales_rep_id).where(Exhibitor.edition_id == edition_id)))
    assert dealt == {r.id: per_rep for r in reps}
