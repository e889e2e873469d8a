"""Import kinds of the exhibitors module: companies, and exhibitors (a company's participation in this or a
past edition, with booth, m², price and booth-sales stage).

Dedupe: a row matches a company by the source system's id (``external_ref``) first, then by its
normalized name (core.imports.company_key: full-width/half-width, case, spaces, punctuation and the legal
form — 有限公司, 股份有限公司, Co., Ltd., Ltd, Inc, GmbH… — do not count). A name that matches two
companies, or a reference and a name pointing at two different companies, is ambiguous. A matched
company is never rewritten: blank fields are filled, so a rerun of the same file changes nothing.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from ..core.db import utcnow
from ..core.imports import Field, Kind, company_key, insert_returning_ids
from ..extensions import db
from .models import EXHIBITOR_STATUS, Company, Exhibitor

COMPANY_FIELDS = (
    Field("name", _l("Company name"), required=True, example="深圳华星家具有限公司",
          aliases=("company", "company name", "exhibitor", "公司", "公司名称", "企业名称", "单位名称", "展商名称", "参展商")),
    Field("country", _l("Country"), "country", example="CN", aliases=("国家", "国家/地区")),
    Field("website", _l("Website"), max_length=300, example="https://www.example.cn",
          aliases=("web", "url", "网址", "网站", "公司网址")),
    Field("email", _l("Email"), "email", example="sales@example.cn", aliases=("e-mail", "邮箱", "电子邮箱", "公司邮箱")),
    Field("phone", _l("Phone"), "phone", example="+86 755 1234 5678", aliases=("tel", "telephone", "电话", "联系电话")),
    Field("description", _l("Description"), max_length=5000, example="办公家具制造商",
          aliases=("profile", "about", "简介", "公司简介", "介绍")),
)
COMPANY_COLUMNS = ("name", "country", "website", "email", "phone", "description")
STAGE_SPELLINGS = {"prospect": ("潜在", "潜在客户"), "contacted": ("已联系",), "negotiating": ("洽谈中", "谈判中"),
                   "contracted": ("已签约", "签约"), "paid": ("已付款", "已付费"), "exhibited": ("已参展", "参展"),
                   "lost": ("流失", "丢单"), "cancelled": ("canceled", "已取消", "取消")}


def company_fields(ref_name="external_ref", ref_label=_l("External reference")) -> tuple[Field, ...]:
    return (Field(ref_name, ref_label, max_length=100, example="C-00042",
                  aliases=(("id", "ref", "company id", "外部编号", "公司编号", "客户编号") if ref_name == "external_ref"
                           else ("company id", "company ref", "公司编号", "客户编号"))),
            *COMPANY_FIELDS)


def exhibitor_fields() -> tuple[Field, ...]:
    return (
        Field("external_ref", _l("Participation reference"), max_length=100, example="EX-2024-0107",
              aliases=("participation id", "exhibitor id", "contract no", "展商编号", "合同编号", "参展编号")),
        *company_fields("company_ref", _l("Company reference")),
        Field("hall", _l("Hall"), max_length=20, example="3", aliases=("展馆", "馆号")),
        Field("stand", _l("Stand"), max_length=20, example="3A21", aliases=("booth", "booth no", "展位", "展位号")),
        Field("area_m2", _l("Area (m²)"), "decimal", minimum=0.01, maximum=999999, example="36",
              aliases=("area", "m2", "sqm", "size", "面积", "展位面积", "面积(m²)", "平方米")),
        Field("price", _l("Price"), "decimal", minimum=0, maximum=9999999999, example="48000",
              aliases=("amount", "fee", "价格", "金额", "展位费", "合同金额")),
        Field("status", _l("Stage"), "choice", example="exhibited",
              choices={code: (str(EXHIBITOR_STATUS[code].label), *STAGE_SPELLINGS.get(code, ()))
                       for code in EXHIBITOR_STATUS.codes},
              aliases=("stage", "status", "pipeline stage", "阶段", "状态", "销售阶段")),
    )


def _companies(context) -> dict:
    """The organizer's companies by key and by reference, loaded once per import (a few thousand rows)."""
    memory = context.remember("companies")
    if "by_key" not in memory:
        by_key, by_ref, rows = {}, {}, {}
        for company in db.session.execute(select(Company.id, Company.external_ref, Company.merged_into_id,
                                                 *(getattr(Company, c) for c in COMPANY_COLUMNS))
                                          .where(Company.organizer_id == context.organizer_id)):
            kept = company.merged_into_id or company.id  # a merged company is an alias of the one kept
            if kept == company.id:
                rows[company.id] = company
            by_key.setdefault(company_key(company.name), set()).add(kept)
            if company.external_ref:
                by_ref[company.external_ref] = kept
        memory.update(by_key=by_key, by_ref=by_ref, rows=rows, next=-1)
    return memory


