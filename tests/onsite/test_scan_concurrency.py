"""Devices scanning one badge at the same moment: one lead per exhibitor, one admission per show day, no error."""
import threading
import uuid

from sqlalchemy import select

from expo.core.models import Organizer, User
from expo.extensions import db
from expo.leads.models import Lead
from expo.onsite import services as onsite
from expo.onsite.models import Scan
from expo.visitors import services as visitors


def _race(app, user_ids, **scan_fields):
    """Every user scans at the same moment (a barrier releases them together); their results and errors."""
    barrier = threading.Barrier(len(user_ids))
    results, errors = [], []

    def scan(user_id):
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                if user.exhibitor is not None:
                    _ = user.exhibitor.edition  # loaded before the race starts
                barrier.wait(timeout=10)
                outcome = onsite.record_scan(user, client_scan_id=str(uuid.uuid4()), **scan_fields)
                db.session.commit()
                results.append(outcome.result)
            except Exception as error:  # noqa: BLE001 - the test reports any failure of a racer
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=scan, args=(user_id,)) for user_id in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_simultaneous_scans_of_one_visitor_by_one_exhibitor_keep_one_lead(app, make):
    edition = make.edition()
    exhibitor = make.exhibitor(edition)
    staff = [make.user("booth_staff", exhibitor=exhibitor) for _ in range(2)]
    registrations = [make.registration(edition) for _ in range(5)]
    codes = [visitors.badge_code(r) for r in registrations]
    db.session.commit()
    user_ids, exhibitor_id = [user.id for user in staff], exhibitor.id
    db.session.remove()

    for code in codes:  # several rounds: each one is a fresh race for a new lead
        results, errors = _race(app, user_ids, code=code, kind="lead")
        assert errors == []
        assert sorted(results) == ["duplicate", "ok"]

    leads = list(db.session.scalars(select(Lead).where(Lead.exhibitor_id == exhibitor_id)))
    assert len(leads) == len(codes)
    assert all(lead.scan_count == 2 for lead in leads)
    assert db.session.scalar(select(db.func.count(Scan.id)).where(Scan.exhibitor_id == exhibitor_id)) == 2 * len(codes)


def test_gates_scanning_one_badge_at_the_same_moment_admit_it_once(app, make):
    """The database keeps one admission per registration and show day, whatever the race."""
    edition = make.edition()
    organizer = db.session.get(Organizer, edition.organizer_id)
    gates = [make.user("onsite", organizer) for _ in range(4)]
    registrations = [make.registration(edition) for _ in range(5)]
    codes = [visitors.badge_code(r) for r in registrations]
    db.session.commit()
    user_ids, edition_id = [user.id for user in gates], edition.id
    db.session.remove()

    for code in codes:
        results, errors = _race(app, user_ids, code=code, kind="checkin", edition_id=edition_id, gate="North")
        assert errors == []
        assert sorted(results) == ["duplicate", "duplicate", "duplicate", "ok"]
    admitted = db.session.scalar(select(db.func.count(Scan.id)).where(
        Scan.edition_id == edition_id, Scan.kind == "checkin", Scan.result == "ok"))
    assert admitted == len(codes)


