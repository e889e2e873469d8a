"""Customer 360: the person page and its timeline, written by every module's own code paths; the merge keeps
everything and leaves enough in the audit log to undo it by hand."""
from __future__ import annotations

from sqlalchemy import select

from expo.core import activity
from expo.core.models import Activity, AuditEntry
from expo.core.scoping import Scope
from expo.extensions import db
from expo.leads import services as leads
from expo.leads.models import Lead
from expo.onsite import services as onsite
from expo.visitors import notifications
from expo.visitors import services as visitors
from expo.visitors.models import Person, Registration

from ..conftest import Browser, new_scan_id

NOTE = "Wants 40 chairs, budget secret 9F3K — call after the show"


def _kinds(person_id: int) -> list[str]:
    return list(db.session.scalars(select(Activity.kind).where(Activity.subject_type == "person",
                                                               Activity.subject_id == person_id)
                                   .order_by(Activity.id)))


def _visitor_journey(make):
    """A visitor registered (mail queued), checked in at the gate, captured and rated at a booth (with notes)."""
    t = make.tenant("A")  # the visitor's badge is scanned at the first exhibitor's booth (t.lead)
    registration = t.registration
    notifications.confirmation_mail(registration.id)
    onsite.record_scan(t.users["onsite"], code=t.code, kind="checkin", client_scan_id=new_scan_id(),
                       gate="North 1", edition_id=t.edition.id)
    leads.update_lead(t.lead, rating="hot", notes=NOTE, actor_id=t.users["booth_staff"].id)
    db.session.commit()
    return t


def test_the_timeline_gets_registration_mail_checkin_and_lead_from_the_modules(app, make):
    t = _visitor_journey(make)
    kinds = _kinds(t.registration.person_id)
    assert kinds == ["registration.created", "lead.captured", "mail.queued", "checkin", "lead.rated"]
    rows = {a.kind: a for a in db.session.scalars(select(Activity).where(Activity.subject_id == t.registration.person_id))}
    assert rows["lead.captured"].details["exhibitor"] == t.exhibitor.company.name
    assert rows["lead.rated"].details["to"] == "hot"
    assert rows["checkin"].details["gate"] == "North 1"
    assert rows["mail.queued"].object_type == "mail_messages"
    assert all(NOTE not in str(a.details) for a in rows.values())  # the notes never reach the timeline


def test_status_moves_badges_and_staff_edits_are_on_the_timeline(app, make):
    t = make.tenant("A", leads=False)
    registration, owner = t.registration, t.users["owner"]
    visitors.reissue_badge(registration, actor_id=owner.id)
    visitors.cancel_registration(registration, actor_id=owner.id)
    visitors.set_registration_status(registration, "confirmed", actor_id=owner.id)
    visitors.update_person(Scope(t.organizer.id), registration.person, {"phone": "+86 139 1234 5678"},
                           actor_id=owner.id)
    db.session.commit()
    assert _kinds(registration.person_id) == ["registration.created", "badge.reissued", "registration.cancelled",
                                              "registration.status", "person.updated"]
    browser = Browser(app, t.users["onsite"])
    browser.get(f"/org/editions/{t.edition.id}/registrations/{registration.id}/badge.pdf")
    db.session.expire_all()
    assert _kinds(registration.person_id)[-1] == "badge.printed"


def test_person_page_shows_editions_checkins_leads_and_timeline_but_never_notes(app, make):
    t = _visitor_journey(make)
    person = t.registration.person
    earlier = make.edition(t.organizer, show=t.show, name="Expo A 2025", starts_on=t.edition.starts_on.replace(
        year=t.edition.starts_on.year - 1), status="closed")
    visitors.register(earlier, visitors.RegistrationData(name=person.name, email=person.email, category="media",
                                                        consent=True, source="import"), send_confirmation=False)
    db.session.commit()
    browser = Browser(app, t.users["owner"])
    page = browser.get(f"/org/persons/{person.id}").get_data(as_text=True)
    assert person.email in page and person.name in page
    assert "Expo A 2025" in page and t.edition.name in page  # every edition
    assert 'id="panel-checkins"' in page and "North 1" in page
    assert 'id="panel-leads"' in page and t.exhibitor.company.name in page and "Hot" in page
    assert 'id="timeline"' in page and "Checked in at" in page and "Mail: Your badge for" in page
    assert NOTE not in page and "9F3K" not in page  # an exhibitor's notes never reach the organizer
    # the page shows contact data: audited as a contact view of this person
    viewed = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "contact.viewed",
                                                        AuditEntry.object_type == "persons",
                                                        AuditEntry.object_id == person.id))
    assert viewed is not None and viewed.user_id == t.users["owner"].id


