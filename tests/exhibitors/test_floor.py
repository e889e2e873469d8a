"""The floor plan: halls and stands, the SVG plan coloured free / held / sold, assigning a stand from the pipeline
(never to two exhibitors), releasing it, the set-up pages, the CSV import, hostile input."""
from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from expo.core.models import Activity, AuditEntry, Organizer
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors import floorplan
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.floor_models import Hall, Stand
from expo.exhibitors.models import BoothType, Exhibitor
from expo.extensions import db

from ..conftest import Browser, field_errors, redirect_path


def _floor(make, edition=None):
    """An edition with a 30 × 20 m hall "1" holding stands A1..A4 (3 × 3 m, then 6 × 3 m), a booth type."""
    edition = edition or make.edition()
    scope = Scope(edition.organizer_id)
    booth = BoothType(organizer_id=edition.organizer_id, edition_id=edition.id, code="SH", name_en="Shell scheme",
                      name_zh="标摊", price_per_m2=Decimal("1000"))
    db.session.add(booth)
    db.session.flush()
    hall = floorplan.save_hall(scope, edition, name="1", width_m="30", depth_m="20")
    stands = [floorplan.save_stand(scope, hall, floorplan.StandData(f"A{n + 1}", 3 * n, 0, 3, 3, None, booth.id))
              for n in range(3)]
    stands.append(floorplan.save_stand(scope, hall, floorplan.StandData("A4", 0, 5, 6, 3)))
    return edition, scope, hall, stands, booth


def test_halls_and_stands_are_checked(make):
    edition, scope, hall, stands, booth = _floor(make)
    assert [s.number for s in hall.stands] == ["A1", "A2", "A3", "A4"]
    assert stands[0].area_m2 == Decimal("9.00") and stands[3].area_m2 == Decimal("18.00")
    with pytest.raises(ServiceError, match="overlap stand A1"):
        floorplan.save_stand(scope, hall, floorplan.StandData("B1", 1, 1, 2, 2))
    with pytest.raises(ServiceError, match="beyond the hall's width"):
        floorplan.save_stand(scope, hall, floorplan.StandData("B1", 28, 10, 3, 3))
    with pytest.raises(ServiceError, match="beyond the hall's depth"):
        floorplan.save_stand(scope, hall, floorplan.StandData("B1", 10, 19, 3, 3))
    with pytest.raises(ServiceError, match="has a stand A1 already"):
        floorplan.save_stand(scope, hall, floorplan.StandData("a1", 20, 10, 3, 3))
    with pytest.raises(ServiceError, match="hall with this name"):
        floorplan.save_hall(scope, edition, name="1", width_m=10, depth_m=10)
    with pytest.raises(ServiceError, match="outside the hall"):
        floorplan.save_hall(scope, edition, name="1", width_m=5, depth_m=20, hall=hall)
    for bad in ("NaN", "-3", "0", "1e999", "abc", "\x00"):
        with pytest.raises(ServiceError):
            floorplan.save_stand(scope, hall, floorplan.StandData("B9", 20, 10, bad, 3))
    other = make.edition()
    foreign = BoothType(organizer_id=other.organizer_id, edition_id=other.id, code="X", price_per_m2=1)
    db.session.add(foreign)
    db.session.flush()
    with pytest.raises(ServiceError, match="No such booth type"):
        floorplan.save_stand(scope, hall, floorplan.StandData("B1", 20, 10, 3, 3, None, foreign.id))
    # a stand that moves keeps clear of the others too; its own old place does not count
    moved = floorplan.save_stand(scope, hall, floorplan.StandData("A1", 1, 0, 2, 3, None, booth.id), stand=stands[0])
    assert (moved.x, moved.area_m2) == (Decimal("1.00"), Decimal("6.00"))


