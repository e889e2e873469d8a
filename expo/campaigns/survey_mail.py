"""Survey invitations (campaign kind "survey"): each visitor or exhibitor of the edition gets a mail with their
own signed survey link (expo.surveys.services.take_path), and **one** reminder goes, N days later (the beat) or
when the organizer presses the button, only to those who have not answered (surveys.services.responded).

The reminder is claimed on the campaign row in one statement (``reminder_sent_at`` set where it is NULL): of
two presses, or a press and the beat, only one sends, and never a second time. Each recipient reminded is marked
(``reminded_at``).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select, update
from sqlalchemy.orm import joinedload

from ..core import services as core
from ..core.db import utcnow
from ..core.models import Edition, User
from ..core.scoping import Scope
from ..core.services import ServiceError, audit
from ..exhibitors.models import PARTICIPATING_STATUSES, Exhibitor
from ..extensions import db
from ..visitors.models import Person, Registration
from . import services
from .models import Campaign, Recipient

DEFAULT_REMIND_AFTER_DAYS = 7
MAX_REMIND_AFTER_DAYS = 60
AUDIENCES = ("visitor", "exhibitor")


def _surveys():
    """expo.surveys.services, or None while it is not there (part "surveys")."""
    try:
        from ..surveys import services as surveys
    except ImportError:
        return None
    return surveys


def open_surveys(scope: Scope, edition: Edition) -> list:
    """The edition's open surveys, visitors' then exhibitors' (empty while the surveys module is not there)."""
    surveys = _surveys()
    if surveys is None or not hasattr(surveys, "open_surveys"):
        return []
    found = []
    for audience in AUDIENCES:
        found.extend(surveys.open_surveys(scope, edition.id, audience) or [])
    return found


def survey_of(campaign: Campaign):
    from ..surveys.models import Survey

    survey_id = (campaign.settings or {}).get("survey_id")
    survey = db.session.get(Survey, survey_id) if isinstance(survey_id, int) else None
    return survey if survey is not None and survey.organizer_id == campaign.organizer_id else None


def _title(survey, language: str) -> str:
    if language == "zh_CN" and getattr(survey, "title_zh", ""):
        return survey.title_zh
    return getattr(survey, "title_en", "") or getattr(survey, "title_zh", "") or ""


def create_survey_campaign(scope: Scope, edition: Edition, survey_id, *, remind_after_days=DEFAULT_REMIND_AFTER_DAYS,
                           actor_id: int | None = None) -> Campaign:
    """A draft survey invitation for one of the edition's open surveys, the mail prefilled in both languages."""
    if edition.organizer_id != scope.organizer_id:
        raise ServiceError(_l("No such edition."))
    survey = next((s for s in open_surveys(scope, edition) if str(s.id) == str(survey_id)), None)
    if survey is None or survey.organizer_id != scope.organizer_id or survey.edition_id != edition.id:
        raise ServiceError(_l("Choose an open survey of this edition."), "survey")
    try:
        days = int(remind_after_days)
    except (TypeError, ValueError):
        raise ServiceError(_l("Give the days as a whole number from 1 to 60."), "remind_after_days") from None
    if not 1 <= days <= MAX_REMIND_AFTER_DAYS:
        raise ServiceError(_l("Give the days as a whole number from 1 to 60."), "remind_after_days")
    texts = {}
    for language, suffix in (("en", "en"), ("zh_CN", "zh")):
        with force_locale(language):
            texts[f"subject_{suffix}"] = _("Your opinion on %(edition)s", edition=edition.name)
            texts[f"body_{suffix}"] = _("Dear {name},\n\nthank you for taking part in %(edition)s. Tell us in a few "
                                        "minutes what went well and what we should do better: %(survey)s\n\n{link}\n\n"
                                        "Kind regards", edition=edition.name, survey=_title(survey, language))
    name = str(_l("Survey: %(title)s", title=_title(survey, "en")))[:200]
    campaign = Campaign(organizer_id=scope.organizer_id, edition_id=edition.id, kind="survey", status="draft",
                        segment={}, created_by_id=actor_id, name=name,
                        settings={"survey_id": survey.id, "audience": survey.audience, "remind_after_days": days},
                        **texts)
    db.session.add(campaign)
    db.session.flush()
    audit("campaign.created", organizer_id=scope.organizer_id, user_id=actor_id, obj=campaign,
          details={"name": campaign.name})
    return campaign


