"""Why a pair was matched: structured reasons from the engine's inputs (lan's explain.py turns them into words).

``explain_many(model, v_idx, e_idx)`` explains many pairs at once (every stored recommendation of an edition):
everything that can be is computed per signal for all pairs together (scores and parts, category relations from
one table, history counts as sparse products), and per visitor / per exhibitor once (their texts' vectors); the
per-pair Python work is building the small dicts.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .engine import RELATION_WEIGHT, SIGNALS, _model, _row_normalize, score_pairs

RELATIONS = (None, "same", "parent", "child", "sibling")
PEER_ACTIONS = ("hot", "met", "warm")  # the best one found is told: "exhibitors like this one rated … hot"
PROFILE_QUOTE_FACTOR = 0.8  # a profile's similarity counts this much when choosing which text to quote
MIN_TEXT_SIMILARITY = 0.2  # a need and a text sharing less are not quoted as matching (weak overlaps are noise)


def explain(inputs_or_model, v: int, e: int, weights=None, *, max_matches: int = 3) -> dict:
    """Why visitor index v and exhibitor index e were matched (see the module and the team board for shapes)."""
    return explain_many(inputs_or_model, [v], [e], weights, max_matches=max_matches)[0]


def relation_table(parent: np.ndarray) -> np.ndarray:
    """(n_c, n_c) codes into RELATIONS: the relation of the visitor's category (row) to the exhibitor's (column)."""
    parent = np.asarray(parent, dtype=np.int64)
    n = len(parent)
    table = np.zeros((n, n), dtype=np.int8)
    idx = np.arange(n)
    has = parent >= 0
    groups = np.where(has, parent, -1 - idx)
    table[groups[:, None] == groups[None, :]] = 4
    table[idx[has], parent[has]] = 3  # the visitor's is the child of the exhibitor's
    table[parent[has], idx[has]] = 2  # the visitor's is the parent
    table[idx, idx] = 1
    return table


def explain_many(inputs_or_model, v_idx, e_idx, weights=None, *, max_matches: int = 3) -> list[dict]:
    model = _model(inputs_or_model)
    inputs = model.inputs
    v_idx = np.asarray(v_idx, dtype=np.int64)
    e_idx = np.asarray(e_idx, dtype=np.int64)
    if not len(v_idx):
        return []
    scores, parts = score_pairs(model, v_idx, e_idx, weights)
    category = _category_matches(model, v_idx, e_idx, max_matches)
    text = _text_matches(model, v_idx, e_idx, max_matches, parts[:, SIGNALS.index("text")] > 0)
    history = _history_reasons(model, v_idx, e_idx)
    kinds, authority = inputs.visitor_kind, inputs.visitor_authority
    out = []
    for p, (v, e) in enumerate(zip(v_idx.tolist(), e_idx.tolist())):
        by_signal = {
            "category": [{"signal": "category", "matches": category[p]}] if category[p] else [],
            "text": [{"signal": "text", "matches": text[p]}] if text[p] else [],
            "profile": [{"signal": "profile", "visitor_kind": str(kinds[v]), "authority": str(authority[v] or "")}],
            "history": history[p],
        }
        share = dict(zip(SIGNALS, (float(x) for x in parts[p])))
        reasons = []
        for signal in sorted(SIGNALS, key=lambda s: -share[s]):
            if share[signal] > 0:
                reasons += by_signal[signal]
        out.append({"visitor_id": int(inputs.visitor_ids[v]), "exhibitor_id": int(inputs.exhibitor_ids[e]),
                    "score": float(scores[p]), "parts": share, "reasons": reasons})
    return out


def _category_matches(model, v_idx, e_idx, max_matches):
    inputs = model.inputs
    table = model.extra.get("relation_table")
    if table is None:
        table = model.extra["relation_table"] = relation_table(inputs.category_parent)
    vi = sp.csr_matrix(inputs.visitor_interests)
    ec = sp.csr_matrix(inputs.exhibitor_categories)
    names, ids = inputs.category_names, inputs.category_ids
    strength = np.array([0.0] + [RELATION_WEIGHT[r] for r in RELATIONS[1:]])
    out = []
    for v, e in zip(v_idx.tolist(), e_idx.tolist()):
        a = vi.indices[vi.indptr[v]:vi.indptr[v + 1]]
        b = ec.indices[ec.indptr[e]:ec.indptr[e + 1]]
        if not len(a) or not len(b):
            out.append([])
            continue
        sub = table[a[:, None], b[None, :]]
        ai, bi = np.nonzero(sub)
        order = np.argsort(-strength[sub[ai, bi]], kind="stable")[:max_matches]
        out.append([{"visitor_category_id": int(ids[a[i]]), "exhibitor_category_id": int(ids[b[j]]),
                     "visitor_category": names[a[i]], "exhibitor_category": names[b[j]],
                     "relation": RELATIONS[sub[i, j]]} for i, j in zip(ai[order], bi[order])])
    return out


def _text_matches(model, v_idx, e_idx, max_matches, wanted):
    """Per pair, the best (need, product/profile) matches: every visitor's needs and every exhibitor's texts are
    vectorised once, the similarities of all (need, text) combinations of all pairs come from one row-wise
    product."""
    out = [[] for _ in range(len(v_idx))]
    if model.vectorizer is None or not wanted.any():
        return out
    inputs = model.inputs
    pairs = np.nonzero(wanted)[0]
    pv, pe = v_idx[pairs], e_idx[pairs]
    phrase_ids, phrases, phrase_start, phrase_count = {}, [], {}, {}
    for v in np.unique(pv).tolist():
        needs = [n for n in inputs.visitor_needs[v] if n.strip()]
        phrase_start[v], phrase_count[v] = len(phrases), len(needs)
        phrases += needs
    docs, doc_start, doc_count = [], {}, {}
    for e in np.unique(pe).tolist():
        mine = [d for d in inputs.exhibitor_docs[e] if d.text.strip()]
        doc_start[e], doc_count[e] = len(docs), len(mine)
        docs += mine
    if not phrases or not docs:
        return out
    need_vectors = _row_normalize(model.vectorizer.transform([p.lower() for p in phrases])).tocsr()
    doc_vectors = _row_normalize(model.vectorizer.transform([d.text.lower() for d in docs])).tocsr()
    n_p = np.array([phrase_count[v] for v in pv.tolist()], dtype=np.int64)
    n_d = np.array([doc_count[e] for e in pe.tolist()], dtype=np.int64)
    m = n_p * n_d
    total = int(m.sum())
    if not total:
        return out
    pair_of = np.repeat(np.arange(len(pairs)), m)
    k = np.arange(total) - np.repeat(np.cumsum(m) - m, m)
    width = np.repeat(n_d, m)
    i = np.repeat(np.array([phrase_start[v] for v in pv.tolist()]), m) + k // width
    j = np.repeat(np.array([doc_start[e] for e in pe.tolist()]), m) + k % width
    sim = np.zeros(total, dtype=np.float32)
    step = 500_000
    for a in range(0, total, step):
        sim[a:a + step] = _rowwise(need_vectors[i[a:a + step]], doc_vectors[j[a:a + step]])
    keep = sim >= MIN_TEXT_SIMILARITY
    # a product is the more telling match to quote: the company profile only when clearly better
    is_profile = np.array([d.kind == "profile" for d in docs], dtype=bool)
    rank = sim[keep] * np.where(is_profile[j[keep]], PROFILE_QUOTE_FACTOR, 1.0)
    order = np.lexsort((-rank, pair_of[keep]))
    for q, ii, jj, s in zip(pair_of[keep][order].tolist(), i[keep][order].tolist(), j[keep][order].tolist(),
                            sim[keep][order].tolist()):
        found = out[pairs[q]]
        if len(found) >= max_matches or any(f["need"] == phrases[ii] for f in found):
            continue
        d = docs[jj]
        found.append({"need": phrases[ii], "doc_kind": d.kind, "doc_ref": d.ref, "doc_title": d.title,
                      "similarity": round(float(s), 3)})
    return out


def _history_tables(model):
    """Counts from past editions, by action and by the visitor's category (kind), over categories:
    peers[action][kind]: (n_c exhibitor category, n_c visitor interest) pairs of that action;
    company[action][kind]: (company, n_c visitor interest) — a company's past visitors; direct: (person, company)."""
    cached = model.extra.get("history_tables")
    if cached is not None:
        return cached
    h = model.inputs.history
    n_c = model.inputs.visitor_interests.shape[1]
    action = np.asarray(h.pair_action).astype(str)
    kind = np.asarray(h.visitor_kind).astype(str)[h.pair_visitor]
    hv = sp.csr_matrix(h.visitor_interests, dtype=np.float32)[h.pair_visitor]
    he = sp.csr_matrix(h.exhibitor_categories, dtype=np.float32)[h.pair_exhibitor]
    company = np.asarray(h.exhibitor_company)[h.pair_exhibitor]
    companies, company_row = np.unique(company, return_inverse=True)
    groups = {"hot": action == "hot", "met": action == "met", "warm": action == "warm",
              "visited": action != "met"}
    peers, own = {}, {}
    for name, sel in groups.items():
        for k in np.unique(kind[sel]):
            rows = np.nonzero(sel & (kind == k))[0]
            if name in PEER_ACTIONS:
                peers[(name, k)] = (he[rows].T @ hv[rows]).tocsr()  # (n_c, n_c)
            if name in ("hot", "met", "visited"):
                pick = sp.csr_matrix((np.ones(len(rows), np.float32), (company_row[rows], np.arange(len(rows)))),
                                     shape=(len(companies), len(rows)))
                own[(name, k)] = (pick @ hv[rows]).tocsr()  # (companies, n_c)
    direct = {}
    persons = np.asarray(h.visitor_person)[h.pair_visitor]
    for person, comp, act in zip(persons.tolist(), company.tolist(), action.tolist()):
        direct.setdefault((person, comp), set()).add(act)
    tables = {"peers": peers, "own": own, "companies": companies, "direct": direct, "n_c": n_c}
    model.extra["history_tables"] = tables
    return tables


