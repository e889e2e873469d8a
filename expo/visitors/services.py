"""Visitor registration: matching returning people, consent, badges, the visitor's own page."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core.db import utcnow
from ..core.models import Category, Edition
from ..core.services import ServiceError, audit, move_status
from ..extensions import db
from . import tasks
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


def register(edition: Edition, data: RegistrationData, *, actor_id: int | None = None,
             send_confirmation: bool = True, public_url: str | None = None) -> Registration:
    """Register a visitor for an edition, matching a returning Person; mail the badge after commit.

    ``public_url``: the site's address as the visitor reached it, for the links in the mail."""
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
    elif db.session.scalar(select(Registration.id).where(Registration.edition_id == edition.id,
                                                         Registration.person_id == person.id)):
        raise ServiceError(_l("You are already registered for this edition. Use the link in your confirmation "
                              "email to see your badge."), "email")
    _fill_blank_person_fields(person, data)
    db.session.flush()
    interests = []
    if data.interest_ids:
        interests = list(db.session.scalars(select(Category).where(Category.show_id == edition.show_id,
                                                                   Category.id.in_(data.interest_ids))))
    registration = Registration(
        organizer_id=edition.organizer_id, edition=edition, person=person, category=data.category,
        status="confirmed", source=data.source, answers=data.answers, consent_version=edition.consent_version,
        consent_at=utcnow(), share_with_exhibitors=data.share_with_exhibitors, interests=interests,
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
    """What an exhibitor may see of a visitor: the contact details only when the visitor agreed to share
    them, else just the visitor category. Every exhibitor-facing page, export and API answer uses this."""
    if not registration.share_with_exhibitors:
        return {"category": registration.category, "shared": False}
    person = registration.person
    return {"name": registration.visitor_name, "company": registration.visitor_company,
            "job_title": registration.visitor_job_title, "country": person.country, "email": person.email,
            "phone": registration.visitor_phone, "category": registration.category, "shared": True}
