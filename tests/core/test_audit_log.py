"""The audit log reads like a log: action names in words, details as fields (Chinese stays Chinese), who by
name, when in the organizer's zone (stated), filtered by person, action and dates, paged "n of N"."""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from html import unescape

import pytest
from sqlalchemy import insert

from expo.core import services as core
from expo.core.models import AuditEntry, Organizer
from expo.core.registry import registry
from expo.core.scoping import Scope
from expo.extensions import db

from ..conftest import Browser, audit_guard_lifted

ZONE = "Asia/Shanghai"  # UTC+8: the organizer's editions are there


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def entry(organizer_id, action, at, user=None, details=None, object_type=None, object_id=None):
    row = AuditEntry(organizer_id=organizer_id, user_id=user.id if user else None, action=action, at=utc(at),
                     details=details or {}, object_type=object_type, object_id=object_id)
    db.session.add(row)
    return row


@pytest.fixture
def w(make):
    class World:
        pass

    w = World()
    w.edition = make.edition(name="深圳家具展 2026", timezone=ZONE)
    w.organizer_id = w.edition.organizer_id
    w.owner = core.create_user(w.organizer_id, "owner@log.example", "王芳", "correct-horse-9", "owner")
    w.manager = core.create_user(w.organizer_id, "manager@log.example", "Max Manager", "correct-horse-9", "manager")
    with audit_guard_lifted(db.session.connection()):  # start from a log built by hand
        db.session.execute(db.delete(AuditEntry))
    oid = w.organizer_id
    entry(oid, "user.login", "2026-06-09T15:59:00Z", w.manager)  # 23:59 on 9 June in Shanghai
    entry(oid, "user.login", "2026-06-09T16:00:00Z", w.owner)  # 00:00 on 10 June in Shanghai
    entry(oid, "exhibitor.created", "2026-06-10T02:00:00Z", w.manager,
          {"company": "北京华美家具有限公司", "edition_id": w.edition.id}, "exhibitors", 7)
    entry(oid, "edition.status", "2026-06-10T03:00:00Z", w.owner, {"from": "draft", "to": "live"}, "editions",
          w.edition.id)
    entry(oid, "registration.created", "2026-06-11T01:00:00Z", None,
          {"person_id": 3, "source": "online", "consent_version": "1"}, "registrations", 12)
    entry(oid, "user.login_failed", "2026-06-11T02:00:00Z", None, {"email": "张伟@example.cn"})
    entry(oid, "company.updated", "2026-06-11T03:00:00Z", w.manager, {"fields": ["name", "website"]},
          "companies", 4)
    entry(oid, "leads.exported", "2026-06-11T04:00:00Z", w.manager,
          {"exhibitor_id": 2, "rows": 15, "format": "xlsx", "contact_shared": True})
    entry(oid, "person.updated", "2026-06-11T04:30:00Z", w.manager,
          {"changes": {"name": ["王伟", "王小伟"], "email": [None, "wxw@example.cn"]}}, "persons", 3)
    entry(oid, "module.own_action", "2026-06-11T05:00:00Z", w.owner, {"note": "备注"})  # no name: its code
    # another organizer's entry, the same day
    other = make.organizer()
    entry(other.id, "user.login", "2026-06-10T05:00:00Z", None, {"email": "stranger@other.example"})
    db.session.commit()
    return w


def log(w, **filters):
    return core.audit_log(Scope(w.organizer_id), **filters)


def actions(result) -> list[str]:
    return [e.action for e in result.items]


# --- the service ---------------------------------------------------------------------------------------

def test_newest_first_only_the_own_organizer(w):
    result = log(w)
    assert result.total == 10
    assert actions(result)[:3] == ["module.own_action", "person.updated", "leads.exported"]
    assert actions(result)[-1] == "user.login"
    assert result.zone == ZONE


def test_filter_by_person_and_action(w):
    assert actions(log(w, user_id=w.owner.id)) == ["module.own_action", "edition.status", "user.login"]
    assert actions(log(w, action="user.login")) == ["user.login", "user.login"]
    assert log(w, user_id=w.manager.id, action="user.login").total == 1


def test_filter_by_dates_in_the_organizer_zone(w):
    # 10 June in Shanghai starts at 16:00 UTC on 9 June
    assert actions(log(w, since=date(2026, 6, 10), until=date(2026, 6, 10))) == [
        "edition.status", "exhibitor.created", "user.login"]
    assert actions(log(w, until="2026-06-09")) == ["user.login"]
    assert log(w, since="2026-06-11").total == 6
    # datetimes are taken as they are
    assert log(w, since=utc("2026-06-11T03:30:00Z")).total == 3
    # a bound that is not a date is no bound
    assert log(w, since="next tuesday", until="").total == 10


