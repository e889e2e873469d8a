"""Exhibitors (floor 2): companies, exhibitors, the booth-sales pipeline, the portal, staff."""
from flask_babel import lazy_gettext as _l

from ..core.registry import Module, NavEntry, Permission

MANAGE_EXHIBITORS = "manage_exhibitors"
EDIT_COMPANY = "edit_company"
MANAGE_STAFF = "manage_staff"

MODULE = Module(
    name="exhibitors",
    demo="expo.exhibitors.demo:contribute",
    blueprints=("expo.exhibitors.views:bp",),
    models="expo.exhibitors.models",
    permissions=(
        Permission(MANAGE_EXHIBITORS, _l("Sell booths and manage exhibitors"), ("owner", "manager", "sales")),
        Permission(EDIT_COMPANY, _l("Edit the company profile"), ("exhibitor_admin",)),
        Permission(MANAGE_STAFF, _l("Manage the exhibitor's staff"), ("exhibitor_admin",)),
    ),
    machines=("expo.exhibitors.models:EXHIBITOR_STATUS",),
    nav=(
        NavEntry("exhibitors.edition_exhibitors", _l("Exhibitors"), "edition", MANAGE_EXHIBITORS, icon="shop",
                 order=30),
        NavEntry("exhibitors.portal", _l("Company profile"), "exhibitor", EDIT_COMPANY, icon="building", order=10),
        NavEntry("exhibitors.staff", _l("Staff"), "exhibitor", MANAGE_STAFF, icon="people", order=40),
    ),
    audit_actions={"exhibitor.created": _l("Exhibitor added"), "exhibitor.status": _l("Booth-sales stage changed"),
                   "company.updated": _l("Company profile changed")},
    audit_fields={"exhibitor_id": _l("Exhibitor"), "website": _l("Website")},
    audit_objects={"exhibitors": _l("Exhibitor"), "companies": _l("Company")},
)
