"""The yardstick: a bare Flask endpoint doing only the essential work of a lead scan on the same
schema — token look-up, badge signature, registration, lead upsert, scan row, one commit — and of a
batch of lead scans (``/api/v1/scans/batch``: the same work in bulk, one statement per step).
Our scan API is compared with it in the same run (bench/scan_api.py)."""
import base64
import hashlib
import os
import struct
from datetime import datetime, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask, jsonify, request
from sqlalchemy import bindparam, create_engine, text
from sqlalchemy.exc import OperationalError

engine = create_engine(os.environ["EXPO_DATABASE_URL"], pool_size=4)
app = Flask(__name__)
_keys = {}

TOKEN_USER = text(
    "SELECT u.id, u.organizer_id, u.exhibitor_id, e.edition_id FROM api_tokens t JOIN users u ON u.id = t.user_id "
    "JOIN exhibitors e ON e.id = u.exhibitor_id WHERE t.token_hash = :h")


def _key(conn, edition_id):
    if edition_id not in _keys:
        raw = conn.execute(text("SELECT verify_key FROM editions WHERE id = :id"), {"id": edition_id}).scalar()
        _keys[edition_id] = Ed25519PublicKey.from_public_bytes(bytes(raw))
    return _keys[edition_id]


def _token():
    return hashlib.sha256(request.headers["Authorization"].split(" ", 1)[1].encode()).hexdigest()


@app.post("/api/v1/scans")
def scan():
    body = request.get_json()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with engine.begin() as conn:
        user = conn.execute(TOKEN_USER, {"h": _token()}).one()
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


LEADS_UPSERT = text(
    "INSERT INTO leads (organizer_id, exhibitor_id, registration_id, captured_by_id, notes, scan_count, "
    "first_scanned_at, last_scanned_at) SELECT :o, :e, r, :u, '', n, :now, :now "
    "FROM unnest(CAST(:regs AS integer[]), CAST(:counts AS integer[])) AS x(r, n) "
    "ON CONFLICT (exhibitor_id, registration_id) DO UPDATE SET scan_count = leads.scan_count + excluded.scan_count, "
    "last_scanned_at = excluded.last_scanned_at RETURNING id, registration_id, (xmax = 0) AS inserted")


@app.post("/api/v1/scans/batch")
def scan_batch():
    """The same essential work for a list of lead scans, in bulk: the signatures in one pass, the
    registrations in one query, the leads in one upsert, the scans in one multi-row insert. A deadlock
    with a concurrent batch of the same exhibitor (PostgreSQL picks one) is tried again, as Expo does."""
    items = request.get_json()
    for attempt in range(5):
        try:
            return _batch(items)
        except OperationalError as error:
            if getattr(error.orig, "sqlstate", None) != "40P01" or attempt == 4:
                raise
    return None


def _batch(items):
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with engine.begin() as conn:
        user = conn.execute(TOKEN_USER, {"h": _token()}).one()
        key = _key(conn, user.edition_id)
        reg_of = []
        for item in items:
            raw = base64.b32decode(item["code"])
            _v, edition_id, reg_id, serial = struct.unpack_from(">BIIH", raw)
            key.verify(raw[11:], b"EXPO-BADGE" + raw[:11])
            reg_of.append(reg_id)
        regs = dict(conn.execute(text("SELECT id, badge_serial FROM registrations WHERE id IN :ids")
                                 .bindparams(bindparam("ids", expanding=True)), {"ids": sorted(set(reg_of))}).all())
        counts = {}
        for reg_id in reg_of:
            counts[reg_id] = counts.get(reg_id, 0) + 1
        ordered = sorted(counts)
        leads = {row[1]: (row[0], row[2]) for row in conn.execute(LEADS_UPSERT, {
            "o": user.organizer_id, "e": user.exhibitor_id, "u": user.id, "now": now, "regs": ordered,
            "counts": [counts[r] for r in ordered]})}
        seen, rows, answers = set(), [], []
        for item, reg_id in zip(items, reg_of):
            lead_id, new = leads[reg_id]
            result = "ok" if new and reg_id not in seen else "duplicate"
            seen.add(reg_id)
            rows.append({"o": user.organizer_id, "ed": user.edition_id, "u": user.id, "e": user.exhibitor_id,
                         "r": regs[reg_id] and reg_id, "l": lead_id, "c": item["client_scan_id"],
                         "code": item["code"], "now": now, "res": result})
            answers.append({"result": result, "reason": None, "lead_id": lead_id})
        conn.execute(text(
            "INSERT INTO scans (organizer_id, edition_id, user_id, exhibitor_id, registration_id, lead_id, kind, "
            "client_scan_id, raw_code, scanned_at, received_at, result) VALUES (:o, :ed, :u, :e, :r, :l, 'lead', "
            ":c, :code, :now, :now, :res)"), rows)
    return jsonify(answers)
