"""The audit log is append-only in the database, not only in the app: triggers refuse every UPDATE and
DELETE of an audit entry (and, on PostgreSQL, a TRUNCATE of the table), whoever sends it.

The SQL lives here, once: migration 0006 runs it, and ``guard`` attaches it to the table for a schema made
by ``metadata.create_all()``. It guards against the app's own bugs and against a hand-typed statement in a
database shell; a database superuser (or the table's owner) can still drop a trigger — that is what backups
and the database's own log are for (docs/deployment.md, "The audit log").

A rebuild of the table (Alembic's ``batch_alter_table`` on SQLite copies it into a new one) drops its
triggers: a migration that rebuilds ``audit_entries`` must run ``CREATE`` again afterwards.
"""
from __future__ import annotations

from sqlalchemy import DDL, event

TABLE = "audit_entries"

# PostgreSQL: one function for both triggers; restrict_violation (23001) reaches the app as an IntegrityError,
# as SQLite's RAISE(ABORT) does. No "%" in the SQL: DDL() and the drivers would read it as a placeholder.
_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {TABLE}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'restrict_violation',
        MESSAGE = '{TABLE} is append-only: ' || TG_OP || ' refused';
END
$$
"""

CREATE = {
    "postgresql": (
        _PG_FUNCTION,
        f"CREATE TRIGGER {TABLE}_no_change BEFORE UPDATE OR DELETE ON {TABLE} "
        f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_append_only()",
        f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_append_only()",
    ),
    "sqlite": (
        f"CREATE TRIGGER {TABLE}_no_update BEFORE UPDATE ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: UPDATE refused'); END",
        f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} "
        f"BEGIN SELECT RAISE(ABORT, '{TABLE} is append-only: DELETE refused'); END",
    ),
}

DROP = {
    "postgresql": (
        f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE}",
        f"DROP TRIGGER IF EXISTS {TABLE}_no_change ON {TABLE}",
        f"DROP FUNCTION IF EXISTS {TABLE}_append_only()",
    ),
    "sqlite": (
        f"DROP TRIGGER IF EXISTS {TABLE}_no_delete",
        f"DROP TRIGGER IF EXISTS {TABLE}_no_update",
    ),
}


def statements(dialect: str, *, drop: bool = False) -> tuple[str, ...]:
    """The statements that create (or ``drop``) the guard on this database; none on another database."""
    return (DROP if drop else CREATE).get(dialect, ())


def guard(table) -> None:
    """Create the triggers whenever ``table`` is created from the metadata (``create_all``)."""
    for dialect, texts in CREATE.items():
        for sql in texts:
            event.listen(table, "after_create", DDL(sql).execute_if(dialect=dialect))
