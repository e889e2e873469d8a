"""Staff badges: quota by booth size (organizer-settable), registrations of category exhibitor_staff with a
signed badge, removal frees a place, printable PDF, the pages, and the quota under concurrency (real threads,
each with its own session and commit: PostgreSQL row locks, or SQLite's write lock)."""
from __future__ import annotations

import threading
from decimal import Decimal

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from expo.core import badge_codes
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.onsite import services as onsite
from expo.onsite import staff_badges
from expo.onsite.staff_badge_models import StaffBadge
from expo.visitors import services as visitors
from expo.visitors.models import Registration

from ..conftest import Browser, new_scan_id, redirect_path


@pytest.fixture
def world(make):
    edition = make.edition()
    exhibitor = make.exhibitor(edition, "Lamp Works")
    exhibitor.area_m2 = Decimal("18")  # 2 + 18 // 9 = 4 badges by default
    admin = make.user("exhibitor_admin", exhibitor=exhibitor)
    other = make.exhibitor(edition, "Chair Co")
    other_admin = make.user("exhibitor_admin", exhibitor=other)
    onsite_user = make.user("onsite", organizer=type("O", (), {"id": edition.organizer_id})())
    db.session.commit()
    return dict(edition=edition, exhibitor=exhibitor, admin=admin, other=other, other_admin=other_admin,
                onsite=onsite_user, scope=Scope(edition.organizer_id))


def test_quota_rule_arithmetic():
    rule = staff_badges.QuotaRule()
    assert [rule.allowed(Decimal(a)) if a else rule.allowed(None) for a in (None, "8.99", "9", "18", "36.5")] == \
        [2, 2, 3, 4, 6]
    assert staff_badges.QuotaRule(1, None).allowed(Decimal("100")) == 1
    assert staff_badges.QuotaRule(2, Decimal("12"), maximum=5).allowed(Decimal("1000")) == 5


def test_badges_within_quota_signed_and_removed(world):
    exhibitor = world["exhibitor"]
    badges = [staff_badges.add_staff_badge(exhibitor, staff_badges.StaffMember(f"Staff {n}", "Sales", ""),
                                           actor_id=world["admin"].id) for n in range(4)]
    db.session.commit()
    with pytest.raises(ServiceError, match="quota of 4"):
        staff_badges.add_staff_badge(exhibitor, staff_badges.StaffMember("Fifth"))
    db.session.rollback()
    registration = badges[0].registration
    assert registration.category == "exhibitor_staff" and registration.status == "confirmed"
    assert registration.visitor_company == "Lamp Works" and registration.visitor_job_title == "Sales"
    code = visitors.badge_code(registration)
    edition = world["edition"]
    claim = badge_codes.read_badge(code)
    assert claim.registration_id == registration.id and badge_codes.signature_valid(claim, edition.verify_key)
    outcome = onsite.record_scan(world["onsite"], code=code, kind="checkin", client_scan_id=new_scan_id(),
                                 edition_id=edition.id)
    assert outcome.result == "ok"
    staff_badges.remove_staff_badge(badges[1], actor_id=world["admin"].id)
    db.session.commit()
    assert badges[1].registration.status == "cancelled"
    assert staff_badges.quota_of(exhibitor).left == 1
    staff_badges.add_staff_badge(exhibitor, staff_badges.StaffMember("Replacement", email="rep@example.com"))
    db.session.commit()
    assert staff_badges.quota_of(exhibitor).left == 0
    pdf = staff_badges.badges_pdf(staff_badges.active_badges(exhibitor), edition)
    assert pdf.startswith(b"%PDF")


def test_input_is_checked(world):
    exhibitor = world["exhibitor"]
    for member, field in ((staff_badges.StaffMember(""), "name"), (staff_badges.StaffMember("A\x00"), "name"),
                          (staff_badges.StaffMember("A", email="nope"), "email"),
                          (staff_badges.StaffMember("A" * 300), "name")):
        with pytest.raises(ServiceError) as error:
            staff_badges.add_staff_badge(exhibitor, member)
        assert error.value.field == field
    staff_badges.add_staff_badge(exhibitor, staff_badges.StaffMember("Wang", email="wang@example.cn"))
    db.session.commit()


def test_an_address_tells_the_exhibitor_nothing_about_visitors(world, make):
    """A staff badge is always a person of its own: typing a visitor's address neither reveals that they
    registered (no different answer) nor puts their job title or phone on the badge."""
    visitor = make.registration(world["edition"], name="Secret CFO", email="cfo@buyer.example", share=False,
                                job_title="Chief Financial Officer")
    db.session.commit()
    badge = staff_badges.add_staff_badge(world["exhibitor"], staff_badges.StaffMember("Helper", email="CFO@buyer.example"))
    db.session.commit()
    staff = badge.registration
    assert staff.person_id != visitor.person_id
    assert staff.visitor_job_title == "" and "Chief" not in (staff.visitor_job_title or "")
    assert staff.person.email == "CFO@buyer.example" and staff.person.email_key is None


