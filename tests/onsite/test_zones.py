"""Gates and zones (expo.onsite.zones): access by visitor category and show day (in the edition's time zone),
re-entry policies, exits, who is inside, the in-memory set-up and its invalidation, the set-up pages, live
attendance and its JSON, the edition page's card, and hostile input.

The rules are driven two ways (``door`` fixture): "direct" calls ``zones.gate_decision`` and stores the scan
as the check-in path does; "api" sends real check-ins to POST /api/v1/scans with ``gate`` and ``direction``.
The "api" runs need the scan path to call gate_decision (``services.record_scan(..., direction=...)``,
A's or the lead's wiring): they skip themselves until it does (see ``WIRED``)."""
from __future__ import annotations

import inspect
import uuid
from types import SimpleNamespace
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from expo.core import services as core
from expo.core.db import insert_unless_exists
from expo.core.models import Organizer
from expo.core.scoping import Scope
from expo.extensions import db
from expo.onsite import services as onsite_services
from expo.onsite import zones
from expo.onsite.models import REFUSAL_REASONS, Scan
from expo.onsite.zone_models import Gate, Zone
from expo.visitors import services as visitor_services

from ..conftest import Browser, count, login

SH = ZoneInfo("Asia/Shanghai")
ALL = {c: None for c in ("buyer", "trade_visitor", "public", "media", "vip", "exhibitor_staff", "speaker")}


def _wired() -> bool:
    """Does the check-in path ask gate_decision (and take a direction)? Then the API runs apply."""
    return ("direction" in inspect.signature(onsite_services.record_scan).parameters
            and "gate_decision" in inspect.getsource(onsite_services))


WIRED = _wired()
needs_wiring = pytest.mark.skipif(not WIRED, reason="services.record_scan does not call zones.gate_decision yet")


# --- the world ----------------------------------------------------------------------------------------------

class Show:
    """A live edition (Asia/Shanghai, 4 days from yesterday) with halls (the main entrance), a conference room
    for buyers and media, a VIP lounge; gates; an on-site user with a token."""

    def __init__(self, make):
        self.edition = make.edition(status="live", timezone="Asia/Shanghai")
        self.scope = Scope(self.edition.organizer_id)
        self.onsite = make.user("onsite", organizer=db.session.get(Organizer, self.edition.organizer_id))
        self.token = core.create_api_token(self.onsite, "gate")[1]
        self.days = zones.show_days(self.edition)
        self.halls = self.zone("Halls", "展馆", access=ALL, admission=True)
        self.conference = self.zone("Conference", "会议室", access={"buyer": None, "media": None}, reentry="daily",
                                    capacity=2)
        self.lounge = self.zone("VIP lounge", "贵宾室", access={"vip": None}, reentry="none")
        self.gate("N1", self.halls, "in")
        self.gate("S1", self.halls, "both")
        self.gate("X1", self.halls, "out")
        self.gate("CONF", self.conference, "both")
        self.gate("VIP", self.lounge, "both")
        db.session.commit()

    def zone(self, en, zh, *, access, reentry="free", admission=False, capacity=None):
        return zones.save_zone(self.scope, self.edition, name_en=en, name_zh=zh, capacity=capacity, access=access,
                               reentry=reentry, admission=admission, actor_id=None)

    def gate(self, code, zone, direction, name=None):
        return zones.save_gate(self.scope, self.edition, code=code, name=name or f"Gate {code}", zone_id=zone.id,
                               direction=direction, actor_id=None)

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        """A moment of show day ``day`` (0 = the first) at local time hour:minute, in UTC."""
        return datetime.combine(self.days[day], time(hour, minute), SH).astimezone(timezone.utc)


@pytest.fixture
def show(make):
    return Show(make)


class Door:
    """Check-ins at the gates, "direct" (gate_decision + the row the check-in path writes) or through the API."""

    def __init__(self, mode, show, client):
        self.mode, self.show, self.client = mode, show, client

    def scan(self, registration, gate, at, direction=None) -> Scan:
        if self.mode == "api":
            body = {"code": visitor_services.badge_code(registration), "kind": "checkin",
                    "client_scan_id": str(uuid.uuid4()), "scanned_at": at.isoformat(), "gate": gate,
                    "edition_id": self.show.edition.id}
            if direction is not None:
                body["direction"] = direction
            response = self.client.post("/api/v1/scans", json=body, headers={"Authorization": f"Bearer {self.show.token}"})
            assert response.status_code == 200, response.get_data(as_text=True)
            db.session.expire_all()
            return db.session.get(Scan, response.get_json()["scan_id"])
        return record(self.show, registration, gate, at, direction)


