"""On-site: verifying badge codes, check-in at the gate, scans at the booth (the lead is the leads module's).

The scan is the hot path. It costs: the idempotency look-up, the registration (by primary key),
the lead or previous check-in, and the inserts, then one commit by the caller.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..core import activity, badge_codes
from ..core.db import insert_unless_exists, take_write_lock, utcnow
from ..core.models import Edition
from ..core.permissions import has_permission
from ..core.scoping import Scope, get_scoped, scoped
from ..core.services import MAX_DB_INT, ServiceError, unstorable
from ..exhibitors.models import WITHDRAWN_STATUSES
from ..extensions import db
from ..leads import VIEW_ALL_LEADS
from ..leads import services as leads
from ..leads.models import Lead
from ..visitors.models import Registration
from ..visitors.services import visible_to_exhibitor
from . import CHECK_IN, SCAN_LEADS
from .models import SCAN_KINDS, Scan


class ScanForbidden(ServiceError):
    """The user may not make this kind of scan (an HTTP 403, not a refused badge)."""


class ScanRace(Exception):
    """The same scan (user, client_scan_id) was stored by a concurrent request while this one ran.

    The caller undoes this attempt (the transaction, or the batch item's savepoint) and answers with
    ``replay_scan(user, client_scan_id)``: the first request's answer is the answer."""

    def __init__(self, client_scan_id: str):
        super().__init__(client_scan_id)
        self.client_scan_id = client_scan_id


@dataclass(frozen=True)
class ScanFacts:
    """The stored scan row, as the scan path wrote it (no ORM object needed on the hot path)."""

    id: int
    kind: str
    client_scan_id: str
    result: str
    reason: str | None
    lead_id: int | None
    scanned_at: datetime
    received_at: datetime

    @classmethod
    def of(cls, scan: Scan) -> ScanFacts:
        return cls(scan.id, scan.kind, scan.client_scan_id, scan.result, scan.reason, scan.lead_id,
                   scan.scanned_at, scan.received_at)


@dataclass
class ScanOutcome:
    facts: ScanFacts
    registration: Registration | None
    replayed: bool = False

    @property
    def result(self) -> str:
        return self.facts.result

    @property
    def reason(self) -> str | None:
        return self.facts.reason

    @property
    def scan(self) -> Scan:
        return db.session.get(Scan, self.facts.id)

    @property
    def lead(self) -> Lead | None:
        return db.session.get(Lead, self.facts.lead_id) if self.facts.lead_id else None

    def as_dict(self) -> dict:
        facts = self.facts
        return {
            "result": facts.result,
            "reason": facts.reason,
            "kind": facts.kind,
            "client_scan_id": facts.client_scan_id,
            "scan_id": facts.id,
            "lead_id": facts.lead_id,
            "scanned_at": facts.scanned_at.isoformat(),
            "received_at": facts.received_at.isoformat(),
            "replayed": self.replayed,
            "visitor": self.visitor(),
        }

    def visitor(self) -> dict | None:
        """What the scanner may see: entrance staff the name (also of a registration still awaiting
        confirmation, to sort it out at the desk); exhibitors, for a scan that made or counted a lead, what
        the visitor agreed to share — a refused booth scan shows nothing of the visitor."""
        reg = self.registration
        if reg is None or self.facts.result == "refused" and (self.facts.kind == "lead"
                                                              or self.facts.reason != "not_admitted"):
            return None
        if self.facts.kind == "checkin":  # the name as the visitor gave it for this edition, as on the badge
            return {"name": reg.visitor_name, "company": reg.visitor_company, "category": reg.category, "shared": True}
        return visible_to_exhibitor(reg)


def current_edition(scope: Scope) -> Edition | None:
    """The edition whose doors are open (live), else the one open for registration, nearest first."""
    for status in ("live", "registration_open"):
        edition = db.session.scalar(scoped(Edition, scope).where(Edition.status == status)
                                    .order_by(Edition.starts_on.desc()).limit(1))
        if edition is not None:
            return edition
    return None


def parse_scanned_at(value) -> datetime:
    """The device's clock, as ISO 8601; a time without zone is taken as UTC."""
    if value in (None, ""):
        return utcnow()
    if not isinstance(value, str):
        raise ServiceError(_l("scanned_at must be an ISO 8601 string."), "scanned_at")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        moment = moment.astimezone(timezone.utc) if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: year 1 east of UTC, year 9999 west of it
        raise ServiceError(_l("scanned_at must be an ISO 8601 string."), "scanned_at") from None
    return moment


def record_scan(user, *, code, kind: str, client_scan_id, scanned_at=None, gate=None,
                edition_id: int | None = None) -> ScanOutcome:
    """Verify a badge code and act on it (lead or check-in). Every call leaves exactly one Scan row."""
    if kind not in SCAN_KINDS:
        raise ServiceError(_l("kind must be 'lead' or 'checkin'."), "kind")
    if not isinstance(client_scan_id, str) or not 1 <= len(client_scan_id) <= 64 or unstorable(client_scan_id):
        raise ServiceError(_l("client_scan_id must be a string of 1 to 64 characters."), "client_scan_id")
    if not isinstance(code, str) or unstorable(code):
        raise ServiceError(_l("code must be a string."), "code")
    if gate is not None and (not isinstance(gate, str) or unstorable(gate)):
        raise ServiceError(_l("gate must be a string."), "gate")
    if edition_id is not None and (not isinstance(edition_id, int) or isinstance(edition_id, bool)
                                   or not 1 <= edition_id <= MAX_DB_INT):
        raise ServiceError(_l("edition_id must be a number."), "edition_id")
    scanned_at = parse_scanned_at(scanned_at)
    scope = Scope.of(user)
    exhibitor = None
    if kind == "lead":
        if not has_permission(user, SCAN_LEADS):
            raise ScanForbidden(_l("Only exhibitor staff capture leads."))
        exhibitor = user.exhibitor
        edition = exhibitor.edition
    else:
        if not has_permission(user, CHECK_IN):
            raise ScanForbidden(_l("Only on-site staff check visitors in."))
        edition = get_scoped(Edition, edition_id, scope) if edition_id is not None else current_edition(scope)
        if edition is None:
            raise ServiceError(_l("No edition is open for check-in."), "edition_id")

    previous = db.session.scalar(select(Scan).where(Scan.user_id == user.id, Scan.client_scan_id == client_scan_id))
    if previous is not None:
        return _replay(previous)

    if exhibitor is not None and exhibitor.status in WITHDRAWN_STATUSES:
        # A cancelled (or lost) exhibitor's staff capture no lead and see no visitor.
        registration, reason = None, "exhibitor_not_taking_part"
    else:
        registration, reason = verify_code(edition, code)
    row = {"organizer_id": user.organizer_id, "edition_id": edition.id, "user_id": user.id,
           "exhibitor_id": exhibitor.id if exhibitor else None, "kind": kind, "client_scan_id": client_scan_id,
           "raw_code": code[:2000], "gate": (gate or None) and gate[:60], "scanned_at": scanned_at,
           "received_at": utcnow(), "reason": reason, "lead_id": None,
           "registration_id": registration.id if registration is not None else None}
    take_write_lock(db.session)
    if reason is None and kind == "lead":
        row["lead_id"], row["result"] = leads.capture_lead(exhibitor, registration, user, scanned_at)
    elif reason is None:
        row["result"], row["admitted_on"] = _admit(registration, scanned_at)
    else:
        row["result"] = "refused"
    # A Core insert: the scan row is written once and never changed, it needs no unit of work.
    scan_id = insert_unless_exists(Scan, row, None, Scan.id)
    if scan_id is None and row.get("admitted_on") and not _stored(user, client_scan_id):
        # Another gate admitted this badge today a moment ago (the database keeps one admission per day):
        # this scan is a duplicate entry.
        row["result"], row["admitted_on"] = "duplicate", None
        scan_id = insert_unless_exists(Scan, row, None, Scan.id)
    if scan_id is None:
        # The same client_scan_id arrived twice at once and the other request stored it first: what this
        # attempt wrote (a lead, a count) must go; the caller rolls back and answers with replay_scan().
        raise ScanRace(client_scan_id)
    if kind == "checkin" and row["result"] == "ok":  # an admission (one a day) on the visitor's timeline
        activity.record("checkin", organizer_id=user.organizer_id, subject_type="person",
                        subject_id=registration.person_id, edition_id=edition.id, user_id=user.id,
                        object_type="scans", object_id=scan_id, at=scanned_at,
                        details={"edition": edition.name, "gate": row["gate"] or ""})
    facts = ScanFacts(scan_id, kind, client_scan_id, row["result"], reason, row["lead_id"], scanned_at,
                      row["received_at"])
    return ScanOutcome(facts, registration)


def replay_scan(user, client_scan_id: str) -> ScanOutcome:
    """The stored answer to a scan this user sent before (after a ScanRace, for instance)."""
    previous = db.session.scalar(select(Scan).where(Scan.user_id == user.id, Scan.client_scan_id == client_scan_id))
    return _replay(previous)


def _replay(scan: Scan) -> ScanOutcome:
    registration = (db.session.get(Registration, scan.registration_id, options=[joinedload(Registration.person)])
                    if scan.registration_id else None)
    return ScanOutcome(ScanFacts.of(scan), registration, replayed=True)


def verify_code(edition: Edition, code: str) -> tuple[Registration | None, str | None]:
    """The registration a code names for this edition, or the reason it must be refused."""
    try:
        claim = badge_codes.read_badge(code)
    except badge_codes.BadgeRefused as refused:
        return None, refused.reason
    if claim.edition_id != edition.id:
        return None, "other_edition"
    if not badge_codes.signature_valid(claim, edition.verify_key):
        return None, "invalid_signature"
    registration = db.session.get(Registration, claim.registration_id, options=[joinedload(Registration.person)])
    if registration is None or registration.edition_id != edition.id:
        return None, "unknown_registration"
    if claim.serial != registration.badge_serial or registration.status == "cancelled":
        return registration, "revoked"
    if registration.status != "confirmed":
        return registration, "not_admitted"
    return registration, None


def _admit(registration: Registration, scanned_at: datetime) -> tuple[str, date | None]:
    """Admitted once per show day (in the edition's time zone); a second entry that day is a duplicate.
    Returns the result and, for an admission, its day (unique per registration in the database)."""
    local_day = scanned_at.astimezone(ZoneInfo(registration.edition.timezone)).date()
    earlier = db.session.scalar(select(Scan.id).where(Scan.registration_id == registration.id,
                                                      Scan.admitted_on == local_day).limit(1))
    return ("duplicate", None) if earlier else ("ok", local_day)


def _stored(user, client_scan_id: str) -> bool:
    return db.session.scalar(select(Scan.id).where(Scan.user_id == user.id,
                                                   Scan.client_scan_id == client_scan_id)) is not None


def scans(scope: Scope, edition: Edition, kind: str, limit: int = 50, user_id: int | None = None) -> list[Scan]:
    """The latest scans of this kind in the scope (and by this user, if given), newest by the device's scan
    time first (an offline upload lands among the scans of its moment, not on top)."""
    stmt = scoped(Scan, scope).where(Scan.edition_id == edition.id, Scan.kind == kind)
    if user_id is not None:
        stmt = stmt.where(Scan.user_id == user_id)
    return list(db.session.scalars(stmt.order_by(Scan.scanned_at.desc(), Scan.id.desc()).limit(limit)))


@dataclass(frozen=True)
class RecentScan:
    """A row of the recent-scans strip: the scan and what its scanner may see of the visitor."""

    scan: Scan
    visitor: dict | None


def recent_scans(user, edition: Edition, kind: str, limit: int = 10) -> list[RecentScan]:
    """The latest scans with their visitors as the scanner may see them: entrance staff the name, booth
    staff what the visitor agreed to share (as in the verdict) — and booth staff who see only their own
    leads see only their own scans. Registrations in one query."""
    rows = scans(Scope.of(user), edition, kind, limit=limit,
                 user_id=None if kind == "checkin" or has_permission(user, VIEW_ALL_LEADS) else user.id)
    ids = {scan.registration_id for scan in rows if scan.registration_id is not None}
    registrations = {r.id: r for r in db.session.scalars(
        select(Registration).where(Registration.id.in_(ids), Registration.edition_id == edition.id)
        .options(joinedload(Registration.person)))} if ids else {}
    return [RecentScan(scan, ScanOutcome(ScanFacts.of(scan), registrations.get(scan.registration_id)).visitor())
            for scan in rows]


def registration_checkins(scope: Scope, registration: Registration) -> list[Scan]:
    """A visitor's check-in scans at the gates, newest first."""
    return list(db.session.scalars(scoped(Scan, scope).where(Scan.registration_id == registration.id,
                                                             Scan.kind == "checkin")
                                   .order_by(Scan.scanned_at.desc())))


def checked_in_registrations(edition_id: int):
    """The ids of the edition's registrations admitted at a gate at least once, as a subquery (the
    registrations list's "checked in" filter asks for it through the ``checked_in_registrations`` hook)."""
    return (select(Scan.registration_id)
            .where(Scan.edition_id == edition_id, Scan.kind == "checkin", Scan.result.in_(("ok", "duplicate")),
                   Scan.registration_id.is_not(None)))


def person_panel(scope: Scope, person, registrations: list, allowed) -> dict | None:
    """The person page (hook ``person_panels``): the visitor's entries at the gates, every edition, the
    time in the edition's zone; refused entries too (with the reason)."""
    editions = {r.id: r.edition for r in registrations}
    rows = list(db.session.scalars(scoped(Scan, scope).where(Scan.registration_id.in_(list(editions)),
                                                             Scan.kind == "checkin")
                                   .order_by(Scan.scanned_at.desc()).limit(200))) if editions else []
    from ..core.templating import localtime, state

    out = [{"edition": editions[s.registration_id].name,
            "time": localtime(s.scanned_at, editions[s.registration_id].timezone),
            "gate": s.gate or "",
            "result": state(s.reason, "scan_reason") if s.reason else state(s.result, "scan_result")}
           for s in rows]
    return {"key": "checkins", "title": _l("Entrance check-ins"), "icon": "door-open",
            "columns": [("edition", _l("Edition")), ("time", _l("Time")), ("gate", _l("Gate")), ("result", _l("Result"))],
            "rows": out, "empty": _l("Never checked in at a gate."),
            "kpi": {"value": len({(s.registration_id, s.admitted_on) for s in rows if s.admitted_on}),
                    "label": _l("Show days attended"), "icon": "door-open"}}


def visitor_checkins(scope: Scope, registration_ids: list[int]) -> dict:
    """The hook ``personal_data``: the visitor's scans at the entrance (when, which gate, the result). Their
    booth scans are the leads module's section."""
    rows = db.session.scalars(scoped(Scan, scope).where(Scan.registration_id.in_(registration_ids),
                                                        Scan.kind == "checkin").order_by(Scan.scanned_at))
    return {"key": "checkins", "title": _l("Entrance check-ins"),
            "columns": [("registration_id", _l("Registration")), ("scanned_at", _l("Time")), ("gate", _l("Gate")),
                        ("result", _l("Result"))],
            "rows": [{"registration_id": scan.registration_id, "scanned_at": scan.scanned_at, "gate": scan.gate or "",
                      "result": scan.result} for scan in rows]}
