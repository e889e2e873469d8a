"""Customer search: persons and companies by Chinese name or pinyin (spaces or not, either order), email in
any case, phone in any writing, company; grouped, scoped to the organizer, for who may see each group."""
from __future__ import annotations

import pytest

from expo.core.scoping import Scope
from expo.core.search import company_key, name_keys, query_key, search
from expo.exhibitors import services as exhibitors
from expo.extensions import db
from expo.visitors import services as visitors

from ..conftest import Browser


def _register(make, edition, name, email, phone="", company=""):
    return visitors.register(edition, visitors.RegistrationData(
        name=name, email=email, phone=phone, company=company, category="buyer", consent=True),
        send_confirmation=False)


@pytest.fixture
def people(make):
    t = make.tenant("A", leads=False, visitors=0)
    zhang = _register(make, t.edition, "张伟", "Zhang.Wei@Example.CN", phone="139 1234 5678",
                      company="深圳宏达家具有限公司").person
    namesake = _register(make, t.edition, "章伟", "zw@example.cn").person  # same pinyin, other characters
    smith = _register(make, t.edition, "John Smith", "john@acme.example", company="Acme Co., Ltd.").person
    exhibitors.add_exhibitor(Scope(t.organizer.id), t.edition, "深圳宏达家具有限公司", hall="3", stand="B12")
    other = make.tenant("B", leads=False, visitors=0)
    stranger = _register(make, other.edition, "张伟", "zhang.wei@example.cn").person  # another organizer's
    db.session.commit()
    return t, {"zhang": zhang.id, "namesake": namesake.id, "smith": smith.id, "stranger": stranger.id}


def _found(t, text, group="persons", allowed=lambda p: True):
    _query, groups = search(Scope(t.organizer.id), text, allowed)
    by_key = {g.key: g for g in groups}
    return [r.url.rsplit("/", 1)[1] for r in by_key[group].results] if group in by_key else None


def _ids(t, text):
    return {int(i) for i in _found(t, text)}


def test_keys():
    assert name_keys("张伟") == ("zhangwei", "weizhang")
    assert name_keys("Zhang  Wei") == ("zhangwei", "weizhang")
    assert query_key("zhang wei") == query_key("zhangwei") == query_key("张伟") == "zhangwei"
    assert company_key("深圳宏达家具有限公司") == company_key("深圳 宏达家具（有限公司）") == "深圳宏达家具"
    assert company_key("Hongda Furniture Co., Ltd.") == company_key("HONGDA FURNITURE CO LTD") == "hongdafurniture"


def test_chinese_name_and_pinyin_with_and_without_spaces(app, people):
    t, ids = people
    with app.test_request_context():
        assert _ids(t, "张伟") == {ids["zhang"]}  # the characters: not 章伟
        assert _ids(t, "zhang wei") == {ids["zhang"], ids["namesake"]}  # pinyin finds both namesakes
        assert _ids(t, "zhangwei") == {ids["zhang"], ids["namesake"]}
        assert _ids(t, "Zhang Wei") == {ids["zhang"], ids["namesake"]}
        assert _ids(t, "wei zhang") == {ids["zhang"], ids["namesake"]}  # given name first
        assert _ids(t, "zhang") >= {ids["zhang"], ids["namesake"]}
        assert _ids(t, "smith") == {ids["smith"]}  # a family name written last
        assert ids["stranger"] not in _ids(t, "张伟")  # scoped to the organizer


def test_email_in_any_case_and_phone_in_any_writing(app, people):
    t, ids = people
    with app.test_request_context():
        assert _ids(t, "zhang.wei@example.cn") == {ids["zhang"]}
        assert _ids(t, "ZHANG.WEI@EXAMPLE.CN") == {ids["zhang"]}
        assert _ids(t, "13912345678") == {ids["zhang"]}
        assert _ids(t, "139-1234-5678") == {ids["zhang"]}
        assert _ids(t, "+86 139 1234 5678") == {ids["zhang"]}
        assert _ids(t, "+8613912345678") == {ids["zhang"]}


def test_company_finds_its_people_and_the_company(app, people):
    t, ids = people
    with app.test_request_context():
        assert _ids(t, "深圳宏达家具有限公司") == {ids["zhang"]}
        assert _ids(t, "深圳宏达") == {ids["zhang"]}
        assert _ids(t, "acme") == {ids["smith"]}
        assert len(_found(t, "宏达", group="companies")) == 1  # any part of a company's name
        assert len(_found(t, "深圳宏达家具 有限公司", group="companies")) == 1


def test_groups_follow_permissions(app, people):
    t, _ids_ = people
    with app.test_request_context():
        only_persons = lambda p: p == "view_registrations"  # noqa: E731
        assert _found(t, "深圳宏达", group="companies", allowed=only_persons) is None
        assert _found(t, "深圳宏达", group="persons", allowed=lambda p: p == "manage_exhibitors") is None


def test_search_page_and_top_bar(app, people):
    t, ids = people
    owner = Browser(app, t.users["owner"])
    page = owner.get("/org/search?q=zhang+wei").get_data(as_text=True)
    assert 'id="results-persons"' in page and 'id="results-companies"' in page
    assert f'/org/persons/{ids["zhang"]}' in page and f'/org/persons/{ids["namesake"]}' in page
    assert 'id="top-search"' in owner.get("/org").get_data(as_text=True)
    sales = Browser(app, t.users["sales"]).get("/org/search?q=宏达").get_data(as_text=True)
    assert 'id="results-companies"' in sales and 'id="results-persons"' not in sales
    assert Browser(app, t.users["analyst"]).get("/org/search?q=x").status_code == 403
    assert 'id="top-search"' not in Browser(app, t.users["analyst"]).get("/org").get_data(as_text=True)


def test_hostile_queries_get_an_answer(app, people):
    t, _ids_ = people
    owner = Browser(app, t.users["owner"])
    for text in ("", " ", "%", "_", "\\", "a" * 5000, "'; DROP TABLE persons; --", "😀", "@", "+", "()"):
        assert owner.get("/org/search", query_string={"q": text}).status_code == 200, text


def test_an_erased_visitor_leaves_no_search_key_and_is_not_found(app, people):
    from expo.visitors import privacy
    from expo.visitors.models import Person

    t, ids = people
    privacy.erase_person(db.session.get(Person, ids["zhang"]), by="staff")
    db.session.commit()
    erased = db.session.get(Person, ids["zhang"])
    assert (erased.pinyin_key, erased.pinyin_key_turned, erased.company_key) == (None, None, None)
    with app.test_request_context():
        assert ids["zhang"] not in _ids(t, "zhang wei")
        assert _found(t, "+8613912345678") == []
