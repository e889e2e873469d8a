"""The engine's inputs from the database: one edition's registrations and exhibitors, and the show's history.

Reads other modules' tables through their ``models`` (types and columns) and ``services`` only; writes nothing.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import scipy.sparse as sp
from sqlalchemy import select

from ..core.models import Category, Edition
from ..core.scoping import Scope
from ..exhibitors import services as exhibitor_services
from ..exhibitors.models import Company, Exhibitor, exhibitor_categories
from ..extensions import db
from ..leads.models import Lead
from ..visitors import services as visitor_services
from ..visitors.models import Registration, registration_interests
from .engine import Doc, History, Inputs

VISITOR_STATUSES = ("confirmed", "pending")  # cancelled and waitlisted visitors get no recommendations
NOT_VISITORS = ("exhibitor_staff",)  # they work at a stand: nothing to recommend to them
EXHIBITING = ("contracted", "paid", "exhibited")  # those with a stand; before any signs, everyone still in play
NOT_IN_PLAY = ("lost", "cancelled")
MET = ("accepted", "attended")
BATCH = 5_000  # meeting statuses that count as "met"
AUTHORITY_KEYS = ("purchase_authority", "authority", "purchasing_role")


def _is_authority(key: str) -> bool:
    return key in AUTHORITY_KEYS or "authority" in key


def _question_map(edition: Edition) -> dict:
    """key → (kind, {choice value: "en zh"}) of the edition's active questions."""
    asked, _rules, _cats = visitor_services.public_form_setup(edition)
    out = {}
    for q in asked:
        labels = {}
        for choice in q.choices or []:
            if isinstance(choice, dict):
                labels[str(choice.get("value", ""))] = " ".join(
                    p for p in (choice.get("en", ""), choice.get("zh", "")) if p)
        out[q.key] = (q.kind, labels)
    return out


def answers_to_features(answers: dict, questions: dict) -> tuple[list[str], str, list[str]]:
    """A registration's answers → (need phrases, purchase authority, "key=value" tags).

    Free text and multiple-choice answers say what the visitor looks for (needs); single choices and countries
    say who they are (tags: "buyers like you"); the purchase authority question is its own signal."""
    needs, authority, tags = [], "", []
    for key, raw in (answers or {}).items():
        value = raw.get("value") if isinstance(raw, dict) else raw
        if value in (None, "", []):
            continue
        kind, labels = questions.get(key, ("text" if isinstance(value, str) else "", {}))
        if _is_authority(key):
            authority = str(value)
            continue
        if kind == "multi" or (isinstance(value, list) and kind != "single"):
            values = value if isinstance(value, list) else [value]
            needs += [labels.get(str(v)) or str(v).replace("_", " ") for v in values]
        elif kind == "text":
            needs.append(str(value)[:500])
        elif kind in ("single", "country", "yes_no"):
            tags.append(f"{key}={value}")
    return needs, authority, tags


def _tree(show_id: int):
    cats = db.session.execute(select(Category.id, Category.parent_id, Category.name)
                              .where(Category.show_id == show_id).order_by(Category.id)).all()
    ids = np.array([c.id for c in cats], dtype=np.int64)
    index = {int(c): i for i, c in enumerate(ids)}
    parent = np.array([index.get(c.parent_id, -1) if c.parent_id else -1 for c in cats], dtype=np.int64)
    return ids, parent, [c.name for c in cats], index


def _pairs_matrix(pairs, n_rows, n_cols):
    pairs = list(pairs)
    rows = [p[0] for p in pairs]
    cols = [p[1] for p in pairs]
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_rows, n_cols))


def _visitors(edition: Edition, cat_index: dict, questions: dict, *, registration_ids=None, only_ids=None):
    q = (select(Registration.id, Registration.person_id, Registration.category, Registration.answers)
         .where(Registration.edition_id == edition.id, Registration.erased_at.is_(None)))
    if only_ids is not None:  # the past registrations that had a lead or a meeting
        q = q.where(Registration.id.in_(only_ids))
    else:
        q = q.where(Registration.status.in_(VISITOR_STATUSES), Registration.category.notin_(NOT_VISITORS))
        if registration_ids is not None:
            q = q.where(Registration.id.in_(list(registration_ids)))
    rows = db.session.execute(q.order_by(Registration.id)).all()
    ids = np.array([r.id for r in rows], dtype=np.int64)
    pos = {int(r): i for i, r in enumerate(ids)}
    interests = []
    if len(ids):  # the edition's interests in one query (no list of ids: an edition may have 250,000)
        for reg_id, cat_id in db.session.execute(
                select(registration_interests.c.registration_id, registration_interests.c.category_id)
                .join(Registration, Registration.id == registration_interests.c.registration_id)
                .where(Registration.edition_id == edition.id)):
            if reg_id in pos and cat_id in cat_index:
                interests.append((pos[reg_id], cat_index[cat_id]))
    needs, authority, tags = [], [], []
    for r in rows:
        n, a, t = answers_to_features(r.answers, questions)
        needs.append(n), authority.append(a), tags.append(t)
    return dict(ids=ids, person=np.array([r.person_id for r in rows], dtype=np.int64),
                kind=np.array([r.category for r in rows], dtype=object),
                authority=np.array(authority, dtype=object), needs=needs, tags=tags,
                interests=_pairs_matrix(interests, len(ids), len(cat_index)))


