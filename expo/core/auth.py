"""Access checks for views: load, then authorise, then act — in one place per blueprint.

``require`` states who may call a view (permissions, per HTTP method where they differ);
``edition_scoped`` makes a blueprint load the edition named in its URLs before every view
(scoped to the user's organizer: a foreign or missing edition is a 404) into ``g.edition``, and put
it back into the URLs it generates. Views never load the edition or check permissions by hand.
"""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, g, request
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from ..extensions import db, login_manager
from .models import Edition, User
from .permissions import has_permission
from .scoping import Scope, get_scoped_or_404
from .services import MAX_DB_INT, unstorable


@login_manager.user_loader
def load_user(user_id: str):
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


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
        response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if current_user.is_authenticated and not request.path.startswith("/static/"):
            response.headers["Cache-Control"] = "private, no-store"
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
