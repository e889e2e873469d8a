"""The scanner as an offline web app, in a real browser (static/scanner.js, static/sw.js, expo/onsite/pwa.py).

- The service worker keeps both scan pages: with the network gone (Playwright's offline mode) they load again.
- A keyboard-wedge scan (keystrokes, then Enter) while offline is queued in IndexedDB; a forged, revoked,
  other-edition or malformed badge is refused on the device with the server's reason; the sync pill says
  offline and how many scans wait; back online the queue goes up through the batch API and every scan is
  stored exactly once — also when the first upload's answer is lost and the upload is sent again.
- The camera: Chromium's fake camera plays a file of JPEG frames of a real badge QR; the page reads it and
  captures the lead.
Screenshots (360×800, English and Chinese) go to $EXPO_SCREENSHOTS (default: the test's tmp dir).
"""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from expo.core.models import Organizer
from expo.extensions import db
from expo.leads.models import Lead
from expo.leads.questions import QuestionInput, answers_of, save_question
from expo.onsite.models import Scan
from expo.visitors import services as visitor_services
from expo.visitors.badges import badge_code, qr_png

from .conftest import CHROMIUM, CHROMIUM_ARGS, sign_in

pytestmark = pytest.mark.e2e

VISITOR = "王小明"
PHONE = {"width": 360, "height": 800}


def _world(make) -> dict:
    edition = make.edition(status="live", timezone="Asia/Shanghai")
    organizer = db.session.get(Organizer, edition.organizer_id)
    onsite = make.user("onsite", organizer=organizer)
    exhibitor = make.exhibitor(edition, name="Guangzhou Lighting Co")
    staff = make.user("booth_staff", exhibitor=exhibitor)
    # the exhibitor's own qualifying questions (expo.leads.questions), shown under the rating chips
    budget = QuestionInput(kind="single", label_en="Budget", label_zh="预算",
                           choices_text="small | Under 10k | 一万以下\nbig | Over 10k | 一万以上")
    demo = QuestionInput(kind="yes_no", label_en="Wants a demo", label_zh="需要演示")
    questions = [save_question(exhibitor, q, actor_id=staff.id).key for q in (budget, demo)]
    shared = make.registration(edition, name=VISITOR, company="深圳宏达家具有限公司")
    second = make.registration(edition, name="Li Na", company="Hangzhou Tea")
    lost = make.registration(edition, name="Lost Badge")
    old_code = badge_code(lost)
    visitor_services.reissue_badge(lost)  # the old code is revoked from now on
    elsewhere = make.edition(organizer, status="live", timezone="Asia/Shanghai")
    foreign = make.registration(elsewhere, name="Other Show Visitor")
    db.session.commit()
    values = {"edition_id": edition.id, "onsite_email": onsite.email, "onsite_id": onsite.id,
              "staff_email": staff.email, "staff_id": staff.id, "exhibitor_id": exhibitor.id,
              "code": badge_code(shared), "second": badge_code(second), "registration_id": shared.id,
              "second_id": second.id, "revoked": old_code, "other_edition": badge_code(foreign), "questions": questions}
    db.session.remove()
    return values


def _forged(code: str) -> str:
    return code[:-6] + ("A" if code[-6] != "A" else "B") + code[-5:]


def _scans(user_id) -> list[Scan]:
    db.session.remove()
    return list(db.session.scalars(select(Scan).where(Scan.user_id == user_id).order_by(Scan.id)))


def _context(browser, live_server, locale="en-US"):
    context = browser.new_context(base_url=live_server, viewport=PHONE, locale=locale, timezone_id="Asia/Shanghai",
                                  service_workers="allow")
    context.set_default_timeout(15_000)
    return context


def _open(context, errors):
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
    return page

def _ready_for_offline(page, url):
    """Visit the scan page until the worker controls it and has kept it, and the badge check is ready."""
    page.goto(url)
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    page.reload()  # this visit goes through the worker, which keeps the page
    page.wait_for_selector("#scan-form[data-offline-check=ready]")
    page.wait_for_function("""async () => { const c = await caches.open('expo-scanner-pages');
                                            return !!(await c.match(location.pathname)); }""")
    page.wait_for_selector("#sync-pill[data-state=online]")


