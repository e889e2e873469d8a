"""The recommendation engine: visitors × exhibitors of one edition, top N both ways, with each signal's share.

Pure numpy / scipy / scikit-learn: no database, no Flask (``features.load`` builds the inputs from the database).

Every signal is a bilinear form ``visitor_vector · exhibitor_vector``, so the weighted sum of all signals is one
dense matrix product per chunk of visitors (BLAS, both cores), and never a Python loop over pairs:

- category: each of the visitor's interests counts by its best relation to the exhibitor's categories (its
  own and its products'; same category 1, parent or child 0.5, sibling 0.3), averaged over the interests;
- text: TF-IDF over character n-grams (``analyze``: 3–4-grams inside Latin words, 1–3-grams of Chinese runs,
  need phrasing and boilerplate dropped) of the visitor's needs against the exhibitor's products and company
  profile, cosine. Exact sparse products for an edition of ordinary size; above ``EXACT_TEXT_PAIRS`` pairs the
  TF-IDF vectors are reduced to ``TEXT_DIMS`` dimensions (truncated SVD) so that the product stays dense and fast;
- profile: the visitor's category (buyer, VIP, …) and purchase authority: the same for every exhibitor, so it
  orders the exhibitors' lists of visitors and leaves the visitors' lists alone;
- history (past editions of the show): "exhibitors like this one rated buyers like you hot" (exhibitor
  categories × visitor features, learnt from past leads and meetings), "visitors like you visited / met / rated
  this exhibitor" (the company's own past visitors) and "this visitor and this company met before".

Top-k without sorting 35,000 columns per row: a safe threshold per row (and per column) from block maxima (the
k-th largest of ≥ k block maxima is ≤ the true k-th largest), then only the few entries above it are sorted.
"""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
import re
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

SIGNALS = ("category", "text", "profile", "history")
DEFAULT_WEIGHTS = {"category": 0.4, "text": 0.3, "profile": 0.1, "history": 0.2}

# How related two categories of the tree are, seen from the visitor's interest.
RELATION_WEIGHT = {"same": 1.0, "parent": 0.5, "child": 0.5, "sibling": 0.3}
# Profile: how much an exhibitor gains from meeting a visitor of this category / purchase authority.
KIND_VALUE = {"buyer": 1.0, "vip": 1.0, "trade_visitor": 0.7, "speaker": 0.3, "media": 0.3, "public": 0.15,
              "exhibitor_staff": 0.0}
AUTHORITY_VALUE = {"decides": 1.0, "recommends": 0.7, "none": 0.3, "": 0.5}
# History: what a past interaction says about the pair's interest.
ACTION_WEIGHT = {"hot": 1.0, "met": 0.9, "warm": 0.6, "scanned": 0.35, "cold": 0.1}
REPEAT_WEIGHT = 0.5  # the same visitor and company interacted before: added to the history part

EXACT_TEXT_PAIRS = 400_000_000  # above this many pairs the text vectors are reduced (truncated SVD)
TEXT_DIMS = 48
HISTORY_DIMS = 16
MIN_SCORE = 1e-4  # a pair below this is no recommendation at all
_JITTER = 1e-4  # breaks ties (ranking only; scores are the sum of the parts), so thresholds meet no wall of equals


@dataclass
class Doc:
    """One piece of an exhibitor's text: a product or the company profile."""

    kind: str  # "product" | "profile"
    ref: int | None  # product id; None for the profile
    title: str  # quoted in reasons
    text: str  # name and description, zh and en


@dataclass
class History:
    """Past editions of the same show: their registrations and exhibitors (rows) and what happened between them."""

    visitor_interests: sp.csr_matrix
    visitor_kind: np.ndarray
    visitor_authority: np.ndarray
    visitor_tags: sp.csr_matrix
    visitor_person: np.ndarray
    exhibitor_categories: sp.csr_matrix
    exhibitor_company: np.ndarray
    pair_visitor: np.ndarray
    pair_exhibitor: np.ndarray
    pair_action: np.ndarray  # "hot" | "warm" | "cold" | "scanned" | "met"


