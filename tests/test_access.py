"""Every route, every role: who gets in.

One expectation table (``EXPECTED``) names, for every endpoint and method of the app and for every
role, what the response must be when the signed-in user fills the URL with objects of their *own*
organizer (and, for exhibitor staff, their own exhibitor). ``test_every_route_has_an_expectation``
fails as soon as a route is added without a line here.

The same table, with the URL filled from *another* organizer's objects, gives the foreign walk:
whoever gets in on their own objects gets a 404 on someone else's (never the page, never a 403 that
would confirm the object exists).

Outcomes:
  "200"         the page (or JSON answer) itself
  "->/path"     a redirect to one of the app's own pages (path may hold {edition_id}-style fields)
  "login"       a redirect to /login?next=<the requested path> (anonymous on a protected page)
  "401"         API call without a valid token
  "403"         signed in, but the role lacks the permission
  "404"         no such object for this user
  "item403"     batch API: HTTP 200, but every scan in the batch answered with status 403
"""
from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import url_for

from expo.core import services as core
from expo.extensions import db
from expo.onsite import services as onsite
from expo.onsite.models import Scan
from expo.visitors import services as visitor_services

from .conftest import csrf_token, login

ROLES = ("anonymous", "owner", "manager", "sales", "onsite", "analyst", "exhibitor_admin", "booth_staff")
ORGANIZER_ROLES = ("owner", "manager", "sales", "onsite", "analyst")
EXHIBITOR_ROLES = ("exhibitor_admin", "booth_staff")
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}

EDITION = "->/org/editions/{edition_id}"
REG = "->/org/editions/{edition_id}/registrations/{registration_id}"
EXHIBITORS = "->/org/editions/{edition_id}/exhibitors"

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED = {
    ("core.home", "GET"):                      ("->/login", "->/org", "->/org", "->/org", "->/org", "->/org", "->/portal", "->/portal/scan"),
    ("core.login", "GET"):                     ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("core.login", "POST"):                    ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("core.logout", "POST"):                   ("login",  "->/login", "->/login", "->/login", "->/login", "->/login", "->/login", "->/login"),
    ("core.set_language", "GET"):              ("->/",    "->/",    "->/",    "->/",    "->/",    "->/",    "->/",     "->/"),
    ("core.profile", "GET"):                   ("login",  "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("core.profile", "POST"):                  ("login",  "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("core.revoke_token", "POST"):             ("login",  "->/profile", "->/profile", "->/profile", "->/profile", "->/profile", "->/profile", "->/profile"),
    ("core.dashboard", "GET"):                 ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("core.new_show", "GET"):                  ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.new_show", "POST"):                 ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.show", "GET"):                      ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("core.show", "POST"):                     ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.new_edition", "GET"):               ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.new_edition", "POST"):              ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.edition", "GET"):                   ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("core.edition", "POST"):                  ("login",  EDITION,  EDITION,  "403",    "403",    "403",    "403",     "403"),
    ("core.audit_log", "GET"):                 ("login",  "200",    "403",    "403",    "403",    "403",    "403",     "403"),
    ("core.outbox", "GET"):                    ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.healthz", "GET"):                   ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("exhibitors.edition_exhibitors", "GET"):  ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("exhibitors.edition_exhibitors", "POST"): ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("exhibitors.exhibitor_status", "POST"):   ("login",  EXHIBITORS, EXHIBITORS, EXHIBITORS, "403", "403",    "403",     "403"),
    ("exhibitors.portal", "GET"):              ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "->/portal/scan"),
    ("exhibitors.portal", "POST"):             ("login",  "403",    "403",    "403",    "403",    "403",    "->/portal", "->/portal/scan"),
    ("exhibitors.staff", "GET"):               ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("exhibitors.staff", "POST"):              ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("visitors.register", "GET"):              ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.register", "POST"):             ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.confirmation", "GET"):          ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.badge_png", "GET"):             ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.badge_pdf", "GET"):             ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.registrations", "GET"):         ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("visitors.registration", "GET"):          ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("visitors.print_badge", "GET"):           ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("visitors.reissue_badge", "POST"):        ("login",  REG,      REG,      "403",    REG,      "403",    "403",     "403"),
    ("visitors.cancel_registration", "POST"):  ("login",  REG,      REG,      "403",    REG,      "403",    "403",     "403"),
    ("onsite.scanner", "GET"):                 ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("onsite.scanner", "POST"):                ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("onsite.checkin", "GET"):                 ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("onsite.checkin", "POST"):                ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("leads.leads", "GET"):                   ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("leads.lead", "GET"):                    ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("leads.lead", "POST"):                   ("login",  "403",    "403",    "403",    "403",    "403",    "->/portal/leads", "->/portal/leads"),
    ("leads.leads_csv", "GET"):               ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("leads.leads_xlsx", "GET"):              ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("postshow.report", "GET"):                ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
    ("postshow.dashboard_json", "GET"):        ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
    ("api.scan", "POST"):                      ("401",    "200",    "200",    "403",    "200",    "403",    "200",     "200"),
    ("api.scan_batch", "POST"):                ("401",    "200",    "200",    "item403", "200",   "item403", "200",    "200"),
}
# fmt: on

