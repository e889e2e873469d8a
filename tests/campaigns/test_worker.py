"""A campaign sent by a real Celery worker through a real SMTP server on loopback (Redis when
EXPO_TEST_BROKER_URL is set, else the embedded filesystem broker; PostgreSQL when EXPO_TEST_DATABASE_URL is):
each recipient once, in their language, at most the rate per minute."""
import time
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select

from expo.campaigns.models import Campaign, Recipient
from expo.extensions import db

from ..conftest import csrf_token, login
from ..integration.test_worker_mail import (  # noqa: F401  (fixtures)
    require_broker,
    smtp_server,
    start_worker,
    stop_worker,
    wait_for,
    worker_setup,
)
from .conftest import draft, office_chairs

pytestmark = pytest.mark.integration


def test_the_worker_sends_one_batch_a_minute_each_recipient_once(app, fair, worker_setup, tmp_path):
    env, sender, handler = worker_setup
    require_broker(env["EXPO_BROKER_URL"])
    env = {**env, "EXPO_CAMPAIGN_RATE_PER_MINUTE": "1"}
    campaign = draft(fair, office_chairs(fair))
    db.session.commit()
    campaign_id, edition_id, owner_email = campaign.id, fair.target.id, fair.owner.email

    log_path = tmp_path / "worker.log"
    worker = start_worker(env, log_path)
    passed = False
    try:
        client = sender.test_client()
        login(client, owner_email)
        response = client.post(f"/org/editions/{edition_id}/campaigns/{campaign_id}/status",
                               data={"csrf_token": csrf_token(client), "to": "sending"})
        assert response.status_code == 302

        envelopes = wait_for(lambda: list(handler.envelopes), worker, "the first campaign mail at the SMTP server")
        time.sleep(4)  # the next batch is a minute away: nothing else arrives meanwhile
        assert len(handler.envelopes) == 1
        mail = message_from_bytes(envelopes[0].content, policy=policy.default)
        body = mail.get_body(preferencelist=("plain",)).get_content()
        if envelopes[0].rcpt_tos == ["alice@example.com"]:  # her last registration was in Chinese
            assert str(mail["Subject"]) == "诚邀参观" and body.startswith("Alice 测试，您好")
        else:
            assert envelopes[0].rcpt_tos == ["bob@example.com"] and body.startswith("Dear Bob 测试,")
        assert f"/e/{fair.target.slug}?c=" in body and "/u/" in body
        html = mail.get_body(preferencelist=("html",)).get_content()
        assert "<a href=" in html

        def state():
            db.session.rollback()
            campaign = db.session.get(Campaign, campaign_id)
            statuses = sorted(db.session.scalars(select(Recipient.status).where(Recipient.campaign_id == campaign_id)))
            return (campaign.status, statuses)

        assert wait_for(lambda: state() == ("sending", ["pending", "sent"]), worker, "the campaign's bookkeeping")
        passed = True
    finally:
        output = stop_worker(worker, log_path)
        if not passed:
            print("---- celery worker output ----")
            print(output)
