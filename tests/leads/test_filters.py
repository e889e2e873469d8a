"""The lead list's filters — rating (not yet rated too), captured by, scanned on, an answer, a search on name and
company — in the URL, shown as removable chips, counted, and carried into every export; junk in the URL shows a
wider list, never an error."""
from __future__ import annotations

import csv
import html
import io
import re
from datetime import datetime, time, timedelta
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from expo.core.models import AuditEntry
from expo.extensions import db
from expo.leads import questions as lq
from expo.leads import services as lead_services
from expo.leads.models import Lead

from ..conftest import Browser

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def booth(make):
    t = make.tenant("A", leads=False, visitors=0)
    admin, staff = t.users["exhibitor_admin"], t.users["booth_staff"]
    lq.save_question(t.exhibitor, lq.QuestionInput("single", "Budget", "预算", "low | Low | 低\nhigh | High | 高"),
                     actor_id=admin.id)
    lq.save_question(t.exhibitor, lq.QuestionInput("multi", "Products", "产品", "sofas | Sofas | 沙发\nbeds | Beds | 床"),
                     actor_id=admin.id)
    lq.save_question(t.exhibitor, lq.QuestionInput("text", "Next step", "下一步"), actor_id=admin.id)
    day0 = t.edition.starts_on

    def at(day: int, hour: int):
        return datetime.combine(day0 + timedelta(days=day), time(hour), ZONE)

    def lead(name, company, user, when, *, share=True, rating=None, answers=None):
        registration = make.registration(t.edition, name=name, company=company, share=share,
                                         email=f"{abs(hash(name)) % 10**8}@example.com")
        lead_id, _ = lead_services.capture_lead(t.exhibitor, registration, user, when)
        row = db.session.get(Lead, lead_id)
        lead_services.update_lead(row, rating=rating, notes="", answers=answers or {}, actor_id=user.id)
        return row

    t.a = lead("王小明", "佛山金雅家居有限公司", admin, at(0, 10), rating="hot",
               answers={"budget": "high", "products": ["sofas"]})
    t.b = lead("Anna Schmidt", "Möbel 50% GmbH", staff, at(1, 9), answers={"products": ["beds", "sofas"]})
    t.c = lead("Li Lei", "Hidden Co", staff, at(1, 15), share=False, rating="cold")
    t.d = lead("Zhang San", "Acme", admin, at(0, 16), rating="warm", answers={"next_step": "Quote"})
    lead_services.capture_lead(t.exhibitor, t.d.registration, staff, at(2, 11))  # a re-scan on day 3
    db.session.commit()
    t.day = lambda n: (day0 + timedelta(days=n)).isoformat()
    return t


def names(t, **args) -> set[str]:
    from werkzeug.datastructures import MultiDict

    filters = lead_services.LeadFilters.from_args(MultiDict(args.pop("multi", [])))
    listing = lead_services.lead_list(t.users["exhibitor_admin"], filters=filters, zone=ZONE, per_page=100)
    by_id = {t.a.id: "a", t.b.id: "b", t.c.id: "c", t.d.id: "d"}
    return {by_id[lead.id] for lead, _contact in listing.page.items}


@pytest.mark.parametrize("params, expected", [
    ([], {"a", "b", "c", "d"}),
    ([("rating", "none")], {"b"}),
    ([("rating", "hot"), ("rating", "none")], {"a", "b"}),
    ([("by", "BOOTH")], {"b", "c"}),
    ([("day", "DAY1")], {"b", "c"}),
    ([("day", "DAY2")], {"d"}),  # scanned again that day
    ([("day", "DAY0")], {"a", "d"}),
    ([("answer", "products:sofas")], {"a", "b"}),
    ([("answer", "products:beds")], {"b"}),
    ([("answer", "budget:*")], {"a"}),
    ([("answer", "next_step:*")], {"d"}),
    ([("answer", "products:sofas"), ("rating", "hot")], {"a"}),
    ([("q", "金雅")], {"a"}),
    ([("q", "schmidt")], {"b"}),  # any case
    ([("q", "50%")], {"b"}),  # % is a character, not a wildcard
    ([("q", "5_%")], set()),
    ([("q", "Hidden")], set()),  # the visitor does not share: not findable by what they keep to themselves
    ([("q", "Li Lei")], set()),
    ([("rating", "lukewarm"), ("by", "abc"), ("by", "99999999999"), ("day", "2026-02-30"), ("answer", "nokey"),
      ("answer", "x" * 300 + ":y"), ("q", "a\x00b")], {"a", "b", "c", "d"}),
])
def test_filters(booth, params, expected):
    params = [(k, v.replace("BOOTH", str(booth.users["booth_staff"].id)).replace("DAY0", booth.day(0))
               .replace("DAY1", booth.day(1)).replace("DAY2", booth.day(2))) for k, v in params]
    assert names(booth, multi=params) == expected