@dataclass
class Inputs:
    visitor_ids: np.ndarray
    exhibitor_ids: np.ndarray
    category_ids: np.ndarray
    category_parent: np.ndarray  # index of the parent in category_ids, -1 at the top
    category_names: list
    visitor_interests: sp.csr_matrix  # (n_v, n_c)
    exhibitor_categories: sp.csr_matrix  # (n_e, n_c)
    visitor_needs: list  # list[list[str]]
    exhibitor_docs: list  # list[list[Doc]]
    visitor_kind: np.ndarray
    visitor_authority: np.ndarray
    visitor_tags: sp.csr_matrix  # (n_v, n_t)
    tag_names: list
    visitor_person: np.ndarray
    exhibitor_company: np.ndarray
    history: History | None = None
    exclude: sp.csr_matrix | None = None  # (n_v, n_e), nonzero = never recommend the pair

    @property
    def n_visitors(self) -> int:
        return len(self.visitor_ids)

    @property
    def n_exhibitors(self) -> int:
        return len(self.exhibitor_ids)


@dataclass
class Result:
    visitor_top: np.ndarray  # (n_v, k) exhibitor indexes, best first, -1 = none
    visitor_scores: np.ndarray
    visitor_parts: np.ndarray  # (n_v, k, len(SIGNALS)), weighted; sums to the score
    exhibitor_top: np.ndarray  # (n_e, k) visitor indexes
    exhibitor_scores: np.ndarray
    exhibitor_parts: np.ndarray
    signals: tuple = SIGNALS


@dataclass
class Model:
    """What ``prepare`` computes once per inputs; weights are applied per call."""

    inputs: Inputs
    blocks_v: dict  # signal -> dense (n_v, d) float32, unweighted and scaled
    blocks_e: dict  # signal -> dense (n_e, d)
    profile: np.ndarray  # (n_v,)
    text_v: sp.csr_matrix | None = None  # exact text vectors (None when reduced into blocks)
    text_e: sp.csr_matrix | None = None
    text_scale: float = 1.0
    repeat: sp.csr_matrix | None = None  # (n_v, n_e) direct past interactions, already scaled
    relation: np.ndarray | None = None  # (n_c, n_c)
    vectorizer: object = None
    extra: dict = field(default_factory=dict)


# --- weights ---------------------------------------------------------------------------------------------

def normalize_weights(weights: dict | None) -> dict:
    """Weights per signal, ≥ 0, summing to 1 (missing signals take the default; all zero → the defaults)."""
    merged = dict(DEFAULT_WEIGHTS)
    for key, value in (weights or {}).items():
        if key in merged:
            merged[key] = max(0.0, float(value))
    total = sum(merged.values())
    if total <= 0:
        merged, total = dict(DEFAULT_WEIGHTS), sum(DEFAULT_WEIGHTS.values())
    return {key: value / total for key, value in merged.items()}


# --- features --------------------------------------------------------------------------------------------

def category_relation(parent: np.ndarray) -> np.ndarray:
    """(n_c, n_c): how much a visitor's interest in row category counts for an exhibitor in column category."""
    parent = np.asarray(parent, dtype=np.int64)
    n = len(parent)
    rel = np.zeros((n, n), dtype=np.float32)
    has_parent = parent >= 0
    idx = np.arange(n)
    # siblings: same parent
    groups = np.where(has_parent, parent, -1 - idx)  # top-level categories are siblings of nobody
    same_parent = groups[:, None] == groups[None, :]
    rel[same_parent] = RELATION_WEIGHT["sibling"]
    # interest in a parent: its children count half ("parent" relation: the visitor's is the parent)
    rel[parent[has_parent], idx[has_parent]] = RELATION_WEIGHT["parent"]
    # interest in a child: the exhibitor offering the parent (broader) counts half
    rel[idx[has_parent], parent[has_parent]] = RELATION_WEIGHT["child"]
    rel[idx, idx] = RELATION_WEIGHT["same"]
    return rel


def category_blocks(interests, offered, relation: np.ndarray):
    """(visitor block, exhibitor block) whose product is the category score: each of the visitor's interests
    counts by its best relation to the exhibitor's categories (max over them: one exact match is worth 1
    however many other things the exhibitor offers), averaged over the visitor's interests.

    The max is made bilinear by levels: cover[e, c] = max over e's categories d of relation[c, d] is the sum,
    over the distinct relation values r (ascending), of (r − previous r) · [some d has relation[c, d] ≥ r] —
    one sparse × dense product per level, no loop over pairs."""
    vi = sp.csr_matrix(interests, dtype=np.float32, copy=True)
    vi.eliminate_zeros()
    vi.data[:] = 1.0
    ec = sp.csr_matrix(offered, dtype=np.float32)
    counts = np.diff(vi.indptr).astype(np.float32)  # the visitor's number of interests
    counts[counts == 0] = 1.0
    visitor = np.asarray((sp.diags(1.0 / counts).astype(np.float32) @ vi).toarray(), dtype=np.float32)
    cover = np.zeros((ec.shape[0], relation.shape[0]), dtype=np.float32)
    previous = 0.0
    for level in np.unique(relation[relation > 0]):
        reach = (relation >= level).astype(np.float32)  # (n_c visitor's, n_c exhibitor's)
        cover += np.float32(level - previous) * (np.asarray(ec @ reach.T) > 0)
        previous = float(level)
    return visitor, cover


