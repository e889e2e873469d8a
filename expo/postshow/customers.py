"""The customers part's services: the organizer's net-value weights and tier shares (read, validate, save), and
the filtered, sorted lists the customers pages page through. Plain functions: no Flask request state."""
from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit
from ..exhibitors.models import Company
from ..extensions import db
from ..visitors.models import Person
from . import lifecycle as lc
from .models_customers import CustomerValueSettings
from .values import (COMPANY_FEATURES, DEFAULT_COMPANY_WEIGHTS, DEFAULT_PERSON_WEIGHTS, PERSON_FEATURES,
                     CustomerValue)

MAX_WEIGHT = 100  # each weight is 0–100 (relative: only their proportions matter)


@dataclass(frozen=True)
class Settings:
    company_weights: dict
    person_weights: dict
    shares: tuple[float, float, float]  # VIP, important, general %; low is the rest
    saved: bool = False  # False: the documented defaults


DEFAULTS = Settings(dict(DEFAULT_COMPANY_WEIGHTS), dict(DEFAULT_PERSON_WEIGHTS), lc.DEFAULT_TIER_SHARES)


def load_settings(scope: Scope) -> Settings:
    row = db.session.scalar(scoped(CustomerValueSettings, scope))
    if row is None:
        return DEFAULTS
    company = {k: float((row.company_weights or {}).get(k, DEFAULT_COMPANY_WEIGHTS[k])) for k in COMPANY_FEATURES}
    person = {k: float((row.person_weights or {}).get(k, DEFAULT_PERSON_WEIGHTS[k])) for k in PERSON_FEATURES}
    return Settings(company, person, (float(row.vip_percent), float(row.important_percent),
                                      float(row.general_percent)), True)


def parse_number(text, field: str, *, low: float, high: float, positive: bool = False) -> float:
    """A number typed in a settings form, or a ServiceError that says what is wrong with it."""
    plain = str(text if text is not None else "").strip().replace(",", ".")
    if "\x00" in plain or len(plain) > 20:
        raise ServiceError(_l("Not a number."), field)
    if plain == "":
        raise ServiceError(_l("A number is needed here."), field)
    try:
        value = float(plain)
    except ValueError:
        raise ServiceError(_l("Not a number."), field) from None
    if not math.isfinite(value):
        raise ServiceError(_l("Not a number."), field)
    value = round(value, 2)  # as stored (2 decimals): 0.001 is 0, which a share that must be above 0 refuses
    if value < low or value > high or (positive and value <= 0):
        raise ServiceError(_l("Give a number from %(low)s to %(high)s.", low=f"{low:g}", high=f"{high:g}"), field)
    return value + 0.0  # -0.0 → 0.0


def parse_settings(form) -> Settings:
    """The settings form's fields (company_<feature>, person_<feature>, vip_percent, important_percent,
    general_percent) → Settings; every bad field is reported (ServiceError for the first one found)."""
    company = {k: parse_number(form.get(f"company_{k}"), f"company_{k}", low=0, high=MAX_WEIGHT)
               for k in COMPANY_FEATURES}
    person = {k: parse_number(form.get(f"person_{k}"), f"person_{k}", low=0, high=MAX_WEIGHT)
              for k in PERSON_FEATURES}
    if not any(v > 0 for k, v in company.items() if k != "service_cost"):
        raise ServiceError(_l("At least one company weight other than service cost must be above 0."),
                           "company_revenue")
    if not any(v > 0 for k, v in person.items() if k != "service_cost"):
        raise ServiceError(_l("At least one person weight other than service cost must be above 0."),
                           "person_years")
    vip = parse_number(form.get("vip_percent"), "vip_percent", low=0, high=100, positive=True)
    important = parse_number(form.get("important_percent"), "important_percent", low=0, high=100)
    general = parse_number(form.get("general_percent"), "general_percent", low=0, high=100)
    if vip + important + general > 100:
        raise ServiceError(_l("VIP, important and general together may not pass 100%."), "general_percent")
    return Settings(company, person, (vip, important, general), True)


def save_settings(scope: Scope, settings: Settings, *, user_id: int | None = None) -> CustomerValueSettings:
    """Store the organizer's weights and shares (audited); the caller commits."""
    row = db.session.scalar(scoped(CustomerValueSettings, scope))
    if row is None:
        row = CustomerValueSettings(organizer_id=scope.organizer_id)
        db.session.add(row)
    row.company_weights = dict(settings.company_weights)
    row.person_weights = dict(settings.person_weights)
    row.vip_percent, row.important_percent, row.general_percent = (Decimal(str(s)) for s in settings.shares)
    row.updated_by_id = user_id
    db.session.flush()
    audit("customer_values.weights", organizer_id=scope.organizer_id, user_id=user_id, obj=row,
          details={"company_weights": row.company_weights, "person_weights": row.person_weights,
                   "shares": list(settings.shares)})
    return row


def reset_settings(scope: Scope, *, user_id: int | None = None) -> None:
    row = db.session.scalar(scoped(CustomerValueSettings, scope))
    if row is not None:
        audit("customer_values.reset", organizer_id=scope.organizer_id, user_id=user_id, obj=row)
        db.session.delete(row)
        db.session.flush()


# --- lists ----------------------------------------------------------------------------------------------

SORTS = {
    "net_value": lambda v: -v.net_value,
    "rfm": lambda v: (-sum(v.rfm), -v.net_value),
    "recency": lambda v: (v.rfm_raw[0], -v.net_value),
    "frequency": lambda v: (-v.rfm_raw[1], -v.net_value),
    "monetary": lambda v: (-v.rfm_raw[2], -v.net_value),
    "stage": lambda v: (lc.STAGES.index(v.stage) if v.stage in lc.STAGES else 9, -v.net_value),
}


def filtered(values: dict[int, CustomerValue], *, stage: str = "", tier: str = "", sort: str = "net_value",
             ids: set[int] | None = None) -> list[CustomerValue]:
    rows = [v for v in values.values() if (not stage or v.stage == stage) and (not tier or v.tier == tier)
            and (ids is None or v.subject_id in ids)]
    key = SORTS.get(sort, SORTS["net_value"])
    return sorted(rows, key=lambda v: (key(v), v.subject_id))


def name_matches(scope: Scope, kind: str, text: str, limit: int = 5000) -> set[int]:
    """Ids of the companies / persons whose name contains the text (the list's search box)."""
    model = Company if kind == "company" else Person
    text = text.replace("\x00", "").strip()[:100]
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return set(db.session.scalars(scoped(model, scope, model.id).where(model.name.ilike(pattern, escape="\\"))
                                  .limit(limit)))


def names(scope: Scope, kind: str, ids) -> dict[int, object]:
    """The rows of one page (companies or persons) by id: one query."""
    ids = list(ids)
    if not ids:
        return {}
    model = Company if kind == "company" else Person
    return {row.id: row for row in db.session.scalars(scoped(model, scope).where(model.id.in_(ids)))}


__all__ = ["DEFAULTS", "Settings", "filtered", "load_settings", "name_matches", "names", "parse_settings",
           "reset_settings", "save_settings"]
