"""Sign-in, profile and API tokens, language switch, and the organizer's shows and editions."""
import io
import time
from datetime import timedelta
from urllib.parse import urlsplit

import qrcode
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from ..extensions import db
from . import MANAGE_SHOWS, VIEW_AUDIT, VIEW_OUTBOX, services
from .auth import (PENDING_SIGN_IN, client_ip, current_scope, edition_scoped, require, sign_in_failed,
                   sign_in_limited)
from .forms import (CategoryForm, EditionForm, LoginForm, PasswordChangeForm, SecondStepForm, ShowForm, StatusForm,
                    TokenForm, TwoFactorForm, choices)
from .forms import ConsentForm, RecoveryCodesForm, RetentionForm
from .models import EDITION_STATUS, Category, Show
from .paging import page_number, page_size
from .permissions import has_permission
from .registry import registry
from .scoping import get_scoped_or_404

bp = edition_scoped(Blueprint("core", __name__))


@bp.route("/")
def home():
    """Visitors get the public front door (a module's ``front_door`` hook); staff their first page."""
    if not current_user.is_authenticated:
        for front_door in registry.hook("front_door"):
            return front_door()
        return redirect(url_for("core.login"))
    area = "exhibitor" if current_user.is_exhibitor_staff else "organizer"
    for entry in registry.nav(area):
        if entry.permission is None or has_permission(current_user, entry.permission):
            return redirect(url_for(entry.endpoint))
    abort(403)


@bp.route("/login", methods=["GET", "POST"])
@sign_in_limited
def login():
    form = LoginForm()
    if form.validate_on_submit():
        accounts = services.sign_in_candidates(form.email.data, form.password.data)
        if not accounts:
            sign_in_failed()
            services.record_failed_sign_in(form.email.data, ip=client_ip())
            form.password.errors.append(_("Wrong email or password."))
        elif len(accounts) == 1 and not accounts[0].two_factor:
            return _sign_in(accounts[0])
        else:  # a second step: the code of the authenticator app, or which of the person's accounts
            session[PENDING_SIGN_IN] = {"ids": [user.id for user in accounts], "at": int(time.time()),
                                        "email": services.normalize_email(form.email.data)}
            return redirect(url_for("core.login_continue", next=request.args.get("next")))
    return render_template("core/login.html", form=form)


PENDING_SIGN_IN_SECONDS = 300  # the password step is good for this long without its second step


@bp.route("/login/continue", methods=["GET", "POST"])
@sign_in_limited
def login_continue():
    """The second step of signing in: the two-factor code (and the account, when the password opened several).
    The password step alone signs no one in; its result waits in the signed session for a few minutes."""
    pending = session.get(PENDING_SIGN_IN) or {}
    accounts = services.users_by_ids(pending.get("ids") or [])
    if not accounts or time.time() - pending.get("at", 0) > PENDING_SIGN_IN_SECONDS:
        session.pop(PENDING_SIGN_IN, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("core.login", next=request.args.get("next")))
    form = SecondStepForm(account=accounts[0].id)
    form.account.choices = choices((user.id, _account_label(user)) for user in accounts)
    if form.validate_on_submit():
        user = next(user for user in accounts if user.id == form.account.data)
        if user.two_factor and not (form.code.data or "").strip():
            form.code.errors.append(_("Enter the code your authenticator app shows."))
        elif user.two_factor and not services.check_second_factor(user, form.code.data):
            sign_in_failed()
            services.record_failed_sign_in(user.email, ip=client_ip())
            form.code.errors.append(_("This code is not right: check the time on your phone and try the next one."))
        else:
            return _sign_in(user)
    return render_template("core/login_continue.html", form=form, several=len(accounts) > 1,
                           asks_code=any(user.two_factor for user in accounts))


def _account_label(user) -> str:
    """An account as its owner tells it apart: the organizer, or the exhibiting company at an edition."""
    if user.exhibitor is not None:
        return f"{user.exhibitor.company.name} · {user.exhibitor.edition.name}"
    return user.organizer.name


def _sign_in(user):
    session.pop(PENDING_SIGN_IN, None)
    session.pop(TOTP_ENROLMENT, None)
    # A new CSRF token for every signed-in user: a page the previous user left open on a shared device (an
    # offline scanner page with its queue) cannot send anything in the new user's name.
    session.pop("csrf_token", None)
    services.start_session(user, lifetime=timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"]),
                           ip=client_ip(), user_agent=request.user_agent.string)
    login_user(user)
    services.audit("user.login", organizer_id=user.organizer_id, user_id=user.id, ip=client_ip())
    return redirect(_safe_next())


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    services.audit("user.logout", organizer_id=current_user.organizer_id, user_id=current_user.id, ip=client_ip())
    services.end_session(current_user.session_token)
    logout_user()
    session.pop("csrf_token", None)  # the pages left open by this user stop being able to post
    return redirect(url_for("core.login"))