def _row_normalize(m):
    if sp.issparse(m):
        m = sp.csr_matrix(m, dtype=np.float32)
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sp.diags(1.0 / norms).astype(np.float32) @ m
    m = np.asarray(m, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return m / norms


def _one_hot(values: np.ndarray, vocabulary: list) -> sp.csr_matrix:
    index = {v: i for i, v in enumerate(vocabulary)}
    cols = np.array([index.get(v, -1) for v in values], dtype=np.int64)
    rows = np.nonzero(cols >= 0)[0]
    return sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols[rows])),
                         shape=(len(values), len(vocabulary)))


def visitor_features(interests, kind, authority, tags) -> sp.csr_matrix:
    """"Buyers like you": interests, category, purchase authority and other answers, each group normalised."""
    kinds = sorted(KIND_VALUE)
    authorities = sorted(AUTHORITY_VALUE)
    groups = [_row_normalize(sp.csr_matrix(interests, dtype=np.float32)),
              _one_hot(np.asarray(kind), kinds), _one_hot(np.asarray(authority), authorities)]
    if tags is not None and tags.shape[1]:
        groups.append(_row_normalize(sp.csr_matrix(tags, dtype=np.float32)) * np.float32(0.7))
    return _row_normalize(sp.hstack(groups, format="csr"))


def _docs_text(docs) -> list[str]:
    return [" \n ".join(d.text for d in ds).lower() for ds in docs]


# Words that say nothing about what is wanted or offered: the phrasing of a need ("looking for …", "寻找…",
# "…供应商") and of a catalogue ("wholesale", "有限公司"). Removed before the n-grams are made.
STOP_WORDS_EN = frozenset("""a an and or the of for in on to with by from at as is are be we our us you your i my me
this that these those it its per any all some new more most best good high top very
looking look need needs needed want wants wanted require required requirement seeking seek search searching
sourcing source buy buying purchase purchasing procure procurement supplier suppliers supply vendor vendors
manufacturer manufacturers factory bulk quantity quantities order orders stores store shop shops project projects
interested interest product products company co ltd limited inc corp""".split())
STOP_TERMS_ZH = ("有限公司", "供应商", "批量采购", "采购", "寻找", "需要", "求购", "批量", "我们", "公司", "产品",
                 "的", "和", "及", "与")
_STOP_ZH = re.compile("|".join(sorted(STOP_TERMS_ZH, key=len, reverse=True)))
_TOKENS = re.compile(r"[a-z0-9]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def analyze(text: str) -> list[str]:
    """The text's terms for TF-IDF: character 3–4-grams inside Latin words (plurals and compounds still meet:
    "chairs" ~ "chair", but two words sharing only an ending such as "s " do not), and character 1–3-grams of
    Chinese runs (no segmenter needed; "椅" alone says "chair"). Words of a need's phrasing or a catalogue's
    boilerplate (STOP_WORDS_EN, STOP_TERMS_ZH) are dropped first. Prefixes keep the two scripts apart."""
    out = []
    for token in _TOKENS.findall(_STOP_ZH.sub(" ", text.lower())):
        if token[0] < "\u3400":  # Latin letters and digits
            if token in STOP_WORDS_EN or (len(token) == 1 and not token.isdigit()):
                continue
            word = f" {token} "
            if len(word) <= 4:
                out.append(word)  # a short word (led, tv, mdf) is one term
                continue
            out += [word[i:i + 3] for i in range(len(word) - 2)]
            out += [word[i:i + 4] for i in range(len(word) - 3)]
        else:
            n = len(token)
            out += ["#" + token[i:i + 1] for i in range(n)]
            out += ["#" + token[i:i + 2] for i in range(n - 1)]
            out += ["#" + token[i:i + 3] for i in range(n - 2)]
    return out


def make_vectorizer(n_docs: int = 0):
    from sklearn.feature_extraction.text import TfidfVectorizer

    # max_df: an n-gram in most of the catalogues tells no exhibitor apart (only meaningful with enough of them)
    return TfidfVectorizer(analyzer=analyze, sublinear_tf=True, min_df=1,
                           max_df=0.5 if n_docs >= 40 else 1.0, dtype=np.float32)


def _text_vectors(inputs: Inputs, rng):
    """TF-IDF vectors of the exhibitors' texts and of the visitors' needs, each row of unit length.

    The vocabulary and IDF come from the exhibitors' side (an n-gram rare among exhibitors tells them apart;
    one no exhibitor uses can match nothing). Needs are vectorised once per distinct phrase (answer options
    and common phrases repeat across thousands of visitors) and a visitor is the sum of their phrases."""
    docs = _docs_text(inputs.exhibitor_docs)
    vectorizer = make_vectorizer(len(docs))
    try:
        te = vectorizer.fit_transform(docs)
    except ValueError:  # no exhibitor text at all
        return None, None, None
    phrases, rows, cols = {}, [], []
    for i, needs in enumerate(inputs.visitor_needs):
        for phrase in needs:
            phrase = phrase.strip().lower()
            if phrase:
                rows.append(i)
                cols.append(phrases.setdefault(phrase, len(phrases)))
    owner = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                          shape=(inputs.n_visitors, len(phrases)))
    owner.data[:] = 1
    phrase_vectors = vectorizer.transform(list(phrases)) if phrases else \
        sp.csr_matrix((0, te.shape[1]), dtype=np.float32)
    tv = _row_normalize(owner @ _row_normalize(phrase_vectors))
    return vectorizer, tv, _row_normalize(te)


