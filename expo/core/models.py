"""Tenants, users and roles, shows and editions, categories, mail outbox, audit log."""
from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from . import append_only
from .db import UTCDateTime, utcnow
from .states import Machine, State

ORGANIZER_ROLES = ("owner", "manager", "sales", "onsite", "analyst")
EXHIBITOR_ROLES = ("exhibitor_admin", "booth_staff")
ROLES = ORGANIZER_ROLES + EXHIBITOR_ROLES

USER_ROLE = Machine("user_role", [
    State("owner", _l("Owner"), "dark", "key"), State("manager", _l("Manager"), "primary", "person-gear"),
    State("sales", _l("Sales"), "info", "graph-up-arrow"), State("onsite", _l("On-site staff"), "info", "door-open"),
    State("analyst", _l("Analyst"), "secondary", "bar-chart"),
    State("exhibitor_admin", _l("Exhibitor admin"), "primary", "shop"),
    State("booth_staff", _l("Booth staff"), "secondary", "qr-code-scan"),
])
assert USER_ROLE.codes == ROLES

# An edition opens registration, goes live on the show days and closes; a step back is allowed where
# staff opened something too early.
EDITION_STATUS = Machine("edition_status", [
    State("draft", _l("Draft"), "secondary", "pencil"),
    State("registration_open", _l("Registration open"), "info", "door-open"),
    State("live", _l("Live"), "success", "broadcast"),
    State("closed", _l("Closed"), "dark", "lock"),
], moves={
    "draft": ("registration_open", "live"),
    "registration_open": ("draft", "live", "closed"),
    "live": ("registration_open", "closed"),
    "closed": ("live",),
})
EDITION_STATUSES = EDITION_STATUS.codes

MAIL_STATUS = Machine("mail_status", [
    State("queued", _l("Queued"), "secondary", "hourglass-split"), State("sent", _l("Sent"), "success", "send-check"),
    State("failed", _l("Failed"), "danger", "exclamation-triangle"),
    State("kept", _l("Kept in outbox"), "info", "inbox"),
])


