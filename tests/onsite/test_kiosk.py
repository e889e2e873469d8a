"""The walk-up kiosk, the badge desk and the print queue (expo.onsite.kiosk, kiosk_views).

A walk-up registers, has their badge queued and is checked in, in one step; the registration policy holds
at the kiosk; staff reprint (same serial) or reissue (a new serial, the old one revoked); the printer's page
marks jobs printed or failed and retries. Printing is never an entry: no print, reprint or mark writes a
scan. Double clicks and two kiosks at once make one registration and one job (threads, both databases)."""
from __future__ import annotations

import io
import re
import threading
import uuid

import pypdfium2
import pytest
import zxingcpp
from sqlalchemy import func, select

from expo.core.models import Activity, AuditEntry, Organizer, User
from expo.extensions import db
from expo.onsite import kiosk
from expo.onsite import services as onsite
from expo.onsite.models import Scan
from expo.onsite.print_models import PrintJob
from expo.visitors import policy
from expo.visitors import services as visitors
from expo.visitors.invitations import create_organizer_code
from expo.visitors.models import InvitationCode, Person, Registration

from ..conftest import PASSWORD, Browser, count, field_errors, redirect_path


def _key() -> str:
    return uuid.uuid4().hex


def _form(**overrides) -> dict:
    data = {"name": "王小明", "company": "深圳宏达家具有限公司", "job_title": "采购经理",
            "email": f"walkup-{uuid.uuid4().hex[:8]}@example.cn", "phone": "+86 138 0013 8000", "country": "CN",
            "category": "buyer", "consent": "y", "request_key": _key()}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def _checkins() -> int:
    return db.session.scalar(select(func.count(Scan.id)).where(Scan.kind == "checkin")) or 0


@pytest.fixture
def desk(make):
    """An organizer with a live edition, on-site staff, and two pre-registered visitors."""
    edition = make.edition(name="Furniture Fair 2026")
    organizer = db.session.get(Organizer, edition.organizer_id)
    staff = make.user("onsite", organizer)
    alice = make.registration(edition, name="Alice Walker", email="alice@example.com", phone="+86 139 1234 5678",
                              company="Oak & Co")
    bob = make.registration(edition, name="Bob Stone", email="bob@example.com")
    db.session.commit()
    return edition, staff, alice, bob


def _run_url(edition, station="Kiosk 1") -> str:
    return f"/org/editions/{edition.id}/kiosk/run?station={station.replace(' ', '+')}"


# --- who may use the pages (every role; tests/test_access.py walks the same routes with both organizers) ------

KIOSK_PAGES = ("kiosk", "kiosk/run", "desk", "print-queue", "print-queue/rows")


@pytest.mark.parametrize("role, allowed", [("owner", True), ("manager", True), ("onsite", True), ("sales", False),
                                           ("analyst", False), ("exhibitor_admin", False), ("booth_staff", False),
                                           ("anonymous", False)])
def test_only_on_site_staff_use_the_kiosk_pages(app, make, desk, role, allowed):
    edition, _staff, alice, _bob = desk
    organizer = db.session.get(Organizer, edition.organizer_id)
    if role == "anonymous":
        browser = Browser(app)
    elif role in ("exhibitor_admin", "booth_staff"):
        browser = Browser(app, make.user(role, exhibitor=make.exhibitor(edition)))
    else:
        browser = Browser(app, make.user(role, organizer))
    db.session.commit()
    for page in KIOSK_PAGES:
        response = browser.get(f"/org/editions/{edition.id}/{page}")
        expected = 200 if allowed else 302 if role == "anonymous" else 403
        assert response.status_code == expected, (page, role)
    posts = [browser.post(_run_url(edition), data=_form()),
             browser.post(f"/org/editions/{edition.id}/desk/print", data={"registration_id": alice.id,
                                                                       "request_key": _key()})]
    assert all(r.status_code in ((200, 302) if allowed else (302,) if role == "anonymous" else (403,))
               for r in posts)
    assert count(PrintJob) == (2 if allowed else 0)
    assert (count(Scan) == 1) is allowed  # the kiosk's check-in only: the desk print asked for none


# --- the kiosk: a walk-up visitor registers, queued, checked in --------------------------------------------

def test_a_walk_up_is_registered_queued_and_checked_in_in_one_step(app, desk):
    edition, staff, _alice, _bob = desk
    browser = Browser(app, staff)
    page = browser.get(_run_url(edition)).get_data(as_text=True)
    assert 'id="kiosk-form"' in page and "app-navbar" not in page  # kiosk mode: no staff navigation
    assert 'data-idle="' in page and "no-store" in browser.get(_run_url(edition)).headers["Cache-Control"]
    data = _form(email="wang.walkup@example.cn")

    response = browser.post(_run_url(edition), data=data)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-kiosk="done"' in html and "王小明" in html
    registration = db.session.scalar(select(Registration).join(Person).where(Person.email == "wang.walkup@example.cn"))
    assert (registration.source, registration.status, registration.category) == ("walk_up", "confirmed", "buyer")
    assert registration.company_as_given == "深圳宏达家具有限公司" and registration.person.country == "CN"
    job = db.session.scalar(select(PrintJob).where(PrintJob.registration_id == registration.id))
    assert (job.status, job.origin, job.station, job.badge_serial, job.requested_by_id) == (
        "queued", "kiosk", "Kiosk 1", 1, staff.id)
    [scan] = db.session.scalars(select(Scan).where(Scan.registration_id == registration.id))
    assert (scan.kind, scan.result, scan.gate, scan.user_id) == ("checkin", "ok", "kiosk:Kiosk 1", staff.id)
    assert scan.admitted_on is not None


def test_the_same_form_sent_again_answers_the_same_and_writes_nothing_more(app, desk):
    edition, staff, _alice, _bob = desk
    browser = Browser(app, staff)
    data = _form()
    first = browser.post(_run_url(edition), data=data).get_data(as_text=True)
    counts = (count(Registration), count(PrintJob), count(Scan))

    again = browser.post(_run_url(edition), data=data)

    assert again.status_code == 200 and 'data-kiosk="done"' in again.get_data(as_text=True)
    assert (count(Registration), count(PrintJob), count(Scan)) == counts
    assert re.search(r"#\d+", first).group(0) in again.get_data(as_text=True)


