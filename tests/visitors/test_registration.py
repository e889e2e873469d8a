"""The public pre-registration form /e/<slug> over HTTP: what a complete registration stores, the
form's errors next to their fields, returning visitors, duplicates, foreign interests, tenants."""
from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from expo.core import services as core
from expo.core.models import MailMessage
from expo.core.scoping import Scope
from expo.extensions import db
from expo.visitors import services as visitor_services
from expo.visitors.models import Person, Registration, registration_interests

from ..conftest import csrf_token


def _form(**overrides) -> dict:
    data = {"name": "李华", "email": "li.hua@example.cn", "phone": "+86 138-0000-1111",
            "company": "深圳宏达家具有限公司", "job_title": "采购经理", "country": "CN", "category": "buyer",
            "consent": "y", "share_with_exhibitors": "y"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _post(client, edition, data, **kwargs):
    """A visitor at their browser: open the page (session + CSRF token), then submit the form."""
    url = f"/e/{edition.slug}"
    token = csrf_token(client, url)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


def _fields(page: str) -> dict[str, str]:
    """The HTML of each ``.field`` div of the page, keyed by the name of the input it holds."""
    out = {}
    for block in re.findall(r'<div class="field[^"]*">(.*?)</div>', page, re.S):
        name = re.search(r'name="([^"]+)"', block)
        if name:
            out[name.group(1)] = block
    return out


def _errors(block: str) -> list[str]:
    return [html.unescape(e) for e in re.findall(r'<span class="error">(.*?)</span>', block, re.S)]


def _value(block: str) -> str | None:
    match = re.search(r'value="([^"]*)"', block)
    return html.unescape(match.group(1)) if match else None


def _counts() -> tuple[int, int]:
    db.session.expire_all()
    return (db.session.scalar(select(func.count(Person.id))), db.session.scalar(select(func.count(Registration.id))))


def _registration(edition) -> list[Registration]:
    db.session.expire_all()
    return list(db.session.scalars(select(Registration).where(Registration.edition_id == edition.id)
                                   .order_by(Registration.id)))


def _show_with_categories(make, organizer=None):
    organizer = organizer or make.organizer()
    scope = Scope(organizer.id)
    show = core.create_show(scope, f"Furniture Fair {make._next()}")
    furniture = core.add_category(scope, show, "Furniture 家具")
    office = core.add_category(scope, show, "Office furniture 办公家具", furniture)
    lighting = core.add_category(scope, show, "Lighting 照明")
    return organizer, show, (furniture, office, lighting)


# --- a complete registration ----------------------------------------------------------------------

def test_complete_registration_stores_person_and_registration_and_redirects_to_check_your_inbox(app, client, make):
    organizer, show, (furniture, office, lighting) = _show_with_categories(make)
    edition = make.edition(organizer, show=show)
    edition.consent_version = "3"
    db.session.commit()

    response = _post(client, edition, _form(interests=[str(office.id), str(lighting.id)]))

    assert response.status_code == 302, response.get_data(as_text=True)
    [registration] = _registration(edition)
    assert response.headers["Location"].endswith(f"/e/{edition.slug}/mail-sent")  # the badge link comes by mail
    person = registration.person
    assert person.organizer_id == edition.organizer_id
    assert (person.name, person.email, person.phone, person.company, person.job_title, person.country) == (
        "李华", "li.hua@example.cn", "+86 138-0000-1111", "深圳宏达家具有限公司", "采购经理", "CN")
    assert registration.organizer_id == edition.organizer_id
    assert registration.category == "buyer"
    assert registration.source == "online"
    assert registration.status == "confirmed"
    assert sorted(c.id for c in registration.interests) == sorted([office.id, lighting.id])
    assert registration.consent_version == "3"
    assert registration.consent_at is not None
    assert registration.share_with_exhibitors is True
    assert registration.locale == "en"
    # the confirmation page the mail links to answers
    landing = client.get(f"/r/{registration.access_key}")
    assert landing.status_code == 200
    assert "李华" in landing.get_data(as_text=True)


def test_registration_without_sharing_ticked_does_not_share_with_exhibitors(app, client, make):
    edition = make.edition()
    db.session.commit()

    response = _post(client, edition, _form(share_with_exhibitors=None, category="trade_visitor"))

    assert response.status_code == 302, response.get_data(as_text=True)
    [registration] = _registration(edition)
    assert registration.share_with_exhibitors is False
    assert registration.category == "trade_visitor"
    assert registration.interests == []


def test_registration_from_a_chinese_browser_keeps_the_locale_zh_cn(app, client, make):
    edition = make.edition()
    db.session.commit()

    response = _post(client, edition, _form(), headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})

    assert response.status_code == 302, response.get_data(as_text=True)
    [registration] = _registration(edition)
    assert registration.locale == "zh_CN"


