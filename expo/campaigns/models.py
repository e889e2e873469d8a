"""A campaign (a segment, a target edition, a mail in English and Chinese) and its recipients."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.db import UTCDateTime, utcnow
from ..core.models import Edition, User
from ..core.states import Machine, State
from ..exhibitors.models import CompanyContact
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
# A win-back campaign mails a selection of the churn watch list (campaigns.winback); a survey invitation mails
# each visitor or exhibitor their own survey link, with one reminder (campaigns.survey_mail).
CAMPAIGN_KINDS = ("mailing", "digest_visitors", "digest_exhibitors", "winback", "survey")


class Campaign(db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint(CAMPAIGN_STATUS.check("status"), name="valid_status"),
        CheckConstraint("kind IN ('mailing', 'digest_visitors', 'digest_exhibitors', 'winback', 'survey')",
                        name="valid_kind"),
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
    # Win-back: the edition whose rebooking / return measures the effect (the show's next edition; None until
    # it exists). The watch list's selection, holdout and the rest are in ``settings`` (campaigns.winback);
    # a survey invitation keeps its survey and reminder delay there (campaigns.survey_mail).
    target_edition_id: Mapped[int | None] = mapped_column(ForeignKey("editions.id"), index=True)
    settings: Mapped[dict | None] = mapped_column(JSON)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the one reminder (surveys)

    edition: Mapped[Edition] = relationship(foreign_keys=[edition_id])
    target_edition: Mapped[Edition | None] = relationship(foreign_keys=[target_edition_id])
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
        UniqueConstraint("campaign_id", "contact_id"),
        CheckConstraint(RECIPIENT_STATUS.check("status"), name="valid_status"),
        CheckConstraint("(CASE WHEN person_id IS NULL THEN 0 ELSE 1 END)"
                        " + (CASE WHEN user_id IS NULL THEN 0 ELSE 1 END)"
                        " + (CASE WHEN contact_id IS NULL THEN 0 ELSE 1 END) = 1",
                        name="one_addressee"),
        Index("ix_campaign_recipients_campaign_id_status", "campaign_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    organizer_id: Mapped[int] = mapped_column(ForeignKey("organizers.id"), index=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    # An exhibitor digest mails exhibitor staff accounts (users), every other campaign persons.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # A win-back campaign to exhibitors mails the company's main contact when no exhibitor admin has an account;
    # ``company_id`` is the company a recipient stands for (win-back to exhibitors).
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("company_contacts.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id"), index=True)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a survey invitation's one reminder
    locale: Mapped[str] = mapped_column(String(10), default="en")  # of the person's last registration
    status: Mapped[str] = mapped_column(String(10), default="pending")
    message_id: Mapped[int | None] = mapped_column(ForeignKey("mail_messages.id", ondelete="SET NULL"), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    clicked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the first time the link was opened

    campaign: Mapped[Campaign] = relationship()
    person: Mapped[Person | None] = relationship()
    user: Mapped[User | None] = relationship()
    contact: Mapped[CompanyContact | None] = relationship()

    @property
    def addressee(self):
        """The person, the user or the company contact mailed (all have ``name`` and ``email``)."""
        if self.person_id is not None:
            return self.person
        return self.user if self.user_id is not None else self.contact

    @property
    def status_state(self) -> State:
        return RECIPIENT_STATUS.state(self.status)
