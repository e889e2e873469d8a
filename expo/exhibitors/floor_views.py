"""Organizer: the floor plan (halls, stands, who has which stand) and the booth-sales forecast (issue 8)."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import DecimalField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..core.auth import current_scope, edition_scoped, require
from ..core.forms import Form, choices
from ..core.scoping import get_in_edition_or_404, get_scoped
from ..core.services import ServiceError, parse_id
from ..extensions import db
from . import MANAGE_EXHIBITORS
from . import floorplan, forecast as forecasting
from .floor_models import Hall, Stand
from .models import EXHIBITOR_STATUS, Exhibitor

MANAGE_FLOOR_PLAN = "manage_floor_plan"
VIEW_SALES_FORECAST = "view_sales_forecast"
MAX_CSV_BYTES = 1_000_000

bp = edition_scoped(Blueprint("floor", __name__))


class HallForm(Form):
    hall_id = HiddenField()
    name = StringField(_l("Hall name"), validators=[DataRequired(), Length(max=20)])
    width_m = DecimalField(_l("Width (m)"), validators=[DataRequired(), NumberRange(min=1, max=10_000)])
    depth_m = DecimalField(_l("Depth (m)"), validators=[DataRequired(), NumberRange(min=1, max=10_000)])


class StandForm(Form):
    stand_id = HiddenField()
    hall = SelectField(_l("Hall"), coerce=int, validate_choice=True)
    number = StringField(_l("Stand number"), validators=[DataRequired(), Length(max=20)])
    x = DecimalField(_l("From the left (m)"), validators=[Optional(), NumberRange(min=0, max=10_000)], default=0)
    y = DecimalField(_l("From the top (m)"), validators=[Optional(), NumberRange(min=0, max=10_000)], default=0)
    w = DecimalField(_l("Width (m)"), validators=[DataRequired(), NumberRange(min=0.5, max=10_000)])
    h = DecimalField(_l("Depth (m)"), validators=[DataRequired(), NumberRange(min=0.5, max=10_000)])
    area_m2 = DecimalField(_l("Area (m²)"), validators=[Optional(), NumberRange(min=0.5, max=1_000_000)],
                           description=_l("Empty: width × depth."))
    booth_type = SelectField(_l("Booth type"), coerce=int, validate_choice=True)


def _stand_form(scope, edition, plan, **kwargs) -> StandForm:
    form = StandForm(**kwargs)
    form.hall.choices = choices((h.hall.id, h.hall.name) for h in plan.halls)
    form.booth_type.choices = choices([(0, _("None"))] + [(t.id, f"{t.code} · {t.name(_locale())}")
                                                          for t in floorplan.booth_types(scope, edition)])
    return form


def _locale() -> str:
    from flask_babel import get_locale

    return str(get_locale() or "en")


def _plan_url(**args):
    return url_for("floor.plan", **{k: v for k, v in args.items() if v})


# --- the plan ------------------------------------------------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/floor-plan")
@require(MANAGE_EXHIBITORS, organizer=True)
def plan():
    """Every hall drawn with its stands coloured free / held / sold; a click on a stand opens it beside the plan
    (its exhibitor, or the form that assigns it). ``?exhibitor=`` comes from the pipeline: pick a stand for it."""
    scope, edition = current_scope(), g.edition
    data = floorplan.floor_plan(scope, edition)
    selected = data.stand(parse_id(request.args.get("stand")) or 0)
    for_exhibitor = None
    wanted = parse_id(request.args.get("exhibitor"))
    if wanted:
        for_exhibitor = get_scoped(Exhibitor, wanted, scope)
        if for_exhibitor is None or for_exhibitor.edition_id != edition.id:
            for_exhibitor = None
    current_stand = floorplan.stand_of(for_exhibitor) if for_exhibitor is not None else None
    return render_template("exhibitors/floor_plan.html", edition=edition, plan=data, selected=selected,
                           for_exhibitor=for_exhibitor, current_stand=current_stand,
                           candidates=floorplan.candidates(scope, edition) if selected else [],
                           states=floorplan.STAND_STATE, colours=floorplan.COLOURS, statuses=EXHIBITOR_STATUS,
                           fit_text=floorplan.fit_text)


@bp.route("/org/editions/<int:edition_id>/floor-plan/halls/<int:hall_id>.svg")
@require(MANAGE_EXHIBITORS, organizer=True)
def hall_svg(hall_id):
    """One hall's plan as an SVG file (to print, or to put in a mail)."""
    scope = current_scope()
    hall = get_in_edition_or_404(Hall, hall_id, g.edition.id, scope)
    data = floorplan.floor_plan(scope, g.edition)
    hall_plan = next(h for h in data.halls if h.hall.id == hall.id)
    svg = render_template("exhibitors/floor_svg.html", edition=g.edition, hall_plan=hall_plan, selected=None,
                          for_exhibitor=None, standalone=True, colours=floorplan.COLOURS,
                          states=floorplan.STAND_STATE, fit_text=floorplan.fit_text)
    return Response(svg, mimetype="image/svg+xml",
                    headers={"Content-Disposition": f'inline; filename="hall-{hall.id}.svg"'})


