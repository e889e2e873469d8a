"""Post-show (floor 6): analytics over everything below — the edition report, dashboards."""
from flask_babel import lazy_gettext as _l

from ..core.registry import REPORTS, Module, NavEntry, Permission

VIEW_REPORTS = "view_reports"

MODULE = Module(
    name="postshow",
    blueprints=("expo.postshow.views:bp",),
    permissions=(
        Permission(VIEW_REPORTS, _l("Read reports and figures"), ("owner", "manager", "sales", "analyst")),
    ),
    nav=(NavEntry("postshow.report", _l("Edition report"), "edition", VIEW_REPORTS, icon="bar-chart", order=50,
                  group=REPORTS),),
    hooks={"edition_dashboard": "expo.postshow.views:dashboard_panel"},
)
