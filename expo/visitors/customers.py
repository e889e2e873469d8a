"""Customer 360 for visitors: the person page (every edition, registrations, what the modules above add
through the hook ``person_panels``, the timeline), persons in the search box, and the people of a company
on the company page (the hook ``company_panels`` of the exhibitors module).

Higher modules add to the person page without being imported: ``person_panels(scope, person,
registrations, allowed) -> dict | None`` (``allowed(permission)``: what the viewer may open), a dict like the ``personal_data`` sections ({"key", "title", "icon",
"columns": [(key, label)], "rows": [dict], "empty"}). A cell may be a State (shown as a chip) or a
``Link(text, url)`` (or a dict with "text" and "url"). Lead panels carry counts and ratings, never an exhibitor's notes."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..core import activity
from ..core.models import Edition
from ..core.paging import Page
from ..core.registry import registry
from ..core.scoping import Scope, scoped
from ..core.search import Query, Result, ResultGroup, company_key, prefix_range, preload_timeline
from ..core.services import _audit_zone, normalize_email  # the organizer's zone, as the audit log shows times
from ..extensions import db
from . import VIEW_REGISTRATIONS
from .models import ERASED_NAME, Person, Registration
from .persons import alias_ids, phone_key

PANELS_HOOK = "person_panels"


@dataclass(frozen=True)
class Link:
    """A table cell that links somewhere (a panel row's exhibitor, a person)."""

    text: str
    url: str

    def __str__(self) -> str:
        return self.text


@dataclass
class PersonPage:
    person: Person
    aliases: list[Person]  # persons merged into this one
    registrations: list[Registration]  # newest edition first
    panels: list[dict] = field(default_factory=list)
    timeline: Page | None = None
    zone: str = "UTC"  # the organizer's zone, for what belongs to no edition


def person_in_scope(scope: Scope, person_id: int) -> Person | None:
    return db.session.scalar(scoped(Person, scope).where(Person.id == person_id))


def person_page(scope: Scope, person: Person, *, allowed=lambda permission: False, page: int = 1,
                per_page: int = 25) -> PersonPage:
    """Everything the person page shows: registrations of every edition (editions loaded with them), the
    panels of the modules above, and one page of the timeline — the merged persons' lines included."""
    aliases = list(db.session.scalars(scoped(Person, scope).where(Person.merged_into_id == person.id)
                                      .order_by(Person.id)))
    registrations = list(db.session.scalars(
        scoped(Registration, scope).where(Registration.person_id == person.id)
        .options(joinedload(Registration.edition)).join(Edition, Edition.id == Registration.edition_id)
        .order_by(Edition.starts_on.desc(), Registration.id.desc())))
    panels = [panel for hook in registry.hook(PANELS_HOOK)
              if (panel := hook(scope, person, registrations, allowed)) is not None]
    timeline = activity.timeline(scope, "person", [person.id] + [a.id for a in aliases], page=page,
                                 per_page=per_page)
    preload_timeline(timeline)
    return PersonPage(person, aliases, registrations, panels, timeline, _audit_zone(scope))


def display_name(person: Person) -> str:
    return person.name or str(ERASED_NAME)


# --- search (the core hook "search") ---------------------------------------------------------------

def search_persons(scope: Scope | None, query: Query | None, allowed, limit: int) -> ResultGroup | None:
    """Persons by name (Chinese or pinyin, with or without spaces, either order), email (any case), phone
    (any writing: compared as E.164) or company. Index range scans per organizer, LIMIT ``limit`` + 1.
    Merged persons are left out (their kept person is found by their keys too: a merge fills blanks)."""
    if not allowed(VIEW_REGISTRATIONS):
        return None
    group = ResultGroup("persons", _l("People"), "people", [])
    if query is None:
        return group
    matches = []
    if query.email:
        matches.append(Person.email_key == normalize_email(query.email))
    if query.phone_digits:
        key = phone_key(query.text)
        if key:
            matches.append(Person.phone_key == key)
    if query.key and not query.email:
        for column in (Person.pinyin_key, Person.pinyin_key_turned):
            by_name = prefix_range(column, query.key)
            if query.han:  # 张伟 finds 张伟, not every zhang wei (章伟): the characters must be in the name too
                by_name = by_name & Person.name.contains(query.text.replace(" ", ""), autoescape=True)
            matches.append(by_name)  # each alternative an index range of its own (SQLite: MULTI-INDEX OR)
        matches.append(prefix_range(Person.company_key, _company_prefix(query)))
    if not matches:
        return group
    rows = list(db.session.scalars(
        scoped(Person, scope).where(or_(*matches), Person.merged_into_id.is_(None), Person.erased_at.is_(None))
        .order_by(Person.name, Person.id).limit(limit + 1)))
    group.more = len(rows) > limit
    counts = dict(db.session.execute(
        select(Registration.person_id, func.count(Registration.id))
        .where(Registration.person_id.in_([p.id for p in rows[:limit]])).group_by(Registration.person_id)).all()) \
        if rows else {}
    for person in rows[:limit]:
        subtitle = " · ".join(part for part in (person.company, person.job_title) if part)
        group.results.append(Result(
            title=display_name(person), url=url_for("visitors.person", person_id=person.id), subtitle=subtitle,
            badges=[lazy_ngettext("%(num)s edition", "%(num)s editions", counts.get(person.id, 0))],
            matched=_matched(person, query)))
    return group


def _company_prefix(query: Query) -> str:
    """A company name typed in Chinese is compared as its characters, anything else as its key."""
    return (company_key(query.text) or query.key) if query.han else query.key


def _matched(person: Person, query: Query) -> str:
    if query.email and person.email_key == normalize_email(query.email):
        return str(_l("Email"))
    if query.phone_digits and person.phone_key and person.phone_key == phone_key(query.text):
        return str(_l("Phone"))
    if query.key and person.company_key and person.company_key.startswith(_company_prefix(query)) \
            and not (person.pinyin_key or "").startswith(query.key):
        return str(_l("Company"))
    return str(_l("Name"))


# --- the company page's people (the exhibitors hook "company_panels") ------------------------------

def company_people(scope: Scope, company, name_keys: list[str], allowed) -> dict | None:
    """Visitors whose company is this company (by the company name key, its merged names' keys too): name,
    job title, editions registered, the latest. Names only, for staff who may see registrations."""
    if not allowed(VIEW_REGISTRATIONS) or not name_keys:
        return None
    rows = db.session.execute(
        scoped(Person, scope, Person.id, Person.name, Person.job_title, func.count(Registration.id),
               func.max(Edition.starts_on))
        .join(Registration, Registration.person_id == Person.id).join(Edition, Edition.id == Registration.edition_id)
        .where(Person.company_key.in_(name_keys), Person.merged_into_id.is_(None))
        .group_by(Person.id, Person.name, Person.job_title)
        .order_by(func.max(Edition.starts_on).desc(), Person.name).limit(200)).all()
    return {"key": "people", "title": _l("People from this company who registered"), "icon": "people",
            "columns": [("name", _l("Name")), ("job_title", _l("Job title")), ("editions", _l("Editions")),
                        ("last", _l("Last edition"))],
            "rows": [{"name": Link(name or str(ERASED_NAME), url_for("visitors.person", person_id=pid)),
                      "job_title": job or "", "editions": count, "last": last} for pid, name, job, count, last in rows],
            "empty": _l("Nobody from this company has registered as a visitor.")}


__all__ = ["Link", "PersonPage", "alias_ids", "company_people", "person_in_scope", "person_page", "search_persons"]
