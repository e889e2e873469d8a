"""Visitor registration: matching returning people, consent, badges, the visitor's own page."""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    and_,
    bindparam,
    false,
    insert,
    inspect,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import joinedload, make_transient_to_detached
from sqlalchemy.sql.expression import ClauseElement

from ..core import activity
from ..core.db import retry_once, utcnow
from ..core.models import AuditEntry, Category, Edition
from ..core.services import ServiceError, audit, move_status
from ..extensions import db
from . import invitations, policy, privacy, rules, tasks
from .badge_layouts import face_for, layouts_for  # noqa: F401  (the on-site print queue renders desk badges)
from .badges import DEFAULT_FORMAT, FORMATS, badge_code, badges_pdf  # noqa: F401  (idem)
from .badges import cjk_font_paths, register_font
from .imports import VISITOR_FIELDS, find_registrations  # noqa: F401  (the visitor of a lead or check-in import row)

# The list and the identity rules live in their own files; callers import them from here.
from .listing import (  # noqa: F401
    EXPORT_FORMATS,
    RegistrationFilters,
    checked_in_among,
    checked_in_available,
    export_registrations,
    registration_count,
    registrations_page,
)
from .models import (
    REGISTRATION_STATUS,
    SOURCES,
    VISITOR_CATEGORIES,
    Person,
    Registration,
    registration_interests,
)
from .notifications import request_base_url  # noqa: F401  (the trusted base for links in mails: campaigns too)
from .persons import (  # noqa: F401
    DUPLICATE_REASONS,
    Conflict,
    DuplicatePair,
    Page,
    duplicates_count,
    find_person,
    mark_distinct,
    merge_persons,
    name_key,
    phone_key,
    possible_duplicates,
    refresh_keys,
    update_person,
)


@dataclass
class RegistrationData:
    name: str
    email: str
    category: str
    phone: str = ""
    company: str = ""
    job_title: str = ""
    country: str = ""
    interest_ids: list[int] = field(default_factory=list)
    consent: bool = False
    share_with_exhibitors: bool = False
    answers: dict = field(default_factory=dict)
    source: str = "online"
    locale: str = "en"  # the language of the visitor's mails
    campaign_id: int | None = None  # the campaign whose tracked link brought the visitor (source "campaign")
    invitation_code: str = ""  # typed or from the link (?invite=): an exhibitor's or the organizer's (policy)
    invited_by_exhibitor_id: int | None = None  # set from the code; imports may set it directly
    group_contact_id: int | None = None  # the registration of the contact who registered this visitor


# Sources whose category is not the rules' business: an import carries the source system's category, and
# staff at the walk-up desk choose it.
RULELESS_SOURCES = ("import", "walk_up")


class AlreadyRegistered(ServiceError):
    """The person already has a registration for the edition. Raised before anything is written. Staff at
    the desk may be told so; the anonymous form never says it (see ``register_online``)."""

    def __init__(self, registration: Registration):
        super().__init__(_l("You are already registered for this edition. Use the link in your confirmation "
                            "email to see your badge."), "email")
        self.registration = registration


def _one_line(text: str) -> str:
    """A one-line field as typed, without control characters (CR/LF, tabs, zero-width marks) and with
    its whitespace collapsed: it ends up on badges, in exports and in mails."""
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text or "")
    return re.sub(r"\s+", " ", text).strip()


