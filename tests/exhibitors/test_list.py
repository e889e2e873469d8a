"""The organizer's exhibitors list pages, filters and sorts in the database and says "n of N"."""
from __future__ import annotations

import re

from expo.core.models import Organizer
from expo.exhibitors import services as exhibitor_services
from expo.extensions import db

from ..conftest import Browser


def _companies(page: str) -> list[str]:
    table = page[page.index('id="exhibitors"'):page.index("</table>")]
    return [re.sub(r"<[^>]+>", "", cell).split("  ")[0].strip()
            for cell in re.findall(r'<td class="fw-semibold col-company">(.*?)</td>', table, re.S)]


def test_pages_filters_and_sorts(app, make):
    edition = make.edition()
    for n in range(30):
        exhibitor = make.exhibitor(edition, f"Company {n:02d}")
        if n % 10 == 0:
            exhibitor_services.set_status(exhibitor, "cancelled")
    manager = make.user("manager", db.session.get(Organizer, edition.organizer_id))
    db.session.commit()
    browser = Browser(app, manager)
    url = f"/org/editions/{edition.id}/exhibitors"

    first = browser.get(url).get_data(as_text=True)
    assert _companies(first) == [f"Company {n:02d}" for n in range(25)]
    assert "30 of 30 exhibitors" in first and "1–25 of 30" in first
    second = browser.get(url + "?page=2").get_data(as_text=True)
    assert _companies(second) == [f"Company {n:02d}" for n in range(25, 30)]

    cancelled = browser.get(url + "?status=cancelled&sort=-company").get_data(as_text=True)
    assert _companies(cancelled) == ["Company 20", "Company 10", "Company 00"]
    assert "3 of 30 exhibitors" in cancelled
    found = browser.get(url + "?q=company+1").get_data(as_text=True)
    assert _companies(found) == [f"Company {n}" for n in range(10, 20)]
    # KPI tiles count the whole edition, not the page
    assert re.search(r">\s*27\s*<", first)


def test_a_page_costs_the_same_queries_whatever_its_size(app, make, count_queries):
    edition = make.edition()
    for n in range(60):
        make.exhibitor(edition, f"Company {n:02d}")
    manager = make.user("manager", db.session.get(Organizer, edition.organizer_id))
    db.session.commit()
    browser = Browser(app, manager)
    url = f"/org/editions/{edition.id}/exhibitors"
    with count_queries() as small:
        assert browser.get(url + "?per_page=25").status_code == 200
    with count_queries() as large:
        assert browser.get(url + "?per_page=50").status_code == 200
    assert len(small) == len(large), large.report()
