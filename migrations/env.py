"""Alembic environment: runs inside the Flask app (``expo db upgrade``), on its engine and metadata."""
from alembic import context
from flask import current_app

from expo.extensions import db


def run_migrations_online() -> None:
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # SQLite alters a table by rebuilding it (batch mode): dropping the old copy must not trip the
            # foreign keys of rows that point at it (a DROP TABLE deletes its rows first). The pragma only takes
            # effect outside a transaction; the keys are checked once the run is done.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            **current_app.extensions["migrate"].configure_args,
        )
        with context.begin_transaction():
            context.run_migrations()
        if sqlite:
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
            if broken:
                raise RuntimeError(f"foreign keys broken by the migration: {broken[:10]}")


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `expo db upgrade`.")
run_migrations_online()
