"""Matchmaking (floor 4): recommendations both ways with their reasons (learning from leads and meetings),
meeting slots, meetings and their iCalendar files."""
from flask_babel import lazy_gettext as _l

from ..core.registry import ActivityKind, Module, NavEntry, NavGroup, Permission

# --- recommendations ---
VIEW_MATCHMAKING = "view_matchmaking"  # organizer staff: the edition's recommendations, backtest and API
MANAGE_MATCHMAKING = "manage_matchmaking"  # organizer: weights, exclusion rules, runs
INVITE_VISITORS = "see_recommended_visitors"  # exhibitor staff: the visitors recommended to the stand

REC_BLUEPRINTS = ("expo.matchmaking.views:bp", "expo.matchmaking.api:bp")
REC_PERMISSIONS = (
    Permission(VIEW_MATCHMAKING, _l("See the edition's recommendations and their backtest"),
               ("owner", "manager", "sales", "analyst")),
    Permission(MANAGE_MATCHMAKING, _l("Set matchmaking weights and exclusions, compute recommendations"),
               ("owner", "manager")),
    Permission(INVITE_VISITORS, _l("See the visitors recommended to the stand"), ("exhibitor_admin", "booth_staff")),
)
REC_MACHINES = ("expo.matchmaking.models:RUN_STATUS", "expo.matchmaking.models:EXCLUSION_REASON")
REC_TASKS = ("expo.matchmaking.tasks",)
REC_BEAT = {"recommendations-refresh": {"task": "expo.matchmaking.tasks.refresh_recommendations", "schedule": 600.0}}
REC_HOOKS = {"openapi": "expo.matchmaking.api:openapi",
             "registration_panels": "expo.matchmaking.views:registration_panel"}
REC_NAV = (
    NavEntry("matchmaking.matchmaking", _l("Matchmaking"), "edition", VIEW_MATCHMAKING, icon="diagram-3", order=44),
    NavEntry("matchmaking.visitors_to_invite", _l("Visitors to invite"), "exhibitor", INVITE_VISITORS,
             icon="person-plus", order=38),
)
REC_AUDIT_ACTIONS = {"matchmaking.settings": _l("Matchmaking settings changed"),
                     "matchmaking.pair_blocked": _l("Pair kept apart in matchmaking"),
                     "matchmaking.pair_unblocked": _l("Pair allowed again in matchmaking"),
                     "matchmakingsettings.status": _l("Recommendations run")}
REC_AUDIT_FIELDS = {"weights": _l("Weights"), "changed": _l("Changed")}
REC_AUDIT_OBJECTS = {"matchmaking_settings": _l("Matchmaking settings"),
                     "matchmaking_exclusions": _l("Matchmaking exclusion")}
# --- meetings ---
MANAGE_MEETINGS = "manage_meetings"  # exhibitor staff: answer, request, mark arrived / no-show
PUBLISH_SLOTS = "publish_meeting_slots"  # exhibitor admin: the times and tables the stand offers
VIEW_MEETINGS = "view_meetings"  # organizer staff: the edition's meetings
SET_MEETING_CAPS = "set_meeting_caps"  # organizer: most meetings per visitor category

MEETING_BLUEPRINTS = ("expo.matchmaking.meeting_views:bp",)
MEETING_PERMISSIONS = (
    Permission(MANAGE_MEETINGS, _l("Answer, request and mark meetings with visitors"),
               ("exhibitor_admin", "booth_staff")),
    Permission(PUBLISH_SLOTS, _l("Publish the stand's meeting slots"), ("exhibitor_admin",)),
    Permission(VIEW_MEETINGS, _l("See the edition's meetings"), ("owner", "manager", "sales", "onsite", "analyst")),
    Permission(SET_MEETING_CAPS, _l("Set the most meetings per visitor category"), ("owner", "manager")),
)
MEETING_MACHINES = ("expo.matchmaking.meeting_models:MEETING_STATUS", "expo.matchmaking.meeting_models:MEETING_SIDE")
MEETING_TASKS = ("expo.matchmaking.meeting_tasks",)
MEETING_BEAT = {
    "meeting-reminders": {"task": "expo.matchmaking.meeting_tasks.send_meeting_reminders", "schedule": 300.0},
    "meetings-attended-from-scans": {"task": "expo.matchmaking.meeting_tasks.mark_attended_meetings",
                                     "schedule": 300.0},
}
MEETING_HOOKS = {"personal_data": "expo.matchmaking.meeting_panels:visitor_meetings",
                 "person_panels": "expo.matchmaking.meeting_panels:person_panel",
                 "company_panels": "expo.matchmaking.meeting_panels:company_panel"}
