"""Reasons in words: the engine's structured reasons for one pair (stored with the recommendation) turned into
sentences in the reader's language, from the reader's side ("visitor": exhibitors to see, "exhibitor": visitors
to invite).

A reason is the engine's (engine.explain, stored compact by services.stored_reasons): a dict with its ``signal``
("category", "text", "profile", "history") and the signal's fields — category matches with their relation in the
tree (same, parent, child, sibling), need phrases with the product or profile they matched, the visitor category
and purchase authority, history of past editions (peers, company, repeat). Quoted texts are the visitor's and the
exhibitor's own words. A signal or kind this file does not know gets a plain sentence, so a new kind from the
engine never breaks a page.
"""
from __future__ import annotations

import re

from flask_babel import force_locale, get_locale, gettext as _, lazy_gettext as _l

from ..visitors.models import VISITOR_CATEGORY

READERS = ("visitor", "exhibitor")

# The signals the organizer weighs (settings page, API), in the order pages list them.
SIGNALS = {
    "category": _l("Categories (interests against what the exhibitor offers)"),
    "text": _l("Needs against products and company profile (free text)"),
    "profile": _l("Visitor category and purchase authority"),
    "history": _l("History of past editions (scans, ratings, meetings)"),
}
SHORT_SIGNALS = {"category": _l("Categories"), "text": _l("Needs and products"), "profile": _l("Visitor profile"),
                 "history": _l("History")}

AUTHORITY = {"decides": _l("decides on purchases"), "recommends": _l("recommends purchases")}
RELATED = ("parent", "child", "sibling")

MAX_QUOTE = 60
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _quote(text) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= MAX_QUOTE else text[:MAX_QUOTE - 1] + "…"


def _in_language(text) -> str:
    """A name given in both languages ("Mesh office chair 网布办公椅", as categories and products are joined by
    the engine) in the reader's one: the Chinese words for a Chinese page, the others for an English one. A name
    in one language only stays as it is."""
    text = " ".join(str(text or "").split())
    words = text.split(" ")
    chinese = [w for w in words if _CJK.search(w)]
    other = [w for w in words if not _CJK.search(w)]
    if not chinese or not other:
        return _quote(text)
    return _quote(" ".join(chinese if str(get_locale() or "en").startswith("zh") else other))


def _names(values) -> str:
    names = []
    for value in values:
        name = _in_language(value)
        if name and name not in names:
            names.append(name)
    return _(", ").join(names) if names else "…"


def _category(reason: dict, reader: str) -> list[str]:
    """One sentence per kind of match: the same category, then the related ones (family of the tree)."""
    matches = [m for m in reason.get("matches") or () if isinstance(m, dict)]
    out = []
    same = [m.get("exhibitor_category") for m in matches if m.get("relation", "same") == "same"]
    if same:
        out.append(_("You both: %(categories)s.", categories=_names(same)))
    related = [m for m in matches if m.get("relation") in RELATED]
    if related:
        wanted = _names(m.get("visitor_category") for m in related)
        offered = _names(m.get("exhibitor_category") for m in related)
        if reader == "visitor":
            out.append(_("You are interested in %(wanted)s; they offer the related %(offered)s.",
                         wanted=wanted, offered=offered))
        else:
            out.append(_("Interested in %(wanted)s, related to your %(offered)s.", wanted=wanted, offered=offered))
    return out


def _text(reason: dict, reader: str) -> list[str]:
    out = []
    for match in [m for m in reason.get("matches") or () if isinstance(m, dict)][:2]:
        need, title = _in_language(match.get("need")), _in_language(match.get("doc_title"))
        profile = match.get("doc_kind") == "profile"
        if reader == "visitor":
            out.append(_("Your need “%(need)s” matches their company profile.", need=need) if profile else
                       _("Your need “%(need)s” matches their product “%(product)s”.", need=need, product=title))
        else:
            # Never the visitor's own words to an exhibitor: a free-text need may hold anything (a phone number,
            # a name), and the visitor may not share their details. The exhibitor's own product is named.
            out.append(_("What they need matches your company profile.") if profile else
                       _("What they need matches your product “%(product)s”.", product=title))
    return list(dict.fromkeys(out))  # two needs matching one product: said once


def _profile(reason: dict, reader: str) -> list[str]:
    kind = reason.get("visitor_kind") or reason.get("category")
    category = VISITOR_CATEGORY.label(kind) if kind else "…"
    authority = AUTHORITY.get(reason.get("authority") or "")
    if reader == "visitor":
        if authority:
            return [_("Exhibitors like this one look for visitors like you: %(category)s who %(authority)s.",
                      category=category, authority=authority)]
        return [_("Exhibitors like this one look for visitors like you: %(category)s.", category=category)]
    if authority:
        return [_("%(category)s who %(authority)s.", category=category, authority=authority)]
    return [_("Visitor category: %(category)s.", category=category)]


