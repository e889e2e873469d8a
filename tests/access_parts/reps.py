"""Route × role expectations of issue 8's reps part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t`` (a
tests.conftest Factory tenant: t.edition, t.exhibitor, t.users[role], ...) and returns their ids by URL parameter.
"""
from __future__ import annotations

from datetime import timedelta

ID_PARAMS: set[str] = {"rule_id", "follow_up_id"}  # this part's URL parameters that name one organizer's row

RULES = "->/org/editions/{edition_id}/sales/assignment"
TODAY = "->/org/editions/{edition_id}/sales/today"

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("reps.assignment_page", "GET"):          ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("reps.assignment_page", "POST"):         ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("reps.delete_rule", "POST"):             ("login",  RULES,    RULES,    "403",    "403",    "403",    "403",     "403"),
    ("reps.move_rule", "POST"):               ("login",  RULES,    RULES,    "403",    "403",    "403",    "403",     "403"),
    ("reps.apply_rules", "POST"):             ("login",  RULES,    RULES,    "403",    "403",    "403",    "403",     "403"),
    ("reps.assign_rep", "POST"):              ("login",  RULES,    RULES,    "403",    "403",    "403",    "403",     "403"),
    ("reps.my_accounts", "GET"):              ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("reps.today", "GET"):                    ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("reps.add_follow_up", "POST"):           ("login",  "400",    "400",    "400",    "403",    "403",    "403",     "403"),
    ("reps.follow_up_done", "POST"):          ("login",  TODAY,    TODAY,    TODAY,    "403",    "403",    "403",     "403"),
    ("reps.follow_up_reopen", "POST"):        ("login",  TODAY,    TODAY,    TODAY,    "403",    "403",    "403",     "403"),
    ("reps.follow_up_snooze", "POST"):        ("login",  TODAY,    TODAY,    TODAY,    "403",    "403",    "403",     "403"),
    ("reps.rep_performance", "GET"):          ("login",  "200",    "200",    "403",    "403",    "200",    "403",     "403"),
}
# fmt: on

# This part's endpoints whose URL holds an id (tests/test_access.py ENDPOINTS_WITH_IDS: the foreign walk).
ENDPOINTS_WITH_IDS = {endpoint for endpoint, _method in EXPECTED}


def build(t) -> dict:
    from expo.core.scoping import Scope
    from expo.exhibitors import assignment, followups

    scope = Scope(t.organizer.id)
    rule = assignment.add_rule(scope, t.edition, assignment.RuleData(kind="region", rep_id=t.users["sales"].id,
                                                                     countries="CN"))
    follow_up = followups.add_follow_up(scope, t.exhibitor, "Call about the corner stand",
                                        followups.local_today(t.edition) - timedelta(days=2),
                                        rep_id=t.users["sales"].id, actor_id=t.users["owner"].id)
    return {"rule_id": rule.id, "follow_up_id": follow_up.id}
