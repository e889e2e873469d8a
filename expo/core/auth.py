"""Access checks for views: load, then authorise, then act — in one place per blueprint.

``require`` states who may call a view (permissions, per HTTP method where they differ);
``edition_scoped`` makes a blueprint load the edition named in its URLs before every view
(scoped to the user's organizer: a foreign or missing edition is a 404) into ``g.edition``, and put
it back into the URLs it generates. Views never load the edition or check permissions by hand.
"""
from __future__ import annotations

import math
import time
from datetime import timedelta
from functools import wraps

from flask import Blueprint, abort, current_app, g, make_response, render_template, request, session
from flask_limiter.util import get_remote_address
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from ..extensions import limiter, login_manager
from .models import Edition
from .permissions import has_permission
from .scoping import Scope, get_scoped_or_404
from .services import MAX_DB_INT, normalize_email, unstorable, user_for_session


@login_manager.user_loader
def load_user(token: str):
    """The cookie names a server-side session (core.models.UserSession), never a user id: a session ended on
    the server (sign-out, password change, expiry) is ended for every copy of the cookie."""
    return user_for_session(token, idle=timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]))


# --- sign-in limits ------------------------------------------------------------------------------
# Failed attempts (wrong password, wrong two-factor code) count per account — the email typed, or the one
# waiting for its code — and per client address; a success costs nothing. Once a limit is used up, sign-in
# answers 429 with a page saying when to try again (and Retry-After) until the window has passed.

PENDING_SIGN_IN = "sign_in"  # the session key of a sign-in waiting for its second step (core.views)


# The views where an email and a password are typed (their POSTs count per account by the email typed).
PASSWORD_STEPS = {"core.login", "kiosk.exit_kiosk"}


def _account_key() -> str:
    """The account an attempt is for: the email typed at the password step; at the second step the pending
    sign-in's (never a field the client could add to pick another counter)."""
    if request.endpoint in PASSWORD_STEPS:
        return normalize_email(request.form.get("email") or "")
    return (session.get(PENDING_SIGN_IN) or {}).get("email") or ""


def sign_in_failed() -> None:
    """The view's word that this attempt failed: it counts toward the limits."""
    g.sign_in_failed = True


def _counts(response) -> bool:
    return bool(g.get("sign_in_failed"))


def _too_many_attempts(limit):
    # reset_at is a whole second, rounded up: whole seconds left, so that a fresh 15-minute window says 15.
    minutes = max(1, math.ceil(int(limit.reset_at - time.time()) / 60))
    return make_response(render_template("core/too_many_attempts.html", minutes=minutes), 429)


def sign_in_limited(view):
    """Apply the sign-in limits (SIGN_IN_LIMIT_PER_ACCOUNT, SIGN_IN_LIMIT_PER_ADDRESS) to a view's POSTs."""
    for scope, setting, key in (("sign-in-address", "SIGN_IN_LIMIT_PER_ADDRESS", get_remote_address),
                                ("sign-in-account", "SIGN_IN_LIMIT_PER_ACCOUNT", _account_key)):
        view = limiter.shared_limit(lambda setting=setting: current_app.config[setting], scope, key_func=key,
                                    methods=["POST"], deduct_when=_counts, on_breach=_too_many_attempts)(view)
    return view


def require(*permissions, organizer: bool = False, exhibitor: bool = False, **per_method):
    """Signed-in users holding every named permission (and, if asked, of the organizer or an exhibitor).

    ``per_method``: more permissions for one HTTP method, e.g. ``require(VIEW, POST=MANAGE)``.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if organizer and current_user.is_exhibitor_staff:
                abort(403)
            if exhibitor and not current_user.is_exhibitor_staff:
                abort(403)
            needed = list(permissions)
            extra = per_method.get(request.method)
            if extra:
                needed.extend(extra if isinstance(extra, (tuple, list)) else (extra,))
            if not all(has_permission(current_user, p) for p in needed):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def current_scope() -> Scope:
    return Scope.of(current_user)


def client_ip() -> str | None:
    return request.remote_addr


# --- what no view has to think about ---------------------------------------------------------------

class DatabaseInt(IntegerConverter):
    """``<int:…>`` in every URL: an id beyond what a database INTEGER holds is simply not found (a 404),
    never a query that fails."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_DB_INT)
        super().__init__(map, *args, **kwargs)


# Every page runs only scripts and styles served from static/: no inline <script>, no on*= handlers, no
# style= attributes (templates/, checked by tests/test_csp.py). Data for scripts travels in data-* attributes
# or <script type="application/json"> blocks, which the browser never executes. Scripts may still set
# element.style (CSSOM), which CSP allows: ECharts and Bootstrap do. data: images are Bootstrap's inline SVG
# icons (form validation, navbar toggler, close button) in bootstrap.min.css.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
    "font-src 'self'", "object-src 'none'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'"))
# A PDF (badges) is shown by the browser's own viewer, which a page policy breaks: Chromium draws it in an
# <embed> with inline styles of its own (object-src/style-src would blank it, crbug.com/271452). A PDF runs
# no script of ours, so it keeps only the no-framing rule.
PDF_CONTENT_SECURITY_POLICY = "frame-ancestors 'none'"


def init_request_guards(app) -> None:
    """Before the URL rules exist: bounded ids. Before every request: a path or query with text no
    database can hold (a NUL byte, a lone surrogate) is refused before any view queries with it."""
    app.url_map.converters["int"] = DatabaseInt

    @app.before_request
    def _refuse_unstorable_text():
        if unstorable(request.path):
            abort(404)
        if any(unstorable(key) or unstorable(value) for key, value in request.args.items(multi=True)):
            abort(400)

    @app.after_request
    def _security_headers(response):
        """On every answer: no framing by other sites, no type sniffing, no full URLs (with their keys and
        filters) leaked to other sites; nothing a signed-in user sees kept in shared caches."""
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY
                                    if response.mimetype != "application/pdf" else PDF_CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        # An API call with a bearer token (g.api_user) needs no look at the session's user to know it is private.
        if not request.path.startswith("/static/") and (g.get("api_user") is not None
                                                         or current_user.is_authenticated):
            response.headers["Cache-Control"] = "private, no-store"
        if current_app.config.get("SECURE_COOKIES"):  # served over TLS (accounts): browsers keep to HTTPS
            response.headers.setdefault("Strict-Transport-Security",
                                        f"max-age={current_app.config['HSTS_MAX_AGE']}; includeSubDomains")
        return response


# --- edition-scoped blueprints -------------------------------------------------------------------

def edition_scoped(bp: Blueprint) -> Blueprint:
    """Every route of ``bp`` with an ``edition_id`` in its URL gets the organizer's edition in ``g.edition``."""
    bp.url_value_preprocessor(_pull_edition_id)
    bp.before_request(_load_edition)
    bp.url_defaults(_push_edition_id)
    return bp


def _pull_edition_id(endpoint, values):
    if values and "edition_id" in values:
        g.edition_id = values.pop("edition_id")


def _load_edition():
    edition_id = g.pop("edition_id", None)
    if edition_id is None:
        return None
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.is_exhibitor_staff:
        abort(403)  # an edition's back office is the organizer's; exhibitors have their portal
    g.edition = get_scoped_or_404(Edition, edition_id, current_scope())
    return None


def _push_edition_id(endpoint, values):
    if "edition_id" in values or g.get("edition") is None:
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, "edition_id"):
        values["edition_id"] = g.edition.id
