"""Import kinds of the visitors module: persons, and registrations (a past or this edition's visitors with
their category, interests, answers and satisfaction).

Dedupe (docs/imports.md): a row is *matched* to an existing person by the source system's id
(``external_ref``) first, then by normalized email; without an email, by E.164 phone when exactly one
person has that number. A phone that belongs to someone with another email, a phone shared by several
persons, or an external reference that points elsewhere than the email makes the row *ambiguous*:
written only if the user says so (as a new person — the duplicates review finds them later). A matched
person is never rewritten: only blank fields are filled, so a rerun of the same file changes nothing.

Writes are Core INSERTs in batches; each batch costs one lookup query for persons (and one for
registrations), whatever its size.
"""
from __future__ import annotations

import re
import secrets

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, union, update

from ..core.db import utcnow
from ..core.imports import Field, Kind, Snapshot, clean_text, in_edition_zone, insert_returning_ids, padded
from ..core.models import Category
from ..core.search import person_search_keys
from ..core.services import normalize_email
from ..extensions import db
from .models import REGISTRATION_STATUS, VISITOR_CATEGORY, Person, Registration, registration_interests
from .persons import name_key, phone_key

CN_MOBILE = re.compile(r"(?:\+?86|0086)?(1[3-9]\d{9})")
PHONE_SEPARATORS = re.compile(r"[\s().-]+")


def fast_phone_key(phone: str | None, country: str | None) -> str | None:
    """persons.phone_key with a shortcut for the common case (a Chinese mobile number), which is most of a
    Chinese show's rows and a slow parse each; every other number goes through libphonenumber."""
    if not phone:
        return None
    if not country or country.upper() == "CN":
        match = CN_MOBILE.fullmatch(PHONE_SEPARATORS.sub("", phone))
        if match:
            return "+86" + match.group(1)
    return phone_key(phone, country or None)


REF = Field("external_ref", _l("External reference"), max_length=100, example="CRM-10023",
            aliases=("id", "ref", "reference", "external id", "source id", "外部编号", "编号", "客户编号", "外部ID"),
            help=_l("The record's id in the system the file comes from; rows with the same reference are the same "
                    "record on every rerun."))
PERSON_FIELDS = (
    Field("name", _l("Name"), required=True, example="王伟", aliases=("full name", "visitor", "姓名", "名字", "联系人", "观众姓名")),
    Field("email", _l("Email"), "email", example="wang.wei@example.cn",
          aliases=("e-mail", "mail", "email address", "邮箱", "电子邮箱", "电子邮件", "邮件", "邮箱地址")),
    Field("phone", _l("Phone"), "phone", example="+86 139 1234 5678",
          aliases=("mobile", "tel", "telephone", "cell", "手机", "手机号", "手机号码", "电话", "联系电话")),
    Field("company", _l("Company"), example="深圳华星家具有限公司",
          aliases=("organisation", "organization", "company name", "公司", "公司名称", "单位", "工作单位")),
    Field("job_title", _l("Job title"), example="采购经理", aliases=("title", "position", "职位", "职务", "岗位")),
    Field("country", _l("Country"), "country", example="CN", aliases=("country code", "国家", "国家/地区", "国家代码")),
)
CATEGORY_SPELLINGS = {"buyer": ("buyer", "professional buyer", "采购商", "专业买家", "买家"),
                      "trade_visitor": ("trade visitor", "trade", "专业观众"),
                      "public": ("public", "普通观众", "公众观众", "公众"), "media": ("press", "媒体", "记者"),
                      "vip": ("贵宾",), "exhibitor_staff": ("exhibitor staff", "展商人员", "参展商工作人员"),
                      "speaker": ("演讲嘉宾", "嘉宾", "讲者")}
STATUS_SPELLINGS = {"pending": ("待审核",), "confirmed": ("已确认", "确认"), "cancelled": ("canceled", "已取消", "取消"),
                    "waitlisted": ("waiting list", "候补")}


def _choices(machine, spellings) -> dict:
    return {code: (str(machine[code].label), *spellings.get(code, ())) for code in machine.codes}


