"""Campaigns: write a mailing to a segment, preview it, send it in batches at a bounded rate, track it.

Sending snapshots the segment into ``campaign_recipients`` (unique per campaign and person: nobody is
mailed twice by one campaign, whatever reruns or retries happen), then each batch claims its minute on the
campaign row, mails at most ``rate_per_minute()`` pending recipients through core's outbox as marketing
mail (an unsubscribed address is skipped there), marks them sent and commits once; delivery is handed to
the worker after that commit. Every mail carries a tracked registration link (``/e/<slug>?c=<token>``) and
a signed unsubscribe link (``/u/<token>``).
"""
from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadData, URLSafeSerializer
from markupsafe import Markup, escape
from sqlalchemy import func, insert, literal, select, update
from sqlalchemy.orm import joinedload

from ..core import activity
from ..core import services as core
from ..core.db import take_write_lock, utcnow
from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, move_status
from ..extensions import db
from ..onsite import services as onsite
from ..visitors.models import Person, Registration
from . import segments
from .models import CAMPAIGN_STATUS, Campaign, Recipient
from .segments import Segment

DEFAULT_RATE_PER_MINUTE = 60
BATCH_INTERVAL = timedelta(seconds=60)  # one batch per campaign per interval: the rate is per minute
PREVIEW_ROWS = 20
FALLBACK_PUBLIC_URL = "http://127.0.0.1:5000"
NAME_MAX = 60
_LINKISH = re.compile(r"://|\bwww\.|@|\w\.[^\W\d_]{2,}", re.IGNORECASE)
LINK_SALT = "expo-campaign-link"
UNSUBSCRIBE_SALT = "expo-campaign-unsubscribe"


def rate_per_minute() -> int:
    """Mails per campaign per minute: EXPO_CAMPAIGN_RATE_PER_MINUTE (or the app's CAMPAIGN_RATE_PER_MINUTE)."""
    value = current_app.config.get("CAMPAIGN_RATE_PER_MINUTE") or os.environ.get("EXPO_CAMPAIGN_RATE_PER_MINUTE")
    try:
        return max(1, min(int(value), 100_000)) if value else DEFAULT_RATE_PER_MINUTE
    except (TypeError, ValueError):
        return DEFAULT_RATE_PER_MINUTE


# --- writing ---------------------------------------------------------------------------------------

@dataclass
class CampaignData:
    name: str
    segment: Segment
    subject_en: str = ""
    body_en: str = ""
    subject_zh: str = ""
    body_zh: str = ""


def _one_line(text: str) -> str:
    return " ".join("".join(" " if unicodedata.category(c).startswith("C") else c for c in text or "").split())


def _clean(data: CampaignData) -> dict:
    values = {"name": _one_line(data.name)[:200], "subject_en": _one_line(data.subject_en)[:300],
              "subject_zh": _one_line(data.subject_zh)[:300],
              "body_en": (data.body_en or "").replace("\r\n", "\n").strip(),
              "body_zh": (data.body_zh or "").replace("\r\n", "\n").strip()}
    for key, value in values.items():
        if core.unstorable(value):
            raise ServiceError(_l("This text contains characters that cannot be stored."), key)
    if not values["name"]:
        raise ServiceError(_l("Give the campaign a name."), "name")
    for lang in ("en", "zh"):
        if bool(values[f"subject_{lang}"]) != bool(values[f"body_{lang}"]):
            field = f"body_{lang}" if values[f"subject_{lang}"] else f"subject_{lang}"
            raise ServiceError(_l("A mail needs both a subject and a text."), field)
    if not values["subject_en"] and not values["subject_zh"]:
        raise ServiceError(_l("Write the mail (subject and text) in English, in Chinese or in both."), "subject_en")
    return values