def test_a_prospect_has_no_badges(world):
    prospect = exhibitor_services.add_exhibitor(world["scope"], world["edition"], "Maybe", status="prospect")
    with pytest.raises(ServiceError, match="contracted"):
        staff_badges.add_staff_badge(prospect, staff_badges.StaffMember("A"))


def test_organizer_sets_the_quota(world):
    scope, edition = world["scope"], world["edition"]
    with pytest.raises(ServiceError) as error:
        staff_badges.set_quota(scope, edition, base="-1", per_m2="", maximum="")
    assert error.value.field == "base"
    with pytest.raises(ServiceError) as error:
        staff_badges.set_quota(scope, edition, base="2", per_m2="9" * 40, maximum="")
    assert error.value.field == "per_m2"
    with pytest.raises(ServiceError):
        staff_badges.set_quota(scope, edition, base="2", per_m2="NaN", maximum="")
    staff_badges.set_quota(scope, edition, base="1", per_m2="6", maximum="3")
    db.session.commit()
    assert staff_badges.quota_of(world["exhibitor"]).allowed == 3
    overview = staff_badges.edition_overview(scope, edition)
    assert [(row.exhibitor.company.name, row.allowed) for row in overview] == [("Chair Co", 1), ("Lamp Works", 3)]


def test_pages(app, world):
    admin = Browser(app, world["admin"])
    response = admin.post("/portal/staff-badges", {"name": "Li Na", "job_title": "Engineer", "email": ""})
    assert redirect_path(response) == "/portal/staff-badges"
    page = admin.get("/portal/staff-badges").get_data(as_text=True)
    assert "Li Na" in page and "1 / 4" in page
    badge = db.session.scalar(select(StaffBadge))
    pdf = admin.get(f"/portal/staff-badges/{badge.id}/badge.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert admin.get("/portal/staff-badges/badges.pdf").data.startswith(b"%PDF")
    # the other exhibitor cannot see, print or remove it
    other = Browser(app, world["other_admin"])
    assert "Li Na" not in other.get("/portal/staff-badges").get_data(as_text=True)
    assert other.get(f"/portal/staff-badges/{badge.id}/badge.pdf").status_code == 404
    assert other.post(f"/portal/staff-badges/{badge.id}/remove").status_code == 404
    response = admin.post("/portal/staff-badges", {"name": "", "email": "x"})
    assert response.status_code == 422
    response = admin.post(f"/portal/staff-badges/{badge.id}/remove")
    assert redirect_path(response) == "/portal/staff-badges"


def test_quota_holds_under_concurrency(app, make):
    """Eight admins' requests at the same moment for an exhibitor with four places: four badges, four refusals."""
    edition = make.edition()
    exhibitor = make.exhibitor(edition, "Crowded Booth")
    exhibitor.area_m2 = Decimal("18")
    admins = [make.user("exhibitor_admin", exhibitor=exhibitor) for _ in range(2)]
    db.session.commit()
    exhibitor_id, admin_ids, edition_id = exhibitor.id, [a.id for a in admins], edition.id
    db.session.remove()
    racers = 8
    barrier = threading.Barrier(racers)
    added, refused, errors = [], [], []
    lock = threading.Lock()

    def add(n):
        with app.app_context():
            try:
                target = db.session.get(Exhibitor, exhibitor_id)
                _ = target.edition
                barrier.wait(timeout=30)
                staff_badges.add_staff_badge(target, staff_badges.StaffMember(f"Racer {n}"),
                                             actor_id=admin_ids[n % 2])
                db.session.commit()
                with lock:
                    added.append(n)
            except ServiceError as error:
                db.session.rollback()
                with lock:
                    refused.append(str(error))
            except Exception as error:  # noqa: BLE001 - the test reports any failure of a racer
                with lock:
                    errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=add, args=(n,)) for n in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(added) == 4 and len(refused) == 4
    assert all("quota" in message for message in refused)
    assert db.session.scalar(select(func.count(StaffBadge.id)).where(StaffBadge.exhibitor_id == exhibitor_id)) == 4
    assert db.session.scalar(select(func.count(Registration.id)).where(
        Registration.category == "exhibitor_staff", Registration.edition_id == edition_id)) == 4


def test_the_demo_part(make):
    """expo/onsite/staff_badge_demo.py on a small world shaped like the demo's (rng, scope, live, exhibitors)."""
    import random
    from types import SimpleNamespace

    from expo.onsite import staff_badge_demo

    edition = make.edition()
    exhibitors = [make.exhibitor(edition, f"Demo {n}") for n in range(3)]
    for n, exhibitor in enumerate(exhibitors):
        exhibitor.area_m2 = Decimal(9 * (n + 1))
    world = SimpleNamespace(rng=random.Random(8), scope=Scope(edition.organizer_id), live=edition,
                            exhibitors={edition.id: exhibitors}, now=datetime.now(timezone.utc))
    staff_badge_demo.contribute(world)
    db.session.commit()
    quotas = [staff_badges.quota_of(e) for e in exhibitors]
    assert quotas[0].used == 1 and all(q.used <= q.allowed for q in quotas)
