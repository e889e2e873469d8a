"""Badges in bulk through the real machinery: the button's POST queues the job on the broker, a Celery worker
process draws the PDF, the job row shows its progress to the page, and the file is served from the job page.

The broker is EXPO_TEST_BROKER_URL (Redis) when set, otherwise the embedded filesystem broker; the database is
the one the session ``app`` fixture migrated, shared with the worker (see tests/integration)."""
from __future__ import annotations

import pypdfium2
import pytest
from sqlalchemy import select

from expo import create_app
from expo.core import badge_codes
from expo.core.models import Job, Organizer
from expo.extensions import db

from ..conftest import csrf_token, login
from ..integration.test_worker_mail import broker_url, require_broker, start_worker, stop_worker, wait_for
from .test_badge_sheets import decode_page

pytestmark = pytest.mark.integration


@pytest.fixture
def sender(app, tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    env = {"EXPO_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "EXPO_BROKER_URL": broker_url(),
           "EXPO_INSTANCE_DIR": str(instance), "EXPO_SECRET_KEY": "worker-test-secret", "EXPO_CELERY_EAGER": "0"}
    with monkeypatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        sending_app = create_app({"TESTING": True, "SMTP_URL": None, "INSTANCE_DIR": instance})
    sending_app.extensions["celery"].conf.update(task_always_eager=False)
    try:
        yield env, sending_app
    finally:
        with sending_app.app_context():
            db.engine.dispose()
        session_celery = app.extensions["celery"]
        session_celery.set_current()
        session_celery.set_default()


def test_batch_badges_are_drawn_by_the_worker_with_progress(app, make, sender, tmp_path):
    env, sending_app = sender
    require_broker(env["EXPO_BROKER_URL"])
    organizer = make.organizer()
    edition = make.edition(organizer, name="深圳国际家具展 2026")
    regs = [make.registration(edition, name=f"王小明{i}", category="media" if i % 3 == 0 else "buyer")
            for i in range(9)]
    staff = make.user("onsite", organizer)
    db.session.commit()
    media = sorted(r.id for r in regs if r.category == "media")
    edition_id, verify_key = edition.id, edition.verify_key

    log_path = tmp_path / "worker.log"
    worker = start_worker(env, log_path)
    passed = False
    try:
        client = sending_app.test_client()
        login(client, staff)
        listing = f"/org/editions/{edition_id}/registrations?category=media"
        response = client.post(f"/org/editions/{edition_id}/registrations/badges?category=media",
                               data={"format": "a6", "csrf_token": csrf_token(client, listing)})
        assert response.status_code == 302, response.get_data(as_text=True)
        job_id = int(response.headers["Location"].rsplit("/", 1)[1])

        def finished():
            db.session.rollback()  # a fresh snapshot: the worker commits in its own process
            job = db.session.get(Job, job_id)
            return job if job is not None and job.status in ("done", "failed") else None

        job = wait_for(finished, worker, "the badge job to finish")
        assert job.status == "done", job.message
        assert (job.done, job.total) == (len(media), len(media))
        status = client.get(f"/org/jobs/{job_id}.json").get_json()
        assert status["percent"] == 100 and status["files"] == ["badges.pdf"]
        pdf = client.get(status["file_urls"]["badges.pdf"])
        assert pdf.status_code == 200
        document = pypdfium2.PdfDocument(pdf.data)
        assert len(document) == len(media)
        found = sorted(badge_codes.read_badge(text).registration_id
                       for page in document for text, _x, _y in decode_page(page)
                       if badge_codes.signature_valid(badge_codes.read_badge(text), verify_key))
        document.close()
        assert found == media
        assert db.session.scalar(select(Organizer.id).where(Organizer.id == organizer.id))
        passed = True
    finally:
        log = stop_worker(worker, log_path)
        if not passed:
            print(log)
