"""Sign-in under attack (issue 6): failed attempts are limited per account and per address (429), an unknown email
takes as long as a known one, passwords follow a policy, organizer staff can add a second factor (TOTP), and adding
a user never reveals that an email is in use with another organizer."""
from __future__ import annotations

import re
import statistics
import time

import pyotp
import pytest
from sqlalchemy import func, select

from expo.core import services as core
from expo.core.demo import DEMO_DOMAIN, DEMO_PASSWORD
from expo.core.models import User
from expo.core.passwords import common_passwords, password_problem
from expo.core.scoping import Scope
from expo.exhibitors import services as exhibitor_services
from expo.extensions import db, limiter

from ..conftest import PASSWORD, Browser, count, csrf_token, field_errors, login, redirect_path


def attempt(client, email, password, **kwargs):
    client.get("/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)},
                       **kwargs)


def signed_in(client) -> bool:
    return client.get("/profile").status_code == 200


# --- rate limits ---------------------------------------------------------------------------------

def test_failed_sign_ins_of_one_account_are_limited(app, client, make):
    owner, other = make.user("owner"), make.user("manager")
    db.session.commit()
    for n in range(10):  # the default: 10 failures per account in 15 minutes
        response = attempt(client, owner.email.upper(), f"guess-number-{n}")
        assert response.status_code == 200, n
    blocked = attempt(client, f"  {owner.email} ", PASSWORD)  # even the right password, however the email is typed
    assert blocked.status_code == 429
    page = blocked.get_data(as_text=True)
    assert "Too many failed sign-ins. Please wait 15 minutes and try again." in page
    assert 800 <= int(blocked.headers["Retry-After"]) <= 900
    assert not signed_in(client)
    # the limit is the account's: another account from the same address signs in
    login(client, other)
    assert signed_in(client)


