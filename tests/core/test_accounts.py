"""Accounts over HTTP: hashed passwords, sign-in and sign-out, ?next=, CSRF on every form, API tokens."""
from __future__ import annotations

import hashlib
import io
import re
import uuid
from datetime import date, timedelta
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select, text
from werkzeug.security import check_password_hash

from expo.core.models import ApiToken, User
from expo.extensions import db

from ..conftest import PASSWORD, Browser, Tenant, csrf_token, field_errors, login, new_scan_id
from ..test_access import ACCESS_PARTS, Side, build_url


def signed_in_user_id(client):
    with client.session_transaction() as session:
        return session.get("_user_id")


def redirect_path(response) -> str:
    assert 300 <= response.status_code < 400, response.status_code
    return urlsplit(response.headers["Location"]).path


# --- passwords and sessions ----------------------------------------------------------------------

def test_passwords_are_stored_hashed(app, make):
    user = make.user("owner")
    db.session.commit()
    stored = db.session.execute(text("SELECT password_hash FROM users WHERE id = :id"), {"id": user.id}).scalar_one()
    assert stored != PASSWORD
    assert PASSWORD not in stored
    assert check_password_hash(stored, PASSWORD)
    assert not check_password_hash(stored, PASSWORD + "x")


def test_wrong_password_shows_the_error_at_the_field_and_opens_no_session(app, client, make):
    user = make.user("owner")
    db.session.commit()
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": "not-the-password",
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "password") == ["Wrong email or password."]
    assert field_errors(response.get_data(as_text=True), "email") == []
    assert signed_in_user_id(client) is None
    assert redirect_path(client.get("/org")) == "/login"


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(app, client, make):
    client.get("/login")
    response = client.post("/login", data={"email": "nobody@example.com", "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "password") == ["Wrong email or password."]
    assert signed_in_user_id(client) is None


def test_inactive_user_cannot_sign_in(app, client, make):
    user = make.user("manager")
    user.active = False
    db.session.commit()
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "password") == ["Wrong email or password."]
    assert signed_in_user_id(client) is None
    assert redirect_path(client.get("/org")) == "/login"


def test_sign_in_accepts_the_email_in_any_case(app, client, make):
    user = make.user("owner", email="Mixed.Case@example.com")
    db.session.commit()
    login(client, user.email.upper())
    assert client.get("/org").status_code == 200


def test_sign_out_ends_the_session(app, client, make):
    user = make.user("owner")
    db.session.commit()
    login(client, user)
    assert client.get("/org").status_code == 200
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/org")})
    assert redirect_path(response) == "/login"
    assert signed_in_user_id(client) is None
    response = client.get("/org")
    assert redirect_path(response) == "/login"
    assert "next=%2Forg" in response.headers["Location"]


def test_logout_by_get_is_not_allowed(app, client, make):
    user = make.user("owner")
    db.session.commit()
    login(client, user)
    assert client.get("/logout").status_code == 405
    assert client.get("/org").status_code == 200  # still signed in


def test_next_leads_to_the_page_asked_for(app, client, make):
    user = make.user("owner")
    db.session.commit()
    asked = client.get("/org/shows/new")
    assert redirect_path(asked) == "/login"
    login_url = asked.headers["Location"]
    client.get(login_url)
    response = client.post(login_url, data={"email": user.email, "password": PASSWORD,
                                            "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/org/shows/new"
    assert client.get("/org/shows/new").status_code == 200


def test_without_next_the_user_lands_on_their_home(app, client, make):
    organizer = make.organizer()
    edition = make.edition(organizer)
    admin = make.user("exhibitor_admin", exhibitor=make.exhibitor(edition))
    owner = make.user("owner", organizer)
    db.session.commit()
    for user, home in ((owner, "/org"), (admin, "/portal")):
        browser = Browser(app)
        browser.get("/login")
        landed = browser.post("/login", data={"email": user.email, "password": PASSWORD}, follow_redirects=True)
        assert landed.status_code == 200
        assert landed.request.path == home


# --- CSRF on every form --------------------------------------------------------------------------

def _company_twin(tenant: Tenant, names=("keep", "merge")) -> dict:
    """A second company of the tenant whose name differs only in its legal form: a merge candidate."""
    from expo.core.scoping import Scope
    from expo.exhibitors.services import find_or_create_company

    twin = find_or_create_company(Scope(tenant.organizer.id), f"{tenant.exhibitor.company.name} Co., Ltd.")
    db.session.commit()
    return dict(zip(names, (str(tenant.exhibitor.company_id), str(twin.id))))


def _form_data(tenant: Tenant, twin) -> dict[str, dict]:
    """For every form the app accepts by POST: data that, sent with a CSRF token, changes the database.
    ``twin``: a registration of another person, at another edition (a merge candidate)."""
    n = uuid.uuid4().hex[:8]
    pair = {"keep": str(tenant.registration.person_id), "merge": str(twin.person_id)}
    return {
        "core.login": {"email": tenant.users["owner"].email, "password": PASSWORD},
        "core.logout": {},
        "core.profile": {"name": "forged token"},
        "core.login_continue": lambda client: _password_step_with_two_factor(client, tenant.users["owner"]),
        "core.change_password": {"current_password": PASSWORD, "new_password": "forged-passphrase-71",
                                 "confirm": "forged-passphrase-71"},
        "core.two_factor": _enrolment_code,
        "core.disable_two_factor": lambda client: {"code": pyotp.TOTP(_two_factor_on(tenant.users["owner"])).now()},
        "core.recovery_codes": lambda client: {"app_code": pyotp.TOTP(_two_factor_on(tenant.users["owner"])).now()},
        "core.revoke_token": {},
        "core.new_show": {"name": f"Forged show {n}"},
        "core.show": {"name": "Forged category", "parent_id": "0"},
        "core.new_edition": {"name": "Forged edition", "starts_on": "2031-05-01", "ends_on": "2031-05-03",
                             "venue": "Nowhere", "timezone": "Asia/Shanghai", "consent_text": "Forged consent"},
        "core.edition": {"status": "closed"},
        "exhibitors.edition_exhibitors": {
            "company_name": f"Forged Co {n}", "country": "CN", "hall": "9", "stand": "Z1", "area_m2": "18",
            "status": "contracted", "admin_name": "Forged Admin", "admin_email": f"forged.admin.{n}@example.com",
            "admin_password": "forged-password-1"},
        "exhibitors.exhibitor_status": {"status": "cancelled"},
        "exhibitors.portal": {"name": "Forged company name", "country": "US", "website": "https://forged.example",
                              "email": "forged@example.com", "phone": "1", "description": "forged"},
        "exhibitors.staff": {"name": "Forged Staff", "email": f"forged.staff.{n}@example.com",
                             "password": "forged-password-1", "role": "booth_staff"},
        "visitors.register": {"name": "Forged Visitor", "email": f"forged.visitor.{n}@example.com",
                              "category": "buyer", "consent": "y", "share_with_exhibitors": "y"},
        "visitors.mail_sent": {"email": tenant.registration.person.email},  # the link again: audited, mailed
        "visitors.reissue_badge": {},
        "visitors.cancel_registration": {},
        "visitors.registration_status": {"status": "cancelled"},
        "badges.layouts": {"category": "vip", "colour": "#123456", "label_en": "VIP GUEST", "label_zh": "贵宾"},
        "badges.print_batch": {"format": "l7163"},
        "visitors.edit_person": {"name": "Forged Name", "email": f"forged.person.{n}@example.com", "phone": "",
                                 "company": "Forged Co", "job_title": "", "country": "CN"},
        "visitors.merge_duplicates": pair,
        "exhibitors.merge_companies": lambda client: _company_twin(tenant),
        "exhibitors.distinct_companies": lambda client: _company_twin(tenant, ("company", "other")),
        "visitors.distinct_persons": {"person": pair["keep"], "other": pair["merge"]},
        "onsite.scanner": {"code": tenant.code, "client_scan_id": str(uuid.uuid4())},
        "onsite.checkin": {"code": tenant.code, "client_scan_id": str(uuid.uuid4()), "gate": "North"},
        "leads.lead": {"rating": "hot", "notes": "forged note"},
        "leads.questions": {"kind": "yes_no", "label_en": "Forged question"},
        "leads.move_question": lambda client: {"question_id": _lead_questions(tenant)[1], "direction": "up"},
        "leads.question_active": lambda client: {"question_id": _lead_questions(tenant)[0], "active": "0"},
        "leads.delete_question": lambda client: {"question_id": _lead_questions(tenant)[0]},
        "core.edition_consent": {"consent_text": "Forged consent, version two", "sharing_text": "Forged sharing"},
        "core.edition_retention": {"retention_months": "7"},
        "visitors.sharing": {"share": "no"},  # the visitor's signed page: withdraw sharing
        "visitors.erase": {},  # the visitor's signed page: erasure (confirmed on the page before)
        "visitors.staff_erase": {},
        "campaigns.new_campaign": {"name": f"Forged campaign {n}", "attended": "show", "registered": "no",
                                   "subject_en": "Forged", "body_en": "Forged {link}"},
        "campaigns.edit_campaign": {"name": f"Forged change {n}", "attended": "previous", "subject_zh": "伪造",
                                    "body_zh": "伪造 {link}"},
        "campaigns.campaign_status": {"to": "sending"},
        "campaigns.unsubscribe": {"action": "unsubscribe"},  # the signed link of a campaign mail
        # recommendations (settings, a run, the backtest, a blocked pair, an exhibitor's "not interested")
        "matchmaking.matchmaking": {"weight_category": "2", "weight_text": "1", "weight_profile": "0",
                                    "weight_history": "0", "top_n": "10"},
        "matchmaking.run": {},
        "matchmaking.backtest": {},
        "matchmaking.exclusions": {"exhibitor": str(tenant.exhibitor.id), "registration": str(tenant.registration.id)},
        "matchmaking.dismiss": {"registration": str(tenant.registration.id)},
        # products and digests
        "products.catalogue": {"name_en": f"Forged product {n}"},
        "products.delete": lambda client: {"product_id": str(_jun_product(tenant))},
        "campaigns.new_digest": {"name": f"Forged digest {n}", "audience": "visitors", "visitor_categories": ["buyer"],
                                 "period_days": "7", "top_n": "5"},
        "campaigns.edit_digest": lambda client: _jun_as_digest(tenant, n),
        # meetings (slots on the edition's last day, still to come; a meeting to answer or move)
        "meetings.slots": {"day": tenant.edition.ends_on.isoformat(), "start": "15:00", "end": "16:00",
                           "minutes": "30"},
        "meetings.delete_slot": lambda client: {"slot_id": str(_hua_meeting(tenant)["slots"][3])},
        "meetings.request_visitor": {"registration_id": str(tenant.registration.id)},
        "meetings.answer": lambda client: {"meeting_id": str(_hua_meeting(tenant)["meeting"]), "move": "accept"},
        "meetings.move_meeting": lambda client: {"meeting_id": str(_hua_meeting(tenant)["meeting"]),
                                                 "slot_id": str(_hua_meeting(tenant)["slots"][1])},
        "meetings.visitor_request": lambda client: {"slot_id": str(_hua_meeting(tenant, meeting=False)["slots"][0])},
        "meetings.visitor_answer": lambda client: {"meeting_id": str(_hua_meeting(tenant, by="exhibitor")["meeting"]),
                                                   "move": "accept"},
        "meetings.visitor_move": lambda client: {"meeting_id": str(_hua_meeting(tenant)["meeting"]),
                                                 "slot_id": str(_hua_meeting(tenant)["slots"][1])},
        "meetings.edition_caps": {"cap_buyer": "3"},
        "questions.questions": {"key": f"forged_{n}", "kind": "text", "label_en": "Forged question"},
        "questions.move_question": lambda client: {"question_id": _questions(tenant)[1].id, "direction": "up"},
        "questions.question_active": lambda client: {"question_id": _questions(tenant)[0].id, "active": "0"},
        "questions.delete_question": lambda client: {"question_id": _questions(tenant)[0].id},
        "questions.category_rules": {"name": "Forged rule", "category": "vip"},
        "questions.move_rule": lambda client: {"rule_id": _rules(tenant)[1].id, "direction": "up"},
        "questions.rule_active": lambda client: {"rule_id": _rules(tenant)[0].id, "active": "0"},
        "questions.override_category": {"category": "vip"},
        "registration.setup": {"capacity_buyer": "5", "approval_media": "y", "invitation_only": "y"},
        "registration.decide": lambda client: _pending_for_decision(tenant.registration),
        "registration.portal_invitations": {"label": f"Forged campaign {n}", "max_uses": "5"},
        "registration.portal_code_switch": lambda client: _code_to_switch_off(tenant),
        "registration.invitations_report": {"label": f"Forged VIP {n}", "max_uses": "5"},
        "registration.organizer_code_switch": lambda client: _code_to_switch_off(tenant),
        "registration.manage": {"name": "Forged Name", "company": "Forged Co", "job_title": "", "phone": ""},
        "registration.cancel": {},  # the visitor's signed page: cancel (confirmed on the page before)
        # imports: an upload (the file can be sent twice: refused, then accepted), a mapping saved by name, the run
        "core.imports_start": {"kind": "persons", "edition_id": "0", "mapping_id": "0",
                               "file": (_Rewinding("姓名,邮箱\nForged,forged@example.cn\n".encode()), "forged.csv")},
        "core.import_mapping": {"column-0": "name", "column-1": "email", "mapping_name": f"Forged mapping {n}"},
        "core.import_preview": {"ambiguous": "new"},
        # gates and zones (expo.onsite.zones): a zone for buyers on the first show day; a gate into a zone; delete
        "zones.setup": {"name_en": f"Forged zone {n}", "reentry": "free",
                        "access-buyer": tenant.edition.starts_on.isoformat()},
        "zones.save_gate": lambda client: {"code": "F1", "name": "Forged gate", "zone_id": str(_zone(tenant).id),
                                           "direction": "in"},
        "zones.delete": lambda client: {"zone_id": str(_zone(tenant).id)},
        # the walk-up kiosk (expo.onsite.kiosk): a walk-up registers; the desk queues a badge; the queue marks it
        "kiosk.run": {"name": "Forged Walkup", "email": f"walkup.{n}@example.com", "category": "buyer",
                      "consent": "y", "request_key": uuid.uuid4().hex},
        "kiosk.start": {"station": "Forged kiosk"},
        "kiosk.exit_kiosk": {"email": tenant.users["owner"].email, "password": PASSWORD},
        "kiosk.desk_print": {"registration_id": str(tenant.registration.id), "request_key": uuid.uuid4().hex},
        "kiosk.queue_update": lambda client: {"job": str(_print_job(tenant)), "action": "printed"},
    }


def _print_job(tenant) -> int:
    """A badge of the tenant's visitor waiting in the print queue (for the queue's form)."""
    from expo.onsite import kiosk

    job = kiosk.desk_print(tenant.users["owner"], tenant.edition, str(tenant.registration.id),
                           request_key=uuid.uuid4().hex).job
    db.session.commit()
    return job.id


def _zone(tenant):
    """A zone of the tenant's edition (for the gate form and the delete form)."""
    from expo.core.scoping import Scope
    from expo.onsite import zones

    zone = zones.save_zone(Scope(tenant.organizer.id), tenant.edition, name_en="Hall", name_zh="展馆", capacity=None,
                           access={"buyer": None}, reentry="free", admission=True, actor_id=None)
    db.session.commit()
    return zone


class _Rewinding(io.BytesIO):
    """An upload's content that the test client may send again: closing it only rewinds it."""

    def close(self):
        self.seek(0)


def _pending_for_decision(registration) -> dict:
    """The approval queue's refusal needs a registration waiting for approval."""
    registration.status = "pending"
    db.session.commit()
    return {"decision": "refuse", "reason": "Forged refusal"}


def _code_to_switch_off(tenant) -> dict:
    from expo.core.scoping import Scope
    from expo.visitors import invitations

    code = invitations.create_code(Scope(tenant.organizer.id, tenant.exhibitor.id), tenant.exhibitor, "Forged", None)
    db.session.commit()
    return {"code_id": str(code.id), "active": "no"}


def _questions(tenant) -> list:
    """Two questions of the tenant's edition (for the forms that move, deactivate or delete one)."""
    from expo.visitors import questions

    made = [questions.save_question(tenant.edition, questions.QuestionInput(key=key, kind="text", label_en=key))
            for key in ("first_question", "second_question")]
    db.session.commit()
    return made


def _rules(tenant) -> list:
    from expo.visitors import rules

    made = [rules.save_rule(tenant.edition, rules.RuleInput(name=name, category="buyer"))
            for name in ("First rule", "Second rule")]
    db.session.commit()
    return made


def _two_factor_on(user) -> str:
    """Two-factor sign-in on for ``user`` (set directly: the walk tests the form, not the enrolment)."""
    secret = pyotp.random_base32()
    user.totp_secret, user.totp_last_step = secret, None
    db.session.commit()
    return secret


def _password_step_with_two_factor(client, user) -> dict:
    secret = _two_factor_on(user)
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert redirect_path(response) == "/login/continue"
    return {"account": str(user.id), "code": pyotp.TOTP(secret).now()}


def _enrolment_code(client) -> dict:
    client.get("/profile/two-factor")
    with client.session_transaction() as session:
        return {"code": pyotp.TOTP(session["totp_enrolment"]["secret"]).now()}


# Endpoints whose form takes a POST; written out so that parametrization needs no app.
POST_FORMS = ("questions.questions", "questions.move_question", "questions.question_active",
              "questions.delete_question", "questions.category_rules", "questions.move_rule", "questions.rule_active",
              "questions.override_category",
              "core.login", "core.login_continue", "core.change_password", "core.two_factor",
              "badges.layouts", "badges.print_batch",
              "core.disable_two_factor", "core.recovery_codes", "core.logout", "core.profile", "core.revoke_token", "core.new_show", "core.show",
              "core.new_edition", "core.edition", "exhibitors.edition_exhibitors", "exhibitors.exhibitor_status",
              "exhibitors.portal",
              "exhibitors.staff", "visitors.register", "visitors.reissue_badge", "visitors.cancel_registration",
              "visitors.edit_person", "visitors.merge_duplicates", "visitors.distinct_persons", "visitors.registration_status",
              "exhibitors.merge_companies", "exhibitors.distinct_companies",
              "visitors.mail_sent",
              "onsite.scanner", "onsite.checkin", "leads.lead",
              "leads.questions", "leads.move_question", "leads.question_active", "leads.delete_question",
              "core.edition_consent", "core.edition_retention", "visitors.sharing", "visitors.erase",
              "visitors.staff_erase",
              "campaigns.new_campaign", "campaigns.edit_campaign", "campaigns.campaign_status", "campaigns.unsubscribe",
              "products.catalogue", "products.delete", "campaigns.new_digest", "campaigns.edit_digest",
              "matchmaking.matchmaking", "matchmaking.run", "matchmaking.backtest", "matchmaking.exclusions",
              "matchmaking.dismiss",
              "meetings.slots", "meetings.delete_slot", "meetings.request_visitor", "meetings.answer",
              "meetings.move_meeting", "meetings.visitor_request", "meetings.visitor_answer", "meetings.visitor_move",
              "meetings.edition_caps",
              "registration.setup", "registration.decide", "registration.portal_invitations",
              "registration.portal_code_switch", "registration.manage", "registration.cancel",
              "registration.invitations_report", "registration.organizer_code_switch",
              "core.imports_start", "core.import_mapping", "core.import_preview",
              "zones.setup", "zones.save_gate", "zones.delete",
              "kiosk.start", "kiosk.exit_kiosk", "kiosk.run", "kiosk.desk_print", "kiosk.queue_update")


def _hua_meeting(tenant, *, by: str = "visitor", meeting: bool = True) -> dict:
    """Slots of the tenant's exhibitor on the edition's last day (made once) and, unless ``meeting=False``, a
    meeting of the tenant's visitor in the first one, asked by ``by`` (for the walk's meetings forms)."""
    from datetime import time

    from expo.matchmaking import meetings
    from expo.matchmaking.meeting_models import Meeting, MeetingSlot

    if not hasattr(tenant, "_hua"):
        meetings.add_slots(tenant.exhibitor, tenant.edition.ends_on, time(10), time(12), 30)
        slots = [s.id for s in db.session.scalars(select(MeetingSlot).where(
            MeetingSlot.exhibitor_id == tenant.exhibitor.id).order_by(MeetingSlot.starts_at))]
        made = None
        if meeting:
            slot = db.session.get(MeetingSlot, slots[0])
            made = (meetings.request_by_visitor(tenant.registration, slot) if by == "visitor"
                    else meetings.request_by_exhibitor(tenant.exhibitor, tenant.registration, slot)).id
        db.session.commit()
        tenant._hua = {"slots": slots, "meeting": made}
    assert tenant._hua["meeting"] is None or db.session.get(Meeting, tenant._hua["meeting"]) is not None
    return tenant._hua


def _jun_product(tenant) -> int:
    """A product of the tenant's exhibitor (for the walk's form that removes one)."""
    from expo.exhibitors import products

    product = products.create_product(tenant.exhibitor, products.ProductData(name_en="Walk product"))
    db.session.commit()
    return product.id


def _jun_as_digest(tenant, n) -> dict:
    """The tenant's draft campaign turned into a digest (for the walk's form that changes a digest)."""
    tenant.campaign.kind, tenant.campaign.digest = "digest_visitors", {"audience": "visitors"}
    db.session.commit()
    return {"name": f"Forged digest {n}", "audience": "exhibitors", "exhibitor_statuses": ["paid"],
            "period_days": "7", "top_n": "5"}


def _lead_questions(tenant) -> list[int]:
    """Two qualifying questions of the tenant's exhibitor (for the walk's forms that move, switch or delete one)."""
    from expo.leads import questions as lead_questions

    admin = tenant.users["exhibitor_admin"]
    made = [lead_questions.save_question(tenant.exhibitor, lead_questions.QuestionInput("yes_no", f"Question {n}"),
                                         actor_id=admin.id).id for n in (1, 2)]
    db.session.commit()
    return made


def _post_rules(app):
    return [rule for rule in app.url_map.iter_rules()
            if "POST" in rule.methods and not rule.rule.startswith("/api/")]


def _poster(path: str) -> str:
    """Who posts the form: anonymous on public pages, exhibitor admin in the portal, the owner elsewhere."""
    if path == "/login" or path.startswith(("/login/", "/e/")):
        return "anonymous"
    if path.startswith("/portal"):
        return "exhibitor_admin"
    return "owner"


def database_snapshot() -> dict[str, list]:
    """Every row of every table (the whole database, so that any change shows)."""
    db.session.expire_all()
    snapshot = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        snapshot[table.name] = sorted((tuple(repr(v) for v in row) for row in rows))
    return snapshot


# Issue 8's forms (their routes are listed per part in tests/access_parts/): walked for the refusal below.
ISSUE8_POST_FORMS = tuple(sorted({endpoint for part in ACCESS_PARTS for endpoint, method in part.EXPECTED
                                  if method == "POST"}))


def test_every_post_form_is_in_the_csrf_walk(app):
    assert {rule.endpoint for rule in _post_rules(app)} == set(POST_FORMS) | set(ISSUE8_POST_FORMS)


@pytest.mark.parametrize("endpoint", ISSUE8_POST_FORMS)
def test_issue8_form_without_csrf_token_is_refused_and_changes_nothing(app, client, make, endpoint):
    """The booth-sales and portal forms: without the page's token a POST is refused (400), changes nothing and
    keeps the session. (Their acceptance with a token is tested in each part's own tests.)"""
    tenant = make.tenant("A", tokens=True)
    db.session.commit()
    extra = {k: v for part in ACCESS_PARTS for k, v in part.build(tenant).items()}
    db.session.commit()
    rule = next(rule for rule in _post_rules(app) if rule.endpoint == endpoint)
    url = build_url(app, endpoint, Side.of(tenant, extra).params(_poster(rule.rule)))
    who = _poster(url)
    if who != "anonymous":
        login(client, tenant.users[who])
    client.get("/login")
    before = database_snapshot()

    response = client.post(url, data={"name": "forged", "status": "lost", "reason": "forged", "amount": "1"})
    assert response.status_code == 400, f"POST {url} as {who} without CSRF token: {response.status_code}"
    assert database_snapshot() == before, f"POST {url} without CSRF token changed the database"
    if who != "anonymous":
        assert signed_in_user_id(client) is not None, "the refused POST must not end the session"


@pytest.mark.parametrize("endpoint", POST_FORMS)
def test_form_without_csrf_token_is_refused_and_changes_nothing(app, client, make, endpoint):
    tenant = make.tenant("A", tokens=True)
    later = make.edition(tenant.organizer, show=tenant.show, starts_on=date.today() + timedelta(days=400))
    twin = make.registration(later, name=tenant.registration.person.name, email="twin@example.com",
                             company=tenant.registration.person.company)
    db.session.commit()
    rule = next(rule for rule in _post_rules(app) if rule.endpoint == endpoint)
    url = build_url(app, endpoint, Side.of(tenant).params(_poster(rule.rule)))
    who = _poster(url)
    if who != "anonymous":
        login(client, tenant.users[who])
    data = _form_data(tenant, twin)[endpoint]
    if callable(data):  # forms whose data depends on the session (a code for a secret held in it)
        data = data(client)
    client.get("/login")  # a session exists, so the token is missing rather than the session
    before = database_snapshot()

    response = client.post(url, data=data)
    assert response.status_code == 400, f"POST {url} as {who} without CSRF token: {response.status_code}"
    assert database_snapshot() == before, f"POST {url} without CSRF token changed the database"
    if who != "anonymous":
        assert signed_in_user_id(client) is not None, "the refused POST must not end the session"

    # control: the same form with the page's token is accepted and does change something
    response = client.post(url, data={**data, "csrf_token": csrf_token(client, "/login")})
    assert response.status_code in (200, 302), f"POST {url} as {who} with CSRF token: {response.status_code}"
    assert database_snapshot() != before, f"POST {url} with its CSRF token changed nothing: the walk's data is stale"


def test_form_with_a_forged_csrf_token_is_refused(app, client, make):
    owner = make.user("owner")
    db.session.commit()
    login(client, owner)
    response = client.post("/org/shows/new", data={"name": "Forged show", "csrf_token": "forged." + "x" * 40})
    assert response.status_code == 400
    assert client.get("/org").get_data(as_text=True).count("Forged show") == 0


def test_csrf_token_of_another_session_is_refused(app, make):
    owner = make.user("owner")
    db.session.commit()
    victim, attacker = Browser(app, owner), Browser(app)
    foreign_token = csrf_token(attacker.client, "/login")
    response = victim.client.post("/org/shows/new", data={"name": "Forged show", "csrf_token": foreign_token})
    assert response.status_code == 400


# --- API tokens ----------------------------------------------------------------------------------

def _api_tokens_rows() -> list[tuple]:
    return [tuple(row) for row in db.session.execute(text("SELECT * FROM api_tokens")).all()]


def test_api_token_from_the_profile_page(app, make):
    edition = make.edition()
    exhibitor = make.exhibitor(edition)
    staff = make.user("booth_staff", exhibitor=exhibitor)
    registration = make.registration(edition)
    db.session.commit()
    from expo.visitors import services as visitor_services

    code = visitor_services.badge_code(registration)
    browser = Browser(app, staff)

    # created: the clear token is shown once
    created = browser.post("/profile", data={"name": "Booth phone"})
    assert created.status_code == 200
    page = created.get_data(as_text=True)
    clear = re.search(r'<code id="new-token">([^<]+)</code>', page).group(1)
    assert clear.startswith("expo_") and len(clear) > 30

    # stored: only the SHA-256 and a short prefix, no clear text anywhere in the table
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == staff.id))
    assert token.name == "Booth phone"
    assert token.token_hash == hashlib.sha256(clear.encode()).hexdigest()
    assert clear.startswith(token.prefix) and len(token.prefix) < len(clear) // 2
    rows = _api_tokens_rows()
    assert len(rows) == 1
    assert not any(clear in str(value) for value in rows[0])
    assert not any(clear[len(token.prefix):len(token.prefix) + 12] in str(value) for value in rows[0])

    # afterwards the page lists only the prefix
    later = browser.get("/profile").get_data(as_text=True)
    assert clear not in later
    assert 'id="new-token"' not in later
    assert f"{token.prefix}…" in later
    assert "Booth phone" in later

    # the token works on the scan API
    answer = browser.api("/api/v1/scans", {"code": code, "kind": "lead", "client_scan_id": new_scan_id()}, clear)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.json["result"] == "ok"

    # revoked on the profile page: 401 from then on, and the page no longer lists it
    revoke_url = re.search(r'action="(/profile/tokens/\d+/revoke)"', later).group(1)
    assert revoke_url == f"/profile/tokens/{token.id}/revoke"
    response = browser.post(revoke_url)
    assert redirect_path(response) == "/profile"
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    answer = browser.api("/api/v1/scans", {"code": code, "kind": "lead", "client_scan_id": new_scan_id()}, clear)
    assert answer.status_code == 401
    assert token.prefix not in browser.get("/profile").get_data(as_text=True)


def test_user_cannot_revoke_someone_elses_token(app, make):
    organizer = make.organizer()
    owner, manager = make.user("owner", organizer), make.user("manager", organizer)
    db.session.commit()
    owners_browser = Browser(app, owner)
    page = owners_browser.post("/profile", data={"name": "Owner script"}).get_data(as_text=True)
    clear = re.search(r'<code id="new-token">([^<]+)</code>', page).group(1)
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == owner.id))

    response = Browser(app, manager).post(f"/profile/tokens/{token_id}/revoke")
    assert response.status_code == 404
    assert db.session.get(ApiToken, token_id).revoked_at is None
    answer = owners_browser.api("/api/v1/scans", {"code": "garbage", "kind": "checkin",
                                                  "client_scan_id": new_scan_id()}, clear)
    assert answer.status_code != 401


def test_users_table_holds_no_clear_password(app, make):
    """Users made over HTTP (an exhibitor's staff) are stored hashed too."""
    edition = make.edition()
    admin = make.user("exhibitor_admin", exhibitor=make.exhibitor(edition))
    db.session.commit()
    response = Browser(app, admin).post("/portal/staff", data={"name": "Li Lei", "email": "li.lei@example.com",
                                                               "password": "booth-password-7", "role": "booth_staff"})
    assert redirect_path(response) == "/portal/staff"
    stored = db.session.scalar(select(User.password_hash).where(User.email == "li.lei@example.com"))
    assert "booth-password-7" not in stored
    assert check_password_hash(stored, "booth-password-7")
