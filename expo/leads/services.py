"""Leads: capture (called by the on-site scan path), rating and notes, the exhibitor's lists and exports."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload

from ..core import activity
from ..core.db import fast_execute, utcnow
from ..core.models import Edition
from ..core.paging import Page, paginate
from ..core.permissions import has_permission
from ..core.scoping import Scope, scoped
from ..core.services import MAX_DB_INT, ServiceError, audit, parse_id, unstorable
from ..core.tabular import csv_text, write_xlsx
from ..core.templating import country_name, state
from ..exhibitors.models import Company, Exhibitor
from ..extensions import db
from ..visitors.models import Person, Registration
from ..visitors.services import visible_to_exhibitor
from . import VIEW_ALL_LEADS
from . import follow_up
from . import questions as lead_questions
from .models import LEAD_FOLLOW_UP, LEAD_RATING, LEAD_RATINGS, Lead, LeadAnswer
from .questions import lead_questions_for  # noqa: F401  (the contract: leads.services.lead_questions_for)


def capture_lead(exhibitor, registration, user, scanned_at: datetime, *, company_name: str | None = None
                 ) -> tuple[int, str]:
    """One lead per (exhibitor, registration): a re-scan counts on the existing one. Returns (lead id, result).

    One upsert (``lead_upsert``), and for a new lead its audit entry and the visitor's timeline — on
    PostgreSQL all three in one statement (``_CAPTURE``), elsewhere plain inserts after the upsert. No unit
    of work: this is the hot path of every booth scan. ``exhibitor``: anything with ``id``, ``organizer_id``
    and ``edition_id``; ``company_name`` its company's name (else ``exhibitor.company.name``)."""
    connection = db.session.connection()
    company = company_name if company_name is not None else exhibitor.company.name
    if connection.dialect.name == "postgresql":
        naive = scanned_at.astimezone(timezone.utc).replace(tzinfo=None)
        lead_id, scan_count = fast_execute(connection, _CAPTURE, {
            "organizer_id": exhibitor.organizer_id, "exhibitor_id": exhibitor.id, "registration_id": registration.id,
            "user_id": user.id, "edition_id": exhibitor.edition_id, "person_id": registration.person_id,
            "scanned_at": naive, "now": utcnow().replace(tzinfo=None),
            "audit": json.dumps({"exhibitor_id": exhibitor.id, "registration_id": registration.id,
                                 "contact_shared": registration.share_with_exhibitors}),
            "timeline": json.dumps({"exhibitor": company, "exhibitor_id": exhibitor.id})}).one()
        return lead_id, "ok" if scan_count == 1 else "duplicate"
    lead_id, _registration_id, scan_count = connection.execute(lead_upsert(connection), {
        "organizer_id": exhibitor.organizer_id, "exhibitor_id": exhibitor.id, "registration_id": registration.id,
        "captured_by_id": user.id, "notes": "", "scan_count": 1, "first_scanned_at": scanned_at,
        "last_scanned_at": scanned_at}).one()
    if scan_count != 1:  # the lead was there (captured before, or a moment ago by another device): a re-scan
        return lead_id, "duplicate"
    audit("lead.captured", organizer_id=exhibitor.organizer_id, user_id=user.id, object_type="leads",
          object_id=lead_id, details={"exhibitor_id": exhibitor.id, "registration_id": registration.id,
                                      "contact_shared": registration.share_with_exhibitors})
    # The visitor's timeline (read by organizer staff): which exhibitor, never the lead's notes or answers.
    activity.record("lead.captured", organizer_id=exhibitor.organizer_id, subject_type="person",
                    subject_id=registration.person_id, edition_id=exhibitor.edition_id, user_id=user.id,
                    object_type="leads", object_id=lead_id,
                    details={"exhibitor": company, "exhibitor_id": exhibitor.id}, at=scanned_at)
    return lead_id, "ok"


# PostgreSQL: the lead upsert, and for a new lead (scan_count 1) its audit entry and the visitor's timeline
# entry, in one statement (data-modifying CTEs) — the same rows as the three statements above.
_CAPTURE = text(
    "WITH lead AS (INSERT INTO leads (organizer_id, exhibitor_id, registration_id, captured_by_id, notes, "
    "scan_count, first_scanned_at, last_scanned_at) VALUES (:organizer_id, :exhibitor_id, :registration_id, "
    ":user_id, '', 1, :scanned_at, :scanned_at) ON CONFLICT (exhibitor_id, registration_id) DO UPDATE SET "
    "scan_count = leads.scan_count + 1, last_scanned_at = GREATEST(leads.last_scanned_at, excluded.last_scanned_at), "
    "first_scanned_at = LEAST(leads.first_scanned_at, excluded.first_scanned_at) "
    "RETURNING id, scan_count), "
    "audit AS (INSERT INTO audit_entries (organizer_id, user_id, at, action, object_type, object_id, details) "
    "SELECT :organizer_id, :user_id, :now, 'lead.captured', 'leads', id, CAST(:audit AS JSON) FROM lead "
    "WHERE scan_count = 1), "
    "timeline AS (INSERT INTO activities (organizer_id, subject_type, subject_id, edition_id, kind, at, user_id, "
    "object_type, object_id, details) SELECT :organizer_id, 'person', :person_id, :edition_id, 'lead.captured', "
    ":scanned_at, :user_id, 'leads', id, CAST(:timeline AS JSON) FROM lead WHERE scan_count = 1) "
    "SELECT id, scan_count FROM lead")