def registration_fields() -> tuple[Field, ...]:
    return (
        Field("external_ref", _l("Registration reference"), max_length=100, example="REG-2024-00017",
              aliases=("registration id", "registration ref", "报名编号", "登记编号", "注册编号")),
        Field("person_ref", _l("Person reference"), max_length=100, example="CRM-10023",
              aliases=("person id", "visitor id", "contact id", "客户编号", "观众编号", "联系人编号")),
        *PERSON_FIELDS,
        Field("category", _l("Visitor category"), "choice", example="buyer",
              choices=_choices(VISITOR_CATEGORY, CATEGORY_SPELLINGS),
              aliases=("type", "visitor type", "观众类型", "观众类别", "类别", "身份")),
        Field("status", _l("Status"), "choice", example="confirmed", choices=_choices(REGISTRATION_STATUS, STATUS_SPELLINGS),
              aliases=("registration status", "状态", "报名状态")),
        Field("registered_at", _l("Registered at"), "datetime", example="2024-03-02 10:15",
              aliases=("registration date", "date", "created", "报名时间", "登记时间", "注册时间")),
        Field("interests", _l("Interests"), "list", example="办公椅; 办公桌",
              aliases=("categories", "products of interest", "感兴趣的产品", "兴趣", "关注产品", "采购意向")),
        Field("answers", _l("Answers"), "json", example='{"purchase_authority": "decides"}',
              aliases=("questions", "问卷回答", "问卷", "答案")),
        Field("satisfaction", _l("Satisfaction (0–10)"), "int", minimum=0, maximum=10, example="8",
              aliases=("nps", "rating", "score", "满意度", "评分")),
    )


def person_fields() -> tuple[Field, ...]:
    return (REF, *PERSON_FIELDS)


# --- persons --------------------------------------------------------------------------------------------

PERSON_COLUMNS = ("name", "email", "phone", "company", "job_title", "country")