def test_an_address_registered_already_is_sent_to_the_desk_and_nothing_is_written(app, desk):
    edition, staff, alice, _bob = desk
    browser = Browser(app, staff)
    counts = (count(Registration), count(PrintJob), count(Scan))

    response = browser.post(_run_url(edition), data=_form(email="ALICE@example.com", name="Someone Else"))

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="kiosk-refusal"' in html and 'data-reason="already_registered"' in html
    assert "already registered" in html
    assert (count(Registration), count(PrintJob), count(Scan)) == counts
    assert alice.person.name == "Alice Walker"


def test_a_returning_person_of_an_earlier_edition_is_matched_by_email(app, make, desk):
    edition, staff, _alice, _bob = desk
    earlier = make.edition(db.session.get(Organizer, edition.organizer_id), name="Furniture Fair 2025")
    old = make.registration(earlier, name="Chen Jie", email="chen@example.cn", phone="+86 138 0013 8000")
    db.session.commit()
    person_id = old.person_id

    # The same mobile in another writing: it is that person (see the test below for a stranger).
    Browser(app, staff).post(_run_url(edition), data=_form(email="Chen@Example.cn", name="陈杰", phone="138-0013-8000"))

    registration = db.session.scalar(select(Registration).where(Registration.edition_id == edition.id,
                                                                Registration.person_id == person_id))
    assert registration is not None and registration.name_as_given == "陈杰"
    assert db.session.get(Person, person_id).name == "Chen Jie"  # a registration never rewrites the person


def test_the_kiosk_speaks_chinese_when_switched(app, desk, fresh_translations):
    edition, staff, _alice, _bob = desk
    browser = Browser(app, staff)
    browser.get(f"/lang/zh_CN?next=/org/editions/{edition.id}/kiosk/run")
    page = browser.get(_run_url(edition)).get_data(as_text=True)
    assert 'lang="zh-CN"' in page
    assert "中文" in page and "English" in page


# --- the policy at the kiosk --------------------------------------------------------------------------------

def _setup(edition, **rules):
    policy.save_setup(edition, opens_at=None, closes_at=None, invitation_only=rules.pop("invitation_only", False),
                      rules=[policy.CategoryRule(c, *r) for c, r in rules.items()])
    db.session.commit()


def test_a_category_needing_approval_is_not_offered_and_refused_with_a_reason(app, desk):
    edition, staff, _alice, _bob = desk
    _setup(edition, vip=(None, True))
    browser = Browser(app, staff)
    page = browser.get(_run_url(edition)).get_data(as_text=True)
    assert 'value="buyer"' in page and 'value="vip"' not in page
    assert "approved by the organizer" in page
    counts = (count(Registration), count(PrintJob), count(Scan))

    html = browser.post(_run_url(edition), data=_form(category="vip")).get_data(as_text=True)

    assert 'data-reason="approval"' in html and "please go to the desk" in html
    assert (count(Registration), count(PrintJob), count(Scan)) == counts


def test_the_last_place_of_a_category_goes_once_then_the_kiosk_says_it_is_full(app, desk):
    edition, staff, _alice, _bob = desk
    _setup(edition, media=(1, False))
    browser = Browser(app, staff)

    first = browser.post(_run_url(edition), data=_form(category="media")).get_data(as_text=True)
    second = browser.post(_run_url(edition), data=_form(category="media")).get_data(as_text=True)

    assert 'data-kiosk="done"' in first
    assert 'data-reason="full"' in second and "No places are left" in second
    assert db.session.scalar(select(func.count(Registration.id)).where(Registration.category == "media")) == 1
    assert 'value="media"' not in browser.get(_run_url(edition)).get_data(as_text=True)


def test_an_invitation_only_edition_asks_for_a_valid_code_and_counts_its_use(app, desk):
    edition, staff, _alice, _bob = desk
    _setup(edition, invitation_only=True)
    code = create_organizer_code(visitors_scope(edition), edition, "Kiosk", 5, actor_id=staff.id)
    db.session.commit()
    browser = Browser(app, staff)
    assert 'name="invitation_code"' in browser.get(_run_url(edition)).get_data(as_text=True)

    missing = browser.post(_run_url(edition), data=_form()).get_data(as_text=True)
    wrong = browser.post(_run_url(edition), data=_form(invitation_code="NOPE-1234")).get_data(as_text=True)
    good = browser.post(_run_url(edition), data=_form(invitation_code=code.code)).get_data(as_text=True)

    assert 'data-reason="invitation"' in missing and "invitation only" in missing
    assert 'data-reason="invitation"' in wrong
    assert 'data-kiosk="done"' in good
    assert db.session.get(InvitationCode, code.id).uses == 1
    assert count(PrintJob) == 1


def visitors_scope(edition):
    from expo.core.scoping import Scope

    return Scope(edition.organizer_id)


def test_a_closed_edition_has_no_kiosk(app, make):
    edition = make.edition(status="closed")
    staff = make.user("onsite", db.session.get(Organizer, edition.organizer_id))
    db.session.commit()
    browser = Browser(app, staff)
    page = browser.get(_run_url(edition)).get_data(as_text=True)
    assert 'id="kiosk-form"' not in page and "closed" in page

    html = browser.post(_run_url(edition), data=_form()).get_data(as_text=True)
    assert 'data-reason="closed"' in html and count(Registration) == 0


def test_one_category_left_is_not_asked(app, desk):
    edition, staff, _alice, _bob = desk
    _setup(edition, buyer=(None, True), trade_visitor=(None, True), public=(None, True), media=(0, False))
    browser = Browser(app, staff)
    page = browser.get(_run_url(edition)).get_data(as_text=True)
    assert 'name="category"' not in page

    browser.post(_run_url(edition), data=_form(category=None))
    assert db.session.scalar(select(Registration.category).where(Registration.source == "walk_up")) == "vip"


# --- hostile input: clear errors, never a 500 ----------------------------------------------------------------

@pytest.mark.parametrize("field, value", [
    ("name", "Wang\x00Xiaoming"), ("name", ""), ("email", "not-an-email"), ("email", "a" * 300 + "@example.com"),
    ("country", "XX"), ("country", "Ω"), ("category", "exhibitor_staff"), ("category", "x" * 5000),
    ("request_key", "../../etc"), ("request_key", "k" * 500), ("request_key", ""), ("consent", None),
    ("phone", "9" * 100), ("company", "Oak\x00Co"),
])
def test_hostile_kiosk_input_gets_a_clear_answer(app, desk, field, value):
    edition, staff, _alice, _bob = desk
    browser = Browser(app, staff)

    response = browser.post(_run_url(edition), data=_form(**{field: value}))

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-kiosk="done"' not in html and 'class="error"' in html
    assert count(Registration) == 2 and count(PrintJob) == 0 and _checkins() == 0


