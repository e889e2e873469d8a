"""Qualified registration: open and close times, capacity per category with a waiting list and its promotion,
the approval queue, invitation-only mode, the visitor's own edit and cancel pages, the setup page."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from expo.core.db import utcnow
from expo.core.models import Activity, AuditEntry, MailMessage, Organizer
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.extensions import db
from expo.visitors import invitations, policy
from expo.visitors import services as visitor_services
from expo.visitors.models import CategorySetting, Registration, RegistrationPolicy

from ..conftest import csrf_token, field_errors, login, redirect_path


def _form(**overrides) -> dict:
    data = {"name": "Wang Fang", "email": "wang.fang@example.cn", "company": "Hongda Furniture", "job_title": "Buyer",
            "category": "buyer", "consent": "y"}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def _post(client, edition, data, query=""):
    url = f"/e/{edition.slug}{query}"
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


def _setup(edition, *, opens_at=None, closes_at=None, invitation_only=False, **categories):
    """categories: buyer=(capacity, needs_approval)."""
    rules = [policy.CategoryRule(c, *v) for c, v in categories.items()]
    changes = policy.save_setup(edition, opens_at=opens_at, closes_at=closes_at, invitation_only=invitation_only,
                                rules=rules)
    db.session.commit()
    return changes


def _register(make, edition, n, category="buyer", **kwargs):
    """A registration as the public form makes it (mails queued after the commit)."""
    data = visitor_services.RegistrationData(name=f"Visitor {n}", email=f"v{n}@example.com", category=category,
                                             company=f"Buyer Co {n}", consent=True, **kwargs)
    return visitor_services.register(edition, data)


def _mails(recipient) -> list[MailMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(MailMessage).where(MailMessage.recipient == recipient)
                                   .order_by(MailMessage.id)))


def _registrations(edition) -> list[Registration]:
    db.session.expire_all()
    return list(db.session.scalars(select(Registration).where(Registration.edition_id == edition.id)
                                   .order_by(Registration.id)))


# --- open and close times ----------------------------------------------------------------------------------

def test_before_opening_and_after_closing_the_form_refuses_and_stores_nothing(app, make, client):
    edition = make.edition(status="registration_open", timezone="Asia/Shanghai")
    opens = utcnow() + timedelta(days=2)
    _setup(edition, opens_at=opens)
    with pytest.raises(ServiceError, match="opens on"):
        _register(make, edition, 1)
    db.session.rollback()
    page = client.get(f"/e/{edition.slug}").get_data(as_text=True)
    local = opens.astimezone(policy.edition_zone(edition)).strftime("%Y-%m-%d %H:%M")
    assert "registration-closed" in page and local in page and "Asia/Shanghai" in page
    response = _post(client, edition, _form())
    assert response.status_code == 200 and _registrations(edition) == []

    _setup(edition, opens_at=utcnow() - timedelta(days=5), closes_at=utcnow() - timedelta(minutes=1))
    with pytest.raises(ServiceError, match="closed on"):
        _register(make, edition, 2)
    db.session.rollback()
    assert _post(client, edition, _form()).status_code == 200 and _registrations(edition) == []

    _setup(edition, opens_at=utcnow() - timedelta(days=5), closes_at=utcnow() + timedelta(days=1))
    assert redirect_path(_post(client, edition, _form())).endswith("/mail-sent")
    assert len(_registrations(edition)) == 1


def test_times_open_nothing_when_the_edition_status_is_closed(make):
    edition = make.edition(status="closed")
    db.session.commit()
    state = policy.opening(edition)
    assert not state.open and "not open" in state.message


def test_closing_before_opening_is_refused(make):
    edition = make.edition()
    now = utcnow()
    with pytest.raises(ServiceError, match="close after"):
        policy.save_setup(edition, opens_at=now, closes_at=now - timedelta(hours=1), invitation_only=False, rules=[])


def test_imports_and_walk_ups_are_not_held_by_the_policy(make):
    edition = make.edition()
    _setup(edition, closes_at=utcnow() - timedelta(days=1), buyer=(0, False))
    registration = _register(make, edition, 1, source="walk_up")
    assert registration.status == "confirmed"


# --- capacity and the waiting list --------------------------------------------------------------------------

def test_over_capacity_registrations_are_waitlisted_and_told_so(make, client):
    edition = make.edition()
    _setup(edition, buyer=(2, False))
    statuses = [visitor_services.register(edition, visitor_services.RegistrationData(
        name=f"V{n}", email=f"v{n}@example.com", category="buyer", consent=True)).status for n in range(4)]
    db.session.commit()
    assert statuses == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    other = _register(make, edition, 9, category="trade_visitor")  # another category: no limit
    assert other.status == "confirmed"
    db.session.commit()
    [mail] = _mails("v2@example.com")
    assert "waiting list" in mail.subject and not mail.attachments  # no badge while waiting
    assert "/r/" in mail.body_text
    assert "badge" in _mails("v0@example.com")[0].subject.lower()
    login(client, make.user("owner", db.session.get(Organizer, edition.organizer_id)))
    assert "waiting list" in client.get("/org/outbox").get_data(as_text=True)  # a text-only mail shows too


def test_a_cancellation_promotes_the_first_waitlisted_and_mails_the_badge(make, client):
    edition = make.edition()
    _setup(edition, buyer=(1, False))
    first, second, third = (_register(make, edition, n) for n in range(3))
    db.session.commit()
    assert (first.status, second.status, third.status) == ("confirmed", "waitlisted", "waitlisted")
    assert 'id="status-waitlisted"' in client.get(f"/r/{second.access_key}").get_data(as_text=True)

    promoted = visitor_services.cancel_registration(first)
    db.session.commit()
    assert promoted == [second]
    assert (first.status, second.status, third.status) == ("cancelled", "confirmed", "waitlisted")
    assert any(m.attachments for m in _mails("v1@example.com"))  # the badge, now that there is a place
    kinds = set(db.session.scalars(select(Activity.kind).where(Activity.subject_id == second.person_id)))
    assert "registration.promoted" in kinds
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "registration.status", AuditEntry.object_id == second.id)) == 1

    # cancelling a waitlisted registration frees no place
    visitor_services.cancel_registration(third)
    db.session.commit()
    assert [r.status for r in _registrations(edition)] == ["cancelled", "confirmed", "cancelled"]


def test_raising_the_capacity_promotes_as_many_as_new_places(make):
    edition = make.edition()
    _setup(edition, buyer=(1, False))
    regs = [_register(make, edition, n) for n in range(4)]
    db.session.commit()
    _setup(edition, buyer=(3, False))
    assert [r.status for r in _registrations(edition)] == ["confirmed", "confirmed", "confirmed", "waitlisted"]
    _setup(edition, buyer=(None, False))  # no limit: everyone in
    assert [r.status for r in _registrations(edition)] == ["confirmed"] * 4
    assert regs


def test_lowering_the_capacity_keeps_who_is_confirmed(make):
    edition = make.edition()
    _setup(edition, buyer=(3, False))
    for n in range(3):
        _register(make, edition, n)
    db.session.commit()
    _setup(edition, buyer=(1, False))
    assert [r.status for r in _registrations(edition)] == ["confirmed"] * 3
    assert _register(make, edition, 5).status == "waitlisted"


def test_concurrent_submits_never_exceed_the_capacity(app, make):
    """Thirty visitors submit at the same moment for ten places: exactly ten confirmed, twenty waitlisted (the
    category's row is locked on PostgreSQL; SQLite lets one writer in at a time)."""
    import threading

    edition = make.edition()
    _setup(edition, buyer=(10, False))
    edition_id = edition.id
    db.session.remove()
    barrier = threading.Barrier(30)
    errors, statuses = [], []

    def submit(n):
        with app.app_context():
            try:
                from expo.core.models import Edition

                data = visitor_services.RegistrationData(name=f"Racer {n}", email=f"racer{n}@example.com",
                                                         category="buyer", consent=True)
                barrier.wait(timeout=20)  # released together; no connection held while waiting (pool of 15)
                target = db.session.get(Edition, edition_id)
                registration = visitor_services.register(target, data, send_confirmation=False)
                db.session.commit()
                statuses.append(registration.status)
            except Exception as error:  # noqa: BLE001 - the test reports any failure of a racer
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(statuses) == ["confirmed"] * 10 + ["waitlisted"] * 20
    counts = dict(db.session.execute(select(Registration.status, func.count(Registration.id))
                                     .where(Registration.edition_id == edition_id).group_by(Registration.status)).all())
    assert counts == {"confirmed": 10, "waitlisted": 20}


# --- approval -------------------------------------------------------------------------------------------------

def test_approval_categories_wait_in_the_queue_and_staff_decide(app, make, client):
    edition = make.edition()
    owner = make.user("owner", db.session.get(Organizer, edition.organizer_id))
    _setup(edition, media=(1, True))
    reporter, second, third = (_register(make, edition, n, category="media") for n in range(3))
    buyer = _register(make, edition, 7)
    db.session.commit()
    assert [r.status for r in (reporter, second, third, buyer)] == ["pending", "pending", "pending", "confirmed"]
    assert "approval" in _mails("v0@example.com")[0].subject

    login(client, owner)
    setup_page = client.get(f"/org/editions/{edition.id}/registration-setup").get_data(as_text=True)
    assert '<span class="badge text-bg-warning" id="pending-count">3</span>' in setup_page
    page = client.get(f"/org/editions/{edition.id}/approvals").get_data(as_text=True)
    assert "Visitor 0" in page and "Visitor 2" in page and "Visitor 7" not in page

    url = f"/org/editions/{edition.id}/approvals/{reporter.id}"
    response = client.post(url, data={"decision": "approve", "csrf_token": csrf_token(client, "/org")})
    assert redirect_path(response) == f"/org/editions/{edition.id}/approvals"
    db.session.expire_all()
    assert reporter.status == "confirmed"
    assert any(m.attachments for m in _mails("v0@example.com"))

    # the only media place is taken: the next approval goes to the waiting list
    client.post(f"/org/editions/{edition.id}/approvals/{second.id}",
                data={"decision": "approve", "csrf_token": csrf_token(client, "/org")})
    db.session.expire_all()
    assert second.status == "waitlisted"

    # a refusal needs a reason, which the visitor reads
    client.post(f"/org/editions/{edition.id}/approvals/{third.id}",
                data={"decision": "refuse", "reason": "", "csrf_token": csrf_token(client, "/org")})
    db.session.expire_all()
    assert third.status == "pending"
    response = client.post(f"/org/editions/{edition.id}/approvals/{third.id}",
                           data={"decision": "refuse", "reason": "Closed.\x00", "csrf_token": csrf_token(client, "/org")})
    assert response.status_code == 302  # a NUL byte: a clear error, not a 500
    db.session.expire_all()
    assert third.status == "pending"
    client.post(f"/org/editions/{edition.id}/approvals/{third.id}",
                data={"decision": "refuse", "reason": "  Press accreditation\n closed. ",
                      "csrf_token": csrf_token(client, "/org")})
    db.session.expire_all()
    assert third.status == "cancelled" and third.status_reason == "Press accreditation closed."
    refused = _mails("v2@example.com")[-1]
    assert "not accepted" in refused.subject and "Press accreditation closed." in refused.body_text
    assert "Press accreditation closed." in client.get(f"/r/{third.access_key}").get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry.details).where(AuditEntry.action == "registration.refused")) == {
        "reason": "Press accreditation closed."}

    # approving a registration that is not pending is refused, nothing changes
    response = client.post(f"/org/editions/{edition.id}/approvals/{buyer.id}",
                           data={"decision": "approve", "csrf_token": csrf_token(client, "/org")})
    assert response.status_code == 302
    db.session.expire_all()
    assert buyer.status == "confirmed"


