"""The recommendation engine on fixed data: each signal, the weights, exclusions, explanations, top-k."""
import numpy as np
import pytest
import scipy.sparse as sp

from expo.matchmaking import engine
from expo.matchmaking.engine import SIGNALS, Doc, History, Inputs

# the tree: 0 Furniture > 1 Office furniture, 2 Living room; 3 Lighting > 4 LED
PARENT = np.array([-1, 0, 0, -1, 3])
NAMES = ["Furniture 家具", "Office furniture 办公家具", "Living room 客厅家具", "Lighting 照明", "LED 照明"]


def _csr(rows, n_cols):
    r = [i for i, cols in enumerate(rows) for _ in cols]
    c = [c for cols in rows for c in cols]
    return sp.csr_matrix((np.ones(len(r), np.float32), (r, c)), shape=(len(rows), n_cols))


def make_inputs(visitor_cats, exhibitor_cats, *, needs=None, docs=None, kinds=None, authority=None,
                history=None, exclude=None, persons=None, companies=None):
    nv, ne = len(visitor_cats), len(exhibitor_cats)
    return Inputs(
        visitor_ids=np.arange(100, 100 + nv), exhibitor_ids=np.arange(500, 500 + ne),
        category_ids=np.arange(1, len(PARENT) + 1), category_parent=PARENT, category_names=NAMES,
        visitor_interests=_csr(visitor_cats, len(PARENT)), exhibitor_categories=_csr(exhibitor_cats, len(PARENT)),
        visitor_needs=needs or [[] for _ in range(nv)], exhibitor_docs=docs or [[] for _ in range(ne)],
        visitor_kind=np.array(kinds or ["buyer"] * nv, dtype=object),
        visitor_authority=np.array(authority or ["decides"] * nv, dtype=object),
        visitor_tags=sp.csr_matrix((nv, 0), dtype=np.float32), tag_names=[],
        visitor_person=np.array(persons or list(range(1, nv + 1))),
        exhibitor_company=np.array(companies or list(range(1, ne + 1))), history=history,
        exclude=None if exclude is None else sp.csr_matrix(
            (np.ones(len(exclude), np.float32), tuple(zip(*exclude))), shape=(nv, ne)))


def ranking(result, v=0):
    return [int(e) for e in result.visitor_top[v] if e >= 0]


def test_same_category_beats_parent_beats_sibling_beats_nothing():
    # visitor wants Office furniture (1); exhibitors: office (1), furniture in general (0), living room (2), LED (4)
    inputs = make_inputs([[1]], [[4], [2], [0], [1]])
    result = engine.recommend(inputs, {"category": 1, "text": 0, "profile": 0, "history": 0}, k=4)
    assert ranking(result) == [3, 2, 1]  # LED is no recommendation at all
    why = [engine.explain(inputs, 0, e)["reasons"][0]["matches"][0]["relation"] for e in (3, 2, 1)]
    assert why == ["same", "child", "sibling"]
    # a visitor interested in the whole of Furniture: the office exhibitor is a "parent" match
    inputs = make_inputs([[0]], [[1], [4]])
    assert engine.explain(inputs, 0, 0)["reasons"][0]["matches"][0]["relation"] == "parent"


def test_parts_are_weighted_and_sum_to_the_score():
    inputs = make_inputs([[1], [4]], [[1], [4], [2]],
                         needs=[["ergonomic office chair"], ["LED 面板灯"]],
                         docs=[[Doc("product", 1, "Mesh office chair", "mesh office chair ergonomic")],
                               [Doc("product", 2, "LED panel 面板灯", "LED panel light LED面板灯")], []])
    weights = {"category": 2, "text": 1, "profile": 1, "history": 0}
    result = engine.recommend(inputs, weights, k=3)
    np.testing.assert_allclose(result.visitor_parts.sum(axis=2)[result.visitor_top >= 0],
                               result.visitor_scores[result.visitor_top >= 0], rtol=1e-4)
    assert result.visitor_parts.shape == (2, 3, len(SIGNALS))
    parts = dict(zip(SIGNALS, result.visitor_parts[0, 0]))
    assert parts["history"] == 0 and parts["category"] > 0 and parts["text"] > 0
    assert parts["profile"] == pytest.approx(0.25 * 1.0)  # weight 1/4, a buyer who decides
    assert engine.normalize_weights({"category": 0, "text": 0, "profile": 0, "history": 0}) == \
        pytest.approx(engine.DEFAULT_WEIGHTS)


