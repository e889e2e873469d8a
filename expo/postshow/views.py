"""Post-show: the edition report."""
from flask import Blueprint, render_template

from ..core import permissions as perm
from ..core.auth import current_scope, require
from ..core.models import Edition
from ..core.scoping import get_scoped_or_404
from . import services

bp = Blueprint("postshow", __name__)


@bp.route("/org/editions/<int:edition_id>/report")
@require(perm.VIEW_REPORTS, organizer=True)
def report(edition_id):
    scope = current_scope()
    edition = get_scoped_or_404(Edition, edition_id, scope)
    return render_template("postshow/report.html", report=services.edition_report(scope, edition))