def register(edition: Edition, data: RegistrationData, *, actor_id: int | None = None,
             send_confirmation: bool = True, public_url: str | None = None,
             category_rules: list | None = None) -> Registration:
    """Register a visitor for an edition, matching a returning Person; mail the badge after commit.
    A person already registered for the edition raises ``AlreadyRegistered`` (a ServiceError).

    ``public_url``: a trusted base address for the links in the mail when EXPO_PUBLIC_URL is unset
    (never the request's Host header: see notifications.request_base_url). ``category_rules``: the edition's
    active rules when the caller has read them already in this transaction (the public form), else read here."""
    data = replace(data, **{name: _one_line(getattr(data, name))
                            for name in ("name", "email", "phone", "company", "job_title", "country")})
    if not edition.registration_open and data.source == "online":
        raise ServiceError(_l("Registration for this edition is not open."))
    code = policy.admit(edition, data.source, data.invitation_code)  # dates, invitation-only, the code
    if code is not None and code.exhibitor_id is not None:
        data = replace(data, invited_by_exhibitor_id=code.exhibitor_id,
                       source="exhibitor_invitation" if data.source == "online" else data.source)
    category_rule = None  # the edition's category rules decide from the answers (visitors.rules)
    if data.source not in RULELESS_SOURCES:
        decided, category_rule = rules.decide_category(edition, data.answers or {}, category_rules)
        if category_rule is not None:
            data = replace(data, category=decided)
    if data.category not in VISITOR_CATEGORIES:
        raise ServiceError(_l("Choose a visitor category."), "category")
    if data.source not in SOURCES:
        raise ServiceError(_l("Unknown source."), "source")
    if not data.name.strip():
        raise ServiceError(_l("Please give your name."), "name")
    if not data.consent:
        raise ServiceError(_l("Registration needs your consent."), "consent")
    if code is not None:  # before anyone is looked up: whether the address is registered never decides it
        invitations.claim_code(code)
    person = find_person(edition.organizer_id, data.email)
    if person is None:
        person = Person(organizer_id=edition.organizer_id)
        _fill_blank_person_fields(person, data)
        _insert_new(person)
    elif (existing := db.session.scalar(select(Registration).where(Registration.edition_id == edition.id,
                                                                   Registration.person_id == person.id))):
        if existing.status != "cancelled" or data.source not in policy.PUBLIC_SOURCES:
            raise AlreadyRegistered(existing)
        # A visitor who cancelled and fills in the form again registers again: the same registration comes
        # back with what they typed now, through the edition's policy (capacity, approval), and is mailed.
        return _register_again(existing, data, code, category_rule, actor_id=actor_id,
                               send_confirmation=send_confirmation, public_url=public_url)
    else:
        _fill_blank_person_fields(person, data)  # blanks only; written by the unit of work at the commit
    interests = interest_categories(edition, data.interest_ids or [])
    registration = Registration(
        organizer_id=edition.organizer_id, edition_id=edition.id, edition=edition, person_id=person.id, person=person,
        category=data.category,
        status=policy.decide_status(edition, data.category, data.source), source=data.source, answers=data.answers,
        **privacy.consent_fields(edition, data.share_with_exhibitors), interests=interests,
        access_key=secrets.token_urlsafe(32), locale=data.locale, name_as_given=data.name.strip(),
        company_as_given=data.company.strip(), job_title_as_given=data.job_title.strip(),
        phone_as_given=data.phone.strip(), campaign_id=data.campaign_id,
        invited_by_exhibitor_id=data.invited_by_exhibitor_id, invitation_code_id=code.id if code else None,
        group_contact_id=data.group_contact_id,
    )
    registration.category_set_by = "rule" if category_rule is not None else "visitor"
    registration.category_rule_id = category_rule.id if category_rule is not None else None
    _insert_new(registration)
    if interests:
        db.session.connection().execute(insert(registration_interests), [
            {"registration_id": registration.id, "category_id": category.id} for category in interests])
    audit("registration.created", organizer_id=edition.organizer_id, user_id=actor_id, obj=registration,
          details={"person_id": person.id, "source": data.source, "consent_version": edition.consent_version})
    activity.record("registration.created", organizer_id=edition.organizer_id, subject_type="person",
                    subject_id=person.id, edition_id=edition.id, user_id=actor_id, obj=registration,
                    details={"edition": edition.name, "source": registration.source, "category": registration.category,
                             "machine": "registration_status", "to": registration.status})
    if send_confirmation and person.email and registration.status == "confirmed":
        tasks.send_confirmation.delay(registration.id, public_url)
    elif send_confirmation:
        policy.after_register(registration, public_url=public_url)  # waitlisted or pending: told so by mail
    return registration


