"""Every route, every role: who gets in.

One expectation table (``EXPECTED``) names, for every endpoint and method of the app and for every
role, what the response must be when the signed-in user fills the URL with objects of their *own*
organizer (and, for exhibitor staff, their own exhibitor). ``test_every_route_has_an_expectation``
fails as soon as a route is added without a line here.

The same table, with the URL filled from *another* organizer's objects, gives the foreign walk:
whoever gets in on their own objects gets a 404 on someone else's (never the page, never a 403 that
would confirm the object exists).

Outcomes:
  "200"         the page (or JSON answer) itself
  "->/path"     a redirect to one of the app's own pages (path may hold {edition_id}-style fields)
  "login"       a redirect to /login?next=<the requested path> (anonymous on a protected page)
  "401"         API call without a valid token
  "403"         signed in, but the role lacks the permission
  "404"         no such object for this user
  "item403"     batch API: HTTP 200, but every scan in the batch answered with status 403
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import url_for

from expo.campaigns import services as campaign_services
from expo.core import services as core
from expo.extensions import db
from expo.onsite.models import Scan

from .conftest import Factory, csrf_token, empty_database, login

ROLES = ("anonymous", "owner", "manager", "sales", "onsite", "analyst", "exhibitor_admin", "booth_staff")
ORGANIZER_ROLES = ("owner", "manager", "sales", "onsite", "analyst")
EXHIBITOR_ROLES = ("exhibitor_admin", "booth_staff")
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}

EDITION = "->/org/editions/{edition_id}"
REG = "->/org/editions/{edition_id}/registrations/{registration_id}"
EXHIBITORS = "->/org/editions/{edition_id}/exhibitors"
DUP = "->/org/duplicates"
JOB = "->/org/jobs/{job_id}"
CDUP = "->/org/company-duplicates"
PRIVACY = "->/r/{key}/privacy"
ERASED = "->/privacy/erased"
CAMPAIGN = "->/org/editions/{edition_id}/campaigns/{campaign_id}"
QUESTIONS = "->/org/editions/{edition_id}/questions"
RULES = "->/org/editions/{edition_id}/category-rules"
BADGES = "->/org/editions/{edition_id}/badges"
REGS = "->/org/editions/{edition_id}/registrations"
SETUP = "->/org/editions/{edition_id}/registration-setup"
APPROVALS = "->/org/editions/{edition_id}/approvals"
INVITES = "->/portal/invitations"
TWO_FACTOR = "->/profile/two-factor"  # new recovery codes: two-factor sign-in must be on first
ORG_INVITES = "->/org/editions/{edition_id}/invitations"
BADGE = "->/r/{key}"
LEAD_QUESTIONS = "->/portal/lead-questions"
ZONES = "->/org/editions/{edition_id}/zones"
DESK = "->/org/editions/{edition_id}/desk"
KIOSKRUN = "->/org/editions/{edition_id}/kiosk"  # kiosk mode not started without a kiosk name: back to set-up  # the walk-up kiosk's badge desk (expo.onsite.kiosk_views)
PQUEUE = "->/org/editions/{edition_id}/print-queue"
MATCH = "->/org/editions/{edition_id}/matchmaking"  # recommendations
MEETINGS = "->/portal/meetings"  # meetings
SLOTS = "->/portal/meeting-slots"
VMEET = "->/r/{key}/meetings"
EMEET = "->/org/editions/{edition_id}/meetings"

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED = {
    ("core.home", "GET"):                      ("200",    "->/org", "->/org", "->/org", "->/org", "->/org", "->/portal", "->/portal/scan"),
    ("core.login", "GET"):                     ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("core.login", "POST"):                    ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("core.login_continue", "GET"):            ("->/login", "->/login", "->/login", "->/login", "->/login", "->/login", "->/login", "->/login"),
    ("core.login_continue", "POST"):           ("->/login", "->/login", "->/login", "->/login", "->/login", "->/login", "->/login", "->/login"),
    ("core.change_password", "GET"):           ("login",  "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("core.change_password", "POST"):          ("login",  "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("core.two_factor", "GET"):                ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("core.two_factor", "POST"):               ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("core.two_factor_qr", "GET"):             ("login",  "404",    "404",    "404",    "404",    "404",    "403",     "403"),
    ("core.disable_two_factor", "POST"):       ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("core.recovery_codes", "POST"):           ("login",  TWO_FACTOR, TWO_FACTOR, TWO_FACTOR, TWO_FACTOR, TWO_FACTOR, "403", "403"),
    ("core.logout", "POST"):                   ("login",  "->/login", "->/login", "->/login", "->/login", "->/login", "->/login", "->/login"),
    ("core.set_language", "GET"):              ("->/",    "->/",    "->/",    "->/",    "->/",    "->/",    "->/",     "->/"),
    ("core.profile", "GET"):                   ("login",  "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("core.profile", "POST"):                  ("login",  "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("core.revoke_token", "POST"):             ("login",  "->/profile", "->/profile", "->/profile", "->/profile", "->/profile", "->/profile", "->/profile"),
    ("core.dashboard", "GET"):                 ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("core.new_show", "GET"):                  ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.new_show", "POST"):                 ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.show", "GET"):                      ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("core.show", "POST"):                     ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.new_edition", "GET"):               ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.new_edition", "POST"):              ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.edition", "GET"):                   ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("core.edition", "POST"):                  ("login",  EDITION,  EDITION,  "403",    "403",    "403",    "403",     "403"),
    ("core.edition_consent", "POST"):          ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.edition_retention", "POST"):        ("login",  EDITION,  EDITION,  "403",    "403",    "403",    "403",     "403"),
    ("core.audit_log", "GET"):                 ("login",  "200",    "403",    "403",    "403",    "403",    "403",     "403"),
    ("core.outbox", "GET"):                    ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.healthz", "GET"):                   ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("core.job", "GET"):                       ("login",  "200",    "200",    "404",    "404",    "404",    "403",     "403"),
    ("core.job_status", "GET"):                ("login",  "200",    "200",    "404",    "404",    "404",    "403",     "403"),
    ("core.job_file", "GET"):                  ("login",  "200",    "200",    "404",    "404",    "404",    "403",     "403"),
    ("core.imports_start", "GET"):             ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.edition_imports", "GET"):           ("login",  "->/org/imports", "->/org/imports", "403", "403", "403", "403", "403"),
    ("core.imports_start", "POST"):            ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.import_mapping", "GET"):            ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.import_mapping", "POST"):           ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.import_preview", "GET"):            ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("core.import_preview", "POST"):           ("login",  JOB,      JOB,      "403",    "403",    "403",    "403",     "403"),
    ("api_docs.openapi", "GET"):               ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("exhibitors.edition_exhibitors", "GET"):  ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("exhibitors.edition_exhibitors", "POST"): ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("exhibitors.exhibitor_status", "POST"):   ("login",  EXHIBITORS, EXHIBITORS, EXHIBITORS, "403", "403",    "403",     "403"),
    ("exhibitors.portal", "GET"):              ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("exhibitors.portal", "POST"):             ("login",  "403",    "403",    "403",    "403",    "403",    "->/portal", "403"),
    ("exhibitors.staff", "GET"):               ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("exhibitors.staff", "POST"):              ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("visitors.register", "GET"):              ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.register", "POST"):             ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.mail_sent", "GET"):             ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.mail_sent", "POST"):            ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.confirmation", "GET"):          ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.badge_png", "GET"):             ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.badge_pdf", "GET"):             ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.privacy", "GET"):               ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.sharing", "POST"):              (PRIVACY,  PRIVACY,  PRIVACY,  PRIVACY,  PRIVACY,  PRIVACY,  PRIVACY,   PRIVACY),
    ("visitors.data_json", "GET"):             ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.data_html", "GET"):             ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.erase", "GET"):                 ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.erase", "POST"):                (ERASED,   ERASED,   ERASED,   ERASED,   ERASED,   ERASED,   ERASED,    ERASED),
    ("visitors.erased", "GET"):                ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("visitors.staff_data_json", "GET"):       ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("visitors.staff_data_html", "GET"):       ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("visitors.staff_erase", "POST"):          ("login",  REG,      REG,      "403",    "403",    "403",    "403",     "403"),
    ("visitors.registrations", "GET"):         ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("visitors.registration", "GET"):          ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("visitors.registrations_xlsx", "GET"):     ("login" , "200"   , "200"   , "403"   , "403"   , "403"   , "403"   , "403"),
    ("visitors.registrations_csv", "GET"):      ("login" , "200"   , "200"   , "403"   , "403"   , "403"   , "403"   , "403"),
    ("visitors.duplicates", "GET"):             ("login" , "200"   , "200"   , "403"   , "200"   , "403"   , "403"   , "403"),
    ("visitors.merge_duplicates", "POST"):      ("login",  DUP,      DUP,      "403",    DUP,      "403",    "403",    "403"),
    ("visitors.distinct_persons", "POST"):      ("login",  DUP,      DUP,      "403",    DUP,      "403",    "403",    "403"),
    ("visitors.edit_person", "POST"):           ("login" , "200"   , "200"   , "403"   , "200"   , "403"   , "403"   , "403"),
    ("visitors.registration_status", "POST"):   ("login",  REG,      REG,      "403",    REG,      "403",    "403",    "403"),
    ("visitors.print_badge", "GET"):           ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("visitors.reissue_badge", "POST"):        ("login",  REG,      REG,      "403",    REG,      "403",    "403",     "403"),
    ("visitors.cancel_registration", "POST"):  ("login",  REG,      REG,      "403",    REG,      "403",    "403",     "403"),
    ("questions.questions", "GET"):            ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("questions.questions", "POST"):           ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("questions.move_question", "POST"):       ("login",  QUESTIONS, QUESTIONS, "403",  "403",    "403",    "403",     "403"),
    ("questions.question_active", "POST"):     ("login",  QUESTIONS, QUESTIONS, "403",  "403",    "403",    "403",     "403"),
    ("questions.delete_question", "POST"):     ("login",  QUESTIONS, QUESTIONS, "403",  "403",    "403",    "403",     "403"),
    ("questions.preview", "GET"):              ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("questions.category_rules", "GET"):       ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("questions.category_rules", "POST"):      ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("questions.move_rule", "POST"):           ("login",  RULES,    RULES,    "403",    "403",    "403",    "403",     "403"),
    ("questions.rule_active", "POST"):         ("login",  RULES,    RULES,    "403",    "403",    "403",    "403",     "403"),
    ("questions.test_rules", "GET"):           ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("questions.override_category", "POST"):   ("login",  REG,      REG,      "403",    REG,      "403",    "403",     "403"),
    ("badges.layouts", "GET"):                 ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("badges.layouts", "POST"):                ("login",  BADGES,   BADGES,   "403",    "403",    "403",    "403",     "403"),
    ("badges.preview", "GET"):                 ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("badges.print_batch", "POST"):            ("login",  REGS,     REGS,     "403",    REGS,     "403",    "403",     "403"),
    ("registration.setup", "GET"):             ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("registration.setup", "POST"):            ("login",  SETUP,    SETUP,    "403",    "403",    "403",    "403",     "403"),
    ("registration.approvals", "GET"):         ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("registration.decide", "POST"):           ("login",  APPROVALS, APPROVALS, "403",  "403",    "403",    "403",     "403"),
    ("registration.invitations_report", "GET"): ("login", "200",    "200",    "200",    "403",    "200",    "403",     "403"),
    ("registration.invitations_report", "POST"): ("login", "200",   "200",    "403",    "403",    "403",    "403",     "403"),
    ("registration.organizer_code_switch", "POST"): ("login", ORG_INVITES, ORG_INVITES, "403", "403", "403", "403",  "403"),
    ("registration.portal_invitations", "GET"): ("login", "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("registration.portal_invitations", "POST"): ("login", "403",   "403",    "403",    "403",    "403",    "200",     "403"),
    ("registration.portal_code_switch", "POST"): ("login", "403",   "403",    "403",    "403",    "403",    INVITES,   "403"),
    ("registration.manage", "GET"):            ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("registration.manage", "POST"):           ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("registration.cancel", "GET"):            ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("registration.cancel", "POST"):           (BADGE,    BADGE,    BADGE,    BADGE,    BADGE,    BADGE,    BADGE,     BADGE),
    ("core.search", "GET"):                    ("login",  "200",    "200",    "200",    "200",    "403",    "403",     "403"),
    ("visitors.person", "GET"):                ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("exhibitors.company", "GET"):             ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("exhibitors.company_duplicates", "GET"):  ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("exhibitors.merge_companies", "POST"):    ("login",  CDUP,     CDUP,     CDUP,     "403",    "403",    "403",     "403"),
    ("exhibitors.distinct_companies", "POST"): ("login",  CDUP,     CDUP,     CDUP,     "403",    "403",    "403",     "403"),
    ("onsite.scanner", "GET"):                 ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("onsite.scanner", "POST"):                ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("onsite.checkin", "GET"):                 ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("onsite.checkin", "POST"):                ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("kiosk.setup", "GET"):                    ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("kiosk.start", "POST"):                   ("login",  KIOSKRUN, KIOSKRUN, "403",    KIOSKRUN, "403",    "403",     "403"),
    ("kiosk.exit_kiosk", "GET"):               ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("kiosk.exit_kiosk", "POST"):              ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("kiosk.run", "GET"):                      ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("kiosk.run", "POST"):                     ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("kiosk.desk", "GET"):                     ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("kiosk.desk_print", "POST"):              ("login",  DESK,     DESK,     "403",    DESK,     "403",    "403",     "403"),
    ("kiosk.queue", "GET"):                    ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("kiosk.queue_rows", "GET"):               ("login",  "200",    "200",    "403",    "200",    "403",    "403",     "403"),
    ("kiosk.queue_pdf", "GET"):                ("login",  PQUEUE,   PQUEUE,   "403",    PQUEUE,   "403",    "403",     "403"),
    ("kiosk.queue_update", "POST"):            ("login",  PQUEUE,   PQUEUE,   "403",    PQUEUE,   "403",    "403",     "403"),
    ("leads.leads", "GET"):                   ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("leads.lead", "GET"):                    ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("leads.lead", "POST"):                   ("login",  "403",    "403",    "403",    "403",    "403",    "->/portal/leads", "->/portal/leads"),
    ("leads.leads_csv", "GET"):               ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("leads.leads_xlsx", "GET"):              ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("leads.leads_vcard", "GET"):             ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("leads.lead_vcard", "GET"):              ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("leads.questions", "GET"):               ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("leads.questions", "POST"):              ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("leads.move_question", "POST"):          ("login",  "403",    "403",    "403",    "403",    "403",    LEAD_QUESTIONS, "403"),
    ("leads.question_active", "POST"):        ("login",  "403",    "403",    "403",    "403",    "403",    LEAD_QUESTIONS, "403"),
    ("leads.delete_question", "POST"):        ("login",  "403",    "403",    "403",    "403",    "403",    LEAD_QUESTIONS, "403"),
    ("leads_api.lead", "GET"):                ("401",    "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("leads_api.lead", "PATCH"):              ("401",    "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("postshow.report", "GET"):                ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
    ("postshow.dashboard_json", "GET"):        ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
    ("campaigns.campaigns", "GET"):            ("login",  "200",    "200",    "403",    "403",    "200",    "403",     "403"),
    ("campaigns.new_campaign", "GET"):         ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("campaigns.new_campaign", "POST"):        ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("campaigns.edit_campaign", "GET"):        ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("campaigns.edit_campaign", "POST"):       ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("campaigns.campaign", "GET"):             ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("campaigns.campaign_status", "POST"):     ("login",  CAMPAIGN, CAMPAIGN, "403",    "403",    "403",    "403",     "403"),
    ("campaigns.report", "GET"):               ("login",  "200",    "200",    "403",    "403",    "200",    "403",     "403"),
    ("campaigns.unsubscribe", "GET"):          ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("campaigns.unsubscribe", "POST"):         ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("zones.setup", "GET"):                    ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("zones.setup", "POST"):                   ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("zones.save_gate", "POST"):               ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("zones.delete", "POST"):                  ("login",  ZONES,    ZONES,    "403",    "403",    "403",    "403",     "403"),
    ("zones.attendance", "GET"):               ("login",  "200",    "200",    "403",    "200",    "200",    "403",     "403"),
    ("zones.attendance_json", "GET"):          ("login",  "200",    "200",    "403",    "200",    "200",    "403",     "403"),
    # --- meetings (expo.matchmaking.meeting_views) ---
    ("meetings.meetings", "GET"):              ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("meetings.today", "GET"):                 ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("meetings.answer", "POST"):               ("login",  "403",    "403",    "403",    "403",    "403",    MEETINGS,  MEETINGS),
    ("meetings.move_meeting", "POST"):         ("login",  "403",    "403",    "403",    "403",    "403",    MEETINGS,  MEETINGS),
    ("meetings.request_visitor", "POST"):      ("login",  "403",    "403",    "403",    "403",    "403",    MEETINGS,  MEETINGS),
    ("meetings.exhibitor_calendar", "GET"):    ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("meetings.slots", "GET"):                 ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("meetings.slots", "POST"):                ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("meetings.delete_slot", "POST"):          ("login",  "403",    "403",    "403",    "403",    "403",    SLOTS,     "403"),
    ("meetings.visitor_meetings", "GET"):      ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("meetings.visitor_request", "POST"):      (VMEET,    VMEET,    VMEET,    VMEET,    VMEET,    VMEET,    VMEET,     VMEET),
    ("meetings.visitor_answer", "POST"):       (VMEET,    VMEET,    VMEET,    VMEET,    VMEET,    VMEET,    VMEET,     VMEET),
    ("meetings.visitor_calendar", "GET"):      ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("meetings.visitor_move", "GET"):          (VMEET,    VMEET,    VMEET,    VMEET,    VMEET,    VMEET,    VMEET,     VMEET),
    ("meetings.visitor_move", "POST"):         (VMEET,    VMEET,    VMEET,    VMEET,    VMEET,    VMEET,    VMEET,     VMEET),
    ("meetings.edition_meetings", "GET"):      ("login",  "200",    "200",    "200",    "200",    "200",    "403",     "403"),
    ("meetings.edition_caps", "POST"):         ("login",  EMEET,    EMEET,    "403",    "403",    "403",    "403",     "403"),
    ("api.scan", "POST"):                      ("401",    "200",    "200",    "403",    "200",    "403",    "200",     "200"),
    ("api.scan_batch", "POST"):                ("401",    "200",    "200",    "item403", "200",   "item403", "200",    "200"),
    ("scanner_api.config", "GET"):             ("401",    "200",    "200",    "403",    "200",    "403",    "200",     "200"),
    # products (exhibitor portal, public list) and digests
    ("products.catalogue", "GET"):             ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("products.catalogue", "POST"):            ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("products.delete", "POST"):               ("login",  "403",    "403",    "403",    "403",    "403",    "->/portal/products", "403"),
    ("products.public_list", "GET"):           ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("campaigns.new_digest", "GET"):           ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("campaigns.new_digest", "POST"):          ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("campaigns.edit_digest", "GET"):          ("login",  CAMPAIGN + "/edit", CAMPAIGN + "/edit", "403", "403", "403", "403", "403"),
    ("campaigns.edit_digest", "POST"):         ("login",  CAMPAIGN + "/edit", CAMPAIGN + "/edit", "403", "403", "403", "403", "403"),
    ("campaigns.digest_link", "GET"):          ("404",    "404",    "404",    "404",    "404",    "404",    "404",     "404"),
    ("pwa.manifest", "GET"):                   ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("pwa.service_worker", "GET"):             ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    # --- recommendations (expo.matchmaking.views, expo.matchmaking.api) ---
    ("matchmaking.matchmaking", "GET"):        ("login",  "200",    "200",    "200",    "403",    "200",    "403",     "403"),
    ("matchmaking.matchmaking", "POST"):       ("login",  MATCH,    MATCH,    "403",    "403",    "403",    "403",     "403"),
    ("matchmaking.run", "POST"):               ("login",  MATCH,    MATCH,    "403",    "403",    "403",    "403",     "403"),
    ("matchmaking.backtest", "POST"):          ("login",  MATCH,    MATCH,    "403",    "403",    "403",    "403",     "403"),
    ("matchmaking.exclusions", "POST"):        ("login",  MATCH,    MATCH,    "403",    "403",    "403",    "403",     "403"),
    ("matchmaking.visitors_to_invite", "GET"): ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "200"),
    ("matchmaking.dismiss", "POST"):           ("login",  "403",    "403",    "403",    "403",    "403",    "404",     "404"),
    ("matchmaking.exhibitors_to_see", "GET"):  ("200",    "200",    "200",    "200",    "200",    "200",    "200",     "200"),
    ("matchmaking_api.registration_recommendations", "GET"): ("401", "200", "200", "200", "403", "200", "403", "403"),
    ("matchmaking_api.exhibitor_recommendations", "GET"):    ("401", "200", "200", "200", "403", "200", "403", "403"),
}
# fmt: on

# Issue 8's parts keep their expectations and the rows their URLs need in tests/access_parts/<part>.py: EXPECTED
# (the same table), ID_PARAMS (their own id parameters) and build(tenant) -> {param: id} (rows made for a tenant).
from .access_parts import floor, manual, pipeline, portal, rebooking, reps  # noqa: E402
from .access_parts import callbacks, customers, lead_follow_up, predictions, surveys, tickets, winback  # noqa: E402
from .access_parts import analytics  # noqa: E402

ACCESS_PARTS = (pipeline, reps, floor, portal, manual, rebooking,
                surveys, tickets, callbacks, lead_follow_up, customers, predictions, winback, analytics)
for _part in ACCESS_PARTS:
    assert not EXPECTED.keys() & _part.EXPECTED.keys(), _part.__name__
    EXPECTED.update(_part.EXPECTED)

# Pages under /org/editions/<edition_id>/ load the edition in the user's scope before anyone is
# authorised (core.auth.edition_scoped): another organizer's edition is a 404 for all organizer staff.
EDITION_SCOPED_PREFIX = "/org/editions/<int:edition_id>"

# URL parameters that name a row of one organizer (filled from the other organizer in the foreign walk).
ID_PARAMS = {"edition_id", "show_id", "lead_id", "token_id", "registration_id", "exhibitor_id", "person_id",
             "company_id", "campaign_id", "job_id"}.union(*(part.ID_PARAMS for part in ACCESS_PARTS))
# URL parameters of public pages (a slug or a visitor's key is its own authorization).
PUBLIC_PARAMS = {"slug", "key", "code", "token", "name"}  # name: a job's result file, under its job id  # token: a campaign mail's signed unsubscribe link


def expected(endpoint: str, method: str, role: str) -> str:
    return EXPECTED[(endpoint, method)][ROLES.index(role)]


def foreign_expected(app, endpoint: str, method: str, role: str) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    if rule.rule.startswith(EDITION_SCOPED_PREFIX) and role in ORGANIZER_ROLES:
        return "404"
    own = expected(endpoint, method, role)
    return "404" if own == "200" or own.startswith("->") else own


def _cases():
    for (endpoint, method), row in EXPECTED.items():
        assert len(row) == len(ROLES), (endpoint, method)
        for role in ROLES:
            yield pytest.param(endpoint, method, role, id=f"{endpoint}-{method}-{role}")


# Endpoints whose rule has an id parameter; written out so that parametrization needs no app.
ENDPOINTS_WITH_IDS = {"questions.questions", "questions.move_question", "questions.question_active",
                      "questions.delete_question", "questions.preview", "questions.category_rules",
                      "questions.move_rule", "questions.rule_active", "questions.test_rules",
                      "questions.override_category",
                      "core.revoke_token", "core.show", "core.new_edition", "core.edition",
                      "exhibitors.edition_exhibitors", "exhibitors.exhibitor_status",
                      "visitors.registrations", "visitors.registration", "visitors.registrations_xlsx",
                      "visitors.registrations_csv", "visitors.edit_person", "visitors.registration_status",
                      "visitors.print_badge", "visitors.reissue_badge", "visitors.cancel_registration",
                      "onsite.checkin", "leads.lead", "leads.lead_vcard", "leads_api.lead", "kiosk.setup", "kiosk.start", "kiosk.exit_kiosk", "kiosk.run", "kiosk.desk", "kiosk.desk_print",
                      "kiosk.queue", "kiosk.queue_rows", "kiosk.queue_pdf", "kiosk.queue_update",
                      "core.edition_consent", "core.edition_retention", "visitors.staff_data_json",
                      "visitors.staff_data_html", "visitors.staff_erase",
                      "badges.layouts", "badges.preview", "badges.print_batch",
                      "postshow.report", "postshow.dashboard_json", "visitors.person", "exhibitors.company",
                      "registration.setup", "registration.approvals", "registration.decide",
                      "registration.invitations_report", "registration.organizer_code_switch",
                      "core.job", "core.job_status", "core.job_file", "core.import_mapping", "core.import_preview",
                      "core.edition_imports",
                      "campaigns.campaigns", "campaigns.new_campaign", "campaigns.edit_campaign", "campaigns.campaign",
                      "campaigns.campaign_status", "campaigns.report", "campaigns.new_digest", "campaigns.edit_digest",
                      "zones.setup", "zones.save_gate", "zones.delete", "zones.attendance", "zones.attendance_json",
                      "meetings.edition_meetings", "meetings.edition_caps",  # meetings
                      # recommendations
                      "matchmaking.matchmaking", "matchmaking.run", "matchmaking.backtest", "matchmaking.exclusions",
                      "matchmaking_api.registration_recommendations", "matchmaking_api.exhibitor_recommendations"}
ENDPOINTS_WITH_IDS |= {endpoint for part in ACCESS_PARTS for endpoint in getattr(part, "ENDPOINTS_WITH_IDS", ())}


def _foreign_cases():
    for (endpoint, method) in EXPECTED:
        if endpoint in ENDPOINTS_WITH_IDS:
            for role in ROLES:
                yield pytest.param(endpoint, method, role, id=f"{endpoint}-{method}-{role}")


# --- the world -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Side:
    """One organizer of the world (``make.tenant``) as plain values: ids, emails, tokens, the badge code and
    the texts that must never show up in the other organizer's answers. Plain values can be shared by the
    tests of a whole module, whatever session they run in."""

    emails: dict
    tokens: dict  # role -> clear text
    ids: dict
    code: str
    secrets: tuple

    @classmethod
    def of(cls, t, extra: dict | None = None) -> Side:
        users = t.users
        return cls(emails={role: user.email for role, user in users.items()},
                   tokens={role: clear for role, (_token, clear) in t.tokens.items()},
                   ids={"edition_id": t.edition.id, "show_id": t.show.id, "lead_id": t.lead.id,
                        "token_ids": {role: token.id for role, (token, _clear) in t.tokens.items()},
                        "slug": t.edition.slug, "key": t.registration.access_key,
                        "registration_id": t.registration.id, "exhibitor_id": t.exhibitor.id,
                        "person_id": t.registration.person_id, "company_id": t.exhibitor.company_id,
                        "campaign_id": t.campaign.id, "job_id": t.import_job.id, "name": "errors.csv",
                        "token": campaign_services.unsubscribe_token(t.campaign.id, t.registration.person_id),
                        **(extra or {})},
                   code=t.code,
                   secrets=(t.registration.person.name, t.registration.person.email, t.edition.name,
                            t.exhibitor.company.name))

    def params(self, role: str) -> dict:
        ids = dict(self.ids)
        token_ids = ids.pop("token_ids")
        return {**ids, "token_id": token_ids[role if role in token_ids else "owner"], "code": "en"}


def _build_world(factory):
    tenants = factory.tenant("A", tokens=True), factory.tenant("B", tokens=True)
    db.session.commit()
    extras = [{k: v for part in ACCESS_PARTS for k, v in part.build(t).items()} for t in tenants]
    db.session.commit()
    return tenants, tuple(Side.of(t, extra) for t, extra in zip(tenants, extras))


@pytest.fixture
def world(make):
    """A fresh world for tests that change it (POSTs, tokens, accounts): (own, other) as Sides."""
    _tenants, sides = _build_world(make)
    return sides


@pytest.fixture
def tenants(make):
    """A fresh world with its ORM objects, for tests that revoke tokens or deactivate users."""
    tenants, _sides = _build_world(make)
    return tenants


@pytest.fixture(scope="module")
def read_world(app):
    """The world for read-only requests (GET), built once for the module: the route × role matrix stays
    fast as routes multiply. Tests using it are marked ``shared_world`` (no emptying after each test)."""
    with app.app_context():
        _tenants, sides = _build_world(Factory())
        db.session.remove()
    yield sides
    empty_database(app)


def build_url(app, endpoint: str, params: dict) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    missing = rule.arguments - params.keys()
    assert not missing, f"{rule.rule}: no test value for {missing}; add one to Tenant.params()"
    with app.test_request_context():
        return url_for(endpoint, **{name: params[name] for name in rule.arguments})


def api_body(side: Side, endpoint: str, role: str):
    if role in EXHIBITOR_ROLES:
        scan = {"code": side.code, "kind": "lead", "client_scan_id": str(uuid.uuid4())}
    else:
        scan = {"code": side.code, "kind": "checkin", "client_scan_id": str(uuid.uuid4()),
                "edition_id": side.ids["edition_id"]}
    return [scan] if endpoint == "api.scan_batch" else scan


def outcome(response, path: str) -> str:
    if 300 <= response.status_code < 400:
        location = urlsplit(response.headers["Location"])
        if location.path == "/login" and "next" in parse_qs(location.query):
            assert parse_qs(location.query)["next"] == [path], response.headers["Location"]
            return "login"
        return "->" + location.path
    if response.status_code == 200 and path.startswith("/api/") and response.request.method == "POST":  # scan answers
        body = response.get_json()
        items = body if isinstance(body, list) else [body]
        statuses = {item.get("status") for item in items if item.get("result") == "error"}
        if statuses:
            return "item" + "/".join(str(s) for s in sorted(statuses))
        assert all(item["result"] in ("ok", "duplicate") for item in items), body
    return str(response.status_code)


def request_as(app, client, tenant: Side, url_tenant: Side, endpoint: str, method: str, role: str,
               *, api_auth: str = "session"):
    """Sign in as ``role`` of ``tenant``, then call the endpoint with ``url_tenant``'s objects."""
    if role != "anonymous" and api_auth == "session":
        login(client, tenant.emails[role])
    url = build_url(app, endpoint, url_tenant.params(role))
    if method == "GET":
        return url, client.get(url)
    token = csrf_token(client, "/login")
    if endpoint.startswith("api.") or endpoint.startswith("leads_api."):
        headers = {}
        if api_auth == "token":
            clear = tenant.tokens[role] if role != "anonymous" else "expo_not-a-real-token"
            headers["Authorization"] = f"Bearer {clear}"
        elif role != "anonymous":
            headers["X-CSRFToken"] = token
        if endpoint.startswith("leads_api."):  # the lead API: qualify the lead (PATCH)
            return url, client.open(url, method=method, json={"rating": "warm", "notes": "from the access walk"},
                                    headers=headers)
        return url, client.post(url, json=api_body(tenant, endpoint, role), headers=headers)
    return url, client.post(url, data={"csrf_token": token})


