"""Server-side sessions (issue 6): the cookie names a session row, not a user; sign-out, expiry and a password change
end it on the server. Secure cookies and HSTS behind TLS; the proxy's X-Forwarded-* headers when trusted."""
from __future__ import annotations

from datetime import timedelta

import pytest
from flask import current_app
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from expo import create_app
from expo.config import Config
from expo.core.db import utcnow
from expo.core.models import AuditEntry, UserSession
from expo.extensions import db

from ..conftest import PASSWORD, Browser, csrf_token, login, redirect_path


@pytest.fixture
def owner_and_list(make):
    """An owner and the address of their edition's registrations list (personal data behind sign-in)."""
    edition = make.edition()
    owner = make.user("owner", _organizer(edition))
    make.registration(edition, name="Wang Xiaoming")
    db.session.commit()
    return owner, f"/org/editions/{edition.id}/registrations"


def _organizer(edition):
    from expo.core.models import Organizer

    return db.session.get(Organizer, edition.organizer_id)


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def sessions_of(user) -> list[UserSession]:
    db.session.expire_all()
    return list(db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)))


def test_the_cookie_names_a_session_not_the_user(app, client, make):
    owner = make.user("owner")
    db.session.commit()
    login(client, owner)
    with client.session_transaction() as session:
        token = session["_user_id"]
    assert token != str(owner.id) and len(token) >= 40
    [row] = sessions_of(owner)
    assert row.id != token and len(row.id) == 64  # only the token's SHA-256 is stored
    assert row.expires_at - row.created_at == timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"])
    assert row.ip == "127.0.0.1"


def test_a_cookie_copied_before_sign_out_stops_working(app, owner_and_list):
    owner, registrations = owner_and_list
    browser, thief = app.test_client(), app.test_client()
    login(browser, owner)
    thief.set_cookie("session", session_cookie(browser))
    assert thief.get(registrations).status_code == 200  # the copy works while the session lives

    response = browser.post("/logout", data={"csrf_token": csrf_token(browser, "/profile")})
    assert redirect_path(response) == "/login"
    assert sessions_of(owner) == []

    response = thief.get(registrations)
    assert redirect_path(response) == "/login"
    assert "Wang Xiaoming" not in response.get_data(as_text=True)
    actions = [entry.action for entry in db.session.scalars(select(AuditEntry).where(AuditEntry.user_id == owner.id)
                                                            .where(AuditEntry.action.like("user.%"))
                                                            .order_by(AuditEntry.id))]
    assert actions[-2:] == ["user.login", "user.logout"]


@pytest.mark.parametrize("column", ["last_seen_at", "expires_at"])
def test_sessions_expire_when_idle_and_in_any_case(app, client, owner_and_list, column):
    owner, registrations = owner_and_list
    login(client, owner)
    assert client.get(registrations).status_code == 200
    [row] = sessions_of(owner)
    if column == "last_seen_at":  # idle for longer than the idle lifetime
        row.last_seen_at = utcnow() - timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"], seconds=1)
    else:  # still in use, but past its absolute lifetime
        row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert redirect_path(client.get(registrations)) == "/login"
    assert sessions_of(owner) == []  # the dead session is cleared away


def test_last_seen_is_written_at_most_once_a_minute(app, client, owner_and_list, count_queries):
    owner, registrations = owner_and_list
    login(client, owner)
    [row] = sessions_of(owner)
    first_seen = row.last_seen_at
    with count_queries() as page:
        assert client.get(registrations).status_code == 200
    assert not any(s.lstrip().upper().startswith("UPDATE USER_SESSIONS") for s in page.statements), page.report()
    assert sessions_of(owner)[0].last_seen_at == first_seen

    row = sessions_of(owner)[0]
    row.last_seen_at = utcnow() - timedelta(minutes=2)
    db.session.commit()
    assert client.get(registrations).status_code == 200
    assert utcnow() - sessions_of(owner)[0].last_seen_at < timedelta(seconds=30)


def test_a_password_change_ends_the_other_sessions(app, owner_and_list):
    owner, registrations = owner_and_list
    here, elsewhere = Browser(app, owner), Browser(app, owner)
    assert elsewhere.get(registrations).status_code == 200
    assert len(sessions_of(owner)) == 2

    response = here.post("/profile/password", data={"current_password": PASSWORD, "new_password": "fresh-lotus-4821",
                                                    "confirm": "fresh-lotus-4821"})
    assert redirect_path(response) == "/profile"
    assert here.get(registrations).status_code == 200  # this browser stays signed in
    assert redirect_path(elsewhere.get(registrations)) == "/login"
    assert len(sessions_of(owner)) == 1

    again = Browser(app)
    again.get("/login")
    refused = again.post("/login", data={"email": owner.email, "password": PASSWORD})
    assert refused.status_code == 200
    login(again.client, owner, "fresh-lotus-4821")
    assert again.get(registrations).status_code == 200