def _register_again(registration: Registration, data: RegistrationData, code, category_rule, *,
                    actor_id: int | None, send_confirmation: bool, public_url: str | None) -> Registration:
    """A cancelled registration taken up again from the form (``register``): the new answers, category and
    consent replace the old; its status is decided as for a new one; the badge keeps its number."""
    edition = registration.edition
    registration.category = data.category
    registration.category_set_by = "rule" if category_rule is not None else "visitor"
    registration.category_rule_id = category_rule.id if category_rule is not None else None
    registration.answers = data.answers
    for key, value in privacy.consent_fields(edition, data.share_with_exhibitors).items():
        setattr(registration, key, value)
    registration.locale = data.locale
    registration.name_as_given, registration.company_as_given = data.name.strip(), data.company.strip()
    registration.job_title_as_given, registration.phone_as_given = data.job_title.strip(), data.phone.strip()
    registration.invited_by_exhibitor_id = data.invited_by_exhibitor_id or registration.invited_by_exhibitor_id
    registration.invitation_code_id = code.id if code is not None else registration.invitation_code_id
    registration.interests = interest_categories(edition, data.interest_ids or [])
    _fill_blank_person_fields(registration.person, data)
    status = policy.decide_status(edition, data.category, data.source)
    # Not a staff move (staff reinstate a cancelled registration as confirmed only): the form decides it as for
    # a new registration — confirmed, pending or waitlisted —, audited like every change of status.
    audit("registration.status", organizer_id=edition.organizer_id, user_id=actor_id, obj=registration,
          details={"from": "cancelled", "to": status, "registered_again": True})
    registration.status = status
    registration.status_reason = ""
    registration_activity("registration.created", registration, actor_id=actor_id, source=data.source,
                          category=registration.category, machine="registration_status", to=status)
    db.session.flush()
    if send_confirmation and registration.person.email and status == "confirmed":
        tasks.send_confirmation.delay(registration.id, public_url)
    elif send_confirmation:
        policy.after_register(registration, public_url=public_url)
    return registration


def _insert_new(obj) -> None:
    """Write a new person or registration with one INSERT … RETURNING id instead of the unit of work's flush
    (the public form's hot path: the flush machinery cost more CPU than the two rows' SQL). Every column is
    sent, Python-side defaults applied here as the flush applies them (a column with only a server default is
    read back); the object then joins the session as a persistent row whose given attributes — relationships
    too — count as loaded: nothing more is written for it at the commit, later changes are ordinary UPDATEs.
    Relationship rows (a registration's interests) are the caller's to insert."""
    mapper = inspect(obj).mapper
    table = mapper.local_table
    values, expressions, read_back = {}, {}, []
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if column.primary_key:
            continue
        if attr.key not in obj.__dict__:
            default = column.default
            if default is None and column.server_default is not None:
                read_back.append(attr)
                continue
            setattr(obj, attr.key, None if default is None
                    else default.arg(None) if default.is_callable else default.arg)
        value = obj.__dict__[attr.key]
        if isinstance(value, ClauseElement):  # a SQL expression (the current consent version's id): its result
            expressions[column.key] = value
            read_back.append(attr)
        else:
            values[column.key] = value
    stmt = insert(table).returning(table.c.id, *(attr.columns[0] for attr in read_back))
    if expressions:
        stmt = stmt.values(expressions)
    row = db.session.connection().execute(stmt, values).one()  # values as parameters: a cached statement
    obj.id = row[0]
    for attr, value in zip(read_back, row[1:]):
        setattr(obj, attr.key, value)
    make_transient_to_detached(obj)
    db.session.add(obj)


# A known address typed into the anonymous form gets its registration link by mail, at most once per
# registration in this interval (the form cannot be used to flood someone's inbox).
LINK_MAIL_INTERVAL = timedelta(minutes=10)


def register_online(edition: Edition, data: RegistrationData, *, public_url: str | None = None,
                    category_rules: list | None = None) -> str:
    """The anonymous form, without a registration oracle: a new visitor is registered (the confirmation with
    the badge link goes to the address given); an address already registered for the edition stores nothing
    and gets its own link again (``mail_registration_link``). The caller answers both alike ("check your
    inbox"). Returns what happened — "registered", "link_mailed" or "link_withheld" — for tests and logs,
    never for the visitor. Identity is the email only (persons.py): a known phone with a new email is a new
    person (the duplicates review finds them), so the phone reveals nothing either."""
    try:
        register(edition, data, public_url=public_url, category_rules=category_rules)
    except AlreadyRegistered as known:
        return "link_mailed" if mail_registration_link(known.registration, public_url=public_url) else "link_withheld"
    return "registered"


def retry_on_race(work):
    """Run ``work`` (a registration) once more when a concurrent submit of the same new address won the race (a
    unique constraint refused the second person or registration): a double click never ends in an error."""
    return retry_once(work)


def request_registration_link(edition: Edition, email: str, *, public_url: str | None = None) -> bool:
    """"Didn't get the mail?": the link of the address's registration for the edition, mailed to that
    address (throttled). Nothing for an address that is not registered; the visitor is told the same."""
    person = find_person(edition.organizer_id, email)
    if person is None:
        return False
    registration = db.session.scalar(select(Registration).where(Registration.edition_id == edition.id,
                                                                Registration.person_id == person.id))
    return registration is not None and mail_registration_link(registration, public_url=public_url)


