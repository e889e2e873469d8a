"""The yardstick of bench/postshow.py: a bare Flask app over the same schema doing only the essential work of the
analytics dashboard — read one edition's pre-aggregated figures (one primary-key row) — and, for the compute
side, the same grouped queries in raw SQL (registrations by category and source, attended, returning, check-ins by
day and hour, leads per exhibitor)."""
import json
import os

from flask import Flask, Response
from sqlalchemy import create_engine, text

engine = create_engine(os.environ["EXPO_DATABASE_URL"], pool_size=4)
app = Flask(__name__)

QUERIES = [
    "SELECT category, source, count(*) FROM registrations WHERE edition_id = :e AND status <> 'cancelled' "
    "GROUP BY category, source",
    "SELECT r.category, count(*) FROM registrations r WHERE r.edition_id = :e AND r.status <> 'cancelled' AND r.id IN "
    "(SELECT registration_id FROM scans WHERE edition_id = :e AND kind = 'checkin' AND result IN ('ok', 'duplicate')) "
    "GROUP BY r.category",
    "SELECT count(*) FROM registrations r JOIN editions te ON te.id = r.edition_id WHERE r.edition_id = :e AND "
    "r.status <> 'cancelled' AND EXISTS (SELECT 1 FROM registrations x JOIN editions xe ON xe.id = x.edition_id "
    "WHERE x.person_id = r.person_id AND x.status <> 'cancelled' AND xe.show_id = te.show_id "
    "AND xe.starts_on < te.starts_on)",
    "SELECT admitted_on, count(*) FROM scans WHERE edition_id = :e AND admitted_on IS NOT NULL GROUP BY admitted_on",
    "SELECT to_char(scanned_at, 'YYYY-MM-DD HH24'), count(*) FROM scans WHERE edition_id = :e "
    "AND admitted_on IS NOT NULL GROUP BY 1",
    "SELECT exhibitor_id, count(*), sum(CASE WHEN rating = 'hot' THEN 1 ELSE 0 END) FROM leads WHERE exhibitor_id IN "
    "(SELECT id FROM exhibitors WHERE edition_id = :e) GROUP BY exhibitor_id",
]


@app.get("/snapshot/<int:edition_id>")
def snapshot(edition_id):
    with engine.connect() as conn:
        data = conn.execute(text("SELECT data FROM analytics_snapshots WHERE edition_id = :e"),
                            {"e": edition_id}).scalar()
    return Response(json.dumps(data), mimetype="application/json")


@app.get("/aggregates/<int:edition_id>")
def aggregates(edition_id):
    with engine.connect() as conn:
        rows = [len(conn.execute(text(q), {"e": edition_id}).all()) for q in QUERIES]
    return {"rows": rows}
