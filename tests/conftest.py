"""Test fixtures: one migrated database per run (SQLite file, or PostgreSQL when
EXPO_TEST_DATABASE_URL is set), emptied after every test, and factories for the domain objects."""
from __future__ import annotations

import html
import os
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import flask_babel
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import event, func, select, text

from expo import create_app
from expo.core import append_only
from expo.core import services as core
from expo.core.scoping import Scope
from expo.exhibitors import services as exhibitor_services
from expo.extensions import db
from expo.visitors import services as visitor_services

PASSWORD = "correct-horse-9"
TRANSLATIONS = Path(__file__).resolve().parent.parent / "expo" / "translations"
ORGANIZER_ROLES = ("owner", "manager", "sales", "onsite", "analyst")
core.PASSWORD_METHOD = "pbkdf2:sha256:1000"  # hashing strength is not what these tests are about


class RequestIsolatedClient(FlaskClient):
    """Tests keep an app context open for their factories, and Flask reuses it for test requests:
    start each request with an empty ``g``, as in production where every request has its own."""

    def open(self, *args, **kwargs):
        if has_app_context():
            for key in list(g):
                g.pop(key)
        return super().open(*args, **kwargs)


def worker_number() -> int:
    """0 for a plain run; N for pytest-xdist's worker gwN (``make test`` runs two): each worker gets its own
    database and broker, so that parallel tests never see each other's rows or tasks."""
    name = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(name[2:]) if name.startswith("gw") and name[2:].isdigit() else 0


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("EXPO_TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"
    return _worker_database(url) if url.startswith("postgresql") else url


def _worker_database(url: str) -> str:
    """EXPO_TEST_DATABASE_URL's database for worker 0, a sibling database (``test_w1``) for the others;
    either is created on first use (through the server's ``postgres`` database)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    base = make_url(url)
    name = f"{base.database}_w{worker_number()}" if worker_number() else base.database
    admin = create_engine(base.set(database="postgres"), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def broker_url() -> str:
    """EXPO_TEST_BROKER_URL when set (Redis database N, one lower per xdist worker: redis://…/15 for the
    first, /14 for the second), else the embedded filesystem broker (folders under the instance)."""
    url = os.environ.get("EXPO_TEST_BROKER_URL")
    if not url:
        return "filesystem://"
    if worker_number() and url.startswith(("redis://", "rediss://")):
        head, _, number = url.rpartition("/")
        if number.isdigit():
            return f"{head}/{int(number) - worker_number()}"
    return url


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url(tmp_path_factory),
        "INSTANCE_DIR": instance,
        "SECRET_KEY": "test-secret",
        "SMTP_URL": None,
        "PUBLIC_URL": "http://expo.example.com",
    })
    app.test_client_class = RequestIsolatedClient
    app.extensions["celery"].conf.update(task_always_eager=True, task_eager_propagates=True)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        from flask_migrate import upgrade

        upgrade()
    return app


@pytest.fixture(autouse=True)
def _clean_database(request):
    yield
    if "app" not in request.fixturenames or request.node.get_closest_marker("shared_world"):
        return  # a module-scoped world is emptied once, when its module is done (shared_world fixture)
    app = request.getfixturevalue("app")
    empty_database(app)


@contextmanager
def audit_guard_lifted(conn):
    """Tests only: the audit log's append-only triggers are dropped for the work inside the block and
    created again at its end, in one transaction (DDL is transactional on both databases: no other
    connection ever sees the table unguarded). The app has no such door."""
    if conn.dialect.name == "sqlite" and not conn.connection.driver_connection.in_transaction:
        conn.connection.driver_connection.execute("BEGIN IMMEDIATE")  # pysqlite would run the DDL on its own
    for sql in append_only.statements(conn.dialect.name, drop=True):
        conn.execute(text(sql))
    yield
    for sql in append_only.statements(conn.dialect.name):
        conn.execute(text(sql))


def empty_database(app):
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                with audit_guard_lifted(conn):
                    conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                conn.execute(text("PRAGMA foreign_keys=OFF"))
                with audit_guard_lifted(conn):
                    for table in tables:
                        conn.execute(text(f"DELETE FROM {table}"))
                conn.execute(text("PRAGMA foreign_keys=ON"))


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request):
    """Every test starts with no rate-limit counts: the limits count failures, and many tests fail on purpose."""
    if "app" in request.fixturenames:
        from expo.extensions import limiter

        limiter.reset()
    yield


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


class Factory:
    """Builds a small world: organizers, editions, exhibitors, users of every role, registrations."""

    def __init__(self):
        self.n = 0

    def _next(self):
        self.n += 1
        return self.n

    def organizer(self, name=None):
        return core.create_organizer(name or f"Organizer {self._next()}")

    def edition(self, organizer=None, *, status="live", show=None, starts_on=None, name=None, timezone="Asia/Shanghai"):
        organizer = organizer or self.organizer()
        scope = Scope(organizer.id)
        show = show or core.create_show(scope, f"Show {self._next()}")
        starts_on = starts_on or date.today() - timedelta(days=1)
        return core.create_edition(scope, show, name or f"{show.name} {starts_on.year}", starts_on,
                                   starts_on + timedelta(days=3), venue="Hall", timezone=timezone, status=status)

    def user(self, role, organizer=None, *, exhibitor=None, email=None):
        organizer_id = exhibitor.organizer_id if exhibitor is not None else (organizer or self.organizer()).id
        return core.create_user(organizer_id, email or f"{role}{self._next()}@example.com", f"{role} user",
                                PASSWORD, role, exhibitor_id=exhibitor.id if exhibitor is not None else None)

    def exhibitor(self, edition, name=None):
        return exhibitor_services.add_exhibitor(Scope(edition.organizer_id), edition,
                                                name or f"Company {self._next()}", hall="1", stand=f"A{self.n}")

    def registration(self, edition, *, name=None, email=None, category="buyer", share=True, **kwargs):
        n = self._next()
        data = visitor_services.RegistrationData(
            name=name or f"Visitor {n}", email=email or f"visitor{n}@example.com", category=category,
            company=kwargs.pop("company", f"Buyer Co {n}"), job_title=kwargs.pop("job_title", "Buyer"),
            consent=True, share_with_exhibitors=share, **kwargs)
        return visitor_services.register(edition, data, send_confirmation=False)


    def campaign(self, edition, name="Invitation"):
        """A draft campaign to the edition's visitors of any other edition (expo.campaigns)."""
        from expo.campaigns import services as campaign_services

        data = campaign_services.CampaignData(name=name, segment=campaign_services.Segment(attended="show"),
                                              subject_en="Come again", body_en="Dear {name}: {link}")
        return campaign_services.create_campaign(Scope(edition.organizer_id), edition, data)

    def tenant(self, label: str = "A", *, exhibitors=1, visitors=1, leads: bool = True, tokens: bool = False,
               roles=ORGANIZER_ROLES, organizer_name: str | None = None, edition_name: str | None = None,
               domain: str = "example.com", emails: dict | None = None) -> Tenant:
        """One organizer with a live edition, a user of each organizer role in ``roles``, exhibitors (a count, or
        their names) each with an admin and a booth staff member, visitors (a count, or (name, email) pairs),
        and (``leads``) a lead of the first visitor captured by the first exhibitor's booth staff.
        Emails are ``role.label@domain`` (the first exhibitor's staff: ``exhibitor_admin.label@domain``) unless
        ``emails`` names one for the role."""
        emails = emails or {}
        t = Tenant(label=label)
        low = label.lower()
        t.organizer = self.organizer(organizer_name or f"Organizer {label}")
        t.edition = self.edition(t.organizer, name=edition_name or f"Expo {label} {date.today().year}")
        t.show = t.edition.show
        for role in roles:
            t.users[role] = self.user(role, t.organizer, email=emails.get(role, f"{role}.{low}@{domain}"))
        names = [f"Exhibitor {label}{n + 1 if n else ''}" for n in range(exhibitors)] \
            if isinstance(exhibitors, int) else list(exhibitors)
        for n, name in enumerate(names):
            exhibitor = self.exhibitor(t.edition, name)
            suffix = f"{n + 1}" if n else ""
            admin = self.user("exhibitor_admin", exhibitor=exhibitor,
                              email=emails.get(f"exhibitor_admin{suffix}", f"exhibitor_admin{suffix}.{low}@{domain}"))
            booth = self.user("booth_staff", exhibitor=exhibitor,
                              email=emails.get(f"booth_staff{suffix}", f"booth_staff{suffix}.{low}@{domain}"))
            t.exhibitors.append((exhibitor, admin, booth))
        if names:
            t.exhibitor, t.users["exhibitor_admin"], t.users["booth_staff"] = t.exhibitors[0]
        people = [(f"Visitor {label}{n + 1 if n else ''}", f"visitor{n + 1}.{low}@{domain}")
                  for n in range(visitors)] if isinstance(visitors, int) else list(visitors)
        t.registrations = [self.registration(t.edition, name=name, email=email) for name, email in people]
        t.registration = t.registrations[0] if people else None
        t.code = visitor_services.badge_code(t.registration) if people else None
        if leads and names and people:
            t.lead = t.capture(t.users["booth_staff"], t.registration)
        if tokens:
            t.tokens = {role: core.create_api_token(user, "scanner") for role, user in t.users.items()}
        t.campaign = self.campaign(t.edition)  # a draft, for the campaign pages' walks
        t.import_job = self.import_job(t.organizer, t.users["owner"])  # for the import and job pages' walks
        return t

    def import_job(self, organizer, user):
        """An uploaded, mapped persons import waiting for its run, with an error report file (core.jobs)."""
        from expo.core import jobs
        from expo.core.models import Job

        job = Job(organizer_id=organizer.id, user_id=user.id, kind="import.persons", status="queued",
                  params={"permission": "import_data", "import_kind": "persons", "stage": "preview",
                          "filename": "people.csv", "upload": "upload.csv", "title": "Persons",
                          "mapping": {"姓名": "name", "邮箱": "email"}},
                  result={"files": ["errors.csv"]})
        db.session.add(job)
        db.session.flush()
        jobs.file_path(job, "upload.csv").write_text(f"姓名,邮箱\n王伟,wang.{job.id}@example.cn\n", "utf-8")
        jobs.file_path(job, "errors.csv").write_text("Line,Reason\n", "utf-8")
        return job


@dataclass
class Tenant:
    """What ``make.tenant()`` built; every object reachable as an attribute."""

    label: str
    organizer: object = None
    edition: object = None
    show: object = None
    users: dict = field(default_factory=dict)
    exhibitors: list = field(default_factory=list)  # (exhibitor, admin, booth staff)
    exhibitor: object = None
    registrations: list = field(default_factory=list)
    registration: object = None
    code: str | None = None
    lead: object = None
    tokens: dict = field(default_factory=dict)
    campaign: object = None
    import_job: object = None

    @staticmethod
    def capture(user, registration):
        """A booth scan of the registration's badge by ``user``; the new lead."""
        from expo.onsite import services as onsite

        outcome = onsite.record_scan(user, code=visitor_services.badge_code(registration), kind="lead",
                                     client_scan_id=new_scan_id())
        assert outcome.result == "ok", outcome.reason
        return outcome.lead


def compile_catalogues() -> list[Path]:
    """Compile every messages.po whose .mo is missing or stale; return the .mo files written."""
    written = []
    for po in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name)
        partial = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")
        with partial.open("wb") as f:
            write_mo(f, catalog)
        os.replace(partial, mo)  # atomic: a concurrent reader sees the old or the new file, never half of one
        written.append(mo)
    return written


