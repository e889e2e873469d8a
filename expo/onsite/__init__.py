"""On-site (floor 5): scans, entrance check-in, the booth scanner, the scan API."""
from flask_babel import lazy_gettext as _l

from ..core.registry import ActivityKind, Module, NavEntry, Permission

CHECK_IN = "check_in"
SCAN_LEADS = "scan_leads"

MODULE = Module(
    name="onsite",
    demo="expo.onsite.demo:contribute",
    blueprints=("expo.onsite.views:bp", "expo.onsite.api:bp"),
    models="expo.onsite.models",
    permissions=(
        Permission(CHECK_IN, _l("Check visitors in at the entrance"), ("owner", "manager", "onsite")),
        Permission(SCAN_LEADS, _l("Scan visitor badges at the booth"), ("exhibitor_admin", "booth_staff")),
    ),
    machines=("expo.onsite.models:SCAN_KIND", "expo.onsite.models:SCAN_RESULT", "expo.onsite.models:SCAN_REASON"),
    nav=(
        NavEntry("onsite.checkin", _l("Entrance check-in"), "edition", CHECK_IN, icon="door-open", order=40),
        NavEntry("onsite.scanner", _l("Scan badges"), "exhibitor", SCAN_LEADS, icon="qr-code-scan", order=20),
    ),
    hooks={"registration_panels": "expo.onsite.views:checkin_panel", "importers": "expo.onsite.imports:importers",
           "checked_in_registrations": "expo.onsite.services:checked_in_registrations",
           "personal_data": "expo.onsite.services:visitor_checkins",
           "openapi": "expo.onsite.api:openapi", "person_panels": "expo.onsite.services:person_panel"},
    activity_kinds={"checkin": ActivityKind(_l("Checked in at %(edition)s"), "door-open", "info")},
)