def _history_vectors(inputs: Inputs):
    """Per current exhibitor, a vector over visitor features: what it and exhibitors like it engaged with."""
    h = inputs.history
    if h is None or len(h.pair_visitor) == 0:
        return None, None
    weights = np.array([ACTION_WEIGHT.get(a, 0.0) for a in h.pair_action], dtype=np.float32)
    fv_hist = visitor_features(h.visitor_interests, h.visitor_kind, h.visitor_authority, h.visitor_tags)
    pair_fv = fv_hist[h.pair_visitor]  # (m, n_f)
    # What stands out among the visitors a group of exhibitors engaged with, against all past visitors they
    # engaged with (a lift): exhibitors meet many visitors anyway, only the excess says "visitors like you".
    mean_visitor = np.asarray(pair_fv.mean(axis=0)).ravel()

    def lifted(group_by_pair: sp.csr_matrix) -> np.ndarray:  # (groups, m) → (groups, n_f)
        observed = (group_by_pair @ sp.diags(weights) @ pair_fv).toarray()
        expected = np.outer(group_by_pair @ weights, mean_visitor)
        return _row_normalize(np.maximum(observed - expected, 0))

    # peers: exhibitor categories × visitor features ("exhibitors like this one rated buyers like you hot")
    fe_hist = _row_normalize(sp.csr_matrix(h.exhibitor_categories, dtype=np.float32))[h.pair_exhibitor]
    fe_cur = _row_normalize(sp.csr_matrix(inputs.exhibitor_categories, dtype=np.float32))
    peers = np.asarray(fe_cur @ lifted(sp.csr_matrix(fe_hist.T)), dtype=np.float32)  # (n_e, n_f)
    # company: the company's own past visitors ("visitors like you visited / met / rated this exhibitor")
    pair_company = h.exhibitor_company[h.pair_exhibitor]
    companies, company_index = np.unique(pair_company, return_inverse=True)
    per_company = lifted(sp.csr_matrix((np.ones(len(weights), np.float32), (company_index, np.arange(len(weights)))),
                                       shape=(len(companies), len(weights))))
    own = np.zeros_like(peers)
    pos = np.searchsorted(companies, inputs.exhibitor_company)
    known = pos < len(companies)
    known[known] = companies[pos[known]] == inputs.exhibitor_company[known]
    own[known] = per_company[pos[known]]
    he = 0.5 * peers + 0.5 * own
    # repeat: the same person and company, directly
    v_person = h.visitor_person[h.pair_visitor]
    e_company = h.exhibitor_company[h.pair_exhibitor]
    return he.astype(np.float32), (v_person, e_company, weights)