def audience(campaign: Campaign) -> str:
    value = (campaign.settings or {}).get("audience")
    return value if value in AUDIENCES else "visitor"


def _visitors(campaign: Campaign, edition: Edition):
    """(person id, locale) of the edition's confirmed registrations with an address that may be mailed."""
    return (select(Registration.person_id, func.max(Registration.locale))
            .join(Person, Person.id == Registration.person_id)
            .where(Registration.organizer_id == campaign.organizer_id, Registration.edition_id == edition.id,
                   Registration.status == "confirmed", Person.erased_at.is_(None), Person.merged_into_id.is_(None),
                   Person.email_key.is_not(None), Person.email_key != "",
                   Person.email_key.not_in(core.unsubscribed_keys(campaign.organizer_id)))
            .group_by(Registration.person_id))


def _exhibitor_admins(campaign: Campaign, edition: Edition):
    return (select(User.id, Exhibitor.company_id, User.locale).join(Exhibitor, Exhibitor.id == User.exhibitor_id)
            .where(User.organizer_id == campaign.organizer_id, User.role == "exhibitor_admin", User.active.is_(True),
                   User.email != "", Exhibitor.edition_id == edition.id, Exhibitor.status.in_(PARTICIPATING_STATUSES)))


def audience_count(campaign: Campaign, edition: Edition) -> int:
    stmt = _visitors(campaign, edition) if audience(campaign) == "visitor" else _exhibitor_admins(campaign, edition)
    return db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def preview(campaign: Campaign, edition: Edition, limit: int = services.PREVIEW_ROWS) -> services.Preview:
    if audience(campaign) == "visitor":
        rows = db.session.execute(select(Person, func.max(Registration.locale))
                                  .join(Registration, Registration.person_id == Person.id)
                                  .where(Person.id.in_(select(_visitors(campaign, edition).subquery().c.person_id)),
                                         Registration.edition_id == edition.id)
                                  .group_by(Person.id).order_by(Person.name, Person.id).limit(limit)).all()
    else:
        ids = select(_exhibitor_admins(campaign, edition).subquery().c.id)
        rows = [(u, u.locale) for u in db.session.scalars(select(User).where(User.id.in_(ids))
                                                         .order_by(User.name, User.id).limit(limit))]
    return services.Preview(audience_count(campaign, edition), [(who, locale or "en") for who, locale in rows])


def snapshot(campaign: Campaign, edition: Edition) -> None:
    """Sending starts: the survey's audience, as it is now, becomes the recipients (each once)."""
    from sqlalchemy import insert

    if audience(campaign) == "visitor":
        visitors = _visitors(campaign, edition).subquery()
        chosen = select(visitors.c.person_id, func.coalesce(visitors.c[1], "en"), literal(campaign.organizer_id),
                        literal(campaign.id), literal("pending"))
        db.session.execute(insert(Recipient).from_select(
            ["person_id", "locale", "organizer_id", "campaign_id", "status"], chosen))
    else:
        admins = _exhibitor_admins(campaign, edition).subquery()
        chosen = select(admins.c.id, admins.c.company_id, func.coalesce(admins.c.locale, "en"),
                        literal(campaign.organizer_id), literal(campaign.id), literal("pending"))
        db.session.execute(insert(Recipient).from_select(
            ["user_id", "company_id", "locale", "organizer_id", "campaign_id", "status"], chosen))


def _answer_key(campaign: Campaign, recipient: Recipient) -> int | None:
    """The registration id (visitors) or exhibitor id (exhibitors) the survey knows the recipient by."""
    if recipient.person_id is not None:
        return db.session.scalar(select(Registration.id).where(
            Registration.person_id == recipient.person_id, Registration.edition_id == campaign.edition_id,
            Registration.status == "confirmed").order_by(Registration.id).limit(1))
    return recipient.user.exhibitor_id if recipient.user is not None else None