# --- invitation-only -----------------------------------------------------------------------------------------

def test_invitation_only_refuses_without_a_valid_code_and_keeps_what_was_typed(make, client):
    t = make.tenant("A", visitors=0, leads=False)
    _setup(t.edition, invitation_only=True)
    with pytest.raises(ServiceError, match="invitation only"):
        _register(make, t.edition, 1)
    db.session.rollback()

    page = client.get(f"/e/{t.edition.slug}").get_data(as_text=True)
    assert 'name="invitation_code"' in page
    response = _post(client, t.edition, _form())
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and field_errors(page, "invitation_code")
    assert "Wang Fang" in page and "Hongda Furniture" in page  # nothing the visitor typed is lost
    response = _post(client, t.edition, _form(invitation_code="not-a-real-code"))
    assert response.status_code == 200 and field_errors(response.get_data(as_text=True), "invitation_code")
    assert _registrations(t.edition) == []

    code = invitations.create_code(Scope(t.organizer.id, t.exhibitor.id), t.exhibitor, "Spring mailing", None)
    db.session.commit()
    assert redirect_path(_post(client, t.edition, _form(invitation_code=code.code))).endswith("/mail-sent")
    [registration] = _registrations(t.edition)
    assert registration.invited_by_exhibitor_id == t.exhibitor.id and registration.source == "exhibitor_invitation"


