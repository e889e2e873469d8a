"""The Content-Security-Policy in a real browser: the main pages of every role run without a single
violation — scripts, styles, fonts and images all load from our own origin, nothing inline is refused,
ECharts draws its charts (and their tooltips), Bootstrap's menu, dropdown and dialog work, the scanners
send their scans, the public form posts (form-action 'self') — and the policy really is in force (an
injected inline script, handler or style is refused).

Violations are caught twice: the page's `securitypolicyviolation` event (listener added by an init script,
which the policy does not govern) and Chromium's console messages. Screenshots (desktop 1366 px and phone
375 px) go to $EXPO_SCREENSHOTS (default: the test's tmp dir) as csp-<width>-<page>.png: look at them.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo import demo
from expo.core.models import Edition
from expo.extensions import db
from expo.visitors.badges import badge_code
from expo.visitors.models import Registration

pytestmark = pytest.mark.e2e

VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 375, "height": 667}}

LISTEN = """
document.addEventListener("securitypolicyviolation", function (e) {
  window.__expoCspViolation([e.effectiveDirective, e.blockedURI, e.sourceFile + ":" + e.lineNumber,
                             e.sample, location.pathname].join(" | "));
});
"""


@pytest.fixture
def world(make):
    """The demo show (small): its live edition, a confirmed visitor's badge, and the accounts."""
    accounts = demo.generate(visitors=150, exhibitors=10, editions=2)
    live = db.session.scalar(select(Edition).where(Edition.status == "live"))
    registrations = db.session.scalars(select(Registration).where(Registration.edition_id == live.id,
                                                                  Registration.status == "confirmed")
                                       .order_by(Registration.id)).all()
    values = {"accounts": accounts, "edition": live.id, "slug": live.slug, "show": live.show_id,
              "key": registrations[0].access_key, "registration": registrations[0].id,
              "codes": [badge_code(r) for r in registrations[-3:]]}
    db.session.remove()
    return values


class Watch:
    """A browser context whose pages report every CSP violation and JavaScript error into lists."""

    def __init__(self, browser, live_server, viewport):
        self.violations, self.errors = [], []
        self.context = browser.new_context(base_url=live_server, locale="en-US", viewport=viewport,
                                           device_scale_factor=1)
        self.context.set_default_timeout(30_000)  # generous: 2 cores, the rest of the suite may be busy
        self.context.expose_function("__expoCspViolation", lambda text: self.violations.append(text))
        self.context.add_init_script(LISTEN)
        self.page = self.context.new_page()
        self.page.on("console", lambda message: self.violations.append(f"console: {message.text}")
                     if "Content Security Policy" in message.text else None)
        self.page.on("pageerror", lambda error: self.errors.append(f"{self.page.url}: {error}"))

    def goto(self, url):
        response = self.page.goto(url)
        assert response.ok, f"{url}: {response.status}"
        assert "script-src 'self'" in response.headers["content-security-policy"], url
        self.page.wait_for_load_state("load")  # every script (defer) has run, every image is in
        # Bootstrap's stylesheet applied: the navbar is a flex row (a refused stylesheet leaves it a block)
        assert self.page.eval_on_selector(".navbar", "el => getComputedStyle(el).display") == "flex", url
        return self.page

    def sign_in(self, email):
        self.goto("/login")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", demo.DEMO_PASSWORD)
        with self.page.expect_navigation():
            self.page.press("input[name=password]", "Enter")
        assert "/login" not in self.page.url, self.page.inner_text("body")[:300]

    def close(self):
        self.context.close()


def _charts_drawn(page, url) -> int:
    """Every chart box holds a canvas of non-zero size, or states that it has no data; hovering each
    canvas opens ECharts' tooltip (where inline styles would be refused). Returns the number drawn."""
    page.wait_for_function("() => [...document.querySelectorAll('.chart')].every("
                           "el => el.classList.contains('chart-empty') || el.querySelector('canvas'))")
    drawn = 0
    for chart in page.query_selector_all(".chart"):
        if "chart-empty" in (chart.get_attribute("class") or ""):
            assert chart.inner_text().strip(), f"{url}: an empty chart without its sentence"
            continue
        canvas = chart.query_selector("canvas")
        box = canvas.bounding_box()
        assert box and box["width"] > 50 and box["height"] > 50, f"{url}: chart {chart.get_attribute('id')} {box}"
        chart.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.45)
        page.wait_for_timeout(250)  # the tooltip appears
        drawn += 1
    return drawn