def render(campaign: Campaign, edition: Edition, recipient: Recipient, *, reminder: bool = False):
    """(subject, text, HTML) with the recipient's own survey link; None when there is no survey to link to."""
    surveys = _surveys()
    survey = survey_of(campaign)
    key = _answer_key(campaign, recipient)
    if surveys is None or survey is None or key is None:
        return None
    if recipient.person_id is not None:
        path = surveys.take_path(survey, registration_id=key)
        unsubscribe = services.unsubscribe_token(campaign.id, recipient.person_id)
    else:
        path = surveys.take_path(survey, exhibitor_id=key)
        unsubscribe = services.unsubscribe_token(campaign.id, None, user_id=recipient.user_id)
    base = services._base_url(campaign)
    prefix = None
    if reminder:
        with force_locale(services.mail_language(recipient.locale)):
            prefix = _("Reminder:")
    from .winback import compose

    return compose(campaign, edition, recipient.locale, recipient.addressee.name, f"{base}{path}",
                            f"{base}/u/{unsubscribe}", exhibitor=recipient.person_id is None, subject_prefix=prefix)


# --- the one reminder ---------------------------------------------------------------------------------

def remind_after(campaign: Campaign) -> timedelta:
    days = (campaign.settings or {}).get("remind_after_days")
    return timedelta(days=days if isinstance(days, int) and 0 < days <= MAX_REMIND_AFTER_DAYS
                     else DEFAULT_REMIND_AFTER_DAYS)


def reminder_due_at(campaign: Campaign) -> datetime | None:
    start = campaign.finished_at or campaign.started_at
    return start + remind_after(campaign) if start is not None else None


def remind(campaign: Campaign, *, now: datetime | None = None, early: bool = False,
           actor_id: int | None = None) -> list[int]:
    """Send the one reminder to the recipients mailed who have not answered; returns the message ids (hand them
    to delivery after the commit). ``early``: the organizer's button, before the N days are over."""
    now = now or utcnow()
    if campaign.kind != "survey" or campaign.status != "sent":
        raise ServiceError(_l("A reminder goes once the survey invitation has been sent."))
    if campaign.reminder_sent_at is not None:
        raise ServiceError(_l("The reminder was sent already: nobody gets a second one."))
    due = reminder_due_at(campaign)
    if not early and (due is None or now < due):
        raise ServiceError(_l("The reminder is not due yet."))
    claimed = db.session.execute(update(Campaign).where(Campaign.id == campaign.id, Campaign.reminder_sent_at.is_(None))
                                 .values(reminder_sent_at=now).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise ServiceError(_l("The reminder was sent already: nobody gets a second one."))
    surveys = _surveys()
    survey = survey_of(campaign)
    answered = set(surveys.responded(survey)) if surveys is not None and survey is not None else set()
    edition = db.session.get(Edition, campaign.edition_id)
    messages = []
    recipients = db.session.scalars(select(Recipient).where(
        Recipient.campaign_id == campaign.id, Recipient.status == "sent", Recipient.reminded_at.is_(None))
        .options(joinedload(Recipient.person), joinedload(Recipient.user)).order_by(Recipient.id))
    for recipient in list(recipients):
        if not services._deliverable(recipient) or _answer_key(campaign, recipient) in answered:
            continue
        rendered = render(campaign, edition, recipient, reminder=True)
        if rendered is None:
            continue
        message = core.queue_mail(campaign.organizer_id, recipient.addressee.email, *rendered, marketing=True)
        if message is None:
            continue
        recipient.reminded_at = now
        messages.append(message.id)
    audit("campaign.reminded", organizer_id=campaign.organizer_id, user_id=actor_id, obj=campaign,
          details={"recipients": len(messages)})
    db.session.flush()
    return messages


def reminded_count(campaign: Campaign) -> int:
    return db.session.scalar(select(func.count()).where(Recipient.campaign_id == campaign.id,
                                                        Recipient.reminded_at.is_not(None))) or 0


def due_reminders(now: datetime | None = None) -> list[int]:
    """Survey invitations sent whose reminder is due and not sent."""
    now = now or utcnow()
    rows = db.session.scalars(select(Campaign).where(Campaign.kind == "survey", Campaign.status == "sent",
                                                     Campaign.reminder_sent_at.is_(None)))
    return [c.id for c in rows if (due := reminder_due_at(c)) is not None and due <= now]


@shared_task
def send_due_reminders() -> int:
    """Beat, every hour: the one reminder of every survey invitation whose N days are over."""
    from ..core.tasks import deliver_mail

    sent = 0
    for campaign_id in due_reminders():
        campaign = db.session.get(Campaign, campaign_id)
        try:
            ids = remind(campaign)
        except ServiceError:
            db.session.rollback()
            continue
        for message_id in ids:
            deliver_mail.delay(message_id)
        db.session.commit()
        sent += len(ids)
    return sent
