"""Ticket pages: the organizer's list (filters), a ticket (owner, status, notes, resolution), a new ticket taken
on behalf of a caller, the SLA report and the SLA settings; the exhibitor portal's Support page."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..core.auth import current_scope, edition_scoped, require
from ..core.permissions import has_permission
from ..core.db import utcnow
from ..core.forms import Form, choices
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, parse_id
from ..exhibitors.models import Exhibitor
from ..extensions import db
from ..visitors.models import Person, Registration
from . import services, sla, ticket_report
from .models import TICKET_KIND, TICKET_SOURCE, TICKET_STATUS, TICKET_URGENCY
from .ticket_part import HANDLE_TICKETS, RAISE_TICKETS, SET_TICKET_SLA, VIEW_TICKETS

bp = edition_scoped(Blueprint("tickets", __name__))


class TicketForm(Form):
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    urgency = SelectField(_l("Urgency"), default="normal")
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(max=services.MAX_SUBJECT)])
    description = TextAreaField(_l("What happened? What do you need?"),
                                validators=[Optional(), Length(max=services.MAX_TEXT)])


class StaffTicketForm(TicketForm):
    exhibitor_id = SelectField(_l("Exhibitor"), validators=[Optional()])
    visitor = StringField(_l("…or the visitor's email"), validators=[Optional(), Length(max=254)])
    contact = StringField(_l("Caller and how to reach them"), validators=[Optional(), Length(max=services.MAX_CONTACT)])
    owner_id = SelectField(_l("Owner"), validators=[Optional()])


class SlaForm(Form):
    urgent_days = StringField(_l("Urgent: working days"), validators=[DataRequired(), Length(max=3)])
    normal_days = StringField(_l("Normal: working days"), validators=[DataRequired(), Length(max=3)])
    holidays = TextAreaField(_l("Holidays (YYYY-MM-DD, one per line)"), validators=[Optional(), Length(max=5000)])
    workdays = TextAreaField(_l("Weekend days worked (make-up days, YYYY-MM-DD)"),
                             validators=[Optional(), Length(max=5000)])


def _kind_choices(form: TicketForm) -> None:
    form.kind.choices = choices([("", _("Choose…"))] + [(s.code, str(s.label)) for s in TICKET_KIND.states.values()])
    form.urgency.choices = choices((s.code, str(s.label)) for s in TICKET_URGENCY.states.values())


def _error(form, error: ServiceError, default: str) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if target is None or not hasattr(target, "errors"):
        target = getattr(form, default)
    target.errors = [*target.errors, str(error)]


def _filters() -> services.Filters:
    args = request.args
    owner = args.get("owner", "")
    return services.Filters(status=args.get("status", ""), kind=args.get("kind", ""),
                            urgency=args.get("urgency", ""), owner=0 if owner == "0" else parse_id(owner),
                            overdue=args.get("overdue") == "1", q=" ".join(args.get("q", "").split())[:100]
                            if "\x00" not in args.get("q", "") else "")


# --- the organizer ------------------------------------------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/tickets")
@require(VIEW_TICKETS, organizer=True)
def tickets():
    scope, edition, now = current_scope(), g.edition, utcnow()
    filters = _filters()
    rows = services.list_tickets(scope, edition.id, filters, now=now)
    figures = ticket_report.report(scope, edition.id, now=now).overall
    return render_template("support/tickets.html", edition=edition, rows=rows, filters=filters, figures=figures,
                           now=now, owners=services.owners(scope), statuses=TICKET_STATUS, kinds=TICKET_KIND,
                           urgencies=TICKET_URGENCY, clock=sla.clock, humanize=sla.humanize)


@bp.route("/org/editions/<int:edition_id>/tickets/new", methods=["GET", "POST"])
@require(HANDLE_TICKETS, organizer=True)
def new_ticket():
    scope, edition = current_scope(), g.edition
    form = StaffTicketForm()
    _kind_choices(form)
    exhibitors = db.session.execute(scoped(Exhibitor, scope, Exhibitor.id, Exhibitor.company_id)
                                    .where(Exhibitor.edition_id == edition.id)).all()
    names = {e.id: e.company.name for e in db.session.scalars(
        scoped(Exhibitor, scope).where(Exhibitor.id.in_([row.id for row in exhibitors])))}
    form.exhibitor_id.choices = choices([("", "—")] + sorted(((str(i), n) for i, n in names.items()),
                                                               key=lambda p: p[1].lower()))
    form.owner_id.choices = choices([("", _("Nobody yet"))] + [(str(u.id), u.name or u.email)
                                                                 for u in services.owners(scope)])
    if request.method == "GET":
        form.exhibitor_id.data = request.args.get("exhibitor", "")
        form.owner_id.data = str(current_user.id)
    if form.validate_on_submit():
        try:
            exhibitor = registration = None
            exhibitor_id = parse_id(form.exhibitor_id.data or "")
            if exhibitor_id:
                exhibitor = db.session.scalar(scoped(Exhibitor, scope).where(Exhibitor.id == exhibitor_id,
                                                                             Exhibitor.edition_id == edition.id))
            elif form.visitor.data:
                registration = _registration_by_email(scope, edition.id, form.visitor.data)
                if registration is None:
                    raise ServiceError(_("No visitor of this edition has this email."), "visitor")
            ticket = services.create_ticket(
                scope, edition, kind=form.kind.data, urgency=form.urgency.data, subject=form.subject.data,
                description=form.description.data or "", source="staff", exhibitor=exhibitor,
                registration=registration, contact=form.contact.data or "",
                owner_id=parse_id(form.owner_id.data or ""), actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            _error(form, error, "exhibitor_id" if error.field == "customer" else "subject")
        else:
            db.session.commit()
            flash(_("Ticket #%(n)s created.", n=ticket.id), "success")
            return redirect(url_for("tickets.ticket", ticket_id=ticket.id))
    return render_template("support/tickets_new.html", edition=edition, form=form)


def _registration_by_email(scope: Scope, edition_id: int, email: str) -> Registration | None:
    email = " ".join(email.split()).lower()
    return db.session.scalar(scoped(Registration, scope).join(Person, Person.id == Registration.person_id)
                             .where(Registration.edition_id == edition_id, func.lower(Person.email) == email)
                             .limit(1))


@bp.route("/org/editions/<int:edition_id>/tickets/<int:ticket_id>", methods=["GET", "POST"])
@require(VIEW_TICKETS, organizer=True, POST=HANDLE_TICKETS)
def ticket(ticket_id):
    scope, edition = current_scope(), g.edition
    found = services.get_ticket(scope, ticket_id, edition.id, for_update=request.method == "POST")
    if found is None:
        abort(404)
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            if action == "assign":
                owner = request.form.get("owner_id", "")
                owner_id = parse_id(owner)
                if owner and owner_id is None:
                    raise ServiceError(_("Choose an owner among the organizer's staff."))
                services.assign(found, owner_id, actor_id=current_user.id)
                flash(_("Owner changed."), "success")
            elif action == "move":
                services.move(found, request.form.get("status", ""), actor_id=current_user.id)
                flash(_("Status changed."), "success")
            elif action == "note":
                services.add_note(found, request.form.get("body", ""), actor_id=current_user.id)
                flash(_("Note added."), "success")
            elif action == "resolve":
                sent = services.resolve(found, request.form.get("resolution", ""), actor_id=current_user.id)
                flash(_("Ticket resolved; the requester was asked to rate it (%(n)s mails).", n=sent), "success")
            else:
                raise ServiceError(_("Nothing to do."))
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
        return redirect(url_for("tickets.ticket", ticket_id=ticket_id))
    now = utcnow()
    return render_template("support/tickets_ticket.html", edition=edition, ticket=found, now=now,
                           state=sla.clock(found.due_at, now, found.resolved_at), humanize=sla.humanize,
                           owners=services.owners(scope), statuses=TICKET_STATUS, sources=TICKET_SOURCE,
                           can_handle=has_permission(current_user, HANDLE_TICKETS))


@bp.route("/org/editions/<int:edition_id>/tickets/report")
@require(VIEW_TICKETS, organizer=True)
def report():
    edition = g.edition
    view = ticket_report.report(current_scope(), edition.id)
    return render_template("support/tickets_report.html", edition=edition, view=view,
                           terms=services.sla_for(edition.organizer_id, edition.id))


@bp.route("/org/editions/<int:edition_id>/tickets/settings", methods=["GET", "POST"])
@require(VIEW_TICKETS, organizer=True, POST=SET_TICKET_SLA)
def settings():
    scope, edition = current_scope(), g.edition
    level = request.values.get("level", "edition")
    level = level if level in ("edition", "organizer") else "edition"
    edition_id = edition.id if level == "edition" else None
    form = SlaForm()
    if request.method == "POST" and request.form.get("action") == "clear":
        services.clear_edition_sla(scope, edition.id, actor_id=current_user.id)
        db.session.commit()
        flash(_("This edition follows the organizer's deadlines again."), "success")
        return redirect(url_for("tickets.settings"))
    if form.validate_on_submit():
        try:
            services.save_sla(scope, edition_id, urgent_days=form.urgent_days.data, normal_days=form.normal_days.data,
                              holidays=form.holidays.data or "", workdays=form.workdays.data or "",
                              actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            _error(form, error, "urgent_days")
        else:
            db.session.commit()
            flash(_("Deadlines saved. They apply to tickets that come in from now on."), "success")
            return redirect(url_for("tickets.settings", level=level))
    current = services.sla_for(scope.organizer_id, edition_id)
    if request.method == "GET":
        form.urgent_days.data, form.normal_days.data = str(current.urgent_days), str(current.normal_days)
        form.holidays.data, form.workdays.data = "\n".join(current.holidays), "\n".join(current.workdays)
    return render_template("support/tickets_settings.html", edition=edition, form=form, level=level,
                           current=current, in_force=services.sla_for(scope.organizer_id, edition.id),
                           can_set=has_permission(current_user, SET_TICKET_SLA))


# --- the exhibitor's portal ----------------------------------------------------------------------------

@bp.route("/portal/support", methods=["GET", "POST"])
@require(RAISE_TICKETS, exhibitor=True)
def portal_tickets():
    exhibitor = current_user.exhibitor
    scope = Scope(exhibitor.organizer_id)
    form = TicketForm()
    _kind_choices(form)
    if form.validate_on_submit():
        try:
            created = services.create_ticket(scope, exhibitor.edition, kind=form.kind.data, urgency=form.urgency.data,
                                             subject=form.subject.data, description=form.description.data or "",
                                             source="portal", exhibitor=exhibitor, contact=current_user.email or "",
                                             actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            _error(form, error, "subject")
        else:
            db.session.commit()
            flash(_("Thank you: your ticket #%(n)s is with the organizer.", n=created.id), "success")
            return redirect(url_for("tickets.portal_ticket", ticket_id=created.id))
    now = utcnow()
    return render_template("support/tickets_portal.html", rows=services.company_tickets(exhibitor), form=form,
                           exhibitor=exhibitor, now=now, clock=sla.clock, humanize=sla.humanize,
                           terms=services.sla_for(exhibitor.organizer_id, exhibitor.edition_id))


@bp.route("/portal/support/<int:ticket_id>", methods=["GET", "POST"])
@require(RAISE_TICKETS, exhibitor=True)
def portal_ticket(ticket_id):
    exhibitor = current_user.exhibitor
    found = services.company_ticket(exhibitor, ticket_id)
    if found is None:
        abort(404)
    if request.method == "POST":
        try:
            services.rate(found, request.form.get("rating"), request.form.get("comment", ""),
                          actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash(_("Thank you for your rating."), "success")
        return redirect(url_for("tickets.portal_ticket", ticket_id=ticket_id))
    now = utcnow()
    return render_template("support/tickets_portal_ticket.html", ticket=found, exhibitor=exhibitor, now=now,
                           state=sla.clock(found.due_at, now, found.resolved_at), humanize=sla.humanize)

