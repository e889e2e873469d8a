"""Route × role expectations of issue 11's winback part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t`` (a
tests.conftest Factory tenant: t.edition, t.exhibitor, t.users[role], ...) and returns their ids by URL parameter.

The churn watch list is a report (owner, manager, sales, analyst); starting a win-back, writing a survey
invitation, changing their mail and sending the reminder are campaign work (owner, manager). The walk's campaign
is the tenant's draft mailing: its mail is changed on the ordinary form (a redirect there), and a reminder is
refused for it (back to the campaign with a message). A POST without a selection goes back to the watch list.
"""
from __future__ import annotations

ID_PARAMS: set[str] = set()  # this part's URL parameters that name one organizer's row (campaign_id is shared)
ENDPOINTS_WITH_IDS = {"watchlist.watchlist", "winback.start", "winback.edit_mail", "winback.reminder",
                      "winback.new_survey_mail"}

WATCH = "->/org/editions/{edition_id}/watchlist"
CAMPAIGN = "->/org/editions/{edition_id}/campaigns/{campaign_id}"
EDIT = "->/org/editions/{edition_id}/campaigns/{campaign_id}/edit"

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("watchlist.watchlist", "GET"):            ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
    ("winback.start", "POST"):                 ("login",  WATCH,    WATCH,    "403",    "403",    "403",    "403",     "403"),
    ("winback.edit_mail", "GET"):              ("login",  EDIT,     EDIT,     "403",    "403",    "403",    "403",     "403"),
    ("winback.edit_mail", "POST"):             ("login",  EDIT,     EDIT,     "403",    "403",    "403",    "403",     "403"),
    ("winback.reminder", "POST"):              ("login",  CAMPAIGN, CAMPAIGN, "403",    "403",    "403",    "403",     "403"),
    ("winback.new_survey_mail", "GET"):        ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("winback.new_survey_mail", "POST"):       ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
}
# fmt: on


def build(t) -> dict:
    return {}
