"""Visitor registration: matching returning people, consent, badges, the visitor's own page."""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core.db import utcnow
from ..core.models import AuditEntry, Category, Edition
from ..core.services import ServiceError, audit, move_status
from ..extensions import db
from . import privacy, tasks
from .badges import badge_code

# The list and the identity rules live in their own files; callers import them from here.
from .listing import (  # noqa: F401
    EXPORT_FORMATS,
    RegistrationFilters,
    checked_in_among,
    checked_in_available,
    export_registrations,
    registration_count,
    registrations_page,
)
from .models import REGISTRATION_STATUS, SOURCES, VISITOR_CATEGORIES, Person, Registration
from .persons import (  # noqa: F401
    DUPLICATE_REASONS,
    Conflict,
    DuplicatePair,
    Page,
    duplicates_count,
    find_person,
    mark_distinct,
    merge_persons,
    name_key,
    phone_key,
    possible_duplicates,
    refresh_keys,
    update_person,
)


@dataclass
class RegistrationData:
    name: str
    email: str
    category: str
    phone: str = ""
    company: str = ""
    job_title: str = ""
    country: str = ""
    interest_ids: list[int] = field(default_factory=list)
    consent: bool = False
    share_with_exhibitors: bool = False
    answers: dict = field(default_factory=dict)
    source: str = "online"
    locale: str = "en"  # the language of the visitor's mails


class AlreadyRegistered(ServiceError):
    """The person already has a registration for the edition. Raised before anything is written. Staff at
    the desk may be told so; the anonymous form never says it (see ``register_online``)."""

    def __init__(self, registration: Registration):
        super().__init__(_l("You are already registered for this edition. Use the link in your confirmation "
                            "email to see your badge."), "email")
        self.registration = registration


def _one_line(text: str) -> str:
    """A one-line field as typed, without control characters (CR/LF, tabs, zero-width marks) and with
    its whitespace collapsed: it ends up on badges, in exports and in mails."""
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text or "")
    return re.sub(r"\s+", " ", text).strip()


def register(edition: Edition, data: RegistrationData, *, actor_id: int | None = None,
             send_confirmation: bool = True, public_url: str | None = None) -> Registration:
    """Register a visitor for an edition, matching a returning Person; mail the badge after commit.
    A person already registered for the edition raises ``AlreadyRegistered`` (a ServiceError).

    ``public_url``: a trusted base address for the links in the mail when EXPO_PUBLIC_URL is unset
    (never the request's Host header: see notifications.request_base_url)."""
    data = replace(data, **{name: _one_line(getattr(data, name))
                            for name in ("name", "email", "phone", "company", "job_title", "country")})
    if not edition.registration_open and data.source == "online":
        raise ServiceError(_l("Registration for this edition is not open."))
    if data.category not in VISITOR_CATEGORIES:
        raise ServiceError(_l("Choose a visitor category."), "category")
    if data.source not in SOURCES:
        raise ServiceError(_l("Unknown source."), "source")
    if not data.name.strip():
        raise ServiceError(_l("Please give your name."), "name")
    if not data.consent:
        raise ServiceError(_l("Registration needs your consent."), "consent")
    person = find_person(edition.organizer_id, data.email)
    if person is None:
        person = Person(organizer_id=edition.organizer_id)
        db.session.add(person)
    elif (existing := db.session.scalar(select(Registration).where(Registration.edition_id == edition.id,
                                                                   Registration.person_id == person.id))):
        raise AlreadyRegistered(existing)
    _fill_blank_person_fields(person, data)
    db.session.flush()
    interests = []
    if data.interest_ids:
        interests = list(db.session.scalars(select(Category).where(Category.show_id == edition.show_id,
                                                                   Category.id.in_(data.interest_ids))))
    registration = Registration(
        organizer_id=edition.organizer_id, edition=edition, person=person, category=data.category,
        status="confirmed", source=data.source, answers=data.answers,
        **privacy.consent_fields(edition, data.share_with_exhibitors), interests=interests,
        access_key=secrets.token_urlsafe(32), locale=data.locale, name_as_given=data.name.strip(),
        company_as_given=data.company.strip(), job_title_as_given=data.job_title.strip(),
        phone_as_given=data.phone.strip(),
    )
    db.session.add(registration)
    db.session.flush()
    audit("registration.created", organizer_id=edition.organizer_id, user_id=actor_id, obj=registration,
          details={"person_id": person.id, "source": data.source, "consent_version": edition.consent_version})
    if send_confirmation and person.email:
        tasks.send_confirmation.delay(registration.id, public_url)
    return registration


# A known address typed into the anonymous form gets its registration link by mail, at most once per
# registration in this interval (the form cannot be used to flood someone's inbox).
LINK_MAIL_INTERVAL = timedelta(minutes=10)


