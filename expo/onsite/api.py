"""The JSON scan API, used by the scanner and check-in pages and by scanner apps (authentication: core.api)."""
from flask import g, jsonify, request
from flask_babel import gettext as _

from ..core.api import API_PREFIX, api_blueprint
from ..core.api import api_error as _error
from ..core.openapi import error_responses, schema_ref
from ..core.services import MAX_DB_INT, ServiceError
from ..extensions import db, limiter
from ..visitors.models import VISITOR_CATEGORIES
from . import services
from .models import REFUSAL_REASONS, SCAN_KINDS, SCAN_RESULTS

# What a scan needs of the token's user (exhibitor, company, edition and its key), as plain values in one
# Core statement; a token is looked up on every request (revocation counts at once).
bp = api_blueprint("api", __name__, token_user=services.caller_for_token)
limiter.exempt(bp)  # no limit is set on these calls: the limiter need not look at every scan


@limiter.request_filter
def _scan_calls_unlimited() -> bool:
    """The limiter's own exemption still resolves every limit it knows before it finds none; this filter tells
    it at once, for the scan calls only (the hot path of every scanner)."""
    return request.blueprint == bp.name
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
                                   gate=item.get("gate"), edition_id=item.get("edition_id"),
                                   direction=item.get("direction"))
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
    return jsonify(services.record_scans(g.api_user, items))


# --- the OpenAPI description of these two calls (the ``openapi`` hook; core.openapi assembles the document) ---

SCAN_REQUEST = {
    "type": "object",
    "required": ["code", "kind", "client_scan_id"],
    "properties": {
        "code": {"type": "string", "description": (
            "The text read from the QR code, as read. Any text is a scan: a code that is no badge of this edition "
            "is stored and refused with a `reason`, not rejected (the raw text is kept up to 2,000 characters).")},
        "kind": {"type": "string", "enum": list(SCAN_KINDS), "description": (
            "`lead`: exhibitor staff at their booth; `checkin`: the organizer's on-site staff at a gate.")},
        "client_scan_id": {"type": "string", "minLength": 1, "maxLength": 64, "description": (
            "Made by the device, unique per scan (a UUID): the same id sent again by the same user is stored "
            "once and answered with the stored result (`replayed`)."),
            "examples": ["5b0c6f4e-2d1a-4c55-9a8e-3f0b6c1d2e7a"]},
        "scanned_at": {"type": ["string", "null"], "format": "date-time", "description": (
            "The device's clock, ISO 8601 (without a zone: UTC). Defaults to the server's time.")},
        "gate": {"type": ["string", "null"], "description": "Where the scan happened (kept up to 60 characters)."},
        "edition_id": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_DB_INT, "description": (
            "`checkin` only: the edition at the gate (defaults to the organizer's live edition).")},
        "direction": {"type": ["string", "null"], "enum": ["in", "out", None], "description": (
            "`checkin` only: an entry (`in`) or an exit (`out`) at the gate; empty: the gate's own direction "
            "(an entry at a gate for both ways). Exits are never an admission.")},
    },
}

VISITOR = {
    "type": "object",
    "description": ("What the scanner may see of the visitor: entrance staff the name on the badge; exhibitors only "
                    "what the visitor agreed to share (without that consent just the category, `shared: false`)."),
    "required": ["category", "shared"],
    "properties": {
        "name": {"type": ["string", "null"]},
        "company": {"type": ["string", "null"]},
        "job_title": {"type": ["string", "null"]},
        "country": {"type": ["string", "null"], "description": "ISO 3166-1 alpha-2"},
        "email": {"type": ["string", "null"]},
        "phone": {"type": ["string", "null"]},
        "category": {"type": "string", "enum": list(VISITOR_CATEGORIES)},
        "shared": {"type": "boolean"},
    },
}

