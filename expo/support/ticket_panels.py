"""Tickets seen from elsewhere: the panels of the person and company pages (customer 360) and the visitor's
personal data (download, erasure) — hooks declared in ticket_part.py, called by the lower modules."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..extensions import db
from .models import TICKET_KIND, TICKET_STATUS, Ticket
from .ticket_part import VIEW_TICKETS

ERASED_TEXT = {"subject": "—", "description": "", "contact": "", "rating_comment": ""}


def _panel(scope: Scope, column, ident, allowed, empty) -> dict | None:
    if not allowed(VIEW_TICKETS):
        return None
    from flask import url_for

    rows = list(db.session.execute(
        scoped(Ticket, Scope(scope.organizer_id), Ticket.id, Ticket.edition_id, Ticket.subject, Ticket.kind,
               Ticket.status, Ticket.created_at, Ticket.due_at, Ticket.resolved_at, Ticket.rating)
        .where(column == ident).order_by(Ticket.created_at.desc()).limit(50)))
    names = {e.id: e.name for e in db.session.scalars(
        scoped(Edition, Scope(scope.organizer_id)).where(Edition.id.in_({r.edition_id for r in rows})))} if rows else {}
    return {"key": "tickets", "title": _l("Support tickets"), "icon": "life-preserver",
            "columns": [("ticket", _l("Ticket")), ("edition", _l("Edition")), ("kind", _l("Kind")),
                        ("status", _l("Status")), ("at", _l("Came in")), ("rating", _l("Rating"))],
            "rows": [{"ticket": {"text": f"#{r.id} {r.subject}",
                                 "url": url_for("tickets.ticket", edition_id=r.edition_id, ticket_id=r.id)},
                      "edition": names.get(r.edition_id, ""), "kind": TICKET_KIND.label(r.kind),
                      "status": TICKET_STATUS.state(r.status), "at": r.created_at,
                      "rating": f"{r.rating}/5" if r.rating else ""} for r in rows],
            "empty": empty,
            "kpi": {"value": len(rows), "label": _l("Tickets"), "icon": "life-preserver"}}


def person_panel(scope: Scope, person, registrations: list, allowed) -> dict | None:
    """The hook ``person_panels``: the visitor's tickets, every edition."""
    return _panel(scope, Ticket.person_id, person.id, allowed, _l("No tickets."))


def company_panel(scope: Scope, company, name_keys, allowed) -> dict | None:
    """The hook ``company_panels``: the company's tickets, every edition."""
    return _panel(scope, Ticket.company_id, company.id, allowed, _l("No tickets."))


def visitor_tickets(scope: Scope, registration_ids: list[int]) -> dict:
    """The hook ``personal_data``: the visitor's tickets with what they wrote and what they were answered."""
    rows = list(db.session.scalars(scoped(Ticket, Scope(scope.organizer_id))
                                   .where(Ticket.registration_id.in_(registration_ids)).order_by(Ticket.created_at)))
    return {"key": "tickets", "title": _l("Your support tickets"),
            "columns": [("registration_id", _l("Registration")), ("kind", _l("Kind")), ("subject", _l("Subject")),
                        ("description", _l("Description")), ("status", _l("Status")), ("created_at", _l("Came in")),
                        ("resolution", _l("Resolution")), ("rating", _l("Rating")), ("comment", _l("Comment"))],
            "rows": [{"registration_id": t.registration_id, "kind": t.kind, "subject": t.subject,
                      "description": t.description, "status": t.status, "created_at": t.created_at,
                      "resolution": t.resolution, "rating": t.rating, "comment": t.rating_comment} for t in rows]}


def forget_visitor(scope: Scope, registration_ids: list[int]) -> None:
    """The hook ``erase_personal_data``: the tickets stay as counts (the SLA report), what the visitor wrote goes."""
    if not registration_ids:
        return
    where = (Ticket.organizer_id == scope.organizer_id, Ticket.registration_id.in_(registration_ids))
    db.session.execute(update(Ticket).where(*where).values(**ERASED_TEXT),
                       execution_options={"synchronize_session": False})
    for ticket in db.session.scalars(select(Ticket).where(*where)):
        db.session.expire(ticket, list(ERASED_TEXT))