def _wedge(page, code, expected_class):
    """A keyboard-wedge scanner: keystrokes into the focused field, then Enter; the verdict, the focus back."""
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'code'")
    page.eval_on_selector("#scan-result", "panel => { panel.className = panel.className.replace("
                                          "/\\b(ok|duplicate|refused|error|queued)\\b/g, ''); panel.replaceChildren(); }")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#scan-result.{expected_class} .verdict", state="visible")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'code' "
                           "&& document.activeElement.value === ''")


def _waiting(page, n, state):
    page.wait_for_selector(f"#sync-pill[data-waiting='{n}'][data-state={state}]", timeout=20_000)


def _reason_text(page):
    return page.inner_text("#scan-result .reason")


def test_booth_offline_queue_refusals_and_exactly_once_upload(app, make, browser, live_server, shots):
    world = _world(make)
    errors = []
    context = _context(browser, live_server)
    page = _open(context, errors)
    sign_in(page, world["staff_email"])
    _ready_for_offline(page, "/portal/scan")

    context.set_offline(True)
    page.reload()  # the worker's copy: the page loads without a network
    assert page.locator("#scan-form").count() == 1
    page.wait_for_selector("#scan-form[data-offline-check=ready]")
    _waiting(page, 0, "offline")

    _wedge(page, world["code"], "queued")
    assert page.is_visible("#lead-card"), "a queued lead opens the rating card"
    # for those with time: the questions and a note, then the rating chip
    page.click("#lead-card .lead-more summary")
    page.click("#lead-card label:has-text('Over 10k')")
    page.click("#lead-card label:has-text('Yes')")
    page.fill("#lead-note", "Wants 200 lamps")
    page.click("#lead-card .rating-chip[data-rating=hot]")  # tap 2: the rating waits in the queue too
    page.wait_for_function("() => document.getElementById('lead-status').textContent.length > 0")
    page.wait_for_function("() => document.activeElement.id === 'code'")
    _waiting(page, 1, "offline")  # the scan, with its rating
    page.screenshot(path=str(shots / "pwa-en-phone-booth-offline-queued.png"), full_page=True)

    _wedge(page, _forged(world["code"]), "refused")
    assert "Forged or altered badge" in _reason_text(page)
    assert page.is_hidden("#lead-card")
    page.screenshot(path=str(shots / "pwa-en-phone-booth-offline-forged.png"), full_page=True)
    _wedge(page, world["revoked"], "refused")
    assert "Revoked badge" in _reason_text(page)
    _wedge(page, world["other_edition"], "refused")
    assert "another show or edition" in _reason_text(page)
    _wedge(page, "HELLO-WORLD", "refused")
    assert "Not a badge code" in _reason_text(page)
    _wedge(page, world["second"], "queued")
    _waiting(page, 6, "offline")
    assert _scans(world["staff_id"]) == [], "nothing reached the server while offline"

    # back online: the first upload is stored by the server but its answer never arrives; the retry is replayed
    batches = []

    def lose_the_first_answer(route):
        batches.append(route.request.post_data_json)
        response = route.fetch()
        if len(batches) == 1:
            assert response.status == 200
            route.abort("connectionreset")
        else:
            route.fulfill(response=response)

    context.route("**/api/v1/scans/batch", lose_the_first_answer)
    context.set_offline(False)
    page.wait_for_function("() => document.getElementById('sync-pill').dataset.state === 'online'")
    page.wait_for_function("() => !document.getElementById('sync-now').hidden || "
                           "document.getElementById('sync-pill').dataset.waiting === '0'", timeout=20_000)
    if len(batches) < 2:
        page.click("#sync-now")  # the automatic retry comes within 15 s; staff can also ask for it
    _waiting(page, 0, "online")
    assert len(batches) >= 2
    assert [item["client_scan_id"] for item in batches[0]] == [item["client_scan_id"] for item in batches[1]]

    scans = _scans(world["staff_id"])
    ids = [s.client_scan_id for s in scans]
    assert len(ids) == len(set(ids)) == 6, "every queued scan stored exactly once"
    assert sorted(ids) == sorted(item["client_scan_id"] for item in batches[0])
    assert [(s.result, s.reason) for s in scans] == [
        ("ok", None), ("refused", "invalid_signature"), ("refused", "revoked"), ("refused", "other_edition"),
        ("refused", "malformed"), ("ok", None)], "the server refused exactly what the device refused"
    assert all(s.scanned_at < s.received_at for s in scans), "the device's time is kept"
    leads = list(db.session.scalars(select(Lead).where(Lead.exhibitor_id == world["exhibitor_id"])))
    assert sorted(lead.registration_id for lead in leads) == sorted([world["registration_id"], world["second_id"]])
    # the rating, answers and note given offline reached the lead once its scan was synced (PATCH /api/v1/leads/<id>)
    page.wait_for_function("() => document.getElementById('sync-pill').dataset.waiting === '0'")
    db.session.remove()
    lead = next(lead for lead in db.session.scalars(select(Lead).where(Lead.exhibitor_id == world["exhibitor_id"]))
                if lead.registration_id == world["registration_id"])
    assert lead.rating == "hot"
    assert lead.notes == "Wants 200 lamps"
    assert answers_of([lead.id])[lead.id] == {world["questions"][0]: "big", world["questions"][1]: "yes"}
    # the strip now shows the server's answers, and a reload (online) says the same
    page.reload()
    assert VISITOR in page.inner_text("#recent-scans")
    # scanning the badge again opens the same lead with what it holds, to change it (editable later)
    _wedge(page, world["code"], "duplicate")
    page.wait_for_selector("#lead-card .rating-chip[data-rating=hot].active")
    assert page.input_value("#lead-note") == "Wants 200 lamps"
    page.click("#lead-card .rating-chip[data-rating=warm]")
    page.wait_for_selector("#lead-card .rating-chip[data-rating=warm].active")
    assert page.eval_on_selector_all("#lead-card .rating-chip.active", "chips => chips.map(c => c.dataset.rating)") == ["warm"]
    page.screenshot(path=str(shots / "pwa-en-phone-booth-synced.png"), full_page=True)
    db.session.remove()
    assert db.session.get(Lead, lead.id).rating == "warm"
    context.close()
    assert not errors, errors


