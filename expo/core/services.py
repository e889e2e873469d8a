"""Core domain operations: accounts and tokens, shows and editions, categories, audit, mail.

Plain functions with explicit arguments. They flush, never commit: the caller (a view, an API
call, a CLI command, a Celery task) commits once. Work that must wait for that commit (handing
mail to the worker) is a task: the task base (``core.tasks``) dispatches it after the commit.
"""
from __future__ import annotations

import calendar
import hashlib
import hmac
import re
import secrets
import smtplib
import ssl
import time as time_module
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyotp
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, false, func, insert, select, update
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from . import badge_codes
from .db import utcnow
from .models import (
    EDITION_STATUS,
    EDITION_STATUSES,
    ORGANIZER_ROLES,
    ApiToken,
    AuditEntry,
    Category,
    ConsentVersion,
    Edition,
    MailAttachment,
    MailMessage,
    Organizer,
    RecoveryCode,
    Show,
    Unsubscribe,
    User,
    UserSession,
)
from .passwords import password_problem
from .paging import PAGE_SIZES, Page, page_number, paginate
from .registry import registry
from .scoping import Scope, scoped


class ServiceError(ValueError):
    """A request the domain refuses; ``field`` names the form field it concerns, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


MAX_DB_INT = 2**31 - 1  # the largest id an INTEGER column holds on every database


def parse_id(text) -> int | None:
    """A positive database id from untrusted text (query string, form field), or None. Only ASCII digits
    ("²".isdigit() is True but int("²") fails), at most 10 of them (int() refuses more than 4300), and no
    larger than an INTEGER column holds."""
    if not isinstance(text, str) or not (text.isascii() and text.isdecimal()) or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_DB_INT else None


def unstorable(text: str) -> bool:
    """Text no database column can hold: a NUL byte (PostgreSQL refuses it) or a lone surrogate (not
    valid Unicode: it cannot be encoded)."""
    return "\x00" in text or any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


# --- audit ---------------------------------------------------------------------------------------

def audit(action: str, *, organizer_id: int | None, user_id: int | None = None, obj=None,
          object_type: str | None = None, object_id: int | None = None,
          details: dict | None = None, ip: str | None = None) -> None:
    """Record who did what, in the current transaction. The object is a flushed row (``obj``) or named
    by table and id. A plain INSERT: entries are never changed, so they need no unit of work."""
    db.session.connection().execute(insert(AuditEntry), {  # parameters, not .values(): a cached statement
        "organizer_id": organizer_id, "user_id": user_id, "action": action, "ip": ip, "details": details or {},
        "object_type": obj.__tablename__ if obj is not None else object_type,
        "object_id": obj.id if obj is not None else object_id,
    })


# --- the audit log as people read it -------------------------------------------------------------
# Action names, detail fields and objects in words come from the modules' declarations (Module.audit_*);
# an action without a name shows its code.
AUDIT_CODE_FIELDS = {"from", "to", "role", "source", "rating", "status", "category"}  # values are status codes


class AuditLog:
    """One page of the audit log with what its page needs: the entries (``items``, ``total``, and the
    paging of ``pagination``, a core.paging.Page), the zone its times are shown in, and the choices of its filters."""

    def __init__(self, pagination, zone: str, users: list[User], actions: list[str], filters=None):
        self.pagination = pagination
        self.filters = filters
        self.zone = zone
        self.users = users
        self.actions = sorted(((code, self.action_label(code)) for code in actions), key=lambda a: str(a[1]))

    @property
    def items(self) -> list[AuditEntry]:
        return self.pagination.items

    @property
    def total(self) -> int:
        return self.pagination.total or 0

    @staticmethod
    def action_label(code: str) -> str:
        return str(registry.audit_words("actions").get(code, code))

    def when(self, entry: AuditEntry) -> str:
        return entry.at.astimezone(ZoneInfo(self.zone)).strftime("%Y-%m-%d %H:%M:%S")

    @staticmethod
    def object(entry: AuditEntry) -> str:
        return AuditLog.object_name(entry.object_type, entry.object_id)

    @staticmethod
    def object_name(object_type: str | None, object_id: int | None) -> str:
        if not object_type:
            return ""
        name = str(registry.audit_words("objects").get(object_type, object_type))
        return f"{name} #{object_id}" if object_id is not None else name

    @staticmethod
    def details(entry: AuditEntry) -> list[tuple[str, str]]:
        """The details as (field, value) in words; text stays as it was written (Chinese stays Chinese)."""
        labels, fields = registry.labels(), registry.audit_words("fields")

        def text(key, value) -> str:
            if value is None or value == "" or value == []:
                return "—"
            if isinstance(value, bool):
                return str(_l("yes") if value else _l("no"))
            if isinstance(value, list):
                return ", ".join(text(key, item) for item in value)
            if isinstance(value, dict) and key == "changes":  # {field: [old, new]}
                return "; ".join(f"{name(k)}: {text(k, v[0])} → {text(k, v[1])}"
                                 if isinstance(v, list) and len(v) == 2 else f"{name(k)}: {text(k, v)}"
                                 for k, v in value.items())
            if isinstance(value, dict):
                return "; ".join(f"{name(k)}: {text(k, v)}" for k, v in value.items())
            if key == "fields" and isinstance(value, str):
                return str(fields.get(value, value))
            if key in AUDIT_CODE_FIELDS and isinstance(value, str):
                return str(labels.get(value, value))
            return str(value)

        def name(key) -> str:
            return str(fields.get(key, str(key).replace("_", " ").capitalize()))

        details = entry.details if isinstance(entry.details, dict) else {"": entry.details}
        return [(name(key), text(key, value)) for key, value in details.items()]


def _audit_zone(scope: Scope) -> str:
    """The organizer's zone: that of most of its editions (the newest breaks a tie); UTC without editions."""
    zone = db.session.scalar(scoped(Edition, scope, Edition.timezone).group_by(Edition.timezone)
                             .order_by(func.count().desc(), func.max(Edition.starts_on).desc()).limit(1))
    return zone or "UTC"