def _rowwise(a: sp.csr_matrix, b: sp.csr_matrix) -> np.ndarray:
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


def _history_reasons(model, v_idx, e_idx):
    """Per pair: "exhibitors like this one rated buyers like you hot" (peers: past exhibitors sharing a category ×
    past visitors of the same category sharing an interest; counted over category pairs, so a pair matching on
    two categories counts twice), "visitors like you visited / met / rated this exhibitor" (its company's past
    visitors of the same category sharing an interest) and "you met this company before" (the same person)."""
    inputs, h = model.inputs, model.inputs.history
    out = [[] for _ in range(len(v_idx))]
    if h is None or len(h.pair_visitor) == 0:
        return out
    t = _history_tables(model)
    vi = sp.csr_matrix(inputs.visitor_interests, dtype=np.float32)
    ec = sp.csr_matrix(inputs.exhibitor_categories, dtype=np.float32)
    kinds = np.asarray(inputs.visitor_kind).astype(str)[v_idx]
    peers = {}
    for action in PEER_ACTIONS:  # counts per pair, for the pairs whose visitor kind has such history
        counts = np.zeros(len(v_idx))
        for k in np.unique(kinds):
            table = t["peers"].get((action, k))
            if table is None:
                continue
            rows = np.nonzero(kinds == k)[0]
            counts[rows] = _rowwise(ec[e_idx[rows]] @ table, vi[v_idx[rows]])
        peers[action] = counts
    companies = t["companies"]
    comp = np.asarray(inputs.exhibitor_company)[e_idx]
    pos = np.clip(np.searchsorted(companies, comp), 0, max(len(companies) - 1, 0))
    known = (companies[pos] == comp) if len(companies) else np.zeros(len(comp), bool)
    own = {}
    for action in ("visited", "met", "hot"):
        counts = np.zeros(len(v_idx))
        for k in np.unique(kinds):
            table = t["own"].get((action, k))
            if table is None:
                continue
            rows = np.nonzero((kinds == k) & known)[0]
            if len(rows):
                counts[rows] = _rowwise(table[pos[rows]], vi[v_idx[rows]])
        own[action] = counts
    persons = np.asarray(inputs.visitor_person)[v_idx].tolist()
    comps = comp.tolist()
    peers = {a: np.rint(c).astype(np.int64).tolist() for a, c in peers.items()}
    own = {a: np.rint(c).astype(np.int64).tolist() for a, c in own.items()}
    for p in range(len(v_idx)):
        for action in PEER_ACTIONS:
            if peers[action][p] > 0:
                out[p].append({"signal": "history", "kind": "peers", "action": action, "count": peers[action][p]})
                break
        counts = {a: own[a][p] for a in ("visited", "met", "hot") if own[a][p]}
        if counts:
            out[p].append({"signal": "history", "kind": "company", "actions": counts})
        acts = t["direct"].get((persons[p], comps[p]))
        if acts:
            told = {"met" if a == "met" else "visited" for a in acts} | (acts & {"hot", "warm", "cold"})
            out[p].append({"signal": "history", "kind": "repeat", "actions": sorted(told)})
    return out
