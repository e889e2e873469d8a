"""Post-show (floor 6): analytics over everything below — the edition report, dashboards, rebooking offers and
the exhibitor's own dashboard."""
from flask_babel import lazy_gettext as _l

from ..core.registry import REPORTS, ActivityKind, Module, NavEntry, Permission
from ..exhibitors import MANAGE_EXHIBITORS, SALES

VIEW_REPORTS = "view_reports"
# Rebooking (issue 8): sales see the offers and their answers; making, withdrawing and reopening offers (a
# mailing to every exhibitor of last edition) is for managers.
SEND_REBOOKING_OFFERS = "send_rebooking_offers"
ANSWER_REBOOKING = "answer_rebooking"  # the exhibitor's admin answers the company's offer
VIEW_EXHIBITOR_DASHBOARD = "view_exhibitor_dashboard"  # the exhibitor's own figures (all its leads)
MANAGE_CUSTOMER_VALUES = "manage_customer_values"  # issue 11 customers: the net-value weights and tier shares
RUN_PREDICTIONS = "run_predictions"  # issue 11 predictions: compute the rebooking and return scores again

MODULE = Module(
    name="postshow",
    demo="expo.postshow.demo:contribute",
    blueprints=("expo.postshow.views:bp", "expo.postshow.rebooking_views:bp", "expo.postshow.dashboard_views:bp",
                "expo.postshow.prediction_views:bp", "expo.postshow.prediction_api:bp",  # predictions
                "expo.postshow.watchlist_views:bp",  # winback: the churn watch list
                "expo.postshow.analytics_views:bp",  # analytics
                "expo.postshow.customer_views:bp"),
    models="expo.postshow.models",
    permissions=(
        Permission(VIEW_REPORTS, _l("Read reports and figures"), ("owner", "manager", "sales", "analyst")),
        Permission(SEND_REBOOKING_OFFERS, _l("Make rebooking offers"), ("owner", "manager")),
        Permission(ANSWER_REBOOKING, _l("Answer the company's rebooking offers"), ("exhibitor_admin",)),
        Permission(VIEW_EXHIBITOR_DASHBOARD, _l("See the exhibitor's dashboard"), ("exhibitor_admin",)),
        Permission(MANAGE_CUSTOMER_VALUES, _l("Set the weights of the customer value tiers"), ("owner", "manager")),
        Permission(RUN_PREDICTIONS, _l("Compute the rebooking and return predictions"), ("owner", "manager")),
    ),
    machines=("expo.postshow.models:REBOOKING_STATUS", "expo.postshow.models:DECLINE_REASON"),
    tasks=("expo.postshow.rebooking_tasks",
           "expo.postshow.prediction_tasks",  # predictions
           "expo.postshow.aggregates",  # analytics: the pre-aggregated figures
           "expo.postshow.roi_tasks"),  # the exhibitors' ROI reports
    beat={"rebooking-expire-offers": {"task": "expo.postshow.rebooking_tasks.expire_rebooking_offers",
                                      "schedule": 900.0},
          "analytics-refresh": {"task": "expo.postshow.aggregates.refresh_analytics", "schedule": 600.0}},  # analytics
    nav=(NavEntry("postshow.report", _l("Edition report"), "edition", VIEW_REPORTS, icon="bar-chart", order=50,
                  group=REPORTS),
         NavEntry("analytics.page", _l("Edition analytics"), "edition", VIEW_REPORTS, icon="graph-up", order=51,
                  group=REPORTS),  # analytics
         NavEntry("predictions.predictions", _l("Predictions"), "edition", VIEW_REPORTS, icon="graph-up-arrow",
                  order=54, group=REPORTS),  # predictions
         NavEntry("watchlist.watchlist", _l("Churn watch list"), "edition", VIEW_REPORTS, icon="exclamation-diamond",
                  order=53, group=REPORTS),  # winback
         NavEntry("rebooking.offers", _l("Rebooking"), "edition", MANAGE_EXHIBITORS, icon="arrow-repeat", order=38,
                  group=SALES),
         # After the company profile (the exhibitor's landing page, core.home). The company's rebooking offers
         # are reached from the dashboard's alert and the offer's mail: the exhibitor bar is full already.
         NavEntry("exhibitor_dashboard.dashboard", _l("Dashboard"), "exhibitor", VIEW_EXHIBITOR_DASHBOARD,
                  icon="graph-up", order=12),
         NavEntry("customers.overview", _l("Customers"), "edition", VIEW_REPORTS, icon="people", order=52,
                  group=REPORTS)),
    hooks={"edition_dashboard": "expo.postshow.views:dashboard_panel",
           "churn_watch_list": "expo.postshow.watchlist:watch_list",  # winback: read by campaigns.winback
           "openapi": "expo.postshow.prediction_api:openapi",  # predictions
           "company_panels": "expo.postshow.customer_views:company_panel",
           "person_panels": "expo.postshow.customer_views:person_panel"},
    audit_actions={"rebooking.offered": _l("Rebooking offer made"), "rebooking.resent": _l("Rebooking offer mailed again"),
                   "rebookingoffer.status": _l("Rebooking offer changed"),
                   "customer_values.weights": _l("Customer value weights set"),
                   "customer_values.reset": _l("Customer value weights reset to the defaults"),
                   "roi_report.mailed": _l("Exhibitors' ROI reports mailed")},
    audit_fields={"deadline_on": _l("Deadline"), "mailed_to": _l("Mailed to"), "mails": _l("Mails")},
    audit_objects={"rebooking_offers": _l("Rebooking offer"),
                   "customer_value_settings": _l("Customer value weights")},
    activity_kinds={
        "rebooking.offered": ActivityKind(_l("Rebooking offer for %(edition)s (answer by %(deadline)s)"), "arrow-repeat",
                                          "primary"),
        "rebooking.accepted": ActivityKind(_l("Rebooking offer for %(edition)s accepted"), "check-circle", "success"),
        "rebooking.declined": ActivityKind(_l("Rebooking offer for %(edition)s declined"), "x-circle", "secondary"),
    },
)
