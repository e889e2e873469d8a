"""Import kind of the leads module: leads of a past (or this) edition with their rating and notes.

A row names the exhibitor (by participation reference, company reference or company name, as in the
exhibitors import) and the visitor (registration reference or email: they must be imported first), with
the lead's own reference. One lead per exhibitor and visitor, as at the booth: a lead that exists is
matched (blank rating and notes filled), so a rerun of the same file changes nothing.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, or_, select, update

from ..core.db import utcnow
from ..core.imports import Field, Kind, Snapshot, company_key, in_edition_zone
from ..exhibitors.models import Company, Exhibitor
from ..extensions import db
from ..visitors.services import VISITOR_FIELDS, find_registrations
from .models import LEAD_RATING, Lead

RATING_SPELLINGS = {"hot": ("a", "热", "高", "hot lead"), "warm": ("b", "温", "中"), "cold": ("c", "冷", "低")}


def lead_fields() -> tuple[Field, ...]:
    return (
        Field("external_ref", _l("Lead reference"), max_length=100, example="L-778",
              aliases=("lead id", "id", "ref", "线索编号", "编号")),
        Field("exhibitor_ref", _l("Participation reference"), max_length=100, example="EX-2024-0107",
              aliases=("participation id", "exhibitor id", "展商编号", "参展编号")),
        Field("company_ref", _l("Company reference"), max_length=100, example="C-00042",
              aliases=("company id", "公司编号")),
        Field("company", _l("Exhibitor company"), example="深圳华星家具有限公司",
              aliases=("exhibitor", "company name", "展商", "参展商", "展商名称", "公司名称")),
        *VISITOR_FIELDS,
        Field("rating", _l("Rating"), "choice", example="hot",
              choices={code: (str(LEAD_RATING[code].label), *RATING_SPELLINGS.get(code, ())) for code in LEAD_RATING.codes},
              aliases=("grade", "评级", "等级", "意向")),
        Field("notes", _l("Notes"), max_length=5000, example="要报价", aliases=("note", "comment", "备注", "记录")),
        Field("captured_at", _l("Captured at"), "datetime", example="2024-03-19 14:05",
              aliases=("scanned at", "date", "time", "扫描时间", "时间", "日期")),
    )


def _exhibitors(context) -> dict:
    memory = context.remember("lead_exhibitors")
    if "by_ref" not in memory:
        by_ref, by_company_ref, by_key = {}, {}, {}
        for ex in db.session.execute(select(Exhibitor.id, Exhibitor.external_ref, Company.external_ref.label("cref"),
                                            Company.name).join(Company, Company.id == Exhibitor.company_id)
                                     .where(Exhibitor.edition_id == context.edition.id)):
            if ex.external_ref:
                by_ref[ex.external_ref] = ex.id
            if ex.cref:
                by_company_ref[ex.cref] = ex.id
            by_key.setdefault(company_key(ex.name), set()).add(ex.id)
        memory.update(by_ref=by_ref, by_company_ref=by_company_ref, by_key=by_key, seen=set())
    return memory


def process_leads(context, rows, write: bool) -> None:
    exhibitors = _exhibitors(context)
    for row in rows:
        v = row.values
        exhibitor_id = exhibitors["by_ref"].get(v.get("exhibitor_ref")) or \
            exhibitors["by_company_ref"].get(v.get("company_ref"))
        if exhibitor_id is None and v.get("company"):
            found = exhibitors["by_key"].get(company_key(v["company"]), set())
            if len(found) > 1:
                row.status, row.reason = "ambiguous", _("The company name matches %(n)d exhibitors.", n=len(found))
                continue
            exhibitor_id = next(iter(found), None)
        if exhibitor_id is None:
            row.bad(_("No exhibitor of the edition matches (import the exhibitors first)."))
            continue
        v["exhibitor_id"] = exhibitor_id
    pending = [r for r in rows if r.status is None]
    find_registrations(context, pending)
    pending = [r for r in pending if r.status is None]
    if not pending:
        return
    refs = {r.values["external_ref"] for r in pending if r.values.get("external_ref")}
    pairs = {(r.values["exhibitor_id"], r.values["registration_id"]) for r in pending}
    existing_pair, existing_ref = {}, {}
    for lead in db.session.execute(select(Lead.id, Lead.exhibitor_id, Lead.registration_id, Lead.external_ref,
                                          Lead.rating, Lead.notes)
                                   .where(Lead.organizer_id == context.organizer_id,
                                          or_(Lead.external_ref.in_(refs),
                                              Lead.registration_id.in_({p[1] for p in pairs})))):
        lead = Snapshot.of(lead)
        existing_pair[(lead.exhibitor_id, lead.registration_id)] = lead
        if lead.external_ref:
            existing_ref[(lead.exhibitor_id, lead.external_ref)] = lead
    seen = exhibitors["seen"]
    claimed = exhibitors.setdefault("claimed", {})  # (exhibitor, reference) -> pair of the file's lead that took it
    new_rows = []
    for row in pending:
        v = row.values
        pair = (v["exhibitor_id"], v["registration_id"])
        ref = v.get("external_ref")
        lead = existing_ref.get((pair[0], ref)) if ref else None
        if lead is not None and lead.registration_id != pair[1]:
            row.status, row.reason = "ambiguous", _("The lead reference belongs to another visitor's lead.")
            continue
        if lead is None and ref and claimed.get((pair[0], ref), pair) != pair:
            row.bad(_("This reference is used twice in the file."))
            continue
        lead = lead or existing_pair.get(pair)
        if lead is not None or pair in seen:
            row.status, row.note = "matched", "lead"
            if lead is not None and write:
                changes = {}
                if v.get("rating") and not lead.rating:
                    changes["rating"] = v["rating"]
                if v.get("notes") and not lead.notes:
                    changes["notes"] = v["notes"]
                if ref and not lead.external_ref and (pair[0], ref) not in existing_ref \
                        and (pair[0], ref) not in claimed:
                    changes["external_ref"] = ref
                    existing_ref[(pair[0], ref)] = lead
                    claimed[(pair[0], ref)] = pair
                if changes:
                    db.session.execute(update(Lead).where(Lead.id == lead.id).values(**changes))
                    existing_pair[pair] = lead.replaced(**changes)
                    row.written = True
            continue
        seen.add(pair)
        if ref:
            claimed[(pair[0], ref)] = pair
        row.status = "new"
        new_rows.append(row)
    if not write or not new_rows:
        return
    values = []
    for row in new_rows:
        v = row.values
        at = in_edition_zone(context.edition, v.get("captured_at")) or utcnow()
        values.append({"organizer_id": context.organizer_id, "exhibitor_id": v["exhibitor_id"],
                       "registration_id": v["registration_id"], "captured_by_id": None, "rating": v.get("rating"),
                       "notes": v.get("notes") or "", "scan_count": 1, "first_scanned_at": at, "last_scanned_at": at,
                       "external_ref": v.get("external_ref")})
    db.session.execute(insert(Lead), values)
    for row in new_rows:
        row.written = True


def importers() -> list[Kind]:
    return [Kind("leads", _l("Leads (this or a past edition)"), lead_fields(), process_leads, needs_edition=True,
                 description=_l("Exhibitors' leads with their rating: the exhibitors and the registrations must "
                                "be imported first."),
                 one_of=(("exhibitor_ref", "company_ref", "company"), ("registration_ref", "visitor_email")))]