def _shoot(page, shots, viewport, name):
    page.screenshot(path=str(shots / f"csp-{viewport['width']}-{name}.png"), full_page=True)


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_main_pages_of_every_role_run_without_a_violation(browser, live_server, world, shots, device):
    viewport = VIEWPORTS[device]
    edition = f"/org/editions/{world['edition']}"
    charts = {}
    failures = []

    # the public: sign-in page, show page with its form, the visitor's confirmation with the badge
    public = Watch(browser, live_server, viewport)
    public.goto("/login")
    page = public.goto(f"/e/{world['slug']}")
    _shoot(page, shots, viewport, "register")
    page.fill("input[name=name]", "Li Hua 李华")
    page.fill("input[name=email]", f"li.hua.{device}@example.cn")
    page.check("input[name=q_purchase_authority][value=decides]")  # the demo's required questions; the
    page.check("input[name=q_company_type][value=distributor]")     # first shows the budget question (script)
    page.fill("input[name=q_annual_budget]", "250000")
    page.check("input[name=consent]")
    with page.expect_navigation():
        page.click("form:has(input[name=consent]) button[type=submit]")  # form-action 'self', and what follows
    page.wait_for_load_state("load")
    assert f"/e/{world['slug']}" not in page.url or "mail-sent" in page.url, page.inner_text("main")[:300]
    _shoot(page, shots, viewport, "registered")
    page = public.goto(f"/r/{world['key']}")
    assert page.eval_on_selector("#badge-qr", "img => img.complete && img.naturalWidth") > 0, "badge not shown"
    _shoot(page, shots, viewport, "confirmation")
    failures += [("public", v) for v in public.violations + public.errors]
    public.close()

    # organizer owner: dashboard, edition page (charts), registrations, report (charts), check-in, show
    owner = Watch(browser, live_server, viewport)
    owner.sign_in(world["accounts"]["owner"])
    for name, url in (("dashboard", "/org"), ("edition", edition), ("registrations", f"{edition}/registrations"),
                      ("report", f"{edition}/report"), ("show", f"/org/shows/{world['show']}"),
                      ("exhibitors", f"{edition}/exhibitors"), ("profile", "/profile")):
        page = owner.goto(url)
        if name in ("edition", "report"):
            charts[name] = _charts_drawn(page, url)
        if name in ("edition", "registrations", "report", "show"):
            _shoot(page, shots, viewport, name)
    # Bootstrap's JavaScript: the menu (offcanvas on a phone, dropdown on a desktop) and the confirm dialog
    if device == "phone":
        page.click(".navbar-toggler")
        page.wait_for_selector("#app-menu.show")
    else:
        page.click(".navbar .dropdown-toggle")
        page.wait_for_selector(".navbar .dropdown-menu.show")
    # and the confirm dialog (a Bootstrap modal) on the registration desk: opened, then cancelled
    page = owner.goto(f"{edition}/registrations/{world['registration']}")
    page.click("form[data-confirm] button[type=submit]")
    page.wait_for_selector("#confirm-modal.show")
    page.wait_for_timeout(300)  # the fade-in
    _shoot(page, shots, viewport, "confirm-dialog")
    page.click("#confirm-modal .btn-outline-secondary")
    page.wait_for_selector("#confirm-modal", state="hidden")
    page = owner.goto(f"{edition}/checkin")
    page.keyboard.type(world["codes"][0])
    page.keyboard.press("Enter")
    page.wait_for_selector("#scan-result.ok, #scan-result.duplicate")
    _shoot(page, shots, viewport, "checkin")
    failures += [("owner", v) for v in owner.violations + owner.errors]
    owner.close()

    # exhibitor staff: portal, leads, the booth scanner with a scan sent by scanner.js
    exhibitor = Watch(browser, live_server, viewport)
    exhibitor.sign_in(world["accounts"]["exhibitor_admin"])
    for url in ("/portal", "/portal/leads", "/portal/staff"):
        exhibitor.goto(url)
    failures += [("exhibitor_admin", v) for v in exhibitor.violations + exhibitor.errors]
    exhibitor.close()
    booth = Watch(browser, live_server, viewport)
    booth.sign_in(world["accounts"]["booth_staff"])
    page = booth.goto("/portal/scan")
    page.keyboard.type(world["codes"][1])
    page.keyboard.press("Enter")
    page.wait_for_selector("#scan-result.ok, #scan-result.duplicate")
    _shoot(page, shots, viewport, "scanner")
    failures += [("booth_staff", v) for v in booth.violations + booth.errors]
    booth.close()

    assert not failures, "CSP violations or JavaScript errors:\n" + "\n".join(sorted({f"{who}: {what[:300]}"
                                                                                  for who, what in failures}))
    assert charts["report"] >= 3 and charts["edition"] >= 2, f"charts drawn: {charts}"


def test_the_policy_is_in_force(browser, live_server, world):
    """What the policy is for: markup injected into a page cannot run script or restyle it (and the watch
    above would notice if it could not see a violation)."""
    watch = Watch(browser, live_server, VIEWPORTS["desktop"])
    page = watch.goto(f"/e/{world['slug']}")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__injected = true";
        document.body.append(script);
        document.body.insertAdjacentHTML("beforeend", '<p id="injected" style="color: rgb(255, 0, 0)">x</p>');
        document.body.insertAdjacentHTML("beforeend", '<img id="handler" src="/no-such.png" onerror="window.__handled = true">');
    }""")
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__injected") is None, "an inline script ran"
    assert page.evaluate("() => window.__handled") is None, "an on*= handler ran"
    assert page.eval_on_selector("#injected", "el => getComputedStyle(el).color") != "rgb(255, 0, 0)"
    assert any("script-src" in v for v in watch.violations), watch.violations
    assert any("style-src" in v for v in watch.violations), watch.violations
    # element.style (CSSOM) stays allowed: charts.js and Bootstrap size things that way
    assert page.evaluate("""() => { const el = document.getElementById("injected");
        el.style.color = "rgb(0, 128, 0)"; return getComputedStyle(el).color; }""") == "rgb(0, 128, 0)"
    watch.close()
