"""Call-back pages: the edition's call lists (make one from filters or by hand), a list (its customers and
progress, its script, its callers), the caller's queue, the call page beside the phone, the report and the
not-reached CSV."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.auth import current_scope, edition_scoped, require
from ..core.permissions import has_permission
from ..core.services import ServiceError, parse_id, unstorable
from ..core.templating import current_language
from ..exhibitors.models import EXHIBITOR_STATUS
from ..extensions import db
from ..visitors.models import VISITOR_CATEGORY
from . import callback_report, callbacks
from .callback_models import CALL_AUDIENCE, CALL_OUTCOME, QUESTION_KIND, TARGET_STATUS

bp = edition_scoped(Blueprint("callbacks", __name__))
VIEW, MANAGE, CALL = "view_callbacks", "manage_callbacks", "make_calls"
STATUS_FILTERS = ("open", "reached", "not_reached")


def _zone() -> ZoneInfo:
    return ZoneInfo(g.edition.timezone)


def _list_or_404(call_list_id):
    found = callbacks.get_list(current_scope(), call_list_id, g.edition.id)
    if found is None:
        abort(404)
    return found


def _int(text, field_name: str) -> int | None:
    text = (text or "").strip()
    if not text:
        return None
    value = callbacks.parse_number(text, field_name)
    if value is not None and value != value.to_integral_value():
        raise ServiceError(_("Enter a whole number."), field_name)
    return int(value) if value is not None else None


def _selection(form) -> callbacks.Selection:
    return callbacks.Selection(
        stages=form.getlist("stages"), hall=form.get("hall", ""),
        min_area=callbacks.parse_number(form.get("min_area"), "min_area"),
        min_hot_received=_int(form.get("min_hot_received"), "min_hot_received"),
        categories=form.getlist("categories"), authorities=form.getlist("authorities"),
        checked_in=form.get("checked_in") == "yes", min_hot_given=_int(form.get("min_hot_given"), "min_hot_given"))


@bp.route("/org/editions/<int:edition_id>/callbacks", methods=["GET", "POST"])
@require(VIEW, organizer=True, POST=MANAGE)
def index():
    scope, edition = current_scope(), g.edition
    errors, values = {}, request.form
    if request.method == "POST":
        try:
            if any(unstorable(v) for v in request.form.values()):
                raise ServiceError(_("This text contains characters that cannot be stored."), "name")
            by_hand = request.form.get("by_hand") == "yes"
            attempts = _int(request.form.get("max_attempts"), "max_attempts") or 3
            selection = None if by_hand else _selection(request.form)
            made = callbacks.create_list(scope, edition, request.form.get("name", ""),
                                         request.form.get("audience", ""), selection,
                                         max_attempts=min(attempts, 99), actor_id=current_user.id)
        except ServiceError as error:
            db.session.rollback()
            errors[error.field or "name"] = str(error)
        else:
            count = callbacks.progress([made.id])[made.id]["total"]
            flash(_("Call list made with %(n)s customers.", n=count), "success")
            return redirect(url_for("callbacks.list_page", call_list_id=made.id))
    found = callbacks.lists(scope, edition)
    figures = callbacks.progress([c.id for c in found])
    due, _later = callbacks.queue(scope, edition, current_user.id) if has_permission(current_user, CALL) else ([], [])
    return render_template("support/callbacks.html", edition=edition, lists=found, figures=figures, errors=errors,
                           values=values, due=len(due), audiences=CALL_AUDIENCE, stages=EXHIBITOR_STATUS,
                           categories=VISITOR_CATEGORY, authorities=callbacks.AUTHORITY_LABELS,
                           describe=callbacks.describe_filters), 400 if errors else 200


@bp.route("/org/editions/<int:edition_id>/callbacks/<int:call_list_id>", methods=["GET", "POST"])
@require(VIEW, organizer=True, POST=MANAGE)
def list_page(call_list_id):
    call_list = _list_or_404(call_list_id)
    errors = {}
    if request.method == "POST":
        action = request.form.get("action", "")
        try:
            _act(call_list, action)
        except ServiceError as error:
            db.session.rollback()
            errors[error.field or "action"] = str(error)
            flash(str(error), "error")
        else:
            return redirect(url_for("callbacks.list_page", call_list_id=call_list_id))
    status = request.args.get("status", "")
    status = status if status in STATUS_FILTERS or status in TARGET_STATUS else ""
    q = (request.args.get("q") or "")[:100]
    found = callbacks.candidates(call_list, q) if q and has_permission(current_user, MANAGE) else []
    return render_template("support/callback_list.html", edition=g.edition, call_list=call_list,
                           figures=callbacks.progress([call_list.id])[call_list.id],
                           rows=callbacks.targets(call_list, status), status=status, q=q, found=found,
                           callers=callbacks.possible_callers(current_scope()), kinds=QUESTION_KIND,
                           statuses=TARGET_STATUS, outcomes=CALL_OUTCOME, errors=errors,
                           filters=callbacks.describe_filters(call_list), name=callbacks.target_name,
                           phone=callbacks.target_phone, locale=current_language(), zone=g.edition.timezone), \
        400 if errors else 200


def _act(call_list, action: str) -> None:
    form = request.form
    if action == "add_question":
        callbacks.add_question(call_list, form.get("kind", ""), form.get("text_en", ""), form.get("text_zh", ""),
                               form.get("choices", ""), actor_id=current_user.id)
        flash(_("Question added."), "success")
    elif action in ("remove_question", "up", "down"):
        question = callbacks.get_question(call_list, parse_id(form.get("question_id")))
        if question is None:
            raise ServiceError(_("No such question."))
        if action == "remove_question":
            callbacks.remove_question(question, actor_id=current_user.id)
            flash(_("Question removed."), "success")
        else:
            callbacks.move_question(question, -1 if action == "up" else 1)
    elif action == "assign":
        ids = [parse_id(v) for v in form.getlist("callers")]
        split = callbacks.assign(call_list, [i for i in ids if i], actor_id=current_user.id)
        flash(_("%(n)s customers split between %(callers)s callers.", n=sum(split.values()), callers=len(split)),
              "success")
    elif action == "add":
        ids = [i for i in (parse_id(v) for v in form.getlist("customer")) if i]
        kwargs = {"exhibitor_ids": ids} if call_list.audience == "exhibitor" else {"registration_ids": ids}
        added = callbacks.add_targets(call_list, actor_id=current_user.id, **kwargs)
        flash(_("%(n)s customers added.", n=added), "success" if added else "warning")
    elif action == "remove":
        target = callbacks.get_target(call_list, parse_id(form.get("call_target_id")))
        if target is None:
            raise ServiceError(_("No such customer on this list."))
        callbacks.remove_target(target, actor_id=current_user.id)
        flash(_("Customer taken off the list."), "success")
    else:
        raise ServiceError(_("Nothing to do."))


@bp.route("/org/editions/<int:edition_id>/callbacks/queue")
@require(CALL, organizer=True)
def queue():
    scope, edition = current_scope(), g.edition
    due, later = callbacks.queue(scope, edition, current_user.id)
    upcoming = due[1:11]
    return render_template("support/callback_queue.html", edition=edition, due=due, later=later[:20],
                           upcoming=upcoming, name=callbacks.target_name, phone=callbacks.target_phone,
                           zone=edition.timezone, statuses=TARGET_STATUS, outcomes=CALL_OUTCOME)


def _target_or_404(call_list, call_target_id):
    target = callbacks.get_target(call_list, call_target_id)
    if target is None:
        abort(404)
    if target.caller_id not in (None, current_user.id) and not has_permission(current_user, MANAGE):
        abort(404)  # another caller's customer
    return target


def _parse_local(text: str):
    text = (text or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=_zone())
        moment = moment.astimezone(timezone.utc)  # year 1 or 9999 in a far zone overflows here
    except (ValueError, OverflowError):
        raise ServiceError(_("Give the time to call back."), "call_back_at") from None
    if not 2000 <= moment.year <= 2999:
        raise ServiceError(_("Give the time to call back."), "call_back_at")
    return moment


@bp.route("/org/editions/<int:edition_id>/callbacks/<int:call_list_id>/customers/<int:call_target_id>", methods=["GET", "POST"])
@require(CALL, organizer=True)
def call(call_list_id, call_target_id):
    call_list = _list_or_404(call_list_id)
    target = _target_or_404(call_list, call_target_id)
    errors = {}
    if request.method == "POST":
        form = request.form
        try:
            attempt = parse_id(form.get("attempt"))
            if attempt is None:
                raise ServiceError(_("This call was recorded already (attempt %(n)s).", n=target.attempts))
            outcome = form.get("outcome", "")
            answers = callbacks.parse_answers(call_list.questions, form) if outcome == "reached" else {}
            when = _parse_local(form.get("call_back_at")) if outcome == "call_back" else None
            callbacks.record_call(target, caller_id=current_user.id, attempt=attempt, outcome=outcome,
                                  answers=answers, note=form.get("note", ""), call_back_at=when)
        except ServiceError as error:
            db.session.rollback()
            errors[error.field or "outcome"] = str(error)
        else:
            flash(_("%(name)s: %(outcome)s.", name=callbacks.target_name(target),
                    outcome=CALL_OUTCOME.label(form.get("outcome"))), "success")
            if form.get("next") == "list" and has_permission(current_user, VIEW):
                return redirect(url_for("callbacks.list_page", call_list_id=call_list_id))
            return redirect(url_for("callbacks.queue"))
    return render_template("support/callback_call.html", edition=g.edition, call_list=call_list, target=target,
                           context=callbacks.context(target), calls=callbacks.calls_of(target),
                           outcomes=CALL_OUTCOME, statuses=TARGET_STATUS, errors=errors, values=request.form,
                           locale=current_language(), zone=g.edition.timezone), 400 if errors else 200


@bp.route("/org/editions/<int:edition_id>/callbacks/<int:call_list_id>/report")
@require(VIEW, organizer=True)
def report(call_list_id):
    call_list = _list_or_404(call_list_id)
    locale = current_language()
    return render_template("support/callback_report.html", edition=g.edition, call_list=call_list,
                           report=callback_report.report(call_list, locale), locale=locale,
                           missed=callback_report.not_reached(call_list, include_open=False),
                           name=callbacks.target_name, phone=callbacks.target_phone, outcomes=CALL_OUTCOME,
                           zone=g.edition.timezone, filters=callbacks.describe_filters(call_list))


@bp.route("/org/editions/<int:edition_id>/callbacks/<int:call_list_id>/not-reached.csv")
@require(VIEW, organizer=True)
def not_reached_csv(call_list_id):
    call_list = _list_or_404(call_list_id)
    text = callback_report.not_reached_csv(call_list, actor_id=current_user.id, zone=_zone())
    return Response(text, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="not-reached-{call_list.id}.csv"'})
