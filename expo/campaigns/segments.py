"""Segments: saved filter definitions (plain JSON on the campaign) evaluated into SQL.

A segment picks people through their registrations. The *source registrations* are those (not cancelled)
of the editions named by ``attended``: "previous" (the show's edition before the target), "show" (every
other edition of the target's show) or "editions" (the ids in ``edition_ids``). The visitor category,
interests (a category counts with all its sub-categories), checked in and exhibitor-invited filters apply
to those registrations; a person is in when one source registration passes all of them (AND). Country,
returning vs first-time (registered for two or more / exactly one of the show's other editions) and
registered or not for the target edition apply to the person. Nobody without an address, erased, merged
into another person or unsubscribed from the organizer's marketing mail is ever in a segment.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, or_, select, union

from ..core import services as core
from ..core.models import Category, Edition
from ..core.scoping import Scope, scoped
from ..extensions import db
from ..onsite import services as onsite
from ..visitors.models import VISITOR_CATEGORY, Person, Registration, registration_interests

ATTENDED = {"previous": _l("Last edition of the show"), "show": _l("Any other edition of the show"),
            "editions": _l("The editions chosen below")}
TRISTATE = ("", "yes", "no")
HISTORY = {"": _l("Either"), "returning": _l("Returning (two editions or more)"),
           "first_time": _l("First-time (one edition)")}
MAX_LIST = 200  # items in one filter list: more is a hand-made request, cut


@dataclass
class Segment:
    attended: str = "previous"
    edition_ids: list[int] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    interests: list[int] = field(default_factory=list)  # category ids (their sub-categories count too)
    countries: list[str] = field(default_factory=list)  # ISO codes, upper case
    checked_in: str = ""  # "yes", "no" or "" (either) — at the source edition
    history: str = ""  # "returning", "first_time" or "" (either)
    registered: str = ""  # for the target edition: "yes", "no" or "" (either)
    exhibitor_invited: bool = False  # the source registration came through an exhibitor's invitation

    @classmethod
    def from_dict(cls, data: dict | None) -> Segment:
        """From saved JSON or a form: unknown keys and values are dropped, never an error."""
        data = data if isinstance(data, dict) else {}

        def ints(name):
            out = []
            for value in (data.get(name) or [])[:MAX_LIST]:
                try:
                    number = int(value)
                except (TypeError, ValueError):
                    continue
                if 0 < number <= core.MAX_DB_INT and number not in out:
                    out.append(number)
            return out

        def texts(name):
            values = data.get(name) or []
            return [str(v) for v in values[:MAX_LIST]] if isinstance(values, (list, tuple)) else []

        countries = []
        for value in texts("countries"):
            for part in value.replace(",", " ").split():
                code = part.strip().upper()
                if len(code) == 2 and code.isalpha() and code.isascii() and code not in countries:
                    countries.append(code)
        return cls(
            attended=data.get("attended") if data.get("attended") in ATTENDED else "previous",
            edition_ids=ints("edition_ids"),
            categories=[c for c in dict.fromkeys(texts("categories")) if c in VISITOR_CATEGORY],
            interests=ints("interests"), countries=countries,
            checked_in=data.get("checked_in") if data.get("checked_in") in TRISTATE else "",
            history=data.get("history") if data.get("history") in HISTORY else "",
            registered=data.get("registered") if data.get("registered") in TRISTATE else "",
            exhibitor_invited=bool(data.get("exhibitor_invited")),
        )

    def as_dict(self) -> dict:
        return asdict(self)


def source_editions(target: Edition, segment: Segment) -> list[int]:
    """The ids of the editions whose registrations the segment starts from (never the target itself)."""
    scope = Scope(target.organizer_id)
    if segment.attended == "previous":
        previous = core.previous_edition(target)
        return [previous.id] if previous is not None else []
    stmt = scoped(Edition, scope, Edition.id).where(Edition.id != target.id)
    if segment.attended == "show":
        stmt = stmt.where(Edition.show_id == target.show_id)
    else:
        stmt = stmt.where(Edition.id.in_(segment.edition_ids or [-1]))
    return list(db.session.scalars(stmt))


def with_subcategories(show_id: int, organizer_id: int, ids: list[int]) -> list[int]:
    """The categories and all their descendants (the show's tree is small: walked in Python)."""
    rows = db.session.execute(scoped(Category, Scope(organizer_id), Category.id, Category.parent_id)
                              .where(Category.show_id == show_id)).all()
    children: dict[int | None, list[int]] = {}
    for cid, parent in rows:
        children.setdefault(parent, []).append(cid)
    known = {cid for cid, _parent in rows}
    found, todo = set(), [i for i in ids if i in known]
    while todo:
        cid = todo.pop()
        if cid not in found:
            found.add(cid)
            todo.extend(children.get(cid, ()))
    return sorted(found)


def person_ids(target: Edition, segment: Segment):
    """The segment as a SELECT of person ids (one row per person)."""
    organizer_id = target.organizer_id
    editions = source_editions(target, segment)
    source = [Registration.person_id == Person.id, Registration.organizer_id == organizer_id,
              Registration.edition_id.in_(editions or [-1]), Registration.status != "cancelled"]
    if segment.categories:
        source.append(Registration.category.in_(segment.categories))
    if segment.interests:
        wanted = with_subcategories(target.show_id, organizer_id, segment.interests) or [-1]
        source.append(Registration.id.in_(select(registration_interests.c.registration_id)
                                          .where(registration_interests.c.category_id.in_(wanted))))
    if segment.checked_in and editions:
        admitted = union(*[onsite.checked_in_registrations(e) for e in editions]).subquery()
        checked = Registration.id.in_(select(admitted.c[0]))
        source.append(checked if segment.checked_in == "yes" else ~checked)
    elif segment.checked_in == "yes":
        source.append(Registration.id == -1)
    if segment.exhibitor_invited:
        source.append(or_(Registration.source == "exhibitor_invitation",
                          Registration.invited_by_exhibitor_id.is_not(None)))
    stmt = (select(Person.id)
            .where(Person.organizer_id == organizer_id, Person.merged_into_id.is_(None), Person.erased_at.is_(None),
                   Person.email_key.is_not(None), Person.email_key != "",
                   Person.email_key.not_in(core.unsubscribed_keys(organizer_id)),
                   exists(select(Registration.id).where(*source))))
    if segment.countries:
        stmt = stmt.where(Person.country.in_(segment.countries))
    if segment.history:
        others = (select(func.count(func.distinct(Registration.edition_id)))
                  .join(Edition, Edition.id == Registration.edition_id)
                  .where(Registration.person_id == Person.id, Registration.status != "cancelled",
                         Edition.show_id == target.show_id, Edition.id != target.id)
                  .scalar_subquery())
        stmt = stmt.where(others >= 2 if segment.history == "returning" else others == 1)
    if segment.registered:
        here = exists(select(Registration.id).where(Registration.person_id == Person.id,
                                                    Registration.edition_id == target.id,
                                                    Registration.status != "cancelled"))
        stmt = stmt.where(here if segment.registered == "yes" else ~here)
    return stmt


def count(target: Edition, segment: Segment) -> int:
    return db.session.scalar(select(func.count()).select_from(person_ids(target, segment).subquery())) or 0


def describe(target: Edition, segment: Segment) -> list[str]:
    """The segment in words, one line per filter (the campaign page, the list)."""
    lines = [str(ATTENDED[segment.attended])]
    if segment.attended == "editions":
        names = db.session.scalars(scoped(Edition, Scope(target.organizer_id), Edition.name)
                                   .where(Edition.id.in_(segment.edition_ids or [-1])).order_by(Edition.starts_on))
        lines[0] = ", ".join(names) or str(_l("No edition chosen"))
    elif segment.attended == "previous":
        previous = core.previous_edition(target)
        lines[0] = f"{lines[0]}: {previous.name}" if previous else str(_l("No earlier edition of this show"))
    if segment.categories:
        lines.append(str(_l("Visitor category")) + ": "
                     + ", ".join(VISITOR_CATEGORY.label(c) for c in segment.categories))
    if segment.interests:
        names = db.session.scalars(scoped(Category, Scope(target.organizer_id), Category.name)
                                   .where(Category.id.in_(segment.interests)).order_by(Category.name))
        lines.append(str(_l("Interested in (with sub-categories)")) + ": " + ", ".join(names))
    if segment.countries:
        lines.append(str(_l("Country")) + ": " + ", ".join(segment.countries))
    if segment.checked_in:
        lines.append(str(_l("Checked in")) if segment.checked_in == "yes" else str(_l("Did not check in")))
    if segment.history:
        lines.append(str(HISTORY[segment.history]))
    if segment.registered == "yes":
        lines.append(str(_l("Registered for %(edition)s", edition=target.name)))
    elif segment.registered == "no":
        lines.append(str(_l("Not registered yet for %(edition)s", edition=target.name)))
    if segment.exhibitor_invited:
        lines.append(str(_l("Invited by an exhibitor")))
    return lines