def _exhibitors(edition: Edition, cat_index: dict, *, exhibitor_ids=None, only_ids=None, with_text=True):
    q = (select(Exhibitor.id, Exhibitor.company_id, Exhibitor.status, Company.name, Company.description)
         .join(Company, Company.id == Exhibitor.company_id).where(Exhibitor.edition_id == edition.id))
    if only_ids is not None:
        q = q.where(Exhibitor.id.in_(only_ids))
    else:
        q = q.where(Exhibitor.status.notin_(NOT_IN_PLAY))
        if exhibitor_ids is not None:
            q = q.where(Exhibitor.id.in_(list(exhibitor_ids)))
    rows = db.session.execute(q.order_by(Exhibitor.id)).all()
    if only_ids is None and exhibitor_ids is None and any(r.status in EXHIBITING for r in rows):
        rows = [r for r in rows if r.status in EXHIBITING]
    ids = np.array([r.id for r in rows], dtype=np.int64)
    pos = {int(e): i for i, e in enumerate(ids)}
    cats = set()
    if len(ids):
        for ex_id, cat_id in db.session.execute(
                select(exhibitor_categories.c.exhibitor_id, exhibitor_categories.c.category_id)
                .join(Exhibitor, Exhibitor.id == exhibitor_categories.c.exhibitor_id)
                .where(Exhibitor.edition_id == edition.id)):
            if ex_id in pos and cat_id in cat_index:
                cats.add((pos[ex_id], cat_index[cat_id]))
    docs = [[] for _ in rows]
    if with_text and len(ids):
        products = {}
        for start in range(0, len(ids), BATCH):  # bound the IN lists (SQLite's limit on parameters)
            products.update(exhibitor_services.products_for_exhibitors(Scope(edition.organizer_id),
                                                                       ids[start:start + BATCH].tolist()))
        for ex_id, items in products.items():
            i = pos.get(ex_id)
            if i is None:
                continue
            for p in items:
                title = " ".join(x for x in (p.name_en, p.name_zh) if x)
                docs[i].append(Doc("product", p.id, title, p.text))
                cats.update((i, cat_index[c]) for c in p.category_ids if c in cat_index)
        for i, r in enumerate(rows):
            if (r.description or "").strip():
                docs[i].append(Doc("profile", None, r.name, r.description))
    return dict(ids=ids, company=np.array([r.company_id for r in rows], dtype=np.int64), docs=docs,
                categories=_pairs_matrix(sorted(cats), len(ids), len(cat_index)))


def _tag_matrix(tag_lists, tag_names: list, grow: bool):
    index = {t: i for i, t in enumerate(tag_names)}
    rows, cols = [], []
    for i, tags in enumerate(tag_lists):
        for t in tags:
            if t not in index:
                if not grow:
                    continue
                index[t] = len(tag_names)
                tag_names.append(t)
            rows.append(i), cols.append(index[t])
    return rows, cols


def _past_editions(edition: Edition, known_before: Edition) -> list[Edition]:
    return list(db.session.scalars(select(Edition).where(Edition.show_id == edition.show_id,
                                                         Edition.starts_on < known_before.starts_on,
                                                         Edition.id != edition.id).order_by(Edition.starts_on)))


def interactions(edition_ids: Iterable[int]) -> list[tuple[int, int, str]]:
    """(exhibitor id, registration id, action) of the leads and meetings of these editions."""
    from . import meetings

    ids = list(edition_ids)
    if not ids:
        return []
    out = [(ex_id, reg_id, rating or "scanned") for ex_id, reg_id, rating in db.session.execute(
        select(Lead.exhibitor_id, Lead.registration_id, Lead.rating)
        .join(Exhibitor, Exhibitor.id == Lead.exhibitor_id).where(Exhibitor.edition_id.in_(ids)))]
    out += [(ex_id, reg_id, "met") for ex_id, reg_id, status in meetings.met_pairs(ids) if status in MET]
    return out