_upserts: dict[str, object] = {}


def lead_upsert(connection):
    """``INSERT INTO leads … ON CONFLICT (exhibitor_id, registration_id) DO UPDATE``: a new lead, or its scans
    counted on the existing one (``scan_count`` + the inserted count, ``last_scanned_at`` the later of the
    two, ``first_scanned_at`` the earlier — an offline queue arrives late; ``captured_by`` stays). RETURNING id, registration_id, scan_count: a lead
    just made has exactly the inserted count (an existing one had at least one scan). Built once per dialect;
    one row (parameters) or many (``.values([...])``, the batch upload; one row per registration)."""
    name = connection.dialect.name
    stmt = _upserts.get(name)
    if stmt is None:
        ins = (postgresql.insert if name == "postgresql" else sqlite.insert)(Lead)
        stmt = _upserts[name] = ins.on_conflict_do_update(
            index_elements=[Lead.exhibitor_id, Lead.registration_id],
            set_={"scan_count": Lead.scan_count + ins.excluded.scan_count,
                  "last_scanned_at": case((ins.excluded.last_scanned_at > Lead.last_scanned_at,
                                           ins.excluded.last_scanned_at), else_=Lead.last_scanned_at),
                  # An offline device's queue arrives late: its earlier scan moves the first scan back.
                  "first_scanned_at": case((ins.excluded.first_scanned_at < Lead.first_scanned_at,
                                            ins.excluded.first_scanned_at), else_=Lead.first_scanned_at)},
        ).returning(Lead.id, Lead.registration_id, Lead.scan_count)
    return stmt


def _visible_leads(user, *columns):
    """The leads this exhibitor user may see: all of the exhibitor's, or only their own captures."""
    stmt = scoped(Lead, Scope.of(user), *columns)
    if not has_permission(user, VIEW_ALL_LEADS):
        stmt = stmt.where(Lead.captured_by_id == user.id)
    return stmt


# --- the list's filters (all in the query string: the URL is the view) ------------------------------------

MAX_SEARCH = 100
# The days the "scanned on" filter takes: a day at the very edge of the calendar cannot be turned into a
# span of UTC times in every zone (datetime overflows), and no show is held there.
FIRST_DAY, LAST_DAY = date(1, 1, 2), date(9999, 12, 30)


@dataclass
class LeadFilters:
    """What the lead list (and its exports) is narrowed to. Built from the query string by ``from_args``,
    which drops what it cannot read (an unknown rating, an id that is no number, a date that is none): a
    hand-edited URL shows a wider list, never an error."""

    ratings: list[str] = field(default_factory=list)  # rating codes, "none" for not yet rated (any of them)
    by: list[int] = field(default_factory=list)  # captured by these users (any of them)
    days: list[date] = field(default_factory=list)  # first or last scanned on one of these days (edition's zone)
    answers: list[tuple[str, str]] = field(default_factory=list)  # (question key, value or "*": answered at all)
    q: str = ""  # in the name or the company the visitor shares
    statuses: list[str] = field(default_factory=list)  # follow-up status codes (any of them)
    reminder: str = ""  # "due" (next step today or before) or "overdue" (before today), open leads only

    @classmethod
    def from_args(cls, args) -> LeadFilters:
        def many(name):
            return [v for v in args.getlist(name) if isinstance(v, str)][:20] if hasattr(args, "getlist") else []

        ratings = list(dict.fromkeys(v for v in many("rating") if v == "none" or v in LEAD_RATING))
        by = [ident for ident in map(parse_id, many("by")) if ident is not None]
        days = []
        for v in many("day"):
            try:
                day = date.fromisoformat(v)
            except ValueError:
                continue
            if FIRST_DAY <= day <= LAST_DAY:  # the calendar's edges overflow once moved to UTC
                days.append(day)
        answers = []
        for v in many("answer"):
            key, sep, value = v.partition(":")
            if sep and key and value and len(v) <= 200 and not unstorable(v):
                answers.append((key, value))
        q = args.get("q", "") if hasattr(args, "get") else ""
        q = " ".join(q.split())[:MAX_SEARCH] if isinstance(q, str) and not unstorable(q) else ""
        statuses = list(dict.fromkeys(v for v in many("status") if v in LEAD_FOLLOW_UP))
        reminder = args.get("reminder", "") if hasattr(args, "get") else ""
        reminder = reminder if reminder in follow_up.REMINDER_FILTERS else ""
        return cls(ratings, list(dict.fromkeys(by)), list(dict.fromkeys(days)), list(dict.fromkeys(answers)), q,
                   statuses, reminder)

    @property
    def active(self) -> bool:
        return bool(self.ratings or self.by or self.days or self.answers or self.q or self.statuses or self.reminder)

    def params(self) -> list[tuple[str, str]]:
        """The filters as query parameters (for the export links: the file holds what the list shows)."""
        return ([("rating", r) for r in self.ratings] + [("by", str(b)) for b in self.by]
                + [("day", d.isoformat()) for d in self.days] + [("answer", f"{k}:{v}") for k, v in self.answers]
                + ([("q", self.q)] if self.q else []) + [("status", s) for s in self.statuses]
                + ([("reminder", self.reminder)] if self.reminder else []))

    def apply(self, stmt, zone: ZoneInfo, *, ratings: bool = True):
        if ratings and self.ratings:
            codes = [r for r in self.ratings if r != "none"]
            conditions = [Lead.rating.in_(codes)] if codes else []
            if "none" in self.ratings:
                conditions.append(Lead.rating.is_(None))
            stmt = stmt.where(or_(*conditions))
        if self.statuses or self.reminder:
            stmt = follow_up.apply_filters(stmt, self.statuses, self.reminder, datetime.now(zone).date())
        if self.by:
            stmt = stmt.where(Lead.captured_by_id.in_(self.by))
        if self.days:
            spans = []
            for day in self.days:
                start = datetime.combine(day, time.min, zone).astimezone(timezone.utc)
                end = start + timedelta(days=1)  # a day of 23 or 25 hours is rare enough for a lead list
                spans.append(and_(Lead.first_scanned_at >= start, Lead.first_scanned_at < end))
                spans.append(and_(Lead.last_scanned_at >= start, Lead.last_scanned_at < end))
            stmt = stmt.where(or_(*spans))
        for key, value in self.answers:
            answered = select(LeadAnswer.id).where(LeadAnswer.lead_id == Lead.id, LeadAnswer.question_key == key)
            if value != "*":
                answered = answered.where(LeadAnswer.value == value)
            stmt = stmt.where(answered.exists())
        if self.q:
            pattern = "%" + self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            name = func.coalesce(func.nullif(Registration.name_as_given, ""), Person.name)
            company = func.coalesce(func.nullif(Registration.company_as_given, ""), Person.company)
            # Only what the visitor shares is searched: a name they keep to themselves finds nothing.
            shared = select(Registration.id).join(Person, Person.id == Registration.person_id).where(
                Registration.id == Lead.registration_id, Registration.share_with_exhibitors.is_(True),
                Registration.erased_at.is_(None),
                or_(name.ilike(pattern, escape="\\"), company.ilike(pattern, escape="\\")))
            stmt = stmt.where(shared.exists())
        return stmt


