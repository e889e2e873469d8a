"""Exhibitors (floor 2): companies, exhibitors, the booth-sales pipeline, the portal, staff."""
from flask_babel import lazy_gettext as _l

from ..core.registry import COMPANY, ActivityKind, Module, NavEntry, NavGroup, Permission

MANAGE_EXHIBITORS = "manage_exhibitors"
EDIT_COMPANY = "edit_company"
MANAGE_STAFF = "manage_staff"

# Issue 8's parts: each declares what it plugs in here, in its own block (one owner per block).
SALES = NavGroup("sales", _l("Booth sales"), "briefcase")
PARTS = {
    # --- pipeline: board, list, contacts, activities, contracts, payments ---
    "pipeline": dict(
        blueprints=("expo.exhibitors.pipeline_views:bp",),
        permissions=(Permission("manage_sales_settings", _l("Set booth types and stage probabilities"),
                                ("owner", "manager")),),
        nav=(NavEntry("pipeline.board", _l("Sales board"), "edition", MANAGE_EXHIBITORS, icon="kanban", order=31,
                      group=SALES),
             NavEntry("pipeline.deals", _l("Deals"), "edition", MANAGE_EXHIBITORS, icon="list-columns", order=32,
                      group=SALES),
             NavEntry("pipeline.settings", _l("Booth types and probabilities"), "edition", "manage_sales_settings",
                      icon="sliders", order=39, group=SALES)),
        machines=("expo.exhibitors.pipeline_models:SALES_ACTIVITY_KIND",
                  "expo.exhibitors.pipeline_models:PAYMENT_METHOD"),
        tasks=(), beat={}, hooks={},
        audit_actions={"exhibitor.deal": _l("Deal changed"), "booth_type.created": _l("Booth type added"),
                       "booth_type.updated": _l("Booth type changed"), "booth_type.deleted": _l("Booth type removed"),
                       "stage_probability.updated": _l("Stage probabilities changed"),
                       "contact.created": _l("Contact added"), "contact.updated": _l("Contact changed"),
                       "contact.main": _l("Main contact changed"), "contact.deleted": _l("Contact removed"),
                       "contract.created": _l("Contract recorded"), "payment.created": _l("Payment recorded")},
        audit_fields={"booth_type_id": _l("Booth type"), "area_m2": _l("Area (m²)"), "price": _l("Price"),
                      "expected_close_on": _l("Expected close"), "price_per_m2": _l("Price per m²"),
                      "stages": _l("Stages"), "contract_id": _l("Contract"), "paid_on": _l("Paid on"),
                      "signed_on": _l("Signed on"), "method": _l("Method"), "amount": _l("Amount"),
                      "number": _l("Number")},
        audit_objects={"booth_types": _l("Booth type"), "company_contacts": _l("Contact"),
                       "contracts": _l("Contract"), "payments": _l("Payment")},
        activity_kinds={
            "exhibitor.lost": ActivityKind(_l("Lost for %(edition)s: %(reason)s"), "x-octagon", "danger"),
            "sales.call": ActivityKind(_l("Call: %(summary)s"), "telephone", "info"),
            "sales.visit": ActivityKind(_l("Visit: %(summary)s"), "geo-alt", "primary"),
            "sales.mail": ActivityKind(_l("Mail: %(summary)s"), "envelope", "secondary"),
            "sales.note": ActivityKind(_l("Note: %(summary)s"), "sticky", "secondary"),
            "sales.contract": ActivityKind(_l("Contract %(number)s signed for %(edition)s: ¥%(amount)s"),
                                           "file-earmark-check", "success"),
            "sales.payment": ActivityKind(_l("Payment of ¥%(amount)s received on contract %(number)s"), "cash-coin",
                                          "success"),
        }),
    # --- reps: assignment rules, my accounts, follow-ups (today page, escalation), rep performance ---
    "reps": dict(
        blueprints=("expo.exhibitors.rep_views:bp",),
        permissions=(Permission("assign_sales_accounts", _l("Set assignment rules and reassign accounts"),
                                ("owner", "manager")),
                     Permission("view_rep_performance", _l("See the sales reps' performance"),
                                ("owner", "manager", "analyst"))),
        nav=(NavEntry("reps.today", _l("Today"), "edition", MANAGE_EXHIBITORS, icon="check2-square", order=33,
                      group=SALES),
             NavEntry("reps.my_accounts", _l("My accounts"), "edition", MANAGE_EXHIBITORS, icon="person-badge",
                      order=34, group=SALES),
             NavEntry("reps.assignment_page", _l("Assignment rules"), "edition", "assign_sales_accounts",
                      icon="signpost-2", order=37, group=SALES),
             NavEntry("reps.rep_performance", _l("Rep performance"), "edition", "view_rep_performance",
                      icon="bar-chart-line", order=38, group=SALES)),
        machines=("expo.exhibitors.rep_models:RULE_KIND", "expo.exhibitors.rep_models:FOLLOW_UP_STATUS"),
        tasks=("expo.exhibitors.rep_tasks",),
        beat={"sales-follow-ups-escalation": {"task": "expo.exhibitors.rep_tasks.escalate_overdue_follow_ups",
                                              "schedule": 900.0}},
        hooks={},
        audit_actions={"exhibitor.sales_rep": _l("Sales rep changed"),
                       "assignment_rule.added": _l("Assignment rule added"),
                       "assignment_rule.removed": _l("Assignment rule removed"),
                       "assignment_rule.moved": _l("Assignment rules reordered"),
                       "follow_up.added": _l("Follow-up added"), "follow_up.status": _l("Follow-up done or reopened"),
                       "follow_up.snoozed": _l("Follow-up put off"),
                       "follow_up.escalated": _l("Overdue follow-up mailed to the managers")},
        audit_fields={"how": _l("How"), "rule_id": _l("Rule"), "rep_id": _l("Sales rep"), "rep_ids": _l("Sales reps"),
                      "countries": _l("Countries"), "category_id": _l("Category"), "kind": _l("Kind"),
                      "due_on": _l("Due on"), "days": _l("Days"), "direction": _l("Direction")},
        audit_objects={"assignment_rules": _l("Assignment rule"), "follow_ups": _l("Follow-up")},
        activity_kinds={
            "exhibitor.sales_rep": ActivityKind(_l("Sales rep for %(edition)s: %(rep)s"), "person-badge", "info"),
            "exhibitor.sales_rep_removed": ActivityKind(_l("No sales rep for %(edition)s any more (was %(previous)s)"),
                                                        "person-dash", "secondary"),
            "follow_up.done": ActivityKind(_l("Follow-up done: %(title)s"), "check2-square", "success"),
        }),
    # --- floor: halls, stands, the floor plan, the forecast ---
    "floor": dict(
        blueprints=("expo.exhibitors.floor_views:bp",),
        permissions=(
            Permission("manage_floor_plan", _l("Set up halls and stands"), ("owner", "manager")),
            Permission("view_sales_forecast", _l("See the booth-sales forecast"),
                       ("owner", "manager", "sales", "analyst")),
        ),
        nav=(
            NavEntry("floor.plan", _l("Floor plan"), "edition", MANAGE_EXHIBITORS, icon="grid-3x3-gap", order=35,
                     group=SALES),
            NavEntry("floor.forecast", _l("Forecast"), "edition", "view_sales_forecast", icon="graph-up-arrow",
                     order=36, group=SALES),
        ),
        machines=("expo.exhibitors.floorplan:STAND_STATE",), tasks=(), beat={}, hooks={},
        audit_actions={"hall.created": _l("Hall added"), "hall.updated": _l("Hall changed"),
                       "hall.deleted": _l("Hall deleted"), "stand.created": _l("Stand added"),
                       "stand.updated": _l("Stand changed"), "stand.deleted": _l("Stand deleted"),
                       "stand.assigned": _l("Stand assigned"), "stand.released": _l("Stand released")},
        audit_fields={"hall": _l("Hall"), "stand": _l("Stand"), "width_m": _l("Width (m)"),
                      "depth_m": _l("Depth (m)"), "area_m2": _l("Area (m²)"), "from_stand": _l("Previous stand"),
                      "previous_exhibitor_id": _l("Previous exhibitor"), "reason": _l("Reason")},
        audit_objects={"halls": _l("Hall"), "stands": _l("Stand")},
        activity_kinds={
            "stand.assigned": ActivityKind(_l("Stand %(stand)s assigned for %(edition)s"), "grid-3x3-gap", "success"),
            "stand.released": ActivityKind(_l("Stand %(stand)s released for %(edition)s"), "grid-3x3-gap",
                                           "secondary"),
        }),
    # --- portal: profile in both languages, logo, product pictures ---
    "portal": dict(blueprints=("expo.exhibitors.portal_views:bp",), permissions=(), nav=(), machines=(), tasks=(),
                   beat={}, hooks={},
                   audit_actions={"company.logo": _l("Company logo changed"),
                                  "company.logo_removed": _l("Company logo removed"),
                                  "product.picture_added": _l("Product picture added"),
                                  "product.picture_removed": _l("Product picture removed"),
                                  "product.pictures_ordered": _l("Product pictures reordered")},
                   audit_fields={"picture_id": _l("Picture"), "width": _l("Width (px)"),
                                 "height": _l("Height (px)")},
                   audit_objects={}, activity_kinds={}),
    # --- manual: the exhibitor manual's forms with deadlines ---
    "manual": dict(
        blueprints=("expo.exhibitors.manual_views:bp",),
        permissions=(
            Permission("manage_manual", _l("Write the exhibitor manual and its forms, reopen a form"),
                       ("owner", "manager")),
            Permission("fill_manual", _l("Fill in the exhibitor manual's forms"), ("exhibitor_admin",)),
        ),
        nav=(NavEntry("manual.index", _l("Exhibitor manual"), "edition", MANAGE_EXHIBITORS, icon="ui-checks",
                      order=37, group=SALES),
             NavEntry("manual.checklist", _l("Manual & forms"), "exhibitor", "fill_manual", icon="ui-checks",
                      order=12)),
        machines=("expo.exhibitors.manual_models:MANUAL_SUBMISSION_STATUS",),
        tasks=("expo.exhibitors.manual_tasks",),
        beat={"manual-reminders": {"task": "expo.exhibitors.manual_tasks.send_manual_reminders",
                                   "schedule": 3600.0}},
        hooks={},
        audit_actions={"manual.form_created": _l("Manual form added"), "manual.form_changed": _l("Manual form changed"),
                       "manual.form_deleted": _l("Manual form deleted"),
                       "manual.section_added": _l("Manual section added"),
                       "manual.section_deleted": _l("Manual section removed"),
                       "manual.submitted": _l("Manual form sent"),
                       "manualsubmission.status": _l("Manual form reopened or sent again"),
                       "manual.reminded": _l("Manual form reminder sent"),
                       "manual.exported": _l("Manual form answers exported")},
        audit_fields={"form_id": _l("Form"), "first": _l("First time"), "recipients": _l("Recipients"),
                      "added_field": _l("Field added"), "removed_field": _l("Field removed"),
                      "deadline": _l("Deadline"), "title": _l("Title")},
        audit_objects={"manual_forms": _l("Manual form"), "manual_sections": _l("Manual section"),
                       "manual_submissions": _l("Manual form answers")},
        activity_kinds={"manual.submitted": ActivityKind(_l("Sent the form %(form)s for %(edition)s"), "ui-checks",
                                                         "success")}),
}


