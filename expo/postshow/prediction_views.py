"""The Predictions page (REPORTS): every company's chance of rebooking and every person's chance of coming back
at the next edition, with the reasons, beside the model's backtest on the organizer's history; managers compute
it again (a Celery task)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, edition_scoped, require
from ..core.scoping import scoped
from ..core.paging import Page, page_number, page_size
from ..core.permissions import has_permission
from ..extensions import db
from ..visitors.models import Person
from . import RUN_PREDICTIONS, VIEW_REPORTS, backtest
from .models_predictions import PREDICTION_KIND
from .prediction_export import export_rows, subject_ids_for_ref
from .predictions import KINDS, latest_run

bp = edition_scoped(Blueprint("predictions", __name__))
STALE = timedelta(minutes=30)  # a queued run older than this is taken for dead: a new one may be asked


def _kind() -> str:
    kind = request.args.get("kind") or request.form.get("kind") or "exhibitor"
    return kind if kind in KINDS else "exhibitor"


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=timezone.utc) if moment is not None and moment.tzinfo is None else moment


def calibration_chart(bins: list[dict]) -> dict:
    """Observed against predicted rate per probability bin (charts.js format): on the diagonal is calibrated."""
    categories = [f"{round(b['low'] * 100)}–{round(b['high'] * 100)}%" for b in bins]
    return {"type": "line", "categories": categories, "unit": "%", "series": [
        {"name": _("Observed"), "data": [round(b["observed"] * 100, 1) for b in bins]},
        {"name": _("Predicted"), "data": [round(b["predicted"] * 100, 1) for b in bins], "dashed": True,
         "muted": True}]}


@bp.route("/org/editions/<int:edition_id>/predictions")
@require(VIEW_REPORTS, organizer=True)
def predictions():
    scope, edition, kind = current_scope(), g.edition, _kind()
    run = latest_run(scope, edition, kind)
    done = run if run is not None and run.status == "done" else latest_run(scope, edition, kind, done_only=True)
    per_page, number = page_size(request.args.get("per_page")), page_number(request.args.get("page"))
    ref = (request.args.get("ref") or "").replace("\x00", "").strip()[:100]
    subject_ids = subject_ids_for_ref(scope, edition, kind, ref) if ref else None
    total = done.scored if done is not None and subject_ids is None else len(subject_ids or [])
    pages = max(1, -(-total // per_page))
    number = min(number, pages)
    rows = export_rows(scope, edition, kind, offset=(number - 1) * per_page, limit=per_page, subject_ids=subject_ids, run=done) \
        if done is not None else []
    page = Page(rows, total, number, per_page)
    names = {}
    if kind == "visitor" and rows:
        names = dict(db.session.execute(scoped(Person, scope, Person.id, Person.name)
                                        .where(Person.id.in_([r["person_id"] for r in rows]))).all())
    metrics = (done or run).metrics.get("backtest", {}) if (done or run) is not None else {}
    busy = run is not None and run.status == "queued" and \
        datetime.now(timezone.utc) - _aware(run.created_at) < STALE
    return render_template("postshow/predictions.html", edition=edition, kind=kind, kinds=PREDICTION_KIND,
                           run=run, done=done, page=page, names=names, ref=ref, metrics=metrics, busy=busy,
                           chart=calibration_chart(metrics.get("bins") or []),
                           may_compute=has_permission(current_user, RUN_PREDICTIONS))


@bp.route("/org/editions/<int:edition_id>/predictions/compute", methods=["POST"])
@require(RUN_PREDICTIONS, organizer=True)
def compute():
    from .prediction_tasks import compute_predictions

    scope, edition, kind = current_scope(), g.edition, _kind()
    run = latest_run(scope, edition, kind)
    if run is not None and run.status == "queued" and datetime.now(timezone.utc) - _aware(run.created_at) < STALE:
        flash(_("The predictions are being computed already; this page shows them when they are ready."), "info")
        return redirect(url_for("predictions.predictions", kind=kind))
    run = backtest.queue_run(edition, kind, user_id=current_user.id)
    db.session.commit()
    compute_predictions.delay(run.id)
    flash(_("The predictions are being computed; this page shows them when they are ready."), "success")
    return redirect(url_for("predictions.predictions", kind=kind))
