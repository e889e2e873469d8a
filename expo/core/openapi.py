"""The OpenAPI document of the JSON API, served at /api/v1/openapi.json without authentication (it describes
what every scanner app may know; nothing in it is secret).

Core writes the frame: the token scheme, the error object and the error answers every call can give. Each
module adds its operations through the ``openapi`` hook (see registry.py): a function returning
``{"paths": {...}, "schemas": {...}}`` in OpenAPI 3.1 terms, which refers to core's parts with ``schema_ref``
and ``error_responses``. The document is built from the modules, not from the views: the tests check that it
names every /api/v1 route of the app and nothing else (tests/test_openapi.py), and fuzz the API against it
(tests/test_api_fuzz.py): an answer the document does not describe fails the suite.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .api import API_PREFIX
from .registry import registry

OPENAPI_VERSION = "3.1.0"
DOCUMENT_PATH = f"{API_PREFIX}/openapi.json"
RETRY_AFTER = {"description": "Seconds to wait before trying again.", "schema": {"type": "integer", "minimum": 0}}

bp = Blueprint("api_docs", __name__, url_prefix=API_PREFIX)


def schema_ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "What went wrong, in the caller's language."},
        "field": {"type": ["string", "null"], "description": "The request field at fault, if one is."},
        "message": {"type": "string", "description": "More detail (answers of the web server itself)."},
    },
}

# Every error answer of the API: a JSON error object (status -> component name, description, headers).
ERROR_RESPONSES = {
    "400": ("BadRequest", "The request is not a valid call: the body is not JSON, a field is missing, of the wrong "
                          "type or holds text no database can hold (a NUL byte, a lone surrogate). `field` names it. "
                          "Nothing was stored.", {}),
    "401": ("Unauthorized", "No API token, or an unknown, revoked or deactivated one.", {}),
    "403": ("Forbidden", "The token's user may not make this call (their role lacks the permission).", {}),
    "404": ("NotFound", "No such resource (or one of another organizer: it looks the same).", {}),
    "413": ("PayloadTooLarge", "The body is larger than the server accepts (16 MB by default).", {}),
    "429": ("TooManyRequests", "Too many requests from this caller: wait as long as `Retry-After` says.",
            {"Retry-After": RETRY_AFTER}),
    "503": ("ServiceUnavailable", "The database cannot be reached for a moment (a restart, a fail-over): nothing was "
                                  "stored; send the same request again after `Retry-After` seconds.",
            {"Retry-After": {**RETRY_AFTER, "required": True}}),
}


def error_responses(*statuses: str) -> dict:
    """The operation's ``responses`` entries for these error statuses (references to the shared answers)."""
    return {status: {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"} for status in statuses}


def _error_components() -> dict:
    return {name: {"description": description, "headers": headers,
                   "content": {"application/json": {"schema": schema_ref("Error")}}}
            for name, description, headers in ERROR_RESPONSES.values()}


def _document_path() -> dict:
    return {DOCUMENT_PATH: {"get": {
        "operationId": "openapi_document",
        "summary": "This document",
        "tags": ["meta"],
        "security": [],
        "responses": {
            "200": {"description": "The OpenAPI document of the whole API.",
                    "content": {"application/json": {"schema": {
                        "type": "object", "required": ["openapi", "info", "paths"]}}}},
            **error_responses("503"),
        },
    }}}


def build_document() -> dict:
    """The document, assembled from core's frame and every module's ``openapi`` contribution."""
    paths, schemas = _document_path(), {"Error": ERROR}
    for contribute in registry.hook("openapi"):
        part = contribute()
        if clash := paths.keys() & part.get("paths", {}).keys():
            raise ValueError(f"{contribute.__module__} describes {sorted(clash)} again")
        paths.update(part.get("paths", {}))
        schemas.update(part.get("schemas", {}))
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Expo CRM API",
            "version": "1",
            "description": (
                "The JSON API of Expo CRM: badge scans at the booth (leads) and at the entrance (check-in), "
                "one at a time or as an offline batch. Every call but this document's carries a personal API "
                "token: `Authorization: Bearer expo_…` (made on the profile page or with `expo token create`). "
                "The app's own pages call with their session cookie and the CSRF token in `X-CSRFToken` "
                "instead. Errors are JSON objects (`Error`). See docs/api.md."),
        },
        "tags": [{"name": "scans", "description": "Badge scans: leads and check-in."},
                 {"name": "meta", "description": "About the API itself."}],
        "security": [{"bearerToken": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "securitySchemes": {"bearerToken": {
                "type": "http", "scheme": "bearer", "bearerFormat": "expo_<43 characters>",
                "description": "A personal API token; only its SHA-256 is stored on the server."}},
            "schemas": dict(sorted(schemas.items())),
            "responses": _error_components(),
        },
    }


def openapi_document() -> dict:
    """The document of this app, built once (the modules it describes do not change while it runs)."""
    document = current_app.extensions.get("openapi")
    if document is None:
        document = current_app.extensions["openapi"] = build_document()
    return document


@bp.route("/openapi.json")
def openapi():
    return jsonify(openapi_document())