def record(show, registration, gate, at, direction=None) -> Scan:
    """What the check-in path does with a good badge: the gate's decision, one admission a day, one Scan row."""
    edition = show.edition
    decision = zones.gate_decision(edition, gate, registration, at, direction)
    row = {"organizer_id": edition.organizer_id, "edition_id": edition.id, "user_id": show.onsite.id,
           "kind": "checkin", "client_scan_id": str(uuid.uuid4()), "raw_code": "(test)", "gate": gate,
           "scanned_at": at, "received_at": at, "registration_id": registration.id, "zone_id": decision.zone_id,
           "direction": decision.direction, "reason": decision.reason, "admitted_on": None,
           "result": "refused" if decision.reason else "ok"}
    if decision.reason is None and decision.admission:
        day = zones.local_day(edition, at)
        earlier = db.session.scalar(select(Scan.id).where(Scan.registration_id == registration.id,
                                                          Scan.admitted_on == day))
        row["result"], row["admitted_on"] = ("duplicate", None) if earlier else ("ok", day)
    scan_id = insert_unless_exists(Scan, row, None, Scan.id)
    db.session.commit()
    return db.session.get(Scan, scan_id)


@pytest.fixture(params=["direct", pytest.param("api", marks=needs_wiring)])
def door(request, show, client):
    return Door(request.param, show, client)


def outcome(scan: Scan) -> tuple:
    return scan.result, scan.reason


# --- the reasons are scan reasons ----------------------------------------------------------------------------

def test_new_refusal_reasons_are_scan_reasons():
    for reason in ("zone_category_not_allowed", "zone_closed_today", "reentry_not_allowed", "wrong_direction",
                   "unknown_gate"):
        assert reason in REFUSAL_REASONS


# --- access by category and by day ---------------------------------------------------------------------------

def test_category_rules(make, show, door):
    buyer = make.registration(show.edition, category="buyer")
    public = make.registration(show.edition, category="public")
    vip = make.registration(show.edition, category="vip")
    db.session.commit()
    assert outcome(door.scan(buyer, "CONF", show.at(1, 10))) == ("ok", None)
    assert outcome(door.scan(public, "CONF", show.at(1, 10))) == ("refused", "zone_category_not_allowed")
    assert outcome(door.scan(vip, "CONF", show.at(1, 10))) == ("refused", "zone_category_not_allowed")
    assert outcome(door.scan(vip, "VIP", show.at(1, 11))) == ("ok", None)
    assert outcome(door.scan(buyer, "VIP", show.at(1, 11))) == ("refused", "zone_category_not_allowed")
    scan = door.scan(public, "N1", show.at(1, 9))  # the halls: everyone, and it is the day's admission
    assert outcome(scan) == ("ok", None) and scan.admitted_on == show.days[1] and scan.zone_id == show.halls.id
    room = door.scan(buyer, "CONF", show.at(1, 12))
    assert room.admitted_on is None and room.zone_id == show.conference.id and room.direction == "in"


def test_day_rules_in_the_editions_time_zone(make, show, door):
    """Media may enter the conference room on the second show day only — the day as Shanghai counts it."""
    zones.save_zone(show.scope, show.edition, show.conference.id, name_en="Conference", name_zh="会议室", capacity=2,
                    access={"buyer": None, "media": [show.days[1].isoformat()]}, reentry="free", admission=False,
                    actor_id=None)
    db.session.commit()
    media = make.registration(show.edition, category="media")
    db.session.commit()
    late_first_day = show.at(0, 23, 30)  # 15:30 UTC of the first day
    early_second_day = show.at(1, 0, 30)  # 16:30 UTC of the first day: already the second day in Shanghai
    assert late_first_day.date() == early_second_day.date() == show.days[0]
    assert outcome(door.scan(media, "CONF", late_first_day)) == ("refused", "zone_closed_today")
    assert outcome(door.scan(media, "CONF", early_second_day)) == ("ok", None)
    assert outcome(door.scan(media, "CONF", show.at(2, 10))) == ("refused", "zone_closed_today")


def test_every_day_ticked_means_any_day(show):
    access = zones.clean_access(show.edition, {"buyer": [d.isoformat() for d in show.days], "media": [],
                                               "vip": [show.days[0].isoformat()]})
    assert access == {"buyer": None, "vip": [show.days[0].isoformat()]}  # media: no day, may not enter


# --- exits, directions -----------------------------------------------------------------------------------------

def test_exits_and_directions(make, show, door):
    public = make.registration(show.edition, category="public")
    db.session.commit()
    scan = door.scan(public, "X1", show.at(1, 12))  # an exit-only gate: no direction needed
    assert (scan.result, scan.direction, scan.zone_id, scan.admitted_on) == ("ok", "out", show.halls.id, None)
    assert outcome(door.scan(public, "X1", show.at(1, 12, 5), "in")) == ("refused", "wrong_direction")
    assert outcome(door.scan(public, "N1", show.at(1, 12, 6), "out")) == ("refused", "wrong_direction")
    both = door.scan(public, "S1", show.at(1, 12, 7))  # both ways, no direction: an entry
    assert (both.direction, both.result) == ("in", "ok")
    # An exit is never refused, even from a zone the visitor may not enter.
    out = door.scan(public, "CONF", show.at(1, 12, 8), "out")
    assert (out.result, out.direction, out.zone_id) == ("ok", "out", show.conference.id)


