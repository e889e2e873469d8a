"""Benchmark: registration submits — POST of the public registration form (/e/<slug>) under gunicorn on
PostgreSQL, each a new visitor (person, registration, audit, timeline, confirmation mail with the badge queued
on Redis), compared in the same run with a bare Flask endpoint doing the same inserts
(bench/bare_registration_app.py).

    .venv/bin/python bench/registrations.py [--seconds 10] [--workers 2] [--connections 16] [--wrk-threads 1]

Fair terms for the form (both endpoints get the same requests):
- CSRF is switched off for the bench app (WTF_CSRF_ENABLED=False): with it, every POST needs a GET of the
  form first for the session cookie and token, which would measure two requests per submit. The check
  itself is one HMAC compare.
- The per-address rate limit of the public forms (10/minute) is raised: every request comes from 127.0.0.1.
  The limiter still runs and counts every submit (its headers are on every answer); production keeps both.
- The body is what a browser sends: every input of the page, the ten empty colleague rows included.
- The mail goes where production sends it: Celery's Redis broker (EXPO_BROKER_URL, a Redis database of its
  own, empty before, its keys removed after); no worker runs, so the queue holds one confirmation task per
  submit.
  The bare endpoint pushes an equivalent message to the same Redis.

Needs PostgreSQL (EXPO_BENCH_ADMIN_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres, is used
to (re)create the database `expo_bench_registrations`) and Redis (EXPO_BENCH_REDIS_URL, default
redis://127.0.0.1:6379/12, which must be empty) and `wrk` (the load driver: a Lua script builds each POST with
a unique address, so the CPU goes to the server, not to a Python client). Both endpoints get the same wrk run
(duration, connections). Besides the rate and latencies it reports the gunicorn workers' CPU per submit under
that load (from /proc) and, in-process, the CPU of one submit through the test client. Prints a Markdown table
for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.scan_api import free_port, recreate_database  # noqa: E402

BENCH_CONFIG = {"WTF_CSRF_ENABLED": False, "PUBLIC_FORM_RATE_LIMIT": "1000000/second"}


def expo_app():
    """The app as gunicorn serves it for the bench (``bench.registrations:expo_app()``)."""
    from expo import create_app

    return create_app(BENCH_CONFIG)


def prepare(env: dict, visitors: int) -> str:
    """Synthetic data (returning visitors to look up among), the live edition's slug."""
    subprocess.run([str(BIN / "expo"), "bench-data", "--visitors", str(visitors), "--exhibitors", "30",
                    "--editions", "2"], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    from sqlalchemy import create_engine, text

    engine = create_engine(env["EXPO_DATABASE_URL"])
    with engine.connect() as conn:
        slug = conn.execute(text("SELECT slug FROM editions WHERE status IN ('live', 'registration_open') "
                                 "ORDER BY starts_on DESC LIMIT 1")).scalar_one()
    engine.dispose()
    return slug


def form(n: int, tag: str) -> bytes:
    """A complete submit as a browser sends it: contact details, consent, an interest, the answers to the
    synthetic edition's qualification questions (expo.visitors.demo: two required, one conditional), and the
    empty inputs of the page (invitation code, the ten colleague rows of a group registration)."""
    return urlencode([("name", f"王小明{n}"), ("email", f"{tag}.visitor{n}@example.cn"), ("phone", f"139{n:08d}"),
                      ("company", "深圳宏达家具有限公司"), ("job_title", "采购经理"), ("country", "CN"),
                      ("category", "buyer"), ("interests", "1"), ("consent", "y"), ("share_with_exhibitors", "y"),
                      ("website", ""), ("q_purchase_authority", "decides"), ("q_company_type", "distributor"),
                      ("q_products", "office_chairs"), ("q_products", "sofas"), ("q_annual_budget", "50000"),
                      ("q_main_market", "CN"), ("invitation_code", ""),
                      # a browser sends every input of the page: the ten (empty) colleague rows of the group part too
                      *((f"colleagues-{i}-{f}", "") for i in range(10) for f in ("name", "email", "job_title"))]
                     ).encode()


# The load driver: wrk (C, event loop) with a Lua script that builds each POST body with a unique address
# (thread number × counter), so the 2 cores go to the server rather than to a Python client. The script is
# generated: the body's constant parts are URL-encoded here (Chinese name and company) and spliced around the
# counter in Lua. ``response()`` counts the submits that end on "check your inbox" (302 to /mail-sent).
WRK_SCRIPT = """
local p0, p1, p2, p3 = %(parts)s
local path = %(path)s
local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
local threads, next_tid = {}, %(first)d
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end
function init(args)
  n, registered, other = 0, 0, 0
end
function request()
  n = n + 1
  local id = tid * 1000000 + n
  return wrk.format("POST", path, headers, p0 .. id .. p1 .. id .. p2 .. id .. p3)
end
function response(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  if status == 302 and string.find(location, "/mail-sent", 1, true) then
    registered = registered + 1
  else
    other = other + 1
  end
end
function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, t in ipairs(threads) do
    ok = ok + t:get("registered")
    bad = bad + t:get("other")
  end
  io.write(string.format('WRK-RESULT {"requests": %%d, "duration_us": %%d, "registered": %%d, "other": %%d, ' ..
    '"errors": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, ok, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def _lua(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_script(slug: str, tag: str, first_thread: int) -> str:
    """The Lua script for one run: the same body as ``form()``, with ``<thread>*10**6+<counter>`` as n (in the
    name, the address and the phone number)."""
    marker = "987654321"
    parts = form(int(marker), tag).decode().split(marker)
    assert len(parts) == 4, parts
    return WRK_SCRIPT % {"parts": ", ".join(_lua(x) for x in parts), "path": _lua(f"/e/{slug}"),
                         "first": first_thread}


def load(port: int, slug: str, tag: str, seconds: float, connections: int, threads: int, first_thread: int) -> dict:
    """wrk for ``seconds`` with ``connections`` keep-alive connections over ``threads`` wrk threads."""
    import json
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(wrk_script(slug, tag, first_thread))
    try:
        out = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                              "--timeout", "30s", "-s", script.name, f"http://127.0.0.1:{port}/"],
                             check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(script.name)
    line = next((x for x in out.splitlines() if x.startswith("WRK-RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result:\n{out}")
    r = json.loads(line.split(" ", 1)[1])
    wall = r["duration_us"] / 1e6
    results = {"registered": r["registered"]}
    if r["other"]:
        results["other"] = r["other"]
    if r["errors"]:
        results["socket errors"] = r["errors"]
    return {"requests": r["requests"], "seconds": wall, "per_second": r["registered"] / wall,
            "p50_ms": r["p50_us"] / 1000, "p95_ms": r["p95_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "results": results}


def cpu_per_submit(flask_app, slug: str, tag: str, count: int = 300) -> float:
    """Milliseconds of this process's CPU per submit through the test client (no HTTP server, no client
    processes): what one submit costs the web process, however busy the machine is."""
    client = flask_app.test_client()
    for n in range(20):
        client.post(f"/e/{slug}", data=form(2_000_000 + n, tag + "-cpuwarm"),
                    content_type="application/x-www-form-urlencoded")
    start = time.process_time()
    for n in range(count):
        response = client.post(f"/e/{slug}", data=form(3_000_000 + n, tag + "-cpu"),
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == 302, response.status_code
    return (time.process_time() - start) / count * 1000


def workers_cpu(master_pid: int) -> float:
    """Seconds of CPU (user + system) used so far by the gunicorn master's worker processes (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for child in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split():
        try:
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def ready(port: int, path: str, timeout: float = 120) -> None:
    """Wait for a first answer from a worker (the port opens before the workers have imported the app)."""
    import http.client

    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            conn.request("HEAD", path)
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def serve(app_spec: str, env: dict, workers: int) -> tuple[subprocess.Popen, int]:
    import socket

    port = free_port()
    proc = subprocess.Popen([str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                             "--log-level", "warning", app_spec], env=env, cwd=ROOT)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{app_spec} did not start")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10, help="length of each endpoint's wrk run")
    parser.add_argument("--visitors", type=int, default=5000, help="registrations already in the database")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16, help="wrk keep-alive connections")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (one is plenty for ~1000/s)")
    parser.add_argument("--only", choices=("bare", "expo"), help="measure one endpoint only (profiling)")
    args = parser.parse_args()

    import redis

    admin = os.environ.get("EXPO_BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    url = recreate_database(admin, "expo_bench_registrations")
    broker = os.environ.get("EXPO_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
    queue = redis.Redis.from_url(broker)
    if queue.dbsize():
        raise SystemExit(f"{broker} is not empty: another program uses it. Set EXPO_BENCH_REDIS_URL to an empty "
                         f"Redis database (no worker may consume from it during the run).")
    instance = Path("/tmp/expo-bench-registrations")
    env = {**os.environ, "EXPO_DATABASE_URL": url, "EXPO_INSTANCE_DIR": str(instance), "EXPO_SECRET_KEY": "bench",
           "EXPO_BROKER_URL": broker, "EXPO_PUBLIC_URL": "http://expo.example.com", "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    slug = prepare(env, args.visitors)
    print(f"data ready in {time.perf_counter() - t0:.1f}s (edition {slug})", file=sys.stderr)

    rows = {}
    endpoints = (("bare Flask endpoint", "bench.bare_registration_app:app", "bare"),
                 ("Expo CRM public form POST /e/<slug>", "bench.registrations:expo_app()", "expo"))
    for name, spec, tag in endpoints:
        if args.only and args.only != tag:
            continue
        proc, port = serve(spec, env, args.workers)
        try:
            ready(port, f"/e/{slug}")
            # warm-up: every worker booted (they import the app after the port opens), connections, caches
            load(port, slug, tag + "-warm", max(3, args.workers), 2 * args.workers, 1, 900)
            cpu_before = workers_cpu(proc.pid)
            rows[name] = load(port, slug, tag, args.seconds, args.connections, args.wrk_threads, 1)
            rows[name]["server_cpu_ms"] = (workers_cpu(proc.pid) - cpu_before) / max(rows[name]["requests"], 1) * 1000
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    os.environ.update(env)
    from bench import bare_registration_app

    cpu = {"bare Flask endpoint": cpu_per_submit(bare_registration_app.app, slug, "bare"),
           "Expo CRM public form POST /e/<slug>": cpu_per_submit(expo_app(), slug, "expo")}
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        stored = {tag: conn.execute(text(
            "SELECT count(*) FROM registrations r JOIN persons p ON p.id = r.person_id WHERE p.email LIKE :pattern"),
            {"pattern": f"{tag}.visitor%@example.cn"}).scalar() for tag in ("bare", "expo")}
    engine.dispose()
    celery_queued = queue.llen("celery")
    bare_queued = queue.llen("bench-bare-mail")
    queue.delete("celery", "bench-bare-mail", *queue.keys("_kombu.*"))
    bare = rows.get("bare Flask endpoint", {}).get("per_second")
    print(f"\n{args.visitors} registrations before; new visitors for {args.seconds:g} s per endpoint (after a warm-up), "
          f"gunicorn {args.workers} sync workers, wrk {args.wrk_threads} thread(s) × {args.connections} connections; "
          f"stored: {stored}; mails queued: expo {celery_queued}, bare {bare_queued}\n")
    print("| endpoint | registrations/s | p50 ms | p95 ms | p99 ms | share of bare | worker CPU ms per submit "
          "| CPU ms per submit (in-process) | results |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, r in rows.items():
        share = f"{r['per_second'] / bare:.0%}" if bare else "—"
        print(f"| {name} | {r['per_second']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
              f"{share} | {r['server_cpu_ms']:.1f} | {cpu[name]:.1f} | {r['results']} |")
    print(f"\n(load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    recreate_database(admin, "expo_bench_registrations")  # leave nothing behind but an empty database
    drop = os.environ.get("EXPO_BENCH_KEEP") != "1"
    if drop:
        from sqlalchemy import create_engine as _ce

        admin_engine = _ce(admin, isolation_level="AUTOCOMMIT")
        with admin_engine.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS expo_bench_registrations WITH (FORCE)"))
        admin_engine.dispose()


if __name__ == "__main__":
    main()
