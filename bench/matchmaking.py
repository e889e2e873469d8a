"""Benchmark: recommendations both ways for 250,000 visitors × 35,000 exhibitors (issue 10: ≤ 120 s on 2 cores).

    .venv/bin/python bench/matchmaking.py [--visitors 250000] [--exhibitors 35000] [--k 20] [--workers 2]
                                          [--past 200000] [--pairs 800000] [--seed 7]

Synthetic inputs with realistic distributions, built without the database (the engine is pure): the show's
category tree (7 groups, 95 leaf categories: product × style), visitors with 1–3 declared interests (a few of
them a whole group), 60% with needs written in Chinese or English, exhibitors with 1–3 categories, 1–3
bilingual products and a company profile, two past editions (``--past`` registrations, ``--pairs`` leads and
meetings with ratings; 40% of the visitors and 70% of the companies return).
Measures the engine's preparation (TF-IDF fit, truncated SVD of the text vectors, history factors) and the
top-k both ways (chunked products on ``--workers`` threads), wall time and CPU time, and the process's peak
resident memory (ru_maxrss: generation included; the resident size after generation is printed beside it).
Prints a Markdown table for docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import scipy.sparse as sp  # noqa: E402

from expo.matchmaking import engine  # noqa: E402
from expo.matchmaking.backtest import COMPANY_TYPES, FILLER_EN, FILLER_ZH, NEED_EN, NEED_ZH, _tree  # noqa: E402
from expo.matchmaking.engine import Doc, History, Inputs  # noqa: E402


CITIES = ["深圳", "广州", "Dubai", "Hamburg", "上海", "Milan", "Lagos", "成都", "Sydney", "Jakarta", "宁波"]


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _interests(rng, n, leaves, parent, n_c, group_p=0.1):
    counts = rng.integers(1, 4, n)
    rows = np.repeat(np.arange(n), counts)
    first = rng.choice(leaves, n)
    cols = rng.choice(leaves, len(rows))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    cols[starts] = first
    # a visitor's interests mostly sit in one group: replace some extras by a sibling of the first
    same_group = rng.random(len(rows)) < 0.6
    siblings = {p: leaves[parent[leaves] == p] for p in np.unique(parent[leaves])}
    grp = parent[first][rows]
    for p, members in siblings.items():
        sel = same_group & (grp == p)
        cols[sel] = rng.choice(members, sel.sum())
    whole = rng.random(len(rows)) < group_p  # "the whole of Lighting"
    cols[whole] = parent[cols[whole]]
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n, n_c))
    m.data[:] = 1
    return m


def generate(n_v: int, n_e: int, n_past: int, n_pairs: int, seed: int) -> Inputs:
    rng = np.random.default_rng(seed)
    names, parent, terms = _tree(5)
    n_c = len(names)
    leaves = np.nonzero(parent >= 0)[0]
    vi = _interests(rng, n_v, leaves, parent, n_c)
    ec = _interests(rng, n_e, leaves, parent, n_c, group_p=0.02)
    zh = rng.random(n_v) < 0.6
    has_need = rng.random(n_v) < 0.6
    needs = []
    pick = rng.integers(0, 3, n_v)
    need_en, need_zh = rng.integers(0, len(NEED_EN), n_v), rng.integers(0, len(NEED_ZH), n_v)
    qty = np.where(rng.random(n_v) < 0.33, rng.integers(10, 5000, n_v), 0)
    for i in range(n_v):
        if not has_need[i]:
            needs.append([])
            continue
        leaf = vi.indices[vi.indptr[i]]
        if parent[leaf] < 0:
            leaf = leaves[parent[leaves] == leaf][0]
        en, cn = terms[leaf]
        phrase = NEED_ZH[need_zh[i]].format(cn[pick[i]]) if zh[i] else NEED_EN[need_en[i]].format(en[pick[i]])
        if qty[i]:  # free text is not all alike: a third add a quantity or a place
            phrase += f" {qty[i]} {'件' if zh[i] else 'pcs'} {CITIES[i % len(CITIES)]}"
        needs.append([phrase])
    docs = []
    n_products = rng.integers(1, 4, n_e)
    for j in range(n_e):
        cats = ec.indices[ec.indptr[j]:ec.indptr[j + 1]]
        ds = []
        for q in range(n_products[j]):
            leaf = int(cats[q % len(cats)])
            if parent[leaf] < 0:
                leaf = int(leaves[parent[leaves] == leaf][0])
            en, cn = terms[leaf]
            t = (j + q) % len(en)
            title = f"{en[t].title()} {cn[t]}"
            ds.append(Doc("product", j * 4 + q, title, f"{title}\n{en[t]} {FILLER_EN[(j + q) % len(FILLER_EN)]}\n"
                                                      f"{cn[t]}{FILLER_ZH[(j * 3 + q) % len(FILLER_ZH)]}"))
        ds.append(Doc("profile", None, f"Company {j}", f"{FILLER_EN[j % len(FILLER_EN)]} {FILLER_ZH[j % len(FILLER_ZH)]}"))
        docs.append(ds)
    kinds = rng.choice(["buyer", "trade_visitor", "public", "vip", "media"], n_v, p=[0.45, 0.3, 0.15, 0.05, 0.05])
    authority = rng.choice(["decides", "recommends", "none", ""], n_v, p=[0.35, 0.3, 0.25, 0.1])
    tag_names = [f"company_type={t}" for t in COMPANY_TYPES]
    tags = sp.csr_matrix((np.ones(n_v, np.float32), (np.arange(n_v), rng.integers(0, len(COMPANY_TYPES), n_v))),
                         shape=(n_v, len(tag_names)))
    persons = np.arange(1, n_v + 1)
    companies = np.arange(1, n_e + 1)
    # history: past registrations (40% of today's persons among them) and exhibitors (70% of companies)
    n_pe = int(n_e * 0.9)
    h_vi = _interests(rng, n_past, leaves, parent, n_c)
    h_ec = _interests(rng, n_pe, leaves, parent, n_c, group_p=0.02)
    h_person = np.where(rng.random(n_past) < 0.5, rng.choice(persons, n_past), 10**7 + np.arange(n_past))
    h_company = np.where(rng.random(n_pe) < 0.78, rng.choice(companies, n_pe), 10**7 + np.arange(n_pe))
    # pairs: a visitor and an exhibitor offering one of the visitor's leaves (category index → exhibitors)
    by_cat = h_ec.T.tocsr()
    pv = rng.integers(0, n_past, n_pairs)
    first = h_vi.indices[h_vi.indptr[pv]]
    lo, hi = by_cat.indptr[first], by_cat.indptr[first + 1]
    has = hi > lo
    pe = np.where(has, by_cat.indices[np.minimum(lo + (rng.random(n_pairs) * (hi - lo)).astype(np.int64),
                                                len(by_cat.indices) - 1)], rng.integers(0, n_pe, n_pairs))
    action = rng.choice(["hot", "warm", "cold", "scanned", "met"], n_pairs, p=[0.2, 0.3, 0.2, 0.2, 0.1])
    history = History(
        visitor_interests=h_vi, visitor_kind=rng.choice(["buyer", "trade_visitor", "public"], n_past),
        visitor_authority=rng.choice(["decides", "recommends", "none"], n_past),
        visitor_tags=sp.csr_matrix((np.ones(n_past, np.float32),
                                    (np.arange(n_past), rng.integers(0, len(COMPANY_TYPES), n_past))),
                                   shape=(n_past, len(tag_names))),
        visitor_person=h_person, exhibitor_categories=h_ec, exhibitor_company=h_company,
        pair_visitor=pv, pair_exhibitor=pe, pair_action=action.astype(object))
    return Inputs(
        visitor_ids=persons, exhibitor_ids=companies, category_ids=np.arange(1, n_c + 1), category_parent=parent,
        category_names=names, visitor_interests=vi, exhibitor_categories=ec, visitor_needs=needs,
        exhibitor_docs=docs, visitor_kind=kinds.astype(object), visitor_authority=authority.astype(object),
        visitor_tags=tags, tag_names=tag_names, visitor_person=persons, exhibitor_company=companies,
        history=history)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=250_000)
    parser.add_argument("--exhibitors", type=int, default=35_000)
    parser.add_argument("--past", type=int, default=200_000)
    parser.add_argument("--pairs", type=int, default=800_000)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    t0 = time.perf_counter()
    inputs = generate(args.visitors, args.exhibitors, args.past, args.pairs, args.seed)
    t_gen = time.perf_counter() - t0
    rss_after_gen = rss_mb()
    load_before = os.getloadavg()
    c0, w0 = time.process_time(), time.perf_counter()
    model = engine.prepare(inputs)
    t_prep = time.perf_counter() - w0
    w1 = time.perf_counter()
    result = engine.recommend(model, k=args.k, workers=args.workers)
    t_top = time.perf_counter() - w1
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    load_after = os.getloadavg()
    filled_v = float((result.visitor_top >= 0).mean())
    filled_e = float((result.exhibitor_top >= 0).mean())
    np.testing.assert_allclose(result.visitor_parts.sum(axis=2)[:1000], result.visitor_scores[:1000], atol=1e-3)
    dims = sum(b.shape[1] for b in model.blocks_v.values()) + 2
    print(f"| visitors × exhibitors | {args.visitors:,} × {args.exhibitors:,} (top {args.k} each way) |")
    print("| --- | --- |")
    print(f"| history | {args.past:,} past registrations, {args.pairs:,} leads/meetings |")
    print(f"| generation (not timed below) | {t_gen:.1f} s, RSS after {rss_after_gen:,.0f} MB |")
    print(f"| prepare (TF-IDF, SVD, history) | {t_prep:.1f} s |")
    print(f"| top-k both ways ({args.workers} threads, {dims} dense dims) | {t_top:.1f} s |")
    print(f"| **engine total** | **{wall:.1f} s** wall, {cpu:.1f} s CPU |")
    print(f"| peak RSS (whole process) | {peak_mb():,.0f} MB |")
    print(f"| lists filled | visitors {filled_v:.1%}, exhibitors {filled_e:.1%} of {args.k} |")
    print(f"| load average (1 min) before / after | {load_before[0]:.2f} / {load_after[0]:.2f} on "
          f"{os.cpu_count()} CPUs |")


if __name__ == "__main__":
    main()
