"""Honest quality: recommend from what was known before an edition, score against what happened in it.

``backtest(inputs, truth_pairs)`` is pure (inputs from ``features.load(edition, known_before=edition)``, truth:
the (visitor index, exhibitor index) pairs that had a lead or a meeting in that edition); ``run(edition_id)`` is
the database wrapper. Both report recall@k and precision@k of the engine, of each signal alone, and of the
category-overlap baseline (visitors' declared interests ∩ exhibitors' categories, same category only — what an
organizer would do without this engine).

``generate(...)`` makes a synthetic show with a hidden truth (for tests and the benchmark): visitors have latent
interests they only partly declare, needs written in Chinese or English, exhibitors of some groups prefer some
kinds of visitors, returning visitors go back to companies they liked.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from . import engine
from .engine import SIGNALS, Doc, History, Inputs


def baseline_scores_topk(inputs: Inputs, k: int) -> np.ndarray:
    """Top k exhibitors per visitor by the number of shared declared categories (same category only)."""
    overlap = (sp.csr_matrix(inputs.visitor_interests, dtype=np.float32)
               @ sp.csr_matrix(inputs.exhibitor_categories, dtype=np.float32).T).toarray()
    # ties broken by a fixed order (exhibitor index), never by the truth
    overlap -= np.arange(inputs.n_exhibitors, dtype=np.float32)[None, :] * 1e-7
    if inputs.exclude is not None:
        ex = inputs.exclude.tocoo()
        overlap[ex.row, ex.col] = -np.inf
    top = np.argsort(-overlap, axis=1, kind="stable")[:, :k]
    vals = np.take_along_axis(overlap, top, axis=1)
    return np.where(vals > 0, top, -1)


def _metrics(top: np.ndarray, truth: sp.csr_matrix, rows: np.ndarray, k: int) -> dict:
    top = top[rows, :k]
    if top.shape[1] < k:  # fewer exhibitors than k: the missing ranks are empty
        top = np.hstack([top, np.full((top.shape[0], k - top.shape[1]), -1, dtype=top.dtype)])
    hits = np.zeros(top.shape, dtype=bool)
    valid = top >= 0
    r = np.repeat(rows, k).reshape(top.shape)
    if valid.any():
        hits[valid] = np.asarray(truth[r[valid], top[valid]]).ravel() > 0
    relevant = np.asarray(truth[rows].sum(axis=1)).ravel()
    recall = (hits.sum(axis=1) / np.minimum(relevant, k)).mean() if len(rows) else 0.0
    precision = hits.sum(axis=1).mean() / k if len(rows) else 0.0
    return {"recall": round(float(recall), 4), "precision": round(float(precision), 4)}


def backtest(inputs: Inputs, truth_pairs, weights=None, *, k: int = 10, per_signal: bool = True,
             model=None) -> dict:
    """recall@k / precision@k of the engine and of the baseline over the visitors with at least one true pair.

    recall@k is over min(relevant, k) so that a perfect list scores 1 even for a visitor with more than k."""
    truth_pairs = np.asarray(list(truth_pairs), dtype=np.int64).reshape(-1, 2)
    truth = sp.csr_matrix((np.ones(len(truth_pairs), np.float32), (truth_pairs[:, 0], truth_pairs[:, 1])),
                          shape=(inputs.n_visitors, inputs.n_exhibitors))
    truth.data[:] = 1
    rows = np.nonzero(np.diff(truth.indptr) > 0)[0]
    out = {"k": k, "visitors": int(len(rows)), "pairs": int(truth.nnz)}
    if not len(rows):
        empty = {"recall": 0.0, "precision": 0.0}
        return {**out, "model": empty, "baseline": empty, "per_signal": {}}
    model = model or engine.prepare(inputs)
    result = engine.recommend(model, weights, k=k, visitor_rows=rows, workers=1)
    out["model"] = _metrics(result.visitor_top, truth, rows, k)
    out["baseline"] = _metrics(baseline_scores_topk(inputs, k), truth, rows, k)
    if per_signal:
        out["per_signal"] = {}
        for signal in SIGNALS:
            alone = {s: (1.0 if s == signal else 0.0) for s in SIGNALS}
            res = engine.recommend(model, alone, k=k, visitor_rows=rows, workers=1)
            out["per_signal"][signal] = _metrics(res.visitor_top, truth, rows, k)
    out["weights"] = engine.normalize_weights(weights)
    return out


def run(edition_id: int, weights=None, *, k: int = 10, settings=None) -> dict:
    """The backtest of an edition from the database: history before it, truth = its leads and meetings.

    The engine and the baseline are graded under the exclusions the live settings apply, as they stood before
    the edition (lan's ``services.excluded_pairs(edition, settings, known_before=True)``: blocked and dismissed
    pairs, competitors, and pairs that met at an earlier edition when that rule is on — this edition's own leads
    and meetings are what is being predicted, not something known before). ``settings``: the matchmaking
    settings whose rules apply (the caller's current edition's); default: the replayed edition's. Excluded true
    pairs stay in the truth: they count as misses, as they would live."""
    from ..core.models import Edition
    from ..extensions import db
    from . import features, services

    edition = db.session.get(Edition, edition_id)
    if settings is None:
        settings = services.settings_for(edition)
    inputs = features.load(edition_id, known_before=edition_id)
    excluded = exclusions_known_before(edition, inputs, settings)
    truth = features.truth_pairs(edition_id, inputs)
    if excluded:
        inputs.exclude = sp.csr_matrix((np.ones(len(excluded), np.float32), tuple(zip(*sorted(excluded)))),
                                       shape=(inputs.n_visitors, inputs.n_exhibitors))
    report = backtest(inputs, truth, weights, k=k)
    report["excluded"] = {"pairs": len(excluded), "true_pairs": len(excluded & set(map(tuple, truth))),
                          "met_before": bool(getattr(settings, "exclude_met_before", False)),
                          "competitors": bool(settings.exclude_competitors)}
    return report


def exclusions_known_before(edition, inputs: Inputs, settings) -> set[tuple[int, int]]:
    """(visitor index, exhibitor index) the live settings exclude, as known before ``edition`` started."""
    from . import services

    v_pos = {int(r): i for i, r in enumerate(inputs.visitor_ids)}
    e_pos = {int(x): i for i, x in enumerate(inputs.exhibitor_ids)}
    return {(v_pos[r], e_pos[x]) for x, r in services.excluded_pairs(edition, settings, known_before=True)
            if r in v_pos and x in e_pos}


# --- a synthetic show ----------------------------------------------------------------------------------------

BASES = [  # (parent en, parent zh, [(leaf en, leaf zh, [terms en], [terms zh])])
    ("Office furniture", "办公家具", [
        ("Office chairs", "办公椅", ["ergonomic chair", "mesh office chair", "swivel chair"], ["人体工学椅", "网布办公椅", "转椅"]),
        ("Desks", "办公桌", ["standing desk", "executive desk", "workstation"], ["升降桌", "班台", "办公工位"]),
        ("Storage", "文件柜", ["filing cabinet", "steel locker", "bookcase"], ["文件柜", "钢制储物柜", "书柜"]),
    ]),
    ("Living room", "客厅家具", [
        ("Sofas", "沙发", ["leather sofa", "fabric sofa", "recliner"], ["真皮沙发", "布艺沙发", "功能沙发"]),
        ("Tables", "茶几", ["coffee table", "side table", "marble table"], ["茶几", "边几", "大理石桌"]),
        ("TV cabinets", "电视柜", ["tv stand", "media console", "wall unit"], ["电视柜", "影视柜", "组合柜"]),
    ]),
    ("Outdoor", "户外家具", [
        ("Garden sets", "花园桌椅", ["rattan garden set", "teak bench", "patio dining set"], ["藤编花园桌椅", "柚木长椅", "庭院餐桌"]),
        ("Umbrellas", "遮阳伞", ["sun umbrella", "cantilever parasol", "gazebo"], ["遮阳伞", "罗马伞", "凉亭"]),
    ]),
    ("Hotel", "酒店家具", [
        ("Guest rooms", "客房家具", ["hotel bed frame", "wardrobe", "headboard"], ["酒店床架", "衣柜", "床头板"]),
        ("Lobby", "大堂家具", ["lobby lounge chair", "reception counter", "banquet chair"], ["大堂休闲椅", "前台", "宴会椅"]),
    ]),
    ("Lighting", "照明", [
        ("LED", "LED照明", ["led panel light", "led strip", "downlight"], ["LED面板灯", "LED灯带", "筒灯"]),
        ("Smart lighting", "智能照明", ["smart bulb", "lighting control system", "dimmer"], ["智能灯泡", "照明控制系统", "调光器"]),
        ("Decorative", "装饰灯", ["crystal chandelier", "floor lamp", "pendant lamp"], ["水晶吊灯", "落地灯", "吊灯"]),
    ]),
    ("Home textiles", "家纺", [
        ("Bedding", "床上用品", ["duvet cover", "silk pillow", "mattress topper"], ["被套", "真丝枕头", "床垫褥"]),
        ("Curtains", "窗帘", ["blackout curtain", "roller blind", "sheer curtain"], ["遮光窗帘", "卷帘", "纱帘"]),
    ]),
    ("Materials", "材料与机械", [
        ("Wood panels", "板材", ["plywood", "mdf board", "veneer"], ["胶合板", "中纤板", "木皮"]),
        ("Hardware", "五金配件", ["drawer slide", "cabinet hinge", "gas spring"], ["抽屉滑轨", "铰链", "气撑"]),
        ("CNC machinery", "数控设备", ["cnc router", "edge banding machine", "panel saw"], ["数控开料机", "封边机", "电子锯"]),
    ]),
]
FILLER_EN = ["oem", "odm", "export quality", "factory direct", "customised", "wholesale", "eco friendly", "warranty"]
FILLER_ZH = ["源头工厂", "出口品质", "支持定制", "批发", "环保", "质保", "品牌代工"]
NEED_EN = ["looking for {}", "need {} supplier", "sourcing {}", "{} for our stores", "buy {} in bulk"]
NEED_ZH = ["寻找{}", "采购{}", "需要{}供应商", "求购{}", "{}批量采购"]
COMPANY_TYPES = ["distributor", "retailer", "design", "developer", "manufacturer"]
KINDS = ["buyer", "trade_visitor", "public", "vip", "media"]
KIND_P = [0.45, 0.3, 0.15, 0.05, 0.05]
AUTHORITIES = ["decides", "recommends", "none"]


def _tree(modifiers: int):
    """The category tree; ``modifiers`` > 1 multiplies the leaves (styles) for big synthetic shows."""
    styles_en = ["", "modern", "classic", "premium", "compact", "luxury", "budget", "nordic", "industrial",
                 "vintage", "kids", "commercial"][:max(1, modifiers)]
    styles_zh = ["", "现代", "古典", "高端", "紧凑型", "奢华", "经济型", "北欧", "工业风", "复古", "儿童", "商用"]
    names, parent, terms = [], [], []
    for p_en, p_zh, leaves in BASES:
        p_index = len(names)
        names.append(f"{p_en} {p_zh}")
        parent.append(-1)
        terms.append(None)
        for l_en, l_zh, t_en, t_zh in leaves:
            for s, (s_en, s_zh) in enumerate(zip(styles_en, styles_zh)):
                names.append(f"{(s_en + ' ' + l_en).strip().capitalize()} {s_zh}{l_zh}")
                parent.append(p_index)
                terms.append(([f"{s_en} {t}".strip() for t in t_en], [f"{s_zh}{t}" for t in t_zh]))
    return names, np.array(parent), terms


def generate(n_visitors: int = 2000, n_exhibitors: int = 200, *, past_editions: int = 2, seed: int = 1,
             modifiers: int = 1, text: bool = True, returning: float = 0.4):
    """A synthetic show: (inputs of the current edition with history, truth pairs of the current edition)."""
    rng = np.random.default_rng(seed)
    names, parent, terms = _tree(modifiers)
    n_c = len(names)
    leaves = np.nonzero(parent >= 0)[0]
    group_of = parent  # a leaf's group is its parent
    n_groups = int((parent < 0).sum())
    top_index = np.nonzero(parent < 0)[0]
    group_pref = rng.integers(0, len(COMPANY_TYPES), size=n_c)  # per parent: the company type it likes most

    # companies (persistent) and persons (persistent)
    n_comp = int(n_exhibitors * 1.4)
    comp_group = rng.integers(0, n_groups, n_comp)
    comp_leaves = []
    for g in comp_group:  # 1–3 leaves, mostly in one group
        own = leaves[group_of[leaves] == top_index[g]]
        chosen = set(rng.choice(own, size=min(len(own), rng.integers(1, 4)), replace=False).tolist())
        if rng.random() < 0.2:
            chosen.add(int(rng.choice(leaves)))
        comp_leaves.append(sorted(chosen))
    comp_pop = rng.lognormal(0, 0.6, n_comp)
    n_pers = int(n_visitors * 2.2)
    pers_true = [rng.choice(leaves, size=rng.integers(1, 4), replace=False) for _ in range(n_pers)]
    # most visitors' needs sit in one group: move extra leaves next to the first
    for i, tl in enumerate(pers_true):
        grp = leaves[group_of[leaves] == group_of[tl[0]]]
        pers_true[i] = np.unique(np.concatenate([[tl[0]], rng.choice(grp, size=len(tl) - 1)]))
    pers_type = rng.integers(0, len(COMPANY_TYPES), n_pers)
    pers_zh = rng.random(n_pers) < 0.6

    def edition(persons, companies, past_likes):
        nv, ne = len(persons), len(companies)
        kinds = rng.choice(KINDS, size=nv, p=KIND_P)
        auth = np.where(np.isin(kinds, ["buyer", "vip"]), rng.choice(AUTHORITIES, nv, p=[0.7, 0.2, 0.1]),
                        rng.choice(AUTHORITIES, nv, p=[0.1, 0.4, 0.5]))
        # declared interests: a true leaf with p .55, its parent with p .15, a random leaf with p .25
        rows, cols = [], []
        needs = []
        for i, p in enumerate(persons):
            declared = set()
            for leaf in pers_true[p]:
                u = rng.random()
                if u < 0.55:
                    declared.add(int(leaf))
                elif u < 0.7:
                    declared.add(int(parent[leaf]))
            if rng.random() < 0.25:
                declared.add(int(rng.choice(leaves)))
            rows += [i] * len(declared)
            cols += sorted(declared)
            phrases = []
            if text:
                for leaf in pers_true[p]:
                    if rng.random() < 0.6:
                        en, zh = terms[leaf]
                        j = rng.integers(len(en))
                        phrases.append(rng.choice(NEED_ZH).format(zh[j]) if pers_zh[p] else
                                       rng.choice(NEED_EN).format(en[j]))
            needs.append(phrases)
        vi = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(nv, n_c))
        rows, cols, docs = [], [], []
        for j, c in enumerate(companies):
            rows += [j] * len(comp_leaves[c])
            cols += comp_leaves[c]
            ds = []
            if text:
                for q in range(rng.integers(1, 4)):
                    leaf = int(rng.choice(comp_leaves[c]))
                    en, zh = terms[leaf]
                    t = rng.integers(len(en))
                    title = f"{en[t].title()} {zh[t]}"
                    body = f"{en[t]} {rng.choice(FILLER_EN)} {rng.choice(FILLER_EN)}\n{zh[t]}{rng.choice(FILLER_ZH)}"
                    ds.append(Doc("product", int(c * 10 + q), title, f"{title}\n{body}"))
                ds.append(Doc("profile", None, f"Company {c}", f"{rng.choice(FILLER_EN)} {rng.choice(FILLER_ZH)}"))
            docs.append(ds)
        ec = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(ne, n_c))
        tag_names = [f"company_type={t}" for t in COMPANY_TYPES]
        tags = sp.csr_matrix((np.ones(nv, np.float32), (np.arange(nv), pers_type[persons])),
                             shape=(nv, len(tag_names)))
        # what happens: each coming visitor visits a few stands, by latent utility
        true_m = np.zeros((nv, n_c), np.float32)
        for i, p in enumerate(persons):
            true_m[i, pers_true[p]] = 1.0
        comp_m = np.zeros((ne, n_c), np.float32)
        for j, c in enumerate(companies):
            comp_m[j, comp_leaves[c]] = 1.0
        sib = (parent[:, None] == parent[None, :]) & (parent[:, None] >= 0)
        util = 3.0 * (true_m @ comp_m.T) + 0.6 * (true_m @ sib.astype(np.float32) @ comp_m.T)
        pref_match = (pers_type[persons][:, None] == group_pref[top_index[comp_group[companies]]][None, :])
        util += 1.5 * pref_match * (util > 0)
        util += np.log(comp_pop[companies])[None, :]
        for (pi, ci) in past_likes:  # returning visitors go back to companies they liked
            util[pi, ci] += 2.5
        prob = np.exp(util - util.max(axis=1, keepdims=True))
        prob /= prob.sum(axis=1, keepdims=True)
        came = rng.random(nv) < 0.75
        pv, pe, act = [], [], []
        for i in np.nonzero(came)[0]:
            m = min(ne, int(rng.integers(1, 7)))
            chosen = rng.choice(ne, size=m, replace=False, p=prob[i])
            for j in chosen:
                good = util[i, j] - np.log(comp_pop[companies[j]])
                score = good + (1.0 if kinds[i] in ("buyer", "vip") else 0) + (0.7 if auth[i] == "decides" else 0)
                a = "hot" if score > 4.5 else "warm" if score > 3 else "cold" if score > 1.5 else "scanned"
                if rng.random() < 0.1:
                    a = "met"
                pv.append(i), pe.append(j), act.append(a)
        return dict(vi=vi, ec=ec, needs=needs, docs=docs, kinds=kinds, auth=auth, tags=tags, tag_names=tag_names,
                    pv=np.array(pv, int), pe=np.array(pe, int), act=np.array(act, dtype=object))

    # past editions, then the current one
    pers_pool = rng.permutation(n_pers)
    hist_parts = []
    likes: dict = {}
    offset_v = offset_e = 0
    for ed in range(past_editions + 1):
        current = ed == past_editions
        n_new = n_visitors if current else int(n_visitors * 0.9)
        back = [p for p in pers_pool[:n_new * 2] if p in likes][:int(n_new * returning)]
        persons = np.array(back + [p for p in rng.permutation(n_pers) if p not in set(back)][:n_new - len(back)])
        companies = rng.choice(n_comp, size=n_exhibitors, replace=False)
        c_pos = {c: j for j, c in enumerate(companies)}
        past_likes = [(i, c_pos[c]) for i, p in enumerate(persons) for c in likes.get(p, ()) if c in c_pos]
        d = edition(persons, companies, past_likes)
        if current:
            break
        for i, j, a in zip(d["pv"], d["pe"], d["act"]):
            if a in ("hot", "warm", "met"):
                likes.setdefault(persons[i], set()).add(companies[j])
        d["persons"], d["companies"] = persons, companies
        d["pv"] = d["pv"] + offset_v
        d["pe"] = d["pe"] + offset_e
        offset_v += len(persons)
        offset_e += len(companies)
        hist_parts.append(d)
    history = None
    if hist_parts:
        history = History(
            visitor_interests=sp.vstack([h["vi"] for h in hist_parts], format="csr"),
            visitor_kind=np.concatenate([h["kinds"] for h in hist_parts]),
            visitor_authority=np.concatenate([h["auth"] for h in hist_parts]),
            visitor_tags=sp.vstack([h["tags"] for h in hist_parts], format="csr"),
            visitor_person=np.concatenate([h["persons"] for h in hist_parts]),
            exhibitor_categories=sp.vstack([h["ec"] for h in hist_parts], format="csr"),
            exhibitor_company=np.concatenate([h["companies"] for h in hist_parts]),
            pair_visitor=np.concatenate([h["pv"] for h in hist_parts]),
            pair_exhibitor=np.concatenate([h["pe"] for h in hist_parts]),
            pair_action=np.concatenate([h["act"] for h in hist_parts]))
    inputs = Inputs(
        visitor_ids=np.arange(1, len(persons) + 1), exhibitor_ids=np.arange(1, len(companies) + 1),
        category_ids=np.arange(1, n_c + 1), category_parent=parent, category_names=names,
        visitor_interests=d["vi"], exhibitor_categories=d["ec"], visitor_needs=d["needs"],
        exhibitor_docs=d["docs"], visitor_kind=d["kinds"], visitor_authority=d["auth"], visitor_tags=d["tags"],
        tag_names=d["tag_names"], visitor_person=persons, exhibitor_company=companies, history=history)
    truth = list(zip(d["pv"].tolist(), d["pe"].tolist()))
    return inputs, truth
