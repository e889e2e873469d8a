"""Organizer: the booth-sales pipeline of an edition (kanban board, deals list, one deal with its contracts
and payments, booth types and stage probabilities) and a company's contacts and sales activities."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, edition_scoped, require
from ..core.paging import page_number, page_size
from ..core.scoping import get_scoped_or_404
from ..core.services import ServiceError
from ..extensions import db
from . import MANAGE_EXHIBITORS, accounts, companies, pipeline, services
from .models import EXHIBITOR_STATUS, PAYMENT_METHOD, BoothType, Exhibitor

MANAGE_SALES_SETTINGS = "manage_sales_settings"

bp = edition_scoped(Blueprint("pipeline", __name__))


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _deal_or_404(exhibitor_id: int) -> Exhibitor:
    found = pipeline.get_deal(current_scope(), g.edition, exhibitor_id)
    if found is None:
        abort(404)
    return found


def _back(exhibitor_id: int, default: str = "board"):
    """Back to the board, the list or the deal page the form came from (a keyword, never a URL)."""
    target = request.form.get("next", default)
    if target == "list":
        return redirect(url_for("pipeline.deals"))
    if target == "deal":
        return redirect(url_for("pipeline.deal", exhibitor_id=exhibitor_id))
    return redirect(url_for("pipeline.board"))


@bp.route("/org/editions/<int:edition_id>/pipeline")
@require(MANAGE_EXHIBITORS, organizer=True)
def board():
    filters = pipeline.PipelineFilters.from_args(request.args)
    data = pipeline.board(current_scope(), g.edition, filters)
    return render_template("exhibitors/pipeline_board.html", edition=g.edition, board=data, filters=filters,
                           statuses=EXHIBITOR_STATUS)


@bp.route("/org/editions/<int:edition_id>/pipeline/list")
@require(MANAGE_EXHIBITORS, organizer=True)
def deals():
    filters = pipeline.PipelineFilters.from_args(request.args)
    data = pipeline.deal_list(current_scope(), g.edition, filters, sort=request.args.get("sort", "close")[:20],
                              page=page_number(request.args.get("page")),
                              per_page=page_size(request.args.get("per_page")))
    return render_template("exhibitors/pipeline_list.html", edition=g.edition, listing=data, filters=filters,
                           statuses=EXHIBITOR_STATUS)


@bp.route("/org/editions/<int:edition_id>/pipeline/<int:exhibitor_id>/move", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def move(exhibitor_id):
    """Move a deal to another stage (the board's drag and drop sends JSON-accepting requests; the cards' own
    no-JS form a plain POST). Illegal moves and a lost deal without a reason are refused with the reason."""
    exhibitor = _deal_or_404(exhibitor_id)
    target = request.form.get("status", "")[:20]
    try:
        services.set_status(exhibitor, target, actor_id=current_user.id, reason=request.form.get("reason", "")[:2000])
    except ServiceError as error:
        db.session.rollback()
        if _wants_json():
            return jsonify(ok=False, error=str(error), field=error.field), 400
        flash(str(error), "error")
        return _back(exhibitor_id)
    message = _("%(company)s: %(stage)s.", company=exhibitor.company.name, stage=EXHIBITOR_STATUS.label(target))
    if _wants_json():
        db.session.commit()
        return jsonify(ok=True, message=message, status=target, label=EXHIBITOR_STATUS.label(target),
                       moves=[s.code for s in EXHIBITOR_STATUS.next_states(target)])
    flash(message, "success")
    return _back(exhibitor_id)


@bp.route("/org/editions/<int:edition_id>/pipeline/<int:exhibitor_id>", methods=["GET", "POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def deal(exhibitor_id):
    """One deal: its booth type, m², price, expected close date, stage, contracts and payments."""
    scope = current_scope()
    exhibitor = _deal_or_404(exhibitor_id)
    errors = {}
    if request.method == "POST":
        form = request.form
        try:
            booth_type_id = pipeline.parse_id(form.get("booth_type_id", ""))
            if form.get("booth_type_id", "").strip() and booth_type_id is None:
                raise ServiceError(_("Choose one of this edition's booth types."), "booth_type_id")
            changed = pipeline.update_deal(
                scope, exhibitor, booth_type_id=booth_type_id, area_m2=pipeline.parse_area(form.get("area_m2")),
                price=pipeline.parse_money(form.get("price"), "price"),
                expected_close_on=pipeline.parse_date(form.get("expected_close_on"), "expected_close_on"),
                actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            errors[error.field or "price"] = str(error)
            exhibitor = _deal_or_404(exhibitor_id)
        else:
            flash(_("Deal saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("pipeline.deal", exhibitor_id=exhibitor.id))
    card = pipeline.Card(exhibitor, exhibitor.deal_value, pipeline.probabilities(g.edition.id).get(exhibitor.status, 0),
                         pipeline.reps(scope).get(exhibitor.sales_rep_id, ""))
    return render_template("exhibitors/pipeline_deal.html", edition=g.edition, card=card, exhibitor=exhibitor,
                           errors=errors, form=request.form if errors else None,
                           booth_types=pipeline.booth_types(scope, g.edition),
                           contracts=accounts.exhibitor_contracts(scope, exhibitor), methods=PAYMENT_METHOD,
                           statuses=EXHIBITOR_STATUS)


@bp.route("/org/editions/<int:edition_id>/pipeline/<int:exhibitor_id>/contracts", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def add_contract(exhibitor_id):
    exhibitor = _deal_or_404(exhibitor_id)
    form = request.form
    try:
        contract = accounts.add_contract(current_scope(), exhibitor, number=form.get("number", "")[:200],
                                         signed_on=pipeline.parse_date(form.get("signed_on"), "signed_on"),
                                         amount=pipeline.parse_money(form.get("amount"), "amount", required=True),
                                         actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Contract %(number)s recorded.", number=contract.number), "success")
    return redirect(url_for("pipeline.deal", exhibitor_id=exhibitor_id) + "#contracts")


@bp.route("/org/editions/<int:edition_id>/pipeline/<int:exhibitor_id>/contracts/<int:contract_id>/payments",
          methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def add_payment(exhibitor_id, contract_id):
    scope = current_scope()
    exhibitor = _deal_or_404(exhibitor_id)
    contract = accounts.get_contract(scope, exhibitor, contract_id)
    if contract is None:
        abort(404)
    form = request.form
    try:
        accounts.add_payment(scope, contract, amount=pipeline.parse_money(form.get("amount"), "amount", required=True),
                             paid_on=pipeline.parse_date(form.get("paid_on"), "paid_on", required=True),
                             method=form.get("method", "")[:20], reference=form.get("reference", "")[:500],
                             actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Payment recorded.") + (" " + _("Paid in full.") if contract.paid_in_full else ""), "success")
    return redirect(url_for("pipeline.deal", exhibitor_id=exhibitor_id) + "#contracts")


# --- settings: booth types and stage probabilities ----------------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/pipeline/settings", methods=["GET", "POST"])
@require(MANAGE_SALES_SETTINGS, organizer=True)
def settings():
    scope, edition = current_scope(), g.edition
    errors = {}
    if request.method == "POST":
        form = request.form
        try:
            if form.get("action") == "probabilities":
                percents = {}
                for code in EXHIBITOR_STATUS.codes:
                    text = form.get(f"p_{code}", "").strip()
                    if not text:
                        continue
                    if not (text.isascii() and text.isdigit()) or int(text) > 100:
                        raise ServiceError(_("A probability is a whole number from 0 to 100."), f"p_{code}")
                    percents[code] = int(text)
                changed = pipeline.set_probabilities(scope, edition, percents, actor_id=current_user.id)
                flash(_("Probabilities saved.") if changed else _("Nothing changed."), "success")
            else:
                pipeline.save_booth_type(scope, edition, code=form.get("code", "")[:100],
                                         name_en=form.get("name_en", "")[:300], name_zh=form.get("name_zh", "")[:300],
                                         price_per_m2=pipeline.parse_money(form.get("price_per_m2"), "price_per_m2",
                                                                           required=True),
                                         actor_id=current_user.id)
                flash(_("Booth type added."), "success")
        except ServiceError as error:
            db.session.rollback()
            errors[error.field or "code"] = str(error)
        else:
            return redirect(url_for("pipeline.settings"))
    return render_template("exhibitors/pipeline_settings.html", edition=edition, errors=errors,
                           form=request.form if errors else None, booth_types=pipeline.booth_types(scope, edition),
                           chances=pipeline.probabilities(edition.id), statuses=EXHIBITOR_STATUS)


@bp.route("/org/editions/<int:edition_id>/pipeline/booth-types/<int:booth_type_id>", methods=["POST"])
@require(MANAGE_SALES_SETTINGS, organizer=True)
def booth_type(booth_type_id):
    scope = current_scope()
    found = get_scoped_or_404(BoothType, booth_type_id, scope)
    if found.edition_id != g.edition.id:
        abort(404)
    form = request.form
    try:
        if form.get("action") == "delete":
            pipeline.delete_booth_type(scope, found, actor_id=current_user.id)
            flash(_("Booth type removed."), "success")
        else:
            pipeline.save_booth_type(scope, g.edition, booth_type=found, code=form.get("code", found.code)[:100],
                                     name_en=form.get("name_en", "")[:300], name_zh=form.get("name_zh", "")[:300],
                                     price_per_m2=pipeline.parse_money(form.get("price_per_m2"), "price_per_m2",
                                                                       required=True),
                                     actor_id=current_user.id)
            flash(_("Booth type saved."), "success")
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    return redirect(url_for("pipeline.settings"))


# --- a company's contacts and sales activities (shown on the company page) -----------------------------------

def _company_or_404(company_id: int):
    found = companies.company_in_scope(current_scope(), company_id)
    if found is None or found.merged_into_id is not None:
        abort(404)
    return found


def _contact_data(form) -> accounts.ContactData:
    return accounts.ContactData(name=form.get("name", "")[:1000], role=form.get("role", "")[:1000],
                                email=form.get("email", "")[:1000], phone=form.get("phone", "")[:1000],
                                is_main=form.get("is_main") in ("1", "on", "true"))


@bp.route("/org/companies/<int:company_id>/contacts", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def add_contact(company_id):
    company = _company_or_404(company_id)
    try:
        contact = accounts.add_contact(current_scope(), company, _contact_data(request.form), actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("%(name)s added to the contacts.", name=contact.name), "success")
    return redirect(url_for("exhibitors.company", company_id=company.id) + "#contacts")


@bp.route("/org/companies/<int:company_id>/contacts/<int:contact_id>", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def contact(company_id, contact_id):
    """Change a contact (action=save), make them the main contact (action=main) or remove them (action=delete)."""
    scope = current_scope()
    company = _company_or_404(company_id)
    found = accounts.get_contact(scope, company, contact_id)
    if found is None:
        abort(404)
    action = request.form.get("action", "save")
    try:
        if action == "main":
            accounts.make_main(scope, found, actor_id=current_user.id)
            flash(_("%(name)s is the main contact now.", name=found.name), "success")
        elif action == "delete":
            name = found.name
            accounts.delete_contact(scope, found, actor_id=current_user.id)
            flash(_("%(name)s removed from the contacts.", name=name), "success")
        else:
            accounts.update_contact(scope, found, _contact_data(request.form), actor_id=current_user.id)
            flash(_("Contact saved."), "success")
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    return redirect(url_for("exhibitors.company", company_id=company.id) + "#contacts")


@bp.route("/org/companies/<int:company_id>/activities", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def log_activity(company_id):
    scope = current_scope()
    company = _company_or_404(company_id)
    form = request.form
    try:
        contact_id = pipeline.parse_id(form.get("contact_id", ""))
        found_contact = accounts.get_contact(scope, company, contact_id)
        if contact_id is not None and found_contact is None:
            raise ServiceError(_("No such contact at this company."), "contact_id")
        exhibitor_id = pipeline.parse_id(form.get("exhibitor_id", ""))
        exhibitor = None
        if exhibitor_id is not None:
            exhibitor = db.session.get(Exhibitor, exhibitor_id)
            if exhibitor is None or exhibitor.organizer_id != scope.organizer_id:
                raise ServiceError(_("No such booking of this company."), "exhibitor_id")
        accounts.log_activity(scope, company, kind=form.get("kind", "")[:20],
                              happened_on=pipeline.parse_date(form.get("happened_on"), "happened_on"),
                              summary=form.get("summary", "")[:5000], contact=found_contact, exhibitor=exhibitor,
                              actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Activity logged."), "success")
    return redirect(url_for("exhibitors.company", company_id=company.id) + "#sales-activities")


__all__ = ["bp", "MANAGE_SALES_SETTINGS"]
