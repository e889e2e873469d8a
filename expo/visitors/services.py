"""Visitor registration: matching returning people, consent, badges, the visitor's own page."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..core.db import utcnow
from ..core.models import Category, Edition
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, move_status, normalize_email
from ..extensions import db
from . import tasks
from .badges import badge_code
from .models import REGISTRATION_STATUS, SOURCES, VISITOR_CATEGORIES, Person, Registration


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


def phone_key(phone: str) -> str | None:
    """Digits only, without a leading international 00 or a national trunk 0: enough to match the same phone."""
    digits = re.sub(r"\D", "", phone or "")
    digits = digits.removeprefix("00").lstrip("0")
    return digits[-15:] if len(digits) >= 6 else None


def find_person(organizer_id: int, email: str | None, phone: str | None) -> Person | None:
    email_key = normalize_email(email) if email else None
    if email_key:
        person = db.session.scalar(select(Person).where(Person.organizer_id == organizer_id,
                                                        Person.email_key == email_key))
        if person is not None:
            return person
    key = phone_key(phone or "")
    if key:
        return db.session.scalar(select(Person).where(Person.organizer_id == organizer_id, Person.phone_key == key)
                                 .order_by(Person.id).limit(1))
    return None


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
    person = find_person(edition.organizer_id, data.email, data.phone)
    if person is None:
        person = Person(organizer_id=edition.organizer_id)
        db.session.add(person)
    elif db.session.scalar(select(Registration.id).where(Registration.edition_id == edition.id,
                                                         Registration.person_id == person.id)):
        raise ServiceError(_l("You are already registered for this edition. Use the link in your confirmation "
                              "email to see your badge."), "email")
    _apply_person_fields(person, data)
    db.session.flush()
    interests = []
    if data.interest_ids:
        interests = list(db.session.scalars(select(Category).where(Category.show_id == edition.show_id,
                                                                   Category.id.in_(data.interest_ids))))
    registration = Registration(
        organizer_id=edition.organizer_id, edition=edition, person=person, category=data.category,
        status="confirmed", source=data.source, answers=data.answers, consent_version=edition.consent_version,
        consent_at=utcnow(), share_with_exhibitors=data.share_with_exhibitors, interests=interests,
        access_key=secrets.token_urlsafe(32), locale=data.locale,
    )
    db.session.add(registration)
    db.session.flush()
    audit("registration.created", organizer_id=edition.organizer_id, user_id=actor_id, obj=registration,
          details={"person_id": person.id, "source": data.source, "consent_version": edition.consent_version})
    if send_confirmation and person.email:
        tasks.send_confirmation.delay(registration.id, public_url)
    return registration


def _apply_person_fields(person: Person, data: RegistrationData) -> None:
    """Newest data wins, but an empty field never wipes what we knew."""
    values = {"name": data.name.strip(), "email": data.email.strip() or None, "phone": data.phone.strip(),
              "company": data.company.strip(), "job_title": data.job_title.strip(),
              "country": data.country.strip().upper()[:2]}
    for key, value in values.items():
        if value:
            setattr(person, key, value)
    person.email_key = normalize_email(person.email) if person.email else None
    person.phone_key = phone_key(person.phone)


def reissue_badge(registration: Registration, *, actor_id: int | None = None) -> str:
    """A new code for the registration; every older code is revoked from now on."""
    registration.badge_serial += 1
    audit("badge.reissued", organizer_id=registration.organizer_id, user_id=actor_id, obj=registration,
          details={"serial": registration.badge_serial})
    return badge_code(registration)


def cancel_registration(registration: Registration, *, actor_id: int | None = None) -> None:
    move_status(registration, REGISTRATION_STATUS, "cancelled", actor_id=actor_id)


def registration_by_access_key(access_key: str) -> Registration | None:
    if not access_key or len(access_key) > 64:
        return None
    return db.session.scalar(select(Registration).where(Registration.access_key == access_key))


def registrations(scope: Scope, edition: Edition, *, search: str = "", limit: int = 200) -> list[Registration]:
    stmt = (scoped(Registration, scope).join(Person).where(Registration.edition_id == edition.id)
            .order_by(Registration.created_at.desc()))
    if search:
        like = f"%{search.strip().lower()}%"
        stmt = stmt.where(func.lower(Person.name).like(like) | Person.email_key.like(like)
                          | func.lower(Person.company).like(like))
    return list(db.session.scalars(stmt.limit(limit)))


def registration_count(scope: Scope, edition: Edition) -> int:
    return db.session.scalar(scoped(Registration, scope, func.count(Registration.id))
                             .where(Registration.edition_id == edition.id))


def edition_by_slug(slug: str) -> Edition | None:
    return db.session.scalar(select(Edition).where(Edition.slug == slug))


def visible_to_exhibitor(registration: Registration) -> dict:
    """What an exhibitor may see of a visitor: the contact details only when the visitor agreed to share
    them, else just the visitor category. Every exhibitor-facing page, export and API answer uses this."""
    if not registration.share_with_exhibitors:
        return {"category": registration.category, "shared": False}
    person = registration.person
    return {"name": person.name, "company": person.company, "job_title": person.job_title,
            "country": person.country, "email": person.email, "phone": person.phone,
            "category": registration.category, "shared": True}
