"""The exhibitor's own dashboard in the portal: the page, and its figures as JSON (refreshed during the show)."""
from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import require
from ..core.registry import registry
from ..core.permissions import has_permission
from . import ANSWER_REBOOKING, VIEW_EXHIBITOR_DASHBOARD, rebooking, roi_report
from .exhibitor_dashboard import NONE, OTHER, exhibitor_dashboard

bp = Blueprint("exhibitor_dashboard", __name__)
RATING_SERIES = ("hot", "warm", "cold", NONE)


def _rating_label(code: str) -> str:
    machine = registry.machines().get("lead_rating")
    return _("Not rated") if code == NONE or machine is None else machine.label(code)


def dashboard_charts(data: dict) -> dict:
    """The dashboard's charts (static/charts.js format), labels in the current language."""
    by_day, by_hour = data["by_day"], data["by_hour"]
    charts = {
        "by-day": {"type": "stack", "categories": by_day["days"],
                   "series": [{"name": _rating_label(code), "data": by_day["ratings"][code]} for code in RATING_SERIES],
                   "option": {"color": ["#d6336c", "#f59f00", "#15aabf", "#adb5bd"]}},
        "by-hour": {"type": "bar", "categories": [f"{h:02d}:00" for h in by_hour["hours"]],
                    "series": [{"name": _("Leads"), "data": by_hour["counts"]}]},
    }
    show_name = _("Visitors who came") if data["profile"]["came"] else _("Registered visitors")
    for dimension in data["profile"]["dimensions"]:
        rows = dimension["rows"]
        charts["profile-" + dimension["key"]] = {
            "type": "hbar", "unit": "%", "labels": False,
            "categories": [r["label"] if r["value"] != OTHER else _("Other") for r in rows],
            "series": [{"name": _("Your leads"), "data": [r["leads_pct"] for r in rows]},
                       {"name": show_name, "data": [r["show_pct"] for r in rows], "muted": True}]}
    return charts


def _data() -> dict:
    return exhibitor_dashboard(current_user.exhibitor, locale=str(get_locale() or "en"))


def _label(dimension: dict) -> str:
    return {"category": _("Visitor category"), "country": _("Country")}.get(dimension["key"], dimension["label"])


@bp.route("/portal/dashboard")
@require(VIEW_EXHIBITOR_DASHBOARD, exhibitor=True)
def dashboard():
    data = _data()
    for dimension in data["profile"]["dimensions"]:
        dimension["label"] = _label(dimension)
    today = rebooking.edition_today(current_user.exhibitor.edition)
    offers = [o for o in rebooking.company_offers(current_user.exhibitor) if o.edition.ends_on >= today] \
        if has_permission(current_user, ANSWER_REBOOKING) else []  # the offers for editions still to come or on
    return render_template("postshow/exhibitor_dashboard.html", data=data, chart_specs=dashboard_charts(data),
                           exhibitor=current_user.exhibitor, other=OTHER, offers=offers)


@bp.route("/portal/dashboard.json")
@require(VIEW_EXHIBITOR_DASHBOARD, exhibitor=True)
def dashboard_json():
    data = _data()
    for dimension in data["profile"]["dimensions"]:
        dimension["label"] = _label(dimension)
    return {**data, "charts": dashboard_charts(data)}


@bp.route("/portal/roi-report.pdf")
@require(VIEW_EXHIBITOR_DASHBOARD, exhibitor=True)
def roi_report_pdf():
    """The exhibitor's ROI report (the PDF mailed after the show), in the reader's language, at any time."""
    exhibitor = current_user.exhibitor
    data = roi_report.roi_pdf(exhibitor, locale=str(get_locale() or "en"))
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{roi_report.filename(exhibitor)}"'})
