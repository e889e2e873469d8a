"""The tracked link (/e/<slug>?c=<token>), the unsubscribe page (/u/<token>), the report, hostile input."""
import re
import uuid

from sqlalchemy import func, select

from expo.campaigns import services
from expo.campaigns.models import Campaign, Recipient
from expo.campaigns.segments import Segment
from expo.core import services as core
from expo.core.models import Activity, MailMessage
from expo.extensions import db
from expo.onsite import services as onsite
from expo.visitors import services as visitors
from expo.visitors.models import Registration

from ..conftest import csrf_token
from .conftest import draft, office_chairs


def sent_campaign(fair, segment=None, edition=None):
    campaign = draft(fair, segment or office_chairs(fair))
    if edition is not None:
        campaign.edition_id = edition.id
    services.start(campaign)
    db.session.commit()
    return db.session.get(Campaign, campaign.id)


def link_of(recipient_email: str) -> str:
    db.session.expire_all()
    message = db.session.scalar(select(MailMessage).where(MailMessage.recipient == recipient_email))
    return re.search(r"http://expo\.example\.com(/e/[^\s]+)", message.body_text).group(1)


def unsubscribe_path(recipient_email: str) -> str:
    message = db.session.scalar(select(MailMessage).where(MailMessage.recipient == recipient_email))
    return re.search(r"http://expo\.example\.com(/u/[^\s]+)", message.body_text).group(1)


def opened_activities() -> int:
    return db.session.scalar(select(func.count()).select_from(Activity)
                             .where(Activity.kind == "campaign.link_opened"))


def test_opening_the_link_is_counted_once_per_recipient(app, fair, client):
    campaign = sent_campaign(fair)
    path = link_of("alice@example.com")
    assert path.startswith(f"/e/{fair.target.slug}?c=")
    for _ in range(3):
        assert client.get(path).status_code == 200
    db.session.expire_all()
    report = services.report(db.session.get(Campaign, campaign.id))
    assert (report.sent, report.opened, report.registered) == (2, 1, 0)
    assert opened_activities() == 1


