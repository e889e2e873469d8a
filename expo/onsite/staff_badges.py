"""Staff badges (issue 8): an exhibitor admin registers the booth staff for badges, within a quota by booth
size (services: no request state, every query scoped).

Each badge is a registration of category "exhibitor_staff" made through the visitors module's ``register``
(as the desk does: source "import", so no public-form rules apply; always a new person, never matched by email),
signed like every badge and printable as a PDF. The quota is the edition's rule (``StaffBadgeQuota``):
``base`` badges plus one per ``per_m2`` m² of the booth, capped at ``maximum`` — by default 2 + 1 per 9 m².
It holds under concurrency: the exhibitor's row is locked (PostgreSQL) or the write lock taken (SQLite)
before the badges are counted, so two admins adding the last place at once get one badge between them.
Removing a badge cancels its registration (the badge no longer admits) and frees its place.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..core.db import take_write_lock, utcnow
from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, unstorable
from ..exhibitors.models import PARTICIPATING_STATUSES, Company, Exhibitor
from ..extensions import db
from ..visitors import services as visitors
from ..visitors.models import Registration
from .staff_badge_models import DEFAULT_BASE, DEFAULT_PER_M2, StaffBadge, StaffBadgeQuota

CATEGORY = "exhibitor_staff"
NAME_MAX = 200
JOB_MAX = 200
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class QuotaRule:
    base: int = DEFAULT_BASE
    per_m2: Decimal | None = DEFAULT_PER_M2
    maximum: int | None = None

    def allowed(self, area_m2: Decimal | None) -> int:
        """Badges for a booth of this size: base + one per ``per_m2`` m² (whole steps), capped."""
        extra = 0
        if self.per_m2 and area_m2:
            extra = int((Decimal(area_m2) / Decimal(self.per_m2)).to_integral_value(rounding=ROUND_FLOOR))
        total = self.base + max(extra, 0)
        return min(total, self.maximum) if self.maximum is not None else total


def quota_rule(edition: Edition) -> QuotaRule:
    row = db.session.scalar(select(StaffBadgeQuota).where(StaffBadgeQuota.edition_id == edition.id,
                                                          StaffBadgeQuota.organizer_id == edition.organizer_id))
    return QuotaRule(row.base, row.per_m2, row.maximum) if row is not None else QuotaRule()


def _number(value, name: str, *, decimal: bool = False, required: bool = False):
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ServiceError(_l("This field is required."), name)
        return None
    text = str(value).strip()
    if len(text) > 12 or unstorable(text):
        raise ServiceError(_l("Give a smaller number."), name)
    try:
        number = Decimal(text) if decimal else int(text)
    except (InvalidOperation, ValueError):
        raise ServiceError(_l("Give a number."), name) from None
    if decimal and not number.is_finite():
        raise ServiceError(_l("Give a number."), name)
    return number


def set_quota(scope: Scope, edition: Edition, *, base, per_m2, maximum, actor_id: int | None = None) -> QuotaRule:
    """The organizer sets the edition's rule: base badges, one more per N m² (empty: none), a cap (empty: none)."""
    if edition.organizer_id != scope.organizer_id:
        raise ServiceError(_l("No such edition."))
    base = _number(base, "base", required=True)
    per_m2 = _number(per_m2, "per_m2", decimal=True)
    maximum = _number(maximum, "maximum")
    if not 0 <= base <= 1000:
        raise ServiceError(_l("Between 0 and 1000."), "base")
    if per_m2 is not None and not Decimal("0.5") <= per_m2 <= Decimal("100000"):
        raise ServiceError(_l("Between 0.5 and 100,000 m²."), "per_m2")
    if maximum is not None and not 0 <= maximum <= 10000:
        raise ServiceError(_l("Between 0 and 10,000."), "maximum")
    row = db.session.scalar(scoped(StaffBadgeQuota, scope).where(StaffBadgeQuota.edition_id == edition.id))
    if row is None:
        row = StaffBadgeQuota(organizer_id=scope.organizer_id, edition_id=edition.id)
        db.session.add(row)
    row.base, row.per_m2, row.maximum, row.updated_at = base, per_m2, maximum, utcnow()
    db.session.flush()
    audit("staff_badge.quota", organizer_id=scope.organizer_id, user_id=actor_id, obj=row,
          details={"base": base, "per_m2": str(per_m2) if per_m2 is not None else None, "maximum": maximum})
    return QuotaRule(base, per_m2, maximum)


# --- an exhibitor's badges -----------------------------------------------------------------------------------

def active_badges(exhibitor: Exhibitor) -> list[StaffBadge]:
    return list(db.session.scalars(
        scoped(StaffBadge, Scope(exhibitor.organizer_id, exhibitor.id)).join(Registration)
        .where(StaffBadge.exhibitor_id == exhibitor.id, StaffBadge.removed_at.is_(None))
        .order_by(StaffBadge.created_at, StaffBadge.id)))


def used(exhibitor_id: int, organizer_id: int) -> int:
    return db.session.scalar(select(func.count(StaffBadge.id)).where(
        StaffBadge.organizer_id == organizer_id, StaffBadge.exhibitor_id == exhibitor_id,
        StaffBadge.removed_at.is_(None))) or 0


@dataclass
class Quota:
    allowed: int
    used: int
    rule: QuotaRule

    @property
    def left(self) -> int:
        return max(self.allowed - self.used, 0)


