"""Organizer: the exhibitors of an edition. Exhibitor portal: company profile and staff."""
from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, edition_scoped, require
from ..core.forms import choices
from ..core.paging import page_number, page_size
from ..core.scoping import get_in_edition_or_404
from ..core.services import MAX_DB_INT, ServiceError
from ..core.templating import label
from ..extensions import db
from ..core.permissions import has_permission
from . import EDIT_COMPANY, MANAGE_EXHIBITORS, MANAGE_STAFF, companies, services
from . import portal as portal_services
from .forms import STAFF_ROLES, CompanyForm, ExhibitorForm, StaffForm
from .models import EXHIBITOR_STATUS, Exhibitor

bp = edition_scoped(Blueprint("exhibitors", __name__))


@bp.route("/org/editions/<int:edition_id>/exhibitors", methods=["GET", "POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def edition_exhibitors():
    scope, edition = current_scope(), g.edition
    form = ExhibitorForm()
    form.status.choices = choices((s.code, s.label) for s in EXHIBITOR_STATUS.states.values())
    if form.validate_on_submit():
        try:
            exhibitor = services.add_exhibitor(scope, edition, form.company_name.data, hall=form.hall.data or "",
                                               stand=form.stand.data or "", area_m2=form.area_m2.data,
                                               status=form.status.data, country=form.country.data or "",
                                               actor_id=current_user.id)
            services.add_staff(exhibitor, form.admin_email.data, form.admin_name.data, form.admin_password.data,
                               "exhibitor_admin", actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            field = {"email": "admin_email", "password": "admin_password", "name": "admin_name"}.get(
                error.field, error.field)
            getattr(form, field if hasattr(form, field or "") else "company_name").errors.append(str(error))
        else:
            flash(_("Exhibitor added; its admin can sign in now."), "success")
            return redirect(url_for("exhibitors.edition_exhibitors"))
    listing = services.exhibitor_list(scope, edition, statuses=request.args.getlist("status"),
                                      search=request.args.get("q", ""), sort=request.args.get("sort", "company"),
                                      page=page_number(request.args.get("page")),
                                      per_page=page_size(request.args.get("per_page")))
    return render_template("exhibitors/list.html", edition=edition, form=form, statuses=EXHIBITOR_STATUS,
                           listing=listing)


@bp.route("/org/editions/<int:edition_id>/exhibitors/<int:exhibitor_id>/status", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def exhibitor_status(exhibitor_id):
    """Move an exhibitor along the booth-sales pipeline."""
    exhibitor = get_in_edition_or_404(Exhibitor, exhibitor_id, g.edition.id, current_scope())
    try:
        services.set_status(exhibitor, request.form.get("status", ""), actor_id=current_user.id)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(_("Status of %(company)s changed.", company=exhibitor.company.name), "success")
    return redirect(url_for("exhibitors.edition_exhibitors"))


# --- customer 360: the company page and the duplicates review -----------------------------------------

@bp.route("/org/companies/<int:company_id>")
@require(MANAGE_EXHIBITORS, organizer=True)
def company(company_id):
    """Everything about one exhibitor company: every edition booked (stand, m², price, stage), its people
    who registered, the leads its staff took (counts), its timeline. A merged company leads to the kept one."""
    scope = current_scope()
    found = companies.company_in_scope(scope, company_id)
    if found is None:
        abort(404)
    if found.merged_into_id is not None:
        return redirect(url_for("exhibitors.company", company_id=found.merged_into_id))
    data = companies.company_page(scope, found, allowed=lambda p: has_permission(current_user, p),
                                  page=page_number(request.args.get("page")))
    return render_template("exhibitors/company.html", data=data)


@bp.route("/org/company-duplicates")
@require(MANAGE_EXHIBITORS, organizer=True)
def company_duplicates():
    page = companies.possible_duplicates(current_scope(), page=page_number(request.args.get("page")),
                                         per_page=page_size(request.args.get("per_page")))
    return render_template("exhibitors/company_duplicates.html", page=page)


@bp.route("/org/company-duplicates/merge", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def merge_companies():
    try:
        ids = [int(request.form[name]) for name in ("keep", "merge")]
    except (KeyError, ValueError):
        ids = None
    if ids is not None and not all(1 <= i <= MAX_DB_INT for i in ids):
        ids = None  # beyond any id column: no such company (the database would refuse the number)
    try:
        if ids is None:
            raise ServiceError(_("No such pair of companies."))
        kept = companies.merge_companies(current_scope(), *ids, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Merged into %(name)s: every booking, its staff and its leads now belong to this company.",
                name=kept.name), "success")
    return redirect(url_for("exhibitors.company_duplicates"))


@bp.route("/org/company-duplicates/distinct", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def distinct_companies():
    try:
        ids = [int(request.form[name]) for name in ("company", "other")]
    except (KeyError, ValueError):
        ids = None
    if ids is not None and not all(1 <= i <= MAX_DB_INT for i in ids):
        ids = None  # beyond any id column: no such company (the database would refuse the number)
    try:
        if ids is None:
            raise ServiceError(_("No such pair of companies."))
        companies.mark_distinct(current_scope(), *ids, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Noted: these are two companies. The pair will not be suggested again."), "success")
    return redirect(url_for("exhibitors.company_duplicates"))


@bp.route("/portal", methods=["GET", "POST"])
@require(EDIT_COMPANY, exhibitor=True)
def portal():
    exhibitor = current_user.exhibitor
    form = CompanyForm(obj=exhibitor.company, data=portal_services.profile_values(exhibitor.company))
    if form.validate_on_submit():
        try:  # the profile in both languages (issue 8, portal)
            changed = portal_services.save_profile(exhibitor, form.data, actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field if hasattr(form, error.field or "") else "name").errors.append(str(error))
        else:
            flash(_("Profile saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("exhibitors.portal"))
    return render_template("exhibitors/portal.html", exhibitor=exhibitor, form=form)


@bp.route("/portal/staff", methods=["GET", "POST"])
@require(MANAGE_STAFF, exhibitor=True)
def staff():
    exhibitor = current_user.exhibitor
    form = StaffForm()
    form.role.choices = choices((r, label(r)) for r in STAFF_ROLES)
    if form.validate_on_submit():
        try:
            services.add_staff(exhibitor, form.email.data, form.name.data, form.password.data, form.role.data,
                               actor_id=current_user.id)
        except ServiceError as error:
            getattr(form, error.field if hasattr(form, error.field or "") else "email").errors.append(str(error))
        else:
            flash(_("Staff member added."), "success")
            return redirect(url_for("exhibitors.staff"))
    return render_template("exhibitors/staff.html", exhibitor=exhibitor, form=form,
                           staff=services.staff(exhibitor))
