"""Gates and zones pages: the set-up (owner, manager), live attendance with its JSON (polled by
static/attendance.js), and the "inside now" card of the edition page (hook ``edition_dashboard``). Thin: parse,
check, call expo.onsite.zones."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..core.auth import current_scope, edition_scoped, require
from ..core.permissions import has_permission
from ..core.services import ServiceError
from ..core.templating import current_language
from ..extensions import db
from ..visitors.models import VISITOR_CATEGORY
from . import MANAGE_ZONES, VIEW_ATTENDANCE, zones
from .zone_models import GATE_DIRECTION, REENTRY

bp = edition_scoped(Blueprint("zones", __name__))
POLL_SECONDS = 15
NO_STORE = {"Cache-Control": "private, no-store"}


# --- the set-up -----------------------------------------------------------------------------------------------

def _form_value(name: str, limit: int = 200) -> str:
    return (request.form.get(name) or "")[:limit]


def _capacity(text: str):
    text = text.strip()
    if not text:
        return None
    if not zones.is_number(text, 9):
        raise ServiceError(_("The capacity is a number between 1 and %(max)d, or empty.", max=zones.MAX_CAPACITY),
                           "capacity")
    return int(text)


def _access_from_form(edition) -> dict:
    """access-<category> checkboxes, one per show day (value: the ISO date)."""
    return {category: request.form.getlist(f"access-{category}")
            for category in VISITOR_CATEGORY.codes if request.form.getlist(f"access-{category}")}


def _zone_rows(edition, zone_list, errors=None, typed=None):
    """What the page shows of each zone: its values (or what was typed, after an error) and its errors."""
    days = [d.isoformat() for d in zones.show_days(edition)]
    rows = []
    for zone in zone_list:
        key = str(zone.id) if zone is not None else "new"
        if typed is not None and typed.get("key") == key:
            values = typed
        elif zone is None:
            values = {"name_en": "", "name_zh": "", "capacity": "", "reentry": "free", "admission": False,
                      "access": {c: set(days) for c in VISITOR_CATEGORY.codes}}
        else:
            values = {"name_en": zone.name_en, "name_zh": zone.name_zh,
                      "capacity": "" if zone.capacity is None else str(zone.capacity), "reentry": zone.reentry,
                      "admission": zone.admission,
                      "access": {c: (set(days) if d is None else set(d)) for c, d in (zone.access or {}).items()}}
        rows.append({"key": key, "zone": zone, "values": values,
                     "errors": (errors or {}) if typed is not None and typed.get("key") == key else {}})
    return rows


def _setup_page(zone_errors=None, typed=None, gate_errors=None, gate_typed=None):
    edition = g.edition
    scope = current_scope()
    zone_list = zones.zones_of(scope, edition)
    occupancy = {o.zone_id: o for o in zones.occupancy(scope, edition)}
    return render_template(
        "onsite/zones/setup.html", edition=edition, zone_rows=_zone_rows(edition, [*zone_list, None], zone_errors,
                                                                          typed),
        zone_list=zone_list, gates=zones.gates_of(scope, edition), days=zones.show_days(edition),
        stale_days=zones.days_outside_show(edition, zone_list),
        categories=VISITOR_CATEGORY, reentry=REENTRY, directions=GATE_DIRECTION, occupancy=occupancy,
        gate_errors=gate_errors or {}, gate_typed=gate_typed or {}, language=current_language())


@bp.route("/org/editions/<int:edition_id>/zones", methods=["GET", "POST"])
@require(MANAGE_ZONES, organizer=True)
def setup():
    """Zones (names, capacity, who may enter on which day, re-entry) and gates; POST saves one zone."""
    if request.method == "GET":
        return _setup_page()
    edition = g.edition
    zone_id = _form_value("zone_id", 20).strip() or None
    typed = {"key": zone_id or "new", "name_en": _form_value("name_en"), "name_zh": _form_value("name_zh"),
             "capacity": _form_value("capacity", 40), "reentry": _form_value("reentry", 20),
             "admission": bool(request.form.get("admission")),
             "access": {c: set(v) for c, v in _access_from_form(edition).items()}}
    try:
        zone = zones.save_zone(current_scope(), edition, zone_id, name_en=typed["name_en"], name_zh=typed["name_zh"],
                               capacity=_capacity(typed["capacity"]), access=_access_from_form(edition),
                               reentry=typed["reentry"], admission=typed["admission"], actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        if error.field == "zone_id":  # no such zone here (a stale page, a forged form): nothing to show it beside
            flash(str(error), "error")
            return redirect(url_for("zones.setup"))
        for key in ("name_en", "name_zh", "capacity"):  # what goes back into the fields: storable text
            typed[key] = typed[key].replace("\x00", "")
        return _setup_page(zone_errors={error.field or "name_en": str(error)}, typed=typed)
    flash(_("Zone “%(name)s” saved.", name=zone.name(current_language())), "success")
    return redirect(url_for("zones.setup", _anchor=f"zone-{zone.id}"))


@bp.route("/org/editions/<int:edition_id>/zones/gates", methods=["POST"])
@require(MANAGE_ZONES, organizer=True)
def save_gate():
    """Create or change one gate (code, name, zone, direction)."""
    gate_id = _form_value("gate_id", 20).strip() or None
    typed = {"key": gate_id or "new", "code": _form_value("code", 100).replace("\x00", ""),
             "name": _form_value("name").replace("\x00", ""), "zone_id": _form_value("zone_id", 20),
             "direction": _form_value("direction", 10)}
    try:
        zones.save_gate(current_scope(), g.edition, gate_id, code=_form_value("code", 100), name=_form_value("name"),
                        zone_id=typed["zone_id"] or None, direction=typed["direction"], actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        if error.field == "gate_id":
            flash(str(error), "error")
            return redirect(url_for("zones.setup", _anchor="gates"))
        return _setup_page(gate_errors={"key": typed["key"], error.field or "code": str(error)}, gate_typed=typed)
    flash(_("Gate %(code)s saved.", code=_form_value("code", 100).strip()), "success")
    return redirect(url_for("zones.setup", _anchor="gates"))


@bp.route("/org/editions/<int:edition_id>/zones/delete", methods=["POST"])
@require(MANAGE_ZONES, organizer=True)
def delete():
    """Delete a gate (``gate_id``) or a zone (``zone_id``: only without gates and scans)."""
    try:
        if request.form.get("gate_id"):
            zones.delete_gate(current_scope(), g.edition, _form_value("gate_id", 20), actor_id=current_user.id)
            flash(_("Gate deleted."), "success")
        else:
            zones.delete_zone(current_scope(), g.edition, _form_value("zone_id", 20), actor_id=current_user.id)
            flash(_("Zone deleted."), "success")
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    return redirect(url_for("zones.setup"))


# --- live attendance --------------------------------------------------------------------------------------------

def _zone_view(occupancy, language: str) -> dict:
    labels = {"ok": _("Room left"), "warning": _("Nearly full"), "full": _("Full")}
    return {"id": occupancy.zone_id, "name": occupancy.name(language), "inside": occupancy.inside,
            "capacity": occupancy.capacity, "level": occupancy.level,
            "level_label": labels[occupancy.level] if occupancy.capacity else ""}


def attendance_data(edition, day) -> dict:
    """The attendance of a show day with its charts (static/charts.js format), labels in the current language."""
    data = zones.attendance(current_scope(), edition, day)
    language = current_language()
    hours = [f"{h:02d}:00" for h in data["hours"]]
    zone_rows = [_zone_view(o, language) for o in data["zones"]]
    return {
        "day": data["day"], "today": data["today"], "timezone": data["timezone"], "figures": data["figures"],
        "zones": zone_rows,
        "gates": [{k: v for k, v in gate.items() if k != "by_hour"} for gate in data["gates"]],
        "charts": {
            "hours": {"type": "stack", "categories": hours,
                      "series": [{"name": gate["name"] or _("No gate named"), "data": gate["by_hour"]}
                                 for gate in data["gates"] if gate["entries"]]},
            "flow": {"type": "bar", "categories": hours,
                     "series": [{"name": _("Entries"), "data": data["entries_by_hour"]},
                                {"name": _("Exits"), "data": data["exits_by_hour"]}]},
            "occupancy": {"type": "hbar", "categories": [z["name"] for z in zone_rows],
                          "series": [{"name": _("Inside now") if data["today"] else _("Inside at the end of the day"),
                                      "data": [z["inside"] for z in zone_rows]}]},
        },
    }


@bp.route("/org/editions/<int:edition_id>/attendance")
@require(VIEW_ATTENDANCE, organizer=True)
def attendance():
    """Check-ins per hour and gate, entries and exits, who is inside each zone: updates itself."""
    edition = g.edition
    day = zones.attendance_day(edition, request.args.get("day"))
    data = attendance_data(edition, day)
    return render_template("onsite/zones/attendance.html", edition=edition, data=data, day=day,
                           days=zones.show_days(edition), poll=POLL_SECONDS,
                           json_url=url_for("zones.attendance_json", edition_id=edition.id, day=day.isoformat()))


@bp.route("/org/editions/<int:edition_id>/attendance.json")
@require(VIEW_ATTENDANCE, organizer=True)
def attendance_json():
    edition = g.edition
    data = attendance_data(edition, zones.attendance_day(edition, request.args.get("day")))
    return data, 200, NO_STORE


# --- the edition page's card ----------------------------------------------------------------------------------

def dashboard_panel(scope, edition):
    """"Inside now" per zone on the edition page (hook ``edition_dashboard``), for those who may see attendance,
    when the edition has zones and the show is on (or about to be)."""
    if not has_permission(current_user, VIEW_ATTENDANCE):
        return None
    if not zones.zones_of(scope, edition):
        return None
    day = zones.attendance_day(edition)
    if day != zones.local_day(edition, zones.utcnow()):
        return None  # not a show day: nobody is inside
    language = current_language()
    rows = [_zone_view(o, language) for o in zones.occupancy(scope, edition, day)]
    return Markup(render_template("onsite/zones/_card.html", edition=edition, zones=rows, poll=POLL_SECONDS,
                                  json_url=url_for("zones.attendance_json", edition_id=edition.id)))
