"""Pages of the walk-up kiosk, the badge desk and the desk printer's queue (services: expo.onsite.kiosk).

- ``setup``: staff name the kiosk and start kiosk mode on the tablet.
- ``run``: kiosk mode — a full-screen form a walk-up visitor fills in alone (both languages, big targets);
  a submit registers, queues the badge and checks in, then a "done" screen; static/kiosk.js resets it.
- ``desk``: staff search a pre-registered visitor and queue their badge (reprint, or reissue), optionally
  with a check-in (``desk_print``).
- ``queue`` (+ ``queue_rows``, polled by static/kiosk.js; ``queue_pdf``; ``queue_update``): the printer's page.
"""
from __future__ import annotations

import uuid

from babel import Locale
from flask import Blueprint, Response, flash, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField, TelField
from wtforms.validators import DataRequired, Email, Length, Optional

from ..core.auth import current_scope, edition_scoped, require, sign_in_failed, sign_in_limited
from ..core.forms import Form
from ..core.services import ServiceError
from ..core.templating import current_language
from ..extensions import db
from ..visitors import services as visitors
from ..visitors.models import VISITOR_CATEGORY
from . import CHECK_IN, kiosk
from . import services as scans
from .models import SCAN_REASON
from .print_models import PRINT_JOB_ORIGIN, PRINT_JOB_STATUS

bp = edition_scoped(Blueprint("kiosk", __name__))
NO_STORE = {"Cache-Control": "private, no-store"}
# How long the kiosk waits: an untouched form is cleared, a done screen goes back to the empty form (seconds).
IDLE_SECONDS = 90
DONE_SECONDS = 12
FIRST_COUNTRIES = ("CN", "HK", "MO", "TW", "JP", "KR", "SG", "US", "DE", "GB")


def strip(value):
    return value.strip() if isinstance(value, str) else value


class WalkUpForm(Form):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    company = StringField(_l("Company"), validators=[Optional(), Length(max=200)])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=200)])
    email = EmailField(_l("Email"), filters=[strip], validators=[DataRequired(), Email(), Length(max=254)])
    phone = TelField(_l("Mobile phone"), validators=[Optional(), Length(max=40)])
    country = SelectField(_l("Country or region"), validators=[Optional()], validate_choice=True)
    category = SelectField(_l("I am visiting as"), validators=[Optional()], validate_choice=False)
    invitation_code = StringField(_l("Invitation code"), filters=[strip], validators=[Optional(), Length(max=64)])
    share_with_exhibitors = BooleanField(_l("Exhibitors who scan my badge may receive my contact details"))
    consent = BooleanField(_l("I agree"), validators=[DataRequired(_l("Registration needs your consent."))])
    request_key = HiddenField()


class StartForm(Form):
    station = StringField(_l("Kiosk name"), validators=[DataRequired(), Length(max=200)])


