"""The yardstick for registration submits: a bare Flask endpoint doing only the essential work of the public
form's POST on the same schema, with hand-written SQL — the edition by its slug with its current consent
version, the returning person by normalized email, the person row, the registration row (access key, consent
time and version), the audit row and the timeline row, the badge code signed, one commit, then the
confirmation mail handed to the queue (a Celery-shaped message pushed to Redis) and a redirect to "check
your inbox". bench/registrations.py compares the real form with it in the same run."""
import base64
import json
import os
import secrets
import struct
import uuid
from datetime import datetime, timezone

import redis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask, redirect, request
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["EXPO_DATABASE_URL"], pool_size=4)
queue = redis.Redis.from_url(os.environ["EXPO_BROKER_URL"])
app = Flask(__name__)


def sign(signing_key: bytes, edition_id: int, registration_id: int, serial: int) -> str:
    body = struct.pack(">BIIH", 1, edition_id, registration_id, serial)
    signature = Ed25519PrivateKey.from_private_bytes(bytes(signing_key)).sign(b"EXPO-BADGE" + body)
    return base64.b32encode(body + signature).decode().rstrip("=")


@app.post("/e/<slug>")
def register(slug):
    form = request.form
    name, email = form["name"].strip(), form["email"].strip()
    if not name or "@" not in email or form.get("consent") != "y":
        return "invalid", 400
    email_key = email.lower()
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    with engine.begin() as conn:
        edition = conn.execute(text(
            "SELECT e.id, e.organizer_id, e.name, e.signing_key, e.consent_version, c.id AS consent_id "
            "FROM editions e LEFT JOIN consent_versions c ON c.edition_id = e.id AND c.version::text = e.consent_version "
            "WHERE e.slug = :slug AND e.status IN ('registration_open', 'live')"), {"slug": slug}).one()
        person_id = conn.execute(text("SELECT id FROM persons WHERE organizer_id = :o AND email_key = :k"),
                                 {"o": edition.organizer_id, "k": email_key}).scalar()
        if person_id is None:
            person_id = conn.execute(text(
                "INSERT INTO persons (organizer_id, name, email, email_key, phone, company, job_title, country, "
                "created_at, updated_at) VALUES (:o, :name, :email, :key, :phone, :company, :job, :country, :now, :now) "
                "RETURNING id"),
                {"o": edition.organizer_id, "name": name, "email": email, "key": email_key,
                 "phone": form.get("phone", ""), "company": form.get("company", ""),
                 "job": form.get("job_title", ""), "country": form.get("country", ""), "now": now}).scalar()
        share = form.get("share_with_exhibitors") == "y"
        answers = {key[2:]: (values if len(values) > 1 else values[0])
                   for key, values in form.lists() if key.startswith("q_") and values}
        registration_id = conn.execute(text(
            "INSERT INTO registrations (organizer_id, edition_id, person_id, category, status, source, answers, "
            "consent_version, consent_at, consent_version_id, share_with_exhibitors, sharing_at, sharing_version_id, "
            "badge_serial, access_key, locale, name_as_given, company_as_given, job_title_as_given, phone_as_given, "
            "created_at) VALUES (:o, :e, :p, :cat, 'confirmed', 'online', :answers, :cv, :now, :cid, :share, :sharing_at, "
            ":sharing_id, 1, :key, 'en', :name, :company, :job, :phone, :now) RETURNING id"),
            {"o": edition.organizer_id, "e": edition.id, "p": person_id, "cat": form.get("category", "buyer"),
             "answers": json.dumps(answers),
             "cv": str(edition.consent_version), "cid": edition.consent_id, "share": share,
             "sharing_at": now if share else None, "sharing_id": edition.consent_id if share else None,
             "key": secrets.token_urlsafe(32), "name": name, "company": form.get("company", ""),
             "job": form.get("job_title", ""), "phone": form.get("phone", ""), "now": now}).scalar()
        conn.execute(text(
            "INSERT INTO audit_entries (organizer_id, at, action, object_type, object_id, details) "
            "VALUES (:o, :now, 'registration.created', 'registrations', :r, :d)"),
            {"o": edition.organizer_id, "now": now, "r": registration_id,
             "d": json.dumps({"person_id": person_id, "source": "online", "consent_version": edition.consent_version})})
        conn.execute(text(
            "INSERT INTO activities (organizer_id, subject_type, subject_id, edition_id, kind, at, object_type, "
            "object_id, details) VALUES (:o, 'person', :p, :e, 'registration.created', :now, 'registrations', :r, :d)"),
            {"o": edition.organizer_id, "p": person_id, "e": edition.id, "now": now, "r": registration_id,
             "d": json.dumps({"edition": edition.name, "source": "online"})})
        code = sign(edition.signing_key, edition.id, registration_id, 1)
    # after commit: the confirmation mail (with the badge) handed to the worker's queue
    queue.lpush("bench-bare-mail", json.dumps({"id": str(uuid.uuid4()), "task": "send_confirmation",
                                               "args": [registration_id], "badge": code}))
    return redirect(f"/e/{slug}/mail-sent")
