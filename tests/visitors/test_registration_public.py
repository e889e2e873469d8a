"""The public registration form as an attacker sees it (issue 6): no registration oracle (a known address
gets the same answer as a new one, and its own link by mail, at most once per interval), rate limits per
address with a friendly 429, a honeypot, and a confirmation mail that carries no text or link an attacker
chose (Host header, name with a URL and CR/LF) — checked on the mail a real SMTP server on loopback receives."""
from __future__ import annotations

import re
import socket
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from expo.core.db import utcnow
from expo.core.models import AuditEntry, MailMessage, Organizer
from expo.core.services import ServiceError
from expo.extensions import db
from expo.visitors import services as visitor_services
from expo.visitors.models import Person, Registration

from ..conftest import csrf_token

PUBLIC_URL = "http://expo.example.com"  # the session app's PUBLIC_URL (tests/conftest.py)


def _form(**overrides) -> dict:
    data = {"name": "李华", "email": "li.hua@example.cn", "phone": "+86 138-0000-1111",
            "company": "深圳宏达家具有限公司", "job_title": "采购经理", "country": "CN", "category": "buyer",
            "consent": "y", "share_with_exhibitors": "y"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _post(client, edition, data, path="", *, base_url="http://localhost", **kwargs):
    url = f"{base_url}/e/{edition.slug}{path}"
    token = csrf_token(client, url)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def _mails(recipient=None) -> list[MailMessage]:
    db.session.expire_all()
    stmt = select(MailMessage).order_by(MailMessage.id)
    if recipient:
        stmt = stmt.where(MailMessage.recipient == recipient)
    return list(db.session.scalars(stmt))


def _counts() -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.scalar(select(func.count(Person.id))), db.session.scalar(select(func.count(Registration.id))))


def _page(client, location) -> str:
    """The page a redirect leads to, without what differs between any two requests (the CSRF token)."""
    page = client.get(location).get_data(as_text=True)
    return re.sub(r'(name="csrf-token" content="|name="csrf_token" type="hidden" value="|value=")[^"]*"', r"\1", page)


# --- no registration oracle ---------------------------------------------------------------------------

def test_a_known_email_gets_the_same_answer_as_a_new_one_and_its_own_link_by_mail(app, make):
    edition = make.edition()
    db.session.commit()
    first_visitor, attacker, newcomer = app.test_client(), app.test_client(), app.test_client()

    new = _post(first_visitor, edition, _form(), headers={"Accept-Language": "zh-CN"})
    [registration] = list(db.session.scalars(select(Registration)))
    key = registration.access_key
    known = _post(attacker, edition, _form(email=" LI.HUA@example.cn ", name="Someone Else", company="Other Co",
                                           phone="+1 415 555 0100"))
    fresh = _post(newcomer, edition, _form(email="someone.new@example.cn", name="张三"))

    # the same status, the same redirect target, the same page
    assert new.status_code == known.status_code == fresh.status_code == 302, known.get_data(as_text=True)
    assert new.headers["Location"] == known.headers["Location"] == fresh.headers["Location"]
    assert new.headers["Location"].endswith(f"/e/{edition.slug}/mail-sent")
    assert _page(first_visitor, new.headers["Location"]) == _page(attacker, known.headers["Location"]) \
        == _page(newcomer, fresh.headers["Location"])
    # nothing stored for the known address: the registration and the person are as they were
    assert _counts() == (2, 2)
    db.session.expire_all()
    registration = db.session.get(Registration, registration.id)
    assert (registration.person.name, registration.person.company, registration.person.phone) == (
        "李华", "深圳宏达家具有限公司", "+86 138-0000-1111")
    # the owner of the address got their own link, in their language, with none of the attacker's text
    confirmation, link = _mails("li.hua@example.cn")
    assert "李华" in link.body_text and f"{PUBLIC_URL}/r/{key}" in link.body_text
    assert "Someone Else" not in link.body_text and "Other Co" not in link.body_text
    assert "您的胸卡二维码已随邮件附上" in link.body_text  # the language the visitor registered in, not the attacker's
    assert link.subject != confirmation.subject
    assert [a.filename for a in link.attachments] == ["badge.png"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "registration.link_mailed"))
    assert (entry.object_type, entry.object_id, entry.user_id) == ("registrations", registration.id, None)


