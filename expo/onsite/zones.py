"""Gates and zones: who may enter where, on which day, how often; who is inside now; attendance by hour.

The scan path asks ``gate_decision(edition, gate_code, registration, scanned_at, direction)`` at every check-in.
It costs one primary-key read (the edition's set-up stamp) while the set-up is unchanged: the gates and zones
are kept in memory per process, keyed by that stamp, and reloaded when a change (in any process) has written
a new one. A re-entry check reads the visitor's last exit from the zone (zones whose policy is not "free").

Rules (all times in the edition's time zone):
- a gate belongs to one zone and lets people in, out or both; a scan without a direction goes the gate's way
  ("in" at a gate for both); a scan against the gate's one direction is refused (``wrong_direction``);
- an entry is refused when the visitor's category may not enter the zone (``zone_category_not_allowed``), or
  may, but not on this show day (``zone_closed_today``), or when the zone's re-entry policy forbids it after an
  exit (``reentry_not_allowed``: "daily" — not the same day after leaving; "none" — never after leaving);
- exits are never refused (the door opens outwards);
- an entry into an admission zone (the main entrance) is the visitor's admission to the show that day (the
  caller keeps one admission per day);
- no gate named (None, "") and the walk-up kiosk (a gate text starting with ``kiosk:``, e.g. "kiosk:Desk 1":
  never matched against gate codes or names, entries only) are the main entrance: the edition's admission zone
  if it has exactly one, else no zone and no rules;
- any other gate text must name a gate (its code or its name, whatever the case) once the edition has gates:
  otherwise the scan is refused (``unknown_gate``; a typo must not skip the zones' rules). An edition without
  gates takes any text as the main entrance (a free-text gate label).

Batches: ``setup_of(edition)`` once, ``last_exits(edition, registration_ids, setup=setup)`` once, then
``gate_decision(..., setup=setup, exits=exits)`` per item: a constant number of queries for the whole batch.

Functions take the edition and plain values, never the request; every read is limited to the edition's
organizer and the edition.
"""
from __future__ import annotations

import re
import secrets
import threading
from bisect import bisect_left
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, cast, extract, func, select, update
from sqlalchemy.exc import IntegrityError

from ..core.db import insert_unless_exists, utcnow
from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, parse_id, unstorable
from ..extensions import db
from ..visitors.models import VISITOR_CATEGORY
from .models import Scan
from .zone_models import CODE_MAX, GATE_DIRECTION, GATE_NAME_MAX, NAME_MAX, REENTRY, Gate, Zone, ZoneSetup

DIRECTIONS = ("in", "out")
KIOSK_PREFIX = "kiosk:"  # a walk-up kiosk's check-ins: gate=f"kiosk:{station}" (the main entrance, entries only)
MAX_CAPACITY = 1_000_000
WARN_AT = 0.9  # a zone at 90 % of its capacity shows a warning; at 100 % it is full
CACHE_SIZE = 128  # editions kept in memory per process
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
BUCKET_SECONDS = 900  # attendance is counted in quarter hours of UTC: every time zone's offset is a multiple


@dataclass(frozen=True)
class GateDecision:
    """What a check-in at a gate means: the zone (None: no zone), "in" or "out", the refusal reason (None:
    let through) and whether this entry is the visitor's show-day admission."""

    zone_id: int | None
    direction: str
    reason: str | None
    admission: bool


# --- the set-up in memory ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ZoneRules:
    id: int
    name_en: str
    name_zh: str
    capacity: int | None
    access: dict  # category -> None (any day) or frozenset of ISO dates
    reentry: str
    admission: bool

    def name(self, language: str = "en") -> str:
        first, second = (self.name_zh, self.name_en) if language.startswith("zh") else (self.name_en, self.name_zh)
        return first or second


@dataclass(frozen=True)
class GateRules:
    code: str
    name: str
    zone_id: int
    direction: str


@dataclass(frozen=True)
class Setup:
    stamp: str | None
    zones: dict = field(default_factory=dict)  # id -> ZoneRules, in the set-up's order
    gates: tuple = ()  # GateRules in the set-up's order
    by_key: dict = field(default_factory=dict)  # casefolded code (and name) -> GateRules
    main_zone_id: int | None = None  # the one admission zone, if there is exactly one

    def gate(self, text) -> GateRules | None:
        if not isinstance(text, str) or not text.strip():
            return None
        return self.by_key.get(text.strip().casefold())