@bp.route("/lang/<code>")
def set_language(code):
    if code not in ("en", "zh_CN"):
        abort(404)
    session["lang"] = code
    return redirect(_safe_next())


def _safe_next() -> str:
    """``?next=`` when it is a path of this site, else home. Browsers read "/\\host" as "//host" and skip
    tabs and newlines in URLs, so those are normalised before the look; anything with a scheme or a host
    is refused."""
    target = request.args.get("next", "")
    seen = "".join(ch for ch in target.replace("\\", "/") if ch >= " " and ch != "\x7f")
    parts = urlsplit(seen)
    if not seen.startswith("/") or seen.startswith("//") or parts.scheme or parts.netloc:
        return url_for("core.home")
    return seen


@bp.route("/profile", methods=["GET", "POST"])
@login_required
def profile():
    form = TokenForm()
    new_token = None
    if form.validate_on_submit():
        _token, new_token = services.create_api_token(current_user, form.name.data)
        form = TokenForm(formdata=None)
    return render_template("core/profile.html", form=form, new_token=new_token,
                           tokens=services.user_tokens(current_user))


@bp.route("/profile/password", methods=["GET", "POST"])
@login_required
def change_password():
    """A new password; every other session of the user ends (a browser left signed in elsewhere, a thief's)."""
    form = PasswordChangeForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.new_password.data,
                                     keep_session=current_user.session_token)
        except services.ServiceError as error:
            getattr(form, error.field or "new_password").errors.append(str(error))
        else:
            flash(_("Password changed. You were signed out everywhere else."), "success")
            return redirect(url_for("core.profile"))
    return render_template("core/password.html", form=form)


TOTP_ENROLMENT = "totp_enrolment"  # the session key of a secret shown but not yet confirmed


@bp.route("/profile/two-factor", methods=["GET", "POST"])
@require(organizer=True)
def two_factor():
    """Switch two-factor sign-in on: scan the QR code (or type the secret), confirm with a code. On while on:
    the page offers to switch it off (with a code)."""
    form = TwoFactorForm()
    if current_user.two_factor:
        return render_template("core/two_factor.html", form=form, uri=None, secret=None,
                               recovery_form=RecoveryCodesForm(formdata=None),
                               unused=services.unused_recovery_codes(current_user))
    secret = _enrolment_secret()
    if not secret:
        secret = services.new_totp_secret()
        session[TOTP_ENROLMENT] = {"user": current_user.id, "secret": secret}
    if form.validate_on_submit():
        try:
            services.enable_totp(current_user, secret, form.code.data)
        except services.ServiceError as error:
            form.code.errors.append(str(error))
        else:
            session.pop(TOTP_ENROLMENT, None)
            flash(_("Two-factor sign-in is on: from now on you sign in with a code from your app."), "success")
            return _recovery_codes_page(services.make_recovery_codes(current_user))
    return render_template("core/two_factor.html", form=form, uri=services.totp_uri(current_user, secret),
                           secret=secret)


def _enrolment_secret() -> str | None:
    """The secret shown to this user and not yet confirmed (held in the signed session, for this user only)."""
    enrolment = session.get(TOTP_ENROLMENT) or {}
    return enrolment.get("secret") if enrolment.get("user") == current_user.id else None


