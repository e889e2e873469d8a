"""Post-show: the edition report."""
from flask import Blueprint, g, render_template

from ..core.auth import current_scope, edition_scoped, require
from . import VIEW_REPORTS, services

bp = edition_scoped(Blueprint("postshow", __name__))


@bp.route("/org/editions/<int:edition_id>/report")
@require(VIEW_REPORTS, organizer=True)
def report():
    return render_template("postshow/report.html", report=services.edition_report(current_scope(), g.edition))