def _in(column: str, values) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Organizer(db.Model):
    __tablename__ = "organizers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(UserMixin, db.Model):
    """A person's account with one organizer (organizer staff) or one exhibitor (exhibitor staff).

    An email is unique where its account lives — among the organizer's staff, or among one exhibitor's
    staff — not across the instance: the same person may work for two organizers (or exhibit at two of
    their editions) with one address, and adding them never tells anyone that the address is in use
    elsewhere. Sign-in finds the account by email and password (core.services.sign_in_candidates)."""

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="valid_role"),
        CheckConstraint(
            f"({_in('role', EXHIBITOR_ROLES)} AND exhibitor_id IS NOT NULL)"
            f" OR ({_in('role', ORGANIZER_ROLES)} AND exhibitor_id IS NULL)",
            name="exhibitor_role_has_exhibitor",
        ),
        Index("uq_users_organizer_id_email_staff", "organizer_id", "email", unique=True,
              sqlite_where=text("exhibitor_id IS NULL"), postgresql_where=text("exhibitor_id IS NULL")),
        Index("uq_users_exhibitor_id_email", "exhibitor_id", "email", unique=True,
              sqlite_where=text("exhibitor_id IS NOT NULL"), postgresql_where=text("exhibitor_id IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    exhibitor_id: Mapped[int | None] = mapped_column(ForeignKey("exhibitors.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    locale: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Two-factor sign-in (organizer staff, optional): the TOTP secret once confirmed, and the last time step
    # a code was accepted for, so that a code seen over someone's shoulder cannot be used a second time.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None]

    organizer: Mapped[Organizer] = relationship()
    exhibitor = relationship("Exhibitor", foreign_keys=[exhibitor_id])

    # The clear token of the server-side session this request runs in (not stored): what Flask-Login keeps
    # in the session cookie (``get_id``), so that signing out deletes exactly that session.
    session_token = None  # str | None

    def get_id(self) -> str:
        if not self.session_token:
            raise RuntimeError("sign in through core.services.start_session: the cookie holds a session token")
        return self.session_token

    @property
    def is_active(self) -> bool:  # Flask-Login: inactive users cannot sign in
        return self.active

    @property
    def two_factor(self) -> bool:
        return self.totp_secret is not None

    @property
    def is_exhibitor_staff(self) -> bool:
        return self.role in EXHIBITOR_ROLES


class ApiToken(db.Model):
    """A personal API token. Only its SHA-256 is stored; the clear text is shown once."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class UserSession(db.Model):
    """A signed-in browser. The cookie carries a random token; only its SHA-256 is stored (the id). Signing
    out deletes the row, so a copy of the cookie stops working; rows die after ``expires_at`` (absolute)
    or when unused for longer than the idle lifetime (``last_seen_at``, refreshed at most once a minute)."""

    __tablename__ = "user_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """One of a two-factor user's single-use recovery codes (for a lost or reset phone). Only the SHA-256 of
    the code is stored; the clear codes are shown once, when made."""

    __tablename__ = "recovery_codes"
    __table_args__ = (UniqueConstraint("user_id", "code_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Show(db.Model):
    __tablename__ = "shows"
    __table_args__ = (UniqueConstraint("organizer_id", "slug"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    editions: Mapped[list[Edition]] = relationship(back_populates="show", order_by="Edition.starts_on")


class Edition(db.Model):
    __tablename__ = "editions"
    __table_args__ = (
        CheckConstraint(EDITION_STATUS.check("status"), name="valid_status"),
        CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        CheckConstraint("retention_months IS NULL OR retention_months BETWEEN 0 AND 1200",
                        name="valid_retention_months"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(80), unique=True)  # public registration address
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    venue: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")  # the public show page's text
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # The consent text visitors agree to now, and its version: a copy of the newest ConsentVersion row (the
    # history, with the exact text each registration agreed to, is in consent_versions).
    consent_text: Mapped[str] = mapped_column(Text, default="")
    consent_version: Mapped[str] = mapped_column(String(20), default="1")
    # What "share my contact details with exhibitors" means, as visitors read it next to that checkbox.
    sharing_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Months after the edition's last day when its visitors' personal data is shredded; None: kept.
    retention_months: Mapped[int | None]
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when that was done
    # The edition's Ed25519 key pair: badges are signed with it and verified offline with the public half.
    signing_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    verify_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    show: Mapped[Show] = relationship(back_populates="editions")

    @property
    def status_state(self) -> State:
        return EDITION_STATUS.state(self.status)

    @property
    def registration_open(self) -> bool:
        return self.status in ("registration_open", "live")


class ConsentVersion(db.Model):
    """One version of an edition's consent text (and of its text on sharing with exhibitors). Rows are never
    changed: editing the text adds a version, and a registration points at the version its visitor agreed to."""

    __tablename__ = "consent_versions"
    __table_args__ = (UniqueConstraint("edition_id", "version"),
                      CheckConstraint("version >= 1", name="positive_version"))
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"))
    version: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    sharing_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    created_by: Mapped[User | None] = relationship()


class Category(db.Model):
    """The show's taxonomy of products and industries (a tree)."""

    __tablename__ = "categories"
    __table_args__ = (
        UniqueConstraint("show_id", "parent_id", "name"),
        # NULLs are distinct in a unique constraint: top-level names need their own partial index.
        Index("uq_categories_show_id_name_top_level", "show_id", "name", unique=True,
              sqlite_where=text("parent_id IS NULL"), postgresql_where=text("parent_id IS NULL")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    show_id: Mapped[int] = mapped_column(ForeignKey("shows.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))

    parent: Mapped[Category | None] = relationship(remote_side=[id])


class MailMessage(db.Model):
    """The outbox: every mail is a row first; the worker sends it over SMTP when configured."""

    __tablename__ = "mail_messages"
    __table_args__ = (CheckConstraint(MAIL_STATUS.check("status"), name="valid_status"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attachments: Mapped[list[MailAttachment]] = relationship(cascade="all, delete-orphan")


class MailAttachment(db.Model):
    __tablename__ = "mail_attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("mail_messages.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Unsubscribe(db.Model):
    """An address that asked for no more marketing mail from this organizer (a campaign's unsubscribe link).
    ``queue_mail(..., marketing=True)`` skips it, whichever module sends; transactional mail (a badge) still
    goes. The address is kept normalized (core.services.normalize_email); resubscribing deletes the row."""

    __tablename__ = "unsubscribes"
    __table_args__ = (UniqueConstraint("organizer_id", "email_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    email_key: Mapped[str] = mapped_column(String(254))
    source: Mapped[str] = mapped_column(String(60), default="")  # what the link was in ("campaign:12")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(db.Model):
    """Who did what, when. Append-only: the app offers no way to change or delete an entry, and the
    database refuses it (triggers: core.append_only). An entry names people by id, not by contact data,
    so that erasing a visitor leaves nothing personal here (docs/deployment.md, "The audit log")."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_organizer_id_at", "organizer_id", "at"),
                      # "the history of this record": the audit page's object filter
                      Index("ix_audit_entries_object", "object_type", "object_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int | None] = mapped_column(ForeignKey("organizers.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None]
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(String(45))

    user: Mapped[User | None] = relationship()


append_only.guard(AuditEntry.__table__)


class Activity(db.Model):
    """One touch with a customer on their timeline: a registration, a check-in, a lead taken at a booth, a
    mail, a call, a meeting, a survey answer, a ticket, an import, a merge. Every module writes here through
    ``core.activity.record``; the person and company pages read one timeline from it.

    The subject is a person or a company (``subject_type`` "person" / "company", ``subject_id``) named by
    table-free words so that core depends on no higher module. ``kind`` is a code the writing module declares
    with its words (Module.activity_kinds: "lead.captured" -> "Lead taken at %(exhibitor)s"); ``details``
    fill the words and never hold what the reader may not see (an exhibitor's lead notes stay in leads)."""

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint("subject_type IN ('person', 'company')", name="valid_subject_type"),
        Index("ix_activities_subject", "organizer_id", "subject_type", "subject_id", "at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"))
    subject_type: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[int]
    edition_id: Mapped[int | None] = mapped_column(ForeignKey("editions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)  # staff who did it, if any
    # The row the activity is about (a registration, a lead, a mail…), for a link from the timeline.
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None]
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    edition: Mapped[Edition | None] = relationship()
    user: Mapped[User | None] = relationship()


JOB_STATUS = Machine("job_status", [
    State("queued", _l("Queued"), "secondary", "hourglass-split"),
    State("running", _l("Running"), "info", "arrow-repeat"),
    State("done", _l("Done"), "success", "check-circle"),
    State("failed", _l("Failed"), "danger", "exclamation-triangle"),
], moves={"queued": ("running", "done", "failed"), "running": ("done", "failed"), "done": (), "failed": ()})


class Job(db.Model):
    """A piece of background work a user started (an import, a batch of badges) with its progress, its
    outcome and result files (under INSTANCE_DIR/jobs/<id>/). ``params["permission"]`` names the permission
    needed to see it. Written through core.jobs: progress in short transactions of its own."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(_in("status", JOB_STATUS.codes), name="valid_status"),
        CheckConstraint("total >= 0 AND done >= 0 AND error_count >= 0", name="counts_not_negative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    edition_id: Mapped[int | None] = mapped_column(ForeignKey("editions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    message: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()
    edition: Mapped[Edition | None] = relationship()

    @property
    def percent(self) -> int:
        if self.status == "done":
            return 100
        return min(100, int(100 * self.done / self.total)) if self.total else 0


class ImportMapping(db.Model):
    """A saved, named mapping of file columns to an import kind's fields, reusable for the next file."""

    __tablename__ = "import_mappings"
    __table_args__ = (UniqueConstraint("organizer_id", "kind", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    columns: Mapped[dict] = mapped_column(JSON, default=dict)  # file header -> field name
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
