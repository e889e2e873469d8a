"""A company's sales account: contacts (several, one main), sales activities on the timeline, contracts moving a
deal to "contracted", payments moving it to "paid" when settled, all shown on the company page."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from expo.core.models import Activity, Organizer
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors import accounts
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.models import CompanyContact, Exhibitor
from expo.extensions import db

from ..conftest import Browser


@pytest.fixture
def account(make):
    edition = make.edition()
    organizer = db.session.get(Organizer, edition.organizer_id)
    scope = Scope(organizer.id)
    exhibitor = exhibitor_services.add_exhibitor(scope, edition, "深圳宏达家具有限公司", status="negotiating")
    manager = make.user("manager", organizer)
    db.session.commit()
    return scope, edition, exhibitor, manager


def test_contacts_one_main_at_a_time(app, account):
    scope, edition, exhibitor, manager = account
    company = exhibitor.company
    first = accounts.add_contact(scope, company, accounts.ContactData("王伟", "总经理", "Wang@Example.cn"))
    assert first.is_main and first.email == "wang@example.cn"  # the first contact is the main one
    second = accounts.add_contact(scope, company, accounts.ContactData("Li Na", "Marketing", is_main=True))
    db.session.flush()
    db.session.refresh(first)
    assert second.is_main and not first.is_main
    accounts.make_main(scope, first)
    db.session.refresh(second)
    assert first.is_main and not second.is_main
    assert [c.name for c in accounts.contacts(scope, [company.id])] == ["王伟", "Li Na"]
    accounts.delete_contact(scope, first)
    db.session.refresh(second)
    assert second.is_main  # the role passes on
    for bad, field in ((accounts.ContactData(""), "name"), (accounts.ContactData("X", email="not-mail"), "email"),
                       (accounts.ContactData("X", phone="call me"), "phone"),
                       (accounts.ContactData("X" * 201), "name")):
        with pytest.raises(ServiceError) as error:
            accounts.add_contact(scope, company, bad)
        assert error.value.field == field


def test_the_database_keeps_one_main_contact(app, account):
    scope, edition, exhibitor, manager = account
    for name in ("A", "B"):
        db.session.add(CompanyContact(organizer_id=scope.organizer_id, company_id=exhibitor.company_id, name=name,
                                      is_main=True))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_activities_are_dated_by_whom_and_on_the_timeline(app, account):
    scope, edition, exhibitor, manager = account
    contact = accounts.add_contact(scope, exhibitor.company, accounts.ContactData("王伟"))
    row = accounts.log_activity(scope, exhibitor.company, kind="call", happened_on=date(2026, 3, 2),
                                summary="Asked for a corner booth", contact=contact, exhibitor=exhibitor,
                                actor_id=manager.id, today=date(2026, 3, 5))
    assert row.user_id == manager.id and row.happened_on == date(2026, 3, 2)
    db.session.commit()
    entry = db.session.query(Activity).filter_by(kind="sales.call").one()
    assert entry.subject_id == exhibitor.company_id and entry.details["summary"] == "Asked for a corner booth"
    for kwargs, field in (({"kind": "fax"}, "kind"), ({"summary": "  "}, "summary"),
                          ({"summary": "x" * 1001}, "summary"), ({"happened_on": date(2026, 4, 1)}, "happened_on")):
        args = {"kind": "note", "happened_on": date(2026, 3, 1), "summary": "ok", **kwargs}
        with pytest.raises(ServiceError) as error:
            accounts.log_activity(scope, exhibitor.company, today=date(2026, 3, 5), **args)
        assert error.value.field == field


def test_contract_then_payments_until_paid_in_full(app, account):
    scope, edition, exhibitor, manager = account
    contract = accounts.add_contract(scope, exhibitor, number="HT-2026-001", signed_on=date(2026, 3, 1),
                                     amount=Decimal("54000"), actor_id=manager.id)
    assert exhibitor.status == "contracted"  # signed: no longer negotiating
    with pytest.raises(ServiceError, match="exists already"):
        accounts.add_contract(scope, exhibitor, number="ht-2026-001", signed_on=date(2026, 3, 1), amount=Decimal(1))
    accounts.add_payment(scope, contract, amount=Decimal("20000"), paid_on=date(2026, 3, 10), method="transfer")
    assert not contract.paid_in_full and contract.balance == Decimal("34000")
    assert exhibitor.status == "contracted"
    with pytest.raises(ServiceError, match="more than the balance"):
        accounts.add_payment(scope, contract, amount=Decimal("34000.01"), paid_on=date(2026, 3, 11), method="card")
    for kwargs in ({"amount": Decimal(0)}, {"amount": None}, {"method": "bitcoin"}, {"paid_on": None}):
        with pytest.raises(ServiceError):
            accounts.add_payment(scope, contract, **{"amount": Decimal(1), "paid_on": date(2026, 3, 11),
                                                     "method": "cash", **kwargs})
    accounts.add_payment(scope, contract, amount=Decimal("34000"), paid_on=date(2026, 4, 1), method="transfer",
                         reference="BOC 7781")
    assert contract.paid_in_full and exhibitor.status == "paid"
    db.session.commit()
    kinds = [a.kind for a in db.session.query(Activity).filter_by(subject_id=exhibitor.company_id)]
    assert kinds.count("sales.payment") == 2 and "sales.contract" in kinds


def test_lost_deals_take_no_contract(app, account):
    scope, edition, exhibitor, manager = account
    exhibitor_services.set_status(exhibitor, "lost", reason="Too expensive")
    with pytest.raises(ServiceError, match="revive"):
        accounts.add_contract(scope, exhibitor, number="X-1", signed_on=date(2026, 3, 1), amount=Decimal(1))


def test_company_page_forms(app, account):
    scope, edition, exhibitor, manager = account
    browser = Browser(app, manager)
    company_url = f"/org/companies/{exhibitor.company_id}"
    response = browser.post(company_url + "/contacts", {"name": "王伟", "role": "总经理", "email": "wang@example.cn"})
    assert response.status_code == 302 and response.headers["Location"].endswith(company_url + "#contacts")
    contact = db.session.query(CompanyContact).one()
    browser.post(company_url + "/activities", {"kind": "visit", "summary": "Visited the factory",
                                               "contact_id": str(contact.id), "exhibitor_id": str(exhibitor.id)})
    deal_url = f"/org/editions/{edition.id}/pipeline/{exhibitor.id}"
    browser.post(deal_url + "/contracts", {"number": "HT-1", "signed_on": "2026-03-01", "amount": "¥54,000"})
    contract_id = accounts.exhibitor_contracts(scope, db.session.get(Exhibitor, exhibitor.id))[0].id
    browser.post(f"{deal_url}/contracts/{contract_id}/payments", {"amount": "54000", "paid_on": "2026-03-20",
                                                                  "method": "transfer"})
    page = browser.get(company_url).get_data(as_text=True)
    for text in ("王伟", "总经理", "Main contact", "Visited the factory", "HT-1", "Paid in full"):
        assert text in page, text
    assert "Payment of ¥54,000.00 received on contract HT-1" in page  # the timeline
    # hostile input: clear messages, never a 500
    for url, data in ((company_url + "/contacts", {"name": "\x00"}),
                      (company_url + "/activities", {"kind": "call", "summary": "x", "contact_id": "99999999999"}),
                      (company_url + "/activities", {"kind": "call", "summary": "x", "happened_on": "2026-99-01"}),
                      (deal_url + "/contracts", {"number": "HT-2", "signed_on": "x", "amount": "1"}),
                      (deal_url + "/contracts", {"number": "HT-2", "signed_on": "2026-01-01", "amount": "NaN"}),
                      (f"{deal_url}/contracts/{contract_id}/payments", {"amount": "1e999", "paid_on": "2026-03-20"})):
        response = browser.post(url, data)
        assert response.status_code in (302, 400), (url, data, response.status_code)
    assert browser.post(f"{company_url}/contacts/{contact.id + 1000}", {"action": "main"}).status_code == 404
    assert browser.post(f"{deal_url}/contracts/{contract_id + 1000}/payments", {"amount": "1"}).status_code == 404
