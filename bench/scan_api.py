"""Benchmark: badge scans through POST /api/v1/scans (one scan a request) and POST /api/v1/scans/batch
(100 scans a request) under gunicorn on PostgreSQL, compared in the same run with a bare Flask endpoint doing
the same essential work (bench/bare_scan_app.py, both calls).

    .venv/bin/python bench/scan_api.py [--seconds 10] [--workers 4] [--connections 32] [--before DIR]

The load driver is wrk (Debian's package, scripts/install-bench-tools): a generated Lua script picks a random
booth staff token and a random badge of the live edition for every request (the same seeded sequence for every
endpoint) and numbers the client_scan_id per wrk thread, so the 2 cores go to the server, not to a Python
client. ``response()`` counts the answers: a scan is counted when it is stored with result ok/duplicate; refusals,
errors and other statuses are reported beside the rate. Latency percentiles are wrk's.

``--before DIR``: an older checkout of the app (e.g. ``git archive <commit> | tar -x -C DIR``) measured in the
same run, against the same database.

Needs PostgreSQL (EXPO_BENCH_ADMIN_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres, is used
to (re)create the database `expo_bench`). Prints a Markdown table for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BATCH_SIZE = 100


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def recreate_database(admin_url: str, name: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


RESTART_LOCK = Path("/tmp/pg-restart.lock")  # tests/integration/test_scan_faults.py restarts PostgreSQL under it


def quiet_database() -> None:
    """Wait while the fault test restarts the shared PostgreSQL server (its lock file exists)."""
    while RESTART_LOCK.exists():
        print("waiting: PostgreSQL is being restarted (/tmp/pg-restart.lock)", file=sys.stderr)
        time.sleep(5)


def prepare(env: dict, visitors: int, exhibitors: int, generate: bool = True) -> tuple[list[str], list[str]]:
    """Synthetic data, then the tokens of the live edition's booth staff and the badge codes of its visitors."""
    # The generator writes everything in one transaction, so PostgreSQL has no statistics on the new rows while
    # it runs; the campaign part's segment query (EXISTS over 20,000 registrations) then gets a nested loop that
    # runs for many minutes. Nested loops are off for the generator's session only, not for the measurement.
    if generate:
        subprocess.run([str(BIN / "expo"), "bench-data", "--visitors", str(visitors), "--exhibitors", str(exhibitors),
                        "--editions", "3"], env={**env, "PGOPTIONS": "-c enable_nestloop=off"}, check=True,
                       cwd=ROOT, stdout=subprocess.DEVNULL)
    os.environ.update(env)
    from sqlalchemy import select

    from expo import create_app
    from expo.core import services as core
    from expo.core.models import Edition, User
    from expo.exhibitors.models import WITHDRAWN_STATUSES, Exhibitor
    from expo.extensions import db
    from expo.visitors.models import Registration
    from expo.visitors.services import badge_code

    app = create_app()
    with app.app_context():
        live = db.session.scalar(select(Edition).where(Edition.status == "live"))
        staff = list(db.session.scalars(select(User).join(Exhibitor, Exhibitor.id == User.exhibitor_id).where(
            User.role == "booth_staff", Exhibitor.edition_id == live.id, Exhibitor.status.not_in(WITHDRAWN_STATUSES))))
        tokens = [core.create_api_token(user, "bench")[1] for user in staff]
        db.session.commit()
        regs = list(db.session.scalars(select(Registration).where(Registration.edition_id == live.id,
                                                                  Registration.status == "confirmed")))
        codes = [badge_code(r) for r in regs]
    random.Random(7).shuffle(codes)
    return tokens, codes


