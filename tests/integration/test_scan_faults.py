"""A fault storm on the scan API: a real gunicorn on PostgreSQL, scanners that retry, workers killed, the
database restarted — and afterwards every scan stored exactly once, no lead lost or doubled.

Several client threads (booth staff of three exhibitors, two of them per exhibitor, and entrance staff) send
lead scans and check-ins, one at a time (POST /api/v1/scans) and in offline uploads (POST /api/v1/scans/batch,
new scans mixed with re-sends, the same scan twice, an item the user may not scan). Each scan has its own
client_scan_id and is sent again, unchanged, after a timeout, a broken connection or a 5xx (503: after
Retry-After, capped) until it gets an answer; acknowledged scans are also sent again on purpose. Meanwhile a
busy gunicorn worker is SIGKILLed three times (gunicorn starts a new one) and PostgreSQL is restarted
(``pg_ctlcluster <version> main restart``, under the lock file /tmp/pg-restart.lock).

Then, in the database: every client_scan_id sent is stored exactly once (and the forbidden items never);
every answer a client got for a scan is the stored row (result, reason, lead id, scan id), later ones
``replayed``; the leads are exactly the (exhibitor, registration) pairs of the ok/duplicate lead scans, each
with one "ok" scan and a scan_count equal to its ok/duplicate scans; one admission per registration and show
day; one timeline entry per lead and per admission; and no answer was ever a 500 (503 while the database was
away). Finally the checks are run once more on a deliberately corrupted copy of that state (in a transaction
rolled back afterwards) and must find each corruption: the test can fail.

The storm's narrowest window — the connection lost at the request's COMMIT, after the view ran — is hit only
now and then; the second test makes it certain (any database, no server needed).

Runs in the PostgreSQL pass of .ci/run (EXPO_TEST_DATABASE_URL), skipped on SQLite. Its own database,
``<the suite's database>_scan_faults``, is created and dropped here; the suite's database is left alone.
EXPO_FAULT_DB=terminate replaces the real restart by an outage of this database alone (connections refused,
every connection terminated) — for development on a PostgreSQL server others are using.
"""
from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time as clock, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.pool import NullPool

# serial: it restarts the PostgreSQL server, so ``make test`` runs it alone, after the parallel run
pytestmark = [pytest.mark.integration, pytest.mark.serial]

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 3
WORKER_KILLS = 3
CLIENT_TIMEOUT = 8  # seconds a client waits for an answer before it sends the scan again
RETRY_AFTER_CAP = 0.5  # a scanner at the door does not wait the 5 s the server suggests
RUN_SECONDS = 150  # a safety net: on an idle 2-core machine the client phase takes about 20 s
LOCK_FILE = Path("/tmp/pg-restart.lock")
BAD_CODES = ("NOT-A-BADGE", "")


def _suite_database_url() -> str | None:
    url = os.environ.get("EXPO_TEST_DATABASE_URL", "")
    return url if url.startswith("postgresql") else None


