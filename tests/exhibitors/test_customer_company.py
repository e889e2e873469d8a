"""Customer 360 for companies: the company page, the duplicates review (有限公司 / Co., Ltd. variants) and
the company merge with its audit trail."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from expo.core.models import Activity, AuditEntry
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors import companies
from expo.exhibitors import services as exhibitors
from expo.exhibitors.models import Company, Exhibitor
from expo.extensions import db
from expo.leads import services as leads
from expo.visitors import services as visitors

from ..conftest import Browser

NOTE = "Private: competitor pricing 7Q2"


def _book(scope, edition, name, **fields):
    return exhibitors.add_exhibitor(scope, edition, name, **fields)


def test_company_page_shows_editions_people_leads_and_timeline(app, make):
    t = make.tenant("A", exhibitors=["深圳宏达家具有限公司"])
    scope = Scope(t.organizer.id)
    earlier = make.edition(t.organizer, show=t.show, name="Expo A 2025", status="closed",
                           starts_on=t.edition.starts_on - timedelta(days=365))
    old = _book(scope, earlier, "深圳宏达家具有限公司", hall="2", stand="C3", area_m2=Decimal("36"),
                price=Decimal("54000"), status="contracted")
    exhibitors.set_status(old, "exhibited", actor_id=t.users["owner"].id)
    buyer = visitors.register(t.edition, visitors.RegistrationData(
        name="李娜", email="li.na@hongda.example", company="深圳宏达家具 有限公司", job_title="总经理",
        category="buyer", consent=True), send_confirmation=False)
    leads.update_lead(t.lead, rating="warm", notes=NOTE, actor_id=t.users["booth_staff"].id)
    db.session.commit()

    page = Browser(app, t.users["owner"]).get(f"/org/companies/{t.exhibitor.company_id}").get_data(as_text=True)
    assert "Expo A 2025" in page and "2-C3" in page and "¥54,000" in page and "36" in page  # every edition
    assert 'id="panel-people"' in page and "李娜" in page and f"/org/persons/{buyer.person_id}" in page
    assert 'id="panel-leads"' in page  # leads its staff took: counts only
    assert NOTE not in page and "7Q2" not in page
    assert "Added as exhibitor of" in page and "Booth-sales stage for" in page  # the timeline
    kinds = set(db.session.scalars(select(Activity.kind).where(Activity.subject_type == "company",
                                                               Activity.subject_id == t.exhibitor.company_id)))
    assert kinds == {"exhibitor.created", "exhibitor.status"}
    # sales staff see the company but not the visitors' names (they may not see registrations)
    sales = Browser(app, t.users["sales"]).get(f"/org/companies/{t.exhibitor.company_id}").get_data(as_text=True)
    assert "李娜" not in sales and 'id="panel-leads"' in sales


def test_exhibitors_list_links_to_the_company_page(app, make):
    t = make.tenant("A")
    db.session.commit()
    page = Browser(app, t.users["owner"]).get(f"/org/editions/{t.edition.id}/exhibitors").get_data(as_text=True)
    assert f"/org/companies/{t.exhibitor.company_id}" in page


def _twins(make):
    t = make.tenant("A", exhibitors=["深圳宏达家具有限公司"], visitors=1)
    scope = Scope(t.organizer.id)
    twin = exhibitors.find_or_create_company(scope, "深圳宏达家具 有限公司", website="hongda.example")
    return t, scope, twin


def test_duplicates_review_lists_legal_form_variants(app, make):
    t, scope, twin = _twins(make)
    english = exhibitors.find_or_create_company(scope, "Hongda Furniture Co., Ltd.")
    exhibitors.find_or_create_company(scope, "HONGDA FURNITURE LIMITED")
    exhibitors.find_or_create_company(scope, "Other Company")
    db.session.commit()
    pairs = companies.possible_duplicates(scope).items
    assert {frozenset((p.company.id, p.other.id)) for p in pairs} == {
        frozenset((t.exhibitor.company_id, twin.id)),
        frozenset((english.id, db.session.scalar(select(Company.id).where(Company.name == "HONGDA FURNITURE LIMITED"))))}
    page = Browser(app, t.users["sales"]).get("/org/company-duplicates").get_data(as_text=True)
    assert "深圳宏达家具 有限公司" in page and "Hongda Furniture Co., Ltd." in page


def test_company_merge_moves_bookings_keeps_audit_and_records_how_to_undo_it(app, make):
    t, scope, twin = _twins(make)
    earlier = make.edition(t.organizer, show=t.show, name="Expo A 2025", status="closed",
                           starts_on=t.edition.starts_on - timedelta(days=365))
    booking = _book(scope, earlier, twin.name, hall="5", stand="A1")
    lead_id, keep_id, twin_id = t.lead.id, t.exhibitor.company_id, twin.id
    db.session.commit()

    response = Browser(app, t.users["sales"]).post("/org/company-duplicates/merge",
                                                   data={"keep": keep_id, "merge": twin_id})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Exhibitor, booking.id).company_id == keep_id
    assert db.session.get(Exhibitor, t.exhibitor.id).company_id == keep_id  # its own booking, its lead too
    assert leads.Lead and db.session.get(leads.Lead, lead_id).exhibitor_id == t.exhibitor.id
    kept, alias = db.session.get(Company, keep_id), db.session.get(Company, twin_id)
    assert kept.website == "hongda.example"  # a blank filled in
    assert alias.merged_into_id == keep_id and alias.name == "深圳宏达家具 有限公司"  # kept as it was
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "company.merged"))
    assert entry.object_type == "companies" and entry.object_id == keep_id
    assert entry.details["merged_company_id"] == twin_id and entry.details["exhibitor_ids"] == [booking.id]
    assert entry.details["filled_fields"] == ["website"] and entry.details["left_exhibitor_ids"] == []
    # the alias's address and name lead to the kept company; the review list is empty
    browser = Browser(app, t.users["owner"])
    assert browser.get(f"/org/companies/{twin_id}").headers["Location"].endswith(f"/org/companies/{keep_id}")
    assert exhibitors.find_or_create_company(scope, "深圳宏达家具 有限公司").id == keep_id
    assert companies.duplicates_count(scope) == 0
    page = browser.get(f"/org/companies/{keep_id}").get_data(as_text=True)
    assert "Expo A 2025" in page and "Duplicate company" in page


def test_company_merge_is_refused_while_both_are_booked_for_one_edition(app, make):
    t, scope, twin = _twins(make)
    clash = _book(scope, t.edition, twin.name, hall="9", stand="Z9", status="negotiating")
    db.session.commit()
    with pytest.raises(ServiceError, match="both companies are booked"):
        companies.merge_companies(scope, t.exhibitor.company_id, twin.id, actor_id=None)
    db.session.rollback()
    pair = companies.possible_duplicates(scope).items[0]
    assert pair.conflicts and pair.blocking(pair.company) and pair.blocking(pair.other)
    # resolved: the merged company's booking is marked lost; it stays with the alias, as history
    exhibitors.set_status(db.session.get(Exhibitor, clash.id), "lost", reason="Booked twice under two names")
    kept = companies.merge_companies(scope, t.exhibitor.company_id, twin.id, actor_id=None)
    db.session.commit()
    assert db.session.get(Exhibitor, clash.id).company_id == twin.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "company.merged"))
    assert entry.details["left_exhibitor_ids"] == [clash.id]
    assert db.session.get(Exhibitor, t.exhibitor.id).company_id == kept.id


def test_company_merge_stays_in_the_organizer(app, make):
    a, b = make.tenant("A"), make.tenant("B")
    db.session.commit()
    with pytest.raises(ServiceError):
        companies.merge_companies(Scope(a.organizer.id), a.exhibitor.company_id, b.exhibitor.company_id, actor_id=None)


def test_two_different_companies_leave_the_review_for_good(app, make):
    t, scope, twin = _twins(make)
    keep_id, twin_id = t.exhibitor.company_id, twin.id
    db.session.commit()
    browser = Browser(app, t.users["manager"])
    assert "Two different companies" in browser.get("/org/company-duplicates").get_data(as_text=True)
    response = browser.post("/org/company-duplicates/distinct", data={"company": twin_id, "other": keep_id})
    assert response.status_code == 302
    assert companies.duplicates_count(scope) == 0
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "company.distinct"))
    assert entry.object_id == min(keep_id, twin_id) and entry.details == {"other_company_id": max(keep_id, twin_id)}


def test_company_merge_or_distinct_with_an_id_beyond_any_column_is_refused_cleanly(app, make):
    """An id no INTEGER column holds (the database would fail on it) is no such company: a message, never a 500."""
    t, scope, twin = _twins(make)
    keep_id, twin_id = t.exhibitor.company_id, twin.id
    db.session.commit()
    browser = Browser(app, t.users["sales"])
    for url, names in (("/org/company-duplicates/merge", ("keep", "merge")),
                       ("/org/company-duplicates/distinct", ("company", "other"))):
        for huge in ("99999999999999999999", str(2**31), str(2**63), "0", "-1"):
            for data in ({names[0]: keep_id, names[1]: huge}, {names[0]: huge, names[1]: twin_id}):
                response = browser.post(url, data=data)
                assert response.status_code == 302, (url, data, response.status_code)
                page = browser.get(response.headers["Location"]).get_data(as_text=True)
                assert "No such pair of companies." in page
    db.session.expire_all()
    assert db.session.get(Company, twin_id).merged_into_id is None
    assert db.session.get(Company, keep_id).merged_into_id is None
    assert companies.duplicates_count(scope) == 1
    with pytest.raises(ServiceError, match="No such pair"):
        companies.merge_companies(scope, keep_id, 99999999999999999999, actor_id=None)
    with pytest.raises(ServiceError, match="No such pair"):
        companies.mark_distinct(scope, 2**31, keep_id, actor_id=None)


def test_the_reverse_merge_of_a_merged_pair_is_refused(app, make):
    """A into B, then B into A (the second staff member's page was older): refused, no cycle."""
    t, scope, twin = _twins(make)
    keep_id, twin_id = t.exhibitor.company_id, twin.id
    db.session.commit()
    companies.merge_companies(scope, keep_id, twin_id, actor_id=None)
    db.session.commit()
    with pytest.raises(ServiceError, match="already been merged"):
        companies.merge_companies(scope, twin_id, keep_id, actor_id=None)
    db.session.rollback()
    response = Browser(app, t.users["sales"]).post("/org/company-duplicates/merge",
                                                   data={"keep": twin_id, "merge": keep_id})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Company, keep_id).merged_into_id is None
    assert db.session.get(Company, twin_id).merged_into_id == keep_id


def test_simultaneous_opposite_merges_make_no_cycle(app, make):
    """Two staff merge A into B and B into A at the same moment: one merge wins, the other is refused."""
    import threading

    t, scope, twin = _twins(make)
    a, b = t.exhibitor.company_id, twin.id
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def merge(keep_id, merge_id):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                companies.merge_companies(scope, keep_id, merge_id, actor_id=None)
                db.session.commit()
                outcomes.append("merged")
            except ServiceError:
                db.session.rollback()
                outcomes.append("refused")
            except Exception as error:  # noqa: BLE001 - the test reports any failure of a racer
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=merge, args=pair) for pair in ((a, b), (b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) == ["merged", "refused"]
    merged_into = {c.id: c.merged_into_id for c in db.session.scalars(select(Company).where(Company.id.in_((a, b))))}
    assert sorted(merged_into.values(), key=lambda v: v is None) in ([a, None], [b, None])
