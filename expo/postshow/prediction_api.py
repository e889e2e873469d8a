"""The JSON predictions API (organizer staff who may read reports, core.api authentication): the latest stored
run's scores for an edition — every company's chance of rebooking, every person's chance of coming back at the
next edition — with the reasons in words, keyed by the external references of imported rows (and the ids),
and the model's backtest. Persons are given by id, reference and visitor category only: no personal data.

GET /api/v1/editions/<edition_id>/predictions/exhibitors?ref=…|id=…&lang=zh_CN&offset=0&limit=100
GET /api/v1/editions/<edition_id>/predictions/visitors?…
"""
from flask import g, jsonify, request
from flask_babel import gettext as _

from ..core.api import API_PREFIX, api_blueprint
from ..core.api import api_error as _error
from ..core.models import Edition
from ..core.openapi import error_responses, schema_ref
from ..core.permissions import has_permission
from ..core.scoping import Scope, get_scoped
from ..core.services import MAX_DB_INT, parse_id
from . import VIEW_REPORTS
from .prediction_export import COLUMNS, export_rows, run_summary, subject_ids_for_ref
from .predictions import latest_run

bp = api_blueprint("predictions_api", __name__)
MAX_PAGE = 500
LANGUAGES = ("en", "zh_CN")
MAX_REF = 100


def _number(name: str, default: int, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = parse_id(raw) if raw != "0" else 0
    return value if value is not None and low <= value <= high else None


def _answer(edition_id: int, kind: str):
    user = g.api_user
    if user.is_exhibitor_staff or not has_permission(user, VIEW_REPORTS):
        return _error(403, _("Only organizer staff who may read reports can read the predictions."))
    scope = Scope(user.organizer_id)
    edition = get_scoped(Edition, edition_id, scope)
    if edition is None:
        return _error(404, _("No such edition."))
    offset, limit = _number("offset", 0, 0, MAX_DB_INT), _number("limit", 100, 1, MAX_PAGE)
    if offset is None or limit is None:
        return _error(400, _("offset is 0 or more, limit 1 to %(max)s.", max=MAX_PAGE))
    lang = request.args.get("lang", "en")
    if lang not in LANGUAGES:
        return _error(400, _("lang is en or zh_CN."), field="lang")
    ref, ident = request.args.get("ref"), request.args.get("id")
    if ident is not None and parse_id(ident) is None:
        return _error(400, _("id must be a positive whole number."), field="id")
    if ref is not None and (not ref.strip() or len(ref) > MAX_REF or "\x00" in ref):
        return _error(400, _("ref is an external reference of at most %(max)s characters.", max=MAX_REF), field="ref")
    subject_ids = None
    if ref is not None:
        subject_ids = subject_ids_for_ref(scope, edition, kind, ref.strip())
    elif ident is not None:
        subject_ids = [parse_id(ident)]
    run = latest_run(scope, edition, kind, done_only=True)
    items = export_rows(scope, edition, kind, locale=lang, offset=0 if subject_ids is not None else offset,
                        limit=None if subject_ids is not None else limit, subject_ids=subject_ids, run=run) \
        if run is not None else []
    if subject_ids is not None and not items:
        return _error(404, _("No prediction for this %(what)s.",
                             what=_("company") if kind == "exhibitor" else _("person")))
    latest = latest_run(scope, edition, kind)
    return jsonify({"edition_id": edition.id, "kind": kind, "run": run_summary(run),
                    "latest_status": latest.status if latest is not None else None,
                    "message": (latest.message or None) if latest is not None and latest is not run else None,
                    "items": items})


@bp.route("/editions/<int:edition_id>/predictions/exhibitors")
def exhibitor_predictions(edition_id):
    """Every company's chance of rebooking the next edition."""
    return _answer(edition_id, "exhibitor")


@bp.route("/editions/<int:edition_id>/predictions/visitors")
def visitor_predictions(edition_id):
    """Every person's chance of coming back at the next edition."""
    return _answer(edition_id, "visitor")


# --- the OpenAPI description ------------------------------------------------------------------------------

def _item(kind: str) -> dict:
    ids = {c: {"type": ["integer", "null"]} if c.endswith("_id") else {"type": ["string", "null"]}
           for c in COLUMNS[kind]}
    return {"type": "object", "properties": {
        **ids, "probability": {"type": "number", "minimum": 0, "maximum": 1,
                               "description": "Chance of taking part in the next edition."},
        "reasons": {"type": "array", "items": {"type": "string"},
                    "description": "The strongest reasons, strongest first, in the language asked (`lang`)."},
        "reason_details": {"type": "array", "items": {"type": "object", "properties": {
            "feature": {"type": "string"}, "weight": {"type": "number",
                                                      "description": "Contribution to the log-odds: > 0 raises the "
                                                                     "chance, < 0 lowers it."},
            "text": {"type": "string"}}}},
        "features": {"type": "object", "description": "The history features the score was computed from."}}}


def _result(kind: str) -> dict:
    return {"type": "object", "properties": {
        "edition_id": {"type": "integer"}, "kind": {"type": "string", "enum": [kind]},
        "run": {"type": ["object", "null"], "description": "The run read: when, trained on how many (customer, "
                "edition) pairs, and its backtest (AUC, the recency-only baseline's AUC, Brier score, reliability "
                "bins, per edition)."},
        "latest_status": {"type": ["string", "null"], "enum": ["queued", "done", "too_little_history", "failed", None]},
        "message": {"type": ["string", "null"]},
        "items": {"type": "array", "items": _item(kind)}}}


def openapi() -> dict:
    parameters = [
        {"name": "edition_id", "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DB_INT}},
        {"name": "ref", "in": "query", "schema": {"type": "string", "maxLength": MAX_REF},
         "description": "Only this company or person: its external reference, or its exhibitor row's or "
                        "registration's at this edition (imports)."},
        {"name": "id", "in": "query", "schema": {"type": "integer", "minimum": 1},
         "description": "Only this company (exhibitors) or person (visitors): its id."},
        {"name": "lang", "in": "query", "schema": {"type": "string", "enum": list(LANGUAGES), "default": "en"}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                                                    "default": 100}},
    ]
    errors = error_responses("400", "401", "403", "404", "413", "429", "503")
    out = {"paths": {}, "schemas": {"ExhibitorPredictions": _result("exhibitor"),
                                    "VisitorPredictions": _result("visitor")}}
    for side, kind, schema, summary in (
            ("exhibitors", "exhibitor", "ExhibitorPredictions", "Every company's chance of rebooking"),
            ("visitors", "visitor", "VisitorPredictions", "Every person's chance of coming back")):
        out["paths"][f"{API_PREFIX}/editions/{{edition_id}}/predictions/{side}"] = {"get": {
            "operationId": f"{kind}_predictions", "tags": ["predictions"], "summary": summary,
            "parameters": parameters, "responses": {
                "200": {"description": summary, "content": {"application/json": {"schema": schema_ref(schema)}}},
                **errors}}}
    return out