def test_person_page_times_are_in_the_edition_zone(app, make):
    t = make.tenant("A", leads=False)  # editions of the factory are in Asia/Shanghai
    registration = t.registration
    created = db.session.scalar(select(Activity.at).where(Activity.subject_id == registration.person_id))
    db.session.commit()
    page = Browser(app, t.users["owner"]).get(f"/org/persons/{registration.person_id}").get_data(as_text=True)
    from zoneinfo import ZoneInfo

    assert created.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M") in page


def test_timeline_is_paged(app, make):
    t = make.tenant("A", leads=False)
    person_id = t.registration.person_id
    activity.record_many([{"kind": "person.updated", "organizer_id": t.organizer.id, "subject_type": "person",
                           "subject_id": person_id} for _ in range(30)])
    db.session.commit()
    browser = Browser(app, t.users["owner"])
    first = browser.get(f"/org/persons/{person_id}").get_data(as_text=True)
    second = browser.get(f"/org/persons/{person_id}?page=2").get_data(as_text=True)
    assert first.count('class="timeline-item"') == 25 and second.count('class="timeline-item"') == 6
    assert "Page 1 of 2" in first


def test_exhibitor_staff_never_reach_person_pages_or_search(app, make):
    t = make.tenant("A")
    db.session.commit()
    for role in ("exhibitor_admin", "booth_staff"):
        browser = Browser(app, t.users[role])
        assert browser.get(f"/org/persons/{t.registration.person_id}").status_code == 403
        assert browser.get(f"/org/companies/{t.exhibitor.company_id}").status_code == 403
        assert browser.get("/org/search?q=Visitor").status_code == 403
        assert 'id="top-search"' not in browser.get("/portal/leads").get_data(as_text=True)


def test_another_organizers_person_is_not_found(app, make):
    a, b = make.tenant("A"), make.tenant("B")
    db.session.commit()
    assert Browser(app, a.users["owner"]).get(f"/org/persons/{b.registration.person_id}").status_code == 404


# --- merge -------------------------------------------------------------------------------------------

def test_merge_keeps_registrations_leads_audit_and_timeline_and_records_how_to_undo_it(app, make):
    t = make.tenant("A")  # t.registration: captured as a lead at the first exhibitor's booth
    scope = Scope(t.organizer.id)
    later = make.edition(t.organizer, show=t.show, name="Expo A next", starts_on=t.edition.starts_on.replace(
        year=t.edition.starts_on.year + 1))
    keep = make.registration(later, name="王伟", email="wang.wei@example.cn", company="", phone="").person
    merged_registration = t.registration
    merge = merged_registration.person
    merge.phone, merge.company = "13912345678", "深圳宏达家具有限公司"
    visitors.update_person(scope, merge, {"job_title": "采购经理"}, actor_id=t.users["owner"].id)
    lead_id = t.lead.id
    before_audit = db.session.scalar(select(AuditEntry.id).where(AuditEntry.object_type == "persons",
                                                                 AuditEntry.object_id == merge.id))
    former = {name: getattr(merge, name) for name in ("name", "email", "phone", "company", "job_title")}
    merge_id, keep_id = merge.id, keep.id
    db.session.commit()

    response = Browser(app, t.users["owner"]).post("/org/duplicates/merge", data={"keep": keep_id, "merge": merge_id})
    assert response.status_code == 302
    db.session.expire_all()
    kept = db.session.get(Person, keep_id)
    kept_registrations = {r.edition_id: r.id for r in db.session.scalars(
        select(Registration).where(Registration.person_id == keep_id))}
    assert kept_registrations == {later.id: kept_registrations[later.id], t.edition.id: merged_registration.id}
    assert db.session.get(Lead, lead_id).registration.person_id == keep_id  # the lead came along
    assert kept.phone == "13912345678" and kept.company == "深圳宏达家具有限公司"  # blanks filled in
    # the merged row stays, every field of its own kept (the former fields), as an alias
    alias = db.session.get(Person, merge_id)
    assert alias.merged_into_id == keep_id
    assert {name: getattr(alias, name) for name in former} == former
    assert db.session.get(AuditEntry, before_audit) is not None  # the audit trail keeps its subject
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "person.merged"))
    assert entry.object_id == keep_id
    assert entry.details["merged_person_id"] == merge_id
    assert entry.details["registration_ids"] == [merged_registration.id]
    assert sorted(entry.details["filled_fields"]) == ["company", "phone"]  # its job title was not blank
    assert "13912345678" not in str(entry.details)  # names and ids, never values (erasure must reach them)
    # the merged person's timeline shows on the kept one; its address leads there
    page = activity.timeline(scope, "person", [keep_id, merge_id])
    assert {e.activity.kind for e in page.items} >= {"registration.created", "lead.captured", "person.updated",
                                                     "person.merged"}
    browser = Browser(app, t.users["owner"])
    assert browser.get(f"/org/persons/{merge_id}").headers["Location"].endswith(f"/org/persons/{keep_id}")
    html = browser.get(f"/org/persons/{keep_id}").get_data(as_text=True)
    assert 'id="merged"' in html and "Badge scanned at the stand of" in html and "Contact details changed" in html


