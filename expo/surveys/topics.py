"""Free-text answers grouped by topic: TF-IDF over English words and Chinese two-character terms beside
character n-grams (Chinese has no spaces; n-grams also join word forms; no model to download), k-means with the
number of topics that separates them best (silhouette), each topic labelled by the terms that set its answers apart. Too few answers make no topics (a list is clearer)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

MIN_ANSWERS = 6  # below this, the answers are listed, not grouped
MAX_TOPICS = 6
CHAR_WEIGHT = 0.3  # character n-grams: word forms (park / parking) and Chinese terms of any length
LABEL_TERMS = 3
STOP = frozenset("""a an and are as at be been but by can could did do does for from had has have i if in into is it
its just more most my no not of on or our so than that the their them then there these they this to too very was
we were what when which who will with would you your also all any some much many get got one really should""".split())
CJK_STOP = frozenset("我们 你们 他们 这个 那个 一个 没有 不是 就是 还是 可以 非常 比较 希望 觉得 有点 很多 一些 但是 因为 所以 如果 时候 已经 "
                     "还有 这次 今年 明年 展会".split())
CJK_STOP_CHARS = frozenset("的了太很是有在不也都就还和与及吧吗呢啊得地着过要会能让被把给从对")  # no term holds them
_WORD = re.compile(r"[a-z][a-z'-]{2,}")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")


@dataclass
class Topic:
    label: list[str]  # the top terms
    answers: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.answers)


def label_terms(text: str) -> list[str]:
    """Words of three letters or more (no stop words) and two-character Chinese terms."""
    lowered = text.lower()
    terms = [w.strip("'-") for w in _WORD.findall(lowered) if w.strip("'-") not in STOP]
    for run in _CJK_RUN.findall(text):
        terms.extend(pair for i in range(len(run) - 1) if (pair := run[i:i + 2]) not in CJK_STOP
                     and not CJK_STOP_CHARS & set(pair))
    return terms


def topics(answers: list[str], *, max_topics: int = MAX_TOPICS, seed: int = 0) -> list[Topic]:
    """The answers grouped by topic, biggest first; [] when there are fewer than MIN_ANSWERS."""
    texts = [a.strip() for a in answers if a and a.strip()]
    if len(texts) < MIN_ANSWERS:
        return []
    from scipy.sparse import hstack
    from sklearn.cluster import KMeans
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import normalize

    words = TfidfVectorizer(analyzer=label_terms, sublinear_tf=True).fit_transform(texts) \
        if any(label_terms(t) for t in texts) else None
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True).fit_transform(texts)
    features = normalize(hstack([words, CHAR_WEIGHT * chars]).tocsr() if words is not None else chars)
    most = min(max_topics, len(set(texts)) - 1, len(texts) // 2)
    if most < 2:
        return [Topic(_labels(texts, [list(range(len(texts)))])[0], texts)]
    best = None  # the number of topics whose grouping is the clearest (silhouette, cosine)
    for k in range(2, most + 1):
        labels = KMeans(n_clusters=k, n_init=10, random_state=seed).fit_predict(features)
        if len(set(labels)) < 2:
            continue
        quality = silhouette_score(features, labels, metric="cosine")
        if best is None or quality > best[0] + 1e-9:
            best = (quality, labels)
    if best is None:
        return [Topic(_labels(texts, [list(range(len(texts)))])[0], texts)]
    clusters, k = best[1], len(set(best[1]))
    groups = [[n for n in range(len(texts)) if clusters[n] == c] for c in range(k)]
    groups = [g for g in groups if g]
    labels = _labels(texts, groups)
    found = [Topic(label, [texts[n] for n in group]) for label, group in zip(labels, groups)]
    found.sort(key=lambda t: (-t.size, t.label))
    return found


def _labels(texts: list[str], groups: list[list[int]]) -> list[list[str]]:
    """Per group, the terms most frequent in its answers and rarer elsewhere (counted once per answer)."""
    from collections import Counter

    per_answer = [set(label_terms(t)) for t in texts]
    overall = Counter(term for terms in per_answer for term in terms)
    total = len(texts)
    out = []
    for group in groups:
        inside = Counter(term for n in group for term in per_answer[n])
        size = len(group)

        def weight(term, inside=inside, size=size):
            share_in = inside[term] / size
            outside_n = total - size
            share_out = (overall[term] - inside[term]) / outside_n if outside_n else 0.0
            return share_in - 0.5 * share_out

        ranked = sorted((t for t in inside if inside[t] >= min(2, size)), key=lambda t: (-weight(t), -inside[t], t))
        ranked = ranked or sorted(inside, key=lambda t: (-inside[t], t))
        chosen: list[str] = []
        for term in ranked:  # 买家 after 专业: not 业买, which only joins them
            if _CJK_RUN.fullmatch(term) and any(_CJK_RUN.fullmatch(c) and set(c) & set(term) for c in chosen):
                continue
            chosen.append(term)
            if len(chosen) == LABEL_TERMS:
                break
        out.append(chosen)
    return out