def _audit_moment(value, zone: str, *, end: bool = False) -> datetime | None:
    """A filter bound: a datetime as it is; a date (or "YYYY-MM-DD") is that day in the zone, from its
    start, or (``end``) up to the start of the next day. Anything else is no bound."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(zone))
    if isinstance(value, date):
        day = value + timedelta(days=1) if end else value
        return datetime.combine(day, time(), tzinfo=ZoneInfo(zone))
    return None


FAILED_SIGN_IN = "user.login_failed"
CONTACT_VIEWED = "contact.viewed"


@dataclass(frozen=True)
class AuditFilters:
    """What the audit log is narrowed to: who (user id), what (action code; ``exclude``: action codes left
    out, e.g. a flood of failed sign-ins), which record (``object_type`` and ``object_id``: "the history of
    this record"), from where (``ip``, exact) and when (``since`` / ``until``: dates, inclusive, in the zone
    of the log — or datetimes). Empty fields narrow nothing."""

    user_id: int | None = None
    action: str | None = None
    exclude: tuple[str, ...] = ()
    object_type: str | None = None
    object_id: int | None = None
    ip: str | None = None
    email: str | None = None  # the email a failed sign-in was tried with
    since: object = None
    until: object = None

    @classmethod
    def from_args(cls, args) -> AuditFilters:
        """From the audit page's query string: ``user``, ``action``, ``since``, ``until``, ``ip``, ``object``
        ("registrations:12") and ``hide_failed`` (leave failed sign-ins out). Garbage narrows nothing; an id
        beyond any row's matches nothing."""

        def text(name) -> str | None:  # what no column can hold (a NUL byte) matches nothing: no bound
            value = (args.get(name) or "").strip()
            return value if value and not unstorable(value) else None

        object_type, _sep, object_id = (text("object") or "").partition(":")
        return cls(user_id=_int_or_none(args.get("user")), action=text("action"), since=text("since"),
                   until=text("until"), ip=text("ip"), object_type=object_type.strip() or None,
                   object_id=_int_or_none(object_id), exclude=(FAILED_SIGN_IN,) if args.get("hide_failed") else ())

    def apply(self, stmt, zone: str):
        if self.user_id:
            stmt = stmt.where(AuditEntry.user_id == self.user_id)
        if self.action:
            stmt = stmt.where(AuditEntry.action == self.action)
        if self.exclude:
            stmt = stmt.where(AuditEntry.action.not_in(self.exclude))
        if self.object_type:
            stmt = stmt.where(AuditEntry.object_type == self.object_type)
        if self.object_id is not None:
            stmt = stmt.where(AuditEntry.object_id == self.object_id if 0 <= self.object_id <= MAX_DB_INT
                              else false())  # an id no row can have
        if self.ip:
            stmt = stmt.where(AuditEntry.ip == self.ip.strip())
        if self.email:
            stmt = stmt.where(func.lower(AuditEntry.details["email"].as_string()) == normalize_email(self.email))
        start, end = _audit_moment(self.since, zone), _audit_moment(self.until, zone, end=True)
        if start is not None:
            stmt = stmt.where(AuditEntry.at >= start)
        if end is not None:
            stmt = stmt.where(AuditEntry.at < end)
        return stmt