def test_no_gate_and_the_kiosk_are_the_main_entrance(make, show, door):
    public = make.registration(show.edition, category="public")
    db.session.commit()
    scan = door.scan(public, "kiosk:Kiosk 1", show.at(1, 9))
    assert (scan.result, scan.zone_id, scan.direction, scan.admitted_on) == ("ok", show.halls.id, "in", show.days[1])
    again = door.scan(public, None, show.at(1, 10))
    assert (again.result, again.zone_id) == ("duplicate", show.halls.id)  # one admission a day
    assert door.scan(public, "", show.at(1, 10, 5)).zone_id == show.halls.id
    assert outcome(door.scan(public, "s1", show.at(1, 11), "out")) == ("ok", None)  # codes: any case
    assert door.scan(public, "gate s1", show.at(1, 12)).zone_id == show.halls.id  # a gate's name works too


def test_an_unknown_gate_is_refused_once_the_edition_has_gates(make, show, door):
    """A typo in a scanner's gate field (or a deleted gate) must not skip the zones' rules."""
    vip = make.registration(show.edition, category="public")
    db.session.commit()
    for text in ("Kiosk 1", "N2", "VIP lounge"):
        scan = door.scan(vip, text, show.at(1, 9))
        assert (scan.result, scan.reason, scan.admitted_on) == ("refused", "unknown_gate", None), text


def test_a_kiosk_named_like_a_gate_never_records_exits(make, show, door):
    show.gate("EXIT", show.halls, "out", name="Exit")
    public = make.registration(show.edition, category="public")
    db.session.commit()
    for station in ("kiosk:X1", "kiosk:Exit", "KIOSK:exit", "kiosk:VIP"):
        scan = door.scan(public, station, show.at(1, 9))
        assert (scan.result, scan.direction, scan.zone_id) in {("ok", "in", show.halls.id),
                                                                ("duplicate", "in", show.halls.id)}, station
    assert zones.gate_decision(show.edition, "kiosk:Exit", public, show.at(1, 9), "out").reason == "wrong_direction"
    assert zones.gate_decision(show.edition, "Exit", public, show.at(1, 9)).direction == "out"  # the real gate


def test_without_gates_any_gate_text_is_the_main_entrance(make):
    edition = make.edition(status="live")
    registration = make.registration(edition, category="public")
    scope = Scope(edition.organizer_id)
    halls = zones.save_zone(scope, edition, name_en="Halls", name_zh="", capacity=None, access=ALL, reentry="free",
                            admission=True, actor_id=None)
    db.session.commit()
    moment = datetime.now(timezone.utc)
    assert zones.gate_decision(edition, "Front desk", registration, moment) == \
        zones.GateDecision(halls.id, "in", None, True)


def test_no_zones_no_rules(make, door_free):
    edition, registration = door_free
    decision = zones.gate_decision(edition, "Anything", registration, datetime.now(timezone.utc), None)
    assert decision == zones.GateDecision(None, "in", None, True)
    assert zones.gate_decision(edition, None, registration, datetime.now(timezone.utc), "out") == \
        zones.GateDecision(None, "out", None, False)
    assert zones.gates_for(edition) == []


@pytest.fixture
def door_free(make):
    edition = make.edition()
    registration = make.registration(edition)
    db.session.commit()
    return edition, registration


def test_bad_direction_is_a_clear_error(show):
    with pytest.raises(core.ServiceError):
        zones.gate_decision(show.edition, "N1", None, datetime.now(timezone.utc), "sideways")


# --- re-entry ------------------------------------------------------------------------------------------------

def test_free_reentry(make, show, door):
    public = make.registration(show.edition, category="public")
    db.session.commit()
    for minute, gate, direction in ((0, "N1", None), (10, "S1", "out"), (20, "S1", "in"), (30, "X1", None),
                                    (40, "N1", None)):
        assert door.scan(public, gate, show.at(1, 10, minute), direction).result in ("ok", "duplicate")


def test_once_a_day_reentry(make, show, door):
    buyer = make.registration(show.edition, category="buyer")
    db.session.commit()
    assert outcome(door.scan(buyer, "CONF", show.at(1, 10))) == ("ok", None)
    assert outcome(door.scan(buyer, "CONF", show.at(1, 10, 1))) == ("ok", None)  # scanned twice on the way in
    assert outcome(door.scan(buyer, "CONF", show.at(1, 11), "out")) == ("ok", None)
    assert outcome(door.scan(buyer, "CONF", show.at(1, 12))) == ("refused", "reentry_not_allowed")
    # An offline scan from before the exit, uploaded late, is judged at its own moment.
    assert outcome(door.scan(buyer, "CONF", show.at(1, 10, 30))) == ("ok", None)
    assert outcome(door.scan(buyer, "CONF", show.at(2, 9))) == ("ok", None)  # a new day


def test_no_reentry_after_leaving(make, show, door):
    vip = make.registration(show.edition, category="vip")
    db.session.commit()
    assert outcome(door.scan(vip, "VIP", show.at(1, 10))) == ("ok", None)
    assert outcome(door.scan(vip, "VIP", show.at(1, 11), "out")) == ("ok", None)
    assert outcome(door.scan(vip, "VIP", show.at(1, 12))) == ("refused", "reentry_not_allowed")
    assert outcome(door.scan(vip, "VIP", show.at(2, 9))) == ("refused", "reentry_not_allowed")