def leads_for(user, *, limit: int | None = None, filters: LeadFilters | None = None,
              zone: ZoneInfo | None = None, ids: list[int] | None = None) -> list[Lead]:
    """The leads the user may see (newest scan first), narrowed by the list's filters and/or to some ids."""
    stmt = _visible_leads(user)
    if filters is not None and filters.active:
        stmt = filters.apply(stmt, zone or ZoneInfo("UTC"))
    if ids is not None:
        stmt = stmt.where(Lead.id.in_(ids))
    stmt = stmt.options(joinedload(Lead.registration).joinedload(Registration.person)) \
        .order_by(Lead.last_scanned_at.desc(), Lead.id.desc())
    if limit:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


@dataclass
class LeadList:
    page: Page  # items: (lead, what the exhibitor may see of the visitor)
    by_rating: dict[str, int]  # rating code, or "none" -> leads (under the other filters)
    overall: int | None = None  # every lead the user may see, whatever the filters (None: = total)

    @property
    def total(self) -> int:
        return sum(self.by_rating.values())

    @property
    def everything(self) -> int:
        return self.total if self.overall is None else self.overall


def lead_list(user, *, rating: str = "", filters: LeadFilters | None = None, zone: ZoneInfo | None = None,
              page: int = 1, per_page: int = 25) -> LeadList:
    """One page of the leads the user may see, newest scan first, narrowed by the filters (``rating``: one
    rating, "none": unrated, as a shortcut). The counts by rating are under the other filters."""
    filters = filters or LeadFilters()
    if rating and not filters.ratings and (rating == "none" or rating in LEAD_RATING):
        filters.ratings = [rating]
    zone = zone or ZoneInfo("UTC")
    stmt = filters.apply(_visible_leads(user), zone)
    stmt = stmt.options(joinedload(Lead.registration).joinedload(Registration.person)) \
        .order_by(Lead.last_scanned_at.desc(), Lead.id.desc())
    page_ = paginate(stmt, page=page, per_page=per_page)
    page_.items = [(lead, lead_contact(lead)) for lead in page_.items]
    counts = db.session.execute(filters.apply(_visible_leads(user, Lead.rating, func.count(Lead.id)), zone,
                                              ratings=False).group_by(Lead.rating)).all()
    overall = None
    if filters.by or filters.days or filters.answers or filters.q or filters.statuses or filters.reminder:
        overall = db.session.scalar(_visible_leads(user, func.count(Lead.id)))
    return LeadList(page_, {rating or "none": n for rating, n in counts}, overall)