@bp.route("/org/editions/<int:edition_id>/floor-plan/stands/<int:stand_id>/assign", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def assign(stand_id):
    scope, edition = current_scope(), g.edition
    stand = get_in_edition_or_404(Stand, stand_id, edition.id, scope)
    exhibitor = get_scoped(Exhibitor, parse_id(request.form.get("exhibitor_id")), scope)
    try:
        if exhibitor is None or exhibitor.edition_id != edition.id:
            raise ServiceError(_("Choose an exhibitor of this edition."))
        changed = floorplan.assign_stand(stand, exhibitor, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        if changed:
            flash(_("Stand %(stand)s assigned to %(company)s.", stand=stand.label, company=exhibitor.company.name),
                  "success")
        else:
            flash(_("%(company)s has this stand already.", company=exhibitor.company.name), "info")
    return redirect(_plan_url(stand=stand_id) + "#stand-panel")


@bp.route("/org/editions/<int:edition_id>/floor-plan/stands/<int:stand_id>/release", methods=["POST"])
@require(MANAGE_EXHIBITORS, organizer=True)
def release(stand_id):
    stand = get_in_edition_or_404(Stand, stand_id, g.edition.id, current_scope())
    if floorplan.release_stand(stand, actor_id=current_user.id):
        flash(_("Stand %(stand)s is free again.", stand=stand.label), "success")
    else:
        flash(_("This stand was free already."), "info")
    return redirect(_plan_url(stand=stand_id) + "#stand-panel")


# --- set-up: halls and stands ------------------------------------------------------------------------------

def _setup_page(hall_form=None, stand_form=None, import_result=None, status=200):
    scope, edition = current_scope(), g.edition
    data = floorplan.floor_plan(scope, edition)
    if hall_form is None:
        hall = get_scoped(Hall, parse_id(request.args.get("hall")), scope)
        hall = hall if hall is not None and hall.edition_id == edition.id else None
        hall_form = HallForm(formdata=None, obj=hall, hall_id=hall.id if hall else "")
    if stand_form is None:
        stand = get_scoped(Stand, parse_id(request.args.get("stand")), scope)
        stand = stand if stand is not None and stand.edition_id == edition.id else None
        if stand is not None:
            stand_form = _stand_form(scope, edition, data, formdata=None, obj=stand, stand_id=stand.id,
                                     hall=stand.hall_id, booth_type=stand.booth_type_id or 0)
        else:
            last = data.halls[-1].hall.id if data.halls else None
            stand_form = _stand_form(scope, edition, data, formdata=None, hall=last)
    return render_template("exhibitors/floor_setup.html", edition=edition, plan=data, hall_form=hall_form,
                           stand_form=stand_form, import_result=import_result, columns=floorplan.CSV_COLUMNS), status


@bp.route("/org/editions/<int:edition_id>/floor-plan/setup")
@require(MANAGE_FLOOR_PLAN, organizer=True)
def setup():
    return _setup_page()


@bp.route("/org/editions/<int:edition_id>/floor-plan/halls", methods=["POST"])
@require(MANAGE_FLOOR_PLAN, organizer=True)
def save_hall():
    scope, edition = current_scope(), g.edition
    form = HallForm()
    if form.validate_on_submit():
        hall = None
        if form.hall_id.data:
            hall = get_scoped(Hall, parse_id(form.hall_id.data), scope)
            if hall is None or hall.edition_id != edition.id:
                abort(404)
        try:
            saved = floorplan.save_hall(scope, edition, name=form.name.data, width_m=form.width_m.data,
                                        depth_m=form.depth_m.data, hall=hall, actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            getattr(form, error.field if error.field in ("name", "width_m", "depth_m") else "name").errors \
                .append(str(error))
        else:
            flash(_("Hall %(name)s saved.", name=saved.name), "success")
            return redirect(url_for("floor.setup") + "#halls")
    return _setup_page(hall_form=form)


@bp.route("/org/editions/<int:edition_id>/floor-plan/stands", methods=["POST"])
@require(MANAGE_FLOOR_PLAN, organizer=True)
def save_stand():
    scope, edition = current_scope(), g.edition
    data = floorplan.floor_plan(scope, edition)
    form = _stand_form(scope, edition, data)
    if form.validate_on_submit():
        hall = get_in_edition_or_404(Hall, form.hall.data, edition.id, scope)
        stand = None
        if form.stand_id.data:
            stand = get_scoped(Stand, parse_id(form.stand_id.data), scope)
            if stand is None or stand.edition_id != edition.id:
                abort(404)
            if stand.hall_id != hall.id:
                form.hall.errors.append(_("A stand stays in its hall: delete it and add it to the other hall."))
                return _setup_page(stand_form=form)
        try:
            saved = floorplan.save_stand(scope, hall, floorplan.StandData(
                form.number.data, form.x.data or 0, form.y.data or 0, form.w.data, form.h.data, form.area_m2.data,
                form.booth_type.data or None), stand=stand, actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            field = error.field if error.field in ("number", "x", "y", "w", "h", "area_m2") else "number"
            if error.field == "booth_type_id":
                field = "booth_type"
            getattr(form, field).errors.append(str(error))
        else:
            flash(_("Stand %(stand)s saved.", stand=saved.label), "success")
            return redirect(url_for("floor.setup", hall=None) + "#stands")
    return _setup_page(stand_form=form)


@bp.route("/org/editions/<int:edition_id>/floor-plan/halls/<int:hall_id>/delete", methods=["POST"])
@require(MANAGE_FLOOR_PLAN, organizer=True)
def delete_hall(hall_id):
    hall = get_in_edition_or_404(Hall, hall_id, g.edition.id, current_scope())
    name = hall.name
    try:
        floorplan.delete_hall(hall, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Hall %(name)s deleted with its stands.", name=name), "success")
    return redirect(url_for("floor.setup") + "#halls")


@bp.route("/org/editions/<int:edition_id>/floor-plan/stands/<int:stand_id>/delete", methods=["POST"])
@require(MANAGE_FLOOR_PLAN, organizer=True)
def delete_stand(stand_id):
    stand = get_in_edition_or_404(Stand, stand_id, g.edition.id, current_scope())
    label = stand.label
    try:
        floorplan.delete_stand(stand, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("Stand %(stand)s deleted.", stand=label), "success")
    return redirect(url_for("floor.setup") + "#stands")


@bp.route("/org/editions/<int:edition_id>/floor-plan/import", methods=["POST"])
@require(MANAGE_FLOOR_PLAN, organizer=True)
def import_stands():
    upload = request.files.get("file")
    raw = upload.read(MAX_CSV_BYTES + 1) if upload else b""
    if not raw:
        flash(_("Choose a CSV file."), "error")
        return redirect(url_for("floor.setup") + "#import")
    if len(raw) > MAX_CSV_BYTES:
        flash(_("The file is larger than 1 MB."), "error")
        return redirect(url_for("floor.setup") + "#import")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError:
            flash(_("The file is not a CSV text file (UTF-8 or GB18030)."), "error")
            return redirect(url_for("floor.setup") + "#import")
    result = floorplan.import_stands(current_scope(), g.edition, text, actor_id=current_user.id)
    if result.added and not result.errors:
        flash(_("%(n)s stands added.", n=result.added), "success")
        return redirect(url_for("floor.setup") + "#stands")
    return _setup_page(import_result=result)


# --- the forecast ----------------------------------------------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/forecast")
@require(VIEW_SALES_FORECAST, organizer=True)
def forecast():
    edition = g.edition
    today = datetime.now(forecasting._zone(edition)).date()
    result = forecasting.forecast(current_scope(), edition, today=today)
    previous_name = result.previous_edition.name if result.previous_edition else ""
    labels = {"expected": _("Forecast"), "contracted": _("Contracted"),
              "previous_expected": _("%(edition)s: expected", edition=previous_name),
              "previous_contracted": _("%(edition)s: contracted", edition=previous_name), "today": _("Today")}
    charts = {"value": forecasting.chart(result, "value", labels),
              "m2": forecasting.chart(result, "m2", labels, "m²")}
    return render_template("exhibitors/forecast.html", edition=edition, result=result, chart_specs=charts,
                           statuses=EXHIBITOR_STATUS, change=forecasting.change,
                           open_statuses=forecasting.OPEN_STATUSES)
