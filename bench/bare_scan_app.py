"""The yardstick: a bare Flask endpoint doing only the essential work of a lead scan on the same
schema — token look-up, badge signature, registration, lead upsert, scan row, one commit.
Our scan API is compared with it in the same run (bench/scan_api.py)."""
import base64
import hashlib
import os
import struct
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["EXPO_DATABASE_URL"], pool_size=4)
app = Flask(__name__)
_keys = {}


def _key(conn, edition_id):
    if edition_id not in _keys:
        raw = conn.execute(text("SELECT verify_key FROM editions WHERE id = :id"), {"id": edition_id}).scalar()
        _keys[edition_id] = Ed25519PublicKey.from_public_bytes(bytes(raw))
    return _keys[edition_id]


@app.post("/api/v1/scans")
def scan():
    body = request.get_json()
    token = request.headers["Authorization"].split(" ", 1)[1]
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with engine.begin() as conn:
        user = conn.execute(text(
            "SELECT u.id, u.organizer_id, u.exhibitor_id, e.edition_id FROM api_tokens t JOIN users u ON u.id = t.user_id "
            "JOIN exhibitors e ON e.id = u.exhibitor_id WHERE t.token_hash = :h"),
            {"h": hashlib.sha256(token.encode()).hexdigest()}).one()
        raw = base64.b32decode(body["code"])
        _v, edition_id, reg_id, serial = struct.unpack_from(">BIIH", raw)
        _key(conn, edition_id).verify(raw[11:], b"EXPO-BADGE" + raw[:11])
        reg = conn.execute(text("SELECT id, badge_serial FROM registrations WHERE id = :id"), {"id": reg_id}).one()
        lead = conn.execute(text("SELECT id FROM leads WHERE exhibitor_id = :e AND registration_id = :r"),
                            {"e": user.exhibitor_id, "r": reg.id}).scalar()
        result = "duplicate" if lead else "ok"
        if lead:
            conn.execute(text("UPDATE leads SET scan_count = scan_count + 1, last_scanned_at = :now WHERE id = :id"),
                         {"now": now, "id": lead})
        else:
            lead = conn.execute(text(
                "INSERT INTO leads (organizer_id, exhibitor_id, registration_id, captured_by_id, notes, scan_count, "
                "first_scanned_at, last_scanned_at) VALUES (:o, :e, :r, :u, '', 1, :now, :now) RETURNING id"),
                {"o": user.organizer_id, "e": user.exhibitor_id, "r": reg.id, "u": user.id, "now": now}).scalar()
        conn.execute(text(
            "INSERT INTO scans (organizer_id, edition_id, user_id, exhibitor_id, registration_id, lead_id, kind, "
            "client_scan_id, raw_code, scanned_at, received_at, result) VALUES (:o, :ed, :u, :e, :r, :l, 'lead', "
            ":c, :code, :now, :now, :res)"),
            {"o": user.organizer_id, "ed": edition_id, "u": user.id, "e": user.exhibitor_id, "r": reg.id, "l": lead,
             "c": body["client_scan_id"], "code": body["code"], "now": now, "res": result})
    return jsonify({"result": result, "reason": None, "lead_id": lead})
