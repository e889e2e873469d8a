"""Recommendations' pages: the organizer's "Matchmaking" page of an edition (settings, backtest, run, status,
exclusions), the exhibitor's "Visitors to invite", and the visitor's "Exhibitors to see" (a section on their own
page /r/<key> through the ``visitor_page_sections`` hook, and the full list at /r/<key>/exhibitors)."""
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ..core.auth import current_scope, edition_scoped, require
from ..core.scoping import get_in_edition_or_404
from ..core.services import ServiceError, parse_id
from ..exhibitors.models import Exhibitor
from ..extensions import db
from ..visitors import services as visitor_services
from ..visitors.models import Registration
from . import INVITE_VISITORS, MANAGE_MATCHMAKING, VIEW_MATCHMAKING, explain, services
from .models import RUN_STATUS

bp = edition_scoped(Blueprint("matchmaking", __name__))

VISITOR_SECTION_SIZE = 5


# --- the organizer --------------------------------------------------------------------------------------

def _page(data=None, errors=None):
    edition, scope = g.edition, current_scope()
    settings = services.settings_for(edition)
    weights = services.weights_of(settings)
    return render_template(
        "matchmaking/edition.html", edition=edition, settings=settings, status=RUN_STATUS.state(settings.status),
        weights=data.weights if data else weights, signals=explain.SIGNALS, errors=errors or {},
        exclude_competitors=data.exclude_competitors if data else settings.exclude_competitors,
        exclude_met=data.exclude_met if data else settings.exclude_met,
        exclude_met_before=data.exclude_met_before if data else settings.exclude_met_before, top_n=data.top_n if data else settings.top_n,
        overview=services.overview(scope, edition), pairs=services.sample_pairs(scope, edition),
        backtest=settings.backtest, chart=services.backtest_chart(settings.backtest),
        exclusions=services.exclusion_list(scope, edition), replayed=services.backtest_edition(edition))


@bp.route("/org/editions/<int:edition_id>/matchmaking", methods=["GET", "POST"])
@require(VIEW_MATCHMAKING, organizer=True, POST=MANAGE_MATCHMAKING)
def matchmaking():
    if request.method == "GET":
        return _page()
    data = services.SettingsInput.from_form(request.form)
    try:
        changed = services.save_settings(g.edition, data, actor_id=current_user.id)
    except services.SettingsErrors as error:
        db.session.rollback()
        return _page(data, error.errors)
    flash(_("Settings saved. Run the recommendations again to apply them.") if changed else _("Nothing changed."),
          "success")
    return redirect(url_for("matchmaking.matchmaking"))


@bp.route("/org/editions/<int:edition_id>/matchmaking/run", methods=["POST"])
@require(MANAGE_MATCHMAKING, organizer=True)
def run():
    services.request_run(g.edition, actor_id=current_user.id)
    flash(_("The recommendations are being computed; this page shows when they are ready."), "success")
    return redirect(url_for("matchmaking.matchmaking"))


@bp.route("/org/editions/<int:edition_id>/matchmaking/backtest", methods=["POST"])
@require(MANAGE_MATCHMAKING, organizer=True)
def backtest():
    from . import tasks

    tasks.run_backtest.delay(g.edition.id)
    flash(_("The backtest is running; reload this page in a moment to see it."), "success")
    return redirect(url_for("matchmaking.matchmaking"))