def match_persons(context, rows, write: bool, *, ref_field: str = "external_ref") -> None:
    """Classify rows against the organizer's persons (and the rows before them in the file); with ``write``
    insert the new persons and fill blank fields of matched ones. Sets ``row.subject_id``."""
    memory = context.remember("persons")  # key -> person id (a negative placeholder in a dry run)
    if write:  # earlier batches are in the database (the lookup finds them): memory stays flat
        memory.clear()
    by_ref, by_email, by_phone = (memory.setdefault(n, {}) for n in ("ref", "email", "phone"))
    claims = memory.setdefault("claims", {})  # reference -> matched person a row of the file gives it
    keyed = []
    for row in rows:
        values = row.values
        email_key = normalize_email(values["email"]) if values.get("email") else None
        phone = values.get("phone")
        pkey = fast_phone_key(phone, values.get("country")) if phone else None
        if phone and pkey is None:
            row.bad(_("%(value)s is not a phone number", value=phone[:40]))
            continue
        keyed.append((row, values.get(ref_field), email_key, pkey))
    if not keyed:
        return
    refs = {k[1] for k in keyed if k[1]}
    emails = {k[2] for k in keyed if k[2]}
    phones = {k[3] for k in keyed if k[3]}
    conditions = []
    if refs:
        conditions.append(Person.external_ref.in_(padded(refs)))
    if emails:
        conditions.append(Person.email_key.in_(padded(emails)))
    if phones:
        conditions.append(Person.phone_key.in_(padded(phones)))
    found = {}
    if conditions:
        # One statement per batch: a UNION, so that each part uses its own index (an OR would scan them all).
        base = select(Person.id, Person.merged_into_id, Person.external_ref, Person.email_key, Person.phone_key,
                      *(getattr(Person, c) for c in PERSON_COLUMNS)) \
            .where(Person.organizer_id == context.organizer_id, Person.erased_at.is_(None))
        for person in db.session.execute(union(*(base.where(condition) for condition in conditions))):
            found[person.id] = Snapshot.of(person)
    db_ref, db_email, db_phone = {}, {}, {}
    for person in found.values():
        target = person.merged_into_id or person.id
        if person.external_ref:
            db_ref[person.external_ref] = target
        if person.email_key:
            db_email[person.email_key] = target
        if person.phone_key:
            db_phone.setdefault(person.phone_key, set()).add(target)
    known = {p.merged_into_id or p.id for p in found.values()}  # persons in the database (not of this file)
    emails_of = {}  # person id -> email key, for the phone rule
    for person in found.values():
        emails_of.setdefault(person.merged_into_id or person.id, person.email_key)

    with_ref = set(db_ref.values())  # persons of the database that have a reference
    new_rows, fills = [], []
    placeholder = memory.setdefault("next", -1)
    for row, ref, email_key, pkey in keyed:
        target, note = None, ""
        ref_target = by_ref.get(ref) or db_ref.get(ref) if ref else None
        email_target = (by_email.get(email_key) or db_email.get(email_key)) if email_key else None
        conflict = False  # ambiguous in a way no new record can settle (its reference or email is taken)
        claimed = claims.get(ref) if ref and ref_target is None else None
        if claimed is not None and email_target != claimed and not email_key:
            ref_target = claimed  # a matched person of an earlier row takes this reference
        if claimed is not None and email_target != claimed and email_key:
            # an earlier row gives this reference to another person
            row.status, row.reason = "ambiguous", _("This reference is used twice in the file.")
            conflict = True
        elif ref_target is not None:
            target, note = ref_target, "external_ref"
            if email_target is not None and email_target != ref_target:
                row.status, row.reason = "ambiguous", _("The reference and the email belong to two different persons.")
                conflict = True
        elif email_target is not None:  # the email decides (a person keeps the first reference it was given)
            target, note = email_target, "email"
        elif pkey is not None:
            candidates = set(db_phone.get(pkey, ())) | set(by_phone.get(pkey, ()))
            if email_key:
                others = {c for c in candidates if emails_of.get(c) and emails_of.get(c) != email_key}
                if others:
                    row.status, row.reason = "ambiguous", _("The phone number belongs to a person with another email.")
            elif len(candidates) == 1:
                target, note = next(iter(candidates)), "phone"
            elif len(candidates) > 1:
                row.status, row.reason = "ambiguous", _("The phone number belongs to %(n)d persons.", n=len(candidates))
        row.note = note
        if row.status == "ambiguous" and (conflict or context.ambiguous != "new"):
            continue
        if target is not None and row.status != "ambiguous":
            row.status, row.subject_id = "matched", target
            if target in known:
                fills.append((row, target, ref, email_key, pkey))
                if ref and ref not in db_ref and ref not in by_ref and target not in with_ref:
                    claims.setdefault(ref, target)  # _fill_blanks gives it this reference
            continue
        if row.status != "ambiguous":
            row.status = "new"
        # a new person: remember its keys now, so that a later row of the file matches it
        row.subject_id = placeholder
        placeholder -= 1
        new_rows.append((row, ref, email_key, pkey))
        if ref:
            by_ref[ref] = row.subject_id
        if email_key:
            by_email[email_key] = row.subject_id
        if pkey:
            by_phone.setdefault(pkey, set()).add(row.subject_id)
        if email_key:
            emails_of[row.subject_id] = email_key
    memory["next"] = placeholder
    if not write:
        return
    if new_rows:
        now = utcnow()
        values = []
        for row, ref, email_key, pkey in new_rows:
            v = row.values
            values.append({"organizer_id": context.organizer_id, "name": v["name"], "email": v.get("email"),
                           "email_key": email_key, "phone": v.get("phone") or "", "phone_key": pkey,
                           "name_key": name_key(v["name"], v.get("company")), "company": v.get("company") or "",
                           "job_title": v.get("job_title") or "", "country": v.get("country") or "",
                           "external_ref": ref, "created_at": now, "updated_at": now,
                           **person_search_keys(v["name"], v.get("company"))})  # found by the search box
        ids = insert_returning_ids(Person.__table__, values)
        real = {}
        for (row, ref, email_key, pkey), person_id in zip(new_rows, ids):
            real[row.subject_id] = person_id
            row.subject_id, row.written = person_id, True
        for row, *_keys in keyed:  # a later row of the file matched to a person of this batch
            if row.subject_id in real:
                row.subject_id = real[row.subject_id]
        for table in (by_ref, by_email):
            for key, value in table.items():
                if value in real:
                    table[key] = real[value]
        for key, value in by_phone.items():
            if any(v in real for v in value):
                by_phone[key] = {real.get(v, v) for v in value}
    _fill_blanks(context, fills, found, by_ref)