EMPTY = Setup(None)
_cache: OrderedDict[int, Setup] = OrderedDict()
_lock = threading.Lock()


def setup_of(edition: Edition) -> Setup:
    """The edition's gates and zones as the scan path reads them: one primary-key read of the stamp, the rest
    from memory unless the stamp changed since this process loaded them."""
    stamp = db.session.scalar(select(ZoneSetup.stamp).where(ZoneSetup.edition_id == edition.id,
                                                            ZoneSetup.organizer_id == edition.organizer_id))
    if stamp is None:
        return EMPTY
    cached = _cache.get(edition.id)
    if cached is not None and cached.stamp == stamp:
        return cached
    setup = _load(edition, stamp)
    with _lock:
        _cache[edition.id] = setup
        _cache.move_to_end(edition.id)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return setup


def _load(edition: Edition, stamp: str) -> Setup:
    scope = Scope(edition.organizer_id)
    zones = OrderedDict()
    for zone in db.session.scalars(scoped(Zone, scope).where(Zone.edition_id == edition.id)
                                   .order_by(Zone.position, Zone.id)):
        access = {category: (None if days is None else frozenset(days))
                  for category, days in (zone.access or {}).items()}
        zones[zone.id] = ZoneRules(zone.id, zone.name_en, zone.name_zh, zone.capacity, access, zone.reentry,
                                   bool(zone.admission))
    gates, by_key = [], {}
    for gate in db.session.scalars(scoped(Gate, scope).where(Gate.edition_id == edition.id)
                                   .order_by(Gate.code)):
        rules = GateRules(gate.code, gate.name or gate.code, gate.zone_id, gate.direction)
        gates.append(rules)
    for rules in gates:  # codes first: a code wins over another gate's name
        by_key.setdefault(rules.name.casefold(), rules)
    for rules in gates:
        by_key[rules.code.casefold()] = rules
    admission_zones = [z.id for z in zones.values() if z.admission]
    return Setup(stamp, dict(zones), tuple(gates), by_key, admission_zones[0] if len(admission_zones) == 1 else None)


def forget(edition_id: int | None = None) -> None:
    """Drop what this process keeps in memory (one edition's set-up, or all). Changes do not need it — the
    stamp tells every process — but tests and a database restored from a backup may."""
    with _lock:
        if edition_id is None:
            _cache.clear()
        else:
            _cache.pop(edition_id, None)


def _changed(scope: Scope, edition: Edition) -> None:
    """A new stamp for the edition's set-up, in the current transaction (every process reloads on its next
    scan once it commits)."""
    db.session.flush()
    stamp, now = secrets.token_hex(16), utcnow()
    # Insert unless another manager's first change did a moment ago (no IntegrityError), then update either way.
    if insert_unless_exists(ZoneSetup, {"edition_id": edition.id, "organizer_id": scope.organizer_id,
                                        "stamp": stamp, "changed_at": now}, ["edition_id"],
                            ZoneSetup.edition_id) is None:
        db.session.execute(update(ZoneSetup).where(ZoneSetup.edition_id == edition.id,
                                                   ZoneSetup.organizer_id == scope.organizer_id)
                           .values(stamp=stamp, changed_at=now).execution_options(synchronize_session=False))
    forget(edition.id)


# --- the decision at the gate ----------------------------------------------------------------------------

def is_kiosk(gate_code) -> bool:
    return isinstance(gate_code, str) and gate_code.strip().casefold().startswith(KIOSK_PREFIX)


