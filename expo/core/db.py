"""Column types and helpers shared by every module's models."""
from collections import namedtuple
from datetime import datetime, timezone

from sqlalchemy import DateTime, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (DBAPIError, IntegrityError, InterfaceError, MultipleResultsFound, NoResultFound,
                            OperationalError, StatementError)
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


class FastResult:
    """The rows of a ``fast_execute`` (named tuples), read as the hot paths read a SQLAlchemy result."""

    __slots__ = ("rows",)

    def __init__(self, rows: list):
        self.rows = rows

    def all(self) -> list:
        return self.rows

    def first(self):
        return self.rows[0] if self.rows else None

    def one(self):
        if len(self.rows) != 1:
            raise (NoResultFound if not self.rows else MultipleResultsFound)(
                f"{len(self.rows)} rows where exactly one was expected")
        return self.rows[0]

    def scalar_one_or_none(self):
        if len(self.rows) > 1:
            raise MultipleResultsFound(f"{len(self.rows)} rows where at most one was expected")
        return self.rows[0][0] if self.rows else None


class _Prepared:
    """A statement compiled once for the driver: its SQL text, where each bound value comes from (the call's
    parameters or a constant of the statement) with the type's bind processor, the result's processors."""

    __slots__ = ("sql", "binds", "constants", "results", "row")

    def __init__(self, statement, dialect, keys: tuple):
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if statement.is_insert else None)
        if compiled.insert_prefetch or compiled.update_prefetch or compiled.positiontup or "POSTCOMPILE" in compiled.string:
            # Values made in Python (column defaults), positional or expanding (IN) parameters: left to SQLAlchemy.
            raise _NotPreparable
        self.sql = compiled.string
        self.binds, self.constants = [], {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if name in keys:
                self.binds.append((name, process))
            else:
                value = bind.effective_value
                self.constants[name] = process(value) if process and value is not None else value
        self.results = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                        for column in getattr(statement, "exported_columns", ())]
        self.row = None


class _NotPreparable(Exception):
    pass


_prepared: dict[tuple, _Prepared | None] = {}
_kept: list = []


def fast_execute(connection, statement, params: dict) -> FastResult:
    """Run one of the hot paths' prebuilt statements. On PostgreSQL straight on the driver's cursor: the SQL
    text, bind and result processing are worked out once per statement (``_Prepared``), which spares the
    execution layer's per-call work (≈ 80 µs a statement, docs/benchmarks.md) while keeping what it does
    that matters: the types' bind and result processing (aware UTC datetimes, JSON), the engine's
    ``before_cursor_execute`` listeners (statement counts in the tests), and SQLAlchemy's errors — a lost
    connection invalidates it and raises ``OperationalError`` as any other statement would (a 503).
    Elsewhere (SQLite) the ordinary ``connection.execute``."""
    if connection.dialect.name != "postgresql":
        return connection.execute(statement, params)
    key = (id(statement), tuple(params))
    prepared = _prepared.get(key, False)
    if prepared is False:
        if len(_prepared) >= 256:  # statements built per call would fill the cache: they are not for this path
            raise RuntimeError("fast_execute is for statements built once (module constants)")
        try:
            prepared = _Prepared(statement, connection.dialect, key[1])
        except _NotPreparable:
            prepared = None
        _prepared[key] = prepared
        _kept.append(statement)  # the key is its id(): it must live as long as the cache
    if prepared is None:
        return connection.execute(statement, params)
    values = dict(prepared.constants)
    try:
        for name, process in prepared.binds:
            value = params[name]
            values[name] = process(value) if process is not None and value is not None else value
    except Exception as error:  # a value the column type refuses: as SQLAlchemy reports it
        raise StatementError(str(error), prepared.sql, params, error) from error
    dbapi_connection = connection.connection.dbapi_connection
    cursor = dbapi_connection.cursor()
    try:
        if connection.dispatch.before_cursor_execute:
            connection.dispatch.before_cursor_execute(connection, cursor, prepared.sql, values, None, False)
        cursor.execute(prepared.sql, values)
        rows = cursor.fetchall() if cursor.description else []
        if rows and prepared.row is None:
            prepared.row = namedtuple("Row", [d.name for d in cursor.description], rename=True)
    except connection.dialect.loaded_dbapi.Error as error:
        disconnected = connection.dialect.is_disconnect(error, dbapi_connection, cursor)
        if disconnected:
            # As SQLAlchemy does on a disconnect: the server went away for every pooled connection, so the whole
            # pool is invalidated (each older connection is replaced at its next checkout), then this one.
            connection.engine.pool._invalidate(connection.connection, error)
            connection.invalidate(error)
        raise DBAPIError.instance(prepared.sql, values, error, connection.dialect.loaded_dbapi.Error,
                                  connection_invalidated=disconnected, dialect=connection.dialect) from error
    finally:
        cursor.close()
    if not rows:
        return FastResult(rows)
    make, results = prepared.row._make, prepared.results
    if any(results):
        return FastResult([make(p(v) if p is not None else v for p, v in zip(results, row)) for row in rows])
    return FastResult([make(row) for row in rows])


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


def retry_once(work, races: tuple[type[BaseException], ...] = (IntegrityError,)):
    """Run ``work``; when a concurrent request wins a race on a unique key (one of ``races``: a double click,
    the same address at two kiosks), roll back and run it once more: the second run finds the winner's rows
    and answers as for them."""
    try:
        return work()
    except races:
        db.session.rollback()
        return work()


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