def _fill_blanks(context, fills, found, batch_refs=()) -> None:
    """A matched person keeps what it has; blank fields take the row's values (one UPDATE per changed person)."""
    current = {}
    for person in found.values():
        current.setdefault(person.merged_into_id or person.id, person)
    # references of the database and of the file's new persons: a reference is given to one person only
    taken_refs = {p.external_ref for p in found.values() if p.external_ref} | set(batch_refs)
    now = utcnow()
    for row, target, ref, email_key, pkey in fills:
        person = current.get(target)
        if person is None:
            continue
        changes = {}
        for column in PERSON_COLUMNS:
            value = row.values.get(column)
            if value and not getattr(person, column):
                changes[column] = value
        if ref and not person.external_ref and ref not in taken_refs:
            changes["external_ref"] = ref
            taken_refs.add(ref)
        if "email" in changes:
            changes.pop("email")  # an email decides identity: never added to someone matched by phone
        if not changes:
            continue
        merged = {c: changes.get(c, getattr(person, c)) for c in PERSON_COLUMNS}
        changes["phone_key"] = fast_phone_key(merged["phone"], merged["country"]) if merged["phone"] else None
        changes["name_key"] = name_key(merged["name"], merged["company"])
        changes.update(person_search_keys(merged["name"], merged["company"]))
        changes["updated_at"] = now
        db.session.execute(update(Person).where(Person.id == target).values(**changes))
        row.written = True
        current[target] = person.replaced(**changes)


def process_persons(context, rows, write: bool) -> None:
    match_persons(context, rows, write)


# --- registrations ---------------------------------------------------------------------------------------

def _interest_ids(context, names) -> tuple[list[int], list[str]]:
    """Category ids of the edition's show by name (case and width insensitive); the names not found."""
    cache = context.remember("categories")
    if "by_name" not in cache:
        cache["by_name"] = {clean_text(name).casefold(): cid for cid, name in db.session.execute(
            select(Category.id, Category.name).where(Category.show_id == context.edition.show_id))}
    ids, missing = [], []
    for name in names:
        cid = cache["by_name"].get(clean_text(name).casefold())
        (ids.append(cid) if cid else missing.append(name))
    return sorted(set(ids)), missing


def process_registrations(context, rows, write: bool) -> None:
    edition = context.edition
    for row in rows:
        if row.values.get("interests"):
            ids, missing = _interest_ids(context, row.values["interests"])
            if missing:
                row.bad(_("Unknown interest: %(names)s (the show's categories are used)", names=", ".join(missing)[:200]))
                continue
            row.values["interest_ids"] = ids
    match_persons(context, [r for r in rows if r.status is None], write, ref_field="person_ref")
    live = [r for r in rows if r.status in ("new", "matched", "ambiguous") and r.subject_id is not None
            and not (r.status == "ambiguous" and context.ambiguous != "new")]
    memory = context.remember("registrations")
    if write:
        memory.clear()
    seen_refs, seen_persons = memory.setdefault("refs", set()), memory.setdefault("persons", set())
    refs = {r.values.get("external_ref") for r in live if r.values.get("external_ref")}
    person_ids = {r.subject_id for r in live if r.subject_id and r.subject_id > 0}
    existing_by_person, existing_by_ref = {}, {}
    if refs or person_ids:
        base = select(Registration.id, Registration.person_id, Registration.external_ref) \
            .where(Registration.edition_id == edition.id)
        for reg in db.session.execute(union(base.where(Registration.external_ref.in_(padded(refs))),
                                            base.where(Registration.person_id.in_(padded(person_ids))))):
            existing_by_person[reg.person_id] = reg
            if reg.external_ref:
                existing_by_ref[reg.external_ref] = reg
    new_regs, ref_fills = [], []
    for row in live:
        ref = row.values.get("external_ref")
        reg = existing_by_ref.get(ref) if ref else None
        by_person = existing_by_person.get(row.subject_id)
        if reg is not None and reg.person_id != row.subject_id and row.subject_id > 0:
            row.status, row.reason = "ambiguous", _("The registration reference belongs to another person's registration.")
            row.written = False
            continue
        if reg is None and by_person is not None and ref and ref in seen_refs and not by_person.external_ref:
            # the row's visitor is registered without a reference that a new registration of the file took
            row.status, row.reason = "ambiguous", _("This reference is used twice in the file.")
            row.written = False
            continue
        reg = reg or by_person
        if reg is not None or (ref and ref in seen_refs) or row.subject_id in seen_persons:
            if row.status == "new":
                row.status = "matched"
            if reg is not None and ref and not reg.external_ref and ref not in existing_by_ref \
                    and ref not in seen_refs:
                ref_fills.append((reg.id, ref))
                existing_by_ref[ref] = reg
                row.written = True
            continue
        if ref:
            seen_refs.add(ref)
        seen_persons.add(row.subject_id)
        new_regs.append(row)
    if not write:
        return
    for reg_id, ref in ref_fills:
        db.session.execute(update(Registration).where(Registration.id == reg_id).values(external_ref=ref))
    if not new_regs:
        return
    # An imported registration carries no consent given through this app: none is recorded for it.
    consent = {"consent_version": None, "consent_version_id": None, "consent_at": None,
               "share_with_exhibitors": False, "sharing_at": None, "sharing_version_id": None}
    values = []
    for row in new_regs:
        v = row.values
        answers = dict(v.get("answers") or {})
        if v.get("satisfaction") is not None:
            answers["satisfaction"] = v["satisfaction"]
        created = in_edition_zone(edition, v.get("registered_at")) or utcnow()
        values.append({"organizer_id": context.organizer_id, "edition_id": edition.id, "person_id": row.subject_id,
                       "category": v.get("category") or "trade_visitor", "status": v.get("status") or "confirmed",
                       "source": "import", "answers": answers, **consent,
                       "access_key": secrets.token_urlsafe(32), "locale": "zh_CN" if _is_chinese(v["name"]) else "en",
                       "name_as_given": v["name"], "company_as_given": v.get("company") or "",
                       "job_title_as_given": v.get("job_title") or "", "phone_as_given": v.get("phone") or "",
                       "external_ref": v.get("external_ref"), "created_at": created})
    ids = insert_returning_ids(Registration.__table__, values)
    links = []
    for row, reg_id in zip(new_regs, ids):
        row.written = True
        row.values["registration_id"] = reg_id
        links.extend({"registration_id": reg_id, "category_id": cid} for cid in row.values.get("interest_ids", ()))
    if links:
        db.session.execute(insert(registration_interests), links)


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text or "")


