"""The scanner as an installable, offline web app (docs/scanner.md).

- ``GET /manifest.webmanifest?start=<scan page>``: the web app manifest (public: browsers fetch it without
  cookies). ``start`` is one of the two scan pages, anything else falls back to the booth scanner.
- ``GET /sw.js``: the service worker (static/sw.js) served from the site's root so that its scope covers
  both scan pages; it keeps the pages and their files for use without a network.
- ``GET /api/v1/scanner/config?kind=lead|checkin[&edition_id=N]``: what a scanner needs offline — the
  edition's Ed25519 public key, the revocation list (reissued badge serials, cancelled registrations), the
  result and reason labels in the user's language, the exhibitor's qualifying questions and the rating
  chips (booth), the gates and counters (entrance), and a CSRF token for the uploads that follow.
"""
from __future__ import annotations

import base64
import hashlib
import importlib
import os
import re
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select

from ..core.api import api_blueprint
from ..core.openapi import schema_ref
from ..core.api import api_error as _error
from ..core.db import utcnow
from ..core.models import Edition
from ..core.permissions import has_permission
from ..core.registry import registry
from ..core.scoping import Scope, get_scoped
from ..core.services import MAX_DB_INT, unstorable
from ..extensions import db
from ..visitors.models import Registration
from . import CHECK_IN, SCAN_LEADS, services
from .models import SCAN_KINDS, Scan

bp = Blueprint("pwa", __name__)
api = api_blueprint("scanner_api", __name__)

# The files the service worker keeps (besides the scan pages themselves): the pages' styles, scripts, icons
# and the QR decoder. Their contents make the worker's version, so a changed file installs a new worker.
SHELL_FILES = ("vendor/bootstrap/css/bootstrap.min.css", "vendor/bootstrap-icons/font/bootstrap-icons.min.css",
               "vendor/bootstrap-icons/font/fonts/bootstrap-icons.woff2", "app.css", "scanner.css",
               "vendor/bootstrap/js/bootstrap.bundle.min.js", "ui.js", "scanner.js", "vendor/jsqr/jsQR.js",
               "scanner-icon.svg")
SCAN_PAGE = re.compile(r"^/(portal/scan|org/editions/[1-9][0-9]{0,9}/checkin)$")
_versions: dict[tuple, str] = {}


def shell_version() -> str:
    """A short hash of the shell files (and the worker itself), recomputed when a file's mtime changes."""
    folder = current_app.static_folder

    paths = [os.path.join(folder, name) for name in (*SHELL_FILES, "sw.js")]
    stamp = tuple(os.stat(p).st_mtime_ns if os.path.exists(p) else 0 for p in paths)
    if stamp not in _versions:
        digest = hashlib.sha256()
        for path in paths:
            if os.path.exists(path):
                with open(path, "rb") as f:
                    digest.update(f.read())
        _versions.clear()
        _versions[stamp] = digest.hexdigest()[:12]
    return _versions[stamp]


