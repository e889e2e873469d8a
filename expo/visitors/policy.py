"""Qualified registration: an edition's registration policy and the status it gives each registration.

On top of the edition's status, registration opens and closes at given times (stored in UTC, set and shown in
the edition's time zone); a visitor category may have a capacity (over it: the waiting list) and may need
staff approval (the moderation queue); the edition may take only visitors with an invitation code.

Capacity under concurrency: the category's ``category_settings`` row is the lock. A submit that may take a
place locks it (``SELECT … FOR UPDATE`` on PostgreSQL, the write lock on SQLite) before it counts the
confirmed registrations, so that two submits never both take the last place. A freed place (cancellation,
raised capacity) goes to the first waitlisted registration, under the same lock.

Every move is audited (core.services.move_status) and lands on the person's timeline (core.activity).
Services flush; the caller commits once; mails go after the commit (tasks).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..core import activity
from ..core import services as core
from ..core.db import take_write_lock, utcnow
from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, move_status
from ..extensions import db
from . import invitations, tasks
from .notifications import _one_line as mail_line
from .notifications import mail_safe_name, visitor_page_url
from .models import (
    REGISTRATION_STATUS,
    VISITOR_CATEGORY,
    CategorySetting,
    InvitationCode,
    Registration,
    RegistrationPolicy,
)

# Sources the policy applies to: what visitors submit themselves. Imports keep the status of their file, and a
# walk-up visitor is at the gate already.
PUBLIC_SOURCES = ("online", "exhibitor_invitation", "campaign")
# The categories a setup page offers (what visitors register as; staff and speakers are added by staff).
SETUP_CATEGORIES = ("buyer", "trade_visitor", "public", "media", "vip")
MAX_CAPACITY = 1_000_000
REASON_MAX = 500

ACTIVITY_KINDS = ("registration.approved", "registration.refused", "registration.promoted", "registration.edited")


# --- the policy -----------------------------------------------------------------------------------------

_CACHED = "_registration_policy"  # the edition's policy, read once per edition object (one request's session)


def policy_of(edition: Edition) -> RegistrationPolicy | None:
    """The edition's policy row (None: no setup saved — open by status alone, no limits). Read once for the
    edition object: the public page and the submit it handles share one query on the hot path."""
    if _CACHED in edition.__dict__:
        return edition.__dict__[_CACHED]
    policy = db.session.scalar(select(RegistrationPolicy).where(RegistrationPolicy.edition_id == edition.id))
    edition.__dict__[_CACHED] = policy
    return policy


def category_settings(edition: Edition) -> dict[str, CategorySetting]:
    rows = db.session.scalars(select(CategorySetting).where(CategorySetting.edition_id == edition.id))
    return {row.category: row for row in rows}


def edition_zone(edition: Edition) -> ZoneInfo:
    try:
        return ZoneInfo(edition.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_time(edition: Edition, moment: datetime | None) -> datetime | None:
    """A stored UTC time in the edition's time zone (what pages show and forms edit)."""
    return moment.astimezone(edition_zone(edition)) if moment is not None else None


