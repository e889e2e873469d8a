"""JSON API blueprints for every module: token authentication, CSRF for the app's own pages, JSON errors.

A module's ``api.py`` makes its blueprint with ``api_blueprint(...)`` and reads the caller from
``g.api_user`` (a User; for a blueprint made with ``token_user``, what that function returns — the scan
API's ``onsite.services.ApiCaller`` answers like a User). Callers authenticate with ``Authorization: Bearer
<personal API token>``; pages of the app itself may call with their session cookie and the CSRF token in
``X-CSRFToken``.
"""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from ..extensions import csrf
from . import services

API_PREFIX = "/api/v1"


def api_error(status: int, message: str, **extra):
    return jsonify({"error": message, **extra}), status


def api_blueprint(name: str, import_name: str, *, user_options=(), token_user=None) -> Blueprint:
    """A blueprint under /api/v1 whose every request is authenticated before the view runs.

    ``user_options``: loader options (relative to ``ApiToken.user``) for what the module's views need
    of the user, fetched with the token in the same query. ``token_user``: instead, a function of the
    clear token returning the caller (or None) — a hot path's own look-up (onsite.services.caller_for_token:
    plain values in one Core statement); it must refuse revoked tokens and inactive users the same way.
    """
    lookup = token_user or (lambda clear: services.user_for_token(clear, *user_options))
    bp = Blueprint(name, import_name, url_prefix=API_PREFIX)
    csrf.exempt(bp)  # bearer tokens are not sent by browsers on their own; session callers are checked below

    @bp.before_request
    def authenticate():
        header = request.headers.get("Authorization", "")
        if header:
            scheme, _sep, token = header.partition(" ")
            user = lookup(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
            if user is None:
                return api_error(401, _("Missing or invalid API token."))
            g.api_user = user
        elif current_user.is_authenticated:
            try:
                csrf.protect()
            except CSRFError:
                # code "csrf": not about the request's data — the page needs a fresh token (or a new sign-in)
                return api_error(400, _("Missing or invalid CSRF token."), code="csrf")
            g.api_user = current_user._get_current_object()
        else:
            return api_error(401, _("Missing or invalid API token."))
        return None

    # The answers the OpenAPI document promises (core.openapi), in the API's own error shape, not the web pages'.
    @bp.errorhandler(413)
    def too_large(error):
        return api_error(413, _("The request body is too large."))

    @bp.errorhandler(429)
    def too_many(error):  # a Flask-Limiter limit on an API view; its Retry-After header is added after this
        return api_error(429, _("Too many requests. Please wait a moment and try again."))

    return bp
