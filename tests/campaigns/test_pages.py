"""The staff pages: write a campaign with the segment builder form, preview it, send, pause, report."""
from sqlalchemy import select

from expo.campaigns.models import Campaign
from expo.core.models import MailMessage
from expo.extensions import db

from ..conftest import Browser, field_errors, redirect_path
from .conftest import draft, office_chairs

FORM = {"name": "Office chairs 2026", "attended": "previous", "categories": "buyer", "registered": "no",
        "checked_in": "", "history": "", "countries": "",
        "subject_en": "Your invitation", "body_en": "Dear {name},\n\n{link}",
        "subject_zh": "邀请函", "body_zh": "{name}，您好：\n\n{link}"}


def base(fair):
    return f"/org/editions/{fair.target.id}/campaigns"


def test_write_preview_send_and_report(app, fair):
    browser = Browser(app, fair.owner)
    assert browser.get(base(fair)).status_code == 200
    new = browser.get(f"{base(fair)}/new").get_data(as_text=True)
    assert "Office chairs" in new and "Ergonomic chairs" in new  # the interest tree to choose from
    response = browser.post(f"{base(fair)}/new", data={**FORM, "interests": str(fair.categories["chairs"].id)})
    assert response.status_code == 302, response.get_data(as_text=True)
    campaign = db.session.scalar(select(Campaign))
    assert campaign.segment["interests"] == [fair.categories["chairs"].id]
    page = browser.get(redirect_path(response)).get_data(as_text=True)
    assert 'id="preview-count"' in page and "<strong>2</strong>" in page
    assert "alice@example.com" in page and "bob@example.com" in page and "carol@example.com" not in page
    # change it (a draft), then send
    response = browser.post(f"{base(fair)}/{campaign.id}/edit", data={**FORM, "countries": "de"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Campaign, campaign.id).segment["countries"] == ["DE"]
    response = browser.post(f"{base(fair)}/{campaign.id}/status", data={"to": "sending"})
    assert redirect_path(response) == f"{base(fair)}/{campaign.id}"
    db.session.expire_all()
    assert [m.recipient for m in db.session.scalars(select(MailMessage))] == ["bob@example.com"]
    assert db.session.get(Campaign, campaign.id).status == "sent"
    # a sent campaign is no longer editable; its page lists recipients; the report has the funnel
    assert redirect_path(browser.get(f"{base(fair)}/{campaign.id}/edit")) == f"{base(fair)}/{campaign.id}"
    assert 'id="recipients"' in browser.get(f"{base(fair)}/{campaign.id}").get_data(as_text=True)
    report = browser.get(f"{base(fair)}/{campaign.id}/report").get_data(as_text=True)
    assert 'id="campaign-funnel"' in report and '"type": "funnel"' in report
    assert browser.post(f"{base(fair)}/{campaign.id}/status", data={"to": "sending"}).status_code == 302


def test_form_errors_are_shown_beside_the_fields(app, fair):
    browser = Browser(app, fair.owner)
    page = browser.post(f"{base(fair)}/new", data={**FORM, "name": "", "subject_en": "x\x00y",
                                                   "interests": "not-a-number"}).get_data(as_text=True)
    assert field_errors(page, "name") and field_errors(page, "subject_en")
    page = browser.post(f"{base(fair)}/new", data={**FORM, "subject_en": "", "subject_zh": ""}).get_data(as_text=True)
    assert field_errors(page, "subject_en")
    page = browser.post(f"{base(fair)}/new", data={**FORM, "body_zh": ""}).get_data(as_text=True)
    assert field_errors(page, "body_zh")
    assert db.session.scalar(select(Campaign)) is None


def test_pause_and_an_unknown_move(app, fair):
    app.config["CAMPAIGN_RATE_PER_MINUTE"] = 1
    try:
        campaign = draft(fair, office_chairs(fair))
        db.session.commit()
        browser = Browser(app, fair.owner)
        browser.post(f"{base(fair)}/{campaign.id}/status", data={"to": "sending"})
        response = browser.post(f"{base(fair)}/{campaign.id}/status", data={"to": "paused"})
        assert response.status_code == 302
        db.session.expire_all()
        assert db.session.get(Campaign, campaign.id).status == "paused"
        page = browser.get(f"{base(fair)}/{campaign.id}").get_data(as_text=True)
        assert "Resume" in page
        for bogus in ("sent", "draft", "\x00", "x" * 1000):
            assert browser.post(f"{base(fair)}/{campaign.id}/status", data={"to": bogus}).status_code == 302
        db.session.expire_all()
        assert db.session.get(Campaign, campaign.id).status == "paused"
    finally:
        app.config.pop("CAMPAIGN_RATE_PER_MINUTE")


def test_analyst_reads_reports_but_neither_writes_nor_sees_addresses(app, fair, make):
    campaign = draft(fair, office_chairs(fair))
    analyst = make.user("analyst", fair.organizer)
    db.session.commit()
    browser = Browser(app, analyst)
    assert browser.get(base(fair)).status_code == 200
    assert browser.get(f"{base(fair)}/{campaign.id}/report").status_code == 200
    assert browser.get(f"{base(fair)}/{campaign.id}").status_code == 403  # the preview shows addresses
    assert browser.get(f"{base(fair)}/new").status_code == 403
    assert browser.post(f"{base(fair)}/{campaign.id}/status", data={"to": "sending"}).status_code == 403


def test_another_editions_campaign_is_not_found_here(app, fair):
    campaign = draft(fair, office_chairs(fair))
    db.session.commit()
    browser = Browser(app, fair.owner)
    assert browser.get(f"/org/editions/{fair.previous.id}/campaigns/{campaign.id}").status_code == 404
    assert browser.get(f"{base(fair)}/{2**31 - 1}/report").status_code == 404
    assert browser.get(f"{base(fair)}/{2**40}/report").status_code == 404


def test_every_campaign_page_carries_the_policy_and_no_inline_code(app, fair, client):
    """(tests/test_csp.py walks every page too; this keeps the campaign pages checked on their own, with data.)"""
    from expo.campaigns import services

    from ..test_csp import check_answer, inline_code

    sent = draft(fair, office_chairs(fair), name="Sent one")
    services.start(sent)
    db.session.commit()
    waiting = draft(fair, office_chairs(fair), name="Draft one")
    db.session.commit()
    browser = Browser(app, fair.owner)
    pages = [base(fair), f"{base(fair)}/new", f"{base(fair)}/{waiting.id}", f"{base(fair)}/{waiting.id}/edit",
             f"{base(fair)}/{sent.id}", f"{base(fair)}/{sent.id}/report",
             f"/u/{services.unsubscribe_token(sent.id, fair.people['alice'].id)}"]
    for url in pages:
        response = browser.get(url)
        assert response.status_code == 200, url
        check_answer(response, url)
    check_answer(browser.post(f"{base(fair)}/new", data={"name": ""}), "the form with errors")
    mail = db.session.scalars(select(MailMessage)).first()
    assert not inline_code(mail.body_html)  # the HTML mail: no script, no handler, no style attribute


def test_hostile_segment_values_are_dropped_not_a_500(app, fair):
    browser = Browser(app, fair.owner)
    response = browser.post(f"{base(fair)}/new", data={
        **FORM, "interests": ["99999999999999999999999", "-4"], "edition_ids": [str(2**40)], "categories": "wizard",
        "attended": "'; drop table persons; --", "countries": "C\u200bN, 中国, ZZZ, de", "history": "x" * 5000})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and field_errors(page, "attended")  # not a choice: said beside the field
    response = browser.post(f"{base(fair)}/new", data={
        **FORM, "interests": ["99999999999999999999999", "-4"], "edition_ids": [str(2**40)], "categories": "wizard",
        "countries": "C\u200bN, 中国, ZZZ, de"})
    assert response.status_code == 302, response.get_data(as_text=True)
    segment = db.session.scalar(select(Campaign)).segment
    assert (segment["interests"], segment["edition_ids"], segment["categories"], segment["countries"]) == (
        [], [], [], ["DE"])
