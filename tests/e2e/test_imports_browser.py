"""The import screens in a real browser: upload a GBK file, see the columns mapped from their Chinese names
with sample values, save the mapping, read the preview (new / matched / ambiguous / bad), run it and watch
the progress bar finish; and the progress bar following a running job by polling (static/jobs.js)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from expo.core import jobs
from expo.extensions import db
from expo.visitors.models import Person

from .conftest import sign_in

pytestmark = pytest.mark.e2e

CSV = ("编号,姓名,邮箱,手机,公司,职位\n"
       "P-1,王伟,wang.wei@example.cn,13912340001,深圳华星家具有限公司,采购经理\n"
       "P-2,李娜,li.na@example.cn,139 0000 1111,广州家居股份有限公司,总监\n"
       "P-3,Anna Schmidt,anna@example.de,+49 30 1234567,Büro GmbH,Buyer\n"
       "P-4,,nobody@example.cn,,,\n"
       "P-5,王伟,w.wang@other.cn,+86 139 1234 5678,华星,经理\n"  # a known phone with another email
       "P-6,张敏,known@example.cn,,宏达家具,采购\n")


def _world(make):
    org = make.organizer("华南展览")
    owner = make.user("owner", org)
    db.session.flush()
    from expo.visitors.models import Person as P
    db.session.add(P(organizer_id=org.id, name="Zhang Min", email="KNOWN@example.cn", email_key="known@example.cn"))
    db.session.add(P(organizer_id=org.id, name="王伟", email="wang.wei@huaxing.cn", email_key="wang.wei@huaxing.cn",
                     phone="13912345678", phone_key="+8613912345678"))
    db.session.commit()
    values = {"email": owner.email, "organizer_id": org.id, "user_id": owner.id}
    db.session.remove()
    return values

def test_mapping_screen_to_the_finished_progress_bar(app, make, new_page, shots, tmp_path):
    world = _world(make)
    path = tmp_path / "观众名单.csv"
    path.write_bytes(CSV.encode("gbk"))
    page = new_page(viewport={"width": 1200, "height": 900})
    sign_in(page, world["email"])

    page.goto("/org/imports")
    page.select_option("#kind", "persons")
    page.set_input_files("#file", str(path))
    page.screenshot(path=str(shots / "imports-upload.png"), full_page=True)
    with page.expect_navigation():
        page.click("#import-upload button[type=submit]")
    assert "/mapping" in page.url, page.inner_text("main")

    # columns detected with sample values, mapped from their Chinese names
    assert page.input_value("select[data-column='姓名']") == "name"
    assert page.input_value("select[data-column='手机']") == "phone"
    assert page.input_value("select[data-column='邮箱']") == "email"
    assert page.input_value("select[data-column='编号']") == "external_ref"
    assert "wang.wei@example.cn" in page.inner_text("main") and "gb18030" in page.inner_text("main")
    page.fill("#mapping_name", "展会报名导出")
    page.screenshot(path=str(shots / "imports-mapping.png"), full_page=True)
    with page.expect_navigation():
        page.click("#import-mapping button[type=submit]")
    assert "/preview" in page.url, page.inner_text("main")

    counts = page.inner_text("#preview-counts")
    assert [line for line in counts.split("\n") if line.strip()][:2] == ["3", "New"]
    assert "Name is required" in page.inner_text("#preview-bad")
    assert "another email" in page.inner_text("#preview-ambiguous")
    assert "known@example.cn" in page.inner_text("#preview-matched")
    page.screenshot(path=str(shots / "imports-preview.png"), full_page=True)
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(Person)) == 2  # nothing written by the preview
    db.session.remove()

    with page.expect_navigation():
        page.click("#import-run button[type=submit]")
    assert "/org/jobs/" in page.url
    page.wait_for_selector("#job-bar.bg-success")
    assert page.inner_text("#job-bar").strip() == "100%"
    assert page.eval_on_selector("#job-bar", "bar => bar.style.width") == "100%"
    assert "3 new, 1 matched, 1 ambiguous, 1 bad" in page.inner_text("#job-message")
    assert "errors.csv" in page.inner_text("#job-files")
    page.screenshot(path=str(shots / "imports-progress.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#job-files a")
    report = open(download.value.path(), encoding="utf-8-sig").read()
    assert "nobody@example.cn" in report and "w.wang@other.cn" in report


def test_progress_bar_follows_a_running_job(app, make, new_page):
    world = _world(make)
    job = jobs.create("badges.batch", organizer_id=world["organizer_id"], user_id=world["user_id"])
    db.session.commit()
    jobs.advance(job.id, 3, total=10)
    job_id = job.id
    db.session.remove()
    page = new_page()
    sign_in(page, world["email"])
    page.goto(f"/org/jobs/{job_id}")
    assert page.eval_on_selector("#job-bar", "bar => bar.style.width") == "30%"
    jobs.advance(job_id, 7, total=10)
    db.session.remove()
    page.wait_for_function("() => document.getElementById('job-bar').style.width === '70%'")
    jobs.finish(job_id, message="10 badges")
    db.session.remove()
    page.wait_for_selector("#job-bar.bg-success")
    assert page.inner_text("#job-message") == "10 badges"
