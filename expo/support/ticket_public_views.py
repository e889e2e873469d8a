"""The public side of tickets (no sign-in, WeChat-safe): a visitor's help page behind a signed link (reached from
their badge page /r/<key>), and the rating of a resolution behind the signed link of its mail."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from ..core.db import utcnow
from ..core.scoping import Scope
from ..core.services import ServiceError
from ..extensions import db, limiter
from . import services, sla
from .ticket_views import TicketForm, _error, _kind_choices

bp = Blueprint("tickets_public", __name__)
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _too_many(_limit) -> Response:
    return Response(render_template("visitors/too_many.html"), status=429)


# The public forms of tickets (a new ticket, a rating) share one budget per address (PUBLIC_FORM_RATE_LIMIT).
public_limit = limiter.shared_limit(lambda: current_app.config["PUBLIC_FORM_RATE_LIMIT"], scope="support-public-form",
                                    methods=["POST"], on_breach=_too_many)


def visitor_section(registration) -> Markup | None:
    """The hook ``visitor_page_sections``: a "Need help?" card on the visitor's badge page with their signed link."""
    if registration.erased_at is not None or registration.status == "cancelled":
        return None
    url = url_for("tickets_public.visitor_help", token=services.visitor_token(registration))
    return Markup(render_template("support/tickets_visitor_section.html", url=url,
                                  count=len(services.visitor_tickets(registration))))


@bp.route("/help/<token>", methods=["GET", "POST"])
@public_limit
def visitor_help(token):
    registration = services.registration_from_token(token)
    if registration is None:
        abort(404)
    form = TicketForm()
    _kind_choices(form)
    if form.validate_on_submit():
        try:
            created = services.create_ticket(Scope(registration.organizer_id), registration.edition,
                                             kind=form.kind.data, urgency=form.urgency.data, subject=form.subject.data,
                                             description=form.description.data or "", source="visitor",
                                             registration=registration)
        except ServiceError as error:
            db.session.rollback()
            _error(form, error, "subject")
        else:
            db.session.commit()
            flash(_("Thank you: your ticket #%(n)s is with the organizer.", n=created.id), "success")
            return redirect(url_for("tickets_public.visitor_help", token=token))
    now = utcnow()
    return render_template("support/tickets_visitor.html", registration=registration, edition=registration.edition,
                           form=form, rows=services.visitor_tickets(registration), now=now, clock=sla.clock,
                           humanize=sla.humanize, token=token,
                           rate_url=lambda t: url_for("tickets_public.rate", token=services.rating_token(t))), \
        200, NO_STORE


@bp.route("/help/rate/<token>", methods=["GET", "POST"])
@public_limit
def rate(token):
    ticket = services.ticket_from_rating_token(token)
    if ticket is None:
        abort(404)
    if request.method == "POST":
        try:
            services.rate(ticket, request.form.get("rating"), request.form.get("comment", ""))
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Thank you for your rating."), "success")
        return redirect(url_for("tickets_public.rate", token=token))
    return render_template("support/tickets_rate.html", ticket=ticket, edition=ticket.edition), 200, NO_STORE