def test_the_link_mail_goes_out_at_most_once_per_interval(app, client, make, monkeypatch):
    edition = make.edition()
    registration = make.registration(edition, email="wang@example.cn")
    db.session.commit()

    outcomes = [visitor_services.register_online(edition, visitor_services.RegistrationData(
        name="x", email="wang@example.cn", category="buyer", consent=True)) for _n in range(3)]
    db.session.commit()
    assert outcomes == ["link_mailed", "link_withheld", "link_withheld"]
    for _n in range(3):
        assert _post(client, edition, _form(email="wang@example.cn")).status_code == 302
    assert len(_mails("wang@example.cn")) == 1

    # an interval later the address may get its link once more
    later = utcnow() + visitor_services.LINK_MAIL_INTERVAL + timedelta(seconds=1)
    monkeypatch.setattr(visitor_services, "utcnow", lambda: later)
    assert _post(client, edition, _form(email="wang@example.cn")).status_code == 302
    mails = _mails("wang@example.cn")
    assert len(mails) == 2
    assert f"/r/{registration.access_key}" in mails[-1].body_text


def test_a_cancelled_registration_is_taken_up_again_with_the_same_answer(app, client, make):
    """A visitor who cancelled and fills in the form again is registered again (the same registration, through
    the edition's policy) and mailed, behind the same "check your inbox" as everyone."""
    edition = make.edition()
    registration = make.registration(edition, email="gone@example.cn")
    visitor_services.cancel_registration(registration)
    db.session.commit()

    response = _post(client, edition, _form(email="gone@example.cn"))

    assert response.status_code == 302 and response.headers["Location"].endswith("/mail-sent")
    db.session.expire_all()
    assert registration.status == "confirmed" and _counts() == (1, 1)
    assert len(_mails("gone@example.cn")) == 1


def test_a_known_phone_with_a_new_email_reveals_nothing_and_is_a_new_person(app, client, make):
    """Identity is the email (persons.py): the phone of a registered visitor under another address is another
    person, registered as such (the duplicates review shows the pair); the earlier visitor gets no mail."""
    edition = make.edition()
    make.registration(edition, email="first@example.cn", phone="+86 138 0000 1111")
    db.session.commit()

    response = _post(client, edition, _form(email="second@example.cn", phone="13800001111"))

    assert response.status_code == 302 and response.headers["Location"].endswith("/mail-sent")
    assert _counts() == (2, 2)
    assert _mails("first@example.cn") == []
    assert len(_mails("second@example.cn")) == 1


def test_staff_registering_a_known_person_are_told_it(app, make):
    """The desk is signed in: the service still says "already registered" to a caller with an actor."""
    edition = make.edition()
    staff = make.user("onsite", organizer=None)
    make.registration(edition, email="desk@example.cn")
    with pytest.raises(ServiceError, match="already registered"):
        visitor_services.register(edition, visitor_services.RegistrationData(
            name="x", email="DESK@example.cn", category="buyer", consent=True), actor_id=staff.id)


def test_a_new_registration_lands_on_check_your_inbox_and_its_mail_holds_the_badge_link(app, client, make):
    edition = make.edition()
    db.session.commit()

    response = _post(client, edition, _form(), headers={"Accept-Language": "zh-CN,zh;q=0.9"})

    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert 'id="mail-sent-title"' in page and 'lang="zh-CN"' in page
    [registration] = list(db.session.scalars(select(Registration)))
    assert registration.access_key not in page  # the badge is reached through the mail only
    [mail] = _mails("li.hua@example.cn")
    assert f"{PUBLIC_URL}/r/{registration.access_key}" in mail.body_text
    assert client.get(f"/r/{registration.access_key}").status_code == 200


# --- "send the link again" -----------------------------------------------------------------------------

def test_send_it_again_answers_every_address_alike_and_mails_only_a_registered_one(app, make):
    edition = make.edition()
    registration = make.registration(edition, email="known@example.cn")
    db.session.commit()
    known, unknown = app.test_client(), app.test_client()

    a = _post(known, edition, {"email": "Known@example.cn"}, path="/mail-sent")
    b = _post(unknown, edition, {"email": "nobody@example.cn"}, path="/mail-sent")

    assert a.status_code == b.status_code == 302
    assert a.headers["Location"] == b.headers["Location"]
    assert _page(known, a.headers["Location"]) == _page(unknown, b.headers["Location"])
    assert 'id="link-requested"' in _page(known, a.headers["Location"])
    [mail] = _mails("known@example.cn")
    assert f"{PUBLIC_URL}/r/{registration.access_key}" in mail.body_text
    assert _mails("nobody@example.cn") == []
    # again at once: throttled, the same answer
    assert _post(known, edition, {"email": "known@example.cn"}, path="/mail-sent").status_code == 302
    assert len(_mails("known@example.cn")) == 1


