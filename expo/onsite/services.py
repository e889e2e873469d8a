"""On-site: verifying badge codes, check-in at the gate, scans at the booth (the lead is the leads module's).

The scan is the hot path (docs/benchmarks.md, "Badge scans"). Every read on it is a Core select returning
plain rows, never an ORM object with eager loading:

- who scans: the token with its user, exhibitor, company and the exhibitor's edition (key, time zone) in one
  statement (``caller_for_token``; a page's signed-in user: the same statement by user id);
- the badge: its signature checked against the edition's public key — the key object is kept per process,
  keyed by the key's bytes as just read from the database, so a rotated key is honoured at once;
- one statement for the scan this device may have sent before (idempotency), the registration with its
  person and, at a gate, today's admission;
- the writes: the lead as one ``INSERT … ON CONFLICT DO UPDATE`` (a re-scan counts on it), the scan as one
  ``INSERT … ON CONFLICT DO NOTHING``; the audit and timeline rows as plain inserts; one commit by the caller.

Nothing about a token, a user or a registration is cached between requests: a revoked token, a deactivated
user, a reissued badge or a cancelled registration count from the next scan on, in every process.

A batch (``record_scans``) does the same work in bulk: the signatures in one pass, one statement for the
scans sent before, one for the registrations, one upsert for the leads, one multi-row insert for the scans.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, TypeDecorator, and_, bindparam, case, insert, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import aliased, joinedload

from ..core import activity, badge_codes
from ..core import services as core_services
from ..core.db import fast_execute, take_write_lock, utcnow
from ..core.models import EXHIBITOR_ROLES, Activity, ApiToken, AuditEntry, Edition, User
from ..core.permissions import has_permission
from ..core.scoping import Scope, scoped
from ..core.services import MAX_DB_INT, ServiceError, unstorable
from ..exhibitors.models import PARTICIPATING_STATUSES, Company, Exhibitor
from ..extensions import db
from ..leads import VIEW_ALL_LEADS
from ..leads import services as leads
from ..leads.models import Lead
from ..visitors.models import Person, Registration
from ..visitors.services import visible_to_exhibitor
from . import CHECK_IN, SCAN_LEADS, zones
from .models import SCAN_KINDS, Scan

DIRECTIONS = ("in", "out")
TOKEN_TOUCH = timedelta(minutes=10)  # a token's last_used_at is written at most this often, not on every scan


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
    registration_id: int | None = None

    @classmethod
    def of(cls, scan) -> ScanFacts:
        """Of a Scan (ORM) or of a row with the same column names."""
        return cls(scan.id, scan.kind, scan.client_scan_id, scan.result, scan.reason, scan.lead_id,
                   scan.scanned_at, scan.received_at, scan.registration_id)


class RegistrationView:
    """A registration as the scan path reads it (one Core row with its person's columns): what the verdict
    shows and the lead and check-in need. The ``visitor_*`` properties are the model's own, so an exhibitor
    sees exactly what ``visible_to_exhibitor`` lets them see of an ORM registration."""

    visitor_name = Registration.visitor_name
    visitor_company = Registration.visitor_company
    visitor_job_title = Registration.visitor_job_title
    visitor_phone = Registration.visitor_phone

    def __init__(self, row):
        self.id = row.reg_id
        self.edition_id = row.reg_edition_id
        self.person_id = row.reg_person_id
        self.category = row.reg_category
        self.status = row.reg_status
        self.badge_serial = row.reg_badge_serial
        self.share_with_exhibitors = row.reg_share
        self.erased_at = row.reg_erased_at
        self.name_as_given = row.reg_name
        self.company_as_given = row.reg_company
        self.job_title_as_given = row.reg_job_title
        self.phone_as_given = row.reg_phone
        self.person = SimpleNamespace(name=row.person_name, company=row.person_company,
                                      job_title=row.person_job_title, phone=row.person_phone,
                                      country=row.person_country, email=row.person_email)


# The columns of a RegistrationView, for any select that joins registrations and persons.
VIEW_COLUMNS = (
    Registration.id.label("reg_id"), Registration.edition_id.label("reg_edition_id"),
    Registration.person_id.label("reg_person_id"), Registration.category.label("reg_category"),
    Registration.status.label("reg_status"), Registration.badge_serial.label("reg_badge_serial"),
    Registration.share_with_exhibitors.label("reg_share"), Registration.erased_at.label("reg_erased_at"),
    Registration.name_as_given.label("reg_name"), Registration.company_as_given.label("reg_company"),
    Registration.job_title_as_given.label("reg_job_title"), Registration.phone_as_given.label("reg_phone"),
    Person.name.label("person_name"), Person.company.label("person_company"),
    Person.job_title.label("person_job_title"), Person.phone.label("person_phone"),
    Person.country.label("person_country"), Person.email.label("person_email"),
)
SCAN_COLUMNS = (Scan.id, Scan.kind, Scan.client_scan_id, Scan.result, Scan.reason, Scan.lead_id, Scan.scanned_at,
                Scan.received_at, Scan.registration_id)


@dataclass
class ScanOutcome:
    facts: ScanFacts
    registration: object | None  # the Registration (ORM), or its RegistrationView on the hot path
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


# --- who scans -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EditionFacts:
    """What the scan path needs of an edition (plain values: ``zones.gate_decision`` takes it too)."""

    id: int
    organizer_id: int
    name: str
    timezone: str
    verify_key: bytes


@dataclass(frozen=True)
class CallerFacts:
    """A scanning user with their exhibitor, its company name and the exhibitor's edition (exhibitor staff)."""

    user_id: int
    organizer_id: int
    role: str
    exhibitor_id: int | None
    exhibitor_status: str | None
    company_name: str | None
    edition: EditionFacts | None


def _caller_select():
    return (select(User.id, User.organizer_id, User.role, User.exhibitor_id, Exhibitor.status, Company.name,
                   Edition.id.label("edition_id"), Edition.organizer_id.label("edition_organizer_id"),
                   Edition.name.label("edition_name"), Edition.timezone, Edition.verify_key)
            .select_from(User)
            .outerjoin(Exhibitor, Exhibitor.id == User.exhibitor_id)
            .outerjoin(Company, Company.id == Exhibitor.company_id)
            .outerjoin(Edition, Edition.id == Exhibitor.edition_id)
            .where(User.active.is_(True)))


def _caller_facts(row) -> CallerFacts:
    edition = (EditionFacts(row.edition_id, row.edition_organizer_id, row.edition_name, row.timezone,
                            bytes(row.verify_key)) if row.edition_id is not None else None)
    return CallerFacts(row.id, row.organizer_id, row.role, row.exhibitor_id, row.status, row.name, edition)


class ApiCaller:
    """A token's user as the scan API sees it (``g.api_user``): plain values from one Core statement. It
    answers what permissions and scopes ask (role, organizer, exhibitor); anything else (``name``,
    ``exhibitor``, ``locale``…) comes from the ORM User, loaded on first use."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, facts: CallerFacts):
        self.facts = facts
        self.id = facts.user_id
        self.organizer_id = facts.organizer_id
        self.exhibitor_id = facts.exhibitor_id
        self.role = facts.role

    @property
    def is_exhibitor_staff(self) -> bool:
        return self.role in EXHIBITOR_ROLES

    def get_id(self) -> str:
        return str(self.id)

    def __getattr__(self, name):  # only for what the plain values do not answer
        if name.startswith("__") or name in ("facts", "_user"):
            raise AttributeError(name)
        user = self.__dict__.get("_user")
        if user is None:
            user = self.__dict__["_user"] = db.session.get(User, self.id)
        return getattr(user, name)


# The hot path's statements are built once (bound parameters) and run on the session's connection: no
# statement construction, no ORM execution layer per scan (the profile showed both, docs/benchmarks.md).
_BY_TOKEN = (_caller_select().add_columns(ApiToken.id.label("token_id"), ApiToken.last_used_at)
             .join(ApiToken, ApiToken.user_id == User.id)
             .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None)))
_BY_USER = _caller_select().where(User.id == bindparam("user_id"))
_TOUCH_TOKEN = update(ApiToken).where(ApiToken.id == bindparam("token_id")).values(last_used_at=bindparam("now"))


def _run(stmt, params: dict):
    return db.session.connection().execute(stmt, params)


def _fast(stmt, params: dict):
    """A statement of the single-scan path, built once (a module constant): on the driver (core.db.fast_execute)."""
    return fast_execute(db.session.connection(), stmt, params)


def caller_for_token(clear: str) -> ApiCaller | None:
    """The active user a token belongs to, with what a scan needs of them, in one statement; None for an
    unknown or revoked token or a deactivated user. Read on every request: nothing to invalidate."""
    row = _fast(_BY_TOKEN, {"token_hash": core_services._token_digest(clear)}).first()
    if row is None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at > TOKEN_TOUCH:  # coarse on purpose
        _fast(_TOUCH_TOKEN, {"token_id": row.token_id, "now": now})
    return ApiCaller(_caller_facts(row))


def _facts_of(user) -> CallerFacts:
    if isinstance(user, ApiCaller):
        return user.facts
    row = _run(_BY_USER, {"user_id": user.id}).first()
    if row is None:
        raise ScanForbidden(_l("This account cannot scan."))
    return _caller_facts(row)


def _edition_select(organizer_id: int):
    return select(Edition.id, Edition.organizer_id, Edition.name, Edition.timezone, Edition.verify_key).where(
        Edition.organizer_id == organizer_id)


def _edition_facts(row) -> EditionFacts:
    return EditionFacts(row.id, row.organizer_id, row.name, row.timezone, bytes(row.verify_key))


_EDITION = _edition_select(bindparam("organizer_id")).where(Edition.id == bindparam("edition_id"))
_OPEN_EDITION = (_edition_select(bindparam("organizer_id")).where(Edition.status.in_(("live", "registration_open")))
                 .order_by(case((Edition.status == "live", 0), else_=1), Edition.starts_on.desc()).limit(1))


def _open_edition(organizer_id: int, edition_id: int | None) -> EditionFacts | None:
    """The edition a check-in is for: the given one (the organizer's), else the one whose doors are open
    (live), else the one open for registration, nearest first (as ``current_edition``)."""
    row = _fast(_EDITION if edition_id is not None else _OPEN_EDITION,
               {"organizer_id": organizer_id, "edition_id": edition_id}).first()
    return _edition_facts(row) if row is not None else None


def current_edition(scope: Scope) -> Edition | None:
    """The edition whose doors are open (live), else the one open for registration, nearest first."""
    for status in ("live", "registration_open"):
        edition = db.session.scalar(scoped(Edition, scope).where(Edition.status == status)
                                    .order_by(Edition.starts_on.desc()).limit(1))
        if edition is not None:
            return edition
    return None


# --- the badge -------------------------------------------------------------------------------------------

_keys: dict[bytes, Ed25519PublicKey] = {}
_keys_lock = threading.Lock()


def _public_key(raw: bytes) -> Ed25519PublicKey:
    """The key object for these key bytes, made once per process. Keyed by the bytes read with the edition
    on every scan: a rotated key is a new entry, the old one is simply not asked for again."""
    key = _keys.get(raw)
    if key is None:
        key = Ed25519PublicKey.from_public_bytes(raw)
        with _keys_lock:
            if len(_keys) >= 256:
                _keys.clear()
            _keys[raw] = key
    return key


def _read_signed(edition: EditionFacts, code: str) -> tuple[badge_codes.BadgeClaim | None, str | None]:
    """The claim of a code whose signature this edition's key accepts, or the reason it is refused."""
    try:
        claim = badge_codes.read_badge(code)
    except badge_codes.BadgeRefused as refused:
        return None, refused.reason
    if claim.edition_id != edition.id:
        return None, "other_edition"
    try:
        _public_key(edition.verify_key).verify(claim.signature, badge_codes._CONTEXT + claim.signed)
    except InvalidSignature:
        return None, "invalid_signature"
    return claim, None


def _registration_reason(claim, registration, edition_id: int) -> tuple[object | None, str | None]:
    """A validly signed claim against the registration it names (None: not found)."""
    if registration is None or registration.edition_id != edition_id:
        return None, "unknown_registration"
    if claim.serial != registration.badge_serial or registration.status == "cancelled":
        return registration, "revoked"
    if registration.status != "confirmed":
        return registration, "not_admitted"
    return registration, None


def verify_code(edition: Edition, code: str) -> tuple[Registration | None, str | None]:
    """The registration (ORM) a code names for this edition, or the reason it must be refused."""
    claim, reason = _read_signed(_edition_facts(edition), code)
    if reason is not None:
        return None, reason
    registration = db.session.get(Registration, claim.registration_id, options=[joinedload(Registration.person)])
    return _registration_reason(claim, registration, edition.id)


# --- one scan ---------------------------------------------------------------------------------------------

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
    if not SCANNED_AT_RANGE[0] <= moment < SCANNED_AT_RANGE[1]:
        # No show happens there, and a day near the calendar's ends cannot be taken to the edition's zone
        # (the show day of an admission): year 9999 at UTC is next year in Shanghai.
        raise ServiceError(_l("scanned_at is not a time a badge can have been scanned."), "scanned_at")
    return moment


SCANNED_AT_RANGE = (datetime(2000, 1, 1, tzinfo=timezone.utc), datetime(3000, 1, 1, tzinfo=timezone.utc))


@dataclass
class _Request:
    """One scan as sent, checked."""

    code: str
    kind: str
    client_scan_id: str
    scanned_at: datetime
    gate: str | None
    edition_id: int | None
    direction: str | None


def _unstorable(text: str) -> bool:
    """core.services.unstorable, with the common case first: ASCII without NUL (a badge code, a UUID)."""
    return not (text.isascii() and "\x00" not in text) and unstorable(text)


def _checked(code, kind, client_scan_id, scanned_at, gate, edition_id, direction) -> _Request:
    if kind not in SCAN_KINDS:
        raise ServiceError(_l("kind must be 'lead' or 'checkin'."), "kind")
    if not isinstance(client_scan_id, str) or not 1 <= len(client_scan_id) <= 64 or _unstorable(client_scan_id):
        raise ServiceError(_l("client_scan_id must be a string of 1 to 64 characters."), "client_scan_id")
    if not isinstance(code, str) or _unstorable(code):
        raise ServiceError(_l("code must be a string."), "code")
    if gate is not None and (not isinstance(gate, str) or _unstorable(gate)):
        raise ServiceError(_l("gate must be a string."), "gate")
    if edition_id is not None and (not isinstance(edition_id, int) or isinstance(edition_id, bool)
                                   or not 1 <= edition_id <= MAX_DB_INT):
        raise ServiceError(_l("edition_id must be a number."), "edition_id")
    if direction is not None and (direction not in DIRECTIONS or kind != "checkin"):
        raise ServiceError(_l("direction must be 'in', 'out' or empty (check-ins only)."), "direction")
    return _Request(code, kind, client_scan_id, parse_scanned_at(scanned_at), gate, edition_id, direction)


def _allowed(user, kind: str) -> None:
    if kind == "lead" and not has_permission(user, SCAN_LEADS):
        raise ScanForbidden(_l("Only exhibitor staff capture leads."))
    if kind == "checkin" and not has_permission(user, CHECK_IN):
        raise ScanForbidden(_l("Only on-site staff check visitors in."))


_one = select(literal(1).label("one")).subquery("one")
_admitted = aliased(Scan, name="admitted")


def _lookup_statement(admitted: bool):
    stmt = (select(Scan.id.label("previous_id"), (_admitted.id if admitted else literal(None)).label("admitted_id"),
                   *VIEW_COLUMNS)
            .select_from(_one)
            .outerjoin(Scan, and_(Scan.user_id == bindparam("user_id"),
                                  Scan.client_scan_id == bindparam("client_scan_id")))
            .outerjoin(Registration, Registration.id == bindparam("registration_id"))
            .outerjoin(Person, Person.id == Registration.person_id))
    if admitted:
        stmt = stmt.outerjoin(_admitted, and_(_admitted.registration_id == bindparam("registration_id"),
                                              _admitted.admitted_on == bindparam("admitted_on")))
    return stmt


_LOOKUP = {False: _lookup_statement(False), True: _lookup_statement(True)}


def _lookup(user_id: int, client_scan_id: str, registration_id: int | None, admitted_on: date | None):
    """One statement: the scan this user sent before with this client_scan_id (idempotency), the registration
    with its person, and (at a gate) whether it was admitted that day. Each part may be empty."""
    return _fast(_LOOKUP[admitted_on is not None], {
        "user_id": user_id, "client_scan_id": client_scan_id, "registration_id": registration_id or 0,
        "admitted_on": admitted_on}).one()


_statements: dict[tuple[str, str], object] = {}


def _dialect_insert(name: str):
    return postgresql.insert if name == "postgresql" else sqlite.insert


def _scan_insert(connection, many: bool = False):
    """``INSERT INTO scans … ON CONFLICT DO NOTHING RETURNING id`` (``many``: and client_scan_id), built once
    per dialect (any unique key: the device's client_scan_id, or the one admission per registration and day)."""
    key = ("scan", connection.dialect.name, many)
    stmt = _statements.get(key)
    if stmt is None:
        stmt = _statements[key] = (_dialect_insert(connection.dialect.name)(Scan).on_conflict_do_nothing()
                                   .returning(Scan.id, *([Scan.client_scan_id] if many else [])))
    return stmt


_bulk_statements: dict[tuple, object] = {}


def _bulk(connection, table, rows: list[dict], tail: str = ""):
    """PostgreSQL: ``INSERT INTO table (…) SELECT * FROM unnest(:col1, :col2, …) <tail>`` — one statement of
    fixed text whatever the number of rows, its columns sent as arrays (psycopg keeps one parsed, prepared
    statement; a hundred-row VALUES list is parsed anew each time, which the profile showed as the batch's main
    cost). PostgreSQL only: elsewhere the callers run the model's insert with many parameter sets. Returns the
    result (``tail`` may hold ``ON CONFLICT …`` and ``RETURNING …``)."""
    columns = tuple(rows[0])
    if connection.dialect.name != "postgresql":
        raise NotImplementedError
    key = (table.name, columns, tail)
    stmt = _bulk_statements.get(key)
    dialect = connection.dialect
    if stmt is None:
        casts = ", ".join(f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])" for name in columns)
        stmt = _bulk_statements[key] = text(f"INSERT INTO {table.name} ({', '.join(columns)}) "
                                            f"SELECT * FROM unnest({casts}) {tail}")
    params = {}
    for name in columns:
        kind = table.c[name].type
        values = [row[name] for row in rows]
        if isinstance(kind, JSON):
            values = [None if v is None else json.dumps(v) for v in values]
        elif isinstance(kind, TypeDecorator):
            values = [kind.process_bind_param(v, dialect) for v in values]
        params[name] = values
    return connection.execute(stmt, params)


def record_scan(user, *, code, kind: str, client_scan_id, scanned_at=None, gate=None,
                edition_id: int | None = None, direction: str | None = None) -> ScanOutcome:
    """Verify a badge code and act on it (lead or check-in). Every call leaves exactly one Scan row.

    ``direction`` ("in", "out" or None), check-ins only: at a gate of a zone (expo.onsite.zones) the gate's
    own direction decides when None. Raises ScanRace when a concurrent request stored the same
    client_scan_id first (the caller rolls back and answers with ``replay_scan``)."""
    request = _checked(code, kind, client_scan_id, scanned_at, gate, edition_id, direction)
    _allowed(user, kind)
    caller = _facts_of(user)
    if kind == "lead":
        edition = caller.edition
        if edition is None:
            raise ScanForbidden(_l("Only exhibitor staff capture leads."))
    else:
        edition = _open_edition(caller.organizer_id, request.edition_id)
        if edition is None:
            raise ServiceError(_l("No edition is open for check-in."), "edition_id")

    if kind == "lead" and caller.exhibitor_status not in PARTICIPATING_STATUSES:
        # Only a booked exhibitor's staff capture leads: a prospect still in the sales pipeline has no stand, a
        # cancelled (or lost) one none any more; they see no visitor.
        claim, reason = None, "exhibitor_not_taking_part"
    else:
        claim, reason = _read_signed(edition, request.code)
    day = zones.local_day(edition, request.scanned_at) if kind == "checkin" else None
    found = _lookup(caller.user_id, request.client_scan_id, claim.registration_id if claim else None, day)
    if found.previous_id is not None:
        return replay_scan(user, request.client_scan_id)
    registration = None
    if claim is not None:
        registration, reason = _registration_reason(claim, RegistrationView(found) if found.reg_id else None,
                                                    edition.id)
    row = _scan_row(caller, edition, request, registration, reason)
    take_write_lock(db.session)
    connection = db.session.connection()
    if kind == "lead":
        if reason is None:
            row["lead_id"], row["result"] = leads.capture_lead(
                SimpleNamespace(id=caller.exhibitor_id, organizer_id=caller.organizer_id, edition_id=edition.id),
                registration, user, request.scanned_at, company_name=caller.company_name)
    else:
        _gate_decision(row, edition, request, registration, day, found.admitted_id is not None)
    scan_id = fast_execute(connection, _scan_insert(connection), row).scalar_one_or_none()
    if scan_id is None and row["admitted_on"] and not _stored(caller.user_id, request.client_scan_id):
        # Another gate admitted this badge today a moment ago (the database keeps one admission per day):
        # this scan is a duplicate entry.
        row["result"], row["admitted_on"] = "duplicate", None
        scan_id = fast_execute(connection, _scan_insert(connection), row).scalar_one_or_none()
    if scan_id is None:
        # The same client_scan_id arrived twice at once and the other request stored it first: what this
        # attempt wrote (a lead, a count) must go; the caller rolls back and answers with replay_scan().
        raise ScanRace(request.client_scan_id)
    if row["admitted_on"]:  # an admission (one a day) on the visitor's timeline
        activity.record("checkin", **_checkin_activity(caller, edition, row, registration, scan_id))
    facts = ScanFacts(scan_id, kind, request.client_scan_id, row["result"], row["reason"], row["lead_id"],
                      request.scanned_at, row["received_at"], row["registration_id"])
    return ScanOutcome(facts, registration)


def _scan_row(caller: CallerFacts, edition: EditionFacts, request: _Request, registration, reason,
              received_at: datetime | None = None) -> dict:
    return {"organizer_id": caller.organizer_id, "edition_id": edition.id, "user_id": caller.user_id,
            "exhibitor_id": caller.exhibitor_id if request.kind == "lead" else None, "kind": request.kind,
            "client_scan_id": request.client_scan_id, "raw_code": request.code[:2000],
            "gate": (request.gate or None) and request.gate[:60], "scanned_at": request.scanned_at,
            "received_at": received_at or utcnow(), "reason": reason, "lead_id": None,
            "result": "refused" if reason else "ok", "admitted_on": None, "zone_id": None,
            "direction": request.direction if request.kind == "checkin" else None,
            "registration_id": registration.id if registration is not None else None}


def _gate_decision(row: dict, edition: EditionFacts, request: _Request, registration, day: date,
                   admitted_before: bool, setup=None, exits=None) -> None:
    """A check-in: the zone and direction of its gate (zones.gate_decision), a zone's refusal, and the one
    admission per show day (``admitted_before``: this registration was admitted that day already). A batch
    passes the edition's gate set-up and its visitors' exits, read once for all its items."""
    decision = zones.gate_decision(edition, request.gate, registration if row["reason"] is None else None,
                                   request.scanned_at, request.direction, setup=setup, exits=exits)
    row["zone_id"], row["direction"] = decision.zone_id, decision.direction
    if row["reason"] is not None:
        return
    if decision.reason is not None:
        row["result"], row["reason"] = "refused", decision.reason
    elif decision.admission:
        row["result"], row["admitted_on"] = ("duplicate", None) if admitted_before else ("ok", day)


def _checkin_activity(caller: CallerFacts, edition: EditionFacts, row: dict, registration, scan_id: int) -> dict:
    return {"organizer_id": caller.organizer_id, "subject_type": "person", "subject_id": registration.person_id,
            "edition_id": edition.id, "user_id": caller.user_id, "object_type": "scans", "object_id": scan_id,
            "at": row["scanned_at"], "details": {"edition": edition.name, "gate": row["gate"] or ""}}


def replay_scan(user, client_scan_id: str) -> ScanOutcome:
    """The stored answer to a scan this user sent before (after a ScanRace, for instance)."""
    return _replayed(_fast(_REPLAY, {"user_id": user.id, "client_scan_id": client_scan_id}).one())


_STORED = (select(*SCAN_COLUMNS, *VIEW_COLUMNS).outerjoin(Registration, Registration.id == Scan.registration_id)
           .outerjoin(Person, Person.id == Registration.person_id).where(Scan.user_id == bindparam("user_id")))
_REPLAY = _STORED.where(Scan.client_scan_id == bindparam("client_scan_id"))


def _replayed(row) -> ScanOutcome:
    return ScanOutcome(ScanFacts.of(row), RegistrationView(row) if row.reg_id is not None else None, replayed=True)


def _stored(user_id: int, client_scan_id: str) -> bool:
    return db.session.scalar(select(Scan.id).where(Scan.user_id == user_id,
                                                   Scan.client_scan_id == client_scan_id)) is not None


# --- a batch (an offline upload) ------------------------------------------------------------------------------

def record_scans(user, items: list) -> list[dict]:
    """A list of scans sent by one device, answered in order, each as ``record_scan`` would answer it alone
    (``ScanOutcome.as_dict()``), or ``{"result": "error", "status": 400|403, "error", "field"}`` for an item
    that is no valid scan or not allowed (nothing is stored for it; the others are).

    In bulk: the items checked and the signatures verified in one pass; one statement for the scans this
    user sent before (replays), one for the registrations (with their persons), one for today's admissions,
    one upsert for the leads, one multi-row insert for the scans, one each for the audit and timeline rows.
    Within a batch the same client_scan_id twice is stored once (the second answered as a replay), the same
    visitor twice is one lead counted twice, and one admission per registration and day holds across gates.
    A concurrent request storing one of these client_scan_ids (or admitting one of these visitors) between
    the reads and the writes undoes the batch's writes (a savepoint) and the batch is decided again."""
    answers: list[dict | None] = [None] * len(items)
    requests: list[tuple[int, _Request]] = []
    for n, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise ServiceError(_l("Each scan must be a JSON object."))
            request = _checked(item.get("code"), item.get("kind"), item.get("client_scan_id"),
                               item.get("scanned_at"), item.get("gate"), item.get("edition_id"),
                               item.get("direction"))
            _allowed(user, request.kind)
            requests.append((n, request))
        except ScanForbidden as error:
            answers[n] = {"result": "error", "status": 403, "error": str(error)}
        except ServiceError as error:
            answers[n] = {"result": "error", "status": 400, "error": str(error), "field": error.field}
    if not requests:
        return answers
    caller = _facts_of(user)
    take_write_lock(db.session)  # SQLite: the batch's writes wait their turn once, before the reads
    for attempt in range(5):
        try:
            with db.session.begin_nested():
                decided = _BatchRun(user, caller, requests).run()
        except _BatchRaced:
            continue
        except OperationalError as error:
            if _retryable(error):  # a deadlock with another batch (PostgreSQL chose this one): decide again
                continue
            raise  # the database is gone (a restart, a dropped connection): the caller answers 503, not per item
        except (IntegrityError, DataError):  # a refusal of some item's data: each item alone, in its savepoint
            decided = _one_by_one(user, requests, items)
        break
    else:
        decided = _one_by_one(user, requests, items)
    for n, answer in decided.items():
        answers[n] = answer
    return answers


# The leads of a batch (PostgreSQL, ``_bulk``): one row per registration; a re-scan counts on the existing lead.
_LEADS_TAIL = ("ON CONFLICT (exhibitor_id, registration_id) DO UPDATE SET scan_count = leads.scan_count + "
               "excluded.scan_count, last_scanned_at = CASE WHEN excluded.last_scanned_at > leads.last_scanned_at "
               "THEN excluded.last_scanned_at ELSE leads.last_scanned_at END, first_scanned_at = LEAST("
               "leads.first_scanned_at, excluded.first_scanned_at) RETURNING id, registration_id, scan_count")


class _BatchRaced(Exception):
    """A concurrent request stored one of the batch's scans (or admissions) after the batch read: decide again."""


def _one_by_one(user, requests: list[tuple[int, _Request]], items: list) -> dict[int, dict]:
    """The batch as single scans, each in its own savepoint (a fallback; the bulk path is the rule)."""
    answers = {}
    for n, request in requests:
        try:
            with db.session.begin_nested():
                answers[n] = record_scan(user, code=request.code, kind=request.kind,
                                         client_scan_id=request.client_scan_id,
                                         scanned_at=items[n].get("scanned_at"), gate=request.gate,
                                         edition_id=request.edition_id, direction=request.direction).as_dict()
        except ScanRace as race:
            answers[n] = replay_scan(user, race.client_scan_id).as_dict()
        except ScanForbidden as error:
            answers[n] = {"result": "error", "status": 403, "error": str(error)}
        except ServiceError as error:
            answers[n] = {"result": "error", "status": 400, "error": str(error), "field": error.field}
        except (IntegrityError, DataError):  # the database refused this item's data; a lost connection raises
            answers[n] = {"result": "error", "status": 400, "error": str(_l("This scan could not be stored."))}
    return answers


def _retryable(error: OperationalError) -> bool:
    """A deadlock or a serialization failure: the transaction (here: the batch's savepoint) may simply run again."""
    return getattr(error.orig, "sqlstate", None) in ("40P01", "40001")


@dataclass
class _Item:
    n: int
    request: _Request
    edition: EditionFacts | None = None
    claim: object = None
    reason: str | None = None
    registration: object = None
    row: dict = field(default_factory=dict)


class _BatchRun:
    def __init__(self, user, caller: CallerFacts, requests: list[tuple[int, _Request]]):
        self.user, self.caller, self.requests = user, caller, requests
        self.connection = db.session.connection()
        self.received_at = utcnow()

    def run(self) -> dict[int, dict]:
        answers: dict[int, dict] = {}
        caller = self.caller
        # Replays: scans this user sent before, with their registrations (one statement).
        ids = list({request.client_scan_id for _n, request in self.requests})
        stored = {row.client_scan_id: row for row in _run(_STORED.where(Scan.client_scan_id.in_(ids)),
                                                           {"user_id": caller.user_id})}
        editions = self._editions()
        items: list[_Item] = []
        first_of: dict[str, _Item] = {}  # client_scan_id -> the item of this batch that stores it
        repeats: list[_Item] = []
        for n, request in self.requests:  # in record_scan's order: the edition, then a replay, then the badge
            edition = caller.edition if request.kind == "lead" else editions.get(request.edition_id)
            if edition is None and request.kind == "lead":
                answers[n] = {"result": "error", "status": 403, "error": str(_l("Only exhibitor staff capture leads."))}
                continue
            if edition is None:
                answers[n] = {"result": "error", "status": 400, "field": "edition_id",
                              "error": str(_l("No edition is open for check-in."))}
                continue
            if request.client_scan_id in stored:
                answers[n] = _replayed(stored[request.client_scan_id]).as_dict()
                continue
            if request.client_scan_id in first_of:
                repeats.append(_Item(n, request))
                continue
            item = first_of[request.client_scan_id] = _Item(n, request, edition)
            if request.kind == "lead" and caller.exhibitor_status not in PARTICIPATING_STATUSES:
                item.reason = "exhibitor_not_taking_part"
            else:
                item.claim, item.reason = _read_signed(item.edition, request.code)  # the signatures, one pass
            items.append(item)
        # The registrations (with their persons) in one statement.
        wanted = {item.claim.registration_id for item in items if item.claim is not None}
        registrations = {row.reg_id: RegistrationView(row) for row in db.session.connection().execute(
            select(*VIEW_COLUMNS).select_from(Registration).join(Person, Person.id == Registration.person_id)
            .where(Registration.id.in_(wanted)))} if wanted else {}
        for item in items:
            if item.claim is not None:
                item.registration, item.reason = _registration_reason(
                    item.claim, registrations.get(item.claim.registration_id), item.edition.id)
            item.row = _scan_row(caller, item.edition, item.request, item.registration, item.reason,
                                 self.received_at)
        self._leads([item for item in items if item.request.kind == "lead" and item.reason is None])
        self._checkins([item for item in items if item.request.kind == "checkin"])
        self._write(items)
        for item in items:
            facts = ScanFacts(item.row["id"], item.request.kind, item.request.client_scan_id, item.row["result"],
                              item.row["reason"], item.row["lead_id"], item.request.scanned_at,
                              self.received_at, item.row["registration_id"])
            answers[item.n] = ScanOutcome(facts, item.registration).as_dict()
        for item in repeats:  # the same client_scan_id again in this batch: the first one's answer, replayed
            answers[item.n] = {**answers[first_of[item.request.client_scan_id].n], "replayed": True}
        return answers

    def _editions(self) -> dict[int | None, EditionFacts]:
        """The check-in items' editions (the organizer's), in one statement; None: the open edition."""
        wanted = {request.edition_id for _n, request in self.requests if request.kind == "checkin"}
        if not wanted:
            return {}
        found = {row.id: _edition_facts(row) for row in db.session.execute(
            _edition_select(self.caller.organizer_id).where(Edition.id.in_(wanted - {None})))} \
            if wanted - {None} else {}
        if None in wanted:
            found[None] = _open_edition(self.caller.organizer_id, None)
        return found

    def _leads(self, items: list[_Item]) -> None:
        """One upsert for every lead of the batch (a visitor twice in the batch: one lead counted twice)."""
        if not items:
            return
        caller = self.caller
        groups: dict[int, list[_Item]] = {}
        for item in items:
            groups.setdefault(item.registration.id, []).append(item)
        ordered = sorted(groups)  # a fixed order: two batches never lock the same leads the other way round
        values = [{"organizer_id": caller.organizer_id, "exhibitor_id": caller.exhibitor_id,
                   "registration_id": reg_id, "captured_by_id": caller.user_id, "notes": "",
                   "scan_count": len(groups[reg_id]), "first_scanned_at": groups[reg_id][0].request.scanned_at,
                   "last_scanned_at": max(item.request.scanned_at for item in groups[reg_id])} for reg_id in ordered]
        if self.connection.dialect.name == "postgresql":
            rows = _bulk(self.connection, Lead.__table__, values, _LEADS_TAIL).all()
        else:  # one INSERT … VALUES (…), (…) of the cached statement
            rows = self.connection.execute(leads.lead_upsert(self.connection), values).all()
        new = []
        for lead_id, reg_id, scan_count in rows:
            group = groups[reg_id]
            created = scan_count == len(group)
            for k, item in enumerate(group):
                item.row["lead_id"] = lead_id
                item.row["result"] = "ok" if created and k == 0 else "duplicate"
            if created:
                new.append((lead_id, group[0]))
        if new:
            self._insert(AuditEntry, [
                {"organizer_id": caller.organizer_id, "user_id": caller.user_id, "at": self.received_at,
                 "action": "lead.captured", "ip": None, "object_type": "leads", "object_id": lead_id,
                 "details": {"exhibitor_id": caller.exhibitor_id, "registration_id": item.registration.id,
                             "contact_shared": item.registration.share_with_exhibitors}}
                for lead_id, item in new])
            self._insert(Activity, [
                {"kind": "lead.captured", "organizer_id": caller.organizer_id, "subject_type": "person",
                 "subject_id": item.registration.person_id, "edition_id": item.edition.id,
                 "user_id": caller.user_id, "object_type": "leads", "object_id": lead_id,
                 "details": {"exhibitor": caller.company_name, "exhibitor_id": caller.exhibitor_id},
                 "at": item.request.scanned_at} for lead_id, item in new])

    def _insert(self, model, rows: list[dict]) -> None:
        """Append-only rows (audit, timeline) in one statement."""
        if self.connection.dialect.name == "postgresql":
            _bulk(self.connection, model.__table__, rows)
        else:
            self.connection.execute(insert(model), rows)

    def _checkins(self, items: list[_Item]) -> None:
        """Zones and directions (zones.gate_decision), then one admission per registration and show day: the
        admissions stored before in one statement, the first entry of the batch for a day is the one."""
        if not items:
            return
        setups, exits = {}, {}
        for item in items:  # the gates' set-up and the visitors' exits: once per edition for the whole batch
            edition = item.edition
            if edition.id not in setups:
                setups[edition.id] = zones.setup_of(edition)
                exits[edition.id] = zones.last_exits(
                    edition, {i.registration.id for i in items if i.edition.id == edition.id and i.registration},
                    setup=setups[edition.id])
            day = zones.local_day(edition, item.request.scanned_at)
            _gate_decision(item.row, edition, item.request, item.registration, day, False, setups[edition.id],
                           exits[edition.id])
        admitting = [item for item in items if item.row["admitted_on"]]
        if not admitting:
            return
        regs = {item.registration.id for item in admitting}
        admitted = {(reg_id, day) for reg_id, day in db.session.execute(
            select(Scan.registration_id, Scan.admitted_on).where(
                Scan.registration_id.in_(regs), Scan.admitted_on.in_({item.row["admitted_on"] for item in admitting})))}
        for item in admitting:
            key = (item.registration.id, item.row["admitted_on"])
            if key in admitted:
                item.row["result"], item.row["admitted_on"] = "duplicate", None
            else:
                admitted.add(key)

    def _write(self, items: list[_Item]) -> None:
        """The scan rows in one insert; a row the database did not take (its client_scan_id or admission stored
        by a concurrent request since the reads) makes the batch decide again."""
        if not items:
            return
        connection = self.connection
        # Many parameter sets of one cached statement: SQLAlchemy sends them as one INSERT … VALUES (…), (…)
        # ("insertmanyvalues"), without compiling a statement of a hundred rows each time.
        rows = [item.row for item in items]
        ids = {client_scan_id: scan_id for scan_id, client_scan_id in (
            _bulk(connection, Scan.__table__, rows, "ON CONFLICT DO NOTHING RETURNING id, client_scan_id")
            if connection.dialect.name == "postgresql" else connection.execute(_scan_insert(connection, many=True), rows))}
        if len(ids) != len(items):
            raise _BatchRaced()
        for item in items:
            item.row["id"] = ids[item.request.client_scan_id]
        admissions = [item for item in items if item.row["admitted_on"]]
        if admissions:
            self._insert(Activity, [{"kind": "checkin", **_checkin_activity(self.caller, item.edition, item.row,
                                                                            item.registration, item.row["id"])}
                                    for item in admissions])


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
