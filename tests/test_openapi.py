"""The OpenAPI document of /api/v1 (expo/core/openapi.py): served without a token, valid OpenAPI 3.1, and it
describes exactly the routes the app has under /api/v1 — a route added without its description fails here,
and so does a description of a route that is gone. The fuzz run over it is tests/test_api_fuzz.py."""
from __future__ import annotations

import json
import re

import jsonschema_rs
import pytest
import schemathesis

from expo.core.api import API_PREFIX
from expo.core.openapi import DOCUMENT_PATH
from expo.extensions import db
from expo.onsite.models import REFUSAL_REASONS, SCAN_RESULTS

HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture
def document(client):
    response = client.get(DOCUMENT_PATH)
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.get_json()


def test_the_document_is_served_without_a_token_and_holds_no_data(client, make):
    tenant = make.tenant("A", tokens=True)
    response = client.get(DOCUMENT_PATH)  # no Authorization header, no session
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    for secret in (tenant.code, tenant.organizer.name, tenant.users["owner"].email, *(c for _t, c in tenant.tokens.values())):
        assert secret not in text


def test_the_document_is_valid_openapi_3_1(app, document):
    assert document["openapi"].startswith("3.1.")
    schemathesis.openapi.from_dict(json.loads(json.dumps(document))).validate()  # the official meta-schema
    # The OpenAPI meta-schema leaves schema objects loose: each one must be valid JSON Schema 2020-12 itself.
    for schema in document["components"]["schemas"].values():
        jsonschema_rs.meta.validate({"$schema": "https://json-schema.org/draft/2020-12/schema", **schema})
    loaded = schemathesis.openapi.from_wsgi(DOCUMENT_PATH, app)
    assert {op.ok().path for op in loaded.get_all_operations()} >= {f"{API_PREFIX}/scans", f"{API_PREFIX}/scans/batch"}


def test_every_api_route_is_described_and_nothing_else(app, document):
    def openapi_path(rule: str) -> str:
        return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)

    in_app = {(openapi_path(rule.rule), method.lower()) for rule in app.url_map.iter_rules()
              if rule.rule.startswith(API_PREFIX + "/") for method in rule.methods if method.lower() in HTTP_METHODS}
    described = {(path, method) for path, item in document["paths"].items() for method in item
                 if method in HTTP_METHODS}
    assert described == in_app
    assert len(in_app) >= 3


def test_every_operation_documents_its_errors(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "200" in responses and "503" in responses, (method, path)
            if operation.get("security", document["security"]):  # a call with a token can be refused it
                assert {"400", "401", "413", "429"} <= responses.keys(), (method, path)


def test_scan_answers_are_described_with_the_state_machines_codes(document):
    """The enums come from the scan state machines: a new refusal reason appears in the document by itself."""
    result = document["components"]["schemas"]["ScanResult"]["properties"]
    assert result["result"]["enum"] == list(SCAN_RESULTS)
    assert result["reason"]["enum"] == [*REFUSAL_REASONS, None]
    request = document["components"]["schemas"]["ScanRequest"]["properties"]
    assert request["client_scan_id"]["maxLength"] == 64 and request["edition_id"]["maximum"] == 2**31 - 1


def test_hand_made_answers_are_as_documented(app, client, make, monkeypatch):
    """The answers the fuzz run reaches only by luck, checked against the document one by one."""
    tenant = make.tenant("A", tokens=True)
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi(DOCUMENT_PATH, app)
    scan, batch = schema[f"{API_PREFIX}/scans"]["POST"], schema[f"{API_PREFIX}/scans/batch"]["POST"]
    booth = {"Authorization": f"Bearer {tenant.tokens['booth_staff'][1]}"}
    body = {"code": tenant.code, "kind": "lead", "client_scan_id": "fuzz-1"}

    def answer(operation, status, **kwargs):
        response = client.post(operation.path, **kwargs)
        assert response.status_code == status, response.get_data(as_text=True)
        operation.validate_response(response)
        return response

    assert answer(scan, 200, json=body, headers=booth).json["result"] == "duplicate"  # make.tenant captured it
    assert answer(scan, 200, json=body, headers=booth).json["replayed"] is True
    answer(scan, 200, json={**body, "code": "garbage", "client_scan_id": "fuzz-2"}, headers=booth)
    answer(scan, 401, json=body, headers={"Authorization": "Bearer expo_forged"})
    answer(scan, 401, json=body)
    answer(scan, 403, json={**body, "kind": "checkin"}, headers=booth)
    answer(scan, 400, data="{not json", content_type="application/json", headers=booth)
    answer(scan, 400, json={**body, "client_scan_id": "x" * 65}, headers=booth)
    answer(batch, 200, json=[body, {**body, "kind": "checkin"}, "not a scan", {**body, "code": "\x00"}], headers=booth)
    answer(batch, 400, json=[body] * 501, headers=booth)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1000)
    too_large = answer(batch, 413, json=[body] * 20, headers=booth)
    assert too_large.json == {"error": "The request body is too large."}  # the API's shape, not the web page's
