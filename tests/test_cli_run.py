"""The README's first command, ``expo run``, as a real process on the embedded defaults: SQLite in the
instance folder, the demo show on first start, one sign-in per role printed, the web server and a real
Celery worker on the filesystem broker (no SMTP: mails are kept in the outbox).

Two starts in all, on one instance folder: the first loads the demo and is exercised over HTTP; the
second (on another port) must not load the demo again."""
from __future__ import annotations

import http.cookiejar
import os
import queue
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from expo.config import ROOT
from expo.demo import DEMO_PASSWORD
from expo.visitors.questions import FIELD_PREFIX

pytestmark = pytest.mark.integration

DEADLINE_SECONDS = 60
START_DEADLINE_SECONDS = 180  # the first start migrates and loads the demo show
ROLES = ("owner", "manager", "sales", "onsite", "analyst", "exhibitor_admin", "booth_staff")
VISITOR_EMAIL = "cli.visitor@example.cn"


# --- processes --------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def expo_command() -> list[str]:
    script = Path(sys.executable).parent / "expo"  # the console script the README runs (.venv/bin/expo)
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from expo.cli import main; main()"]


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, from /proc; None when it no longer exists."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    state, ppid = text[text.rindex(")") + 2:].split()[:2]
    return state, int(ppid)


def alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _stat(int(entry))
            if stat is not None and stat[1] == pid and stat[0] not in ("Z", "X"):
                out.append(int(entry))
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except FileNotFoundError:
        return ""


