"""portal (issue 8): the company profile's Chinese half and its logo, and product pictures.

company_profiles: one row per company (made on first use) with the Chinese name and description beside the
company's own name and (English) description, and the key of its current logo. product_pictures: a product's
pictures in their order. An image's key names its files under INSTANCE_DIR/media (expo.exhibitors.images).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.db import UTCDateTime, utcnow
from ..extensions import db

__all__ = ["CompanyProfile", "ProductPicture"]


class CompanyProfile(db.Model):
    """What the portal adds to a company: its name and description in Chinese, its logo."""

    __tablename__ = "company_profiles"
    __table_args__ = (
        UniqueConstraint("company_id"),
        CheckConstraint("logo_key IS NULL OR length(logo_key) = 32", name="logo_key_length"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    name_zh: Mapped[str] = mapped_column(String(200), default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    logo_key: Mapped[str | None] = mapped_column(String(32))
    logo_width: Mapped[int | None] = mapped_column(Integer)
    logo_height: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)


class ProductPicture(db.Model):
    """One picture of a product; ``position`` orders them (0 first: the one shown in lists)."""

    __tablename__ = "product_pictures"
    __table_args__ = (
        UniqueConstraint("key"),
        CheckConstraint("length(key) = 32", name="key_length"),
        CheckConstraint("position >= 0", name="position_not_negative"),
        CheckConstraint("width > 0 AND height > 0", name="has_a_size"),
        Index("ix_product_pictures_product_id_position", "product_id", "position"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
