"""Core domain operations: accounts and tokens, shows and editions, categories, audit, mail.

Plain functions with explicit arguments. They flush, never commit: the caller (a view, an API
call, a CLI command, a Celery task) commits once. Work that must wait for that commit (handing
mail to the worker) is a task: the task base (``core.tasks``) dispatches it after the commit.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import smtplib
import ssl
from datetime import date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import formataddr, parseaddr
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
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
    Edition,
    MailAttachment,
    MailMessage,
    Organizer,
    Show,
    User,
)
from .paging import PAGE_SIZES, Page, page_number, paginate
from .registry import registry
from .scoping import Scope, scoped


class ServiceError(ValueError):
    """A request the domain refuses; ``field`` names the form field it concerns, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


MAX_DB_INT = 2**31 - 1  # the largest id an INTEGER column holds on every database


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
    db.session.connection().execute(insert(AuditEntry).values(
        organizer_id=organizer_id, user_id=user_id, action=action, ip=ip, details=details or {},
        object_type=obj.__tablename__ if obj is not None else object_type,
        object_id=obj.id if obj is not None else object_id,
    ))


# --- the audit log as people read it -------------------------------------------------------------
# Action names, detail fields and objects in words come from the modules' declarations (Module.audit_*);
# an action without a name shows its code.
AUDIT_CODE_FIELDS = {"from", "to", "role", "source", "rating", "status", "category"}  # values are status codes


class AuditLog:
    """One page of the audit log with what its page needs: the entries (``items``, ``total``, and the
    paging of ``pagination``, a core.paging.Page), the zone its times are shown in, and the choices of its filters."""

    def __init__(self, pagination, zone: str, users: list[User], actions: list[str]):
        self.pagination = pagination
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
        if not entry.object_type:
            return ""
        name = str(registry.audit_words("objects").get(entry.object_type, entry.object_type))
        return f"{name} #{entry.object_id}" if entry.object_id is not None else name

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


def audit_log(scope: Scope, *, user_id: int | None = None, action: str | None = None, since=None, until=None,
              page: int = 1, per_page: int = 50) -> AuditLog:
    """The organizer's audit entries, newest first, filtered by who (user id), what (action code) and when
    (``since`` / ``until``: dates, inclusive, in the organizer's zone — or datetimes), one page of them."""
    zone = _audit_zone(scope)
    stmt = scoped(AuditEntry, scope)
    if user_id:
        stmt = stmt.where(AuditEntry.user_id == user_id)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    start, end = _audit_moment(since, zone), _audit_moment(until, zone, end=True)
    if start is not None:
        stmt = stmt.where(AuditEntry.at >= start)
    if end is not None:
        stmt = stmt.where(AuditEntry.at < end)
    stmt = stmt.options(selectinload(AuditEntry.user)).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    pagination = paginate(stmt, page=page_number(page), per_page=per_page if per_page in PAGE_SIZES else 50)
    users = list(db.session.scalars(scoped(User, scope).order_by(User.name, User.email)))
    actions = list(db.session.scalars(scoped(AuditEntry, scope, AuditEntry.action).distinct()))
    return AuditLog(pagination, zone, users, actions)


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


def create_user(organizer_id: int, email: str, name: str, password: str, role: str,
                exhibitor_id: int | None = None, *, actor_id: int | None = None) -> User:
    email = normalize_email(email)
    if len(password) < 8:
        raise ServiceError(_l("Password must have at least 8 characters."), "password")
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise ServiceError(_l("A user with this email already exists."), "email")
    if (role in ORGANIZER_ROLES) == (exhibitor_id is not None):
        raise ServiceError(_l("Organizer roles have no exhibitor; exhibitor roles need one."), "role")
    user = User(organizer_id=organizer_id, email=email, name=name.strip(), role=role, exhibitor_id=exhibitor_id,
                password_hash=generate_password_hash(password, method=PASSWORD_METHOD))
    db.session.add(user)
    db.session.flush()
    audit("user.created", organizer_id=organizer_id, user_id=actor_id, obj=user,
          details={"email": email, "role": role, "exhibitor_id": exhibitor_id})
    return user


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


def record_failed_sign_in(email: str, *, ip: str | None) -> None:
    """In the log of the organizer whose account it was, so that guessing attempts are seen."""
    target = user_by_email(email)
    audit("user.login_failed", organizer_id=target.organizer_id if target else None,
          details={"email": email[:254]}, ip=ip)


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


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
                      slug=_unique_edition_slug(f"{show.slug}-{starts_on.year}"),
                      signing_key=private, verify_key=public)
    db.session.add(edition)
    db.session.flush()
    return edition


DEFAULT_CONSENT = ("I agree that the organizer stores and uses my registration data to run this show, to admit me "
                   "at the entrance and to invite me to its next editions. I can ask for my data or its erasure "
                   "at any time.")


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


def update_consent_text(edition: Edition, text: str) -> None:
    """A changed consent text gets a new version: past consents keep the version they agreed to."""
    text = text.strip()
    if text and text != edition.consent_text:
        edition.consent_text = text
        edition.consent_version = str(int(edition.consent_version) + 1)


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
               attachments: list[tuple[str, str, bytes]] = ()) -> MailMessage:
    message = MailMessage(organizer_id=organizer_id, recipient=recipient, subject=subject, body_text=body_text,
                          body_html=body_html, status="queued")
    for filename, content_type, data in attachments:
        message.attachments.append(MailAttachment(filename=filename, content_type=content_type, data=data))
    db.session.add(message)
    db.session.flush()
    return message


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