def test_failed_sign_ins_from_one_address_are_limited(app, client, make, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_LIMIT_PER_ADDRESS", "5 per 15 minutes")
    owner = make.user("owner")
    db.session.commit()
    for n in range(5):  # spraying: one guess for each of many accounts
        assert attempt(client, f"someone{n}@example.com", "wrong-password-1").status_code == 200
    assert attempt(client, owner.email, PASSWORD).status_code == 429
    elsewhere = app.test_client()
    assert attempt(elsewhere, owner.email, PASSWORD, environ_base={"REMOTE_ADDR": "192.0.2.44"}).status_code == 302


def test_successful_sign_ins_are_never_limited(app, make, monkeypatch):
    monkeypatch.setitem(app.config, "SIGN_IN_LIMIT_PER_ACCOUNT", "3 per 15 minutes")
    monkeypatch.setitem(app.config, "SIGN_IN_LIMIT_PER_ADDRESS", "3 per 15 minutes")
    owner = make.user("owner")
    db.session.commit()
    for _ in range(12):
        assert attempt(app.test_client(), owner.email, PASSWORD).status_code == 302
    assert attempt(app.test_client(), owner.email, "wrong-password-1").status_code == 200  # failures still count


def test_the_default_limits_are_configurable(app):
    assert app.config["SIGN_IN_LIMIT_PER_ACCOUNT"] == "10 per 15 minutes"
    assert app.config["SIGN_IN_LIMIT_PER_ADDRESS"] == "50 per 15 minutes"


# --- no timing oracle ----------------------------------------------------------------------------

def test_an_unknown_email_takes_as_long_as_a_known_one(app, client, make, monkeypatch):
    """The password check is the slow part of a sign-in: an unknown (or inactive) email checks a dummy hash of the
    same method, so that the answer's time does not tell which emails have an account. Medians of interleaved
    attempts, compared by ratio (robust on a busy machine): before the fix unknown/known was about 0.05."""
    monkeypatch.setattr(core, "PASSWORD_METHOD", "pbkdf2:sha256:150000")  # a hash that costs what a real one does
    owner = make.user("owner")
    inactive = make.user("manager")
    inactive.active = False
    db.session.commit()

    def timed(email):
        limiter.reset()
        client.get("/login")
        data = {"email": email, "password": "wrong-password-1", "csrf_token": csrf_token(client)}
        start = time.perf_counter()
        response = client.post("/login", data=data)
        elapsed = time.perf_counter() - start
        assert response.status_code == 200
        return elapsed

    timed(owner.email), timed("warm-up@example.com")
    known, unknown, gone = [], [], []
    for n in range(9):
        known.append(timed(owner.email))
        unknown.append(timed(f"nobody{n}@example.com"))
        gone.append(timed(inactive.email))
    known_ms, unknown_ms = statistics.median(known) * 1000, statistics.median(unknown) * 1000
    print(f"sign-in medians: known {known_ms:.1f} ms, unknown {unknown_ms:.1f} ms, "
          f"inactive {statistics.median(gone) * 1000:.1f} ms")
    assert unknown_ms >= 0.5 * known_ms
    assert statistics.median(gone) >= 0.5 * statistics.median(known)


# --- password policy -----------------------------------------------------------------------------

@pytest.mark.parametrize("password, problem", [
    ("short-pw1", "Use at least 10 characters."),
    ("li.lei@example.com", "The password must not be your email address."),
    ("Li.Lei2026!", "The password must not be your email address."),
    ("lilei123456", "The password must not be your email address."),
    ("password123", "This password is too common: choose one that others would not guess."),
    ("P@ssw0rd2026!", "This password is too common: choose one that others would not guess."),
    ("qwertyuiop", "This password is too common: choose one that others would not guess."),
    ("1qaz2wsx3edc", "This password is too common: choose one that others would not guess."),
    ("woaini1314520", "This password is too common: choose one that others would not guess."),
    ("aaaaaaaaaaaa", "This password is too common: choose one that others would not guess."),
    ("1234567890", "This password is too common: choose one that others would not guess."),
    ("abababababab", "This password is too common: choose one that others would not guess."),
    ("lantern-orchid-58", None),
    (PASSWORD, None),
])
def test_password_policy(password, problem):
    found = password_problem(password, "Li.Lei@example.com")
    assert (str(found) if found else None) == problem


def test_the_common_password_list_ships_with_the_app():
    common = common_passwords()
    assert len(common) >= 500 and {"123456", "password", "qwerty", "iloveyou", "5201314"} <= common


def test_demo_and_test_passwords_follow_the_policy():
    assert password_problem(DEMO_PASSWORD, f"owner@{DEMO_DOMAIN}") is None
    assert password_problem(PASSWORD, "owner1@example.com") is None


def test_create_user_applies_the_policy(app, make):
    organizer = make.organizer()
    for weak in ("password2026", "tooshort1", "chen.jing@example.com"):
        with pytest.raises(core.ServiceError) as refused:
            core.create_user(organizer.id, "chen.jing@example.com", "Chen Jing", weak, "sales")
        assert refused.value.field == "password"
    assert count(User) == 0


def test_staff_with_a_weak_password_get_the_error_at_the_field(app, make):
    edition = make.edition()
    admin = make.user("exhibitor_admin", exhibitor=make.exhibitor(edition))
    db.session.commit()
    response = Browser(app, admin).post("/portal/staff", data={"name": "Li Lei", "email": "li.lei@example.com",
                                                               "password": "iloveyou2026", "role": "booth_staff"})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "password") == [
        "This password is too common: choose one that others would not guess."]
    assert db.session.scalar(select(User.id).where(User.email == "li.lei@example.com")) is None


def test_change_password_needs_the_current_one_and_a_good_new_one(app, make):
    owner = make.user("owner")
    db.session.commit()
    browser = Browser(app, owner)
    assert "/profile/password" in browser.get("/profile").get_data(as_text=True)
    cases = [({"current_password": "not-my-password", "new_password": "lantern-orchid-58"},
              "current_password", "This is not your current password."),
             ({"current_password": PASSWORD, "new_password": "password2026"},
              "new_password", "This password is too common: choose one that others would not guess."),
             ({"current_password": PASSWORD, "new_password": "lantern-orchid-58", "confirm": "lantern-orchid-59"},
              "confirm", "The two passwords differ.")]
    for data, name, message in cases:
        response = browser.post("/profile/password", data={"confirm": data["new_password"], **data})
        assert response.status_code == 200
        assert field_errors(response.get_data(as_text=True), name) == [message]
    response = browser.post("/profile/password", data={"current_password": PASSWORD,
                                                       "new_password": "lantern-orchid-58",
                                                       "confirm": "lantern-orchid-58"})
    assert redirect_path(response) == "/profile"
    assert attempt(app.test_client(), owner.email, PASSWORD).status_code == 200
    assert attempt(app.test_client(), owner.email, "lantern-orchid-58").status_code == 302


# --- two-factor sign-in (TOTP) -------------------------------------------------------------------

def _enrol(browser) -> str:
    page = browser.get("/profile/two-factor").get_data(as_text=True)
    secret = page.split('<code class="user-select-all" id="totp-secret">', 1)[1].split("<", 1)[0]
    assert "otpauth://totp/Expo%20CRM:" in page and f"secret={secret}" in page
    assert 'src="/profile/two-factor/qr.png"' in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)  # no inline script
    return secret


