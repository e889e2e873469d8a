"""The two scan pages without JavaScript: the entrance check-in page /org/editions/<id>/checkin and the
booth scanner /portal/scan are plain server-rendered forms; a scanner that types the code and presses
Enter gets the verdict, and the page lists the recent scans (newest first, date and time in the edition's
time zone, the visitor's name as far as the scanner may see it)."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

from sqlalchemy import func, select

from expo.core.models import Organizer
from expo.extensions import db
from expo.leads.models import Lead
from expo.onsite import services as onsite_services
from expo.onsite.models import SCAN_REASON, SCAN_RESULT, Scan
from expo.visitors import services as visitor_services

from ..conftest import login


def _scan_form(page: str) -> str:
    """The HTML of the scan form, from its opening tag to its end."""
    start = page.rindex("<form", 0, page.index('id="scan-form"'))
    return page[start:page.index("</form>", start)]


def _hidden(page: str) -> dict[str, str]:
    """The hidden inputs of the scan form, as a browser would submit them."""
    form = _scan_form(page)
    out = {}
    for tag in re.findall(r"<input[^>]*>", form):
        if 'type="hidden"' in tag:
            name = re.search(r'name="([^"]+)"', tag).group(1)
            value = re.search(r'value="([^"]*)"', tag)
            out[name] = html.unescape(value.group(1)) if value else ""
    return out


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _verdict(page: str) -> str:
    """The text of the #scan-result verdict band only (the page also carries every label for the script);
    empty while no scan was made."""
    start = page.index('id="scan-result"')
    panel = page[start:page.index("</section>", start)]
    if 'class="verdict"' not in panel:
        return ""
    return _text(panel[panel.index(">") + 1:])


def _recent(page: str) -> list[list[str]]:
    """The rows of the recent-scans strip, top to bottom, as [time, visitor, result, reason] texts."""
    table = page[page.index('id="recent-scans"'):]
    table = table[table.index("<tbody>"):table.index("</table>")]
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = dict(re.findall(r'<td class="scan-(\w+)">(.*?)</td>', row, re.S))
        result = re.search(r'<span class="chip[^"]*">(.*?)</span>', cells["what"], re.S)
        reason = re.search(r'<span class="scan-reason">(.*?)</span>', cells["what"], re.S)
        rows.append([_text(cells["when"]), _text(cells["who"]), _text(result.group(1)) if result else "",
                     _text(reason.group(1)) if reason else ""])
    return rows


def _code_errors(page: str) -> list[str]:
    form = _scan_form(page)
    return [html.unescape(e) for e in re.findall(r'<span class="error">(.*?)</span>', form, re.S)]


def OK() -> str:  # noqa: N802 - the verdict words, from the scan_result status type
    return SCAN_RESULT.label("ok")


def AGAIN() -> str:  # noqa: N802
    return SCAN_RESULT.label("duplicate")


def REFUSED() -> str:  # noqa: N802
    return SCAN_RESULT.label("refused")


def NOT_A_BADGE() -> str:  # noqa: N802
    return SCAN_REASON.label("malformed")


class ScanPage:
    """A scanner at a browser without JavaScript: load the page, type a code, press Enter."""

    def __init__(self, client, url):
        self.client, self.url = client, url
        self.page = self.get()

    def get(self) -> str:
        response = self.client.get(self.url)
        assert response.status_code == 200, response.status_code
        self.page = response.get_data(as_text=True)
        return self.page

    def submit(self, code: str, *, gate: str | None = None, fields: dict | None = None) -> str:
        fields = fields or _hidden(self.page)
        data = {**fields, "code": code}
        if gate is not None:
            data["gate"] = gate
        response = self.client.post(self.url, data=data)
        assert response.status_code == 200, response.get_data(as_text=True)
        self.last_fields = fields
        self.page = response.get_data(as_text=True)
        return self.page


def _scan_count(**where) -> int:
    db.session.expire_all()
    stmt = select(func.count(Scan.id))
    for key, value in where.items():
        stmt = stmt.where(getattr(Scan, key) == value)
    return db.session.scalar(stmt)


def _onsite_desk(app, client, make):
    edition = make.edition()
    onsite = make.user("onsite", db.session.get(Organizer, edition.organizer_id))
    registration = make.registration(edition, name="王小明", company="深圳宏达家具有限公司")
    code = visitor_services.badge_code(registration)
    db.session.commit()
    login(client, onsite)
    return edition, onsite, registration, code, ScanPage(client, f"/org/editions/{edition.id}/checkin")


# --- entrance check-in ----------------------------------------------------------------------------

def test_checkin_page_is_a_form_that_works_without_javascript(app, client, make):
    edition, _onsite, _registration, _code, desk = _onsite_desk(app, client, make)

    form = _scan_form(desk.page)
    assert 'method="post"' in form
    assert f'action="/org/editions/{edition.id}/checkin"' in form
    assert 'name="code"' in form and 'name="gate"' in form
    # a visible submit button: with two text fields (code, gate) a form without one ignores Enter
    assert re.search(r'<button type="submit"', form) and "<noscript>" not in form
    fields = _hidden(desk.page)
    assert fields["csrf_token"] and fields["client_scan_id"]
    assert _verdict(desk.page) == ""
    assert _recent(desk.page) == []


def test_checkin_page_admits_a_valid_badge_and_shows_the_visitor(app, client, make):
    edition, onsite, registration, code, desk = _onsite_desk(app, client, make)
    scan_id = _hidden(desk.page)["client_scan_id"]

    page = desk.submit(code, gate="North 1")

    verdict = _verdict(page)
    assert verdict.startswith(OK()), verdict
    assert "王小明" in verdict and "深圳宏达家具有限公司" in verdict
    scan = db.session.scalar(select(Scan).where(Scan.user_id == onsite.id))
    assert (scan.kind, scan.result, scan.reason) == ("checkin", "ok", None)
    assert scan.client_scan_id == scan_id
    assert scan.gate == "North 1"
    assert scan.registration_id == registration.id
    assert scan.edition_id == edition.id
    # the page is ready for the next badge: empty input, a fresh scan id
    assert _hidden(page)["client_scan_id"] != scan_id
    assert re.search(r'<input[^>]*name="code"[^>]*value="[^"]+"', page) is None


def test_checkin_page_same_badge_again_shows_already_scanned(app, client, make):
    _edition, onsite, _registration, code, desk = _onsite_desk(app, client, make)
    desk.submit(code)

    page = desk.submit(code)  # a new client_scan_id: the page issued a fresh one

    assert _verdict(page).startswith(AGAIN()), _verdict(page)
    assert "王小明" in _verdict(page)
    assert _scan_count(user_id=onsite.id) == 2
    assert [s.result for s in db.session.scalars(select(Scan).order_by(Scan.id))] == ["ok", "duplicate"]


def test_checkin_page_refuses_garbage_as_not_a_badge_code(app, client, make):
    _edition, onsite, _registration, _code, desk = _onsite_desk(app, client, make)

    page = desk.submit("hello, I am not a badge")

    verdict = _verdict(page)
    assert verdict.startswith(REFUSED()), verdict
    assert NOT_A_BADGE() in verdict
    assert "王小明" not in verdict
    scan = db.session.scalar(select(Scan).where(Scan.user_id == onsite.id))
    assert (scan.result, scan.reason, scan.raw_code) == ("refused", "malformed", "hello, I am not a badge")


def test_checkin_page_browser_resubmit_of_the_same_scan_is_stored_once(app, client, make):
    _edition, onsite, _registration, code, desk = _onsite_desk(app, client, make)
    fields = _hidden(desk.page)

    first = desk.submit(code, fields=fields)
    again = desk.submit(code, fields=fields)  # F5 / "resend form data": the very same client_scan_id

    assert _scan_count(user_id=onsite.id) == 1
    # the replay answers what the first submit answered, not "Already scanned"
    assert _verdict(first).startswith(OK())
    assert _verdict(again).startswith(OK()), _verdict(again)
    assert len(_recent(again)) == 1


def test_checkin_page_recent_scans_table_lists_the_scans_newest_first(app, client, make):
    _edition, _onsite, _registration, code, desk = _onsite_desk(app, client, make)
    desk.submit(code)
    desk.submit(code)
    page = desk.submit("garbage")

    rows = _recent(page)
    assert [row[2:] for row in rows] == [[REFUSED(), NOT_A_BADGE()], [AGAIN(), ""], [OK(), ""]]
    assert [row[1] for row in rows] == ["—", "王小明", "王小明"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", row[0]) for row in rows), rows
    # and the table is there on a plain reload too
    assert [row[2] for row in _recent(desk.get())] == [REFUSED(), AGAIN(), OK()]


def test_checkin_recent_scans_newest_first_by_scan_time_with_date_time_in_edition_zone_and_name(app, client, make):
    edition = make.edition(timezone="Asia/Shanghai")
    onsite = make.user("onsite", db.session.get(Organizer, edition.organizer_id))
    early = make.registration(edition, name="早到的人")
    late = make.registration(edition, name="Late Comer")
    db.session.commit()
    # a device uploads its offline scans after a live one: the stored order is not the order of the scans
    onsite_services.record_scan(onsite, code=visitor_services.badge_code(late), kind="checkin",
                                client_scan_id="live-1", scanned_at="2026-03-01T23:30:05Z", edition_id=edition.id)
    onsite_services.record_scan(onsite, code=visitor_services.badge_code(early), kind="checkin",
                                client_scan_id="offline-1", scanned_at="2026-03-01T15:59:59Z",
                                edition_id=edition.id)
    onsite_services.record_scan(onsite, code="junk", kind="checkin", client_scan_id="offline-2",
                                scanned_at="2026-03-01T16:00:00Z", edition_id=edition.id)
    db.session.commit()
    login(client, onsite)

    rows = _recent(ScanPage(client, f"/org/editions/{edition.id}/checkin").page)

    # Shanghai is UTC+8: 23:30:05Z is the next morning there, 15:59:59Z the same day's last second
    assert rows == [["2026-03-02 07:30:05", "Late Comer", OK(), ""],
                    ["2026-03-02 00:00:00", "—", REFUSED(), NOT_A_BADGE()],
                    ["2026-03-01 23:59:59", "早到的人", OK(), ""]]


def test_checkin_page_empty_code_shows_a_field_error_and_stores_nothing(app, client, make):
    _edition, _onsite, _registration, _code, desk = _onsite_desk(app, client, make)

    page = desk.submit("")

    assert _code_errors(page) == ["This field is required."]
    assert _verdict(page) == ""
    assert _scan_count() == 0
    assert _recent(page) == []


# --- booth scanner ---------------------------------------------------------------------------------

def _booth(app, client, make, *, share=True):
    edition = make.edition()
    exhibitor = make.exhibitor(edition, "Nordic Home Ltd.")
    staff = make.user("booth_staff", exhibitor=exhibitor)
    registration = make.registration(edition, name="Sophie Dubois", company="Maison Dubois", share=share)
    code = visitor_services.badge_code(registration)
    db.session.commit()
    login(client, staff)
    return edition, exhibitor, staff, registration, code, ScanPage(client, "/portal/scan")


def test_booth_scanner_page_stores_a_lead_and_shows_the_verdict(app, client, make):
    _edition, exhibitor, staff, registration, code, booth = _booth(app, client, make)
    form = _scan_form(booth.page)
    assert 'action="/portal/scan"' in form and re.search(r'<button type="submit"', form)
    assert 'name="gate"' not in form  # gates are the entrance's business

    page = booth.submit(code)

    verdict = _verdict(page)
    assert verdict.startswith(OK()), verdict
    assert "Sophie Dubois" in verdict and "Maison Dubois" in verdict
    lead = db.session.scalar(select(Lead).where(Lead.exhibitor_id == exhibitor.id))
    assert lead is not None
    assert (lead.registration_id, lead.captured_by_id, lead.scan_count) == (registration.id, staff.id, 1)
    scan = db.session.scalar(select(Scan).where(Scan.user_id == staff.id))
    assert (scan.kind, scan.result, scan.lead_id, scan.exhibitor_id) == ("lead", "ok", lead.id, exhibitor.id)
    assert [row[1:] for row in _recent(page)] == [["Sophie Dubois", OK(), ""]]


def test_booth_scanner_page_rescan_updates_the_one_lead(app, client, make):
    _edition, exhibitor, _staff, _registration, code, booth = _booth(app, client, make)
    booth.submit(code)

    page = booth.submit(code)

    assert "Sophie Dubois" in _verdict(page)
    leads = list(db.session.scalars(select(Lead).where(Lead.exhibitor_id == exhibitor.id)))
    assert len(leads) == 1 and leads[0].scan_count == 2
    assert _scan_count(kind="lead") == 2
    assert len(_recent(page)) == 2


def test_booth_scanner_page_hides_contact_details_the_visitor_did_not_share(app, client, make):
    *_rest, code, booth = _booth(app, client, make, share=False)

    verdict = _verdict(booth.submit(code))

    assert "Contact details not shared" in verdict
    assert "Sophie Dubois" not in verdict and "Maison Dubois" not in verdict


def test_booth_recent_scans_name_only_visitors_who_share_their_contact_details(app, client, make):
    edition, _exhibitor, staff, _registration, code, booth = _booth(app, client, make)
    private = make.registration(edition, name="Private Person", company="Hidden Co", share=False)
    db.session.commit()
    onsite_services.record_scan(staff, code=code, kind="lead", client_scan_id="b-1",
                                scanned_at=datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc).isoformat())

    page = booth.submit(visitor_services.badge_code(private))

    rows = _recent(page)
    assert [row[1:3] for row in rows] == [["Contact details not shared", OK()], ["Sophie Dubois", OK()]]
    assert rows[1][0] == "2026-03-01 10:00:00"  # the edition's zone (Asia/Shanghai), not the server's UTC
    assert "Private Person" not in page and "Hidden Co" not in page


def test_booth_scanner_page_browser_resubmit_is_stored_once(app, client, make):
    *_rest, code, booth = _booth(app, client, make)
    fields = _hidden(booth.page)

    booth.submit(code, fields=fields)
    booth.submit(code, fields=fields)

    assert _scan_count(kind="lead") == 1
    assert db.session.scalar(select(Lead.scan_count)) == 1


def test_booth_scanner_page_refuses_garbage_and_stores_no_lead(app, client, make):
    *_rest, booth = _booth(app, client, make)

    page = booth.submit("https://example.com/not-a-badge")

    assert _verdict(page).startswith(REFUSED()) and NOT_A_BADGE() in _verdict(page)
    assert db.session.scalar(select(func.count(Lead.id))) == 0
    assert [row[1:] for row in _recent(page)] == [["—", REFUSED(), NOT_A_BADGE()]]


def test_booth_scanner_page_empty_code_shows_a_field_error_and_stores_nothing(app, client, make):
    *_rest, booth = _booth(app, client, make)

    page = booth.submit("   ")

    assert _code_errors(page) == ["This field is required."]
    assert _scan_count() == 0
    assert db.session.scalar(select(func.count(Lead.id))) == 0


def test_booth_scanner_recent_scans_show_only_this_exhibitors_scans(app, client, make):
    edition, _exhibitor, _staff, registration, code, booth = _booth(app, client, make)
    other = make.exhibitor(edition, "Competitor Co")
    other_staff = make.user("booth_staff", exhibitor=other)
    db.session.commit()

    onsite_services.record_scan(other_staff, code=code, kind="lead", client_scan_id="other-booth-1")
    onsite_services.record_scan(other_staff, code="junk", kind="lead", client_scan_id="other-booth-2")
    db.session.commit()

    assert _recent(booth.get()) == []
    booth.submit(code)
    assert [row[2] for row in _recent(booth.page)] == [OK()]


def test_booth_staff_see_only_their_own_recent_scans_the_admin_sees_all(app, make):
    """Booth staff see the leads they captured (not their colleagues'), on the scanner page too."""
    from ..conftest import Browser

    t = make.tenant("A", visitors=[("Own Capture", "own@example.com"), ("Colleague Capture", "col@example.com")],
                    leads=False)
    colleague = make.user("booth_staff", exhibitor=t.exhibitor, email="colleague.a@example.com")
    t.capture(t.users["booth_staff"], t.registrations[0])
    t.capture(colleague, t.registrations[1])
    db.session.commit()
    mine = Browser(app, t.users["booth_staff"]).get("/portal/scan").get_data(as_text=True)
    assert "Own Capture" in mine and "Colleague Capture" not in mine
    everything = Browser(app, t.users["exhibitor_admin"]).get("/portal/scan").get_data(as_text=True)
    assert "Own Capture" in everything and "Colleague Capture" in everything
