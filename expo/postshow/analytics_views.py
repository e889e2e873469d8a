"""The edition analytics page (issue 11): pre-aggregated figures against earlier editions, every figure a link to
the list of the rows it counts (the registrations, exhibitors, surveys and follow-up pages; for returning visitors,
show days, hours and zones, this module's own drill-down list)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import get_locale

from ..core.auth import current_scope, edition_scoped, require
from ..core.paging import page_number
from ..core.scoping import scoped
from ..exhibitors.models import PARTICIPATING_STATUSES
from ..extensions import db
from . import VIEW_REPORTS, aggregates, analytics
from .views import _label, _url, counted_statuses

bp = edition_scoped(Blueprint("analytics", __name__))
VIEW_REGISTRATIONS = "view_registrations"
MUTED = {"dashed": True, "muted": True}


def _pct(value):
    return None if value is None else round(100 * value, 1)


def _registrations_url(edition_id: int, **filters) -> str | None:
    return _url("visitors.registrations", VIEW_REGISTRATIONS, edition_id=edition_id, status=counted_statuses(),
                **filters)


def _rows_url(edition_id: int, figure: str, value="") -> str | None:
    return _url("analytics.rows", VIEW_REGISTRATIONS, edition_id=edition_id, figure=figure, value=value)


def _series(editions: list[dict], values, **current) -> list[dict]:
    """One series per edition, the earlier ones muted and dashed, the edition itself last."""
    out = []
    for i, e in enumerate(editions):
        last = i == len(editions) - 1
        out.append({"name": e["name"], "data": values(e), **({} if last else MUTED), **(current if last else {})})
    return out


def charts(data: dict) -> dict:
    editions, this = data["editions"], data["editions"][-1]
    names = [e["name"] for e in editions]
    ids = [e["id"] for e in editions]
    categories = sorted({c for e in editions for c in e["categories"]}, key=lambda c: -this["categories"].get(c, 0))
    sources = sorted({s for e in editions for s in e["sources"]}, key=lambda s: -this["sources"].get(s, 0))
    longest = max(len(e["days"]) for e in editions)
    day_labels = [_("Day %(n)d", n=i + 1) for i in range(longest)]
    seen = {int(h) for e in editions for h in e["hours"]}
    hours = list(range(min(seen), max(seen) + 1)) if seen else []
    zone_name = "name_zh" if str(get_locale() or "en").startswith("zh") else "name_en"
    top = data["top_exhibitors"]
    buckets = data["lead_buckets"]
    bucket_labels = [f"{low}" if low == 0 else (f"{low}+" if i == len(buckets) - 1 else f"{low}–{buckets[i + 1] - 1}")
                     for i, low in enumerate(buckets)]
    out = {
        "trend": {"type": "bar", "categories": names,
                  "series": [{"name": _("Registrations"), "data": [e["registrations"] for e in editions]},
                             {"name": _("Visitors who came"), "data": [e["attended"] for e in editions]},
                             {"name": _("Returning visitors"), "data": [e["returning"] for e in editions]}],
                  "urls": [_registrations_url(i) for i in ids]},
        "days": {"type": "bar", "categories": day_labels,
                 "series": _series(editions, lambda e: [d["visitors"] for d in e["days"]] + [None] * (longest - len(e["days"]))),
                 "urls": [_rows_url(this["id"], "day", d["day"]) for d in this["days"]]
                 + [None] * (longest - len(this["days"]))},
        "hours": {"type": "line", "categories": [f"{h:02d}:00" for h in hours],
                  "series": _series(editions, lambda e: [e["hours"].get(str(h), 0) for h in hours]),
                  "urls": [_rows_url(this["id"], "hour", str(h)) for h in hours]},
        "zones": {"type": "hbar", "categories": [z[zone_name] or z["name_en"] or z["name_zh"] for z in data["zones"]],
                  "series": [{"name": _("Visitors"), "data": [z["visitors"] for z in data["zones"]]}],
                  "urls": [_rows_url(this["id"], "zone", str(z["id"])) for z in data["zones"]]},
        "buyers": {"type": "bar", "unit": "%", "categories": names,
                   "series": [{"name": _("Share of registrations"), "data": [_pct(e["buyer_share"]) for e in editions]},
                              {"name": _("Share of visitors who came"),
                               "data": [_pct(e["buyer_share_attended"]) for e in editions]}],
                   "urls": [_registrations_url(i, category="buyer") for i in ids]},
        "categories": {"type": "hbar", "categories": [_label("visitor_category", c) for c in categories],
                       "series": _series(editions, lambda e: [e["categories"].get(c, 0) for c in categories]),
                       "urls": [_registrations_url(this["id"], category=c) for c in categories]},
        "sources": {"type": "hbar", "categories": [_label("registration_source", s) for s in sources],
                    "series": _series(editions, lambda e: [e["sources"].get(s, 0) for s in sources]),
                    "urls": [_registrations_url(this["id"], source=s) for s in sources]},
        "returning": {"type": "bar", "unit": "%", "categories": names,
                      "series": [{"name": _("Returning visitors"), "data": [_pct(e["returning_share"]) for e in editions]}],
                      "urls": [_rows_url(i, "returning") for i in ids]},
        "exhibitors": {"type": "bar", "categories": names,
                       "series": [{"name": _("Leads"), "data": [e["exhibitors"]["leads"] for e in editions]},
                                  {"name": _("Hot leads"), "data": [e["exhibitors"]["hot"] for e in editions]},
                                  {"name": _("Meetings"), "data": [e["exhibitors"]["meetings"] for e in editions]}]},
        "distribution": {"type": "bar", "categories": bucket_labels,
                         "series": _series(editions, lambda e: e["exhibitors"]["buckets"])},
        "top": {"type": "hbar", "categories": [x["name"] for x in top],
                "series": [{"name": _("Leads"), "data": [x["leads"] for x in top]},
                           {"name": _("Hot leads"), "data": [x["hot"] for x in top]}]},
        "nps": {"type": "bar", "categories": names,
                "series": [{"name": _("Visitors"), "data": [(e["nps"]["visitor"] or {}).get("score") for e in editions]},
                           {"name": _("Exhibitors"),
                            "data": [(e["nps"]["exhibitor"] or {}).get("score") for e in editions]}],
                "urls": [_url("surveys.index", "view_surveys", edition_id=i) for i in ids]},
        "follow_up": {"type": "bar", "unit": "%", "categories": names,
                      "series": [{"name": _("Followed up"),
                                  "data": [_pct((e["follow_up"] or {}).get("followed_up_rate")) for e in editions]},
                                 {"name": _("Won"), "data": [_pct((e["follow_up"] or {}).get("won_rate")) for e in editions]}],
                      "urls": [_url("lead_follow_up.rates", "view_follow_up_rates", edition_id=i) for i in ids]},
    }
    return out


def links(data: dict) -> dict:
    """The drill-down links of the figure cards and tables (None where the user may not open the list)."""
    this = data["editions"][-1]
    edition_id = this["id"]
    exhibitors = _url("exhibitors.edition_exhibitors", "manage_exhibitors", edition_id=edition_id,
                      status=list(PARTICIPATING_STATUSES))
    return {"registrations": _registrations_url(edition_id), "attended": _registrations_url(edition_id, checked_in="yes"),
            "buyers": _registrations_url(edition_id, category="buyer"),
            "buyers_attended": _registrations_url(edition_id, category="buyer", checked_in="yes"),
            "returning": _rows_url(edition_id, "returning"), "exhibitors": exhibitors,
            "nps": _url("surveys.index", "view_surveys", edition_id=edition_id),
            "follow_up": _url("lead_follow_up.rates", "view_follow_up_rates", edition_id=edition_id),
            "days": {d["day"]: _rows_url(edition_id, "day", d["day"]) for d in this["days"]},
            "editions": {e["id"]: _registrations_url(e["id"]) for e in data["editions"]},
            "returning_by_edition": {e["id"]: _rows_url(e["id"], "returning") for e in data["editions"]}}


@bp.route("/org/editions/<int:edition_id>/analytics")
@require(VIEW_REPORTS, organizer=True)
def page():
    snapshot = aggregates.current(current_scope(), g.edition)
    data = snapshot.data
    return render_template("postshow/analytics.html", edition=g.edition, data=data, snapshot=snapshot,
                           chart_specs=charts(data), links=links(data), stale=aggregates.stale(snapshot),
                           refresh_minutes=aggregates.REFRESH_MINUTES)


@bp.route("/org/editions/<int:edition_id>/analytics.json")
@require(VIEW_REPORTS, organizer=True)
def data_json():
    snapshot = aggregates.current(current_scope(), g.edition)
    return {**snapshot.data, "computed_at": snapshot.computed_at.isoformat(), "charts": charts(snapshot.data)}


@bp.route("/org/editions/<int:edition_id>/analytics/refresh", methods=["POST"])
@require(VIEW_REPORTS, organizer=True)
def refresh():
    aggregates.refresh_edition.delay(g.edition.id)  # a Celery task: at 250,000 registrations it takes seconds
    flash(_("The figures are being computed again: reload the page in a moment."), "success")
    return redirect(url_for("analytics.page", edition_id=g.edition.id))


@bp.route("/org/editions/<int:edition_id>/analytics/rows")
@require(VIEW_REPORTS, VIEW_REGISTRATIONS, organizer=True)
def rows():
    figure, value = request.args.get("figure") or "returning", (request.args.get("value") or "")[:20]
    result = analytics.figure_rows(current_scope(), g.edition, figure, value,
                                   page=page_number(request.args.get("page"))) \
        if figure in analytics.FIGURES and "\x00" not in value else None
    if result is None:
        abort(404)
    titles = {"returning": _("Returning visitors"), "day": _("Visitors on %(day)s", day=value),
              "hour": _("Arrivals between %(hour)s:00 and %(hour)s:59", hour=value.zfill(2)),
              "zone": _("Visitors who entered the zone")}
    zone = None
    if figure == "zone":
        from ..onsite.models import zone_models

        Zone = zone_models.Zone
        zone = db.session.scalar(scoped(Zone, current_scope()).where(Zone.id == int(value),
                                                                     Zone.edition_id == g.edition.id))
    return render_template("postshow/analytics_rows.html", edition=g.edition, figure=figure, value=value,
                           title=titles[figure], zone=zone, p=result)

