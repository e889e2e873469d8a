"""Alembic environment: runs inside the Flask app (``expo db upgrade``), on its engine and metadata."""
from alembic import context
from flask import current_app

from expo.extensions import db


def run_migrations_online() -> None:
    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=db.metadata,
            **current_app.extensions["migrate"].configure_args,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `expo db upgrade`.")
run_migrations_online()