def create_campaign(scope: Scope, edition: Edition, data: CampaignData, *, actor_id: int | None = None) -> Campaign:
    if edition.organizer_id != scope.organizer_id:
        raise ServiceError(_l("No such edition."))
    campaign = Campaign(organizer_id=scope.organizer_id, edition_id=edition.id, segment=data.segment.as_dict(),
                        created_by_id=actor_id, status="draft", **_clean(data))
    db.session.add(campaign)
    db.session.flush()
    audit("campaign.created", organizer_id=scope.organizer_id, user_id=actor_id, obj=campaign,
          details={"name": campaign.name})
    return campaign


def update_campaign(campaign: Campaign, data: CampaignData, *, actor_id: int | None = None) -> None:
    if campaign.status != "draft":
        raise ServiceError(_l("Only a draft can be changed: this campaign is being sent or was sent."))
    values = _clean(data)
    for key, value in values.items():
        setattr(campaign, key, value)
    campaign.segment = data.segment.as_dict()
    audit("campaign.updated", organizer_id=campaign.organizer_id, user_id=actor_id, obj=campaign,
          details={"name": campaign.name})


def campaigns(scope: Scope, edition: Edition) -> list[Campaign]:
    return list(db.session.scalars(scoped(Campaign, scope).where(Campaign.edition_id == edition.id)
                                   .order_by(Campaign.created_at.desc(), Campaign.id.desc())))


def segment_of(campaign: Campaign) -> Segment:
    return Segment.from_dict(campaign.segment)


# --- preview --------------------------------------------------------------------------------------

def _last_locale():
    """The locale of the person's last registration (correlated to Person)."""
    return (select(Registration.locale).where(Registration.person_id == Person.id)
            .order_by(Registration.created_at.desc(), Registration.id.desc()).limit(1).scalar_subquery())


@dataclass
class Preview:
    count: int
    rows: list  # (Person, locale)


def preview(target: Edition, segment: Segment, limit: int = PREVIEW_ROWS) -> Preview:
    """How many people the segment holds now, and the first of them (by name) with their mail language."""
    ids = segments.person_ids(target, segment).subquery()
    rows = db.session.execute(select(Person, _last_locale()).where(Person.id.in_(select(ids.c.id)))
                              .order_by(Person.name, Person.id).limit(limit)).all()
    return Preview(segments.count(target, segment), [(person, locale or "en") for person, locale in rows])


# --- sending --------------------------------------------------------------------------------------

