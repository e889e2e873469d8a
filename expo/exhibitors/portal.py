"""The exhibitor portal's profile: the company in both languages, its logo, product pictures.

The company's own ``name`` and ``description`` are its main (English) text; ``CompanyProfile`` adds the Chinese
name and description and the logo. The public show page picks the visitor's language and falls back to the
other one. Images go through ``images`` (Pillow): refused with a reason unless safe, stored re-drawn and resized.
Every function that changes something takes the exhibitor acting and refuses another company's rows as if they
did not exist; services flush, the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..core.db import utcnow
from ..core.scoping import Scope, scoped
from ..core.services import MAX_DB_INT, ServiceError, audit, unstorable
from ..extensions import db
from . import images, services
from .models import Company, CompanyProfile, Exhibitor, Product, ProductPicture
from .products import _one_line, _paragraphs

NAME_MAX = 200
DESCRIPTION_MAX = 5000
MAX_PICTURES = 8  # per product
ZH_FIELDS = ("name_zh", "description_zh")


# --- the profile in both languages -------------------------------------------------------------------

def profile_of(company: Company) -> CompanyProfile | None:
    return db.session.scalar(scoped(CompanyProfile, Scope(company.organizer_id))
                             .where(CompanyProfile.company_id == company.id))


def _profile_for_change(company: Company) -> CompanyProfile:
    profile = profile_of(company)
    if profile is None:
        profile = CompanyProfile(organizer_id=company.organizer_id, company_id=company.id, name_zh="",
                                 description_zh="", updated_at=utcnow())
        db.session.add(profile)
    return profile


def profile_values(company: Company) -> dict:
    """The profile's own fields for the form (empty when there is no profile yet)."""
    profile = profile_of(company)
    return {key: getattr(profile, key) if profile else "" for key in ZH_FIELDS}


def save_profile(exhibitor: Exhibitor, values: dict, *, actor_id: int | None = None) -> list[str]:
    """Save the company's profile (its fields and the Chinese name and description). Returns what changed."""
    company = exhibitor.company
    raw = {key: values.get(key) if isinstance(values.get(key), str) else "" for key in ZH_FIELDS}
    for key, value in raw.items():
        if unstorable(value):
            raise ServiceError(_l("This text contains characters that cannot be stored."), key)
    clean = {"name_zh": _one_line(raw["name_zh"]), "description_zh": _paragraphs(raw["description_zh"])}
    if len(clean["name_zh"]) > NAME_MAX:
        raise ServiceError(_l("At most %(n)s characters.", n=NAME_MAX), "name_zh")
    if len(clean["description_zh"]) > DESCRIPTION_MAX:
        raise ServiceError(_l("At most %(n)s characters.", n=DESCRIPTION_MAX), "description_zh")
    base = {key: value for key, value in values.items() if key not in ZH_FIELDS}
    if isinstance(base.get("description"), str):
        base["description"] = _paragraphs(base["description"])
    changed = services.update_company(company, base, actor_id=actor_id)
    profile = profile_of(company)
    mine = [key for key in ZH_FIELDS if (getattr(profile, key) if profile else "") != clean[key]]
    if mine:
        profile = _profile_for_change(company)
        for key in mine:
            setattr(profile, key, clean[key])
        profile.updated_at, profile.updated_by_id = utcnow(), actor_id
        db.session.flush()
        audit("company.updated", organizer_id=company.organizer_id, user_id=actor_id, obj=company,
              details={"fields": mine})
    db.session.flush()
    return changed + mine


# --- the logo -----------------------------------------------------------------------------------------

