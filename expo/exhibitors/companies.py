"""Customer 360 for companies: the company page (every edition as exhibitor, what other modules add through
the hook ``company_panels``, the timeline), companies in the search box, the duplicates review and merge.

The company-name normaliser lives here for every caller (imports dedupe with it):
``normalize_company_name("深圳宏达家具有限公司") == normalize_company_name("深圳 宏达家具（有限公司）")``.
It is implemented in core.search (``company_key``) because the visitors module — on this module's floor,
which it may not import — keys persons' companies with it too.

Hook ``company_panels(scope, company, name_keys, allowed) -> dict | None``: a table like the person page's
panels (visitors.customers); ``name_keys``: the name keys of the company and of the companies merged into it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import aliased, joinedload

from ..core import activity
from ..core.db import take_write_lock
from ..core.models import Edition
from ..core.paging import Page
from ..core.registry import registry
from ..core.scoping import Scope, scoped
from ..core.search import Query, Result, ResultGroup, company_key, prefix_range, preload_timeline
from ..core.services import MAX_DB_INT, ServiceError, _audit_zone, audit  # _audit_zone: the organizer's zone
from ..extensions import db
from . import MANAGE_EXHIBITORS
from .models import PARTICIPATING_STATUSES, WITHDRAWN_STATUSES, Company, DistinctCompanies, Exhibitor
from .products import move_products

normalize_company_name = company_key  # the shared normaliser (see the module's docstring)
PANELS_HOOK = "company_panels"
MERGE_FIELDS = ("country", "website", "email", "phone", "description")


def company_in_scope(scope: Scope, company_id: int) -> Company | None:
    return db.session.scalar(scoped(Company, scope).where(Company.id == company_id))


@dataclass
class CompanyPage:
    company: Company
    aliases: list[Company]
    exhibitors: list[Exhibitor]  # every edition, newest first (the aliases' withdrawn bookings too)
    panels: list[dict] = field(default_factory=list)
    timeline: Page | None = None
    zone: str = "UTC"
    account: object = None  # accounts.Account: contacts, sales activities, contracts and payments (pipeline part)

    @property
    def area_total(self):
        return sum((e.area_m2 or 0) for e in self.exhibitors if e.status in PARTICIPATING_STATUSES)

    @property
    def revenue_total(self):
        return sum((e.price or 0) for e in self.exhibitors if e.status in PARTICIPATING_STATUSES)

    @property
    def editions_exhibited(self) -> int:
        return len({e.edition_id for e in self.exhibitors if e.status in PARTICIPATING_STATUSES})


def company_page(scope: Scope, company: Company, *, allowed=lambda permission: False, page: int = 1,
                 per_page: int = 25) -> CompanyPage:
    aliases = list(db.session.scalars(scoped(Company, scope).where(Company.merged_into_id == company.id)
                                      .order_by(Company.id)))
    ids = [company.id] + [a.id for a in aliases]
    exhibitors = list(db.session.scalars(
        scoped(Exhibitor, scope).where(Exhibitor.company_id.in_(ids)).join(Edition, Edition.id == Exhibitor.edition_id)
        .options(joinedload(Exhibitor.edition), joinedload(Exhibitor.company))
        .order_by(Edition.starts_on.desc(), Exhibitor.id.desc())))
    keys = sorted({c.name_key for c in [company, *aliases] if c.name_key})
    panels = [panel for hook in registry.hook(PANELS_HOOK)
              if (panel := hook(scope, company, keys, allowed)) is not None]
    timeline = activity.timeline(scope, "company", ids, page=page, per_page=per_page)
    preload_timeline(timeline)
    from .accounts import account  # the booth-sales account (pipeline part)

    return CompanyPage(company, aliases, exhibitors, panels, timeline, _audit_zone(scope),
                       account(scope, ids, [e.id for e in exhibitors]))


# --- search (the core hook "search") ---------------------------------------------------------------

def search_companies(scope: Scope | None, query: Query | None, allowed, limit: int) -> ResultGroup | None:
    """Companies by name: its key's beginning (any legal form, case, spacing; indexed), or any part of the
    name ("宏达" finds 深圳宏达家具有限公司); by the profile's email (any case)."""
    if not allowed(MANAGE_EXHIBITORS):
        return None
    group = ResultGroup("companies", _l("Companies"), "building", [])
    if query is None:
        return group
    matches = []
    key = (company_key(query.text) or query.key) if query.han else query.key
    if key and not query.email:
        matches.append(prefix_range(Company.name_key, key))
        if len(query.text) >= 2:
            matches.append(func.lower(Company.name).contains(query.text.lower(), autoescape=True))
    if query.email:
        matches.append(func.lower(Company.email) == query.email)
    if not matches:
        return group
    rows = list(db.session.scalars(scoped(Company, scope).where(or_(*matches), Company.merged_into_id.is_(None))
                                   .order_by(Company.name, Company.id).limit(limit + 1)))
    group.more = len(rows) > limit
    shown = rows[:limit]
    editions = dict(db.session.execute(
        select(Exhibitor.company_id, func.count(Exhibitor.id))
        .where(Exhibitor.company_id.in_([c.id for c in shown]), Exhibitor.status.in_(PARTICIPATING_STATUSES))
        .group_by(Exhibitor.company_id)).all()) if shown else {}
    for company in shown:
        group.results.append(Result(
            title=company.name, url=url_for("exhibitors.company", company_id=company.id),
            subtitle=" · ".join(p for p in (company.website, company.country) if p),
            badges=[lazy_ngettext("%(num)s edition", "%(num)s editions", editions.get(company.id, 0))], matched=str(_l("Name"))))
    return group