def importers() -> list[Kind]:
    return [
        Kind("persons", _l("Persons (visitors)"), person_fields(), process_persons,
             description=_l("Visitors as persons of the organizer, without a registration."), tables=("persons",),
             one_of=(("external_ref", "email", "phone"),)),
        Kind("registrations", _l("Registrations (this or a past edition)"), registration_fields(),
             process_registrations, needs_edition=True, tables=("persons", "registrations"),
             description=_l("Visitors of an edition: the person, the registration with its category, status, "
                            "interests, answers and satisfaction."),
             one_of=(("person_ref", "email", "phone"),)),
    ]


# --- for the kinds of higher modules (leads, check-ins): a row's visitor in an edition ------------------

VISITOR_FIELDS = (
    Field("registration_ref", _l("Registration reference"), max_length=100, example="REG-2024-00017",
          aliases=("registration id", "registration ref", "报名编号", "登记编号", "注册编号")),
    Field("visitor_email", _l("Visitor email"), "email", example="wang.wei@example.cn",
          aliases=("email", "e-mail", "visitor e-mail", "邮箱", "观众邮箱", "电子邮箱")),
)


def find_registrations(context, rows) -> None:
    """``row.values["registration_id"]`` and ``row.subject_id`` (the person) for every row naming a visitor of
    the context's edition by registration reference or email — one query each per batch; a row whose visitor
    is not registered for the edition is bad."""
    edition_id = context.edition.id
    refs = {r.values["registration_ref"] for r in rows if r.values.get("registration_ref")}
    emails = {normalize_email(r.values["visitor_email"]) for r in rows if r.values.get("visitor_email")}
    by_ref, by_email = {}, {}
    if refs:
        for reg in db.session.execute(select(Registration.id, Registration.person_id, Registration.external_ref)
                                      .where(Registration.edition_id == edition_id,
                                             Registration.external_ref.in_(refs))):
            by_ref[reg.external_ref] = reg
    if emails:
        for reg in db.session.execute(select(Registration.id, Registration.person_id, Person.email_key)
                                      .join(Person, Person.id == Registration.person_id)
                                      .where(Registration.edition_id == edition_id, Person.email_key.in_(emails))):
            by_email[reg.email_key] = reg
    for row in rows:
        ref, email = row.values.get("registration_ref"), row.values.get("visitor_email")
        reg = by_ref.get(ref) if ref else None
        if reg is None and email:
            reg = by_email.get(normalize_email(email))
        if reg is None:
            row.bad(_("No registration of this visitor in the edition (import the registrations first)."))
            continue
        row.values["registration_id"] = reg.id
        row.subject_id = reg.person_id