def filter_options(user, exhibitor) -> dict:
    """What the list's filter bar offers: the staff who captured leads (for those who see them all), the
    show days, the questions with their choices (labels in the current language)."""
    from ..core.models import User

    staff = []
    if has_permission(user, VIEW_ALL_LEADS):
        ids = select(Lead.captured_by_id).where(Lead.exhibitor_id == exhibitor.id).distinct().scalar_subquery()
        staff = [(u.id, u.name or u.email) for u in db.session.scalars(
            select(User).where(User.organizer_id == user.organizer_id, User.id.in_(ids)).order_by(User.name))]
    edition = exhibitor.edition
    days = []
    if edition.starts_on and edition.ends_on and (edition.ends_on - edition.starts_on).days < 60:
        days = [edition.starts_on + timedelta(days=n) for n in range((edition.ends_on - edition.starts_on).days + 1)]
    questions = []
    for q in lead_questions.exhibitor_questions(exhibitor.id):
        questions.append({"key": q.key, "label": lead_questions.label(q), "kind": q.kind,
                          "choices": lead_questions.choice_options(q)})
    return {"staff": staff, "days": days, "questions": questions}


def filter_chips(filters: LeadFilters, options: dict) -> list[tuple[str, str, str]]:
    """The active filters as (param, value, words) for the removable chips."""
    chips = []
    for code in filters.ratings:
        chips.append(("rating", code, str(_l("Rating: %(value)s", value=LEAD_RATING.label(code) if code != "none"
                                             else _l("Not rated")))))
    staff = dict(options["staff"])
    for user_id in filters.by:
        chips.append(("by", str(user_id), str(_l("Captured by: %(value)s", value=staff.get(user_id, f"#{user_id}")))))
    for day in filters.days:
        chips.append(("day", day.isoformat(), str(_l("Scanned on: %(value)s", value=day.isoformat()))))
    questions = {q["key"]: q for q in options["questions"]}
    for key, value in filters.answers:
        question = questions.get(key)
        words = {c["value"]: c["label"] for c in question["choices"]} if question else {}
        shown = _l("answered") if value == "*" else words.get(value, value)
        chips.append(("answer", f"{key}:{value}", str(_l("%(label)s: %(value)s",
                                                        label=question["label"] if question else key, value=shown))))
    if filters.q:
        chips.append(("q", filters.q, str(_l("Search: %(value)s", value=filters.q))))
    for code in filters.statuses:
        chips.append(("status", code, str(_l("Follow-up: %(value)s", value=LEAD_FOLLOW_UP.label(code)))))
    if filters.reminder:
        chips.append(("reminder", filters.reminder, str(follow_up.REMINDER_FILTERS[filters.reminder])))
    return chips


def lead_visible_to(user, lead: Lead) -> bool:
    return has_permission(user, VIEW_ALL_LEADS) or lead.captured_by_id == user.id


def get_lead(user, lead_id: int, *, for_update: bool = False) -> Lead | None:
    """The lead with this id if the user may see it (their exhibitor's; booth staff: their own captures).
    ``for_update``: its row locked until the transaction ends (PostgreSQL), read afresh — for a change."""
    if not 0 < lead_id <= MAX_DB_INT:
        return None
    stmt = _visible_leads(user).where(Lead.id == lead_id) \
        .options(joinedload(Lead.registration).joinedload(Registration.person))
    if for_update:
        stmt = stmt.with_for_update(of=Lead).execution_options(populate_existing=True)
    return db.session.scalar(stmt)


def lock_lead(lead: Lead) -> Lead:
    """Lock the lead's row until the transaction ends and read it afresh: two writers (the scanner's queue
    syncing, the lead page saved) then change it one after the other, and the answers are read, deleted and
    written again by one at a time — never twice the same answer."""
    db.session.execute(select(Lead.id).where(Lead.id == lead.id).with_for_update())
    db.session.refresh(lead)
    return lead


# --- qualifying a lead: rating, answers, notes ----------------------------------------------------------

UNSET = object()
MAX_NOTES = 5000


