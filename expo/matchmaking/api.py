"""The JSON recommendations API (organizer staff, core.api authentication): the stored top N per registration
("exhibitors to see") and per exhibitor ("visitors to invite"), with scores, the signals' contributions and the
reasons in words, keyed by the external references of imported rows (and the ids). Visitors are given by id,
external reference and visitor category only: no personal data.

GET /api/v1/editions/<edition_id>/recommendations/registrations?ref=…|id=…&n=10&lang=zh_CN&offset=0&limit=100
GET /api/v1/editions/<edition_id>/recommendations/exhibitors?…
Without ``ref``/``id``: a page of owners (``offset``, ``limit`` ≤ 500), each with its list.
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
from . import VIEW_MATCHMAKING, services
from .models import FOR_EXHIBITOR, FOR_VISITOR

TOP_N = 50  # the most an edition stores per row (settings.top_n)

bp = api_blueprint("matchmaking_api", __name__)
MAX_PAGE = 500
LANGUAGES = ("en", "zh_CN")


def _number(name: str, default: int, low: int, high: int) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = parse_id(raw) if raw != "0" else 0
    return value if value is not None and low <= value <= high else None


def _answer(edition_id: int, direction: str):
    user = g.api_user
    if user.is_exhibitor_staff or not has_permission(user, VIEW_MATCHMAKING):
        return _error(403, _("Only organizer staff who may see matchmaking can read recommendations."))
    edition = get_scoped(Edition, edition_id, Scope(user.organizer_id))
    if edition is None:
        return _error(404, _("No such edition."))
    n, offset, limit = _number("n", 10, 1, TOP_N), _number("offset", 0, 0, MAX_DB_INT), _number("limit", 100, 1, MAX_PAGE)
    if n is None or offset is None or limit is None:
        return _error(400, _("n is 1 to %(top)s, offset 0 or more, limit 1 to %(max)s.", top=TOP_N, max=MAX_PAGE))
    lang = request.args.get("lang", "en")
    if lang not in LANGUAGES:
        return _error(400, _("lang is en or zh_CN."), field="lang")
    ref, ident = request.args.get("ref"), request.args.get("id")
    if ident is not None and parse_id(ident) is None:
        return _error(400, _("id must be a positive whole number."), field="id")
    single = ref is not None or ident is not None
    rows = services.export_rows(edition, direction, n=n, locale=lang, owner_ref=ref,
                                owner_id=parse_id(ident) if ident is not None else None,
                                offset=offset, limit=None if single else limit)
    owner = "registration_id" if direction == FOR_VISITOR else "exhibitor_id"
    grouped: dict = {}
    for row in rows:
        key = row[owner]
        entry = grouped.setdefault(key, {
            owner: key, owner.replace("_id", "_ref"): row[owner.replace("_id", "_ref")],
            **({"visitor_category": row["visitor_category"]} if direction == FOR_VISITOR else {"company": row["company"]}),
            "recommendations": []})
        other = ({"exhibitor_id": row["exhibitor_id"], "exhibitor_ref": row["exhibitor_ref"], "company": row["company"]}
                 if direction == FOR_VISITOR else
                 {"registration_id": row["registration_id"], "registration_ref": row["registration_ref"],
                  "visitor_category": row["visitor_category"]})
        entry["recommendations"].append({**other, "rank": row["rank"], "score": row["score"],
                                         "signals": row["signals"], "reasons": row["reasons"]})
    if single and not grouped:
        return _error(404, _("No recommendations for this %(what)s.",
                             what=_("registration") if direction == FOR_VISITOR else _("exhibitor")))
    settings = services.settings_for(edition)
    return jsonify({"edition_id": edition.id, "computed_at": settings.computed_at.isoformat()
                    if settings.computed_at else None, "items": list(grouped.values())})


@bp.route("/editions/<int:edition_id>/recommendations/registrations")
def registration_recommendations(edition_id):
    """Exhibitors to see, per registration."""
    return _answer(edition_id, FOR_VISITOR)


@bp.route("/editions/<int:edition_id>/recommendations/exhibitors")
def exhibitor_recommendations(edition_id):
    """Visitors to invite, per exhibitor."""
    return _answer(edition_id, FOR_EXHIBITOR)


# --- the OpenAPI description ------------------------------------------------------------------------------

def _item(owner: str, other: dict) -> dict:
    return {"type": "object", "properties": {
        **owner_fields(owner),
        "recommendations": {"type": "array", "items": {"type": "object", "properties": {
            **other, "rank": {"type": "integer", "minimum": 1}, "score": {"type": "number"},
            "signals": {"type": "object", "additionalProperties": {"type": "number"},
                        "description": "Weighted contribution of each signal (category, text, profile, history); "
                                       "their sum is the score."},
            "reasons": {"type": "array", "items": {"type": "string"},
                        "description": "Why, in words, in the language asked (`lang`)."}}}}}}


def owner_fields(owner: str) -> dict:
    if owner == "registration":
        return {"registration_id": {"type": "integer"}, "registration_ref": {"type": ["string", "null"]},
                "visitor_category": {"type": "string"}}
    return {"exhibitor_id": {"type": "integer"}, "exhibitor_ref": {"type": ["string", "null"]},
            "company": {"type": "string"}}


def openapi() -> dict:
    parameters = [
        {"name": "edition_id", "in": "path", "required": True,
         "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DB_INT}},
        {"name": "ref", "in": "query", "schema": {"type": "string"},
         "description": "Only this row: its external reference (imports)."},
        {"name": "id", "in": "query", "schema": {"type": "integer", "minimum": 1}, "description": "Only this row: its id."},
        {"name": "n", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": TOP_N, "default": 10}},
        {"name": "lang", "in": "query", "schema": {"type": "string", "enum": list(LANGUAGES), "default": "en"}},
        {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "default": 0}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE,
                                                    "default": 100}},
    ]
    errors = error_responses("400", "401", "403", "404", "413", "429", "503")
    out = {"paths": {}, "schemas": {
        "RegistrationRecommendations": {"type": "object", "properties": {
            "edition_id": {"type": "integer"}, "computed_at": {"type": ["string", "null"], "format": "date-time"},
            "items": {"type": "array", "items": _item("registration", owner_fields("exhibitor"))}}},
        "ExhibitorRecommendations": {"type": "object", "properties": {
            "edition_id": {"type": "integer"}, "computed_at": {"type": ["string", "null"], "format": "date-time"},
            "items": {"type": "array", "items": _item("exhibitor", owner_fields("registration"))}}}}}
    for side, schema, summary in (("registrations", "RegistrationRecommendations", "Exhibitors to see per registration"),
                                  ("exhibitors", "ExhibitorRecommendations", "Visitors to invite per exhibitor")):
        out["paths"][f"{API_PREFIX}/editions/{{edition_id}}/recommendations/{side}"] = {"get": {
            "operationId": f"{side[:-1]}_recommendations", "tags": ["matchmaking"], "summary": summary,
            "parameters": parameters, "responses": {
                "200": {"description": summary, "content": {"application/json": {"schema": schema_ref(schema)}}},
                **errors}}}
    return out
