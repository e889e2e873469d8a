"""The organizer's registrations list: filters, sorting, pages and the export of what is filtered.

Everything the list shows is decided by ``RegistrationFilters``, read from the query string, so the URL
is the bookmark and the export exports exactly the rows the list shows. Whether a visitor has checked in
is the on-site module's knowledge (a higher floor): it answers through the hook
``checked_in_registrations(edition_id) -> select of registration ids``; without it the filter is absent."""
from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from ..core.paging import PAGE_SIZES, Page  # noqa: F401  (PAGE_SIZES: the list's choices)
from ..core.registry import registry
from ..core.scoping import Scope, scoped
from ..core.services import audit
from ..core.tabular import csv_text, write_xlsx
from ..core.templating import country_name
from ..extensions import db
from .models import REGISTRATION_SOURCE, REGISTRATION_STATUS, VISITOR_CATEGORY, Person, Registration
from .persons import phone_key
from . import questions

EXPORT_FORMATS = ("xlsx", "csv")
CHECKED_IN_HOOK = "checked_in_registrations"
_display_name = func.coalesce(func.nullif(Registration.name_as_given, ""), Person.name)
_display_company = func.coalesce(func.nullif(Registration.company_as_given, ""), Person.company)
SORTS = {"number": Registration.id, "name": _display_name, "company": _display_company,
         "category": Registration.category, "status": Registration.status, "source": Registration.source,
         "registered": Registration.created_at}
DEFAULT_SORT = "-registered"


@dataclass
class RegistrationFilters:
    q: str = ""
    category: list[str] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    checked_in: str = ""  # "yes", "no" or "" (either)
    sort: str = DEFAULT_SORT

    @classmethod
    def from_args(cls, args) -> RegistrationFilters:
        """From a MultiDict (the query string): unknown codes are dropped, never an error."""
        def codes(name, machine):
            return [value for value in dict.fromkeys(args.getlist(name)) if value in machine]

        sort = args.get("sort", DEFAULT_SORT)
        return cls(q=(args.get("q") or "").strip()[:100], category=codes("category", VISITOR_CATEGORY),
                   status=codes("status", REGISTRATION_STATUS), source=codes("source", REGISTRATION_SOURCE),
                   checked_in=args.get("checked_in") if args.get("checked_in") in ("yes", "no") else "",
                   sort=sort if sort.lstrip("-") in SORTS else DEFAULT_SORT)

    @property
    def active(self) -> bool:
        return bool(self.q or self.category or self.status or self.source or self.checked_in)

    def as_details(self) -> dict:
        """For the audit log: what an export was filtered by. The search text only as "a search was made":
        it is often a visitor's name or email, and the log keeps no contact data (erasure could not reach it)."""
        return {key: value for key, value in (("search", bool(self.q)), ("category", self.category),
                                              ("status", self.status), ("source", self.source),
                                              ("checked_in", self.checked_in)) if value}


def _checked_in_ids(edition_id: int):
    hooks = registry.hook(CHECKED_IN_HOOK)
    return hooks[0](edition_id) if hooks else None


def checked_in_available() -> bool:
    return bool(registry.hook(CHECKED_IN_HOOK))


def _conditions(edition, filters: RegistrationFilters) -> list:
    conditions = [Registration.edition_id == edition.id]
    if filters.category:
        conditions.append(Registration.category.in_(filters.category))
    if filters.status:
        conditions.append(Registration.status.in_(filters.status))
    if filters.source:
        conditions.append(Registration.source.in_(filters.source))
    if filters.checked_in:
        checked_in = _checked_in_ids(edition.id)
        if checked_in is not None:
            inside = Registration.id.in_(checked_in)
            conditions.append(inside if filters.checked_in == "yes" else ~inside)
    if filters.q:
        conditions.append(_search(filters.q))
    return conditions


def _search(text: str):
    """Name, company (as given or stored), email, a phone number in any writing, or a registration number."""
    like = f"%{text.lower()}%"
    matches = [func.lower(Person.name).like(like), func.lower(Registration.name_as_given).like(like),
               func.lower(Person.company).like(like), func.lower(Registration.company_as_given).like(like),
               Person.email_key.like(like)]
    number = text.removeprefix("#")
    if number.isdigit() and len(number) < 10:
        matches.append(Registration.id == int(number))
    key = phone_key(text) if sum(ch.isdigit() for ch in text) >= 7 else None
    if key:
        matches.append(Person.phone_key == key)
    return or_(*matches)