def test_signing_in_again_clears_expired_sessions_of_the_user(app, make):
    owner = make.user("owner")
    db.session.commit()
    login(app.test_client(), owner)
    [old] = sessions_of(owner)
    old.expires_at, old_id = utcnow() - timedelta(days=1), old.id
    db.session.commit()
    login(app.test_client(), owner)
    assert [row.id for row in sessions_of(owner)] != [old_id] and len(sessions_of(owner)) == 1


# --- TLS, cookies and the proxy --------------------------------------------------------------------

def test_secure_cookies_are_off_by_default_and_on_with_the_setting(monkeypatch):
    monkeypatch.delenv("EXPO_SECURE_COOKIES", raising=False)
    config = Config()
    assert not (config.SECURE_COOKIES or config.SESSION_COOKIE_SECURE or config.REMEMBER_COOKIE_SECURE)
    monkeypatch.setenv("EXPO_SECURE_COOKIES", "1")
    config = Config()
    assert config.SECURE_COOKIES and config.SESSION_COOKIE_SECURE and config.REMEMBER_COOKIE_SECURE


def test_behind_tls_cookies_are_secure_and_browsers_are_told_to_keep_to_https(app, client, make, monkeypatch):
    owner = make.user("owner")
    db.session.commit()
    plain = client.get("/login")
    assert "Strict-Transport-Security" not in plain.headers
    assert "secure" not in plain.headers["Set-Cookie"].lower()

    monkeypatch.setitem(app.config, "SECURE_COOKIES", True)
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    tls = app.test_client()
    response = tls.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "; Secure" in response.headers["Set-Cookie"]
    login_response = tls.post("/login", base_url="https://localhost", headers={"Referer": "https://localhost/login"},
                              data={"email": owner.email, "password": PASSWORD,
                                    "csrf_token": csrf_token(tls, "https://localhost/login")})
    assert login_response.status_code == 302
    assert "; Secure" in login_response.headers["Set-Cookie"]
    assert tls.get("/static/app.css", base_url="https://localhost").headers["Strict-Transport-Security"]


@pytest.fixture
def proxied_app(app, tmp_path):
    """The app as configured behind one reverse proxy (EXPO_PROXY_FIX=1), on the test database."""
    fresh = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
                        "INSTANCE_DIR": tmp_path / "instance", "SECRET_KEY": "test-secret", "SMTP_URL": None,
                        "PROXY_FIX": 1})

    @fresh.route("/_seen")
    def seen():
        from flask import request

        return {"scheme": request.scheme, "host": request.host, "address": request.remote_addr}

    yield fresh
    with fresh.app_context():
        db.engine.dispose()
    session_celery = app.extensions["celery"]  # as in tests/test_migrations.py: the session app's Celery again
    session_celery.set_current()
    session_celery.set_default()


def _failed_sign_in(client, headers, email="nobody@example.com"):
    page = client.get("/login", headers=headers).get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    if headers.get("X-Forwarded-Proto") == "https":  # Flask-WTF checks the Referer on HTTPS
        headers = {**headers, "Referer": f"https://{headers['X-Forwarded-Host']}/login"}
    return client.post("/login", headers=headers, data={"email": email, "password": "wrong-password-1",
                                                        "csrf_token": token})


def test_behind_the_proxy_the_forwarded_address_and_scheme_count(app, proxied_app, make, monkeypatch):
    assert isinstance(proxied_app.wsgi_app, ProxyFix)
    monkeypatch.setitem(proxied_app.config, "SIGN_IN_LIMIT_PER_ADDRESS", "2 per 15 minutes")
    client = proxied_app.test_client()
    first = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "expo.example.com"}
    assert client.get("/_seen", headers=first).json == {"scheme": "https", "host": "expo.example.com",
                                                          "address": "203.0.113.7"}
    for _ in range(2):
        assert _failed_sign_in(client, first).status_code == 200
    assert _failed_sign_in(client, first).status_code == 429
    # another visitor behind the same proxy is another address: not blocked
    assert _failed_sign_in(proxied_app.test_client(), {"X-Forwarded-For": "198.51.100.9"}).status_code == 200
    db.session.expire_all()
    ips = set(db.session.scalars(select(AuditEntry.ip).where(AuditEntry.action == "user.login_failed")))
    assert ips == {"203.0.113.7", "198.51.100.9"}


def test_without_the_proxy_setting_forwarded_headers_are_ignored(app, client, make, monkeypatch):
    """A client cannot pick its own address past the limits when no proxy is trusted (the default)."""
    monkeypatch.setitem(app.config, "SIGN_IN_LIMIT_PER_ADDRESS", "2 per 15 minutes")
    assert not isinstance(app.wsgi_app, ProxyFix)
    for n in range(2):
        assert _failed_sign_in(client, {"X-Forwarded-For": f"203.0.113.{n}"}).status_code == 200
    assert _failed_sign_in(client, {"X-Forwarded-For": "203.0.113.99"}).status_code == 429
    assert set(db.session.scalars(select(AuditEntry.ip).where(AuditEntry.action == "user.login_failed"))) \
        == {"127.0.0.1"}

