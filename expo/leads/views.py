"""The exhibitor's leads: the list, one lead's rating and notes, the export."""
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from ..core.auth import current_scope, require
from ..core.forms import choices
from ..core.paging import page_number, page_size
from ..core.scoping import get_scoped_or_404
from ..core.services import ServiceError, audit_contact_view
from ..core.tabular import XLSX_MIMETYPE
from ..core.templating import label
from . import EXPORT_LEADS, VIEW_LEADS, services
from .forms import LeadForm
from .models import LEAD_RATINGS, Lead

bp = Blueprint("leads", __name__)


@bp.route("/portal/leads")
@require(VIEW_LEADS, exhibitor=True)
def leads():
    listing = services.lead_list(current_user, rating=request.args.get("rating", ""),
                                 page=page_number(request.args.get("page")),
                                 per_page=page_size(request.args.get("per_page")))
    return render_template("leads/list.html", exhibitor=current_user.exhibitor, listing=listing)


@bp.route("/portal/leads/<int:lead_id>", methods=["GET", "POST"])
@require(VIEW_LEADS, exhibitor=True)
def lead(lead_id):
    lead = get_scoped_or_404(Lead, lead_id, current_scope())
    if not services.lead_visible_to(current_user, lead):
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
            return redirect(url_for("leads.leads"))
    audit_contact_view(current_user, lead)  # the page shows the contact details the visitor shared, if any
    return render_template("leads/lead.html", lead=lead, contact=services.lead_contact(lead), form=form,
                           edition=current_user.exhibitor.edition)


@bp.route("/portal/leads.csv")
@require(EXPORT_LEADS, exhibitor=True)
def leads_csv():
    return _export("csv", "text/csv")


@bp.route("/portal/leads.xlsx")
@require(EXPORT_LEADS, exhibitor=True)
def leads_xlsx():
    return _export("xlsx", XLSX_MIMETYPE)


def _export(fmt: str, mimetype: str) -> Response:
    """The leads this user may see, as a file in the user's language (the export is in the audit log)."""
    exhibitor = current_user.exhibitor
    body = services.export_leads(current_user, services.leads_for(current_user),
                                 ZoneInfo(exhibitor.edition.timezone), fmt)
    return Response(body, content_type=mimetype if fmt == "xlsx" else f"{mimetype}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="leads-{exhibitor.id}.{fmt}"',
                             "Cache-Control": "private, no-store"})  # personal data: no copies on the way
