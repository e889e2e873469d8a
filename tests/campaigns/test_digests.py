"""Supply-and-demand digests: who is core (visitors and exhibitors, as the organizer chooses), what each
recipient's digest says (new exhibitors and products in their categories, counts of interested buyers, the
recommendations), in their language, sent through the campaigns machinery (snapshot, outbox, unsubscribe
honoured, tracked link), the pages, and the repetition."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from sqlalchemy import select

from expo.campaigns import digests, services
from expo.campaigns import tasks as campaign_tasks
from expo.campaigns.models import Campaign, Recipient
from expo.core import services as core
from expo.core.db import utcnow
from expo.core.models import MailMessage
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors import products
from expo.exhibitors import services as exhibitor_services
from expo.extensions import db
from expo.visitors.models import Registration

from ..conftest import Browser, csrf_token, field_errors, login, race, redirect_path
from ..integration.test_worker_mail import smtp_server, worker_setup  # noqa: F401  (fixtures)
from .conftest import draft, office_chairs


@pytest.fixture
def market(fair, make):
    """The fair's live edition ("previous") with exhibitors: two new ones (office chairs; sofas), one that signed
    a month ago with an old product, a prospect (not core), each with an admin."""
    edition, c = fair.previous, fair.categories
    scope = Scope(fair.organizer.id)

    def exhibitor(name, categories, status="contracted", country="CN"):
        e = exhibitor_services.add_exhibitor(scope, edition, name, hall="2", stand=name[:3].upper(), status=status,
                                             country=country)
        e.categories = [c[k] for k in categories]
        admin = make.user("exhibitor_admin", exhibitor=e, email=f"admin@{name.split()[0].lower()}.example.com")
        return e, admin

    ergo, ergo_admin = exhibitor("Ergo Seating Co", ["chairs"], country="DE")
    products.create_product(ergo, products.ProductData(
        name_en="Ergonomic mesh chair", name_zh="人体工学网椅", description_en="Lumbar support.",
        description_zh="腰托可调。", category_ids=[c["ergonomic"].id]))
    sofa, sofa_admin = exhibitor("Sofa World 沙发世界", ["sofas"], status="paid")
    products.create_product(sofa, products.ProductData(name_en="Leather sofa", name_zh="真皮沙发",
                                                       category_ids=[c["sofas"].id]))
    old, old_admin = exhibitor("Old Chairs Ltd", ["chairs"])
    old_product = products.create_product(old, products.ProductData(name_en="Classic office chair",
                                                                     name_zh="经典办公椅",
                                                                     category_ids=[c["chairs"].id]))
    month_ago = utcnow() - timedelta(days=30)
    old.created_at = old_product.created_at = old_product.updated_at = month_ago
    prospect, prospect_admin = exhibitor("Prospect Chairs Inc", ["chairs"], status="prospect")
    db.session.commit()
    return {"ergo": ergo, "ergo_admin": ergo_admin, "sofa": sofa, "sofa_admin": sofa_admin, "old": old,
            "old_admin": old_admin, "prospect": prospect, "prospect_admin": prospect_admin}


def digest(fair, audience="visitors", **settings):
    return digests.create_digest(Scope(fair.organizer.id), fair.previous, f"Weekly digest ({audience})",
                                 digests.DigestSettings(audience=audience, **settings), actor_id=fair.owner.id)


def send(campaign):
    count = services.start(campaign, actor_id=None)
    db.session.commit()  # the first batch runs (eagerly here) after the commit
    return count


def mails_to(address=None):
    db.session.expire_all()
    stmt = select(MailMessage).order_by(MailMessage.id)
    if address:
        stmt = stmt.where(MailMessage.recipient == address)
    return list(db.session.scalars(stmt))


def words(locale: str, text: str, **values) -> str:
    """A sentence of the mail as the translation catalogue gives it in ``locale`` (the lead translates at the
    end: before that, the English text)."""
    with force_locale(locale):
        return gettext(text, **values)


def names(rows):
    return sorted(who.name.split()[0] for who, _locale in rows)


# --- who is core ----------------------------------------------------------------------------------------

def test_core_visitors_as_the_organizer_chooses(fair, market):
    # buyers and VIPs with a confirmed registration for the edition, plus returning visitors; never the
    # unsubscribed (gina), the cancelled (hank), or those not registered for it (frank)
    assert names(digests.preview(digest(fair), fair.previous).rows) == ["Alice", "Bob", "Carol", "Erin"]
    assert names(digests.preview(digest(fair, visitor_categories=[]), fair.previous).rows) == ["Alice"]
    only_trade = digest(fair, visitor_categories=["trade_visitor"], returning=False)
    assert names(digests.preview(only_trade, fair.previous).rows) == ["Dave"]
    with pytest.raises(ServiceError) as caught:
        digest(fair, visitor_categories=[], returning=False)
    assert caught.value.field == "visitor_categories"


def test_core_exhibitors_are_the_admins_of_the_chosen_stages(fair, market):
    campaign = digest(fair, "exhibitors")
    assert sorted(u.email for u, _l in digests.preview(campaign, fair.previous).rows) == [
        "admin@ergo.example.com", "admin@old.example.com", "admin@sofa.example.com"]
    paid_only = digest(fair, "exhibitors", exhibitor_statuses=["paid"])
    assert [u.email for u, _l in digests.preview(paid_only, fair.previous).rows] == ["admin@sofa.example.com"]
    # a Chinese company's admin reads Chinese, unless their account says otherwise
    locales = {u.email: locale for u, locale in digests.preview(campaign, fair.previous).rows}
    assert locales["admin@sofa.example.com"] == "zh_CN" and locales["admin@ergo.example.com"] == "en"


def test_settings_from_hostile_input_are_clamped_never_an_error():
    s = digests.DigestSettings.from_dict({"audience": "everyone", "visitor_categories": ["buyer", "x" * 999, None],
                                          "period_days": "-5", "top_n": 10**9, "exhibitor_statuses": "paid",
                                          "series": "1; drop"})
    assert (s.audience, s.visitor_categories, s.period_days, s.top_n, s.series) == ("visitors", ["buyer"], 1, 20, None)
    assert s.exhibitor_statuses == list(digests.DEFAULT_EXHIBITOR_STATUSES)
    assert digests.DigestSettings.from_dict("garbage") == digests.DigestSettings()


# --- what each recipient reads --------------------------------------------------------------------------

def test_each_visitor_gets_what_is_new_in_their_categories_in_their_language(fair, market):
    campaign = digest(fair, top_n=0)
    assert send(campaign) == 4
    alice = mails_to("alice@example.com")  # Chinese (her registration for this edition)
    assert len(alice) == 1
    assert alice[0].subject == words("zh_CN", "%(show)s: what is new for you", show="Furniture Fair 家具展")
    body = alice[0].body_text
    assert "人体工学网椅" in body and "Ergonomic mesh chair" not in body  # the product in her language
    assert "Ergo Seating Co" in body and words("zh_CN", "New exhibitors in your categories") in body
    assert 'lang="zh-CN"' in alice[0].body_html
    assert "Sofa World" not in body  # not her categories
    assert "Old Chairs" not in body and "经典办公椅" not in body  # not new in the period
    assert "Prospect Chairs" not in body  # not taking part
    bob = mails_to("bob@example.com")[0].body_text  # English; ergonomic chairs: a sub-category of chairs
    assert "Ergonomic mesh chair" in bob and "New products in your categories" in bob and "人体工学网椅" not in bob
    assert "Ergo Seating Co" in bob  # the exhibitor offers chairs, above his ergonomic chairs
    erin = mails_to("erin@example.com")[0].body_text
    assert "Leather sofa" in erin and "Ergo" not in erin
    for mail in mails_to():
        assert "/u/" in mail.body_text and "/d/" in mail.body_text and mail.body_html.startswith("<!doctype html>")
    assert "&lt;" not in mails_to("erin@example.com")[0].body_html


def test_a_longer_period_shows_older_news(fair, market):
    send(digest(fair, top_n=0, period_days=60))
    assert "Classic office chair" in mails_to("bob@example.com")[0].body_text


def test_each_exhibitor_gets_counts_of_interested_buyers_never_their_contacts(fair, market):
    campaign = digest(fair, "exhibitors", top_n=0)
    assert send(campaign) == 3
    ergo = mails_to("admin@ergo.example.com")[0]
    body = ergo.body_text
    # interested in office chairs (with its sub- and parent categories): alice, bob, carol, dave and gina (gina
    # unsubscribed from mail, but she is registered); not hank (cancelled) nor frank (another edition)
    assert "5 registered visitors are interested in your categories, 5 of them in the last 7 days." in body
    assert "By visitor category: Buyer 4, Trade visitor 1" in body
    assert "DE 1" in body
    for secret in ("alice", "Alice", "bob@", "Bob 测试", "gina"):
        assert secret not in body and secret not in ergo.body_html
    sofa = mails_to("admin@sofa.example.com")[0]  # Chinese company: Chinese mail
    assert words("zh_CN", "%(n)s registered visitors are interested in your categories, %(new)s of them in the "
                 "last %(days)s days.", n=1, new=1, days=7) in sofa.body_text  # erin
    assert 'lang="zh-CN"' in sofa.body_html
    assert mails_to("admin@prospect.example.com") == []


def test_recommendations_from_matchmaking_are_in_the_digest(fair, market):
    from expo.matchmaking import services as matchmaking

    matchmaking.compute(fair.previous)
    db.session.commit()
    registration = db.session.scalar(select(Registration).where(
        Registration.person_id == fair.people["bob"].id, Registration.edition_id == fair.previous.id))
    recs = matchmaking.top_for_registration(registration, 3, locale="en")
    alice_registration = db.session.scalar(select(Registration).where(
        Registration.person_id == fair.people["alice"].id, Registration.edition_id == fair.previous.id))
    alice_recs = matchmaking.top_for_registration(alice_registration, 3, locale="zh_CN")
    assert recs and alice_recs  # the engine recommends the chair makers to chair buyers
    send(digest(fair, top_n=3))
    body = mails_to("bob@example.com")[0].body_text
    assert "Exhibitors we recommend you meet" in body
    for rec in recs:
        assert rec.name in body
        for reason in rec.reasons[:2]:
            assert reason in body
    alice = mails_to("alice@example.com")[0].body_text  # the reasons in her language
    assert words("zh_CN", "Exhibitors we recommend you meet") in alice
    for rec in alice_recs:
        assert rec.name in alice and all(reason in alice for reason in rec.reasons[:2])
    exhibitor_recs = matchmaking.top_for_exhibitor(market["ergo"], 3, locale="en")
    send(digest(fair, "exhibitors", top_n=3))
    ergo = mails_to("admin@ergo.example.com")[-1].body_text
    for rec in exhibitor_recs:
        assert rec.name in ergo


# --- through the campaigns machinery ----------------------------------------------------------------------

def test_never_twice_and_unsubscribe_honoured(fair, market, app):
    app.config["CAMPAIGN_RATE_PER_MINUTE"] = 1
    try:
        campaign = digest(fair, top_n=0)
        send(campaign)
        first = mails_to()[0].recipient
        core.unsubscribe(fair.organizer.id, "CAROL@example.com")  # meanwhile
        for _round in range(5):
            c = db.session.get(Campaign, campaign.id)
            c.last_batch_at = utcnow() - timedelta(minutes=1)
            db.session.commit()
            campaign_tasks.send_due_batches()
        sent = [m.recipient for m in mails_to()]
        expected = {"alice@example.com", "bob@example.com", "erin@example.com", first}  # carol: only if first
        assert set(sent) == expected
        assert len(sent) == len(set(sent))  # each once
        report = services.report(db.session.get(Campaign, campaign.id))
        assert report.pending == 0 and report.sent + report.skipped == 4
        assert db.session.get(Campaign, campaign.id).status == "sent"
    finally:
        app.config.pop("CAMPAIGN_RATE_PER_MINUTE")


def test_a_visitor_who_cancelled_meanwhile_gets_no_digest(fair, market, app):
    from expo.visitors import services as visitor_services

    app.config["CAMPAIGN_RATE_PER_MINUTE"] = 1
    try:
        campaign = digest(fair, top_n=0)
        send(campaign)
        first = mails_to()[0].recipient
        other = next(p for p in ("bob", "erin") if f"{p}@example.com" != first)
        registration = db.session.scalar(select(Registration).where(
            Registration.person_id == fair.people[other].id, Registration.edition_id == fair.previous.id))
        visitor_services.cancel_registration(registration)
        db.session.commit()
        for _round in range(4):
            c = db.session.get(Campaign, campaign.id)
            c.last_batch_at = utcnow() - timedelta(minutes=1)
            db.session.commit()
            campaign_tasks.send_due_batches()
        assert mails_to(f"{other}@example.com") == []
        report = services.report(db.session.get(Campaign, campaign.id))
        assert (report.sent, report.skipped, report.pending) == (3, 1, 0)
    finally:
        app.config.pop("CAMPAIGN_RATE_PER_MINUTE")


def test_an_exhibitor_admin_unsubscribes_through_the_digests_link(fair, market, app):
    campaign = digest(fair, "exhibitors", top_n=0)
    send(campaign)
    recipient = db.session.scalar(select(Recipient).where(Recipient.campaign_id == campaign.id,
                                                          Recipient.user_id == market["ergo_admin"].id))
    token = services.unsubscribe_token(campaign.id, None, user_id=market["ergo_admin"].id)
    assert f"/u/{token}" in mails_to("admin@ergo.example.com")[0].body_text
    client = app.test_client()
    page = client.get(f"/u/{token}")
    assert page.status_code == 200 and "ad…@ergo.example.com" in page.get_data(as_text=True)
    response = client.post(f"/u/{token}", data={"csrf_token": csrf_token(client, f"/u/{token}"),
                                                "action": "unsubscribe"})
    assert response.status_code == 200
    assert core.is_unsubscribed(fair.organizer.id, "admin@ergo.example.com")
    assert recipient.status == "sent"
    again = digest(fair, "exhibitors", top_n=0)
    assert "admin@ergo.example.com" not in [u.email for u, _l in digests.preview(again, fair.previous).rows]
    send(again)
    assert len(mails_to("admin@ergo.example.com")) == 1
    for forged in (services.unsubscribe_token(campaign.id, None, user_id=10**12), "x" * 300, token[:-2] + "zz"):
        assert client.get(f"/u/{forged}").status_code == 404


def test_the_mail_is_on_the_timelines(fair, market):
    from expo.core.activity import timeline

    send(digest(fair, top_n=0))
    send(digest(fair, "exhibitors", top_n=0))
    scope = Scope(fair.organizer.id)
    assert any("Weekly digest (visitors)" in e.text for e in timeline(scope, "person", [fair.people["bob"].id]).items)
    company_id = market["ergo"].company_id
    assert any("Weekly digest (exhibitors)" in e.text for e in timeline(scope, "company", [company_id]).items)


def test_the_tracked_link_is_recorded_once_and_leads_to_the_visitors_page(fair, market, app):
    campaign = digest(fair, top_n=0)
    send(campaign)
    recipient = db.session.scalar(select(Recipient).where(Recipient.campaign_id == campaign.id,
                                                          Recipient.person_id == fair.people["bob"].id))
    key = db.session.scalar(select(Registration.access_key).where(
        Registration.person_id == fair.people["bob"].id, Registration.edition_id == fair.previous.id))
    client = app.test_client()
    token = services.link_token(recipient.id)
    assert redirect_path(client.get(f"/d/{token}")) == f"/r/{key}"
    assert redirect_path(client.get(f"/d/{token}")) == f"/r/{key}"
    db.session.expire_all()
    assert db.session.get(Recipient, recipient.id).clicked_at is not None
    assert services.report(db.session.get(Campaign, campaign.id)).opened == 1
    exhibitors_campaign = digest(fair, "exhibitors", top_n=0)
    send(exhibitors_campaign)
    admin_recipient = db.session.scalar(select(Recipient).where(Recipient.campaign_id == exhibitors_campaign.id))
    assert redirect_path(client.get(f"/d/{services.link_token(admin_recipient.id)}")) == "/portal"
    mailing = draft(fair, office_chairs(fair))
    send(mailing)
    mailing_recipient = db.session.scalar(select(Recipient).where(Recipient.campaign_id == mailing.id))
    assert client.get(f"/d/{services.link_token(mailing_recipient.id)}").status_code == 404  # not a digest's
    for forged in ("abc", services.link_token(10**9), "%00"):
        assert client.get(f"/d/{forged}").status_code == 404


# --- the pages ----------------------------------------------------------------------------------------------

def test_the_organizer_writes_previews_and_sends_a_digest(fair, market, app):
    browser = Browser(app, fair.owner)
    edition_id = fair.previous.id
    assert "new-digest" in browser.get(f"/org/editions/{edition_id}/campaigns").get_data(as_text=True)
    page = browser.post(f"/org/editions/{edition_id}/digests/new",
                        data={"name": "Bad\x00name", "audience": "visitors", "visitor_categories": ["buyer"],
                              "period_days": "7", "top_n": "0"}).get_data(as_text=True)
    assert field_errors(page, "name")
    response = browser.post(f"/org/editions/{edition_id}/digests/new",
                            data={"name": "Buyers' weekly", "audience": "visitors", "visitor_categories": ["buyer"],
                                  "returning": "y", "period_days": "14", "top_n": "0"})
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == "Buyers' weekly"))
    assert redirect_path(response) == f"/org/editions/{edition_id}/campaigns/{campaign.id}"
    assert campaign.kind == "digest_visitors" and digests.settings_of(campaign).period_days == 14
    page = browser.get(f"/org/editions/{edition_id}/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Returning visitors" in page and "digest-sample" in page and "Ergonomic mesh chair" in page
    assert "人体工学网椅" in page  # the sample in both languages
    edit = browser.get(f"/org/editions/{edition_id}/campaigns/{campaign.id}/edit")
    assert redirect_path(edit) == f"/org/editions/{edition_id}/campaigns/{campaign.id}/digest"
    response = browser.post(f"/org/editions/{edition_id}/campaigns/{campaign.id}/digest",
                            data={"name": "Buyers' weekly", "audience": "exhibitors",
                                  "exhibitor_statuses": ["paid"], "period_days": "7", "top_n": "0"})
    assert redirect_path(response) == f"/org/editions/{edition_id}/campaigns/{campaign.id}"
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).kind == "digest_exhibitors"
    response = browser.post(f"/org/editions/{edition_id}/campaigns/{campaign.id}/status", data={"to": "sending"})
    assert redirect_path(response) == f"/org/editions/{edition_id}/campaigns/{campaign.id}"
    assert [m.recipient for m in mails_to()] == ["admin@sofa.example.com"]
    page = browser.get(f"/org/editions/{edition_id}/campaigns/{campaign.id}").get_data(as_text=True)
    assert "admin@sofa.example.com" in page
    assert browser.get(f"/org/editions/{edition_id}/campaigns/{campaign.id}/report").status_code == 200
    # sent: no more changes
    assert redirect_path(browser.get(f"/org/editions/{edition_id}/campaigns/{campaign.id}/digest")) == \
        f"/org/editions/{edition_id}/campaigns/{campaign.id}"


def test_a_sales_rep_cannot_write_digests(fair, market, app, make):
    sales = make.user("sales", fair.organizer)
    db.session.commit()
    client = app.test_client()
    login(client, sales)
    assert client.get(f"/org/editions/{fair.previous.id}/digests/new").status_code == 403


# --- repetition -----------------------------------------------------------------------------------------------

def test_a_repeating_digest_sends_its_next_issue_when_the_period_is_over(fair, market):
    campaign = digest(fair, top_n=0, repeat=True, period_days=7)
    send(campaign)
    assert db.session.get(Campaign, campaign.id).status == "sent"
    assert digests.send_due() == []  # the period is not over
    later = utcnow() + timedelta(days=7, minutes=1)
    started = digests.send_due(later)
    db.session.commit()
    assert len(started) == 1
    issue = db.session.get(Campaign, started[0])
    assert issue.kind == "digest_visitors" and digests.settings_of(issue).series == campaign.id
    assert issue.name.startswith("Weekly digest (visitors) · ") and issue.status in ("sending", "sent")
    assert campaign.id not in digests.due(later)  # the newer issue is the series' latest now: never twice
    assert digests.due(utcnow() + timedelta(days=6)) == []  # the new issue's period is not over
    once = digest(fair, top_n=0)  # not repeating
    send(once)
    assert once.id not in digests.due(utcnow() + timedelta(days=30))


# --- a real worker, a real SMTP server on loopback ----------------------------------------------------------

@pytest.mark.integration
def test_a_real_worker_mails_each_core_visitor_their_digest_over_smtp(app, fair, market, worker_setup, tmp_path):
    from email import message_from_bytes, policy

    from ..integration.test_worker_mail import require_broker, start_worker, stop_worker, wait_for

    env, sender, handler = worker_setup
    require_broker(env["EXPO_BROKER_URL"])
    core.unsubscribe(fair.organizer.id, "erin@example.com")  # unsubscribed before: never mailed
    campaign = digest(fair, top_n=0)
    db.session.commit()
    campaign_id, edition_id, owner_email = campaign.id, fair.previous.id, fair.owner.email
    log_path = tmp_path / "worker.log"
    worker = start_worker(env, log_path)
    passed = False
    try:
        client = sender.test_client()
        login(client, owner_email)
        response = client.post(f"/org/editions/{edition_id}/campaigns/{campaign_id}/status",
                               data={"csrf_token": csrf_token(client), "to": "sending"})
        assert response.status_code == 302
        envelopes = wait_for(lambda: list(handler.envelopes) if len(handler.envelopes) >= 3 else None, worker,
                             "the three digests at the SMTP server")
        by_address = {e.rcpt_tos[0]: message_from_bytes(e.content, policy=policy.default) for e in envelopes}
        assert sorted(by_address) == ["alice@example.com", "bob@example.com", "carol@example.com"]
        alice = by_address["alice@example.com"].get_body(preferencelist=("plain",)).get_content()
        bob = by_address["bob@example.com"].get_body(preferencelist=("plain",)).get_content()
        assert "人体工学网椅" in alice and "Ergonomic mesh chair" in bob
        assert "/u/" in bob and "/d/" in bob
        assert "<a href=" in by_address["bob@example.com"].get_body(preferencelist=("html",)).get_content()
        passed = True
    finally:
        output = stop_worker(worker, log_path)
        if not passed:
            print("---- celery worker output ----")
            print(output)


def test_two_beats_at_the_same_moment_start_the_next_issue_once(fair, market, app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL only (two beat processes run only beside a database server)")

    campaign = digest(fair, top_n=0, repeat=True, period_days=7)
    send(campaign)
    campaign_id = campaign.id
    db.session.commit()
    db.session.remove()
    later = utcnow() + timedelta(days=7, minutes=1)

    def sees_it_due(_beat):
        assert campaign_id in digests.due(later)  # both see the digest due
        db.session.rollback()  # each beat starts afresh, as the task does

    outcomes = race(app, lambda _: digests.send_due(later), [1, 2], prepare=sees_it_due, timeout=30)
    started = [campaign for issued in outcomes for campaign in issued]
    assert len(started) == 1
    issues = [c for c in db.session.scalars(select(Campaign).where(Campaign.id > campaign_id))
              if digests.settings_of(c).series == campaign_id]
    assert [c.id for c in issues] == started