def _history(editions: list[Edition], cat_index: dict, tag_names: list, organizer_id: int) -> History | None:
    edition_ids = [e.id for e in editions]
    pairs = interactions(edition_ids)
    if not pairs:
        return None
    # the rows that matter: registrations and exhibitors with a lead or a meeting (subqueries, never long
    # lists of ids)
    from .meeting_models import Meeting

    lead_rows = (select(Lead.registration_id, Lead.exhibitor_id).join(Exhibitor, Exhibitor.id == Lead.exhibitor_id)
                 .where(Exhibitor.edition_id.in_(edition_ids)))
    met_rows = select(Meeting.registration_id, Meeting.exhibitor_id).where(Meeting.edition_id.in_(edition_ids),
                                                                           Meeting.status.in_(MET))
    reg_ids = select(lead_rows.subquery().c.registration_id).union(select(met_rows.subquery().c.registration_id))
    ex_ids = select(lead_rows.subquery().c.exhibitor_id).union(select(met_rows.subquery().c.exhibitor_id))
    vis = {"ids": [], "person": [], "kind": [], "authority": [], "tags": [], "interests": []}
    exh = {"ids": [], "company": [], "categories": []}
    for edition in editions:
        questions = _question_map(edition)
        v = _visitors(edition, cat_index, questions, only_ids=reg_ids)
        e = _exhibitors(edition, cat_index, only_ids=ex_ids, with_text=False)
        for key in ("ids", "person", "kind", "authority", "interests"):
            vis[key].append(v[key])
        vis["tags"] += v["tags"]
        for key in exh:
            exh[key].append(e[key])
    v_ids = np.concatenate(vis["ids"])
    e_ids = np.concatenate(exh["ids"])
    v_pos = {int(r): i for i, r in enumerate(v_ids)}
    e_pos = {int(r): i for i, r in enumerate(e_ids)}
    kept = [(v_pos[r], e_pos[x], a) for x, r, a in pairs if r in v_pos and x in e_pos]
    rows, cols = _tag_matrix(vis["tags"], tag_names, grow=False)
    return History(
        visitor_interests=sp.vstack(vis["interests"], format="csr"),
        visitor_kind=np.concatenate(vis["kind"]), visitor_authority=np.concatenate(vis["authority"]),
        visitor_tags=sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                                   shape=(len(v_ids), len(tag_names))),
        visitor_person=np.concatenate(vis["person"]),
        exhibitor_categories=sp.vstack(exh["categories"], format="csr"),
        exhibitor_company=np.concatenate(exh["company"]),
        pair_visitor=np.array([k[0] for k in kept], dtype=np.int64),
        pair_exhibitor=np.array([k[1] for k in kept], dtype=np.int64),
        pair_action=np.array([k[2] for k in kept], dtype=object))


def load(edition_id: int, *, known_before: int | None = None, registration_ids=None, exhibitor_ids=None,
         exclude_pairs=()) -> Inputs:
    """The engine's inputs for an edition.

    ``known_before``: an edition id; history comes only from the show's editions that started before it (the
    backtest passes the edition itself; by default that is also what is used). ``registration_ids`` /
    ``exhibitor_ids`` restrict the rows (an explanation of one pair). ``exclude_pairs``: (registration id,
    exhibitor id) never to recommend."""
    edition = db.session.get(Edition, edition_id)
    if edition is None:
        raise LookupError(edition_id)
    before = db.session.get(Edition, known_before) if known_before else edition
    cat_ids, parent, names, cat_index = _tree(edition.show_id)
    questions = _question_map(edition)
    v = _visitors(edition, cat_index, questions, registration_ids=registration_ids)
    e = _exhibitors(edition, cat_index, exhibitor_ids=exhibitor_ids)
    tag_names: list[str] = []
    rows, cols = _tag_matrix(v["tags"], tag_names, grow=True)
    tags = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(v["ids"]), len(tag_names)))
    history = _history(_past_editions(edition, before), cat_index, tag_names, edition.organizer_id)
    v_pos = {int(r): i for i, r in enumerate(v["ids"])}
    e_pos = {int(x): i for i, x in enumerate(e["ids"])}
    excluded = [(v_pos[r], e_pos[x]) for r, x in exclude_pairs if r in v_pos and x in e_pos]
    return Inputs(
        visitor_ids=v["ids"], exhibitor_ids=e["ids"], category_ids=cat_ids, category_parent=parent,
        category_names=names, visitor_interests=v["interests"], exhibitor_categories=e["categories"],
        visitor_needs=v["needs"], exhibitor_docs=e["docs"], visitor_kind=v["kind"],
        visitor_authority=v["authority"], visitor_tags=tags, tag_names=tag_names, visitor_person=v["person"],
        exhibitor_company=e["company"], history=history,
        exclude=_pairs_matrix(excluded, len(v["ids"]), len(e["ids"])) if excluded else None)


def truth_pairs(edition_id: int, inputs: Inputs) -> list[tuple[int, int]]:
    """(visitor index, exhibitor index) of the pairs that had a lead or a meeting in the edition (backtest)."""
    v_pos = {int(r): i for i, r in enumerate(inputs.visitor_ids)}
    e_pos = {int(x): i for i, x in enumerate(inputs.exhibitor_ids)}
    return sorted({(v_pos[r], e_pos[x]) for x, r, _a in interactions([edition_id]) if r in v_pos and x in e_pos})