def set_logo(exhibitor: Exhibitor, data: bytes, filename: str, *, actor_id: int | None = None) -> CompanyProfile:
    """Make the upload the company's logo (refused with a reason unless a safe image); the old one's files
    go once the transaction commits."""
    image = images.clean_image(data, filename)
    stored = images.store(image, images.LOGO_SIZES, db.session)
    company = exhibitor.company
    profile = _profile_for_change(company)
    images.discard(profile.logo_key, db.session)
    profile.logo_key, profile.logo_width, profile.logo_height = stored.key, stored.width, stored.height
    profile.updated_at, profile.updated_by_id = utcnow(), actor_id
    db.session.flush()
    audit("company.logo", organizer_id=company.organizer_id, user_id=actor_id, obj=company,
          details={"width": stored.width, "height": stored.height})
    return profile


def remove_logo(exhibitor: Exhibitor, *, actor_id: int | None = None) -> bool:
    company = exhibitor.company
    profile = profile_of(company)
    if profile is None or profile.logo_key is None:
        return False
    images.discard(profile.logo_key, db.session)
    profile.logo_key = profile.logo_width = profile.logo_height = None
    profile.updated_at, profile.updated_by_id = utcnow(), actor_id
    db.session.flush()
    audit("company.logo_removed", organizer_id=company.organizer_id, user_id=actor_id, obj=company)
    return True


def logo_keys(organizer_id: int, company_ids) -> dict[int, str]:
    """{company_id: logo key} of the companies that have a logo, in one query."""
    ids = sorted({int(i) for i in company_ids})
    if not ids:
        return {}
    return dict(db.session.execute(
        select(CompanyProfile.company_id, CompanyProfile.logo_key)
        .where(CompanyProfile.organizer_id == organizer_id, CompanyProfile.company_id.in_(ids),
               CompanyProfile.logo_key.is_not(None))).all())


# --- product pictures ---------------------------------------------------------------------------------

def _own_product(exhibitor: Exhibitor, product: Product | None) -> Product:
    if product is None or product.organizer_id != exhibitor.organizer_id \
            or product.company_id != exhibitor.company_id or product.deleted_at is not None:
        raise ServiceError(_l("No such product."))
    return product


def pictures_of(product: Product) -> list[ProductPicture]:
    return list(db.session.scalars(scoped(ProductPicture, Scope(product.organizer_id))
                                   .where(ProductPicture.product_id == product.id)
                                   .order_by(ProductPicture.position, ProductPicture.id)))


def pictures_for_products(organizer_id: int, product_ids) -> dict[int, list[ProductPicture]]:
    """{product_id: its pictures in order} for any number of products, in one query."""
    ids = sorted({int(i) for i in product_ids})
    out: dict[int, list[ProductPicture]] = {}
    if not ids:
        return out
    for picture in db.session.scalars(scoped(ProductPicture, Scope(organizer_id))
                                      .where(ProductPicture.product_id.in_(ids))
                                      .order_by(ProductPicture.product_id, ProductPicture.position,
                                                ProductPicture.id)):
        out.setdefault(picture.product_id, []).append(picture)
    return out


def get_picture(exhibitor: Exhibitor, picture_id) -> ProductPicture | None:
    """The picture with this id if it shows a live product of the exhibitor's company; None otherwise."""
    number = picture_id if isinstance(picture_id, int) and not isinstance(picture_id, bool) else None
    if number is None or not 0 < number <= MAX_DB_INT:
        return None
    return db.session.scalar(
        scoped(ProductPicture, Scope(exhibitor.organizer_id)).join(Product, Product.id == ProductPicture.product_id)
        .where(ProductPicture.id == number, Product.company_id == exhibitor.company_id,
               Product.deleted_at.is_(None)))


