"""Route × role expectations of issue 8's pipeline part (merged into tests/test_access.py's EXPECTED).

Outcomes and the column order are those of tests/test_access.py: anonymous, owner, manager, sales, onsite, analyst,
exhibitor admin, booth staff. ``build(t)`` makes the rows this part's URLs need for the tenant ``t`` (a
tests.conftest Factory tenant: t.edition, t.exhibitor, t.users[role], ...) and returns their ids by URL parameter.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

ID_PARAMS: set[str] = {"contract_id", "booth_type_id", "contact_id"}  # this part's URL parameters naming a row

BOARD = "->/org/editions/{edition_id}/pipeline"
DEAL = "->/org/editions/{edition_id}/pipeline/{exhibitor_id}"
SETTINGS = "->/org/editions/{edition_id}/pipeline/settings"
COMPANY = "->/org/companies/{company_id}"

# fmt: off
#                                             anonymous   owner    manager  sales    onsite   analyst  exh.admin  booth_staff
EXPECTED: dict = {
    ("pipeline.board", "GET"):                 ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("pipeline.deals", "GET"):                 ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("pipeline.move", "POST"):                 ("login",  BOARD,    BOARD,    BOARD,    "403",    "403",    "403",     "403"),
    ("pipeline.deal", "GET"):                  ("login",  "200",    "200",    "200",    "403",    "403",    "403",     "403"),
    ("pipeline.deal", "POST"):                 ("login",  DEAL,     DEAL,     DEAL,     "403",    "403",    "403",     "403"),
    ("pipeline.add_contract", "POST"):         ("login",  DEAL,     DEAL,     DEAL,     "403",    "403",    "403",     "403"),
    ("pipeline.add_payment", "POST"):          ("login",  DEAL,     DEAL,     DEAL,     "403",    "403",    "403",     "403"),
    ("pipeline.settings", "GET"):              ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("pipeline.settings", "POST"):             ("login",  "200",    "200",    "403",    "403",    "403",    "403",     "403"),
    ("pipeline.booth_type", "POST"):           ("login",  SETTINGS, SETTINGS, "403",    "403",    "403",    "403",     "403"),
    ("pipeline.add_contact", "POST"):          ("login",  COMPANY,  COMPANY,  COMPANY,  "403",    "403",    "403",     "403"),
    ("pipeline.contact", "POST"):              ("login",  COMPANY,  COMPANY,  COMPANY,  "403",    "403",    "403",     "403"),
    ("pipeline.log_activity", "POST"):         ("login",  COMPANY,  COMPANY,  COMPANY,  "403",    "403",    "403",     "403"),
}
# fmt: on

# Every endpoint above names a row of one organizer (tests/test_access.py ENDPOINTS_WITH_IDS must list them).
ENDPOINTS_WITH_IDS = {endpoint for endpoint, _method in EXPECTED}


def build(t) -> dict:
    from expo.core.scoping import Scope
    from expo.exhibitors import accounts, pipeline

    scope = Scope(t.organizer.id)
    kind = pipeline.save_booth_type(scope, t.edition, code=f"SHELL{t.label}", name_en="Shell scheme",
                                    name_zh="标准展位", price_per_m2=Decimal("1500"))
    contact = accounts.add_contact(scope, t.exhibitor.company, accounts.ContactData(name=f"Contact {t.label}"))
    contract = accounts.add_contract(scope, t.exhibitor, number=f"C-{t.label}-1", signed_on=date(2026, 1, 5),
                                     amount=Decimal("90000"))
    return {"contract_id": contract.id, "booth_type_id": kind.id, "contact_id": contact.id}
