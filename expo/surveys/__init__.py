"""Surveys (floor 4): satisfaction and NPS questionnaires for visitors and exhibitors, taken on site and after
the show; their answers land on the customer's timeline and feed the post-show reports."""
from flask_babel import lazy_gettext as _l

from ..core.registry import COMPANY, REPORTS, ActivityKind, Module, NavEntry, Permission

VIEW_SURVEYS = "view_surveys"  # read the surveys and their results
MANAGE_SURVEYS = "manage_surveys"  # write surveys and questions, open and close them
RUN_SURVEY_KIOSK = "run_survey_kiosk"  # on site: open a visitor's survey from their badge
ANSWER_EXHIBITOR_SURVEYS = "answer_exhibitor_surveys"  # the exhibitor's side: the company's survey link

MODULE = Module(
    name="surveys",
    models="expo.surveys.models",
    demo="expo.surveys.demo:contribute",
    blueprints=("expo.surveys.views:bp", "expo.surveys.take_views:bp"),
    permissions=(
        Permission(VIEW_SURVEYS, _l("Read surveys and their results"), ("owner", "manager", "sales", "analyst")),
        Permission(MANAGE_SURVEYS, _l("Write, open and close surveys"), ("owner", "manager")),
        Permission(RUN_SURVEY_KIOSK, _l("Run the survey kiosk on site"), ("owner", "manager", "onsite")),
        Permission(ANSWER_EXHIBITOR_SURVEYS, _l("Answer the organizer's surveys for the company"),
                   ("exhibitor_admin",)),
    ),
    machines=("expo.surveys.models:SURVEY_STATUS", "expo.surveys.models:AUDIENCE",
              "expo.surveys.models:QUESTION_KIND"),
    nav=(NavEntry("surveys.index", _l("Surveys"), "edition", VIEW_SURVEYS, icon="ui-checks", order=55, group=REPORTS),
         NavEntry("survey_take.portal", _l("Surveys"), "exhibitor", ANSWER_EXHIBITOR_SURVEYS, icon="ui-checks",
                  order=60, group=COMPANY)),
    hooks={"exhibitor_satisfaction": "expo.surveys.services:exhibitor_satisfaction",
           "visitor_page_sections": "expo.surveys.take_views:visitor_section",
           "personal_data": "expo.surveys.privacy:visitor_answers",
           "erase_personal_data": "expo.surveys.privacy:forget_visitor"},
    audit_actions={"survey.created": _l("Survey created"), "survey.changed": _l("Survey changed"),
                   "survey.status": _l("Survey opened or closed"),
                   "survey.question_added": _l("Survey question added"),
                   "survey.question_changed": _l("Survey question changed"),
                   "survey.question_deleted": _l("Survey question deleted"),
                   "survey.answered": _l("Survey answered")},
    audit_fields={"audience": _l("Audience"), "nps": _l("Recommend score"), "channel": _l("Channel")},
    audit_objects={"surveys": _l("Survey"), "survey_responses": _l("Survey response")},
    activity_kinds={
        "survey.answered": ActivityKind(_l("Answered the survey “%(survey)s” (would recommend: %(nps)s/10)"),
                                        "ui-checks", "info"),
    },
)