def test_person_page_queries_do_not_grow_with_the_timeline(app, make, count_queries):
    t = _visitor_journey(make)
    person_id, organizer_id, edition_id, edition_name = (t.registration.person_id, t.organizer.id, t.edition.id,
                                                         t.edition.name)
    staff = [make.user("onsite", t.organizer).id for _ in range(5)]  # five more people on the timeline
    db.session.commit()
    browser = Browser(app, t.users["owner"])
    browser.get(f"/org/persons/{person_id}")
    with count_queries() as few:
        browser.get(f"/org/persons/{person_id}")
    activity.record_many([{"kind": "checkin", "organizer_id": organizer_id, "subject_type": "person",
                           "subject_id": person_id, "edition_id": edition_id, "user_id": user_id,
                           "details": {"edition": edition_name}} for user_id in staff * 3])
    db.session.commit()
    with count_queries() as many:
        browser.get(f"/org/persons/{person_id}")
    assert len(many) <= len(few), many.report()  # the staff a page names: one query, whoever they are


def _two_persons(make):
    t = make.tenant("A")
    later = make.edition(t.organizer, show=t.show, name="Expo A next", starts_on=t.edition.starts_on.replace(
        year=t.edition.starts_on.year + 1))
    other = make.registration(later, name="王伟", email="wang.wei@example.cn").person
    first = t.registration.person
    db.session.commit()
    return t, first.id, other.id


def test_person_merge_or_distinct_with_an_id_beyond_any_column_is_refused_cleanly(app, make):
    """An id no INTEGER column holds (the database would fail on it) is no such visitor: a message, never a 500."""
    import pytest

    from expo.core.services import ServiceError
    from expo.visitors.models import DistinctPersons

    t, first_id, other_id = _two_persons(make)
    browser = Browser(app, t.users["owner"])
    for url, names in (("/org/duplicates/merge", ("keep", "merge")), ("/org/duplicates/distinct", ("person", "other"))):
        for huge in ("99999999999999999999", str(2**31), str(2**63), "0", "-1"):
            for data in ({names[0]: first_id, names[1]: huge}, {names[0]: huge, names[1]: other_id}):
                response = browser.post(url, data=data)
                assert response.status_code == 302, (url, data, response.status_code)
                page = browser.get(response.headers["Location"]).get_data(as_text=True)
                assert "No such pair of visitors." in page
    db.session.expire_all()
    assert db.session.get(Person, first_id).merged_into_id is None
    assert db.session.get(Person, other_id).merged_into_id is None
    assert db.session.scalar(select(DistinctPersons.id)) is None
    assert db.session.scalar(select(AuditEntry.id).where(
        AuditEntry.action.in_(("person.merged", "person.distinct")))) is None
    with pytest.raises(ServiceError, match="No such pair"):
        visitors.merge_persons(Scope(t.organizer.id), first_id, 2**31, actor_id=None)


def test_the_reverse_merge_of_merged_persons_is_refused(app, make):
    """A into B, then B into A (the second staff member's page was older): refused, no cycle."""
    t, first_id, other_id = _two_persons(make)
    browser = Browser(app, t.users["owner"])
    assert browser.post("/org/duplicates/merge", data={"keep": first_id, "merge": other_id}).status_code == 302
    response = browser.post("/org/duplicates/merge", data={"keep": other_id, "merge": first_id})
    assert response.status_code == 302
    assert "One of them has already been merged." in browser.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Person, first_id).merged_into_id is None
    assert db.session.get(Person, other_id).merged_into_id == first_id


def test_simultaneous_opposite_person_merges_make_no_cycle(app, make):
    """Two staff merge A into B and B into A at the same moment: one merge wins, the other is refused."""
    import threading

    from expo.core.services import ServiceError

    t, a, b = _two_persons(make)
    scope = Scope(t.organizer.id)
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def merge(keep_id, merge_id):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                visitors.merge_persons(scope, keep_id, merge_id, actor_id=None)
                db.session.commit()
                outcomes.append("merged")
            except ServiceError:
                db.session.rollback()
                outcomes.append("refused")
            except Exception as error:  # noqa: BLE001 - the test reports any failure of a racer
                errors.append(repr(error))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=merge, args=pair) for pair in ((a, b), (b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) == ["merged", "refused"]
    merged_into = {p.id: p.merged_into_id for p in db.session.scalars(select(Person).where(Person.id.in_((a, b))))}
    assert sorted(merged_into.values(), key=lambda v: v is None) in ([a, None], [b, None])