@pytest.fixture
def fresh_translations(app):
    """The compiled catalogue on disk, and no translations cached by Flask-Babel from before it was there."""
    compile_catalogues()
    with app.test_request_context():
        flask_babel.get_domain().cache.clear()
        flask_babel.refresh()


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where browser tests put their screenshots: $EXPO_SCREENSHOTS (to look at them, or for docs/), else a
    temporary folder."""
    folder = Path(os.environ.get("EXPO_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def make(ctx):
    return Factory()


def login(client, user_or_email, password=PASSWORD):
    email = getattr(user_or_email, "email", user_or_email)
    client.get("/login")  # the session must exist before the form's CSRF token is issued
    token = csrf_token(client)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def csrf_token(client, path="/login"):
    html = client.get(path).get_data(as_text=True)
    marker = 'name="csrf-token" content="'
    start = html.index(marker) + len(marker)
    return html[start:html.index('"', start)]


class Browser:
    """One person at their own browser: signs in, and posts forms with the page's CSRF token."""

    def __init__(self, app, user=None):
        self.client = app.test_client()
        if user is not None:
            login(self.client, user)

    def get(self, url, **kwargs):
        return self.client.get(url, **kwargs)

    def post(self, url, data=None, **kwargs):
        token = csrf_token(self.client, "/login")
        return self.client.post(url, data={**(data or {}), "csrf_token": token}, **kwargs)

    def api(self, url, body, token: str):
        return self.client.post(url, json=body, headers={"Authorization": f"Bearer {token}"})