def from_local(edition: Edition, moment: datetime | None) -> datetime | None:
    """A naive local time typed in the edition's time zone, as an aware UTC time."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=edition_zone(edition))
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class Opening:
    """Whether the public form takes registrations now, and if not, why (a sentence for the visitor)."""

    open: bool
    message: str = ""
    invitation_only: bool = False


def opening(edition: Edition, policy: RegistrationPolicy | None = None, *, now: datetime | None = None,
            load: bool = True) -> Opening:
    if policy is None and load:
        policy = policy_of(edition)
    invitation_only = bool(policy and policy.invitation_only)
    if not edition.registration_open:
        return Opening(False, _("Registration for this edition is not open."), invitation_only)
    now = now or utcnow()
    if policy is not None and policy.opens_at is not None and now < policy.opens_at:
        when = local_time(edition, policy.opens_at).strftime("%Y-%m-%d %H:%M")
        return Opening(False, _("Registration opens on %(when)s (%(zone)s).", when=when, zone=edition.timezone),
                       invitation_only)
    if policy is not None and policy.closes_at is not None and now >= policy.closes_at:
        when = local_time(edition, policy.closes_at).strftime("%Y-%m-%d %H:%M")
        return Opening(False, _("Registration closed on %(when)s (%(zone)s).", when=when, zone=edition.timezone),
                       invitation_only)
    return Opening(True, "", invitation_only)


def admit(edition: Edition, source: str, invitation_code: str = "", *, now: datetime | None = None
          ) -> InvitationCode | None:
    """Check a submit against the policy before anything is written: the edition open now (status and
    dates), an invitation code when the edition is invitation-only, the code valid for this edition and not
    used up. Returns the code row (not yet claimed: ``claim_code``). Raises ServiceError."""
    code = invitations.find_code(edition, invitation_code) if invitation_code else None
    if source not in PUBLIC_SOURCES:
        return code if invitations.usable(code) and not code.used_up else None
    state = opening(edition, now=now)
    if not state.open:
        raise ServiceError(state.message)
    if invitation_code and not invitations.usable(code):
        raise ServiceError(_l("This invitation code is not valid for this show. Check the link you were sent."),
                           "invitation_code")
    if code is not None and code.used_up:
        raise ServiceError(_l("This invitation code has been used as often as it may. Ask whoever invited you "
                              "for a new one."), "invitation_code")
    if state.invitation_only and code is None:
        raise ServiceError(_l("Registration for this show is by invitation only: enter the code from your "
                              "invitation."), "invitation_code")
    return code


# --- the status of a new registration ------------------------------------------------------------------

def _locked_setting(edition_id: int, category: str) -> CategorySetting | None:
    """The category's settings row, locked until the commit (None: no limit, no approval — nothing to lock)."""
    take_write_lock(db.session)
    return db.session.scalar(select(CategorySetting).where(CategorySetting.edition_id == edition_id,
                                                           CategorySetting.category == category)
                             .with_for_update())


def _confirmed_count(edition_id: int, category: str) -> int:
    return db.session.scalar(select(func.count(Registration.id)).where(
        Registration.edition_id == edition_id, Registration.category == category,
        Registration.status == "confirmed")) or 0


def decide_status(edition: Edition, category: str, source: str) -> str:
    """confirmed, pending (the category needs approval) or waitlisted (the category is full). Holds the
    category's lock until the caller commits, so the count it read stays true."""
    if source not in PUBLIC_SOURCES or policy_of(edition) is None:  # no setup saved: no setting rows either
        return "confirmed"
    # Only a capacity needs the lock (its count must stay true until the commit). An unlimited category's row
    # read FOR UPDATE queued every submit of that category behind the one before (the issue 7 benchmark).
    setting = db.session.scalar(select(CategorySetting).where(CategorySetting.edition_id == edition.id,
                                                              CategorySetting.category == category))
    if setting is not None and setting.capacity is not None and not setting.needs_approval:
        setting = _locked_setting(edition.id, category)  # read again under the lock
    if setting is None:
        return "confirmed"
    if setting.needs_approval:
        return "pending"
    return _status_for_capacity(setting)


def _status_for_capacity(setting: CategorySetting) -> str:
    if setting.capacity is None or _confirmed_count(setting.edition_id, setting.category) < setting.capacity:
        return "confirmed"
    return "waitlisted"


def after_register(registration: Registration, *, public_url: str | None = None) -> None:
    """A new registration that is not confirmed: on the person's timeline, and its visitor told by mail."""
    if registration.status in ("waitlisted", "pending"):  # its timeline line is "registration.created" (to: status)
        if registration.person.email:
            tasks.send_status_mail.delay(registration.id, registration.status, public_url)


def _activity(kind: str, registration: Registration, *, user_id: int | None = None, **details) -> None:
    activity.record(kind, organizer_id=registration.organizer_id, subject_type="person",
                    subject_id=registration.person_id, edition_id=registration.edition_id, user_id=user_id,
                    obj=registration, details={"edition": registration.edition.name,
                                               "category": str(VISITOR_CATEGORY.label(registration.category)),
                                               **details})


# --- places freed, the waiting list ------------------------------------------------------------------------