# Hooks both parts answer, in this order: the visitor's page shows the meetings, then "Exhibitors to see"; an
# erasure cancels the meetings, then drops the visitor's recommendations.
SHARED_HOOKS = {"visitor_page_sections": ("expo.matchmaking.meeting_views:visitor_section",
                                          "expo.matchmaking.views:visitor_section"),
                "erase_personal_data": ("expo.matchmaking.meeting_panels:forget_visitor",
                                        "expo.matchmaking.services:forget_visitor")}
# The portal's three meeting pages are one menu in the exhibitor's bar (it is full on a laptop).
MEETINGS_MENU = NavGroup("meetings", _l("Meetings"), "calendar-event")
MEETING_NAV = (
    NavEntry("meetings.meetings", _l("Meetings"), "exhibitor", MANAGE_MEETINGS, icon="calendar-event", order=40,
             group=MEETINGS_MENU),
    NavEntry("meetings.today", _l("Today's meetings"), "exhibitor", MANAGE_MEETINGS, icon="phone", order=41,
             group=MEETINGS_MENU),
    NavEntry("meetings.slots", _l("Meeting slots"), "exhibitor", PUBLISH_SLOTS, icon="calendar-plus", order=42,
             group=MEETINGS_MENU),
    NavEntry("meetings.edition_meetings", _l("Meetings"), "edition", VIEW_MEETINGS, icon="calendar-event",
             order=46),
)
MEETING_AUDIT_ACTIONS = {
    "meeting.requested": _l("Meeting requested"), "meeting.accepted": _l("Meeting accepted"),
    "meeting.declined": _l("Meeting declined"), "meeting.cancelled": _l("Meeting cancelled"),
    "meeting.attended": _l("Meeting held"), "meeting.no_show": _l("Visitor did not come to the meeting"),
    "meeting_slots.added": _l("Meeting slots published"), "meeting_slot.removed": _l("Meeting slot withdrawn"),
    "meeting_caps.changed": _l("Meeting caps changed"),
}
MEETING_AUDIT_FIELDS = {"by": _l("By"), "slot_id": _l("Slot"), "slots": _l("Slots"), "minutes": _l("Minutes"),
                        "from_time": _l("From"), "to_time": _l("To"), "caps": _l("Caps"), "day": _l("Day"),
                        "starts_at": _l("Starts")}
MEETING_AUDIT_OBJECTS = {"meetings": _l("Meeting"), "meeting_slots": _l("Meeting slot")}
MEETING_ACTIVITY_KINDS = {
    "meeting.requested": ActivityKind(_l("Meeting requested: %(visitor)s and %(exhibitor)s %(when)s"),
                                      "calendar-plus", "warning"),
    "meeting.accepted": ActivityKind(_l("Meeting agreed: %(visitor)s and %(exhibitor)s %(when)s"),
                                     "calendar-check", "success"),
    "meeting.declined": ActivityKind(_l("Meeting declined: %(visitor)s and %(exhibitor)s"), "x-circle",
                                     "secondary"),
    "meeting.cancelled": ActivityKind(_l("Meeting cancelled: %(visitor)s and %(exhibitor)s %(when)s"),
                                      "calendar-x", "secondary"),
    "meeting.attended": ActivityKind(_l("Met: %(visitor)s and %(exhibitor)s %(when)s"), "people", "primary"),
    "meeting.no_show": ActivityKind(_l("No-show at the meeting with %(exhibitor)s %(when)s"), "person-x", "danger"),
}

MODULE = Module(
    name="matchmaking",
    demo="expo.matchmaking.demo:contribute",
    blueprints=(*REC_BLUEPRINTS, *MEETING_BLUEPRINTS),
    models="expo.matchmaking.models",
    permissions=(*REC_PERMISSIONS, *MEETING_PERMISSIONS),
    machines=(*REC_MACHINES, *MEETING_MACHINES),
    tasks=(*REC_TASKS, *MEETING_TASKS),
    beat={**REC_BEAT, **MEETING_BEAT},
    hooks={**MEETING_HOOKS, **REC_HOOKS, **SHARED_HOOKS},
    nav=(*REC_NAV, *MEETING_NAV),
    audit_actions={**REC_AUDIT_ACTIONS, **MEETING_AUDIT_ACTIONS},
    audit_fields={**REC_AUDIT_FIELDS, **MEETING_AUDIT_FIELDS},
    audit_objects={**REC_AUDIT_OBJECTS, **MEETING_AUDIT_OBJECTS},
    activity_kinds={**MEETING_ACTIVITY_KINDS},
)
