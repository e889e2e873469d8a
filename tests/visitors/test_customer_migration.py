"""Migration 0012 gives the persons and companies already stored their search keys."""
from __future__ import annotations

from sqlalchemy import text

from expo import create_app
from expo.extensions import db


def test_0012_computes_the_keys_of_existing_rows(app, tmp_path):
    from flask_migrate import upgrade

    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}",
                        "INSTANCE_DIR": tmp_path / "instance", "SECRET_KEY": "test-secret", "SMTP_URL": None})
    try:
        with fresh.app_context():
            upgrade(revision="0011")
            with db.engine.begin() as conn:
                conn.execute(text("INSERT INTO organizers (id, name, slug, created_at) "
                                  "VALUES (1, 'Org', 'org', '2026-01-01 00:00:00')"))
                for n, (name, company) in enumerate((("张伟", "深圳宏达家具有限公司"), ("John Smith", "Acme Co., Ltd."),
                                                     ("", "")), start=1):
                    conn.execute(text(
                        "INSERT INTO persons (id, organizer_id, name, email, email_key, phone, company, job_title, "
                        "country, created_at, updated_at) VALUES (:id, 1, :name, NULL, NULL, '', :company, '', '', "
                        "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"), {"id": n, "name": name, "company": company})
                conn.execute(text("INSERT INTO companies (id, organizer_id, name, country, website, email, phone, "
                                  "description, created_at) VALUES (1, 1, '深圳宏达家具 有限公司', '', '', '', '', '', "
                                  "'2026-01-01 00:00:00')"))
            upgrade()
            with db.engine.connect() as conn:
                persons = conn.execute(text("SELECT id, pinyin_key, pinyin_key_turned, company_key FROM persons "
                                            "ORDER BY id")).all()
                company = conn.execute(text("SELECT name_key, merged_into_id FROM companies")).one()
            assert persons == [(1, "zhangwei", "weizhang", "深圳宏达家具"), (2, "johnsmith", "smithjohn", "acme"),
                               (3, None, None, None)]
            assert tuple(company) == ("深圳宏达家具", None)
            db.engine.dispose()
    finally:  # the session app's Celery again (create_app made the fresh one current), as test_migrations does
        session_celery = app.extensions["celery"]
        session_celery.set_current()
        session_celery.set_default()