def gate_decision(edition: Edition, gate_code, registration, scanned_at: datetime, direction=None, *,
                  setup: Setup | None = None, exits: Exits | None = None) -> GateDecision:
    """Where a check-in at ``gate_code`` leads and whether the zone lets this registration in (see the module's
    rules). ``registration`` may be None (a refused badge): the zone and direction are still told.

    ``setup``: the edition's set-up read once for a batch (``setup_of(edition)``), else read here. ``exits``:
    the batch's exits (``last_exits``), else the re-entry check reads the visitor's last exit here. An exit let
    through is added to ``exits``, so a re-entry later in the same batch sees it."""
    if direction not in (None, *DIRECTIONS):
        raise ServiceError(_l("direction must be 'in', 'out' or empty."), "direction")
    if setup is None:
        setup = setup_of(edition)
    kiosk = is_kiosk(gate_code)
    gate = None if kiosk else setup.gate(gate_code)
    if gate is None:
        named = isinstance(gate_code, str) and bool(gate_code.strip())
        if named and not kiosk and setup.gates:  # a typo or a gate deleted since: not a way round the rules
            return GateDecision(None, direction or "in", "unknown_gate", False)
        if kiosk and direction == "out":  # a kiosk only lets people in, whatever it is called
            return GateDecision(None, "out", "wrong_direction", False)
        zone = setup.zones.get(setup.main_zone_id) if setup.main_zone_id is not None else None
        direction = direction or "in"
        if zone is None:
            return GateDecision(None, direction, None, direction == "in")
    else:
        zone = setup.zones.get(gate.zone_id)
        if direction is None:
            direction = "out" if gate.direction == "out" else "in"
        elif gate.direction != "both" and direction != gate.direction:
            return GateDecision(gate.zone_id, direction, "wrong_direction", False)
        if zone is None:  # cannot happen (a gate's zone is a foreign key), but never a 500 at the door
            return GateDecision(None, direction, None, direction == "in")
    if direction == "out":
        if exits is not None and registration is not None:
            exits.add(registration.id, zone.id, scanned_at)
        return GateDecision(zone.id, "out", None, False)
    if registration is None:
        return GateDecision(zone.id, "in", None, zone.admission)
    reason = entry_refusal(edition, zone, registration, scanned_at, exits=exits)
    return GateDecision(zone.id, "in", reason, zone.admission and reason is None)


class Exits:
    """The exits let through (ok) of some registrations from the zones that restrict re-entry: (registration id,
    zone id) -> sorted UTC moments. Made by ``last_exits`` for a batch."""

    def __init__(self, moments: dict | None = None):
        self._moments = moments or {}

    def add(self, registration_id: int, zone_id: int, moment: datetime) -> None:
        moments = self._moments.setdefault((registration_id, zone_id), [])
        moments.insert(bisect_left(moments, moment), moment)

    def any_between(self, registration_id: int, zone_id: int, start: datetime | None, end: datetime) -> bool:
        """An exit in [start, end) (start None: any time before end)?"""
        moments = self._moments.get((registration_id, zone_id), ())
        before_end = bisect_left(moments, end)
        if start is None:
            return before_end > 0
        return before_end > bisect_left(moments, start)


def last_exits(edition: Edition, registration_ids, *, setup: Setup | None = None) -> Exits:
    """One query for a batch: the exits of these registrations from the edition's zones whose re-entry policy is
    not "free" (none: no query). Pass the result to ``gate_decision(..., exits=...)`` for every item."""
    setup = setup if setup is not None else setup_of(edition)
    zone_ids = [z.id for z in setup.zones.values() if z.reentry != "free"]
    ids = {i for i in registration_ids if i is not None}
    if not zone_ids or not ids:
        return Exits()
    moments: dict = {}
    for reg_id, zone_id, moment in db.session.execute(
            select(Scan.registration_id, Scan.zone_id, Scan.scanned_at)
            .where(Scan.organizer_id == edition.organizer_id, Scan.edition_id == edition.id,
                   Scan.registration_id.in_(ids), Scan.zone_id.in_(zone_ids), Scan.kind == "checkin",
                   Scan.direction == "out", Scan.result == "ok")
            .order_by(Scan.scanned_at)):
        moments.setdefault((reg_id, zone_id), []).append(moment)
    return Exits(moments)


def entry_refusal(edition: Edition, zone: ZoneRules, registration, scanned_at: datetime, *,
                  exits: Exits | None = None) -> str | None:
    """Why this registration may not enter the zone at that moment, or None (``exits``: see gate_decision)."""
    category = registration.category
    if category not in zone.access:
        return "zone_category_not_allowed"
    days = zone.access[category]
    day = local_day(edition, scanned_at)
    if days is not None and day.isoformat() not in days:
        return "zone_closed_today"
    if zone.reentry == "free":
        return None
    if exits is not None:
        start = day_bounds(edition, day)[0] if zone.reentry == "daily" else None
        return "reentry_not_allowed" if exits.any_between(registration.id, zone.id, start, scanned_at) else None
    stmt = (select(Scan.id).where(Scan.organizer_id == edition.organizer_id, Scan.edition_id == edition.id,
                                  Scan.registration_id == registration.id, Scan.zone_id == zone.id,
                                  Scan.kind == "checkin", Scan.direction == "out", Scan.result == "ok",
                                  Scan.scanned_at < scanned_at).limit(1))
    if zone.reentry == "daily":
        stmt = stmt.where(Scan.scanned_at >= day_bounds(edition, day)[0])
    return "reentry_not_allowed" if db.session.scalar(stmt) is not None else None


