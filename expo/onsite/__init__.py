"""On-site (floor 5): scans, entrance check-in, the booth scanner, the scan API."""
from flask_babel import lazy_gettext as _l

from ..core.registry import COMPANY, REPORTS, SETUP, ActivityKind, Module, NavEntry, NavGroup, Permission
from ..exhibitors import SALES

CHECK_IN = "check_in"
SCAN_LEADS = "scan_leads"
MANAGE_ZONES = "manage_zones"  # gates and zones: who may enter where, when, how often
VIEW_ATTENDANCE = "view_attendance"  # live attendance: check-ins per hour and gate, who is inside
MANAGE_STAFF_BADGES = "manage_staff_badges"  # the edition's staff badge quota (expo.onsite.staff_badges)
BADGES_ON_SITE = NavGroup("badges_on_site", _l("Kiosk & badges"), "printer")

MODULE = Module(
    name="onsite",
    demo="expo.onsite.demo:contribute",
    blueprints=("expo.onsite.views:bp", "expo.onsite.api:bp",
                "expo.onsite.kiosk_views:bp", "expo.onsite.pwa:bp", "expo.onsite.pwa:api",
                "expo.onsite.zone_views:bp",
                "expo.onsite.staff_badge_views:bp"),  # staff badges (issue 8, manual)
    models="expo.onsite.models",
    permissions=(
        Permission(CHECK_IN, _l("Check visitors in at the entrance"), ("owner", "manager", "onsite")),
        Permission(SCAN_LEADS, _l("Scan visitor badges at the booth"), ("exhibitor_admin", "booth_staff")),
        Permission(MANAGE_ZONES, _l("Set up gates and zones (who may enter where, on which day)"),
                   ("owner", "manager")),
        Permission(VIEW_ATTENDANCE, _l("See live attendance at the gates"), ("owner", "manager", "onsite", "analyst")),
        # Staff badges (expo.onsite.staff_badges): the quota rule per edition.
        Permission(MANAGE_STAFF_BADGES, _l("Set the staff badge quota of exhibitors"), ("owner", "manager")),
    ),
    machines=("expo.onsite.models:SCAN_KIND", "expo.onsite.models:SCAN_RESULT", "expo.onsite.models:SCAN_REASON",
              "expo.onsite.print_models:PRINT_JOB_STATUS", "expo.onsite.print_models:PRINT_JOB_ORIGIN",
              "expo.onsite.zone_models:REENTRY", "expo.onsite.zone_models:GATE_DIRECTION"),
    nav=(
        NavEntry("onsite.checkin", _l("Entrance check-in"), "edition", CHECK_IN, icon="door-open", order=40),
        NavEntry("onsite.scanner", _l("Scan badges"), "exhibitor", SCAN_LEADS, icon="qr-code-scan", order=20),
        # Gates and zones (expo.onsite.zone_views).
        NavEntry("zones.setup", _l("Gates and zones"), "edition", MANAGE_ZONES, icon="signpost-split", order=28,
                 group=SETUP),
        NavEntry("zones.attendance", _l("Live attendance"), "edition", VIEW_ATTENDANCE, icon="activity", order=52,
                 group=REPORTS),
        # The walk-up kiosk, the badge desk and the desk printer's queue (expo.onsite.kiosk_views).
        NavEntry("kiosk.setup", _l("Walk-up kiosk"), "edition", CHECK_IN, icon="tablet", order=41,
                 group=BADGES_ON_SITE),
        NavEntry("kiosk.desk", _l("Badge desk"), "edition", CHECK_IN, icon="person-badge", order=42,
                 group=BADGES_ON_SITE),
        NavEntry("kiosk.queue", _l("Print queue"), "edition", CHECK_IN, icon="printer", order=43,
                 group=BADGES_ON_SITE),
        # Staff badges with a quota by booth size (expo.onsite.staff_badge_views).
        NavEntry("staff_badges.edition", _l("Staff badges"), "edition", "manage_exhibitors", icon="person-badge",
                 order=38, group=SALES),
        NavEntry("staff_badges.portal", _l("Staff badges"), "exhibitor", "manage_staff", icon="person-badge",
                 order=41, group=COMPANY),
    ),
    hooks={"registration_panels": "expo.onsite.views:checkin_panel", "importers": "expo.onsite.imports:importers",
           "checked_in_registrations": "expo.onsite.services:checked_in_registrations",
           "personal_data": "expo.onsite.services:visitor_checkins",
           "openapi": "expo.onsite.pwa:openapi", "person_panels": "expo.onsite.services:person_panel",
           "edition_dashboard": "expo.onsite.zone_views:dashboard_panel"},
    audit_actions={"badge.print_queued": _l("Badge queued for printing"),
                   "kiosk.started": _l("Kiosk mode started"), "kiosk.ended": _l("Kiosk mode ended"),
                   "printjob.status": _l("Print job status changed"),
                   "zone.created": _l("Zone added"), "zone.changed": _l("Zone changed"),
                   "zone.deleted": _l("Zone deleted"), "gate.created": _l("Gate added"),
                   "gate.changed": _l("Gate changed"), "gate.deleted": _l("Gate deleted"),
                   "staff_badge.added": _l("Staff badge added"), "staff_badge.removed": _l("Staff badge removed"),
                   "staff_badge.quota": _l("Staff badge quota changed")},
    audit_fields={"name_en": _l("Name (English)"), "name_zh": _l("Name (Chinese)"), "capacity": _l("Capacity"),
                  "access": _l("Who may enter"), "reentry": _l("Re-entry"), "admission": _l("Main entrance"),
                  "code": _l("Code"), "zone_id": _l("Zone"), "direction": _l("Direction"),
                  "base": _l("Badges for every exhibitor"), "per_m2": _l("One more badge per m²"),
                  "maximum": _l("At most"), "registration_id": _l("Registration")},
    audit_objects={"print_jobs": _l("Print job"), "zones": _l("Zone"), "gates": _l("Gate"),
                   "staff_badges": _l("Staff badge"), "staff_badge_quotas": _l("Staff badge quota")},
    activity_kinds={"checkin": ActivityKind(_l("Checked in at %(edition)s"), "door-open", "info")},
)
