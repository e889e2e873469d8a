"""A company's account in booth sales (issue 8): its contacts (several, roles, one main contact), the sales
activities logged with it (calls, visits, mails, notes: dated, by whom, on the company's timeline), the
contracts signed for its booths and the payments received against them ("paid in full").

Recording a contract moves a deal still being sold to "contracted"; a payment that settles every contract of a
contracted exhibitor moves it to "paid" (both through services.set_status: audited, on the timeline).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, update
from sqlalchemy.orm import joinedload, selectinload

from ..core import activity
from ..core.models import Edition, User
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit
from ..extensions import db
from .models import (PAYMENT_METHOD, SALES_ACTIVITY_KIND, Company, CompanyContact, Contract, Exhibitor, Payment,
                     SalesActivity)
from .pipeline import _clean

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
RECENT_ACTIVITIES = 20


# --- contacts -------------------------------------------------------------------------------------------

@dataclass
class ContactData:
    name: str
    role: str = ""
    email: str = ""
    phone: str = ""
    is_main: bool = False

    def cleaned(self) -> ContactData:
        data = ContactData(_clean(self.name), _clean(self.role), _clean(self.email).lower(), _clean(self.phone),
                           bool(self.is_main))
        if not data.name:
            raise ServiceError(_l("A contact needs a name."), "name")
        if len(data.name) > 200 or len(data.role) > 100:
            raise ServiceError(_l("This text is too long."), "name" if len(data.name) > 200 else "role")
        if data.email and (len(data.email) > 254 or not EMAIL.fullmatch(data.email)):
            raise ServiceError(_l("Enter a valid email address."), "email")
        if len(data.phone) > 40 or (data.phone and not re.fullmatch(r"[0-9+()\-./ x]+", data.phone)):
            raise ServiceError(_l("Enter a phone number of digits, spaces and + ( ) -."), "phone")
        return data


def contacts(scope: Scope, company_ids: list[int]) -> list[CompanyContact]:
    """The main contact first, then by name."""
    return list(db.session.scalars(scoped(CompanyContact, scope).where(CompanyContact.company_id.in_(company_ids))
                                   .order_by(CompanyContact.is_main.desc(), CompanyContact.name, CompanyContact.id)))


def get_contact(scope: Scope, company: Company, contact_id: int | None) -> CompanyContact | None:
    if contact_id is None:
        return None
    return db.session.scalar(scoped(CompanyContact, scope).where(CompanyContact.id == contact_id,
                                                                 CompanyContact.company_id == company.id))


def _unset_main(company_id: int, keep_id: int | None = None) -> None:
    db.session.execute(update(CompanyContact).where(CompanyContact.company_id == company_id,
                                                    CompanyContact.is_main.is_(True),
                                                    CompanyContact.id != (keep_id or 0)).values(is_main=False))


def add_contact(scope: Scope, company: Company, data: ContactData, *, actor_id: int | None = None) -> CompanyContact:
    """A new contact; the company's first contact (or one marked main) becomes its main contact."""
    data = data.cleaned()
    first = not db.session.scalar(scoped(CompanyContact, scope, CompanyContact.id)
                                  .where(CompanyContact.company_id == company.id).limit(1))
    if data.is_main:
        _unset_main(company.id)
    contact = CompanyContact(organizer_id=scope.organizer_id, company_id=company.id, name=data.name, role=data.role,
                             email=data.email, phone=data.phone, is_main=data.is_main or first)
    db.session.add(contact)
    db.session.flush()
    audit("contact.created", organizer_id=scope.organizer_id, user_id=actor_id, obj=contact,
          details={"company_id": company.id, "name": contact.name})
    return contact


def update_contact(scope: Scope, contact: CompanyContact, data: ContactData, *,
                   actor_id: int | None = None) -> list[str]:
    data = data.cleaned()
    changed = [k for k in ("name", "role", "email", "phone") if getattr(contact, k) != getattr(data, k)]
    for key in changed:
        setattr(contact, key, getattr(data, key))
    if data.is_main and not contact.is_main:
        make_main(scope, contact, actor_id=actor_id)
    if changed:
        db.session.flush()
        audit("contact.updated", organizer_id=scope.organizer_id, user_id=actor_id, obj=contact,
              details={"fields": changed})
    return changed


def make_main(scope: Scope, contact: CompanyContact, *, actor_id: int | None = None) -> None:
    """The company's main contact is this one (and no other)."""
    if contact.is_main:
        return
    _unset_main(contact.company_id, contact.id)
    db.session.flush()
    contact.is_main = True
    db.session.flush()
    audit("contact.main", organizer_id=scope.organizer_id, user_id=actor_id, obj=contact,
          details={"company_id": contact.company_id, "name": contact.name})