def match_companies(context, rows, write: bool, *, ref_field: str = "external_ref") -> None:
    memory = _companies(context)
    by_key, by_ref, current = memory["by_key"], memory["by_ref"], memory["rows"]
    new_rows, fills = [], []
    for row in rows:
        ref, key = row.values.get(ref_field), company_key(row.values["name"])
        if key is None:
            row.bad(_("The company name is empty once its legal form is taken away."))
            continue
        candidates = by_key.get(key, set())
        target = by_ref.get(ref) if ref else None
        conflict = False  # ambiguous in a way no new record can settle (its reference is taken)
        if target is not None:
            row.note = "external_ref"
            if candidates and target not in candidates:
                row.status, row.reason = "ambiguous", _("The reference and the name belong to two different companies.")
                conflict = True
        elif len(candidates) == 1:
            target, row.note = next(iter(candidates)), "name"
            existing = current.get(target)
            if ref and existing is not None and existing.external_ref and existing.external_ref != ref:
                row.status, row.reason = "ambiguous", _("The name belongs to a company with another reference (%(ref)s).",
                                                        ref=existing.external_ref)
        elif len(candidates) > 1:
            row.status, row.reason = "ambiguous", _("The name matches %(n)d companies.", n=len(candidates))
        if row.status == "ambiguous" and (conflict or context.ambiguous != "new"):
            continue
        if target is not None and row.status != "ambiguous":
            row.status, row.subject_id = "matched", target
            if target > 0:
                fills.append((row, target, ref))
            continue
        row.status = row.status or "new"
        row.subject_id = memory["next"]
        memory["next"] -= 1
        by_key.setdefault(key, set()).add(row.subject_id)
        if ref:
            by_ref[ref] = row.subject_id
        new_rows.append((row, ref, key))
    if not write:
        return
    if new_rows:
        now = utcnow()
        values = [{"organizer_id": context.organizer_id, "external_ref": ref, "created_at": now, "name_key": key,
                   **{c: row.values.get(c) or "" for c in COMPANY_COLUMNS}} for row, ref, key in new_rows]
        ids = insert_returning_ids(Company.__table__, values)
        for (row, ref, key), company_id, value in zip(new_rows, ids, values):
            by_key[key] = {company_id if c == row.subject_id else c for c in by_key[key]}
            if ref:
                by_ref[ref] = company_id
            row.subject_id, row.written = company_id, True
            current[company_id] = _Snapshot(id=company_id, **{k: value[k] for k in ("external_ref", *COMPANY_COLUMNS)})
    for row, target, ref in fills:
        company = current.get(target)
        changes = {c: row.values[c] for c in COMPANY_COLUMNS if c != "name" and row.values.get(c)
                   and not getattr(company, c)}
        if ref and not company.external_ref and ref not in by_ref:
            changes["external_ref"] = ref
            by_ref[ref] = target
        if changes:
            db.session.execute(update(Company).where(Company.id == target).values(**changes))
            current[target] = _Snapshot(**{**{k: getattr(company, k) for k in ("id", "external_ref", *COMPANY_COLUMNS)},
                                           **changes})
            row.written = True


class _Snapshot:
    def __init__(self, **values):
        self.__dict__.update(values)


def process_companies(context, rows, write: bool) -> None:
    match_companies(context, rows, write)


