"""What the tickets part plugs into the support module (joined into MODULE by expo/support/__init__.py)."""
from flask_babel import lazy_gettext as _l

from ..core.registry import COMPANY, REPORTS, ActivityKind, NavEntry, NavGroup, Permission

VIEW_TICKETS = "view_tickets"
HANDLE_TICKETS = "handle_tickets"
SET_TICKET_SLA = "set_ticket_sla"
RAISE_TICKETS = "raise_tickets"  # exhibitor staff: the portal's Support page
# The edition bar's "Service" menu (key "service"): tickets, and any other service page that names this key.
SERVICE = NavGroup("service", _l("Service"), "life-preserver")

PART = dict(
    blueprints=("expo.support.ticket_views:bp", "expo.support.ticket_public_views:bp"),
    permissions=(
        Permission(VIEW_TICKETS, _l("See support tickets and the SLA report"),
                   ("owner", "manager", "sales", "onsite", "analyst")),
        Permission(HANDLE_TICKETS, _l("Take, answer and resolve support tickets"),
                   ("owner", "manager", "sales", "onsite")),
        Permission(SET_TICKET_SLA, _l("Set the support tickets' deadlines"), ("owner", "manager")),
        Permission(RAISE_TICKETS, _l("Ask the organizer for support"), ("exhibitor_admin", "booth_staff")),
    ),
    machines=("expo.support.models:TICKET_STATUS", "expo.support.models:TICKET_KIND",
              "expo.support.models:TICKET_URGENCY", "expo.support.models:TICKET_SOURCE"),
    nav=(NavEntry("tickets.tickets", _l("Tickets"), "edition", VIEW_TICKETS, icon="life-preserver", order=46,
                  group=SERVICE),
         NavEntry("tickets.report", _l("SLA report"), "edition", VIEW_TICKETS, icon="stopwatch", order=56,
                  group=REPORTS),
         # In the company menu: the exhibitor's bar is full.
         NavEntry("tickets.portal_tickets", _l("Support"), "exhibitor", RAISE_TICKETS, icon="life-preserver",
                  order=60, group=COMPANY)),
    tasks=("expo.support.tasks",),
    beat={"support-escalate-overdue-tickets": {"task": "expo.support.tasks.escalate_overdue_tickets",
                                               "schedule": 600.0}},
    hooks={"visitor_page_sections": "expo.support.ticket_public_views:visitor_section",
           "person_panels": "expo.support.ticket_panels:person_panel",
           "company_panels": "expo.support.ticket_panels:company_panel",
           "personal_data": "expo.support.ticket_panels:visitor_tickets",
           "erase_personal_data": "expo.support.ticket_panels:forget_visitor"},
    audit_actions={"ticket.created": _l("Ticket created"), "ticket.assigned": _l("Ticket assigned"),
                   "ticket.noted": _l("Note added to a ticket"), "ticket.resolved": _l("Ticket resolved"),
                   "ticket.rated": _l("Ticket resolution rated"), "ticket.escalated": _l("Overdue ticket escalated"),
                   "ticket.status": _l("Ticket status changed"), "ticket.sla_set": _l("Ticket deadlines set"),
                   "ticket.sla_cleared": _l("Edition's ticket deadlines removed")},
    audit_fields={"due_at": _l("Due"), "owner_id": _l("Owner"), "urgent_days": _l("Urgent (working days)"),
                  "normal_days": _l("Normal (working days)")},
    audit_objects={"support_tickets": _l("Ticket"), "support_sla_settings": _l("Ticket deadlines")},
    activity_kinds={
        "ticket.created": ActivityKind(_l("Ticket #%(number)s opened: %(subject)s"), "life-preserver", "warning"),
        "ticket.assigned": ActivityKind(_l("Ticket #%(number)s given to %(owner)s"), "person-check", "secondary"),
        "ticket.noted": ActivityKind(_l("Note on ticket #%(number)s"), "chat-left-text", "secondary"),
        "ticket.status": ActivityKind(_l("Ticket #%(number)s: %(status)s"), "arrow-right-circle", "info"),
        "ticket.reopened": ActivityKind(_l("Ticket #%(number)s reopened"), "arrow-counterclockwise", "warning"),
        "ticket.resolved": ActivityKind(_l("Ticket #%(number)s resolved: %(subject)s"), "check-circle", "success"),
        "ticket.rated": ActivityKind(_l("Ticket #%(number)s: resolution rated %(rating)s/5"), "star", "primary"),
        "ticket.escalated": ActivityKind(_l("Ticket #%(number)s overdue: escalated to the managers"),
                                         "exclamation-triangle", "danger"),
    },
)
