"""Companies (persistent) and their participation in an edition (exhibitors)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, Column, ForeignKey, Index, Numeric, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.models import Category, Edition
from ..core.states import Machine, State
from ..extensions import db

# The booth-sales pipeline. Forward any number of steps while selling, back one step when a deal
# cools; a lost prospect can be revived, a cancelled contract starts over as a prospect.
EXHIBITOR_STATUS = Machine("exhibitor_status", [
    State("prospect", _l("Prospect"), "secondary", "search"),
    State("contacted", _l("Contacted"), "info", "telephone"),
    State("negotiating", _l("Negotiating"), "primary", "chat-dots"),
    State("contracted", _l("Contracted"), "success", "file-earmark-check"),
    State("paid", _l("Paid"), "success", "cash-coin"),
    State("exhibited", _l("Exhibited"), "dark", "shop"),
    State("lost", _l("Lost"), "danger", "x-octagon"),
    State("cancelled", _l("Cancelled"), "danger", "x-circle"),
], moves={
    "prospect": ("contacted", "negotiating", "contracted", "lost"),
    "contacted": ("prospect", "negotiating", "contracted", "lost"),
    "negotiating": ("contacted", "contracted", "lost"),
    "contracted": ("negotiating", "paid", "exhibited", "cancelled"),
    "paid": ("contracted", "exhibited", "cancelled"),
    "exhibited": ("paid",),
    "lost": ("prospect",),
    "cancelled": ("prospect",),
})
EXHIBITOR_STATUSES = EXHIBITOR_STATUS.codes
# Exhibitors who take part in an edition (the others are still in, or fell out of, the sales pipeline).
PARTICIPATING_STATUSES = ("contracted", "paid", "exhibited")
# Exhibitors who fell out of the edition: their staff capture no more leads.
WITHDRAWN_STATUSES = ("lost", "cancelled")

exhibitor_categories = Table(
    "exhibitor_categories",
    db.metadata,
    Column("exhibitor_id", ForeignKey("exhibitors.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Company(db.Model):
    __tablename__ = "companies"
    __table_args__ = (UniqueConstraint("organizer_id", "external_ref"),
                      Index("ix_companies_organizer_id_name_key", "organizer_id", "name_key"),
                      CheckConstraint("merged_into_id IS NULL OR merged_into_id <> id", name="not_merged_into_itself"))
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The name without case, spaces, punctuation or legal form (companies.company_key): search, duplicates.
    name_key: Mapped[str | None] = mapped_column(String(200))
    # Set when staff merged this company into another: the row stays as an alias (its name still finds it).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    country: Mapped[str] = mapped_column(String(2), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    external_ref: Mapped[str | None] = mapped_column(String(100))  # the source system's id (imports)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Exhibitor(db.Model):
    __tablename__ = "exhibitors"
    __exhibitor_column__ = "id"  # exhibitor staff see their own exhibitor row (core.scoping)
    __table_args__ = (
        UniqueConstraint("edition_id", "company_id"),
        UniqueConstraint("edition_id", "external_ref"),
        CheckConstraint(EXHIBITOR_STATUS.check("status"), name="valid_status"),
        CheckConstraint("area_m2 IS NULL OR area_m2 > 0", name="positive_area"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id"), index=True)
    hall: Mapped[str] = mapped_column(String(20), default="")
    stand: Mapped[str] = mapped_column(String(20), default="")
    area_m2: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    status: Mapped[str] = mapped_column(String(20), default="prospect")
    sales_rep_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", use_alter=True), index=True)
    # The booth-sales deal (issue 8): the booth type sets the price per m² (value = price, else m² × that);
    # when the organizer expects to close, and why a lost prospect was lost.
    booth_type_id: Mapped[int | None] = mapped_column(ForeignKey("booth_types.id"), index=True)
    expected_close_on: Mapped[date | None]
    lost_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    external_ref: Mapped[str | None] = mapped_column(String(100))  # the source system's id (imports)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    company: Mapped[Company] = relationship()
    edition: Mapped[Edition] = relationship()
    categories: Mapped[list[Category]] = relationship(secondary=exhibitor_categories)
    booth_type: Mapped[BoothType | None] = relationship()

    @property
    def status_state(self) -> State:
        return EXHIBITOR_STATUS.state(self.status)

    @property
    def booth(self) -> str:
        return "-".join(p for p in (self.hall, self.stand) if p)

    @property
    def deal_value(self) -> Decimal | None:
        """What the booking is worth: the agreed price, else m² × the booth type's price per m², else None."""
        if self.price is not None:
            return self.price
        if self.area_m2 is not None and self.booth_type is not None:
            return (self.area_m2 * self.booth_type.price_per_m2).quantize(Decimal("0.01"))
        return None