EXHIBITOR_COLUMNS = ("hall", "stand", "area_m2", "price")


def process_exhibitors(context, rows, write: bool) -> None:
    edition = context.edition
    match_companies(context, rows, write, ref_field="company_ref")
    live = [r for r in rows if r.subject_id is not None and r.status in ("new", "matched", "ambiguous")]
    memory = context.remember("exhibitors")
    if "by_company" not in memory:
        by_company, by_ref = {}, {}
        for ex in db.session.execute(select(Exhibitor.id, Exhibitor.company_id, Exhibitor.external_ref,
                                            *(getattr(Exhibitor, c) for c in EXHIBITOR_COLUMNS))
                                     .where(Exhibitor.edition_id == edition.id)):
            by_company[ex.company_id] = ex
            if ex.external_ref:
                by_ref[ex.external_ref] = ex
        memory.update(by_company=by_company, by_ref=by_ref, seen=set(), claimed={})
    by_company, by_ref, seen = memory["by_company"], memory["by_ref"], memory["seen"]
    claimed = memory["claimed"]  # reference -> company of a participation of the file that took it
    new_rows = []
    for row in live:
        ref = row.values.get("external_ref")
        ex = by_ref.get(ref) if ref else None
        if ex is not None and ex.company_id != row.subject_id and row.subject_id > 0:
            row.status, row.reason = "ambiguous", _("The participation reference belongs to another company.")
            row.written = False
            continue
        if ex is None and ref and claimed.get(ref, row.subject_id) != row.subject_id:
            row.bad(_("This reference is used twice in the file."))
            row.written = False
            continue
        ex = ex or by_company.get(row.subject_id)
        if ex is not None or row.subject_id in seen:
            if row.status == "new":
                row.status = "matched"
            if ex is not None and write:
                changes = {c: row.values[c] for c in EXHIBITOR_COLUMNS if row.values.get(c) not in (None, "")
                           and getattr(ex, c) in (None, "")}
                if ref and not ex.external_ref and ref not in by_ref and ref not in claimed:
                    changes["external_ref"] = ref
                    by_ref[ref] = ex
                    claimed[ref] = ex.company_id
                if changes:
                    db.session.execute(update(Exhibitor).where(Exhibitor.id == ex.id).values(**changes))
                    by_company[ex.company_id] = _Snapshot(**{**{k: getattr(ex, k) for k in
                                                               ("id", "company_id", "external_ref", *EXHIBITOR_COLUMNS)},
                                                            **changes})
                    row.written = True
            continue
        seen.add(row.subject_id)
        if ref:
            claimed[ref] = row.subject_id
        new_rows.append(row)
    if not write or not new_rows:
        return
    now = utcnow()
    values = [{"organizer_id": context.organizer_id, "edition_id": edition.id, "company_id": row.subject_id,
               "hall": row.values.get("hall") or "", "stand": row.values.get("stand") or "",
               "area_m2": row.values.get("area_m2"), "price": row.values.get("price"),
               "status": row.values.get("status") or "prospect", "external_ref": row.values.get("external_ref"),
               "created_at": now} for row in new_rows]
    ids = insert_returning_ids(Exhibitor.__table__, values)
    for row, ex_id, value in zip(new_rows, ids, values):
        row.written = True
        snapshot = _Snapshot(id=ex_id, **{k: value[k] for k in ("company_id", "external_ref", *EXHIBITOR_COLUMNS)})
        by_company[row.subject_id] = snapshot
        if value["external_ref"]:
            by_ref[value["external_ref"]] = snapshot


def importers() -> list[Kind]:
    return [
        Kind("companies", _l("Companies"), company_fields(), process_companies, activity_subject="company",
             description=_l("Exhibitor companies of the organizer, without a participation.")),
        Kind("exhibitors", _l("Exhibitors (this or a past edition)"), exhibitor_fields(), process_exhibitors,
             needs_edition=True, activity_subject="company",
             description=_l("Companies' participations in an edition: booth, m², price and booth-sales stage.")),
    ]