def test_assigning_a_stand_copies_it_onto_the_exhibitor_and_never_gives_it_twice(make):
    edition, scope, hall, stands, booth = _floor(make)
    first = exhibitor_services.add_exhibitor(scope, edition, "Alpha Furniture", status="negotiating")
    second = exhibitor_services.add_exhibitor(scope, edition, "Beta Lighting", status="contracted")
    user = make.user("sales", db.session.get(Organizer, edition.organizer_id))

    assert floorplan.assign_stand(stands[0], first, actor_id=user.id) is True
    assert (first.hall, first.stand, first.area_m2, first.booth_type_id) == ("1", "A1", Decimal("9.00"), booth.id)
    assert first.deal_value == Decimal("9000.00")  # m² × the booth type's price
    assert floorplan.stand_state(stands[0]) == "held"
    assert floorplan.assign_stand(stands[0], first) is False  # the same again: nothing to do

    with pytest.raises(ServiceError, match="taken by Alpha Furniture"):
        floorplan.assign_stand(stands[0], second)
    assert stands[0].exhibitor_id == first.id and second.stand == ""

    # the exhibitor moves to a larger stand: the first one is free again
    floorplan.assign_stand(stands[3], first)
    assert stands[0].exhibitor_id is None and (first.stand, first.area_m2) == ("A4", Decimal("18.00"))
    floorplan.assign_stand(stands[0], second)
    assert floorplan.stand_state(stands[0]) == "sold"

    # a lost deal lets its stand go: shown free, and the next exhibitor takes it over
    first.status = "lost"
    db.session.flush()
    assert floorplan.stand_state(stands[3]) == "free"
    with pytest.raises(ServiceError, match="lost or cancelled"):
        floorplan.assign_stand(stands[1], first)
    third = exhibitor_services.add_exhibitor(scope, edition, "Gamma Panels", status="prospect")
    floorplan.assign_stand(stands[3], third)
    assert stands[3].exhibitor_id == third.id and (first.hall, first.stand) == ("", "")

    # another edition's exhibitor never gets this edition's stand
    stranger = exhibitor_services.add_exhibitor(scope, make.edition(db.session.get(Organizer, edition.organizer_id)),
                                                "Delta")
    with pytest.raises(ServiceError, match="does not take part"):
        floorplan.assign_stand(stands[1], stranger)

    actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "stands")
                                      .order_by(AuditEntry.id)))
    assert actions.count("stand.assigned") == 4 and actions.count("stand.released") == 2
    timeline = list(db.session.scalars(select(Activity.kind).where(Activity.subject_id == first.company_id,
                                                                   Activity.kind.like("stand.%"))))
    assert timeline == ["stand.assigned", "stand.released", "stand.assigned", "stand.released"]

    assert floorplan.release_stand(stands[0]) is True
    assert (second.hall, second.stand) == ("", "") and stands[0].exhibitor_id is None
    assert floorplan.release_stand(stands[0]) is False


def test_the_database_holds_one_stand_per_exhibitor(make):
    edition, scope, hall, stands, booth = _floor(make)
    exhibitor = exhibitor_services.add_exhibitor(scope, edition, "Alpha", status="contracted")
    db.session.commit()
    stands[0].exhibitor_id = exhibitor.id
    stands[1].exhibitor_id = exhibitor.id
    with pytest.raises(Exception):
        db.session.flush()
    db.session.rollback()


def _organizer_user(make, edition, role):
    return make.user(role, db.session.get(Organizer, edition.organizer_id))


