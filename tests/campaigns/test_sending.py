"""Sending: the segment snapshot, batches at a bounded rate, pause and resume, never twice, both languages,
and unsubscribed addresses refused by the outbox for marketing mail whoever sends it."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from expo.campaigns import services
from expo.campaigns import tasks as campaign_tasks
from expo.campaigns.models import Campaign, Recipient
from expo.campaigns.segments import Segment
from expo.core import services as core
from expo.core.activity import timeline
from expo.core.db import utcnow
from expo.core.models import Activity, MailMessage
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.extensions import db
from expo.visitors import services as visitors

from ..conftest import race
from .conftest import draft, office_chairs, register

BROAD = Segment(attended="show")  # alice, bob, carol, dave, erin, frank


def mails(campaign=None):
    db.session.expire_all()
    return list(db.session.scalars(select(MailMessage).order_by(MailMessage.id)))


def recipients(campaign):
    db.session.expire_all()
    return list(db.session.scalars(select(Recipient).where(Recipient.campaign_id == campaign.id)
                                   .order_by(Recipient.id)))


def start(campaign):
    """Start sending as the page does: the first batch runs (eagerly here) after the commit."""
    count = services.start(campaign, actor_id=None)
    db.session.commit()
    return count


def test_preview_count_is_the_sent_count(fair):
    campaign = draft(fair, office_chairs(fair))
    preview = services.preview(fair.target, office_chairs(fair))
    assert start(campaign) == preview.count == 2
    assert {m.recipient for m in mails()} == {"alice@example.com", "bob@example.com"}
    assert db.session.get(Campaign, campaign.id).status == "sent"
    report = services.report(db.session.get(Campaign, campaign.id))
    assert (report.recipients, report.sent, report.pending, report.skipped) == (2, 2, 0, 0)


def test_each_recipient_gets_the_language_of_their_last_registration(fair):
    campaign = draft(fair, office_chairs(fair))
    start(campaign)
    by_address = {m.recipient: m for m in mails()}
    alice, bob = by_address["alice@example.com"], by_address["bob@example.com"]
    # alice's last registration (2025) was in Chinese (her 2024 one in English); bob's in English
    assert alice.subject == "诚邀参观" and alice.body_text.startswith("Alice 测试，您好")
    assert "不再接收" in alice.body_text or "/u/" in alice.body_text
    assert bob.subject == "Come to Bob 测试's fair" and bob.body_text.startswith("Dear Bob 测试,")
    for message in (alice, bob):
        assert f"http://expo.example.com/e/{fair.target.slug}?c=" in message.body_text
        assert "http://expo.example.com/u/" in message.body_text
        assert f'href="http://expo.example.com/e/{fair.target.slug}?c=' in message.body_html
        assert "http://expo.example.com/u/" in message.body_html
    assert 'lang="zh-CN"' in alice.body_html and 'lang="en"' in bob.body_html


def test_one_language_only_is_sent_to_everybody(fair):
    campaign = draft(fair, office_chairs(fair), subject_zh="", body_zh="")
    start(campaign)
    assert {m.subject for m in mails()} == {"Come to Alice 测试's fair", "Come to Bob 测试's fair"}


def test_html_version_escapes_the_text(fair):
    campaign = draft(fair, office_chairs(fair), body_en="<b>Hi</b> {name} & co\n\n<script>x</script>{link}",
                     subject_zh="", body_zh="")
    start(campaign)
    html = mails()[0].body_html
    assert "<b>Hi</b>" not in html and "&lt;b&gt;Hi&lt;/b&gt;" in html and "&lt;script&gt;" in html
    assert "<script>" not in html


def test_a_name_that_looks_like_a_link_is_not_put_in_the_mail(fair, make):
    register(make, fair.previous, "mallory", email="mallory@example.com")
    person = visitors.find_person(fair.organizer.id, "mallory@example.com")
    person.name = "Visit www.evil.example now"
    db.session.commit()
    campaign = draft(fair, Segment(attended="previous"), subject_zh="", body_zh="")
    start(campaign)
    text = next(m for m in mails() if m.recipient == "mallory@example.com").body_text
    assert "evil" not in text and text.startswith("Dear visitor,")


def test_the_rate_is_bounded_per_minute(fair, app):
    """At most N mails per batch, one batch per campaign per minute whoever asks (task chain or beat)."""
    app.config["CAMPAIGN_RATE_PER_MINUTE"] = 2
    try:
        campaign = draft(fair, BROAD)
        t0 = utcnow()
        count = services.start(campaign)  # not committed: the batches are driven below with a fixed clock
        assert count == 6
        first = services.send_batch(campaign.id, now=t0)
        assert first.ran and len(first.message_ids) == 2 and first.more
        again = services.send_batch(campaign.id, now=t0 + timedelta(seconds=59))
        assert not again.ran and again.message_ids == []  # the same minute: refused
        second = services.send_batch(campaign.id, now=t0 + timedelta(seconds=60))
        assert len(second.message_ids) == 2
        assert services.due_campaigns(now=t0 + timedelta(seconds=90)) == []
        assert services.due_campaigns(now=t0 + timedelta(seconds=120)) == [campaign.id]
        third = services.send_batch(campaign.id, now=t0 + timedelta(seconds=120))
        assert len(third.message_ids) == 2 and not third.more
        assert db.session.get(Campaign, campaign.id).status == "sent"
        assert services.send_batch(campaign.id, now=t0 + timedelta(seconds=600)).ran is False
        assert db.session.scalar(select(func.count()).select_from(MailMessage)) == 6
    finally:
        app.config.pop("CAMPAIGN_RATE_PER_MINUTE")


def test_the_task_sends_one_batch_and_schedules_the_next(fair, app):
    app.config["CAMPAIGN_RATE_PER_MINUTE"] = 4
    try:
        campaign = draft(fair, BROAD)
        start(campaign)  # eager: the first batch ran after the commit; the next one is a minute away
        assert len(mails()) == 4
        assert campaign_tasks.send_batch(campaign.id) == 0  # not due yet
        campaign = db.session.get(Campaign, campaign.id)
        campaign.last_batch_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        assert campaign_tasks.send_due_batches() == 2
        assert len(mails()) == 6
        assert db.session.get(Campaign, campaign.id).status == "sent"
    finally:
        app.config.pop("CAMPAIGN_RATE_PER_MINUTE")


def test_rate_comes_from_the_environment(app, monkeypatch):
    with app.app_context():
        monkeypatch.setenv("EXPO_CAMPAIGN_RATE_PER_MINUTE", "17")
        assert services.rate_per_minute() == 17
        monkeypatch.setenv("EXPO_CAMPAIGN_RATE_PER_MINUTE", "lots")
        assert services.rate_per_minute() == services.DEFAULT_RATE_PER_MINUTE
        monkeypatch.setenv("EXPO_CAMPAIGN_RATE_PER_MINUTE", "-5")
        assert services.rate_per_minute() == 1


def test_pause_and_resume(fair, app):
    app.config["CAMPAIGN_RATE_PER_MINUTE"] = 2
    try:
        campaign = draft(fair, BROAD)
        start(campaign)
        assert len(mails()) == 2
        campaign = db.session.get(Campaign, campaign.id)
        services.pause(campaign)
        campaign.last_batch_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
        assert campaign_tasks.send_due_batches() == 0 and len(mails()) == 2  # paused: nobody else gets it
        assert services.send_batch(campaign.id).ran is False
        campaign = db.session.get(Campaign, campaign.id)
        services.start(campaign)  # resume (the send button of a paused campaign)
        db.session.commit()
        assert len(mails()) == 4
        with pytest.raises(ServiceError):
            services.resume(db.session.get(Campaign, campaign.id))
    finally:
        app.config.pop("CAMPAIGN_RATE_PER_MINUTE")


def test_never_twice_on_rerun_or_retry(fair):
    campaign = draft(fair, BROAD)
    start(campaign)
    assert len(mails()) == 6
    campaign = db.session.get(Campaign, campaign.id)
    with pytest.raises(ServiceError):
        services.start(campaign)  # a second "send"
    db.session.rollback()
    # a retried or duplicated task, any time later
    campaign.last_batch_at = utcnow() - timedelta(hours=1)
    campaign.status = "sending"  # even if someone forced it back to sending
    db.session.commit()
    assert campaign_tasks.send_batch(campaign.id) == 0
    assert len(mails()) == 6
    # the database refuses a second row for the same person
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.session.add(Recipient(organizer_id=fair.organizer.id, campaign_id=campaign.id,
                                 person_id=fair.people["alice"].id, locale="en", status="pending"))
        db.session.flush()
    db.session.rollback()


def test_a_batch_that_fails_sends_nothing_and_the_retry_sends_once(fair, monkeypatch):
    campaign = draft(fair, office_chairs(fair))
    monkeypatch.setattr(campaign_tasks.send_batch, "delay", lambda *args: None)  # drive the batches by hand
    start(campaign)
    # the batch dies halfway (the outbox fails on the second mail): its one transaction is rolled back
    real_queue = core.queue_mail
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_queue(*args, **kwargs)

    monkeypatch.setattr(core, "queue_mail", flaky)
    with pytest.raises(RuntimeError):
        services.send_batch(campaign.id)
    db.session.rollback()
    assert mails() == [] and {r.status for r in recipients(campaign)} == {"pending"}
    monkeypatch.setattr(core, "queue_mail", real_queue)
    batch = services.send_batch(campaign.id)  # the retry
    db.session.commit()
    assert len(batch.message_ids) == 2
    assert sorted(m.recipient for m in mails()) == ["alice@example.com", "bob@example.com"]
    assert services.send_batch(campaign.id, now=utcnow() + timedelta(hours=1)).ran is False  # sent: done


def test_unsubscribed_meanwhile_is_skipped(fair, app):
    app.config["CAMPAIGN_RATE_PER_MINUTE"] = 1
    try:
        campaign = draft(fair, office_chairs(fair))
        start(campaign)
        first = mails()[0].recipient
        other = ({"alice@example.com", "bob@example.com"} - {first}).pop()
        core.unsubscribe(fair.organizer.id, other)
        campaign = db.session.get(Campaign, campaign.id)
        campaign.last_batch_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
        campaign_tasks.send_due_batches()
        assert [m.recipient for m in mails()] == [first]
        report = services.report(db.session.get(Campaign, campaign.id))
        assert (report.sent, report.skipped, report.pending) == (1, 1, 0)
    finally:
        app.config.pop("CAMPAIGN_RATE_PER_MINUTE")


def test_marketing_mail_to_an_unsubscribed_address_is_refused_for_every_module(fair, make):
    """core.queue_mail(marketing=True) is the gate: any module's marketing mail stops there."""
    organizer_id = fair.organizer.id
    assert core.unsubscribe(organizer_id, "Someone@Example.com") is True
    assert core.unsubscribe(organizer_id, "someone@example.com") is False  # once
    assert core.queue_mail(organizer_id, " someone@EXAMPLE.com", "Offer", "Buy", marketing=True) is None
    assert core.queue_mail(organizer_id, "other@example.com", "Offer", "Buy", marketing=True) is not None
    # transactional mail (a badge) still goes
    assert core.queue_mail(organizer_id, "someone@example.com", "Your badge", "Badge") is not None
    # per organizer: another organizer may still write
    other = make.organizer()
    assert core.queue_mail(other.id, "someone@example.com", "Offer", "Buy", marketing=True) is not None
    assert core.resubscribe(organizer_id, "SOMEONE@example.com") is True
    assert core.queue_mail(organizer_id, "someone@example.com", "Offer", "Buy", marketing=True) is not None
    # the badge confirmation of a registration is transactional
    registration = register(make, fair.target, "gina")  # gina is unsubscribed
    db.session.commit()
    from expo.visitors import tasks as visitor_tasks

    visitor_tasks.send_confirmation(registration.id)
    assert any(m.recipient == "gina@example.com" for m in mails())


