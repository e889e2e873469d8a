"""Post-show: the edition report, the edition dashboard (a panel on core's edition page) and its JSON."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from werkzeug.routing import BuildError

from ..core.auth import current_scope, edition_scoped, require
from ..core.permissions import has_permission
from ..core.registry import registry
from ..core.services import ServiceError
from ..exhibitors.models import PARTICIPATING_STATUSES
from . import SEND_REBOOKING_OFFERS, VIEW_REPORTS, aggregates, rebooking, roi_report, services

bp = edition_scoped(Blueprint("postshow", __name__))


def _label(machine: str, code: str) -> str:
    return registry.machines()[machine].label(code) if machine in registry.machines() else code


def _url(endpoint: str, permission: str, **args) -> str | None:
    """A drill-down link, only for users who may open it and when the endpoint exists."""
    if not has_permission(current_user, permission):
        return None
    try:
        return url_for(endpoint, **args)
    except BuildError:  # a module that is not installed
        return None


def counted_statuses() -> list[str]:
    """The registration statuses the figures count (all but cancelled): the lists they link to filter on them."""
    return [code for code in registry.machines()["registration_status"].codes if code != "cancelled"]


def _mix_chart(counts: list[tuple[str, int]], name: str, urls: list[str | None] | None = None) -> dict:
    """Parts of a whole as a horizontal bar, largest first, with the value at the bar's end (it stays legible
    on a phone, where a donut's outside labels get clipped); each bar may open its filtered list."""
    chart = {"type": "hbar", "categories": [label for label, _value in counts],
             "series": [{"name": name, "data": [value for _label, value in counts]}]}
    if urls and any(urls):
        chart["urls"] = urls
    return chart


def dashboard_charts(data: dict) -> dict:
    """The dashboard's chart descriptions (static/charts.js format), labels in the current language."""
    pace = data["pace"]
    series = [{"name": data["edition"]["name"], "data": pace["current"]}]
    if pace["previous"] is not None:
        series.append({"name": data["previous"]["name"], "data": pace["previous"], "dashed": True, "muted": True})
    # Opening and today as vertical lines; when they are too close for two labels, today's wins during the
    # show and the opening's before it (the current line ends at today anyway).
    today, near = pace["today"], max(2, len(pace["days"]) // 12)
    marks = []
    if not (0 < today <= near and today in pace["days"]):
        marks.append({"at": "D-0", "label": _("Opening")})
    if today in pace["days"] and (today > 0 or today < -near):
        marks.append({"at": services.day_label(today), "label": _("Today")})
    registrations = _("Registrations")

    category_urls = [_url("visitors.registrations", "view_registrations", category=c["code"], status=counted_statuses())
                     for c in data["categories"]]
    checkins = data["checkins"]
    leads = data["leads"]["exhibitors"]
    return {
        "pace": {"type": "line", "categories": pace["labels"], "series": series, "marks": marks},
        "categories": _mix_chart([(_label("visitor_category", c["code"]), c["count"]) for c in data["categories"]],
                                 registrations, category_urls),
        "checkins": {"type": "stack", "categories": [f"{h:02d}:00" for h in checkins["hours"]],
                     "series": [{"name": gate["gate"] or _("No gate named"), "data": gate["counts"]}
                                for gate in checkins["gates"]]},
        "leads": {"type": "hbar", "categories": [e["name"] for e in leads],
                  "series": [{"name": _("Leads"), "data": [e["leads"] for e in leads]}]},
    }


def dashboard_context(scope, edition) -> dict:
    data = aggregates.dashboard(scope, edition)  # analytics: from the snapshot for large editions
    return {"data": data, "chart_specs": dashboard_charts(data), "counted_statuses": counted_statuses(),
            "participating": list(PARTICIPATING_STATUSES)}


def dashboard_panel(scope, edition):
    """The figures and charts of the edition page (core's ``edition_dashboard`` hook): for users who read
    reports; the others get the plain edition page."""
    if not has_permission(current_user, VIEW_REPORTS):
        return None
    return Markup(render_template("postshow/_dashboard.html", edition=edition, **dashboard_context(scope, edition)))


@bp.route("/org/editions/<int:edition_id>/dashboard.json")
@require(VIEW_REPORTS, organizer=True)
def dashboard_json():
    data = aggregates.dashboard(current_scope(), g.edition)
    return {**data, "charts": dashboard_charts(data)}


def report_charts(report) -> dict:
    by_category = [(_label("visitor_category", r.category), int(r.registrations)) for r in report.by_category.itertuples()]
    by_source = [(_label("registration_source", r.source), int(r.registrations)) for r in report.by_source.itertuples()]
    by_day = report.checkins_by_day
    leads = report.leads_per_exhibitor.head(services.TOP_EXHIBITORS)
    return {
        "by-category": _mix_chart(by_category, _("Registrations")),
        "by-source": _mix_chart(by_source, _("Registrations")),
        "by-day": {"type": "bar", "categories": [d.isoformat() for d in by_day["day"]],
                   "series": [{"name": _("Visitors"), "data": [int(v) for v in by_day["visitors"]]},
                              {"name": _("Scans"), "data": [int(v) for v in by_day["scans"]]}]},
        "leads": {"type": "hbar", "categories": list(leads["exhibitor"]),
                  "series": [{"name": _("Leads"), "data": [int(v) for v in leads["leads"]]},
                             {"name": _("Hot"), "data": [int(v) for v in leads["hot"]]}]},
    }


@bp.route("/org/editions/<int:edition_id>/report")
@require(VIEW_REPORTS, organizer=True)
def report():
    report = services.edition_report(current_scope(), g.edition)
    return render_template("postshow/report.html", report=report, chart_specs=report_charts(report),
                           roi_mailed_at=roi_report.mailed_at(g.edition),
                           show_over=rebooking.edition_today(g.edition) > g.edition.ends_on,
                           can_mail_roi=has_permission(current_user, SEND_REBOOKING_OFFERS))


@bp.route("/org/editions/<int:edition_id>/report/roi-reports", methods=["POST"])
@require(SEND_REBOOKING_OFFERS, organizer=True)
def mail_roi_reports():
    """Mail every exhibitor its ROI report (a Celery task renders and queues them): once, after the show."""
    edition = g.edition
    try:
        roi_report.check_mailable(edition)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        from .roi_tasks import mail_roi_reports as task

        task.delay(edition.id, current_user.id)
        flash(_("The exhibitors' ROI reports are being prepared and mailed."), "success")
    return redirect(url_for("postshow.report", edition_id=edition.id))