def _admin_engine(url):
    return create_engine(make_url(url).set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT")


@pytest.fixture
def fault_database():
    """A database of this test's own, next to the suite's: created empty, dropped at the end."""
    suite_url = _suite_database_url()
    if suite_url is None:
        pytest.skip("PostgreSQL only (EXPO_TEST_DATABASE_URL): the embedded SQLite database has no server to lose")
    base = make_url(suite_url)
    name = f"{base.database}_scan_faults"[:63]
    admin = _admin_engine(suite_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        started, error = time.monotonic(), None
        for _ in range(30):  # the server may still be coming back from the restart
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                break
            except Exception as failed:  # noqa: BLE001 - retried; else the next run drops it
                error = failed
                time.sleep(1)
        admin.dispose()
        print(f"dropped {name} in {time.monotonic() - started:.1f} s" + (f" (last error: {error})" if error else ""))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn serving the app (sync workers, short timeouts) on a loopback port, as docs/deployment.md runs it."""

    def __init__(self, database_url: str, workdir: Path):
        self.port = _free_port()
        self.log_path = workdir / "gunicorn.log"
        env = {**os.environ, "EXPO_DATABASE_URL": database_url, "EXPO_INSTANCE_DIR": str(workdir / "instance"),
               "EXPO_SECRET_KEY": "fault-test", "EXPO_CELERY_EAGER": "1", "PYTHONPATH": str(ROOT)}
        for name in ("EXPO_BROKER_URL", "EXPO_SMTP_URL", "EXPO_RATELIMIT_STORAGE_URI"):
            env.pop(name, None)
        self.log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS), "--worker-class", "sync",
             "--bind", f"127.0.0.1:{self.port}", "--timeout", "10", "--graceful-timeout", "2",
             "--log-level", "warning", "expo:create_app()"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, seconds=40):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"gunicorn exited:\n{self.log_tail()}"
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200 and len(self.workers()) == WORKERS:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"gunicorn did not get ready:\n{self.log_tail()}")

    def workers(self) -> list[int]:
        """The master's children: its workers."""
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid:
                    found.append(int(entry))
        return found

    def _busy_worker(self) -> int | None:
        """A worker holding an accepted client connection: killing it breaks a request in flight."""
        port = f"{self.port:04X}"
        inodes = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                cols = line.split()
                if cols[1].endswith(f":{port}") and cols[3] == "01":  # local port, ESTABLISHED
                    inodes.add(cols[9])
        for pid in self.workers():
            try:
                for fd in os.listdir(f"/proc/{pid}/fd"):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        return pid
            except OSError:
                continue
        return None

    def kill_worker(self) -> tuple[int, bool]:
        """SIGKILL a worker, busy if one can be caught within a second; wait for gunicorn to replace it."""
        deadline = time.monotonic() + 1
        victim, busy = None, False
        while victim is None and time.monotonic() < deadline:
            victim = self._busy_worker()
            busy = victim is not None
        if victim is None:
            victim = random.choice(self.workers())
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            workers = self.workers()
            if victim not in workers and len(workers) == WORKERS:
                return victim, busy
            time.sleep(0.1)
        raise AssertionError(f"gunicorn did not replace worker {victim}:\n{self.log_tail()}")

    def log_tail(self, chars=6000) -> str:
        self.log.flush()
        return self.log_path.read_bytes()[-chars:].decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# --- the database going away -------------------------------------------------------------------------------

def _pg_is_ready(url, seconds=60) -> None:
    u = make_url(url)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if subprocess.run(["pg_isready", "-q", "-h", u.host or "127.0.0.1", "-p", str(u.port or 5432)]).returncode == 0:
            return
        time.sleep(0.2)
    raise AssertionError("PostgreSQL did not come back")


class RestartLock:
    """/tmp/pg-restart.lock: one restart of the shared server at a time. The file (holding our pid) exists from
    before the stop until the server answers again; others wait while it exists (e.g. bench/scan_api.py)."""

    STALE_SECONDS = 150  # a lock file this old, or of a process that is gone, is left over from a crash

    def __enter__(self):
        deadline = time.monotonic() + 180
        while True:
            try:
                fd = os.open(LOCK_FILE, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                return self
            except FileExistsError:
                pass
            try:
                holder = LOCK_FILE.read_text().strip()
                age = time.time() - LOCK_FILE.stat().st_mtime
            except FileNotFoundError:
                continue
            if age > self.STALE_SECONDS or holder.isdigit() and not Path(f"/proc/{holder}").exists():
                LOCK_FILE.unlink(missing_ok=True)
                continue
            assert time.monotonic() < deadline, f"{LOCK_FILE} held for three minutes ({holder or 'no pid'})"
            time.sleep(0.2)

    def __exit__(self, *exc):
        LOCK_FILE.unlink(missing_ok=True)


def _cluster() -> tuple[str, str] | None:
    """(version, name) of the local cluster, if this machine runs it with Debian's tools."""
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        return None
    versions = sorted(os.listdir("/etc/postgresql"))
    return (versions[0], "main") if versions else None


def restart_database(url: str, mode: str) -> str:
    """Take the database away and bring it back. Returns what was done."""
    if mode == "restart":
        version, name = _cluster()
        with RestartLock():
            started = time.monotonic()
            subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"], check=True,
                           timeout=90, stdout=subprocess.DEVNULL)
            _pg_is_ready(url)
        return f"pg_ctlcluster {version} {name} restart ({time.monotonic() - started:.1f} s)"
    # This database alone: new connections refused, every open one terminated, for a moment.
    name = make_url(url).database
    admin = _admin_engine(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false'))
            ended = time.monotonic() + 2
            while time.monotonic() < ended:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
                                  "AND pid <> pg_backend_pid()"), {"name": name})
                time.sleep(0.1)
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
    finally:
        admin.dispose()
    return "every connection of the test database terminated, 2 s without new ones"


# --- the scanners ------------------------------------------------------------------------------------------

class GaveUp(Exception):
    pass


@dataclass(eq=False)
class Sent:
    """One scan as a device made it: the body is sent again, byte for byte, whatever happens."""

    user: dict
    body: dict
    registration_id: int | None  # None: a code that is no badge (refused)
    day: date | None = None  # the show day of a check-in, in the edition's zone
    forbidden: bool = False  # a kind this user may not scan: answered in its place with a 403, never stored
    answers: list = field(default_factory=list)  # every answer this scan got, in order

    @property
    def key(self) -> tuple[int, str]:
        return self.user["id"], self.body["client_scan_id"]


class Storm:
    """The shared state of the client threads: what was sent, every status seen, progress, problems."""

    def __init__(self, world: dict, port: int):
        self.world, self.port = world, port
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.deadline = time.monotonic() + RUN_SECONDS
        self.sent: list[Sent] = []
        self.statuses: Counter = Counter()
        self.transport_errors: Counter = Counter()
        self.problems: list[str] = []
        self.acknowledged = 0
        self.tz = ZoneInfo(world["timezone"])
        starts = date.fromisoformat(world["starts_on"])
        self.days = [starts, starts + timedelta(days=1)]

    def problem(self, message: str):
        with self.lock:
            self.problems.append(message)

    def post(self, user: dict, path: str, payload):
        """Send until an answer that is final: the JSON of a 200, or None after a 4xx (recorded as a problem)."""
        body = json.dumps(payload).encode()
        headers = {"Authorization": f"Bearer {user['token']}", "Content-Type": "application/json"}
        pause = 0.05
        while True:
            if time.monotonic() > self.deadline:
                raise GaveUp(f"no answer to {path} before the deadline")
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_TIMEOUT)
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                status, data = response.status, response.read()
                retry_after = response.getheader("Retry-After")
            except (OSError, http.client.HTTPException) as error:  # timeout, refused, reset, cut mid-answer
                with self.lock:
                    self.transport_errors[type(error).__name__] += 1
                time.sleep(pause)
                pause = min(pause * 2, 0.5)
                continue
            finally:
                conn.close()
            with self.lock:
                self.statuses[status] += 1
            if status == 200:
                return json.loads(data)
            if status == 503:
                try:
                    wait = float(retry_after)
                except (TypeError, ValueError):
                    wait = 1.0
                    self.problem(f"503 without a usable Retry-After: {retry_after!r}")
                time.sleep(min(wait, RETRY_AFTER_CAP))
                continue
            if status >= 500:  # never allowed (checked at the end), but the scan still goes through
                self.problem(f"{status} from {path}: {data[:300]!r}")
                time.sleep(pause)
                continue
            self.problem(f"{status} from {path} for a well-formed request: {data[:300]!r}")
            return None

    # what devices send

    def new_scan(self, user: dict, rng: random.Random, *, forbidden: bool = False) -> Sent:
        kind = user["kind"]
        if forbidden:
            kind = "lead" if kind == "checkin" else "checkin"
        registrations = self.world["registrations"]
        day = rng.choice(self.days)
        moment = datetime.combine(day, clock(9), self.tz) + timedelta(seconds=rng.randrange(8 * 3600))
        body = {"kind": kind, "client_scan_id": str(uuid.uuid4()),
                "scanned_at": moment.astimezone(timezone.utc).isoformat()}
        if rng.random() < 0.05:
            registration_id, body["code"] = None, self.bad_code(rng)
        else:
            registration = rng.choice(registrations)
            registration_id, body["code"] = registration["id"], registration["code"]
        if kind == "checkin":
            body["edition_id"] = self.world["edition_id"]
            if rng.random() < 0.5:
                body["direction"] = "in"  # the same as none at the main entrance
        sent = Sent(user, body, registration_id, day if kind == "checkin" else None, forbidden)
        with self.lock:
            self.sent.append(sent)
        return sent

    def bad_code(self, rng: random.Random) -> str:
        if rng.random() < 0.5:
            return rng.choice(BAD_CODES)
        code = list(rng.choice(self.world["registrations"])["code"])
        spot = rng.randrange(30, len(code) - 8)  # inside the signature: a forged badge
        code[spot] = "B" if code[spot] != "B" else "C"
        return "".join(code)

    def answered(self, sent: Sent, answer):
        first = not sent.answers
        sent.answers.append(answer)
        if first and not sent.forbidden:
            with self.lock:
                self.acknowledged += 1

    def client(self, user: dict, seed: int):
        """One device: single scans and uploads until told to stop, then everything it has once more."""
        rng = random.Random(seed)
        done: list[Sent] = []  # acknowledged, to send again on purpose
        try:
            while not self.stop.is_set():
                if rng.random() < 0.55:
                    if done and rng.random() < 0.2:
                        sent = rng.choice(done)
                    else:
                        sent = self.new_scan(user, rng)
                    answer = self.post(user, "/api/v1/scans", sent.body)
                    if answer is not None:
                        self.answered(sent, answer)
                        if sent not in done:
                            done.append(sent)
                else:
                    items = [self.new_scan(user, rng) for _ in range(rng.randint(2, 12))]
                    items += rng.sample(done, k=min(len(done), rng.randint(0, 3)))
                    if rng.random() < 0.3:
                        items.append(items[0])  # the same scan twice in one upload
                    if rng.random() < 0.15:
                        items.append(self.new_scan(user, rng, forbidden=True))
                    rng.shuffle(items)
                    self.upload(user, items, done)
            for start in range(0, len(done), 100):  # after the storm: every acknowledged scan once more
                self.upload(user, done[start:start + 100], None)
        except GaveUp as error:
            self.problem(f"user {user['id']}: {error}")
        except Exception as error:  # noqa: BLE001 - reported by the test, with the others
            self.problem(f"user {user['id']}: {type(error).__name__}: {error}")

    def upload(self, user: dict, items: list[Sent], done: list[Sent] | None):
        answers = self.post(user, "/api/v1/scans/batch", [sent.body for sent in items])
        if answers is None:
            return
        if not isinstance(answers, list) or len(answers) != len(items):
            self.problem(f"a batch of {len(items)} answered by {str(answers)[:200]}")
            return
        for sent, answer in zip(items, answers):
            self.answered(sent, answer)
            if done is not None and not sent.forbidden and sent not in done:
                done.append(sent)

    def wait_for(self, count: int, seconds: float = 60):
        deadline = time.monotonic() + seconds
        while self.acknowledged < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"the clients stalled at {self.acknowledged} acknowledged scans "
                                     f"(statuses {dict(self.statuses)}, problems {self.problems[:5]})")
            time.sleep(0.05)


