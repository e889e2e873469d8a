"""Meetings seen from elsewhere: the panels of the person and company pages (organizer staff, customer 360) and
the visitor's personal data (download, erasure) — hooks declared in the module, called by the lower modules."""
from __future__ import annotations

from sqlalchemy import func, select, update

from flask_babel import lazy_gettext as _l

from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError
from ..exhibitors.models import Company, Exhibitor
from ..extensions import db
from ..visitors.models import Registration
from .meeting_models import MEETING_STATUS, OPEN, Meeting

COUNTED = ("requested", "accepted", "attended", "no_show", "declined", "cancelled")


def person_panel(scope: Scope, person, registrations: list, allowed) -> dict | None:
    """The hook ``person_panels``: the visitor's meetings, per edition, with whom, when and how it went."""
    from flask import url_for

    from ..exhibitors import MANAGE_EXHIBITORS

    ids = [r.id for r in registrations]
    rows = db.session.execute(
        scoped(Meeting, scope, Meeting.status, Meeting.starts_at, Meeting.requested_by, Meeting.edition_id,
               Exhibitor.company_id, Company.name)
        .join(Exhibitor, Exhibitor.id == Meeting.exhibitor_id).join(Company, Company.id == Exhibitor.company_id)
        .where(Meeting.registration_id.in_(ids)).order_by(Meeting.starts_at.desc())).all() if ids else []
    editions = {r.edition_id: r.edition for r in registrations}
    link = allowed(MANAGE_EXHIBITORS)
    return {"key": "meetings", "title": _l("Meetings with exhibitors"), "icon": "calendar-event",
            "columns": [("exhibitor", _l("Exhibitor")), ("edition", _l("Edition")), ("when", _l("When")),
                        ("status", _l("Status")), ("by", _l("Asked by"))],
            "rows": [{"exhibitor": {"text": r.name, "url": url_for("exhibitors.company", company_id=r.company_id)}
                      if link else r.name,
                      "edition": editions[r.edition_id].name if r.edition_id in editions else "",
                      "when": r.starts_at, "status": MEETING_STATUS.state(r.status),
                      "by": str(_l("Visitor") if r.requested_by == "visitor" else _l("Exhibitor"))} for r in rows],
            "empty": _l("No meetings with exhibitors."),
            "kpi": {"value": sum(1 for r in rows if r.status == "attended"), "label": _l("Meetings held"),
                    "icon": "people"}}


def company_panel(scope: Scope, company, name_keys, allowed) -> dict | None:
    """The hook ``company_panels``: the company's meetings per edition, counted by status."""
    rows = db.session.execute(
        scoped(Meeting, scope, Meeting.edition_id, Meeting.status, func.count(Meeting.id))
        .join(Exhibitor, Exhibitor.id == Meeting.exhibitor_id).where(Exhibitor.company_id == company.id)
        .group_by(Meeting.edition_id, Meeting.status)).all()
    per_edition: dict[int, dict] = {}
    for edition_id, status, count in rows:
        per_edition.setdefault(edition_id, dict.fromkeys(COUNTED, 0))[status] = count
    editions = {e.id: e for e in db.session.scalars(scoped(Edition, scope).where(Edition.id.in_(list(per_edition))))} \
        if per_edition else {}
    ordered = sorted(per_edition.items(), key=lambda item: editions[item[0]].starts_on, reverse=True)
    return {"key": "meetings", "title": _l("Meetings with visitors"), "icon": "calendar-event",
            "columns": [("edition", _l("Edition"))] + [(code, MEETING_STATUS.label(code)) for code in COUNTED],
            "numeric": COUNTED,
            "rows": [{"edition": editions[eid].name, **counts} for eid, counts in ordered],
            "empty": _l("No meetings yet."),
            "kpi": {"value": sum(c["attended"] for c in per_edition.values()), "label": _l("Meetings held"),
                    "icon": "people"}}
# --- a visitor's personal data (hooks of visitors.privacy) -------------------------------------------

def visitor_meetings(scope: Scope, registration_ids: list[int]) -> dict:
    """The hook ``personal_data``: the visitor's meetings (with whom, when, status, the messages)."""
    rows = db.session.execute(
        scoped(Meeting, scope, Meeting.registration_id, Company.name, Meeting.starts_at, Meeting.ends_at,
               Meeting.status, Meeting.requested_by, Meeting.message, Meeting.reason, Meeting.created_at)
        .join(Exhibitor, Exhibitor.id == Meeting.exhibitor_id).join(Company, Company.id == Exhibitor.company_id)
        .where(Meeting.registration_id.in_(registration_ids)).order_by(Meeting.created_at)).all() \
        if registration_ids else []
    return {"key": "meetings", "title": _l("Your meetings with exhibitors"),
            "columns": [("registration_id", _l("Registration")), ("exhibitor", _l("Exhibitor")),
                        ("starts_at", _l("Starts")), ("ends_at", _l("Ends")), ("status", _l("Status")),
                        ("requested_by", _l("Asked by")), ("message", _l("Message")), ("reason", _l("Reason")),
                        ("created_at", _l("Asked on"))],
            "rows": [{"registration_id": r.registration_id, "exhibitor": r.name, "starts_at": r.starts_at,
                      "ends_at": r.ends_at, "status": r.status, "requested_by": r.requested_by,
                      "message": r.message, "reason": r.reason, "created_at": r.created_at} for r in rows]}


def forget_visitor(scope: Scope, registration_ids: list[int]) -> None:
    """The hook ``erase_personal_data``: the meetings stay as counts (the exhibitor's and the show's figures),
    their messages go. Meetings still to come are cancelled one by one through the service (audited, on the
    company's timeline, a higher SEQUENCE and METHOD:CANCEL in the mail to the exhibitor's staff — the erased
    visitor is mailed nothing), then the texts are blanked."""
    from . import meetings as meeting_services

    if not registration_ids:
        return
    where = (Meeting.organizer_id == scope.organizer_id, Meeting.registration_id.in_(registration_ids))
    # the erasure blanked the registrations with a bulk UPDATE: read them again before naming anyone
    for registration in db.session.scalars(select(Registration).where(
            Registration.organizer_id == scope.organizer_id, Registration.id.in_(registration_ids))):
        db.session.refresh(registration)
    for meeting in list(db.session.scalars(select(Meeting).where(*where, Meeting.status.in_(OPEN))
                                           .order_by(Meeting.id))):
        try:
            meeting_services.cancel(meeting, "visitor", notify_only="exhibitor")
        except ServiceError:  # an agreed meeting that is over stays as it was (met / no-show)
            continue
    db.session.execute(update(Meeting).where(*where).values(message="", reason=""),
                       execution_options={"synchronize_session": False})
    for meeting in db.session.scalars(select(Meeting).where(*where)):
        db.session.expire(meeting, ["message", "reason"])
