"""Leads (floor 3): the exhibitor's lead — capture (called by on-site scans), rating, notes, exports."""
from flask_babel import lazy_gettext as _l

from ..core.registry import ActivityKind, Module, NavEntry, Permission

VIEW_LEADS = "view_leads"  # the leads one captured
VIEW_ALL_LEADS = "view_all_leads"  # every lead of the exhibitor, not only one's own captures
EXPORT_LEADS = "export_leads"

MODULE = Module(
    name="leads",
    demo="expo.leads.demo:contribute",
    blueprints=("expo.leads.views:bp",),
    models="expo.leads.models",
    permissions=(
        Permission(VIEW_LEADS, _l("See and qualify the leads one captured"), ("exhibitor_admin", "booth_staff")),
        Permission(VIEW_ALL_LEADS, _l("See every lead of the exhibitor"), ("exhibitor_admin",)),
        Permission(EXPORT_LEADS, _l("Export leads"), ("exhibitor_admin",)),
    ),
    machines=("expo.leads.models:LEAD_RATING",),
    hooks={"personal_data": "expo.leads.services:visitor_leads", "erase_personal_data": "expo.leads.services:forget_visitor",
           "importers": "expo.leads.imports:importers",
           "person_panels": "expo.leads.services:person_panel", "company_panels": "expo.leads.services:company_panel"},
    nav=(NavEntry("leads.leads", _l("Leads"), "exhibitor", VIEW_LEADS, icon="person-lines-fill", order=30),),
    audit_actions={"lead.captured": _l("Lead captured"), "lead.updated": _l("Lead updated"),
                   "leads.exported": _l("Leads exported")},
    audit_fields={"contact_shared": _l("Contact shared"), "rating": _l("Rating")},
    audit_objects={"leads": _l("Lead")},
    # On the visitor's timeline: the exhibitor and the rating, never the exhibitor's notes or answers.
    activity_kinds={
        "lead.captured": ActivityKind(_l("Badge scanned at the stand of %(exhibitor)s"), "person-vcard", "success"),
        "lead.rated": ActivityKind(_l("Rated by %(exhibitor)s"), "star-half", "warning"),
    },
)
