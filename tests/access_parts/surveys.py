"""Route × role expectations of issue 11's surveys part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t`` (a
tests.conftest Factory tenant: t.edition, t.exhibitor, t.users[role], ...) and returns their ids by URL parameter.

Surveys: owner and manager write them (POST of the list and the survey page); sales and analysts read the list and
the results; on-site staff run the kiosk. The exhibitor admin finds the company's survey links in the portal.
The public survey pages (/s/<token>) are reached by their signed link only: the walk's token (a campaign's
unsubscribe token, signed for another purpose) opens nothing (404 for everyone). A POST without a form (the
walk's) re-shows the form with its error (400).
"""
from __future__ import annotations

ID_PARAMS: set[str] = {"survey_id"}  # this part's URL parameters that name one organizer's row
ENDPOINTS_WITH_IDS: set[str] = {"surveys.index", "surveys.edit", "surveys.results", "surveys.kiosk"}

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("surveys.index", "GET"):                  ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
    ("surveys.index", "POST"):                 ("login",  "400",    "400",    "403",    "403",    "403",    "403",     "403"),
    ("surveys.edit", "GET"):                   ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("surveys.edit", "POST"):                  ("login",  "400",    "400",    "403",    "403",    "403",    "403",     "403"),
    ("surveys.results", "GET"):                ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
    ("surveys.kiosk", "GET"):                  ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("surveys.kiosk", "POST"):                 ("login",  "400",    "400",    "403",    "400",    "403",    "403",     "403"),
    ("survey_take.take", "GET"):               ("404",    "404",    "404",    "404",    "404",    "404",    "404",     "404"),
    ("survey_take.take", "POST"):              ("404",    "404",    "404",    "404",    "404",    "404",    "404",     "404"),
    ("survey_take.thanks", "GET"):             ("404",    "404",    "404",    "404",    "404",    "404",    "404",     "404"),
    ("survey_take.portal", "GET"):             ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
}
# fmt: on


def build(t) -> dict:
    """An open visitor survey of the tenant's edition with an NPS and a free-text question."""
    from expo.core.scoping import Scope
    from expo.surveys import services

    survey = services.create_survey(Scope(t.organizer.id), t.edition, services.SurveyData(
        audience="visitor", title_en="Visitor survey", title_zh="观众问卷"))
    services.add_question(survey, services.QuestionData(kind="nps", text_en="Recommend?", text_zh="推荐？",
                                                        required=True))
    services.add_question(survey, services.QuestionData(kind="text", text_en="Anything else?"))
    services.set_status(survey, "open")
    return {"survey_id": survey.id}