def test_a_refused_exit_does_not_count(make, show, door):
    buyer = make.registration(show.edition, category="buyer")
    db.session.commit()
    door.scan(buyer, "CONF", show.at(1, 10))
    show.gate("CONFIN", show.conference, "in")
    db.session.commit()
    assert outcome(door.scan(buyer, "CONFIN", show.at(1, 11), "out")) == ("refused", "wrong_direction")
    assert outcome(door.scan(buyer, "CONF", show.at(1, 12))) == ("ok", None)


# --- who is inside ---------------------------------------------------------------------------------------------

def test_occupancy(make, show):
    people = [make.registration(show.edition, category="buyer") for _ in range(4)]
    vip = make.registration(show.edition, category="vip")
    db.session.commit()
    a, b, c, d = people
    for person in people:
        record(show, person, "N1", show.at(1, 9))
    record(show, a, "S1", show.at(1, 12), "out")  # left
    record(show, b, "S1", show.at(1, 12), "out")
    record(show, b, "S1", show.at(1, 13), "in")  # and came back
    record(show, c, "CONF", show.at(1, 10))
    record(show, d, "CONF", show.at(1, 10))
    record(show, vip, "N1", show.at(0, 9))  # yesterday only: not inside today
    record(show, vip, "VIP", show.at(0, 10))
    # A refused entry is nobody inside.
    record(show, make.registration(show.edition, category="public"), "CONF", show.at(1, 10))
    now = show.at(1, 15)
    counts = {o.zone_id: (o.inside, o.level) for o in zones.occupancy(show.scope, show.edition, now=now)}
    assert counts == {show.halls.id: (3, "ok"), show.conference.id: (2, "full"), show.lounge.id: (0, "ok")}
    assert zones.inside_registrations(show.scope, show.edition, show.halls.id, now=now) == sorted([b.id, c.id, d.id])
    yesterday = {o.zone_id: o.inside for o in zones.occupancy(show.scope, show.edition, show.days[0])}
    assert yesterday[show.halls.id] == 1 and yesterday[show.lounge.id] == 1


def test_capacity_levels():
    level = lambda inside, capacity: zones.Occupancy(1, "", "", inside, capacity).level  # noqa: E731
    assert [level(8, 10), level(9, 10), level(10, 10), level(11, 10), level(500, None)] == \
        ["ok", "warning", "full", "full", "ok"]


# --- the set-up in memory ---------------------------------------------------------------------------------------

def test_a_change_is_honoured_by_the_next_scan(make, show, count_queries):
    public = make.registration(show.edition, category="public")
    db.session.commit()
    zones.forget()
    assert zones.gate_decision(show.edition, "CONF", public, show.at(1, 10), None).reason == "zone_category_not_allowed"
    with count_queries() as queries:
        zones.gate_decision(show.edition, "CONF", public, show.at(1, 10), None)
    assert len(queries) == 1, queries.report()  # the stamp only: the set-up comes from memory
    zones.save_zone(show.scope, show.edition, show.conference.id, name_en="Conference", name_zh="会议室", capacity=2,
                    access={**ALL}, reentry="free", admission=False, actor_id=None)
    db.session.commit()
    assert zones.gate_decision(show.edition, "CONF", public, show.at(1, 10), None).reason is None
    zones.save_gate(show.scope, show.edition, db.session.scalar(select(Gate.id).where(Gate.code == "CONF")),
                    code="CONF", name="Conference door", zone_id=show.conference.id, direction="out", actor_id=None)
    db.session.commit()
    assert zones.gate_decision(show.edition, "CONF", public, show.at(1, 10), "in").reason == "wrong_direction"


def test_a_change_made_by_another_process_is_honoured(make, show):
    """Another worker changes the rules and writes a new stamp; this process's memory is not told."""
    buyer = make.registration(show.edition, category="buyer")
    db.session.commit()
    assert zones.gate_decision(show.edition, "CONF", buyer, show.at(1, 10), None).reason is None
    with db.engine.begin() as other:  # another connection, as another process would write
        other.execute(text("UPDATE zones SET access = :access WHERE id = :id"),
                      {"access": '{"media": null}', "id": show.conference.id})
        other.execute(text("UPDATE zone_setups SET stamp = 'from-another-process' WHERE edition_id = :id"),
                      {"id": show.edition.id})
    db.session.rollback()  # a new transaction, as a new request has
    assert zones.gate_decision(show.edition, "CONF", buyer, show.at(1, 10), None).reason == "zone_category_not_allowed"


def test_a_rolled_back_change_leaves_no_stale_memory(make, show):
    buyer = make.registration(show.edition, category="buyer")
    db.session.commit()
    zones.save_zone(show.scope, show.edition, show.conference.id, name_en="Conference", name_zh="", capacity=None,
                    access={"media": None}, reentry="free", admission=False, actor_id=None)
    assert zones.gate_decision(show.edition, "CONF", buyer, show.at(1, 10), None).reason == "zone_category_not_allowed"
    db.session.rollback()
    assert zones.gate_decision(show.edition, "CONF", buyer, show.at(1, 10), None).reason is None