@bp.route("/manifest.webmanifest")
def manifest():
    start = request.args.get("start", "")
    if not SCAN_PAGE.match(start):
        start = url_for("onsite.scanner")
    checkin = start.startswith("/org/")
    body = {
        "id": start,
        "name": _("Expo CRM entrance check-in") if checkin else _("Expo CRM badge scanner"),
        "short_name": _("Check-in") if checkin else _("Scanner"),
        "description": _("Scan visitor badges, also without a network."),
        "start_url": start,
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#ffffff",
        "theme_color": "#0d6efd",
        "lang": "zh-CN" if str(get_locale()) == "zh_CN" else "en",
        "icons": [{"src": url_for("static", filename="scanner-icon.svg"), "sizes": "any",
                   "type": "image/svg+xml", "purpose": "any"},
                  {"src": url_for("static", filename="scanner-icon.svg"), "sizes": "any",
                   "type": "image/svg+xml", "purpose": "maskable"}],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.route("/sw.js")
def service_worker():
    response = current_app.send_static_file("sw.js")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = "/"
    response.mimetype = "text/javascript"
    return response


def register_url() -> str:
    """The URL the pages register the worker with: its version in the query, so a new shell installs anew."""
    return url_for("pwa.service_worker", v=shell_version())


# --- the offline bundle ----------------------------------------------------------------------------------

def _labels() -> dict:
    machines = registry.machines()
    results = {code: {"label": str(st.label), "color": st.color, "icon": st.icon}
               for code, st in machines["scan_result"].states.items()}
    results["queued"] = {"label": _("Queued"), "color": "primary", "icon": "cloud-arrow-up"}
    results["error"] = {"label": _("Not sent"), "color": "dark", "icon": "exclamation-triangle"}
    labels = {"results": results, "reasons": {k: str(v) for k, v in machines["scan_reason"].labels().items()},
              "categories": {k: str(v) for k, v in machines["visitor_category"].labels().items()}}
    if "lead_rating" in machines:
        labels["ratings"] = [{"value": code, "label": str(st.label), "color": st.color, "icon": st.icon}
                             for code, st in machines["lead_rating"].states.items()]
    return labels


def revocations(edition: Edition) -> dict:
    """Badges a scanner must refuse without asking: older serials of reissued badges, cancelled registrations.
    Two column-only queries on the edition's registrations (index on edition_id)."""
    reissued = db.session.execute(select(Registration.id, Registration.badge_serial)
                                  .where(Registration.edition_id == edition.id, Registration.badge_serial > 1)).all()
    cancelled = db.session.scalars(select(Registration.id).where(Registration.edition_id == edition.id,
                                                                Registration.status == "cancelled")).all()
    return {"reissued": {str(rid): serial for rid, serial in reissued}, "cancelled": sorted(cancelled)}


def _optional(module: str, name: str):
    """A function another module provides once it is there (leads' questions, zones' gates); else None."""
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def lead_questions(exhibitor) -> list[dict]:
    provider = _optional("expo.leads.services", "lead_questions_for")
    return list(provider(exhibitor)) if provider else []


def gates(edition: Edition) -> list[dict]:
    provider = _optional("expo.onsite.zones", "gates_for")
    return list(provider(edition)) if provider else []


def counters(scope: Scope, edition: Edition) -> dict:
    """The entrance's counters: admitted today (the edition's show day), confirmed registrations, and — when
    the edition has zones (expo.onsite.zones) — the visitors inside any zone now."""
    today = utcnow().astimezone(ZoneInfo(edition.timezone)).date()
    checked_in = db.session.scalar(select(func.count()).select_from(Scan)
                                   .where(Scan.edition_id == edition.id, Scan.admitted_on == today))
    expected = db.session.scalar(select(func.count()).select_from(Registration)
                                 .where(Registration.edition_id == edition.id, Registration.status == "confirmed"))
    out = {"checked_in": checked_in or 0, "expected": expected or 0, "inside": None}
    zones_of = _optional("expo.onsite.zones", "zones_of")
    inside_registrations = _optional("expo.onsite.zones", "inside_registrations")
    if zones_of and inside_registrations:
        zones = zones_of(scope, edition)
        if zones:
            inside: set[int] = set()
            for zone in zones:
                inside.update(inside_registrations(scope, edition, zone.id))
            out["inside"] = len(inside)
    return out


def scanner_config(user, kind: str, edition_id: int | None) -> dict:
    """The bundle for ``user`` scanning ``kind``; raises LookupError (404) or PermissionError (403)."""
    exhibitor = None
    if kind == "lead":
        if not has_permission(user, SCAN_LEADS) or user.exhibitor is None:
            raise PermissionError(_("Only exhibitor staff capture leads."))
        exhibitor = user.exhibitor
        edition = exhibitor.edition
        if edition_id is not None and edition_id != edition.id:
            raise LookupError(_("No such edition."))
    else:
        if not has_permission(user, CHECK_IN) or user.is_exhibitor_staff:
            raise PermissionError(_("Only on-site staff check visitors in."))
        scope = Scope.of(user)
        edition = get_scoped(Edition, edition_id, scope) if edition_id is not None else services.current_edition(scope)
        if edition is None:
            raise LookupError(_("No edition is open for check-in."))
    bundle = {
        "version": 1,
        "kind": kind,
        "user_id": user.id,
        "generated_at": utcnow().isoformat(),
        "edition": {"id": edition.id, "name": edition.name, "timezone": edition.timezone,
                    "public_key": base64.b64encode(edition.verify_key).decode("ascii")},
        "revoked": revocations(edition),
        "labels": _labels(),
        "csrf_token": generate_csrf(),
        "questions": [],
        "gates": [],
        "counters": None,
    }
    if exhibitor is not None:
        bundle["exhibitor"] = {"id": exhibitor.id, "name": exhibitor.company.name}
        bundle["questions"] = lead_questions(exhibitor)
        bundle["lead_url"] = url_for("leads.lead", lead_id=MAX_DB_INT).replace(str(MAX_DB_INT), "{id}")
    else:
        bundle["gates"] = gates(edition)
        bundle["counters"] = counters(Scope.of(user), edition)
    return bundle


@api.route("/scanner/config")
def config():
    user = g.api_user
    kind = request.args.get("kind") or ("lead" if user.is_exhibitor_staff else "checkin")
    if kind not in SCAN_KINDS:
        return _error(400, _("kind must be 'lead' or 'checkin'."), field="kind")
    raw = request.args.get("edition_id")
    edition_id = None
    if raw is not None and unstorable(raw):
        return _error(400, _("edition_id must be a number."), field="edition_id")
    if raw not in (None, ""):
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_DB_INT:
            return _error(400, _("edition_id must be a number."), field="edition_id")
        edition_id = int(raw)
    try:
        bundle = scanner_config(user, kind, edition_id)
    except PermissionError as error:
        return _error(403, str(error))
    except LookupError as error:
        return _error(404, str(error))
    response = jsonify(bundle)
    response.headers["Cache-Control"] = "private, no-store"
    return response


# --- the OpenAPI description (the onsite module's ``openapi`` hook: the scan calls plus this one) ----------

REVOCATIONS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["reissued", "cancelled"],
    "description": "Badges to refuse as `revoked` without asking the server.",
    "properties": {
        "reissued": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 2},
                     "description": "Registration id (as a string) → its current badge serial: older serials are revoked."},
        "cancelled": {"type": "array", "items": {"type": "integer", "minimum": 1},
                      "description": "Cancelled registrations: every serial is revoked."},
    },
}

