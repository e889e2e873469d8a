"""The exhibitor's lead list pages in the database, filters by rating and counts every rating."""
from __future__ import annotations

import re

from expo.extensions import db
from expo.leads import services as leads_services

from ..conftest import Browser


def _names(page: str) -> list[str]:
    table = page[page.index('id="leads"'):page.index("</table>")]
    return re.findall(r'<a href="/portal/leads/\d+">([^<]*)</a>', table)


def test_lead_list_pages_and_filters(app, make, count_queries):
    t = make.tenant("A", visitors=[(f"Visitor {n:02d}", f"v{n}@example.com") for n in range(30)], leads=False)
    admin, booth = t.users["exhibitor_admin"], t.users["booth_staff"]
    for n, registration in enumerate(t.registrations):
        lead = t.capture(booth if n % 2 else admin, registration)
        if n % 3 == 0:
            leads_services.update_lead(lead, rating="hot", notes="", actor_id=admin.id)
    db.session.commit()

    admin_browser = Browser(app, admin)
    first = admin_browser.get("/portal/leads").get_data(as_text=True)
    assert len(_names(first)) == 25 and "30 of 30 leads" in first and "1–25 of 30" in first
    assert len(_names(admin_browser.get("/portal/leads?page=2").get_data(as_text=True))) == 5
    hot = admin_browser.get("/portal/leads?rating=hot&per_page=50").get_data(as_text=True)
    assert sorted(_names(hot)) == [f"Visitor {n:02d}" for n in range(0, 30, 3)]
    assert "10 of 30 leads" in hot

    # booth staff see only their own captures, counts included
    mine = Browser(app, booth).get("/portal/leads?per_page=50").get_data(as_text=True)
    assert sorted(_names(mine)) == [f"Visitor {n:02d}" for n in range(1, 30, 2)] and "15 of 15 leads" in mine

    # one page costs the same queries whatever its size (no query per row)
    with count_queries() as small:
        admin_browser.get("/portal/leads?per_page=25")
    with count_queries() as large:
        admin_browser.get("/portal/leads?per_page=100")
    assert len(small) == len(large), small.report()
