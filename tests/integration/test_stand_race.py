"""Stands assigned at the same moment by many sales reps: never one stand for two exhibitors, never two stands for one
exhibitor, the exhibitors' copies (hall, stand) always those of the plan, and no deadlock. Real threads against the
real database (PostgreSQL: row locks taken in one order, the unique key on stands.exhibitor_id); each request runs
the whole service with its own session and its own commit, like a web worker.

On SQLite the write lock serialises the requests (a smaller crowd, the same invariants)."""
from __future__ import annotations

import random
import threading

from sqlalchemy import func, select

from expo.core.models import AuditEntry
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors import floorplan
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.floor_models import Hall, Stand
from expo.exhibitors.models import Exhibitor
from expo.extensions import db


def _race(app, requests: list[tuple[int, int]]):
    """Every (stand id, exhibitor id) assignment at once (a barrier releases them together), each in its own
    thread, app context and transaction. Returns (assigned, refused, errors)."""
    barrier = threading.Barrier(len(requests))
    assigned, refused, errors = [], [], []
    lock = threading.Lock()

    def assign(stand_id, exhibitor_id):
        with app.app_context():
            try:
                barrier.wait(timeout=120)  # before any query: a waiting racer holds no pooled connection
                stand = db.session.get(Stand, stand_id)
                exhibitor = db.session.get(Exhibitor, exhibitor_id)
                floorplan.assign_stand(stand, exhibitor, actor_id=None)
                db.session.commit()
                with lock:
                    assigned.append((stand_id, exhibitor_id))
            except ServiceError as error:
                db.session.rollback()
                with lock:
                    refused.append(str(error))
            except Exception as error:  # noqa: BLE001 - the test reports any failure of a racer
                db.session.rollback()
                with lock:
                    errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=assign, args=pair) for pair in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    return assigned, refused, errors


def _floor(make, stands: int, exhibitors: int):
    edition = make.edition()
    scope = Scope(edition.organizer_id)
    hall = floorplan.save_hall(scope, edition, name="1", width_m=3 * stands, depth_m=10)
    made = [floorplan.save_stand(scope, hall, floorplan.StandData(f"A{n + 1}", 3 * n, 0, 3, 3))
            for n in range(stands)]
    companies = [exhibitor_services.add_exhibitor(scope, edition, f"Maker {n}", hall="", stand="",
                                                  status=random.Random(n).choice(("prospect", "negotiating",
                                                                                  "contracted", "paid")))
                 for n in range(exhibitors)]
    db.session.commit()
    ids = [s.id for s in made], [e.id for e in companies], edition.id
    db.session.remove()
    return ids


def _check_consistent(edition_id: int) -> list[Stand]:
    stands = list(db.session.scalars(select(Stand).where(Stand.edition_id == edition_id)))
    holders = [s.exhibitor_id for s in stands if s.exhibitor_id is not None]
    assert len(holders) == len(set(holders))  # no exhibitor on two stands
    hall = db.session.scalar(select(Hall).where(Hall.edition_id == edition_id))
    on_plan = {s.exhibitor_id: s.number for s in stands if s.exhibitor_id is not None}
    for exhibitor in db.session.scalars(select(Exhibitor).where(Exhibitor.edition_id == edition_id)):
        if exhibitor.id in on_plan:
            assert (exhibitor.hall, exhibitor.stand) == (hall.name, on_plan[exhibitor.id])
        else:
            assert exhibitor.stand == ""  # nobody believes they have a stand the plan gives to someone else
    return stands


def test_many_reps_assigning_one_stand_at_once_give_it_to_one_exhibitor(app, make):
    postgres = db.engine.dialect.name == "postgresql"
    crowd = 40 if postgres else 10
    (stand_id, *_others), exhibitor_ids, edition_id = _floor(make, 2, crowd)

    assigned, refused, errors = _race(app, [(stand_id, e) for e in exhibitor_ids])

    assert errors == []
    assert len(assigned) == 1 and len(refused) == crowd - 1
    assert all("taken" in reason for reason in refused)
    winner = assigned[0][1]
    stand = db.session.get(Stand, stand_id)
    assert stand.exhibitor_id == winner
    _check_consistent(edition_id)
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "stand.assigned")) == 1


def test_one_exhibitor_sent_to_many_stands_at_once_ends_on_exactly_one(app, make):
    postgres = db.engine.dialect.name == "postgresql"
    stand_ids, (exhibitor_id, *_rest), edition_id = _floor(make, 20 if postgres else 6, 1)

    assigned, refused, errors = _race(app, [(s, exhibitor_id) for s in stand_ids])

    assert errors == [] and refused == []
    assert len(assigned) == len(stand_ids)  # one after the other: each moves it on, releasing the stand before
    stands = _check_consistent(edition_id)
    assert sum(1 for s in stands if s.exhibitor_id == exhibitor_id) == 1
    released = db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "stand.released"))
    assert released == len(stand_ids) - 1


def test_a_crowd_of_random_assignments_never_breaks_the_plan(app, make):
    """Stands and exhibitors crossing each other in every order (an exhibitor moving from the stand another one
    wants, onto the stand the other one leaves): no deadlock, no error, a consistent plan."""
    postgres = db.engine.dialect.name == "postgresql"
    stands, exhibitors, requests = (15, 30, 200) if postgres else (6, 10, 30)
    stand_ids, exhibitor_ids, edition_id = _floor(make, stands, exhibitors)
    rng = random.Random(8)
    # a first round gives some exhibitors a stand, so that the second round moves them around
    first, _refused, errors = _race(app, [(s, rng.choice(exhibitor_ids)) for s in stand_ids])
    assert errors == [] and first
    pairs = [(rng.choice(stand_ids), rng.choice(exhibitor_ids)) for _ in range(requests)]

    assigned, refused, errors = _race(app, pairs)

    assert errors == []
    assert len(assigned) + len(refused) == requests and assigned
    _check_consistent(edition_id)