@pytest.mark.parametrize("station", ["\x00", "x" * 5000, "\u202e" * 3, "<script>alert(1)</script>"])
def test_a_strange_kiosk_name_never_breaks_the_kiosk(app, desk, station):
    edition, staff, _alice, _bob = desk
    browser = Browser(app, staff)
    response = browser.post(f"/org/editions/{edition.id}/kiosk/run", query_string={"station": station},
                            data=_form())
    assert response.status_code in (200, 400)
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    for job in db.session.scalars(select(PrintJob)):
        assert len(job.station) <= 60 and "\x00" not in job.station


# --- the desk: find, reprint, reissue, check in -------------------------------------------------------------

@pytest.mark.parametrize("query", ["alice", "Walker", "ALICE@example.com", "139 1234 5678", "+8613912345678", "Oak"])
def test_the_desk_finds_a_visitor_by_name_email_phone_or_company(app, desk, query):
    edition, staff, alice, _bob = desk
    html = Browser(app, staff).get(f"/org/editions/{edition.id}/desk", query_string={"q": query}).get_data(as_text=True)
    assert f'data-registration="{alice.id}"' in html and "Bob Stone" not in html


def test_the_desk_finds_a_visitor_by_number_or_scanned_badge(app, desk):
    edition, staff, alice, _bob = desk
    browser = Browser(app, staff)
    for query in (f"#{alice.id}", visitors.badge_code(alice)):
        html = browser.get(f"/org/editions/{edition.id}/desk", query_string={"q": query}).get_data(as_text=True)
        assert f'data-registration="{alice.id}"' in html


def test_the_desk_never_finds_another_organizers_visitor(app, make, desk):
    edition, staff, _alice, _bob = desk
    other = make.edition(name="Other Fair")
    stranger = make.registration(other, name="Alice Stranger", email="alice.stranger@example.com")
    db.session.commit()
    browser = Browser(app, staff)
    for query in ("Stranger", "alice.stranger@example.com", f"#{stranger.id}", visitors.badge_code(stranger)):
        html = browser.get(f"/org/editions/{edition.id}/desk", query_string={"q": query}).get_data(as_text=True)
        assert "Alice Stranger" not in html


@pytest.mark.parametrize("query", ["\x00", "%", "_", "'; DROP TABLE persons; --", "9" * 3000, "#99999999999"])
def test_hostile_desk_searches_answer_cleanly(app, desk, query):
    edition, staff, _alice, _bob = desk
    response = Browser(app, staff).get(f"/org/editions/{edition.id}/desk", query_string={"q": query})
    assert response.status_code in (200, 400)


def _print(browser, edition, registration_id, **fields):
    data = {"registration_id": registration_id, "request_key": fields.pop("request_key", _key()),
            "station": "Desk A", **fields}
    return browser.post(f"/org/editions/{edition.id}/desk/print", data=data)


def test_printing_and_reprinting_at_the_desk_is_not_an_entry(app, desk):
    """A print, a reprint, marking it printed: no scan at all, not a check-in."""
    edition, staff, alice, _bob = desk
    browser = Browser(app, staff)

    assert redirect_path(_print(browser, edition, alice.id)) == f"/org/editions/{edition.id}/desk"
    [job] = db.session.scalars(select(PrintJob))
    browser.post(f"/org/editions/{edition.id}/print-queue/update", data={"job": job.id, "action": "printed"})
    _print(browser, edition, alice.id)  # a reprint of the same badge
    browser.get(f"/org/editions/{edition.id}/print-queue/badges.pdf")

    assert count(Scan) == 0
    jobs = list(db.session.scalars(select(PrintJob).order_by(PrintJob.id)))
    # Opening the PDF claims the job for this desk ("printing"); still no scan.
    assert [(j.status, j.badge_serial, j.origin) for j in jobs] == [("printed", 1, "desk"), ("printing", 1, "desk")]
    assert db.session.get(Registration, alice.id).badge_serial == 1
    assert onsite.verify_code(edition, visitors.badge_code(alice))[1] is None  # the same badge still admits


def test_a_desk_print_with_check_in_checks_in_once(app, desk):
    edition, staff, alice, _bob = desk
    browser = Browser(app, staff)
    key = _key()
    _print(browser, edition, alice.id, check_in="1", request_key=key)
    _print(browser, edition, alice.id, check_in="1", request_key=key)  # the same click again

    [scan] = db.session.scalars(select(Scan))
    assert (scan.kind, scan.result, scan.gate, scan.registration_id) == ("checkin", "ok", "kiosk:Desk A", alice.id)
    assert count(PrintJob) == 1


def test_two_clicks_on_print_queue_one_job(app, desk):
    edition, staff, alice, _bob = desk
    browser = Browser(app, staff)
    key = _key()
    _print(browser, edition, alice.id, request_key=key)
    _print(browser, edition, alice.id, request_key=key)
    response = _print(browser, edition, alice.id)  # another request while one waits: the waiting one
    browser.get(redirect_path(response))

    assert count(PrintJob) == 1


def test_a_reissue_revokes_the_old_badge_and_replaces_the_waiting_job(app, desk):
    edition, staff, alice, _bob = desk
    old_code = visitors.badge_code(alice)
    browser = Browser(app, staff)
    _print(browser, edition, alice.id)
    key = _key()

    _print(browser, edition, alice.id, reissue="1", request_key=key)
    _print(browser, edition, alice.id, reissue="1", request_key=key)  # a double click: one new badge

    registration = db.session.get(Registration, alice.id)
    db.session.refresh(registration)
    assert registration.badge_serial == 2
    assert onsite.verify_code(edition, old_code)[1] == "revoked"
    jobs = list(db.session.scalars(select(PrintJob).order_by(PrintJob.id)))
    assert [(j.status, j.origin, j.badge_serial) for j in jobs] == [("cancelled", "desk", 1), ("queued", "reissue", 2)]
    assert count(Scan) == 0
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "badge.reissued")) == 1