# --- the tests -----------------------------------------------------------------------------------

def test_every_route_has_an_expectation(app):
    """A route (or a method of a route) without a line in EXPECTED fails here."""
    in_app = {(rule.endpoint, method) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
              for method in rule.methods & HTTP_METHODS}
    assert set(EXPECTED) == in_app
    endpoints = [rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    assert len(endpoints) == len(set(endpoints)), "one rule per endpoint: build_url() picks the first"
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        assert rule.arguments <= ID_PARAMS | PUBLIC_PARAMS, f"{rule.rule}: unknown URL parameter"
        assert (rule.endpoint in ENDPOINTS_WITH_IDS) == bool(rule.arguments & ID_PARAMS), rule.rule


def _check_access(app, client, own, endpoint, method, role):
    url, response = request_as(app, client, own, own, endpoint, method, role)
    want = expected(endpoint, method, role).format(**own.params(role))
    assert outcome(response, url) == want, f"{method} {url} as {role}: {response.status_code}"


def _check_foreign_access(app, client, own, other, endpoint, method, role):
    url, response = request_as(app, client, own, other, endpoint, method, role)
    want = foreign_expected(app, endpoint, method, role).format(**other.params(role))
    assert outcome(response, url) == want, f"{method} {url} as {role} of organizer A: {response.status_code}"
    body = response.get_data(as_text=True)
    for secret in other.secrets:
        assert secret not in body


@pytest.mark.parametrize("endpoint, method, role", [c for c in _cases() if c.values[1] != "GET"])
def test_access(app, client, world, endpoint, method, role):
    _check_access(app, client, world[0], endpoint, method, role)


@pytest.mark.parametrize("endpoint, method, role", [c for c in _foreign_cases() if c.values[1] != "GET"])
def test_access_to_another_organizers_objects(app, client, world, endpoint, method, role):
    _check_foreign_access(app, client, *world, endpoint, method, role)


@pytest.mark.parametrize("endpoint", ["api.scan", "api.scan_batch"])
@pytest.mark.parametrize("role", ROLES)
def test_api_with_bearer_tokens(app, client, world, endpoint, role):
    """The scan API answers a bearer token exactly as it answers the same user's session."""
    own, _other = world
    url, response = request_as(app, client, own, own, endpoint, "POST", role, api_auth="token")
    assert outcome(response, url) == expected(endpoint, "POST", role)


@pytest.mark.parametrize("endpoint", ["api.scan", "api.scan_batch"])
def test_api_session_without_csrf_token_is_refused(app, client, world, endpoint):
    own, _other = world
    login(client, own.emails["booth_staff"])
    url = build_url(app, endpoint, {})
    response = client.post(url, json=api_body(own, endpoint, "booth_staff"))
    assert response.status_code == 400
    assert db.session.query(Scan).count() == 2  # only the world's own two lead scans


def test_revoked_token_is_refused(app, client, tenants):
    own, _other = tenants
    token, clear = own.tokens["booth_staff"]
    core.revoke_api_token(own.users["booth_staff"], token.id)
    db.session.commit()
    response = client.post("/api/v1/scans", json=api_body(Side.of(own), "api.scan", "booth_staff"),
                           headers={"Authorization": f"Bearer {clear}"})
    assert response.status_code == 401


def test_inactive_user_loses_access(app, client, tenants):
    own, _other = tenants
    login(client, own.users["manager"])
    assert client.get("/org").status_code == 200
    own.users["manager"].active = False
    db.session.commit()
    response = client.get("/org")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/x", "/\\evil.example/x",
                                    "\\\\evil.example/x", "/\t/evil.example/x", "/\n/evil.example/x",
                                    "/\\\t\\evil.example/x", " //evil.example/x"])
