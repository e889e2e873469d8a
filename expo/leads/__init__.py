"""Leads (floor 3): the exhibitor's lead — capture (called by on-site scans), rating, notes, exports."""
from flask_babel import lazy_gettext as _l

from ..core.registry import REPORTS, ActivityKind, Module, NavEntry, NavGroup, Permission

VIEW_LEADS = "view_leads"  # the leads one captured
VIEW_ALL_LEADS = "view_all_leads"  # every lead of the exhibitor, not only one's own captures
EXPORT_LEADS = "export_leads"
MANAGE_LEAD_QUESTIONS = "manage_lead_questions"  # the exhibitor's own qualifying questions
VIEW_FOLLOW_UP_RATES = "view_follow_up_rates"  # the organizer: follow-up rates per exhibitor, never a lead

LEADS_MENU = NavGroup("leads", _l("Leads"), "person-lines-fill")

MODULE = Module(
    name="leads",
    demo="expo.leads.demo:contribute",
    blueprints=("expo.leads.views:bp", "expo.leads.api:bp", "expo.leads.follow_up_views:bp"),
    models="expo.leads.models",
    permissions=(
        Permission(VIEW_LEADS, _l("See and qualify the leads one captured"), ("exhibitor_admin", "booth_staff")),
        Permission(VIEW_ALL_LEADS, _l("See every lead of the exhibitor"), ("exhibitor_admin",)),
        Permission(EXPORT_LEADS, _l("Export leads"), ("exhibitor_admin",)),
        Permission(MANAGE_LEAD_QUESTIONS, _l("Define the exhibitor's lead-qualifying questions"),
                   ("exhibitor_admin",)),
        Permission(VIEW_FOLLOW_UP_RATES, _l("See the exhibitors' lead follow-up rates (never the leads)"),
                   ("owner", "manager", "sales", "analyst")),
    ),
    tasks=("expo.leads.follow_up_tasks",),
    beat={"lead-follow-up-reminders": {"task": "expo.leads.follow_up_tasks.send_follow_up_reminders",
                                       "schedule": 3600.0}},
    machines=("expo.leads.models:LEAD_RATING", "expo.leads.models:LEAD_FOLLOW_UP"),
    hooks={"personal_data": "expo.leads.services:visitor_leads", "erase_personal_data": "expo.leads.services:forget_visitor",
           "importers": "expo.leads.imports:importers",
           "person_panels": "expo.leads.services:person_panel", "company_panels": "expo.leads.services:company_panel",
           "openapi": "expo.leads.api:openapi"},
    # The leads and their questions are one menu in the exhibitor's bar (it is full on a laptop).
    nav=(NavEntry("leads.leads", _l("Leads"), "exhibitor", VIEW_LEADS, icon="person-lines-fill", order=30,
                  group=LEADS_MENU),
         NavEntry("leads.questions", _l("Lead questions"), "exhibitor", MANAGE_LEAD_QUESTIONS, icon="ui-checks",
                  order=35, group=LEADS_MENU),
         NavEntry("lead_follow_up.rates", _l("Lead follow-up"), "edition", VIEW_FOLLOW_UP_RATES,
                  icon="telephone-forward", order=56, group=REPORTS)),
    audit_actions={"lead.captured": _l("Lead captured"), "lead.updated": _l("Lead updated"),
                   "leads.exported": _l("Leads exported"),
                   "lead_question.created": _l("Lead question added"),
                   "lead_question.updated": _l("Lead question changed"),
                   "lead_question.moved": _l("Lead question moved"),
                   "lead_question.activated": _l("Lead question asked again"),
                   "lead_question.deactivated": _l("Lead question no longer asked"),
                   "lead_question.deleted": _l("Lead question deleted"),
                   "lead.follow_up_status": _l("Lead follow-up moved"), "lead.next_step": _l("Lead next step set"),
                   "lead.won_value": _l("Lead deal value changed"),
                   "lead.reminded": _l("Lead follow-up reminder mailed")},
    audit_fields={"contact_shared": _l("Contact shared"), "rating": _l("Rating"), "notes": _l("Notes"),
                  "answers": _l("Answers"),
                  "answer_keys": _l("Answers changed"), "via": _l("Through"), "preset": _l("Column preset"),
                  "filters": _l("Filters")},
    audit_objects={"leads": _l("Lead"), "lead_questions": _l("Lead question")},
    # On the visitor's timeline: the exhibitor and the rating, never the exhibitor's notes or answers.
    activity_kinds={
        "lead.captured": ActivityKind(_l("Badge scanned at the stand of %(exhibitor)s"), "person-vcard", "success"),
        "lead.rated": ActivityKind(_l("Rated by %(exhibitor)s"), "star-half", "warning"),
    },
)
