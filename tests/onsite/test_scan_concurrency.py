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
