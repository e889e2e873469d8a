"""The organizer's registrations list: pages that say "n of N", filters by category, status and source,
sorting by column, page sizes, everything in the query string; the export of the filtered list as XLSX
and CSV in the user's language (labels, not codes), audited, the button saying how many rows it exports;
a count and a page query whatever the page size (no query per row)."""
from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from expo.core.models import AuditEntry, Organizer
from expo.extensions import db
from expo.visitors import services as visitors

from ..conftest import login


@pytest.fixture
def desk(make, client):
    """An edition with 30 registrations: 3 media, 2 of them imported, 1 cancelled buyer; a manager signed in."""
    edition = make.edition()
    organizer = db.session.get(Organizer, edition.organizer_id)
    manager = make.user("manager", organizer)
    regs = [make.registration(edition, name=f"Visitor {n:02d}", company=f"Company {n:02d}") for n in range(27)]
    regs.append(make.registration(edition, name="Zhang Media", category="media", source="import"))
    regs.append(make.registration(edition, name="Anna Media", category="media", source="import"))
    regs.append(make.registration(edition, name="王记者", category="media", company="新华社"))
    visitors.cancel_registration(regs[0], actor_id=None)
    db.session.commit()
    login(client, manager)
    return edition, regs, manager


def _get(client, edition, query=""):
    response = client.get(f"/org/editions/{edition.id}/registrations{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def _rows(page: str) -> list[str]:
    body = page.split('id="registrations"', 1)[1].split("</tbody>", 1)[0]
    return [re.sub(r"<[^>]+>", " ", row) for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1], re.S)]


def _names(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'/registrations/\d+">([^<]+)</a>', body)


def test_the_list_pages_and_says_n_of_n(app, client, desk):
    edition, _regs, _manager = desk

    first = _get(client, edition)
    second = _get(client, edition, "?page=2")
    everything = _get(client, edition, "?per_page=50")

    assert len(_names(first)) == 25 and len(_names(second)) == 5 and len(_names(everything)) == 30
    assert "1–25 of 30" in first and "26–30 of 30" in second and "Page 2 of 2" in second
    assert set(_names(first)).isdisjoint(_names(second))
    assert "30 of 30 registrations" in first
    # the page-size choice keeps the rest of the query string (and starts again on page 1)
    confirmed = _get(client, edition, "?status=confirmed&page=2")
    assert "?status=confirmed&amp;per_page=50" in confirmed
    assert "26–29 of 29" in confirmed


def test_filters_by_category_status_and_source_and_show_them_as_removable_chips(app, client, desk):
    edition, regs, _manager = desk

    media = _get(client, edition, "?category=media")
    imported_media = _get(client, edition, "?category=media&source=import")
    cancelled = _get(client, edition, "?status=cancelled")

    assert sorted(_names(media)) == ["Anna Media", "Zhang Media", "王记者"]
    assert "3 of 30 registrations" in media
    assert sorted(_names(imported_media)) == ["Anna Media", "Zhang Media"]
    assert _names(cancelled) == [regs[0].visitor_name]
    # a chip per active filter, each linking to the same list without it
    chip_links = re.findall(r'class="filter-chip" href="([^"]+)"', imported_media)
    assert len(chip_links) == 2
    remaining = [parse_qs(urlsplit(link.replace("&amp;", "&")).query) for link in chip_links]
    assert {"category": ["media"]} in remaining and {"source": ["import"]} in remaining
    # unknown codes are ignored, never an error
    assert len(_names(_get(client, edition, "?category=alien&status=nope"))) == 25


def test_search_finds_a_name_a_number_or_a_phone_written_another_way(app, client, make, desk):
    edition, regs, _manager = desk
    reachable = make.registration(edition, name="Phone Person", phone="+86 139 1234 5678")
    db.session.commit()

    assert _names(_get(client, edition, "?q=zhang")) == ["Zhang Media"]
    assert _names(_get(client, edition, f"?q=%23{regs[5].id}")) == [regs[5].visitor_name]
    assert _names(_get(client, edition, "?q=13912345678")) == [reachable.visitor_name]