def test_weights_change_the_order():
    # exhibitor 0 shares the category, exhibitor 1 has the product the visitor wrote about
    inputs = make_inputs([[1]], [[1], [4]], needs=[["standing desk"]],
                         docs=[[Doc("product", 1, "Sofa", "leather sofa")],
                               [Doc("product", 2, "Standing desk", "electric standing desk")]])
    by_category = engine.recommend(inputs, {"category": 1, "text": 0.1, "profile": 0, "history": 0}, k=2)
    by_text = engine.recommend(inputs, {"category": 0.1, "text": 1, "profile": 0, "history": 0}, k=2)
    assert ranking(by_category) == [0, 1]
    assert ranking(by_text) == [1, 0]


def test_chinese_and_english_needs_match_products_in_either_language():
    docs = [[Doc("product", 1, "Mesh office chair 网布办公椅", "Mesh office chair\n网布办公椅 人体工学")],
            [Doc("product", 2, "Crystal chandelier 水晶吊灯", "Crystal chandelier\n水晶吊灯 酒店照明")],
            [Doc("profile", None, "Hotel Beds Ltd", "hotel bed frames 酒店床架")]]
    needs = [["采购人体工学办公椅"], ["need crystal chandeliers"], ["酒店床架"]]
    inputs = make_inputs([[], [], []], [[], [], []], needs=needs, docs=docs)
    result = engine.recommend(inputs, {"category": 0, "text": 1, "profile": 0, "history": 0}, k=3)
    assert [ranking(result, v)[0] for v in range(3)] == [0, 1, 2]
    why = engine.explain(inputs, 0, 0)
    text = why["reasons"][0]
    assert text["signal"] == "text" and text["matches"][0]["need"] == "采购人体工学办公椅"
    assert text["matches"][0]["doc_title"] == "Mesh office chair 网布办公椅" and text["matches"][0]["doc_ref"] == 1
    assert engine.explain(inputs, 2, 2)["reasons"][0]["matches"][0]["doc_kind"] == "profile"


def test_profile_orders_the_exhibitors_lists_not_the_visitors():
    inputs = make_inputs([[1], [1], [1]], [[1], [1]], kinds=["public", "buyer", "trade_visitor"],
                         authority=["none", "decides", "recommends"])
    result = engine.recommend(inputs, {"category": 1, "text": 0, "profile": 1, "history": 0}, k=3)
    assert [int(v) for v in result.exhibitor_top[0]] == [1, 2, 0]
    reasons = engine.explain(inputs, 1, 0)["reasons"]
    assert {"signal": "profile", "visitor_kind": "buyer", "authority": "decides"} in reasons


def test_exclusions_hold_both_ways():
    inputs = make_inputs([[1], [1]], [[1], [1], [0]], exclude=[(0, 0), (1, 2)])
    result = engine.recommend(inputs, k=3)
    assert 0 not in ranking(result, 0) and 2 not in ranking(result, 1)
    assert 0 not in result.exhibitor_top[0] or result.exhibitor_top[0].tolist().index(0) < 0
    assert [int(v) for v in result.exhibitor_top[0] if v >= 0] == [1]
    assert [int(v) for v in result.exhibitor_top[2] if v >= 0] == [0]


def _history():
    """Two past lighting exhibitors rated distributors who decide hot, and were cold to the public."""
    return History(
        visitor_interests=_csr([[4], [4], [4], [4]], len(PARENT)),
        visitor_kind=np.array(["buyer", "buyer", "public", "public"], dtype=object),
        visitor_authority=np.array(["decides", "decides", "none", "none"], dtype=object),
        visitor_tags=sp.csr_matrix((4, 0), dtype=np.float32),
        visitor_person=np.array([901, 902, 903, 904]),
        exhibitor_categories=_csr([[4], [4]], len(PARENT)), exhibitor_company=np.array([71, 72]),
        pair_visitor=np.array([0, 1, 2, 3, 0]), pair_exhibitor=np.array([0, 1, 0, 1, 1]),
        pair_action=np.array(["hot", "hot", "cold", "scanned", "met"], dtype=object))


def test_history_exhibitors_like_this_one_rated_buyers_like_you_hot():
    # a new LED exhibitor (company 99) and two LED visitors: a buyer who decides and a member of the public
    inputs = make_inputs([[4], [4]], [[4]], kinds=["public", "buyer"], authority=["none", "decides"],
                         companies=[99], history=_history())
    result = engine.recommend(inputs, {"category": 0, "text": 0, "profile": 0, "history": 1}, k=2)
    assert [int(v) for v in result.exhibitor_top[0] if v >= 0][0] == 1
    reasons = engine.explain(inputs, 1, 0)["reasons"]
    assert {"signal": "history", "kind": "peers", "action": "hot", "count": 2} in reasons