def mail_registration_link(registration: Registration, *, public_url: str | None = None) -> bool:
    """Mail the visitor the link to their registration (in their language, after commit), unless one went
    out in the last LINK_MAIL_INTERVAL or the registration is cancelled. Audited; True when mailed."""
    if registration.status == "cancelled" or not registration.person.email:
        return False
    recent = db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.organizer_id == registration.organizer_id, AuditEntry.at >= utcnow() - LINK_MAIL_INTERVAL,
        AuditEntry.action == "registration.link_mailed", AuditEntry.object_type == Registration.__tablename__,
        AuditEntry.object_id == registration.id).limit(1))
    if recent is not None:
        return False
    audit("registration.link_mailed", organizer_id=registration.organizer_id, obj=registration)
    tasks.send_registration_link.delay(registration.id, public_url)
    return True


def _fill_blank_person_fields(person: Person, data: RegistrationData) -> None:
    """A new person takes what the visitor typed. A known person (same email) is never rewritten by a
    registration: only fields still blank are filled in; the new details live on the registration, and a
    change to the person goes through staff or the visitor's own signed link."""
    values = {"name": data.name.strip(), "email": data.email.strip() or None, "phone": data.phone.strip(),
              "company": data.company.strip(), "job_title": data.job_title.strip(),
              "country": data.country.strip().upper()[:2]}
    for key, value in values.items():
        if value and not getattr(person, key):
            setattr(person, key, value)
    refresh_keys(person)


def reissue_badge(registration: Registration, *, actor_id: int | None = None) -> str:
    """A new code for the registration; every older code is revoked from now on."""
    registration.badge_serial += 1
    audit("badge.reissued", organizer_id=registration.organizer_id, user_id=actor_id, obj=registration,
          details={"serial": registration.badge_serial})
    registration_activity("badge.reissued", registration, actor_id=actor_id)
    return badge_code(registration)


def cancel_registration(registration: Registration, *, actor_id: int | None = None,
                        public_url: str | None = None) -> list[Registration]:
    """Cancel; a place it held goes to the first waitlisted registration of its category (policy). Returns
    the registrations promoted."""
    was = registration.status
    if move_status(registration, REGISTRATION_STATUS, "cancelled", actor_id=actor_id):
        registration_activity("registration.cancelled", registration, actor_id=actor_id)
        if was == "confirmed":
            return policy.promote_waitlist(registration.edition, registration.category, actor_id=actor_id,
                                           public_url=public_url)
    return []


def registration_activity(kind: str, registration: Registration, *, actor_id: int | None = None,
                          **details) -> None:
    """A line on the visitor's timeline about one of their registrations (the edition named in it)."""
    activity.record(kind, organizer_id=registration.organizer_id, subject_type="person",
                    subject_id=registration.person_id, edition_id=registration.edition_id, user_id=actor_id,
                    obj=registration, details={"edition": registration.edition.name, **details})


def set_registration_status(registration: Registration, status: str, *, actor_id: int | None = None) -> bool:
    """Confirm, waitlist or reinstate a registration (the moves REGISTRATION_STATUS allows), audited. A
    reinstated registration's badge admits again: cancelling never changed its code."""
    source = registration.status
    moved = move_status(registration, REGISTRATION_STATUS, status, actor_id=actor_id)
    if moved:
        registration_activity("registration.cancelled" if status == "cancelled" else "registration.status",
                              registration, actor_id=actor_id, machine="registration_status", to=status,
                              **{"from": source})
        if source == "confirmed":  # a place freed: the waiting list moves up (policy)
            policy.promote_waitlist(registration.edition, registration.category, actor_id=actor_id)
    return moved


def registration_by_access_key(access_key: str) -> Registration | None:
    if not access_key or len(access_key) > 64:
        return None
    return db.session.scalar(select(Registration).where(Registration.access_key == access_key))


def edition_by_slug(slug: str) -> Edition | None:
    """The edition behind a public show page; a draft is not published yet (it does not exist for visitors)."""
    return db.session.scalar(select(Edition).where(Edition.slug == slug, Edition.status != "draft"))


@cache
def _public_form_edition_statement():
    """Built once: a statement's construction costs more CPU than its cached compilation (the public form's
    submit is the hot path); the values go in as parameters."""
    from .models import RegistrationPolicy

    return (select(Edition, RegistrationPolicy)
            .outerjoin(RegistrationPolicy, RegistrationPolicy.edition_id == Edition.id)
            .where(Edition.slug == bindparam("slug"), Edition.status != "draft")
            .options(joinedload(Edition.show)))


