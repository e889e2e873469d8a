"""Route × role expectations of issue 11's analytics part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t``.

Analytics: whoever reads reports (owner, manager, sales, analyst) reads the page and its JSON and may compute the
figures again (POST, back to the page); the drill-down list names visitors, so it also needs "See registrations"
(owner, manager). Exhibitor and onsite staff get none of it.
"""
from __future__ import annotations

ID_PARAMS: set[str] = set()  # this part's URL parameters that name one organizer's row
ENDPOINTS_WITH_IDS: set[str] = {"analytics.page", "analytics.data_json", "analytics.refresh", "analytics.rows"}

PAGE = "->/org/editions/{edition_id}/analytics"

# fmt: off
#                                        anonymous  owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("analytics.page", "GET"):           ("login",  "200",   "200",   "200",   "403",   "200",   "403",     "403"),
    ("analytics.data_json", "GET"):      ("login",  "200",   "200",   "200",   "403",   "200",   "403",     "403"),
    ("analytics.refresh", "POST"):       ("login",  PAGE,    PAGE,    PAGE,    "403",   PAGE,    "403",     "403"),
    ("analytics.rows", "GET"):           ("login",  "200",   "200",   "403",   "403",   "403",   "403",     "403"),
}
# fmt: on


def build(t) -> dict:
    return {}
