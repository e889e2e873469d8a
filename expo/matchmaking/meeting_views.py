"""Meetings pages: the exhibitor's portal (meetings, today's meetings on a phone, slots), the visitor's own
page (/r/<key>/meetings: no account, the key is the authorization), the organizer's overview with the caps per
visitor category. Thin: parse, load in scope, call a service, render; one commit per request (core)."""
from __future__ import annotations

import re
from datetime import date, time
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..core.auth import current_scope, edition_scoped, require
from ..core.db import utcnow
from ..core.services import ServiceError, parse_id
from ..extensions import db
from ..visitors import services as visitor_services
from ..visitors.models import VISITOR_CATEGORY, Registration
from . import MANAGE_MEETINGS, PUBLISH_SLOTS, SET_MEETING_CAPS, VIEW_MEETINGS, ical
from . import meetings as services
from .meeting_models import LIVE, MEETING_STATUS, OPEN

bp = edition_scoped(Blueprint("meetings", __name__))
NO_STORE = {"Cache-Control": "private, no-store"}
EXHIBITOR_MOVES = services.SIDE_MOVES["exhibitor"]
VISITOR_MOVES = services.SIDE_MOVES["visitor"]
HH_MM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


def _hh_mm(raw: str) -> time:
    """A local time of day as the form sends it, "09:30" — nothing else (no seconds, no UTC offset)."""
    if not HH_MM.fullmatch(raw or ""):
        raise ValueError(raw)
    return time(int(raw[:2]), int(raw[3:]))


