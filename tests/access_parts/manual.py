"""Route × role expectations of issue 8's manual part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t`` (a
tests.conftest Factory tenant: t.edition, t.exhibitor, t.users[role], ...) and returns their ids by URL parameter.
"""
from __future__ import annotations

ID_PARAMS: set[str] = {"form_id", "section_id", "badge_id"}  # this part's URL parameters that name one organizer's row

MANUAL = "->/org/editions/{edition_id}/manual"
FORM = "->/org/editions/{edition_id}/manual/forms/{form_id}"
CHECKLIST = "->/portal/manual"
BADGES = "->/portal/staff-badges"

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("manual.index", "GET"):                   ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("manual.index", "POST"):                  ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("manual.delete_section", "POST"):         ("login",  MANUAL,   MANUAL,   "403",    "403",    "403",    "403",     "403"),
    ("manual.form", "GET"):                    ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("manual.form", "POST"):                   ("login",  FORM,     FORM,     "403",    "403",    "403",    "403",     "403"),
    ("manual.remove_field", "POST"):           ("login",  FORM,     FORM,     "403",    "403",    "403",    "403",     "403"),
    ("manual.delete_form", "POST"):            ("login",  MANUAL,   MANUAL,   "403",    "403",    "403",    "403",     "403"),
    ("manual.reopen", "POST"):                 ("login",  FORM,     FORM,     "403",    "403",    "403",    "403",     "403"),
    ("manual.export", "GET"):                  ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("manual.checklist", "GET"):               ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("manual.fill", "GET"):                    ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("manual.fill", "POST"):                   ("login",  "403",    "403",    "403",    "403",    "403",    CHECKLIST, "403"),
    ("staff_badges.portal", "GET"):            ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("staff_badges.portal", "POST"):           ("login",  "403",    "403",    "403",    "403",    "403",    "422",     "403"),
    ("staff_badges.remove", "POST"):           ("login",  "403",    "403",    "403",    "403",    "403",    BADGES,    "403"),
    ("staff_badges.badge_pdf", "GET"):         ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("staff_badges.all_pdf", "GET"):           ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("staff_badges.edition", "GET"):           ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("staff_badges.edition", "POST"):          ("login",  "422",    "422",    "403",    "403",    "403",    "403",     "403"),
}
# fmt: on

# The endpoints with an id in their URL (tests/test_access.py ENDPOINTS_WITH_IDS must hold them).
ENDPOINTS_WITH_IDS = {endpoint for endpoint, _method in EXPECTED} - {"manual.checklist", "staff_badges.portal",
                                                                     "staff_badges.all_pdf"}


def build(t) -> dict:
    from datetime import date, timedelta

    from expo.core.scoping import Scope
    from expo.exhibitors import manual
    from expo.onsite import staff_badges

    scope = Scope(t.organizer.id)
    form = manual.create_form(scope, t.edition, manual.FormData(f"Fascia {t.label}", date.today() + timedelta(days=30)),
                              fields=[{"label": "Fascia name", "type": "text"}])
    section = manual.add_section(scope, t.edition, f"Move-in {t.label}", "Trucks from 8:00.")
    badge = staff_badges.add_staff_badge(t.exhibitor, staff_badges.StaffMember(f"Booth person {t.label}"))
    return {"form_id": form.id, "section_id": section.id, "badge_id": badge.id}