def _int_or_none(value) -> int | None:
    """An id from the query string; one beyond any INTEGER column is -1, an id no row has."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 <= number <= MAX_DB_INT else -1


def audit_log(scope: Scope, filters: AuditFilters | None = None, *, page: int = 1, per_page: int = 50,
              **fields) -> AuditLog:
    """The organizer's audit entries, newest first, narrowed by ``filters`` (or the same as keywords), one
    page of them. However many entries a flood of failed sign-ins adds, a filter (``exclude``, an action, a
    person, a record, dates) brings earlier events back onto the first page."""
    filters = filters or AuditFilters(**fields)
    zone = _audit_zone(scope)
    stmt = filters.apply(scoped(AuditEntry, scope), zone)
    stmt = stmt.options(selectinload(AuditEntry.user)).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    pagination = paginate(stmt, page=page_number(page), per_page=per_page if per_page in PAGE_SIZES else 50)
    users = list(db.session.scalars(scoped(User, scope).order_by(User.name, User.email)))
    actions = list(db.session.scalars(scoped(AuditEntry, scope, AuditEntry.action).distinct()))
    return AuditLog(pagination, zone, users, actions, filters)


def instance_audit_entries(filters: AuditFilters | None = None, *, organizer_id: int | None = None,
                           limit: int = 50) -> list[AuditEntry]:
    """For whoever runs the instance (``expo audit``, a shell on the server): the entries that belong to no
    organizer — failed sign-ins with an email no account has, above all — or, with ``organizer_id``, one
    organizer's log. Newest first, times in UTC."""
    stmt = select(AuditEntry).where(AuditEntry.organizer_id.is_(None) if organizer_id is None
                                    else AuditEntry.organizer_id == organizer_id)
    stmt = (filters or AuditFilters()).apply(stmt, "UTC")
    stmt = stmt.options(selectinload(AuditEntry.user)).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    return list(db.session.scalars(stmt.limit(max(1, limit))))


def audit_contact_view(user, obj=None, *, object_type: str | None = None, **details) -> None:
    """``user`` was shown visitors' contact details (email, phone) on a page: one record's (``obj``: a
    registration, a lead) or a list's (``obj``: the edition listed, or ``object_type`` alone; ``details``:
    rows and page). The entry names records by id only: it never copies the contact data it is about."""
    audit(CONTACT_VIEWED, organizer_id=user.organizer_id, user_id=user.id, obj=obj, object_type=object_type,
          details=details or None)


# --- organizers and users ------------------------------------------------------------------------

def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]
    return slug or secrets.token_hex(4)


