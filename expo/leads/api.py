"""The JSON lead API: one lead read and qualified (rating, answers to the exhibitor's questions, notes) by the
scanner right after the scan, or later (authentication: core.api — a bearer token, or the session with
X-CSRFToken). Scoped like the pages: the caller's exhibitor's leads; booth staff only their own captures
unless they may see every lead. Another exhibitor's lead, another organizer's, or none: the same 404."""
from flask import g, jsonify, request
from flask_babel import gettext as _

from ..core.api import API_PREFIX, api_blueprint
from ..core.api import api_error as _error
from ..core.openapi import error_responses, schema_ref
from ..core.permissions import has_permission
from ..core.services import MAX_DB_INT, ServiceError, audit_contact_view
from ..extensions import db
from ..visitors.models import VISITOR_CATEGORIES
from . import VIEW_LEADS, follow_up, services
from .models import FOLLOW_UP_STATUSES, LEAD_RATINGS, QUESTION_KINDS
from .questions import MAX_ANSWER, MAX_GIVEN_ANSWERS, AnswerErrors

bp = api_blueprint("leads_api", __name__)
FIELDS = ("rating", "answers", "notes", *follow_up.API_FIELDS)


def _lead(lead_id: int, *, for_update: bool = False):
    user = g.api_user
    if not user.is_exhibitor_staff or not has_permission(user, VIEW_LEADS):
        return None, _error(403, _("Only exhibitor staff may read and qualify leads."))
    lead = services.get_lead(user, lead_id, for_update=for_update)
    if lead is None:
        return None, _error(404, _("No such lead."))
    return lead, None


@bp.route("/leads/<int:lead_id>", methods=["GET", "PATCH"])
def lead(lead_id):
    """GET: the lead. PATCH: change the rating, answers and/or notes given, then the lead as it is now (and
    ``ignored``: the answers left out, by ``answers.<key>``, with the reason)."""
    patch = request.method == "PATCH"
    # PATCH: the lead's row locked until the commit, so that two writers never store an answer twice.
    found, refusal = _lead(lead_id, for_update=patch)
    if refusal:
        return refusal
    ignored: dict = {}
    if patch:
        refusal = _update(found, ignored)
        if refusal:
            db.session.rollback()
            return refusal
    audit_contact_view(g.api_user, found)  # the answer holds the contact details the visitor shared, if any
    payload = services.lead_payload(found)
    if patch:
        payload["ignored"] = ignored
    return jsonify(payload)


def _update(found, ignored: dict):
    try:
        body = request.get_json(silent=True)
    except RecursionError:  # JSON nested thousands deep
        body = None
    if not isinstance(body, dict):
        return _error(400, _("The body must be a JSON object with rating, answers, notes and/or the follow-up "
                             "fields."))
    unknown = [key for key in body if key not in FIELDS]
    if unknown:
        name = str(unknown[0])[:60]
        return _error(400, _("Unknown field: %(name)s.", name=name), field=name)
    changes = {name: body[name] for name in ("rating", "notes") if name in body}
    try:
        # An answer that cannot be stored (a question deleted, a choice removed while the scanner was offline)
        # is left out and reported in ``ignored``: the rating and the notes are stored all the same.
        services.update_lead(found, **changes, answers=body["answers"] if "answers" in body else None,
                             actor_id=g.api_user.id, source="api", ignored=ignored)
        # The follow-up: checked before anything of it is written; a refusal rolls the whole change back.
        given = {name: body[name] for name in follow_up.API_FIELDS if name in body}
        if given:
            follow_up.apply_change(found, **{follow_up.API_FIELDS[name]: value for name, value in given.items()},
                                   actor_id=g.api_user.id)
    except AnswerErrors as error:
        return _error(400, str(error), field=error.field, errors=error.errors)
    except ServiceError as error:
        return _error(400, str(error), field=error.field)
    return None


# --- the OpenAPI description (the ``openapi`` hook; core.openapi assembles the document) ---------------------

ANSWER_VALUE = {"oneOf": [
    {"type": "string", "maxLength": MAX_ANSWER * 2,
     "description": "text: the answer; single choice: the choice's value; yes/no: \"yes\" or \"no\""},
    {"type": "boolean", "description": "yes/no only"},
    {"type": "array", "items": {"type": "string"}, "description": "multiple choice: the chosen values"},
    {"type": "null", "description": "clears the answer"},
]}

LEAD_QUESTION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["key", "label", "kind", "choices", "required"],
    "properties": {
        "key": {"type": "string", "description": "Stable: answers are stored under it, whatever the wording."},
        "label": {"type": "string", "description": "The question in the caller's language."},
        "kind": {"type": "string", "enum": list(QUESTION_KINDS)},
        "choices": {"type": "array", "items": {
            "type": "object", "required": ["value", "label"], "additionalProperties": False,
            "properties": {"value": {"type": "string"}, "label": {"type": "string"}}}},
        "required": {"type": "boolean", "description": "Marked on the scanner; a lead can be saved without it."},
    },
}