# Pages under /org/editions/<edition_id>/ load the edition in the user's scope before anyone is
# authorised (core.auth.edition_scoped): another organizer's edition is a 404 for all organizer staff.
EDITION_SCOPED_PREFIX = "/org/editions/<int:edition_id>"

# URL parameters that name a row of one organizer (filled from the other organizer in the foreign walk).
ID_PARAMS = {"edition_id", "show_id", "lead_id", "token_id", "registration_id", "exhibitor_id"}
# URL parameters of public pages (a slug or a visitor's key is its own authorization).
PUBLIC_PARAMS = {"slug", "key", "code"}


def expected(endpoint: str, method: str, role: str) -> str:
    return EXPECTED[(endpoint, method)][ROLES.index(role)]


def foreign_expected(app, endpoint: str, method: str, role: str) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    if rule.rule.startswith(EDITION_SCOPED_PREFIX) and role in ORGANIZER_ROLES:
        return "404"
    own = expected(endpoint, method, role)
    return "404" if own == "200" or own.startswith("->") else own


def _cases():
    for (endpoint, method), row in EXPECTED.items():
        assert len(row) == len(ROLES), (endpoint, method)
        for role in ROLES:
            yield pytest.param(endpoint, method, role, id=f"{endpoint}-{method}-{role}")


# Endpoints whose rule has an id parameter; written out so that parametrization needs no app.
ENDPOINTS_WITH_IDS = {"core.revoke_token", "core.show", "core.new_edition", "core.edition",
                      "exhibitors.edition_exhibitors", "exhibitors.exhibitor_status",
                      "visitors.registrations", "visitors.registration",
                      "visitors.print_badge", "visitors.reissue_badge", "visitors.cancel_registration",
                      "onsite.checkin", "leads.lead",
                      "postshow.report", "postshow.dashboard_json"}


def _foreign_cases():
    for (endpoint, method) in EXPECTED:
        if endpoint in ENDPOINTS_WITH_IDS:
            for role in ROLES:
                yield pytest.param(endpoint, method, role, id=f"{endpoint}-{method}-{role}")


# --- the world -----------------------------------------------------------------------------------

class Tenant:
    """One organizer with a live edition, an exhibitor, a user of every role, a visitor and a lead."""

    def __init__(self, make, label: str):
        self.organizer = make.organizer(f"Organizer {label}")
        self.edition = make.edition(self.organizer)
        self.show = self.edition.show
        self.exhibitor = make.exhibitor(self.edition, f"Exhibitor {label}")
        self.users = {}
        for role in ORGANIZER_ROLES:
            self.users[role] = make.user(role, self.organizer, email=f"{role}.{label.lower()}@example.com")
        for role in EXHIBITOR_ROLES:
            self.users[role] = make.user(role, exhibitor=self.exhibitor, email=f"{role}.{label.lower()}@example.com")
        self.registration = make.registration(self.edition, name=f"Visitor {label}")
        self.code = visitor_services.badge_code(self.registration)
        outcome = onsite.record_scan(self.users["booth_staff"], code=self.code, kind="lead",
                                     client_scan_id=str(uuid.uuid4()))
        assert outcome.result == "ok"
        self.lead = outcome.lead
        self.tokens = {role: core.create_api_token(user, "scanner") for role, user in self.users.items()}

    def params(self, role: str) -> dict:
        token_owner = role if role in self.tokens else "owner"
        return {"edition_id": self.edition.id, "show_id": self.show.id, "lead_id": self.lead.id,
                "token_id": self.tokens[token_owner][0].id, "slug": self.edition.slug,
                "key": self.registration.access_key, "code": "en", "registration_id": self.registration.id,
                "exhibitor_id": self.exhibitor.id}


@pytest.fixture
def world(make):
    own, other = Tenant(make, "A"), Tenant(make, "B")
    db.session.commit()
    return own, other


def build_url(app, endpoint: str, params: dict) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    missing = rule.arguments - params.keys()
    assert not missing, f"{rule.rule}: no test value for {missing}; add one to Tenant.params()"
    with app.test_request_context():
        return url_for(endpoint, **{name: params[name] for name in rule.arguments})


def api_body(tenant: Tenant, endpoint: str, role: str):
    if role in EXHIBITOR_ROLES:
        scan = {"code": tenant.code, "kind": "lead", "client_scan_id": str(uuid.uuid4())}
    else:
        scan = {"code": tenant.code, "kind": "checkin", "client_scan_id": str(uuid.uuid4()),
                "edition_id": tenant.edition.id}
    return [scan] if endpoint == "api.scan_batch" else scan


def outcome(response, path: str) -> str:
    if 300 <= response.status_code < 400:
        location = urlsplit(response.headers["Location"])
        if location.path == "/login" and "next" in parse_qs(location.query):
            assert parse_qs(location.query)["next"] == [path], response.headers["Location"]
            return "login"
        return "->" + location.path
    if response.status_code == 200 and path.startswith("/api/"):
        body = response.get_json()
        items = body if isinstance(body, list) else [body]
        statuses = {item.get("status") for item in items if item.get("result") == "error"}
        if statuses:
            return "item" + "/".join(str(s) for s in sorted(statuses))
        assert all(item["result"] in ("ok", "duplicate") for item in items), body
    return str(response.status_code)


