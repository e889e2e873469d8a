"""On-site pages: the exhibitor's scanner and lead list, the entrance check-in page."""
import uuid
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, redirect, render_template, url_for
from flask_login import current_user

from ..core import permissions as perm
from ..core.auth import current_scope, require
from ..core.forms import choices
from ..core.models import Edition
from ..core.scoping import get_scoped_or_404
from ..core.services import ServiceError
from ..core.templating import label
from ..extensions import db
from . import services
from .forms import LeadForm, ScanForm
from .models import LEAD_RATINGS, Lead

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


@bp.route("/portal/leads")
@require(perm.SCAN_LEADS, exhibitor=True)
def leads():
    exhibitor = current_user.exhibitor
    rows = [(lead, services.lead_contact(lead)) for lead in services.leads_for(current_user)]
    return render_template("onsite/leads.html", exhibitor=exhibitor, leads=rows)


@bp.route("/portal/leads/<int:lead_id>", methods=["GET", "POST"])
@require(perm.SCAN_LEADS, exhibitor=True)
def lead(lead_id):
    lead = get_scoped_or_404(Lead, lead_id, current_scope())
    if not perm.has_permission(current_user, perm.VIEW_ALL_LEADS) and lead.captured_by_id != current_user.id:
        abort(404)
    form = LeadForm(obj=lead)
    form.rating.choices = choices((v, label(v) if v else "—") for v in ("", *LEAD_RATINGS))
    if form.validate_on_submit():
        try:
            services.update_lead(lead, rating=form.rating.data or None, notes=form.notes.data or "",
                                 actor_id=current_user.id)
        except ServiceError as error:
            form.rating.errors.append(str(error))
        else:
            db.session.commit()
            return redirect(url_for("onsite.leads"))
    return render_template("onsite/lead.html", lead=lead, contact=services.lead_contact(lead), form=form,
                           edition=current_user.exhibitor.edition)


@bp.route("/portal/leads.csv")
@require(perm.EXPORT_LEADS, exhibitor=True)
def leads_csv():
    exhibitor = current_user.exhibitor
    body = services.leads_csv(current_user, services.leads_for(current_user),
                              ZoneInfo(exhibitor.edition.timezone))
    db.session.commit()  # the export is in the audit log
    return Response("\ufeff" + body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="leads-{exhibitor.id}.csv"'})
