"""A visitor's personal data: the consents (the exact text agreed; sharing contact details with exhibitors,
given and withdrawn), the visitor's copy of their data, erasure, and retention.

Erasure anonymises; it never deletes a row. The person and their registrations stay, without anything that
names or reaches the person (name, email, phone, company, job title, answers, the details as given, the
matching keys, the signed link and badge), so registrations, categories, countries, check-ins and leads
stay countable and the reports built on them stay true. The audit log is append-only: the erasure is one more
entry (who, when, which person and registrations), and audit entries never carried the erased values.

The modules above add their part through two hooks, called with (scope, registration ids):
``personal_data`` returns a section of the visitor's copy ({"key", "title", "columns": [(key, title)],
"rows": [dict]}), ``erase_personal_data`` forgets what the module holds about those registrations.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import aliased, selectinload

from ..core.db import utcnow
from ..core.models import ConsentVersion, Edition, MailAttachment, MailMessage
from ..core.registry import registry
from ..core.scoping import Scope
from ..core.services import ServiceError, audit, shred_on
from ..extensions import db
from .models import Person, Registration

ERASURE_BY = ("visitor", "staff", "retention")


# --- consent ----------------------------------------------------------------------------------------

def _current_version_id(edition: Edition):
    """The id of the version visitors agree to now, as a subquery: the registration INSERT carries it, so the
    submit costs no extra query."""
    return (select(ConsentVersion.id).where(ConsentVersion.edition_id == edition.id,
                                            ConsentVersion.version == int(edition.consent_version or 1))
            .scalar_subquery())


def consent_fields(edition: Edition, share_with_exhibitors: bool) -> dict:
    """The consent columns of a new registration: the exact version agreed to and its time, and the separate
    consent to share contact details with exhibitors (its time and the version whose text described it)."""
    now = utcnow()
    return {"consent_version": edition.consent_version, "consent_version_id": _current_version_id(edition),
            "consent_at": now, "share_with_exhibitors": bool(share_with_exhibitors),
            "sharing_at": now if share_with_exhibitors else None,
            "sharing_version_id": _current_version_id(edition) if share_with_exhibitors else None}


def set_sharing(registration: Registration, share: bool, *, actor_id: int | None = None) -> bool:
    """Give or withdraw the consent to share contact details with exhibitors. Given: on the current text, now.
    Withdrawn: exhibitors see the lead without contact data from now on (visible_to_exhibitor). Both are
    audited; returns False when it was so already."""
    if registration.erased_at is not None:
        raise ServiceError(_l("The personal data of this registration has been erased."))
    if bool(share) == registration.share_with_exhibitors:
        return False
    now = utcnow()
    if share:
        version = db.session.scalar(select(ConsentVersion).where(
            ConsentVersion.edition_id == registration.edition_id,
            ConsentVersion.version == int(registration.edition.consent_version or 1)))
        registration.sharing_at, registration.sharing_version_id = now, version.id if version else None
    else:
        registration.sharing_withdrawn_at = now
    registration.share_with_exhibitors = bool(share)
    db.session.flush()
    audit("registration.sharing", organizer_id=registration.organizer_id, user_id=actor_id, obj=registration,
          details={"shared": bool(share)})
    return True


# --- the visitor's copy -----------------------------------------------------------------------------

def person_registrations(person: Person) -> list[Registration]:
    """Every registration of the person at this organizer (across the organizer's editions), oldest first."""
    return list(db.session.scalars(
        select(Registration).where(Registration.person_id == person.id)
        .options(selectinload(Registration.edition), selectinload(Registration.interests),
                 selectinload(Registration.consent), selectinload(Registration.sharing_consent))
        .order_by(Registration.created_at, Registration.id)))


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _consent(version: ConsentVersion | None, at: datetime | None, text_key: str = "text") -> dict | None:
    if version is None and at is None:
        return None
    return {"version": version.version if version else None, "text": getattr(version, text_key, None),
            "agreed_at": _moment(at)}


def record_staff_download(person: Person, *, actor_id: int, fmt: str) -> None:
    """Staff hand a visitor their data (a request by mail or at the desk): who downloaded whose data, and in
    which form ("json" or "html"), goes to the audit log — never the data."""
    audit("person.data_downloaded", organizer_id=person.organizer_id, user_id=actor_id, object_type="persons",
          object_id=person.id, details={"format": fmt})


def personal_data(person: Person) -> dict:
    """All the organizer holds about the person, as plain JSON values (times in UTC, ISO 8601): the person,
    each registration with its answers, interests and consents, and the sections other modules add
    (check-ins, the exhibitors who have the person's contact data)."""
    registrations = person_registrations(person)
    aliases = list(db.session.scalars(select(Person.email).where(Person.merged_into_id == person.id,
                                                                 Person.email.is_not(None))))
    data = {
        "person": {"id": person.id, "name": person.name, "email": person.email, "other_emails": aliases,
                   "phone": person.phone, "company": person.company, "job_title": person.job_title,
                   "country": person.country, "created_at": _moment(person.created_at),
                   "erased_at": _moment(person.erased_at)},
        "registrations": [{
            "id": r.id, "edition": r.edition.name, "starts_on": r.edition.starts_on.isoformat(),
            "ends_on": r.edition.ends_on.isoformat(), "category": r.category, "status": r.status, "source": r.source,
            "registered_at": _moment(r.created_at),
            "as_given": {"name": r.name_as_given, "company": r.company_as_given, "job_title": r.job_title_as_given,
                         "phone": r.phone_as_given},
            "answers": r.answers or {}, "interests": [c.name for c in r.interests], "language": r.locale,
            "consent": _consent(r.consent, r.consent_at),
            "sharing_with_exhibitors": {"shared": r.share_with_exhibitors,
                                        **(_consent(r.sharing_consent, r.sharing_at, "sharing_text") or {}),
                                        "withdrawn_at": _moment(r.sharing_withdrawn_at)},
            "erased_at": _moment(r.erased_at),
        } for r in registrations],
    }
    for section in _sections(person.organizer_id, [r.id for r in registrations]):
        data[section["key"]] = [{key: _moment(v) if isinstance(v, datetime) else v for key, v in row.items()}
                                for row in section["rows"]]
    return data


def _sections(organizer_id: int, registration_ids: list[int]) -> list[dict]:
    if not registration_ids:
        return []
    return [section for hook in registry.hook("personal_data")
            if (section := hook(Scope(organizer_id), registration_ids)) is not None]


def personal_data_sections(person: Person) -> list[dict]:
    """The other modules' sections, for the readable page (rows keep their datetimes)."""
    return _sections(person.organizer_id, [r.id for r in person_registrations(person)])


# --- erasure ----------------------------------------------------------------------------------------

ERASED_PERSON = {"name": "", "email": None, "email_key": None, "phone": "", "phone_key": None, "name_key": None,
                 "company": "", "job_title": "",  # country stays: a statistic, it names no one
                 "pinyin_key": None, "pinyin_key_turned": None, "company_key": None}  # the search keys (customer 360)
ERASED_REGISTRATION = {"name_as_given": "", "company_as_given": "", "job_title_as_given": "",
                       "phone_as_given": "", "answers": {}, "share_with_exhibitors": False}


def _erase_registrations(organizer_id: int, registration_ids: list[int], now: datetime) -> None:
    """Blank the registrations' personal fields; a new unguessable key (never shown) ends the signed link and
    a bumped badge serial revokes the badge. Then the modules above forget their part."""
    if not registration_ids:
        return
    db.session.execute(update(Registration).where(Registration.id.in_(registration_ids)).values(
        **ERASED_REGISTRATION, badge_serial=Registration.badge_serial + 1, erased_at=now),
        execution_options={"synchronize_session": False})
    table = Registration.__table__
    db.session.execute(table.update().where(table.c.id == bindparam("rid")).values(access_key=bindparam("new_key")),
                       [{"rid": rid, "new_key": secrets.token_urlsafe(32)} for rid in registration_ids])
    for hook in registry.hook("erase_personal_data"):
        hook(Scope(organizer_id), registration_ids)


def _erase_persons(organizer_id: int, person_ids: list[int], now: datetime) -> None:
    """Blank the persons (and the records merged into them: their emails found them) and drop their mail
    from the outbox (it holds their name, address and badge link)."""
    if not person_ids:
        return
    rows = select(Person.id).where(Person.organizer_id == organizer_id,
                                   (Person.id.in_(person_ids)) | (Person.merged_into_id.in_(person_ids)))
    ids = list(db.session.scalars(rows))
    emails = [e for e in db.session.scalars(select(Person.email).where(Person.id.in_(ids), Person.email.is_not(None)))]
    db.session.execute(update(Person).where(Person.id.in_(ids)).values(**ERASED_PERSON, erased_at=now),
                       execution_options={"synchronize_session": False})
    if emails:
        mails = select(MailMessage.id).where(MailMessage.organizer_id == organizer_id,
                                             MailMessage.recipient.in_(emails))
        db.session.execute(delete(MailAttachment).where(MailAttachment.message_id.in_(mails)))
        db.session.execute(delete(MailMessage).where(MailMessage.id.in_(mails)))


def erase_person(person: Person, *, by: str, actor_id: int | None = None) -> list[int]:
    """Erase a visitor at their request or by staff: the person, every registration of theirs at this
    organizer, the leads' notes about them; counts stay. Audited without the erased values. Returns the
    registration ids."""
    if by not in ERASURE_BY:
        raise ValueError(by)
    if person.merged_into_id is not None:
        person = db.session.get(Person, person.merged_into_id)
    registration_ids = list(db.session.scalars(select(Registration.id).where(Registration.person_id == person.id)
                                               .order_by(Registration.id)))
    now = utcnow()
    _erase_registrations(person.organizer_id, registration_ids, now)
    _erase_persons(person.organizer_id, [person.id], now)
    audit("person.erased", organizer_id=person.organizer_id, user_id=actor_id, object_type="persons",
          object_id=person.id, details={"registration_ids": registration_ids, "by": by})
    db.session.flush()
    db.session.expire_all()  # the bulk updates bypassed the loaded rows
    return registration_ids


# --- retention --------------------------------------------------------------------------------------

def due_editions(today: date | None = None) -> list[Edition]:
    """Editions (of every organizer) whose retention period is over and whose data is not shredded yet."""
    today = today or utcnow().date()
    candidates = db.session.scalars(select(Edition).where(Edition.retention_months.is_not(None),
                                                          Edition.shredded_at.is_(None)).order_by(Edition.id))
    return [edition for edition in candidates if shred_on(edition) <= today]


@dataclass
class Shredded:
    edition_id: int
    registrations: int  # registrations whose personal fields were shredded
    persons: int  # persons erased altogether (no edition left that keeps their data)


def shred_edition(edition: Edition, *, actor_id: int | None = None) -> Shredded:
    """Shred an edition's personal data. Its registrations lose their personal fields; a person is erased
    altogether unless they also registered for an edition whose data is kept (then only this edition's
    registration-level details go, and the person stays for that edition). Audited once, with counts."""
    now = utcnow()
    registrations = list(db.session.execute(select(Registration.id, Registration.person_id)
                                            .where(Registration.edition_id == edition.id,
                                                   Registration.erased_at.is_(None))).all())
    person_ids = sorted({row.person_id for row in registrations})
    other, other_edition = aliased(Registration), aliased(Edition)
    kept = set()
    for chunk in _chunks(person_ids):
        kept |= set(db.session.scalars(
            select(other.person_id).join(other_edition, other_edition.id == other.edition_id)
            .where(other.person_id.in_(chunk), other.edition_id != edition.id, other_edition.shredded_at.is_(None))
            .distinct()))
    gone = [pid for pid in person_ids if pid not in kept]
    registration_ids = [row.id for row in registrations]
    for chunk in _chunks(registration_ids):
        _erase_registrations(edition.organizer_id, chunk, now)
    for chunk in _chunks(gone):
        _erase_persons(edition.organizer_id, chunk, now)
    edition.shredded_at = now
    db.session.flush()
    db.session.expire_all()  # the bulk updates bypassed the loaded rows
    audit("edition.shredded", organizer_id=edition.organizer_id, user_id=actor_id, obj=edition,
          details={"registrations": len(registration_ids), "persons": len(gone)})
    return Shredded(edition.id, len(registration_ids), len(gone))


def _chunks(ids: list[int], size: int = 500):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def still_due(edition_id: int, today: date | None = None) -> Edition | None:
    """The edition, locked for this transaction where the database can (a second beat run skips it), if it
    is still due: another run may have shredded it meanwhile."""
    edition = db.session.scalar(select(Edition).where(Edition.id == edition_id, Edition.shredded_at.is_(None))
                                .with_for_update(skip_locked=True))
    if edition is None or edition.retention_months is None or shred_on(edition) > (today or utcnow().date()):
        return None
    return edition

