"""Benchmark: the edition report and the analytics dashboard at 250,000 registrations and 5 million leads
(issue 11: report ≤ 10 s, dashboard pages p95 ≤ 100 ms), on PostgreSQL, under gunicorn, with the bare reference
(bench/bare_postshow_app.py: the same snapshot read and the same grouped queries in a tiny Flask/psycopg app)
in the same run.

    .venv/bin/python bench/postshow.py [--reuse] [--seconds 10] [--workers 4] [--connections 16]

Data (generated once in the database ``expo_bench_postshow``, ``--reuse`` keeps it): one show with three
editions; the live one has ``--registrations`` (250,000) registrations, ``--exhibitors`` (2,500) exhibitors and
``--leads`` (5,000,000) leads, the two earlier ones a fifth of the leads and 60 % of the visitors each (half
of whom come back); 70 % of the visitors check in on one to four show days. Rows are written by
INSERT … SELECT generate_series (the columns' Python defaults filled in from the models), then ANALYZE.

Measured: the report page (GET /org/editions/N/report, wall, 3 times), computing the analytics figures
(aggregates.refresh, wall, 3 times), then wrk on the analytics page, its JSON and the bare app's snapshot read
(p50/p95/p99). Prints Markdown for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.scan_api import quiet_database, recreate_database, serve  # noqa: E402

DB_NAME = "expo_bench_postshow"
EMAIL, PASSWORD = "owner@bench.example.com", "bench-password-2026"


def _literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def insert_select(conn, table, count: int, values: dict[str, str], start: int = 1) -> None:
    """INSERT INTO table SELECT … FROM generate_series(start, start + count - 1) AS g(i): ``values`` are SQL
    expressions of ``i``; the other not-null columns get their model default."""
    from sqlalchemy import text

    cols, exprs = [], []
    for column in table.columns:
        if column.name in values:
            cols.append(column.name)
            exprs.append(values[column.name])
            continue
        if column.primary_key or column.nullable or column.server_default is not None:
            continue
        default = column.default
        if default is None:
            raise SystemExit(f"{table.name}.{column.name} needs a value")
        if default.is_callable:
            name = getattr(default.arg, "__name__", "")
            expr = {"dict": "'{}'", "list": "'[]'"}.get(name)
            if expr is None and "utcnow" in name or name == "<lambda>" and "DateTime" in repr(column.type):
                expr = "(now() at time zone 'utc')"
            if expr is None:
                raise SystemExit(f"{table.name}.{column.name}: default {name} needs a value")
        else:
            expr = _literal(default.arg)
        cols.append(column.name)
        exprs.append(expr)
    conn.execute(text(f"INSERT INTO {table.name} ({', '.join(cols)}) SELECT {', '.join(exprs)} "
                      f"FROM generate_series({start}, {start + count - 1}) AS g(i)"))


def generate(env: dict, registrations: int, exhibitors: int, leads: int) -> None:
    os.environ.update(env)
    from sqlalchemy import text

    from expo import create_app
    from expo.core import services as core
    from expo.core.scoping import Scope
    from expo.exhibitors.models import Company, Exhibitor
    from expo.extensions import db
    from expo.leads.models import Lead
    from expo.onsite.models import Scan
    from expo.visitors.models import Person, Registration

    from expo.cli import _upgrade_database

    app = create_app()
    with app.app_context():
        _upgrade_database()
        organizer = core.create_organizer("Bench Expo Group")
        scope = Scope(organizer.id)
        show = core.create_show(scope, "Bench Furniture Fair")
        editions = [core.create_edition(scope, show, f"Bench Fair {year}", date(year, 6, 10), date(year, 6, 13),
                                        venue="Hall", timezone="Asia/Shanghai", status=status)
                    for year, status in ((2024, "closed"), (2025, "closed"), (2026, "live"))]
        owner = core.create_user(organizer.id, EMAIL, "Bench owner", PASSWORD, "owner")
        db.session.commit()
        org, user = organizer.id, owner.id
        earlier_regs = registrations * 3 // 5
        persons = registrations + 2 * earlier_regs
        t0 = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(text("SET LOCAL synchronous_commit = off"))
            insert_select(conn, Person.__table__, persons, {
                "organizer_id": str(org), "name": "'Visitor ' || i", "email": "'v' || i || '@bench.example.com'",
                "email_key": "'v' || i || '@bench.example.com'", "name_key": "'visitor ' || i",
                "company": "'Company ' || (i % 20000)", "country": "(ARRAY['CN','CN','CN','DE','US','JP'])[1 + i % 6]"})
            first_person = conn.execute(text("SELECT min(id) FROM persons WHERE organizer_id = :o"), {"o": org}).scalar()
            categories = "(ARRAY['buyer','buyer','trade_visitor','public','media','vip','buyer','trade_visitor'])"
            sources = "(ARRAY['online','online','online','import','walk_up','exhibitor_invitation','campaign'])"
            # Person of registration i of edition k: the live edition takes persons 0 … R-1; each earlier one
            # 60 % of R, half of them shared with the live edition (returning) and half its own.
            plans = [(editions[2], registrations, "(i - 1)"),
                     (editions[1], earlier_regs, f"(CASE WHEN i % 2 = 0 THEN i - 1 ELSE {registrations} + i - 1 END)"),
                     (editions[0], earlier_regs,
                      f"(CASE WHEN i % 3 = 0 THEN i - 1 ELSE {registrations + earlier_regs} + i - 1 END)")]
            for edition, n, person in plans:
                insert_select(conn, Registration.__table__, n, {
                    "organizer_id": str(org), "edition_id": str(edition.id), "person_id": f"{first_person} + {person}",
                    "category": f"{categories}[1 + i % 8]", "source": f"{sources}[1 + (i / 7) % 7]",
                    "status": "(CASE WHEN i % 50 = 0 THEN 'cancelled' ELSE 'confirmed' END)",
                    "access_key": f"'e{edition.id}-' || md5(i::text)",
                    "created_at": f"(timestamp '{edition.starts_on}' - interval '90 days' + (i % 7776000) * interval '1 second')"})
            print(f"persons and registrations: {time.perf_counter() - t0:.0f}s", file=sys.stderr)
            insert_select(conn, Company.__table__, exhibitors, {
                "organizer_id": str(org), "name": "'Exhibitor Co ' || i", "name_key": "'exhibitor co ' || i"})
            first_company = conn.execute(text("SELECT min(id) FROM companies WHERE organizer_id = :o"),
                                         {"o": org}).scalar()
            lead_share = {editions[2].id: leads, editions[1].id: leads // 5, editions[0].id: leads // 5}
            for edition, n, _person in plans:
                insert_select(conn, Exhibitor.__table__, exhibitors, {
                    "organizer_id": str(org), "edition_id": str(edition.id), "company_id": f"{first_company} + i - 1",
                    "hall": "'H' || (1 + i % 8)", "stand": "'S' || i",
                    "status": "(CASE WHEN i % 25 = 0 THEN 'negotiating' ELSE 'exhibited' END)"})
                first = conn.execute(text("SELECT min(id) FROM exhibitors WHERE edition_id = :e"),
                                     {"e": edition.id}).scalar()
                first_reg = conn.execute(text("SELECT min(id) FROM registrations WHERE edition_id = :e"),
                                         {"e": edition.id}).scalar()
                per = max(1, lead_share[edition.id] // exhibitors)
                # lead i: exhibitor i / per (each exhibitor ``per`` leads), visitor (i * 7919) mod n (distinct
                # within an exhibitor's block as 7919 is prime to n's factors 2 and 5).
                insert_select(conn, Lead.__table__, per * exhibitors, {
                    "organizer_id": str(org), "exhibitor_id": f"{first} + (i - 1) / {per}",
                    "registration_id": f"{first_reg} + ((i::bigint * 7919) % {n})",
                    "rating": "(ARRAY['hot', 'warm', 'cold', NULL])[1 + i % 4]",
                    "first_scanned_at": f"(timestamp '{edition.starts_on}' + interval '1 hour' + (i % 345600) * interval '1 second')",
                    "last_scanned_at": f"(timestamp '{edition.starts_on}' + interval '1 hour' + (i % 345600) * interval '1 second')"},
                    start=0)
                # Check-ins: 70 % of the visitors, on the show days d where (i + d) % 3 <> 0 (one to four days),
                # arriving between 09:00 and 16:59 Shanghai time (01:00–08:59 UTC).
                for day in range(4):
                    insert_select(conn, Scan.__table__, n, {
                        "organizer_id": str(org), "edition_id": str(edition.id), "user_id": str(user),
                        "registration_id": f"{first_reg} + i - 1", "kind": "'checkin'", "result": "'ok'",
                        "client_scan_id": f"'b{edition.id}-{day}-' || i", "raw_code": "'bench'", "gate": "'North'",
                        "scanned_at": f"(timestamp '{edition.starts_on}' + interval '{day} days' + interval '1 hour' "
                                      f"+ ((i * 37) % 28800) * interval '1 second')",
                        "received_at": f"(timestamp '{edition.starts_on}' + interval '{day} days' + interval '1 hour')",
                        "admitted_on": f"(date '{edition.starts_on}' + {day})"})
                conn.execute(text("DELETE FROM scans WHERE edition_id = :e AND raw_code = 'bench' AND "
                                  "((registration_id % 10) >= 7 OR (registration_id + admitted_on - date '2000-01-01') % 3 = 0)"),
                             {"e": edition.id})
                print(f"{edition.name}: exhibitors, leads, check-ins: {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
        print(f"data generated in {time.perf_counter() - t0:.0f}s", file=sys.stderr)


def signed_in(port: int) -> tuple[urllib.request.OpenerDirector, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(f"http://127.0.0.1:{port}/login").read().decode()
    token = re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)
    opener.open(f"http://127.0.0.1:{port}/login",
                urllib.parse.urlencode({"email": EMAIL, "password": PASSWORD, "csrf_token": token}).encode())
    return opener, "; ".join(f"{c.name}={c.value}" for c in jar)


WRK_SCRIPT = """
wrk.headers["Cookie"] = "%(cookie)s"
function done(summary, latency, requests)
  io.write(string.format('WRK-RESULT {"requests": %%d, "duration_us": %%d, "non2xx": %%d, "errors": %%d, '
    .. '"p50_us": %%d, "p95_us": %%d, "p99_us": %%d}\\n', summary.requests, summary.duration,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def wrk(url: str, cookie: str, seconds: int, connections: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"cookie": cookie})
    try:
        out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "30s",
                              "-s", script.name, url], check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("WRK-RESULT "))
    r = json.loads(line.split(" ", 1)[1])
    return {"rps": r["requests"] / (r["duration_us"] / 1e6), "requests": r["requests"], "non2xx": r["non2xx"],
            "errors": r["errors"], **{k: r[f"{k}_us"] / 1000 for k in ("p50", "p95", "p99")},
            "load": os.getloadavg()[0]}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--registrations", type=int, default=250_000)
    parser.add_argument("--exhibitors", type=int, default=2_500)
    parser.add_argument("--leads", type=int, default=5_000_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--reuse", action="store_true", help=f"keep the data of the last run ({DB_NAME})")
    args = parser.parse_args()

    admin = os.environ.get("EXPO_BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    quiet_database()
    url = admin.rsplit("/", 1)[0] + "/" + DB_NAME if args.reuse else recreate_database(admin, DB_NAME)
    env = {**os.environ, "EXPO_DATABASE_URL": url, "EXPO_INSTANCE_DIR": "/tmp/expo-bench-postshow",
           "EXPO_SECRET_KEY": "bench", "EXPO_CELERY_EAGER": "1", "PYTHONPATH": str(ROOT)}
    if not args.reuse:
        generate(env, args.registrations, args.exhibitors, args.leads)
    os.environ.update(env)
    from sqlalchemy import func, select

    from expo import create_app
    from expo.core.models import Edition
    from expo.core.scoping import Scope
    from expo.extensions import db
    from expo.leads.models import Lead
    from expo.postshow import aggregates
    from expo.visitors.models import Registration

    app = create_app()
    with app.app_context():
        live = db.session.scalar(select(Edition).where(Edition.status == "live", Edition.name == "Bench Fair 2026"))
        edition_id, scope = live.id, Scope(live.organizer_id)
        counts = (db.session.scalar(select(func.count()).select_from(Registration).where(
            Registration.edition_id == edition_id)), db.session.scalar(select(func.count()).select_from(Lead)))
        computes = []
        for _ in range(3):
            t = time.perf_counter()
            aggregates.refresh(scope, db.session.get(Edition, edition_id))
            db.session.commit()
            computes.append(time.perf_counter() - t)
    print(f"analytics computed in {', '.join(f'{s:.2f}' for s in computes)} s", file=sys.stderr)

    servers = []
    try:
        expo, expo_port = serve("expo:create_app()", env, args.workers)
        servers.append(expo)
        bare, bare_port = serve("bench.bare_postshow_app:app", env, args.workers)
        servers.append(bare)
        time.sleep(2)
        opener, cookie = signed_in(expo_port)
        reports = []
        for _ in range(3):
            t = time.perf_counter()
            status = opener.open(f"http://127.0.0.1:{expo_port}/org/editions/{edition_id}/report").status
            reports.append((time.perf_counter() - t, status))
        print(f"report: {reports}", file=sys.stderr)
        bare_aggregates = []
        for _ in range(3):
            t = time.perf_counter()
            urllib.request.urlopen(f"http://127.0.0.1:{bare_port}/aggregates/{edition_id}").read()
            bare_aggregates.append(time.perf_counter() - t)
        targets = [("Expo CRM analytics page", f"http://127.0.0.1:{expo_port}/org/editions/{edition_id}/analytics"),
                   ("Expo CRM analytics JSON", f"http://127.0.0.1:{expo_port}/org/editions/{edition_id}/analytics.json"),
                   ("Expo CRM edition page (dashboard panel)", f"http://127.0.0.1:{expo_port}/org/editions/{edition_id}"),
                   ("Expo CRM edition dashboard JSON",
                    f"http://127.0.0.1:{expo_port}/org/editions/{edition_id}/dashboard.json"),
                   ("bare snapshot read (JSON)", f"http://127.0.0.1:{bare_port}/snapshot/{edition_id}")]
        for _name, target in targets:  # warm-up
            wrk(target, cookie, 2, args.connections)
        rows = [(name, wrk(target, cookie, args.seconds, args.connections)) for name, target in targets]
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(timeout=30)
    print(f"\n{counts[0]:,} registrations in the live edition, {counts[1]:,} leads in all (three editions); "
          f"gunicorn {args.workers} sync workers, wrk 2 threads × {args.connections} connections, {args.seconds} s\n")
    print("| what | wall (3 runs) |")
    print("| --- | --- |")
    print(f"| report page GET /org/editions/N/report | {', '.join(f'{s:.2f} s' for s, _st in reports)} |")
    print(f"| analytics figures computed (snapshot refresh) | {', '.join(f'{s:.2f} s' for s in computes)} |")
    print(f"| bare app: the same grouped queries (psycopg) | {', '.join(f'{s:.2f} s' for s in bare_aggregates)} |")
    print("\n| endpoint | requests/s | p50 ms | p95 ms | p99 ms | non-2xx | load |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, r in rows:
        print(f"| {name} | {r['rps']:,.0f} | {r['p50']:.1f} | {r['p95']:.1f} | {r['p99']:.1f} | {r['non2xx']} | "
              f"{r['load']:.1f} |")
    print(f"\n(uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()})")


if __name__ == "__main__":
    main()