@bp.route("/org/editions/<int:edition_id>/matchmaking/exclusions", methods=["POST"])
@require(MANAGE_MATCHMAKING, organizer=True)
def exclusions():
    """Block a pair (exhibitor id, registration id), or unblock one (``remove``: the exclusion's id)."""
    edition, scope = g.edition, current_scope()
    if request.form.get("remove"):
        if services.unblock_pair(scope, parse_id(request.form.get("remove")), actor_id=current_user.id):
            flash(_("The pair may be recommended again from the next run."), "success")
        return redirect(url_for("matchmaking.matchmaking"))
    exhibitor_id, registration_id = parse_id(request.form.get("exhibitor")), parse_id(request.form.get("registration"))
    exhibitor = (get_in_edition_or_404(Exhibitor, exhibitor_id, edition.id, scope) if exhibitor_id is not None
                 else None)
    registration = (get_in_edition_or_404(Registration, registration_id, edition.id, scope)
                    if registration_id is not None else None)
    if exhibitor is None or registration is None:
        flash(_("Give the exhibitor and the registration number of the pair to block."), "error")
        return redirect(url_for("matchmaking.matchmaking"))
    try:
        services.block_pair(edition, exhibitor, registration, actor_id=current_user.id)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        flash(_("The pair is blocked: never recommended either way."), "success")
    return redirect(url_for("matchmaking.matchmaking"))


# --- the exhibitor --------------------------------------------------------------------------------------

def _open_meetings(exhibitor_id: int):
    """Visitors with a meeting asked or agreed already (meetings.py): no second request button."""
    try:
        from . import meetings
    except ImportError:
        return set(), False
    open_pairs = getattr(meetings, "open_pairs", None)
    return (set(open_pairs(exhibitor_id)) if open_pairs else set()), "meetings.request_visitor" in current_app.view_functions


@bp.route("/portal/visitors-to-invite")
@require(INVITE_VISITORS, exhibitor=True)
def visitors_to_invite():
    exhibitor = current_user.exhibitor
    items = services.visitors_to_invite(exhibitor)
    open_ids, can_request = _open_meetings(exhibitor.id)
    return render_template("matchmaking/visitors_to_invite.html", exhibitor=exhibitor, items=items,
                           open_ids=open_ids, can_request=can_request,
                           settings=services.settings_for(exhibitor.edition))


@bp.route("/portal/visitors-to-invite/dismiss", methods=["POST"])
@require(INVITE_VISITORS, exhibitor=True)
def dismiss():
    """"Not interested": the visitor leaves the exhibitor's list (and the exhibitor the visitor's) for good."""
    exhibitor = current_user.exhibitor
    ident = parse_id(request.form.get("registration"))
    registration = db.session.get(Registration, ident) if ident is not None else None
    # Only a visitor of the exhibitor's edition (a foreign or unknown id looks the same: 404).
    if registration is None or registration.edition_id != exhibitor.edition_id:
        abort(404)
    services.block_pair(exhibitor.edition, exhibitor, registration, reason="dismissed", actor_id=current_user.id)
    flash(_("This visitor will no longer be suggested to you."), "success")
    return redirect(url_for("matchmaking.visitors_to_invite"))


# --- the visitor ----------------------------------------------------------------------------------------

def visitor_section(registration) -> Markup | None:
    """The hook ``visitor_page_sections``: "Exhibitors to see" on the visitor's own page (the top few)."""
    items = services.exhibitors_to_see(registration, VISITOR_SECTION_SIZE + 1)
    if not items:
        return None
    return Markup(render_template("matchmaking/_exhibitors_to_see.html", registration=registration,
                                  items=items[:VISITOR_SECTION_SIZE], more=len(items) > VISITOR_SECTION_SIZE,
                                  compact=True))


@bp.route("/r/<key>/exhibitors")
def exhibitors_to_see(key):
    registration = visitor_services.registration_by_access_key(key)
    if registration is None or registration.erased_at is not None:
        abort(404)
    items = services.exhibitors_to_see(registration)
    return render_template("matchmaking/exhibitors_to_see.html", registration=registration,
                           edition=registration.edition, items=items)


def registration_panel(scope, registration) -> Markup | None:
    """The hook ``registration_panels``: the exhibitors suggested to the visitor, on the registration desk page
    (staff answering "whom should I see?" at the help desk)."""
    items = services.exhibitors_to_see(registration, 10)
    if not items:
        return None
    return Markup(render_template("matchmaking/_registration_panel.html", items=items, registration=registration))