def request_as(app, client, tenant: Tenant, url_tenant: Tenant, endpoint: str, method: str, role: str,
               *, api_auth: str = "session"):
    """Sign in as ``role`` of ``tenant``, then call the endpoint with ``url_tenant``'s objects."""
    if role != "anonymous" and api_auth == "session":
        login(client, tenant.users[role])
    url = build_url(app, endpoint, url_tenant.params(role))
    if method == "GET":
        return url, client.get(url)
    token = csrf_token(client, "/login")
    if endpoint.startswith("api."):
        headers = {}
        if api_auth == "token":
            clear = tenant.tokens[role][1] if role != "anonymous" else "expo_not-a-real-token"
            headers["Authorization"] = f"Bearer {clear}"
        elif role != "anonymous":
            headers["X-CSRFToken"] = token
        return url, client.post(url, json=api_body(tenant, endpoint, role), headers=headers)
    return url, client.post(url, data={"csrf_token": token})


# --- the tests -----------------------------------------------------------------------------------

def test_every_route_has_an_expectation(app):
    """A route (or a method of a route) without a line in EXPECTED fails here."""
    in_app = {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in rule.methods & HTTP_METHODS}
    assert set(EXPECTED) == in_app
    endpoints = [rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    assert len(endpoints) == len(set(endpoints)), "one rule per endpoint: build_url() picks the first"
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        assert rule.arguments <= ID_PARAMS | PUBLIC_PARAMS, f"{rule.rule}: unknown URL parameter"
        assert (rule.endpoint in ENDPOINTS_WITH_IDS) == bool(rule.arguments & ID_PARAMS), rule.rule


@pytest.mark.parametrize("endpoint, method, role", list(_cases()))
def test_access(app, client, world, endpoint, method, role):
    own, _other = world
    url, response = request_as(app, client, own, own, endpoint, method, role)
    want = expected(endpoint, method, role).format(**own.params(role))
    assert outcome(response, url) == want, f"{method} {url} as {role}: {response.status_code}"


@pytest.mark.parametrize("endpoint, method, role", list(_foreign_cases()))
def test_access_to_another_organizers_objects(app, client, world, endpoint, method, role):
    own, other = world
    url, response = request_as(app, client, own, other, endpoint, method, role)
    want = foreign_expected(app, endpoint, method, role).format(**other.params(role))
    assert outcome(response, url) == want, f"{method} {url} as {role} of organizer A: {response.status_code}"
    body = response.get_data(as_text=True)
    for secret in (other.registration.person.name, other.registration.person.email, other.edition.name,
                   other.exhibitor.company.name):
        assert secret not in body


@pytest.mark.parametrize("endpoint", ["api.scan", "api.scan_batch"])
@pytest.mark.parametrize("role", ROLES)
def test_api_with_bearer_tokens(app, client, world, endpoint, role):
    """The scan API answers a bearer token exactly as it answers the same user's session."""
    own, _other = world
    url, response = request_as(app, client, own, own, endpoint, "POST", role, api_auth="token")
    assert outcome(response, url) == expected(endpoint, "POST", role)


@pytest.mark.parametrize("endpoint", ["api.scan", "api.scan_batch"])
def test_api_session_without_csrf_token_is_refused(app, client, world, endpoint):
    own, _other = world
    login(client, own.users["booth_staff"])
    url = build_url(app, endpoint, {})
    response = client.post(url, json=api_body(own, endpoint, "booth_staff"))
    assert response.status_code == 400
    assert db.session.query(Scan).count() == 2  # only the world's own two lead scans


def test_revoked_token_is_refused(app, client, world):
    own, _other = world
    token, clear = own.tokens["booth_staff"]
    core.revoke_api_token(own.users["booth_staff"], token.id)
    db.session.commit()
    response = client.post("/api/v1/scans", json=api_body(own, "api.scan", "booth_staff"),
                           headers={"Authorization": f"Bearer {clear}"})
    assert response.status_code == 401


def test_inactive_user_loses_access(app, client, world):
    own, _other = world
    login(client, own.users["manager"])
    assert client.get("/org").status_code == 200
    own.users["manager"].active = False
    db.session.commit()
    response = client.get("/org")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/x", "/\\evil.example/x",
                                    "\\\\evil.example/x"])
@pytest.mark.parametrize("path", ["/login", "/lang/en"])
def test_next_parameter_never_leaves_the_site(app, client, world, path, target):
    """?next= is followed only to a path of this site (browsers read "/\\host" as "//host")."""
    own, _other = world
    if path == "/login":
        client.get("/login")
        response = client.post("/login", query_string={"next": target},
                               data={"email": own.users["owner"].email, "password": "correct-horse-9",
                                     "csrf_token": csrf_token(client)})
    else:
        response = client.get(path, query_string={"next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    normalized = location.replace("\\", "/")
    assert normalized.startswith("/") and not normalized.startswith("//"), location
    assert not urlsplit(normalized).netloc, location
