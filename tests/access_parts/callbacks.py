"""Route × role expectations of issue 11's callbacks part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t`` (a
tests.conftest Factory tenant: t.edition, t.exhibitor, t.users[role], ...) and returns their ids by URL parameter.

Call-backs: every organizer role sees the lists and the report (view_callbacks); owner and manager make lists,
scripts and splits (POST); owner, manager, sales and onsite call (the queue and the call page); the analyst reads.
A POST without a form (the walk's) is a form error: 400. Exhibitor staff have no edition back office.
"""
from __future__ import annotations

ID_PARAMS: set[str] = {"call_list_id", "call_target_id"}  # this part's URL parameters that name one organizer's row
ENDPOINTS_WITH_IDS = {"callbacks.index", "callbacks.list_page", "callbacks.queue", "callbacks.call",
                      "callbacks.report", "callbacks.not_reached_csv"}  # the endpoints with such an id in their URL

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("callbacks.index", "GET"):                ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("callbacks.index", "POST"):               ("login",  "400",    "400",    "403",    "403",    "403",    "403",     "403"),
    ("callbacks.list_page", "GET"):            ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("callbacks.list_page", "POST"):           ("login",  "400",    "400",    "403",    "403",    "403",    "403",     "403"),
    ("callbacks.queue", "GET"):                ("login",  "200",    "200",    "200",    "200",    "403",    "403",     "403"),
    ("callbacks.call", "GET"):                 ("login",  "200",    "200",    "200",    "200",    "403",    "403",     "403"),
    ("callbacks.call", "POST"):                ("login",  "400",    "400",    "400",    "400",    "403",    "403",     "403"),
    ("callbacks.report", "GET"):               ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("callbacks.not_reached_csv", "GET"):      ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
}
# fmt: on


def build(t) -> dict:
    """A call list of the tenant's edition calling its visitors, with a script question and the first visitor on
    it, not assigned to anyone yet (every caller may open it)."""
    from expo.core.scoping import Scope
    from expo.support import callbacks

    made = callbacks.create_list(Scope(t.organizer.id), t.edition, "Buyers", "visitor", None)
    callbacks.add_question(made, "rating", "How was the show?", "展会如何？")
    callbacks.add_targets(made, registration_ids=[t.registration.id])
    target = callbacks.targets(made)[0]
    return {"call_list_id": made.id, "call_target_id": target.id}