def gates_for(edition: Edition, language: str | None = None) -> list[dict]:
    """The edition's gates for scanners and the entrance page: code, name, zone (its name in ``language``, by
    default the current one), direction ("in", "out", "both"); and the zone's id."""
    language = language or _current_language()
    setup = setup_of(edition)
    return [{"code": gate.code, "name": gate.name, "zone": setup.zones[gate.zone_id].name(language)
             if gate.zone_id in setup.zones else "", "zone_id": gate.zone_id, "direction": gate.direction}
            for gate in setup.gates]


def _current_language() -> str:
    try:
        from flask_babel import get_locale

        locale = get_locale()
    except Exception:  # noqa: BLE001 - outside a request or app: English
        return "en"
    return str(locale) if locale else "en"


# --- days and times --------------------------------------------------------------------------------------

def local_day(edition: Edition, moment: datetime) -> date:
    return moment.astimezone(ZoneInfo(edition.timezone or "UTC")).date()


def day_bounds(edition: Edition, day: date) -> tuple[datetime, datetime]:
    """The UTC moments a local day of the edition starts and ends (DST days are 23 or 25 hours long)."""
    zone = ZoneInfo(edition.timezone or "UTC")
    start = datetime.combine(day, time(), zone).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(timezone.utc)
    return start, end


def show_days(edition: Edition) -> list[date]:
    return [edition.starts_on + timedelta(days=n) for n in range((edition.ends_on - edition.starts_on).days + 1)]


# --- the set-up pages' services ----------------------------------------------------------------------------

def zones_of(scope: Scope, edition: Edition) -> list[Zone]:
    return list(db.session.scalars(scoped(Zone, scope).where(Zone.edition_id == edition.id)
                                   .order_by(Zone.position, Zone.id)))


def gates_of(scope: Scope, edition: Edition) -> list[Gate]:
    return list(db.session.scalars(scoped(Gate, scope).where(Gate.edition_id == edition.id).order_by(Gate.code)))


def _zone(scope: Scope, edition: Edition, zone_id) -> Zone:
    zone_id = _id(zone_id, "zone_id")
    zone = db.session.scalar(scoped(Zone, scope).where(Zone.edition_id == edition.id, Zone.id == zone_id))
    if zone is None:
        raise ServiceError(_l("No such zone in this edition."), "zone_id")
    return zone


def _gate(scope: Scope, edition: Edition, gate_id) -> Gate:
    gate_id = _id(gate_id, "gate_id")
    gate = db.session.scalar(scoped(Gate, scope).where(Gate.edition_id == edition.id, Gate.id == gate_id))
    if gate is None:
        raise ServiceError(_l("No such gate in this edition."), "gate_id")
    return gate


def _id(value, field_name: str) -> int:
    if isinstance(value, bool):
        value = None
    if isinstance(value, str):
        value = parse_id(value.strip())
    if not isinstance(value, int) or not 1 <= value <= 2**31 - 1:
        raise ServiceError(_l("No such zone or gate."), field_name)
    return value


def is_number(text: str, max_digits: int = 10) -> bool:
    """ASCII digits only, at most ``max_digits`` of them: ``int()`` can take it (not "²", not 5,000 digits)."""
    return isinstance(text, str) and 0 < len(text) <= max_digits and text.isascii() and text.isdecimal()


def _text(value, field_name: str, limit: int) -> str:
    value = value if isinstance(value, str) else ""
    if unstorable(value) or any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise ServiceError(_l("This text contains characters that cannot be stored."), field_name)
    value = " ".join(value.split())
    if len(value) > limit:
        raise ServiceError(_l("At most %(max)s characters.", max=limit), field_name)
    return value


def days_outside_show(edition: Edition, zone_list) -> dict[int, list[str]]:
    """Zones whose access names days that are no longer show days (the edition's dates moved since): zone id ->
    those ISO dates. Nobody gets in on them, and the set-up page's day columns cannot show them."""
    days = {d.isoformat() for d in show_days(edition)}
    stale = {}
    for zone in zone_list:
        outside = sorted({d for allowed in (zone.access or {}).values() if allowed is not None
                          for d in allowed if d not in days})
        if outside:
            stale[zone.id] = outside
    return stale