def test_history_visitors_like_you_and_the_same_pair_again():
    # company 71 is back; visitor 0 is person 901 who met it; visitor 1 is a new buyer like them
    inputs = make_inputs([[4], [4], [2]], [[4], [4]], persons=[901, 555, 556], companies=[71, 98],
                         kinds=["buyer", "buyer", "public"], authority=["decides", "decides", "none"],
                         history=_history())
    weights = {"category": 0, "text": 0, "profile": 0, "history": 1}
    result = engine.recommend(inputs, weights, k=2)
    assert ranking(result, 0)[0] == 0 and ranking(result, 1)[0] == 0
    reasons = engine.explain(inputs, 0, 0, weights)["reasons"]
    assert {"signal": "history", "kind": "repeat", "actions": ["hot", "visited"]} in reasons
    company = [r for r in engine.explain(inputs, 1, 0, weights)["reasons"] if r.get("kind") == "company"]
    assert company and company[0]["actions"]["hot"] == 1
    s_repeat, _ = engine.score_pairs(inputs, [0], [0], weights)
    s_new, _ = engine.score_pairs(inputs, [1], [0], weights)
    assert s_repeat[0] > s_new[0]


def test_chunked_threaded_topk_equals_brute_force():
    rng = np.random.default_rng(3)
    nv, ne = 700, 400
    vc = [list(rng.choice(5, size=rng.integers(1, 3), replace=False)) for _ in range(nv)]
    ec = [list(rng.choice(5, size=rng.integers(1, 3), replace=False)) for _ in range(ne)]
    words = ["chair", "desk", "sofa", "lamp", "led", "椅子", "灯具", "沙发", "cabinet", "bed"]
    needs = [[" ".join(rng.choice(words, 2))] for _ in range(nv)]
    docs = [[Doc("product", i, "p", " ".join(rng.choice(words, 4)))] for i in range(ne)]
    kinds = list(rng.choice(["buyer", "public", "trade_visitor", "vip"], nv))
    exclude = list({(int(a), int(b)) for a, b in zip(rng.integers(0, nv, 300), rng.integers(0, ne, 300))})
    inputs = make_inputs(vc, ec, needs=needs, docs=docs, kinds=kinds, exclude=exclude)
    model = engine.prepare(inputs)
    k = 7
    result = engine.recommend(model, k=k, chunk=64, workers=2)
    v, e = np.meshgrid(np.arange(nv), np.arange(ne), indexing="ij")
    full, _ = engine.score_pairs(model, v.ravel(), e.ravel())
    full = full.reshape(nv, ne)
    ex = inputs.exclude.tocoo()
    full[ex.row, ex.col] = -np.inf
    best_rows = -np.sort(-full, axis=1)[:, :k]
    np.testing.assert_allclose(result.visitor_scores, best_rows, rtol=1e-4, atol=2e-4)
    best_cols = -np.sort(-full, axis=0)[:k].T
    np.testing.assert_allclose(result.exhibitor_scores, best_cols, rtol=1e-4, atol=2e-4)
    assert not any((a, b) in set(exclude) for a in range(nv) for b in result.visitor_top[a] if b >= 0)
    # incremental: a few rows / columns alone give the same lists as the full run
    part = engine.recommend(model, k=k, visitor_rows=[5, 9], exhibitor_rows=[3], chunk=64)
    assert (part.visitor_top[[5, 9]] == result.visitor_top[[5, 9]]).all()
    np.testing.assert_allclose(part.exhibitor_scores[3], result.exhibitor_scores[3], rtol=1e-5)
    assert (part.visitor_top[0] == -1).all()


def test_reduced_text_path_for_big_editions_keeps_the_order(monkeypatch):
    docs = [[Doc("product", 1, "chair", "mesh office chair 网布办公椅")], [Doc("product", 2, "lamp", "crystal lamp 水晶吊灯")]]
    inputs = make_inputs([[], []], [[], []], needs=[["office chair"], ["水晶吊灯"]], docs=docs)
    model = engine.prepare(inputs, exact_text=False)
    assert model.text_v is None and "text" in model.blocks_v
    result = engine.recommend(model, {"category": 0, "text": 1, "profile": 0, "history": 0}, k=2)
    assert [ranking(result, v)[0] for v in range(2)] == [0, 1]