@dataclass
class Running:
    process: subprocess.Popen
    port: int
    lines: queue.Queue = field(default_factory=queue.Queue)
    output: list[str] = field(default_factory=list)
    before: dict = field(default_factory=dict)  # what the database held before this start

    @property
    def text(self) -> str:
        return "".join(self.output)

    def read_until(self, pattern: str, deadline_seconds: float) -> re.Match:
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            match = re.search(pattern, self.text, re.M)
            if match:
                return match
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None and self.lines.empty():
                    pytest.fail(f"`expo run` exited with {self.process.returncode}:\n{self.text}")
                continue
            if line is None:
                continue
            self.output.append(line)
        pytest.fail(f"`expo run` did not print /{pattern}/ within {deadline_seconds} s:\n{self.text}")

    def workers(self) -> list[int]:
        return [pid for pid in children(self.process.pid) if "celery" in cmdline(pid)]

    def stop_group(self) -> None:
        """Terminate the whole process group (what Ctrl+C in a terminal or a service manager does)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=DEADLINE_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=DEADLINE_SECONDS)


def start(instance: Path, port: int) -> Running:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXPO_")}  # no EXPO_DATABASE_URL: SQLite
    env.update({"EXPO_INSTANCE_DIR": str(instance), "EXPO_SECRET_KEY": "cli-run-test-secret",
                "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"})
    process = subprocess.Popen([*expo_command(), "run", "--host", "127.0.0.1", "--port", str(port)],
                               cwd=str(ROOT), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace",
                               start_new_session=True)
    running = Running(process, port)

    def pump():
        for line in process.stdout:
            running.lines.put(line)
        running.lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return running


def wait_for(condition, running: Running, what: str):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if running.process.poll() is not None:
            pytest.fail(f"`expo run` exited with {running.process.returncode} while waiting for {what}:\n"
                        f"{running.text}")
        time.sleep(0.2)
    pytest.fail(f"timed out after {DEADLINE_SECONDS} s waiting for {what}")


def wait_gone(pids: list[int], what: str, deadline_seconds: float = DEADLINE_SECONDS) -> None:
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return
        time.sleep(0.2)
    pytest.fail(f"{what} still running after {deadline_seconds} s: {[cmdline(p) for p in pids if alive(p)]}")


# --- a browser ----------------------------------------------------------------------------------------

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """Cookies kept, redirects not followed: every answer is seen as the server gave it."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  NoRedirect)

    def request(self, path: str, data: dict | None = None) -> tuple[int, dict, str]:
        url = path if path.startswith("http") else self.base + path
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(urllib.request.Request(url, data=body), timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, dict(error.headers), error.read().decode(errors="replace")

    def csrf(self, path: str) -> str:
        status, _headers, page = self.request(path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/login", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def sign_ins(output: str) -> dict[str, str]:
    return dict(re.findall(r"^\s+(\w+)\s+(\S+@\S+)\s*$", output, re.M))


def query(instance: Path, sql: str, *args):
    connection = sqlite3.connect(instance / "expo.sqlite", timeout=10)
    try:
        return connection.execute(sql, args).fetchall()
    finally:
        connection.close()


# --- the two starts ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    return tmp_path_factory.mktemp("expo-run") / "instance"


@pytest.fixture(scope="module")
def first_start(instance):
    running = start(instance, free_port())
    try:
        running.read_until(r"^Public visitor registration: \S+$", START_DEADLINE_SECONDS)
        yield running
    finally:
        running.kill()  # whatever is left of its process group


def test_first_start_loads_the_demo_and_prints_one_sign_in_per_role(first_start, instance):
    output = first_start.text
    assert "Loading demo data" in output
    base = re.search(r"Expo CRM is running at (http://\S+?)/?$", output, re.M).group(1)
    assert base == f"http://127.0.0.1:{first_start.port}"
    accounts = sign_ins(output)
    assert sorted(accounts) == sorted(ROLES), output
    assert accounts["owner"] == "owner@example.com"
    assert f"password for all: {DEMO_PASSWORD}" in output
    assert re.search(rf"^Public visitor registration: {re.escape(base)}/e/[\w-]+$", output, re.M), output
    # the embedded database is a file in the instance folder
    assert (instance / "expo.sqlite").exists()
    assert query(instance, "SELECT count(*) FROM organizers") == [(1,)]


def test_first_start_serves_sign_in_and_the_owner_signs_in(first_start):
    base = f"http://127.0.0.1:{first_start.port}"
    wait_for(lambda: answers(base), first_start, "the web server to answer")
    browser = Browser(base)
    status, _headers, page = browser.request("/login")
    assert status == 200 and 'name="password"' in page

    token = browser.csrf("/login")
    status, headers, _page = browser.request("/login", {"email": "owner@example.com", "password": DEMO_PASSWORD,
                                                         "csrf_token": token})
    assert status == 302, _page
    location = headers["Location"]
    for _hop in range(3):  # / sends a signed-in organizer on to the dashboard
        assert "/login" not in location
        status, headers, page = browser.request(location)
        if status != 302:
            break
        location = headers["Location"]
    assert status == 200
    assert "Sign out" in page


def test_first_start_registration_mail_is_handled_by_the_background_worker(first_start, instance):
    base = f"http://127.0.0.1:{first_start.port}"
    wait_for(lambda: answers(base), first_start, "the web server to answer")
    assert len(first_start.workers()) == 1, "expo run should start one Celery worker beside the web server"
    registration_url = re.search(r"^Public visitor registration: (\S+)$", first_start.text, re.M).group(1)
    browser = Browser(base)
    token = browser.csrf(registration_url)

    status, headers, page = browser.request(registration_url, {
        "csrf_token": token, "name": "命令行 访客", "email": VISITOR_EMAIL, "phone": "+86 139 1234 5678",
        "company": "CLI Trading Co", "job_title": "Buyer", "country": "CN", "category": "buyer",
        "consent": "y", "share_with_exhibitors": "y",
        # the demo edition's required qualification questions (visitors.rules.DEMO_QUESTIONS)
        f"{FIELD_PREFIX}purchase_authority": "decides", f"{FIELD_PREFIX}company_type": "distributor"})

    assert status == 302, page
    assert re.search(r"/e/[\w-]+/mail-sent$", headers["Location"])  # "check your inbox": the link comes by mail
    assert browser.request(headers["Location"])[0] == 200

    def kept():
        rows = query(instance, "SELECT status, body_text FROM mail_messages WHERE recipient = ?", VISITOR_EMAIL)
        return rows if rows and rows[0][0] == "kept" else None

    rows = wait_for(kept, first_start, "the worker to put the confirmation in the outbox as kept")
    assert [status for status, _body in rows] == ["kept"]
    link = re.search(r"(http://\S+)/r/([\w-]+)", rows[0][1])
    assert link.group(1) == base  # the embedded app on 127.0.0.1:<port> links to itself
    assert browser.request(f"/r/{link.group(2)}")[0] == 200


def test_stopping_the_process_group_stops_the_worker_too(first_start):
    workers = first_start.workers()
    assert len(workers) == 1

    first_start.stop_group()

    assert first_start.process.returncode is not None
    wait_gone(workers, "the Celery worker")


@pytest.fixture(scope="module")
def second_start(first_start, instance):
    """The same instance folder again, on another port, once the first start has been stopped."""
    if first_start.process.poll() is None:
        first_start.stop_group()
    before = {"organizers": query(instance, "SELECT count(*) FROM organizers"),
              "registrations": query(instance, "SELECT count(*) FROM registrations")}
    port = free_port()
    while port == first_start.port:
        port = free_port()
    running = start(instance, port)
    running.before = before
    try:
        running.read_until(r"^Public visitor registration: \S+$", START_DEADLINE_SECONDS)
        yield running
    finally:
        running.kill()  # whatever is left of its process group


def test_second_start_on_another_port_does_not_load_the_demo_again(second_start, instance):
    port = second_start.port
    output = second_start.text
    assert "Loading demo data" not in output
    assert f"Expo CRM is running at http://127.0.0.1:{port}/" in output
    accounts = sign_ins(output)
    assert sorted(accounts) == sorted(ROLES), output
    assert accounts["booth_staff"] == "booth@example.com"
    assert re.search(rf"^Public visitor registration: http://127\.0\.0\.1:{port}/e/[\w-]+$", output, re.M), output
    wait_for(lambda: answers(f"http://127.0.0.1:{port}"), second_start, "the web server on the new port")
    assert query(instance, "SELECT count(*) FROM organizers") == second_start.before["organizers"] == [(1,)]
    assert query(instance, "SELECT count(*) FROM registrations") == second_start.before["registrations"]


def test_terminating_only_the_expo_run_process_stops_its_worker(second_start):
    """`kill <pid>` (or a process manager that signals only the process it started) must not leave an
    orphaned Celery worker consuming the queue."""
    wait_for(lambda: second_start.workers(), second_start, "the Celery worker to start")
    workers = second_start.workers()
    assert len(workers) == 1

    os.kill(second_start.process.pid, signal.SIGTERM)
    second_start.process.wait(timeout=DEADLINE_SECONDS)

    wait_gone(workers, "the Celery worker after SIGTERM to `expo run`", deadline_seconds=30)