def test_mail_sent_is_on_the_persons_timeline(fair):
    campaign = draft(fair, office_chairs(fair))
    start(campaign)
    page = timeline(Scope(fair.organizer.id), "person", [fair.people["alice"].id])
    texts = [entry.text for entry in page.items]
    assert any("Office chairs 2026" in text and "sent" in text.lower() for text in texts), texts
    assert db.session.scalar(select(func.count()).select_from(Activity)
                             .where(Activity.kind == "campaign.mail_sent")) == 2


def test_only_a_draft_is_changed(fair):
    campaign = draft(fair, office_chairs(fair))
    start(campaign)
    with pytest.raises(ServiceError):
        services.update_campaign(db.session.get(Campaign, campaign.id),
                                 services.CampaignData(name="x", segment=Segment(), subject_en="s", body_en="b"))


def test_campaign_texts_are_checked(fair):
    scope = Scope(fair.organizer.id)
    cases = [(dict(name=" ", subject_en="s", body_en="b"), "name"),
             (dict(name="n"), "subject_en"),
             (dict(name="n", subject_en="s"), "body_en"),
             (dict(name="n", subject_zh="标题"), "body_zh"),
             (dict(name="n", subject_en="s", body_en="nul \x00 here"), "body_en")]
    for fields, field in cases:
        with pytest.raises(ServiceError) as error:
            services.create_campaign(scope, fair.target, services.CampaignData(segment=Segment(), **fields))
        assert error.value.field == field, fields
    # one-line fields lose their control characters (a NUL, a line break in a subject: header injection)
    campaign = services.create_campaign(scope, fair.target, services.CampaignData(
        name="n\x00", segment=Segment(), subject_en="Hi\r\nBcc: x@example.com\x00", body_en="b"))
    assert campaign.subject_en == "Hi Bcc: x@example.com" and campaign.name == "n"


