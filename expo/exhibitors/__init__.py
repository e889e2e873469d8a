"""Exhibitors (floor 2): companies, exhibitors, the booth-sales pipeline, the portal, staff."""
from flask_babel import lazy_gettext as _l

from ..core.registry import ActivityKind, Module, NavEntry, Permission

MANAGE_EXHIBITORS = "manage_exhibitors"
EDIT_COMPANY = "edit_company"
MANAGE_STAFF = "manage_staff"

MODULE = Module(
    name="exhibitors",
    demo="expo.exhibitors.demo:contribute",
    blueprints=("expo.exhibitors.views:bp", "expo.exhibitors.product_views:bp"),
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
        NavEntry("products.catalogue", _l("Products"), "exhibitor", EDIT_COMPANY, icon="box-seam", order=15),
    ),
    audit_actions={"exhibitor.created": _l("Exhibitor added"), "exhibitor.status": _l("Booth-sales stage changed"),
                   "company.merged": _l("Companies merged"), "company.distinct": _l("Companies marked as different"),
                   "company.updated": _l("Company profile changed"),
                   "product.created": _l("Product added"), "product.updated": _l("Product changed"),
                   "product.deleted": _l("Product removed")},
    audit_fields={"exhibitor_id": _l("Exhibitor"), "website": _l("Website"), "merged_company_id": _l("Merged company"),
                  "exhibitor_ids": _l("Bookings moved"), "left_exhibitor_ids": _l("Withdrawn bookings left with it"),
                  "merged_name": _l("Merged name"), "other_company_id": _l("Other company"),
                  "products_moved": _l("Products moved"),
                  "company_id": _l("Company")},
    audit_objects={"exhibitors": _l("Exhibitor"), "companies": _l("Company"), "products": _l("Product")},
    hooks={"importers": "expo.exhibitors.imports:importers", "search": "expo.exhibitors.companies:search_companies"},
    activity_kinds={
        "exhibitor.created": ActivityKind(_l("Added as exhibitor of %(edition)s"), "shop", "primary"),
        "exhibitor.status": ActivityKind(_l("Booth-sales stage for %(edition)s changed"), "signpost-split", "info"),
        "company.merged": ActivityKind(_l("Duplicate company %(merged_name)s merged into this one"), "union", "info"),
    },
)