def clean_access(edition: Edition, access) -> dict:
    """category -> None (any day) or the sorted ISO dates of show days. Every show day ticked is "any day"
    (build-up days included); a category with no day ticked may not enter (it is left out)."""
    if not isinstance(access, dict):
        raise ServiceError(_l("Choose who may enter."), "access")
    days = {d.isoformat() for d in show_days(edition)}
    clean = {}
    for category, allowed in access.items():
        if category not in VISITOR_CATEGORY:
            raise ServiceError(_l("No such visitor category."), "access")
        if allowed is None:
            clean[category] = None
            continue
        if not isinstance(allowed, (list, tuple, set, frozenset)) or not all(isinstance(d, str) for d in allowed):
            raise ServiceError(_l("Choose show days."), "access")
        allowed = set(allowed)
        if not allowed <= days:
            raise ServiceError(_l("Only the days of the show can be chosen."), "access")
        if allowed == days:
            clean[category] = None
        elif allowed:
            clean[category] = sorted(allowed)
    return {category: clean[category] for category in VISITOR_CATEGORY.codes if category in clean}


def save_zone(scope: Scope, edition: Edition, zone_id=None, *, name_en, name_zh, capacity, access, reentry,
              admission: bool, actor_id: int | None) -> Zone:
    """Create a zone (``zone_id`` None) or change one; validated, audited with what it is now."""
    name_en, name_zh = _text(name_en, "name_en", NAME_MAX), _text(name_zh, "name_zh", NAME_MAX)
    if not (name_en or name_zh):
        raise ServiceError(_l("Give the zone a name in at least one language."), "name_en")
    if capacity in ("", None):
        capacity = None
    elif isinstance(capacity, bool) or not isinstance(capacity, int) or not 1 <= capacity <= MAX_CAPACITY:
        raise ServiceError(_l("The capacity is a number between 1 and %(max)d, or empty.", max=MAX_CAPACITY),
                           "capacity")
    if reentry not in REENTRY:
        raise ServiceError(_l("Choose a re-entry policy."), "reentry")
    access = clean_access(edition, access)
    zone = _zone(scope, edition, zone_id) if zone_id not in (None, "") else None
    action = "zone.changed"
    if zone is None:
        action = "zone.created"
        position = db.session.scalar(scoped(Zone, scope, func.max(Zone.position))
                                     .where(Zone.edition_id == edition.id)) or 0
        zone = Zone(organizer_id=scope.organizer_id, edition_id=edition.id, position=position + 1)
        db.session.add(zone)
    before = (zone.name_en, zone.name_zh, zone.capacity, zone.access, zone.reentry, zone.admission)
    zone.name_en, zone.name_zh, zone.capacity, zone.access = name_en, name_zh, capacity, access
    zone.reentry, zone.admission = reentry, bool(admission)
    if before == (zone.name_en, zone.name_zh, zone.capacity, zone.access, zone.reentry, zone.admission):
        return zone
    db.session.flush()
    audit(action, organizer_id=scope.organizer_id, user_id=actor_id, obj=zone,
          details={"name_en": name_en, "name_zh": name_zh, "capacity": capacity, "access": access,
                   "reentry": reentry, "admission": zone.admission})
    _changed(scope, edition)
    return zone


def delete_zone(scope: Scope, edition: Edition, zone_id, *, actor_id: int | None) -> None:
    """A zone goes only when no gate leads into it and no scan was made at it (its figures stay)."""
    zone = _zone(scope, edition, zone_id)
    if db.session.scalar(scoped(Gate, scope, Gate.id).where(Gate.zone_id == zone.id).limit(1)) is not None:
        raise ServiceError(_l("Gates still lead into this zone: move them to another zone or delete them first."),
                           "zone_id")
    if db.session.scalar(scoped(Scan, scope, Scan.id).where(Scan.zone_id == zone.id).limit(1)) is not None:
        raise ServiceError(_l("Badges were scanned at this zone: it stays for the figures. To close it, untick "
                              "every visitor category."), "zone_id")
    audit("zone.deleted", organizer_id=scope.organizer_id, user_id=actor_id, obj=zone,
          details={"name_en": zone.name_en, "name_zh": zone.name_zh})
    db.session.delete(zone)
    db.session.flush()
    _changed(scope, edition)