def promote_waitlist(edition: Edition, category: str, *, actor_id: int | None = None,
                     public_url: str | None = None, limit_removed: bool = False) -> list[Registration]:
    """Give the free places of a category to the waitlisted registrations, first come first served; each
    one promoted is confirmed, audited, on the timeline and mailed its badge. Returns those promoted.
    A category without a limit has no places to free: its waiting list (staff put people there by hand)
    moves only when staff remove the limit (``limit_removed``)."""
    setting = _locked_setting(edition.id, category)
    waiting = select(Registration).where(Registration.edition_id == edition.id, Registration.category == category,
                                         Registration.status == "waitlisted") \
        .order_by(Registration.created_at, Registration.id)
    if setting is not None and setting.capacity is not None:
        free = setting.capacity - _confirmed_count(edition.id, category)
        if free <= 0:
            return []
        waiting = waiting.limit(free)
    elif not limit_removed or (setting is not None and setting.needs_approval):
        return []  # approval categories: staff decide from the queue
    promoted = list(db.session.scalars(waiting))
    for registration in promoted:
        move_status(registration, REGISTRATION_STATUS, "confirmed", actor_id=actor_id)
        _activity("registration.promoted", registration, user_id=actor_id)
        if registration.person.email:
            tasks.send_confirmation.delay(registration.id, public_url, True)
    return promoted


def cancel(registration: Registration, *, actor_id: int | None = None, by_visitor: bool = False,
           public_url: str | None = None) -> list[Registration]:
    """Cancel a registration (staff, or the visitor through their link); a place it held goes to the
    waiting list. Returns the registrations promoted."""
    from . import services  # services imports this module

    if registration.status == "cancelled":
        return []
    promoted = services.cancel_registration(registration, actor_id=actor_id, public_url=public_url)
    if by_visitor:
        audit("registration.cancelled_by_visitor", organizer_id=registration.organizer_id, obj=registration)
        if registration.person.email:
            tasks.send_status_mail.delay(registration.id, "cancelled", public_url)
    return promoted


# --- the moderation queue --------------------------------------------------------------------------------

def pending_registrations(scope: Scope, edition: Edition) -> list[Registration]:
    return list(db.session.scalars(scoped(Registration, scope).where(
        Registration.edition_id == edition.id, Registration.status == "pending")
        .options(joinedload(Registration.person)).order_by(Registration.created_at, Registration.id)))


def approve(registration: Registration, *, actor_id: int | None = None, public_url: str | None = None) -> str:
    """Staff approve a pending registration: confirmed (badge mailed), or waitlisted when its category is full."""
    if registration.status != "pending":
        raise ServiceError(_l("Only a registration waiting for approval can be approved."))
    setting = _locked_setting(registration.edition_id, registration.category)
    status = _status_for_capacity(setting) if setting is not None else "confirmed"
    move_status(registration, REGISTRATION_STATUS, status, actor_id=actor_id)
    registration.status_reason = ""
    _activity("registration.approved", registration, user_id=actor_id)
    if registration.person.email:
        if status == "confirmed":
            tasks.send_confirmation.delay(registration.id, public_url)
        else:
            tasks.send_status_mail.delay(registration.id, "waitlisted", public_url)
    return status


def refuse(registration: Registration, reason: str, *, actor_id: int | None = None,
           public_url: str | None = None) -> None:
    """Staff refuse a pending registration with a reason the visitor reads (mail and their page)."""
    reason = " ".join((reason or "").replace("\x00", " ").split())
    if registration.status != "pending":
        raise ServiceError(_l("Only a registration waiting for approval can be refused."))
    if not reason:
        raise ServiceError(_l("Give the visitor a reason."), "reason")
    if len(reason) > REASON_MAX:
        raise ServiceError(_l("At most %(n)d characters.", n=REASON_MAX), "reason")
    move_status(registration, REGISTRATION_STATUS, "cancelled", actor_id=actor_id)
    registration.status_reason = reason
    audit("registration.refused", organizer_id=registration.organizer_id, user_id=actor_id, obj=registration,
          details={"reason": reason})
    _activity("registration.refused", registration, user_id=actor_id)
    if registration.person.email:
        tasks.send_status_mail.delay(registration.id, "refused", public_url)