def test_an_organizer_code_opens_an_invitation_only_edition_without_naming_an_exhibitor(make):
    edition = make.edition()
    _setup(edition, invitation_only=True)
    from expo.visitors.models import InvitationCode

    code = InvitationCode(organizer_id=edition.organizer_id, edition_id=edition.id, code=invitations.new_code(),
                          label="VIP", uses=0, active=True, is_default=False)
    db.session.add(code)
    db.session.commit()
    registration = _register(make, edition, 1, invitation_code=code.code)
    assert registration.source == "online" and registration.invited_by_exhibitor_id is None
    assert registration.invitation_code_id == code.id


# --- the visitor's own link: edit and cancel --------------------------------------------------------------------

def test_the_visitor_edits_their_details_through_their_link(make, client):
    edition = make.edition()
    registration = _register(make, edition, 1)
    db.session.commit()
    url = f"/r/{registration.access_key}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "Visitor 1" in page
    response = client.post(url, data={"name": "", "company": "X", "csrf_token": csrf_token(client, url)})
    assert response.status_code == 200 and field_errors(response.get_data(as_text=True), "name")
    response = client.post(url, data={"name": "Visitor One", "company": "New Co", "job_title": "Head of buying",
                                      "phone": "+86 138 0000 2222", "csrf_token": csrf_token(client, url)})
    assert redirect_path(response) == f"/r/{registration.access_key}"
    db.session.expire_all()
    assert (registration.name_as_given, registration.company_as_given, registration.job_title_as_given,
            registration.phone_as_given) == ("Visitor One", "New Co", "Head of buying", "+86 138 0000 2222")
    assert registration.person.name == "Visitor 1"  # the person record is staff's
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "registration.edited"))
    assert entry.details["fields"] == ["name", "company", "job_title", "phone"] and entry.details["by"] == "visitor"
    assert db.session.scalar(select(Activity.kind).where(Activity.kind == "registration.edited",
                                                         Activity.subject_id == registration.person_id))
    assert "Visitor One" in client.get(f"/r/{registration.access_key}").get_data(as_text=True)
    assert client.get("/r/not-a-key/edit").status_code == 404


