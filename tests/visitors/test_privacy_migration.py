"""Migration 0007 on a database with data: existing editions get their consent text as a version, existing
registrations point at the version they agreed to, and sharing, where given, dates from the consent."""
from __future__ import annotations

from sqlalchemy import text

from expo import create_app
from expo.extensions import db

ROWS = [
    "INSERT INTO organizers (id, name, slug, created_at) VALUES (1, 'Org', 'org', '2025-01-01 00:00:00')",
    "INSERT INTO shows (id, organizer_id, name, slug, created_at) VALUES (1, 1, 'Fair', 'fair', '2025-01-01 00:00:00')",
    *[f"INSERT INTO editions (id, organizer_id, show_id, name, slug, starts_on, ends_on, venue, description, timezone,"
      f" status, consent_text, consent_version, signing_key, verify_key, created_at) VALUES ({n}, 1, 1, 'Fair {n}',"
      f" 'fair-{n}', '2025-05-0{n}', '2025-05-0{n}', '', '', 'UTC', 'closed', 'Consent text {n}', '{version}',"
      f" X'{'00' * 32}', X'{'00' * 32}', '2025-01-0{n} 00:00:00')" for n, version in ((1, "1"), (2, "2"))],
    *[f"INSERT INTO persons (id, organizer_id, name, email, email_key, phone, company, job_title, country,"
      f" created_at, updated_at) VALUES ({n}, 1, 'P{n}', 'p{n}@example.com', 'p{n}@example.com', '', '', '', '',"
      f" '2025-02-01 00:00:00', '2025-02-01 00:00:00')" for n in (1, 2, 3)],
    *[f"INSERT INTO registrations (id, organizer_id, edition_id, person_id, category, status, source, answers,"
      f" consent_version, consent_at, share_with_exhibitors, badge_serial, access_key, locale, name_as_given,"
      f" company_as_given, job_title_as_given, phone_as_given, created_at) VALUES ({rid}, 1, {edition}, {person},"
      f" 'buyer', 'confirmed', 'online', '{{}}', '{version}', '2025-03-0{rid} 08:00:00', {share}, 1, 'key{rid}',"
      f" 'en', '', '', '', '', '2025-03-0{rid} 08:00:00')"
      for rid, edition, person, version, share in ((1, 1, 1, "1", 1), (2, 1, 2, "1", 0), (3, 2, 3, "1", 1),
                                                   (4, 2, 1, "2", 0))],
]


def test_existing_editions_get_a_version_and_registrations_point_at_it(app, tmp_path):
    from flask_migrate import upgrade

    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.sqlite'}",
                        "INSTANCE_DIR": tmp_path / "instance", "SECRET_KEY": "test-secret", "SMTP_URL": None})
    try:
        with fresh.app_context():
            upgrade(revision="0006")
            with db.engine.begin() as conn:
                for row in ROWS:
                    conn.execute(text(row))
            upgrade()
            with db.engine.connect() as conn:
                versions = conn.execute(text("SELECT edition_id, version, text, sharing_text <> '' FROM consent_versions"
                                             " ORDER BY edition_id, version")).all()
                registrations = conn.execute(text(
                    "SELECT r.id, v.edition_id, v.version, r.sharing_at, r.sharing_version_id = v.id"
                    " FROM registrations r JOIN consent_versions v ON v.id = r.consent_version_id ORDER BY r.id")).all()
                sharing_texts = conn.execute(text("SELECT sharing_text <> '' FROM editions")).scalars().all()
            db.engine.dispose()
    finally:
        app.extensions["celery"].set_current()
        app.extensions["celery"].set_default()

    # edition 1: its text is version 1; edition 2 is at version 2, and one registration agreed to its version 1,
    # whose text was never kept: a row says so rather than pretending it was the current text
    assert [(e, v, t[:14], s) for e, v, t, s in versions] == [
        (1, 1, "Consent text 1", 1), (2, 1, "(The text of t", 1), (2, 2, "Consent text 2", 1)]
    assert [(rid, e, v) for rid, e, v, _at, _same in registrations] == [(1, 1, 1), (2, 1, 1), (3, 2, 1), (4, 2, 2)]
    assert [(rid, at is not None, same) for rid, _e, _v, at, same in registrations] == [
        (1, True, 1), (2, False, None), (3, True, 1), (4, False, None)]
    assert sharing_texts == [1, 1]