def test_send_it_again_for_another_edition_of_the_organizer_sends_nothing(app, client, make):
    edition = make.edition()
    other = make.edition(db.session.get(Organizer, edition.organizer_id))
    make.registration(other, email="elsewhere@example.cn")
    db.session.commit()

    assert _post(client, edition, {"email": "elsewhere@example.cn"}, path="/mail-sent").status_code == 302
    assert _mails("elsewhere@example.cn") == []


# --- the honeypot --------------------------------------------------------------------------------------

def test_the_honeypot_is_hidden_by_a_class_skipped_by_screen_readers_and_keyboards(app, client, make):
    edition = make.edition()
    db.session.commit()

    page = client.get(f"/e/{edition.slug}").get_data(as_text=True)

    trap = re.search(r'<div class="hp-field" aria-hidden="true">(.*?)</div>', page, re.S)
    assert trap, "no honeypot on the form"
    field = re.search(r"<input[^>]*>", trap.group(1)).group(0)
    assert 'name="website"' in field and 'autocomplete="off"' in field and 'tabindex="-1"' in field
    assert 'for="website"' in trap.group(1)
    assert "style=" not in trap.group(0)
    css = client.get("/static/public.css").get_data(as_text=True)
    assert re.search(r"\.hp-field\s*\{[^}]*left:\s*-\d+px", css)


def test_a_bot_filling_the_honeypot_gets_the_same_answer_and_nothing_is_stored_or_mailed(app, make):
    edition = make.edition()
    db.session.commit()
    bot, person = app.test_client(), app.test_client()

    trapped = _post(bot, edition, _form(email="bot.target@example.cn", website="http://spam.example"))
    real = _post(person, edition, _form(email="real@example.cn"))

    assert trapped.status_code == real.status_code == 302
    assert trapped.headers["Location"] == real.headers["Location"]
    assert _counts() == (1, 1)
    assert _mails("bot.target@example.cn") == []
    # the resend form has one too
    make.registration(edition, email="victim@example.cn")
    db.session.commit()
    again = _post(bot, edition, {"email": "victim@example.cn", "website": "x"}, path="/mail-sent")
    assert again.status_code == 302
    assert _mails("victim@example.cn") == []


# --- rate limits ---------------------------------------------------------------------------------------