LABEL = {"type": "object", "required": ["label", "color", "icon"],
         "properties": {"label": {"type": "string"}, "color": {"type": "string"}, "icon": {"type": "string"}}}

SCANNER_CONFIG = {
    "type": "object",
    "required": ["version", "kind", "user_id", "generated_at", "edition", "revoked", "labels", "csrf_token",
                 "questions", "gates", "counters"],
    "description": ("What a scanner needs to work offline (docs/scanner.md). Holds no visitor's personal data; "
                    "labels are in the caller's language."),
    "properties": {
        "version": {"const": 1},
        "kind": {"type": "string", "enum": list(SCAN_KINDS)},
        "user_id": {"type": "integer", "minimum": 1},
        "generated_at": {"type": "string", "format": "date-time"},
        "edition": {"type": "object", "required": ["id", "name", "timezone", "public_key"], "properties": {
            "id": {"type": "integer", "minimum": 1}, "name": {"type": "string"}, "timezone": {"type": "string"},
            "public_key": {"type": "string", "description": (
                "The edition's Ed25519 public key, 32 bytes in standard base64. A badge code (docs/badges.md) is "
                "genuine when its last 64 bytes sign b\"EXPO-BADGE\" + its first 11 bytes.")}}},
        "revoked": schema_ref("ScannerRevocations"),
        "labels": {"type": "object", "required": ["results", "reasons", "categories"], "properties": {
            "results": {"type": "object", "additionalProperties": LABEL},
            "reasons": {"type": "object", "additionalProperties": {"type": "string"}},
            "categories": {"type": "object", "additionalProperties": {"type": "string"}},
            "ratings": {"type": "array", "items": {"type": "object", "required": ["value", "label"], "properties": {
                "value": {"type": "string"}, "label": {"type": "string"}, "color": {"type": "string"},
                "icon": {"type": "string"}}}}}},
        "csrf_token": {"type": "string", "description": "For the page's own uploads with its session cookie."},
        "questions": {"type": "array", "items": {"type": "object"},
                      "description": "`lead`: the exhibitor's qualifying questions (as GET /api/v1/leads/{id})."},
        "gates": {"type": "array", "items": {"type": "object"}, "description": "`checkin`: the edition's gates."},
        "counters": {"oneOf": [{"type": "null"}, {"type": "object", "properties": {
            "checked_in": {"type": "integer"}, "expected": {"type": "integer"},
            "inside": {"type": ["integer", "null"]}}}]},
        "exhibitor": {"type": "object", "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}},
        "lead_url": {"type": "string", "description": "The lead page, `{id}` to be replaced by the lead id."},
    },
}


def openapi() -> dict:
    """The onsite module's part of the OpenAPI document: the scan calls (expo.onsite.api) and the bundle."""
    from . import api as scan_api
    from ..core.api import API_PREFIX
    from ..core.openapi import error_responses

    part = scan_api.openapi()
    part["paths"][f"{API_PREFIX}/scanner/config"] = {"get": {
        "operationId": "scanner_config",
        "tags": ["scans"],
        "summary": "The offline bundle of a scanner: public key, revocations, labels, questions, gates",
        "description": ("Booth staff get their exhibitor's edition (`kind=lead`, the default for exhibitor "
                        "staff); on-site staff the edition named by `edition_id`, else the live one (`checkin`)."),
        "parameters": [
            {"name": "kind", "in": "query", "required": False, "schema": {"type": "string", "enum": list(SCAN_KINDS)}},
            {"name": "edition_id", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DB_INT}},
        ],
        "responses": {
            "200": {"description": "The bundle.", "content": {"application/json": {"schema": schema_ref("ScannerConfig")}}},
            **error_responses("400", "401", "403", "404", "413", "429", "503"),
        },
    }}
    part["schemas"].update({"ScannerConfig": SCANNER_CONFIG, "ScannerRevocations": REVOCATIONS})
    return part
