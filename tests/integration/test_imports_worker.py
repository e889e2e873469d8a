"""An import run by a real Celery worker process (broker: EXPO_TEST_BROKER_URL or the embedded filesystem
broker), against the database the session migrated (SQLite file or PostgreSQL): the progress the worker
writes is what the job page reads, and the error report is a file the web app serves."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from expo.core.models import Job
from expo.extensions import db
from expo.visitors.models import Person

from ..conftest import csrf_token, login
from .test_worker_mail import require_broker, smtp_server, start_worker, stop_worker, wait_for, worker_setup  # noqa: F401

pytestmark = pytest.mark.integration

ROWS = 2500  # more than two batches: progress is reported in between


def _csv() -> bytes:
    lines = ["编号,姓名,邮箱,手机"]
    for n in range(ROWS):
        lines.append(f"W-{n},工人{n},worker{n}@example.cn,139{n:08d}" if n % 500 else f"W-{n},,broken{n},")
    return ("\n".join(lines) + "\n").encode("gb18030")


def test_import_job_runs_in_the_worker(app, make, worker_setup, tmp_path):  # noqa: F811
    env, sender, _handler = worker_setup
    require_broker(env["EXPO_BROKER_URL"])
    org = make.organizer()
    owner = make.user("owner", org)
    db.session.commit()
    email = owner.email
    db.session.remove()

    log_path = tmp_path / "worker.log"
    worker = start_worker(env, log_path)
    passed = False
    try:
        client = sender.test_client()
        login(client, email)
        token = csrf_token(client, "/org/imports")
        response = client.post("/org/imports", data={"csrf_token": token, "kind": "persons", "edition_id": "0",
                                                     "mapping_id": "0", "file": (io.BytesIO(_csv()), "w.csv")},
                               content_type="multipart/form-data")
        assert response.status_code == 302, response.get_data(as_text=True)
        job_id = int(re.search(r"/org/imports/(\d+)/mapping", response.headers["Location"]).group(1))
        token = csrf_token(client, f"/org/imports/{job_id}/preview")
        response = client.post(f"/org/imports/{job_id}/preview", data={"csrf_token": token, "ambiguous": "skip"})
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/org/jobs/{job_id}")

        seen = []

        def finished():
            status = client.get(f"/org/jobs/{job_id}.json").get_json()
            seen.append(status["done"])
            return status if status["finished"] else None

        status = wait_for(finished, worker, "the import job to finish in the worker")
        assert status["status"] == "done", status
        assert status["result"]["counts"]["new"] == ROWS - ROWS // 500
        assert status["result"]["counts"]["bad"] == ROWS // 500
        report = client.get(f"/org/jobs/{job_id}/files/errors.csv")
        assert report.status_code == 200 and "broken500" in report.data.decode("utf-8-sig")
        db.session.remove()
        assert db.session.scalar(select(func.count()).select_from(Person)) == ROWS - ROWS // 500
        assert db.session.get(Job, job_id).finished_at is not None
        passed = True
    finally:
        log = stop_worker(worker, log_path)
        db.session.remove()
        if not passed:
            print(log)