def test_paging(w):
    for n in range(120):
        entry(w.organizer_id, "badge.printed", "2026-06-12T02:00:00Z", w.owner, object_type="registrations",
              object_id=n)
    db.session.commit()
    first = log(w, action="badge.printed", page=1, per_page=50)
    last = log(w, action="badge.printed", page=3, per_page=50)
    assert (first.total, len(first.items), first.pagination.pages) == (120, 50, 3)
    assert len(last.items) == 20
    assert {e.id for e in first.items}.isdisjoint(e.id for e in last.items)
    past_the_end = log(w, page=99)  # shows the last page
    assert (past_the_end.pagination.page, len(past_the_end.items), past_the_end.total) == (3, 30, 130)
    assert log(w, per_page=100).pagination.per_page == 100
    assert log(w, per_page=100000).pagination.per_page == 50  # a size the list offers, not refused
    assert log(w, page=0, per_page=0).pagination.page == 1


def test_filter_by_record_ip_and_without_failed_sign_ins(w):
    entry(w.organizer_id, "badge.printed", "2026-06-12T02:00:00Z", w.owner, object_type="registrations", object_id=12)
    db.session.add(AuditEntry(organizer_id=w.organizer_id, action="user.login", at=utc("2026-06-12T03:00:00Z"),
                              user_id=w.manager.id, ip="203.0.113.5", details={}))
    db.session.commit()
    # the history of one record: its type and id
    assert actions(log(w, object_type="registrations", object_id=12)) == ["badge.printed", "registration.created"]
    assert actions(log(w, object_type="exhibitors", object_id=7)) == ["exhibitor.created"]
    assert log(w, object_type="registrations", object_id=2**40).total == 0  # beyond any id: nothing, no error
    assert actions(log(w, ip="203.0.113.5")) == ["user.login"]
    assert "user.login_failed" not in actions(log(w, exclude=(core.FAILED_SIGN_IN,)))
    assert log(w, exclude=(core.FAILED_SIGN_IN,)).total == log(w).total - 1


def test_filters_from_the_query_string():
    args = {"user": "3", "action": "user.login", "object": "registrations:12", "ip": "203.0.113.5", "hide_failed": "1",
            "since": "2026-06-10"}
    filters = core.AuditFilters.from_args(args)
    assert (filters.user_id, filters.action, filters.object_type, filters.object_id, filters.ip, filters.exclude,
            filters.since) == (3, "user.login", "registrations", 12, "203.0.113.5", ("user.login_failed",),
                               "2026-06-10")
    garbage = core.AuditFilters.from_args({"user": "abc", "object": "registrations:x", "ip": ""})
    assert (garbage.user_id, garbage.object_type, garbage.object_id, garbage.ip) == (None, "registrations", None, None)
    assert core.AuditFilters.from_args({}) == core.AuditFilters()


def test_hostile_filters_get_a_page_not_an_error(app, w):
    browser = Browser(app, w.owner)
    for query in ("action=%00&ip=%00&object=%00:1&since=%00", "ip=" + "9" * 500, "object=registrations:99999999999999",
                  "user=99999999999999999999", "object=" + "x" * 300 + ":1", "object=:", "ip=%ED%A0%80"):
        response = browser.get(f"/org/audit?{query}")
        assert response.status_code in (200, 400), query  # a NUL byte may be refused before the page
    page = browser.get("/org/audit?user=99999999999999999999").get_data(as_text=True)
    assert "No entries match these filters." in page  # an id beyond any row matches none, it is not dropped


FLOOD = 5000


def flood(w, at="2026-06-20T00:00:00Z"):
    """5,000 failed sign-ins on the manager's account, after every other entry: one INSERT, many rows."""
    db.session.execute(insert(AuditEntry), [
        {"organizer_id": w.organizer_id, "action": "user.login_failed", "at": utc(at), "ip": f"198.51.100.{n % 250}",
         "details": {"email": "manager@log.example"}} for n in range(FLOOD)])
    db.session.commit()


