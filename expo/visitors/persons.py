"""Who a visitor is. Identity is the normalized email and nothing else: a phone number is shared by
colleagues (a company switchboard) and families, and a name by namesakes. People who may be one and the
same (same phone, or same name and company, under different emails) go to a staff review list; staff
merge them (every registration, lead and audit entry kept) or mark them as two people."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import phonenumbers
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, bindparam, exists, func, literal, select, union_all, update
from sqlalchemy.orm import aliased, selectinload

from ..core import activity
from ..core.models import Edition
from ..core.paging import Page
from ..core.scoping import Scope
from ..core.search import company_key, name_keys
from ..core.services import ServiceError, audit, normalize_email
from ..extensions import db
from .models import DistinctPersons, Person, Registration

DEFAULT_PHONE_REGION = "CN"  # mobile numbers written without +86 are Chinese unless the country says otherwise
DUPLICATE_REASONS = {"phone": _l("Same phone number"), "name_company": _l("Same name and company")}


def phone_key(phone: str | None, region: str | None = None) -> str | None:
    """The number in E.164 ("+8613912345678"), so that "13912345678" and "+86 139 1234 5678" are one number;
    None when the text is not a possible phone number. ``region``: ISO country for numbers without "+"."""
    if not phone or not phone.strip():
        return None
    try:
        number = phonenumbers.parse(phone, (region or DEFAULT_PHONE_REGION).upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _squeeze(text: str | None) -> str:
    return re.sub(r"\s+", "", (text or "").casefold())


def name_key(name: str | None, company: str | None) -> str | None:
    """Name and company without case or spaces ("王 伟" = "王伟"); None unless both are known."""
    name, company = _squeeze(name), _squeeze(company)
    return f"{name}|{company}"[:402] if name and company else None


def refresh_keys(person: Person) -> None:
    """The matching keys follow the person's fields: call after any change to them."""
    person.email_key = normalize_email(person.email) if person.email else None
    person.phone_key = phone_key(person.phone, person.country or None)
    person.name_key = name_key(person.name, person.company)
    person.pinyin_key, person.pinyin_key_turned = name_keys(person.name)
    person.company_key = company_key(person.company)


@cache
def _person_by_email_statement():
    """Built once (the public form's hot path: constructing a statement costs more than its cached compile)."""
    return select(Person).where(Person.organizer_id == bindparam("organizer_id"),
                                Person.email_key == bindparam("email_key"))


def find_person(organizer_id: int, email: str | None, phone: str | None = None) -> Person | None:
    """The person with this email (any case, surrounding spaces) in the organizer, following merges.
    ``phone`` is accepted for old callers and ignored: a phone number never decides who someone is."""
    email_key = normalize_email(email) if email else None
    if not email_key:
        return None
    person = db.session.scalar(_person_by_email_statement(), {"organizer_id": organizer_id, "email_key": email_key})
    for _hop in range(10):  # merges are kept flat; the bound only guards against a hand-edited loop
        if person is None or person.merged_into_id is None:
            break
        person = db.session.get(Person, person.merged_into_id)
    return person


# --- possible duplicates ------------------------------------------------------------------------------

@dataclass
class Conflict:
    """Both people of a pair are registered for one edition: a merge would give one person two."""
    edition: Edition
    registration: Registration
    other_registration: Registration


@dataclass
class DuplicatePair:
    person: Person
    other: Person
    reasons: list[str]
    registrations: list[Registration] = field(default_factory=list)
    other_registrations: list[Registration] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def reason_labels(self) -> list[str]:
        return [str(DUPLICATE_REASONS[r]) for r in self.reasons]



def _candidate_pairs(organizer_id: int):
    """(a, b) person ids, a < b, of one organizer, neither merged away, sharing a phone or a name and
    company, and not yet marked as two people. One indexed self-join per reason."""
    def pairs(key: str):
        first, second = aliased(Person), aliased(Person)
        return (select(first.id.label("a"), second.id.label("b"), literal(key).label("reason"))
                .join(second, and_(second.organizer_id == first.organizer_id,
                                   getattr(second, f"{key}_key") == getattr(first, f"{key}_key"),
                                   second.id > first.id))
                .where(first.organizer_id == organizer_id, getattr(first, f"{key}_key").is_not(None),
                       first.merged_into_id.is_(None), second.merged_into_id.is_(None)))

    both = union_all(pairs("phone"), pairs("name")).subquery()
    dismissed = exists().where(DistinctPersons.person_id == both.c.a, DistinctPersons.other_person_id == both.c.b)
    return select(both.c.a, both.c.b).where(~dismissed).group_by(both.c.a, both.c.b)