def _filtered(scope: Scope, edition, filters: RegistrationFilters, *columns):
    return scoped(Registration, scope, *columns).join(Person, Person.id == Registration.person_id).where(
        *_conditions(edition, filters))


def _ordered(stmt, filters: RegistrationFilters):
    column = SORTS[filters.sort.lstrip("-")]
    descending = filters.sort.startswith("-")
    return stmt.order_by(column.desc() if descending else column.asc(),
                         Registration.id.desc() if descending else Registration.id.asc())


def registration_count(scope: Scope, edition, filters: RegistrationFilters | None = None) -> int:
    return db.session.scalar(_filtered(scope, edition, filters or RegistrationFilters(),
                                       func.count(Registration.id))) or 0


def registrations_page(scope: Scope, edition, filters: RegistrationFilters, *, page: int = 1,
                       per_page: int = PAGE_SIZES[0]) -> Page:
    """One page of the filtered list: a count and a page query (the person joined in, no query per row)."""
    per_page = per_page if per_page in PAGE_SIZES else PAGE_SIZES[0]
    total = registration_count(scope, edition, filters)
    page = min(max(page, 1), max(1, -(-total // per_page)))
    items = list(db.session.scalars(_ordered(_filtered(scope, edition, filters), filters)
                                    .options(joinedload(Registration.person))
                                    .limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total, page, per_page)


def checked_in_among(edition, registration_ids) -> set[int]:
    """Which of these registrations have checked in (empty when no module knows)."""
    checked_in = _checked_in_ids(edition.id)
    if checked_in is None or not registration_ids:
        return set()
    return set(db.session.scalars(select(Registration.id).where(Registration.id.in_(list(registration_ids)),
                                                                Registration.id.in_(checked_in))))


# --- export -------------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    _l("Number"), _l("Name"), _l("Email"), _l("Phone"), _l("Company"), _l("Job title"), _l("Country"),
    _l("Category"), _l("Status"), _l("Source"), _l("Interested in"), _l("Contact details shared with exhibitors"),
    _l("Registered"), _l("Reference"), _l("Person reference"),
)


def registrations_table(scope: Scope, edition, filters: RegistrationFilters) -> tuple[list[str], list[list]]:
    """The filtered list, every page of it, in the current language: translated headers, labels instead of
    codes, countries by name, times in the edition's zone."""
    zone = ZoneInfo(edition.timezone)
    stmt = _ordered(_filtered(scope, edition, filters), filters).options(joinedload(Registration.person),
                                                                          selectinload(Registration.interests))
    rows_in = list(db.session.scalars(stmt))
    with_checkins = checked_in_available()
    checked_in = checked_in_among(edition, [r.id for r in rows_in]) if with_checkins else set()
    header = [str(title) for title in EXPORT_COLUMNS] + ([str(_l("Checked in"))] if with_checkins else [])
    question_titles, question_values = questions.export_part(edition)  # the qualification answers
    header += question_titles
    yes, no = str(_l("Yes")), str(_l("No"))
    rows = []
    for r in rows_in:
        row = [r.id, r.visitor_name, r.person.email or "", r.visitor_phone, r.visitor_company, r.visitor_job_title,
               country_name(r.person.country), VISITOR_CATEGORY.label(r.category),
               REGISTRATION_STATUS.label(r.status), REGISTRATION_SOURCE.label(r.source),
               ", ".join(c.name for c in r.interests), yes if r.share_with_exhibitors else no,
               r.created_at.astimezone(zone), r.external_ref or "", r.person.external_ref or ""]
        if with_checkins:
            row.append(yes if r.id in checked_in else no)
        row.extend(question_values(r))
        rows.append(row)
    return header, rows


def export_registrations(scope: Scope, edition, filters: RegistrationFilters, fmt: str, *,
                         actor_id: int | None) -> bytes:
    """The filtered registrations as an XLSX or CSV file in the current language; the export is audited."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(fmt)
    header, rows = registrations_table(scope, edition, filters)
    audit("registrations.exported", organizer_id=scope.organizer_id, user_id=actor_id, object_type="editions",
          object_id=edition.id, details={"rows": len(rows), "format": fmt, "filters": filters.as_details()})
    if fmt == "xlsx":
        return write_xlsx(header, rows, str(_l("Registrations")))
    return csv_text(header, rows).encode("utf-8")
