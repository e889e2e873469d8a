"""The organizer's path through the UI: a show, its category tree, an edition, its status and consent."""
from __future__ import annotations

import html
import re
from datetime import date

import pytest
from sqlalchemy import select

from expo.core import services as core
from expo.core.models import Category, Edition, Show
from expo.extensions import db
from expo.visitors.models import Person, Registration

from ..conftest import Browser, count, csrf_token, field_errors, redirect_path

CONSENT = "我同意主办方存储并使用我的登记信息 / I agree that the organizer stores my registration data."


def option_value(page: str, text: str) -> str:
    """The value of the <option> whose label ends with ``text`` (tree labels are prefixed with dashes)."""
    for value, label in re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', page):
        if html.unescape(label).strip().endswith(text):
            return value
    raise AssertionError(f"no option {text!r}")


EDITION_FORM = {"name": "Shenzhen Furniture Fair 2031", "starts_on": "2031-03-18", "ends_on": "2031-03-21",
                "venue": "Shenzhen World Exhibition & Convention Center", "timezone": "Asia/Shanghai",
                "consent_text": CONSENT}


@pytest.fixture
def owner(make):
    user = make.user("owner")
    db.session.commit()
    return user


@pytest.fixture
def browser(app, owner):
    return Browser(app, owner)


def create_show(browser, name="Shenzhen Furniture Fair") -> Show:
    response = browser.post("/org/shows/new", data={"name": name})
    match = re.fullmatch(r"/org/shows/(\d+)", redirect_path(response))
    assert match, response.headers["Location"]
    return db.session.get(Show, int(match.group(1)))


def add_category(browser, show, name, parent="0"):
    return browser.post(f"/org/shows/{show.id}", data={"name": name, "parent_id": parent})


def create_edition(browser, show, **changes) -> Edition:
    response = browser.post(f"/org/shows/{show.id}/editions/new", data={**EDITION_FORM, **changes})
    match = re.fullmatch(r"/org/editions/(\d+)", redirect_path(response))
    assert match, response.headers["Location"]
    return db.session.get(Edition, int(match.group(1)))


def test_organizer_creates_a_show(app, owner, browser):
    show = create_show(browser)
    assert show.organizer_id == owner.organizer_id
    assert show.name == "Shenzhen Furniture Fair"
    assert "Shenzhen Furniture Fair" in browser.get(f"/org/shows/{show.id}").get_data(as_text=True)
    assert "Shenzhen Furniture Fair" in browser.get("/org").get_data(as_text=True)


def test_show_without_a_name_is_refused(app, browser):
    response = browser.post("/org/shows/new", data={"name": ""})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "name")
    assert count(Show) == 0


def test_category_tree_on_the_show_page(app, browser):
    show = create_show(browser)
    assert redirect_path(add_category(browser, show, "Furniture")) == f"/org/shows/{show.id}"
    assert redirect_path(add_category(browser, show, "Lighting")) == f"/org/shows/{show.id}"
    page = browser.get(f"/org/shows/{show.id}").get_data(as_text=True)
    furniture_id = option_value(page, "Furniture")
    assert redirect_path(add_category(browser, show, "Office chairs", furniture_id)) == f"/org/shows/{show.id}"

    rows = {c.name: c for c in db.session.scalars(select(Category).where(Category.show_id == show.id))}
    assert set(rows) == {"Furniture", "Lighting", "Office chairs"}
    assert rows["Furniture"].parent_id is None and rows["Lighting"].parent_id is None
    assert rows["Office chairs"].parent_id == rows["Furniture"].id == int(furniture_id)
    assert all(c.organizer_id == show.organizer_id for c in rows.values())

    # shown as a tree: the child right under its parent, one level deeper
    page = browser.get(f"/org/shows/{show.id}").get_data(as_text=True)
    items = re.findall(r'<li class="depth-\d+" data-depth="(\d+)">([^<]+)</li>', page)
    assert [(int(depth), name) for depth, name in items] == [(0, "Furniture"), (1, "Office chairs"), (0, "Lighting")]
    assert "— Office chairs" in html.unescape(page)  # the parent choice shows the depth too


def test_duplicate_category_under_the_same_parent_is_refused(app, browser):
    show = create_show(browser)
    add_category(browser, show, "Furniture")
    add_category(browser, show, "Lighting")
    furniture_id = option_value(browser.get(f"/org/shows/{show.id}").get_data(as_text=True), "Furniture")
    add_category(browser, show, "Office chairs", furniture_id)
    before = count(Category)

    for name, parent in (("Office chairs", furniture_id), ("Lighting", "0"), ("  Lighting ", "0")):
        response = add_category(browser, show, name, parent)
        assert response.status_code == 200, name
        assert field_errors(response.get_data(as_text=True), "name") == ["This category exists already."], name
        assert count(Category) == before

    # the same name under another parent is another category
    lighting_id = option_value(browser.get(f"/org/shows/{show.id}").get_data(as_text=True), "Lighting")
    assert redirect_path(add_category(browser, show, "Office chairs", lighting_id)) == f"/org/shows/{show.id}"
    assert count(Category) == before + 1