def save_gate(scope: Scope, edition: Edition, gate_id=None, *, code, name, zone_id, direction,
              actor_id: int | None) -> Gate:
    """Create a gate or change one. The code is what scanners send: letters, digits, "-", "_", "."; unique in
    the edition (whatever the case)."""
    code = _text(code, "code", CODE_MAX).upper()  # stored upper-case: the unique key holds whatever the case
    if not _CODE.fullmatch(code):
        raise ServiceError(_l("A gate code is made of letters, digits, '-', '_' and '.', e.g. N1 or hall-2-east."),
                           "code")
    name = _text(name, "name", GATE_NAME_MAX) or code
    if direction not in GATE_DIRECTION:
        raise ServiceError(_l("Choose a direction."), "direction")
    zone = _zone(scope, edition, zone_id)
    gate = _gate(scope, edition, gate_id) if gate_id not in (None, "") else None
    clash = db.session.scalar(scoped(Gate, scope).where(Gate.edition_id == edition.id,
                                                        func.lower(Gate.code) == code.lower()))
    if clash is not None and clash is not gate:
        raise ServiceError(_l("Another gate has this code."), "code")
    action = "gate.changed"
    if gate is None:
        action = "gate.created"
        gate = Gate(organizer_id=scope.organizer_id, edition_id=edition.id)
        db.session.add(gate)
    before = (gate.code, gate.name, gate.zone_id, gate.direction)
    gate.code, gate.name, gate.zone_id, gate.direction = code, name, zone.id, direction
    if before == (code, name, zone.id, direction):
        return gate
    try:
        with db.session.begin_nested():  # another manager stored this code a moment ago
            db.session.flush()
    except IntegrityError:
        raise ServiceError(_l("Another gate has this code."), "code") from None
    audit(action, organizer_id=scope.organizer_id, user_id=actor_id, obj=gate,
          details={"code": code, "name": name, "zone_id": zone.id, "direction": direction})
    _changed(scope, edition)
    return gate


def delete_gate(scope: Scope, edition: Edition, gate_id, *, actor_id: int | None) -> None:
    """A gate can go at any time: its scans keep its code."""
    gate = _gate(scope, edition, gate_id)
    audit("gate.deleted", organizer_id=scope.organizer_id, user_id=actor_id, obj=gate,
          details={"code": gate.code, "name": gate.name})
    db.session.delete(gate)
    db.session.flush()
    _changed(scope, edition)


# --- who is inside, attendance -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Occupancy:
    zone_id: int
    name_en: str
    name_zh: str
    inside: int
    capacity: int | None

    @property
    def level(self) -> str:
        """"full" at capacity, "warning" from 90 %, else "ok" (and "ok" without a capacity)."""
        if not self.capacity:
            return "ok"
        if self.inside >= self.capacity:
            return "full"
        return "warning" if self.inside >= WARN_AT * self.capacity else "ok"

    def name(self, language: str = "en") -> str:
        first, second = (self.name_zh, self.name_en) if language.startswith("zh") else (self.name_en, self.name_zh)
        return first or second


def _let_in(edition: Edition, start: datetime, end: datetime):
    """The check-ins of the edition in [start, end) that let someone through (ok or duplicate)."""
    return (Scan.organizer_id == edition.organizer_id, Scan.edition_id == edition.id, Scan.kind == "checkin",
            Scan.result.in_(("ok", "duplicate")), Scan.scanned_at >= start, Scan.scanned_at < end)


def _inside_subquery(edition: Edition, day: date):
    """Per registration and zone, their last scan at the zone's gates that day (1 = the last)."""
    start, end = day_bounds(edition, day)
    last = func.row_number().over(partition_by=(Scan.registration_id, Scan.zone_id),
                                  order_by=(Scan.scanned_at.desc(), Scan.id.desc()))
    return (select(Scan.registration_id, Scan.zone_id, Scan.direction, last.label("last"))
            .where(*_let_in(edition, start, end), Scan.zone_id.is_not(None), Scan.direction.is_not(None),
                   Scan.registration_id.is_not(None))
            .subquery())


def occupancy(scope: Scope, edition: Edition, day: date | None = None, *, now: datetime | None = None
              ) -> list[Occupancy]:
    """Every zone with the number of visitors inside: those whose last scan at its gates that day (default:
    today in the edition's zone) was an entry. Zones in the set-up's order."""
    day = day or local_day(edition, now or utcnow())
    inside = _inside_subquery(edition, day)
    counts = dict(db.session.execute(select(inside.c.zone_id, func.count())
                                     .where(inside.c.last == 1, inside.c.direction == "in")
                                     .group_by(inside.c.zone_id)).all())
    return [Occupancy(z.id, z.name_en, z.name_zh, counts.get(z.id, 0), z.capacity) for z in zones_of(scope, edition)]