# --- the setup page ----------------------------------------------------------------------------------------

@dataclass
class CategoryRule:
    category: str
    capacity: int | None = None
    needs_approval: bool = False


def save_setup(edition: Edition, *, opens_at: datetime | None, closes_at: datetime | None, invitation_only: bool,
               rules: list[CategoryRule], actor_id: int | None = None, public_url: str | None = None) -> dict:
    """Save an edition's policy (times are aware datetimes). Audited with what changed; a raised capacity
    promotes the waiting list at once. Returns the changes."""
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise ServiceError(_l("Registration must close after it opens."), "closes_at")
    for rule in rules:
        if rule.category not in VISITOR_CATEGORY:
            raise ServiceError(_l("Unknown category."))
        if rule.capacity is not None and not 0 <= rule.capacity <= MAX_CAPACITY:
            raise ServiceError(_l("A capacity is a number between 0 and %(max)d.", max=MAX_CAPACITY),
                               f"capacity_{rule.category}")
    policy = policy_of(edition)
    changes = {}
    if policy is None:
        policy = RegistrationPolicy(organizer_id=edition.organizer_id, edition_id=edition.id, invitation_only=False)
        db.session.add(policy)
        edition.__dict__[_CACHED] = policy
    for name, value in (("opens_at", opens_at), ("closes_at", closes_at), ("invitation_only", invitation_only)):
        if getattr(policy, name) != value:
            changes[name] = value.isoformat() if isinstance(value, datetime) else value
            setattr(policy, name, value)
    take_write_lock(db.session)
    settings = category_settings(edition)
    to_promote = []
    for rule in rules:
        row = settings.get(rule.category)
        before = (row.capacity, row.needs_approval) if row is not None else (None, False)
        if before == (rule.capacity, rule.needs_approval):
            continue
        if row is None:
            row = CategorySetting(organizer_id=edition.organizer_id, edition_id=edition.id, category=rule.category)
            db.session.add(row)
        row.capacity, row.needs_approval = rule.capacity, rule.needs_approval
        changes[rule.category] = {"capacity": rule.capacity, "approval": rule.needs_approval}
        if not rule.needs_approval and (rule.capacity is None or before[0] is None or rule.capacity > before[0]):
            to_promote.append(rule.category)
    db.session.flush()
    if changes:
        audit("registration_policy.changed", organizer_id=edition.organizer_id, user_id=actor_id, obj=policy,
              details=changes)
    for category in to_promote:
        promote_waitlist(edition, category, actor_id=actor_id, public_url=public_url, limit_removed=True)
    return changes


def status_counts(edition: Edition) -> dict[str, dict[str, int]]:
    """Per category: registrations per status (the setup page shows places taken and the waiting list)."""
    counts: dict[str, dict[str, int]] = {}
    rows = db.session.execute(select(Registration.category, Registration.status, func.count(Registration.id))
                              .where(Registration.edition_id == edition.id)
                              .group_by(Registration.category, Registration.status))
    for category, status, n in rows:
        counts.setdefault(category, {})[status] = n
    return counts


# --- the visitor's own changes (their signed link) ------------------------------------------------------------

EDITABLE = ("name", "company", "job_title", "phone")


def edit_by_visitor(registration: Registration, values: dict, *, answers: dict | None = None) -> dict:
    """The visitor corrects their name, company, job title and phone for this registration (the *_as_given
    fields: the person record is staff's) and their answers. Audited and on the timeline; returns what changed
    (field names only in the audit: the values are personal data that the audit log needs not copy)."""
    from .services import _one_line  # services imports this module

    if registration.status == "cancelled" or registration.erased_at is not None:
        raise ServiceError(_l("This registration is cancelled."))
    changed = []
    for name in EDITABLE:
        if name not in values:
            continue
        value = _one_line(values[name] or "")[:40 if name == "phone" else 200]
        if name == "name" and not value:
            raise ServiceError(_l("Please give your name."), "name")
        column = f"{name}_as_given"
        if getattr(registration, column) != value:
            setattr(registration, column, value)
            changed.append(name)
    if answers is not None:
        from . import questions  # the form asks the active questions: answers to retired ones are kept

        answers = questions.keep_unasked(registration.answers, answers, questions.active_questions(registration.edition))
    if answers is not None and answers != (registration.answers or {}):
        registration.answers = answers
        changed.append("answers")
    if changed:
        audit("registration.edited", organizer_id=registration.organizer_id, obj=registration,
              details={"fields": changed, "by": "visitor"})
        _activity("registration.edited", registration, fields=", ".join(changed))
    return {name: True for name in changed}