def test_organizer_creates_an_edition(app, owner, browser):
    show = create_show(browser)
    edition = create_edition(browser, show)
    assert edition.show_id == show.id and edition.organizer_id == owner.organizer_id
    assert edition.name == "Shenzhen Furniture Fair 2031"
    assert (edition.starts_on, edition.ends_on) == (date(2031, 3, 18), date(2031, 3, 21))
    assert edition.venue == "Shenzhen World Exhibition & Convention Center"
    assert edition.timezone == "Asia/Shanghai"
    assert edition.consent_text == CONSENT and edition.consent_version == "1"
    assert edition.status == "draft"
    assert edition.slug

    page = browser.get(f"/org/editions/{edition.id}").get_data(as_text=True)
    assert "Shenzhen Furniture Fair 2031" in page and "Asia/Shanghai" in page
    assert f"/e/{edition.slug}" in page
    assert "Shenzhen Furniture Fair 2031" in browser.get(f"/org/shows/{show.id}").get_data(as_text=True)


@pytest.mark.parametrize("changes, field, message", [
    ({"timezone": "Mars/Olympus"}, "timezone", "Unknown time zone."),
    ({"starts_on": "2031-03-21", "ends_on": "2031-03-18"}, "ends_on", "The edition cannot end before it starts."),
], ids=["bad-time-zone", "end-before-start"])
def test_bad_edition_is_refused_with_a_message_at_the_field(app, browser, changes, field, message):
    show = create_show(browser)
    response = browser.post(f"/org/shows/{show.id}/editions/new", data={**EDITION_FORM, **changes})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert field_errors(page, field) == [message]
    assert count(Edition) == 0
    # what was typed is kept for the correction
    assert 'value="Shenzhen Furniture Fair 2031"' in page


def test_registration_opens_with_the_status(app, client, browser):
    show = create_show(browser)
    add_category(browser, show, "Furniture")
    add_category(browser, show, "Lighting")
    furniture_id = option_value(browser.get(f"/org/shows/{show.id}").get_data(as_text=True), "Furniture")
    add_category(browser, show, "Office chairs", furniture_id)
    edition = create_edition(browser, show)
    categories = {c.name: c.id for c in db.session.scalars(select(Category).where(Category.show_id == show.id))}
    public = f"/e/{edition.slug}"
    visitor = {"name": "王小明", "email": "xiaoming@example.cn", "company": "深圳宏达家具有限公司",
               "category": "buyer", "interests": [str(categories["Furniture"]), str(categories["Office chairs"])],
               "consent": "y", "share_with_exhibitors": "y"}

    # draft: not published — the public page does not exist yet, and a POST stores nothing
    response = client.get(public)
    assert response.status_code == 404 and edition.name not in response.get_data(as_text=True)
    response = client.post(public, data={**visitor, "csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 404
    assert count(Registration) == 0 and count(Person) == 0

    # the organizer opens registration
    response = browser.post(f"/org/editions/{edition.id}", data={"status": "registration_open"})
    assert redirect_path(response) == f"/org/editions/{edition.id}"
    db.session.refresh(edition)
    assert edition.status == "registration_open"

    page = client.get(public).get_data(as_text=True)
    assert "Registration for this edition is not open." not in page
    assert 'name="email"' in page
    offered = dict((int(v), html.unescape(label)) for v, label in re.findall(
        r'<input[^>]*name="interests"[^>]*value="(\d+)"[^>]*>\s*<label[^>]*>([^<]*)</label>', page))
    assert set(offered) == set(categories.values())
    assert offered[categories["Office chairs"]].endswith("Office chairs")
    assert CONSENT in html.unescape(page)

    response = client.post(public, data={**visitor, "csrf_token": csrf_token(client, public)})
    assert redirect_path(response) == f"{public}/mail-sent"  # "check your inbox": the badge link comes by mail
    registration = db.session.scalar(select(Registration))
    assert registration.edition_id == edition.id
    assert {c.name for c in registration.interests} == {"Furniture", "Office chairs"}
    assert registration.consent_version == "1"


def test_status_is_changed_only_to_a_known_status(app, browser):
    show = create_show(browser)
    edition = create_edition(browser, show)
    response = browser.post(f"/org/editions/{edition.id}", data={"status": "party"})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "status")
    db.session.refresh(edition)
    assert edition.status == "draft"


def test_changed_consent_text_gets_a_new_version_and_past_consents_keep_theirs(app, client, browser):
    show = create_show(browser)
    edition = create_edition(browser, show)
    browser.post(f"/org/editions/{edition.id}", data={"status": "registration_open"})
    public = f"/e/{edition.slug}"

    def register(email):
        response = client.post(public, data={"name": "Visitor", "email": email, "category": "buyer", "consent": "y",
                                             "csrf_token": csrf_token(client, public)})
        assert redirect_path(response) == f"{public}/mail-sent"  # "check your inbox"
        return db.session.scalar(select(Registration).join(Person).where(Person.email == email))

    first = register("first@example.com")
    assert first.consent_version == "1"

    core.update_consent_text(edition, "New consent text, version two.")
    db.session.commit()
    assert edition.consent_version == "2"
    core.update_consent_text(edition, "  New consent text, version two. ")  # the same text: no new version
    db.session.commit()
    assert edition.consent_version == "2"

    assert "New consent text, version two." in client.get(public).get_data(as_text=True)
    second = register("second@example.com")
    assert second.consent_version == "2"
    db.session.refresh(first)
    assert first.consent_version == "1"
    assert first.consent_at is not None and second.consent_at is not None
