"""Companies and exhibitors: adding an exhibitor to an edition, its profile and its staff."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from ..core import activity
from ..core.models import Edition, User
from ..core.paging import Page, paginate
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, create_user, move_status
from ..core.search import company_key
from ..extensions import db
from .models import EXHIBITOR_STATUS, EXHIBITOR_STATUSES, PARTICIPATING_STATUSES, Company, Exhibitor


def find_or_create_company(scope: Scope, name: str, **fields) -> Company:
    """Companies persist across editions: the same name (case-insensitive) is the same company."""
    name = name.strip()
    if not name:
        raise ServiceError(_l("A company needs a name."), "company_name")
    company = db.session.scalar(scoped(Company, scope).where(func.lower(Company.name) == name.lower())
                                .order_by(Company.merged_into_id.is_not(None), Company.id).limit(1))
    if company is not None and company.merged_into_id is not None:  # a merged company's name: the kept one
        company = db.session.get(Company, company.merged_into_id) or company
    if company is None:
        company = Company(organizer_id=scope.organizer_id, name=name, name_key=company_key(name), **fields)
        db.session.add(company)
        db.session.flush()
    return company


def add_exhibitor(scope: Scope, edition: Edition, company_name: str, *, hall: str = "", stand: str = "",
                  area_m2: Decimal | None = None, price: Decimal | None = None, status: str = "contracted",
                  country: str = "", actor_id: int | None = None) -> Exhibitor:
    if edition.organizer_id != scope.organizer_id:
        raise ServiceError(_l("No such edition."))
    if status not in EXHIBITOR_STATUSES:
        raise ServiceError(_l("Unknown status."), "status")
    company = find_or_create_company(scope, company_name, country=country.upper()[:2])
    if db.session.scalar(select(Exhibitor.id).where(Exhibitor.edition_id == edition.id,
                                                    Exhibitor.company_id == company.id)):
        raise ServiceError(_l("This company already exhibits at this edition."), "company_name")
    exhibitor = Exhibitor(organizer_id=scope.organizer_id, edition_id=edition.id, company=company,
                          hall=hall.strip(), stand=stand.strip(), area_m2=area_m2, price=price, status=status)
    db.session.add(exhibitor)
    db.session.flush()
    audit("exhibitor.created", organizer_id=scope.organizer_id, user_id=actor_id, obj=exhibitor,
          details={"company": company.name, "edition_id": edition.id})
    activity.record("exhibitor.created", organizer_id=scope.organizer_id, subject_type="company",
                    subject_id=company.id, edition_id=edition.id, user_id=actor_id, obj=exhibitor,
                    details={"edition": edition.name, "machine": "exhibitor_status", "to": status})
    from .assignment import assign_new  # the edition's assignment rules give a new prospect its sales rep

    assign_new(exhibitor, actor_id=actor_id)
    return exhibitor


def add_staff(exhibitor: Exhibitor, email: str, name: str, password: str, role: str, *,
              actor_id: int | None = None) -> User:
    if role not in ("exhibitor_admin", "booth_staff"):
        raise ServiceError(_l("Unknown role."), "role")
    return create_user(exhibitor.organizer_id, email, name, password, role, exhibitor_id=exhibitor.id,
                       actor_id=actor_id)


def staff(exhibitor: Exhibitor) -> list[User]:
    return list(db.session.scalars(scoped(User, Scope(exhibitor.organizer_id)).where(User.exhibitor_id == exhibitor.id)
                                   .order_by(User.name)))


PROFILE_FIELDS = ("name", "country", "website", "email", "phone", "description")


def update_company(company: Company, values: dict, *, actor_id: int) -> list[str]:
    """Apply profile changes; the audit entry names the fields that changed."""
    name = (values.get("name") or "").strip()
    if not name:
        raise ServiceError(_l("A company needs a name."), "name")
    # The same name is the same company (find_or_create_company): a rename may not take another's name.
    if db.session.scalar(scoped(Company, Scope(company.organizer_id), Company.id)
                         .where(func.lower(Company.name) == name.lower(), Company.id != company.id)):
        raise ServiceError(_l("Another company has this name already."), "name")
    changed = []
    for key in PROFILE_FIELDS:
        value = (values.get(key) or "").strip()
        if key == "country":
            value = value.upper()[:2]
        if getattr(company, key) != value:
            setattr(company, key, value)
            changed.append(key)
    company.name_key = company_key(company.name)
    if changed:
        audit("company.updated", organizer_id=company.organizer_id, user_id=actor_id, obj=company,
              details={"fields": changed})
    return changed


def exhibitors(scope: Scope, edition: Edition) -> list[Exhibitor]:
    return list(db.session.scalars(scoped(Exhibitor, scope).join(Company).where(Exhibitor.edition_id == edition.id)
                                   .order_by(Company.name)))


@dataclass
class ExhibitorList:
    """One page of an edition's exhibitors (filtered, sorted) and the edition's figures beside it."""

    page: Page
    total: int  # the edition's exhibitors, unfiltered
    by_status: dict[str, int]
    area_sold: Decimal  # m² of the exhibitors taking part

    @property
    def signed(self) -> int:
        return sum(self.by_status.get(s, 0) for s in PARTICIPATING_STATUSES)

    @property
    def in_pipeline(self) -> int:
        return sum(self.by_status.get(s, 0) for s in ("prospect", "contacted", "negotiating"))


EXHIBITOR_SORTS = {"company": (Company.name,), "booth": (Exhibitor.hall, Exhibitor.stand), "status": (Exhibitor.status,),
                   "area": (Exhibitor.area_m2,)}


def exhibitor_list(scope: Scope, edition: Edition, *, statuses=(), search: str = "", sort: str = "company",
                   page: int = 1, per_page: int = 25) -> ExhibitorList:
    base = scoped(Exhibitor, scope).join(Company).where(Exhibitor.edition_id == edition.id)
    stmt = base
    statuses = [s for s in statuses if s in EXHIBITOR_STATUS]
    if statuses:
        stmt = stmt.where(Exhibitor.status.in_(statuses))
    search = search.strip()[:100]
    if search:
        like = f"%{search.lower()}%"
        stmt = stmt.where(func.lower(Company.name).like(like) | func.lower(Exhibitor.hall + "-" + Exhibitor.stand).like(like))
    columns = EXHIBITOR_SORTS.get(sort.lstrip("-"), EXHIBITOR_SORTS["company"])
    order = [c.desc() if sort.startswith("-") else c.asc() for c in columns]
    page_ = paginate(stmt.options(contains_eager(Exhibitor.company)).order_by(*order, Exhibitor.id),
                     page=page, per_page=per_page)
    counts = dict(db.session.execute(scoped(Exhibitor, scope, Exhibitor.status, func.count(Exhibitor.id))
                                     .where(Exhibitor.edition_id == edition.id).group_by(Exhibitor.status)).all())
    area = db.session.scalar(scoped(Exhibitor, scope, func.coalesce(func.sum(Exhibitor.area_m2), 0))
                             .where(Exhibitor.edition_id == edition.id,
                                    Exhibitor.status.in_(PARTICIPATING_STATUSES)))
    return ExhibitorList(page_, sum(counts.values()), counts, Decimal(area or 0))


def set_status(exhibitor: Exhibitor, status: str, *, actor_id: int | None = None, reason: str = "") -> bool:
    """Move an exhibitor along the booth-sales pipeline (legal moves only, audited, on the company's timeline).
    A move to "lost" needs the reason the prospect was lost (kept on the exhibitor until it is revived).
    Returns False when the exhibitor is at that stage already."""
    source = exhibitor.status
    reason = " ".join((reason or "").replace("\x00", "").split())
    if status == "lost" and EXHIBITOR_STATUS.can_move(source, status):
        if not reason:
            raise ServiceError(_l("Say why this prospect was lost."), "reason")
        if len(reason) > 500:
            raise ServiceError(_l("The reason is too long (500 characters at most)."), "reason")
    if not move_status(exhibitor, EXHIBITOR_STATUS, status, actor_id=actor_id):
        return False
    details = {"edition": exhibitor.edition.name, "machine": "exhibitor_status", "from": source, "to": status}
    if status == "lost":
        exhibitor.lost_reason = reason
        details["reason"] = reason
    elif source == "lost":
        exhibitor.lost_reason = ""
    # A lost deal says why on the timeline (its own kind, declared by the pipeline part).
    activity.record("exhibitor.lost" if status == "lost" else "exhibitor.status", organizer_id=exhibitor.organizer_id,
                    subject_type="company", subject_id=exhibitor.company_id, edition_id=exhibitor.edition_id,
                    user_id=actor_id, obj=exhibitor, details=details)
    return True


# --- products: expo.exhibitors.products, re-exported for the floors above ---------------------------
from .products import (  # noqa: E402
    CatalogueEntry, ProductData, ProductText, companies_changed_since, company_products, create_product,
    delete_product, get_product, new_products, products_for_exhibitors, public_catalogue, update_product,
)