def public_form_edition(slug: str) -> Edition | None:
    """``edition_by_slug`` for the public form (its page and its submit): the edition with its show and its
    registration policy (``policy.policy_of``, primed here) in one statement instead of three."""
    row = db.session.execute(_public_form_edition_statement(), {"slug": slug}).first()
    if row is None:
        return None
    edition, registration_policy = row
    edition.__dict__[policy._CACHED] = registration_policy  # what policy_of(edition) reads first
    return edition


@cache
def _public_form_setup_statement(with_interests: bool):
    """Built once per shape (with or without interests sent), values as parameters (see above)."""
    from .questions import Question
    from .rules import CategoryRule

    edition_id = bindparam("edition_id")
    kinds = union_all(*(select(literal(k).label("k")) for k in (1, 2, 3))).subquery("kinds")
    return (select(Question, CategoryRule, Category).select_from(kinds)
            .outerjoin(Question, and_(kinds.c.k == 1, Question.edition_id == edition_id, Question.active.is_(True)))
            .outerjoin(CategoryRule, and_(kinds.c.k == 2, CategoryRule.edition_id == edition_id,
                                          CategoryRule.active.is_(True)))
            .outerjoin(Category, and_(kinds.c.k == 3, Category.show_id == bindparam("show_id"),
                                      Category.id.in_(bindparam("ids", expanding=True)))
                       if with_interests else false())
            .order_by(kinds.c.k, Question.position, Question.id, CategoryRule.position, CategoryRule.id))


def public_form_setup(edition: Edition, interest_ids=()) -> tuple[list, list, list[Category]]:
    """What the public form reads besides the edition, in one statement instead of three: the active
    questions in their order (``questions.active_questions``), the active category rules in theirs
    (``rules.edition_rules(active_only=True)``) and the show's categories among ``interest_ids``. A row per
    item: a three-row list of kinds, each joined to its own table, so the lists are not multiplied."""
    ids = [i for i in dict.fromkeys(interest_ids) if isinstance(i, int) and 0 < i < 2**31]
    parameters = {"edition_id": edition.id}
    if ids:
        parameters.update(show_id=edition.show_id, ids=ids)
    asked, active_rules, categories = [], [], []
    for question, rule, category in db.session.execute(_public_form_setup_statement(bool(ids)), parameters):
        if question is not None:
            asked.append(question)
        elif rule is not None:
            active_rules.append(rule)
        elif category is not None:
            categories.append(category)
    return asked, active_rules, categories


def interest_categories(edition: Edition, ids) -> list[Category]:
    """The show's categories among ``ids`` (a registration's interests). The public form has loaded exactly
    these to check its choices: then they come from the session, without a second SELECT."""
    ids = [i for i in dict.fromkeys(ids) if isinstance(i, int) and 0 < i < 2**31]
    if not ids:
        return []
    keys = [db.session.identity_key(Category, i) for i in ids]
    if all(key in db.session.identity_map for key in keys):
        return [c for c in (db.session.identity_map[key] for key in keys) if c.show_id == edition.show_id]
    return list(db.session.scalars(select(Category).where(Category.show_id == edition.show_id,
                                                          Category.id.in_(ids))))


def open_editions(limit: int = 50) -> list[Edition]:
    """The editions a visitor may register for now (public facts only), soonest first."""
    today = utcnow().date()
    return list(db.session.scalars(select(Edition).where(Edition.status.in_(("registration_open", "live")),
                                                         Edition.ends_on >= today)
                                   .options(joinedload(Edition.show)).order_by(Edition.starts_on, Edition.id)
                                   .limit(limit)))


def visible_to_exhibitor(registration: Registration) -> dict:
    """What an exhibitor may see of a visitor: the contact details only while the visitor agrees to share
    them (a withdrawal counts from then on, for leads captured before too), else just the visitor category. Every exhibitor-facing page, export and API answer uses this."""
    if not registration.share_with_exhibitors or registration.erased_at is not None:  # withdrawn, or erased
        return {"category": registration.category, "shared": False}
    person = registration.person
    return {"name": registration.visitor_name, "company": registration.visitor_company,
            "job_title": registration.visitor_job_title, "country": person.country, "email": person.email,
            "phone": registration.visitor_phone, "category": registration.category, "shared": True}


def pdf_fonts() -> tuple[str, str]:
    """The reportlab names of the badges' Chinese regular and bold fonts, registered on first use: for the PDFs of
    the modules above (the exhibitors' ROI reports)."""
    regular, bold = cjk_font_paths()
    return register_font(regular), register_font(bold)
