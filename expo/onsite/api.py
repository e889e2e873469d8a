"""The JSON scan API, used by the scanner and check-in pages and by scanner apps (authentication: core.api)."""
from flask import g, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import joinedload

from ..core.api import api_blueprint
from ..core.api import api_error as _error
from ..core.db import take_write_lock
from ..core.models import User
from ..core.services import ServiceError
from ..exhibitors.models import Exhibitor
from ..extensions import db
from . import services

# What a scan needs of the token's user, loaded with the token in one query.
bp = api_blueprint("api", __name__, user_options=[joinedload(User.exhibitor).joinedload(Exhibitor.edition)])
BATCH_LIMIT = 500


def _json_body():
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # JSON nested thousands deep: not a scan
        body = None
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
    except services.ScanRace as race:
        db.session.rollback()
        answer = services.replay_scan(g.api_user, race.client_scan_id).as_dict()
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
    take_write_lock(db.session)  # SQLite: the batch's writes wait their turn once, before the first savepoint
    answers = []
    for item in items:
        try:
            with db.session.begin_nested():  # each scan stands alone: a raced one is undone, not the batch
                answers.append(_scan(item))
        except services.ScanRace as race:
            answers.append(services.replay_scan(g.api_user, race.client_scan_id).as_dict())
        except services.ScanForbidden as error:
            answers.append({"result": "error", "status": 403, "error": str(error)})
        except ServiceError as error:
            answers.append({"result": "error", "status": 400, "error": str(error), "field": error.field})
        except DBAPIError:  # the database refused this item (its savepoint is undone): the others still count
            answers.append({"result": "error", "status": 400, "error": _("This scan could not be stored.")})
    return jsonify(answers)
