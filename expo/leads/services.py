"""Leads: capture (called by the on-site scan path), rating and notes, the exhibitor's lists and exports."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from ..core import activity
from ..core.db import insert_unless_exists
from ..core.models import Edition
from ..core.paging import Page, paginate
from ..core.permissions import has_permission
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit
from ..core.tabular import csv_text, write_xlsx
from ..core.templating import country_name, state
from ..exhibitors.models import Company, Exhibitor
from ..extensions import db
from ..visitors.models import Registration
from ..visitors.services import visible_to_exhibitor
from . import VIEW_ALL_LEADS
from .models import LEAD_RATING, LEAD_RATINGS, Lead


def capture_lead(exhibitor, registration, user, scanned_at: datetime) -> tuple[int, str]:
    """One lead per (exhibitor, registration): a re-scan counts on the existing one. Returns (lead id, result).

    Core statements, no unit of work: this is the hot path of every booth scan."""
    existing = db.session.execute(select(Lead.id, Lead.last_scanned_at).where(
        Lead.exhibitor_id == exhibitor.id, Lead.registration_id == registration.id)).first()
    if existing is not None:
        db.session.execute(update(Lead).where(Lead.id == existing.id).values(
            scan_count=Lead.scan_count + 1, last_scanned_at=max(existing.last_scanned_at, scanned_at)))
        return existing.id, "duplicate"
    lead_id = insert_unless_exists(Lead, dict(
        organizer_id=exhibitor.organizer_id, exhibitor_id=exhibitor.id, registration_id=registration.id,
        captured_by_id=user.id, notes="", scan_count=1, first_scanned_at=scanned_at,
        last_scanned_at=scanned_at), ["exhibitor_id", "registration_id"], Lead.id)
    if lead_id is None:  # another device of the exhibitor captured this visitor a moment ago: a re-scan
        return capture_lead(exhibitor, registration, user, scanned_at)
    audit("lead.captured", organizer_id=exhibitor.organizer_id, user_id=user.id, object_type="leads",
          object_id=lead_id, details={"exhibitor_id": exhibitor.id, "registration_id": registration.id,
                                      "contact_shared": registration.share_with_exhibitors})
    # The visitor's timeline (read by organizer staff): which exhibitor, never the lead's notes or answers.
    # One plain INSERT; the scan API loads the exhibitor's company with the token (no query here).
    activity.record("lead.captured", organizer_id=exhibitor.organizer_id, subject_type="person",
                    subject_id=registration.person_id, edition_id=exhibitor.edition_id, user_id=user.id,
                    object_type="leads", object_id=lead_id,
                    details={"exhibitor": exhibitor.company.name, "exhibitor_id": exhibitor.id}, at=scanned_at)
    return lead_id, "ok"


def _visible_leads(user, *columns):
    """The leads this exhibitor user may see: all of the exhibitor's, or only their own captures."""
    stmt = scoped(Lead, Scope.of(user), *columns)
    if not has_permission(user, VIEW_ALL_LEADS):
        stmt = stmt.where(Lead.captured_by_id == user.id)
    return stmt


def leads_for(user, *, limit: int | None = None) -> list[Lead]:
    stmt = _visible_leads(user).options(joinedload(Lead.registration).joinedload(Registration.person)) \
        .order_by(Lead.last_scanned_at.desc())
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


@dataclass
class LeadList:
    page: Page  # items: (lead, what the exhibitor may see of the visitor)
    by_rating: dict[str, int]  # rating code, or "none" -> leads

    @property
    def total(self) -> int:
        return sum(self.by_rating.values())


def lead_list(user, *, rating: str = "", page: int = 1, per_page: int = 25) -> LeadList:
    """One page of the leads the user may see, newest scan first, optionally of one rating ("none": unrated)."""
    stmt = _visible_leads(user)
    if rating == "none":
        stmt = stmt.where(Lead.rating.is_(None))
    elif rating in LEAD_RATING:
        stmt = stmt.where(Lead.rating == rating)
    stmt = stmt.options(joinedload(Lead.registration).joinedload(Registration.person)) \
        .order_by(Lead.last_scanned_at.desc(), Lead.id.desc())
    page_ = paginate(stmt, page=page, per_page=per_page)
    page_.items = [(lead, lead_contact(lead)) for lead in page_.items]
    counts = db.session.execute(_visible_leads(user, Lead.rating, func.count(Lead.id)).group_by(Lead.rating)).all()
    return LeadList(page_, {rating or "none": n for rating, n in counts})


def lead_visible_to(user, lead: Lead) -> bool:
    return has_permission(user, VIEW_ALL_LEADS) or lead.captured_by_id == user.id


