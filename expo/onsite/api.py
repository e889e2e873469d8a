"""The JSON scan API, used by the scanner and check-in pages and by scanner apps.

Authentication: ``Authorization: Bearer <personal API token>``; pages of the app itself may call it
with their session cookie and the CSRF token in ``X-CSRFToken``.
"""
from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import joinedload

from ..core import services as core
from ..core.models import User
from ..core.services import ServiceError
from ..exhibitors.models import Exhibitor
from ..extensions import csrf, db
from . import services

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# What a scan needs of the token's user, loaded with the token in one query.
SCANNER_CONTEXT = joinedload(User.exhibitor).joinedload(Exhibitor.edition)
BATCH_LIMIT = 500


def _error(status: int, message: str, **extra):
    return jsonify({"error": message, **extra}), status


@bp.before_request
def authenticate():
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _sep, token = header.partition(" ")
        user = (core.user_for_token(token.strip(), SCANNER_CONTEXT)
                if scheme.lower() == "bearer" and token.strip() else None)
        if user is None:
            return _error(401, _("Missing or invalid API token."))
        g.api_user = user
    elif current_user.is_authenticated:
        try:
            csrf.protect()
        except CSRFError:
            return _error(400, _("Missing or invalid CSRF token."))
        g.api_user = current_user._get_current_object()
    else:
        return _error(401, _("Missing or invalid API token."))


def _json_body():
    body = request.get_json(silent=True)
    if body is None:
        raise ServiceError(_("The request body must be valid JSON (Content-Type: application/json)."))
    return body


def _scan(item) -> dict:
    if not isinstance(item, dict):
        raise ServiceError(_("Each scan must be a JSON object."))
    outcome = services.record_scan(g.api_user, code=item.get("code"), kind=item.get("kind"),
                                   client_scan_id=item.get("client_scan_id"), scanned_at=item.get("scanned_at"),
                                   gate=item.get("gate"), edition_id=item.get("edition_id"))
    return outcome.as_dict()


@bp.route("/scans", methods=["POST"])
def scan():
    try:
        answer = _scan(_json_body())
    except services.ScanForbidden as error:
        db.session.rollback()
        return _error(403, str(error))
    except ServiceError as error:
        db.session.rollback()
        return _error(400, str(error), field=error.field)
    return jsonify(answer)


@bp.route("/scans/batch", methods=["POST"])
def scan_batch():
    """Offline upload: a list of scans, answered by a list of results in the same order."""
    try:
        items = _json_body()
    except ServiceError as error:
        return _error(400, str(error))
    if not isinstance(items, list):
        return _error(400, _("The body must be a JSON list of scans."))
    if len(items) > BATCH_LIMIT:
        return _error(400, _("At most %(n)d scans per batch.", n=BATCH_LIMIT))
    answers = []
    for item in items:
        try:
            answers.append(_scan(item))
        except services.ScanForbidden as error:
            answers.append({"result": "error", "status": 403, "error": str(error)})
        except ServiceError as error:
            answers.append({"result": "error", "status": 400, "error": str(error), "field": error.field})
    return jsonify(answers)