def test_a_badge_that_would_not_admit_is_not_printed(app, desk):
    edition, staff, alice, _bob = desk
    visitors.cancel_registration(alice)
    db.session.commit()
    browser = Browser(app, staff)
    html = browser.get(f"/org/editions/{edition.id}/desk", query_string={"q": "alice"}).get_data(as_text=True)
    assert "cancelled" in html and 'name="reissue"' not in html

    browser.get(redirect_path(_print(browser, edition, alice.id)))
    assert count(PrintJob) == 0


@pytest.mark.parametrize("registration_id", ["", "abc", "0", "-1", "99999999999", "1e3", "\x00"])
def test_hostile_desk_prints_are_refused_cleanly(app, desk, registration_id):
    edition, staff, _alice, _bob = desk
    response = _print(Browser(app, staff), edition, registration_id)
    assert response.status_code == 302 and count(PrintJob) == 0


def test_the_desk_cannot_print_another_organizers_visitor(app, make, desk):
    edition, staff, _alice, _bob = desk
    other = make.edition()
    stranger = make.registration(other)
    db.session.commit()
    _print(Browser(app, staff), edition, stranger.id)
    assert count(PrintJob) == 0


# --- the print queue ------------------------------------------------------------------------------------------

def _decode_pdf(data: bytes) -> list[str]:
    document = pypdfium2.PdfDocument(data)
    texts = []
    try:
        for page in document:
            image = page.render(scale=2).to_pil().copy()
            texts += [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    finally:
        document.close()
    return texts


def test_the_queue_shows_who_asked_and_prints_the_badge_as_a_pdf(app, desk):
    edition, staff, alice, bob = desk
    browser = Browser(app, staff)
    _print(browser, edition, alice.id)
    _print(browser, edition, bob.id)
    jobs = list(db.session.scalars(select(PrintJob).order_by(PrintJob.id)))

    page = browser.get(f"/org/editions/{edition.id}/print-queue").get_data(as_text=True)
    rows = browser.get(f"/org/editions/{edition.id}/print-queue/rows").get_data(as_text=True)
    one = browser.get(f"/org/editions/{edition.id}/print-queue/badges.pdf", query_string={"job": jobs[0].id})
    every = browser.get(f"/org/editions/{edition.id}/print-queue/badges.pdf")

    assert 'data-rows-url="' in page and "Alice Walker" in page and "Desk A" in page and staff.name in page
    assert "<html" not in rows and f'data-job="{jobs[1].id}"' in rows
    assert one.mimetype == "application/pdf" and "no-store" in one.headers["Cache-Control"]
    assert _decode_pdf(one.data) == [visitors.badge_code(alice)]
    assert sorted(_decode_pdf(every.data)) == sorted([visitors.badge_code(alice), visitors.badge_code(bob)])
    assert count(Scan) == 0


def test_marking_failed_retrying_and_printing(app, desk):
    edition, staff, alice, _bob = desk
    browser = Browser(app, staff)
    _print(browser, edition, alice.id)
    job = db.session.scalar(select(PrintJob))
    url = f"/org/editions/{edition.id}/print-queue/update"

    browser.post(url, data={"job": job.id, "action": "failed", "failure": " Paper\x00jam\n"})
    db.session.refresh(job)
    assert (job.status, job.failure, job.done_by_id) == ("failed", "Paper jam", staff.id)
    browser.post(url, data={"job": job.id, "action": "retry"})
    db.session.refresh(job)
    assert (job.status, job.attempts, job.failure) == ("queued", 1, "")
    browser.post(url, data={"job": job.id, "action": "printed"})
    db.session.refresh(job)
    assert job.status == "printed" and job.done_at is not None
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "badge.printed")) == 1
    response = browser.post(url, data={"job": job.id, "action": "retry"})  # printed is final
    assert response.status_code == 302
    db.session.refresh(job)
    assert job.status == "printed" and count(Scan) == 0


def test_retrying_a_failed_job_while_another_waits_is_refused(app, desk):
    edition, staff, alice, _bob = desk
    browser = Browser(app, staff)
    url = f"/org/editions/{edition.id}/print-queue/update"
    _print(browser, edition, alice.id)
    first = db.session.scalar(select(PrintJob))
    browser.post(url, data={"job": first.id, "action": "failed"})
    _print(browser, edition, alice.id)

    browser.post(url, data={"job": first.id, "action": "retry"})

    assert db.session.scalar(select(func.count(PrintJob.id)).where(PrintJob.status == "queued")) == 1
    db.session.refresh(first)
    assert first.status == "failed"


@pytest.mark.parametrize("fields", [
    {}, {"action": "printed"}, {"job": "abc", "action": "printed"}, {"job": "99999999999", "action": "printed"},
    {"job": "1", "action": "explode"}, {"job": "1", "action": "failed", "failure": "x" * 500},
])
def test_hostile_queue_updates_are_refused_cleanly(app, desk, fields):
    edition, staff, alice, _bob = desk
    browser = Browser(app, staff)
    _print(browser, edition, alice.id)
    response = browser.post(f"/org/editions/{edition.id}/print-queue/update", data=fields)
    assert redirect_path(response) == f"/org/editions/{edition.id}/print-queue"
    assert db.session.scalar(select(PrintJob.status)) == "queued"


@pytest.mark.parametrize("query", [{"job": "abc"}, {"job": "0"}, {"job": "99999999999"}, {"format": "huge"},
                                   {"job": [str(i) for i in range(1, 300)]}])
def test_hostile_pdf_requests_are_refused_cleanly(app, desk, query):
    edition, staff, alice, _bob = desk
    browser = Browser(app, staff)
    _print(browser, edition, alice.id)
    response = browser.get(f"/org/editions/{edition.id}/print-queue/badges.pdf", query_string=query)
    assert response.status_code in (302, 400)


def test_jobs_stay_with_their_organizer(app, make, desk):
    edition, staff, alice, _bob = desk
    browser = Browser(app, staff)
    _print(browser, edition, alice.id)
    job = db.session.scalar(select(PrintJob))
    other = make.edition()
    stranger = make.user("onsite", db.session.get(Organizer, other.organizer_id))
    db.session.commit()
    theirs = Browser(app, stranger)

    pdf = theirs.get(f"/org/editions/{other.id}/print-queue/badges.pdf", query_string={"job": job.id})
    theirs.post(f"/org/editions/{other.id}/print-queue/update", data={"job": job.id, "action": "printed"})
    page = theirs.get(f"/org/editions/{other.id}/print-queue").get_data(as_text=True)
    mine = theirs.get(f"/org/editions/{edition.id}/print-queue")

    assert pdf.status_code == 302 and "Alice Walker" not in page and mine.status_code == 404
    db.session.refresh(job)
    assert job.status == "queued"


