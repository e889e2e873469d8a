"""Route × role expectations of issue 11's lead_follow_up part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t`` (a
tests.conftest Factory tenant: t.edition, t.exhibitor, t.users[role], ...) and returns their ids by URL parameter.

Lead follow-up: exhibitor staff change the follow-up of the leads they see (the tenant's lead was captured by its
booth staff: both see it) and come back to the lead page; the organizer's roles that read reports see the rates
per exhibitor, never a lead (onsite staff do not); exhibitors never see the organizer's page.
"""
from __future__ import annotations

ID_PARAMS: set[str] = set()  # lead_id and edition_id are tests/test_access.py's already
ENDPOINTS_WITH_IDS: set[str] = {"lead_follow_up.change", "lead_follow_up.rates"}

LEAD = "->/portal/leads/{lead_id}"

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("lead_follow_up.change", "POST"):         ("login",  "403",    "403",    "403",    "403",    "403",    LEAD,      LEAD),
    ("lead_follow_up.rates", "GET"):           ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
}
# fmt: on


def build(t) -> dict:
    return {}