def _status_moves(campaign_id):
    from expo.core.models import AuditEntry

    return db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "campaign.status", AuditEntry.object_id == campaign_id))


def test_a_second_send_of_one_draft_is_refused_not_a_500(fair):
    """The second "Send" click loaded the campaign while it was still a draft: the claim refuses it, nobody
    is added twice (no UNIQUE(campaign_id, person_id) error) and nothing changes."""
    from sqlalchemy.orm.attributes import set_committed_value

    campaign = draft(fair, office_chairs(fair))
    campaign_id = campaign.id
    assert start(campaign) == 2
    moves, sent = _status_moves(campaign_id), len(mails())
    stale = db.session.get(Campaign, campaign_id)
    set_committed_value(stale, "status", "draft")  # as the other request read it before the first committed
    with pytest.raises(ServiceError, match="being sent or was sent already"):
        services.start(stale, actor_id=None)
    db.session.rollback()
    assert len(recipients(stale)) == 2 and len(mails()) == sent
    assert _status_moves(campaign_id) == moves
    assert db.session.get(Campaign, campaign_id).status == "sent"
    with pytest.raises(ServiceError, match="being sent or was sent already"):  # and as the page shows it now
        services.start(db.session.get(Campaign, campaign_id), actor_id=None)


def test_two_sends_of_one_draft_at_the_same_moment_start_it_once(fair, app):
    campaign_id = draft(fair, office_chairs(fair)).id
    db.session.commit()
    db.session.remove()

    def load(_sender):
        campaign = db.session.get(Campaign, campaign_id)
        assert campaign.status == "draft"  # both loaded it as a draft
        return campaign

    outcomes = race(app, lambda campaign: services.start(campaign, actor_id=None), [1, 2], prepare=load, timeout=30)
    started = [outcome for outcome in outcomes if not isinstance(outcome, ServiceError)]
    assert started == [2]  # one start queued the two recipients; the other was refused
    assert len(recipients(db.session.get(Campaign, campaign_id))) == 2
    assert _status_moves(campaign_id) >= 1 and len(mails()) == 2