def test_the_eleventh_submit_in_a_minute_gets_a_friendly_429_and_stores_nothing(app, client, make):
    edition = make.edition()
    db.session.commit()
    assert app.config["PUBLIC_FORM_RATE_LIMIT"] == "10/minute;50/hour"
    token = csrf_token(client, f"/e/{edition.slug}")

    answers = [client.post(f"/e/{edition.slug}", data={**_form(email=f"v{n}@example.cn"), "csrf_token": token})
               .status_code for n in range(10)]
    assert answers == [302] * 10
    refused = client.post(f"/e/{edition.slug}", data={**_form(email="v11@example.cn"), "csrf_token": token},
                          headers={"Accept-Language": "zh-CN"})

    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    page = refused.get_data(as_text=True)
    assert 'lang="zh-CN"' in page and "<form" not in page.split("<main", 1)[-1]
    assert _counts() == (10, 10)
    # reading the page is not limited; the resend form shares the budget
    assert client.get(f"/e/{edition.slug}").status_code == 200
    assert client.post(f"/e/{edition.slug}/mail-sent", data={"email": "v1@example.cn", "csrf_token": token}
                       ).status_code == 429
    # another address still may
    assert client.post(f"/e/{edition.slug}", data={**_form(email="v12@example.cn"), "csrf_token": token},
                       environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 302


def test_the_limit_comes_from_the_configuration(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_FORM_RATE_LIMIT", "2/hour")
    edition = make.edition()
    db.session.commit()

    answers = [_post(client, edition, {}).status_code for _n in range(3)]

    assert answers == [200, 200, 429]  # invalid submits count too: a bot need not be right to be slowed


# --- what the mail carries ---------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Collect:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp(app, monkeypatch):
    """A real SMTP server on loopback; the app delivers to it (eager Celery: delivery runs after the commit)."""
    handler = _Collect()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setitem(app.config, "SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    try:
        yield handler
    finally:
        controller.stop()


def _received(handler, recipient):
    found = [e for e in handler.envelopes if recipient in e.rcpt_tos]
    assert len(found) == 1, [e.rcpt_tos for e in handler.envelopes]
    return found[0], message_from_bytes(found[0].content, policy=policy.default)


def test_a_name_with_a_url_and_crlf_arrives_harmless_and_company_is_not_echoed(app, client, make, smtp):
    edition = make.edition()
    db.session.commit()
    name = "Cheap pills at http://evil.example/buy\r\nBcc: many@victims.example\r\nSubject: hi"

    response = _post(client, edition, _form(email="target@example.org", name=name,
                                            company="Visit evil.example today", job_title="www.evil.example"))

    assert response.status_code == 302, response.get_data(as_text=True)
    envelope, mail = _received(smtp, "target@example.org")
    raw = envelope.content.decode("utf-8", "replace")
    assert envelope.rcpt_tos == ["target@example.org"]
    assert mail["Bcc"] is None and "victims.example" not in raw
    assert "evil.example" not in raw and "pills" not in raw
    assert "\n" not in str(mail["Subject"]) and edition.name in str(mail["Subject"])
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert body.startswith("Dear visitor,")
    assert f"{PUBLIC_URL}/r/" in body
    # what was typed is kept (for staff, escaped), on one line
    db.session.expire_all()
    stored = db.session.scalar(select(Registration))
    assert "\r" not in stored.name_as_given and "\n" not in stored.name_as_given


def test_a_plain_name_is_shown_escaped_and_capped(app, client, make, smtp):
    edition = make.edition()
    db.session.commit()

    _post(client, edition, _form(email="a@example.org", name="<b>Li</b> & Co"))
    _post(client, edition, _form(email="b@example.org", name="王" * 150))

    _envelope, mail = _received(smtp, "a@example.org")
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "&lt;b&gt;Li&lt;/b&gt; &amp; Co" in html and "<b>Li" not in html
    _envelope, mail = _received(smtp, "b@example.org")
    greeting = mail.get_body(preferencelist=("plain",)).get_content().splitlines()[0]
    assert greeting.startswith("Dear 王") and len(greeting) <= 70


def test_mail_links_never_come_from_the_host_header(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", None)
    edition = make.edition()
    db.session.commit()

    response = _post(client, edition, _form(email="host@example.org"), base_url="http://evil.example")
    forwarded = _post(client, edition, _form(email="fwd@example.org"), headers={"X-Forwarded-Host": "evil.example"})

    assert response.status_code == forwarded.status_code == 302
    assert len(_mails()) == 2
    for mail in _mails():
        assert "evil.example" not in mail.body_text and "evil.example" not in (mail.body_html or "")
    # an unknown host: the embedded default, never the host; a loopback host (the app on this machine): itself
    assert re.search(r"http://127\.0\.0\.1:5000/r/[\w-]{20,}", _mails("host@example.org")[0].body_text)
    assert re.search(r"http://localhost/r/[\w-]{20,}", _mails("fwd@example.org")[0].body_text)


def test_mail_links_use_the_configured_address_whatever_the_host(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://expo.example.com/")
    edition = make.edition()
    db.session.commit()

    assert _post(client, edition, _form(email="conf@example.org"), base_url="http://evil.example").status_code == 302

    [mail] = _mails("conf@example.org")
    key = db.session.scalar(select(Registration.access_key))
    assert f"https://expo.example.com/r/{key}" in mail.body_text and "evil.example" not in mail.body_text


def test_mail_links_use_server_name_when_public_url_is_unset(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", None)
    edition = make.edition()
    db.session.commit()
    from expo.visitors import notifications

    with app.test_request_context("/", headers={"Host": "evil.example"}):
        monkeypatch.setitem(app.config, "SERVER_NAME", "fair.example.org")
        monkeypatch.setitem(app.config, "PREFERRED_URL_SCHEME", "https")
        assert notifications.request_base_url() == "https://fair.example.org/"
        monkeypatch.setitem(app.config, "SERVER_NAME", None)
        assert notifications.request_base_url() is None
    with app.test_request_context("/", base_url="http://localhost:8080"):
        assert notifications.request_base_url() == "http://localhost:8080/"
