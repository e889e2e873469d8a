"""Benchmark: lead scans through POST /api/v1/scans under gunicorn on PostgreSQL, compared in the
same run with a bare Flask endpoint doing the same essential work (bench/bare_scan_app.py).

    .venv/bin/python bench/scan_api.py [--visitors 20000] [--exhibitors 300] [--requests 6000]

Needs PostgreSQL (EXPO_BENCH_ADMIN_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test,
is used to (re)create the database `expo_bench`). Prints a Markdown table for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
import uuid
from multiprocessing import Pool
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


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


def prepare(env: dict, visitors: int, exhibitors: int, pairs: int) -> list[tuple[str, str]]:
    """Synthetic data, then (token, badge code) pairs: random booth staff scanning random visitors."""
    subprocess.run([str(BIN / "expo"), "bench-data", "--visitors", str(visitors), "--exhibitors", str(exhibitors),
                    "--editions", "3"], env=env, check=True, cwd=ROOT)
    os.environ.update(env)
    from sqlalchemy import select

    from expo import create_app
    from expo.core import services as core
    from expo.core.models import Edition, User
    from expo.extensions import db
    from expo.visitors.models import Registration
    from expo.visitors.services import badge_code

    app = create_app()
    rng = random.Random(7)
    with app.app_context():
        live = db.session.scalar(select(Edition).where(Edition.status == "live"))
        staff = list(db.session.scalars(select(User).where(User.role == "booth_staff")))
        tokens = [core.create_api_token(user, "bench")[1] for user in staff]
        db.session.commit()
        regs = list(db.session.scalars(select(Registration).where(Registration.edition_id == live.id,
                                                                  Registration.status == "confirmed")))
        codes = [badge_code(r) for r in rng.sample(regs, k=min(len(regs), 3000))]
    return [(rng.choice(tokens), rng.choice(codes)) for _ in range(pairs)]


def _client(args):
    port, work, threads = args
    latencies: list[float] = []
    lock = threading.Lock()
    results: dict[str, int] = {}

    def run(chunk):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for token, code in chunk:
            body = json.dumps({"code": code, "kind": "lead", "client_scan_id": str(uuid.uuid4())})
            start = time.perf_counter()
            conn.request("POST", "/api/v1/scans", body=body,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read()
            elapsed = time.perf_counter() - start
            key = json.loads(payload).get("result", str(response.status)) if response.status == 200 else str(
                response.status)
            with lock:
                latencies.append(elapsed)
                results[key] = results.get(key, 0) + 1
        conn.close()

    chunks = [work[i::threads] for i in range(threads)]
    pool = [threading.Thread(target=run, args=(c,)) for c in chunks]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return latencies, results


def load(port: int, pairs, processes: int, threads: int) -> dict:
    work = [(port, pairs[i::processes], threads) for i in range(processes)]
    start = time.perf_counter()
    with Pool(processes) as pool:
        parts = pool.map(_client, work)
    wall = time.perf_counter() - start
    latencies = sorted(x for part, _r in parts for x in part)
    results: dict[str, int] = {}
    for _l, r in parts:
        for k, v in r.items():
            results[k] = results.get(k, 0) + v

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {"requests": len(latencies), "seconds": wall, "per_second": len(latencies) / wall,
            "p50_ms": pct(0.50), "p95_ms": pct(0.95), "p99_ms": pct(0.99), "results": results}


def serve(app_spec: str, env: dict, workers: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    proc = subprocess.Popen([str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                             "--log-level", "warning", app_spec], env=env, cwd=ROOT)
    for _ in range(100):
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
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    admin = os.environ.get("EXPO_BENCH_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    url = recreate_database(admin, "expo_bench")
    instance = Path("/tmp/expo-bench-instance")
    env = {**os.environ, "EXPO_DATABASE_URL": url, "EXPO_INSTANCE_DIR": str(instance),
           "EXPO_SECRET_KEY": "bench", "EXPO_CELERY_EAGER": "1", "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    pairs = prepare(env, args.visitors, args.exhibitors, args.requests * 2 + 400)
    print(f"data ready in {time.perf_counter() - t0:.1f}s", file=sys.stderr)

    rows = {}
    for name, spec, chunk in (("bare Flask endpoint", "bench.bare_scan_app:app", pairs[:args.requests + 200]),
                              ("Expo CRM /api/v1/scans", "expo:create_app()", pairs[args.requests + 200:])):
        proc, port = serve(spec, env, args.workers)
        try:
            load(port, chunk[:200], 1, 4)  # warm-up: connections, caches
            rows[name] = load(port, chunk[200:], args.processes, args.threads)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    bare = rows["bare Flask endpoint"]["per_second"]
    print(f"\n{args.visitors} registrations, {args.exhibitors} exhibitors, 3 editions; {args.requests} scans, "
          f"gunicorn {args.workers} workers, {args.processes}×{args.threads} client threads\n")
    print("| endpoint | scans/s | p50 ms | p95 ms | p99 ms | share of bare | results |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name, r in rows.items():
        print(f"| {name} | {r['per_second']:.0f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
              f"{r['per_second'] / bare:.0%} | {r['results']} |")


if __name__ == "__main__":
    main()