def update_lead(lead: Lead, *, rating: str | None, notes: str, actor_id: int) -> None:
    if rating not in (None, "", *LEAD_RATINGS):
        raise ServiceError(_l("Rating must be hot, warm or cold."), "rating")
    if (rating or None) != lead.rating and rating:
        # The visitor's timeline gets the exhibitor and the rating; the notes stay the exhibitor's.
        exhibitor = db.session.execute(select(Exhibitor.id, Exhibitor.edition_id, Company.name)
                                       .join(Company, Company.id == Exhibitor.company_id)
                                       .where(Exhibitor.id == lead.exhibitor_id)).one()
        activity.record("lead.rated", organizer_id=lead.organizer_id, subject_type="person",
                        subject_id=lead.registration.person_id, edition_id=exhibitor.edition_id, user_id=actor_id,
                        obj=lead, details={"exhibitor": exhibitor.name, "exhibitor_id": exhibitor.id,
                                           "machine": "lead_rating", "to": rating})
    lead.rating = rating or None
    lead.notes = notes.strip()
    audit("lead.updated", organizer_id=lead.organizer_id, user_id=actor_id, obj=lead,
          details={"rating": lead.rating})


CONTACT_FIELDS = ("name", "company", "job_title", "country", "email", "phone")


def lead_contact(lead: Lead) -> dict:
    """A lead's visitor fields, limited to what the visitor agreed to share with exhibitors."""
    seen = visible_to_exhibitor(lead.registration)
    return {**{key: seen.get(key) or "" for key in CONTACT_FIELDS}, "category": seen["category"]}


EXPORT_FORMATS = ("csv", "xlsx")
# The export's columns: (key, translated header). Keys are for code; people read the headers.
EXPORT_COLUMNS = (
    ("name", _l("Name")), ("company", _l("Company")), ("job_title", _l("Job title")), ("country", _l("Country")),
    ("email", _l("Email")), ("phone", _l("Phone")), ("category", _l("Category")), ("rating", _l("Rating")),
    ("notes", _l("Notes")), ("first_scanned", _l("First scanned")), ("last_scanned", _l("Last scanned")),
    ("scans", _l("Scans")), ("external_ref", _l("Reference")),
)


def leads_table(leads: list[Lead], zone: ZoneInfo) -> tuple[list[str], list[list]]:
    """The leads as a table in the current language: translated headers, category and rating as their
    labels, countries by name, times as datetimes in the edition's zone, the scan count as a number."""
    header = [str(title) for _key, title in EXPORT_COLUMNS]
    rows = []
    for lead in leads:
        contact = lead_contact(lead)
        rows.append([contact["name"], contact["company"], contact["job_title"], country_name(contact["country"]),
                     contact["email"], contact["phone"], str(state(contact["category"], "visitor_category")),
                     LEAD_RATING.label(lead.rating), lead.notes,
                     lead.first_scanned_at.astimezone(zone), lead.last_scanned_at.astimezone(zone), lead.scan_count,
                     lead.external_ref or ""])
    return header, rows


def export_leads(user, leads: list[Lead], zone: ZoneInfo, fmt: str) -> bytes:
    """The exhibitor's leads as a CSV or XLSX file (bytes), in the current language; audited."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(fmt)
    header, rows = leads_table(leads, zone)
    audit("leads.exported", organizer_id=user.organizer_id, user_id=user.id,
          details={"exhibitor_id": user.exhibitor_id, "rows": len(leads), "format": fmt})
    if fmt == "xlsx":
        return write_xlsx(header, rows, str(_l("Leads")))
    return csv_text(header, rows).encode("utf-8")


# --- the person page (hook ``person_panels`` of visitors.customers) --------------------------------------

def person_panel(scope: Scope, person, registrations: list, allowed) -> dict | None:
    """The exhibitors whose staff scanned the visitor's badge, for organizer staff: per lead the exhibitor,
    the edition, the rating and the number of scans — never the exhibitor's notes or answers."""
    from flask import url_for

    from ..exhibitors import MANAGE_EXHIBITORS

    ids = [r.id for r in registrations]
    rows = db.session.execute(
        scoped(Lead, scope, Lead.rating, Lead.scan_count, Lead.first_scanned_at, Exhibitor.company_id, Company.name,
               Exhibitor.hall, Exhibitor.stand, Registration.edition_id)
        .join(Exhibitor, Exhibitor.id == Lead.exhibitor_id).join(Company, Company.id == Exhibitor.company_id)
        .join(Registration, Registration.id == Lead.registration_id)
        .where(Lead.registration_id.in_(ids)).order_by(Lead.first_scanned_at.desc())).all() if ids else []
    editions = {r.edition_id: r.edition for r in registrations}
    link = allowed(MANAGE_EXHIBITORS)
    out = []
    for row in rows:
        name = row.name
        out.append({"exhibitor": {"text": name, "url": url_for("exhibitors.company", company_id=row.company_id)}
                    if link else name,
                    "booth": "-".join(p for p in (row.hall, row.stand) if p),
                    "edition": editions[row.edition_id].name if row.edition_id in editions else "",
                    "rating": LEAD_RATING.state(row.rating) if row.rating else None, "scans": row.scan_count,
                    "first": row.first_scanned_at})
    return {"key": "leads", "title": _l("Exhibitors who scanned the badge"), "icon": "person-vcard",
            "columns": [("exhibitor", _l("Exhibitor")), ("booth", _l("Booth")), ("edition", _l("Edition")),
                        ("rating", _l("Rating")), ("scans", _l("Scans")), ("first", _l("First scanned"))],
            "numeric": ("scans",), "rows": out,
            "note": _l("Counts and ratings only: what exhibitors write about a visitor stays theirs."),
            "empty": _l("No exhibitor has scanned this visitor's badge."),
            "kpi": {"value": len({r.company_id for r in rows}), "label": _l("Exhibitors visited"),
                    "icon": "shop"}}


