"""Who a call list calls: the selection of exhibitors or visitors by filters, and what the caller sees of a
customer beside the phone (contact, leads, meetings, last activities). Plain functions over the organizer's rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from ..core import activity
from ..core.models import Activity, Edition, User
from ..core.registry import registry
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, unstorable
from ..exhibitors.models import EXHIBITOR_STATUS, Exhibitor
from ..extensions import db
from ..leads.models import Lead
from ..visitors.models import VISITOR_CATEGORY, Registration
from .callback_models import CallList, CallTarget

MAX_NUMBER = Decimal(10_000_000)
AUTHORITIES = ("decides", "recommends", "none")
AUTHORITY_LABELS = {"decides": _l("Decides on purchases"), "recommends": _l("Recommends or specifies"),
                    "none": _l("Not involved in purchasing")}
AUTHORITY_KEYS = ("purchase_authority", "authority", "purchasing_role")
CHECKED_IN_HOOK = "checked_in_registrations"
MEETING_KINDS = ("meeting.accepted", "meeting.attended")

def _text(value, limit: int, field_name: str, label) -> str:
    text = (value or "").strip()
    if unstorable(text):
        raise ServiceError(_l("This text contains characters that cannot be stored."), field_name)
    if len(text) > limit:
        raise ServiceError(_l("%(what)s is too long (at most %(n)s characters).", what=label, n=limit), field_name)
    return text


def parse_number(text, field_name: str) -> Decimal | None:
    """A non-negative number from a form ("" → None); huge, negative or not-a-number input is an error."""
    text = (str(text) if text is not None else "").strip().replace(",", "")
    if not text:
        return None
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ServiceError(_l("Enter a number."), field_name) from None
    if not value.is_finite() or value < 0 or value > MAX_NUMBER:
        raise ServiceError(_l("Enter a number between 0 and %(max)s.", max=f"{MAX_NUMBER:,}"), field_name)
    return value


# --- selection ------------------------------------------------------------------------------------------

@dataclass
class Selection:
    """What a list is made from. Exhibitors: stages, hall, area ≥, hot leads received ≥. Visitors: categories,
    purchase authorities, checked in, hot leads given ≥. Empty fields do not filter."""
    stages: list[str] = field(default_factory=list)
    hall: str = ""
    min_area: Decimal | None = None
    min_hot_received: int | None = None
    categories: list[str] = field(default_factory=list)
    authorities: list[str] = field(default_factory=list)
    checked_in: bool = False
    min_hot_given: int | None = None

    def as_dict(self, audience: str) -> dict:
        if audience == "exhibitor":
            items = {"stages": self.stages, "hall": self.hall,
                     "min_area": str(self.min_area) if self.min_area is not None else None,
                     "min_hot_received": self.min_hot_received}
        else:
            items = {"categories": self.categories, "authorities": self.authorities,
                     "checked_in": self.checked_in or None, "min_hot_given": self.min_hot_given}
        return {k: v for k, v in items.items() if v not in (None, "", [], False)}

    def clean(self) -> Selection:
        self.stages = [s for s in dict.fromkeys(self.stages) if s in EXHIBITOR_STATUS]
        self.categories = [c for c in dict.fromkeys(self.categories) if c in VISITOR_CATEGORY]
        self.authorities = [a for a in dict.fromkeys(self.authorities) if a in AUTHORITIES]
        self.hall = _text(self.hall, 20, "hall", _l("Hall"))
        return self


def describe_filters(call_list: CallList) -> list[str]:
    """The selection a list was made from, in words."""
    f = call_list.filters or {}
    out = []
    if f.get("stages"):
        out.append(str(_l("Stage: %(v)s", v=", ".join(EXHIBITOR_STATUS.label(s) for s in f["stages"]))))
    if f.get("hall"):
        out.append(str(_l("Hall %(v)s", v=f["hall"])))
    if f.get("min_area"):
        out.append(str(_l("Area ≥ %(v)s m²", v=f["min_area"])))
    if f.get("min_hot_received") is not None:
        out.append(str(_l("Hot leads received ≥ %(v)s", v=f["min_hot_received"])))
    if f.get("categories"):
        out.append(str(_l("Category: %(v)s", v=", ".join(VISITOR_CATEGORY.label(c) for c in f["categories"]))))
    if f.get("authorities"):
        out.append(str(_l("Purchase authority: %(v)s",
                          v=", ".join(str(AUTHORITY_LABELS.get(a, a)) for a in f["authorities"]))))
    if f.get("checked_in"):
        out.append(str(_l("Checked in")))
    if f.get("min_hot_given") is not None:
        out.append(str(_l("Hot leads given ≥ %(v)s", v=f["min_hot_given"])))
    return out


def _hot_received(scope: Scope, edition_id: int) -> dict[int, int]:
    rows = db.session.execute(
        scoped(Lead, scope, Lead.exhibitor_id, func.count(Lead.id)).join(Exhibitor, Exhibitor.id == Lead.exhibitor_id)
        .where(Exhibitor.edition_id == edition_id, Lead.rating == "hot").group_by(Lead.exhibitor_id))
    return {exhibitor_id: int(n) for exhibitor_id, n in rows}


def _hot_given(scope: Scope, edition_id: int) -> dict[int, int]:
    rows = db.session.execute(
        scoped(Lead, scope, Lead.registration_id, func.count(Lead.id))
        .join(Registration, Registration.id == Lead.registration_id)
        .where(Registration.edition_id == edition_id, Lead.rating == "hot").group_by(Lead.registration_id))
    return {registration_id: int(n) for registration_id, n in rows}


def authority_of(answers: dict) -> str:
    for key in AUTHORITY_KEYS:
        raw = (answers or {}).get(key)
        value = raw.get("value") if isinstance(raw, dict) else raw
        if value:
            return str(value)
    return ""


def select_exhibitors(scope: Scope, edition: Edition, selection: Selection) -> list[Exhibitor]:
    stmt = scoped(Exhibitor, scope).options(joinedload(Exhibitor.company)).where(Exhibitor.edition_id == edition.id)
    if selection.stages:
        stmt = stmt.where(Exhibitor.status.in_(selection.stages))
    if selection.hall:
        stmt = stmt.where(func.lower(Exhibitor.hall) == selection.hall.lower())
    if selection.min_area is not None:
        stmt = stmt.where(Exhibitor.area_m2 >= selection.min_area)
    rows = list(db.session.scalars(stmt))
    if selection.min_hot_received:
        hot = _hot_received(scope, edition.id)
        rows = [e for e in rows if hot.get(e.id, 0) >= selection.min_hot_received]
    rows.sort(key=lambda e: (e.company.name.lower(), e.id))
    return rows


def select_registrations(scope: Scope, edition: Edition, selection: Selection) -> list[Registration]:
    stmt = scoped(Registration, scope).options(joinedload(Registration.person)).where(
        Registration.edition_id == edition.id, Registration.status != "cancelled", Registration.erased_at.is_(None))
    if selection.categories:
        stmt = stmt.where(Registration.category.in_(selection.categories))
    if selection.checked_in:
        hooks = registry.hook(CHECKED_IN_HOOK)
        if hooks:
            stmt = stmt.where(Registration.id.in_(hooks[0](edition.id)))
    rows = list(db.session.scalars(stmt))
    if selection.authorities:
        rows = [r for r in rows if authority_of(r.answers) in selection.authorities]
    if selection.min_hot_given:
        hot = _hot_given(scope, edition.id)
        rows = [r for r in rows if hot.get(r.id, 0) >= selection.min_hot_given]
    rows.sort(key=lambda r: (display_name(r).lower(), r.id))
    return rows


def display_name(registration: Registration) -> str:
    return registration.name_as_given or registration.person.name


# --- the customer beside the phone -------------------------------------------------------------------------

@dataclass
class Context:
    name: str
    phone: str
    contact: str  # the person to ask for
    contact_email: str
    detail: str  # booth / company and category
    leads: int
    hot_leads: int
    meetings: int
    recent: list  # activity.Entry, newest first


def context(target: CallTarget) -> Context:
    scope = Scope(target.organizer_id)
    edition_id = target.call_list.edition_id
    if target.exhibitor_id:
        exhibitor, company = target.exhibitor, target.company
        admins = db.session.scalars(select(User).where(User.exhibitor_id == exhibitor.id, User.active.is_(True))
                                    .order_by((User.role != "exhibitor_admin"), User.id).limit(1)).all()
        leads, hot = db.session.execute(scoped(Lead, scope, func.count(Lead.id), func.coalesce(
            func.sum(func.cast(Lead.rating == "hot", db.Integer)), 0)).where(Lead.exhibitor_id == exhibitor.id)).one()
        subject = ("company", company.id)
        booth = " ".join(p for p in (exhibitor.hall and str(_l("Hall %(v)s", v=exhibitor.hall)), exhibitor.stand) if p)
        name, phone = company.name, company.phone
        contact = admins[0].name if admins else ""
        email = admins[0].email if admins else company.email
        detail = " · ".join(p for p in (booth, EXHIBITOR_STATUS.label(exhibitor.status),
                                        f"{exhibitor.area_m2.normalize():f} m²" if exhibitor.area_m2 else "") if p)
    else:
        registration, person = target.registration, target.person
        leads, hot = db.session.execute(scoped(Lead, scope, func.count(Lead.id), func.coalesce(
            func.sum(func.cast(Lead.rating == "hot", db.Integer)), 0))
            .where(Lead.registration_id == registration.id)).one()
        subject = ("person", person.id)
        name = display_name(registration)
        phone = registration.phone_as_given or person.phone
        contact = name
        email = person.email or ""
        authority = authority_of(registration.answers)
        detail = " · ".join(p for p in (registration.company_as_given or person.company,
                                        registration.job_title_as_given or person.job_title,
                                        VISITOR_CATEGORY.label(registration.category),
                                        str(AUTHORITY_LABELS[authority]) if authority in AUTHORITY_LABELS else "")
                            if p)
    meetings = db.session.scalar(select(func.count(func.distinct(Activity.object_id))).where(
        Activity.organizer_id == scope.organizer_id, Activity.subject_type == subject[0],
        Activity.subject_id == subject[1], Activity.edition_id == edition_id,
        Activity.kind.in_(MEETING_KINDS))) or 0
    recent = activity.timeline(scope, subject[0], subject[1], per_page=5).items
    return Context(name, phone or "", contact or "", email or "", detail, int(leads), int(hot), int(meetings), recent)