def test_booth_staff_filter_within_their_own(booth):
    from werkzeug.datastructures import MultiDict

    staff = booth.users["booth_staff"]
    listing = lead_services.lead_list(staff, filters=lead_services.LeadFilters.from_args(
        MultiDict([("answer", "products:sofas")])), zone=ZONE)
    assert [lead.id for lead, _c in listing.page.items] == [booth.b.id]
    # the admin's captures are not theirs, even asked for by name
    listing = lead_services.lead_list(staff, filters=lead_services.LeadFilters.from_args(
        MultiDict([("by", str(booth.users["exhibitor_admin"].id))])), zone=ZONE)
    assert listing.page.items == []


def test_the_page_shows_chips_counts_and_keeps_the_view_in_its_links(app, booth):
    admin = Browser(app, booth.users["exhibitor_admin"])
    url = f"/portal/leads?answer=products:sofas&day={booth.day(1)}&q=Anna"
    page = html.unescape(admin.get(url).get_data(as_text=True))
    assert "1 of 4 leads" in page
    chips = re.findall(r'<a class="filter-chip" href="([^"]*)"[^>]*>([^<]*)<', page)
    texts = [text for _href, text in chips]
    assert texts == [f"Scanned on: {booth.day(1)}", "Products: Sofas", "Search: Anna"]
    # each chip removes its own filter and keeps the others
    for href, text in chips:
        kept = dict(parse_qsl(urlsplit(href).query))
        assert len(kept) == 2 and not any(v in text for v in kept.values() if len(v) > 3)
    # counts by rating under the other filters
    assert re.search(r"Not rated <span class=\"count\">1</span>", page)
    # the exports carry the view
    for export in ("export-csv", "export-xlsx", "export-salesforce", "export-hubspot", "export-vcf"):
        href = re.search(rf'id="{export}" href="([^"]*)"', page).group(1)
        query = parse_qsl(urlsplit(href).query)
        assert ("answer", "products:sofas") in query and ("day", booth.day(1)) in query and ("q", "Anna") in query
    # the form offers what can be filtered: staff, days, answers
    assert 'name="by"' in page and 'name="day"' in page and 'value="products:sofas" selected' in page
    # booth staff get no "captured by" choice (they see their own captures only)
    staff_page = Browser(app, booth.users["booth_staff"]).get("/portal/leads").get_data(as_text=True)
    assert 'name="by"' not in staff_page and "2 of 2 leads" in staff_page


def test_junk_in_the_url_is_no_error(app, booth):
    admin = Browser(app, booth.users["exhibitor_admin"])
    for query in ("rating=%00", "by=-1&by=1e9", "day=9999-99-99", "answer=%3A%3A", "q=" + "x" * 5000,
                  "answer=budget:high&answer=budget:low", "page=999"):
        assert admin.get(f"/portal/leads?{query}").status_code in (200, 400), query
        assert admin.get(f"/portal/leads.csv?{query}").status_code in (200, 400), query


def test_exports_hold_what_the_list_shows(app, booth):
    admin = Browser(app, booth.users["exhibitor_admin"])
    response = admin.get("/portal/leads.csv?rating=none&rating=hot")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))
    assert sorted(r[0] for r in rows[1:]) == ["Anna Schmidt", "王小明"]
    # a column per question, answers as words
    header = rows[0]
    assert header[-3:] == ["Budget", "Products", "Next step"]
    anna = next(r for r in rows if r[0] == "Anna Schmidt")
    assert anna[-3:] == ["", "Sofas, Beds", ""]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "leads.exported")).one()
    assert entry.details["rows"] == 2 and entry.details["filters"] == ["rating=none", "rating=hot"]


HOSTILE_IDS = ["%C2%B2", "%D9%A3", "1" * 5000, "0", "-1", "2147483648", "+1", "%201"]  # ², Arabic-Indic 3