def test_organizer_staff_switch_two_factor_on_with_a_code(app, make):
    owner = make.user("owner")
    db.session.commit()
    browser = Browser(app, owner)
    secret = _enrol(browser)
    qr = browser.get("/profile/two-factor/qr.png")
    assert qr.status_code == 200 and qr.mimetype == "image/png" and qr.data.startswith(b"\x89PNG")
    assert qr.headers["Cache-Control"] == "private, no-store"
    wrong = browser.post("/profile/two-factor", data={"code": "000000"})
    assert field_errors(wrong.get_data(as_text=True), "code") == [
        "This code is not right: check the time on your phone and try the next one."]
    db.session.refresh(owner)
    assert owner.totp_secret is None  # not on before a code confirms it
    assert _enrol(browser) == secret  # the same secret until confirmed
    response = browser.post("/profile/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    assert len(_codes_on(response)) == core.RECOVERY_CODE_COUNT  # the recovery codes, shown this once
    db.session.refresh(owner)
    assert owner.totp_secret == secret
    assert browser.get("/profile/two-factor/qr.png").status_code == 404  # the secret is not shown again


def _codes_on(response) -> list[str]:
    return re.findall(r'<code class="user-select-all">([a-z0-9]{5}-[a-z0-9]{5})</code>', response.get_data(as_text=True))


def _two_step(app, user, code):
    client = app.test_client()
    attempt(client, user.email, PASSWORD)
    response = client.post("/login/continue", data={"account": user.id, "code": code,
                                                    "csrf_token": csrf_token(client, "/login/continue")})
    return client, response


def test_a_recovery_code_signs_in_once_instead_of_the_app(app, make):
    """A lost phone: one of the recovery codes shown when two-factor sign-in was switched on signs in once,
    typed in any case with or without its hyphen; the audit log says so, not the code."""
    from expo.core.models import AuditEntry, RecoveryCode

    owner = make.user("owner")
    db.session.commit()
    browser = Browser(app, owner)
    secret = _enrol(browser)
    codes = _codes_on(browser.post("/profile/two-factor", data={"code": pyotp.TOTP(secret).now()}))
    stored = db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == owner.id)).all()
    assert len(stored) == 10 and not any(code.replace("-", "") in h for code in codes for h in stored)  # hashes only

    client, response = _two_step(app, owner, " " + codes[3].replace("-", "").upper() + " ")
    assert response.status_code == 302 and signed_in(client)
    _client, again = _two_step(app, owner, codes[3])  # spent
    assert again.status_code == 200 and field_errors(again.get_data(as_text=True), "code")
    _client, wrong = _two_step(app, owner, "abcde-fghjk")
    assert wrong.status_code == 200
    used = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.recovery_code_used"))
    assert used.user_id == owner.id and used.details == {"left": 9}
    page = browser.get("/profile/two-factor").get_data(as_text=True)
    assert "9 unused recovery codes left." in page


def test_new_recovery_codes_need_a_code_from_the_app_and_end_the_old_set(app, make):
    owner = make.user("owner")
    db.session.commit()
    browser = Browser(app, owner)  # signed in before two-factor was switched on
    secret = owner.totp_secret = pyotp.random_base32()
    db.session.commit()
    old = core.make_recovery_codes(owner)
    db.session.commit()
    refused = browser.post("/profile/two-factor/recovery-codes", data={"app_code": "000000"})
    assert refused.status_code == 200 and not _codes_on(refused)
    assert field_errors(refused.get_data(as_text=True), "app_code")
    fresh = _codes_on(browser.post("/profile/two-factor/recovery-codes",
                                   data={"app_code": pyotp.TOTP(secret).now()}))
    assert len(fresh) == 10 and not set(fresh) & set(old)
    assert _two_step(app, owner, old[0])[1].status_code == 200  # the old set no longer signs in
    assert _two_step(app, owner, fresh[0])[1].status_code == 302
    # switching two-factor off (a recovery code will do when the phone is gone) removes the codes
    core.disable_totp(owner, fresh[1])
    db.session.commit()
    assert owner.totp_secret is None and core.unused_recovery_codes(owner) == 0
    with pytest.raises(core.ServiceError):
        core.make_recovery_codes(owner)


def test_a_secret_being_set_up_stays_with_its_user(app, make):
    """On a shared computer, the next person signing in does not inherit the secret shown to the one before."""
    organizer = make.organizer()
    first, second = make.user("owner", organizer), make.user("manager", organizer)
    db.session.commit()
    browser = Browser(app, first)
    secret = _enrol(browser)
    browser.post("/logout")
    login(browser.client, second)
    assert _enrol(browser) != secret


