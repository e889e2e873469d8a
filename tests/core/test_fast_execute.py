"""core.db.fast_execute: the scan path's statements on the driver's cursor (PostgreSQL) behave as SQLAlchemy's
execution does — bound and returned values through the column types, the statement counted by the engine's
listeners, a lost connection an OperationalError that invalidates it — and SQLite runs them the ordinary way."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, create_engine, insert, select, text
from sqlalchemy.exc import IntegrityError, NoResultFound, OperationalError, StatementError
from sqlalchemy.pool import NullPool

from expo.core import db as core_db
from expo.core.db import fast_execute
from expo.core.models import AuditEntry, Organizer
from expo.extensions import db

# Statements built once, as the hot paths build theirs.
_INSERT = insert(Organizer).returning(Organizer.id, Organizer.created_at)
_BY_ID = select(Organizer.id, Organizer.name, Organizer.created_at).where(Organizer.id == bindparam("organizer_id"))
_BY_SLUGS = select(Organizer.id).where(Organizer.slug.in_(("fast-a", "fast-b"))).order_by(Organizer.id)
_AUDIT = insert(AuditEntry).returning(AuditEntry.id)
_DETAILS = select(AuditEntry.details).where(AuditEntry.id == bindparam("audit_id"))
_TEXT = text("SELECT CAST(:n AS INTEGER) + 1 AS next_one")


def _organizer(slug: str, at: datetime) -> dict:
    return {"name": f"Organizer {slug}", "slug": slug, "created_at": at}


def test_values_go_in_and_come_out_through_the_column_types(ctx, count_queries):
    at = datetime(2026, 3, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    with count_queries() as counter:
        connection = db.session.connection()
        organizer_id, created_at = fast_execute(connection, _INSERT, _organizer("fast-a", at)).one()
        row = fast_execute(connection, _BY_ID, {"organizer_id": organizer_id}).one()
        audit_id = fast_execute(connection, _AUDIT, {
            "organizer_id": organizer_id, "user_id": None, "at": at, "action": "test.fast", "object_type": None,
            "object_id": None, "details": {"名字": "展商", "n": [1, 2]}, "ip": None}).scalar_one_or_none()
        details = fast_execute(connection, _DETAILS, {"audit_id": audit_id}).one().details
        assert fast_execute(connection, _TEXT, {"n": 41}).one().next_one == 42
    assert len(counter) == 5  # every statement seen by the engine's listeners, on either database
    # Stored as naive UTC, read back aware: the same instant.
    assert created_at == at and created_at.tzinfo is not None and row.created_at == at
    assert (row.id, row.name) == (organizer_id, "Organizer fast-a")
    assert details == {"名字": "展商", "n": [1, 2]}
    assert fast_execute(connection, _BY_ID, {"organizer_id": -1}).first() is None
    assert fast_execute(connection, _BY_ID, {"organizer_id": -1}).scalar_one_or_none() is None
    with pytest.raises(NoResultFound):
        fast_execute(connection, _BY_ID, {"organizer_id": -1}).one()
    # The ORM sees the same row.
    assert db.session.get(Organizer, organizer_id).created_at == at


def test_a_statement_with_an_in_list_is_left_to_sqlalchemy(ctx):
    connection = db.session.connection()
    now = datetime.now(timezone.utc)
    ids = [fast_execute(connection, _INSERT, _organizer(slug, now)).one()[0] for slug in ("fast-a", "fast-b")]
    assert [row[0] for row in fast_execute(connection, _BY_SLUGS, {}).all()] == ids


def test_a_naive_datetime_is_refused_as_the_column_type_refuses_it(ctx):
    with pytest.raises(StatementError, match="naive"):
        fast_execute(db.session.connection(), _INSERT, _organizer("fast-a", datetime(2026, 3, 1)))


def test_constraint_errors_are_sqlalchemys(ctx):
    connection = db.session.connection()
    now = datetime.now(timezone.utc)
    fast_execute(connection, _INSERT, _organizer("fast-a", now))
    with pytest.raises(IntegrityError):
        fast_execute(connection, _INSERT, _organizer("fast-a", now))
    db.session.rollback()


def test_a_lost_connection_is_an_operational_error_and_the_next_statement_works(ctx):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite runs the statements through SQLAlchemy itself")
    # More than one connection in the pool (as after any busy moment), then the server drops them all.
    spare = [db.engine.connect() for _ in range(3)]
    for each in spare:
        each.execute(text("SELECT 1"))
        each.close()
    connection = db.session.connection()
    outside = create_engine(db.engine.url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with outside.connect() as own:
            assert own.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
                                    "current_database() AND pid <> pg_backend_pid()")).scalar_one() >= 2
    finally:
        outside.dispose()
    with pytest.raises(OperationalError) as caught:
        fast_execute(connection, _BY_ID, {"organizer_id": 1})
    assert caught.value.connection_invalidated and connection.invalidated
    db.session.rollback()
    # The whole pool was invalidated, as SQLAlchemy does on a disconnect: the next connections are fresh ones,
    # not the other dead ones still in the pool.
    for _ in range(4):
        assert fast_execute(db.session.connection(), _TEXT, {"n": 1}).one().next_one == 2
        db.session.remove()


def test_statements_built_per_call_are_refused_before_they_fill_the_cache(ctx, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite runs the statements through SQLAlchemy itself")
    monkeypatch.setattr(core_db, "_prepared", {("x", n): None for n in range(256)})
    with pytest.raises(RuntimeError, match="built once"):
        fast_execute(db.session.connection(), select(Organizer.id).where(Organizer.id == bindparam("i")), {"i": 1})
