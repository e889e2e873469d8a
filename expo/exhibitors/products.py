"""Products: a company's catalogue (it persists across editions, like the company), each product named and
described in English and/or Chinese and filed under the show's categories.

Exhibitor admins edit their own company's products in the portal; every function that changes a product
takes the exhibitor acting and refuses a product of another company as if it did not exist. Matchmaking
reads products through ``products_for_exhibitors`` (one query for any number of exhibitors) and notices
changes through ``companies_changed_since``; the public show page lists them (``public_catalogue``).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from ..core.db import utcnow
from ..core.models import Category, Edition
from ..core.scoping import Scope, scoped
from ..core.services import MAX_DB_INT, ServiceError, audit, unstorable
from ..extensions import db
from .models import PARTICIPATING_STATUSES, Company, Exhibitor, Product, product_categories

MAX_PRODUCTS = 200  # per company: a catalogue, not a warehouse
NAME_MAX = 200
DESCRIPTION_MAX = 5000
MAX_CATEGORIES = 20  # per product
FIELDS = ("name_en", "name_zh", "description_en", "description_zh")


@dataclass
class ProductData:
    name_en: str = ""
    name_zh: str = ""
    description_en: str = ""
    description_zh: str = ""
    category_ids: list = field(default_factory=list)


def _one_line(text) -> str:
    text = text if isinstance(text, str) else ""
    return " ".join("".join(" " if unicodedata.category(c).startswith("C") else c for c in text).split())


def _paragraphs(text) -> str:
    """Free text: line breaks kept, other control characters dropped, trailing spaces trimmed."""
    text = (text if isinstance(text, str) else "").replace("\r\n", "\n").replace("\r", "\n")
    text = "".join(c for c in text if c in "\n\t" or not unicodedata.category(c).startswith("C")
                   or unicodedata.category(c) == "Co")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _clean(data: ProductData) -> dict:
    raw = {key: getattr(data, key) if isinstance(getattr(data, key), str) else "" for key in FIELDS}
    for key, value in raw.items():  # refuse what cannot be stored before anything is cut or dropped
        if unstorable(value):
            raise ServiceError(_l("This text contains characters that cannot be stored."), key)
    values = {"name_en": _one_line(raw["name_en"]), "name_zh": _one_line(raw["name_zh"]),
              "description_en": _paragraphs(raw["description_en"]),
              "description_zh": _paragraphs(raw["description_zh"])}
    for key in ("name_en", "name_zh"):
        if len(values[key]) > NAME_MAX:
            raise ServiceError(_l("At most %(n)s characters.", n=NAME_MAX), key)
    for key in ("description_en", "description_zh"):
        if len(values[key]) > DESCRIPTION_MAX:
            raise ServiceError(_l("At most %(n)s characters.", n=DESCRIPTION_MAX), key)
    if not values["name_en"] and not values["name_zh"]:
        raise ServiceError(_l("Name the product in English, in Chinese or in both."), "name_en")
    return values


def _category_ids(values) -> list[int]:
    out = []
    for value in list(values or [])[:MAX_CATEGORIES * 5]:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if 0 < number <= MAX_DB_INT and number not in out:
            out.append(number)
    return out


def _categories(exhibitor: Exhibitor, ids) -> list[Category]:
    """The categories of the exhibitor's show with these ids; any other id is refused."""
    ids = _category_ids(ids)
    if len(ids) > MAX_CATEGORIES:
        raise ServiceError(_l("Choose at most %(n)s categories.", n=MAX_CATEGORIES), "category_ids")
    if not ids:
        return []
    show_id = db.session.scalar(select(Edition.show_id).where(Edition.id == exhibitor.edition_id))
    found = list(db.session.scalars(scoped(Category, Scope(exhibitor.organizer_id))
                                    .where(Category.show_id == show_id, Category.id.in_(ids))))
    if len(found) != len(ids):
        raise ServiceError(_l("Choose categories from the show's list."), "category_ids")
    return found


def _live(exhibitor: Exhibitor):
    """Products of the exhibitor's company that are not removed (scoped to the organizer)."""
    return scoped(Product, Scope(exhibitor.organizer_id)).where(Product.company_id == exhibitor.company_id,
                                                                Product.deleted_at.is_(None))


def company_products(exhibitor: Exhibitor) -> list[Product]:
    """The exhibitor's company's products (English name, else Chinese, then id)."""
    return list(db.session.scalars(_live(exhibitor).options(selectinload(Product.categories))
                                   .order_by(func.coalesce(func.nullif(Product.name_en, ""), Product.name_zh),
                                             Product.id)))