def test_checkin_offline_wedge_forged_refused_then_synced(app, make, browser, live_server, shots):
    world = _world(make)
    errors = []
    context = _context(browser, live_server)
    page = _open(context, errors)
    sign_in(page, world["onsite_email"])
    url = f"/org/editions/{world['edition_id']}/checkin"
    _ready_for_offline(page, url)
    assert page.is_visible("#scan-counters")

    context.set_offline(True)
    page.reload()
    page.wait_for_selector("#scan-form[data-offline-check=ready]")
    _wedge(page, world["code"], "queued")
    _wedge(page, _forged(world["code"]), "refused")
    assert "Forged or altered badge" in _reason_text(page)
    _waiting(page, 2, "offline")
    assert _scans(world["onsite_id"]) == []

    context.set_offline(False)
    _waiting(page, 0, "online")
    scans = _scans(world["onsite_id"])
    assert [(s.kind, s.result, s.reason, s.registration_id) for s in scans] == [
        ("checkin", "ok", None, world["registration_id"]), ("checkin", "refused", "invalid_signature", None)]

    # online again: a wedge scan goes straight to the server (duplicate entry the same day)
    _wedge(page, world["code"], "duplicate")
    assert VISITOR in page.inner_text("#scan-result")
    assert len(_scans(world["onsite_id"])) == 3
    context.close()
    assert not errors, errors