def test_a_job_of_another_edition_of_the_same_organizer_is_not_in_this_queue(app, make, desk):
    edition, staff, alice, _bob = desk
    _print(Browser(app, staff), edition, alice.id)
    job = db.session.scalar(select(PrintJob))
    sibling = make.edition(db.session.get(Organizer, edition.organizer_id))
    db.session.commit()
    browser = Browser(app, staff)
    assert browser.get(f"/org/editions/{sibling.id}/print-queue/badges.pdf",
                       query_string={"job": job.id}).status_code == 302
    assert "Alice Walker" not in browser.get(f"/org/editions/{sibling.id}/print-queue").get_data(as_text=True)


# --- the services without Flask ------------------------------------------------------------------------------

def test_register_walk_up_needs_the_check_in_permission(make, desk):
    edition, _staff, _alice, _bob = desk
    sales = make.user("sales", db.session.get(Organizer, edition.organizer_id))
    with pytest.raises(onsite.ScanForbidden):
        kiosk.register_walk_up(sales, edition, kiosk.WalkUp(name="X", email="x@example.com", category="buyer",
                                                            consent=True), station="K", request_key=_key())


def test_the_services_refuse_another_organizers_edition(make, desk):
    edition, staff, _alice, _bob = desk
    other = make.edition()
    db.session.commit()
    with pytest.raises(onsite.ScanForbidden):
        kiosk.register_walk_up(staff, other, kiosk.WalkUp(name="X", email="x@example.com", category="buyer",
                                                          consent=True), station="K", request_key=_key())
    with pytest.raises(onsite.ScanForbidden):
        kiosk.update_jobs(staff, other, ["1"], "printed")
    assert count(Registration) == 2


def test_the_kiosk_registration_is_audited_and_on_the_timeline(app, desk):
    edition, staff, _alice, _bob = desk
    Browser(app, staff).post(_run_url(edition), data=_form(email="timeline@example.com"))
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"registration.created", "badge.print_queued"} <= actions


# --- races: threads at the same moment (SQLite and PostgreSQL) ---------------------------------------------

def _race(app, n, work):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run(i):
        with app.app_context(), app.test_request_context():
            try:
                barrier.wait(timeout=10)
                results.append(work(i))
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - the test reports any failure of a racer
                db.session.rollback()
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results, errors


def test_two_kiosks_sending_the_same_email_at_once_register_once(app, make, desk):
    edition, staff, _alice, _bob = desk
    organizer = db.session.get(Organizer, edition.organizer_id)
    second = make.user("onsite", organizer)
    db.session.commit()
    user_ids, edition_id = [staff.id, second.id], edition.id
    db.session.remove()

    for round_ in range(3):
        email = f"race{round_}@example.com"

        def work(i, email=email):
            from expo.core.models import Edition

            user = db.session.get(User, user_ids[i])
            edition = db.session.get(Edition, edition_id)
            data = kiosk.WalkUp(name=f"Racer {i}", email=email, category="buyer", consent=True)
            return kiosk.run_once_more(lambda: kiosk.register_walk_up(user, edition, data, station=f"Kiosk {i}",
                                                                      request_key=_key()))

        results, errors = _race(app, 2, work)
        assert len(results) == 1, errors
        assert [type(e) for e in errors] == [kiosk.KioskRefused] and errors[0].reason == "already_registered"
        registration_ids = list(db.session.scalars(select(Registration.id).join(Person).where(Person.email == email)))
        assert len(registration_ids) == 1
        assert db.session.scalar(select(func.count(PrintJob.id)).where(
            PrintJob.registration_id == registration_ids[0])) == 1
        assert db.session.scalar(select(func.count(Scan.id)).where(Scan.registration_id == registration_ids[0])) == 1


def test_a_double_submit_of_one_kiosk_form_at_once_registers_once(app, desk):
    edition, staff, _alice, _bob = desk
    user_id, edition_id, key = staff.id, edition.id, _key()
    db.session.remove()

    def work(_i):
        from expo.core.models import Edition

        user = db.session.get(User, user_id)
        edition = db.session.get(Edition, edition_id)
        data = kiosk.WalkUp(name="Double Tap", email="double@example.com", category="buyer", consent=True)
        result = kiosk.run_once_more(lambda: kiosk.register_walk_up(user, edition, data, station="K",
                                                                    request_key=key))
        return result.job.id

    results, errors = _race(app, 3, work)
    assert errors == [] and len(set(results)) == 1
    assert count(PrintJob) == 1 and _checkins() == 1
    assert db.session.scalar(select(func.count(Registration.id)).where(Registration.source == "walk_up")) == 1


def test_two_clicks_on_print_at_once_queue_one_job(app, desk):
    edition, staff, alice, _bob = desk
    user_id, edition_id, registration_id = staff.id, edition.id, alice.id
    db.session.remove()

    for same_key in (True, False):
        key = _key()

        def work(i, key=key, same_key=same_key):
            from expo.core.models import Edition

            user = db.session.get(User, user_id)
            edition = db.session.get(Edition, edition_id)
            result = kiosk.run_once_more(lambda: kiosk.desk_print(
                user, edition, str(registration_id), request_key=key if same_key else f"{key}{i}", station="D"))
            return result.job.id

        results, errors = _race(app, 3, work)
        assert errors == [] and len(set(results)) == 1, errors
        assert db.session.scalar(select(func.count(PrintJob.id)).where(PrintJob.status == "queued")) == 1
        db.session.execute(PrintJob.__table__.update().values(status="printed"))
        db.session.commit()
    assert count(Scan) == 0


def test_two_clicks_on_new_badge_at_once_reissue_once(app, desk):
    edition, staff, alice, _bob = desk
    user_id, edition_id, registration_id, key = staff.id, edition.id, alice.id, _key()
    db.session.remove()

    def work(_i):
        from expo.core.models import Edition

        user = db.session.get(User, user_id)
        edition = db.session.get(Edition, edition_id)
        return kiosk.run_once_more(lambda: kiosk.desk_print(user, edition, str(registration_id), request_key=key,
                                                            reissue=True)).job.id

    results, errors = _race(app, 3, work)
    assert errors == [] and len(set(results)) == 1, errors
    assert db.session.get(Registration, registration_id).badge_serial == 2
    assert count(PrintJob) == 1


