"""While PostgreSQL drops every connection (a restart, a failover), the API answers 503 with Retry-After —
not 500 — and the next request works on fresh connections."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from expo.core import services as core
from expo.core.models import Organizer
from expo.extensions import db
from expo.visitors.services import badge_code

from ..conftest import new_scan_id


def _drop_every_other_connection() -> int:
    """What a server restart does to the app's pooled connections, done from a connection outside the
    app's pool. Returns how many were dropped."""
    outside = create_engine(db.engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with outside.connect() as own:
            return len(own.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all())
    finally:
        outside.dispose()


def test_the_api_answers_503_while_the_database_is_away_then_recovers(app, make):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: the embedded SQLite database has no server to lose")
    edition = make.edition()
    staff = make.user("onsite", db.session.get(Organizer, edition.organizer_id))
    clear = core.create_api_token(staff, "gate")[1]
    codes = [badge_code(make.registration(edition)) for _ in range(3)]
    db.session.commit()
    edition_id = edition.id
    client = app.test_client()

    def scan(code):
        return client.post("/api/v1/scans", headers={"Authorization": f"Bearer {clear}"},
                           json={"code": code, "kind": "checkin", "client_scan_id": new_scan_id(),
                                 "edition_id": edition_id})

    assert scan(codes[0]).status_code == 200  # the pool holds a live connection now
    db.session.remove()
    assert _drop_every_other_connection() >= 1

    away = scan(codes[1])
    assert away.status_code == 503, away.get_data(as_text=True)
    assert away.headers["Retry-After"] == "5" and away.json["error"] == "Service Unavailable"
    db.session.remove()

    back = scan(codes[1])  # the scanner retries the same scan: it is stored once, now
    assert back.status_code == 200 and back.json["result"] == "ok"