def _history(reason: dict, reader: str) -> list[str]:
    kind = reason.get("kind")
    if kind == "peers":
        action = reason.get("action", "hot")
        if reader == "visitor":
            return [{"met": _("Exhibitors like this one met buyers like you."),
                     "hot": _("Exhibitors like this one rated buyers like you hot.")}.get(
                action, _("Exhibitors like this one scanned buyers like you."))]
        return [{"met": _("Exhibitors like you met visitors like this one."),
                 "hot": _("Exhibitors like you rated visitors like this one hot.")}.get(
            action, _("Exhibitors like you scanned visitors like this one."))]
    if kind == "company":
        actions = reason.get("actions") or {}
        if reader == "visitor":
            if actions.get("met"):
                return [_("Visitors like you met this exhibitor at past editions.")]
            if actions.get("hot"):
                return [_("This exhibitor rated visitors like you hot at past editions.")]
            return [_("Visitors like you visited this exhibitor at past editions.")]
        if actions.get("met"):
            return [_("Visitors like this one met you at past editions.")]
        if actions.get("hot"):
            return [_("You rated visitors like this one hot at past editions.")]
        return [_("Visitors like this one visited your stand at past editions.")]
    if kind == "repeat":
        actions = reason.get("actions") or ()
        met = "met" in actions
        if reader == "visitor":
            return [_("You met them at a past edition.") if met else _("You visited them at a past edition.")]
        return [_("You met this visitor at a past edition.") if met
                else _("This visitor came to your stand at a past edition.")]
    return []


WRITERS = {"category": _category, "text": _text, "profile": _profile, "history": _history}


def sentences(reason: dict, reader: str = "visitor") -> list[str]:
    """One reason (a signal's part of the explanation) in the current language: one or more sentences."""
    if not isinstance(reason, dict):
        return []
    writer = WRITERS.get(reason.get("signal"))
    if writer is not None:
        try:
            written = writer(reason, reader)
        except (KeyError, TypeError, ValueError, AttributeError):
            written = []
        if written:
            return written
    signal = SHORT_SIGNALS.get(reason.get("signal") or "")
    return [_("Also a good match: %(signal)s.", signal=signal) if signal else _("Also a good match.")]


def words(reasons, reader: str = "visitor", *, locale: str | None = None, limit: int = 4,
          signals: dict | None = None) -> list[str]:
    """The reasons as sentences, most important first, at most ``limit``; in ``locale`` if given (a mail or a
    digest in the recipient's language), else in the current request's language. Repeated sentences once.
    A pair stored without reasons is told by its strongest ``signals`` (contributions)."""
    if locale:
        with force_locale(locale):
            return words(reasons, reader, limit=limit, signals=signals)
    out: list[str] = []
    for reason in reasons or ():
        for text in sentences(reason, reader):
            if text and text not in out:
                out.append(text)
    if not out and signals:
        strongest = sorted((v, k) for k, v in signals.items() if isinstance(v, (int, float)) and v > 0)[::-1]
        out = [str(SIGNAL_SENTENCES[reader][k]) for _v, k in strongest if k in SIGNAL_SENTENCES[reader]]
    return out[:limit]


# Sentences for a pair known only by its signals' contributions.
SIGNAL_SENTENCES = {
    "visitor": {"category": _l("They offer the categories you are interested in."),
                "text": _l("Their products match what you told us you need."),
                "profile": _l("They look for visitors like you."),
                "history": _l("Visitors like you found them useful at past editions.")},
    "exhibitor": {"category": _l("Interested in the categories you offer."),
                  "text": _l("Their needs match your products."),
                  "profile": _l("The kind of visitor you look for."),
                  "history": _l("Visitors like this one found you useful at past editions.")},
}


def signal_words(signals: dict, *, locale: str | None = None) -> list[tuple[str, float]]:
    """The signals' contributions as (label, share of the score in %), largest first (the organizer's table)."""
    if locale:
        with force_locale(locale):
            return signal_words(signals)
    total = sum(v for v in (signals or {}).values() if isinstance(v, (int, float)) and v > 0) or 1.0
    rows = [(str(SHORT_SIGNALS.get(k, k)), round(100 * v / total)) for k, v in (signals or {}).items()
            if isinstance(v, (int, float)) and v > 0]
    return sorted(rows, key=lambda r: -r[1])