@bp.route("/profile/two-factor/qr.png")
@require(organizer=True)
def two_factor_qr():
    """The QR code of the secret being set up (the page shows it as an image: no script, no third party)."""
    secret = _enrolment_secret()
    if not secret or current_user.two_factor:
        abort(404)
    image = qrcode.make(services.totp_uri(current_user, secret), box_size=6, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    response = current_app.response_class(buffer.getvalue(), mimetype="image/png")
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _recovery_codes_page(codes: list[str]):
    """The recovery codes, shown once: never cached, never in a redirect's session."""
    response = current_app.make_response(render_template("core/recovery_codes.html", codes=codes))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/profile/two-factor/recovery-codes", methods=["POST"])
@require(organizer=True)
def recovery_codes():
    """A new set of recovery codes (the old set stops working), after a current code from the app."""
    form = RecoveryCodesForm()
    if current_user.two_factor and form.validate_on_submit():
        if services.check_totp(current_user, form.app_code.data):
            return _recovery_codes_page(services.make_recovery_codes(current_user))
        form.app_code.errors.append(_("This code is not right: check the time on your phone and try the next one."))
    if not current_user.two_factor:
        return redirect(url_for("core.two_factor"))
    return render_template("core/two_factor.html", form=TwoFactorForm(formdata=None), uri=None, secret=None,
                           recovery_form=form, unused=services.unused_recovery_codes(current_user))


@bp.route("/profile/two-factor/off", methods=["POST"])
@require(organizer=True)
def disable_two_factor():
    form = TwoFactorForm()
    if form.validate_on_submit():
        try:
            services.disable_totp(current_user, form.code.data)
        except services.ServiceError as error:
            form.code.errors.append(str(error))
        else:
            flash(_("Two-factor sign-in is off."), "success")
            return redirect(url_for("core.profile"))
    return render_template("core/two_factor.html", form=form, uri=None, secret=None,
                           recovery_form=RecoveryCodesForm(formdata=None),
                           unused=services.unused_recovery_codes(current_user))


@bp.route("/profile/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_token(token_id):
    try:
        services.revoke_api_token(current_user, token_id)
    except services.ServiceError:
        abort(404)
    flash(_("Token revoked."), "success")
    return redirect(url_for("core.profile"))


# --- organizer: shows and editions ---------------------------------------------------------------

@bp.route("/org")
@require(organizer=True)
def dashboard():
    scope = current_scope()
    return render_template("core/dashboard.html", shows=services.shows(scope), editions=services.editions(scope))


@bp.route("/org/shows/new", methods=["GET", "POST"])
@require(MANAGE_SHOWS, organizer=True)
def new_show():
    form = ShowForm()
    if form.validate_on_submit():
        show = services.create_show(current_scope(), form.name.data)
        return redirect(url_for("core.show", show_id=show.id))
    return render_template("core/show_new.html", form=form)


@bp.route("/org/shows/<int:show_id>", methods=["GET", "POST"])
@require(organizer=True, POST=MANAGE_SHOWS)
def show(show_id):
    scope = current_scope()
    show = get_scoped_or_404(Show, show_id, scope)
    tree = services.category_tree(show)
    form = CategoryForm()
    form.parent_id.choices = choices([(0, "—")] + [(c.id, "— " * depth + c.name) for c, depth in tree])
    if form.validate_on_submit():
        parent = get_scoped_or_404(Category, form.parent_id.data, scope) if form.parent_id.data else None
        try:
            services.add_category(scope, show, form.name.data, parent)
        except services.ServiceError as error:
            form.name.errors.append(str(error))
        else:
            return redirect(url_for("core.show", show_id=show.id))
    return render_template("core/show.html", show=show, tree=tree, form=form)


@bp.route("/org/shows/<int:show_id>/editions/new", methods=["GET", "POST"])
@require(MANAGE_SHOWS, organizer=True)
def new_edition(show_id):
    scope = current_scope()
    show = get_scoped_or_404(Show, show_id, scope)
    form = EditionForm()
    if form.validate_on_submit():
        try:
            edition = services.create_edition(scope, show, form.name.data, form.starts_on.data, form.ends_on.data,
                                              venue=form.venue.data or "", timezone=form.timezone.data.strip(),
                                              description=form.description.data or "",
                                              consent_text=form.consent_text.data or "")
        except services.ServiceError as error:
            getattr(form, error.field or "name").errors.append(str(error))
        else:
            return redirect(url_for("core.edition", edition_id=edition.id))
    return render_template("core/edition_new.html", form=form, show=show)


@bp.route("/org/editions/<int:edition_id>", methods=["GET", "POST"])
@require(organizer=True, POST=MANAGE_SHOWS)
def edition():
    edition = g.edition
    form = StatusForm(status=edition.status)
    form.status.choices = choices((s.code, s.label) for s in [edition.status_state,
                                                               *EDITION_STATUS.next_states(edition.status)])
    if form.validate_on_submit():
        try:
            services.set_edition_status(edition, form.status.data, actor_id=current_user.id)
        except services.ServiceError as error:
            form.status.errors.append(str(error))
        else:
            flash(_("Status changed."), "success")
            return redirect(url_for("core.edition"))
    panels = [panel for hook in registry.hook("edition_dashboard")
              if (panel := hook(current_scope(), edition)) is not None]
    public_url = next((url for hook in registry.hook("public_page_url") if (url := hook(edition))), None)
    return render_template("core/edition.html", edition=edition, form=form, panels=panels, public_url=public_url,
                           **_consent_context(edition))


# --- the edition's consent texts (versioned) and retention period ---------------------------------------

def _consent_context(edition, consent_form=None, retention_form=None) -> dict:
    return {"consent_versions": services.consent_versions(edition), "shred_on": services.shred_on(edition),
            "consent_form": consent_form or ConsentForm(formdata=None, consent_text=edition.consent_text,
                                                        sharing_text=edition.sharing_text),
            "retention_form": retention_form or RetentionForm(formdata=None,
                                                              retention_months=edition.retention_months)}


@bp.route("/org/editions/<int:edition_id>/consent", methods=["POST"])
@require(MANAGE_SHOWS, organizer=True)
def edition_consent():
    """A changed consent text is a new version; registrations keep the version their visitor agreed to."""
    edition, form = g.edition, ConsentForm()
    if form.validate_on_submit():
        version = services.update_consent_text(edition, form.consent_text.data, sharing_text=form.sharing_text.data,
                                               actor_id=current_user.id)
        flash(_("Consent text saved as version %(v)d.", v=version.version) if version else _("Nothing changed."),
              "success")
        return redirect(url_for("core.edition") + "#consent")
    return _edition_page_with(edition, consent_form=form)


@bp.route("/org/editions/<int:edition_id>/retention", methods=["POST"])
@require(MANAGE_SHOWS, organizer=True)
def edition_retention():
    """How long the edition's visitor data is kept after the show (empty: kept until erased one by one)."""
    edition, form = g.edition, RetentionForm()
    if form.validate_on_submit():
        try:
            services.set_retention(edition, form.retention_months.data, actor_id=current_user.id)
        except services.ServiceError as error:
            form.retention_months.errors.append(str(error))
        else:
            flash(_("Retention period saved."), "success")
            return redirect(url_for("core.edition") + "#retention")
    return _edition_page_with(edition, retention_form=form)


def _edition_page_with(edition, **forms):
    """The edition page again, with a form's errors next to its fields."""
    form = StatusForm(status=edition.status, formdata=None)
    form.status.choices = choices((s.code, s.label) for s in [edition.status_state,
                                                               *EDITION_STATUS.next_states(edition.status)])
    public_url = next((url for hook in registry.hook("public_page_url") if (url := hook(edition))), None)
    return render_template("core/edition.html", edition=edition, form=form, panels=[], public_url=public_url,
                           **_consent_context(edition, **forms))


@bp.route("/org/audit")
@require(VIEW_AUDIT, organizer=True)
def audit_log():
    args = request.args
    log = services.audit_log(current_scope(), services.AuditFilters.from_args(args),
                             page=args.get("page", 1, type=int),
                             per_page=args.get("per_page", 50, type=int))
    return render_template("core/audit.html", log=log)


@bp.route("/org/outbox")
@require(VIEW_OUTBOX, organizer=True)
def outbox():
    page = services.outbox_page(current_scope(), page=page_number(request.args.get("page")),
                                per_page=page_size(request.args.get("per_page")))
    services.audit_contact_view(current_user, object_type="mail_messages", rows=len(page.items), page=page.page)
    return render_template("core/outbox.html", messages=page.items, page=page)


# --- customer 360: one search box over persons and companies (core.search, the modules' "search" hook) ---

def _allowed(permission: str) -> bool:
    return has_permission(current_user, permission)


@bp.app_context_processor
def _search_box():
    """The top bar shows the search box to organizer staff who may see what some module would find."""
    def show() -> bool:
        from . import search

        return (current_user.is_authenticated and not current_user.is_exhibitor_staff
                and search.search_available(_allowed))

    return {"show_search_box": show}


@bp.route("/org/search")
@require(organizer=True)
def search():
    """Persons and companies by name (Chinese or pinyin), email, phone (any writing) or company, grouped.
    The query is not written to the audit log (it is often a name); that a search was made is."""
    from . import search as customer_search

    if not customer_search.search_available(_allowed):
        abort(403)
    text = (request.args.get("q") or "").strip()
    query, groups = customer_search.search(current_scope(), text, _allowed)
    if text:
        services.audit_contact_view(current_user, object_type="persons", search=True,
                                    rows=sum(len(g.results) for g in groups))
    return render_template("core/search.html", text=text, query=query, groups=groups)


@bp.route("/healthz")
def healthz():
    db.session.execute(select(1))
    return {"status": "ok"}


# The pages of background jobs and imports add their routes to this blueprint.
from . import job_views  # noqa: E402,F401
