"""The Alembic migrations build exactly the schema the models declare, and run down and up again."""
from __future__ import annotations

import pprint

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from expo import create_app
from expo.extensions import db


def test_models_and_migrations_agree(app):
    with app.app_context():
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
    assert differences == [], pprint.pformat(differences)


def test_upgrade_downgrade_upgrade_on_a_fresh_sqlite_file(app, tmp_path):
    from flask_migrate import downgrade, upgrade

    path = tmp_path / "fresh.sqlite"
    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                        "INSTANCE_DIR": tmp_path / "instance", "SECRET_KEY": "test-secret", "SMTP_URL": None})
    try:
        with fresh.app_context():
            expected = {table.name for table in db.metadata.sorted_tables}

            upgrade()
            assert set(inspect(db.engine).get_table_names()) == expected | {"alembic_version"}

            downgrade(revision="base")
            assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}

            upgrade()
            assert set(inspect(db.engine).get_table_names()) == expected | {"alembic_version"}
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                assert compare_metadata(context, db.metadata) == []
            db.engine.dispose()
    finally:
        session_celery = app.extensions["celery"]
        session_celery.set_current()
        session_celery.set_default()
