"""On-site pages: the exhibitor's booth scanner and the entrance check-in page."""
from __future__ import annotations

import uuid

from flask import Blueprint, g, render_template
from flask_login import current_user
from markupsafe import Markup

from ..core.auth import edition_scoped, require
from ..core.models import Edition
from ..core.registry import registry
from ..core.services import ServiceError
from ..extensions import db
from . import CHECK_IN, SCAN_LEADS, pwa, services
from .forms import ScanForm

bp = edition_scoped(Blueprint("onsite", __name__))
# The status types whose labels, colours and icons the scan pages and static/scanner.js show.
SCAN_MACHINES = ("scan_result", "scan_reason", "visitor_category")


def _scan_page(kind: str, template: str, edition: Edition, **context):
    form = ScanForm()
    outcome = None
    if form.validate_on_submit():
        try:
            outcome = services.record_scan(current_user, code=form.code.data, kind=kind,
                                           client_scan_id=form.client_scan_id.data or str(uuid.uuid4()),
                                           gate=form.gate.data or None, edition_id=edition.id)
        except services.ScanRace as race:
            db.session.rollback()
            outcome = services.replay_scan(current_user, race.client_scan_id)
        except ServiceError as error:
            db.session.rollback()
            form.code.errors.append(str(error))
    form.code.data = ""
    form.client_scan_id.data = str(uuid.uuid4())
    machines = {name: machine for name, machine in registry.machines().items() if name in SCAN_MACHINES}
    return render_template(template, form=form, outcome=outcome, edition=edition, recent=services.recent_scans(current_user, edition, kind),
                           kind=kind, machines=machines, sw_url=pwa.register_url(), **context)


@bp.route("/portal/scan", methods=["GET", "POST"])
@require(SCAN_LEADS, exhibitor=True)
def scanner():
    exhibitor = current_user.exhibitor
    return _scan_page("lead", "onsite/scanner.html", exhibitor.edition, exhibitor=exhibitor)


@bp.route("/org/editions/<int:edition_id>/checkin", methods=["GET", "POST"])
@require(CHECK_IN, organizer=True)
def checkin():
    return _scan_page("checkin", "onsite/checkin.html", g.edition)


def checkin_panel(scope, registration):
    """The visitor's check-ins on the registration desk page (a hook the visitors module calls)."""
    return Markup(render_template("onsite/_registration_checkins.html", edition=registration.edition,
                                  checkins=services.registration_checkins(scope, registration)))