def inside_registrations(scope: Scope, edition: Edition, zone_id: int, day: date | None = None, *,
                         now: datetime | None = None) -> list[int]:
    """The ids of the registrations inside the zone now (see ``occupancy``)."""
    day = day or local_day(edition, now or utcnow())
    inside = _inside_subquery(edition, day)
    return sorted(db.session.scalars(select(inside.c.registration_id).where(
        inside.c.last == 1, inside.c.direction == "in", inside.c.zone_id == zone_id)))


def attendance_day(edition: Edition, requested=None, *, now: datetime | None = None) -> date:
    """The show day a page shows: the requested one if it is a show day, else today during the show, the last
    day after it, the first before it."""
    days = show_days(edition)
    if isinstance(requested, str) and len(requested) == 10:
        try:
            wanted = date.fromisoformat(requested)
        except ValueError:
            wanted = None
        if wanted in days:
            return wanted
    today = local_day(edition, now or utcnow())
    return today if today in days else (days[-1] if today > days[-1] else days[0])


def _bucket(column):
    """The UTC quarter hour of a stored (naive UTC) time, as a whole number, in SQL."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(func.floor(extract("epoch", column) / BUCKET_SECONDS), Integer)
    return cast(func.strftime("%s", column), Integer) // BUCKET_SECONDS  # integer division


def attendance(scope: Scope, edition: Edition, day: date, *, now: datetime | None = None) -> dict:
    """A show day at the gates, as plain data: entries and exits per local hour and gate, admissions, and the
    zones' occupancy now (today) or at the day's end (a past day)."""
    now = now or utcnow()
    start, end = day_bounds(edition, day)
    zone = ZoneInfo(edition.timezone or "UTC")
    bucket = _bucket(Scan.scanned_at).label("bucket")
    rows = db.session.execute(
        select(bucket, Scan.gate, Scan.direction, func.count(), func.count(Scan.admitted_on))
        .where(*_let_in(edition, start, end)).group_by(bucket, Scan.gate, Scan.direction)).all()
    setup = setup_of(edition)
    hours: dict[int, dict] = {}
    gates: dict[str, dict] = {}
    entries = exits = admitted = 0
    for quarter, gate, direction, n, admissions in rows:
        hour = datetime.fromtimestamp(int(quarter) * BUCKET_SECONDS, timezone.utc).astimezone(zone).hour
        known = setup.gate(gate)
        key = known.code if known else (gate or "")
        label = known.name if known else (gate or "")
        if not known and is_kiosk(gate):  # "kiosk:Desk 1": the station's name
            label = gate.strip()[len(KIOSK_PREFIX):].strip() or gate
        slot = gates.setdefault(key, {"code": key, "name": label, "known": bool(known),
                                      "entries": 0, "exits": 0, "by_hour": {}})
        if direction == "out":
            slot["exits"] += n
            exits += n
            hours.setdefault(hour, {"in": 0, "out": 0})["out"] += n
        else:
            slot["entries"] += n
            slot["by_hour"][hour] = slot["by_hour"].get(hour, 0) + n
            entries += n
            hours.setdefault(hour, {"in": 0, "out": 0})["in"] += n
        admitted += admissions
    today = local_day(edition, now)
    if hours:
        first, last = min(hours), max(hours)
        if day == today:
            last = max(last, now.astimezone(zone).hour)
        span = list(range(first, last + 1))
    else:
        span = []
    ordered = sorted(gates.values(), key=lambda g: (not g["known"], g["code"]))
    return {
        "day": day.isoformat(), "today": day == today, "timezone": edition.timezone,
        "hours": span,
        "entries_by_hour": [hours.get(h, {}).get("in", 0) for h in span],
        "exits_by_hour": [hours.get(h, {}).get("out", 0) for h in span],
        "gates": [{"code": g["code"], "name": g["name"], "entries": g["entries"], "exits": g["exits"],
                   "by_hour": [g["by_hour"].get(h, 0) for h in span]} for g in ordered],
        "figures": {"entries": entries, "exits": exits, "admitted": admitted},
        "zones": occupancy(scope, edition, day),
    }