class BoothType(db.Model):
    """A kind of booth an edition sells (e.g. shell scheme, raw space, corner), with its price per m²."""

    __tablename__ = "booth_types"
    __table_args__ = (
        UniqueConstraint("edition_id", "code"),
        CheckConstraint("price_per_m2 >= 0", name="price_not_negative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    name_zh: Mapped[str] = mapped_column(String(100), default="")
    price_per_m2: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def name(self, language: str | None = None) -> str:
        first, second = (self.name_zh, self.name_en) if (language or "").startswith("zh") else \
            (self.name_en, self.name_zh)
        return first or second or self.code


# The chance that a deal at each stage closes, in percent, unless the edition sets its own (stage_probabilities).
DEFAULT_STAGE_PROBABILITY = {"prospect": 10, "contacted": 20, "negotiating": 50, "contracted": 90, "paid": 100,
                             "exhibited": 100, "lost": 0, "cancelled": 0}


class StageProbability(db.Model):
    """An edition's own chance of closing for a pipeline stage (percent), over DEFAULT_STAGE_PROBABILITY."""

    __tablename__ = "stage_probabilities"
    __table_args__ = (
        UniqueConstraint("edition_id", "status"),
        CheckConstraint(EXHIBITOR_STATUS.check("status"), name="valid_status"),
        CheckConstraint("percent BETWEEN 0 AND 100", name="valid_percent"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    percent: Mapped[int]


class DistinctCompanies(db.Model):
    """Staff decided that two look-alike companies (same name key) are two companies: the pair leaves the
    duplicates review for good."""

    __tablename__ = "distinct_companies"
    __table_args__ = (
        UniqueConstraint("company_id", "other_company_id"),
        CheckConstraint("company_id < other_company_id", name="ordered_pair"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    other_company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# --- products ------------------------------------------------------------------------------------

product_categories = Table(
    "product_categories",
    db.metadata,
    Column("product_id", ForeignKey("products.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Product(db.Model):
    """A company's product (it persists across editions, like the company), in English and/or Chinese.
    Removing a product sets ``deleted_at`` (matchmaking picks the change up through ``updated_at``)."""

    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("name_en <> '' OR name_zh <> ''", name="has_a_name"),
        Index("ix_products_organizer_id_updated_at", "organizer_id", "updated_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)
    name_en: Mapped[str] = mapped_column(String(200), default="")
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    company: Mapped[Company] = relationship()
    categories: Mapped[list[Category]] = relationship(secondary=product_categories, order_by=Category.name)

    def name(self, language: str | None = None) -> str:
        """The name in the language ("zh…" or anything else for English), else in the other one."""
        first, second = (self.name_zh, self.name_en) if (language or "").startswith("zh") else \
            (self.name_en, self.name_zh)
        return first or second

    def description(self, language: str | None = None) -> str:
        first, second = (self.description_zh, self.description_en) if (language or "").startswith("zh") else \
            (self.description_en, self.description_zh)
        return first or second


# --- issue 8's parts, each in its own file (registered with the other tables through this module) ---------
from .pipeline_models import *  # noqa: E402,F401,F403
from .rep_models import *  # noqa: E402,F401,F403
from .floor_models import *  # noqa: E402,F401,F403
from .portal_models import *  # noqa: E402,F401,F403
from .manual_models import *  # noqa: E402,F401,F403
