"""Follow-up pages: the exhibitor's change of a lead's follow-up (from the lead page or the list's quick change),
and the organizer's follow-up rates per exhibitor of an edition — counts and shares only, never a lead."""
from __future__ import annotations


from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, edition_scoped, require
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError
from ..exhibitors.models import Company, Exhibitor
from ..extensions import db
from . import VIEW_FOLLOW_UP_RATES, VIEW_LEADS, follow_up, services

bp = edition_scoped(Blueprint("lead_follow_up", __name__))
MAX_CHART = 25  # exhibitors in the chart (the table has them all)


@bp.route("/portal/leads/<int:lead_id>/follow-up", methods=["POST"])
@require(VIEW_LEADS, exhibitor=True)
def change(lead_id):
    """The follow-up form of the lead page, or the list's quick change (``status`` "lost:<reason>" carries the
    reason; ``back=list`` returns to the list with its filters)."""
    lead = services.get_lead(current_user, lead_id, for_update=True)
    if lead is None:
        abort(404)
    form = request.form
    status = form.get("status", "")
    status, _sep, reason = status.partition(":")
    change = {}
    if status:
        change["status"] = status
    if reason or "lost_reason" in form:
        change["lost_reason"] = reason or form.get("lost_reason", "")
    if "next_step_on" in form and (status or lead.follow_up_status) not in follow_up.CLOSED_STATUSES:
        # the lead page's form keeps the last day filled in: a won or lost lead simply has none
        change["next_step_on"] = form.get("next_step_on", "")
    if form.get("won_value", "") != "" and (status or lead.follow_up_status) == "won":
        change["won_value"] = form.get("won_value")
    try:
        changed = follow_up.apply_change(lead, **change, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("Follow-up saved.") if changed else _("Nothing changed."), "success")
    back = form.get("back", "")
    if back.startswith("list"):
        query = back.partition("?")[2]
        safe = query and query.isprintable() and len(query) < 2000
        return redirect(url_for("leads.leads") + (f"?{query}" if safe else ""))
    return redirect(url_for("leads.lead", lead_id=lead_id))


def panel(lead) -> dict:
    """What the lead page's follow-up card shows (views.lead passes it to the template)."""
    return {"history": follow_up.history(lead), "reasons": follow_up.LOST_REASONS,
            "reason_label": follow_up.lost_reason_label}


# --- the organizer: rates per exhibitor ------------------------------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/lead-follow-up")
@require(VIEW_FOLLOW_UP_RATES, organizer=True)
def rates():
    scope, edition = current_scope(), g.edition
    figures = follow_up.follow_up_rates(Scope(scope.organizer_id), edition.id)
    names = dict(db.session.execute(
        scoped(Exhibitor, Scope(scope.organizer_id), Exhibitor.id, Company.name)
        .join(Company, Company.id == Exhibitor.company_id).where(Exhibitor.id.in_(list(figures) or [0]))).all())
    rows = sorted(({"exhibitor_id": i, "name": names.get(i, f"#{i}"), **f} for i, f in figures.items()),
                  key=lambda r: (-r["leads"], r["name"].lower()))
    totals = {k: sum(r[k] for r in rows) for k in ("leads", "followed_up", "contacted_7d", "quotes", "won", "lost")}
    for key in ("followed_up", "contacted_7d", "won"):
        totals[f"{key}_rate"] = round(totals[key] / totals["leads"], 4) if totals["leads"] else None
    with_leads = [r for r in rows if r["leads"]][:MAX_CHART]
    chart = {"type": "hbar", "unit": "%", "labels": False,
             "categories": [r["name"] for r in with_leads][::-1],
             "series": [{"name": str(_("Contacted within 7 days")),
                         "data": [_pct(r["contacted_7d_rate"]) for r in with_leads][::-1]},
                        {"name": str(_("Any follow-up")), "data": [_pct(r["followed_up_rate"]) for r in with_leads][::-1]},
                        {"name": str(_("Won")), "data": [_pct(r["won_rate"]) for r in with_leads][::-1]}]}
    return render_template("leads/follow_up_rates.html", edition=edition, rows=rows, totals=totals, chart=chart,
                           chart_height=max(240, 60 + 46 * len(with_leads)), max_chart=MAX_CHART)


def _pct(share):
    return None if share is None else round(share * 100, 1)
