"""On-site pages: the exhibitor's booth scanner and the entrance check-in page."""
import uuid

from flask import Blueprint, render_template
from flask_login import current_user

from ..core import permissions as perm
from ..core.auth import current_scope, require
from ..core.models import Edition
from ..core.scoping import get_scoped_or_404
from ..core.services import ServiceError
from ..extensions import db
from . import services
from .forms import ScanForm

bp = Blueprint("onsite", __name__)


def _scan_page(kind: str, template: str, edition: Edition, **context):
    form = ScanForm()
    outcome = None
    if form.validate_on_submit():
        try:
            outcome = services.record_scan(current_user, code=form.code.data, kind=kind,
                                           client_scan_id=form.client_scan_id.data or str(uuid.uuid4()),
                                           gate=form.gate.data or None, edition_id=edition.id)
        except ServiceError as error:
            db.session.rollback()
            form.code.errors.append(str(error))
        else:
            db.session.commit()
    form.code.data = ""
    form.client_scan_id.data = str(uuid.uuid4())
    recent = services.scans(current_scope(), edition, kind, limit=10)
    return render_template(template, form=form, outcome=outcome, edition=edition, recent=recent, kind=kind,
                           **context)


@bp.route("/portal/scan", methods=["GET", "POST"])
@require(perm.SCAN_LEADS, exhibitor=True)
def scanner():
    exhibitor = current_user.exhibitor
    return _scan_page("lead", "onsite/scanner.html", exhibitor.edition, exhibitor=exhibitor)


@bp.route("/org/editions/<int:edition_id>/checkin", methods=["GET", "POST"])
@require(perm.CHECK_IN, organizer=True)
def checkin(edition_id):
    edition = get_scoped_or_404(Edition, edition_id, current_scope())
    return _scan_page("checkin", "onsite/checkin.html", edition)
