"""Visitors (persons, persistent across editions) and their registrations for an edition."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, Index, String, Table, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.models import Category, ConsentVersion, Edition
from ..core.states import Machine, State
from ..extensions import db

VISITOR_CATEGORY = Machine("visitor_category", [
    State("buyer", _l("Buyer"), "primary", "bag-check"),
    State("trade_visitor", _l("Trade visitor"), "info", "briefcase"),
    State("public", _l("Public"), "secondary", "person"),
    State("media", _l("Media"), "dark", "camera"),
    State("vip", _l("VIP"), "warning", "star"),
    State("exhibitor_staff", _l("Exhibitor staff"), "secondary", "person-badge"),
    State("speaker", _l("Speaker"), "info", "mic"),
])
# Waiting lists and approval queues lead to confirmed; a cancelled registration can be reinstated.
REGISTRATION_STATUS = Machine("registration_status", [
    State("pending", _l("Pending"), "warning", "hourglass-split"),
    State("confirmed", _l("Confirmed"), "success", "check-circle"),
    State("cancelled", _l("Cancelled"), "danger", "x-circle"),
    State("waitlisted", _l("Waitlisted"), "secondary", "list-ol"),
], moves={
    "pending": ("confirmed", "waitlisted", "cancelled"),
    "waitlisted": ("pending", "confirmed", "cancelled"),
    "confirmed": ("cancelled",),
    "cancelled": ("confirmed",),
})
REGISTRATION_SOURCE = Machine("registration_source", [
    State("online", _l("Online"), "primary", "globe"), State("import", _l("Import"), "secondary", "upload"),
    State("walk_up", _l("Walk-up"), "info", "door-open"),
    State("exhibitor_invitation", _l("Exhibitor invitation"), "success", "envelope-paper"),
    State("campaign", _l("Campaign"), "warning", "megaphone"),
])
ERASED_NAME = _l("Erased visitor")  # what pages show in place of a name that was erased
VISITOR_CATEGORIES = VISITOR_CATEGORY.codes
REGISTRATION_STATUSES = REGISTRATION_STATUS.codes
SOURCES = REGISTRATION_SOURCE.codes

registration_interests = Table(
    "registration_interests",
    db.metadata,
    Column("registration_id", ForeignKey("registrations.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Person(db.Model):
    __tablename__ = "persons"
    __table_args__ = (
        Index("uq_persons_organizer_id_email_key", "organizer_id", "email_key", unique=True,
              sqlite_where=text("email_key IS NOT NULL"), postgresql_where=text("email_key IS NOT NULL")),
        Index("ix_persons_organizer_id_phone_key", "organizer_id", "phone_key"),
        Index("ix_persons_organizer_id_name_key", "organizer_id", "name_key"),
        # Search (core.search): the name as pinyin, and turned (family name last); the company name's key.
        Index("ix_persons_organizer_id_pinyin_key", "organizer_id", "pinyin_key"),
        Index("ix_persons_organizer_id_pinyin_key_turned", "organizer_id", "pinyin_key_turned"),
        Index("ix_persons_organizer_id_company_key", "organizer_id", "company_key"),
        UniqueConstraint("organizer_id", "external_ref"),
        CheckConstraint("merged_into_id IS NULL OR merged_into_id <> id", name="not_merged_into_itself"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    email_key: Mapped[str | None] = mapped_column(String(254))  # normalized, for deduplication
    phone: Mapped[str] = mapped_column(String(40), default="")
    phone_key: Mapped[str | None] = mapped_column(String(20))  # E.164 (+8613912345678): a hint, never identity
    # Normalized name + company, for the duplicate review (set only when both are known).
    name_key: Mapped[str | None] = mapped_column(String(402))
    # Search keys (core.search.name_keys / company_key), kept by persons.refresh_keys.
    pinyin_key: Mapped[str | None] = mapped_column(String(200))
    pinyin_key_turned: Mapped[str | None] = mapped_column(String(200))
    company_key: Mapped[str | None] = mapped_column(String(200))
    company: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(200), default="")
    country: Mapped[str] = mapped_column(String(2), default="")
    external_ref: Mapped[str | None] = mapped_column(String(100))  # the source system's id (imports)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Set when staff merged this person into another: the row stays (its email still finds the kept person).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    # Set when the person's data was erased (their request, or the retention period of every edition they came
    # to): the row stays, anonymised, so that registrations, check-ins and leads stay countable.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DistinctPersons(db.Model):
    """Staff decided that two possible duplicates are two people (a shared switchboard, namesakes)."""

    __tablename__ = "distinct_persons"
    __table_args__ = (
        UniqueConstraint("person_id", "other_person_id"),
        CheckConstraint("person_id < other_person_id", name="ordered_pair"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    other_person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Registration(db.Model):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("edition_id", "person_id"),
        UniqueConstraint("edition_id", "external_ref"),
        CheckConstraint(VISITOR_CATEGORY.check("category"), name="valid_category"),
        CheckConstraint(REGISTRATION_STATUS.check("status"), name="valid_status"),
        CheckConstraint(REGISTRATION_SOURCE.check("source"), name="valid_source"),
        CheckConstraint("badge_serial >= 1", name="positive_badge_serial"),
        CheckConstraint("NOT share_with_exhibitors OR sharing_at IS NOT NULL", name="sharing_has_its_time"),
        CheckConstraint("category_set_by IN ('visitor', 'rule', 'staff')", name="valid_category_set_by"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="confirmed")
    source: Mapped[str] = mapped_column(String(30), default="online")
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    # Who set the category: the visitor's choice, a category rule (which one), or staff (visitors.rules).
    category_set_by: Mapped[str] = mapped_column(String(10), default="visitor", server_default="visitor")
    category_rule_id: Mapped[int | None] = mapped_column(ForeignKey("category_rules.id", ondelete="SET NULL"),
                                                         index=True)
    consent_version: Mapped[str | None] = mapped_column(String(20))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The exact text agreed to (consent_version is its number, kept for reading at a glance).
    consent_version_id: Mapped[int | None] = mapped_column(ForeignKey("consent_versions.id"), index=True)
    # Sharing contact details with exhibitors is a consent of its own: given at sharing_at on the text of
    # sharing_version_id, withdrawn (and given again) from the visitor's page; the last withdrawal's time stays.
    share_with_exhibitors: Mapped[bool] = mapped_column(default=False)
    sharing_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sharing_version_id: Mapped[int | None] = mapped_column(ForeignKey("consent_versions.id"), index=True)
    sharing_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when this registration's personal fields were erased or shredded (see visitors.privacy).
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped when a badge is reissued: codes carrying an older serial are revoked.
    badge_serial: Mapped[int] = mapped_column(default=1)
    # Unguessable key of the visitor's own confirmation page (visitors have no account).
    access_key: Mapped[str] = mapped_column(String(43), unique=True)
    locale: Mapped[str] = mapped_column(String(10), default="en")  # the language mails to this visitor use
    # What the visitor typed for this registration. The person is never rewritten by a registration;
    # these keep the details of this participation (the badge, the exhibitor's lead show them).
    name_as_given: Mapped[str] = mapped_column(String(200), default="")
    company_as_given: Mapped[str] = mapped_column(String(200), default="")
    job_title_as_given: Mapped[str] = mapped_column(String(200), default="")
    phone_as_given: Mapped[str] = mapped_column(String(40), default="")
    # Registration policy (visitors.policy, visitors.invitations): the exhibitor whose invitation brought the
    # visitor and the code used; the registration of the contact who registered this one in a group; why
    # staff refused it (shown to the visitor).
    invited_by_exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id"), index=True)
    invitation_code_id: Mapped[int | None] = mapped_column(ForeignKey("invitation_codes.id"), index=True)
    group_contact_id: Mapped[int | None] = mapped_column(ForeignKey("registrations.id"), index=True)
    status_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    external_ref: Mapped[str | None] = mapped_column(String(100))  # the source system's id (imports)
    # The campaign whose tracked link the visitor registered through (source "campaign"; the campaigns module).
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped["Person"] = relationship()
    edition: Mapped[Edition] = relationship()
    consent: Mapped[ConsentVersion | None] = relationship(foreign_keys=[consent_version_id])
    sharing_consent: Mapped[ConsentVersion | None] = relationship(foreign_keys=[sharing_version_id])
    interests: Mapped[list[Category]] = relationship(secondary=registration_interests)
    invited_by_exhibitor = relationship("Exhibitor", foreign_keys=[invited_by_exhibitor_id])
    group_contact = relationship("Registration", remote_side="Registration.id", foreign_keys=[group_contact_id])

    @property
    def status_state(self) -> State:
        return REGISTRATION_STATUS.state(self.status)

    @property
    def category_state(self) -> State:
        return VISITOR_CATEGORY.state(self.category)

    @property
    def source_state(self) -> State:
        return REGISTRATION_SOURCE.state(self.source)

    # The visitor as they gave themselves for this registration; what they left blank comes from the person.
    @property
    def visitor_name(self) -> str:
        return self.name_as_given or self.person.name or str(ERASED_NAME)

    @property
    def visitor_company(self) -> str:
        return self.company_as_given or self.person.company

    @property
    def visitor_job_title(self) -> str:
        return self.job_title_as_given or self.person.job_title

    @property
    def visitor_phone(self) -> str:
        return self.phone_as_given or self.person.phone


# --- registration policy (visitors.policy) and invitation codes (visitors.invitations) -------------------

class RegistrationPolicy(db.Model):
    """When an edition's public registration opens and closes (on top of its status), and whether it takes
    only visitors with an invitation code. One row per edition, created when staff first save the setup."""

    __tablename__ = "registration_policies"
    __table_args__ = (CheckConstraint("closes_at IS NULL OR opens_at IS NULL OR closes_at > opens_at",
                                      name="dates_in_order"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), unique=True)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invitation_only: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CategorySetting(db.Model):
    """Per edition and visitor category: the places (None: no limit; over it, the waiting list) and whether a
    registration needs staff approval. Its row is also the lock that keeps the capacity under concurrent
    submits (SELECT … FOR UPDATE)."""

    __tablename__ = "category_settings"
    __table_args__ = (
        UniqueConstraint("edition_id", "category"),
        CheckConstraint(VISITOR_CATEGORY.check("category"), name="valid_category"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    capacity: Mapped[int | None]
    needs_approval: Mapped[bool] = mapped_column(default=False)


class InvitationCode(db.Model):
    """An invitation code of an edition: an exhibitor's (its own link, or one per campaign) or the
    organizer's (exhibitor_id None). Unguessable; ``max_uses`` None: no limit."""

    __tablename__ = "invitation_codes"
    __table_args__ = (
        CheckConstraint("max_uses IS NULL OR max_uses >= 1", name="positive_max_uses"),
        CheckConstraint("uses >= 0", name="uses_not_negative"),
        Index("uq_invitation_codes_exhibitor_id_default", "exhibitor_id", unique=True,
              sqlite_where=text("is_default"), postgresql_where=text("is_default")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    max_uses: Mapped[int | None]
    uses: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    is_default: Mapped[bool] = mapped_column(default=False)  # the exhibitor's own link
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    exhibitor = relationship("Exhibitor")

    @property
    def used_up(self) -> bool:
        return self.max_uses is not None and self.uses >= self.max_uses


class BadgeLayout(db.Model):
    """How the badges of one visitor category look in one edition: the colour of the band and the label printed
    in it, in English and Chinese. Categories without a row print with the defaults (visitors.badge_layouts)."""

    __tablename__ = "badge_layouts"
    __table_args__ = (
        UniqueConstraint("edition_id", "category"),
        CheckConstraint(VISITOR_CATEGORY.check("category"), name="valid_category"),
        CheckConstraint("length(colour) = 7 AND colour LIKE '#%'", name="valid_colour"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    colour: Mapped[str] = mapped_column(String(7))  # "#1f5fbf": lower-case hex
    label_en: Mapped[str] = mapped_column(String(40), default="")
    label_zh: Mapped[str] = mapped_column(String(40), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)


# Qualification questions and category rules live in their own files (tables registered with the models).
from . import questions, rules  # noqa: E402,F401