class ExitForm(Form):
    email = EmailField(_l("Staff email"), filters=[strip], validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


# --- the kiosk lock: a session that started kiosk mode reaches the kiosk pages only -----------------------

KIOSK_LOCK = "kiosk_lock"
# What a locked session may still reach: the kiosk form, the way out, the language switch, static files, and
# the sign-in page (signing in as someone else needs their password, and drops the lock).
LOCKED_ENDPOINTS = {"kiosk.run", "kiosk.exit_kiosk", "core.set_language", "static", "core.login"}


@bp.before_app_request
def _kiosk_lock():
    """Once kiosk mode is started (``start``), this session may only reach the kiosk pages of that edition
    until a staff member ends it with their password (``exit_kiosk``): a visitor at the tablet who reaches
    the address bar cannot open the desk, the visitor lists or anything else of the signed-in account."""
    lock = session.get(KIOSK_LOCK)
    if not lock:
        return None
    if not isinstance(lock, dict) or not current_user.is_authenticated or current_user.id != lock.get("user_id"):
        session.pop(KIOSK_LOCK, None)  # another sign-in (or none): the lock belonged to the one who started it
        return None
    endpoint = request.endpoint or ""
    # (the edition's id is in g by now: edition_scoped's url_value_preprocessor took it out of the view args)
    edition_id = g.get("edition_id", (request.view_args or {}).get("edition_id", lock["edition_id"]))
    if endpoint in LOCKED_ENDPOINTS and edition_id == lock["edition_id"]:
        return None
    return redirect(url_for("kiosk.run", edition_id=lock["edition_id"], station=lock["station"]))


def country_choices() -> list[tuple[str, str]]:
    """Countries and regions in the page's language, the region's usual ones first."""
    locale = get_locale() or Locale("en")
    names = {code: name for code, name in locale.territories.items() if len(code) == 2 and code.isalpha()
             and code not in ("ZZ", "EU", "EZ", "UN", "QO", "XA", "XB")}
    first = [(code, names[code]) for code in FIRST_COUNTRIES if code in names]
    rest = sorted(((code, name) for code, name in names.items() if code not in FIRST_COUNTRIES),
                  key=lambda item: item[1])
    return [("", "—")] + first + rest


def _station(default: str | None = None) -> str:
    return _station_of(request.values.get("station", ""), default)


def _station_of(text, default: str | None = None) -> str:
    default = default or _("Kiosk")
    try:
        return kiosk.clean_station(text, default)
    except ServiceError:
        return default


def _fresh_key() -> str:
    return uuid.uuid4().hex


# --- the kiosk --------------------------------------------------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/kiosk")
@require(CHECK_IN, organizer=True)
def setup():
    """Name the kiosk (it is the gate of its check-ins) and start kiosk mode on this tablet."""
    edition = g.edition
    return render_template("onsite/kiosk/setup.html", edition=edition, setup=kiosk.kiosk_setup(edition),
                           station=_station() if request.args.get("station") else "")


@bp.route("/org/editions/<int:edition_id>/kiosk/start", methods=["POST"])
@require(CHECK_IN, organizer=True)
def start():
    """Start kiosk mode on this tablet: the session is locked to the kiosk form (``_kiosk_lock``)."""
    form = StartForm()
    if not form.validate_on_submit():
        flash(_("Name the kiosk."), "error")
        return redirect(url_for("kiosk.setup"))
    station = _station_of(form.station.data)
    kiosk.kiosk_mode_changed(current_user, g.edition, station, started=True)
    db.session.commit()
    session[KIOSK_LOCK] = {"edition_id": g.edition.id, "user_id": current_user.id, "station": station}
    return redirect(url_for("kiosk.run", station=station))


@bp.route("/org/editions/<int:edition_id>/kiosk/exit", methods=["GET", "POST"])
@require(CHECK_IN, organizer=True)
@sign_in_limited  # a password typed at a tablet anyone can walk up to: the sign-in limits apply
def exit_kiosk():
    """End kiosk mode: a staff member of the organizer (check-in permission) signs with email and password."""
    edition, form = g.edition, ExitForm()
    lock = session.get(KIOSK_LOCK) if isinstance(session.get(KIOSK_LOCK), dict) else None
    station = lock["station"] if lock else _station()
    if request.method == "POST" and form.validate_on_submit():
        unlocker = kiosk.kiosk_unlocker(edition.organizer_id, form.email.data, form.password.data)
        if unlocker is None:
            sign_in_failed()
            form.password.errors.append(_("Wrong email or password."))
        else:
            kiosk.kiosk_mode_changed(unlocker, edition, station, started=False)
            db.session.commit()
            session.pop(KIOSK_LOCK, None)
            flash(_("Kiosk mode ended on this tablet."), "success")
            return redirect(url_for("kiosk.setup", station=station))
    return Response(render_template("onsite/kiosk/exit.html", edition=edition, form=form, station=station,
                                    locked=lock is not None), headers=NO_STORE)


@bp.route("/org/editions/<int:edition_id>/kiosk/run", methods=["GET", "POST"])
@require(CHECK_IN, organizer=True)
def run():
    """Kiosk mode: the walk-up visitor's form; after a submit, the done screen (or the form with what to do)."""
    edition, station = g.edition, _station()
    setup = kiosk.kiosk_setup(edition)
    form = WalkUpForm()
    form.country.choices = country_choices()
    form.category.choices = [(code, VISITOR_CATEGORY.label(code)) for code in setup.categories]
    refusal = None
    if request.method == "POST" and form.validate_on_submit():
        data = kiosk.WalkUp(name=form.name.data, email=form.email.data, company=form.company.data or "",
                            job_title=form.job_title.data or "", phone=form.phone.data or "",
                            country=form.country.data or "", category=form.category.data or "",
                            consent=form.consent.data, share_with_exhibitors=form.share_with_exhibitors.data,
                            invitation_code=form.invitation_code.data or "", locale=current_language())
        try:
            result = kiosk.run_once_more(lambda: kiosk.register_walk_up(
                current_user, edition, data, station=station, request_key=form.request_key.data,
                public_url=visitors.request_base_url()))
        except kiosk.KioskRefused as refused:
            db.session.rollback()
            refusal = refused
        except ServiceError as error:
            db.session.rollback()
            field = getattr(form, error.field, None) if error.field else None
            (field if field is not None and field.name != "request_key" else form.name).errors.append(str(error))
            if error.field == "request_key":
                form.request_key.data = _fresh_key()
        else:
            db.session.commit()
            return Response(render_template("onsite/kiosk/done.html", edition=edition, station=station,
                                            result=result, done_seconds=DONE_SECONDS), headers=NO_STORE)
    if not form.request_key.data:
        form.request_key.data = _fresh_key()
    return Response(render_template("onsite/kiosk/run.html", edition=edition, station=station, setup=setup,
                                    form=form, refusal=refusal, idle_seconds=IDLE_SECONDS,
                                    desk_only=[kiosk.desk_only_message(c, why) for c, why in setup.desk_only.items()]),
                    headers=NO_STORE)


# --- the desk ---------------------------------------------------------------------------------------------

@bp.route("/org/editions/<int:edition_id>/desk")
@require(CHECK_IN, organizer=True)
def desk():
    """Find a pre-registered visitor (name, email, phone, number, or a scanned badge) and queue their badge."""
    edition, scope = g.edition, current_scope()
    q = (request.args.get("q") or "").strip()[:2000]
    results = kiosk.find_registrations(scope, edition, q) if q else []
    checked_in = set()
    if results:
        ids = [r.id for r in results]
        checked_in = {rid for rid in db.session.scalars(scans.checked_in_registrations(edition.id)
                                                        .where(scans.Scan.registration_id.in_(ids)))}
    return Response(render_template(
        "onsite/kiosk/desk.html", edition=edition, q=q, results=results, checked_in=checked_in,
        waiting=kiosk.waiting_jobs(scope, edition, [r.id for r in results]), station=_station(_("Desk")),
        request_key=_fresh_key(), problems={r.id: kiosk.printable_problem(r) for r in results}), headers=NO_STORE)


@bp.route("/org/editions/<int:edition_id>/desk/print", methods=["POST"])
@require(CHECK_IN, organizer=True)
def desk_print():
    edition = g.edition
    form = request.form
    back = url_for("kiosk.desk", q=(form.get("q") or "")[:200] or None, station=form.get("station") or None)
    try:
        result = kiosk.run_once_more(lambda: kiosk.desk_print(
            current_user, edition, form.get("registration_id", ""), request_key=form.get("request_key", ""),
            station=form.get("station", ""), reissue=form.get("reissue") == "1", check_in=form.get("check_in") == "1"))
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(back)
    db.session.commit()
    name = result.job.registration.visitor_name
    if result.reissued:
        flash(_("New badge for %(name)s queued for printing; the old badge no longer admits.", name=name), "success")
    elif result.created:
        flash(_("Badge of %(name)s queued for printing.", name=name), "success")
    else:
        flash(_("The badge of %(name)s is waiting in the queue already.", name=name), "warning")
    if result.checkin is not None:
        verdict = result.checkin.result
        flash(_("Checked in.") if verdict == "ok" else _("Already checked in today.") if verdict == "duplicate"
              else _("Not checked in: %(reason)s", reason=SCAN_REASON.label(result.checkin.reason)),
              "success" if verdict == "ok"
              else "warning")
    return redirect(back)


# --- the print queue --------------------------------------------------------------------------------------

def _queue_context(edition):
    view = kiosk.queue(current_scope(), edition)
    now, me = kiosk.utcnow(), current_user.id
    printable = [job for job in view.waiting if not kiosk.printable_problem(job.registration)]
    mine = [job for job in printable if job.status == "printing" and job.claimed_by_id == me
            and not kiosk.claim_expired(job, now)]
    return {"edition": edition, "view": view, "statuses": PRINT_JOB_STATUS, "origins": PRINT_JOB_ORIGIN,
            "problems": {job.id: kiosk.printable_problem(job.registration) for job in view.waiting},
            # "Open all waiting": what no desk is printing; "Mark these printed": what this user opened
            # (else, as before, what waits).
            "to_open": [job for job in printable if job.status == "queued" or kiosk.claim_expired(job, now)][:200],
            "to_mark": (mine or [job for job in view.waiting if job.status == "queued"])[:200],
            "openable": {job.id for job in printable if kiosk.printable_now(job, me, now)},
            "expired": {job.id for job in view.waiting if kiosk.claim_expired(job, now)}}


@bp.route("/org/editions/<int:edition_id>/print-queue")
@require(CHECK_IN, organizer=True)
def queue():
    return Response(render_template("onsite/kiosk/queue.html", formats=visitors.FORMATS.values(),
                                    **_queue_context(g.edition)), headers=NO_STORE)


@bp.route("/org/editions/<int:edition_id>/print-queue/rows")
@require(CHECK_IN, organizer=True)
def queue_rows():
    """The queue's tables alone, for static/kiosk.js to refresh the page without reloading it."""
    return Response(render_template("onsite/kiosk/_queue_rows.html", **_queue_context(g.edition)), headers=NO_STORE)


@bp.route("/org/editions/<int:edition_id>/print-queue/badges.pdf")
@require(CHECK_IN, organizer=True)
def queue_pdf():
    """The badges of the jobs named (?job=1&job=2), or of every job waiting, as one PDF in the chosen format."""
    fmt = request.args.get("format") or visitors.DEFAULT_FORMAT
    try:
        pdf, jobs = kiosk.jobs_pdf(current_user, g.edition, request.args.getlist("job")[:kiosk.PDF_MAX + 1] or None,
                                   fmt)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("kiosk.queue"))
    db.session.commit()  # the jobs are this desk's now ("printing"): another desk's PDF leaves them out
    if not jobs:
        flash(_("No badge waiting to be printed: another desk may be printing them."), "warning")
        return redirect(url_for("kiosk.queue"))
    name = f"badge-{jobs[0].id}.pdf" if len(jobs) == 1 else f"badges-{jobs[0].id}-{jobs[-1].id}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"', **NO_STORE})


@bp.route("/org/editions/<int:edition_id>/print-queue/update", methods=["POST"])
@require(CHECK_IN, organizer=True)
def queue_update():
    """Mark jobs printed or failed, queue failed ones again, or remove them (``job`` ids, ``action``)."""
    action = request.form.get("action", "")
    try:
        result = kiosk.update_jobs(current_user, g.edition, request.form.getlist("job")[:kiosk.PDF_MAX + 1], action,
                                   failure=request.form.get("failure", ""))
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        n = len(result.changed)
        if n or not result.skipped:
            flash({"printed": _("Badges marked printed: %(n)s.", n=n),
                   "failed": _("Badges marked failed: %(n)s.", n=n),
                   "retry": _("Badges back in the queue: %(n)s.", n=n),
                   "remove": _("Badges removed from the queue: %(n)s.", n=n)}[action], "success")
        if result.skipped:
            flash(_("Left as they are: %(jobs)s.", jobs=", ".join(
                _("%(name)s (%(status)s)", name=job.registration.visitor_name, status=job.status_state.label)
                for job in result.skipped)), "warning")
    return redirect(url_for("kiosk.queue"))