# --- the form's errors ----------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, field", [
    ({"consent": None}, "consent"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"email": "li.hua-at-example.cn"}, "email"),
    ({"email": "li.hua@"}, "email"),
    ({"country": "CHN"}, "country"),
    ({"country": "C"}, "country"),
], ids=["missing-consent", "missing-name", "blank-name", "email-without-at", "email-without-domain",
        "three-letter-country", "one-letter-country"])
def test_invalid_form_comes_back_with_the_error_next_to_the_field_and_stores_nothing(app, client, make,
                                                                                    overrides, field):
    edition = make.edition()
    db.session.commit()
    data = _form(**overrides)

    response = _post(client, edition, data)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    fields = _fields(page)
    assert _errors(fields[field]), f"no error next to {field}: {fields[field]}"
    assert [name for name, block in fields.items() if _errors(block)] == [field]
    assert _counts() == (0, 0)
    # what the visitor typed is still in the form
    for name in ("name", "email", "phone", "company", "job_title", "country"):
        if data.get(name, "").strip():
            assert _value(fields[name]) == data[name], name
    assert 'value="buyer" selected' in fields["category"] or 'selected value="buyer"' in fields["category"]
    if "consent" in data:
        assert "checked" in fields["consent"]
    assert "checked" in fields["share_with_exhibitors"]


def test_missing_consent_shows_the_consent_message(app, client, make):
    edition = make.edition()
    db.session.commit()

    response = _post(client, edition, _form(consent=None))

    assert _errors(_fields(response.get_data(as_text=True))["consent"]) == ["Registration needs your consent."]


@pytest.mark.parametrize("country", ["12", "C1", "C."])
def test_country_code_must_be_two_letters(app, client, make, country):
    edition = make.edition()
    db.session.commit()

    response = _post(client, edition, _form(country=country))

    assert response.status_code == 200, f"country {country!r} was accepted: {response.headers.get('Location')}"
    assert _errors(_fields(response.get_data(as_text=True))["country"])
    assert _counts() == (0, 0)


# --- returning visitors ---------------------------------------------------------------------------

def _two_editions(make):
    organizer = make.organizer()
    show = core.create_show(Scope(organizer.id), "SZIFF")
    this_year = date.today() - timedelta(days=1)
    first = make.edition(organizer, show=show, starts_on=this_year.replace(year=this_year.year - 1),
                         status="registration_open")
    second = make.edition(organizer, show=show, starts_on=this_year, status="registration_open")
    return first, second


def test_returning_visitor_with_the_same_email_in_other_case_is_the_same_person(app, client, make):
    first, second = _two_editions(make)
    db.session.commit()

    assert _post(client, first, _form(email="li.hua@example.cn")).status_code == 302
    response = _post(client, second, _form(email="LI.HUA@Example.CN", phone=""))

    assert response.status_code == 302, response.get_data(as_text=True)
    assert _counts() == (1, 2)
    [a] = _registration(first)
    [b] = _registration(second)
    assert a.person_id == b.person_id


def test_returning_visitor_email_with_surrounding_spaces_is_the_same_person(app, client, make):
    """A pasted address with spaces around it is the same address (the service strips it; so must the form)."""
    first, second = _two_editions(make)
    db.session.commit()

    assert _post(client, first, _form(email="li.hua@example.cn")).status_code == 302
    response = _post(client, second, _form(email=" Li.Hua@Example.CN ", phone=""))

    assert response.status_code == 302, _errors(_fields(response.get_data(as_text=True))["email"])
    assert _counts() == (1, 2)
    assert _registration(first)[0].person_id == _registration(second)[0].person_id


def test_visitor_with_the_same_phone_but_another_email_is_another_person(app, client, make):
    """Identity is the email: a shared phone (a company switchboard, a family number) never merges people."""
    first, second = _two_editions(make)
    db.session.commit()

    assert _post(client, first, _form(email="li.hua@example.cn", phone="+86 138-0000-1111")).status_code == 302
    response = _post(client, second, _form(name="张三", email="zhang.san@newjob.example.cn", phone="0086 13800001111"))

    assert response.status_code == 302, response.get_data(as_text=True)
    assert _counts() == (2, 2)
    [a] = _registration(first)
    [b] = _registration(second)
    assert a.person_id != b.person_id
    assert (a.person.name, a.person.email) == ("李华", "li.hua@example.cn")
    assert a.person.phone_key == b.person.phone_key == "+8613800001111"
    assert visitor_services.find_person(first.organizer_id, "ZHANG.SAN@newjob.example.cn").id == b.person_id