def quota_of(exhibitor: Exhibitor) -> Quota:
    rule = quota_rule(exhibitor.edition)
    return Quota(rule.allowed(exhibitor.area_m2), used(exhibitor.id, exhibitor.organizer_id), rule)


@dataclass
class StaffMember:
    name: str
    job_title: str = ""
    email: str = ""
    locale: str = "en"


def _line(text, name: str, limit: int) -> str:
    text = text if isinstance(text, str) else ""
    if unstorable(text):
        raise ServiceError(_l("This text contains characters that cannot be stored."), name)
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    if len(text) > limit:
        raise ServiceError(_l("At most %(max)s characters.", max=limit), name)
    return text


def add_staff_badge(exhibitor: Exhibitor, member: StaffMember, *, actor_id: int | None = None,
                    public_url: str | None = None) -> StaffBadge:
    """Register one booth staff member for a badge, within the quota (the caller commits)."""
    name = _line(member.name, "name", NAME_MAX)
    job_title = _line(member.job_title, "job_title", JOB_MAX)
    email = _line(member.email, "email", 254)
    if not name:
        raise ServiceError(_l("Give the person's name."), "name")
    if email and not _EMAIL.fullmatch(email):
        raise ServiceError(_l("This is not an email address."), "email")
    take_write_lock(db.session)
    # The exhibitor's row locked first: two admins adding the last place count one after the other.
    locked = db.session.scalar(select(Exhibitor).where(Exhibitor.id == exhibitor.id,
                                                       Exhibitor.organizer_id == exhibitor.organizer_id)
                               .with_for_update().execution_options(populate_existing=True))
    if locked is None:
        raise ServiceError(_l("No such exhibitor."))
    if locked.status not in PARTICIPATING_STATUSES:
        raise ServiceError(_l("Staff badges open once your booking is contracted."))
    edition = db.session.get(Edition, locked.edition_id)
    allowed = quota_rule(edition).allowed(locked.area_m2)
    if used(locked.id, locked.organizer_id) >= allowed:
        raise ServiceError(_l("Your quota of %(n)s staff badges is used up. Remove a badge, or ask the organizer.",
                              n=allowed), "name")
    company = db.session.get(Company, locked.company_id)
    try:
        # Always a person of its own, never matched by the address: an exhibitor typing a visitor's email would
        # otherwise learn whether they registered, and see their job title on the badge.
        registration = visitors.register(edition, visitors.RegistrationData(
            name=name, email="", category=CATEGORY, company=company.name, job_title=job_title, consent=True,
            source="import", locale=member.locale), actor_id=actor_id, send_confirmation=bool(email),
            public_url=public_url)
    except visitors.AlreadyRegistered:  # not with a new person; kept for safety
        raise ServiceError(_l("This email address is already registered for this show."), "email") from None
    if email:  # where the badge is mailed (after the commit); no email key: nobody is found by it
        registration.person.email = email
    badge = StaffBadge(organizer_id=locked.organizer_id, edition_id=locked.edition_id, exhibitor_id=locked.id,
                       registration_id=registration.id, created_by_id=actor_id)
    db.session.add(badge)
    db.session.flush()
    audit("staff_badge.added", organizer_id=locked.organizer_id, user_id=actor_id, obj=badge,
          details={"exhibitor_id": locked.id, "registration_id": registration.id})
    return badge


def get_badge(exhibitor: Exhibitor, badge_id: int) -> StaffBadge | None:
    return db.session.scalar(scoped(StaffBadge, Scope(exhibitor.organizer_id, exhibitor.id))
                             .where(StaffBadge.id == badge_id, StaffBadge.removed_at.is_(None)))


def remove_staff_badge(badge: StaffBadge, *, actor_id: int | None = None) -> None:
    """The badge no longer admits (its registration is cancelled) and its place in the quota is free."""
    take_write_lock(db.session)
    if badge.removed_at is not None:
        return
    badge.removed_at = utcnow()
    visitors.cancel_registration(badge.registration, actor_id=actor_id)
    db.session.flush()
    audit("staff_badge.removed", organizer_id=badge.organizer_id, user_id=actor_id, obj=badge,
          details={"exhibitor_id": badge.exhibitor_id, "registration_id": badge.registration_id})


def badges_pdf(badges: list[StaffBadge], edition: Edition) -> bytes:
    """The badges as one printable PDF, in the edition's layout for exhibitor staff."""
    layout = visitors.layouts_for(edition)[CATEGORY]
    faces = [visitors.face_for(b.registration, layout, None, edition.name) for b in badges]
    return visitors.badges_pdf(faces) if faces else b""


# --- the organizer's overview ------------------------------------------------------------------------------

@dataclass
class ExhibitorQuota:
    exhibitor: Exhibitor
    allowed: int
    used: int


def edition_overview(scope: Scope, edition: Edition) -> list[ExhibitorQuota]:
    rule = quota_rule(edition)
    counts = dict(db.session.execute(
        scoped(StaffBadge, scope, StaffBadge.exhibitor_id, func.count(StaffBadge.id))
        .where(StaffBadge.edition_id == edition.id, StaffBadge.removed_at.is_(None))
        .group_by(StaffBadge.exhibitor_id)).all())
    exhibitors = db.session.scalars(scoped(Exhibitor, scope).join(Company)
                                    .where(Exhibitor.edition_id == edition.id,
                                           Exhibitor.status.in_(PARTICIPATING_STATUSES))
                                    .order_by(Company.name, Exhibitor.id))
    return [ExhibitorQuota(e, rule.allowed(e.area_m2), counts.get(e.id, 0)) for e in exhibitors]
