"""Route × role expectations of issue 8's floor part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t`` (a
tests.conftest Factory tenant: t.edition, t.exhibitor, t.users[role], ...) and returns their ids by URL parameter.
"""
from __future__ import annotations

ID_PARAMS: set[str] = {"hall_id", "stand_id"}  # this part's URL parameters that name one organizer's row

PLAN = "->/org/editions/{edition_id}/floor-plan"
SETUP = "->/org/editions/{edition_id}/floor-plan/setup"

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("floor.plan", "GET"):                     ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("floor.hall_svg", "GET"):                 ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("floor.assign", "POST"):                  ("login",  PLAN,     PLAN,     PLAN,     "403",    "403",    "403",     "403"),
    ("floor.release", "POST"):                 ("login",  PLAN,     PLAN,     PLAN,     "403",    "403",    "403",     "403"),
    ("floor.setup", "GET"):                    ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("floor.save_hall", "POST"):               ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("floor.save_stand", "POST"):              ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("floor.delete_hall", "POST"):             ("login",  SETUP,    SETUP,    "403",    "403",    "403",    "403",     "403"),
    ("floor.delete_stand", "POST"):            ("login",  SETUP,    SETUP,    "403",    "403",    "403",    "403",     "403"),
    ("floor.import_stands", "POST"):           ("login",  SETUP,    SETUP,    "403",    "403",    "403",    "403",     "403"),
    ("floor.forecast", "GET"):                 ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
}
# fmt: on

# Every route above has edition_id (and some hall_id / stand_id) in its URL: for test_access.ENDPOINTS_WITH_IDS.
ENDPOINTS_WITH_IDS = {endpoint for endpoint, _method in EXPECTED}


def build(t) -> dict:
    """A hall with two stands; the first one assigned to the tenant's exhibitor."""
    from expo.core.scoping import Scope
    from expo.exhibitors import floorplan

    scope = Scope(t.organizer.id)
    hall = floorplan.save_hall(scope, t.edition, name="H1", width_m=30, depth_m=20)
    taken = floorplan.save_stand(scope, hall, floorplan.StandData("A1", 0, 0, 3, 3))
    floorplan.save_stand(scope, hall, floorplan.StandData("A2", 3, 0, 3, 3))
    floorplan.assign_stand(taken, t.exhibitor)
    return {"hall_id": hall.id, "stand_id": taken.id}