def register_online(edition: Edition, data: RegistrationData, *, public_url: str | None = None) -> str:
    """The anonymous form, without a registration oracle: a new visitor is registered (the confirmation with
    the badge link goes to the address given); an address already registered for the edition stores nothing
    and gets its own link again (``mail_registration_link``). The caller answers both alike ("check your
    inbox"). Returns what happened — "registered", "link_mailed" or "link_withheld" — for tests and logs,
    never for the visitor. Identity is the email only (persons.py): a known phone with a new email is a new
    person (the duplicates review finds them), so the phone reveals nothing either."""
    try:
        register(edition, data, public_url=public_url)
    except AlreadyRegistered as known:
        return "link_mailed" if mail_registration_link(known.registration, public_url=public_url) else "link_withheld"
    return "registered"


def request_registration_link(edition: Edition, email: str, *, public_url: str | None = None) -> bool:
    """"Didn't get the mail?": the link of the address's registration for the edition, mailed to that
    address (throttled). Nothing for an address that is not registered; the visitor is told the same."""
    person = find_person(edition.organizer_id, email)
    if person is None:
        return False
    registration = db.session.scalar(select(Registration).where(Registration.edition_id == edition.id,
                                                                Registration.person_id == person.id))
    return registration is not None and mail_registration_link(registration, public_url=public_url)


def mail_registration_link(registration: Registration, *, public_url: str | None = None) -> bool:
    """Mail the visitor the link to their registration (in their language, after commit), unless one went
    out in the last LINK_MAIL_INTERVAL or the registration is cancelled. Audited; True when mailed."""
    if registration.status == "cancelled" or not registration.person.email:
        return False
    recent = db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.organizer_id == registration.organizer_id, AuditEntry.at >= utcnow() - LINK_MAIL_INTERVAL,
        AuditEntry.action == "registration.link_mailed", AuditEntry.object_type == Registration.__tablename__,
        AuditEntry.object_id == registration.id).limit(1))
    if recent is not None:
        return False
    audit("registration.link_mailed", organizer_id=registration.organizer_id, obj=registration)
    tasks.send_registration_link.delay(registration.id, public_url)
    return True


def _fill_blank_person_fields(person: Person, data: RegistrationData) -> None:
    """A new person takes what the visitor typed. A known person (same email) is never rewritten by a
    registration: only fields still blank are filled in; the new details live on the registration, and a
    change to the person goes through staff or the visitor's own signed link."""
    values = {"name": data.name.strip(), "email": data.email.strip() or None, "phone": data.phone.strip(),
              "company": data.company.strip(), "job_title": data.job_title.strip(),
              "country": data.country.strip().upper()[:2]}
    for key, value in values.items():
        if value and not getattr(person, key):
            setattr(person, key, value)
    refresh_keys(person)


def reissue_badge(registration: Registration, *, actor_id: int | None = None) -> str:
    """A new code for the registration; every older code is revoked from now on."""
    registration.badge_serial += 1
    audit("badge.reissued", organizer_id=registration.organizer_id, user_id=actor_id, obj=registration,
          details={"serial": registration.badge_serial})
    return badge_code(registration)


def cancel_registration(registration: Registration, *, actor_id: int | None = None) -> None:
    move_status(registration, REGISTRATION_STATUS, "cancelled", actor_id=actor_id)


def set_registration_status(registration: Registration, status: str, *, actor_id: int | None = None) -> bool:
    """Confirm, waitlist or reinstate a registration (the moves REGISTRATION_STATUS allows), audited. A
    reinstated registration's badge admits again: cancelling never changed its code."""
    return move_status(registration, REGISTRATION_STATUS, status, actor_id=actor_id)


def registration_by_access_key(access_key: str) -> Registration | None:
    if not access_key or len(access_key) > 64:
        return None
    return db.session.scalar(select(Registration).where(Registration.access_key == access_key))


def edition_by_slug(slug: str) -> Edition | None:
    """The edition behind a public show page; a draft is not published yet (it does not exist for visitors)."""
    return db.session.scalar(select(Edition).where(Edition.slug == slug, Edition.status != "draft"))


def open_editions(limit: int = 50) -> list[Edition]:
    """The editions a visitor may register for now (public facts only), soonest first."""
    today = utcnow().date()
    return list(db.session.scalars(select(Edition).where(Edition.status.in_(("registration_open", "live")),
                                                         Edition.ends_on >= today)
                                   .options(joinedload(Edition.show)).order_by(Edition.starts_on, Edition.id)
                                   .limit(limit)))


def visible_to_exhibitor(registration: Registration) -> dict:
    """What an exhibitor may see of a visitor: the contact details only while the visitor agrees to share
    them (a withdrawal counts from then on, for leads captured before too), else just the visitor category. Every exhibitor-facing page, export and API answer uses this."""
    if not registration.share_with_exhibitors or registration.erased_at is not None:  # withdrawn, or erased
        return {"category": registration.category, "shared": False}
    person = registration.person
    return {"name": registration.visitor_name, "company": registration.visitor_company,
            "job_title": registration.visitor_job_title, "country": person.country, "email": person.email,
            "phone": registration.visitor_phone, "category": registration.category, "shared": True}
