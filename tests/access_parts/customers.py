"""Route × role expectations of issue 11's customers part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t`` (a
tests.conftest Factory tenant: t.edition, t.exhibitor, t.users[role], ...) and returns their ids by URL parameter.

Customers (lifecycle, RFM, value tiers): whoever reads reports (owner, manager, sales, analyst) sees the pages; the
weights are set by owners and managers. A POST without a form (the walk's) is refused with the form again (400).
"""
from __future__ import annotations

ID_PARAMS: set[str] = set()  # this part's URL parameters that name one organizer's row
ENDPOINTS_WITH_IDS: set[str] = {"customers.overview", "customers.companies", "customers.persons",
                                "customers.weights"}  # under the edition's URL

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("customers.overview", "GET"):             ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
    ("customers.companies", "GET"):            ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
    ("customers.persons", "GET"):              ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
    ("customers.weights", "GET"):              ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("customers.weights", "POST"):             ("login",  "400",    "400",    "403",    "403",    "403",    "403",     "403"),
}
# fmt: on


def build(t) -> dict:
    return {}
