"""Customers pages (issue 11): lifecycle stages, RFM, value tiers and the 80/20 view of an edition's companies and
persons; the weights settings; the panels on the company and person pages. Thin: the figures come from
``values`` (grouped queries) and ``customers`` (settings, lists)."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func

from ..core.auth import current_scope, edition_scoped, require
from ..core.models import Edition
from ..core.paging import Page, page_number, page_size
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError
from ..core.states import State
from ..exhibitors.models import PARTICIPATING_STATUSES, Exhibitor
from ..extensions import db
from ..visitors.models import Registration
from . import MANAGE_CUSTOMER_VALUES, VIEW_REPORTS, customers, values
from . import lifecycle as lc

bp = edition_scoped(Blueprint("customers", __name__))
KINDS = {"companies": "company", "persons": "person"}


def stage_state(code: str | None) -> State | None:
    return State(code, lc.STAGE_LABELS[code], lc.STAGE_STYLES[code], "signpost-split") if code else None


def tier_state(code: str) -> State:
    return State(code, lc.TIER_LABELS[code], lc.TIER_STYLES[code], "gem" if code == "vip" else "award")


def _charts(companies: values.Analysis, persons: values.Analysis) -> dict:
    """The overview's charts (static/charts.js format): stages and tiers of both audiences, the Pareto curve."""
    def shares(a, attribute, codes):
        counts = a.counts(attribute, codes)
        total = sum(counts.values()) or 1
        return [round(100.0 * counts[c] / total, 1) for c in codes]

    stage_urls = [url_for("customers.companies", stage=s) for s in lc.STAGES]
    tier_urls = [url_for("customers.companies", tier=t) for t in lc.TIERS]
    charts = {
        "stages": {"type": "bar", "unit": "%", "categories": [str(lc.STAGE_LABELS[s]) for s in lc.STAGES],
                   "urls": stage_urls,
                   "series": [{"name": _("Companies"), "data": shares(companies, "stage", lc.STAGES)},
                              {"name": _("Persons"), "data": shares(persons, "stage", lc.STAGES)}]},
        "tiers": {"type": "bar", "unit": "%", "categories": [str(lc.TIER_LABELS[t]) for t in lc.TIERS],
                  "urls": tier_urls,
                  "series": [{"name": _("Companies"), "data": shares(companies, "tier", lc.TIERS)},
                             {"name": _("Persons"), "data": shares(persons, "tier", lc.TIERS)}]},
    }
    pareto = companies.pareto
    if pareto and pareto.customers:
        xs = [p[0] for p in pareto.points]
        charts["pareto"] = {
            "option": {
                "aria": {"enabled": True},
                "grid": {"left": 48, "right": 24, "top": 24, "bottom": 48, "containLabel": True},
                "tooltip": {"trigger": "axis"},
                "xAxis": {"type": "value", "min": 0, "max": 100, "name": _("Share of exhibitors (%)"),
                          "nameLocation": "middle", "nameGap": 28, "axisLabel": {"formatter": "{value}%"}},
                "yAxis": {"type": "value", "min": 0, "max": 100, "name": _("Share of revenue (%)"),
                          "axisLabel": {"formatter": "{value}%"}},
                "series": [
                    {"name": _("Cumulative share of revenue"), "type": "line", "showSymbol": len(xs) <= 40,
                     "areaStyle": {"opacity": 0.12}, "data": [list(p) for p in pareto.points],
                     "markLine": {"symbol": "none", "silent": True, "lineStyle": {"type": "dotted"},
                                  "data": [{"yAxis": 80, "name": "80%"}, {"xAxis": 20, "name": "20%"}]}},
                    {"name": _("Equal shares"), "type": "line", "showSymbol": False, "data": [[0, 0], [100, 100]],
                     "lineStyle": {"type": "dashed", "color": "#adb5bd"}, "itemStyle": {"color": "#adb5bd"}},
                ],
            }
        }
    return charts