# --- mails about a status ----------------------------------------------------------------------------------

STATUS_MAIL_KINDS = ("waitlisted", "pending", "refused", "cancelled")


def status_mail(registration_id: int, kind: str, public_url: str | None = None):
    """The mail telling a visitor their registration is waitlisted, waiting for approval, refused (with the
    reason) or cancelled at their request; in their language, with the link to their page. No badge."""
    registration = db.session.get(Registration, registration_id)
    if registration is None or kind not in STATUS_MAIL_KINDS or not registration.person.email:
        return None
    edition = registration.edition
    with force_locale(registration.locale or "en"):
        subjects = {"waitlisted": _("You are on the waiting list for %(edition)s", edition=edition.name),
                    "pending": _("Your registration for %(edition)s awaits approval", edition=edition.name),
                    "refused": _("Your registration for %(edition)s was not accepted", edition=edition.name),
                    "cancelled": _("Your registration for %(edition)s is cancelled", edition=edition.name)}
        text = render_template("visitors/manage_mail.txt", kind=kind, registration=registration, edition=edition,
                               name=mail_safe_name(registration.visitor_name),
                               url=visitor_page_url(registration, public_url))
    return core.queue_mail(registration.organizer_id, registration.person.email, mail_line(subjects[kind])[:300],
                           text)


# --- group registration ----------------------------------------------------------------------------------------

MAX_GROUP = 10


@dataclass
class Colleague:
    name: str
    email: str
    job_title: str = ""


def register_group(edition: Edition, data, colleagues: list[Colleague], *, public_url: str | None = None
                   ) -> list[str]:
    """The public form with colleagues: the contact registers (``register_online``: no registration oracle),
    then each colleague gets their own registration, badge and mail, with the contact's company, category and
    invitation, and the same consent text (the contact confirms they may register them). A colleague already
    registered is mailed their own link instead, as the form does for anyone. Returns each outcome, contact
    first. Duplicate addresses inside the group are the caller's to refuse before (``group_duplicates``)."""
    from . import services  # services imports this module

    outcomes = [services.register_online(edition, data, public_url=public_url)]
    contact = None
    if outcomes[0] == "registered":
        person = services.find_person(edition.organizer_id, data.email)
        contact = db.session.scalar(select(Registration).where(Registration.edition_id == edition.id,
                                                               Registration.person_id == person.id))
    for colleague in colleagues[:MAX_GROUP]:
        # the contact's answers are the contact's: a colleague answers from their own page; their category is
        # the contact's (as the rules decided it for the contact)
        colleague_data = replace(data, name=colleague.name, email=colleague.email, job_title=colleague.job_title,
                                 phone="", share_with_exhibitors=False, interest_ids=list(data.interest_ids),
                                 answers={}, category=contact.category if contact is not None else data.category,
                                 group_contact_id=contact.id if contact is not None else None)
        # no category rules for a colleague (they answered nothing: a catch-all rule would decide for them)
        outcomes.append(services.register_online(edition, colleague_data, public_url=public_url, category_rules=[]))
    return outcomes


def group_duplicates(contact_email: str, colleagues: list[Colleague]) -> set[int]:
    """Indexes of colleague rows whose address repeats the contact's or an earlier row's (the submitter's own
    typing, so saying so reveals nothing)."""
    seen = {core.normalize_email(contact_email)}
    repeated = set()
    for index, colleague in enumerate(colleagues):
        key = core.normalize_email(colleague.email)
        if key in seen:
            repeated.add(index)
        seen.add(key)
    return repeated