def test_the_visitor_cancels_through_their_link_and_the_place_goes_to_the_waiting_list(make, client):
    edition = make.edition()
    _setup(edition, buyer=(1, False))
    first, waiting = _register(make, edition, 1), _register(make, edition, 2)
    db.session.commit()
    url = f"/r/{first.access_key}/cancel"
    assert "Yes, cancel" in client.get(url).get_data(as_text=True)
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert redirect_path(response) == f"/r/{first.access_key}"
    db.session.expire_all()
    assert (first.status, waiting.status) == ("cancelled", "confirmed")
    assert "cancelled" in _mails("v1@example.com")[-1].subject
    assert any(m.attachments for m in _mails("v2@example.com"))
    promoted = _mails("v2@example.com")[-1]  # the waiting visitor is told why the badge comes now
    assert promoted.subject.startswith("A place is free") and "You were on the waiting list" in promoted.body_text
    assert promoted.attachments and "You were on the waiting list" in promoted.body_html
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "registration.cancelled_by_visitor", AuditEntry.object_id == first.id)) == 1
    assert db.session.scalar(select(Activity.kind).where(Activity.kind == "registration.cancelled",
                                                         Activity.subject_id == first.person_id))
    # a cancelled registration cannot be edited any more; cancelling again changes nothing
    assert redirect_path(client.get(f"/r/{first.access_key}/edit")) == f"/r/{first.access_key}"
    client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert len(_mails("v1@example.com")) == 2