@bp.route("/org/editions/<int:edition_id>/customers")
@require(VIEW_REPORTS, organizer=True)
def overview():
    scope, edition = current_scope(), g.edition
    settings = customers.load_settings(scope)
    by_company = values.analyse_companies(scope, edition, settings)
    by_person = values.analyse_persons(scope, edition, settings)
    return render_template("postshow/customers.html", edition=edition, companies=by_company, persons=by_person,
                           settings=settings, chart_specs=_charts(by_company, by_person), lc=lc, stage_state=stage_state,
                           tier_state=tier_state, company_labels=values.COMPANY_LABELS,
                           person_labels=values.PERSON_LABELS)


@bp.route("/org/editions/<int:edition_id>/customers/companies")
@require(VIEW_REPORTS, organizer=True)
def companies():
    return _list("companies")


@bp.route("/org/editions/<int:edition_id>/customers/persons")
@require(VIEW_REPORTS, organizer=True)
def persons():
    return _list("persons")


def _list(kind: str):
    scope, edition = current_scope(), g.edition
    audience = KINDS[kind]
    stage = request.args.get("stage", "")
    stage = stage if stage in lc.STAGES else ""
    tier = request.args.get("tier", "")
    tier = tier if tier in lc.TIERS else ""
    sort = request.args.get("sort", "net_value")
    sort = sort if sort in customers.SORTS else "net_value"
    text = (request.args.get("q") or "").replace("\x00", "").strip()[:100]
    analysis = (values.analyse_companies if audience == "company" else values.analyse_persons)(scope, edition)
    ids = customers.name_matches(scope, audience, text) if text else None
    rows = customers.filtered(analysis.values, stage=stage, tier=tier, sort=sort, ids=ids)
    per_page = page_size(request.args.get("per_page"))
    page = page_number(request.args.get("page"))
    pages = max(1, -(-len(rows) // per_page))
    page = min(page, pages)
    shown = rows[(page - 1) * per_page: page * per_page]
    p = Page(shown, len(rows), page, per_page)
    named = customers.names(scope, audience, [v.subject_id for v in shown])
    return render_template("postshow/customers_list.html", edition=edition, kind=kind, audience=audience,
                           analysis=analysis, page=p, named=named, stage=stage, tier=tier, sort=sort, q=text,
                           lc=lc, stage_state=stage_state, tier_state=tier_state, sorts=SORT_LABELS)


SORT_LABELS = {"net_value": _l("Net value"), "rfm": _l("RFM total"), "recency": _l("Recency"),
               "frequency": _l("Frequency"), "monetary": _l("Monetary"), "stage": _l("Lifecycle stage")}


@bp.route("/org/editions/<int:edition_id>/customers/weights", methods=["GET", "POST"])
@require(VIEW_REPORTS, MANAGE_CUSTOMER_VALUES, organizer=True)
def weights():
    scope, edition = current_scope(), g.edition
    settings = customers.load_settings(scope)
    error = None
    form = request.form if request.method == "POST" else None
    if request.method == "POST":
        if request.form.get("action") == "reset":
            customers.reset_settings(scope, user_id=current_user.id)
            db.session.commit()
            flash(_("The weights are back to the defaults."), "success")
            return redirect(url_for("customers.weights"))
        try:
            parsed = customers.parse_settings(request.form)
            customers.save_settings(scope, parsed, user_id=current_user.id)
        except ServiceError as refused:
            db.session.rollback()
            error = refused
        else:
            db.session.commit()
            flash(_("Weights saved: the tiers are computed with them from now on."), "success")
            return redirect(url_for("customers.overview"))
    status = 400 if error is not None else 200
    return render_template("postshow/customers_weights.html", edition=edition, settings=settings, form=form,
                           error=error, company_labels=values.COMPANY_LABELS, person_labels=values.PERSON_LABELS,
                           company_features=values.COMPANY_FEATURES,
                           person_features=values.PERSON_FEATURES, defaults=customers.DEFAULTS), status


# --- panels on the company and person pages (hooks) ------------------------------------------------------


def _reference_edition(scope: Scope, show_id: int, latest_taken: Edition) -> Edition:
    """The edition a customer's stage is read at: the show's latest edition that has begun (so that a missed
    edition shows as decline), or the customer's own latest one if that is later."""
    today = date.today()
    begun = db.session.scalar(scoped(Edition, scope).where(Edition.show_id == show_id, Edition.starts_on <= today)
                              .order_by(Edition.starts_on.desc(), Edition.id.desc()).limit(1))
    if begun is None or latest_taken.starts_on > begun.starts_on:
        return latest_taken
    return begun


PANEL_RANK_LIMIT = 5000  # above this many customers in a show, the panel shows the stage only (ranking costs)


def _panel(scope: Scope, audience: str, subject_id: int, latest_by_show: dict[int, Edition]) -> dict | None:
    rows, tiers = [], []
    for show_id, latest in latest_by_show.items():
        edition = _reference_edition(scope, show_id, latest)
        list_url = url_for("customers.companies" if audience == "company" else "customers.persons",
                           edition_id=edition.id)
        row = {"edition": {"text": edition.name, "url": list_url}}
        if values.population(scope, edition, audience) <= PANEL_RANK_LIMIT:
            analyse = values.analyse_companies if audience == "company" else values.analyse_persons
            found = analyse(scope, edition).values.get(subject_id)
            if found is None:
                continue
            row.update(stage=stage_state(found.stage), rule=found.stage_rule, rfm=found.rfm_text,
                       net_value=found.net_value, tier=tier_state(found.tier), tier_rule=found.tier_rule)
            tiers.append(row["tier"])
        else:
            found = values.single_stage(scope, edition, audience, subject_id)
            if found is None:
                continue
            row.update(stage=stage_state(found.code), rule=found.rule, rfm=None, net_value=None,
                       tier={"text": _l("See the Customers list"), "url": list_url}, tier_rule=None)
        rows.append(row)
    if not rows:
        return None
    panel = {"key": "customer-value", "title": _l("Lifecycle stage and value tier"), "icon": "gem",
             "columns": [("edition", _l("At edition")), ("stage", _l("Lifecycle stage")), ("rule", _l("Why")),
                         ("rfm", _l("RFM")), ("net_value", _l("Net value")), ("tier", _l("Tier")),
                         ("tier_rule", _l("Tier rule"))],
             "numeric": ("net_value",), "rows": rows,
             "note": _l("RFM: recency, frequency, monetary, each scored 1–5 within the show (5 is best)."),
             "empty": _l("Not a customer of any edition yet.")}
    if tiers:
        panel["kpi"] = {"value": str(tiers[0].label), "label": _l("Value tier"), "icon": "gem"}
    return panel


def company_panel(scope: Scope, company, name_keys, allowed) -> dict | None:
    """The hook ``company_panels``: the company's stage, RFM and tier at each show it exhibited at."""
    if not allowed(VIEW_REPORTS):
        return None
    latest = db.session.execute(
        scoped(Exhibitor, scope, Edition.show_id, func.max(Edition.starts_on)).select_from(Exhibitor)
        .join(Edition, Edition.id == Exhibitor.edition_id)
        .where(Exhibitor.company_id == company.id, Exhibitor.status.in_(PARTICIPATING_STATUSES))
        .group_by(Edition.show_id)).all()
    return _panel(scope, "company", company.id, _latest_editions(scope, latest))


def person_panel(scope: Scope, person, registrations: list, allowed) -> dict | None:
    """The hook ``person_panels``: the person's stage, RFM and tier at each show they registered for."""
    if not allowed(VIEW_REPORTS):
        return None
    latest = db.session.execute(
        scoped(Registration, scope, Edition.show_id, func.max(Edition.starts_on)).select_from(Registration)
        .join(Edition, Edition.id == Registration.edition_id)
        .where(Registration.person_id == person.id, Registration.status != "cancelled")
        .group_by(Edition.show_id)).all()
    return _panel(scope, "person", person.id, _latest_editions(scope, latest))


def _latest_editions(scope: Scope, pairs) -> dict[int, Edition]:
    out = {}
    for show_id, starts_on in pairs:
        edition = db.session.scalar(scoped(Edition, scope).where(Edition.show_id == show_id,
                                                                 Edition.starts_on == starts_on).limit(1))
        if edition is not None:
            out[show_id] = edition
    return out