def create_organizer(name: str) -> Organizer:
    base = slugify(name)
    slug, n = base, 1
    while db.session.scalar(select(Organizer.id).where(Organizer.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    organizer = Organizer(name=name, slug=slug)
    db.session.add(organizer)
    db.session.flush()
    return organizer


def normalize_email(email: str) -> str:
    return email.strip().lower()


PASSWORD_METHOD = "scrypt"  # tests swap in a cheap method; production keeps the strong default


def _same_account_space(organizer_id: int, exhibitor_id: int | None):
    """Where an email must be unique: among the organizer's own staff, or among one exhibitor's staff."""
    if exhibitor_id is None:
        return (User.organizer_id == organizer_id) & User.exhibitor_id.is_(None)
    return User.exhibitor_id == exhibitor_id


def create_user(organizer_id: int, email: str, name: str, password: str, role: str,
                exhibitor_id: int | None = None, *, actor_id: int | None = None) -> User:
    """A new account. An email already used by another organizer (or another exhibitor) is no obstacle and
    is never mentioned: the person simply gets a second account, and sign-in tells them apart by password
    (``sign_in_candidates``). Only a duplicate the adder can see in their own staff list is refused."""
    email = normalize_email(email)
    problem = password_problem(password, email)
    if problem:
        raise ServiceError(problem, "password")
    if (role in ORGANIZER_ROLES) == (exhibitor_id is not None):
        raise ServiceError(_l("Organizer roles have no exhibitor; exhibitor roles need one."), "role")
    if db.session.scalar(select(User.id).where(User.email == email, _same_account_space(organizer_id, exhibitor_id))):
        raise ServiceError(_l("A user with this email already exists."), "email")
    user = User(organizer_id=organizer_id, email=email, name=name.strip(), role=role, exhibitor_id=exhibitor_id,
                password_hash=generate_password_hash(password, method=PASSWORD_METHOD))
    db.session.add(user)
    db.session.flush()
    audit("user.created", organizer_id=organizer_id, user_id=actor_id, obj=user,
          details={"email": email, "role": role, "exhibitor_id": exhibitor_id})
    return user


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash of the current method to check when no account can match: an unknown email costs the same
    time as a known one (no timing oracle)."""
    if PASSWORD_METHOD not in _DUMMY_HASHES:
        _DUMMY_HASHES[PASSWORD_METHOD] = generate_password_hash(secrets.token_hex(16), method=PASSWORD_METHOD)
    return _DUMMY_HASHES[PASSWORD_METHOD]


def sign_in_candidates(email: str, password: str) -> list[User]:
    """The active accounts of ``email`` whose password this is (usually one; several when the person uses
    one address and one password with two organizers). Costs at least one password check either way."""
    users = list(db.session.scalars(select(User).where(User.email == normalize_email(email)).order_by(User.id)))
    if not users:
        check_password_hash(_dummy_hash(), password)
        return []
    return [user for user in users if check_password_hash(user.password_hash, password) and user.active]


def authenticate(email: str, password: str) -> User | None:
    """The account for ``email`` and ``password`` when exactly one matches."""
    users = sign_in_candidates(email, password)
    return users[0] if len(users) == 1 else None


def change_password(user: User, current: str, new: str, *, keep_session: str | None = None) -> None:
    """Set a new password (the current one proves it is the user) and end every other session of the user."""
    if not check_password_hash(user.password_hash, current):
        raise ServiceError(_l("This is not your current password."), "current_password")
    problem = password_problem(new, user.email)
    if problem:
        raise ServiceError(problem, "new_password")
    user.password_hash = generate_password_hash(new, method=PASSWORD_METHOD)
    end_sessions(user, keep=keep_session)
    audit("user.password_changed", organizer_id=user.organizer_id, user_id=user.id, obj=user)


# --- server-side sessions ------------------------------------------------------------------------

def start_session(user: User, *, lifetime: timedelta, ip: str | None = None, user_agent: str | None = None) -> str:
    """A new session for ``user``; returns its clear token (for the cookie). Only the digest is stored."""
    clear = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.execute(delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now))
    db.session.add(UserSession(id=_token_digest(clear), user_id=user.id, created_at=now, last_seen_at=now,
                               expires_at=now + lifetime, ip=ip, user_agent=(user_agent or "")[:200] or None))
    user.session_token = clear
    return clear


SESSION_TOUCH = timedelta(minutes=1)  # last_seen_at is written at most this often: no write on every page


def user_for_session(clear: str, *, idle: timedelta) -> User | None:
    """The active user of a live session (one query), or None when it ended, expired or sat idle too long."""
    row = db.session.scalar(select(UserSession).where(UserSession.id == _token_digest(clear))
                            .options(joinedload(UserSession.user)))
    if row is None:
        return None
    now = utcnow()
    if row.expires_at <= now or row.last_seen_at + idle <= now or not row.user.active:
        db.session.delete(row)
        return None
    if now - row.last_seen_at >= SESSION_TOUCH:
        row.last_seen_at = now
    row.user.session_token = clear
    return row.user


def end_session(clear: str | None) -> None:
    if clear:
        db.session.execute(delete(UserSession).where(UserSession.id == _token_digest(clear)))


def end_sessions(user: User, *, keep: str | None = None) -> None:
    """End every session of ``user`` but the one whose token is ``keep``."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep:
        query = query.where(UserSession.id != _token_digest(keep))
    db.session.execute(query)


# --- two-factor sign-in (TOTP) -------------------------------------------------------------------

TOTP_ISSUER = "Expo CRM"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads (from the QR code or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def _totp_step(secret: str, code: str, after: int | None) -> int | None:
    """The time step ``code`` is valid for (now, or one step either side for clock drift), if later than ``after``."""
    code = re.sub(r"\s", "", code or "")
    if not code.isdigit():
        return None
    totp, now = pyotp.TOTP(secret), time_module.time()
    for offset in (0, -1, 1):
        moment = now + offset * totp.interval
        step = int(moment // totp.interval)
        if (after is None or step > after) and hmac.compare_digest(totp.at(moment), code):
            return step
    return None


def enable_totp(user: User, secret: str, code: str) -> None:
    """Switch two-factor sign-in on, once a code from the app shows it holds the secret."""
    if user.is_exhibitor_staff:
        raise ServiceError(_l("Two-factor sign-in is for organizer staff."))
    step = _totp_step(secret, code, None)
    if step is None:
        raise ServiceError(_l("This code is not right: check the time on your phone and try the next one."), "code")
    user.totp_secret, user.totp_last_step = secret, step
    audit("user.two_factor_on", organizer_id=user.organizer_id, user_id=user.id, obj=user)


def check_totp(user: User, code: str) -> bool:
    """A valid code of ``user``'s app, not used before (it is spent now)."""
    if not user.totp_secret:
        return False
    step = _totp_step(user.totp_secret, code, user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    return True


def disable_totp(user: User, code: str) -> None:
    """Switch two-factor sign-in off with a current code from the app, or a recovery code (the phone is lost)."""
    if not check_second_factor(user, code):
        raise ServiceError(_l("This code is not right: check the time on your phone and try the next one."), "code")
    user.totp_secret, user.totp_last_step = None, None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit("user.two_factor_off", organizer_id=user.organizer_id, user_id=user.id, obj=user)


# Recovery codes: for the day the phone with the authenticator app is lost or reset. Ten single-use codes of
# 10 random letters and digits (base32: about 50 bits each, and the sign-in limits stop guessing), shown once
# when made; only their SHA-256 is kept.
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper without doubt


def _recovery_digest(code: str) -> str | None:
    text = re.sub(r"[\s\-]", "", code or "").lower()
    if len(text) != 10 or any(c not in _RECOVERY_ALPHABET for c in text):
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def make_recovery_codes(user: User) -> list[str]:
    """A new set of recovery codes for a two-factor user (the old set stops working). Returns the clear codes,
    "xxxxx-xxxxx", to show once. Audited (not the codes)."""
    if not user.two_factor:
        raise ServiceError(_l("Switch two-factor sign-in on first."))
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODE_COUNT)]
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.execute(insert(RecoveryCode), [{"user_id": user.id, "code_hash": _recovery_digest(code),
                                                "created_at": utcnow()} for code in codes])
    audit("user.recovery_codes_made", organizer_id=user.organizer_id, user_id=user.id, obj=user,
          details={"count": len(codes)})
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def unused_recovery_codes(user: User) -> int:
    return db.session.scalar(select(func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def use_recovery_code(user: User, code: str) -> bool:
    """A recovery code of ``user`` not used before: it is spent now (one conditional UPDATE, so that two
    sign-ins racing with one code cannot both pass). Audited."""
    digest = _recovery_digest(code)
    if digest is None or not user.two_factor:
        return False
    result = db.session.execute(update(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.code_hash == digest, RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    audit("user.recovery_code_used", organizer_id=user.organizer_id, user_id=user.id, obj=user,
          details={"left": unused_recovery_codes(user)})
    return True


def check_second_factor(user: User, code: str) -> bool:
    """The second step of signing in: a current code of the user's app, or one of their recovery codes."""
    return check_totp(user, code) or use_recovery_code(user, code)


def record_failed_sign_in(email: str, *, ip: str | None) -> None:
    """In the log of each organizer with an account of this email (the entry names the account), so that
    their owners see guessing attempts; an email no account has goes to the instance's own entries
    (organizer none), which whoever runs the instance reads with ``expo audit``."""
    accounts = db.session.scalars(select(User).where(User.email == normalize_email(email)).order_by(User.id))
    per_organizer = {}
    for account in accounts:
        per_organizer.setdefault(account.organizer_id, account)
    for organizer_id, account in per_organizer.items() or [(None, None)]:
        audit("user.login_failed", organizer_id=organizer_id, obj=account, details={"email": email[:254]}, ip=ip)


def user_by_email(email: str) -> User | None:
    """The (first) account of ``email``; a person with accounts at two organizers has two."""
    return db.session.scalar(select(User).where(User.email == normalize_email(email)).order_by(User.id))


def users_by_ids(ids: list[int]) -> list[User]:
    """The active accounts among ``ids`` (a sign-in waiting for its second step), in that order."""
    users = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids), User.active))}
    return [users[i] for i in ids if i in users]


# --- API tokens ----------------------------------------------------------------------------------

TOKEN_PREFIX = "expo_"


def _token_digest(clear: str) -> str:
    return hashlib.sha256(clear.encode()).hexdigest()


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """Make a token; the clear text is returned once and never stored."""
    clear = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=(name.strip() or "token")[:100], prefix=clear[:12],
                     token_hash=_token_digest(clear))
    db.session.add(token)
    db.session.flush()
    audit("api_token.created", organizer_id=user.organizer_id, user_id=user.id, obj=token)
    return token, clear


def user_for_token(clear: str, *load) -> User | None:
    """The active user a token belongs to. ``load``: loader options for what the caller needs of the
    user, relative to ``ApiToken.user`` (fetched in the same query)."""
    user_loader = joinedload(ApiToken.user)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(clear))
                              .options(user_loader.options(*load) if load else user_loader))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=10):
        token.last_used_at = now  # coarse on purpose: no write on every scan
    return token.user


