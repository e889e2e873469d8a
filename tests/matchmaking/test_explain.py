"""Reasons in words (explain.py): every shape the engine gives, both readers, both languages, and shapes it
does not know yet."""
from __future__ import annotations

import pytest
from flask_babel import force_locale

from expo.matchmaking import explain

CATEGORY = {"signal": "category", "matches": [
    {"visitor_category": "Office chairs 办公椅", "exhibitor_category": "Office chairs 办公椅", "relation": "same"},
    {"visitor_category": "Desks 办公桌", "exhibitor_category": "Office furniture 办公家具", "relation": "child"}]}
TEXT = {"signal": "text", "matches": [{"need": "ergonomic chairs", "doc_kind": "product",
                                       "doc_title": "Mesh office chair 网布办公椅", "similarity": 0.4},
                                      {"need": "人体工学椅", "doc_kind": "profile", "doc_title": "ChairCo"}]}
PROFILE = {"signal": "profile", "visitor_kind": "buyer", "authority": "decides"}
PEERS = {"signal": "history", "kind": "peers", "action": "hot", "count": 14}
COMPANY = {"signal": "history", "kind": "company", "actions": {"visited": 9, "met": 2}}
REPEAT = {"signal": "history", "kind": "repeat", "actions": ["visited", "hot"]}


@pytest.fixture
def en(app):
    with app.test_request_context(), force_locale("en"):
        yield


def test_the_example_of_the_issue_for_the_visitor(en):
    words = explain.words([CATEGORY, TEXT, PEERS], "visitor", limit=10)
    assert words[0] == "You both: Office chairs."
    assert "You are interested in Desks; they offer the related Office furniture." in words
    assert "Your need “ergonomic chairs” matches their product “Mesh office chair”." in words
    assert "Your need “人体工学椅” matches their company profile." in words
    assert "Exhibitors like this one rated buyers like you hot." in words


def test_the_exhibitor_reads_the_other_side(en):
    words = explain.words([TEXT, PROFILE, COMPANY, REPEAT], "exhibitor", limit=10)
    # Never the visitor's own words to an exhibitor (a free-text need may hold a phone number or a name).
    assert "What they need matches your product “Mesh office chair”." in words
    assert not any("ergonomic chairs" in w or "人体工学椅" in w for w in words)
    assert "Buyer who decides on purchases." in words
    assert "Visitors like this one met you at past editions." in words
    assert "This visitor came to your stand at a past edition." in words


def test_names_given_in_both_languages_follow_the_reader(app):
    with app.test_request_context():
        zh = explain.words([CATEGORY, TEXT], "visitor", locale="zh_CN", limit=10)
        en = explain.words([CATEGORY, TEXT], "visitor", locale="en", limit=10)
    assert any("办公椅" in w for w in zh) and not any("Office chairs" in w for w in zh)
    assert any("网布办公椅" in w for w in zh) and not any("Mesh office chair" in w for w in zh)
    assert any("Office chairs" in w for w in en) and not any("办公椅" in w for w in en)
    # The visitor's own words stay as written, in any language.
    assert any("人体工学椅" in w for w in en)


def test_translated_sentences_in_chinese(app, fresh_translations):
    """With the catalogue compiled, the sentences themselves are Chinese (where the lead has translated them)."""
    with app.test_request_context():
        zh = explain.words([CATEGORY], "visitor", locale="zh_CN")
        en = explain.words([CATEGORY], "visitor", locale="en")
    assert en == ["You both: Office chairs.", "You are interested in Desks; they offer the related Office furniture."]
    assert "办公椅" in zh[0]


@pytest.mark.parametrize("reason", [{"signal": "category"}, {"signal": "text", "matches": "oops"},
                                    {"signal": "history", "kind": "new-kind"}, {"signal": "brand-new"},
                                    {"nothing": 1}, "not a dict", None])
def test_unknown_or_broken_reasons_never_break_a_page(en, reason):
    words = explain.words([reason], "visitor")
    assert isinstance(words, list) and all(isinstance(w, str) for w in words)


def test_repeated_sentences_once_and_the_limit(en):
    words = explain.words([PEERS, PEERS, CATEGORY, TEXT, PROFILE], "visitor", limit=3)
    assert len(words) == 3 and len(set(words)) == 3


def test_a_pair_without_reasons_is_told_by_its_signals(en):
    words = explain.words([], "visitor", signals={"text": 0.3, "category": 0.1, "profile": 0.0})
    assert words == ["Their products match what you told us you need.",
                     "They offer the categories you are interested in."]
    assert explain.words([], "exhibitor", signals={"history": 0.2}) == [
        "Visitors like this one found you useful at past editions."]


def test_long_quotes_are_cut(en):
    need = "x" * 200
    words = explain.words([{"signal": "text", "matches": [{"need": need, "doc_kind": "product",
                                                             "doc_title": "Chair"}]}], "visitor")
    assert "x" * 59 + "…" in words[0] and "x" * 61 not in words[0]


def test_signal_shares_for_the_organizer(en):
    assert explain.signal_words({"category": 0.3, "text": 0.1, "history": 0}) == [("Categories", 75),
                                                                                  ("Needs and products", 25)]


def test_a_chosen_option_given_in_both_languages_is_quoted_in_the_readers(app):
    """Needs from a multiple-choice answer carry the option's labels in both languages ("Outdoor furniture
    户外家具"); free text stays as the visitor wrote it."""
    reason = {"signal": "text", "matches": [{"need": "Outdoor furniture 户外家具", "doc_kind": "product",
                                             "doc_title": "Teak bench 柚木长椅"}]}
    with app.test_request_context():
        assert explain.words([reason], locale="en") == [
            "Your need “Outdoor furniture” matches their product “Teak bench”."]
        assert "户外家具" in explain.words([reason], locale="zh_CN")[0]
        assert "Outdoor" not in explain.words([reason], locale="zh_CN")[0]
