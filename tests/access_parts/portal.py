"""Route × role expectations of issue 8's portal part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t`` (a
tests.conftest Factory tenant: t.edition, t.exhibitor, t.users[role], ...) and returns their ids by URL parameter.
"""
from __future__ import annotations

ID_PARAMS: set[str] = set()  # this part's URL parameters that name one organizer's row

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("portal.logo", "POST"):                   ("login",  "403",    "403",    "403",    "403",    "403",    "->/portal", "403"),
    ("portal.remove_logo", "POST"):            ("login",  "403",    "403",    "403",    "403",    "403",    "->/portal", "403"),
    ("portal.add_picture", "POST"):            ("login",  "403",    "403",    "403",    "403",    "403",    "->/portal/products", "403"),
    ("portal.remove_picture", "POST"):         ("login",  "403",    "403",    "403",    "403",    "403",    "->/portal/products", "403"),
    ("portal.move_picture", "POST"):           ("login",  "403",    "403",    "403",    "403",    "403",    "->/portal/products", "403"),
    # images are public (the show page); the walk fills <name> with a job file's name: no such image
    ("portal.media", "GET"):                   ("404",    "404",    "404",    "404",    "404",    "404",    "404",     "404"),
}
# fmt: on


def build(t) -> dict:
    return {}
