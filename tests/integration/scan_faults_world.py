"""The world of the scan fault test (test_scan_faults.py), built in a process of its own.

    python tests/integration/scan_faults_world.py DATABASE_URL INSTANCE_DIR OUT.json

Migrates the (empty) database, then builds through the app's services and commits: one organizer with a
live edition, visitors with badges, exhibitors with two booth staff each, on-site staff, and an API token
for every scanning user. Writes what the clients need (tokens, badge codes, ids) to OUT.json.

A process of its own so that the test's app (and the caches of the suite's session app) never meet this
database.
"""
from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

VISITORS = 40
EXHIBITORS = 3
BOOTH_STAFF_EACH = 2
ONSITE_STAFF = 2
TIMEZONE = "Asia/Shanghai"


def build(url: str, instance: str) -> dict:
    from flask_migrate import upgrade

    from expo import create_app
    from expo.core import services as core
    from expo.core.scoping import Scope
    from expo.exhibitors import services as exhibitors
    from expo.extensions import db
    from expo.visitors import services as visitors

    core.PASSWORD_METHOD = "pbkdf2:sha256:1000"  # hashing strength is not what this test is about
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_DIR": Path(instance), "SECRET_KEY": "faults",
                      "SMTP_URL": None, "PUBLIC_URL": "http://expo.example.com"})
    app.extensions["celery"].conf.update(task_always_eager=True, task_eager_propagates=True)
    with app.app_context():
        upgrade()
        organizer = core.create_organizer("Fault Test Organizer")
        scope = Scope(organizer.id)
        show = core.create_show(scope, "Fault Test Show")
        starts_on = date.today() - timedelta(days=1)
        edition = core.create_edition(scope, show, "Fault Test Show Edition", starts_on, starts_on + timedelta(days=3),
                                      venue="Hall", timezone=TIMEZONE, status="live")
        registrations = []
        for n in range(VISITORS):
            data = visitors.RegistrationData(name=f"Visitor {n}", email=f"visitor{n}@faults.example.com",
                                             category="buyer", company=f"Buyer Co {n}", job_title="Buyer",
                                             consent=True, share_with_exhibitors=True)
            registrations.append(visitors.register(edition, data, send_confirmation=False))
        users = []
        for e in range(EXHIBITORS):
            exhibitor = exhibitors.add_exhibitor(scope, edition, f"Exhibitor {e}", hall="1", stand=f"A{e}")
            for s in range(BOOTH_STAFF_EACH):
                user = core.create_user(organizer.id, f"booth{e}.{s}@faults.example.com", f"Booth {e}.{s}",
                                        "correct-horse-9", "booth_staff", exhibitor_id=exhibitor.id)
                users.append({"id": user.id, "kind": "lead", "exhibitor_id": exhibitor.id,
                              "token": core.create_api_token(user, "fault test")[1]})
        for s in range(ONSITE_STAFF):
            user = core.create_user(organizer.id, f"onsite{s}@faults.example.com", f"On-site {s}",
                                    "correct-horse-9", "onsite")
            users.append({"id": user.id, "kind": "checkin", "exhibitor_id": None,
                          "token": core.create_api_token(user, "fault test")[1]})
        db.session.flush()
        world = {"edition_id": edition.id, "timezone": TIMEZONE, "starts_on": starts_on.isoformat(),
                 "users": users,
                 "registrations": [{"id": r.id, "status": r.status, "code": visitors.badge_code(r)}
                                   for r in registrations]}
        db.session.commit()
        assert all(r["status"] == "confirmed" for r in world["registrations"]), world["registrations"][:3]
        db.engine.dispose()
    return world


if __name__ == "__main__":
    database_url, instance_dir, out = sys.argv[1:4]
    Path(out).write_text(json.dumps(build(database_url, instance_dir)))