def new_scan_id() -> str:
    return str(uuid.uuid4())


def field_errors(page: str, name: str) -> list[str]:
    """The error messages shown in the form field (``<div class="field">``) holding the input ``name``."""
    for chunk in page.split('<div class="field')[1:]:
        chunk = chunk.split("</div>", 1)[0]
        if re.search(rf'name="{re.escape(name)}"', chunk):
            return [html.unescape(m) for m in re.findall(r'<span class="error">(.*?)</span>', chunk, re.S)]
    raise AssertionError(f"no field {name!r} on the page")


def redirect_path(response) -> str:
    assert response.status_code == 302, (response.status_code, response.get_data(as_text=True)[:2000])
    return urlsplit(response.headers["Location"]).path


def race(app, act, arguments, *, prepare=None, timeout: float = 120) -> list:
    """Race: one thread per item of ``arguments`` (a tuple of arguments, or one argument), each in its own app
    context and transaction. A racer runs ``prepare(*args)`` first when given (loading rows, checking what it
    sees) and waits at a barrier; all are released together into ``act`` — ``act(prepared)`` after a prepare,
    else ``act(*args)`` — and commit. Returns one outcome per item, in order: what ``act`` returned, or the
    ServiceError it raised (rolled back). Any other exception, or a racer still running at the timeout, fails
    the test."""
    import threading

    from expo.core.services import ServiceError

    arguments = [item if isinstance(item, tuple) else (item,) for item in arguments]
    barrier = threading.Barrier(len(arguments))
    outcomes, errors = [None] * len(arguments), []

    def racer(n, args):
        with app.app_context():
            try:
                prepared = prepare(*args) if prepare else None
                barrier.wait(timeout=timeout)
                outcomes[n] = act(prepared) if prepare else act(*args)
                db.session.commit()
            except ServiceError as error:
                db.session.rollback()
                outcomes[n] = error
            except Exception as error:  # noqa: BLE001 - reported below, with the racer's number
                db.session.rollback()
                errors.append(f"racer {n}: {error!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=racer, args=(n, args)) for n, args in enumerate(arguments)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout * 3)
    assert not any(thread.is_alive() for thread in threads), "a racer did not finish"
    assert errors == [], errors
    return outcomes


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


class QueryCounter:
    """The SQL statements one request sends, from its first query to its commit.

    The test's session is closed first, so that nothing the test built is served from the identity
    map (a real request starts empty). Counting stops at the first COMMIT: what runs after it (an
    eager Celery task in the tests, the worker in production) is not the request's work.
    """

    def __init__(self, engine):
        self.engine, self.statements, self.committed = engine, [], False

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        if not self.committed:
            self.statements.append(statement)

    def _commit(self, conn):
        self.committed = True

    def __enter__(self):
        db.session.close()
        event.listen(self.engine, "before_cursor_execute", self._record)
        event.listen(self.engine, "commit", self._commit)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._record)
        event.remove(self.engine, "commit", self._commit)

    def __len__(self):
        return len(self.statements)

    def report(self) -> str:
        return "\n".join(f"{n:3}. {' '.join(s.split())[:160]}" for n, s in enumerate(self.statements, 1))


@pytest.fixture
def count_queries(app):
    """``with count_queries() as q: …`` then ``assert len(q) <= BUDGET, q.report()``."""
    return lambda: QueryCounter(db.engine)