SCAN_RESULT = {
    "type": "object",
    "additionalProperties": False,
    "required": ["result", "reason", "kind", "client_scan_id", "scan_id", "lead_id", "scanned_at", "received_at",
                 "replayed", "visitor"],
    "properties": {
        "result": {"type": "string", "enum": list(SCAN_RESULTS), "description": (
            "`ok`: lead captured, or visitor admitted; `duplicate`: this exhibitor already has the lead (its scan "
            "count is raised), or the visitor was already admitted this show day; `refused`: see `reason`.")},
        "reason": {"type": ["string", "null"], "enum": [*REFUSAL_REASONS, None],
                   "description": "Why a refused scan was refused (docs/badges.md); null otherwise."},
        "kind": {"type": "string", "enum": list(SCAN_KINDS)},
        "client_scan_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "scan_id": {"type": "integer", "minimum": 1},
        "lead_id": {"type": ["integer", "null"], "minimum": 1},
        "scanned_at": {"type": "string", "format": "date-time", "description": "The device's clock, in UTC."},
        "received_at": {"type": "string", "format": "date-time", "description": "The server's clock, in UTC."},
        "replayed": {"type": "boolean", "description": "This scan was stored before: the stored answer again."},
        "visitor": {"oneOf": [schema_ref("Visitor"), {"type": "null"}]},
    },
    # A refused scan, and only a refused one, has a reason.
    "if": {"properties": {"result": {"const": "refused"}}},
    "then": {"properties": {"reason": {"type": "string"}}},
    "else": {"properties": {"reason": {"type": "null"}}},
}

BATCH_ITEM_ERROR = {
    "type": "object",
    "additionalProperties": False,
    "required": ["result", "status", "error"],
    "description": "A batch item that is itself not a valid scan (400) or not allowed (403); nothing was stored for it.",
    "properties": {
        "result": {"const": "error"},
        "status": {"type": "integer", "enum": [400, 403]},
        "error": {"type": "string"},
        "field": {"type": ["string", "null"]},
    },
}


def openapi() -> dict:
    """The scan calls in OpenAPI terms (the ``openapi`` hook, see core.openapi)."""
    errors = error_responses("400", "401", "413", "429", "503")
    return {
        "paths": {
            f"{API_PREFIX}/scans": {"post": {
                "operationId": "scan",
                "tags": ["scans"],
                "summary": "One badge scan: a lead at the booth or a check-in at the gate",
                "description": ("Every call that passes the checks leaves exactly one scan row, refused ones too. "
                                "Answers 200 once the scan is stored, whatever its result."),
                "requestBody": {"required": True, "content": {"application/json": {"schema": schema_ref("ScanRequest")}}},
                "responses": {
                    "200": {"description": "The scan, stored (or stored before: `replayed`).",
                            "content": {"application/json": {"schema": schema_ref("ScanResult")}}},
                    **errors, **error_responses("403"),
                },
            }},
            f"{API_PREFIX}/scans/batch": {"post": {
                "operationId": "scan_batch",
                "tags": ["scans"],
                "summary": "An offline upload: a list of scans, answered in the same order",
                "description": (f"Up to {BATCH_LIMIT} scans, each answered as if sent alone, in the order sent: "
                                "an invalid item is answered in its place and the others are stored; a "
                                "client_scan_id sent before (or twice in the batch) is stored once and answered "
                                "with the stored result (`replayed`)."),
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "array", "maxItems": BATCH_LIMIT, "items": schema_ref("ScanRequest")}}}},
                "responses": {
                    "200": {"description": "One answer per item, in the order sent.",
                            "content": {"application/json": {"schema": {
                                "type": "array", "maxItems": BATCH_LIMIT,
                                "items": {"oneOf": [schema_ref("ScanResult"), schema_ref("BatchItemError")]}}}}},
                    **errors,
                },
            }},
        },
        "schemas": {"ScanRequest": SCAN_REQUEST, "ScanResult": SCAN_RESULT, "Visitor": VISITOR,
                    "BatchItemError": BATCH_ITEM_ERROR},
    }