def test_gates_for(show):
    gates = {g["code"]: g for g in zones.gates_for(show.edition, "zh_CN")}
    assert set(gates) == {"N1", "S1", "X1", "CONF", "VIP"}
    assert gates["CONF"] == {"code": "CONF", "name": "Gate CONF", "zone": "会议室", "zone_id": show.conference.id,
                             "direction": "both"}
    assert zones.gates_for(show.edition, "en")[0]["zone"] in ("Halls", "Conference", "VIP lounge")


def test_hostile_ids_in_the_services(show):
    for value in ("²", "1" * 5000, "٣", " ", "0", True, 2**40, None):
        with pytest.raises(core.ServiceError):
            zones.delete_zone(show.scope, show.edition, value, actor_id=None)
        with pytest.raises(core.ServiceError):
            zones.delete_gate(show.scope, show.edition, value, actor_id=None)


def test_setup_is_per_edition_and_organizer(make, show):
    other = make.edition(status="live")
    db.session.commit()
    assert zones.gates_for(other) == []
    with pytest.raises(core.ServiceError):  # another organizer's zone is no zone of this edition
        zones.save_gate(Scope(other.organizer_id), other, code="N1", name="x", zone_id=show.halls.id, direction="in",
                        actor_id=None)


# --- the set-up pages -------------------------------------------------------------------------------------------

def _manager(make, show):
    user = make.user("manager", organizer=db.session.get(Organizer, show.edition.organizer_id))
    db.session.commit()
    return Browser(make_app(), user)


def make_app():
    from flask import current_app

    return current_app._get_current_object()


def test_setup_pages(make, show):
    browser = _manager(make, show)
    url = f"/org/editions/{show.edition.id}/zones"
    page = browser.get(url).get_data(as_text=True)
    assert "会议室" in page or "Conference" in page
    day = show.days[0].isoformat()
    response = browser.post(url, {"name_en": "Press room", "name_zh": "新闻中心", "capacity": "30", "reentry": "daily",
                                  "access-media": [day]})
    assert response.status_code == 302
    zone = db.session.scalar(select(Zone).where(Zone.name_en == "Press room"))
    assert (zone.capacity, zone.access, zone.reentry, zone.admission) == (30, {"media": [day]}, "daily", False)
    response = browser.post(f"{url}/gates", {"code": "PR", "name": "Press door", "zone_id": str(zone.id),
                                             "direction": "both"})
    assert response.status_code == 302
    gate = db.session.scalar(select(Gate).where(Gate.code == "PR"))
    assert gate.zone_id == zone.id
    # a zone with a gate cannot go; the gate can, then the zone
    browser.post(f"{url}/delete", {"zone_id": str(zone.id)})
    assert db.session.get(Zone, zone.id) is not None
    browser.post(f"{url}/delete", {"gate_id": str(gate.id)})
    db.session.expire_all()
    assert db.session.get(Gate, gate.id) is None
    browser.post(f"{url}/delete", {"zone_id": str(zone.id)})
    db.session.expire_all()
    assert db.session.get(Zone, zone.id) is None
    actions = set(db.session.scalars(text("SELECT action FROM audit_entries")))
    assert {"zone.created", "gate.created", "gate.deleted", "zone.deleted"} <= actions


def test_a_zone_with_scans_stays(make, show):
    public = make.registration(show.edition, category="public")
    db.session.commit()
    record(show, public, "N1", show.at(1, 9))
    for gate in db.session.scalars(select(Gate).where(Gate.zone_id == show.halls.id)).all():
        zones.delete_gate(show.scope, show.edition, gate.id, actor_id=None)
    with pytest.raises(core.ServiceError, match="scanned"):
        zones.delete_zone(show.scope, show.edition, show.halls.id, actor_id=None)


HOSTILE_ZONES = [
    ({"name_en": "", "name_zh": ""}, "name_en"),
    ({"name_en": "Hall\x00"}, "name_en"),
    ({"name_en": "x" * 81}, "name_en"),
    ({"name_en": "Hall", "capacity": "99999999999999999999"}, "capacity"),
    ({"name_en": "Hall", "capacity": "-5"}, "capacity"),
    ({"name_en": "Hall", "capacity": "0"}, "capacity"),
    ({"name_en": "Hall", "capacity": "1e3"}, "capacity"),
    ({"name_en": "Hall", "reentry": "sometimes"}, "reentry"),
    ({"name_en": "Hall", "access-buyer": ["1999-01-01"]}, "access"),
    ({"name_en": "Hall", "access-buyer": ["not a date\x00"]}, "access"),
    ({"name_en": "Hall", "zone_id": "99999999999999999999"}, "zone_id"),
    ({"name_en": "Hall", "zone_id": "abc"}, "zone_id"),
    ({"name_en": "Hall", "zone_id": "-1"}, "zone_id"),
    ({"name_en": "Hall", "zone_id": "²"}, "zone_id"),  # str.isdigit() says yes, int() says no
    ({"name_en": "Hall", "zone_id": "1" * 5000}, "zone_id"),
    ({"name_en": "Hall", "capacity": "²"}, "capacity"),
    ({"name_en": "Hall", "capacity": "12²"}, "capacity"),
    ({"name_en": "Hall", "capacity": "١٢"}, "capacity"),  # Arabic-Indic digits: decimal, not ASCII
    ({"name_en": "Hall", "capacity": "1" * 5000}, "capacity"),
]