def _repeat_matrix(inputs: Inputs, direct) -> sp.csr_matrix | None:
    if direct is None:
        return None
    v_person, e_company, weights = direct
    # map persons and companies to current rows
    p_order = np.argsort(inputs.visitor_person, kind="stable")
    c_order = np.argsort(inputs.exhibitor_company, kind="stable")
    ps, cs = inputs.visitor_person[p_order], inputs.exhibitor_company[c_order]
    pi = np.searchsorted(ps, v_person)
    ci = np.searchsorted(cs, e_company)
    ok = (pi < len(ps)) & (ci < len(cs))
    ok[ok] &= (ps[pi[ok]] == v_person[ok]) & (cs[ci[ok]] == e_company[ok])
    if not ok.any():
        return None
    # a company is one exhibitor per edition and a person one registration (first match is enough)
    rows, cols, vals = p_order[pi[ok]], c_order[ci[ok]], weights[ok]
    m = sp.csr_matrix((vals, (rows, cols)), shape=(inputs.n_visitors, inputs.n_exhibitors), dtype=np.float32)
    m.data = np.minimum(m.data, 1.0)  # several interactions: no more than one strong one
    return m


def prepare(inputs: Inputs, *, exact_text: bool | None = None, seed: int = 0) -> Model:
    """Vectors of every signal for every visitor and exhibitor (weights are applied later, per call)."""
    rng = np.random.default_rng(seed)
    n_v, n_e = inputs.n_visitors, inputs.n_exhibitors
    relation = category_relation(inputs.category_parent)
    vi = sp.csr_matrix(inputs.visitor_interests, dtype=np.float32)
    blocks_v, blocks_e = {}, {}
    blocks_v["category"], blocks_e["category"] = category_blocks(vi, inputs.exhibitor_categories, relation)

    model = Model(inputs=inputs, blocks_v=blocks_v, blocks_e=blocks_e, profile=profile_values(inputs),
                  relation=relation)
    vectorizer, tv, te = _text_vectors(inputs, rng)
    model.vectorizer = vectorizer
    if tv is not None:
        if exact_text is None:
            exact_text = n_v * n_e <= EXACT_TEXT_PAIRS
        if exact_text:
            model.text_v, model.text_e = tv.tocsr(), te.tocsr()
            sample = rng.choice(n_v, min(n_v, 1000), replace=False)
            best = (tv[sample] @ te.T).max(axis=1).toarray().ravel()
        else:
            from sklearn.decomposition import TruncatedSVD

            svd = TruncatedSVD(n_components=min(TEXT_DIMS, tv.shape[1] - 1), algorithm="randomized", n_iter=3,
                               random_state=seed)
            fit_rows = sp.vstack([te[rng.choice(n_e, min(n_e, 20_000), replace=False)],
                                  tv[rng.choice(n_v, min(n_v, 20_000), replace=False)]])
            svd.fit(fit_rows)
            blocks_v["text"] = _row_normalize(_chunked_transform(svd, tv))
            blocks_e["text"] = _row_normalize(_chunked_transform(svd, te))
            sample = rng.choice(n_v, min(n_v, 1000), replace=False)
            best = (blocks_v["text"][sample] @ blocks_e["text"].T).max(axis=1)
        best = best[best > 0]
        # a strong text match should weigh about as much as a same-category match: scale by the usual best
        model.text_scale = float(np.clip(1.0 / np.median(best), 1.0, 5.0)) if len(best) else 1.0
        if "text" in blocks_v:
            blocks_v["text"] *= np.float32(model.text_scale)

    fv = visitor_features(inputs.visitor_interests, inputs.visitor_kind, inputs.visitor_authority,
                          inputs.visitor_tags)
    he, direct = _history_vectors(inputs)
    if he is not None:
        if he.shape[1] > HISTORY_DIMS * 2 and n_v * n_e > EXACT_TEXT_PAIRS:
            # reduce: the right singular vectors of the exhibitors' history vectors
            _, vecs = np.linalg.eigh((he.T @ he).astype(np.float64))  # the right singular vectors of he
            q = vecs[:, ::-1][:, :HISTORY_DIMS].astype(np.float32)
            hv, he_r = np.asarray(fv @ q, dtype=np.float32), he @ q
        else:
            hv, he_r = fv.toarray().astype(np.float32), he
        sample = rng.choice(n_v, min(n_v, 1000), replace=False)
        best = (hv[sample] @ he_r.T).max(axis=1)
        best = best[best > 0]
        scale = float(np.clip(1.0 / np.median(best), 1.0, 10.0)) if len(best) else 1.0
        blocks_v["history"], blocks_e["history"] = hv * np.float32(scale), he_r.astype(np.float32)
        model.extra["history_scale"] = scale
        model.repeat = _repeat_matrix(inputs, direct)
        if model.repeat is not None:
            model.repeat = model.repeat * np.float32(REPEAT_WEIGHT)
    return model