def start(campaign: Campaign, *, actor_id: int | None = None, link_base: str | None = None) -> int:
    """Draft → sending: the segment, as it is now, becomes the recipients (each once); the first batch goes
    after the commit. Returns the number of recipients. A paused campaign resumes instead."""
    if campaign.status == "paused":
        resume(campaign, actor_id=actor_id)
        return campaign.recipient_count
    if campaign.status != "draft":
        raise ServiceError(_l("This campaign is being sent or was sent already."))
    # Claim the draft first, in one statement: of two "Send" clicks at once only one finds it a draft (the
    # other waits for its commit, or on SQLite for the write lock, and is refused) and snapshots recipients.
    take_write_lock(db.session)
    claimed = db.session.execute(update(Campaign).where(Campaign.id == campaign.id, Campaign.status == "draft")
                                 .values(status="sending").execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise ServiceError(_l("This campaign is being sent or was sent already."))
    edition = db.session.get(Edition, campaign.edition_id)
    if campaign.kind == "winback":
        pass  # the watch list's selection became the recipients when the campaign was made (campaigns.winback)
    elif campaign.kind == "survey":  # the survey's audience, as it is now (campaigns.survey_mail)
        from . import survey_mail

        survey_mail.snapshot(campaign, edition)
    elif campaign.kind != "mailing":  # a digest: its core visitors or exhibitor admins (campaigns.digests)
        from . import digests

        digests.snapshot(campaign, edition)
    else:
        ids = segments.person_ids(edition, segment_of(campaign)).subquery()
        chosen = select(Person.id, func.coalesce(_last_locale(), "en"), literal(campaign.organizer_id),
                        literal(campaign.id), literal("pending")).where(Person.id.in_(select(ids.c.id)))
        db.session.execute(insert(Recipient).from_select(
            ["person_id", "locale", "organizer_id", "campaign_id", "status"], chosen))
    campaign.recipient_count = db.session.scalar(select(func.count()).where(Recipient.campaign_id == campaign.id))
    move_status(campaign, CAMPAIGN_STATUS, "sending", actor_id=actor_id)
    campaign.started_at = utcnow()
    campaign.link_base = (link_base or "")[:300] or None
    db.session.flush()
    _schedule(campaign.id)
    return campaign.recipient_count


def pause(campaign: Campaign, *, actor_id: int | None = None) -> None:
    if campaign.status != "sending":
        raise ServiceError(_l("Only a campaign that is being sent can be paused."))
    move_status(campaign, CAMPAIGN_STATUS, "paused", actor_id=actor_id)


def resume(campaign: Campaign, *, actor_id: int | None = None) -> None:
    if campaign.status != "paused":
        raise ServiceError(_l("Only a paused campaign can be resumed."))
    move_status(campaign, CAMPAIGN_STATUS, "sending", actor_id=actor_id)
    # The next batch when this minute is over (a batch refused for being early ends its chain of tasks).
    wait = (campaign.last_batch_at + BATCH_INTERVAL - utcnow()).total_seconds() if campaign.last_batch_at else 0
    _schedule(campaign.id, countdown=max(0.0, wait) + (1 if wait > 0 else 0))


def _schedule(campaign_id: int, countdown: float | None = None) -> None:
    from . import tasks  # the task module imports this one

    if countdown:
        tasks.send_batch.apply_async((campaign_id,), countdown=countdown)
    else:
        tasks.send_batch.delay(campaign_id)


@dataclass
class Batch:
    ran: bool  # False: not due yet (another batch had this minute) or not sending
    message_ids: list
    skipped: int = 0
    more: bool = False  # recipients still pending after this batch


ADDRESSEES = (joinedload(Recipient.person), joinedload(Recipient.user), joinedload(Recipient.contact))  # one query


def send_batch(campaign_id: int, *, now: datetime | None = None, limit: int | None = None) -> Batch:
    """One batch: claim the campaign's minute (at most one batch per BATCH_INTERVAL, whoever calls), then
    mail at most ``limit`` (rate_per_minute) pending recipients. Flushes; the caller commits, then hands
    the message ids to delivery."""
    now = now or utcnow()
    limit = limit or rate_per_minute()
    claimed = db.session.execute(
        update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "sending",
                               (Campaign.last_batch_at.is_(None)) | (Campaign.last_batch_at <= now - BATCH_INTERVAL))
        .values(last_batch_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return Batch(False, [])
    campaign = db.session.get(Campaign, campaign_id)
    db.session.refresh(campaign)
    edition = db.session.get(Edition, campaign.edition_id)
    pending = list(db.session.scalars(
        select(Recipient).where(Recipient.campaign_id == campaign_id, Recipient.status == "pending")
        .options(*ADDRESSEES).order_by(Recipient.id).limit(limit)))
    batch = Batch(True, [])
    for recipient in pending:
        done = db.session.execute(update(Recipient).where(Recipient.id == recipient.id, Recipient.status == "pending")
                                  .values(status="sent", sent_at=now).execution_options(synchronize_session=False))
        if done.rowcount != 1:
            continue  # someone else mailed this one (never twice)
        person = recipient.addressee
        message = None
        if _deliverable(recipient):
            rendered = _render(campaign, edition, recipient)
            if rendered is not None:
                subject, text, html = rendered
                message = core.queue_mail(campaign.organizer_id, person.email, subject, text, html, marketing=True)
        if message is None:
            db.session.execute(update(Recipient).where(Recipient.id == recipient.id)
                               .values(status="skipped", sent_at=None).execution_options(synchronize_session=False))
            batch.skipped += 1
            continue
        db.session.execute(update(Recipient).where(Recipient.id == recipient.id).values(message_id=message.id)
                           .execution_options(synchronize_session=False))
        subject_type, subject_id = _timeline(recipient)
        activity.record("campaign.mail_sent", organizer_id=campaign.organizer_id, subject_type=subject_type,
                        subject_id=subject_id, edition_id=campaign.edition_id, object_type="campaigns",
                        object_id=campaign.id, details={"campaign": campaign.name}, at=now)
        batch.message_ids.append(message.id)
    batch.more = db.session.scalar(select(Recipient.id).where(Recipient.campaign_id == campaign_id,
                                                              Recipient.status == "pending").limit(1)) is not None
    if not batch.more:
        move_status(campaign, CAMPAIGN_STATUS, "sent")
        campaign.finished_at = now
    db.session.flush()
    db.session.expire_all()
    return batch


def _deliverable(recipient: Recipient) -> bool:
    """A person with an address, not erased; or (exhibitor digests) an active user account."""
    if recipient.person_id is not None:
        return bool(recipient.person.email) and recipient.person.erased_at is None
    if recipient.contact_id is not None:  # a company's contact (win-back to exhibitors)
        return recipient.contact is not None and bool(recipient.contact.email)
    return recipient.user is not None and bool(recipient.user.email) and recipient.user.active


def _render(campaign: Campaign, edition: Edition, recipient: Recipient):
    """The recipient's mail: the campaign's text, or (a digest) built for them; None: nothing to mail."""
    if campaign.kind == "mailing":
        return render_mail(campaign, edition, recipient, recipient.person)
    if campaign.kind == "winback":
        from . import winback

        return winback.render(campaign, edition, recipient)
    if campaign.kind == "survey":
        from . import survey_mail

        return survey_mail.render(campaign, edition, recipient)
    from . import digests

    return digests.render(campaign, edition, recipient, base=_base_url(campaign))


def _timeline(recipient: Recipient) -> tuple[str, int]:
    """Whose timeline a mail goes on: the person's, or the company of the exhibitor user's."""
    if recipient.person_id is not None:
        return "person", recipient.person_id
    if recipient.company_id is not None:
        return "company", recipient.company_id
    return "company", recipient.user.exhibitor.company_id


def due_campaigns(now: datetime | None = None) -> list[int]:
    """Campaigns that are sending and whose minute is over (the beat's safety net)."""
    now = now or utcnow()
    return list(db.session.scalars(select(Campaign.id).where(
        Campaign.status == "sending",
        (Campaign.last_batch_at.is_(None)) | (Campaign.last_batch_at <= now - BATCH_INTERVAL))))


# --- the mail -------------------------------------------------------------------------------------

def _signer(salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=salt)


def link_token(recipient_id: int) -> str:
    return _signer(LINK_SALT).dumps(recipient_id)


def unsubscribe_token(campaign_id: int, person_id: int | None, *, user_id: int | None = None) -> str:
    """A person's unsubscribe link; an exhibitor digest's user gets [campaign, 0, user]."""
    if person_id is None and user_id is not None:
        return _signer(UNSUBSCRIBE_SALT).dumps([campaign_id, 0, user_id])
    return _signer(UNSUBSCRIBE_SALT).dumps([campaign_id, person_id])


def contact_unsubscribe_token(campaign_id: int, contact_id: int) -> str:
    """A company contact's unsubscribe link (win-back to exhibitors): [campaign, 0, 0, contact]."""
    return _signer(UNSUBSCRIBE_SALT).dumps([campaign_id, 0, 0, contact_id])


def _loads(salt: str, token) -> object | None:
    if not isinstance(token, str) or not token or len(token) > 200 or core.unstorable(token):
        return None
    try:
        return _signer(salt).loads(token)
    except (BadData, UnicodeError, ValueError):
        return None


def _base_url(campaign: Campaign) -> str:
    return (current_app.config.get("PUBLIC_URL") or campaign.link_base or FALLBACK_PUBLIC_URL).rstrip("/")


def safe_name(name: str | None) -> str | None:
    """The person's name as a mail may show it: one line, capped, never something a client makes clickable."""
    text = _one_line(name or "")
    if not text or _LINKISH.search(unicodedata.normalize("NFKC", text)):
        return None
    return text if len(text) <= NAME_MAX else text[:NAME_MAX - 1].rstrip() + "…"


def mail_language(locale: str | None) -> str:
    return "zh_CN" if (locale or "").lower().startswith("zh") else "en"


def _texts(campaign: Campaign, language: str) -> tuple[str, str]:
    """The subject and body in the language, or in the other one when that is all the campaign has."""
    if language == "zh_CN" and campaign.subject_zh:
        return campaign.subject_zh, campaign.body_zh
    if campaign.subject_en:
        return campaign.subject_en, campaign.body_en
    return campaign.subject_zh, campaign.body_zh


def render_mail(campaign: Campaign, edition: Edition, recipient: Recipient, person: Person) -> tuple[str, str, str]:
    """(subject, plain text, HTML) for one recipient, in their language, with their links."""
    language = mail_language(recipient.locale)
    base = _base_url(campaign)
    link = f"{base}/e/{edition.slug}?c={link_token(recipient.id)}"
    unsubscribe_url = f"{base}/u/{unsubscribe_token(campaign.id, person.id)}"
    subject, body = _texts(campaign, language)
    with force_locale(language):
        name = safe_name(person.name) or _("visitor")
        if "{link}" not in body:
            body = f"{body}\n\n{{link}}"
        text = body.replace("{name}", name).replace("{link}", link)
        footer = _("You receive this mail as a visitor of %(show)s. To receive no more of these mails: %(url)s",
                   show=edition.show.name, url=unsubscribe_url)
        text = f"{text}\n\n-- \n{footer}\n"
        paragraphs = [_html_paragraph(part, name, link) for part in re.split(r"\n\s*\n", body) if part.strip()]
        html = render_template("campaigns/mail.html", paragraphs=paragraphs, edition=edition,
                               unsubscribe_url=unsubscribe_url, show=edition.show.name,
                               lang="zh-CN" if language == "zh_CN" else "en")
    return _one_line(subject.replace("{name}", name))[:300], text, html


def _html_paragraph(text: str, name: str, link: str) -> Markup:
    """A paragraph of the plain body as HTML: escaped, {name} filled, {link} a link, line breaks kept."""
    pieces = []
    for i, chunk in enumerate(text.strip().split("{link}")):
        if i:
            pieces.append(Markup('<a href="{0}">{0}</a>').format(link))
        pieces.append(escape(chunk.replace("{name}", name)).replace("\n", Markup("<br>\n")))
    return Markup("").join(pieces)


# --- tracking -------------------------------------------------------------------------------------

def recipient_for_link(token) -> Recipient | None:
    recipient_id = _loads(LINK_SALT, token)
    if not isinstance(recipient_id, int) or isinstance(recipient_id, bool) or not 0 < recipient_id <= core.MAX_DB_INT:
        return None
    return db.session.get(Recipient, recipient_id)


def registration_link(edition: Edition, token) -> dict:
    """The hook ``registration_link``: the public show page opened with ``?c=<token>``. A campaign's link for
    this edition records the first opening (once per recipient, on their timeline) and answers the fields a
    registration made through it carries; anything else answers {} (the page works as without the token)."""
    recipient = recipient_for_link(token)
    if recipient is None or recipient.organizer_id != edition.organizer_id:
        return {}
    campaign = db.session.get(Campaign, recipient.campaign_id)
    if campaign is None or campaign.kind not in ("mailing", "winback"):
        return {}
    if (campaign.target_edition_id if campaign.kind == "winback" else campaign.edition_id) != edition.id:
        return {}
    mark_opened(campaign, recipient)
    return {"source": "campaign", "campaign_id": campaign.id}


def mark_opened(campaign: Campaign, recipient: Recipient) -> None:
    """The recipient opened the mail's link: recorded once, on their timeline (or their company's)."""
    opened = db.session.execute(update(Recipient).where(Recipient.id == recipient.id, Recipient.clicked_at.is_(None))
                                .values(clicked_at=utcnow()).execution_options(synchronize_session=False))
    if opened.rowcount == 1:
        subject_type, subject_id = _timeline(recipient)
        activity.record("campaign.link_opened", organizer_id=campaign.organizer_id, subject_type=subject_type,
                        subject_id=subject_id, edition_id=campaign.edition_id, object_type="campaigns",
                        object_id=campaign.id, details={"campaign": campaign.name})


# --- unsubscribe ----------------------------------------------------------------------------------

@dataclass
class Subscription:
    person: Person  # or the User an exhibitor digest was mailed to (``object_type`` "users")
    campaign: Campaign
    unsubscribed: bool
    object_type: str = "persons"

    @property
    def masked_email(self) -> str:
        local, _sep, domain = (self.person.email or "").partition("@")
        return (local[:2] + "…@" + domain) if domain else "…"


def subscription(token) -> Subscription | None:
    """Who a signed unsubscribe link is for, or None (forged, garbled, or the person is gone)."""
    value = _loads(UNSUBSCRIBE_SALT, token)
    if isinstance(value, list) and len(value) == 4 and value[1:3] == [0, 0]:
        return _contact_subscription(value[0], value[3])
    if isinstance(value, list) and len(value) == 3 and value[1] == 0 and type(value[1]) is int:
        return _user_subscription(value[0], value[2])
    if not (isinstance(value, list) and len(value) == 2 and all(type(v) is int and 0 < v <= core.MAX_DB_INT
                                                                 for v in value)):
        return None
    campaign = db.session.get(Campaign, value[0])
    person = db.session.get(Person, value[1])
    if campaign is None or person is None or person.organizer_id != campaign.organizer_id or not person.email \
            or person.erased_at is not None:
        return None
    return Subscription(person, campaign, core.is_unsubscribed(person.organizer_id, person.email))


def _user_subscription(campaign_id, user_id) -> Subscription | None:
    """An exhibitor digest's unsubscribe link: the exhibitor user it was mailed to."""
    from ..core.models import User

    if not all(type(v) is int and 0 < v <= core.MAX_DB_INT for v in (campaign_id, user_id)):
        return None
    campaign = db.session.get(Campaign, campaign_id)
    user = db.session.get(User, user_id)
    if campaign is None or user is None or user.organizer_id != campaign.organizer_id or not user.email:
        return None
    return Subscription(user, campaign, core.is_unsubscribed(user.organizer_id, user.email), "users")


def _contact_subscription(campaign_id, contact_id) -> Subscription | None:
    """A win-back's unsubscribe link for a company's contact."""
    from ..exhibitors.models import CompanyContact

    if not all(type(v) is int and 0 < v <= core.MAX_DB_INT for v in (campaign_id, contact_id)):
        return None
    campaign = db.session.get(Campaign, campaign_id)
    contact = db.session.get(CompanyContact, contact_id)
    if campaign is None or contact is None or contact.organizer_id != campaign.organizer_id or not contact.email:
        return None
    return Subscription(contact, campaign, core.is_unsubscribed(contact.organizer_id, contact.email),
                        "company_contacts")


def set_subscribed(sub: Subscription, subscribed: bool) -> bool:
    """Unsubscribe (or subscribe again) the person's address from the organizer's marketing mail; audited
    without the address. True when something changed."""
    organizer_id = sub.person.organizer_id
    if subscribed:
        changed = core.resubscribe(organizer_id, sub.person.email)
    else:
        changed = core.unsubscribe(organizer_id, sub.person.email, source=f"campaign:{sub.campaign.id}")
    if changed:
        audit("mail.resubscribed" if subscribed else "mail.unsubscribed", organizer_id=organizer_id,
              object_type=sub.object_type, object_id=sub.person.id, details={"campaign_id": sub.campaign.id})
        sub.unsubscribed = not subscribed
    return changed


# --- the visitor's copy of their data ----------------------------------------------------------------

def personal_data(scope: Scope, registration_ids: list[int]) -> dict:
    """The hook ``personal_data``: the campaign mails sent to the visitor, and whether they opened the link."""
    persons = select(Registration.person_id).where(Registration.organizer_id == scope.organizer_id,
                                                   Registration.id.in_(registration_ids))
    rows = db.session.execute(select(Campaign.name, Recipient.status, Recipient.sent_at, Recipient.clicked_at)
                              .join(Campaign, Campaign.id == Recipient.campaign_id)
                              .where(Recipient.organizer_id == scope.organizer_id,
                                     Recipient.person_id.in_(persons)).order_by(Recipient.id)).all()
    return {"key": "campaigns", "title": _l("Campaign mails"),
            "columns": [("campaign", _l("Campaign")), ("status", _l("Status")), ("sent_at", _l("Sent")),
                        ("clicked_at", _l("Opened the link"))],
            "rows": [{"campaign": name, "status": status, "sent_at": sent_at, "clicked_at": clicked_at}
                     for name, status, sent_at, clicked_at in rows]}


# --- report ---------------------------------------------------------------------------------------

@dataclass
class Report:
    recipients: int
    pending: int
    sent: int
    skipped: int
    opened: int
    registered: int
    checked_in: int
    registered_any: int  # recipients registered for the edition by any channel


def report(campaign: Campaign) -> Report:
    counts = dict(db.session.execute(select(Recipient.status, func.count()).where(Recipient.campaign_id == campaign.id)
                                     .group_by(Recipient.status)).all())
    opened = db.session.scalar(select(func.count()).where(Recipient.campaign_id == campaign.id,
                                                          Recipient.clicked_at.is_not(None))) or 0
    # a win-back's link registers for the next edition (its target), every other campaign's for its own
    edition_id = (campaign.target_edition_id or campaign.edition_id) if campaign.kind == "winback" \
        else campaign.edition_id
    through = select(Registration.id).where(Registration.organizer_id == campaign.organizer_id,
                                            Registration.campaign_id == campaign.id,
                                            Registration.status != "cancelled")
    registered = db.session.scalar(select(func.count()).select_from(through.subquery())) or 0
    checked_in = db.session.scalar(select(func.count()).select_from(
        through.where(Registration.id.in_(onsite.checked_in_registrations(edition_id))).subquery())) or 0
    registered_any = db.session.scalar(select(func.count(func.distinct(Recipient.person_id))).where(
        Recipient.campaign_id == campaign.id, Recipient.status == "sent",
        Recipient.person_id.in_(select(Registration.person_id).where(Registration.edition_id == edition_id,
                                                                     Registration.status != "cancelled")))) or 0
    return Report(recipients=campaign.recipient_count, pending=counts.get("pending", 0), sent=counts.get("sent", 0),
                  skipped=counts.get("skipped", 0), opened=opened, registered=registered, checked_in=checked_in,
                  registered_any=registered_any)


def recipients_page(campaign: Campaign, *, page: int = 1, per_page: int = 25):
    from ..core.paging import paginate

    return paginate(select(Recipient).where(Recipient.campaign_id == campaign.id)
                    .options(*ADDRESSEES).order_by(Recipient.id),
                    page=page, per_page=per_page)


def editions_for_choice(target: Edition) -> list[Edition]:
    """The organizer's other editions (the segment's "editions attended" choice), newest first."""
    return list(db.session.scalars(scoped(Edition, Scope(target.organizer_id)).where(Edition.id != target.id)
                                   .order_by(Edition.starts_on.desc())))