def test_registration_through_the_link_carries_the_campaign(app, fair, client):
    campaign = sent_campaign(fair)
    path = link_of("bob@example.com")
    token = csrf_token(client, path)
    response = client.post(path, data={"csrf_token": token, "name": "Bob 测试", "email": "bob@example.com",
                                       "category": "buyer", "consent": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    registration = db.session.scalar(select(Registration).where(Registration.edition_id == fair.target.id,
                                                                Registration.person_id == fair.people["bob"].id))
    assert registration.source == "campaign" and registration.campaign_id == campaign.id
    report = services.report(db.session.get(Campaign, campaign.id))
    assert (report.sent, report.opened, report.registered, report.registered_any) == (2, 1, 1, 1)
    # a registration without the link is "online" and counts for no campaign
    client.get("/login")
    token = csrf_token(client, f"/e/{fair.target.slug}")
    client.post(f"/e/{fair.target.slug}", data={"csrf_token": token, "name": "Alice", "email": "alice@example.com",
                                                 "category": "buyer", "consent": "y"})
    db.session.expire_all()
    alice = db.session.scalar(select(Registration).where(Registration.edition_id == fair.target.id,
                                                         Registration.person_id == fair.people["alice"].id))
    assert alice.source == "online" and alice.campaign_id is None
    report = services.report(db.session.get(Campaign, campaign.id))
    assert (report.registered, report.registered_any) == (1, 2)


def test_checked_in_counts_registrations_through_the_link_that_came(app, fair, client):
    """A campaign for the live edition: frank registers through the link and is checked in at the gate."""
    campaign = sent_campaign(fair, Segment(attended="editions", edition_ids=[fair.older.id]), edition=fair.previous)
    path = link_of("frank@example.com")
    token = csrf_token(client, path)
    assert client.post(path, data={"csrf_token": token, "name": "Frank", "email": "frank@example.com",
                                   "category": "buyer", "consent": "y"}).status_code == 302
    db.session.expire_all()
    registration = db.session.scalar(select(Registration).where(Registration.campaign_id == campaign.id))
    outcome = onsite.record_scan(fair.onsite_user, code=visitors.badge_code(registration), kind="checkin",
                                 client_scan_id=str(uuid.uuid4()), edition_id=fair.previous.id)
    assert outcome.result == "ok"
    db.session.commit()
    report = services.report(db.session.get(Campaign, campaign.id))
    assert (report.sent, report.opened, report.registered, report.checked_in) == (2, 1, 1, 1)


def test_bogus_foreign_and_hostile_tokens(app, fair, client, make):
    campaign = sent_campaign(fair)
    slug = fair.target.slug
    # garbage, a forged signature, a signed id of no recipient: the page works, nothing is tracked
    forged = services.link_token(1)[:-3] + "abc"
    for value in ("garbage", "x" * 5000, forged, services.link_token(999999), services.link_token(2**40),
                  "%F0%9F%92%A9", "[1,2]"):
        response = client.get(f"/e/{slug}?c={value}")
        assert response.status_code == 200, value
    assert client.get(f"/e/{slug}?c=%00").status_code == 400  # text no database holds: refused up front
    # the link of a recipient on another edition's page is ignored
    other = make.edition(fair.organizer, name="Other edition", status="registration_open")
    db.session.commit()
    path = link_of("alice@example.com")
    assert client.get(path.replace(slug, other.slug)).status_code == 200
    db.session.expire_all()
    assert services.report(db.session.get(Campaign, campaign.id)).opened == 0
    # unsubscribe: garbage, forged, unknown → 404, never 500
    for value in ("garbage", "x" * 500, services.unsubscribe_token(999999, 1), "WzEsMl0.forged",
                  services.unsubscribe_token(campaign.id, 2**40)):
        assert client.get(f"/u/{value}").status_code == 404, value
        assert client.post(f"/u/{value}", data={"csrf_token": csrf_token(client),
                                                "action": "unsubscribe"}).status_code == 404
    assert client.get("/u/%00").status_code == 404


def test_unsubscribe_and_resubscribe_from_the_mail(app, fair, client):
    sent_campaign(fair)
    path = unsubscribe_path("bob@example.com")
    page = client.get(path)
    assert page.status_code == 200 and 'id="unsubscribe"' in page.get_data(as_text=True)
    assert "bob@example.com" not in page.get_data(as_text=True)  # masked: a forwarded mail shows little
    assert not core.is_unsubscribed(fair.organizer.id, "bob@example.com")  # a GET changes nothing
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "action": "unsubscribe"})
    assert response.status_code == 200 and 'id="unsubscribed"' in response.get_data(as_text=True)
    assert core.is_unsubscribed(fair.organizer.id, "bob@example.com")
    # a second campaign does not reach bob; the badge still does
    assert services.preview(fair.target, office_chairs(fair)).count == 1
    response = client.post(path, data={"csrf_token": csrf_token(client, path), "action": "resubscribe"})
    assert 'id="resubscribed"' in response.get_data(as_text=True)
    assert not core.is_unsubscribed(fair.organizer.id, "bob@example.com")
    actions = [e.action for e in db.session.scalars(select(core.AuditEntry).order_by(core.AuditEntry.id))]
    assert actions[-2:] == ["mail.unsubscribed", "mail.resubscribed"]


def test_the_unsubscribe_page_is_public_and_phone_friendly(app, fair, client):
    sent_campaign(fair)
    body = client.get(unsubscribe_path("alice@example.com")).get_data(as_text=True)
    assert "public.css" in body and "echarts" not in body and "btn-tap" in body


def test_recipients_table_holds_one_row_per_person(fair):
    campaign = sent_campaign(fair)
    assert db.session.scalar(select(func.count()).select_from(Recipient)
                             .where(Recipient.campaign_id == campaign.id)) == 2


def test_the_visitors_copy_lists_campaign_mails_and_erasure_keeps_the_counts(app, fair, client):
    from expo.visitors import privacy

    campaign = sent_campaign(fair)
    client.get(link_of("alice@example.com"))
    alice = db.session.get(type(fair.people["alice"]), fair.people["alice"].id)
    data = privacy.personal_data(alice)
    assert [(row["campaign"], row["status"]) for row in data["campaigns"]] == [("Office chairs 2026", "sent")]
    assert data["campaigns"][0]["clicked_at"]
    privacy.erase_person(alice, by="visitor")
    db.session.commit()
    report = services.report(db.session.get(Campaign, campaign.id))
    assert (report.sent, report.opened) == (2, 1)  # the counts stay; the mail itself is gone from the outbox
    assert db.session.scalar(select(MailMessage).where(MailMessage.recipient == "alice@example.com")) is None
    assert services.preview(fair.target, office_chairs(fair)).count == 1  # an erased person is never mailed