@pytest.mark.parametrize("data, field", HOSTILE_ZONES)
def test_hostile_zone_forms(make, show, data, field):
    browser = _manager(make, show)
    before = count(Zone)
    response = browser.post(f"/org/editions/{show.edition.id}/zones", {"reentry": "free", **data})
    if field == "zone_id":  # no zone to show the error beside: a message on the page
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        assert "invalid-feedback" in response.get_data(as_text=True)
    assert count(Zone) == before


HOSTILE_GATES = [
    {"code": "", "direction": "in"},
    {"code": "N 1", "direction": "in"},
    {"code": "门", "direction": "in"},
    {"code": "x" * 41, "direction": "in"},
    {"code": "n1", "direction": "in"},  # N1 exists: codes are unique whatever the case
    {"code": "Z9", "direction": "up"},
    {"code": "Z9", "direction": "in", "zone_id": "999999"},
    {"code": "Z9", "direction": "in", "zone_id": "\x00"},
    {"code": "Z9\x00", "direction": "in"},
    {"code": "Z9", "direction": "in", "gate_id": "99999999999999999999"},
    {"code": "Z9", "direction": "in", "zone_id": "²"},
    {"code": "Z9", "direction": "in", "zone_id": "1" * 5000},
    {"code": "Z9", "direction": "in", "gate_id": "²"},
    {"code": "Z9", "direction": "in", "gate_id": "1" * 5000},
]


@pytest.mark.parametrize("data", HOSTILE_GATES)
def test_hostile_gate_forms(make, show, data):
    browser = _manager(make, show)
    before = count(Gate)
    response = browser.post(f"/org/editions/{show.edition.id}/zones/gates", {"name": "x", "zone_id": str(show.halls.id),
                                                                             **data})
    if "gate_id" in data:
        assert response.status_code == 302
    else:
        assert response.status_code == 200
        assert "invalid-feedback" in response.get_data(as_text=True)
    assert count(Gate) == before


@pytest.mark.parametrize("data", [{}, {"zone_id": "abc"}, {"gate_id": "99999999999"}, {"zone_id": "\x00"},
                                  {"gate_id": "-3"}, {"zone_id": "²"}, {"gate_id": "²"}, {"zone_id": "1" * 5000},
                                  {"gate_id": "1" * 5000}, {"gate_id": "٣"}])
def test_hostile_deletes(make, show, data):
    browser = _manager(make, show)
    response = browser.post(f"/org/editions/{show.edition.id}/zones/delete", data)
    assert response.status_code == 302
    assert count(Zone) == 3 and count(Gate) == 5


def test_another_organizers_zone_cannot_be_touched(make, show):
    other = Show(make)
    browser = _manager(make, show)
    url = f"/org/editions/{show.edition.id}/zones"
    browser.post(f"{url}/delete", {"gate_id": str(db.session.scalar(select(Gate.id).where(
        Gate.edition_id == other.edition.id).limit(1)))})
    browser.post(url, {"zone_id": str(other.halls.id), "name_en": "Stolen", "reentry": "free"})
    assert count(Gate) == 10 and db.session.get(Zone, other.halls.id).name_en == "Halls"
    assert browser.get(f"/org/editions/{other.edition.id}/zones").status_code == 404


# --- attendance ---------------------------------------------------------------------------------------------------

def test_attendance_json(make, show):
    people = [make.registration(show.edition, category="buyer") for _ in range(3)]
    db.session.commit()
    record(show, people[0], "N1", show.at(1, 9, 5))
    record(show, people[1], "N1", show.at(1, 9, 55))
    record(show, people[2], "kiosk:Kiosk 1", show.at(1, 11, 30))
    record(show, people[0], "S1", show.at(1, 11, 45), "out")
    record(show, people[1], "CONF", show.at(1, 10, 15))
    record(show, make.registration(show.edition, category="public"), "CONF", show.at(1, 10, 20))  # refused
    browser = _manager(make, show)
    data = browser.get(f"/org/editions/{show.edition.id}/attendance.json?day={show.days[1].isoformat()}").get_json()
    assert data["day"] == show.days[1].isoformat()
    assert data["figures"] == {"entries": 4, "exits": 1, "admitted": 3}
    hours = data["charts"]["hours"]
    assert hours["categories"][:3] == ["09:00", "10:00", "11:00"]  # Shanghai's hours, not UTC's
    by_gate = {s["name"]: s["data"] for s in hours["series"]}
    assert by_gate["Gate N1"][:3] == [2, 0, 0] and by_gate["Gate CONF"][:3] == [0, 1, 0]
    assert by_gate["Kiosk 1"][:3] == [0, 0, 1]
    flow = {s["name"]: s["data"] for s in data["charts"]["flow"]["series"]}
    assert flow["Exits"][:3] == [0, 0, 1]
    inside = {z["id"]: z["inside"] for z in data["zones"]}
    assert inside == {show.halls.id: 2, show.conference.id: 1, show.lounge.id: 0}


