"""Column types and helpers shared by every module's models."""
from datetime import datetime, timezone

from sqlalchemy import DateTime, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeDecorator

from ..extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stored as naive UTC on every database, always returned as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def insert_unless_exists(model, values: dict, unique: list[str] | None, returning):
    """``INSERT … ON CONFLICT (unique) DO NOTHING RETURNING returning``: the returned value, or None when a
    row with the same unique key exists already (e.g. written a moment ago by a concurrent request).
    ``unique=None``: any unique key of the table.

    One statement, no savepoint: the hot paths (scans, leads) use it instead of catching an IntegrityError.
    """
    connection = db.session.connection()
    dialect_insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    stmt = dialect_insert(model).values(values).on_conflict_do_nothing(index_elements=unique).returning(returning)
    return connection.execute(stmt).scalar_one_or_none()


def take_write_lock(session) -> None:
    """Before reads that decide a write (is there a lead already?), on SQLite take the write lock now.

    SQLite lets one writer in at a time. A transaction that reads first and writes later cannot
    upgrade once another writer has committed in between ("database is locked" at once, no waiting).
    BEGIN IMMEDIATE makes it wait its turn instead (busy_timeout) and then read what that writer
    wrote. PostgreSQL needs nothing: row locks and unique indexes do this job there.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if not driver.in_transaction:
        driver.execute("BEGIN IMMEDIATE")


def on_commit(callback) -> None:
    """Run ``callback()`` after the current transaction commits; drop it if the transaction rolls back."""
    db.session.info.setdefault("after_commit", []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session):
    callbacks = session.info.pop("after_commit", [])
    for callback in callbacks:
        callback()


@event.listens_for(Session, "after_soft_rollback")
def _drop_after_commit(session, previous_transaction):
    if previous_transaction.parent is None:
        session.info.pop("after_commit", None)


def commit_per_request(app) -> None:
    """One commit per request, in one place: after the view, when the answer is not an error.

    Views and services only flush; a refused write rolls back (``db.session.rollback()``) before the
    view answers. Work registered for after the commit (tasks, see core.tasks) runs only if it succeeds.
    """

    @app.after_request
    def _commit(response):
        if response.status_code < 400:
            try:
                db.session.commit()
            except (OperationalError, InterfaceError) as error:
                # The database went away between the view and its commit: a 503 to send the same request again
                # (as when it goes away earlier), not a 500. Retried scans are stored once (client_scan_id).
                from .templating import _database_unavailable

                return app.make_response(_database_unavailable(error))
        else:
            db.session.rollback()
        return response