LEAD = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "rating", "notes", "answers", "scan_count", "first_scanned_at", "last_scanned_at",
                 "captured_by_id", "visitor", "questions", "follow_up_status", "next_step_on", "won_value",
                 "lost_reason", "follow_up_at"],
    "properties": {
        "id": {"type": "integer", "minimum": 1},
        "rating": {"type": ["string", "null"], "enum": [*LEAD_RATINGS, None]},
        "notes": {"type": "string"},
        "answers": {"type": "object", "description": "Question key -> answer (a list for multiple choice).",
                    "additionalProperties": {"oneOf": [{"type": "string"}, {"type": "array",
                                                                           "items": {"type": "string"}}]}},
        "scan_count": {"type": "integer", "minimum": 1},
        "first_scanned_at": {"type": "string", "format": "date-time"},
        "last_scanned_at": {"type": "string", "format": "date-time"},
        "captured_by_id": {"type": ["integer", "null"]},
        "visitor": {
            "type": "object", "required": ["category", "shared"],
            "description": "Only what the visitor agreed to share with exhibitors (else nulls, `shared: false`).",
            "properties": {
                "name": {"type": ["string", "null"]}, "company": {"type": ["string", "null"]},
                "job_title": {"type": ["string", "null"]}, "country": {"type": ["string", "null"]},
                "email": {"type": ["string", "null"]}, "phone": {"type": ["string", "null"]},
                "category": {"type": "string", "enum": list(VISITOR_CATEGORIES)}, "shared": {"type": "boolean"}}},
        "questions": {"type": "array", "items": schema_ref("LeadQuestion"),
                      "description": "The exhibitor's active qualifying questions, in order."},
        "follow_up_status": {"type": "string", "enum": list(FOLLOW_UP_STATUSES),
                             "description": "The exhibitor's follow-up after the show."},
        "next_step_on": {"type": ["string", "null"], "format": "date",
                         "description": "The next step's day: the reminder is mailed that morning."},
        "won_value": {"type": ["string", "null"], "description": "A won deal's value (decimal as a string)."},
        "lost_reason": {"type": ["string", "null"], "enum": [*follow_up.LOST_REASONS, None]},
        "follow_up_at": {"type": ["string", "null"], "format": "date-time",
                         "description": "When the follow-up status last moved."},
    },
}

LEAD_UPDATED = {
    **LEAD,
    "description": "The lead as it is now (as GET answers it), and the answers that were left out.",
    "required": [*LEAD["required"], "ignored"],
    "properties": {**LEAD["properties"], "ignored": {
        "type": "object", "additionalProperties": {"type": "string"},
        "description": "`answers.<key>` -> why that answer was not stored (the question no longer exists, a "
                       "choice no longer offered, a wrong type, too long…). Empty when everything given was "
                       "stored. The rating, the notes and the other answers are stored all the same."}},
}

LEAD_UPDATE = {
    "type": "object",
    "additionalProperties": False,
    "description": "Only the fields given change; `answers` changes only the keys given (null clears one).",
    "properties": {
        "rating": {"type": ["string", "null"], "enum": [*LEAD_RATINGS, None]},
        "notes": {"type": "string", "maxLength": services.MAX_NOTES},
        "answers": {"type": "object", "additionalProperties": ANSWER_VALUE,
                    "maxProperties": MAX_GIVEN_ANSWERS,
                    "description": "Question key -> answer. An answer that cannot be stored (an unknown key — "
                                   "the question was deleted —, a wrong type, a value that is not one of the "
                                   "question's choices) is left out and named in the answer's `ignored`; the "
                                   "rest of the change is stored. Not an object, or more than 80 keys: a 400."},
        "follow_up_status": {"type": "string", "enum": list(FOLLOW_UP_STATUSES),
                             "description": "Moves the follow-up: to contact → contacted → quote sent → won / lost "
                                            "(and back: contacted → to contact, quote sent → contacted, won → quote "
                                            "sent, lost → contacted or quote sent). An illegal move: a 400."},
        "next_step_on": {"type": ["string", "null"], "format": "date",
                         "description": "YYYY-MM-DD, or null to clear; not for a won or lost lead."},
        "won_value": {"type": ["number", "string", "null"], "minimum": 0, "maximum": float(follow_up.MAX_WON_VALUE),
                      "description": "With `follow_up_status: won` only (or on a won lead)."},
        "lost_reason": {"type": "string", "enum": list(follow_up.LOST_REASONS),
                        "description": "Required to move to lost."},
    },
}


def openapi() -> dict:
    path = f"{API_PREFIX}/leads/{{lead_id}}"
    parameters = [{"name": "lead_id", "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 1, "maximum": MAX_DB_INT}}]
    errors = error_responses("400", "401", "403", "404", "413", "429", "503")
    ok = {"description": "The lead.", "content": {"application/json": {"schema": schema_ref("Lead")}}}
    updated = {"description": "The lead as it is now, and the answers left out (`ignored`).",
               "content": {"application/json": {"schema": schema_ref("LeadUpdated")}}}
    return {
        "paths": {path: {
            "get": {"operationId": "get_lead", "tags": ["leads"], "parameters": parameters, "summary": "One lead, with the questions to ask",
                    "responses": {"200": ok, **errors}},
            "patch": {"operationId": "update_lead", "tags": ["leads"], "parameters": parameters,
                      "summary": "Qualify a lead: rating, answers to the exhibitor's questions, notes",
                      "description": "Every change is in the audit log; the visitor's timeline gets the rating only. "
                                     "An answer that cannot be stored (its question deleted or a choice removed "
                                     "while the scanner was offline) never costs the rating and the notes: it is "
                                     "left out and named in `ignored`.",
                      "requestBody": {"required": True, "content": {"application/json": {
                          "schema": schema_ref("LeadUpdate")}}},
                      "responses": {"200": updated, **errors}},
        }},
        "schemas": {"Lead": LEAD, "LeadUpdated": LEAD_UPDATED, "LeadUpdate": LEAD_UPDATE,
                    "LeadQuestion": LEAD_QUESTION},
    }