def update_lead(lead: Lead, *, rating=UNSET, notes=UNSET, answers: dict | None = None, actor_id: int,
                source: str = "page", ignored: dict | None = None) -> list[str]:
    """Change what was given of the rating, the notes and the answers (``answers``: key -> raw answer, only
    the keys given change). Checks everything before it writes; raises ServiceError (``field`` names the
    field, ``answers.<key>`` an answer). Returns the fields that changed; only a change is audited.
    ``ignored`` (a dict): an answer that cannot be stored (a question deleted, a choice no longer offered
    while a scanner was offline) is left out and reported there ({"answers.<key>": reason}) instead of
    refusing the whole change — the rating and the notes taken at the booth are never lost for it.
    The visitor's timeline gets a new rating, never the notes or the answers."""
    changed: list[str] = []
    if rating is not UNSET:
        if rating not in (None, "", *LEAD_RATINGS):
            raise ServiceError(_l("Rating must be hot, warm or cold."), "rating")
        rating = rating or None
    if notes is not UNSET:
        if not isinstance(notes, str):
            raise ServiceError(_l("The notes must be text."), "notes")
        if unstorable(notes):
            raise ServiceError(_l("This text contains characters that cannot be stored."), "notes")
        notes = notes.replace("\r\n", "\n").strip()
        if len(notes) > MAX_NOTES:
            raise ServiceError(_l("At most %(n)d characters.", n=MAX_NOTES), "notes")
    values = {}
    if answers is not None:
        if ignored is None:
            values = lead_questions.check_answers(lead.exhibitor_id, answers)
        else:
            values, errors = lead_questions.sort_answers(lead.exhibitor_id, answers)
            ignored.update({f"answers.{key}": reason for key, reason in errors.items()})
    if rating is not UNSET and rating != lead.rating:
        if rating:
            # The visitor's timeline gets the exhibitor and the rating; the notes and answers stay the exhibitor's.
            exhibitor = db.session.execute(select(Exhibitor.id, Exhibitor.edition_id, Company.name)
                                           .join(Company, Company.id == Exhibitor.company_id)
                                           .where(Exhibitor.id == lead.exhibitor_id)).one()
            activity.record("lead.rated", organizer_id=lead.organizer_id, subject_type="person",
                            subject_id=lead.registration.person_id, edition_id=exhibitor.edition_id,
                            user_id=actor_id, obj=lead, details={"exhibitor": exhibitor.name,
                                                                 "exhibitor_id": exhibitor.id,
                                                                 "machine": "lead_rating", "to": rating})
        lead.rating = rating
        changed.append("rating")
    if notes is not UNSET and notes != (lead.notes or ""):
        lead.notes = notes
        changed.append("notes")
    answer_keys = []
    if values:
        current = lead_questions.answers_of([lead.id]).get(lead.id, {})
        answer_keys = lead_questions.store_answers(lead, values, current)
        if answer_keys:
            changed.append("answers")
    if changed:
        db.session.flush()
        # What changed, never what was written: the organizer's audit log is no place for the exhibitor's notes.
        audit("lead.updated", organizer_id=lead.organizer_id, user_id=actor_id, obj=lead,
              details={"rating": lead.rating, "fields": changed, **({"answer_keys": answer_keys} if answer_keys else {}),
                       "via": source})
    return changed


def lead_payload(lead: Lead) -> dict:
    """A lead as the JSON API answers it: only what the visitor shares, the exhibitor's rating, notes and
    answers (by the questions' stable keys), and the exhibitor's active questions to ask."""
    seen = visible_to_exhibitor(lead.registration)
    visitor = {key: seen.get(key) for key in CONTACT_FIELDS}
    visitor.update(category=seen["category"], shared=seen["shared"])
    return {"id": lead.id, "rating": lead.rating, "notes": lead.notes or "",
            "answers": lead_questions.answers_of([lead.id]).get(lead.id, {}),
            "scan_count": lead.scan_count, "first_scanned_at": _iso(lead.first_scanned_at),
            "last_scanned_at": _iso(lead.last_scanned_at), "captured_by_id": lead.captured_by_id,
            "visitor": visitor, "questions": lead_questions.lead_questions_for(lead.exhibitor_id),
            **follow_up.payload(lead)}


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


CONTACT_FIELDS = ("name", "company", "job_title", "country", "email", "phone")


def lead_contact(lead: Lead) -> dict:
    """A lead's visitor fields, limited to what the visitor agreed to share with exhibitors."""
    seen = visible_to_exhibitor(lead.registration)
    return {**{key: seen.get(key) or "" for key in CONTACT_FIELDS}, "category": seen["category"],
            "shared": seen["shared"]}


# --- exports --------------------------------------------------------------------------------------------

EXPORT_FORMATS = ("csv", "xlsx")
# Column presets for importing into other systems: the headers are those systems' own field names (English
# whatever the user's language, which is what their import wizards map by itself).
PRESETS = {"salesforce": "Salesforce", "hubspot": "HubSpot"}
# The export's columns: (key, translated header). Keys are for code; people read the headers.
EXPORT_COLUMNS = (
    ("name", _l("Name")), ("company", _l("Company")), ("job_title", _l("Job title")), ("country", _l("Country")),
    ("email", _l("Email")), ("phone", _l("Phone")), ("category", _l("Category")), ("rating", _l("Rating")),
    ("notes", _l("Notes")), ("first_scanned", _l("First scanned")), ("last_scanned", _l("Last scanned")),
    ("scans", _l("Scans")), ("external_ref", _l("Reference")),
    ("follow_up_status", _l("Follow-up status")), ("next_step_on", _l("Next step on")),
    ("won_value", _l("Deal value")), ("lost_reason", _l("Lost reason")),
)
SALESFORCE_COLUMNS = ("First Name", "Last Name", "Company", "Title", "Email", "Phone", "Country", "Lead Source",
                      "Rating", "Description")
HUBSPOT_COLUMNS = ("First Name", "Last Name", "Email", "Phone Number", "Company Name", "Job Title",
                   "Country/Region", "Lifecycle Stage", "Lead Status", "Lead Rating", "Message")
RATING_WORDS = {"hot": "Hot", "warm": "Warm", "cold": "Cold"}  # Salesforce's Rating picklist, as it ships


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\u3040" <= ch <= "\u30ff"
               or "\uac00" <= ch <= "\ud7af" for ch in text)


def split_name(name: str) -> tuple[str, str]:
    """(first name, last name) for systems that want two fields. A Chinese (Japanese, Korean) name is one
    field on the badge: it goes whole into the last name, first name empty — splitting off the first character
    as the family name would be wrong for compound surnames (欧阳, 司马) and for names written given-name first,
    and the last name is the field Salesforce requires. Other names split at the last space ("Anna Maria
    Schmidt" -> "Anna Maria", "Schmidt"); one word is the last name."""
    name = " ".join((name or "").split())
    if not name:
        return "", ""
    if _has_cjk(name) or " " not in name:
        return "", name
    first, _sep, last = name.rpartition(" ")
    return first, last