@pytest.mark.parametrize("path", ["/login", "/lang/en"])
def test_next_parameter_never_leaves_the_site(app, client, world, path, target):
    """?next= is followed only to a path of this site (browsers read "/\\host" as "//host")."""
    own, _other = world
    if path == "/login":
        client.get("/login")
        response = client.post("/login", query_string={"next": target},
                               data={"email": own.emails["owner"], "password": "correct-horse-9",
                                     "csrf_token": csrf_token(client)})
    else:
        response = client.get(path, query_string={"next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    normalized = "".join(ch for ch in location.replace("\\", "/") if ch >= " ")
    assert normalized.startswith("/") and not normalized.startswith("//"), location
    assert not urlsplit(normalized).netloc, location


# --- read-only requests on the shared world: last in the module, which empties the database after them ---

@pytest.mark.shared_world
@pytest.mark.parametrize("endpoint, method, role", [c for c in _cases() if c.values[1] == "GET"])
def test_access_read(app, client, read_world, endpoint, method, role):
    _check_access(app, client, read_world[0], endpoint, method, role)


@pytest.mark.shared_world
@pytest.mark.parametrize("endpoint, method, role", [c for c in _foreign_cases() if c.values[1] == "GET"])
def test_access_read_to_another_organizers_objects(app, client, read_world, endpoint, method, role):
    _check_foreign_access(app, client, *read_world, endpoint, method, role)