def test_sorting_by_column_in_both_directions(app, client, desk):
    edition, _regs, _manager = desk

    ascending = _names(_get(client, edition, "?sort=name&per_page=50"))
    descending = _names(_get(client, edition, "?sort=-name&per_page=50"))

    assert ascending[0] == "Anna Media" and ascending == list(reversed(descending))
    assert ascending[:3] == ["Anna Media", "Visitor 00", "Visitor 01"]
    page = _get(client, edition, "?sort=name")
    assert 'aria-sort="ascending"' in page
    assert "sort=-name" in page  # clicking the sorted column again flips it


def test_export_button_says_how_many_rows_and_exports_exactly_the_filtered_list(app, client, desk):
    edition, _regs, manager = desk

    page = _get(client, edition, "?category=media&source=import")
    assert "Export 2 rows" in page
    href = re.search(r'id="export-xlsx" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    response = client.get(href)

    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:4] == ["Number", "Name", "Email", "Phone"]
    assert sorted(row[1] for row in rows[1:]) == ["Anna Media", "Zhang Media"]
    category, source = rows[0].index("Category"), rows[0].index("Source")
    assert {row[category] for row in rows[1:]} == {"Media"} and {row[source] for row in rows[1:]} == {"Import"}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "registrations.exported"))
    assert entry.user_id == manager.id and entry.object_id == edition.id
    assert entry.details["rows"] == 2 and entry.details["format"] == "xlsx"
    assert entry.details["filters"] == {"category": ["media"], "source": ["import"]}


def test_csv_export_in_chinese_has_translated_headers_and_labels(app, client, desk, fresh_translations):
    edition, _regs, _manager = desk

    response = client.get(f"/org/editions/{edition.id}/registrations.csv?category=media",
                          headers={"Accept-Language": "zh-CN"})

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["编号", "姓名", "电子邮箱", "电话", "公司"]
    assert len(rows) == 4
    by_name = {row[1]: row for row in rows[1:]}
    assert by_name["王记者"][rows[0].index("类别")] == "媒体"
    assert by_name["Zhang Media"][rows[0].index("来源")] == "批量导入"


def test_export_needs_the_export_permission(app, make):
    from ..conftest import Browser

    edition = make.edition()
    onsite = make.user("onsite", db.session.get(Organizer, edition.organizer_id))
    make.registration(edition)
    db.session.commit()
    desk = Browser(app, onsite)

    assert desk.get(f"/org/editions/{edition.id}/registrations").status_code == 200
    assert "export-xlsx" not in desk.get(f"/org/editions/{edition.id}/registrations").get_data(as_text=True)
    assert desk.get(f"/org/editions/{edition.id}/registrations.xlsx").status_code == 403


def test_checked_in_filter_asks_the_onsite_module(app, client, make, desk):
    """Only the on-site module (a higher floor) knows who came in: it answers through the hook
    ``checked_in_registrations``; the visitors module never imports it."""
    if not visitors.checked_in_available():
        pytest.skip("the on-site module does not provide the checked_in_registrations hook yet")
    import uuid

    from expo.onsite import services as onsite

    edition, regs, _manager = desk
    gate = make.user("onsite", db.session.get(Organizer, edition.organizer_id))
    outcome = onsite.record_scan(gate, code=visitors.badge_code(regs[3]), kind="checkin",
                                 client_scan_id=str(uuid.uuid4()), edition_id=edition.id)
    assert outcome.result == "ok"
    db.session.commit()

    assert _names(_get(client, edition, "?checked_in=yes")) == [regs[3].visitor_name]
    assert len(_names(_get(client, edition, "?checked_in=no&per_page=50"))) == 29


def test_a_page_costs_the_same_queries_whatever_its_size(app, client, desk, count_queries):
    edition, _regs, _manager = desk
    url = f"/org/editions/{edition.id}/registrations"
    client.get(url)  # warm caches (session, user)

    with count_queries() as small:
        assert client.get(f"{url}?per_page=25").status_code == 200
    with count_queries() as large:
        assert client.get(f"{url}?per_page=100").status_code == 200

    assert len(large) == len(small), large.report()


def test_empty_list_says_so_with_the_next_action(app, client, make):
    edition = make.edition()
    manager = make.user("manager", db.session.get(Organizer, edition.organizer_id))
    db.session.commit()
    login(client, manager)

    page = _get(client, edition)

    assert "Nobody has registered yet." in page and f"/e/{edition.slug}" in page
    assert "0 of 0 registrations" in page