# --- duplicates review and merge ---------------------------------------------------------------------

@dataclass
class CompanyPair:
    company: Company
    other: Company
    exhibitors: list[Exhibitor]
    other_exhibitors: list[Exhibitor]

    @property
    def conflicts(self) -> list[tuple[Exhibitor, Exhibitor]]:
        """Editions both booked: a merge needs one of the two withdrawn (lost or cancelled) first."""
        theirs = {e.edition_id: e for e in self.other_exhibitors}
        return [(e, theirs[e.edition_id]) for e in self.exhibitors if e.edition_id in theirs]

    def blocking(self, keep: Company) -> list[tuple[Exhibitor, Exhibitor]]:
        """The conflicts that stop a merge into ``keep``: the other company's booking is not withdrawn."""
        return [(a, b) for a, b in self.conflicts
                if (b if keep.id == self.company.id else a).status not in WITHDRAWN_STATUSES]


def _pairs(organizer_id: int):
    first, second = aliased(Company), aliased(Company)
    dismissed = exists().where(DistinctCompanies.company_id == first.id, DistinctCompanies.other_company_id == second.id)
    return (select(first.id.label("a"), second.id.label("b"))
            .join(second, and_(second.organizer_id == first.organizer_id, second.name_key == first.name_key,
                               second.id > first.id))
            .where(first.organizer_id == organizer_id, first.name_key.is_not(None), first.merged_into_id.is_(None),
                   second.merged_into_id.is_(None), ~dismissed))


def possible_duplicates(scope: Scope, *, page: int = 1, per_page: int = 25) -> Page:
    """Companies whose names differ only in case, spacing, punctuation or legal form ("有限公司",
    "Co., Ltd."), in pairs, with their bookings. Three queries for a page."""
    pairs = _pairs(scope.organizer_id).subquery()
    total = db.session.scalar(select(func.count()).select_from(pairs)) or 0
    rows = db.session.execute(select(pairs.c.a, pairs.c.b).order_by(pairs.c.b.desc(), pairs.c.a.desc())
                              .limit(per_page).offset((page - 1) * per_page)).all()
    ids = {cid for row in rows for cid in row}
    companies = {c.id: c for c in db.session.scalars(select(Company).where(Company.id.in_(ids)))} if ids else {}
    booked: dict[int, list[Exhibitor]] = {}
    if ids:
        for exhibitor in db.session.scalars(select(Exhibitor).where(Exhibitor.company_id.in_(ids))
                                            .options(joinedload(Exhibitor.edition)).order_by(Exhibitor.id)):
            booked.setdefault(exhibitor.company_id, []).append(exhibitor)
    items = [CompanyPair(companies[a], companies[b], booked.get(a, []), booked.get(b, [])) for a, b in rows]
    return Page(items, total, page, per_page)


def duplicates_count(scope: Scope) -> int:
    return db.session.scalar(select(func.count()).select_from(_pairs(scope.organizer_id).subquery())) or 0


