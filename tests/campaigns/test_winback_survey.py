"""Survey invitations (campaign kind "survey"): each visitor / exhibitor of the edition gets their own signed
survey link (expo.surveys), and one reminder — never two — goes only to those who have not answered, after N
days (the beat, frozen time) or at the organizer's button."""
from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from expo.campaigns import services, survey_mail
from expo.campaigns.models import Campaign, Recipient
from expo.core.db import utcnow
from expo.core.models import MailMessage
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.extensions import db
from expo.surveys import services as surveys
from expo.surveys.models import SurveyResponse

from ..conftest import Browser, redirect_path


def open_survey(scope, edition, audience="visitor", title="How was the fair?"):
    survey = surveys.create_survey(scope, edition, surveys.SurveyData(audience=audience, title_en=title,
                                                                      title_zh="展会体验如何？"))
    surveys.add_question(survey, surveys.QuestionData(kind="nps", text_en="Recommend us?", text_zh="推荐吗？"))
    surveys.set_status(survey, "open")
    return survey


@pytest.fixture
def world(make):
    """A tenant with three visitors (one cancelled later) and two exhibitors; an open visitor survey and an open
    exhibitor survey; another organizer with its own survey."""
    t = make.tenant("S", exhibitors=2, visitors=3, leads=False)
    scope = Scope(t.organizer.id)
    cancelled = make.registration(t.edition, name="Gone Visitor", email="gone@example.com")
    cancelled.status = "cancelled"
    visitor_survey = open_survey(scope, t.edition)
    exhibitor_survey = open_survey(scope, t.edition, "exhibitor", "Exhibitor survey")
    other = make.tenant("O", exhibitors=0, visitors=1, leads=False)
    other_survey = open_survey(Scope(other.organizer.id), other.edition)
    db.session.commit()
    return SimpleNamespace(t=t, scope=scope, visitor_survey=visitor_survey, exhibitor_survey=exhibitor_survey,
                           other=other, other_survey=other_survey)


def send(campaign):
    services.start(campaign)
    batch = services.send_batch(campaign.id)
    assert batch.ran and not batch.more
    db.session.commit()
    return batch


def answer(survey, registration=None, exhibitor=None):
    db.session.add(SurveyResponse(organizer_id=survey.organizer_id, survey_id=survey.id, edition_id=survey.edition_id,
                                  registration_id=registration.id if registration else None,
                                  person_id=registration.person_id if registration else None,
                                  exhibitor_id=exhibitor.id if exhibitor else None,
                                  company_id=exhibitor.company_id if exhibitor else None))
    db.session.flush()


def test_each_visitor_gets_their_own_signed_link(world):
    t = world.t
    campaign = survey_mail.create_survey_campaign(world.scope, t.edition, world.visitor_survey.id, remind_after_days=5)
    assert campaign.kind == "survey" and campaign.settings["survey_id"] == world.visitor_survey.id
    assert "{link}" in campaign.body_en and campaign.subject_zh
    assert survey_mail.preview(campaign, t.edition).count == 3  # not the cancelled registration
    batch = send(campaign)
    assert len(batch.message_ids) == 3
    for registration in t.registrations:
        mail = db.session.scalar(select(MailMessage).where(MailMessage.recipient == registration.person.email))
        path = surveys.take_path(world.visitor_survey, registration_id=registration.id)
        assert path in mail.body_text
        taker = surveys.taker_of(path.rsplit("/", 1)[1])
        assert taker is not None and taker.registration.id == registration.id
    assert db.session.scalar(select(MailMessage).where(MailMessage.recipient == "gone@example.com")) is None


def test_exhibitor_survey_mails_the_exhibitor_admins(world):
    t = world.t
    campaign = survey_mail.create_survey_campaign(world.scope, t.edition, world.exhibitor_survey.id)
    send(campaign)
    for exhibitor, admin, booth in t.exhibitors:
        mail = db.session.scalar(select(MailMessage).where(MailMessage.recipient == admin.email))
        assert surveys.take_path(world.exhibitor_survey, exhibitor_id=exhibitor.id) in mail.body_text
        assert db.session.scalar(select(MailMessage).where(MailMessage.recipient == booth.email)) is None