def test_with_two_factor_the_password_alone_does_not_sign_in(app, make):
    owner = make.user("owner")
    secret = pyotp.random_base32()
    owner.totp_secret = secret
    db.session.commit()
    client = app.test_client()
    client.get("/login")
    response = client.post("/login?next=/org", data={"email": owner.email, "password": PASSWORD,
                                                      "csrf_token": csrf_token(client)})
    assert redirect_path(response) == "/login/continue"
    assert not signed_in(client)
    token = csrf_token(client, "/login/continue")
    wrong = client.post("/login/continue?next=/org", data={"account": owner.id, "code": "123456", "csrf_token": token})
    assert wrong.status_code == 200
    assert field_errors(wrong.get_data(as_text=True), "code") == [
        "This code is not right: check the time on your phone and try the next one."]
    assert not signed_in(client)
    code = pyotp.TOTP(secret).now()
    right = client.post("/login/continue?next=/org", data={"account": owner.id, "code": code, "csrf_token": token})
    assert right.headers["Location"] == "/org"
    assert signed_in(client)

    # the same code cannot be used twice (seen over a shoulder, replayed from a log)
    again = app.test_client()
    again.get("/login")
    again.post("/login", data={"email": owner.email, "password": PASSWORD, "csrf_token": csrf_token(again)})
    replay = again.post("/login/continue", data={"account": owner.id, "code": code,
                                                 "csrf_token": csrf_token(again, "/login/continue")})
    assert replay.status_code == 200 and not signed_in(again)


def test_the_password_step_waits_only_a_few_minutes(app, make, monkeypatch):
    owner = make.user("owner")
    owner.totp_secret = pyotp.random_base32()
    db.session.commit()
    client = app.test_client()
    attempt(client, owner.email, PASSWORD)
    with client.session_transaction() as session:
        session["sign_in"] = {**session["sign_in"], "at": int(time.time()) - 301}
    response = client.post("/login/continue", data={"account": owner.id, "code": pyotp.TOTP(owner.totp_secret).now(),
                                                    "csrf_token": csrf_token(client)})
    assert redirect_path(response) == "/login"
    assert not signed_in(client)


def test_wrong_codes_count_toward_the_account_limit(app, make):
    owner = make.user("owner")
    secret = owner.totp_secret = pyotp.random_base32()
    db.session.commit()
    client = app.test_client()
    attempt(client, owner.email, PASSWORD)
    wrong = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    for n in range(10):  # an email field added to the form does not move the count to another account
        assert client.post("/login/continue", data={"account": owner.id, "code": wrong, "email": f"x{n}@example.com",
                                                    "csrf_token": csrf_token(client)}).status_code == 200
    blocked = client.post("/login/continue", data={"account": owner.id, "code": pyotp.TOTP(secret).now(),
                                                   "csrf_token": csrf_token(client)})
    assert blocked.status_code == 429
    assert attempt(app.test_client(), owner.email, PASSWORD).status_code == 429  # the account, not this browser


def test_two_factor_is_switched_off_only_with_a_code(app, make):
    owner = make.user("owner")
    secret = owner.totp_secret = pyotp.random_base32()
    db.session.commit()
    client = app.test_client()
    attempt(client, owner.email, PASSWORD)
    client.post("/login/continue", data={"account": owner.id, "code": pyotp.TOTP(secret).now(),
                                         "csrf_token": csrf_token(client)})
    assert signed_in(client)
    token = csrf_token(client, "/profile/two-factor")
    refused = client.post("/profile/two-factor/off", data={"code": "", "csrf_token": token})
    assert refused.status_code == 200
    db.session.refresh(owner)
    assert owner.totp_secret == secret
    step_after = pyotp.TOTP(secret).at(time.time() + 30)  # the code of the next step: the current one is spent
    response = client.post("/profile/two-factor/off", data={"code": step_after, "csrf_token": token})
    assert redirect_path(response) == "/profile"
    db.session.refresh(owner)
    assert owner.totp_secret is None
    assert redirect_path(attempt(app.test_client(), owner.email, PASSWORD)) == "/"  # no second step any more


def test_exhibitor_staff_cannot_switch_two_factor_on(app, make):
    edition = make.edition()
    admin = make.user("exhibitor_admin", exhibitor=make.exhibitor(edition))
    with pytest.raises(core.ServiceError):
        secret = pyotp.random_base32()
        core.enable_totp(admin, secret, pyotp.TOTP(secret).now())


# --- adding a user never reveals an email used elsewhere ------------------------------------------