def _race_batches(app, user_ids, batches):
    """Each user uploads their batch through the API at the same moment; their answers (lists) and errors."""
    from expo.core import services as core

    with app.app_context():
        tokens = [core.create_api_token(db.session.get(User, user_id), "race")[1] for user_id in user_ids]
        db.session.commit()
        db.session.remove()
    barrier = threading.Barrier(len(user_ids))
    answers, errors = {}, []

    def upload(k):
        client = app.test_client()
        try:
            barrier.wait(timeout=10)
            response = client.post("/api/v1/scans/batch", json=batches[k],
                                   headers={"Authorization": f"Bearer {tokens[k]}"})
            assert response.status_code == 200, response.get_data(as_text=True)
            answers[k] = response.json
        except Exception as error:  # noqa: BLE001 - the test reports any failure of a racer
            errors.append(repr(error))

    threads = [threading.Thread(target=upload, args=(k,)) for k in range(len(user_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers, errors


def test_the_same_upload_sent_twice_at_once_is_stored_once(app, make):
    """A device retries its upload while the first attempt is still running: every client_scan_id stored once,
    both answers agree with what was stored, the lead counts every stored scan once."""
    edition = make.edition()
    exhibitor = make.exhibitor(edition)
    booth = make.user("booth_staff", exhibitor=exhibitor)
    registrations = [make.registration(edition) for _ in range(6)]
    db.session.commit()
    codes = [visitors.badge_code(r) for r in registrations]
    items = [{"code": codes[n % 6], "kind": "lead", "client_scan_id": f"retry-{n}"} for n in range(20)]
    user_id, exhibitor_id = booth.id, exhibitor.id
    db.session.remove()

    answers, errors = _race_batches(app, [user_id, user_id], [items, items])

    assert errors == []
    stored = {s.client_scan_id: s for s in db.session.scalars(select(Scan).where(Scan.user_id == user_id))}
    assert sorted(stored) == sorted(item["client_scan_id"] for item in items)
    for answer_list in answers.values():
        assert [(a["client_scan_id"], a["scan_id"], a["result"]) for a in answer_list] == [
            (i["client_scan_id"], stored[i["client_scan_id"]].id, stored[i["client_scan_id"]].result) for i in items]
    leads = list(db.session.scalars(select(Lead).where(Lead.exhibitor_id == exhibitor_id)))
    assert len(leads) == 6 and sum(lead.scan_count for lead in leads) == 20
    assert sorted(s.result for s in stored.values()).count("ok") == 6


def test_two_devices_uploading_the_same_visitors_at_once_keep_one_lead_each(app, make):
    edition = make.edition()
    exhibitor = make.exhibitor(edition)
    staff = [make.user("booth_staff", exhibitor=exhibitor) for _ in range(2)]
    registrations = [make.registration(edition) for _ in range(8)]
    db.session.commit()
    codes = [visitors.badge_code(r) for r in registrations]
    batches = [[{"code": code, "kind": "lead", "client_scan_id": str(uuid.uuid4())} for code in codes[::step]]
               for step in (1, -1)]  # the same visitors, the other way round
    user_ids, exhibitor_id = [user.id for user in staff], exhibitor.id
    db.session.remove()

    answers, errors = _race_batches(app, user_ids, batches)

    assert errors == []
    results = [a["result"] for answer_list in answers.values() for a in answer_list]
    assert results.count("ok") == 8 and results.count("duplicate") == 8
    leads = list(db.session.scalars(select(Lead).where(Lead.exhibitor_id == exhibitor_id)))
    assert len(leads) == 8 and all(lead.scan_count == 2 for lead in leads)


def test_gates_uploading_the_same_badges_at_once_admit_each_once(app, make):
    edition = make.edition()
    organizer = db.session.get(Organizer, edition.organizer_id)
    gates = [make.user("onsite", organizer) for _ in range(3)]
    registrations = [make.registration(edition) for _ in range(6)]
    db.session.commit()
    codes = [visitors.badge_code(r) for r in registrations]
    batches = [[{"code": code, "kind": "checkin", "client_scan_id": str(uuid.uuid4()), "edition_id": edition.id,
                 "gate": f"Gate {k}", "scanned_at": "2025-03-05T09:00:00+08:00"} for code in codes]
               for k in range(3)]
    user_ids, edition_id = [user.id for user in gates], edition.id
    db.session.remove()

    answers, errors = _race_batches(app, user_ids, batches)

    assert errors == []
    results = [a["result"] for answer_list in answers.values() for a in answer_list]
    assert results.count("ok") == 6 and results.count("duplicate") == 12
    admitted = db.session.scalar(select(db.func.count(Scan.id)).where(
        Scan.edition_id == edition_id, Scan.kind == "checkin", Scan.admitted_on.is_not(None)))
    assert admitted == 6