def _merged(key: str, base):
    """The module's own declarations with every part's added (tuples joined, dicts merged; a hook two parts
    answer gets both functions, in the order of PARTS)."""
    if key == "hooks":
        merged = {name: (path,) if isinstance(path, str) else tuple(path) for name, path in base.items()}
        for part in PARTS.values():
            for name, path in part[key].items():
                merged[name] = merged.get(name, ()) + ((path,) if isinstance(path, str) else tuple(path))
        return merged
    if isinstance(base, dict):
        return {**base, **{k: v for part in PARTS.values() for k, v in part[key].items()}}
    return (*base, *(item for part in PARTS.values() for item in part[key]))


MODULE = Module(
    name="exhibitors",
    demo="expo.exhibitors.demo:contribute",
    blueprints=_merged("blueprints", ("expo.exhibitors.views:bp", "expo.exhibitors.product_views:bp")),
    models="expo.exhibitors.models",
    permissions=_merged("permissions", (
        Permission(MANAGE_EXHIBITORS, _l("Sell booths and manage exhibitors"), ("owner", "manager", "sales")),
        Permission(EDIT_COMPANY, _l("Edit the company profile"), ("exhibitor_admin",)),
        Permission(MANAGE_STAFF, _l("Manage the exhibitor's staff"), ("exhibitor_admin",)),
    )),
    machines=_merged("machines", ("expo.exhibitors.models:EXHIBITOR_STATUS",)),
    tasks=_merged("tasks", ()),
    beat=_merged("beat", {}),
    nav=_merged("nav", (
        NavEntry("exhibitors.edition_exhibitors", _l("Exhibitors"), "edition", MANAGE_EXHIBITORS, icon="shop",
                 order=30),
        NavEntry("exhibitors.portal", _l("Company profile"), "exhibitor", EDIT_COMPANY, icon="building", order=10,
                 group=COMPANY),
        NavEntry("exhibitors.staff", _l("Staff"), "exhibitor", MANAGE_STAFF, icon="people", order=40, group=COMPANY),
        NavEntry("products.catalogue", _l("Products"), "exhibitor", EDIT_COMPANY, icon="box-seam", order=15,
                 group=COMPANY),
    )),
    audit_actions=_merged("audit_actions", {
        "exhibitor.created": _l("Exhibitor added"), "exhibitor.status": _l("Booth-sales stage changed"),
        "company.merged": _l("Companies merged"), "company.distinct": _l("Companies marked as different"),
        "company.updated": _l("Company profile changed"),
        "product.created": _l("Product added"), "product.updated": _l("Product changed"),
        "product.deleted": _l("Product removed")}),
    audit_fields=_merged("audit_fields", {
        "exhibitor_id": _l("Exhibitor"), "website": _l("Website"), "merged_company_id": _l("Merged company"),
        "exhibitor_ids": _l("Bookings moved"), "left_exhibitor_ids": _l("Withdrawn bookings left with it"),
        "merged_name": _l("Merged name"), "other_company_id": _l("Other company"),
        "products_moved": _l("Products moved"), "company_id": _l("Company")}),
    audit_objects=_merged("audit_objects", {"exhibitors": _l("Exhibitor"), "companies": _l("Company"),
                                            "products": _l("Product")}),
    hooks=_merged("hooks", {"importers": "expo.exhibitors.imports:importers",
                            "search": "expo.exhibitors.companies:search_companies"}),
    activity_kinds=_merged("activity_kinds", {
        "exhibitor.created": ActivityKind(_l("Added as exhibitor of %(edition)s"), "shop", "primary"),
        "exhibitor.status": ActivityKind(_l("Booth-sales stage for %(edition)s changed"), "signpost-split", "info"),
        "company.merged": ActivityKind(_l("Duplicate company %(merged_name)s merged into this one"), "union", "info"),
    }),
)