# --- the setup page -----------------------------------------------------------------------------------------

def test_the_setup_page_saves_times_in_the_editions_time_zone(make, client):
    t = make.tenant("A", visitors=0, leads=False)
    db.session.commit()
    login(client, t.users["manager"])
    url = f"/org/editions/{t.edition.id}/registration-setup"
    page = client.get(url).get_data(as_text=True)
    assert "Registration setup" in page and 'name="capacity_media"' in page
    response = client.post(url, data={"opens_at": "2030-03-01T09:00", "closes_at": "2030-03-10T18:00",
                                      "capacity_buyer": "120", "approval_media": "y", "approval_vip": "y",
                                      "csrf_token": csrf_token(client, url)})
    assert redirect_path(response) == url
    db.session.expire_all()
    saved = db.session.scalar(select(RegistrationPolicy))
    assert saved.opens_at == datetime(2030, 3, 1, 1, 0, tzinfo=timezone.utc)  # 09:00 in Shanghai
    assert saved.closes_at == datetime(2030, 3, 10, 10, 0, tzinfo=timezone.utc)
    settings = {s.category: (s.capacity, s.needs_approval) for s in db.session.scalars(select(CategorySetting))}
    assert settings == {"buyer": (120, False), "media": (None, True), "vip": (None, True)}
    page = client.get(url).get_data(as_text=True)
    assert 'value="2030-03-01T09:00"' in page and 'value="120"' in page
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "registration_policy.changed"))

    for bad in ({"capacity_buyer": "-1"}, {"capacity_buyer": "1e9"}, {"opens_at": "yesterday"},
                {"opens_at": "2030-03-02T09:00", "closes_at": "2030-03-01T09:00"}):
        response = client.post(url, data={**bad, "csrf_token": csrf_token(client, url)})
        assert response.status_code == 200, bad
    db.session.expire_all()
    assert db.session.scalar(select(CategorySetting.capacity).where(CategorySetting.category == "buyer")) == 120


