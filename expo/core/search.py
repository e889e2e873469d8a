"""Search across customers: one box for organizer staff, answered by the modules that know people and
companies (each through the registry hook ``search``), plus the text keys the searches run on.

Keys are stored beside the rows (``persons.pinyin_key``…) and indexed per organizer, so that a search
on 100,000 persons is a handful of index range scans with a LIMIT:

* a name is kept as its pinyin without tones, spaces or punctuation ("张伟" -> "zhangwei"; "Zhang Wei"
  -> "zhangwei"), and once more with the first word (the family name, for a Chinese name the first
  character) moved to the end ("weizhang"; "John Smith" -> "smithjohn"), so "zhang wei", "zhangwei",
  "张伟", "wei zhang" and "smith" all find their person by key prefix;
* a company name loses case, width, spaces, punctuation and its legal form ("深圳宏达家具有限公司",
  "深圳宏达家具 有限公司" and "Shenzhen Hongda Furniture Co., Ltd." -> "深圳宏达家具" / "shenzhenhongdafurniture").

Nothing here knows persons or companies: the modules store the keys and answer the hook
``search(scope, query: Query | None, allowed, limit) -> ResultGroup | None``; ``allowed(permission)`` tells
whether the user searching may see what the module would answer (None: nothing for this user).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable

from .registry import registry

MAX_QUERY = 100  # characters of a query that count
KEY_LENGTH = 200  # the stored keys are cut to this (and the columns hold this many)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)

# Legal forms, longest first: removed from the end (and, for 有限公司 variants, anywhere) of a company name.
_LEGAL_FORMS_ZH = ("股份有限公司", "有限责任公司", "集团有限公司", "有限公司", "股份公司", "集团公司", "公司")
_LEGAL_FORMS_EN = (
    "company limited", "co ltd", "co limited", "corporation limited", "limited liability company", "limited",
    "ltd", "incorporated", "inc", "corporation", "corp", "company", "co", "llc", "gmbh", "ag", "sa", "srl",
    "spa", "bv", "plc", "pte ltd", "pty ltd", "kk", "gmbh co kg", "co kg", "kg", "sarl", "pte", "pty",
)


def _pinyin(text: str) -> list[str]:
    from pypinyin import Style, lazy_pinyin  # loaded on first use: its dictionaries take a moment

    return lazy_pinyin(text, style=Style.NORMAL, errors="default")


def _fold(text: str) -> str:
    """Width, case and accents folded ("Ｚｈａｎｇ", "Zhāng" -> "zhang"); ü/v as u on both sides."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text or "").casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.replace("v", "u")


def _words(text: str) -> list[str]:
    """The name as searchable words: each Chinese character becomes its pinyin syllable (one word per
    character); other text is split on spaces and punctuation. Folded like the queries."""
    words: list[str] = []
    for part in _pinyin(unicodedata.normalize("NFKC", text or "")):
        words.extend(w for w in _NOT_WORD.split(_fold(part)) if w)
    return words


def name_keys(name: str | None) -> tuple[str | None, str | None]:
    """(key, turned key) of a person's name: its pinyin without spaces, and the same with the first word
    moved to the end. (None, None) for an empty name."""
    words = _words(name or "")
    if not words:
        return None, None
    key = "".join(words)[:KEY_LENGTH]
    turned = "".join(words[1:] + words[:1])[:KEY_LENGTH] if len(words) > 1 else key
    return key, turned


def person_search_keys(name: str | None, company: str | None) -> dict:
    """The search columns of a person row, for bulk (Core) inserts and updates: pinyin_key, pinyin_key_turned,
    company_key (visitors.persons.refresh_keys sets the same on an ORM row)."""
    key, turned = name_keys(name)
    return {"pinyin_key": key, "pinyin_key_turned": turned, "company_key": company_key(company)}


def query_key(text: str) -> str:
    """What a typed query is compared with: the same folding as the stored keys ("Zhang Wei", "zhangwei"
    and "张伟" give "zhangwei")."""
    return "".join(_words((text or "")[:MAX_QUERY]))[:KEY_LENGTH]


def has_han(text: str) -> bool:
    return bool(_HAN.search(text or ""))