def test_nothing_in_common_is_no_recommendation():
    """A buyer who declared nothing and wrote nothing gets no list; the profile alone never makes a pair."""
    inputs = make_inputs([[], [1]], [[1], [4]])
    result = engine.recommend(inputs, k=2)
    assert ranking(result, 0) == [] and ranking(result, 1) == [0]
    assert [int(v) for v in result.exhibitor_top[0] if v >= 0] == [1]
    assert (result.visitor_parts[0] == 0).all() and (result.visitor_scores[0] == 0).all()


def test_one_exact_category_beats_a_few_sibling_matches():
    # reviewer's case: the visitor wants c1; A offers c1 and nine unrelated categories, B only three siblings of c1
    parent = np.array([-1, 0, 0, 0, 0] + [-1] * 9)
    n_c = len(parent)
    inputs = Inputs(
        visitor_ids=np.array([1]), exhibitor_ids=np.array([10, 11]), category_ids=np.arange(n_c),
        category_parent=parent, category_names=[f"c{i}" for i in range(n_c)],
        visitor_interests=_csr([[1]], n_c),
        exhibitor_categories=_csr([[1, 5, 6, 7, 8, 9, 10, 11, 12, 13], [2, 3, 4]], n_c),
        visitor_needs=[[]], exhibitor_docs=[[], []], visitor_kind=np.array(["buyer"], dtype=object),
        visitor_authority=np.array([""], dtype=object), visitor_tags=sp.csr_matrix((1, 0), dtype=np.float32),
        tag_names=[], visitor_person=np.array([1]), exhibitor_company=np.array([1, 2]))
    weights = {"category": 1, "text": 0, "profile": 0, "history": 0}
    scores, _ = engine.score_pairs(inputs, [0, 0], [0, 1], weights)
    assert scores[0] == pytest.approx(1.0) and scores[1] == pytest.approx(engine.RELATION_WEIGHT["sibling"])
    assert ranking(engine.recommend(inputs, weights, k=2)) == [0, 1]
    # each interest counts by its best relation, averaged over the visitor's interests
    inputs = make_inputs([[1, 4]], [[1], [1, 4], [2]])
    scores, _ = engine.score_pairs(inputs, [0, 0, 0], [0, 1, 2], weights)
    assert scores.tolist() == pytest.approx([0.5, 1.0, 0.15])


TEXT_DOCS = [[Doc("product", 1, "Standing desks 升降桌", "Standing desks 升降桌\nelectric standing desks for offices")],
             [Doc("product", 2, "LED lamps LED灯", "LED lamps LED灯\nled lamps and bulbs")],
             [Doc("product", 3, "Mesh office chair 网布办公椅",
                  "Mesh office chair 网布办公椅\nmesh office chair, ergonomic design 人体工学")]]


def test_text_matches_share_meaning_not_word_endings():
    needs = [["LED lamps"], ["ergonomic chairs"], ["人体工学椅"], ["looking for ergonomic chairs supplier"]]
    inputs = make_inputs([[]] * 4, [[]] * 3, needs=needs, docs=TEXT_DOCS)
    model = engine.prepare(inputs)
    text = {"category": 0, "text": 1, "profile": 0, "history": 0}
    scores, _ = engine.score_pairs(model, [0, 1, 1, 0], [0, 0, 1, 2], text)
    assert (scores < 0.1).all()  # "LED lamps" ~ "Standing desks", "ergonomic chairs" ~ desks / lamps: gone
    assert [ranking(engine.recommend(model, text, k=3), v)[:1] for v in range(4)] == [[1], [2], [2], [2]]
    # reasons quote only real matches
    for v, e in ((0, 0), (1, 0), (0, 2)):
        assert not [r for r in engine.explain(model, v, e, text)["reasons"] if r["signal"] == "text"]
    for v in (1, 2, 3):
        match = [r for r in engine.explain(model, v, 2, text)["reasons"] if r["signal"] == "text"][0]["matches"][0]
        assert match["doc_title"] == "Mesh office chair 网布办公椅" and match["need"] == needs[v][0]


def test_analyzer_drops_phrasing_and_keeps_scripts_apart():
    terms = engine.analyze("Looking for LED lamps supplier 寻找LED灯供应商")
    assert " led" in terms and "lam" in terms and "#灯" in terms and " tv " in engine.analyze("TV stand")
    assert not [t for t in terms if "look" in t or "supp" in t or "寻" in t or "供应" in t]
    assert "s " not in terms and "ps " in terms  # no 2-gram endings shared by unrelated words