def get_product(exhibitor: Exhibitor, product_id) -> Product | None:
    """The product with this id if it belongs to the exhibitor's company; None otherwise (another company's
    product looks exactly like a missing one)."""
    number = product_id if isinstance(product_id, int) and not isinstance(product_id, bool) else None
    if isinstance(product_id, str) and product_id.isascii() and product_id.isdecimal() and len(product_id) <= 10:
        number = int(product_id)
    if number is None or not 0 < number <= MAX_DB_INT:
        return None
    return db.session.scalar(_live(exhibitor).where(Product.id == number))


def create_product(exhibitor: Exhibitor, data: ProductData, *, actor_id: int | None = None) -> Product:
    values = _clean(data)
    categories = _categories(exhibitor, data.category_ids)
    count = db.session.scalar(select(func.count()).select_from(_live(exhibitor).subquery())) or 0
    if count >= MAX_PRODUCTS:
        raise ServiceError(_l("A catalogue holds at most %(n)s products.", n=MAX_PRODUCTS))
    now = utcnow()
    product = Product(organizer_id=exhibitor.organizer_id, company_id=exhibitor.company_id, created_by_id=actor_id,
                      created_at=now, updated_at=now, categories=categories, **values)
    db.session.add(product)
    db.session.flush()
    audit("product.created", organizer_id=exhibitor.organizer_id, user_id=actor_id, obj=product,
          details={"name": product.name(), "company_id": exhibitor.company_id})
    return product


def _own(exhibitor: Exhibitor, product: Product) -> None:
    if product is None or product.organizer_id != exhibitor.organizer_id \
            or product.company_id != exhibitor.company_id or product.deleted_at is not None:
        raise ServiceError(_l("No such product."))


def update_product(exhibitor: Exhibitor, product: Product, data: ProductData, *,
                   actor_id: int | None = None) -> list[str]:
    """Apply the changes; the audit entry names the fields that changed. Returns them."""
    _own(exhibitor, product)
    values = _clean(data)
    categories = _categories(exhibitor, data.category_ids)
    changed = [key for key, value in values.items() if getattr(product, key) != value]
    for key in changed:
        setattr(product, key, values[key])
    if {c.id for c in product.categories} != {c.id for c in categories}:
        product.categories = categories
        changed.append("categories")
    if changed:
        product.updated_at = utcnow()
        audit("product.updated", organizer_id=exhibitor.organizer_id, user_id=actor_id, obj=product,
              details={"fields": changed})
    db.session.flush()
    return changed


def delete_product(exhibitor: Exhibitor, product: Product, *, actor_id: int | None = None) -> None:
    """Remove the product from the catalogue (kept as removed: matchmaking learns of it by ``updated_at``)."""
    _own(exhibitor, product)
    from .portal import discard_product_pictures  # portal reads products' text helpers: imported late

    discard_product_pictures(product)  # its pictures go with it (their files once the removal commits)
    product.deleted_at = product.updated_at = utcnow()
    audit("product.deleted", organizer_id=exhibitor.organizer_id, user_id=actor_id, obj=product,
          details={"name": product.name()})
    db.session.flush()


# --- for matchmaking and the digests -------------------------------------------------------------------

@dataclass(frozen=True)
class ProductText:
    """One product as matchmaking reads it."""

    id: int
    company_id: int
    name_en: str
    name_zh: str
    description_en: str
    description_zh: str
    category_ids: tuple[int, ...]

    @property
    def text(self) -> str:
        """Names and descriptions in both languages, one string (for text matching)."""
        return "\n".join(p for p in (self.name_en, self.name_zh, self.description_en, self.description_zh) if p)


def products_for_exhibitors(scope: Scope, exhibitor_ids) -> dict[int, list[ProductText]]:
    """The live products of each exhibitor's company with their text and category ids, in one query:
    {exhibitor_id: [ProductText, …]} (exhibitors without products are absent). Exhibitors outside the
    scope's organizer are ignored."""
    ids = sorted({int(i) for i in exhibitor_ids})
    if not ids:
        return {}
    rows = db.session.execute(
        select(Exhibitor.id, Product.id, Product.company_id, Product.name_en, Product.name_zh, Product.description_en,
               Product.description_zh, product_categories.c.category_id)
        .join(Product, Product.company_id == Exhibitor.company_id)
        .outerjoin(product_categories, product_categories.c.product_id == Product.id)
        .where(Exhibitor.organizer_id == scope.organizer_id, Product.organizer_id == scope.organizer_id,
               Product.deleted_at.is_(None), Exhibitor.id.in_(ids))
        .order_by(Exhibitor.id, Product.id, product_categories.c.category_id)).all()
    out: dict[int, list[ProductText]] = {}
    current: dict[tuple[int, int], list] = {}
    for exhibitor_id, product_id, company_id, name_en, name_zh, desc_en, desc_zh, category_id in rows:
        key = (exhibitor_id, product_id)
        if key not in current:
            current[key] = [product_id, company_id, name_en, name_zh, desc_en, desc_zh, []]
        if category_id is not None:
            current[key][6].append(category_id)
    for (exhibitor_id, _pid), (pid, cid, n_en, n_zh, d_en, d_zh, cats) in current.items():
        out.setdefault(exhibitor_id, []).append(ProductText(pid, cid, n_en, n_zh, d_en, d_zh, tuple(cats)))
    return out