def _answer_lines(lead: Lead, answers: dict, questions: list) -> list[str]:
    by_key = {q.key: q for q in questions}
    lines = []
    for q in questions:
        value = answers.get(q.key)
        if value not in (None, "", []):
            lines.append(str(_l("%(label)s: %(value)s", label=lead_questions.label(q),
                                value=lead_questions.display(q, value))))
    for key, value in answers.items():
        if key not in by_key:
            lines.append(str(_l("%(label)s: %(value)s", label=key, value=lead_questions.display(None, value))))
    return lines


def _description(lead: Lead, answers: dict, questions: list, zone: ZoneInfo, edition_name: str) -> str:
    parts = [lead.notes.strip()] if lead.notes and lead.notes.strip() else []
    parts += _answer_lines(lead, answers, questions)
    if lead.follow_up_status and lead.follow_up_status != "to_contact":
        parts.append(follow_up.status_line(lead))
    parts.append(f"{edition_name} · {lead.first_scanned_at.astimezone(zone).strftime('%Y-%m-%d %H:%M')}")
    return "\n".join(parts)


def leads_table(leads: list[Lead], zone: ZoneInfo, preset: str = "", *, edition_name: str = "") -> tuple[list[str], list[list]]:
    """The leads as a table. Plain: in the current language, translated headers, category and rating as their
    labels, countries by name, times as datetimes in the edition's zone, the scan count as a number, then a
    column per qualifying question. A preset: the other system's field names and values."""
    questions = lead_questions.exhibitor_questions(leads[0].exhibitor_id) if leads else []
    answers = lead_questions.answers_of([lead.id for lead in leads])
    rows = []
    if preset == "salesforce":
        header = list(SALESFORCE_COLUMNS)
        for lead in leads:
            c = lead_contact(lead)
            first, last, company = _crm_names(lead, c)
            rows.append([first, last, company, c["job_title"], c["email"], c["phone"],
                         _country_en(c["country"]), "Trade Show", RATING_WORDS.get(lead.rating or "", ""),
                         _description(lead, answers.get(lead.id, {}), questions, zone, edition_name)])
        return header, rows
    if preset == "hubspot":
        header = list(HUBSPOT_COLUMNS)
        for lead in leads:
            c = lead_contact(lead)
            first, last, company = _crm_names(lead, c)
            rows.append([first, last, c["email"], c["phone"], company, c["job_title"], _country_en(c["country"]),
                         "Customer" if lead.follow_up_status == "won" else "Lead",
                         follow_up.HUBSPOT_STATUS.get(lead.follow_up_status, "New"), RATING_WORDS.get(lead.rating or "", ""),
                         _description(lead, answers.get(lead.id, {}), questions, zone, edition_name)])
        return header, rows
    header = [str(title) for _key, title in EXPORT_COLUMNS] + [lead_questions.label(q) for q in questions]
    for lead in leads:
        contact = lead_contact(lead)
        mine = answers.get(lead.id, {})
        rows.append([contact["name"], contact["company"], contact["job_title"], country_name(contact["country"]),
                     contact["email"], contact["phone"], str(state(contact["category"], "visitor_category")),
                     LEAD_RATING.label(lead.rating), lead.notes,
                     lead.first_scanned_at.astimezone(zone), lead.last_scanned_at.astimezone(zone), lead.scan_count,
                     lead.external_ref or "", LEAD_FOLLOW_UP.label(lead.follow_up_status), lead.next_step_on,
                     lead.won_value, follow_up.lost_reason_label(lead.lost_reason)]
                    + [lead_questions.display(q, mine.get(q.key)) for q in questions])
    return header, rows


def _crm_names(lead: Lead, contact: dict) -> tuple[str, str, str]:
    """(first name, last name, company) for a CRM import, which refuses a lead without a last name and a
    company (Salesforce): a visitor who shares no name is "Visitor #<lead id>", no company is the visitor's
    category (else "—"). The rating, notes and answers still arrive; the person can be found later."""
    first, last = split_name(contact["name"])
    if not last:
        first, last = "", str(_l("Visitor #%(id)d", id=lead.id))
    company = contact["company"] or (str(state(contact["category"], "visitor_category"))
                                     if contact["category"] else "—")
    return first, last, company


def _country_en(code: str) -> str:
    from babel import Locale

    return Locale.parse("en").territories.get(code.upper(), code) if code else ""


def export_leads(user, leads: list[Lead], zone: ZoneInfo, fmt: str, preset: str = "", *,
                 edition_name: str = "", filters: LeadFilters | None = None) -> bytes:
    """The exhibitor's leads as a CSV or XLSX file (bytes), plain (current language) or with a preset's
    columns; audited (format, preset, rows, filters)."""
    if fmt not in EXPORT_FORMATS or (preset and preset not in PRESETS):
        raise ValueError(fmt)
    header, rows = leads_table(leads, zone, preset, edition_name=edition_name)
    details = {"exhibitor_id": user.exhibitor_id, "rows": len(leads), "format": fmt}
    if preset:
        details["preset"] = preset
    if filters is not None and filters.active:
        details["filters"] = [f"{k}={v}" for k, v in filters.params()]
    audit("leads.exported", organizer_id=user.organizer_id, user_id=user.id, details=details)
    if fmt == "xlsx":
        return write_xlsx(header, rows, PRESETS.get(preset) or str(_l("Leads")))
    return csv_text(header, rows).encode("utf-8")


