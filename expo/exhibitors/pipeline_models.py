"""Booth sales (issue 8, pipeline part): a company's contacts, the sales activities logged with it (calls,
visits, mails, notes), the contracts signed for an exhibitor's booth and the payments made against them."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.states import Machine, State
from ..extensions import db

# What kind of touch a sales activity was (a plain set of codes: any kind may be logged).
SALES_ACTIVITY_KIND = Machine("sales_activity_kind", [
    State("call", _l("Call"), "info", "telephone"),
    State("visit", _l("Visit"), "primary", "geo-alt"),
    State("mail", _l("Mail"), "secondary", "envelope"),
    State("note", _l("Note"), "dark", "sticky"),
])
# How a payment was made.
PAYMENT_METHOD = Machine("payment_method", [
    State("transfer", _l("Bank transfer"), "secondary", "bank"),
    State("card", _l("Card"), "secondary", "credit-card"),
    State("cash", _l("Cash"), "secondary", "cash"),
    State("cheque", _l("Cheque"), "secondary", "receipt"),
    State("other", _l("Other"), "secondary", "three-dots"),
])


class CompanyContact(db.Model):
    """A person the sales team deals with at a company (several per company; at most one main contact)."""

    __tablename__ = "company_contacts"
    __table_args__ = (
        CheckConstraint("name <> ''", name="has_a_name"),
        Index("uq_company_contacts_company_id_main", "company_id", unique=True,
              sqlite_where=text("is_main"), postgresql_where=text("is_main")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100), default="")  # job or role in the deal: "Marketing manager"
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    is_main: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SalesActivity(db.Model):
    """One touch of the sales team with a company (a call, a visit, a mail, a note), dated, by whom; it is on the
    company's timeline too (core.activity)."""

    __tablename__ = "sales_activities"
    __table_args__ = (
        CheckConstraint(SALES_ACTIVITY_KIND.check("kind"), name="valid_kind"),
        Index("ix_sales_activities_company_id_happened_on", "company_id", "happened_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id", ondelete="SET NULL"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("company_contacts.id", ondelete="SET NULL"),
                                                   index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    happened_on: Mapped[date]
    summary: Mapped[str] = mapped_column(String(1000), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contact: Mapped[CompanyContact | None] = relationship()

    @property
    def kind_state(self) -> State:
        return SALES_ACTIVITY_KIND.state(self.kind)


class Contract(db.Model):
    """A booth contract signed with an exhibitor (its number is unique at the organizer)."""

    __tablename__ = "contracts"
    __table_args__ = (
        UniqueConstraint("organizer_id", "number"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("number <> ''", name="has_a_number"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    exhibitor_id: Mapped[int] = mapped_column(ForeignKey("exhibitors.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(50))
    signed_on: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    payments: Mapped[list[Payment]] = relationship(order_by="Payment.paid_on, Payment.id",
                                                    back_populates="contract")

    @property
    def paid(self) -> Decimal:
        return sum((p.amount for p in self.payments), Decimal("0.00"))

    @property
    def balance(self) -> Decimal:
        return self.amount - self.paid

    @property
    def paid_in_full(self) -> bool:
        return self.paid >= self.amount


class Payment(db.Model):
    """Money received against a contract."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(PAYMENT_METHOD.check("method"), name="valid_method"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    paid_on: Mapped[date]
    method: Mapped[str] = mapped_column(String(20), default="transfer")
    reference: Mapped[str] = mapped_column(String(100), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    contract: Mapped[Contract] = relationship(back_populates="payments")

    @property
    def method_state(self) -> State:
        return PAYMENT_METHOD.state(self.method)


__all__ = ["PAYMENT_METHOD", "SALES_ACTIVITY_KIND", "CompanyContact", "Contract", "Payment", "SalesActivity"]
