"""On-site pages: the exhibitor's booth scanner and the entrance check-in page."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import Blueprint, g, render_template
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core.auth import current_scope, edition_scoped, require
from ..core.models import Edition
from ..core.registry import registry
from ..core.services import ServiceError
from ..extensions import db
from ..visitors.models import Registration
from . import CHECK_IN, SCAN_LEADS, services
from .forms import ScanForm
from .models import Scan

bp = edition_scoped(Blueprint("onsite", __name__))
RECENT_ROWS = 10
# The status types whose labels, colours and icons the scan pages and static/scanner.js show.
SCAN_MACHINES = ("scan_result", "scan_reason", "visitor_category")


@dataclass(frozen=True)
class RecentScan:
    """A row of the recent-scans strip: the scan and what this scanner may see of its visitor."""

    scan: Scan
    visitor: dict | None


def recent_scans(edition: Edition, kind: str, limit: int = RECENT_ROWS) -> list[RecentScan]:
    """The user's latest scans of this kind, newest (by scan time) first, each with the visitor as the scanner
    may see them: entrance staff the name, booth staff what the visitor agreed to share (as in the verdict)."""
    scans = services.scans(current_scope(), edition, kind, limit=limit)
    ids = {scan.registration_id for scan in scans if scan.registration_id is not None}
    # the scans are scoped; their registrations are loaded by id, with their persons, in one query
    registrations = {r.id: r for r in db.session.scalars(
        select(Registration).where(Registration.id.in_(ids)).options(joinedload(Registration.person)))} if ids else {}
    rows = [RecentScan(scan, services.ScanOutcome(services.ScanFacts.of(scan),
                                                  registrations.get(scan.registration_id)).visitor())
            for scan in scans]
    rows.sort(key=lambda row: (row.scan.scanned_at, row.scan.id), reverse=True)
    return rows


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
    return render_template(template, form=form, outcome=outcome, edition=edition, recent=recent_scans(edition, kind),
                           kind=kind, machines=machines, **context)


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