def test_the_nav_offers_the_kiosk_pages_to_on_site_staff(app, desk):
    edition, staff, _alice, _bob = desk
    html = Browser(app, staff).get(f"/org/editions/{edition.id}/checkin").get_data(as_text=True)
    for path in ("kiosk", "desk", "print-queue"):
        assert f"/org/editions/{edition.id}/{path}" in html


def test_field_errors_show_beside_their_fields(app, desk):
    edition, staff, _alice, _bob = desk
    html = Browser(app, staff).post(_run_url(edition), data=_form(email="nope")).get_data(as_text=True)
    assert field_errors(html, "email")


def test_the_pdf_bytes_are_a_pdf(app, desk):
    edition, staff, alice, _bob = desk
    browser = Browser(app, staff)
    _print(browser, edition, alice.id)
    data = browser.get(f"/org/editions/{edition.id}/print-queue/badges.pdf").data
    assert io.BytesIO(data).read(5) == b"%PDF-"


# --- review fixes (issue 9 review: kiosk identity, desk search, kiosk gates, print queue locks and claims) ------

@pytest.mark.parametrize("phone", [None, "+86 139 9999 0000", "not a phone"])
def test_a_known_email_without_that_persons_mobile_goes_to_the_desk_and_nothing_is_written(app, make, desk, phone):
    """A stranger typing a known visitor's email gets no badge on that person's record."""
    edition, staff, _alice, _bob = desk
    earlier = make.edition(db.session.get(Organizer, edition.organizer_id), name="Furniture Fair 2025")
    make.registration(earlier, name="Chen Jie", email="chen@example.cn", phone="+86 138 0013 8000")
    db.session.commit()
    counts = (count(Registration), count(PrintJob), count(Scan), count(Person))

    response = Browser(app, staff).post(_run_url(edition), data=_form(email="chen@example.cn", name="Impostor",
                                                                        phone=phone))

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="kiosk-refusal"' in html and 'data-reason="known_email"' in html
    assert "go to the desk" in html
    assert (count(Registration), count(PrintJob), count(Scan), count(Person)) == counts


def test_a_known_email_of_a_person_without_a_phone_goes_to_the_desk(app, make, desk):
    edition, staff, _alice, _bob = desk
    earlier = make.edition(db.session.get(Organizer, edition.organizer_id), name="Furniture Fair 2025")
    make.registration(earlier, name="No Phone", email="nophone@example.cn")
    db.session.commit()
    counts = (count(Registration), count(PrintJob), count(Scan))
    with pytest.raises(kiosk.KioskRefused) as refused:
        kiosk.register_walk_up(staff, edition, kiosk.WalkUp(name="X", email="NoPhone@example.cn",
                                                            phone="+86 138 0013 8000", category="buyer", consent=True),
                               station="K", request_key=_key())
    db.session.rollback()
    assert refused.value.reason == "known_email"
    assert (count(Registration), count(PrintJob), count(Scan)) == counts


def test_a_long_company_name_finds_the_visitor_at_the_desk(app, make, desk):
    edition, staff, _alice, _bob = desk
    company = "Guangdong Southern International Furniture Trading Company Limited"
    make.registration(edition, name="Li Hua", email="li.hua@example.cn", company=company)
    db.session.commit()
    assert len(company) > 40
    html = Browser(app, staff).get(f"/org/editions/{edition.id}/desk",
                                   query_string={"q": company}).get_data(as_text=True)
    assert "Li Hua" in html
    # A badge code is still a badge code (its shape: ≥ 100 base32 characters).
    assert kiosk._BADGE_CODE.fullmatch(visitors.badge_code(_alice))


@pytest.mark.parametrize("station", ["Exit", "X1", "x1", "Gate X1"])
def test_a_kiosk_named_like_an_exit_gate_records_an_entry(app, desk, station):
    """The kiosk's name is not a gate: its check-ins go to the main entrance, never as exits."""
    from expo.core.scoping import Scope
    from expo.onsite import zones

    edition, staff, _alice, _bob = desk
    scope = Scope(edition.organizer_id)
    everyone = {c: None for c in ("buyer", "trade_visitor", "public", "media", "vip", "exhibitor_staff", "speaker")}
    halls = zones.save_zone(scope, edition, name_en="Halls", name_zh="展馆", capacity=None, access=everyone,
                            reentry="free", admission=True, actor_id=None)
    zones.save_gate(scope, edition, code="X1", name="Exit", zone_id=halls.id, direction="out", actor_id=None)
    zones.save_gate(scope, edition, code="N1", name="North", zone_id=halls.id, direction="in", actor_id=None)
    db.session.commit()

    response = Browser(app, staff).post(_run_url(edition, station), data=_form(email="exit@example.com"))

    assert 'data-kiosk="done"' in response.get_data(as_text=True)
    [scan] = db.session.scalars(select(Scan))
    assert scan.gate == f"kiosk:{station}" and scan.result == "ok" and scan.direction != "out"
    assert scan.admitted_on is not None


def test_the_lost_badge_button_needs_manage_registrations(app, desk, monkeypatch):
    from expo.core import permissions

    edition, staff, _alice, _bob = desk
    browser = Browser(app, staff)
    url = f"/org/editions/{edition.id}/desk"
    assert "Lost badge" in browser.get(url, query_string={"q": "alice"}).get_data(as_text=True)
    real = permissions.registry.role_permissions()
    limited = {role: tuple(p for p in perms if not (role == "onsite" and p == "manage_registrations"))
               for role, perms in real.items()}
    monkeypatch.setattr(permissions.registry, "role_permissions", lambda: limited)
    html = browser.get(url, query_string={"q": "alice"}).get_data(as_text=True)
    assert "Print badge" in html and "Lost badge" not in html


def _queue_two(browser, edition, alice, bob):
    _print(browser, edition, alice.id)
    _print(browser, edition, bob.id)
    return list(db.session.scalars(select(PrintJob).order_by(PrintJob.id)))


