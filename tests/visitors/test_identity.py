"""Who a visitor is: identity is the normalized email; a phone number alone never merges or changes a
person; a new registration never rewrites a stored person; possible duplicates go to a staff review list
whose merge keeps every registration, lead and audit trail (issue 5, "Identity overwrite")."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from expo.core import services as core
from expo.core.models import AuditEntry
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.extensions import db
from expo.leads import services as lead_services
from expo.leads.models import Lead
from expo.visitors import services as visitors
from expo.visitors.models import Person, Registration

from ..conftest import Browser, csrf_token, login

SWITCHBOARD = "13912345678"
SWITCHBOARD_INTL = "+86 139 1234 5678"
SCANNED = datetime(2026, 5, 20, 2, 30, tzinfo=timezone.utc)


def _form(**overrides) -> dict:
    data = {"name": "王伟", "email": "wang.wei@huada.example.cn", "phone": SWITCHBOARD, "company": "华达家具有限公司",
            "job_title": "采购经理", "country": "CN", "category": "buyer", "consent": "y",
            "share_with_exhibitors": "y"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _post(client, edition, data):
    url = f"/e/{edition.slug}"
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def _data(**overrides) -> visitors.RegistrationData:
    values = {"name": "王伟", "email": "wang.wei@huada.example.cn", "phone": SWITCHBOARD, "company": "华达家具有限公司",
              "job_title": "采购经理", "category": "buyer", "consent": True, "share_with_exhibitors": True}
    values.update(overrides)
    return visitors.RegistrationData(**values)


def _only_registration(edition, email) -> Registration:
    db.session.expire_all()
    return db.session.scalar(select(Registration).join(Person).where(Registration.edition_id == edition.id,
                                                                     Person.email_key == email.lower()))


def _two_editions(make):
    organizer = make.organizer()
    show = core.create_show(Scope(organizer.id), "SZIFF")
    this_year = date.today() - timedelta(days=1)
    last = make.edition(organizer, show=show, starts_on=this_year.replace(year=this_year.year - 1))
    this = make.edition(organizer, show=show, starts_on=this_year, status="registration_open")
    return last, this


# --- phones -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("written", [SWITCHBOARD, SWITCHBOARD_INTL, "+86-139-1234-5678", "0086 139 1234 5678",
                                     "(+86) 13912345678", "139 1234 5678"])
def test_one_mobile_number_written_many_ways_has_one_e164_key(written):
    assert visitors.phone_key(written) == "+8613912345678"


def test_phone_key_of_other_countries_and_of_garbage():
    assert visitors.phone_key("+49 30 1234567") == "+49301234567"
    assert visitors.phone_key("030 1234567", region="DE") == "+49301234567"
    assert visitors.phone_key("") is None
    assert visitors.phone_key("n/a") is None
    assert visitors.phone_key("12") is None


# --- the scenario over HTTP --------------------------------------------------------------------

def test_a_different_person_with_the_same_phone_never_takes_over_the_earlier_visitor(app, client, make):
    last, this = _two_editions(make)
    exhibitor = make.exhibitor(last, "佛山金雅家居")
    exhibitor_admin = make.user("exhibitor_admin", exhibitor=exhibitor)
    db.session.commit()
    assert _post(client, last, _form()).status_code == 302
    earlier = _only_registration(last, "wang.wei@huada.example.cn")
    lead_id, _result = lead_services.capture_lead(exhibitor, earlier, exhibitor_admin, SCANNED)
    db.session.commit()
    earlier_person_id, earlier_key = earlier.person_id, earlier.access_key

    # Someone else at the same company gives the company's number, written another way.
    response = _post(client, this, _form(name="李娜", email="li.na@huada.example.cn", phone=SWITCHBOARD_INTL,
                                         company="华达集团", job_title="总经理"))

    assert response.status_code == 302, response.get_data(as_text=True)
    newcomer = _only_registration(this, "li.na@huada.example.cn")
    assert newcomer.person_id != earlier_person_id
    person = db.session.get(Person, earlier_person_id)
    assert (person.name, person.email, person.company, person.job_title) == (
        "王伟", "wang.wei@huada.example.cn", "华达家具有限公司", "采购经理")
    assert (newcomer.person.name, newcomer.person.email) == ("李娜", "li.na@huada.example.cn")
    assert newcomer.person.phone_key == person.phone_key == "+8613912345678"
    # the earlier visitor's own page still says who they are
    page = client.get(f"/r/{earlier_key}").get_data(as_text=True)
    assert "王伟" in page and "李娜" not in page
    # and so does the exhibitor's lead
    login(client, exhibitor_admin)
    lead_page = client.get(f"/portal/leads/{lead_id}").get_data(as_text=True)
    assert "王伟" in lead_page and "华达家具有限公司" in lead_page
    assert "李娜" not in lead_page and "li.na@huada.example.cn" not in lead_page
    assert lead_services.lead_contact(db.session.get(Lead, lead_id))["email"] == "wang.wei@huada.example.cn"


def test_a_colleague_sharing_the_company_switchboard_number_is_accepted_in_the_same_edition(app, client, make):
    edition = make.edition(status="registration_open")
    db.session.commit()
    assert _post(client, edition, _form(phone=SWITCHBOARD_INTL)).status_code == 302

    response = _post(client, edition, _form(name="李娜", email="li.na@huada.example.cn", phone="0086 139 1234 5678"))

    assert response.status_code == 302, response.get_data(as_text=True)
    first = _only_registration(edition, "wang.wei@huada.example.cn")
    second = _only_registration(edition, "li.na@huada.example.cn")
    assert first.person_id != second.person_id
    assert first.person.name == "王伟" and second.person.name == "李娜"


# --- the same rules at the service level -------------------------------------------------------------

def test_identity_is_decided_on_the_normalized_email_only(app, make):
    last, this = _two_editions(make)
    earlier = visitors.register(last, _data(), send_confirmation=False)

    same_phone = visitors.register(this, _data(name="李娜", email="li.na@huada.example.cn"), send_confirmation=False)
    same_email = visitors.register(make.edition(_organizer_of(last)),
                                   _data(email="  Wang.Wei@HUADA.example.cn ", phone=""), send_confirmation=False)
    db.session.commit()

    assert same_phone.person_id != earlier.person_id
    assert same_email.person_id == earlier.person_id
    assert visitors.find_person(last.organizer_id, "WANG.WEI@huada.example.cn").id == earlier.person_id
    assert visitors.find_person(last.organizer_id, "nobody@huada.example.cn") is None


def test_a_returning_visitor_never_rewrites_the_stored_person_and_keeps_the_new_details_on_the_registration(
        app, client, make):
    last, this = _two_editions(make)
    earlier = visitors.register(last, _data(name="Wang Wei", company="Old Furniture Co", job_title="Buyer",
                                            phone=""), send_confirmation=False)
    db.session.commit()

    later = visitors.register(this, _data(name="王伟 Wang Wei", email="WANG.WEI@huada.example.cn",
                                          company="New Home Ltd", job_title="Director", phone=SWITCHBOARD_INTL),
                              send_confirmation=False)
    db.session.commit()

    assert later.person_id == earlier.person_id
    person = db.session.get(Person, earlier.person_id)
    assert (person.name, person.email, person.company, person.job_title) == (
        "Wang Wei", "wang.wei@huada.example.cn", "Old Furniture Co", "Buyer")
    # a blank field of the person is filled in: that rewrites nothing
    assert (person.phone, person.phone_key) == (SWITCHBOARD_INTL, "+8613912345678")
    # what the visitor typed this time lives on this registration
    assert (later.name_as_given, later.company_as_given, later.job_title_as_given, later.phone_as_given) == (
        "王伟 Wang Wei", "New Home Ltd", "Director", SWITCHBOARD_INTL)
    assert (later.visitor_name, later.visitor_company) == ("王伟 Wang Wei", "New Home Ltd")
    assert (earlier.visitor_name, earlier.visitor_company) == ("Wang Wei", "Old Furniture Co")
    assert "Wang Wei" in client.get(f"/r/{earlier.access_key}").get_data(as_text=True)
    assert "王伟 Wang Wei" not in client.get(f"/r/{earlier.access_key}").get_data(as_text=True)
    assert "王伟 Wang Wei" in client.get(f"/r/{later.access_key}").get_data(as_text=True)


def test_the_same_email_twice_in_one_edition_is_still_refused(app, make):
    edition = make.edition()
    visitors.register(edition, _data(), send_confirmation=False)

    with pytest.raises(ServiceError, match="already registered"):
        visitors.register(edition, _data(email="Wang.Wei@huada.example.cn", name="Someone"), send_confirmation=False)


# --- possible duplicates: the review list and the merge ---------------------------------------------

def _pair_ids(pairs) -> set[frozenset]:
    return {frozenset((pair.person.id, pair.other.id)) for pair in pairs}


def test_same_phone_or_same_name_and_company_with_another_email_are_possible_duplicates(app, make):
    edition = make.edition()
    scope = Scope(edition.organizer_id)
    wang = visitors.register(edition, _data(), send_confirmation=False)
    li = visitors.register(edition, _data(name="李娜", email="li.na@huada.example.cn", phone=SWITCHBOARD_INTL),
                           send_confirmation=False)
    # another edition of the same organizer: another email, the same name (spaced) and company, no phone
    other_edition = make.edition(_organizer_of(edition))
    wang_private = visitors.register(other_edition, _data(email="wangwei@qq.example.com", phone="", name=" 王 伟 "),
                                     send_confirmation=False)
    stranger = visitors.register(edition, _data(name="赵六", email="zhao@example.cn", phone="13800001111",
                                                company="别的公司"), send_confirmation=False)
    db.session.commit()

    page = visitors.possible_duplicates(scope)

    assert _pair_ids(page.items) == {frozenset((wang.person_id, li.person_id)),
                                     frozenset((wang.person_id, wang_private.person_id))}
    assert page.total == 2
    reasons = {frozenset((p.person.id, p.other.id)): set(p.reasons) for p in page.items}
    assert reasons[frozenset((wang.person_id, li.person_id))] == {"phone"}
    assert reasons[frozenset((wang.person_id, wang_private.person_id))] == {"name_company"}
    assert stranger.person_id not in {pid for pair in _pair_ids(page.items) for pid in pair}
    # another organizer's visitors are never paired with ours
    assert visitors.possible_duplicates(Scope(make.organizer().id)).total == 0


def _organizer_of(edition):
    from expo.core.models import Organizer

    return db.session.get(Organizer, edition.organizer_id)


def test_merge_moves_registrations_and_leads_to_the_kept_person_and_is_audited(app, make):
    last, this = _two_editions(make)
    scope = Scope(last.organizer_id)
    exhibitor = make.exhibitor(last)
    staff = make.user("exhibitor_admin", exhibitor=exhibitor)
    manager = make.user("manager", _organizer_of(last))
    kept = visitors.register(last, _data(), send_confirmation=False)
    twin = visitors.register(this, _data(email="wangwei@qq.example.com", phone=SWITCHBOARD_INTL),
                             send_confirmation=False)
    lead_id, _result = lead_services.capture_lead(exhibitor, kept, staff, SCANNED)
    db.session.commit()
    kept_person, twin_person = kept.person_id, twin.person_id

    visitors.merge_persons(scope, kept_person, twin_person, actor_id=manager.id)
    db.session.commit()
    db.session.expire_all()

    assert {r.person_id for r in db.session.scalars(select(Registration))} == {kept_person}
    assert db.session.scalar(select(func.count(Registration.id))) == 2
    assert db.session.get(Lead, lead_id).registration_id == kept.id
    merged = db.session.get(Person, twin_person)
    assert merged is not None and merged.merged_into_id == kept_person  # kept, as an alias: nothing is lost
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "person.merged"))
    assert entry.user_id == manager.id and entry.object_id == kept_person
    assert entry.details["merged_person_id"] == twin_person
    assert entry.details["registration_ids"] == [twin.id]
    assert "wangwei@qq.example.com" not in str(entry.details)  # ids only: erasure never rewrites the audit log
    # the pair has left the review list, and the merged address now finds the kept person
    assert visitors.possible_duplicates(scope).total == 0
    assert visitors.find_person(last.organizer_id, "WangWei@qq.example.com").id == kept_person
    with pytest.raises(ServiceError, match="already registered"):
        visitors.register(this, _data(email="wangwei@qq.example.com"), send_confirmation=False)


def test_merge_with_both_registered_for_one_edition_is_refused_and_the_conflict_is_shown(app, make):
    edition = make.edition()
    scope = Scope(edition.organizer_id)
    first = visitors.register(edition, _data(), send_confirmation=False)
    second = visitors.register(edition, _data(email="wangwei@qq.example.com"), send_confirmation=False)
    db.session.commit()

    [pair] = visitors.possible_duplicates(scope).items
    assert [(c.edition.id, {c.registration.id, c.other_registration.id}) for c in pair.conflicts] == [
        (edition.id, {first.id, second.id})]
    with pytest.raises(ServiceError, match="both registered"):
        visitors.merge_persons(scope, first.person_id, second.person_id, actor_id=None)
    db.session.rollback()
    assert {r.person_id for r in db.session.scalars(select(Registration))} == {first.person_id, second.person_id}


def test_merge_refuses_persons_of_another_organizer(app, make):
    ours = visitors.register(make.edition(), _data(), send_confirmation=False)
    theirs = visitors.register(make.edition(), _data(email="other@example.cn"), send_confirmation=False)

    with pytest.raises(ServiceError):
        visitors.merge_persons(Scope(ours.organizer_id), ours.person_id, theirs.person_id, actor_id=None)


# --- the review list over HTTP ------------------------------------------------------------------------

def test_review_list_shows_the_pair_and_staff_merge_it(app, make):
    last, this = _two_editions(make)
    manager = make.user("manager", _organizer_of(last))
    kept = visitors.register(last, _data(), send_confirmation=False)
    twin = visitors.register(this, _data(name="王伟", email="wangwei@qq.example.com", phone=SWITCHBOARD_INTL),
                             send_confirmation=False)
    db.session.commit()
    staff = Browser(app, manager)

    page = staff.get("/org/duplicates").get_data(as_text=True)

    assert "wang.wei@huada.example.cn" in page and "wangwei@qq.example.com" in page
    assert "Same phone number" in page
    response = staff.post("/org/duplicates/merge", data={"keep": kept.person_id, "merge": twin.person_id})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Registration, twin.id).person_id == kept.person_id
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "person.merged")) == 1
    page = staff.get("/org/duplicates").get_data(as_text=True)
    assert "wangwei@qq.example.com" not in page


def test_staff_mark_a_pair_as_two_people_and_it_leaves_the_list(app, make):
    edition = make.edition()
    manager = make.user("manager", _organizer_of(edition))
    wang = visitors.register(edition, _data(), send_confirmation=False)
    li = visitors.register(edition, _data(name="李娜", email="li.na@huada.example.cn"), send_confirmation=False)
    db.session.commit()
    staff = Browser(app, manager)

    response = staff.post("/org/duplicates/distinct", data={"person": li.person_id, "other": wang.person_id})

    assert response.status_code == 302
    assert visitors.possible_duplicates(Scope(edition.organizer_id)).total == 0
    assert "li.na@huada.example.cn" not in staff.get("/org/duplicates").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Registration, li.id).person_id == li.person_id


def test_review_list_needs_the_manage_registrations_permission(app, make):
    edition = make.edition()
    sales = make.user("sales", _organizer_of(edition))
    db.session.commit()

    assert Browser(app, sales).get("/org/duplicates").status_code == 403


# --- a change to the person goes through staff, audited ----------------------------------------------

def test_staff_correct_a_visitors_details_and_the_change_is_audited(app, make):
    edition = make.edition()
    manager = make.user("manager", _organizer_of(edition))
    wang = visitors.register(edition, _data(), send_confirmation=False)
    li = visitors.register(edition, _data(name="李娜", email="li.na@huada.example.cn"), send_confirmation=False)
    db.session.commit()
    staff = Browser(app, manager)
    url = f"/org/editions/{edition.id}/registrations/{wang.id}/person"
    form = {"name": "王伟", "email": "wang.wei@huada.example.cn", "phone": "+86 139 0000 0000",
            "company": "华达家具有限公司", "job_title": "采购总监", "country": "CN"}

    response = staff.post(url, data=form)

    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    person = db.session.get(Person, wang.person_id)
    assert (person.job_title, person.phone_key) == ("采购总监", "+8613900000000")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "person.updated"))
    assert entry.user_id == manager.id and entry.object_id == person.id
    assert entry.details == {"fields": ["country", "job_title", "phone"]}  # names, never values (see privacy)

    # another visitor's email is refused next to the field: that would be a merge
    response = staff.post(url, data={**form, "email": "LI.NA@huada.example.cn"})
    assert response.status_code == 200
    assert "Another visitor has this email address" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Person, wang.person_id).email == "wang.wei@huada.example.cn"
    assert db.session.get(Person, li.person_id).email == "li.na@huada.example.cn"


def test_staff_without_the_manage_permission_cannot_edit_a_person(app, make):
    edition = make.edition()
    analyst = make.user("analyst", _organizer_of(edition))
    wang = visitors.register(edition, _data(), send_confirmation=False)
    db.session.commit()

    response = Browser(app, analyst).post(f"/org/editions/{edition.id}/registrations/{wang.id}/person",
                                          data={"name": "Someone else"})

    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Person, wang.person_id).name == "王伟"


def test_merging_another_organizers_visitors_over_http_changes_nothing(app, make):
    ours = make.edition()
    manager = make.user("manager", _organizer_of(ours))
    mine = visitors.register(ours, _data(), send_confirmation=False)
    theirs = visitors.register(make.edition(), _data(email="wangwei@qq.example.com"), send_confirmation=False)
    db.session.commit()
    staff = Browser(app, manager)

    for data in ({"keep": mine.person_id, "merge": theirs.person_id}, {"keep": "x"}, {}):
        response = staff.post("/org/duplicates/merge", data=data)
        assert response.status_code == 302 and response.headers["Location"].endswith("/org/duplicates")
    response = staff.post("/org/duplicates/distinct", data={"person": mine.person_id, "other": theirs.person_id})
    assert response.status_code == 302

    db.session.expire_all()
    assert db.session.get(Person, theirs.person_id).merged_into_id is None
    assert db.session.get(Registration, theirs.id).person_id == theirs.person_id
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action.like("person.%"))) == 0