def companies_changed_since(scope: Scope, since: datetime) -> list[int]:
    """Ids of companies whose catalogue changed (a product added, changed or removed) after ``since``."""
    return list(db.session.scalars(scoped(Product, scope, Product.company_id)
                                   .where(Product.updated_at > since).distinct().order_by(Product.company_id)))


def new_products(edition: Edition, since: datetime, category_ids=None) -> list[tuple[Exhibitor, Product]]:
    """Products added after ``since`` by the edition's participating exhibitors, optionally only those filed
    under one of ``category_ids`` (a digest's "new in your categories"); newest first."""
    stmt = (select(Exhibitor, Product).join(Product, Product.company_id == Exhibitor.company_id)
            .where(Exhibitor.organizer_id == edition.organizer_id, Exhibitor.edition_id == edition.id,
                   Exhibitor.status.in_(PARTICIPATING_STATUSES), Product.organizer_id == edition.organizer_id,
                   Product.deleted_at.is_(None), Product.created_at > since)
            .order_by(Product.created_at.desc(), Product.id.desc()))
    if category_ids is not None:
        stmt = stmt.where(Product.id.in_(select(product_categories.c.product_id)
                                         .where(product_categories.c.category_id.in_(list(category_ids) or [-1]))))
    return [(e, p) for e, p in db.session.execute(stmt.options(selectinload(Product.categories)))]


# --- the public show page --------------------------------------------------------------------------------

@dataclass
class CatalogueEntry:
    exhibitor: Exhibitor
    products: list


def public_catalogue(edition: Edition, *, search: str = "", category_id: int | None = None) -> list[CatalogueEntry]:
    """The edition's participating exhibitors (company name order) with their products, for visitors.
    ``search`` matches company and product names; ``category_id`` keeps exhibitors offering the category or
    with a product under it."""
    stmt = (select(Exhibitor).join(Company, Company.id == Exhibitor.company_id)
            .where(Exhibitor.organizer_id == edition.organizer_id, Exhibitor.edition_id == edition.id,
                   Exhibitor.status.in_(PARTICIPATING_STATUSES))
            .options(selectinload(Exhibitor.company), selectinload(Exhibitor.categories))
            .order_by(Company.name, Exhibitor.id))
    search = _one_line(search)[:100].lower()
    products_of_company = select(Product.company_id).where(Product.organizer_id == edition.organizer_id,
                                                           Product.deleted_at.is_(None))
    if search and not unstorable(search):
        like = f"%{search}%"
        from .portal_models import CompanyProfile

        stmt = stmt.where(func.lower(Company.name).like(like) | Exhibitor.company_id.in_(
            products_of_company.where(func.lower(Product.name_en).like(like) | Product.name_zh.like(like)))
            | Exhibitor.company_id.in_(select(CompanyProfile.company_id).where(  # the Chinese name (portal)
                CompanyProfile.organizer_id == edition.organizer_id, CompanyProfile.name_zh.like(like))))
    if category_id:
        from .models import exhibitor_categories

        stmt = stmt.where(Exhibitor.id.in_(select(exhibitor_categories.c.exhibitor_id)
                                           .where(exhibitor_categories.c.category_id == category_id))
                          | Exhibitor.company_id.in_(products_of_company.where(Product.id.in_(
                              select(product_categories.c.product_id)
                              .where(product_categories.c.category_id == category_id)))))
    exhibitors = list(db.session.scalars(stmt))
    by_company: dict[int, list[Product]] = {}
    if exhibitors:
        for product in db.session.scalars(
                select(Product).where(Product.organizer_id == edition.organizer_id, Product.deleted_at.is_(None),
                                      Product.company_id.in_([e.company_id for e in exhibitors]))
                .options(selectinload(Product.categories)).order_by(Product.id)):
            by_company.setdefault(product.company_id, []).append(product)
    return [CatalogueEntry(e, by_company.get(e.company_id, [])) for e in exhibitors]


def move_products(organizer_id: int, from_company_id: int, to_company_id: int) -> int:
    """A merged company's catalogue joins the kept company's (companies.merge_companies): the products move,
    marked changed for matchmaking. Returns how many moved."""
    from sqlalchemy import update

    moved = db.session.execute(
        update(Product).where(Product.organizer_id == organizer_id, Product.company_id == from_company_id)
        .values(company_id=to_company_id, updated_at=utcnow()).execution_options(synchronize_session=False))
    return moved.rowcount