def _chunked_transform(svd, m, rows=50_000):
    return np.vstack([svd.transform(m[i:i + rows]).astype(np.float32) for i in range(0, m.shape[0], rows)])


def profile_values(inputs: Inputs) -> np.ndarray:
    kind = np.array([KIND_VALUE.get(k, 0.3) for k in inputs.visitor_kind], dtype=np.float32)
    authority = np.array([AUTHORITY_VALUE.get(a or "", 0.5) for a in inputs.visitor_authority], dtype=np.float32)
    return kind * authority


def _model(inputs_or_model) -> Model:
    return inputs_or_model if isinstance(inputs_or_model, Model) else prepare(inputs_or_model)


# --- scoring ---------------------------------------------------------------------------------------------

def _weighted_matrices(model: Model, w: dict):
    """(V, E) dense float32 with V @ E.T = weighted score of every signal but exact text and repeat."""
    n_v, n_e = model.inputs.n_visitors, model.inputs.n_exhibitors
    vs, es = [], []
    for signal in ("category", "text", "history"):
        if signal in model.blocks_v and w[signal] > 0:
            vs.append(model.blocks_v[signal] * np.float32(w[signal]))
            es.append(model.blocks_e[signal])
    # profile as a column, and tie-breakers on both sides (deterministic, tiny)
    jv = (np.arange(n_v) * 0.6180339887 % 1).astype(np.float32) * np.float32(_JITTER)
    je = (np.arange(n_e) * 0.7548776662 % 1).astype(np.float32) * np.float32(_JITTER)
    vs += [(model.profile * np.float32(w["profile"]) + jv)[:, None], np.ones((n_v, 1), np.float32)]
    es += [np.ones((n_e, 1), np.float32), je[:, None]]
    return np.ascontiguousarray(np.hstack(vs), dtype=np.float32), np.ascontiguousarray(np.hstack(es),
                                                                                      dtype=np.float32)


def score_pairs(inputs_or_model, v_idx, e_idx, weights=None):
    """Scores and weighted parts (m, len(SIGNALS)) of the given pairs (indexes), exclusions not applied."""
    model = _model(inputs_or_model)
    w = normalize_weights(weights)
    v_idx, e_idx = np.asarray(v_idx, dtype=np.int64), np.asarray(e_idx, dtype=np.int64)
    parts = np.zeros((len(v_idx), len(SIGNALS)), dtype=np.float32)
    step = 1_000_000
    for start in range(0, len(v_idx), step):
        v, e = v_idx[start:start + step], e_idx[start:start + step]
        out = parts[start:start + step]
        for j, signal in enumerate(SIGNALS):
            if signal == "profile":
                out[:, j] = model.profile[v] * w["profile"]
                continue
            if signal in model.blocks_v:
                out[:, j] = np.einsum("ij,ij->i", model.blocks_v[signal][v], model.blocks_e[signal][e]) * w[signal]
        if model.text_v is not None:
            out[:, 1] = np.asarray(model.text_v[v].multiply(model.text_e[e]).sum(axis=1)).ravel() \
                * model.text_scale * w["text"]
        if model.repeat is not None:
            out[:, 3] += np.asarray(model.repeat[v, e]).ravel() * w["history"]
    return parts.sum(axis=1), parts


def _row_threshold(block: np.ndarray, k: int) -> np.ndarray:
    """Per row, a value ≤ the row's k-th largest: the k-th largest of ≥ 2k block maxima."""
    n = block.shape[1]
    nb = 4 * k
    width = n // nb
    head = block[:, :nb * width].reshape(block.shape[0], nb, width).max(axis=2)
    if n > nb * width:
        head = np.hstack([head, block[:, nb * width:].max(axis=1, keepdims=True)])
    return np.partition(head, head.shape[1] - k, axis=1)[:, head.shape[1] - k]


def _col_threshold(block: np.ndarray, k: int) -> np.ndarray:
    n = block.shape[0]
    nb = 4 * k
    height = n // nb
    head = block[:nb * height].reshape(nb, height, block.shape[1]).max(axis=1)
    if n > nb * height:
        head = np.vstack([head, block[nb * height:].max(axis=0, keepdims=True)])
    return np.partition(head, head.shape[0] - k, axis=0)[head.shape[0] - k]