def company_panel(scope: Scope, company, name_keys, allowed) -> dict | None:
    """The company page (hook ``company_panels`` of exhibitors): the leads its staff took, per edition —
    counts by rating only."""
    rows = db.session.execute(
        scoped(Lead, scope, Exhibitor.edition_id, Lead.rating, func.count(Lead.id))
        .join(Exhibitor, Exhibitor.id == Lead.exhibitor_id).where(Exhibitor.company_id == company.id)
        .group_by(Exhibitor.edition_id, Lead.rating)).all()
    per_edition: dict[int, dict] = {}
    for edition_id, rating, count in rows:
        entry = per_edition.setdefault(edition_id, {"total": 0, "hot": 0, "warm": 0, "cold": 0, "none": 0})
        entry["total"] += count
        entry[rating or "none"] += count
    editions = {e.id: e for e in db.session.scalars(scoped(Edition, scope).where(Edition.id.in_(list(per_edition))))} \
        if per_edition else {}
    ordered = sorted(per_edition.items(), key=lambda item: editions[item[0]].starts_on, reverse=True)
    return {"key": "leads", "title": _l("Leads its staff took"), "icon": "person-lines-fill",
            "columns": [("edition", _l("Edition")), ("total", _l("Leads")), ("hot", LEAD_RATING.label("hot")),
                        ("warm", LEAD_RATING.label("warm")), ("cold", LEAD_RATING.label("cold")),
                        ("none", _l("Not rated"))],
            "numeric": ("total", "hot", "warm", "cold", "none"),
            "rows": [{"edition": editions[eid].name, **counts} for eid, counts in ordered],
            "empty": _l("No leads taken yet."),
            "kpi": {"value": sum(c["total"] for c in per_edition.values()), "label": _l("Leads taken"),
                    "icon": "person-lines-fill"}}


# --- a visitor's personal data (hooks of visitors.privacy) -------------------------------------------

def visitor_leads(scope: Scope, registration_ids: list[int]) -> dict:
    """The hook ``personal_data``: which exhibitors captured the visitor at their booth, and whether they
    see the visitor's contact details now (they do while the visitor shares them)."""
    rows = db.session.execute(
        scoped(Lead, scope, Lead.registration_id, Company.name, Exhibitor.hall, Exhibitor.stand,
               Lead.first_scanned_at, Lead.last_scanned_at, Lead.scan_count, Registration.share_with_exhibitors)
        .join(Exhibitor, Exhibitor.id == Lead.exhibitor_id).join(Company, Company.id == Exhibitor.company_id)
        .join(Registration, Registration.id == Lead.registration_id)
        .where(Lead.registration_id.in_(registration_ids)).order_by(Lead.first_scanned_at)).all()
    return {"key": "leads", "title": _l("Exhibitors who scanned your badge"),
            "columns": [("registration_id", _l("Registration")), ("exhibitor", _l("Exhibitor")),
                        ("booth", _l("Booth")), ("first_scanned_at", _l("First scanned")),
                        ("last_scanned_at", _l("Last scanned")), ("scans", _l("Scans")),
                        ("has_contact_details", _l("Sees your contact details"))],
            "rows": [{"registration_id": r.registration_id, "exhibitor": r.name,
                      "booth": "-".join(p for p in (r.hall, r.stand) if p), "first_scanned_at": r.first_scanned_at,
                      "last_scanned_at": r.last_scanned_at, "scans": r.scan_count,
                      "has_contact_details": bool(r.share_with_exhibitors)} for r in rows]}


def forget_visitor(scope: Scope, registration_ids: list[int]) -> None:
    """The hook ``erase_personal_data``: an erased visitor's leads keep their rating and counts (the
    exhibitor's figures) but lose the notes written about them."""
    db.session.execute(update(Lead).where(Lead.organizer_id == scope.organizer_id,
                                          Lead.registration_id.in_(registration_ids)).values(notes=""),
                       execution_options={"synchronize_session": False})