def test_one_reminder_only_to_those_who_have_not_answered(world):
    t = world.t
    campaign = survey_mail.create_survey_campaign(world.scope, t.edition, world.visitor_survey.id, remind_after_days=5)
    send(campaign)
    answer(world.visitor_survey, registration=t.registrations[0])
    sent_at = campaign.finished_at
    with pytest.raises(ServiceError):  # not due yet
        survey_mail.remind(campaign, now=sent_at + timedelta(days=4))
    assert survey_mail.due_reminders(sent_at + timedelta(days=4)) == []
    assert survey_mail.due_reminders(sent_at + timedelta(days=5, seconds=1)) == [campaign.id]
    ids = survey_mail.remind(campaign, now=sent_at + timedelta(days=5, seconds=1))
    db.session.commit()
    reminded = {m.recipient for m in db.session.scalars(select(MailMessage).where(MailMessage.id.in_(ids)))}
    assert reminded == {r.person.email for r in t.registrations[1:]}
    assert all(m.subject.startswith("Reminder:") for m in db.session.scalars(
        select(MailMessage).where(MailMessage.id.in_(ids))))
    assert survey_mail.reminded_count(campaign) == 2
    # Never twice: not by the beat, not by the button.
    assert survey_mail.due_reminders(sent_at + timedelta(days=30)) == []
    with pytest.raises(ServiceError):
        survey_mail.remind(campaign, now=sent_at + timedelta(days=30), early=True)
    assert survey_mail.send_due_reminders() == 0
    assert len(db.session.scalars(select(MailMessage)).all()) == 3 + 2


def test_the_beat_sends_the_reminder_once(world):
    t = world.t
    campaign = survey_mail.create_survey_campaign(world.scope, t.edition, world.visitor_survey.id, remind_after_days=1)
    send(campaign)
    campaign.finished_at = utcnow() - timedelta(days=2)
    db.session.commit()
    assert survey_mail.send_due_reminders() == 3
    assert survey_mail.send_due_reminders() == 0
    assert db.session.get(Campaign, campaign.id).reminder_sent_at is not None


def test_bad_survey_choices_are_refused(world):
    t = world.t
    for bad in (world.other_survey.id, "\x00", 10**20, None, "1 OR 1=1"):
        with pytest.raises(ServiceError):
            survey_mail.create_survey_campaign(world.scope, t.edition, bad)
    for days in (0, 61, "x", 10**30):
        with pytest.raises(ServiceError):
            survey_mail.create_survey_campaign(world.scope, t.edition, world.visitor_survey.id, remind_after_days=days)
    draft = survey_mail.create_survey_campaign(world.scope, t.edition, world.visitor_survey.id)
    with pytest.raises(ServiceError):  # nothing sent yet
        survey_mail.remind(draft, early=True)


def test_survey_invitation_pages(app, world):
    t = world.t
    manager = Browser(app, t.users["manager"].email)
    page = manager.get(f"/org/editions/{t.edition.id}/survey-mail/new").get_data(as_text=True)
    assert "How was the fair?" in page
    bad = manager.post(f"/org/editions/{t.edition.id}/survey-mail/new",
                       {"survey": str(world.other_survey.id), "remind_after_days": "7"})
    assert bad.status_code == 200
    nul = manager.post(f"/org/editions/{t.edition.id}/survey-mail/new",
                       {"survey": "\x00", "remind_after_days": "99999999999999999999"})
    assert nul.status_code == 200
    response = manager.post(f"/org/editions/{t.edition.id}/survey-mail/new",
                            {"survey": str(world.visitor_survey.id), "remind_after_days": "3"})
    campaign = db.session.scalar(select(Campaign).where(Campaign.kind == "survey"))
    path = redirect_path(response)
    assert path == f"/org/editions/{t.edition.id}/campaigns/{campaign.id}"
    page = manager.get(path).get_data(as_text=True)
    assert t.registrations[0].person.email in page and 'id="survey-reminder"' in page
    manager.post(f"/org/editions/{t.edition.id}/campaigns/{campaign.id}/status", {"to": "sending"})
    db.session.expire_all()
    if db.session.get(Campaign, campaign.id).status != "sent":  # eager tasks may have sent it already
        services.send_batch(campaign.id)
        db.session.commit()
    first = manager.post(f"/org/editions/{t.edition.id}/campaigns/{campaign.id}/reminder")
    assert redirect_path(first) == path
    second = manager.post(f"/org/editions/{t.edition.id}/campaigns/{campaign.id}/reminder")
    page = manager.get(redirect_path(second)).get_data(as_text=True)
    assert "nobody gets a second one" in page
    assert db.session.scalar(select(Recipient.id).where(Recipient.campaign_id == campaign.id,
                                                        Recipient.reminded_at.is_(None))) is None
