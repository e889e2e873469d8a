"""Content-Security-Policy: every answer carries the policy, and no page needs what it forbids.

The policy (``expo.core.auth.CONTENT_SECURITY_POLICY``) allows scripts and styles from our own origin only:
no inline ``<script>``, no ``on*=`` handler, no ``style=`` attribute, no ``<style>`` element, no
``javascript:`` URL. Data for scripts travels in data-* attributes or ``<script type="application/json">``
blocks, which the browser never runs. Two walks check it: every HTML page the app serves (every GET route
for every role, the form pages posted empty, the error pages), and every template file as written, so a
branch the walk did not reach cannot hide an inline script. tests/e2e/test_csp.py checks the real browser:
zero violations reported, charts drawn.
"""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from expo.core.auth import CONTENT_SECURITY_POLICY, PDF_CONTENT_SECURITY_POLICY

from .conftest import csrf_token, login
from .test_access import ROLES, _build_world, build_url

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}
EXECUTED_SCRIPT_TYPES = {None, "", "text/javascript", "module", "application/javascript"}


class InlineCode(HTMLParser):
    """Collects what the policy would refuse in one HTML document."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.json_blocks: list[str] = []
        self._json: list[str] | None = None
        self._inline_script = False

    def handle_starttag(self, tag, attrs):
        named = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…> (event handler attribute)")
            elif name == "style":
                self.found.append(f"<{tag} style={value!r}> (style attribute)")
            elif name in URL_ATTRIBUTES and value and _scheme(value) == "javascript":
                self.found.append(f"<{tag} {name}={value!r}> (javascript: URL)")
        if tag == "style":
            self.found.append("<style> element")
        if tag == "script":
            kind = (named.get("type") or "").strip().lower() or None
            if kind == "application/json":
                self._json = []
            elif "src" not in named and kind in EXECUTED_SCRIPT_TYPES:
                self._inline_script = True

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._json is not None:
            self._json.append(data)
        elif self._inline_script:
            self.found.append(f"inline <script>: {data.strip()[:80]!r}")
            self._inline_script = False

    def handle_endtag(self, tag):
        if tag == "script":
            if self._json is not None:
                self.json_blocks.append("".join(self._json))
            elif self._inline_script:
                self.found.append("inline <script> (empty)")
            self._json, self._inline_script = None, False


def _scheme(url: str) -> str:
    """The scheme as a browser reads it: tabs, newlines and leading control characters ignored."""
    cleaned = "".join(ch for ch in url if ch > " ").lower()
    return cleaned.split(":", 1)[0] if ":" in cleaned else ""


def inline_code(html: str, *, rendered: bool = True) -> list[str]:
    parser = InlineCode()
    parser.feed(html)
    parser.close()
    for block in parser.json_blocks if rendered else ():  # |tojson: valid JSON, and nothing that could close the element early
        json.loads(block)
        assert "<" not in block, f"unescaped '<' in a JSON block: {block[:120]!r}"
    return parser.found


def check_answer(response, what: str) -> None:
    policy = response.headers.get("Content-Security-Policy")
    if response.mimetype == "application/pdf":
        assert policy == PDF_CONTENT_SECURITY_POLICY, what
    else:
        assert policy == CONTENT_SECURITY_POLICY, f"{what}: {policy!r}"
    if response.mimetype == "text/html":
        found = inline_code(response.get_data(as_text=True))
        assert not found, f"{what} has inline code the policy refuses: {found}"


# --- the parser itself -------------------------------------------------------------------------------

@pytest.mark.parametrize("html", [
    "<script>alert(1)</script>",
    "<script type='text/javascript'>alert(1)</script>",
    "<script type=module>import('/x')</script>",
    "<button onclick=\"go()\">go</button>",
    "<body onload='go()'>",
    "<img src=x ONERROR=go()>",
    "<li style=\"margin-left: 1.5em\">x</li>",
    "<style>body{color:red}</style>",
    "<a href=\"javascript:go()\">x</a>",
    "<a href=\" java\tscript:go()\">x</a>",
    "<form action=\"JavaScript:go()\"></form>",
])
def test_the_check_finds_inline_code(html):
    assert inline_code(html)


@pytest.mark.parametrize("html", [
    "<script src=\"/static/ui.js\" defer></script>",
    "<script type=\"application/json\" id=\"d\">{\"a\": \"\\u003c/script\\u003e\"}</script>",
    "<div class=\"chart\" data-height=\"320\" data-style=\"x\">online</div>",
    "<a href=\"/org?q=javascript:\">x</a>",
    "<p>onclick=\"x\" style=\"y\" as text</p>",
])
def test_the_check_lets_allowed_markup_pass(html):
    assert not inline_code(html)


def test_policy_forbids_inline_code_and_foreign_origins():
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'" and directives["form-action"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "nonce" not in CONTENT_SECURITY_POLICY


# --- every page the app serves -----------------------------------------------------------------------

def _html_routes(app, method):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or method not in rule.methods or rule.rule.startswith("/api/"):
            continue
        if rule.endpoint == "core.logout":
            continue  # signs out: covered by the pages around it
        yield rule.endpoint


@pytest.mark.parametrize("role", ROLES)
def test_every_page_carries_the_policy_and_no_inline_code(app, client, make, role):
    """Every GET route, signed in as each role (anonymous: the public pages and the sign-in redirects):
    the answer has the policy, and its HTML (pages, 403/404 pages) has nothing the policy would refuse."""
    _tenants, (own, _other) = _build_world(make)
    if role != "anonymous":
        login(client, own.emails[role])
    pages = 0
    for endpoint in _html_routes(app, "GET"):
        url = build_url(app, endpoint, own.params(role))
        response = client.get(url)
        check_answer(response, f"GET {url} as {role} ({response.status_code})")
        pages += response.status_code == 200 and response.mimetype == "text/html"
    assert pages >= 3, "the walk reached too few pages to mean anything"
    for url in ("/no-such-page", "/org/editions/999999999/registrations", "/r/not-a-key"):
        check_answer(client.get(url), f"GET {url} as {role}")


@pytest.mark.parametrize("role", ["anonymous", "owner", "exhibitor_admin", "booth_staff"])
def test_form_pages_with_errors_have_no_inline_code(app, client, make, role):
    """Every form posted empty (only its CSRF token): the page that answers, often the form again with
    its error messages, carries the policy and no inline code."""
    _tenants, (own, _other) = _build_world(make)
    for endpoint in _html_routes(app, "POST"):
        if role != "anonymous":
            login(client, own.emails[role])
        url = build_url(app, endpoint, own.params(role))
        response = client.post(url, data={"csrf_token": csrf_token(client)})
        check_answer(response, f"POST {url} as {role} ({response.status_code})")


def test_static_files_and_badges_carry_a_policy(app, client, make):
    _tenants, (own, _other) = _build_world(make)
    for url in ("/static/app.css", "/static/ui.js", f"/r/{own.ids['key']}/badge.png", "/static/scanner.js",
                "/static/vendor/jsqr/jsQR.js", "/sw.js", "/manifest.webmanifest"):  # the scanner app's shell too
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, url
    pdf = client.get(f"/r/{own.ids['key']}/badge.pdf")
    assert pdf.mimetype == "application/pdf"
    # the browser's PDF viewer breaks under a page policy (object-src, style-src): only no-framing applies
    assert pdf.headers["Content-Security-Policy"] == PDF_CONTENT_SECURITY_POLICY == "frame-ancestors 'none'"
    assert pdf.headers["X-Frame-Options"] == "DENY"


# --- every template and script as written --------------------------------------------------------------

def _templates():
    # mail/ holds e-mail bodies: read by mail clients, never served under the policy
    return sorted(p for p in TEMPLATES.rglob("*.html") if "mail" not in p.relative_to(TEMPLATES).parts)


@pytest.mark.parametrize("path", _templates(), ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_template_has_no_inline_code(path):
    """Each template file, including branches the page walk may not reach. Jinja comments are left out."""
    source = re.sub(r"{#.*?#}", "", path.read_text(encoding="utf-8"), flags=re.S)
    found = inline_code(re.sub(r"{{.*?}}|{%.*?%}", "", source, flags=re.S), rendered=False)  # the markup
    found += [f"{m.group(0).strip()!r}" for m in
              re.finditer(r"(?i)[\s\"'(,]on[a-z]+\s*=|[\s\"'(,]style\s*=|<style\b|javascript\s*:", source)]
    assert not found, f"{path.relative_to(TEMPLATES)}: {found}"


@pytest.mark.parametrize("path", sorted(STATIC.glob("*.js")), ids=lambda p: p.name)
def test_page_scripts_build_no_inline_styles_or_code(path):
    """Our scripts build DOM nodes (textContent, classList, element.style) instead of HTML strings, which
    could carry style= attributes or handlers the policy refuses; and they never evaluate strings."""
    source = path.read_text(encoding="utf-8")
    for pattern in (r"\.innerHTML\s*=", r"\.outerHTML\s*=", r"insertAdjacentHTML", r"document\.write",
                    r"setAttribute\(\s*[\"'](style|on[a-z]+)[\"']", r"\beval\(", r"new Function\(",
                    r"setTimeout\(\s*[\"']", r"setInterval\(\s*[\"']"):
        assert not re.search(pattern, source), f"static/{path.name}: {pattern}"
