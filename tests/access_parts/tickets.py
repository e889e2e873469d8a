"""Route × role expectations of issue 11's tickets part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t`` (a
tests.conftest Factory tenant: t.edition, t.exhibitor, t.users[role], ...) and returns their ids by URL parameter.

Tickets: every organizer role reads tickets and the SLA report; owner, manager, sales and onsite work on them
(analysts only read); owner and manager set the deadlines. Exhibitor admin and booth staff raise and read their
company's tickets in the portal. The public pages take a signed token: the walk's token (a campaign's
unsubscribe link) is not one of theirs, so they answer 404 to everyone (tests/support/test_tickets.py walks the
valid links).
"""
from __future__ import annotations

ID_PARAMS: set[str] = {"ticket_id"}  # this part's URL parameters that name one organizer's row
ENDPOINTS_WITH_IDS: set[str] = {"tickets.tickets", "tickets.new_ticket", "tickets.ticket", "tickets.report",
                                "tickets.settings", "tickets.portal_ticket"}

TICKET = "->/org/editions/{edition_id}/tickets/{ticket_id}"
PORTAL_TICKET = "->/portal/support/{ticket_id}"

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("tickets.tickets", "GET"):                ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("tickets.new_ticket", "GET"):             ("login",  "200",    "200",    "200",    "200",    "403",    "403",     "403"),
    ("tickets.new_ticket", "POST"):            ("login",  "200",    "200",    "200",    "200",    "403",    "403",     "403"),
    ("tickets.ticket", "GET"):                 ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("tickets.ticket", "POST"):                ("login",  TICKET,   TICKET,   TICKET,   TICKET,   "403",    "403",     "403"),
    ("tickets.report", "GET"):                 ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("tickets.settings", "GET"):               ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("tickets.settings", "POST"):              ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("tickets.portal_tickets", "GET"):         ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("tickets.portal_tickets", "POST"):        ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("tickets.portal_ticket", "GET"):          ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("tickets.portal_ticket", "POST"):         ("login",  "403",    "403",    "403",    "403",    "403",    PORTAL_TICKET, PORTAL_TICKET),
    ("tickets_public.visitor_help", "GET"):    ("404",    "404",    "404",    "404",    "404",    "404",    "404",     "404"),
    ("tickets_public.visitor_help", "POST"):   ("404",    "404",    "404",    "404",    "404",    "404",    "404",     "404"),
    ("tickets_public.rate", "GET"):            ("404",    "404",    "404",    "404",    "404",    "404",    "404",     "404"),
    ("tickets_public.rate", "POST"):           ("404",    "404",    "404",    "404",    "404",    "404",    "404",     "404"),
}
# fmt: on


def build(t) -> dict:
    """A ticket of the tenant's first exhibitor, taken by staff."""
    from expo.core.scoping import Scope
    from expo.support import services

    ticket = services.create_ticket(Scope(t.organizer.id), t.edition, kind="complaint", subject="Booth power is off",
                                    urgency="urgent", source="staff", exhibitor=t.exhibitor,
                                    actor_id=t.users["sales"].id)
    return {"ticket_id": ticket.id}