def user_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                                   .order_by(ApiToken.created_at)))


def revoke_api_token(user: User, token_id: int) -> None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user.id))
    if token is None:
        raise ServiceError(_l("No such token."))
    token.revoked_at = utcnow()
    audit("api_token.revoked", organizer_id=user.organizer_id, user_id=user.id, obj=token)


# --- shows, editions, categories -----------------------------------------------------------------

def create_show(scope: Scope, name: str) -> Show:
    name = name.strip()
    if not name:
        raise ServiceError(_l("A show needs a name."), "name")
    base = slugify(name)
    slug, n = base, 1
    while db.session.scalar(scoped(Show, scope, Show.id).where(Show.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    show = Show(organizer_id=scope.organizer_id, name=name, slug=slug)
    db.session.add(show)
    db.session.flush()
    return show


def _unique_edition_slug(base: str) -> str:
    slug, n = base, 1
    while db.session.scalar(select(Edition.id).where(Edition.slug == slug)):
        n += 1
        slug = f"{base}-{n}"
    return slug


def create_edition(scope: Scope, show: Show, name: str, starts_on: date, ends_on: date, *, venue: str = "",
                   timezone: str = "UTC", consent_text: str = "", status: str = "draft",
                   description: str = "") -> Edition:
    if show.organizer_id != scope.organizer_id:
        raise ServiceError(_l("No such show."))
    if ends_on < starts_on:
        raise ServiceError(_l("The edition cannot end before it starts."), "ends_on")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError(_l("Unknown time zone."), "timezone") from None
    if status not in EDITION_STATUSES:
        raise ServiceError(_l("Unknown status."), "status")
    private, public = badge_codes.generate_keypair()
    edition = Edition(organizer_id=scope.organizer_id, show=show, name=name.strip(), starts_on=starts_on,
                      ends_on=ends_on, venue=venue.strip(), timezone=timezone, status=status,
                      description=description.strip(),
                      consent_text=consent_text or DEFAULT_CONSENT, consent_version="1",
                      sharing_text=DEFAULT_SHARING,
                      slug=_unique_edition_slug(f"{show.slug}-{starts_on.year}"),
                      signing_key=private, verify_key=public)
    db.session.add(edition)
    db.session.flush()
    db.session.add(ConsentVersion(organizer_id=edition.organizer_id, edition_id=edition.id, version=1,
                                  text=edition.consent_text, sharing_text=edition.sharing_text))
    db.session.flush()
    return edition


DEFAULT_CONSENT = ("I agree that the organizer stores and uses my registration data to run this show, to admit me "
                   "at the entrance and to invite me to its next editions. I can ask for my data or its erasure "
                   "at any time.")
DEFAULT_SHARING = ("Exhibitors whose staff scan my badge at their booth receive my name, company, job title, country, "
                   "email and phone, to follow up on my visit. I can withdraw this at any time from my registration "
                   "page.")


def move_status(row, machine, target: str, *, actor_id: int | None = None, column: str = "status") -> bool:
    """The one way a stateful row changes state: legal moves only (``machine``), each one audited as
    ``<model>.<column>`` (e.g. ``edition.status``) with from/to. Returns False when the row is in that state already."""
    source = getattr(row, column)
    if target == source:
        return False
    if target not in machine:
        raise ServiceError(_l("Unknown status."), column)
    if not machine.can_move(source, target):
        raise ServiceError(_l("%(source)s cannot change to %(target)s.", source=machine.label(source),
                              target=machine.label(target)), column)
    audit(f"{type(row).__name__.lower()}.{column}", organizer_id=row.organizer_id, user_id=actor_id, obj=row,
          details={"from": source, "to": target})
    setattr(row, column, target)
    return True


def set_edition_status(edition: Edition, status: str, *, actor_id: int | None = None) -> None:
    move_status(edition, EDITION_STATUS, status, actor_id=actor_id)


def update_consent_text(edition: Edition, text: str, *, sharing_text: str | None = None,
                        actor_id: int | None = None) -> ConsentVersion | None:
    """A changed consent text (or text on sharing with exhibitors) is a new version, kept with who wrote it
    and when: past consents keep pointing at the version they agreed to. Returns the new version, or None
    when nothing changed. Rows of consent_versions are never changed."""
    text = text.strip() or edition.consent_text
    sharing_text = edition.sharing_text if sharing_text is None else (sharing_text.strip() or edition.sharing_text)
    if text == edition.consent_text and sharing_text == edition.sharing_text:
        return None
    number = (db.session.scalar(select(func.max(ConsentVersion.version))
                                .where(ConsentVersion.edition_id == edition.id)) or 0) + 1
    version = ConsentVersion(organizer_id=edition.organizer_id, edition_id=edition.id, version=number, text=text,
                             sharing_text=sharing_text, created_by_id=actor_id)
    db.session.add(version)
    edition.consent_text, edition.sharing_text, edition.consent_version = text, sharing_text, str(number)
    db.session.flush()
    audit("consent.version", organizer_id=edition.organizer_id, user_id=actor_id, obj=edition,
          details={"consent_version": number})
    return version


def current_consent(edition: Edition) -> ConsentVersion:
    """The version visitors agree to now (an edition always has one: create_edition writes version 1)."""
    return db.session.scalar(select(ConsentVersion).where(ConsentVersion.edition_id == edition.id)
                             .order_by(ConsentVersion.version.desc()).limit(1))


def consent_versions(edition: Edition) -> list[ConsentVersion]:
    """The edition's consent texts, newest first, with their authors."""
    return list(db.session.scalars(select(ConsentVersion).where(ConsentVersion.edition_id == edition.id)
                                   .options(joinedload(ConsentVersion.created_by))
                                   .order_by(ConsentVersion.version.desc())))


MAX_RETENTION_MONTHS = 1200


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day where it is shorter: 31 Jan + 1 = 28/29 Feb)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def shred_on(edition: Edition) -> date | None:
    """The first day the edition's visitor data is due for shredding (the day after its retention period),
    or None: kept."""
    if edition.retention_months is None:
        return None
    return add_months(edition.ends_on, edition.retention_months) + timedelta(days=1)


def set_retention(edition: Edition, months: int | None, *, actor_id: int | None = None) -> None:
    """How many months after its last day the edition's visitor data is shredded (None: kept), audited."""
    if months is not None and not 0 <= months <= MAX_RETENTION_MONTHS:
        raise ServiceError(_l("Give a number of months between 0 and %(n)d.", n=MAX_RETENTION_MONTHS),
                           "retention_months")
    if months == edition.retention_months:
        return
    audit("edition.retention", organizer_id=edition.organizer_id, user_id=actor_id, obj=edition,
          details={"from": edition.retention_months, "to": months})
    edition.retention_months = months


def editions(scope: Scope) -> list[Edition]:
    return list(db.session.scalars(scoped(Edition, scope).order_by(Edition.starts_on.desc())))


def shows(scope: Scope) -> list[Show]:
    return list(db.session.scalars(scoped(Show, scope).order_by(Show.name)))


def previous_edition(edition: Edition) -> Edition | None:
    return db.session.scalar(scoped(Edition, Scope(edition.organizer_id))
                             .where(Edition.show_id == edition.show_id, Edition.starts_on < edition.starts_on)
                             .order_by(Edition.starts_on.desc()).limit(1))


def add_category(scope: Scope, show: Show, name: str, parent: Category | None = None) -> Category:
    name = name.strip()
    if not name:
        raise ServiceError(_l("A category needs a name."), "name")
    if show.organizer_id != scope.organizer_id or (parent is not None and parent.show_id != show.id):
        raise ServiceError(_l("No such show or parent category."))
    same_parent = Category.parent_id.is_(None) if parent is None else Category.parent_id == parent.id
    duplicate = scoped(Category, scope, Category.id).where(Category.show_id == show.id, Category.name == name,
                                                           same_parent)
    if db.session.scalar(duplicate):
        raise ServiceError(_l("This category exists already."), "name")
    category = Category(organizer_id=scope.organizer_id, show_id=show.id, parent=parent, name=name)
    db.session.add(category)
    db.session.flush()
    return category


def category_tree(show: Show) -> list[tuple[Category, int]]:
    """The show's categories in tree order, each with its depth."""
    rows = list(db.session.scalars(scoped(Category, Scope(show.organizer_id)).where(Category.show_id == show.id)
                                   .order_by(Category.name)))
    children: dict[int | None, list[Category]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    out: list[tuple[Category, int]] = []

    def walk(parent_id, depth):
        for child in children.get(parent_id, ()):
            out.append((child, depth))
            walk(child.id, depth + 1)

    walk(None, 0)
    return out


# --- mail ----------------------------------------------------------------------------------------

def queue_mail(organizer_id: int, recipient: str, subject: str, body_text: str, body_html: str | None = None,
               attachments: list[tuple[str, str, bytes]] = (), *, marketing: bool = False) -> MailMessage | None:
    """Put a mail in the outbox (the caller hands it to delivery after its commit). ``marketing=True``: a
    mailing the person did not ask for (campaigns, offers, digests) — skipped, returning None, when the
    address unsubscribed from this organizer's marketing mail. Transactional mail (a badge) always goes."""
    if marketing and is_unsubscribed(organizer_id, recipient):
        return None
    message = MailMessage(organizer_id=organizer_id, recipient=recipient, subject=subject, body_text=body_text,
                          body_html=body_html, status="queued")
    for filename, content_type, data in attachments:
        message.attachments.append(MailAttachment(filename=filename, content_type=content_type, data=data))
    db.session.add(message)
    db.session.flush()
    return message


def unsubscribed_keys(organizer_id: int):
    """The organizer's unsubscribed addresses (normalized) as a subquery, for segment queries."""
    return select(Unsubscribe.email_key).where(Unsubscribe.organizer_id == organizer_id)


def is_unsubscribed(organizer_id: int, email: str | None) -> bool:
    if not email:
        return False
    return db.session.scalar(unsubscribed_keys(organizer_id).where(
        Unsubscribe.email_key == normalize_email(email)).limit(1)) is not None


def unsubscribe(organizer_id: int, email: str, *, source: str = "") -> bool:
    """No more marketing mail to this address from the organizer. True when it was subscribed until now."""
    if not email or is_unsubscribed(organizer_id, email):
        return False
    db.session.add(Unsubscribe(organizer_id=organizer_id, email_key=normalize_email(email), source=source[:60]))
    db.session.flush()
    return True


def resubscribe(organizer_id: int, email: str) -> bool:
    """Marketing mail to this address again. True when it was unsubscribed until now."""
    if not email:
        return False
    result = db.session.execute(delete(Unsubscribe).where(Unsubscribe.organizer_id == organizer_id,
                                                          Unsubscribe.email_key == normalize_email(email)))
    return bool(result.rowcount)


def deliver_mail(message: MailMessage, smtp_url: str | None, sender: str) -> None:
    """Send over SMTP when configured; otherwise the message stays readable in the outbox."""
    if message.status == "sent":
        return
    if not smtp_url:
        message.status = "kept"
        return
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = formataddr(parseaddr(message.recipient))
    mail["Subject"] = message.subject
    mail.set_content(message.body_text)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    for attachment in message.attachments:
        maintype, subtype = attachment.content_type.split("/", 1)
        mail.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
    parts = urlsplit(smtp_url)
    smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    try:
        with smtp_class(parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 25), timeout=30) as smtp:
            if parts.scheme == "smtp+starttls":
                smtp.starttls(context=ssl.create_default_context())
            if parts.username:
                smtp.login(unquote(parts.username), unquote(parts.password or ""))
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        message.status = "failed"
        message.error = str(exc)[:2000]
        raise
    message.status = "sent"
    message.sent_at = utcnow()
    message.error = None


def outbox(scope: Scope, limit: int = 100) -> list[MailMessage]:
    return list(db.session.scalars(scoped(MailMessage, scope).order_by(MailMessage.id.desc()).limit(limit)))


def outbox_page(scope: Scope, *, page: int = 1, per_page: int = 25) -> Page:
    """The outbox, newest first, one page at a time."""
    return paginate(scoped(MailMessage, scope).order_by(MailMessage.id.desc()), page=page, per_page=per_page)