def delete_contact(scope: Scope, contact: CompanyContact, *, actor_id: int | None = None) -> None:
    """Remove a contact (their logged activities stay, without the name). A removed main contact hands the
    role to the next contact by name."""
    company_id, was_main = contact.company_id, contact.is_main
    audit("contact.deleted", organizer_id=scope.organizer_id, user_id=actor_id, obj=contact,
          details={"company_id": company_id, "name": contact.name})
    db.session.execute(update(SalesActivity).where(SalesActivity.contact_id == contact.id).values(contact_id=None))
    db.session.delete(contact)
    db.session.flush()
    if was_main:
        heir = db.session.scalar(scoped(CompanyContact, scope).where(CompanyContact.company_id == company_id)
                                 .order_by(CompanyContact.name, CompanyContact.id).limit(1))
        if heir is not None:
            heir.is_main = True
            db.session.flush()


# --- sales activities -----------------------------------------------------------------------------------

MAX_SUMMARY = 1000


def log_activity(scope: Scope, company: Company, *, kind: str, happened_on: date | None, summary: str,
                 contact: CompanyContact | None = None, exhibitor: Exhibitor | None = None,
                 actor_id: int | None = None, today: date | None = None) -> SalesActivity:
    """Log a call, visit, mail or note with the company (dated, by ``actor_id``); it lands on its timeline."""
    if kind not in SALES_ACTIVITY_KIND:
        raise ServiceError(_l("Choose call, visit, mail or note."), "kind")
    summary = _clean(summary)
    if not summary:
        raise ServiceError(_l("Say in a few words what happened."), "summary")
    if len(summary) > MAX_SUMMARY:
        raise ServiceError(_l("The text is too long (1,000 characters at most)."), "summary")
    today = today or datetime.now(timezone.utc).date()
    happened_on = happened_on or today
    if happened_on > today + timedelta(days=1):
        raise ServiceError(_l("An activity cannot be dated in the future: plan it as a follow-up instead."),
                           "happened_on")
    if contact is not None and contact.company_id != company.id:
        raise ServiceError(_l("No such contact at this company."), "contact_id")
    if exhibitor is not None and exhibitor.company_id != company.id:
        raise ServiceError(_l("No such booking of this company."), "exhibitor_id")
    row = SalesActivity(organizer_id=scope.organizer_id, company_id=company.id, kind=kind, happened_on=happened_on,
                        summary=summary, contact_id=contact.id if contact else None,
                        exhibitor_id=exhibitor.id if exhibitor else None, user_id=actor_id)
    db.session.add(row)
    db.session.flush()
    now = datetime.now(timezone.utc)
    at = now if happened_on >= now.date() else datetime.combine(happened_on, time(12), tzinfo=timezone.utc)
    activity.record(f"sales.{kind}", organizer_id=scope.organizer_id, subject_type="company", subject_id=company.id,
                    edition_id=exhibitor.edition_id if exhibitor else None, user_id=actor_id, obj=row, at=at,
                    details={"summary": summary[:200], "contact": contact.name if contact else "",
                             "happened_on": happened_on.isoformat()})
    return row


def activities(scope: Scope, company_ids: list[int], *, limit: int = RECENT_ACTIVITIES) -> list[SalesActivity]:
    return list(db.session.scalars(scoped(SalesActivity, scope).where(SalesActivity.company_id.in_(company_ids))
                                   .options(joinedload(SalesActivity.contact))
                                   .order_by(SalesActivity.happened_on.desc(), SalesActivity.id.desc()).limit(limit)))


# --- contracts and payments -----------------------------------------------------------------------------

def add_contract(scope: Scope, exhibitor: Exhibitor, *, number: str, signed_on: date | None, amount: Decimal | None,
                 actor_id: int | None = None) -> Contract:
    """Record a signed booth contract; a deal still being sold moves to "contracted"."""
    from . import services  # the stage move (same module)

    number = _clean(number)
    if not number:
        raise ServiceError(_l("Enter the contract number."), "number")
    if len(number) > 50:
        raise ServiceError(_l("A contract number has 50 characters at most."), "number")
    if signed_on is None:
        raise ServiceError(_l("Enter the date the contract was signed."), "signed_on")
    if amount is None or amount <= 0:  # a contract of nothing could never be paid: the deal would stay stuck
        raise ServiceError(_l("Enter the contract amount."), "amount")
    if exhibitor.status in ("lost", "cancelled"):
        raise ServiceError(_l("This deal is %(stage)s: revive it as a prospect first.",
                              stage=exhibitor.status_state.label), "number")
    if db.session.scalar(scoped(Contract, scope, Contract.id).where(func.lower(Contract.number) == number.lower())):
        raise ServiceError(_l("A contract with this number exists already."), "number")
    contract = Contract(organizer_id=scope.organizer_id, exhibitor_id=exhibitor.id, number=number,
                        signed_on=signed_on, amount=amount, created_by_id=actor_id)
    db.session.add(contract)
    db.session.flush()
    audit("contract.created", organizer_id=scope.organizer_id, user_id=actor_id, obj=contract,
          details={"exhibitor_id": exhibitor.id, "number": number, "amount": str(amount),
                   "signed_on": signed_on.isoformat()})
    activity.record("sales.contract", organizer_id=scope.organizer_id, subject_type="company",
                    subject_id=exhibitor.company_id, edition_id=exhibitor.edition_id, user_id=actor_id, obj=contract,
                    details={"number": number, "amount": f"{amount:,.2f}", "edition": exhibitor.edition.name})
    if exhibitor.status in ("prospect", "contacted", "negotiating"):
        services.set_status(exhibitor, "contracted", actor_id=actor_id)
    return contract