def _top_of_candidates(rows, cols, vals, n_rows, k):
    """Best k (col, val) per row from candidate triplets; -1 / -inf padding."""
    order = np.lexsort((-vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, np.arange(n_rows))
    rank = np.arange(len(rows)) - starts[rows]
    keep = rank < k
    top = np.full((n_rows, k), -1, dtype=np.int32)
    score = np.full((n_rows, k), -np.inf, dtype=np.float32)
    top[rows[keep], rank[keep]] = cols[keep]
    score[rows[keep], rank[keep]] = vals[keep]
    return top, score


def _block(model, V, E, rows, cols, w):
    """Scores of visitors ``rows`` × exhibitors ``cols`` (index arrays or None = all), exclusions at -inf."""
    vb = V[rows] if rows is not None else V
    eb = E[cols] if cols is not None else E
    block = vb @ eb.T
    if model.text_v is not None and w["text"] > 0:
        tv = model.text_v[rows] if rows is not None else model.text_v
        te = model.text_e[cols] if cols is not None else model.text_e
        block += (tv @ te.T).toarray() * np.float32(model.text_scale * w["text"])
    for extra, factor, fill in ((model.repeat, w["history"], None), (model.inputs.exclude, None, -np.inf)):
        if extra is None or (factor is not None and factor <= 0):
            continue
        sub = extra[rows] if rows is not None else extra
        if cols is not None:
            sub = sub[:, cols]
        sub = sub.tocoo()
        if sub.nnz:
            if fill is None:
                np.add.at(block, (sub.row, sub.col), sub.data * np.float32(factor))
            else:
                block[sub.row, sub.col] = fill
    return block


def _topk(model, V, E, w, k, rows, cols, want_rows, want_cols, chunk, workers):
    """Top k per visitor row (over ``cols``) and per exhibitor column (over ``rows``)."""
    n_rows = len(rows) if rows is not None else model.inputs.n_visitors
    n_cols = len(cols) if cols is not None else model.inputs.n_exhibitors
    kr, kc = min(k, n_cols), min(k, n_rows)
    row_top = np.full((n_rows, k), -1, np.int32)
    row_val = np.full((n_rows, k), -np.inf, np.float32)
    col_top = np.full((kc, n_cols), -1, np.int64)
    col_val = np.full((kc, n_cols), -np.inf, np.float32)
    col_thr = np.full(n_cols, -np.inf, np.float32)
    lock = threading.Lock()

    def work(start):
        stop = min(start + chunk, n_rows)
        local_rows = np.arange(start, stop)
        idx = rows[local_rows] if rows is not None else local_rows
        block = _block(model, V, E, idx if (rows is not None or stop - start < n_rows) else None, cols, w)
        # one pass over the block for both directions: entries above either threshold are candidates
        t_row = np.full(stop - start, np.inf, np.float32)
        thr = np.full(n_cols, np.inf, np.float32)
        if want_rows and kr:
            t_row = _row_threshold(block, kr) if n_cols >= 8 * kr else np.full(stop - start, -np.inf, np.float32)
        if want_cols and kc:
            thr = col_thr.copy()  # a snapshot: safe (the running k-th best only ever rises)
            if block.shape[0] >= 8 * kc and not np.isfinite(thr).all():  # until every column has k
                thr = np.maximum(thr, _col_threshold(block, kc))
        mask = block >= t_row[:, None]
        mask |= block >= thr[None, :]
        r, c = np.nonzero(mask)
        del mask
        vals = block[r, c]
        if want_rows and kr:
            sel = vals >= t_row[r]
            top, val = _top_of_candidates(r[sel], c[sel], vals[sel], stop - start, kr)
            row_top[start:stop, :kr], row_val[start:stop, :kr] = top, val
        if want_cols and kc:
            sel = vals >= thr[c]
            with lock:
                _merge_cols(col_top, col_val, col_thr, r[sel] + start, c[sel], vals[sel], kc)

    starts = list(range(0, n_rows, chunk))
    if workers > 1 and len(starts) > 1:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
            list(pool.map(work, starts))
    else:
        for start in starts:
            work(start)
    return row_top, row_val, col_top.T.astype(np.int32), col_val.T


def _merge_cols(col_top, col_val, col_thr, r, c, vals, k):
    if len(c) == 0:
        return
    touched = np.unique(c)
    old_r = col_top[:, touched].T.ravel()
    old_v = col_val[:, touched].T.ravel()
    old_c = np.repeat(np.arange(len(touched)), k)
    new_c = np.searchsorted(touched, c)
    keep = old_r >= 0
    all_c = np.concatenate([old_c[keep], new_c])
    all_r = np.concatenate([old_r[keep], r])
    all_v = np.concatenate([old_v[keep], vals])
    top, score = _top_of_candidates(all_c, all_r, all_v, len(touched), k)
    col_top[:, touched], col_val[:, touched] = top.T, score.T
    full = top[:, k - 1] >= 0
    col_thr[touched[full]] = score[full, k - 1]


def recommend(inputs_or_model, weights=None, *, k: int = 20, visitor_rows=None, exhibitor_rows=None,
              chunk: int | None = None, workers: int = 2) -> Result:
    """Top k exhibitors per visitor and top k visitors per exhibitor with each signal's weighted share.

    ``visitor_rows`` / ``exhibitor_rows``: only these lists are computed (the others stay -1): the incremental
    run after a registration or a product changed."""
    model = _model(inputs_or_model)
    w = normalize_weights(weights)
    n_v, n_e = model.inputs.n_visitors, model.inputs.n_exhibitors
    V, E = _weighted_matrices(model, w)
    if chunk is None:
        chunk = int(np.clip(60_000_000 // max(n_e, 1), 256, 8192))  # ~240 MB of float32 per block
    v_top = np.full((n_v, k), -1, np.int32)
    v_val = np.full((n_v, k), -np.inf, np.float32)
    e_top = np.full((n_e, k), -1, np.int32)
    e_val = np.full((n_e, k), -np.inf, np.float32)
    if n_v and n_e:
        if visitor_rows is None and exhibitor_rows is None:
            v_top, v_val, e_top, e_val = _topk(model, V, E, w, k, None, None, True, True, chunk, workers)
        else:
            if visitor_rows is not None:
                rows = np.asarray(visitor_rows, dtype=np.int64)
                t, s, _, _ = _topk(model, V, E, w, k, rows, None, True, False, chunk, workers)
                v_top[rows], v_val[rows] = t, s
            if exhibitor_rows is not None:
                cols = np.asarray(exhibitor_rows, dtype=np.int64)
                _, _, t, s = _topk(model, V, E, w, k, None, cols, False, True, chunk, workers)
                t = np.where(t >= 0, t, -1)
                e_top[cols], e_val[cols] = t, s
    v_top, v_val = _finish(v_top, v_val, k)
    e_top, e_val = _finish(e_top, e_val, k)
    v_parts = _parts(model, w, np.repeat(np.arange(n_v), k), v_top.ravel()).reshape(n_v, k, len(SIGNALS))
    e_parts = _parts(model, w, e_top.ravel(), np.repeat(np.arange(n_e), k)).reshape(n_e, k, len(SIGNALS))
    return Result(*_by_score(v_top, v_parts), *_by_score(e_top, e_parts))


def _by_score(top, parts):
    """The scores are the sums of the parts (the tie-breakers only chose among equals): sorted by them."""
    # a pair with nothing of its own in common (only the visitor's profile) is no recommendation
    evidence = parts.sum(axis=2) - parts[:, :, SIGNALS.index("profile")]
    top = np.where(evidence > MIN_SCORE, top, -1)
    score = np.where(top >= 0, parts.sum(axis=2), -np.inf)
    order = np.argsort(-score, axis=1, kind="stable")
    top = np.take_along_axis(top, order, axis=1)
    parts = np.take_along_axis(parts, order[:, :, None], axis=1)
    score = np.take_along_axis(score, order, axis=1)
    score[top < 0] = 0.0
    parts = np.where(top[:, :, None] >= 0, parts, 0).astype(np.float32)
    return top, score.astype(np.float32), parts


def _finish(top, val, k):
    if top.shape[1] < k:
        top = np.hstack([top, np.full((top.shape[0], k - top.shape[1]), -1, np.int32)])
        val = np.hstack([val, np.full((val.shape[0], k - val.shape[1]), -np.inf, np.float32)])
    bad = ~(val > MIN_SCORE) | (top < 0)
    top, val = top.copy(), val.copy()
    top[bad], val[bad] = -1, 0.0
    return top.astype(np.int32), val.astype(np.float32)


def _parts(model, w, v, e):
    out = np.zeros((len(v), len(SIGNALS)), dtype=np.float32)
    ok = (v >= 0) & (e >= 0)
    if ok.any():
        _, out[ok] = score_pairs(model, v[ok], e[ok], w)
    return out


# Explanations (engine_reasons.py): one pair, or many at once (the stored lists).
from .engine_reasons import explain, explain_many  # noqa: E402,F401
