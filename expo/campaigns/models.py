"""A campaign (a segment, a target edition, a mail in English and Chinese) and its recipients."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.models import Edition, User
from ..core.states import Machine, State
from ..extensions import db
from ..visitors.models import Person

# A draft is written and previewed; sending snapshots the segment into recipients and mails them in batches
# (paused and resumed at will); it is sent when no recipient is left pending.
CAMPAIGN_STATUS = Machine("campaign_status", [
    State("draft", _l("Draft"), "secondary", "pencil"),
    State("sending", _l("Sending"), "info", "send"),
    State("paused", _l("Paused"), "warning", "pause-circle"),
    State("sent", _l("Sent"), "success", "send-check"),
], moves={
    "draft": ("sending",),
    "sending": ("paused", "sent"),
    "paused": ("sending",),
    "sent": (),
})
RECIPIENT_STATUS = Machine("campaign_recipient_status", [
    State("pending", _l("Pending"), "secondary", "hourglass-split"),
    State("sent", _l("Sent"), "success", "send-check"),
    State("skipped", _l("Skipped (unsubscribed)"), "warning", "slash-circle"),
])


# What a campaign mails: a written mail to a segment, or a digest built for each recipient (campaigns.digests).
CAMPAIGN_KINDS = ("mailing", "digest_visitors", "digest_exhibitors")


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(CAMPAIGN_STATUS.check("status"), name="valid_status"),
        CheckConstraint("kind IN ('mailing', 'digest_visitors', 'digest_exhibitors')", name="valid_kind"),
        CheckConstraint("recipient_count >= 0", name="non_negative_recipient_count"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id"), index=True)  # the edition invited to
    name: Mapped[str] = mapped_column(String(200))
    # The segment as saved filters (campaigns.segments.Segment.as_dict), evaluated into SQL when used.
    segment: Mapped[dict] = mapped_column(JSON, default=dict)
    subject_en: Mapped[str] = mapped_column(String(300), default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    subject_zh: Mapped[str] = mapped_column(String(300), default="")
    body_zh: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    recipient_count: Mapped[int] = mapped_column(default=0)  # the segment's size when sending started
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the last batch claimed its minute: the next one may run a minute later (the bounded rate).
    last_batch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The address the links in the mails start with when EXPO_PUBLIC_URL is unset (the trusted address of the
    # request that started the sending; see visitors' request_base_url).
    link_base: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="mailing")
    digest: Mapped[dict | None] = mapped_column(JSON)  # a digest's settings (campaigns.digests.DigestSettings)

    edition: Mapped[Edition] = relationship()
    created_by: Mapped[User | None] = relationship()

    @property
    def status_state(self) -> State:
        return CAMPAIGN_STATUS.state(self.status)


class Recipient(db.Model):
    """One person a campaign mails, at most once: the segment is snapshot here when sending starts."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        UniqueConstraint("campaign_id", "person_id"),
        UniqueConstraint("campaign_id", "user_id"),
        CheckConstraint(RECIPIENT_STATUS.check("status"), name="valid_status"),
        CheckConstraint("(person_id IS NULL) <> (user_id IS NULL)", name="person_or_user"),
        Index("ix_campaign_recipients_campaign_id_status", "campaign_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    # An exhibitor digest mails exhibitor staff accounts (users), every other campaign persons.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    locale: Mapped[str] = mapped_column(String(10), default="en")  # of the person's last registration
    status: Mapped[str] = mapped_column(String(10), default="pending")
    message_id: Mapped[int | None] = mapped_column(ForeignKey("mail_messages.id", ondelete="SET NULL"), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the first time the link was opened

    campaign: Mapped[Campaign] = relationship()
    person: Mapped[Person | None] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def addressee(self):
        """The person or the user mailed (both have ``name`` and ``email``)."""
        return self.person if self.person_id is not None else self.user

    @property
    def status_state(self) -> State:
        return RECIPIENT_STATUS.state(self.status)