def add_picture(exhibitor: Exhibitor, product: Product, data: bytes, filename: str, *,
                actor_id: int | None = None) -> ProductPicture:
    """Add a picture after the product's others (at most ``MAX_PICTURES``)."""
    _own_product(exhibitor, product)
    count, last = db.session.execute(
        select(func.count(), func.max(ProductPicture.position))
        .where(ProductPicture.organizer_id == exhibitor.organizer_id, ProductPicture.product_id == product.id)).one()
    if count >= MAX_PICTURES:
        raise ServiceError(_l("A product has at most %(n)s pictures: remove one first.", n=MAX_PICTURES), "file")
    image = images.clean_image(data, filename)
    stored = images.store(image, images.PICTURE_SIZES, db.session)
    picture = ProductPicture(organizer_id=exhibitor.organizer_id, product_id=product.id, key=stored.key,
                             position=(last + 1) if last is not None else 0, width=stored.width,
                             height=stored.height, created_by_id=actor_id, created_at=utcnow())
    db.session.add(picture)
    product.updated_at = utcnow()
    db.session.flush()
    audit("product.picture_added", organizer_id=exhibitor.organizer_id, user_id=actor_id, obj=product,
          details={"picture_id": picture.id})
    return picture


def remove_picture(exhibitor: Exhibitor, picture: ProductPicture | None, *, actor_id: int | None = None) -> None:
    if picture is None or get_picture(exhibitor, picture.id) is None:
        raise ServiceError(_l("No such picture."))
    product = db.session.get(Product, picture.product_id)
    images.discard(picture.key, db.session)
    db.session.delete(picture)
    product.updated_at = utcnow()
    db.session.flush()
    _renumber(product)
    audit("product.picture_removed", organizer_id=exhibitor.organizer_id, user_id=actor_id, obj=product,
          details={"picture_id": picture.id})


def move_picture(exhibitor: Exhibitor, picture: ProductPicture | None, direction: str, *,
                 actor_id: int | None = None) -> bool:
    """Move a picture one place earlier ("up") or later ("down"); the first picture is the one lists show.
    Returns False when it is already at that end."""
    if picture is None or get_picture(exhibitor, picture.id) is None:
        raise ServiceError(_l("No such picture."))
    if direction not in ("up", "down"):
        raise ServiceError(_l("Move a picture up or down."))
    product = db.session.get(Product, picture.product_id)
    order = pictures_of(product)
    index = next(i for i, p in enumerate(order) if p.id == picture.id)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(order):
        return False
    order[index], order[other] = order[other], order[index]
    for position, item in enumerate(order):
        item.position = position
    product.updated_at = utcnow()
    db.session.flush()
    audit("product.pictures_ordered", organizer_id=exhibitor.organizer_id, user_id=actor_id, obj=product,
          details={"picture_id": picture.id})
    return True


def _renumber(product: Product) -> None:
    for position, item in enumerate(pictures_of(product)):
        item.position = position
    db.session.flush()


def discard_product_pictures(product: Product) -> int:
    """A removed product's pictures go (rows now, files at commit). Returns how many."""
    pictures = pictures_of(product)
    for picture in pictures:
        images.discard(picture.key, db.session)
        db.session.delete(picture)
    db.session.flush()
    return len(pictures)


# --- the public show page -------------------------------------------------------------------------------

@dataclass
class PublicProfile:
    """A company as a visitor reads it, in the visitor's language (the other one when it is missing)."""

    name: str
    other_name: str
    description: str
    logo_key: str | None


def public_profiles(organizer_id: int, companies, language: str | None) -> dict[int, PublicProfile]:
    """{company_id: PublicProfile} of these companies, in one query."""
    companies = list(companies)
    ids = sorted({c.id for c in companies})
    profiles = {}
    if ids:
        profiles = {p.company_id: p for p in db.session.scalars(
            select(CompanyProfile).where(CompanyProfile.organizer_id == organizer_id,
                                         CompanyProfile.company_id.in_(ids)))}
    zh = (language or "").startswith("zh")
    out = {}
    for company in companies:
        profile = profiles.get(company.id)
        name_zh = profile.name_zh if profile else ""
        description_zh = profile.description_zh if profile else ""
        if zh:
            name = name_zh or company.name
            other = company.name if name_zh and name_zh != company.name else ""
            description = description_zh or company.description
        else:
            name, other = company.name, (name_zh if name_zh != company.name else "")
            description = company.description or description_zh
        out[company.id] = PublicProfile(name, other, description, profile.logo_key if profile else None)
    return out