@pytest.mark.parametrize("value", HOSTILE_IDS)
def test_hostile_ids_show_a_wider_list_never_an_error(app, booth, value):
    """``by`` and the vCards' ``ids``: "²" is a digit to str.isdigit() but no number to int(), 5,000 digits are
    beyond int()'s limit — the filter is dropped (by) or the selection is empty (ids), never a 500."""
    admin = Browser(app, booth.users["exhibitor_admin"])
    for url in (f"/portal/leads?by={value}", f"/portal/leads.csv?by={value}", f"/portal/leads.xlsx?by={value}",
                f"/portal/leads.vcf?by={value}", f"/portal/leads.xlsx?preset=salesforce&by={value}"):
        assert admin.get(url).status_code == 200, url
    page = admin.get(f"/portal/leads?by={value}").get_data(as_text=True)
    assert "王小明" in page and "Anna Schmidt" in page and "Zhang San" in page  # the filter dropped: every lead
    assert admin.get(f"/portal/leads.vcf?ids={value}").status_code == 404
    # a good id beside it still counts
    response = admin.get(f"/portal/leads.vcf?ids={value}&ids={booth.a.id}")
    assert response.status_code == 200 and "王小明" in response.get_data(as_text=True)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/Los_Angeles", "Pacific/Kiritimati", "Etc/GMT+12"])
@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-02", "9999-12-30", "9999-12-31"])
def test_days_at_the_edges_of_the_calendar_are_dropped_never_an_error(app, booth, zone, day):
    """A day whose span in UTC overflows datetime (0001-01-01 east of UTC, 9999-12-31 west of it): the filter
    is dropped — the whole list, not a 500 — on the list and every export."""
    booth.edition.timezone = zone
    db.session.commit()
    admin = Browser(app, booth.users["exhibitor_admin"])
    for url in (f"/portal/leads?day={day}", f"/portal/leads.csv?day={day}", f"/portal/leads.xlsx?day={day}",
                f"/portal/leads.vcf?day={day}", f"/portal/leads.xlsx?preset=hubspot&day={day}"):
        assert admin.get(url).status_code in (200, 302), url
    from werkzeug.datastructures import MultiDict

    filters = lead_services.LeadFilters.from_args(MultiDict([("day", day)]))
    assert filters.days == [] or filters.days[0] in (lead_services.FIRST_DAY, lead_services.LAST_DAY)
    listing = lead_services.lead_list(booth.users["exhibitor_admin"], filters=filters, zone=ZoneInfo(zone))
    assert listing.page.items == [] or not filters.days


def test_parse_id():
    from expo.core.services import MAX_DB_INT, parse_id

    assert parse_id("1") == 1 and parse_id("0042") == 42 and parse_id(str(MAX_DB_INT)) == MAX_DB_INT
    for junk in ("²", "٣", "1" * 5000, "0", "-1", "+1", " 1", "1 ", "1.0", "1e3", "", str(MAX_DB_INT + 1),
                 "99999999999", None, 7, b"1", "\x001"):
        assert parse_id(junk) is None, junk


def test_chips_are_whole_translatable_sentences(app, booth, monkeypatch):
    """Each chip's words come from one msgid with placeholders ("Rating: %(value)s", "%(label)s: %(value)s"),
    never a translated word glued to an ASCII colon (which reads "评级: 热" in Chinese)."""
    from werkzeug.datastructures import MultiDict

    def marked(msgid, **values):
        return "⟦" + (msgid % values if values else msgid) + "⟧"

    monkeypatch.setattr(lead_services, "_l", marked)
    with app.test_request_context():
        filters = lead_services.LeadFilters.from_args(MultiDict([
            ("rating", "hot"), ("rating", "none"), ("by", str(booth.users["booth_staff"].id)),
            ("day", booth.day(1)), ("answer", "products:sofas"), ("answer", "budget:*"), ("q", "Anna")]))
        chips = lead_services.filter_chips(filters, lead_services.filter_options(
            booth.users["exhibitor_admin"], booth.exhibitor))
    assert len(chips) == 7
    for _param, _value, words in chips:
        # one sentence: the outermost marks wrap the whole text (inner ones are values, e.g. "Not rated")
        assert words.startswith("⟦") and words.endswith("⟧") and not re.search(r"⟧[^⟦⟧]*⟦", words.replace(
            "⟦Not rated⟧", "").replace("⟦answered⟧", "")), words


def test_the_vcard_note_and_crm_description_are_whole_sentences(app, booth, monkeypatch):
    calls = []
    real = lead_services._l

    def recording(msgid, **values):
        calls.append(msgid)
        return real(msgid, **values)

    monkeypatch.setattr(lead_services, "_l", recording)
    with app.test_request_context():
        lead_services.lead_vcards(booth.users["exhibitor_admin"], [booth.a], edition_name="Expo", zone=ZONE)
    assert "Rating: %(value)s" in calls and "%(label)s: %(value)s" in calls
    assert "Rating" not in calls
