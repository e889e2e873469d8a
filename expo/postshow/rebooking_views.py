"""Rebooking pages: the organizer's offers for an edition (make them, follow the answers, withdraw, reopen) and
the exhibitor's side in the portal (the company's offers with its results, answered there)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..core.auth import current_scope, edition_scoped, require
from ..core.forms import Form, choices
from ..core.services import ServiceError
from ..exhibitors import MANAGE_EXHIBITORS
from ..exhibitors.models import EXHIBITOR_STATUS
from ..extensions import db
from . import ANSWER_REBOOKING, SEND_REBOOKING_OFFERS, rebooking
from .models import ACCEPT_STAGES, DECLINE_REASON, REBOOKING_STATUS

bp = edition_scoped(Blueprint("rebooking", __name__))


class OffersForm(Form):
    from_edition = SelectField(_l("Exhibitors of"), validators=[DataRequired()])
    deadline_on = DateField(_l("Answer by"), validators=[DataRequired()])
    priority_from = DateField(_l("Priority booth choice from"), validators=[Optional()])
    priority_until = DateField(_l("Priority booth choice until"), validators=[Optional()])
    accept_stage = SelectField(_l("An acceptance puts the company in"), default="negotiating")
    message = TextAreaField(_l("Message to the exhibitors"), validators=[Optional(), Length(max=rebooking.MAX_MESSAGE)])


class ReopenForm(Form):
    deadline_on = DateField(_l("New deadline"), validators=[DataRequired()])


class AcceptForm(Form):
    wanted_area_m2 = StringField(_l("Area wanted (m²)"), validators=[Optional(), Length(max=20)])
    booth_wish = StringField(_l("Wishes for the booth"), validators=[Optional(), Length(max=rebooking.MAX_NOTE)])


class DeclineForm(Form):
    decline_reason = SelectField(_l("Reason"), validators=[DataRequired()])
    decline_note = TextAreaField(_l("Anything to add?"), validators=[Optional(), Length(max=rebooking.MAX_NOTE)])


def _error(form, error: ServiceError, default: str) -> None:
    field = getattr(form, error.field, None) if error.field else None
    (field if field is not None else getattr(form, default)).errors = [
        *(field if field is not None else getattr(form, default)).errors, str(error)]


# --- the organizer ------------------------------------------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/rebooking", methods=["GET", "POST"])
@require(MANAGE_EXHIBITORS, organizer=True, POST=SEND_REBOOKING_OFFERS)
def offers():
    scope, edition = current_scope(), g.edition
    sources = rebooking.source_editions(edition)
    form = OffersForm()
    form.from_edition.choices = choices((str(e.id), e.name) for e in sources)
    form.accept_stage.choices = choices((code, EXHIBITOR_STATUS.label(code)) for code in ACCEPT_STAGES)
    today = rebooking.edition_today(edition)
    if request.method == "GET":
        form.deadline_on.data = min(today + timedelta(days=30), edition.ends_on)
    if form.validate_on_submit():
        source = next((e for e in sources if str(e.id) == form.from_edition.data), None)
        terms = rebooking.OfferTerms(form.deadline_on.data, form.priority_from.data, form.priority_until.data,
                                     form.accept_stage.data, form.message.data or "")
        try:
            if source is None:
                raise ServiceError(_("Choose an earlier edition."), "from_edition")
            made = rebooking.make_offers(scope, edition, source, terms, actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            _error(form, error, "deadline_on")
        else:
            if made:
                flash(_("%(n)s offers made and mailed.", n=len(made)), "success")
            else:
                flash(_("Every exhibitor of %(name)s has an offer already or has booked again.", name=source.name),
                      "warning")
            return redirect(url_for("rebooking.offers"))
    status = request.args.get("status", "")
    view = rebooking.overview(scope, edition, status=status if status in REBOOKING_STATUS else "")
    source = sources[0] if sources else None
    pending = [c for c in rebooking.candidates(scope, edition, source) if not c.rebooked and c.offer is None] \
        if source is not None else []
    return render_template("postshow/rebooking.html", edition=edition, form=form, view=view, sources=sources,
                           source=source, pending=pending, status=status, statuses=REBOOKING_STATUS,
                           reasons=DECLINE_REASON, today=today)


@bp.route("/org/editions/<int:edition_id>/rebooking/<int:offer_id>", methods=["GET", "POST"])
@require(MANAGE_EXHIBITORS, organizer=True, POST=SEND_REBOOKING_OFFERS)
def offer(offer_id):
    scope, edition = current_scope(), g.edition
    found = rebooking.get_offer(scope, offer_id, edition.id)
    if found is None:
        abort(404)
    form = ReopenForm()
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action == "withdraw":
                rebooking.withdraw(found, actor_id=current_user.id)
                flash(_("Offer withdrawn."), "success")
            elif action == "resend":
                sent = rebooking.resend(found, actor_id=current_user.id)
                flash(_("Offer mailed again to %(n)s addresses.", n=sent), "success")
            elif action == "reopen":
                if not form.validate():
                    raise ServiceError(_("Give a new deadline."), "deadline_on")
                sent = rebooking.reopen(found, form.deadline_on.data, actor_id=current_user.id)
                flash(_("Offer open again and mailed to %(n)s addresses.", n=sent), "success")
            else:
                raise ServiceError(_("Nothing to do."))
        except ServiceError as error:
            db.session.rollback()
            if action == "reopen":
                _error(form, error, "deadline_on")
            else:
                flash(str(error), "error")
                return redirect(url_for("rebooking.offer", offer_id=offer_id))
        else:
            return redirect(url_for("rebooking.offer", offer_id=offer_id))
    if form.deadline_on.data is None:
        form.deadline_on.data = min(rebooking.edition_today(edition) + timedelta(days=14), edition.ends_on)
    return render_template("postshow/rebooking_offer.html", edition=edition, offer=found, form=form,
                           statuses=REBOOKING_STATUS, reasons=DECLINE_REASON,
                           past_deadline=rebooking.past_deadline(found))


# --- the exhibitor's portal ----------------------------------------------------------------------------

@bp.route("/portal/rebooking")
@require(ANSWER_REBOOKING, exhibitor=True)
def portal_offers():
    found = rebooking.company_offers(current_user.exhibitor)
    if len(found) == 1:
        return redirect(url_for("rebooking.portal_offer", offer_id=found[0].id))
    return render_template("postshow/rebooking_portal.html", offers=found, statuses=REBOOKING_STATUS)


@bp.route("/portal/rebooking/<int:offer_id>", methods=["GET", "POST"])
@require(ANSWER_REBOOKING, exhibitor=True)
def portal_offer(offer_id):
    found = rebooking.company_offer(current_user.exhibitor, offer_id)
    if found is None:
        abort(404)
    accept_form = AcceptForm(prefix="accept")
    decline_form = DeclineForm(prefix="decline")
    decline_form.decline_reason.choices = choices(
        [("", _("Choose a reason"))] + [(code, DECLINE_REASON.label(code)) for code in DECLINE_REASON.codes])
    if request.method == "GET" and found.results.get("area_m2"):
        accept_form.wanted_area_m2.data = found.results["area_m2"]
    if request.method == "POST":
        answer = request.form.get("answer", "")
        try:
            if answer == "accept":
                if not accept_form.validate():
                    raise ServiceError(_("Please check the form."), None)
                area = rebooking.parse_area(accept_form.wanted_area_m2.data)
                rebooking.accept(found, wanted_area_m2=area, booth_wish=accept_form.booth_wish.data or "",
                                 actor_id=current_user.id)
                flash(_("Thank you: you are booked for %(edition)s. We will be in touch about your booth.",
                        edition=found.edition.name), "success")
            elif answer == "decline":
                if not decline_form.validate():
                    raise ServiceError(_("Tell us why, please: choose a reason."), "decline_reason")
                rebooking.decline(found, decline_form.decline_reason.data, note=decline_form.decline_note.data or "",
                                  actor_id=current_user.id)
                flash(_("Thank you for your answer. We hope to see you again."), "success")
            else:
                raise ServiceError(_("Choose to accept or to decline."))
        except ServiceError as error:
            db.session.rollback()
            if answer == "decline":
                _error(decline_form, error, "decline_reason")
            elif answer == "accept" and error.field:
                _error(accept_form, error, "wanted_area_m2")
            elif not (answer == "accept" and any(f.errors for f in accept_form)):
                flash(str(error), "error")
                return redirect(url_for("rebooking.portal_offer", offer_id=offer_id))
        else:
            return redirect(url_for("rebooking.portal_offer", offer_id=offer_id))
    return render_template("postshow/rebooking_answer.html", offer=found, accept_form=accept_form,
                           decline_form=decline_form, statuses=REBOOKING_STATUS, reasons=DECLINE_REASON,
                           past_deadline=rebooking.past_deadline(found), exhibitor=current_user.exhibitor)