def company_key(name: str | None) -> str | None:
    """A company name without case, width, spaces, punctuation, brackets or legal form, so that
    "深圳宏达家具有限公司", "深圳宏达家具（有限公司）" and "深圳 宏达家具 有限公司" are one key, and
    "Hongda Furniture Co., Ltd.", "HONGDA FURNITURE CO LTD" and "Hongda Furniture Limited" another.
    None when nothing is left. The imports use the same function (expo.exhibitors.companies)."""
    text = unicodedata.normalize("NFKC", name or "").casefold()
    text = " ".join(w for w in _NOT_WORD.split(text) if w)  # punctuation and brackets become spaces
    if not text:
        return None
    if text.replace(" ", "") in _LEGAL_FORMS_ZH:  # nothing but a legal form: kept as it is
        return text.replace(" ", "")
    for form in _LEGAL_FORMS_ZH:
        if len(text.replace(" ", "")) > len(form) and text.replace(" ", "").endswith(form):
            text = text.replace(" ", "")[: -len(form)]
            break
    words = text.split(" ")
    changed = True
    while changed and len(words) > 1:  # "acme co ltd" -> "acme": legal forms of several words, from the end
        changed = False
        for form in _LEGAL_FORMS_EN:
            parts = form.split(" ")
            if len(words) > len(parts) and words[-len(parts):] == parts:
                words = words[:-len(parts)]
                changed = True
                break
    key = "".join(words)[:KEY_LENGTH]
    return key or None


def prefix_range(column, prefix: str):
    """``column`` starts with ``prefix``, as a range an ordinary B-tree index answers on SQLite and
    PostgreSQL alike (LIKE 'x%' uses an index only under the C collation or a pattern operator class)."""
    from sqlalchemy import and_

    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return and_(column >= prefix, column < upper)


# --- the search page ------------------------------------------------------------------------------

@dataclass
class Query:
    """A query as the modules read it: the text, its key forms, and which kind it looks like."""

    text: str
    key: str  # query_key(text)
    email: str | None = None  # looks like an address: its normalized form
    phone_digits: str = ""  # the digits, when it looks like a phone number
    han: bool = False  # holds Chinese characters

    @classmethod
    def parse(cls, text: str) -> Query:
        text = " ".join((text or "").split())[:MAX_QUERY]
        digits = "".join(c for c in text if c.isdigit())
        looks_phone = len(digits) >= 7 and not re.search(r"[^\d\s+().\-/]", text)
        email = text.strip().lower() if "@" in text and " " not in text.strip() else None
        return cls(text=text, key=query_key(text), email=email, phone_digits=digits if looks_phone else "",
                   han=has_han(text))

    @property
    def empty(self) -> bool:
        return not (self.key or self.email or self.phone_digits)


@dataclass
class Result:
    title: str
    url: str | None
    subtitle: str = ""
    badges: list = field(default_factory=list)  # States (chips), or plain strings
    matched: str = ""  # what matched, in words ("Email", "Phone"...)


@dataclass
class ResultGroup:
    key: str  # "persons", "companies"
    title: Any
    icon: str
    results: list[Result]
    more: bool = False  # there were more than the limit


def preload_timeline(page) -> None:
    """Load the editions and staff a timeline page names, one query each, so that its lines find them in the
    session (no query per line)."""
    from sqlalchemy import select

    from ..extensions import db
    from .models import Edition, User

    entries = page.items if page is not None else []
    editions = {e.activity.edition_id for e in entries if e.activity.edition_id}
    users = {e.activity.user_id for e in entries if e.activity.user_id}
    loaded = []  # held by the page: the session's identity map keeps only rows someone refers to
    if editions:
        loaded += db.session.scalars(select(Edition).where(Edition.id.in_(editions))).all()
    if users:
        loaded += db.session.scalars(select(User).where(User.id.in_(users))).all()
    if page is not None:
        page.preloaded = loaded


def search(scope, text: str, allowed: Callable[[str], bool], *, limit: int = 20) -> tuple[Query, list[ResultGroup]]:
    """Ask every module that answers the ``search`` hook; groups in module order, the empty ones too
    (the page says "nothing found" per group)."""
    query = Query.parse(text)
    if query.empty:
        return query, []
    groups = []
    for hook in registry.hook("search"):
        group = hook(scope, query, allowed, limit)
        if group is not None:
            groups.append(group)
    return query, groups


def search_available(allowed: Callable[[str], bool]) -> bool:
    """Whether any module would answer this user (the top bar shows the box only then): a hook called
    without a query answers a group (it would search) or None (nothing this user may see), and queries
    nothing."""
    return any(hook(None, None, allowed, 0) is not None for hook in registry.hook("search"))