def _badge_video(code: str, path) -> None:
    """An MJPEG file for Chromium's fake camera: JPEG frames, concatenated, of the badge's QR on a desk."""
    qr = Image.open(io.BytesIO(qr_png(code, box_size=6))).convert("RGB")
    frames = []
    for n in range(30):
        frame = Image.new("RGB", (640, 480), (235, 232, 225))
        side = 380 + (n % 3) * 4
        frame.paste(qr.resize((side, side), Image.NEAREST), ((640 - side) // 2, (480 - side) // 2))
        out = io.BytesIO()
        frame.save(out, format="JPEG", quality=90)
        frames.append(out.getvalue())
    path.write_bytes(b"".join(frames))


def test_camera_reads_a_real_badge_with_chromiums_fake_camera(app, make, browser, live_server, tmp_path, shots):
    world = _world(make)
    video = tmp_path / "badge.mjpeg"
    _badge_video(world["code"], video)
    errors = []
    # a browser of its own: the fake camera is a launch flag (the same Playwright as the module's browser)
    camera_browser = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=[
        *CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        context = _context(camera_browser, live_server)
        context.grant_permissions(["camera"])
        page = _open(context, errors)
        sign_in(page, world["staff_email"])
        page.goto("/portal/scan")
        page.wait_for_selector("#scan-form[data-offline-check=ready]")
        page.click("#scan-start")  # unlocks sound and starts the camera
        page.wait_for_selector("#camera-view:not([hidden])")
        page.wait_for_selector("#scan-result.ok .verdict", state="visible", timeout=20_000)
        assert VISITOR in page.inner_text("#scan-result")
        assert page.get_attribute("#camera-toggle", "aria-pressed") == "true"
        page.screenshot(path=str(shots / "pwa-en-phone-booth-camera.png"), full_page=True)
        # the same badge held in front of the camera is not scanned again and again
        page.wait_for_timeout(3000)
        scans = _scans(world["staff_id"])
        assert [(s.result, s.registration_id, s.raw_code) for s in scans] == [
            ("ok", world["registration_id"], world["code"])]
        page.click("#camera-toggle")
        page.wait_for_selector("#camera-view", state="hidden")
        context.close()
    finally:
        camera_browser.close()
    assert not errors, errors


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_phone_screens_in_both_languages(app, make, browser, live_server, shots, language):
    """360×800: the booth scanner with a queued scan and its rating card while offline, and the entrance page
    with a refused badge; the verdict band takes at least 30 % of the screen; nothing sticks out sideways."""
    world = _world(make)
    errors = []
    locale = "zh-CN" if language == "zh_CN" else "en-US"
    for role, email, url in (("booth", world["staff_email"], "/portal/scan"),
                             ("checkin", world["onsite_email"], f"/org/editions/{world['edition_id']}/checkin")):
        context = _context(browser, live_server, locale)
        page = _open(context, errors)
        sign_in(page, email, language)
        _ready_for_offline(page, url)
        if role == "booth":
            context.set_offline(True)
            page.reload()
            page.wait_for_selector("#scan-form[data-offline-check=ready]")
            _wedge(page, world["code"], "queued")
            assert page.is_visible("#lead-card .rating-chip[data-rating=hot]")
        else:
            _wedge(page, world["code"], "ok")
            page.screenshot(path=str(shots / f"pwa-{language}-phone-checkin-ok.png"), full_page=True)
            _wedge(page, _forged(world["code"]), "refused")
        band = page.eval_on_selector("#scan-result", "el => el.getBoundingClientRect().toJSON()")
        assert band["height"] >= 0.3 * PHONE["height"], band
        wide = page.evaluate("""() => Array.from(document.querySelectorAll('main, main *'))
            .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .map(el => el.tagName + '.' + el.className)""")
        assert not wide, wide[:5]
        page.screenshot(path=str(shots / f"pwa-{language}-phone-{role}.png"), full_page=False)
        page.screenshot(path=str(shots / f"pwa-{language}-phone-{role}-full.png"), full_page=True)
        context.set_offline(False)
        context.close()
    assert not errors, errors
