"""Visitors (floor 2): persons, registrations, public registration, badges, what an exhibitor may see."""
from flask_babel import lazy_gettext as _l

from ..core.registry import Module, NavEntry, Permission

VIEW_REGISTRATIONS = "view_registrations"
MANAGE_REGISTRATIONS = "manage_registrations"  # reissue and print badges, cancel
EXPORT_REGISTRATIONS = "export_registrations"  # the filtered list as XLSX/CSV (personal data: audited)

MODULE = Module(
    name="visitors",
    demo="expo.visitors.demo:contribute",
    blueprints=("expo.visitors.views:bp",),
    models="expo.visitors.models",
    permissions=(
        Permission(VIEW_REGISTRATIONS, _l("See registrations"), ("owner", "manager", "onsite")),
        Permission(MANAGE_REGISTRATIONS, _l("Cancel registrations, reissue and print badges"),
                   ("owner", "manager", "onsite")),
        Permission(EXPORT_REGISTRATIONS, _l("Export registrations"), ("owner", "manager")),
    ),
    machines=("expo.visitors.models:VISITOR_CATEGORY", "expo.visitors.models:REGISTRATION_STATUS",
              "expo.visitors.models:REGISTRATION_SOURCE"),
    nav=(NavEntry("visitors.registrations", _l("Registrations"), "edition", VIEW_REGISTRATIONS, icon="people",
                  order=20),
         NavEntry("visitors.duplicates", _l("Possible duplicates"), "organizer", MANAGE_REGISTRATIONS,
                  icon="people", order=60)),
    tasks=("expo.visitors.tasks",),
    hooks={"front_door": "expo.visitors.views:front_door"},
)