def test_attendance_page_and_hostile_days(make, show):
    browser = _manager(make, show)
    for day in ("", "garbage", "2026-13-45", "\x00", "9999-12-31", "1-1-1", "x" * 5000):
        for path in ("attendance", "attendance.json"):
            response = browser.get(f"/org/editions/{show.edition.id}/{path}", query_string={"day": day})
            assert response.status_code == (400 if "\x00" in day else 200), (path, day)  # NUL: the app's own 400
    page = browser.get(f"/org/editions/{show.edition.id}/attendance").get_data(as_text=True)
    assert "data-attendance-url" in page and "attendance.js" in page and "chart-hours" in page


def test_dashboard_card(make, show):
    record(show, make.registration(show.edition, category="public"), "N1", datetime.now(timezone.utc))
    owner = make.user("owner", organizer=db.session.get(Organizer, show.edition.organizer_id))
    sales = make.user("sales", organizer=db.session.get(Organizer, show.edition.organizer_id))
    db.session.commit()
    page = Browser(make_app(), owner).get(f"/org/editions/{show.edition.id}").get_data(as_text=True)
    assert 'id="inside-now"' in page and f'data-zone="{show.halls.id}"' in page
    page = Browser(make_app(), sales).get(f"/org/editions/{show.edition.id}").get_data(as_text=True)
    assert 'id="inside-now"' not in page  # no attendance for sales


def test_no_card_without_zones(make, client):
    edition = make.edition()
    owner = make.user("owner", organizer=db.session.get(Organizer, edition.organizer_id))
    db.session.commit()
    login(client, owner)
    assert 'id="inside-now"' not in client.get(f"/org/editions/{edition.id}").get_data(as_text=True)


def test_field_errors_show_beside_the_field(make, show):
    browser = _manager(make, show)
    page = browser.post(f"/org/editions/{show.edition.id}/zones",
                        {"name_en": "Hall", "capacity": "lots", "reentry": "free"}).get_data(as_text=True)
    assert 'id="capacity-new"' in page and "is-invalid" in page


# --- batches: a constant number of queries ------------------------------------------------------------------------

def test_a_batch_reads_the_setup_and_the_exits_once(make, show, count_queries):
    """What the batch path does: ``setup_of`` once, ``last_exits`` once, then ``gate_decision(..., setup=,
    exits=)`` per item; the answers are those of one-by-one decisions."""
    buyers = [make.registration(show.edition, category="buyer") for _ in range(6)]
    vip = make.registration(show.edition, category="vip")
    db.session.commit()
    for buyer in buyers[:3]:  # three buyers left the conference room this morning
        record(show, buyer, "CONF", show.at(1, 9))
        record(show, buyer, "CONF", show.at(1, 10), "out")
    record(show, buyers[3], "CONF", show.at(0, 10), "out")  # yesterday: no matter ("daily")
    record(show, vip, "VIP", show.at(0, 10), "out")  # the lounge: never again
    items = [(b, "CONF", show.at(1, 11), None) for b in buyers] + [(vip, "VIP", show.at(1, 11), None)]
    items += [(b, "N1", show.at(1, 11), None) for b in buyers] + [(buyers[4], "CONF", show.at(1, 11, 30), "out"),
                                                                   (buyers[4], "CONF", show.at(1, 12), None)]
    one_by_one = [zones.gate_decision(show.edition, gate, reg, at, d) for reg, gate, at, d in items]
    zones.forget()
    zones.setup_of(show.edition)  # this process has the set-up in memory (as a running worker has)
    for size in (len(items), 10 * len(items)):
        with count_queries() as queries:
            setup = zones.setup_of(show.edition)
            exits = zones.last_exits(show.edition, {reg.id for reg, *_ in items}, setup=setup)
            batch = [zones.gate_decision(show.edition, gate, reg, at, d, setup=setup, exits=exits)
                     for reg, gate, at, d in (items * 10)[:size]]
        assert len(queries) == 2, queries.report()  # the stamp and the exits, whatever the batch's size
    assert batch[:len(items)] == one_by_one[:-1] + [batch[len(items) - 1]]
    assert [d.reason for d in batch[:7]] == ["reentry_not_allowed"] * 3 + [None, None, None, "reentry_not_allowed"]
    # an exit earlier in the same batch counts for a re-entry later in it
    assert batch[len(items) - 1].reason == "reentry_not_allowed"