def test_a_flood_of_failed_sign_ins_cannot_push_earlier_events_out_of_view(w):
    flood(w)
    everything = log(w)
    assert everything.total == 10 + FLOOD
    assert set(actions(everything)) == {"user.login_failed"}  # the first page is all flood …
    # … but leaving failed sign-ins out brings the earlier events back onto the first page
    quiet = log(w, exclude=(core.FAILED_SIGN_IN,))
    assert quiet.total == 9 and actions(quiet)[0] == "module.own_action" and actions(quiet)[-1] == "user.login"
    # as does any filter on what, who or which record
    assert actions(log(w, action="edition.status")) == ["edition.status"]
    assert log(w, user_id=w.manager.id).total == 5
    assert actions(log(w, object_type="persons", object_id=3)) == ["person.updated"]
    # and paging reaches the end of the log: 5,010 entries are 101 pages of 50, the last with the 10 oldest
    last = log(w, page=101)
    assert (last.pagination.pages, len(last.items)) == (101, 10)
    assert actions(last)[-1] == "user.login" and "exhibitor.created" in actions(last)
    assert log(w, page=102).pagination.page == 101


def test_the_page_hides_a_flood_on_request_and_pages_through_it(app, w):
    browser = Browser(app, w.owner)
    flood(w, at=datetime.now(timezone.utc).isoformat())  # the attack is going on now
    page = browser.get("/org/audit").get_data(as_text=True)
    assert "1–50 of 5,011" in page  # the flood fills the first page …
    assert {b.split(" ")[2] for b in entry_blocks(page)} == {"Failed"}
    page = browser.get("/org/audit?hide_failed=1").get_data(as_text=True)
    blocks = entry_blocks(page)
    assert not [b for b in blocks if "Failed sign-in" in b]
    assert any(b.startswith("2026-06-10 10:00:00 Exhibitor added") for b in blocks)  # … not the earlier events
    assert "1–10 of 10" in page and "Without failed sign-ins" in page
    assert 'name="hide_failed" value="1" checked' in page
    # the pager keeps the filter
    page = browser.get("/org/audit?page=101").get_data(as_text=True)
    assert "5,001–5,011 of 5,011" in page and "Exhibitor added" in page
    # an entry's record and address link to their history
    page = browser.get("/org/audit?object=exhibitors:7").get_data(as_text=True)
    assert [b.split(" ", 2)[2].split(" exhibitor.created")[0] for b in entry_blocks(page)] == ["Exhibitor added"]
    assert "History of Exhibitor #7" in unescape(page)
    assert 'name="object" value="exhibitors:7"' in page  # the form keeps it
    page = browser.get("/org/audit?ip=198.51.100.7&action=user.login_failed").get_data(as_text=True)
    assert "1–20 of 20" in page  # 5,000 over 250 addresses
    page = browser.get("/org/audit?action=user.login_failed&hide_failed=").get_data(as_text=True)
    assert 'href="/org/audit?action=user.login_failed&amp;hide_failed=&amp;page=2"' in page  # the pager keeps filters


AUDIT_PAGE_BUDGET = 10  # statements for one page of the log, however long the log


def test_the_audit_page_costs_the_same_queries_with_a_flood(app, w, count_queries):
    browser = Browser(app, w.owner)
    with count_queries() as before:
        assert browser.get("/org/audit?per_page=100").status_code == 200
    flood(w, at=datetime.now(timezone.utc).isoformat())
    with count_queries() as after:
        assert browser.get("/org/audit?per_page=100").status_code == 200
    assert len(before) <= AUDIT_PAGE_BUDGET, before.report()
    assert len(after) <= len(before), after.report()  # no query per entry (users are loaded in one)


def test_the_registration_page_links_to_its_history_for_the_owner(app, make):
    edition = make.edition()
    registration = make.registration(edition, email="history@example.com")
    owner = make.user("owner", db.session.get(Organizer, edition.organizer_id))
    manager = make.user("manager", db.session.get(Organizer, edition.organizer_id))
    db.session.commit()
    url = f"/org/editions/{edition.id}/registrations/{registration.id}"
    page = Browser(app, owner).get(url).get_data(as_text=True)
    assert f'href="/org/audit?object=registrations:{registration.id}"' in page
    assert f'href="/org/audit?object=persons:{registration.person_id}"' in page
    history = Browser(app, owner).get(f"/org/audit?object=registrations:{registration.id}").get_data(as_text=True)
    assert {b.split(" ")[2] for b in entry_blocks(history)} >= {"Registration", "Contact"}  # created, viewed
    assert 'id="record-history"' not in Browser(app, manager).get(url).get_data(as_text=True)  # no audit rights