def test_the_plan_page_draws_every_stand_coloured_and_assigns_from_the_pipeline(app, make):
    edition, scope, hall, stands, booth = _floor(make)
    sold = exhibitor_services.add_exhibitor(scope, edition, "Sold Co", status="paid")
    held = exhibitor_services.add_exhibitor(scope, edition, "Held Co", status="contacted")
    waiting = exhibitor_services.add_exhibitor(scope, edition, "Waiting Co", status="prospect")
    exhibitor_services.add_exhibitor(scope, edition, "Lost Co", status="lost")
    floorplan.assign_stand(stands[0], sold)
    floorplan.assign_stand(stands[1], held)
    sales = _organizer_user(make, edition, "sales")
    db.session.commit()
    browser = Browser(app, sales)
    url = f"/org/editions/{edition.id}/floor-plan"

    page = browser.get(url).get_data(as_text=True)
    assert page.count("<svg") >= 2 and 'class="stand stand-sold"' in page and 'class="stand stand-held"' in page
    assert page.count('class="stand stand-free"') == 2
    assert "Sold Co" in page and "Click a stand on the plan" in page
    assert "Halls and stands" not in page  # sales may assign, not set up the halls

    # from the pipeline: pick a stand for "Waiting Co"
    picked = browser.get(f"{url}?stand={stands[2].id}&exhibitor={waiting.id}").get_data(as_text=True)
    assert "Choose a free stand for Waiting Co" in picked
    assert re.search(rf'<option value="{waiting.id}" selected>Waiting Co', picked)
    assert "Lost Co" not in picked  # no stand for a lost deal
    response = browser.post(f"{url}/stands/{stands[2].id}/assign", {"exhibitor_id": waiting.id})
    assert redirect_path(response) == url
    db.session.expire_all()
    assert db.session.get(Exhibitor, waiting.id).stand == "A3"
    # the same stand for another exhibitor: refused with a clear message
    response = browser.post(f"{url}/stands/{stands[2].id}/assign", {"exhibitor_id": held.id},
                            follow_redirects=True)
    assert "taken by Waiting Co already" in response.get_data(as_text=True)
    for bad in ("", "abc", "99999999999999", "\x00", str(-1)):
        response = browser.post(f"{url}/stands/{stands[3].id}/assign", {"exhibitor_id": bad}, follow_redirects=True)
        assert response.status_code == 200 and "Choose an exhibitor of this edition" in response.get_data(as_text=True)
    assert browser.post(f"{url}/stands/{stands[2].id}/release").status_code == 302
    db.session.expire_all()
    assert db.session.get(Stand, stands[2].id).exhibitor_id is None

    svg = browser.get(f"{url}/halls/{hall.id}.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.get_data(as_text=True).startswith("<?xml") and "Sold Co" in svg.get_data(as_text=True)
    assert browser.get(f"{url}?stand=abc&exhibitor=99999999999999").status_code == 200
    assert browser.get(f"{url}?stand=-1&exhibitor=%00").status_code == 400  # the app refuses NUL bytes up front


def test_setup_pages_add_change_and_delete_halls_and_stands(app, make):
    edition = make.edition()
    manager = _organizer_user(make, edition, "manager")
    db.session.commit()
    browser = Browser(app, manager)
    base = f"/org/editions/{edition.id}/floor-plan"
    assert "No halls yet" in browser.get(base).get_data(as_text=True)
    assert browser.get(f"{base}/setup").status_code == 200

    response = browser.post(f"{base}/halls", {"name": "", "width_m": "abc", "depth_m": "1e999"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and field_errors(page, "name") and field_errors(page, "width_m")
    assert redirect_path(browser.post(f"{base}/halls", {"name": "H1", "width_m": "40", "depth_m": "30"})) \
        == f"{base}/setup"
    hall = db.session.scalar(select(Hall).where(Hall.edition_id == edition.id))
    response = browser.post(f"{base}/stands", {"hall": hall.id, "number": "A1", "x": "0", "y": "0", "w": "3",
                                               "h": "3", "booth_type": "0"})
    assert redirect_path(response) == f"{base}/setup"
    clash = browser.post(f"{base}/stands", {"hall": hall.id, "number": "A2", "x": "1", "y": "1", "w": "3",
                                            "h": "3", "booth_type": "0"})
    assert field_errors(clash.get_data(as_text=True), "x") == ["The stand would overlap stand A1."]
    stand = db.session.scalar(select(Stand).where(Stand.hall_id == hall.id))
    edit = browser.get(f"{base}/setup?stand={stand.id}").get_data(as_text=True)
    assert "Change the stand" in edit and f'value="{stand.id}"' in edit
    browser.post(f"{base}/stands", {"stand_id": stand.id, "hall": hall.id, "number": "A1", "x": "2", "y": "0",
                                    "w": "4", "h": "3", "booth_type": "0"})
    db.session.expire_all()
    assert db.session.get(Stand, stand.id).area_m2 == Decimal("12.00")
    browser.post(f"{base}/halls", {"hall_id": hall.id, "name": "Hall 1", "width_m": "40", "depth_m": "30"})
    db.session.expire_all()
    assert db.session.get(Hall, hall.id).name == "Hall 1"

    # an assigned stand cannot be deleted, nor its hall
    exhibitor = exhibitor_services.add_exhibitor(Scope(edition.organizer_id), edition, "Owner Co")
    floorplan.assign_stand(db.session.get(Stand, stand.id), exhibitor)
    db.session.commit()
    assert "Release stands A1 first" in browser.post(f"{base}/halls/{hall.id}/delete", follow_redirects=True) \
        .get_data(as_text=True)
    assert "Release the stand first" in browser.post(f"{base}/stands/{stand.id}/delete", follow_redirects=True) \
        .get_data(as_text=True)
    browser.post(f"{base}/stands/{stand.id}/release")
    assert redirect_path(browser.post(f"{base}/stands/{stand.id}/delete")) == f"{base}/setup"
    assert redirect_path(browser.post(f"{base}/halls/{hall.id}/delete")) == f"{base}/setup"
    assert db.session.scalar(select(func.count(Hall.id))) == 0

    sales = Browser(app, _organizer_user(make, edition, "sales"))
    db.session.commit()
    assert sales.get(f"{base}/setup").status_code == 403


def test_stands_import_from_csv_keeps_the_good_lines_and_names_the_bad_ones(app, make):
    edition = make.edition()
    db.session.add(BoothType(organizer_id=edition.organizer_id, edition_id=edition.id, code="RS", price_per_m2=800))
    manager = _organizer_user(make, edition, "manager")
    db.session.commit()
    browser = Browser(app, manager)
    text = ("hall,number,x,y,w,h,area_m2,booth_type\n"
            "1,A1,0,0,3,3,,RS\n"
            "1,A2,3,0,3,3,9,\n"
            "1,A3,4,0,3,3,,\n"  # overlaps A2
            "2,B1,0,0,6,6,36,XX\n"  # unknown booth type
            "2,B2,0,10,6,6,,\n"
            "2,B3,zz,10,6,6,,\n")
    response = browser.post(f"/org/editions/{edition.id}/floor-plan/import",
                            {"file": (io.BytesIO(text.encode("utf-8")), "stands.csv")},
                            content_type="multipart/form-data")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "3 stands added, 3 lines refused" in page
    assert "Line 4: The stand would overlap stand A2." in page and "Line 5:" in page and "Line 7:" in page
    numbers = sorted(db.session.scalars(select(Stand.number)))
    assert numbers == ["A1", "A2", "B2"]
    assert sorted(db.session.scalars(select(Hall.name))) == ["1", "2"]
    hall2 = db.session.scalar(select(Hall).where(Hall.name == "2"))
    assert (hall2.width_m, hall2.depth_m) == (Decimal("6.00"), Decimal("16.00"))  # grown to hold its stands
    bad = browser.post(f"/org/editions/{edition.id}/floor-plan/import",
                       {"file": (io.BytesIO(b"\xff\xfe\x00garbage"), "x.csv")}, content_type="multipart/form-data",
                       follow_redirects=True)
    assert bad.status_code == 200
    missing = browser.post(f"/org/editions/{edition.id}/floor-plan/import",
                           {"file": (io.BytesIO(b"number,x\nA1,0\n"), "x.csv")}, content_type="multipart/form-data")
    assert "Missing columns: hall, y, w, h." in missing.get_data(as_text=True)


def test_the_demo_floor_is_half_sold(app):
    from expo import demo

    with app.app_context():
        demo.generate(visitors=60, exhibitors=12, editions=2)
        stands = list(db.session.scalars(select(Stand)))
        halls = db.session.scalars(select(Hall)).all()
        assert len(halls) == 2 and len(stands) >= 20
        states = [floorplan.stand_state(s) for s in stands]
        assert states.count("sold") >= len(stands) // 3 and states.count("held") >= 2 and states.count("free") >= 4
        booths = [(e.hall, e.stand) for e in db.session.scalars(select(Exhibitor).where(Exhibitor.id.in_(
            [s.exhibitor_id for s in stands if s.exhibitor_id]))).all()]
        assert len(booths) == len(set(booths))
        db.session.remove()


def test_another_organizers_halls_and_stands_do_not_exist(app, make):
    edition, scope, hall, stands, booth = _floor(make)
    mine = make.edition()
    manager = _organizer_user(make, mine, "manager")
    exhibitor = exhibitor_services.add_exhibitor(Scope(mine.organizer_id), mine, "Mine Co")
    db.session.commit()
    browser = Browser(app, manager)
    theirs = f"/org/editions/{edition.id}/floor-plan"
    assert browser.get(theirs).status_code == 404
    assert browser.get(f"/org/editions/{edition.id}/forecast").status_code == 404
    own = f"/org/editions/{mine.id}/floor-plan"
    assert browser.get(f"{own}/halls/{hall.id}.svg").status_code == 404
    for url in (f"{own}/stands/{stands[0].id}/assign", f"{own}/stands/{stands[0].id}/release",
                f"{own}/stands/{stands[0].id}/delete", f"{own}/halls/{hall.id}/delete"):
        assert browser.post(url, {"exhibitor_id": exhibitor.id}).status_code == 404, url
    assert browser.post(f"{own}/halls", {"hall_id": hall.id, "name": "X", "width_m": "9", "depth_m": "9"}) \
        .status_code == 404
    page = browser.get(f"{own}?stand={stands[0].id}").get_data(as_text=True)
    assert "Click a stand on the plan" not in page or "A1" not in page
    db.session.expire_all()
    assert db.session.get(Stand, stands[0].id).exhibitor_id is None and db.session.get(Hall, hall.id).name == "1"


def test_review_findings_are_refused_cleanly(make):
    """A stand larger than any booth, a booth type the plan still uses, and a contract of nothing: clear errors."""
    from decimal import Decimal

    from expo.core.scoping import Scope
    from expo.core.services import ServiceError
    from expo.exhibitors import accounts, floorplan, pipeline

    edition = make.edition()
    scope = Scope(edition.organizer_id)
    booth_type = pipeline.save_booth_type(scope, edition, code="RAW", name_en="Raw space", name_zh="",
                                          price_per_m2=Decimal("100"))
    hall = floorplan.save_hall(scope, edition, name="H1", width_m="5000", depth_m="5000")
    with pytest.raises(ServiceError) as error:  # 1,000,000 m²: beyond what a booking holds (a 500 on PostgreSQL)
        floorplan.save_stand(scope, hall, floorplan.StandData(number="Z1", x="0", y="0", w="1000", h="1000"))
    assert error.value.field == "w"
    floorplan.save_stand(scope, hall, floorplan.StandData(number="A1", x="0", y="0", w="3", h="3",
                                                          booth_type_id=booth_type.id))
    with pytest.raises(ServiceError, match="stands"):  # was a foreign-key error
        pipeline.delete_booth_type(scope, booth_type)
    exhibitor = make.exhibitor(edition)
    with pytest.raises(ServiceError) as error:  # a contract of nothing could never be paid
        accounts.add_contract(scope, exhibitor, number="C-1", signed_on=edition.starts_on, amount=Decimal("0"))
    assert error.value.field == "amount"