def possible_duplicates(scope: Scope, *, page: int = 1, per_page: int = 25) -> Page:
    """The pairs staff should look at, newest first: each with both people, their registrations, the
    reasons and the editions both are registered for. Three queries for a page, whatever its size."""
    pairs = _candidate_pairs(scope.organizer_id).subquery()
    total = db.session.scalar(select(func.count()).select_from(pairs))
    rows = db.session.execute(select(pairs.c.a, pairs.c.b).order_by(pairs.c.b.desc(), pairs.c.a.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    ids = {pid for row in rows for pid in row}
    persons = {p.id: p for p in db.session.scalars(select(Person).where(Person.id.in_(ids)))} if ids else {}
    by_person: dict[int, list[Registration]] = {}
    if ids:
        for registration in db.session.scalars(select(Registration).where(Registration.person_id.in_(ids))
                                               .options(selectinload(Registration.edition))
                                               .order_by(Registration.created_at)):
            by_person.setdefault(registration.person_id, []).append(registration)
    items = []
    for a, b in rows:
        person, other = persons[a], persons[b]
        reasons = [r for r, same in (("phone", person.phone_key and person.phone_key == other.phone_key),
                                     ("name_company", person.name_key and person.name_key == other.name_key))
                   if same]
        mine, theirs = by_person.get(a, []), by_person.get(b, [])
        items.append(DuplicatePair(person, other, reasons, mine, theirs, _conflicts(mine, theirs)))
    return Page(items, total or 0, page, per_page)


def _conflicts(mine: list[Registration], theirs: list[Registration]) -> list[Conflict]:
    other_by_edition = {r.edition_id: r for r in theirs}
    return [Conflict(r.edition, r, other_by_edition[r.edition_id]) for r in mine if r.edition_id in other_by_edition]


def _pair_in_scope(scope: Scope, person_id: int, other_id: int) -> tuple[Person, Person]:
    found = {p.id: p for p in db.session.scalars(select(Person).where(
        Person.organizer_id == scope.organizer_id, Person.id.in_((person_id, other_id))))}
    if person_id == other_id or len(found) != 2:
        raise ServiceError(_l("No such pair of visitors."))
    if any(p.merged_into_id is not None for p in found.values()):
        raise ServiceError(_l("One of them has already been merged."))
    return found[person_id], found[other_id]


def merge_persons(scope: Scope, keep_id: int, merge_id: int, *, actor_id: int | None) -> Person:
    """Merge the person ``merge_id`` into ``keep_id``: every registration (and with it every lead, scan and
    meeting) moves to the kept person, blank fields of the kept person are filled in, and the merged row
    stays as an alias, so its email still finds the kept person and the audit trail keeps its subject.
    Refused while both are registered for one edition (a person has one registration per edition)."""
    from ..core.db import take_write_lock
    from ..core.services import MAX_DB_INT

    if not all(1 <= i <= MAX_DB_INT for i in (keep_id, merge_id)):  # beyond any id column: the database refuses it
        raise ServiceError(_l("No such pair of visitors."))
    # Both rows locked until the commit (SQLite: the write lock first) and read as they are now: of two
    # staff merging A into B and B into A at once, the second waits, then finds one of them merged already.
    take_write_lock(db.session)
    db.session.execute(select(Person).where(Person.organizer_id == scope.organizer_id,
                                            Person.id.in_((keep_id, merge_id))).order_by(Person.id)
                       .with_for_update().execution_options(populate_existing=True)).all()
    keep, merge = _pair_in_scope(scope, keep_id, merge_id)
    registrations = list(db.session.scalars(select(Registration).where(Registration.person_id == merge.id)
                                            .order_by(Registration.id)))
    kept_editions = set(db.session.scalars(select(Registration.edition_id).where(Registration.person_id == keep.id)))
    conflicts = [r for r in registrations if r.edition_id in kept_editions]
    if conflicts:
        raise ServiceError(_l("Not merged: both registered for %(editions)s. A person has one registration per "
                              "edition; both registrations are kept as they are.",
                              editions=", ".join(r.edition.name for r in conflicts)))
    moved = [r.id for r in registrations]
    if moved:
        db.session.execute(update(Registration).where(Registration.id.in_(moved)).values(person_id=keep.id))
    filled = []
    for name in ("phone", "company", "job_title", "country"):  # never the name or email: those are the kept person's
        if not getattr(keep, name) and getattr(merge, name):
            setattr(keep, name, getattr(merge, name))
            filled.append(name)
    refresh_keys(keep)
    # earlier merges into the merged person now point at the kept one: aliases stay one hop deep
    aliases = list(db.session.scalars(select(Person.id).where(Person.merged_into_id == merge.id)))
    if aliases:
        db.session.execute(update(Person).where(Person.id.in_(aliases)).values(merged_into_id=keep.id))
    merge.merged_into_id = keep.id
    db.session.flush()
    db.session.expire_all()
    # Enough to undo it by hand: the merged person's row keeps every one of its own fields (it stays, as an
    # alias), and the entry names what moved — the registrations (with them their leads, scans, meetings),
    # the kept person's fields that were blank and were filled from the merged one, and earlier aliases.
    # Ids and field names only, never the values: the audit log is append-only, and an erasure must leave
    # nothing of them there.
    audit("person.merged", organizer_id=scope.organizer_id, user_id=actor_id, object_type="persons",
          object_id=keep_id, details={"merged_person_id": merge_id, "registration_ids": moved,
                                      "filled_fields": filled, "alias_ids": aliases})
    activity.record("person.merged", organizer_id=scope.organizer_id, subject_type="person", subject_id=keep_id,
                    user_id=actor_id, object_type="persons", object_id=merge_id,
                    details={"merged_person_id": merge_id, "registrations": len(moved)})
    return db.session.get(Person, keep_id)


def alias_ids(scope: Scope, person_id: int) -> list[int]:
    """The persons merged into this one (their timelines are this person's)."""
    return list(db.session.scalars(select(Person.id).where(Person.organizer_id == scope.organizer_id,
                                                           Person.merged_into_id == person_id)))


def mark_distinct(scope: Scope, person_id: int, other_id: int, *, actor_id: int | None) -> None:
    """Staff say the pair are two people: it leaves the review list for good."""
    first, second = sorted(_pair_in_scope(scope, person_id, other_id), key=lambda p: p.id)
    already = db.session.scalar(select(DistinctPersons.id).where(DistinctPersons.person_id == first.id,
                                                                 DistinctPersons.other_person_id == second.id))
    if already is None:
        db.session.add(DistinctPersons(organizer_id=scope.organizer_id, person_id=first.id,
                                       other_person_id=second.id, decided_by_id=actor_id))
        db.session.flush()
    audit("person.distinct", organizer_id=scope.organizer_id, user_id=actor_id, object_type="persons",
          object_id=first.id, details={"other_person_id": second.id})


def duplicates_count(scope: Scope) -> int:
    return db.session.scalar(select(func.count()).select_from(_candidate_pairs(scope.organizer_id).subquery())) or 0



PERSON_FIELDS = ("name", "email", "phone", "company", "job_title", "country")


def update_person(scope: Scope, person: Person, values: dict, *, actor_id: int | None) -> dict:
    """Staff correct a visitor's stored details (registrations never do). Returns the changes
    {field: [old, new]}; the audit log gets the names of the changed fields only (it is append-only, and
    an erasure must leave no name or address in it). An email that belongs to another visitor is refused:
    those two are one person only through a merge."""
    if person.organizer_id != scope.organizer_id:
        raise ServiceError(_l("No such visitor."))
    clean = {key: (values.get(key) or "").strip() for key in PERSON_FIELDS if key in values}
    if "name" in clean and not clean["name"]:
        raise ServiceError(_l("Please give a name."), "name")
    if "country" in clean:
        clean["country"] = clean["country"].upper()[:2]
    if "email" in clean:
        clean["email"] = clean["email"] or None
        key = normalize_email(clean["email"]) if clean["email"] else None
        if key and key != person.email_key and find_person(scope.organizer_id, key) is not None:
            raise ServiceError(_l("Another visitor has this email address. If they are the same person, merge "
                                  "them on the possible duplicates page."), "email")
    changes = {key: [getattr(person, key), value] for key, value in clean.items() if getattr(person, key) != value}
    for key, (_old, new) in changes.items():
        setattr(person, key, new)
    if changes:
        refresh_keys(person)
        db.session.flush()
        audit("person.updated", organizer_id=scope.organizer_id, user_id=actor_id, obj=person,
              details={"fields": sorted(changes)})
        activity.record("person.updated", organizer_id=scope.organizer_id, subject_type="person",
                        subject_id=person.id, user_id=actor_id, details={"fields": sorted(changes)})
    return changes
