"""Route × role expectations of issue 8's rebooking part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t`` (a
tests.conftest Factory tenant: t.edition, t.exhibitor, t.users[role], ...) and returns their ids by URL parameter.

With them, the exhibitors' ROI reports (the PDF in the portal, the organizer's mailing). Rebooking: sales see offers and answers, owner and manager make them (POST); the exhibitor admin answers the
company's offer in the portal and reads the exhibitor dashboard; booth staff do neither. A POST without a form
(the walk's) re-shows the organizer's form (200) or comes back to the offer with a message.
"""
from __future__ import annotations

from datetime import timedelta

ID_PARAMS: set[str] = {"offer_id"}  # this part's URL parameters that name one organizer's row
# The endpoints with an id in their URL (tests/test_access.py ENDPOINTS_WITH_IDS must hold them).
ENDPOINTS_WITH_IDS = {"rebooking.offers", "rebooking.offer", "rebooking.portal_offer", "postshow.mail_roi_reports"}

OFFER = "->/org/editions/{edition_id}/rebooking/{offer_id}"
REPORT = "->/org/editions/{edition_id}/report"  # the ROI reports' button: before the show's end, a message
PORTAL_OFFER = "->/portal/rebooking/{offer_id}"

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("rebooking.offers", "GET"):               ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("rebooking.offers", "POST"):              ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("rebooking.offer", "GET"):                ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("rebooking.offer", "POST"):               ("login",  OFFER,    OFFER,    "403",    "403",    "403",    "403",     "403"),
    ("rebooking.portal_offers", "GET"):        ("login",  "403",    "403",    "403",    "403",    "403",    PORTAL_OFFER, "403"),
    ("rebooking.portal_offer", "GET"):         ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("rebooking.portal_offer", "POST"):        ("login",  "403",    "403",    "403",    "403",    "403",    PORTAL_OFFER, "403"),
    ("exhibitor_dashboard.dashboard", "GET"):  ("login",  "403",    "403",    "403",    "403",    "403",    "200",     "403"),
    ("exhibitor_dashboard.dashboard_json", "GET"): ("login", "403", "403",    "403",    "403",    "403",    "200",     "403"),
    ("exhibitor_dashboard.roi_report_pdf", "GET"): ("login", "403", "403",    "403",    "403",    "403",    "200",     "403"),
    ("postshow.mail_roi_reports", "POST"):     ("login",  REPORT,   REPORT,   "403",    "403",    "403",    "403",     "403"),
}
# fmt: on


def build(t) -> dict:
    """An earlier edition of the tenant's show where its first exhibitor's company took part, and that company's
    open offer for the tenant's edition."""
    from expo.core import services as core
    from expo.core.scoping import Scope
    from expo.exhibitors import services as exhibitor_services
    from expo.extensions import db
    from expo.postshow.models import RebookingOffer

    scope = Scope(t.organizer.id)
    starts = t.edition.starts_on - timedelta(days=365)
    before = core.create_edition(scope, t.show, f"{t.show.name} {starts.year}", starts, starts + timedelta(days=3),
                                 venue="Hall", timezone=t.edition.timezone, status="closed")
    earlier = exhibitor_services.add_exhibitor(scope, before, t.exhibitor.company.name, status="exhibited")
    offer = RebookingOffer(organizer_id=t.organizer.id, edition_id=t.edition.id, from_edition_id=before.id,
                           company_id=t.exhibitor.company_id, exhibitor_id=earlier.id, status="open",
                           deadline_on=t.edition.ends_on, accept_stage="negotiating", leads=3, hot_leads=1,
                           meetings=2, results={"booth": "1-A1", "area_m2": "18"})
    db.session.add(offer)
    db.session.flush()
    return {"offer_id": offer.id}