def test_returning_visitor_newer_details_stay_on_the_registration_and_only_blank_fields_are_filled(app, client, make):
    first, second = _two_editions(make)
    db.session.commit()

    assert _post(client, first, _form(name="Li Hua", company="Old Furniture Co", job_title="Buyer",
                                      phone="", country="CN")).status_code == 302
    response = _post(client, second, _form(name="李华 Li Hua", email="Li.Hua@example.cn", company="New Home Ltd",
                                           job_title="", phone="0086 13800001111", country="hk"))

    assert response.status_code == 302, response.get_data(as_text=True)
    assert _counts() == (1, 2)
    [registration] = _registration(second)
    person = registration.person
    assert (person.name, person.email, person.company, person.job_title, person.country) == (
        "Li Hua", "li.hua@example.cn", "Old Furniture Co", "Buyer", "CN")  # never rewritten by a registration
    assert (person.phone, person.phone_key) == ("0086 13800001111", "+8613800001111")  # blank: filled in
    assert (registration.name_as_given, registration.company_as_given, registration.job_title_as_given,
            registration.phone_as_given) == ("李华 Li Hua", "New Home Ltd", "", "0086 13800001111")
    assert (registration.visitor_name, registration.visitor_company, registration.visitor_job_title) == (
        "李华 Li Hua", "New Home Ltd", "Buyer")


def test_registering_twice_for_the_same_edition_stores_nothing_and_mails_the_link_without_saying_so(app, client,
                                                                                                  make):
    """No registration oracle (issue 6): the anonymous form never says "already registered"; the address gets
    its own link by mail (tests/visitors/test_registration_public.py has the details)."""
    edition = make.edition()
    db.session.commit()
    first = _post(client, edition, _form(company="First Co"))
    assert first.status_code == 302
    mails_before = db.session.scalar(select(func.count(MailMessage.id)))

    response = _post(client, edition, _form(email="LI.HUA@example.cn", company="Second Co"))

    assert response.status_code == 302 and response.headers["Location"] == first.headers["Location"]
    assert _counts() == (1, 1)
    [registration] = _registration(edition)
    assert registration.person.company == "First Co"
    assert db.session.scalar(select(func.count(MailMessage.id))) == mails_before + 1


def test_two_people_with_the_same_phone_may_register_for_the_same_edition(app, client, make):
    edition = make.edition()
    db.session.commit()
    assert _post(client, edition, _form(email="a@example.cn", phone="+86 138-0000-1111")).status_code == 302

    response = _post(client, edition, _form(name="同事", email="b@example.cn", phone="0086 13800001111"))

    assert response.status_code == 302, response.get_data(as_text=True)
    assert _counts() == (2, 2)
    assert [r.person.email for r in _registration(edition)] == ["a@example.cn", "b@example.cn"]


# --- interests of another show --------------------------------------------------------------------

def test_interest_of_another_shows_category_is_never_stored(app, client, make):
    organizer, show, (furniture, _office, _lighting) = _show_with_categories(make)
    _organizer, _other_show, (foreign, *_rest) = _show_with_categories(make, organizer)
    edition = make.edition(organizer, show=show)
    db.session.commit()

    response = _post(client, edition, _form(interests=[str(furniture.id), str(foreign.id)]))

    if response.status_code == 200:  # refused as a tampered form: the complaint is next to the interests
        assert _errors(_fields(response.get_data(as_text=True))["interests"])
    else:
        assert response.status_code == 302
    stored = set(db.session.scalars(select(registration_interests.c.category_id)))
    assert foreign.id not in stored
    for registration in _registration(edition):
        assert [c.show_id for c in registration.interests] == [show.id] * len(registration.interests)


def test_register_service_ignores_an_interest_of_another_show(app, make):
    organizer, show, (furniture, _office, _lighting) = _show_with_categories(make)
    _organizer, _other_show, (foreign, *_rest) = _show_with_categories(make, make.organizer())
    edition = make.edition(organizer, show=show)
    data = visitor_services.RegistrationData(name="李华", email="li.hua@example.cn", category="buyer", consent=True,
                                             interest_ids=[furniture.id, foreign.id])

    registration = visitor_services.register(edition, data, send_confirmation=False)
    db.session.commit()

    assert [c.id for c in registration.interests] == [furniture.id]


# --- tenants --------------------------------------------------------------------------------------

def test_visitor_of_one_organizer_is_never_matched_to_a_person_of_another(app, client, make):
    edition_a = make.edition(make.organizer("Organizer A"))
    edition_b = make.edition(make.organizer("Organizer B"))
    db.session.commit()

    assert _post(client, edition_a, _form(company="A's view")).status_code == 302
    response = _post(client, edition_b, _form(email="Li.Hua@Example.cn", company="B's view"))

    assert response.status_code == 302, response.get_data(as_text=True)
    assert _counts() == (2, 2)
    [a] = _registration(edition_a)
    [b] = _registration(edition_b)
    assert a.person_id != b.person_id
    assert a.person.organizer_id == edition_a.organizer_id and a.person.company == "A's view"
    assert b.person.organizer_id == edition_b.organizer_id and b.person.company == "B's view"
    assert b.organizer_id == edition_b.organizer_id