def add_payment(scope: Scope, contract: Contract, *, amount: Decimal | None, paid_on: date | None, method: str,
                reference: str = "", actor_id: int | None = None) -> Payment:
    """Record money received against a contract (never more than its balance). When every contract of a
    contracted exhibitor is paid in full, it moves to "paid"."""
    from . import services

    if amount is None or amount <= 0:
        raise ServiceError(_l("Enter an amount above zero."), "amount")
    if paid_on is None:
        raise ServiceError(_l("Enter the date of the payment."), "paid_on")
    if method not in PAYMENT_METHOD:
        raise ServiceError(_l("Choose how it was paid."), "method")
    reference = _clean(reference)
    if len(reference) > 100:
        raise ServiceError(_l("A reference has 100 characters at most."), "reference")
    if amount > contract.balance:
        raise ServiceError(_l("This is more than the balance of the contract (%(balance)s).",
                              balance=f"{contract.balance:,.2f}"), "amount")
    payment = Payment(organizer_id=scope.organizer_id, contract=contract, amount=amount, paid_on=paid_on,
                      method=method, reference=reference, created_by_id=actor_id)
    db.session.add(payment)
    db.session.flush()
    exhibitor = db.session.get(Exhibitor, contract.exhibitor_id)
    audit("payment.created", organizer_id=scope.organizer_id, user_id=actor_id, obj=payment,
          details={"contract_id": contract.id, "amount": str(amount), "paid_on": paid_on.isoformat(),
                   "method": method})
    activity.record("sales.payment", organizer_id=scope.organizer_id, subject_type="company",
                    subject_id=exhibitor.company_id, edition_id=exhibitor.edition_id, user_id=actor_id, obj=payment,
                    details={"number": contract.number, "amount": f"{amount:,.2f}"})
    if exhibitor.status == "contracted" and all(c.paid_in_full for c in exhibitor_contracts(scope, exhibitor)):
        services.set_status(exhibitor, "paid", actor_id=actor_id)
    return payment


def exhibitor_contracts(scope: Scope, exhibitor: Exhibitor) -> list[Contract]:
    return list(db.session.scalars(scoped(Contract, scope).where(Contract.exhibitor_id == exhibitor.id)
                                   .options(selectinload(Contract.payments))
                                   .order_by(Contract.signed_on, Contract.id)))


def get_contract(scope: Scope, exhibitor: Exhibitor, contract_id: int) -> Contract | None:
    return db.session.scalar(scoped(Contract, scope).where(Contract.id == contract_id,
                                                           Contract.exhibitor_id == exhibitor.id))


@dataclass
class Account:
    """What the company page shows of the sales account."""

    contacts: list[CompanyContact]
    activities: list[SalesActivity]
    contracts: dict[int, list[Contract]]  # exhibitor id → its contracts (with payments)
    users: dict[int, str] = field(default_factory=dict)  # who logged the activities

    @property
    def kinds(self):
        return list(SALES_ACTIVITY_KIND.states.values())

    @property
    def main_contact(self) -> CompanyContact | None:
        return next((c for c in self.contacts if c.is_main), None)

    def paid_in_full(self, exhibitor_id: int) -> bool:
        found = self.contracts.get(exhibitor_id) or []
        return bool(found) and all(c.paid_in_full for c in found)


def account(scope: Scope, company_ids: list[int], exhibitor_ids: list[int]) -> Account:
    found_contacts = contacts(scope, company_ids)
    found_activities = activities(scope, company_ids)
    by_exhibitor: dict[int, list[Contract]] = {}
    if exhibitor_ids:
        for contract in db.session.scalars(scoped(Contract, scope).where(Contract.exhibitor_id.in_(exhibitor_ids))
                                           .options(selectinload(Contract.payments))
                                           .order_by(Contract.signed_on, Contract.id)):
            by_exhibitor.setdefault(contract.exhibitor_id, []).append(contract)
    user_ids = {a.user_id for a in found_activities if a.user_id}
    users = dict(db.session.execute(scoped(User, scope, User.id, User.name).where(User.id.in_(user_ids))).all()) \
        if user_ids else {}
    return Account(found_contacts, found_activities, by_exhibitor, users)


def open_editions(scope: Scope, company_ids: list[int]) -> list[Exhibitor]:
    """The company's bookings an activity can be about (newest edition first)."""
    return list(db.session.scalars(scoped(Exhibitor, scope).where(Exhibitor.company_id.in_(company_ids))
                                   .join(Edition, Edition.id == Exhibitor.edition_id)
                                   .options(joinedload(Exhibitor.edition)).order_by(Edition.starts_on.desc())))


__all__ = ["Account", "ContactData", "account", "activities", "add_contact", "add_contract", "add_payment",
           "contacts", "delete_contact", "exhibitor_contracts", "get_contact", "get_contract", "log_activity",
           "make_main", "update_contact"]
