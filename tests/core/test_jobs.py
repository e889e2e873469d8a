"""Background jobs (core.jobs) and the import screens: upload → mapping → preview → run → progress page."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from expo.core import jobs
from expo.core.models import ImportMapping, Job
from expo.extensions import db
from expo.visitors.models import Person

from ..conftest import count, csrf_token, login, redirect_path

CSV = ("编号,姓名,邮箱,手机,公司\n"
       "P-1,王伟,wang.wei@example.cn,13912345678,华星家具有限公司\n"
       "P-2,,nobody@example.cn,,\n"
       "P-3,Anna Schmidt,anna@example.de,+49 30 1234567,Büro GmbH\n").encode("gb18030")


def test_the_jobs_interface(make, app):
    org = make.organizer()
    owner = make.user("owner", org)
    db.session.commit()
    job = jobs.create("badges.batch", organizer_id=org.id, user_id=owner.id, params={"permission": "view_audit"})
    assert job.status == "queued" and job.percent == 0
    db.session.commit()  # the view's commit: from here on the worker reports progress
    jobs.advance(job.id, 5, total=20, errors=1)
    db.session.rollback()
    with db.engine.connect() as other:  # committed: another connection (the progress page) sees it
        assert other.execute(select(Job.done, Job.status)).one() == (5, "running")
    assert jobs.get(job.id).percent == 25
    path = jobs.file_path(job, "badges.pdf")
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(ValueError):
        jobs.file_path(job, "../secret")
    jobs.finish(job.id, result={"files": ["badges.pdf", "missing.pdf"]}, message="20 badges")
    job = jobs.get(job.id)
    assert (job.status, job.percent, job.message) == ("done", 100, "20 badges") and job.finished_at
    assert jobs.files(job) == ["badges.pdf"]
    other = jobs.create("x", organizer_id=org.id, user_id=None)
    db.session.commit()
    jobs.fail(other.id, "boom")
    assert jobs.get(other.id).status == "failed"


def test_job_pages_are_scoped_and_follow_the_permission(make, client):
    org, other_org = make.organizer(), make.organizer()
    owner, manager = make.user("owner", org), make.user("manager", org)
    stranger = make.user("owner", other_org)
    job = jobs.create("badges.batch", organizer_id=org.id, user_id=owner.id, params={"permission": "view_audit"})
    db.session.commit()
    jobs.file_path(job, "badges.pdf").write_bytes(b"%PDF-1.4 test")
    jobs.finish(job.id, result={"files": ["badges.pdf"]})
    db.session.commit()
    login(client, owner)
    page = client.get(f"/org/jobs/{job.id}")
    assert page.status_code == 200 and "badges.pdf" in page.get_data(as_text=True)
    assert client.get(f"/org/jobs/{job.id}.json").get_json()["percent"] == 100
    download = client.get(f"/org/jobs/{job.id}/files/badges.pdf")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 test"
    assert client.get(f"/org/jobs/{job.id}/files/other.pdf").status_code == 404
    login(client, manager)  # managers cannot read the audit log: this job is not theirs to see
    assert client.get(f"/org/jobs/{job.id}").status_code == 404
    login(client, stranger)
    assert client.get(f"/org/jobs/{job.id}.json").status_code == 404


def _upload(client, content=CSV, name="people.csv", kind="persons", edition_id=0, mapping_id=0):
    token = csrf_token(client, "/org/imports")
    return client.post("/org/imports", data={"csrf_token": token, "kind": kind, "edition_id": edition_id,
                                             "mapping_id": mapping_id, "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_the_import_screens_end_to_end(make, client, app):
    org = make.organizer()
    owner = make.user("owner", org)
    db.session.commit()
    login(client, owner)
    path = redirect_path(_upload(client))
    job_id = int(re.search(r"/org/imports/(\d+)/mapping", path).group(1))
    page = client.get(path).get_data(as_text=True)
    assert "gb18030" in page and "wang.wei@example.cn" in page  # columns with sample values
    assert re.search(r'name="column-1"[^>]*>.*?<option value="name" selected', page, re.S)  # 姓名 → Name
    token = csrf_token(client, path)
    form = {"csrf_token": token, "column-0": "external_ref", "column-1": "name", "column-2": "email",
            "column-3": "phone", "column-4": "company", "mapping_name": "CRM export"}
    assert redirect_path(client.post(path, data=form)) == f"/org/imports/{job_id}/preview"
    assert db.session.scalar(select(ImportMapping.columns).where(ImportMapping.name == "CRM export"))["姓名"] == "name"
    preview = client.get(f"/org/imports/{job_id}/preview").get_data(as_text=True)
    assert count(Person) == 0  # nothing written before the user says so
    assert "王伟" in preview and "Name is required" in preview
    token = csrf_token(client, f"/org/imports/{job_id}/preview")
    response = client.post(f"/org/imports/{job_id}/preview", data={"csrf_token": token, "ambiguous": "skip"})
    assert redirect_path(response) == f"/org/jobs/{job_id}"  # eager in tests: the task has run
    db.session.rollback()
    job = db.session.get(Job, job_id)
    assert job.status == "done" and job.result["counts"]["new"] == 2 and job.result["counts"]["bad"] == 1
    assert count(Person) == 2
    status = client.get(f"/org/jobs/{job_id}.json").get_json()
    assert status["finished"] and status["files"] == ["errors.csv"]
    report = client.get(status["file_urls"]["errors.csv"]).data.decode("utf-8-sig")
    assert report.splitlines()[1].startswith("3,") and "nobody@example.cn" in report
    # the run cannot be started twice
    response = client.post(f"/org/imports/{job_id}/preview", data={"csrf_token": token, "ambiguous": "skip"})
    assert redirect_path(response) == f"/org/jobs/{job_id}"
    # the saved mapping on the next upload: straight to a full mapping
    mapping_id = db.session.scalar(select(ImportMapping.id))
    path = redirect_path(_upload(client, mapping_id=mapping_id))
    again = int(re.search(r"/org/imports/(\d+)/mapping", path).group(1))
    assert db.session.get(Job, again).params["mapping"]["编号"] == "external_ref"


@pytest.mark.parametrize("content, name, message", [
    (b"", "empty.csv", "The file is empty"),
    (b"\x00\x01\x02\x03\x04\x05\x06\x07" * 100, "x.csv", "binary data"),
    (b"PK\x03\x04not really a zip", "x.xlsx", "cannot be read"),
    ("\n\n".encode(), "blank.csv", "column names"),
])
def test_hostile_uploads_are_refused_in_words(make, client, content, name, message):
    org = make.organizer()
    owner = make.user("owner", org)
    db.session.commit()
    login(client, owner)
    response = _upload(client, content=content, name=name)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_an_edition_kind_needs_an_edition(make, client):
    org = make.organizer()
    owner = make.user("owner", org)
    db.session.commit()
    login(client, owner)
    response = _upload(client, kind="registrations")
    assert response.status_code == 200 and "goes into an edition" in response.get_data(as_text=True)


def test_the_error_report_neutralises_the_uploaded_header(make, tmp_path):
    from ..visitors.test_imports import run, write

    org = make.organizer()
    path = write(tmp_path, "姓名,邮箱,=HYPERLINK(\"http://x\")\n,a@example.cn,1\n")
    report = run(org, path)
    assert report.counts["bad"] == 1
    import csv

    with open(path.with_suffix(".errors.csv"), encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
    assert header[-1] == "'=HYPERLINK(\"http://x\")"