def lead_vcards(user, leads: list[Lead], *, edition_name: str = "", zone: ZoneInfo | None = None) -> tuple[bytes, int]:
    """vCards (3.0, UTF-8) of the leads whose visitors share their contact details — the others are left
    out, there is nothing to put on a card — and how many. Audited like the other exports."""
    import vobject

    zone = zone or ZoneInfo("UTC")
    questions = lead_questions.exhibitor_questions(leads[0].exhibitor_id) if leads else []
    answers = lead_questions.answers_of([lead.id for lead in leads])
    cards = []
    for lead in leads:
        c = lead_contact(lead)
        if not c["shared"]:
            continue
        card = vobject.vCard()
        first, last = split_name(c["name"])
        card.add("n").value = vobject.vcard.Name(family=_card_text(last), given=_card_text(first))
        card.add("fn").value = _card_text(c["name"]) or _card_text(c["email"]) or "?"
        if c["company"]:
            card.add("org").value = [_card_text(c["company"])]
        if c["job_title"]:
            card.add("title").value = _card_text(c["job_title"])
        if c["email"]:
            email = card.add("email")
            email.value = _card_text(c["email"])
            email.type_param = "INTERNET"
        if c["phone"]:
            tel = card.add("tel")
            tel.value = _card_text(c["phone"])
            tel.type_param = "WORK"
        if c["country"]:
            card.add("adr").value = vobject.vcard.Address(country=_country_en(c["country"]))
        card.add("note").value = _card_text(_description(lead, answers.get(lead.id, {}), questions, zone,
                                                         edition_name)
                                            + ("\n" + str(_l("Rating: %(value)s", value=LEAD_RATING.label(lead.rating))) if lead.rating else ""))
        card.add("uid").value = f"expo-lead-{lead.id}"
        cards.append(card.serialize())
    audit("leads.exported", organizer_id=user.organizer_id, user_id=user.id,
          details={"exhibitor_id": user.exhibitor_id, "rows": len(cards), "format": "vcf"})
    return "".join(cards).encode("utf-8"), len(cards)


def _card_text(text) -> str:
    """Text for a vCard property: control characters (but line breaks) out; vobject escapes , ; \\ and
    line breaks and folds long lines."""
    text = str(text or "")
    return "".join(ch for ch in text if ch == "\n" or (ch >= " " and ch != "\x7f")).strip()


# --- the person page (hook ``person_panels`` of visitors.customers) --------------------------------------

def person_panel(scope: Scope, person, registrations: list, allowed) -> dict | None:
    """The exhibitors whose staff scanned the visitor's badge, for organizer staff: per lead the exhibitor,
    the edition, the rating and the number of scans — never the exhibitor's notes or answers."""
    from flask import url_for

    from ..exhibitors import MANAGE_EXHIBITORS

    ids = [r.id for r in registrations]
    rows = db.session.execute(
        scoped(Lead, scope, Lead.rating, Lead.scan_count, Lead.first_scanned_at, Exhibitor.company_id, Company.name,
               Exhibitor.hall, Exhibitor.stand, Registration.edition_id)
        .join(Exhibitor, Exhibitor.id == Lead.exhibitor_id).join(Company, Company.id == Exhibitor.company_id)
        .join(Registration, Registration.id == Lead.registration_id)
        .where(Lead.registration_id.in_(ids)).order_by(Lead.first_scanned_at.desc())).all() if ids else []
    editions = {r.edition_id: r.edition for r in registrations}
    link = allowed(MANAGE_EXHIBITORS)
    out = []
    for row in rows:
        name = row.name
        out.append({"exhibitor": {"text": name, "url": url_for("exhibitors.company", company_id=row.company_id)}
                    if link else name,
                    "booth": "-".join(p for p in (row.hall, row.stand) if p),
                    "edition": editions[row.edition_id].name if row.edition_id in editions else "",
                    "rating": LEAD_RATING.state(row.rating) if row.rating else None, "scans": row.scan_count,
                    "first": row.first_scanned_at})
    return {"key": "leads", "title": _l("Exhibitors who scanned the badge"), "icon": "person-vcard",
            "columns": [("exhibitor", _l("Exhibitor")), ("booth", _l("Booth")), ("edition", _l("Edition")),
                        ("rating", _l("Rating")), ("scans", _l("Scans")), ("first", _l("First scanned"))],
            "numeric": ("scans",), "rows": out,
            "note": _l("Counts and ratings only: what exhibitors write about a visitor stays theirs."),
            "empty": _l("No exhibitor has scanned this visitor's badge."),
            "kpi": {"value": len({r.company_id for r in rows}), "label": _l("Exhibitors visited"),
                    "icon": "shop"}}