# --- the checks --------------------------------------------------------------------------------------------

def check(conn, storm: Storm) -> list[str]:
    """Everything the storm must not have broken, read from the database; the problems found."""
    problems: list[str] = []
    rows = {(r.user_id, r.client_scan_id): r for r in conn.execute(text(
        "SELECT id, user_id, client_scan_id, kind, result, reason, lead_id, registration_id, exhibitor_id, "
        "admitted_on FROM scans"))}
    copies = Counter((r.user_id, r.client_scan_id) for r in conn.execute(text(
        "SELECT user_id, client_scan_id FROM scans")))
    problems += [f"scan {key} stored {n} times" for key, n in copies.items() if n > 1]
    sent = {s.key: s for s in storm.sent}
    problems += [f"scan {key} stored but never sent" for key in rows.keys() - sent.keys()]

    lead_scans: dict[tuple, list] = defaultdict(list)  # (exhibitor, registration) -> answers ok/duplicate
    checkins: dict[tuple, list] = defaultdict(list)  # (registration, day) -> stored results
    for key, s in sent.items():
        row = rows.get(key)
        if s.forbidden:
            if row is not None:
                problems.append(f"forbidden scan {key} stored")
            if not s.answers or any(a.get("result") != "error" or a.get("status") != 403 for a in s.answers):
                problems.append(f"forbidden scan {key} answered {s.answers}")
            continue
        if not s.answers:
            problems.append(f"scan {key} never answered")
            continue
        if row is None:
            problems.append(f"scan {key} answered {s.answers[-1].get('result')} but not stored (lost)")
            continue
        for n, answer in enumerate(s.answers):
            got = (answer.get("result"), answer.get("reason"), answer.get("lead_id"), answer.get("scan_id"),
                   answer.get("kind"), answer.get("client_scan_id"))
            stored = (row.result, row.reason, row.lead_id, row.id, row.kind, row.client_scan_id)
            if got != stored:
                problems.append(f"scan {key} answer #{n + 1} {got} differs from the stored row {stored}")
            if n and answer.get("replayed") is not True:
                problems.append(f"scan {key} sent again but answer #{n + 1} is not replayed")
        valid = s.registration_id is not None
        if valid and row.result not in ("ok", "duplicate") or not valid and row.result != "refused":
            problems.append(f"scan {key} of {'a valid badge' if valid else 'a bad code'} stored as {row.result}")
        if valid and row.registration_id != s.registration_id:
            problems.append(f"scan {key} stored for registration {row.registration_id}, not {s.registration_id}")
        if row.result == "refused":
            continue
        if s.body["kind"] == "lead":
            lead_scans[(s.user["exhibitor_id"], s.registration_id)].append(row)
        else:
            checkins[(s.registration_id, s.day)].append(row)

    leads = {(r.exhibitor_id, r.registration_id): r for r in conn.execute(text(
        "SELECT id, exhibitor_id, registration_id, scan_count FROM leads"))}
    problems += [f"lead {pair} missing" for pair in lead_scans.keys() - leads.keys()]
    problems += [f"lead {pair} without an ok/duplicate scan" for pair in leads.keys() - lead_scans.keys()]
    for pair, scans in lead_scans.items():
        lead = leads.get(pair)
        if lead is None:
            continue
        if lead.scan_count != len(scans):
            problems.append(f"lead {pair} scan_count {lead.scan_count}, but {len(scans)} scans counted on it")
        if sorted(r.result for r in scans).count("ok") != 1:
            problems.append(f"lead {pair}: {Counter(r.result for r in scans)} (one 'ok', the capture, expected)")
        if {r.lead_id for r in scans} != {lead.id}:
            problems.append(f"lead {pair}: scans point at leads {sorted({r.lead_id for r in scans})}, not {lead.id}")

    for (registration_id, day), scans in checkins.items():
        admissions = [r for r in scans if r.result == "ok"]
        if len(admissions) != 1 or admissions[0].admitted_on != day:
            problems.append(f"registration {registration_id} on {day}: admissions "
                            f"{[(r.id, r.admitted_on) for r in admissions]} (exactly one expected)")
    admitted = Counter((r.registration_id, r.admitted_on) for r in rows.values() if r.admitted_on is not None)
    problems += [f"registration {reg} admitted {n} times on {day}" for (reg, day), n in admitted.items() if n > 1]

    # The visitor's timeline: one entry per lead captured and per admission, never one per retry.
    timeline = Counter((r.kind, r.object_id) for r in conn.execute(text(
        "SELECT kind, object_id FROM activities WHERE kind IN ('lead.captured', 'checkin')")))
    problems += [f"timeline: {kind} {obj} recorded {n} times" for (kind, obj), n in timeline.items() if n > 1]
    want = {("lead.captured", r.id) for r in leads.values()} | {
        ("checkin", r.id) for r in rows.values() if r.admitted_on is not None}
    if set(timeline) != want:
        problems.append(f"timeline entries {len(timeline)} for {len(want)} leads and admissions "
                        f"(missing {sorted(want - set(timeline))[:5]}, extra {sorted(set(timeline) - want)[:5]})")
    return problems


