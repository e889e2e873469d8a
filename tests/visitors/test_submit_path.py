"""The lean submit path of the public form (issue 7 benchmark): the rows written with INSERT … RETURNING are
whole ORM rows afterwards; a submit checks only the interests it sent; only filled colleague rows are built,
and the page still shows all ten with what was typed; hostile values in those fields are errors, never 500."""
from __future__ import annotations

from sqlalchemy import func, select

from expo.core import services as core
from expo.core.models import Activity, AuditEntry
from expo.core.scoping import Scope
from expo.extensions import db
from expo.visitors import services as visitor_services
from expo.visitors.models import Person, Registration, registration_interests

from ..conftest import csrf_token, field_errors, redirect_path


def _show(make):
    organizer = make.organizer()
    scope = Scope(organizer.id)
    show = core.create_show(scope, f"Lean Fair {make._next()}")
    chairs = core.add_category(scope, show, "Office chairs")
    sofas = core.add_category(scope, show, "Sofas")
    return organizer, show, chairs, sofas


def _post(client, edition, **fields):
    url = f"/e/{edition.slug}"
    data = {"name": "王小明", "email": "wang.xiaoming@example.cn", "phone": "13912345678", "company": "宏达家具",
            "job_title": "采购经理", "country": "CN", "category": "buyer", "consent": "y",
            "share_with_exhibitors": "y", "invitation_code": "", "website": ""}
    for index in range(10):  # a browser sends every input of the page: ten empty colleague rows
        data.update({f"colleagues-{index}-{name}": "" for name in ("name", "email", "job_title")})
    data.update(fields)
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def _count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_submit_writes_every_row_and_the_registration_is_a_whole_orm_row(make, client):
    organizer, show, chairs, sofas = _show(make)
    edition = make.edition(organizer, show=show)
    db.session.commit()
    response = _post(client, edition, interests=[str(chairs.id), str(sofas.id)])
    assert redirect_path(response).endswith("/mail-sent")
    db.session.expire_all()
    registration = db.session.scalar(select(Registration).where(Registration.edition_id == edition.id))
    assert registration.person.email == "wang.xiaoming@example.cn" and registration.person.pinyin_key
    assert sorted(c.id for c in registration.interests) == sorted([chairs.id, sofas.id])
    assert isinstance(registration.consent_version_id, int) and registration.sharing_version_id
    assert registration.status_reason == "" and registration.category_set_by == "visitor"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "registration.created", AuditEntry.object_id == registration.id)) == 1
    assert db.session.scalar(select(func.count()).select_from(Activity).where(
        Activity.kind == "registration.created", Activity.subject_id == registration.person_id)) == 1


def test_register_returns_a_persistent_row_that_later_changes_update(make):
    organizer, show, chairs, _sofas = _show(make)
    edition = make.edition(organizer, show=show)
    db.session.commit()
    data = visitor_services.RegistrationData(name="Li Lei", email="li.lei@example.cn", category="buyer",
                                             consent=True, share_with_exhibitors=True, interest_ids=[chairs.id])
    registration = visitor_services.register(edition, data, send_confirmation=False)
    # as the unit of work leaves it: ids, defaults, relationships, the consent version's id (a SQL expression)
    assert registration.id and registration.person.id == registration.person_id
    assert registration.edition is edition and [c.id for c in registration.interests] == [chairs.id]
    assert registration.badge_serial == 1 and registration.answers == {} and registration.created_at is not None
    assert registration.consent_version_id is None or isinstance(registration.consent_version_id, int)
    assert registration in db.session and not db.session.dirty and not db.session.new
    registration.status_reason = "checked"
    registration.person.job_title = "Buyer"
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(Registration, registration.id)
    assert stored.status_reason == "checked" and stored.person.job_title == "Buyer"
    assert db.session.scalar(select(func.count()).select_from(registration_interests).where(
        registration_interests.c.registration_id == stored.id)) == 1


def test_interests_that_are_not_the_shows_are_refused_beside_the_field_never_a_500(make, client):
    organizer, show, chairs, _sofas = _show(make)
    _other_organizer, _other_show, foreign, _x = _show(make)
    edition = make.edition(organizer, show=show)
    db.session.commit()
    for bad in ("²", "99999999999999999999", "abc", "-1", str(foreign.id), "0"):
        response = _post(client, edition, interests=[str(chairs.id), bad])
        assert response.status_code == 200, (bad, response.status_code)
        assert field_errors(response.get_data(as_text=True), "interests"), bad
    assert _count(Registration) == 0 and _count(Person) == 0


def test_a_page_shown_again_has_every_interest_and_ten_colleague_rows_with_what_was_typed(make, client):
    organizer, show, chairs, _sofas = _show(make)
    edition = make.edition(organizer, show=show)
    db.session.commit()
    response = _post(client, edition, email="not-an-address", interests=[str(chairs.id)],
                     **{"colleagues-3-name": "Liu Yang", "colleagues-3-email": "liu.yang@example.cn"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and field_errors(page, "email")
    assert "Office chairs" in page and "Sofas" in page  # the whole tree, not only what was sent
    assert page.count('name="colleagues-') == 30 and "Liu Yang" in page


def test_a_colleague_in_any_row_among_empty_ones_is_registered(make, client):
    edition = make.edition()
    db.session.commit()
    response = _post(client, edition, group_consent="y",
                     **{"colleagues-6-name": "Zhou Min", "colleagues-6-email": "zhou.min@example.cn",
                        "colleagues-2-name": "  ", "colleagues-2-email": " "})
    assert redirect_path(response).endswith("/mail-sent")
    db.session.expire_all()
    emails = sorted(r.person.email for r in db.session.scalars(select(Registration).where(
        Registration.edition_id == edition.id)))
    assert emails == ["wang.xiaoming@example.cn", "zhou.min@example.cn"]