def test_details_in_words(w):
    entries = {e.action: e for e in log(w).items}
    audit_log = log(w)
    assert audit_log.action_label("exhibitor.created") == "Exhibitor added"
    assert audit_log.action_label("module.own_action") == "module.own_action"
    assert audit_log.details(entries["exhibitor.created"]) == [("Company", "北京华美家具有限公司"),
                                                              ("Edition", str(w.edition.id))]
    assert audit_log.details(entries["edition.status"]) == [("From", "Draft"), ("To", "Live")]
    assert audit_log.details(entries["registration.created"]) == [("Person", "3"), ("Source", "Online"),
                                                                 ("Consent version", "1")]
    assert audit_log.details(entries["company.updated"]) == [("Fields", "Name, Website")]
    assert ("Contact shared", "yes") in audit_log.details(entries["leads.exported"])
    assert audit_log.details(entries["module.own_action"]) == [("Note", "备注")]
    assert audit_log.details(entries["person.updated"]) == [("Changes", "Name: 王伟 → 王小伟; Email: — → wxw@example.cn")]
    assert audit_log.object(entries["exhibitor.created"]) == "Exhibitor #7"
    assert audit_log.when(entries["exhibitor.created"]) == "2026-06-10 10:00:00"


def test_zone_of_an_organizer_without_editions_is_utc(make):
    organizer = make.organizer()
    db.session.commit()
    assert core.audit_log(Scope(organizer.id)).zone == "UTC"


# --- the page ------------------------------------------------------------------------------------------

def entry_blocks(page: str) -> list[str]:
    """The text of each entry on the page, tags removed, whitespace squeezed."""
    items = re.findall(r'<li class="list-group-item audit-entry[^"]*">(.*?)</li>', page, re.S)
    return [re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", item))).strip() for item in items]


def test_page_reads_like_a_log(app, w):
    page = Browser(app, w.owner).get("/org/audit").get_data(as_text=True)
    blocks = entry_blocks(page)
    assert len(blocks) == 11  # the owner's sign-in just now, first
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d Signed in user\.login 王芳 owner@log\.example IP 127\.0\.0\.1$",
                    blocks[0])
    exhibitor = next(b for b in blocks if "exhibitor.created" in b)
    assert exhibitor.startswith("2026-06-10 10:00:00 Exhibitor added")
    assert "Max Manager" in exhibitor and "Exhibitor #7" in exhibitor
    assert "Company: 北京华美家具有限公司" in exhibitor  # Chinese stays Chinese …
    assert "\\u" not in page  # … nowhere escaped
    assert "From: Draft" in next(b for b in blocks if "edition.status" in b)
    failed = next(b for b in blocks if "user.login_failed" in b)
    assert "Failed sign-in" in failed and "no account" in failed and "Email: 张伟@example.cn" in failed
    assert "Times in Asia/Shanghai." in page
    assert "stranger@other.example" not in page
    assert "1–11 of 11" in page


def test_page_in_chinese(app, w):
    browser = Browser(app, w.owner)
    browser.get("/lang/zh_CN")
    blocks = entry_blocks(browser.get("/org/audit").get_data(as_text=True))
    status = next(b for b in blocks if "edition.status" in b)
    assert "届次状态变更" in status and "王芳" in status


def test_page_filters_and_pages_from_the_query_string(app, w):
    browser = Browser(app, w.owner)
    for n in range(60):
        entry(w.organizer_id, "badge.printed", "2026-06-12T02:00:00Z", w.manager)
    db.session.commit()

    page = browser.get(f"/org/audit?user={w.manager.id}&action=badge.printed&page=2").get_data(as_text=True)
    assert len(entry_blocks(page)) == 10
    assert "51–60 of 60" in page and "Page 2 of 2" in page
    # the filters are shown as removable chips, and the form keeps them
    assert "Person: Max Manager" in unescape(page) and "Action: Badge printed" in unescape(page)
    assert f'<option value="{w.manager.id}" selected>' in page
    assert '<option value="badge.printed" selected>' in page

    page = browser.get("/org/audit?since=2026-06-10&until=2026-06-10").get_data(as_text=True)
    assert [b.split(" ")[2] for b in entry_blocks(page)] == ["Edition", "Exhibitor", "Signed"]
    assert 'name="since" value="2026-06-10"' in page

    page = browser.get("/org/audit?since=garbage&user=abc&page=x").get_data(as_text=True)
    assert "1–50 of 71" in page  # 10 + 60 + the owner's sign-in

    page = browser.get("/org/audit?action=no.such.action").get_data(as_text=True)
    assert "No entries match these filters." in page


def test_every_action_the_app_audits_has_a_name():
    """The actions audited by the code base today have words (a new one shows its code until it gets them)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "expo"
    audited = set()
    for path in root.rglob("*.py"):
        audited |= set(re.findall(r'audit\(\s*"([a-z_]+\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    audited |= {"edition.status", "registration.status", "exhibitor.status"}  # move_status: <model>.<column>
    assert audited - set(registry.audit_words("actions")) == set()