def company_panel(scope: Scope, company, name_keys, allowed) -> dict | None:
    """The company page (hook ``company_panels`` of exhibitors): the leads its staff took, per edition —
    counts by rating only."""
    rows = db.session.execute(
        scoped(Lead, scope, Exhibitor.edition_id, Lead.rating, func.count(Lead.id))
        .join(Exhibitor, Exhibitor.id == Lead.exhibitor_id).where(Exhibitor.company_id == company.id)
        .group_by(Exhibitor.edition_id, Lead.rating)).all()
    per_edition: dict[int, dict] = {}
    for edition_id, rating, count in rows:
        entry = per_edition.setdefault(edition_id, {"total": 0, "hot": 0, "warm": 0, "cold": 0, "none": 0})
        entry["total"] += count
        entry[rating or "none"] += count
    editions = {e.id: e for e in db.session.scalars(scoped(Edition, scope).where(Edition.id.in_(list(per_edition))))} \
        if per_edition else {}
    ordered = sorted(per_edition.items(), key=lambda item: editions[item[0]].starts_on, reverse=True)
    return {"key": "leads", "title": _l("Leads its staff took"), "icon": "person-lines-fill",
            "columns": [("edition", _l("Edition")), ("total", _l("Leads")), ("hot", LEAD_RATING.label("hot")),
                        ("warm", LEAD_RATING.label("warm")), ("cold", LEAD_RATING.label("cold")),
                        ("none", _l("Not rated"))],
            "numeric": ("total", "hot", "warm", "cold", "none"),
            "rows": [{"edition": editions[eid].name, **counts} for eid, counts in ordered],
            "empty": _l("No leads taken yet."),
            "kpi": {"value": sum(c["total"] for c in per_edition.values()), "label": _l("Leads taken"),
                    "icon": "person-lines-fill"}}


# --- a visitor's personal data (hooks of visitors.privacy) -------------------------------------------

def visitor_leads(scope: Scope, registration_ids: list[int]) -> dict:
    """The hook ``personal_data``: which exhibitors captured the visitor at their booth, and whether they
    see the visitor's contact details now (they do while the visitor shares them)."""
    rows = db.session.execute(
        scoped(Lead, scope, Lead.registration_id, Company.name, Exhibitor.hall, Exhibitor.stand,
               Lead.first_scanned_at, Lead.last_scanned_at, Lead.scan_count, Registration.share_with_exhibitors)
        .join(Exhibitor, Exhibitor.id == Lead.exhibitor_id).join(Company, Company.id == Exhibitor.company_id)
        .join(Registration, Registration.id == Lead.registration_id)
        .where(Lead.registration_id.in_(registration_ids)).order_by(Lead.first_scanned_at)).all()
    return {"key": "leads", "title": _l("Exhibitors who scanned your badge"),
            "columns": [("registration_id", _l("Registration")), ("exhibitor", _l("Exhibitor")),
                        ("booth", _l("Booth")), ("first_scanned_at", _l("First scanned")),
                        ("last_scanned_at", _l("Last scanned")), ("scans", _l("Scans")),
                        ("has_contact_details", _l("Sees your contact details"))],
            "rows": [{"registration_id": r.registration_id, "exhibitor": r.name,
                      "booth": "-".join(p for p in (r.hall, r.stand) if p), "first_scanned_at": r.first_scanned_at,
                      "last_scanned_at": r.last_scanned_at, "scans": r.scan_count,
                      "has_contact_details": bool(r.share_with_exhibitors)} for r in rows]}


def forget_visitor(scope: Scope, registration_ids: list[int]) -> None:
    """The hook ``erase_personal_data``: an erased visitor's leads keep their rating and counts (the
    exhibitor's figures) but lose the notes and answers written about them."""
    db.session.execute(update(Lead).where(Lead.organizer_id == scope.organizer_id,
                                          Lead.registration_id.in_(registration_ids)).values(notes=""),
                       execution_options={"synchronize_session": False})
    # The answers about them go with the notes.
    db.session.execute(delete(LeadAnswer).where(
        LeadAnswer.organizer_id == scope.organizer_id,
        LeadAnswer.lead_id.in_(select(Lead.id).where(Lead.organizer_id == scope.organizer_id,
                                                     Lead.registration_id.in_(registration_ids)))),
        execution_options={"synchronize_session": False})


# --- for matchmaking (meetings attended): when an exhibitor's staff scanned some visitors --------------

def scan_times(pairs) -> dict[tuple[int, int], tuple[datetime, datetime]]:
    """(exhibitor id, registration id) -> (first, last scan) of the leads of these pairs that exist. A
    booth scan during a meeting's time tells that the meeting took place (expo.matchmaking.meetings)."""
    pairs = list({(int(e), int(r)) for e, r in pairs})
    found = {}
    for start in range(0, len(pairs), 500):
        chunk = set(pairs[start:start + 500])
        rows = db.session.execute(
            select(Lead.exhibitor_id, Lead.registration_id, Lead.first_scanned_at, Lead.last_scanned_at)
            .where(Lead.exhibitor_id.in_({e for e, _r in chunk}), Lead.registration_id.in_({r for _e, r in chunk})))
        for exhibitor_id, registration_id, first, last in rows:
            if (exhibitor_id, registration_id) in chunk:
                found[(exhibitor_id, registration_id)] = (first, last)
    return found
