"""Segments evaluated into SQL on fixed data: each filter alone, the office-chair example, combinations."""
from expo.campaigns import segments, services
from expo.campaigns.segments import Segment
from expo.extensions import db

from .conftest import office_chairs


def people(fair, segment: Segment) -> set[int]:
    return set(db.session.scalars(segments.person_ids(fair.target, segment)))


def names(fair, segment: Segment) -> set[str]:
    by_id = {p.id: name for name, p in fair.people.items()}
    return {by_id[i] for i in people(fair, segment)}


def test_last_editions_buyers_interested_in_office_chairs_not_registered_yet(fair):
    """The issue's example: alice (office chairs) and bob (ergonomic chairs, a sub-category) only."""
    segment = office_chairs(fair)
    assert names(fair, segment) == {"alice", "bob"}
    assert segments.count(fair.target, segment) == 2
    preview = services.preview(fair.target, segment)
    assert preview.count == 2 and {p.id for p, _locale in preview.rows} == fair.ids("alice", "bob")


def test_attended_previous_show_and_chosen_editions(fair):
    last = {"alice", "bob", "carol", "dave", "erin"}  # gina unsubscribed, hank cancelled
    assert names(fair, Segment(attended="previous")) == last
    assert names(fair, Segment(attended="show")) == last | {"frank"}
    assert names(fair, Segment(attended="editions", edition_ids=[fair.older.id])) == {"alice", "frank"}
    assert names(fair, Segment(attended="editions", edition_ids=[])) == set()
    # the target edition itself is never a source, nor another organizer's edition
    assert names(fair, Segment(attended="editions", edition_ids=[fair.target.id])) == set()


def test_visitor_category(fair):
    assert names(fair, Segment(categories=["trade_visitor"])) == {"dave"}
    assert names(fair, Segment(categories=["buyer", "trade_visitor"])) == {"alice", "bob", "carol", "dave", "erin"}


def test_interests_include_sub_categories(fair):
    c = fair.categories
    assert names(fair, Segment(interests=[c["office"].id])) == {"alice", "bob", "carol", "dave"}
    assert names(fair, Segment(interests=[c["ergonomic"].id])) == {"bob"}
    assert names(fair, Segment(interests=[c["home"].id])) == {"erin"}
    assert names(fair, Segment(interests=[999999])) == set()  # unknown: matches nobody, never everybody


def test_country(fair):
    assert names(fair, Segment(countries=["DE"])) == {"bob"}
    assert names(fair, Segment(countries=["HK", "DE"])) == {"bob", "erin"}


def test_checked_in_or_not(fair):
    assert names(fair, Segment(checked_in="yes")) == {"alice"}
    assert names(fair, Segment(checked_in="no")) == {"bob", "carol", "dave", "erin"}


def test_returning_and_first_time(fair):
    assert names(fair, Segment(attended="show", history="returning")) == {"alice"}
    assert names(fair, Segment(attended="show", history="first_time")) == {"bob", "carol", "dave", "erin", "frank"}


def test_registered_for_the_target_edition_or_not(fair):
    assert names(fair, Segment(registered="yes")) == {"carol"}
    assert names(fair, Segment(registered="no")) == {"alice", "bob", "dave", "erin"}


def test_exhibitor_invited(fair):
    assert names(fair, Segment(exhibitor_invited=True)) == {"bob"}


def test_filters_combine_with_and(fair):
    segment = Segment(attended="show", categories=["buyer"], interests=[fair.categories["chairs"].id],
                      countries=["CN"], history="returning", registered="no", checked_in="yes")
    assert names(fair, segment) == {"alice"}
    assert names(fair, Segment(countries=["DE"], checked_in="yes")) == set()


def test_unsubscribed_erased_merged_and_addressless_people_are_never_in(fair):
    from expo.core import services as core

    core.resubscribe(fair.organizer.id, "gina@example.com")
    assert "gina" in names(fair, Segment())
    dave = fair.people["dave"]
    dave.email, dave.email_key = None, None
    erin = fair.people["erin"]
    erin.merged_into_id = fair.people["bob"].id
    db.session.flush()
    assert names(fair, Segment()) == {"alice", "bob", "carol", "gina"}


def test_another_organizers_people_never_match(fair, make):
    other = make.edition(name="Other fair")
    make.registration(other, email="alice@example.com")  # same address, another organizer
    db.session.flush()
    assert names(fair, Segment()) == {"alice", "bob", "carol", "dave", "erin"}
    assert len(people(fair, Segment())) == 5


def test_saved_definitions_are_read_tolerantly(fair):
    """Whatever a form or a hand-edited row holds, reading it gives a valid segment (never an error)."""
    assert Segment.from_dict(None) == Segment()
    assert Segment.from_dict({"attended": "drop table", "categories": ["buyer", "wizard", "buyer"],
                              "interests": ["7", "x", -1, 2**40, None], "countries": ["cn, de", "xyz", "中国"],
                              "checked_in": "maybe", "history": 3, "registered": "no",
                              "exhibitor_invited": "yes"}) == Segment(
        attended="previous", categories=["buyer"], interests=[7], countries=["CN", "DE"], registered="no",
        exhibitor_invited=True)
    saved = office_chairs(fair).as_dict()
    assert Segment.from_dict(saved) == office_chairs(fair)


def test_describe_says_what_the_segment_is(fair):
    lines = segments.describe(fair.target, office_chairs(fair))
    assert any("Fair 2025" in line for line in lines)
    assert any("Office chairs" in line for line in lines)
    assert any("Fair 2026" in line for line in lines)
