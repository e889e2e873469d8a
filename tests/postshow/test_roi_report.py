"""Each exhibitor's ROI report (issue 11): the PDF read back with pypdf (leads, hot leads, rank, meetings, profile,
satisfaction against peers, in both languages), the portal's download for the exhibitor's admin only, the mailing
after the show (one mail per admin, in their language, the PDF attached, once per edition) and the organizer's
button, with every role."""
from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from expo.core.models import AuditEntry, MailMessage
from expo.core.services import ServiceError
from expo.extensions import db
from expo.postshow import roi_report
from expo.surveys import services as surveys

from ..conftest import Browser, Tenant
from ..surveys.test_surveys import answers, build_survey


def text_of(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture
def world(make):
    """Three exhibitors: ours (4 leads, 2 hot; answered the survey 9), Second (1 lead; answered 5), Third (none).
    The show ended a week ago."""
    t = make.tenant("R", exhibitors=["Ours 我们的公司", "Second", "Third"], visitors=0, leads=False)
    today = date.today()
    t.edition.starts_on, t.edition.ends_on = today - timedelta(days=10), today - timedelta(days=7)
    people = [make.registration(t.edition, category="buyer") for _ in range(5)]
    ours, second = t.exhibitors[0], t.exhibitors[1]
    for n, person in enumerate(people[:4]):
        Tenant.capture(ours[2], person).rating = "hot" if n < 2 else "warm"
    Tenant.capture(second[2], people[4])
    t.users["exhibitor_admin"].locale = "zh_CN"
    second[1].locale = "en"
    survey, qs = build_survey(t.edition, "exhibitor")
    surveys.submit(surveys.Taker(survey, exhibitor=ours[0]), answers(qs, nps="9"))
    surveys.submit(surveys.Taker(survey, exhibitor=second[0]), answers(qs, nps="5"))
    db.session.commit()
    return t


def test_the_figures_rank_and_satisfaction_against_peers(world):
    ours = world.exhibitors[0][0]
    data = roi_report.roi_figures(ours)
    assert (data["figures"]["leads"], data["figures"]["hot"], data["figures"]["warm"]) == (4, 2, 2)
    assert data["rank"] == {"position": 1, "of": 3}
    assert data["satisfaction"] == {"yours": 9.0, "peers_median": 5.0, "peers": 1}
    third = roi_report.roi_figures(world.exhibitors[2][0])
    assert third["rank"] == {"position": 3, "of": 3} and third["satisfaction"]["yours"] is None


@pytest.mark.parametrize("locale, words", [
    ("en", ["Your results at", "Ours 我们的公司", "Leads and meetings", "Hot leads", "2 (50%)", "1 of 3",
            "Satisfaction", "9.0", "5.0", "Who your leads are"]),
    ("zh_CN", ["Ours 我们的公司", "第 1 名（共 3 家）", "9.0", "5.0", "线索与洽谈"]),
])
def test_the_pdf_says_it_in_the_readers_language(world, locale, words):
    text = text_of(roi_report.roi_pdf(world.exhibitors[0][0], locale=locale))
    for word in words:
        assert word in text, (word, text[:800])
    if locale == "zh_CN":
        assert "线索" in text and "满意度" in text, text[:800]


def test_the_portal_download_is_the_exhibitor_admins_only(app, world):
    admin = world.users["exhibitor_admin"]
    response = Browser(app, admin).get("/portal/roi-report.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "Ours 我们的公司" in text_of(response.get_data())
    page = Browser(app, admin).get("/portal/dashboard").get_data(as_text=True)
    assert 'id="roi-report"' in page
    assert Browser(app, world.users["booth_staff"]).get("/portal/roi-report.pdf").status_code == 403
    for role in ("owner", "manager", "sales", "onsite", "analyst"):
        assert Browser(app, world.users[role]).get("/portal/roi-report.pdf").status_code in (302, 403), role
    # another exhibitor's admin gets their own report, never ours
    other = text_of(Browser(app, world.exhibitors[1][1]).get("/portal/roi-report.pdf").get_data())
    assert "Second" in other and "Ours" not in other


def test_mailed_once_after_the_show_to_each_admin_in_their_language(world):
    edition = world.edition
    during = datetime.combine(edition.ends_on, time(12), timezone.utc)
    with pytest.raises(ServiceError):
        roi_report.mail_reports(edition, now=during)
    queued = roi_report.mail_reports(edition, actor_id=world.users["manager"].id)
    db.session.commit()
    mails = db.session.scalars(select(MailMessage).where(MailMessage.id.in_(queued)).order_by(MailMessage.id)).all()
    assert [m.recipient for m in mails] == [admin.email for _e, admin, _b in world.exhibitors]
    ours = mails[0]
    assert edition.name in ours.subject and "ROI" in ours.subject
    assert len(ours.attachments) == 1 and ours.attachments[0].content_type == "application/pdf"
    assert "线索" in text_of(ours.attachments[0].data)  # our admin reads Chinese
    assert "Leads and meetings" in text_of(mails[1].attachments[0].data)
    assert roi_report.mailed_at(edition) is not None
    with pytest.raises(ServiceError):  # once per edition
        roi_report.mail_reports(edition)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == roi_report.MAILED))
    assert entry.details == {"exhibitors": 3, "mails": 3} and entry.user_id == world.users["manager"].id


def test_the_organizers_button_mails_them_through_the_task(app, world):
    path = f"/org/editions/{world.edition.id}/report"
    for role in ("sales", "onsite", "analyst"):
        assert Browser(app, world.users[role]).post(f"{path}/roi-reports").status_code == 403, role
    assert Browser(app, world.users["exhibitor_admin"]).post(f"{path}/roi-reports").status_code in (302, 403)
    manager = Browser(app, world.users["manager"])
    assert 'id="roi-form"' in manager.get(path).get_data(as_text=True)
    response = manager.post(f"{path}/roi-reports")  # the task runs eagerly in the tests
    assert response.status_code == 302
    assert db.session.scalar(select(db.func.count(MailMessage.id)).where(
        MailMessage.subject.contains("ROI"))) == 3
    page = manager.get(path).get_data(as_text=True)
    assert 'id="roi-mailed"' in page and 'id="roi-form"' not in page
    manager.post(f"{path}/roi-reports")  # a second press sends nothing
    assert db.session.scalar(select(db.func.count(MailMessage.id)).where(
        MailMessage.subject.contains("ROI"))) == 3


def test_no_button_before_the_show_has_ended(app, make):
    t = make.tenant("S", exhibitors=1, visitors=0, leads=False)
    db.session.commit()
    manager = Browser(app, t.users["manager"])
    assert 'id="roi-form"' not in manager.get(f"/org/editions/{t.edition.id}/report").get_data(as_text=True)
    manager.post(f"/org/editions/{t.edition.id}/report/roi-reports")
    assert roi_report.mailed_at(t.edition) is None
