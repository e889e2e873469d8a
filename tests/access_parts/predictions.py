"""Route × role expectations of issue 11's predictions part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t`` (a
tests.conftest Factory tenant: t.edition, t.exhibitor, t.users[role], ...) and returns their ids by URL parameter.

Predictions: whoever reads reports (owner, manager, sales, analyst) reads the page and the API; owner and manager
compute them again (POST, back to the page). Exhibitor staff and onsite staff get neither.
"""
from __future__ import annotations

ID_PARAMS: set[str] = set()  # this part's URL parameters that name one organizer's row
# The endpoints with an id in their URL (the edition's): another organizer's edition is a 404.
ENDPOINTS_WITH_IDS: set[str] = {"predictions.predictions", "predictions.compute",
                                "predictions_api.exhibitor_predictions", "predictions_api.visitor_predictions"}

PAGE = "->/org/editions/{edition_id}/predictions"

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("predictions.predictions", "GET"):        ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
    ("predictions.compute", "POST"):           ("login",  PAGE,     PAGE,     "403",    "403",    "403",    "403",     "403"),
    ("predictions_api.exhibitor_predictions", "GET"): ("401", "200", "200",   "200",    "403",    "200",    "403",     "403"),
    ("predictions_api.visitor_predictions", "GET"):   ("401", "200", "200",   "200",    "403",    "200",    "403",     "403"),
}
# fmt: on


def build(t) -> dict:
    return {}
