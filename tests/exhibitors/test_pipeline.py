"""The booth-sales pipeline: stage moves (illegal ones refused, lost needs a reason), values and weighted values,
the board and the list with their filters and totals, the deal page, booth types and stage probabilities."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from expo.core.models import Activity, AuditEntry, Organizer
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors import pipeline
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.models import Exhibitor, StageProbability
from expo.extensions import db

from ..conftest import Browser


def _deal(make, edition, name, status="prospect", *, area=None, price=None, booth_type=None, close=None, rep=None):
    exhibitor = exhibitor_services.add_exhibitor(Scope(edition.organizer_id), edition, name, status=status,
                                                 area_m2=Decimal(area) if area else None,
                                                 price=Decimal(price) if price else None)
    exhibitor.booth_type = booth_type
    exhibitor.expected_close_on = close
    exhibitor.sales_rep_id = rep.id if rep else None
    db.session.flush()
    return exhibitor


@pytest.fixture
def sales(make):
    edition = make.edition()
    organizer = db.session.get(Organizer, edition.organizer_id)
    scope = Scope(organizer.id)
    shell = pipeline.save_booth_type(scope, edition, code="SHELL", name_en="Shell scheme", name_zh="标准展位",
                                     price_per_m2=Decimal("1500"))
    raw = pipeline.save_booth_type(scope, edition, code="RAW", name_en="Raw space", name_zh="光地",
                                   price_per_m2=Decimal("1000"))
    rep = make.user("sales", organizer)
    manager = make.user("manager", organizer)
    deals = {
        "a": _deal(make, edition, "Alpha Furniture", "prospect", area="18", booth_type=shell, close=date(2026, 5, 10),
                   rep=rep),  # 27,000
        "b": _deal(make, edition, "Beta Lighting", "negotiating", area="36", booth_type=raw, close=date(2026, 6, 1)),
        "c": _deal(make, edition, "Gamma Textiles", "contracted", area="9", price="20000", booth_type=shell,
                   rep=rep),
        "d": _deal(make, edition, "Delta Wood", "contacted"),  # no value
    }
    db.session.commit()
    return edition, scope, shell, raw, rep, manager, deals


# --- stage moves ----------------------------------------------------------------------------------------

def test_legal_moves_are_audited_and_on_the_timeline(app, sales):
    edition, scope, *_rest, deals = sales
    exhibitor = deals["a"]
    assert exhibitor_services.set_status(exhibitor, "contacted", actor_id=None)
    assert not exhibitor_services.set_status(exhibitor, "contacted")  # already there
    db.session.commit()
    audit = db.session.query(AuditEntry).filter_by(action="exhibitor.status", object_id=exhibitor.id).all()
    assert [(a.details["from"], a.details["to"]) for a in audit] == [("prospect", "contacted")]
    kinds = [a.kind for a in db.session.query(Activity).filter_by(subject_id=exhibitor.company_id)]
    assert "exhibitor.status" in kinds


@pytest.mark.parametrize("source, target", [("prospect", "paid"), ("prospect", "exhibited"), ("contacted", "paid"),
                                            ("contracted", "prospect"), ("contracted", "lost"), ("exhibited", "lost"),
                                            ("lost", "contracted"), ("cancelled", "paid")])
def test_illegal_moves_are_refused(app, make, source, target):
    edition = make.edition()
    exhibitor = exhibitor_services.add_exhibitor(Scope(edition.organizer_id), edition, "Acme", status=source)
    with pytest.raises(ServiceError, match="cannot change"):
        exhibitor_services.set_status(exhibitor, target, reason="any")
    assert exhibitor.status == source


def test_unknown_stage_is_refused(app, sales):
    *_rest, deals = sales
    for target in ("won", "", "prospect\x00", "PAID"):
        with pytest.raises(ServiceError):
            exhibitor_services.set_status(deals["a"], target)


def test_lost_needs_a_reason_and_reviving_clears_it(app, sales):
    *_rest, deals = sales
    exhibitor = deals["b"]
    for blank in ("", "   ", "\x00"):
        with pytest.raises(ServiceError, match="why"):
            exhibitor_services.set_status(exhibitor, "lost", reason=blank)
    with pytest.raises(ServiceError, match="too long"):
        exhibitor_services.set_status(exhibitor, "lost", reason="x" * 501)
    assert exhibitor.status == "negotiating"
    exhibitor_services.set_status(exhibitor, "lost", reason="  Budget   cut ")
    assert exhibitor.status == "lost" and exhibitor.lost_reason == "Budget cut"
    db.session.commit()
    lost = db.session.query(Activity).filter_by(kind="exhibitor.lost", subject_id=exhibitor.company_id).one()
    assert lost.details["reason"] == "Budget cut"
    exhibitor_services.set_status(exhibitor, "prospect")
    assert exhibitor.lost_reason == ""


# --- values, totals, the board and the list ---------------------------------------------------------------

def test_values_and_weighted_values(app, sales):
    edition, scope, shell, raw, rep, manager, deals = sales
    assert deals["a"].deal_value == Decimal("27000.00")  # 18 m² × 1,500
    assert deals["b"].deal_value == Decimal("36000.00")
    assert deals["c"].deal_value == Decimal("20000.00")  # the agreed price wins
    assert deals["d"].deal_value is None
    found = pipeline.totals(scope, edition)
    assert found.stages["prospect"].value == Decimal("27000.00")
    assert found.stages["prospect"].weighted == Decimal("2700.00")  # 10 %
    assert found.stages["negotiating"].weighted == Decimal("18000.00")  # 50 %
    assert found.stages["contracted"].weighted == Decimal("18000.00")  # 90 %
    assert found.count == 4 and found.value == Decimal("83000.00")
    assert found.weighted == Decimal("38700.00")
    assert found.open_value == Decimal("63000.00") and found.won_value == Decimal("20000.00")
    assert found.area == Decimal("63.00")
    # the edition's own probability replaces the default
    pipeline.set_probabilities(scope, edition, {"negotiating": 70})
    assert pipeline.totals(scope, edition).stages["negotiating"].weighted == Decimal("25200.00")


def test_filters(app, sales):
    edition, scope, shell, raw, rep, manager, deals = sales

    def names(**args):
        filters = pipeline.PipelineFilters.from_args({k: v if isinstance(v, list) else [v] for k, v in args.items()})
        return sorted(c.exhibitor.company.name for c in pipeline.deal_list(scope, edition, filters).cards)

    assert names() == ["Alpha Furniture", "Beta Lighting", "Delta Wood", "Gamma Textiles"]
    assert names(stage=["prospect", "contacted"]) == ["Alpha Furniture", "Delta Wood"]
    assert names(rep=str(rep.id)) == ["Alpha Furniture", "Gamma Textiles"]
    assert names(rep="none") == ["Beta Lighting", "Delta Wood"]
    assert names(type=str(raw.id)) == ["Beta Lighting"]
    assert names(close="2026-05") == ["Alpha Furniture"]
    assert names(q="gamma") == ["Gamma Textiles"]
    # what does not parse is no filter, never an error
    for junk in ({"rep": "x\x00"}, {"type": "99999999999999999999"}, {"close": "2026-13"}, {"stage": "won"}):
        assert len(names(**junk)) == 4
    listing = pipeline.deal_list(scope, edition, pipeline.PipelineFilters.from_args({"rep": [str(rep.id)]}))
    assert listing.totals.value == Decimal("47000.00") and listing.totals.count == 2


def test_board_columns_count_and_sum(app, sales):
    edition, scope, *_rest, deals = sales
    found = pipeline.board(scope, edition)
    assert [c.state.code for c in found.columns] == list(pipeline.BOARD_STAGES)
    by_code = {c.state.code: c for c in found.columns}
    assert [c.exhibitor.company.name for c in by_code["prospect"].cards] == ["Alpha Furniture"]
    assert by_code["negotiating"].total.value == Decimal("36000.00")
    assert {m.code for m in by_code["prospect"].cards[0].moves} == {"contacted", "negotiating", "contracted", "lost"}


def test_board_and_list_pages(app, sales):
    edition, scope, shell, raw, rep, manager, deals = sales
    exhibitor_services.set_status(deals["d"], "lost", reason="Chose another show")
    db.session.commit()
    browser = Browser(app, manager)
    page = browser.get(f"/org/editions/{edition.id}/pipeline").get_data(as_text=True)
    assert "Alpha Furniture" in page and "data-pipeline-board" in page
    assert "¥27,000" in page and "Chose another show" in page
    assert 'data-moves="contacted negotiating contracted lost"' in page
    listing = browser.get(f"/org/editions/{edition.id}/pipeline/list?rep={rep.id}&sort=-value")
    text = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert text.index("Alpha Furniture") < text.index("Gamma Textiles")  # 27,000 before 20,000
    assert "Beta Lighting" not in text and "¥47,000" in text
    for junk in ("?sort=zzz", "?page=-1&per_page=999999", "?close=9999-99&rep=-1&type=-5", "?q=" + "x" * 5000,
                 "?type=99999999999999999999999&stage=won"):
        assert browser.get(f"/org/editions/{edition.id}/pipeline/list{junk}").status_code == 200
        assert browser.get(f"/org/editions/{edition.id}/pipeline{junk}").status_code == 200
    assert browser.get(f"/org/editions/{edition.id}/pipeline?q=%00").status_code == 400  # the app refuses NUL bytes


def test_move_by_form_and_by_json(app, sales):
    edition, scope, shell, raw, rep, manager, deals = sales
    browser = Browser(app, manager)
    url = f"/org/editions/{edition.id}/pipeline/{deals['a'].id}/move"
    response = browser.post(url, {"status": "contacted", "next": "list"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/pipeline/list")
    assert db.session.get(Exhibitor, deals["a"].id).status == "contacted"
    # illegal: refused with the reason, nothing changes
    answer = browser.post(url, {"status": "paid"}, headers={"Accept": "application/json"})
    assert answer.status_code == 400 and "cannot change" in answer.get_json()["error"]
    answer = browser.post(url, {"status": "lost"}, headers={"Accept": "application/json"})
    assert answer.status_code == 400 and answer.get_json()["field"] == "reason"
    db.session.expire_all()
    assert db.session.get(Exhibitor, deals["a"].id).status == "contacted"
    answer = browser.post(url, {"status": "lost", "reason": "No budget"}, headers={"Accept": "application/json"})
    assert answer.status_code == 200 and answer.get_json()["moves"] == ["prospect"]
    db.session.expire_all()
    assert db.session.get(Exhibitor, deals["a"].id).lost_reason == "No budget"
    # a form that fails comes back to the board with the message
    refused = browser.post(url, {"status": "paid"})
    assert refused.status_code == 302
    assert "cannot change" in browser.get(refused.headers["Location"]).get_data(as_text=True)


def test_another_editions_deal_is_not_found(app, make, sales):
    edition, scope, shell, raw, rep, manager, deals = sales
    other = make.edition(db.session.get(Organizer, edition.organizer_id))
    db.session.commit()
    browser = Browser(app, manager)
    assert browser.get(f"/org/editions/{other.id}/pipeline/{deals['a'].id}").status_code == 404
    assert browser.post(f"/org/editions/{other.id}/pipeline/{deals['a'].id}/move",
                        {"status": "contacted"}).status_code == 404


def test_deal_page_sets_type_area_price_and_close(app, sales):
    edition, scope, shell, raw, rep, manager, deals = sales
    browser = Browser(app, manager)
    url = f"/org/editions/{edition.id}/pipeline/{deals['d'].id}"
    assert browser.get(url).status_code == 200
    response = browser.post(url, {"booth_type_id": str(raw.id), "area_m2": "５４", "price": "",
                                  "expected_close_on": "2026-07-01"})
    assert response.status_code == 302
    db.session.expire_all()
    exhibitor = db.session.get(Exhibitor, deals["d"].id)
    assert exhibitor.area_m2 == Decimal("54.00") and exhibitor.deal_value == Decimal("54000.00")
    assert exhibitor.expected_close_on == date(2026, 7, 1)
    audit = db.session.query(AuditEntry).filter_by(action="exhibitor.deal", object_id=exhibitor.id).one()
    assert set(audit.details["fields"]) == {"booth_type_id", "area_m2", "expected_close_on"}
    for data, message in (({"area_m2": "-3"}, "between 1"), ({"area_m2": "1e400"}, "between 1"),
                          ({"price": "abc"}, "as a number"), ({"price": "99999999999999"}, "between 0"),
                          ({"expected_close_on": "2026-02-30"}, "YYYY-MM-DD"),
                          ({"booth_type_id": "999999"}, "booth types"), ({"booth_type_id": "x\x00"}, "booth types")):
        page = browser.post(url, data)
        assert page.status_code == 200 and message in page.get_data(as_text=True), data


# --- settings -------------------------------------------------------------------------------------------

def test_booth_types_and_probabilities_settings(app, sales):
    edition, scope, shell, raw, rep, manager, deals = sales
    browser = Browser(app, manager)
    url = f"/org/editions/{edition.id}/pipeline/settings"
    assert browser.get(url).status_code == 200
    assert browser.post(url, {"code": "CORNER", "name_en": "Corner", "name_zh": "角位",
                              "price_per_m2": "1,800"}).status_code == 302
    assert [b.code for b in pipeline.booth_types(scope, edition)] == ["CORNER", "SHELL", "RAW"]
    page = browser.post(url, {"code": "corner", "price_per_m2": "1"}).get_data(as_text=True)
    assert "has a booth type with this code already" in page
    page = browser.post(url, {"code": "bad code!", "price_per_m2": "1"}).get_data(as_text=True)
    assert "A code is 1 to 20" in page
    assert browser.post(url, {"action": "probabilities", "p_prospect": "15", "p_negotiating": "60"}).status_code == 302
    assert pipeline.probabilities(edition.id)["prospect"] == 15
    assert db.session.query(StageProbability).filter_by(edition_id=edition.id).count() == 2
    for bad in ("101", "-1", "5.5", "x"):
        page = browser.post(url, {"action": "probabilities", "p_prospect": bad})
        assert page.status_code == 200 and "whole number from 0 to 100" in page.get_data(as_text=True)
    # a booth type in use is not removed; a free one is
    used = browser.post(f"/org/editions/{edition.id}/pipeline/booth-types/{shell.id}", {"action": "delete"})
    assert "deals use this booth type" in browser.get(used.headers["Location"]).get_data(as_text=True)
    corner = next(b for b in pipeline.booth_types(scope, edition) if b.code == "CORNER")
    browser.post(f"/org/editions/{edition.id}/pipeline/booth-types/{corner.id}", {"action": "delete"})
    assert [b.code for b in pipeline.booth_types(scope, edition)] == ["SHELL", "RAW"]
    # sales staff sell; they do not set prices
    assert Browser(app, rep).get(url).status_code == 403