def _local_path(target: str | None, fallback: str) -> str:
    """Back to where the form was (a path of this site only), else the fallback."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target \
            and all(ch >= " " for ch in target):
        return target
    return fallback


def _zone(edition) -> ZoneInfo:
    return ZoneInfo(edition.timezone)


def _form_id(name: str) -> int | None:
    return parse_id(request.form.get(name))


# --- the exhibitor's portal -----------------------------------------------------------------------------

@bp.route("/portal/meetings")
@require(MANAGE_MEETINGS, exhibitor=True)
def meetings():
    exhibitor = current_user.exhibitor
    rows = services.exhibitor_meetings(exhibitor.id)
    # a cancelled registration's requests cannot be accepted: they wait for the beat to cancel them
    waiting = [m for m in rows if m.status == "requested" and m.requested_by == "visitor"
               and m.registration.status == "confirmed"]
    asked = [m for m in rows if m.status == "requested" and m.requested_by == "exhibitor"]
    agreed = [m for m in rows if m.status == "accepted"]
    past = [m for m in rows if m.status not in OPEN
            or (m.status == "requested" and m.requested_by == "visitor" and m.registration.status != "confirmed")]
    return render_template("matchmaking/meetings.html", exhibitor=exhibitor, waiting=waiting, asked=asked,
                           agreed=agreed, past=past, seen=services.visitor_as_seen, tz=exhibitor.edition.timezone,
                           free=services.free_slots(exhibitor.id), now=utcnow())


@bp.route("/portal/meetings/today")
@require(MANAGE_MEETINGS, exhibitor=True)
def today():
    """The booth's phone page: today's agreed meetings with one tap for "arrived" and one for "no-show"."""
    exhibitor = current_user.exhibitor
    zone = _zone(exhibitor.edition)
    services.attended_from_scans(exhibitor_id=exhibitor.id)  # a scan at the stand counts at once
    day = utcnow().astimezone(zone).date()
    rows = [m for m in services.exhibitor_meetings(exhibitor.id, day=day, zone=zone)
            if m.status in ("accepted", "attended", "no_show")]
    return render_template("matchmaking/meetings_today.html", exhibitor=exhibitor, rows=rows, day=day,
                           tz=exhibitor.edition.timezone,
                           seen=services.visitor_as_seen, now=utcnow(),
                           arrive_from=utcnow() + services.ARRIVE_BEFORE)


@bp.route("/portal/meetings/answer", methods=["POST"])
@require(MANAGE_MEETINGS, exhibitor=True)
def answer():
    exhibitor = current_user.exhibitor
    back = _local_path(request.form.get("next"), url_for("meetings.meetings"))
    meeting = services.meeting_of_exhibitor(exhibitor.id, _form_id("meeting_id"))
    move = request.form.get("move", "")
    if meeting is None or move not in EXHIBITOR_MOVES:
        flash(_("No such meeting."), "error")
        return redirect(back)
    try:
        services.answer(meeting, "exhibitor", move, reason=request.form.get("reason", ""), actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    flash(_("Meeting: %(status)s.", status=MEETING_STATUS.label(meeting.status)), "success")
    return redirect(back)


@bp.route("/portal/meetings/move", methods=["POST"])
@require(MANAGE_MEETINGS, exhibitor=True)
def move_meeting():
    """Move a meeting to another of the stand's free slots; the visitor is asked again."""
    exhibitor = current_user.exhibitor
    meeting = services.meeting_of_exhibitor(exhibitor.id, _form_id("meeting_id"))
    slot = services.slot_of_exhibitor(exhibitor.id, _form_id("slot_id"))
    if meeting is None or slot is None:
        flash(_("Pick a meeting and a free slot."), "error")
        return redirect(url_for("meetings.meetings"))
    try:
        services.reschedule(meeting, "exhibitor", slot, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Meeting moved: the visitor is asked to confirm the new time."), "success")
    return redirect(url_for("meetings.meetings"))


@bp.route("/portal/meetings/request", methods=["POST"])
@require(MANAGE_MEETINGS, exhibitor=True)
def request_visitor():
    """Invite a visitor (``registration_id``) to a meeting, in one of the stand's slots (``slot_id``) or
    letting them pick a time; ``next``: the page to go back to (e.g. "Visitors to invite")."""
    exhibitor = current_user.exhibitor
    back = _local_path(request.form.get("next"), url_for("meetings.meetings"))
    registration_id = _form_id("registration_id")
    registration = db.session.get(Registration, registration_id) if registration_id else None
    if registration is None or registration.edition_id != exhibitor.edition_id:
        flash(_("No such visitor."), "error")
        return redirect(back)
    slot = None
    if request.form.get("slot_id"):
        slot = services.slot_of_exhibitor(exhibitor.id, _form_id("slot_id"))
        if slot is None:
            flash(_("No such slot."), "error")
            return redirect(back)
    try:
        services.request_by_exhibitor(exhibitor, registration, slot, message=request.form.get("message", ""),
                                      actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Meeting request sent: the visitor answers from their page."), "success")
    return redirect(back)


@bp.route("/portal/meetings.ics")
@require(MANAGE_MEETINGS, exhibitor=True)
def exhibitor_calendar():
    exhibitor = current_user.exhibitor
    rows = services.exhibitor_meetings(exhibitor.id, statuses=("accepted", "attended"))
    events = [ical.meeting_event(m, summary=_("Meeting: %(a)s and %(b)s", a=exhibitor.company.name,
                                              b=services.visitor_as_seen(m).get("name") or _("a visitor")),
                                 location=m.table_label, description=exhibitor.edition.name)
              for m in rows if m.starts_at is not None]
    return Response(ical.calendar(events), mimetype="text/calendar",
                    headers={**NO_STORE, "Content-Disposition": 'attachment; filename="meetings.ics"'})


def _slot_form() -> dict:
    return {k: request.form.get(k, "") for k in ("day", "start", "end", "minutes", "tables")}


@bp.route("/portal/meeting-slots", methods=["GET", "POST"])
@require(PUBLISH_SLOTS, exhibitor=True)
def slots():
    exhibitor = current_user.exhibitor
    edition = exhibitor.edition
    form = {"day": edition.starts_on.isoformat(), "start": "10:00", "end": "12:00", "minutes": "30", "tables": ""}
    errors: dict = {}
    if request.method == "POST":
        form = _slot_form()
        try:
            day = date.fromisoformat(form["day"])
        except ValueError:
            errors["day"] = _("Pick a day of the show.")
        try:
            start, end = _hh_mm(form["start"]), _hh_mm(form["end"])
        except ValueError:
            errors["start"] = _("A time like 09:30.")
        minutes = parse_id(form["minutes"])
        if minutes is None:
            errors["minutes"] = _("A number of minutes.")
        tables = [t for t in form["tables"].replace("，", ",").split(",") if t.strip()] or [""]
        if not errors:
            try:
                made = services.add_slots(exhibitor, day, start, end, minutes, tables, actor_id=current_user.id)
            except ServiceError as error:
                db.session.rollback()
                errors[error.field or "day"] = str(error)
            else:
                flash(_("%(n)d slots published.", n=len(made)), "success")
                return redirect(url_for("meetings.slots"))
    rows = services.exhibitor_slots(exhibitor.id)
    return render_template("matchmaking/slots.html", exhibitor=exhibitor, edition=edition, rows=rows, form=form,
                           errors=errors, tz=edition.timezone, seen=services.visitor_as_seen)


@bp.route("/portal/meeting-slots/delete", methods=["POST"])
@require(PUBLISH_SLOTS, exhibitor=True)
def delete_slot():
    slot = services.slot_of_exhibitor(current_user.exhibitor_id, _form_id("slot_id"))
    if slot is None:
        flash(_("No such slot."), "error")
    else:
        try:
            services.remove_slot(slot, actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(_("Slot withdrawn."), "success")
    return redirect(url_for("meetings.slots"))


# --- the visitor's own page -------------------------------------------------------------------------

def _own_registration(key) -> Registration:
    registration = visitor_services.registration_by_access_key(key)
    if registration is None:
        abort(404)
    return registration


def visitor_section(registration) -> Markup | None:
    """The hook ``visitor_page_sections``: the visitor's meetings in short on their badge page, with the link
    to ask for more."""
    if registration.status != "confirmed" or registration.erased_at is not None:
        return None
    rows = [m for m in services.registration_meetings(registration.id) if m.status in OPEN]
    return Markup(render_template("matchmaking/meetings_section.html", registration=registration, rows=rows,
                                  tz=registration.edition.timezone))


@bp.route("/r/<key>/meetings")
def visitor_meetings(key):
    registration = _own_registration(key)
    edition = registration.edition
    exhibitor_id = parse_id(request.args.get("exhibitor"))
    chosen = None
    free = []
    if exhibitor_id:
        chosen = services.exhibitor_offering(edition.id, exhibitor_id)
        free = services.free_slots(exhibitor_id) if chosen else []
    q = request.args.get("q", "")
    rows = services.registration_meetings(registration.id)
    untimed = services.free_slots_of(m.exhibitor_id for m in rows if m.status == "requested"
                                     and m.requested_by == "exhibitor" and m.starts_at is None)
    return Response(render_template(
        "matchmaking/meetings_visitor.html", registration=registration, edition=edition, rows=rows,
        exhibitors=services.exhibitors_with_free_slots(edition.id, q=q) if registration.status == "confirmed" else [],
        chosen=chosen, free=free, q=q, tz=edition.timezone, open_codes=OPEN, live=LIVE,
        in_wechat="MicroMessenger" in (request.user_agent.string or ""),  # downloads are blocked there
        free_of=lambda exhibitor_id: untimed.get(exhibitor_id, [])), headers=NO_STORE)


@bp.route("/r/<key>/meetings/request", methods=["POST"])
def visitor_request(key):
    registration = _own_registration(key)
    slot = services.slot_in_edition(registration.edition_id, _form_id("slot_id"))
    back = url_for("meetings.visitor_meetings", key=key)
    if slot is None:
        flash(_("Pick a time."), "error")
        return redirect(back)
    try:
        services.request_by_visitor(registration, slot, message=request.form.get("message", ""))
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("meetings.visitor_meetings", key=key, exhibitor=slot.exhibitor_id))
    flash(_("Request sent: the exhibitor answers, and we tell you by mail."), "success")
    return redirect(back)


@bp.route("/r/<key>/meetings/answer", methods=["POST"])
def visitor_answer(key):
    registration = _own_registration(key)
    back = url_for("meetings.visitor_meetings", key=key)
    meeting = services.meeting_of_registration(registration.id, _form_id("meeting_id"))
    move = request.form.get("move", "")
    if meeting is None or move not in VISITOR_MOVES:
        flash(_("No such meeting."), "error")
        return redirect(back)
    slot = None
    if move == "accept" and meeting.slot_id is None:  # an invitation without a time: the visitor picks one
        slot = services.slot_of_exhibitor(meeting.exhibitor_id, _form_id("slot_id"))
    try:
        services.answer(meeting, "visitor", move, reason=request.form.get("reason", ""), slot=slot)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    flash(_("Meeting: %(status)s.", status=MEETING_STATUS.label(meeting.status)), "success")
    return redirect(back)


@bp.route("/r/<key>/meetings/move", methods=["GET", "POST"])
def visitor_move(key):
    """The visitor moves their own meeting to another free time of the same exhibitor; the exhibitor is
    asked to confirm the new time."""
    registration = _own_registration(key)
    back = url_for("meetings.visitor_meetings", key=key)
    meeting_id = _form_id("meeting_id") if request.method == "POST" else parse_id(request.args.get("meeting"))
    meeting = services.meeting_of_registration(registration.id, meeting_id)
    if meeting is None or meeting.status not in OPEN or registration.status != "confirmed":
        flash(_("No such meeting."), "error")
        return redirect(back)
    if request.method == "POST":
        slot = services.slot_of_exhibitor(meeting.exhibitor_id, _form_id("slot_id"))
        if slot is None:
            flash(_("Pick a time."), "error")
            return redirect(url_for("meetings.visitor_move", key=key, meeting=meeting.id))
        try:
            services.reschedule(meeting, "visitor", slot)
        except ServiceError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for("meetings.visitor_move", key=key, meeting=meeting.id))
        flash(_("Meeting moved: the exhibitor is asked to confirm the new time."), "success")
        return redirect(back)
    return Response(render_template(
        "matchmaking/meetings_move.html", registration=registration, edition=registration.edition, meeting=meeting,
        free=services.free_slots(meeting.exhibitor_id), tz=registration.edition.timezone), headers=NO_STORE)


@bp.route("/r/<key>/meetings.ics")
def visitor_calendar(key):
    """The visitor's agreed meetings as one calendar file (their mails carry each meeting's own)."""
    registration = _own_registration(key)
    events = [ical.meeting_event(m, summary=_("Meeting with %(company)s", company=m.exhibitor.company.name),
                                 location=", ".join(p for p in (m.exhibitor.hall, m.exhibitor.stand, m.table_label)
                                                    if p),
                                 description=registration.edition.name)
              for m in services.registration_meetings(registration.id)
              if m.status in ("accepted", "attended") and m.starts_at is not None]
    return Response(ical.calendar(events), mimetype="text/calendar",
                    headers={**NO_STORE, "Content-Disposition": 'attachment; filename="meetings.ics"'})


# --- the organizer ----------------------------------------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/meetings")
@require(VIEW_MEETINGS, organizer=True)
def edition_meetings():
    edition = g.edition
    status = request.args.get("status", "")
    return render_template("matchmaking/meetings_edition.html", edition=edition,
                           counts=services.edition_counts(current_scope(), edition.id), status=status,
                           rows=services.edition_meetings(current_scope(), edition.id, status=status),
                           caps=services.caps(edition.id), categories=VISITOR_CATEGORY, tz=edition.timezone,
                           machine=MEETING_STATUS)


@bp.route("/org/editions/<int:edition_id>/meetings/caps", methods=["POST"])
@require(SET_MEETING_CAPS, organizer=True)
def edition_caps():
    edition = g.edition
    values = {}
    for code in VISITOR_CATEGORY.codes:
        raw = (request.form.get(f"cap_{code}") or "").strip()
        values[code] = None if raw == "" else (int(raw) if raw.isascii() and raw.isdecimal() and len(raw) < 6
                                               else -1)
    try:
        changed = services.set_caps(edition, values, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Caps saved.") if changed else _("Nothing changed."), "success")
    return redirect(url_for("meetings.edition_meetings"))