def test_the_visitor_changes_their_answers_through_their_link(make, client):
    from expo.visitors import questions as qs

    edition = make.edition()
    qs.save_question(edition, qs.QuestionInput(key="authority", kind="single", required=True,
                                               label_en="Your role in purchasing",
                                               choices_text="decides | I decide | 我决定\nnone | Neither | 都不是"))
    qs.save_question(edition, qs.QuestionInput(key="note", kind="text", label_en="Anything else?"))
    db.session.commit()
    registration = _register(make, edition, 1)
    db.session.commit()
    url = f"/r/{registration.access_key}/edit"
    page = client.get(url).get_data(as_text=True)
    assert "Your role in purchasing" in page
    field = qs.active_questions(edition)[0].field_name
    note = qs.active_questions(edition)[1].field_name
    base = {"name": "Visitor 1", "company": "Buyer Co 1", "csrf_token": csrf_token(client, url)}
    response = client.post(url, data=base)  # the required question unanswered: an error beside it
    assert response.status_code == 200 and "Please answer this question." in response.get_data(as_text=True)
    response = client.post(url, data={**base, field: "decides", note: "Looking for 200 chairs"})
    assert redirect_path(response) == f"/r/{registration.access_key}"
    db.session.expire_all()
    assert registration.answers["authority"]["value"] == "decides"
    assert registration.answers["note"]["value"] == "Looking for 200 chairs"
    page = client.get(url).get_data(as_text=True)
    assert "Looking for 200 chairs" in page  # the stored answers fill the form again
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "registration.edited"))
    assert entry.details["fields"] == ["answers"]


def test_without_a_limit_a_cancellation_promotes_nobody_staff_put_on_the_list(make):
    edition = make.edition()
    kept, held = _register(make, edition, 1), _register(make, edition, 2)
    held.status = "waitlisted"  # e.g. waiting since before the limit was dropped
    db.session.commit()
    assert visitor_services.cancel_registration(kept) == []
    db.session.commit()
    assert held.status == "waitlisted"


def test_a_visitors_edit_keeps_their_answers_to_questions_no_longer_asked(make):
    """The edit page asks the active questions; what the visitor answered to a question since retired (or
    asked only at an earlier time) stays on the registration — re-answering never erases it."""
    edition = make.edition()
    registration = _register(make, edition, 1)
    registration.answers = {"retired": {"v": 1, "value": "answered in spring"}}
    db.session.commit()
    policy.edit_by_visitor(registration, {"company": "New Co"}, answers={})
    db.session.commit()
    db.session.expire_all()
    assert registration.answers == {"retired": {"v": 1, "value": "answered in spring"}}
    assert registration.company_as_given == "New Co"


def test_a_visitor_who_cancelled_registers_again_through_the_form_and_is_mailed(make, client):
    """Before: the form said "check your inbox" and nothing came (a cancelled registration gets no link)."""
    edition = make.edition()
    _setup(edition, buyer=(1, False))
    first = _register(make, edition, 1)
    db.session.commit()
    visitor_services.cancel_registration(first)
    taker = _register(make, edition, 2)  # the freed place is taken meanwhile
    db.session.commit()
    assert (first.status, taker.status) == ("cancelled", "confirmed")
    sent_before = len(_mails("v1@example.com"))

    response = _post(client, edition, _form(name="Visitor One", email="V1@example.com", company="New Co"))
    assert response.status_code in (200, 302)
    again = _registrations(edition)[0]
    assert again.id == first.id and again.status == "waitlisted"  # the category is full now: the waiting list
    assert again.company_as_given == "New Co" and again.name_as_given == "Visitor One"
    mails = _mails("v1@example.com")
    assert len(mails) == sent_before + 1 and "waiting list" in mails[-1].subject.lower()
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(
        AuditEntry.action == "registration.status", AuditEntry.object_id == first.id,
        AuditEntry.details["registered_again"].as_boolean().is_(True))) == 1

    # once more while registered (waitlisted): nothing changes, no new registration
    _post(client, edition, _form(name="Visitor One", email="v1@example.com"))
    assert [r.id for r in _registrations(edition)] == [first.id, taker.id]


def test_a_cancelled_visitor_with_a_free_place_is_confirmed_and_gets_the_badge(make, client):
    edition = make.edition()
    first = _register(make, edition, 1)
    db.session.commit()
    visitor_services.cancel_registration(first)
    db.session.commit()
    _post(client, edition, _form(email="v1@example.com"))
    db.session.expire_all()
    assert first.status == "confirmed"
    assert _mails("v1@example.com")[-1].attachments  # the confirmation with the badge