def test_mark_these_printed_skips_jobs_removed_meanwhile_and_says_so(app, desk):
    edition, staff, alice, bob = desk
    browser = Browser(app, staff)
    jobs = _queue_two(browser, edition, alice, bob)
    _print(browser, edition, alice.id, reissue="1")  # a reissue removes Alice's waiting job meanwhile

    response = browser.post(f"/org/editions/{edition.id}/print-queue/update",
                            data={"job": [j.id for j in jobs], "action": "printed"})

    assert response.status_code == 302
    statuses = {j.id: db.session.get(PrintJob, j.id).status for j in jobs}
    assert statuses == {jobs[0].id: "cancelled", jobs[1].id: "printed"}
    page = browser.get(f"/org/editions/{edition.id}/print-queue").get_data(as_text=True)
    assert "Badges marked printed: 1." in page and "Left as they are" in page and "Alice Walker" in page


def test_update_jobs_reports_what_it_skipped(app, desk):
    edition, staff, alice, bob = desk
    jobs = _queue_two(Browser(app, staff), edition, alice, bob)
    first = kiosk.update_jobs(staff, edition, [str(jobs[0].id)], "printed")
    db.session.commit()
    again = kiosk.update_jobs(staff, edition, [str(j.id) for j in jobs], "printed")
    db.session.commit()
    assert [j.id for j in first.changed] == [jobs[0].id] and first.skipped == []
    assert [j.id for j in again.changed] == [jobs[1].id] and [j.id for j in again.skipped] == [jobs[0].id]
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "badge.printed")) == 2


def _users(make, edition, n):
    organizer = db.session.get(Organizer, edition.organizer_id)
    users = [make.user("onsite", organizer) for _ in range(n)]
    db.session.commit()
    return [u.id for u in users]


def _in_thread_world(user_id, edition_id):
    from expo.core.models import Edition

    return db.session.get(User, user_id), db.session.get(Edition, edition_id)


@pytest.mark.parametrize("actions", [("printed", "printed"), ("printed", "failed")])
def test_two_clicks_on_one_job_at_once_record_one_move(app, make, desk, actions):
    """Locked jobs: one move from "queued", one "printed" line on the timeline, whatever two desks click."""
    edition, staff, _alice, _bob = desk
    browser = Browser(app, staff)
    guests = [make.registration(edition, name=f"Guest {n}", email=f"guest{n}@example.com") for n in range(3)]
    db.session.commit()
    for guest in guests:
        _print(browser, edition, guest.id)
    rounds = [(job.id, job.registration_id) for job in db.session.scalars(select(PrintJob).order_by(PrintJob.id))]
    edition_id = edition.id
    user_ids = _users(make, edition, 2)
    db.session.remove()

    for job_id, registration_id in rounds:
        def work(i, job_id=job_id):
            user, edition = _in_thread_world(user_ids[i], edition_id)
            return kiosk.update_jobs(user, edition, [str(job_id)], actions[i])

        results, errors = _race(app, 2, work)
        assert errors == [], errors
        moves = [e.details for e in db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "printjob.status", AuditEntry.object_id == job_id))]
        assert [m["from"] for m in moves] == ["queued"], moves
        assert sum(len(r.changed) for r in results) == 1 and sum(len(r.skipped) for r in results) == 1
        printed = db.session.scalar(select(func.count(AuditEntry.id)).where(
            AuditEntry.action == "badge.printed", AuditEntry.object_id == registration_id))
        assert printed == (1 if db.session.get(PrintJob, job_id).status == "printed" else 0)
        timeline = db.session.scalar(select(func.count(Activity.id)).where(
            Activity.kind == "badge.printed", Activity.object_id == registration_id))
        assert timeline == printed


def test_a_retry_racing_a_desk_print_is_a_sentence_not_a_500(app, make, desk):
    """"Retry" on a failed job while the desk queues the same visitor: the unique index decides, the loser
    gets a ServiceError (a flash), never an IntegrityError."""
    edition, staff, alice, _bob = desk
    browser = Browser(app, staff)
    _print(browser, edition, alice.id)
    failed = db.session.scalar(select(PrintJob))
    browser.post(f"/org/editions/{edition.id}/print-queue/update", data={"job": failed.id, "action": "failed"})
    job_id, edition_id, registration_id = failed.id, edition.id, alice.id
    user_ids = _users(make, edition, 2)
    db.session.remove()
    queued_open = threading.Event()
    outcome = {}

    def desk_side():
        with app.app_context(), app.test_request_context():
            try:
                user, edition = _in_thread_world(user_ids[0], edition_id)
                kiosk.desk_print(user, edition, str(registration_id), request_key=_key(), station="D")
                db.session.flush()
                queued_open.set()
                threading.Event().wait(1.0)  # the retry runs meanwhile (on PostgreSQL it waits on the index)
                db.session.commit()
            finally:
                queued_open.set()
                db.session.remove()

    def retry_side():
        with app.app_context(), app.test_request_context():
            try:
                queued_open.wait(10)
                user, edition = _in_thread_world(user_ids[1], edition_id)
                outcome["result"] = kiosk.update_jobs(user, edition, [str(job_id)], "retry")
                db.session.commit()
            except Exception as error:  # noqa: BLE001 - the test checks what was raised
                db.session.rollback()
                outcome["error"] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=desk_side), threading.Thread(target=retry_side)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert isinstance(outcome.get("error"), kiosk.ServiceError), outcome
    assert "queue" in str(outcome["error"])
    assert db.session.get(PrintJob, job_id).status == "failed"
    assert db.session.scalar(select(func.count(PrintJob.id)).where(PrintJob.status == "queued")) == 1


def test_two_desks_opening_all_waiting_at_once_never_print_the_same_badge(app, make, desk):
    """Each PDF claims its jobs ("printing", who, when): two desks at the same moment split them."""
    edition, staff, alice, bob = desk
    browser = Browser(app, staff)
    more = [make.registration(edition, name=f"Guest {n}", email=f"guest{n}@example.com") for n in range(4)]
    db.session.commit()
    for registration in (alice, bob, *more):
        _print(browser, edition, registration.id)
    job_ids = list(db.session.scalars(select(PrintJob.id).order_by(PrintJob.id)))
    edition_id = edition.id
    user_ids = _users(make, edition, 2)
    db.session.remove()

    def work(i):
        user, edition = _in_thread_world(user_ids[i], edition_id)
        pdf, jobs = kiosk.jobs_pdf(user, edition, [str(j) for j in job_ids])
        return user.id, [job.id for job in jobs], pdf

    results, errors = _race(app, 2, work)

    assert errors == [], errors
    printed = [job_id for _user, ids, _pdf in results for job_id in ids]
    assert sorted(printed) == job_ids  # every badge once, none twice
    for user_id, ids, pdf in results:
        assert (pdf == b"") == (ids == [])
        for job in db.session.scalars(select(PrintJob).where(PrintJob.id.in_(ids))):
            assert (job.status, job.claimed_by_id) == ("printing", user_id) and job.claimed_at is not None
    assert count(Scan) == 0


