"""Mail through the real machinery: a Celery worker process, a broker, an SMTP server on loopback.

The broker is EXPO_TEST_BROKER_URL (Redis) when set, otherwise the embedded filesystem broker in a
temporary folder. The database is the one the session ``app`` fixture migrated (SQLite file or
PostgreSQL), shared by this process and the worker.
"""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import uuid
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from PIL import Image
from sqlalchemy import select

from expo import create_app
from expo.config import ROOT
from expo.core import services as core
from expo.core.models import MailMessage
from expo.core.scoping import Scope
from expo.core.tasks import deliver_mail
from expo.extensions import db
from expo.visitors.models import Registration
from expo.visitors.services import badge_code

from ..conftest import broker_url, csrf_token

pytestmark = pytest.mark.integration

PUBLIC_URL = "http://expo.example.com"
DEADLINE_SECONDS = 60


class CollectingHandler:
    """An aiosmtpd handler that keeps every envelope it receives."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def require_broker(url: str) -> None:
    """A broker that was asked for must answer: a missing Redis fails the test, it is never skipped."""
    if not url.startswith(("redis://", "rediss://")):
        return
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"EXPO_TEST_BROKER_URL={url} is set but Redis does not answer: {error}")
    finally:
        client.close()


@pytest.fixture
def worker_setup(app, tmp_path, smtp_server, monkeypatch):
    """Environment for the worker, and a second app of this process that sends tasks to its broker."""
    controller, handler = smtp_server
    instance = tmp_path / "instance"
    env = {
        "EXPO_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "EXPO_BROKER_URL": broker_url(),
        "EXPO_SMTP_URL": f"smtp://127.0.0.1:{controller.port}",
        "EXPO_INSTANCE_DIR": str(instance),
        "EXPO_SECRET_KEY": "worker-test-secret",
        "EXPO_PUBLIC_URL": PUBLIC_URL,
        "EXPO_CELERY_EAGER": "0",
    }
    # The sending app reads the same settings, so the filesystem broker's folders are the worker's.
    with monkeypatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        sender = create_app({"TESTING": True, "SMTP_URL": None})
    sender.extensions["celery"].conf.update(task_always_eager=False)
    try:
        yield env, sender, handler
    finally:
        with sender.app_context():
            db.engine.dispose()
        session_celery = app.extensions["celery"]
        session_celery.set_current()
        session_celery.set_default()


def start_worker(env: dict, log_path):
    worker_env = {k: v for k, v in os.environ.items() if not k.startswith("EXPO_")}
    worker_env.update(env)
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "expo.celery_app", "worker", "--pool=threads", "--concurrency=1",
         "--loglevel=INFO", f"--hostname=expo-test-{uuid.uuid4().hex[:8]}@%h"],
        cwd=str(ROOT), env=worker_env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return process


def stop_worker(process, log_path) -> str:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return log_path.read_text(errors="replace")


def wait_for(condition, process, what: str):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"the worker exited with code {process.returncode} while waiting for {what}")
        time.sleep(0.2)
    pytest.fail(f"timed out after {DEADLINE_SECONDS} s waiting for {what}")


def test_registration_mail_is_delivered_by_the_worker(app, make, worker_setup, tmp_path):
    env, sender, handler = worker_setup
    require_broker(env["EXPO_BROKER_URL"])
    edition = make.edition(name="SZIFF 深圳国际家具展 2026")
    db.session.commit()
    slug, edition_id = edition.slug, edition.id

    log_path = tmp_path / "worker.log"
    worker = start_worker(env, log_path)
    passed = False
    try:
        client = sender.test_client()
        token = csrf_token(client, f"/e/{slug}")
        response = client.post(f"/e/{slug}", data={
            "csrf_token": token, "name": "王小明", "email": "xiaoming@example.cn", "phone": "+86 138 0000 1111",
            "company": "深圳宏达家具有限公司", "job_title": "采购经理", "country": "CN", "category": "buyer",
            "consent": "y", "share_with_exhibitors": "y"})
        assert response.status_code == 302, response.get_data(as_text=True)

        db.session.rollback()
        registration = db.session.scalar(select(Registration).where(Registration.edition_id == edition_id))
        assert registration is not None and registration.person.name == "王小明"
        expected_code = badge_code(registration)
        access_key = registration.access_key

        envelopes = wait_for(lambda: list(handler.envelopes), worker, "the confirmation mail at the SMTP server")
        assert len(envelopes) == 1
        envelope = envelopes[0]
        assert envelope.rcpt_tos == ["xiaoming@example.cn"]
        mail = message_from_bytes(envelope.content, policy=policy.default)
        assert "xiaoming@example.cn" in mail["To"]
        assert "SZIFF 深圳国际家具展 2026" in str(mail["Subject"])
        body = mail.get_body(preferencelist=("plain",)).get_content()
        assert f"{PUBLIC_URL}/r/{access_key}" in body
        assert "王小明" in body

        attachments = [part for part in mail.iter_attachments() if part.get_filename() == "badge.png"]
        assert len(attachments) == 1
        assert attachments[0].get_content_type() == "image/png"
        image = Image.open(io.BytesIO(attachments[0].get_content()))
        import zxingcpp

        decoded = [result.text for result in zxingcpp.read_barcodes(image)]
        assert decoded == [expected_code]

        def message_sent():
            db.session.rollback()  # a fresh snapshot: the worker commits in its own process
            message = db.session.scalar(select(MailMessage).where(MailMessage.recipient == "xiaoming@example.cn"))
            return message if message is not None and message.status == "sent" else None

        message = wait_for(message_sent, worker, "the outbox row to be marked sent")
        assert message.sent_at is not None
        assert message.error is None
        assert message.organizer_id == edition.organizer_id
        passed = True
    finally:
        output = stop_worker(worker, log_path)
        if not passed:
            print("---- celery worker output ----")
            print(output)


def test_without_smtp_the_message_is_kept_in_the_outbox(app, make):
    assert app.config["SMTP_URL"] is None
    organizer = make.organizer()
    message = core.queue_mail(organizer.id, "visitor@example.com", "Hello 你好", "Body 正文",
                              attachments=[("badge.png", "image/png", b"\x89PNG fake")])
    db.session.commit()
    message_id = message.id

    deliver_mail.delay(message_id)  # waits for the transaction (the read of message.id opened one) to commit
    db.session.commit()  # …then runs eagerly here, in its own app context

    db.session.expire_all()
    message = db.session.get(MailMessage, message_id)
    assert message.status == "kept"
    assert message.sent_at is None
    assert [a.filename for a in message.attachments] == ["badge.png"]
    assert message in core.outbox(Scope(organizer.id))


def test_registration_without_smtp_keeps_the_confirmation(app, make):
    """The whole eager path: register → commit → send_confirmation → deliver_mail → kept."""
    from celery import current_app as current_celery

    from expo.visitors import services as visitor_services

    # The worker test above must have handed the session's eager Celery app back.
    assert current_celery._get_current_object() is app.extensions["celery"]
    assert current_celery.conf.task_always_eager
    edition = make.edition()
    data = visitor_services.RegistrationData(name="李娜", email="lina@example.cn", category="trade_visitor",
                                             consent=True)
    registration = visitor_services.register(edition, data)
    db.session.commit()
    registration_id = registration.id

    db.session.expire_all()
    messages = list(db.session.scalars(select(MailMessage).where(MailMessage.recipient == "lina@example.cn")))
    assert len(messages) == 1
    assert messages[0].status == "kept"
    assert edition.name in messages[0].subject
    assert [a.filename for a in messages[0].attachments] == ["badge.png"]
    registration = db.session.get(Registration, registration_id)
    assert f"/r/{registration.access_key}" in messages[0].body_text