def corrupted_state_is_caught(conn, storm: Storm) -> list[str]:
    """The checks, run on the stored state with one corruption of each kind (undone afterwards): what each
    corruption is, if the checks did NOT notice it."""
    missed = []
    corruptions = {
        "a lead counted twice for one scan": [
            "UPDATE leads SET scan_count = scan_count + 1 WHERE id = (SELECT min(id) FROM leads)"],
        "a lead lost": [
            "UPDATE scans SET lead_id = NULL WHERE lead_id = (SELECT min(id) FROM leads)",
            "DELETE FROM leads WHERE id = (SELECT min(id) FROM leads)"],
        "a scan lost": ["DELETE FROM scans WHERE id = (SELECT max(id) FROM scans)"],
        "a scan stored twice": [
            "DO $$ DECLARE c text; BEGIN FOR c IN SELECT conname FROM pg_constraint WHERE conrelid = 'scans'::regclass "
            "AND contype = 'u' AND pg_get_constraintdef(oid) LIKE '%user_id, client_scan_id%' LOOP "
            "EXECUTE format('ALTER TABLE scans DROP CONSTRAINT %I', c); END LOOP; END $$",
            "INSERT INTO scans (organizer_id, edition_id, user_id, exhibitor_id, registration_id, lead_id, kind, "
            "client_scan_id, raw_code, gate, scanned_at, received_at, result, reason) SELECT organizer_id, edition_id, "
            "user_id, exhibitor_id, registration_id, lead_id, kind, client_scan_id, raw_code, gate, scanned_at, "
            "received_at, 'duplicate', reason FROM scans WHERE id = (SELECT min(id) FROM scans WHERE kind = 'lead' "
            "AND result <> 'refused')"],
        "a stored result that is not the answer": [
            "UPDATE scans SET result = 'duplicate' WHERE id = (SELECT min(id) FROM scans WHERE kind = 'lead' "
            "AND result = 'ok')"],
        "a second admission the same day": [
            "DROP INDEX uq_scans_registration_id_admitted_on",
            "UPDATE scans SET result = 'ok', admitted_on = a.admitted_on FROM scans a WHERE a.id = (SELECT min(x.id) "
            "FROM scans x WHERE x.admitted_on IS NOT NULL AND EXISTS (SELECT 1 FROM scans d WHERE d.registration_id "
            "= x.registration_id AND d.kind = 'checkin' AND d.result = 'duplicate')) AND scans.id = (SELECT "
            "min(s.id) FROM scans s WHERE s.registration_id = a.registration_id AND s.kind = 'checkin' "
            "AND s.result = 'duplicate')"],
    }
    for what, statements in corruptions.items():
        with conn.begin() as transaction:
            for statement in statements:
                conn.execute(text(statement))
            if not check(conn, storm):
                missed.append(what)
            transaction.rollback()
    return missed