def test_a_claimed_job_is_left_out_for_other_desks_until_it_times_out_or_fails(app, make, desk):
    edition, staff, alice, bob = desk
    browser = Browser(app, staff)
    jobs = _queue_two(browser, edition, alice, bob)
    [other_id] = _users(make, edition, 1)
    other = db.session.get(User, other_id)
    other_browser = Browser(app, other)
    pdf_url = f"/org/editions/{edition.id}/print-queue/badges.pdf"

    mine = browser.get(pdf_url, query_string={"job": jobs[0].id})
    assert mine.mimetype == "application/pdf"
    assert _decode_pdf(other_browser.get(pdf_url).data) == [visitors.badge_code(bob)]  # Alice's is being printed
    assert browser.get(pdf_url, query_string={"job": jobs[0].id}).mimetype == "application/pdf"  # mine again
    refused = other_browser.get(pdf_url, query_string={"job": jobs[0].id})
    assert refused.status_code == 302
    page = browser.get(f"/org/editions/{edition.id}/print-queue").get_data(as_text=True)
    assert "Being printed" in page and 'id="queue-mark-all"' in page

    # The claim times out: any desk may print it again.
    job = db.session.get(PrintJob, jobs[0].id)
    job.claimed_at = job.claimed_at - kiosk.timedelta(seconds=kiosk.CLAIM_SECONDS + 1)
    db.session.commit()
    assert _decode_pdf(other_browser.get(pdf_url, query_string={"job": jobs[0].id}).data) == [
        visitors.badge_code(alice)]
    db.session.refresh(job)
    assert job.claimed_by_id == other_id

    # "Failed" releases it; "Retry" puts it back in the queue for anyone.
    url = f"/org/editions/{edition.id}/print-queue/update"
    other_browser.post(url, data={"job": job.id, "action": "failed", "failure": "jam"})
    other_browser.post(url, data={"job": job.id, "action": "retry"})
    db.session.refresh(job)
    assert (job.status, job.claimed_by_id, job.claimed_at) == ("queued", None, None)
    assert count(Scan) == 0


def test_a_desk_print_while_the_badge_is_being_printed_queues_nothing_more(app, desk):
    edition, staff, alice, _bob = desk
    browser = Browser(app, staff)
    _print(browser, edition, alice.id)
    browser.get(f"/org/editions/{edition.id}/print-queue/badges.pdf")
    _print(browser, edition, alice.id)
    assert [j.status for j in db.session.scalars(select(PrintJob))] == ["printing"]


def test_kiosk_mode_locks_the_session_to_the_kiosk_until_staff_end_it(app, make, desk):
    """Started kiosk mode: the tablet's session reaches the kiosk form only (not the desk, the visitors, the
    queue) until a staff member of the organizer signs with email and password."""
    edition, staff, _alice, _bob = desk
    browser = Browser(app, staff)
    base = f"/org/editions/{edition.id}"
    started = browser.post(f"{base}/kiosk/start", data={"station": "Hall 1"})
    assert redirect_path(started) == f"{base}/kiosk/run"

    for page in ("desk?q=alice", "print-queue", "kiosk", "registrations", ""):
        response = browser.get(f"{base}/{page}")
        assert response.status_code == 302 and redirect_path(response) == f"{base}/kiosk/run", page
    assert redirect_path(browser.get("/org")) == f"{base}/kiosk/run"
    other = make.edition(db.session.get(Organizer, edition.organizer_id), name="Other edition")
    db.session.commit()
    assert redirect_path(browser.get(f"/org/editions/{other.id}/kiosk/run")) == f"{base}/kiosk/run"
    run = browser.get(f"{base}/kiosk/run?station=Hall+1")
    assert run.status_code == 200 and 'id="kiosk-exit"' in run.get_data(as_text=True)
    assert 'data-kiosk="done"' in browser.post(_run_url(edition, "Hall 1"), data=_form()).get_data(as_text=True)

    # A wrong password (or another organizer's staff, or a visitor) does not end it.
    stranger = make.user("onsite", make.organizer(), email="stranger@example.com")
    db.session.commit()
    for email, password in (("nobody@example.com", "x"), (staff.email, "wrong password"),
                            ("stranger@example.com", PASSWORD)):
        wrong = browser.post(f"{base}/kiosk/exit", data={"email": email, "password": password})
        assert wrong.status_code == 200 and "Wrong email or password" in wrong.get_data(as_text=True)
    assert redirect_path(browser.get(f"{base}/desk")) == f"{base}/kiosk/run"
    assert stranger.id  # used

    ended = browser.post(f"{base}/kiosk/exit", data={"email": staff.email, "password": PASSWORD})
    assert redirect_path(ended) == f"{base}/kiosk"
    assert browser.get(f"{base}/desk").status_code == 200


def test_kiosk_mode_is_not_started_by_opening_the_kiosk_page(app, desk):
    edition, staff, _alice, _bob = desk
    browser = Browser(app, staff)
    assert browser.get(_run_url(edition)).status_code == 200
    assert browser.get(f"/org/editions/{edition.id}/desk").status_code == 200


def test_guessing_the_kiosk_exit_password_is_limited_like_a_sign_in(app, desk, monkeypatch):
    """The exit page takes a staff password at a tablet anyone can walk up to: failures count toward the sign-in
    limits (per account and per address) and end in 429; the right password before the limit still works."""
    monkeypatch.setitem(app.config, "SIGN_IN_LIMIT_PER_ACCOUNT", "3 per 15 minutes")
    edition, staff, _alice, _bob = desk
    browser = Browser(app, staff)
    base = f"/org/editions/{edition.id}"
    browser.post(f"{base}/kiosk/start", data={"station": "Hall 1"})
    for _ in range(3):
        wrong = browser.post(f"{base}/kiosk/exit", data={"email": staff.email, "password": "guess"})
        assert wrong.status_code == 200
    assert browser.post(f"{base}/kiosk/exit", data={"email": staff.email, "password": PASSWORD}).status_code == 429
    assert redirect_path(browser.get(f"{base}/desk")) == f"{base}/kiosk/run"  # still locked