# The load driver. ``request()`` builds a body from a random token and random badge(s), the seeded sequence the
# same for every endpoint; client_scan_id = <tag>-<thread>-<counter> is unique over the run. ``response()``
# counts stored scans (ok/duplicate) and everything else, per thread; ``done()`` prints one JSON line.
WRK_SCRIPT = """
local tokens = {%(tokens)s}
local codes = {%(codes)s}
local tag, batch = %(tag)s, %(batch)d
local path = batch > 0 and "/api/v1/scans/batch" or "/api/v1/scans"
local threads, next_tid = {}, 1
function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end
function init(args)
  n, stored, refused, failed, other = 0, 0, 0, 0, 0
  math.randomseed(1000 + tid)
end
local function item()
  n = n + 1
  return '{"code":"' .. codes[math.random(#codes)] .. '","kind":"lead","client_scan_id":"' ..
         tag .. '-' .. tid .. '-' .. n .. '"}'
end
function request()
  local headers = {["Content-Type"] = "application/json",
                   ["Authorization"] = "Bearer " .. tokens[math.random(#tokens)]}
  local body
  if batch > 0 then
    local items = {}
    for i = 1, batch do items[i] = item() end
    body = "[" .. table.concat(items, ",") .. "]"
  else
    body = item()
  end
  return wrk.format("POST", path, headers, body)
end
local function count(body, pattern)
  local _, k = string.gsub(body, pattern, "")
  return k
end
function response(status, headers, body)
  if status ~= 200 then
    other = other + 1
    return
  end
  stored = stored + count(body, '"result": ?"ok"') + count(body, '"result": ?"duplicate"')
  refused = refused + count(body, '"result": ?"refused"')
  failed = failed + count(body, '"result": ?"error"')
end
function done(summary, latency, requests)
  local s, r, f, o = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    s = s + t:get("stored")
    r = r + t:get("refused")
    f = f + t:get("failed")
    o = o + t:get("other")
  end
  io.write(string.format('WRK-RESULT {"requests": %%d, "duration_us": %%d, "stored": %%d, "refused": %%d, ' ..
    '"failed": %%d, "other": %%d, "errors": %%d, "p50_us": %%d, "p95_us": %%d, "p99_us": %%d, "max_us": %%d}\\n',
    summary.requests, summary.duration, s, r, f, o,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def _lua_list(values: list[str]) -> str:
    return ",".join(f'"{v}"' for v in values)  # tokens (urlsafe base64) and base32 codes need no escaping


def wrk_script(tokens: list[str], codes: list[str], tag: str, batch: int) -> str:
    return WRK_SCRIPT % {"tokens": _lua_list(tokens), "codes": _lua_list(codes), "tag": f'"{tag}"', "batch": batch}


def load(port: int, tokens, codes, tag: str, batch: int, seconds: float, connections: int, threads: int) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(wrk_script(tokens, codes, tag, batch))
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
    results = {"stored": r["stored"]}
    for key in ("refused", "failed", "other", "errors"):
        if r[key]:
            results[key] = r[key]
    return {"requests": r["requests"], "seconds": wall, "per_second": r["stored"] / wall,
            "requests_per_second": r["requests"] / wall, "p50_ms": r["p50_us"] / 1000, "p95_ms": r["p95_us"] / 1000,
            "p99_ms": r["p99_us"] / 1000, "results": results}


def settle(server, app, env: dict, workers: int):
    """After a wrk run the server may still work through requests wrk gave up on (the old batch call takes
    longer than a run): they would take the CPU and hold row locks during the next endpoint's run. Wait a
    moment for the workers to go idle, else restart the server (ending those requests)."""
    from bench.registrations import ready, workers_cpu

    name, tag, proc, port = server
    for _ in range(10):
        before = workers_cpu(proc.pid)
        time.sleep(0.5)
        if workers_cpu(proc.pid) - before < 0.02:
            return server
    proc.terminate()
    proc.wait(timeout=30)
    _name, spec, cwd, _tag = app
    proc, port = serve(spec, {**env, "PYTHONPATH": str(cwd)}, workers, cwd)
    ready(port, "/api/v1/scans")
    print(f"{name}: restarted after its run (still busy with abandoned requests)", file=sys.stderr)
    return name, tag, proc, port


def _combined(parts: list[dict]) -> dict:
    """One endpoint's rounds as one row: counts and time added up; the percentiles of the worse round (wrk
    gives percentiles per run, not the data to merge them); the mean load."""
    wall = sum(p["seconds"] for p in parts)
    requests = sum(p["requests"] for p in parts)
    results: dict[str, int] = {}
    for p in parts:
        for key, value in p["results"].items():
            results[key] = results.get(key, 0) + value
    return {"requests": requests, "seconds": wall, "per_second": results["stored"] / wall,
            "requests_per_second": requests / wall, "results": results,
            **{k: max(p[k] for p in parts) for k in ("p50_ms", "p95_ms", "p99_ms")},
            "server_cpu_ms": sum(p["server_cpu"] for p in parts) / max(requests, 1) * 1000,
            "load": sum(p["load"] for p in parts) / len(parts)}


def serve(app_spec: str, env: dict, workers: int, cwd: Path = ROOT) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                             "--log-level", "warning", app_spec], env=env, cwd=cwd)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"{app_spec} did not start")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--visitors", type=int, default=20000)
    parser.add_argument("--exhibitors", type=int, default=300)
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=2, help="wrk runs per endpoint, taken in turn")
    parser.add_argument("--before-batch", action="store_true", help="measure the batch call of --before too")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--connections", type=int, default=32, help="wrk keep-alive connections")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--before", type=Path, help="an older checkout of the app, measured in the same run")
    parser.add_argument("--only", choices=("single", "batch"), help="measure one of the two calls only")
    parser.add_argument("--reuse", action="store_true",
                        help="keep the data of the last run (database expo_bench; its scans and leads stay)")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.registrations import ready, workers_cpu

    admin = os.environ.get("EXPO_BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    quiet_database()
    url = admin.rsplit("/", 1)[0] + "/expo_bench" if args.reuse else recreate_database(admin, "expo_bench")
    instance = Path("/tmp/expo-bench-instance")
    env = {**os.environ, "EXPO_DATABASE_URL": url, "EXPO_INSTANCE_DIR": str(instance), "EXPO_SECRET_KEY": "bench",
           "EXPO_CELERY_EAGER": "1", "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    tokens, codes = prepare(env, args.visitors, args.exhibitors, generate=not args.reuse)
    print(f"data ready in {time.perf_counter() - t0:.1f}s: {len(tokens)} booth staff tokens, {len(codes)} badges",
          file=sys.stderr)

    apps = [("bare Flask endpoint", "bench.bare_scan_app:app", ROOT, "bare")]
    if args.before:
        apps.append(("Expo CRM before", "expo:create_app()", args.before.resolve(), "before"))
    apps.append(("Expo CRM", "expo:create_app()", ROOT, "expo"))
    run_id = time.strftime("%H%M%S")  # client_scan_ids unique across runs on the same data (--reuse)
    calls = [(name, batch) for name, batch in (("single", 0), ("batch", BATCH_SIZE)) if args.only in (None, name)]
    rows: dict[tuple[str, str], dict] = {}
    # Every server up at once (idle workers cost nothing), then the endpoints measured in turn, round after
    # round (bare, before, Expo, bare, …): a change in the machine's load (other programs) falls on all of them
    # alike instead of on whichever ran last. Each endpoint's rounds are added up.
    servers = []
    try:
        for name, spec, cwd, tag in apps:
            proc, port = serve(spec, {**env, "PYTHONPATH": str(cwd)}, args.workers, cwd)
            servers.append((name, tag, proc, port))
        for _name, _tag, _proc, port in servers:
            ready(port, "/api/v1/scans")
        for call, batch in calls:
            # The code before issue 9 takes seconds per batch of 100 under this load: its batch call is measured
            # only when asked (--before-batch); its abandoned requests would otherwise burden the others' runs.
            measured = [k for k, server in enumerate(servers)
                        if not (batch and server[1] == "before" and not args.before_batch)]
            for k in measured:  # warm-up: every worker booted and connected, caches filled
                name, tag, proc, port = servers[k]
                quiet_database()
                load(port, tokens, codes, f"{tag}-{call}-{run_id}-warm", batch, 3, args.connections, args.wrk_threads)
                servers[k] = settle(servers[k], apps[k], env, args.workers)
            for n in range(args.rounds):
                for k in measured:
                    name, tag, proc, port = servers[k]
                    quiet_database()
                    cpu_before = workers_cpu(proc.pid)
                    row = load(port, tokens, codes, f"{tag}-{call}-{run_id}-{n}", batch, args.seconds,
                               args.connections, args.wrk_threads)
                    row["server_cpu"] = workers_cpu(proc.pid) - cpu_before
                    row["load"] = os.getloadavg()[0]
                    rows.setdefault((call, name), []).append(row)
                    servers[k] = settle(servers[k], apps[k], env, args.workers)
    finally:
        for _name, _tag, proc, _port in servers:
            proc.terminate()
            proc.wait(timeout=30)
    rows = {key: _combined(parts) for key, parts in rows.items()}
    print(f"\n{args.visitors} registrations in the live edition, {args.exhibitors} exhibitors ({len(tokens)} booth "
          f"staff tokens), 3 editions; gunicorn {args.workers} sync workers, wrk {args.wrk_threads} threads × "
          f"{args.connections} connections, {args.rounds} × {args.seconds} s per endpoint taken in turn after a 3 s "
          f"warm-up; batch = "
          f"{BATCH_SIZE} scans a request\n")
    print("| call | endpoint | scans/s | requests/s | p50 ms | p95 ms | p99 ms (worse round) | share of bare | "
          "worker CPU ms per request | load | results |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for (call, name), r in rows.items():
        bare = rows.get((call, "bare Flask endpoint"), {}).get("per_second")
        share = f"{r['per_second'] / bare:.0%}" if bare else "—"
        print(f"| {call} | {name} | {r['per_second']:,.0f} | {r['requests_per_second']:,.0f} | {r['p50_ms']:.1f} | "
              f"{r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {share} | {r['server_cpu_ms']:.1f} | {r['load']:.1f} | "
              f"{r['results']} |")
    print(f"\n(uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()})")


if __name__ == "__main__":
    main()
