"""The predictions as rows for the CLI (``expo predictions EDITION``), the API and the page: every company's
rebooking and every person's return score with its reasons in words, keyed by the external references of
imported rows (the company's and its exhibitor row's; the person's and their registration's) and the ids.
Persons are given by id and reference only: no personal data leaves through the export.
"""
from __future__ import annotations

from contextlib import nullcontext

from flask_babel import force_locale
from sqlalchemy import select

from ..core.models import Edition
from ..core.scoping import Scope, scoped
from ..exhibitors.models import Company, Exhibitor
from ..extensions import db
from ..visitors.models import Person, Registration
from .models_predictions import PredictionRun, PredictionScore
from .predictions import latest_run, texts

COLUMNS = {
    "exhibitor": ("company_id", "company_ref", "company", "exhibitor_id", "exhibitor_ref"),
    "visitor": ("person_id", "person_ref", "registration_id", "registration_ref", "visitor_category"),
}


def _score_rows(scope: Scope, run: PredictionRun, *, offset: int, limit: int | None, subject_ids=None):
    stmt = (scoped(PredictionScore, scope).where(PredictionScore.run_id == run.id)
            .order_by(PredictionScore.probability.desc(), PredictionScore.subject_id))
    if subject_ids is not None:
        stmt = stmt.where(PredictionScore.subject_id.in_(subject_ids))
    if offset:
        stmt = stmt.offset(offset)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.scalars(stmt))


def subject_ids_for_ref(scope: Scope, edition: Edition, kind: str, ref: str) -> list[int]:
    """The company/person an external reference names: its own, or its exhibitor row's/registration's here."""
    if kind == "exhibitor":
        own = select(Company.id).where(Company.organizer_id == scope.organizer_id, Company.external_ref == ref)
        here = scoped(Exhibitor, scope, Exhibitor.company_id).where(Exhibitor.edition_id == edition.id,
                                                                    Exhibitor.external_ref == ref)
    else:
        own = select(Person.id).where(Person.organizer_id == scope.organizer_id, Person.external_ref == ref)
        here = scoped(Registration, scope, Registration.person_id).where(Registration.edition_id == edition.id,
                                                                        Registration.external_ref == ref)
    return sorted(set(db.session.scalars(own)) | set(db.session.scalars(here)))


def _identities(scope: Scope, edition: Edition, kind: str, subject_ids: list[int]) -> dict[int, dict]:
    if not subject_ids:
        return {}
    out: dict[int, dict] = {}
    if kind == "exhibitor":
        for cid, ref, name in db.session.execute(
                scoped(Company, scope, Company.id, Company.external_ref, Company.name).where(Company.id.in_(subject_ids))):
            out[cid] = {"company_id": cid, "company_ref": ref, "company": name, "exhibitor_id": None,
                        "exhibitor_ref": None}
        for eid, cid, ref in db.session.execute(
                scoped(Exhibitor, scope, Exhibitor.id, Exhibitor.company_id, Exhibitor.external_ref)
                .where(Exhibitor.edition_id == edition.id, Exhibitor.company_id.in_(subject_ids))):
            out.setdefault(cid, {"company_id": cid}).update(exhibitor_id=eid, exhibitor_ref=ref)
    else:
        for pid, ref in db.session.execute(
                scoped(Person, scope, Person.id, Person.external_ref).where(Person.id.in_(subject_ids))):
            out[pid] = {"person_id": pid, "person_ref": ref, "registration_id": None, "registration_ref": None,
                        "visitor_category": None}
        for rid, pid, ref, category in db.session.execute(
                scoped(Registration, scope, Registration.id, Registration.person_id, Registration.external_ref,
                       Registration.category)
                .where(Registration.edition_id == edition.id, Registration.person_id.in_(subject_ids))):
            out.setdefault(pid, {"person_id": pid}).update(registration_id=rid, registration_ref=ref,
                                                           visitor_category=category)
    return out


def export_rows(scope: Scope, edition: Edition, kind: str, *, locale: str | None = None, offset: int = 0,
                limit: int | None = None, subject_ids: list[int] | None = None,
                run: PredictionRun | None = None) -> list[dict]:
    """The latest finished run's scores for (edition, kind), highest first, as plain dicts."""
    run = run or latest_run(scope, edition, kind, done_only=True)
    if run is None:
        return []
    scores = _score_rows(scope, run, offset=offset, limit=limit, subject_ids=subject_ids)
    identities = _identities(scope, edition, kind, [s.subject_id for s in scores])
    key = "company_id" if kind == "exhibitor" else "person_id"
    blank = dict.fromkeys(COLUMNS[kind])
    with force_locale(locale) if locale else nullcontext():
        return [{**blank, key: s.subject_id, **identities.get(s.subject_id, {}),
                 "probability": round(s.probability, 4), "reasons": texts(s.reasons, kind),
                 "reason_details": details(s.reasons, kind), "features": s.features or {}} for s in scores]


def details(reasons: list[dict], kind: str) -> list[dict]:
    """Each reason with its direction: weight > 0 raises the chance, < 0 lowers it (log-odds)."""
    from .model import reason_text

    out = []
    for reason in reasons or []:
        text = reason_text(reason, kind)
        if text:
            out.append({"feature": reason.get("feature"), "weight": reason.get("weight"), "text": text})
    return out


def iter_export_rows(scope: Scope, edition: Edition, kind: str, *, locale: str | None = None, page: int = 2000):
    """Every row, a page at a time (the CLI on a large edition)."""
    run = latest_run(scope, edition, kind, done_only=True)
    if run is None:
        return
    offset = 0
    while True:
        rows = export_rows(scope, edition, kind, locale=locale, offset=offset, limit=page, run=run)
        yield from rows
        if len(rows) < page:
            return
        offset += page


def run_summary(run: PredictionRun | None) -> dict | None:
    if run is None:
        return None
    backtest = (run.metrics or {}).get("backtest") or {}
    return {"run_id": run.id, "kind": run.kind, "status": run.status, "message": run.message or None,
            "computed_at": run.finished_at.isoformat() if run.finished_at else None,
            "trained_on": run.trained_on, "scored": run.scored,
            "backtest": {k: backtest.get(k) for k in ("auc", "baseline_auc", "brier", "n", "came", "bins", "editions")}}