def test_the_batch_helpers_cost_nothing_without_restricted_zones(make, count_queries):
    edition = make.edition(status="live")
    registration = make.registration(edition, category="public")
    scope = Scope(edition.organizer_id)
    zones.save_zone(scope, edition, name_en="Halls", name_zh="", capacity=None, access=ALL, reentry="free",
                    admission=True, actor_id=None)
    db.session.commit()
    setup = zones.setup_of(edition)
    registration = SimpleNamespace(id=registration.id, category=registration.category)  # as the batch has it
    with count_queries() as queries:
        exits = zones.last_exits(edition, [registration.id], setup=setup)
        zones.gate_decision(edition, None, registration, datetime.now(timezone.utc), setup=setup, exits=exits)
        zones.gate_decision(edition, None, registration, datetime.now(timezone.utc), setup=setup)
    assert len(queries) == 0, queries.report()


# --- races between managers ----------------------------------------------------------------------------------------

def _on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def test_two_first_changes_at_once_are_no_error(make, monkeypatch):
    """The first change of an edition creates its set-up stamp; another manager's first change commits the stamp
    a moment before this one writes it: no error, both changes kept. (SQLite lets one writer in at a time: the
    race needs PostgreSQL.)"""
    if not _on_postgresql():
        pytest.skip("PostgreSQL only: SQLite serialises writers")
    edition = make.edition(status="live")
    db.session.commit()
    scope = Scope(edition.organizer_id)
    real = zones.secrets.token_hex
    done = []

    class Secrets:
        @staticmethod
        def token_hex(n):
            if not done:  # the other manager's first change commits now
                done.append(True)
                with db.engine.begin() as other:
                    other.execute(text("INSERT INTO zone_setups (edition_id, organizer_id, stamp, changed_at) "
                                       "VALUES (:e, :o, 'other-manager', now())"),
                                  {"e": edition.id, "o": edition.organizer_id})
            return real(n)

    monkeypatch.setattr(zones, "secrets", Secrets)
    zone = zones.save_zone(scope, edition, name_en="Halls", name_zh="", capacity=None, access=ALL, reentry="free",
                           admission=True, actor_id=None)
    db.session.commit()
    assert done
    stamp = db.session.scalar(text("SELECT stamp FROM zone_setups WHERE edition_id = :e"), {"e": edition.id})
    assert stamp not in (None, "other-manager")  # this change's stamp: every process reloads
    assert zones.setup_of(edition).zones.keys() == {zone.id}


def test_gate_codes_are_stored_upper_case(show):
    gate = zones.save_gate(show.scope, show.edition, code="hall-2.east", name="", zone_id=show.halls.id,
                           direction="in", actor_id=None)
    assert gate.code == "HALL-2.EAST" and gate.name == "HALL-2.EAST"
    with pytest.raises(core.ServiceError, match="Another gate"):
        zones.save_gate(show.scope, show.edition, code="Hall-2.East", name="", zone_id=show.halls.id,
                        direction="in", actor_id=None)


def test_the_same_gate_code_by_two_managers_at_once(show):
    """Another manager stores gate "Q7" between this request's check and its write of "q7": a form error, no
    500 and no second gate with the same code in another case."""
    if not _on_postgresql():
        pytest.skip("PostgreSQL only: SQLite serialises writers")
    from sqlalchemy import event

    session = db.session()

    done = []

    def other_manager(*_):
        if done:
            return
        done.append(True)
        with db.engine.begin() as other:
            other.execute(text("INSERT INTO gates (organizer_id, edition_id, zone_id, code, name, direction, "
                               "created_at) VALUES (:o, :e, :z, 'Q7', 'Q7', 'in', now())"),
                          {"o": show.edition.organizer_id, "e": show.edition.id, "z": show.halls.id})

    event.listen(session, "before_flush", other_manager)
    try:
        with pytest.raises(core.ServiceError, match="Another gate"):
            zones.save_gate(show.scope, show.edition, code="q7", name="", zone_id=show.halls.id, direction="in",
                            actor_id=None)
    finally:
        event.remove(session, "before_flush", other_manager)
    db.session.rollback()
    assert done
    assert db.session.scalar(text("SELECT count(*) FROM gates WHERE lower(code) = 'q7'")) == 1


# --- the edition's dates move ------------------------------------------------------------------------------------------

def test_the_setup_page_warns_of_days_that_are_no_longer_show_days(make, show):
    day = show.days[0].isoformat()
    zones.save_zone(show.scope, show.edition, show.conference.id, name_en="Conference", name_zh="会议室", capacity=2,
                    access={"buyer": [day], "media": None}, reentry="daily", admission=False, actor_id=None)
    db.session.commit()
    browser = _manager(make, show)
    url = f"/org/editions/{show.edition.id}/zones"
    assert 'id="stale-days"' not in browser.get(url).get_data(as_text=True)
    from datetime import timedelta

    show.edition.starts_on += timedelta(days=1)  # the organizer moves the show: its first day is gone
    db.session.commit()
    assert zones.days_outside_show(show.edition, zones.zones_of(show.scope, show.edition)) == \
        {show.conference.id: [day]}
    page = browser.get(url).get_data(as_text=True)
    assert 'id="stale-days"' in page and day in page and f'href="#zone-{show.conference.id}"' in page