def merge_companies(scope: Scope, keep_id: int, merge_id: int, *, actor_id: int | None) -> Company:
    """Merge the company ``merge_id`` into ``keep_id``: its bookings (exhibitors, and with them their staff,
    leads, products) move to the kept company, blank profile fields are filled in, and the merged row stays
    as an alias (its name still finds the kept company; its timeline shows on the kept one).

    Both booked for one edition: refused unless the merged company's booking there is withdrawn (staff
    marked it lost or cancelled): that booking then stays with the merged company, as history, and the
    kept company's booking is the edition's. The audit entry names everything that moved, enough to undo
    the merge by hand."""
    if keep_id == merge_id or not all(1 <= i <= MAX_DB_INT for i in (keep_id, merge_id)):
        raise ServiceError(_l("No such pair of companies."))
    # Both rows locked until the commit (SQLite: the write lock first), read as they are now: of two staff
    # merging A into B and B into A at once, the second waits and then finds one of them merged already.
    take_write_lock(db.session)
    found = {c.id: c for c in db.session.scalars(
        scoped(Company, scope).where(Company.id.in_((keep_id, merge_id))).order_by(Company.id)
        .with_for_update().execution_options(populate_existing=True))}
    if len(found) != 2:
        raise ServiceError(_l("No such pair of companies."))
    keep, merge = found[keep_id], found[merge_id]
    if keep.merged_into_id is not None or merge.merged_into_id is not None:
        raise ServiceError(_l("One of them has already been merged."))
    mine = {e.edition_id: e for e in db.session.scalars(select(Exhibitor).where(Exhibitor.company_id == keep.id))}
    theirs = list(db.session.scalars(select(Exhibitor).where(Exhibitor.company_id == merge.id)
                                     .options(joinedload(Exhibitor.edition)).order_by(Exhibitor.id)))
    blocking = [e for e in theirs if e.edition_id in mine and e.status not in WITHDRAWN_STATUSES]
    if blocking:
        raise ServiceError(_l("Not merged: both companies are booked for %(editions)s. Mark the booking of the "
                              "company to merge lost or cancelled first (it then stays with it as history), or "
                              "keep the other company.", editions=", ".join(e.edition.name for e in blocking)))
    moved = [e.id for e in theirs if e.edition_id not in mine]
    left = [e.id for e in theirs if e.edition_id in mine]  # withdrawn bookings stay with the alias
    if moved:
        db.session.execute(update(Exhibitor).where(Exhibitor.id.in_(moved)).values(company_id=keep.id))
    products_moved = move_products(scope.organizer_id, merge.id, keep.id)
    filled = []
    for name in MERGE_FIELDS:
        if not getattr(keep, name) and getattr(merge, name):
            setattr(keep, name, getattr(merge, name))
            filled.append(name)
    aliases = list(db.session.scalars(select(Company.id).where(Company.merged_into_id == merge.id)))
    if aliases:
        db.session.execute(update(Company).where(Company.id.in_(aliases)).values(merged_into_id=keep.id))
    merge.merged_into_id = keep.id
    db.session.flush()
    db.session.expire_all()
    # Unmerge by hand: clear the alias's merged_into_id, move ``exhibitor_ids`` back to it, blank
    # ``filled_fields`` on the kept company, point ``alias_ids`` back. The merged row keeps all its own fields.
    audit("company.merged", organizer_id=scope.organizer_id, user_id=actor_id, object_type="companies",
          object_id=keep_id, details={"merged_company_id": merge_id, "merged_name": merge.name,
                                      "exhibitor_ids": moved, "left_exhibitor_ids": left, "filled_fields": filled,
                                      "alias_ids": aliases, "products_moved": products_moved})
    activity.record("company.merged", organizer_id=scope.organizer_id, subject_type="company", subject_id=keep_id,
                    user_id=actor_id, object_type="companies", object_id=merge_id,
                    details={"merged_company_id": merge_id, "merged_name": merge.name, "exhibitors": len(moved)})
    return db.session.get(Company, keep_id)


def mark_distinct(scope: Scope, company_id: int, other_id: int, *, actor_id: int | None) -> None:
    """Staff say the two look-alikes are two companies: the pair leaves the review list for good (audited)."""
    if company_id == other_id or not all(1 <= i <= MAX_DB_INT for i in (company_id, other_id)):
        raise ServiceError(_l("No such pair of companies."))
    found = sorted(db.session.scalars(scoped(Company, scope).where(Company.id.in_((company_id, other_id)))),
                   key=lambda c: c.id)
    if len(found) != 2:
        raise ServiceError(_l("No such pair of companies."))
    first, second = found
    if db.session.scalar(select(DistinctCompanies.id).where(DistinctCompanies.company_id == first.id,
                                                            DistinctCompanies.other_company_id == second.id)) is None:
        db.session.add(DistinctCompanies(organizer_id=scope.organizer_id, company_id=first.id,
                                         other_company_id=second.id, decided_by_id=actor_id))
        db.session.flush()
    audit("company.distinct", organizer_id=scope.organizer_id, user_id=actor_id, object_type="companies",
          object_id=first.id, details={"other_company_id": second.id})


def follow_merges(company: Company | None) -> Company | None:
    """The company a merged alias was merged into (aliases are kept one hop deep)."""
    if company is not None and company.merged_into_id is not None:
        return db.session.get(Company, company.merged_into_id) or company
    return company


__all__ = ["CompanyPage", "CompanyPair", "company_in_scope", "company_page", "duplicates_count", "follow_merges",
           "mark_distinct", "merge_companies", "normalize_company_name", "possible_duplicates", "search_companies"]