@pytest.fixture
def two_organizers(make):
    """Organizer A with an owner whose email exhibitor staff of organizer B will try; B with an exhibitor admin."""
    a = make.tenant("A", visitors=1, leads=False, emails={"owner": "chen.jing@hongda.example.cn"})
    b = make.tenant("B", visitors=1, leads=False)
    db.session.commit()
    return a, b


def _add_staff(app, admin, email, password="booth-staff-2077"):
    return Browser(app, admin).post("/portal/staff", data={"name": "Chen Jing", "email": email,
                                                            "password": password, "role": "booth_staff"})


def test_portal_answers_the_same_for_an_email_of_another_organizer(app, two_organizers):
    a, b = two_organizers
    admin_b = b.users["exhibitor_admin"]
    fresh = _add_staff(app, admin_b, "never.seen@hongda.example.cn")
    taken_elsewhere = _add_staff(app, admin_b, "Chen.Jing@hongda.example.cn")
    assert (fresh.status_code, fresh.headers["Location"]) == (taken_elsewhere.status_code,
                                                              taken_elsewhere.headers["Location"]) \
        == (302, "/portal/staff")
    staff_page = Browser(app, admin_b).get("/portal/staff").get_data(as_text=True)
    assert "already exists" not in staff_page and "never.seen@hongda.example.cn" in staff_page
    assert "chen.jing@hongda.example.cn" in staff_page  # listed like any new colleague: nothing tells them apart
    assert db.session.scalar(select(func.count()).select_from(User)
                             .where(User.email == "chen.jing@hongda.example.cn")) == 2

    # each account signs in with its own password; the organizer A owner's account is untouched
    login(app.test_client(), "chen.jing@hongda.example.cn")  # A's owner, with the test password
    client = app.test_client()
    assert redirect_path(attempt(client, "chen.jing@hongda.example.cn", "booth-staff-2077")) == "/"
    assert redirect_path(client.get("/")) == "/portal/scan"


def test_organizer_adding_an_exhibitor_admin_learns_nothing_either(app, two_organizers):
    a, b = two_organizers
    response = Browser(app, b.users["owner"]).post(
        f"/org/editions/{b.edition.id}/exhibitors",
        data={"company_name": "Hongda Furniture", "country": "CN", "hall": "2", "stand": "B7", "area_m2": "18",
              "status": "contracted", "admin_name": "Chen Jing", "admin_email": a.users["owner"].email,
              "admin_password": "hongda-admin-4242"})
    assert redirect_path(response) == f"/org/editions/{b.edition.id}/exhibitors"
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email == a.users["owner"].email)) == 2


def test_a_duplicate_in_ones_own_staff_list_is_still_refused(app, two_organizers):
    a, b = two_organizers
    admin_b = b.users["exhibitor_admin"]
    response = _add_staff(app, admin_b, b.users["booth_staff"].email.upper())
    assert field_errors(response.get_data(as_text=True), "email") == ["A user with this email already exists."]
    with pytest.raises(core.ServiceError):
        core.create_user(a.organizer.id, a.users["owner"].email, "Twin", "another-passphrase-9", "sales")


def test_one_email_and_password_for_two_accounts_asks_which(app, two_organizers):
    a, b = two_organizers
    twin = exhibitor_services.add_staff(b.exhibitor, a.users["owner"].email, "Chen Jing", PASSWORD, "booth_staff")
    db.session.commit()
    client = app.test_client()
    response = attempt(client, a.users["owner"].email, PASSWORD)
    assert redirect_path(response) == "/login/continue"
    page = client.get("/login/continue").get_data(as_text=True)
    assert "Organizer A" in page and "Exhibitor B" in page
    chosen = client.post("/login/continue", data={"account": twin.id, "csrf_token": csrf_token(client)})
    assert redirect_path(chosen) == "/"
    assert redirect_path(client.get("/")) == "/portal/scan"


def test_services_create_the_second_account_without_a_word(app, make):
    a, b = make.organizer("A"), make.organizer("B")
    first = core.create_user(a.id, "li.na@example.com", "Li Na", PASSWORD, "sales")
    second = core.create_user(b.id, "LI.NA@example.com", "Li Na", "other-passphrase-31", "manager")
    exhibitor = exhibitor_services.add_exhibitor(Scope(b.id), _edition(make, b), "Acme")
    third = exhibitor_services.add_staff(exhibitor, "li.na@example.com", "Li Na", "third-passphrase-77",
                                         "exhibitor_admin")
    assert len({first.id, second.id, third.id}) == 3


def _edition(make, organizer):
    return make.edition(organizer)
