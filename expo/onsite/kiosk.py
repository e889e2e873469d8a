"""The walk-up kiosk and the badge print queue (services: no Flask request state, every query scoped).

- A walk-up visitor registers on a tablet at the entrance (``register_walk_up``): a registration of source
  "walk_up" through the visitors module's ``register`` (a returning person is matched by email), their badge
  queued for the desk printer, and their check-in recorded through ``services.record_scan`` — three steps
  in one transaction. The registration policy of the edition holds at the kiosk too (``kiosk_setup``):
  invitation-only editions ask for the code, a category that needs approval or is full is not offered, and a
  submit that finds it so (the last place went a moment ago) is refused with a sentence for the visitor and
  nothing is written: staff at the desk decide.
- Staff at the desk find a pre-registered visitor (``find_registrations``: name, email, phone, number or a
  badge code) and queue their badge (``desk_print``): the same serial, or a new one when they reissue (the
  old badge is revoked), with a check-in if they ask for it.
- The desk printer's page lists the queue (``queue``), draws the badges of one or many jobs as one PDF
  (``jobs_pdf``) and marks them printed or failed, or queues a failed one again (``update_jobs``).

Printing is not an entry: nothing here writes a scan except the explicit check-in steps above.

Idempotency and races: every request carries a ``request_key`` (the form's id, one per form shown). One key
makes one print job (unique per edition); a registration has at most one job waiting in the queue (a partial
unique index); a double submit of the kiosk form — or two kiosks with the same email at once — ends in one
registration (the person's email key and the (edition, person) pair are unique): ``run_once_more`` rolls
the loser back and runs it again, when it finds the winner's rows and answers as for them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..core import badge_codes
from ..core.db import insert_unless_exists, retry_once, take_write_lock, utcnow
from ..core.models import Edition
from ..core.permissions import has_permission
from ..core.scoping import Scope, scoped
from ..core.services import ServiceError, audit, move_status, parse_id, unstorable
from ..extensions import db
from ..visitors import MANAGE_REGISTRATIONS
from ..visitors import services as visitors
from ..visitors.models import VISITOR_CATEGORY, Registration
from . import CHECK_IN
from . import services as scans
from .print_models import PRINT_JOB_STATUS, PrintJob

# What a visitor may pick at the kiosk (staff and speakers are added by staff).
KIOSK_CATEGORIES = visitors.policy.SETUP_CATEGORIES
STATION_MAX = 60
FAILURE_MAX = 200
SEARCH_MAX = 100
SEARCH_RESULTS = 25
PDF_MAX = 200  # badges in one PDF from the queue page
_REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{8,48}")
# A badge code: the base32 text of 75 bytes (120 characters; a scanner may add padding or lower-case it).
_BADGE_CODE = re.compile(r"[A-Za-z2-7]{100,}=*")
# A desk that made the PDF of a job holds it this long ("printing"); then another desk may print it.
CLAIM_SECONDS = 300
WAITING = ("queued", "printing")  # a job that will still print: at most one per registration
QUEUE_ACTIONS = {"printed": "printed", "failed": "failed", "retry": "queued", "remove": "cancelled"}


def kiosk_gate(station: str) -> str:
    """The gate text of a kiosk's or desk's check-in: ``kiosk:<name>`` (zones.KIOSK_PREFIX), which the gates
    read as the main entrance, entries only — whatever the station is called ("Exit", a gate's code)."""
    return f"kiosk:{station}"[:STATION_MAX]


class RaceLost(Exception):
    """A concurrent request changed the rows this one was about to decide on: undo and run again."""


class KioskRefused(ServiceError):
    """The kiosk cannot register this visitor itself (policy, or already registered): a sentence for the
    visitor that sends them to the desk, and a reason code for staff."""

    def __init__(self, message, field: str | None = None, *, reason: str):
        super().__init__(message, field)
        self.reason = reason


# --- checks of what a form sent ------------------------------------------------------------------------

def clean_station(text, default: str = "") -> str:
    """A kiosk's or desk's name, one line of at most STATION_MAX printable characters."""
    text = text if isinstance(text, str) else ""
    if unstorable(text):
        raise ServiceError(_l("A kiosk name cannot contain control characters."), "station")
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return text[:STATION_MAX] or default


def check_request_key(key) -> str:
    if not isinstance(key, str) or not _REQUEST_KEY.fullmatch(key):
        raise ServiceError(_l("This form has expired: please start again."), "request_key")
    return key


def _check_id(value, field: str = "id") -> int:
    """A positive database id from a form or query value, else a ServiceError (never a failing query)."""
    number = parse_id(str(value) if isinstance(value, int) and not isinstance(value, bool) else value)
    if number is None:
        raise ServiceError(_l("No such print job."), field)
    return number


def _check_edition(user, edition: Edition) -> None:
    """The edition is the user's organizer's (callers pass one loaded in the user's scope; checked anyway)."""
    if edition is None or edition.organizer_id != user.organizer_id or user.is_exhibitor_staff:
        raise scans.ScanForbidden(_l("No such edition."))


# --- what the kiosk offers -----------------------------------------------------------------------------

@dataclass(frozen=True)
class KioskSetup:
    """What the kiosk may do for an edition now: open at all, the categories a visitor may pick, the ones
    only the desk handles (with why: "approval" or "full"), and whether an invitation code is needed."""

    open: bool
    message: str
    categories: tuple[str, ...]
    desk_only: dict = field(default_factory=dict)
    invitation_only: bool = False

    @property
    def ask_category(self) -> bool:
        return len(self.categories) > 1


def kiosk_setup(edition: Edition) -> KioskSetup:
    if not edition.registration_open:  # draft or closed: nobody registers, not even at the door
        return KioskSetup(False, str(_l("On-site registration is closed for this edition.")), ())
    rules = visitors.policy.policy_of(edition)
    settings = visitors.policy.category_settings(edition) if rules is not None else {}
    counts = visitors.policy.status_counts(edition) if any(s.capacity is not None for s in settings.values()) else {}
    offered, desk_only = [], {}
    for category in KIOSK_CATEGORIES:
        setting = settings.get(category)
        if setting is not None and setting.needs_approval:
            desk_only[category] = "approval"
        elif setting is not None and setting.capacity is not None \
                and counts.get(category, {}).get("confirmed", 0) >= setting.capacity:
            desk_only[category] = "full"
        else:
            offered.append(category)
    if not offered:
        return KioskSetup(False, str(_l("Please register at the desk: staff will help you.")), (), desk_only,
                          bool(rules and rules.invitation_only))
    return KioskSetup(True, "", tuple(offered), desk_only, bool(rules and rules.invitation_only))


def desk_only_message(category: str, why: str) -> str:
    label = VISITOR_CATEGORY.label(category)
    if why == "approval":
        return str(_l("Registrations as %(category)s are approved by the organizer: please go to the desk.",
                      category=label))
    return str(_l("No places are left as %(category)s: please ask at the desk.", category=label))


# --- the walk-up registration ----------------------------------------------------------------------------

@dataclass
class WalkUp:
    """What a visitor typed at the kiosk."""

    name: str
    email: str
    company: str = ""
    job_title: str = ""
    phone: str = ""
    country: str = ""
    category: str = ""
    consent: bool = False
    share_with_exhibitors: bool = False
    invitation_code: str = ""
    locale: str = "en"


@dataclass
class KioskResult:
    registration: Registration
    job: PrintJob
    checkin: scans.ScanOutcome | None
    replayed: bool = False


def run_once_more(work):
    """Run ``work`` once more when a concurrent request won a race on a unique key (the same email at two kiosks,
    a double click, the same badge queued twice, the same check-in): the second run answers as for the winner."""
    return retry_once(work, (IntegrityError, scans.ScanRace, RaceLost))


def _job_by_key(edition: Edition, scope: Scope, request_key: str) -> PrintJob | None:
    return db.session.scalar(scoped(PrintJob, scope).where(PrintJob.edition_id == edition.id,
                                                           PrintJob.request_key == request_key))


def register_walk_up(user, edition: Edition, data: WalkUp, *, station: str, request_key: str,
                     public_url: str | None = None) -> KioskResult:
    """Register a walk-up visitor, queue their badge and check them in, in the caller's transaction (the
    caller commits; wrap it in ``run_once_more``). A form sent again (same request_key) answers as the first
    time. Raises KioskRefused (policy, already registered) or ServiceError (a field)."""
    if not has_permission(user, CHECK_IN):
        raise scans.ScanForbidden(_l("Only on-site staff run a kiosk."))
    _check_edition(user, edition)
    scope = Scope.of(user)
    request_key = check_request_key(request_key)
    station = clean_station(station, str(_l("Kiosk")))
    take_write_lock(db.session)
    earlier = _job_by_key(edition, scope, request_key)
    if earlier is not None:  # the same form again (a double tap, a reload): the first answer
        return KioskResult(earlier.registration, earlier, _replayed_checkin(user, f"kiosk-{request_key}"),
                           replayed=True)
    _check_known_person(scope, edition, data)
    setup = kiosk_setup(edition)
    if not setup.open:
        raise KioskRefused(setup.message, reason="closed")
    category = data.category if data.category else (setup.categories[0] if len(setup.categories) == 1 else "")
    if category in setup.desk_only:
        raise KioskRefused(desk_only_message(category, setup.desk_only[category]), "category",
                           reason=setup.desk_only[category])
    if category not in setup.categories:
        raise ServiceError(_l("Choose a visitor category."), "category")
    if setup.invitation_only or data.invitation_code:
        code = visitors.invitations.find_code(edition, data.invitation_code)
        if not visitors.invitations.usable(code):
            raise KioskRefused(_l("This show is by invitation only: enter the code from your invitation, or "
                                  "ask at the desk.") if not data.invitation_code else
                               _l("This invitation code is not valid for this show. Check the code, or ask at "
                                  "the desk."), "invitation_code", reason="invitation")
        if code.used_up:
            raise KioskRefused(_l("This invitation code has been used as often as it may. Please ask at the "
                                  "desk."), "invitation_code", reason="invitation")
    # The capacity under the category's lock, as the public form counts it: the last place goes once.
    if visitors.policy.decide_status(edition, category, "online") != "confirmed":
        why = "approval" if setup.desk_only.get(category) == "approval" else "full"
        raise KioskRefused(desk_only_message(category, why), "category", reason=why)
    try:
        registration = visitors.register(edition, visitors.RegistrationData(
            name=data.name, email=data.email, category=category, phone=data.phone, company=data.company,
            job_title=data.job_title, country=data.country, consent=data.consent,
            share_with_exhibitors=data.share_with_exhibitors, source="walk_up", locale=data.locale,
            invitation_code=data.invitation_code if setup.invitation_only or data.invitation_code else ""),
            actor_id=user.id, public_url=public_url)
    except visitors.AlreadyRegistered:
        raise KioskRefused(_l("This email address is already registered for this show. Please go to the desk: "
                              "staff will print your badge."), "email", reason="already_registered") from None
    job = _queue(user, registration, origin="kiosk", station=station, request_key=request_key)
    checkin = scans.record_scan(user, code=visitors.badge_code(registration), kind="checkin",
                                client_scan_id=f"kiosk-{request_key}", gate=kiosk_gate(station),
                                edition_id=edition.id)
    return KioskResult(registration, job, checkin)


def _check_known_person(scope: Scope, edition: Edition, data: WalkUp) -> None:
    """Typing a known email is not proof of being that person: a badge printed at once on their record would
    admit a stranger and hand exhibitors that person's contact details. So when the email belongs to an
    existing person of the organizer, the kiosk goes on only if the typed mobile number is that person's
    (normalised as the visitors module does, ``phone_key``); else it sends the visitor to the desk and
    stores nothing."""
    person = visitors.find_person(edition.organizer_id, data.email)
    if person is None:
        return
    registered = db.session.scalar(scoped(Registration, scope, Registration.id).where(
        Registration.edition_id == edition.id, Registration.person_id == person.id))
    if registered is not None:
        raise KioskRefused(_l("This email address is already registered for this show. Please go to the desk: "
                              "staff will print your badge."), "email", reason="already_registered")
    typed = visitors.phone_key(data.phone, data.country or None) if data.phone else None
    known = person.phone_key or (visitors.phone_key(person.phone, person.country or None) if person.phone else None)
    if typed is None or known is None or typed != known:
        raise KioskRefused(_l("We know this email address already. To keep that person's badge safe, please go to "
                              "the desk: staff will check who you are and print your badge."), "email",
                           reason="known_email")


def _replayed_checkin(user, client_scan_id: str) -> scans.ScanOutcome | None:
    stored = db.session.scalar(select(scans.Scan.id).where(scans.Scan.user_id == user.id,
                                                           scans.Scan.client_scan_id == client_scan_id))
    return scans.replay_scan(user, client_scan_id) if stored is not None else None


def kiosk_mode_changed(user, edition: Edition, station: str, *, started: bool) -> None:
    """Audit that kiosk mode started on a tablet (locked to the kiosk) or that a staff member ended it."""
    _check_edition(user, edition)
    audit("kiosk.started" if started else "kiosk.ended", organizer_id=edition.organizer_id, user_id=user.id,
          object_type="editions", object_id=edition.id, details={"station": station})


def kiosk_unlocker(organizer_id: int, email, password) -> "object | None":
    """The staff member who may end kiosk mode on a tablet of this organizer: an active account of the
    organizer with the check-in permission whose email and password these are (None: nobody)."""
    if not isinstance(email, str) or not isinstance(password, str) or not email.strip() or not password \
            or len(email) > 254 or len(password) > 200 or unstorable(email) or unstorable(password):
        return None
    from ..core.services import sign_in_candidates

    return next((user for user in sign_in_candidates(email.strip(), password)
                 if user.organizer_id == organizer_id and has_permission(user, CHECK_IN)), None)


# --- the print queue ----------------------------------------------------------------------------------------

def printable_problem(registration: Registration) -> str | None:
    """Why this registration's badge may not be printed now (None: it may)."""
    if registration.erased_at is not None:
        return str(_l("This visitor's data was erased: there is no badge to print."))
    if registration.status == "cancelled":
        return str(_l("This registration is cancelled: reinstate it before printing its badge."))
    if registration.status == "pending":
        return str(_l("This registration awaits approval: approve it before printing its badge."))
    if registration.status == "waitlisted":
        return str(_l("This registration is on the waiting list: confirm it before printing its badge."))
    return None


def _queue(user, registration: Registration, *, origin: str, station: str, request_key: str) -> PrintJob:
    """The registration's badge in the queue: a new job, or the one this request made already, or the one
    already waiting for this registration (never a second waiting job)."""
    problem = printable_problem(registration)
    if problem:
        raise ServiceError(problem)
    take_write_lock(db.session)
    job_id = insert_unless_exists(PrintJob, {
        "organizer_id": registration.organizer_id, "edition_id": registration.edition_id,
        "registration_id": registration.id, "badge_serial": registration.badge_serial, "status": "queued",
        "origin": origin, "station": station, "request_key": request_key, "requested_by_id": user.id,
        "requested_at": utcnow(), "attempts": 0, "failure": ""}, None, PrintJob.id)
    if job_id is not None:
        job = db.session.get(PrintJob, job_id)
        audit("badge.print_queued", organizer_id=registration.organizer_id, user_id=user.id, obj=job,
              details={"registration_id": registration.id, "serial": registration.badge_serial, "origin": origin,
                       "station": station})
        return job
    same = db.session.scalar(select(PrintJob).where(PrintJob.edition_id == registration.edition_id,
                                                    PrintJob.request_key == request_key))
    waiting = same or db.session.scalar(select(PrintJob).where(PrintJob.registration_id == registration.id,
                                                               PrintJob.status.in_(WAITING)))
    if waiting is None:  # the conflicting row went away between the two statements: a race lost, run again
        raise RaceLost(request_key)
    return waiting


@dataclass
class DeskResult:
    job: PrintJob
    created: bool
    reissued: bool = False
    checkin: scans.ScanOutcome | None = None


def desk_print(user, edition: Edition, registration_id, *, request_key: str, station: str = "",
               reissue: bool = False, check_in: bool = False) -> DeskResult:
    """Staff at the desk queue a pre-registered visitor's badge: the same serial (a reprint), or — only when
    asked — a new badge that revokes the old one (MANAGE_REGISTRATIONS); with a check-in if asked. The same
    request again (same request_key) changes nothing more. The caller commits (``run_once_more``)."""
    if not has_permission(user, CHECK_IN):
        raise scans.ScanForbidden(_l("Only on-site staff print badges at the desk."))
    if reissue and not has_permission(user, MANAGE_REGISTRATIONS):
        raise scans.ScanForbidden(_l("You may not issue new badges."))
    _check_edition(user, edition)
    scope = Scope.of(user)
    request_key = check_request_key(request_key)
    station = clean_station(station, str(_l("Desk")))
    registration_id = _check_id(registration_id, "registration_id")
    take_write_lock(db.session)
    # The registration row locked first: two clicks on "new badge" bump the serial once.
    registration = db.session.scalar(
        scoped(Registration, scope).where(Registration.id == registration_id, Registration.edition_id == edition.id)
        .options(joinedload(Registration.person)).with_for_update(of=Registration)
        .execution_options(populate_existing=True))
    if registration is None:
        raise ServiceError(_l("No such registration in this edition."), "registration_id")
    earlier = _job_by_key(edition, scope, request_key)
    if earlier is not None:
        return DeskResult(earlier, False, earlier.origin == "reissue",
                          _replayed_checkin(user, f"desk-{request_key}") if check_in else None)
    problem = printable_problem(registration)
    if problem:
        raise ServiceError(problem)
    if reissue:
        # The waiting job (if any) would print the old, now revoked badge: it leaves the queue.
        for old in db.session.scalars(select(PrintJob).where(PrintJob.registration_id == registration.id,
                                                             PrintJob.status.in_(("queued", "printing", "failed")))):
            move_status(old, PRINT_JOB_STATUS, "cancelled", actor_id=user.id)
            old.done_by_id, old.done_at = user.id, utcnow()
        db.session.flush()
        visitors.reissue_badge(registration, actor_id=user.id)
        db.session.flush()
    waiting = db.session.scalar(select(PrintJob.id).where(PrintJob.registration_id == registration.id,
                                                          PrintJob.status.in_(WAITING)))
    job = _queue(user, registration, origin="reissue" if reissue else "desk", station=station,
                 request_key=request_key)
    checkin = None
    if check_in:
        checkin = scans.record_scan(user, code=visitors.badge_code(registration), kind="checkin",
                                    client_scan_id=f"desk-{request_key}", gate=kiosk_gate(station),
                                    edition_id=edition.id)
    return DeskResult(job, waiting is None, reissue, checkin)


def find_registrations(scope: Scope, edition: Edition, text: str) -> list[Registration]:
    """The desk's search: name, company, email, phone (any writing), registration number (#123), or a
    badge code scanned into the box (its signature checked; any serial finds the visitor)."""
    text = " ".join((text or "").split())[:2000] if isinstance(text, str) else ""
    if not text or unstorable(text):
        return []
    if _BADGE_CODE.fullmatch(text):  # a badge code (scanned or pasted); else a long name or company
        try:
            claim = badge_codes.read_badge(text)
        except badge_codes.BadgeRefused:
            claim = None
        if claim is not None and claim.edition_id == edition.id \
                and badge_codes.signature_valid(claim, edition.verify_key):
            registration = db.session.scalar(scoped(Registration, scope).where(
                Registration.id == claim.registration_id, Registration.edition_id == edition.id))
            return [registration] if registration is not None else []
        return []
    return visitors.registrations_page(scope, edition, visitors.RegistrationFilters(q=text[:SEARCH_MAX], sort="name"),
                              per_page=SEARCH_RESULTS).items


def waiting_jobs(scope: Scope, edition: Edition, registration_ids: list[int]) -> dict[int, PrintJob]:
    """The job waiting in the queue for each of these registrations (the desk's results say so)."""
    if not registration_ids:
        return {}
    rows = db.session.scalars(scoped(PrintJob, scope).where(PrintJob.edition_id == edition.id,
                                                            PrintJob.registration_id.in_(registration_ids),
                                                            PrintJob.status.in_(WAITING)))
    return {job.registration_id: job for job in rows}


@dataclass
class QueueView:
    waiting: list[PrintJob]  # queued, being printed and failed, oldest first
    done: list[PrintJob]  # printed and removed, newest first (the last few)
    counts: dict[str, int]


def queue(scope: Scope, edition: Edition, done_limit: int = 20) -> QueueView:
    """The edition's print queue: what waits (queued, failed), the last jobs done, counts per status."""
    options = (joinedload(PrintJob.registration).joinedload(Registration.person), joinedload(PrintJob.requested_by),
               joinedload(PrintJob.done_by), joinedload(PrintJob.claimed_by))
    base = scoped(PrintJob, scope).where(PrintJob.edition_id == edition.id)
    waiting = list(db.session.scalars(base.where(PrintJob.status.in_(("queued", "printing", "failed")))
                                      .options(*options)
                                      .order_by(PrintJob.requested_at, PrintJob.id).limit(500)))
    done = list(db.session.scalars(base.where(PrintJob.status.in_(("printed", "cancelled"))).options(*options)
                                   .order_by(func.coalesce(PrintJob.done_at, PrintJob.requested_at).desc(),
                                             PrintJob.id.desc()).limit(done_limit)))
    counts = dict(db.session.execute(scoped(PrintJob, scope, PrintJob.status, func.count(PrintJob.id))
                                     .where(PrintJob.edition_id == edition.id).group_by(PrintJob.status)).all())
    return QueueView(waiting, done, {status: counts.get(status, 0) for status in PRINT_JOB_STATUS.codes})


def claim_expired(job: PrintJob, now=None) -> bool:
    """A "printing" job whose desk made its PDF more than CLAIM_SECONDS ago: any desk may print it again."""
    return job.status == "printing" and (job.claimed_at is None or
                                         job.claimed_at <= (now or utcnow()) - timedelta(seconds=CLAIM_SECONDS))


def printable_now(job: PrintJob, user_id: int | None = None, now=None) -> bool:
    """The job's PDF may be made by this user now: it waits, or it is theirs, or its claim timed out."""
    return job.status == "queued" or (job.status == "printing" and (
        job.claimed_by_id == user_id or claim_expired(job, now)))


def jobs_in_edition(scope: Scope, edition: Edition, ids, *, for_update: bool = False) -> list[PrintJob]:
    """The edition's jobs among these ids (bad ids refused with a ServiceError), in the order asked; locked
    (FOR UPDATE, read again) when the caller is about to change their status."""
    wanted = list(dict.fromkeys(_check_id(i) for i in ids))
    if not wanted:
        return []
    if len(wanted) > PDF_MAX:
        raise ServiceError(_l("At most %(max)s badges at once.", max=PDF_MAX))
    query = scoped(PrintJob, scope).where(PrintJob.edition_id == edition.id, PrintJob.id.in_(wanted))
    if for_update:
        # Locked in id order (no deadlock between two desks), then the registrations loaded.
        query = query.order_by(PrintJob.id).with_for_update(of=PrintJob).execution_options(populate_existing=True)
    else:
        query = query.options(joinedload(PrintJob.registration).joinedload(Registration.person))
    rows = {job.id: job for job in db.session.scalars(query)}
    return [rows[i] for i in wanted if i in rows]


def jobs_pdf(user, edition: Edition, ids=None, fmt: str = visitors.DEFAULT_FORMAT
             ) -> tuple[bytes, list[PrintJob]]:
    """The badges of these jobs (None: every job waiting in the queue, oldest first) as one PDF, each in its
    category's layout with the visitor's current badge code, and the jobs CLAIMED by this user ("printing",
    who, when) in the same transaction (the caller commits): a second desk opening the same jobs at the same
    moment gets the others only, never the same badges. A job another desk claimed less than CLAIM_SECONDS
    ago is left out; the same user may open their own again. Jobs whose registration may not be printed any
    more (cancelled, erased, not confirmed) are left out. Staff mark the jobs printed (or failed: back to the
    queue with Retry) when the printer has done its work."""
    if not has_permission(user, CHECK_IN):
        raise scans.ScanForbidden(_l("Only on-site staff run the print queue."))
    _check_edition(user, edition)
    if fmt not in visitors.FORMATS:
        raise ServiceError(_l("No such badge format."), "format")
    scope = Scope.of(user)
    take_write_lock(db.session)
    if not ids:
        ids = [job_id for job_id in db.session.scalars(
            scoped(PrintJob, scope, PrintJob.id).where(PrintJob.edition_id == edition.id,
                                                        PrintJob.status.in_(WAITING))
            .order_by(PrintJob.requested_at, PrintJob.id).limit(PDF_MAX))]
    now = utcnow()
    jobs = [job for job in jobs_in_edition(scope, edition, ids, for_update=True) if printable_now(job, user.id, now)]
    jobs = [job for job in jobs if printable_problem(job.registration) is None]
    for job in jobs:
        if job.status != "printing":
            move_status(job, PRINT_JOB_STATUS, "printing", actor_id=user.id)
        job.claimed_by_id, job.claimed_at = user.id, now
    db.session.flush()
    layouts = visitors.layouts_for(edition)
    faces = [visitors.face_for(job.registration, layouts[job.registration.category], None, edition.name)
             for job in jobs]
    return visitors.badges_pdf(faces, fmt) if faces else b"", jobs


@dataclass
class QueueUpdate:
    changed: list[PrintJob]  # moved to the asked status
    skipped: list[PrintJob]  # left as they are: no longer in a status that may move so (their status says why)


def _still_waiting_for(job: PrintJob) -> int | None:
    return db.session.scalar(select(PrintJob.id).where(PrintJob.registration_id == job.registration_id,
                                                       PrintJob.status.in_(WAITING), PrintJob.id != job.id))


def update_jobs(user, edition: Edition, ids, action: str, *, failure: str = "") -> QueueUpdate:
    """Mark jobs printed or failed (with why), send failed ones back to the queue, or remove them. The jobs
    are locked first (FOR UPDATE): two clicks at once record one move, from the state the first left. Jobs
    already in the target state, or that can no longer move so (a job removed by a reissue meanwhile), are
    skipped and reported, the others done. A printed badge is audited and on the visitor's timeline (as the
    desk's own print is); it is not a check-in. A retry racing a new print of the same visitor is refused
    with a sentence (the caller rolls back)."""
    if not has_permission(user, CHECK_IN):
        raise scans.ScanForbidden(_l("Only on-site staff run the print queue."))
    _check_edition(user, edition)
    if action not in QUEUE_ACTIONS:
        raise ServiceError(_l("Unknown action."), "action")
    target = QUEUE_ACTIONS[action]
    failure = " ".join((failure if isinstance(failure, str) else "").replace("\x00", " ").split())
    if unstorable(failure):
        raise ServiceError(_l("The reason cannot contain control characters."), "failure")
    if len(failure) > FAILURE_MAX:
        raise ServiceError(_l("At most %(n)d characters.", n=FAILURE_MAX), "failure")
    take_write_lock(db.session)
    jobs = jobs_in_edition(Scope.of(user), edition, ids, for_update=True)
    if not jobs:
        raise ServiceError(_l("Choose at least one print job."))
    result = QueueUpdate([], [])
    for job in jobs:
        if job.status == target or not PRINT_JOB_STATUS.can_move(job.status, target):
            result.skipped.append(job)
            continue
        if target == "queued":
            if _still_waiting_for(job) is not None:
                raise ServiceError(_l("%(name)s's badge is waiting in the queue already.",
                                      name=job.registration.visitor_name))
            problem = printable_problem(job.registration)
            if problem:
                raise ServiceError(problem)
        move_status(job, PRINT_JOB_STATUS, target, actor_id=user.id)
        job.claimed_by_id, job.claimed_at = None, None
        if target == "queued":
            job.attempts += 1
            job.failure, job.done_by_id, job.done_at = "", None, None
        else:
            job.done_by_id, job.done_at = user.id, utcnow()
            job.failure = failure if target == "failed" else ""
        if target == "printed":
            registration = job.registration
            audit("badge.printed", organizer_id=registration.organizer_id, user_id=user.id, obj=registration,
                  details={"job_id": job.id, "serial": registration.badge_serial})
            visitors.registration_activity("badge.printed", registration, actor_id=user.id)
        name = job.registration.visitor_name  # read now: after a failed flush the session reads nothing
        try:
            db.session.flush()  # one at a time: the partial unique index sees each retry
        except IntegrityError:
            # A print of the same visitor committed while this retry waited on the unique index.
            raise ServiceError(_l("%(name)s's badge was queued again at the desk meanwhile: nothing was "
                                  "changed. Reload the queue.", name=name)) from None
        result.changed.append(job)
    return result