# --- the test ----------------------------------------------------------------------------------------------

def _dispose_suite_connections(request):
    """The suite's own pooled connections (the session app's) died with the server: the next tests get new ones."""
    from expo.extensions import db

    apps = getattr(db, "_app_engines", None)  # Flask-SQLAlchemy 3: every app of this process and its engines
    if apps is None:
        suite_app = request.getfixturevalue("app")
        with suite_app.app_context():
            db.engine.dispose()
        return
    for engines in list(apps.values()):
        for engine in engines.values():
            engine.dispose()


def kill(server: Server, storm: Storm) -> str:
    broken = sum(storm.transport_errors.values())
    victim, busy = server.kill_worker()
    broken = sum(storm.transport_errors.values()) - broken
    return (f"SIGKILL worker {victim} ({'busy' if busy else 'idle'}; {broken} client connection(s) broken "
            f"until its successor was up)")


def test_scans_survive_killed_workers_and_a_database_restart(fault_database, tmp_path, request):
    started = time.monotonic()
    mode = os.environ.get("EXPO_FAULT_DB", "restart")
    if mode == "restart" and (_cluster() is None or make_url(fault_database).host not in ("127.0.0.1", "localhost")):
        mode = "terminate"  # no local cluster to restart (a managed or remote server): this database's outage
    timings = {}
    server = Server(fault_database, tmp_path)  # its workers start while the world is built (no query at start)
    faults: list[str] = []
    try:
        world_file = tmp_path / "world.json"
        subprocess.run([sys.executable, str(Path(__file__).with_name("scan_faults_world.py")), fault_database,
                        str(tmp_path / "world-instance"), str(world_file)], cwd=ROOT, check=True, timeout=120)
        world = json.loads(world_file.read_text())
        timings["world"] = time.monotonic() - started
        server.wait_ready()
        timings["server"] = time.monotonic() - started
        storm = Storm(world, server.port)
        threads = [threading.Thread(target=storm.client, args=(user, n), daemon=True)
                   for n, user in enumerate(world["users"])]
        for thread in threads:
            thread.start()
        try:
            storm.wait_for(60)
            faults.append(kill(server, storm))
            storm.wait_for(storm.acknowledged + 120)
            outage_errors: list[BaseException] = []

            def outage_run():
                try:
                    faults.append(restart_database(fault_database, mode))
                except BaseException as error:  # noqa: BLE001 - raised below, in the test's thread
                    outage_errors.append(error)

            outage = threading.Thread(target=outage_run)
            outage.start()
            time.sleep(0.3)
            faults.append(kill(server, storm) + " during the outage")
            outage.join(timeout=120)
            assert not outage.is_alive(), "the database restart did not finish"
            if outage_errors:
                raise outage_errors[0]
            storm.wait_for(storm.acknowledged + 80)
            faults.append(kill(server, storm))
            storm.wait_for(storm.acknowledged + 100)
        except AssertionError as error:
            raise AssertionError(f"{error}\nfaults: {faults}\n--- gunicorn:\n{server.log_tail()}") from None
        finally:
            storm.stop.set()
            for thread in threads:
                thread.join(timeout=RUN_SECONDS + 30)
        timings["storm"] = time.monotonic() - started
        assert server.proc.poll() is None, f"gunicorn died:\n{server.log_tail()}"
        log = server.log_tail()
    finally:
        server.stop()
        if mode == "restart":
            _dispose_suite_connections(request)

    summary = (f"{len(storm.sent)} scans sent ({storm.acknowledged} acknowledged), HTTP statuses "
               f"{dict(storm.statuses)}, transport errors {dict(storm.transport_errors)}; faults: {faults}; "
               f"seconds from the start: {' '.join(f'{k} {v:.1f}' for k, v in timings.items())}")
    print(summary)
    assert len([f for f in faults if f.startswith("SIGKILL")]) == WORKER_KILLS

    engine = create_engine(fault_database, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            problems = list(storm.problems)
            if not set(storm.statuses) <= {200, 503}:
                problems.append(f"answers other than 200 and 503: {dict(storm.statuses)}")
            problems += check(conn, storm)
            assert not problems, f"{summary}\n" + "\n".join(problems[:40]) + f"\n--- gunicorn:\n{log}"
            assert conn.execute(text("SELECT count(*) FROM leads")).scalar() > 0
            assert conn.execute(text("SELECT count(*) FROM scans WHERE admitted_on IS NOT NULL")).scalar() > 0
            assert conn.execute(text("SELECT count(*) FROM scans WHERE result = 'duplicate'")).scalar() > 0
            conn.commit()
            missed = corrupted_state_is_caught(conn, storm)
            assert not missed, f"the checks did not notice: {missed}"
    finally:
        engine.dispose()
    print(f"checks done at {time.monotonic() - started:.1f} s")


def test_a_database_lost_at_the_commit_answers_503_and_the_retry_is_stored_once(app, make, monkeypatch):
    """The storm's narrowest window, made certain: the connection dies at the request's COMMIT (after the view
    ran). The answer is 503 with Retry-After — not a 500 — and the same scan sent again is stored once."""
    from sqlalchemy.exc import OperationalError

    from expo.core import services as core
    from expo.core.models import Organizer
    from expo.extensions import db
    from expo.onsite.models import Scan
    from expo.visitors.services import badge_code

    edition = make.edition()
    staff = make.user("onsite", db.session.get(Organizer, edition.organizer_id))
    clear = core.create_api_token(staff, "gate")[1]
    code = badge_code(make.registration(edition))
    db.session.commit()
    body = {"code": code, "kind": "checkin", "client_scan_id": str(uuid.uuid4()), "edition_id": edition.id}
    client = app.test_client()

    def gone(self, *args, **kwargs):
        raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    with monkeypatch.context() as patch:
        patch.setattr(type(db.session()), "commit", gone)
        lost = client.post("/api/v1/scans", json=body, headers={"Authorization": f"Bearer {clear}"})
    assert lost.status_code == 503, lost.get_data(as_text=True)[:500]
    assert lost.headers.get("Retry-After")
    db.session.remove()

    again = client.post("/api/v1/scans", json=body, headers={"Authorization": f"Bearer {clear}"})
    assert again.status_code == 200 and again.json["result"] == "ok", again.get_data(as_text=True)[:500]
    assert db.session.scalar(select(func.count()).select_from(Scan).where(
        Scan.client_scan_id == body["client_scan_id"])) == 1
