"""Support tickets: creation from the portal, a visitor's signed link and staff; status moves; escalation once
(frozen time); rating; timeline and audit entries; the SLA report on fixed data; hostile input."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from expo.core.models import Activity, AuditEntry, MailMessage
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.extensions import db
from expo.support import services, ticket_report
from expo.support.models import Ticket
from expo.support.tasks import run_escalation

from ..conftest import Browser, field_errors

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=SH)  # Monday 10:00 in the edition's zone


@pytest.fixture
def t(make):
    return make.tenant("A", visitors=2, leads=False)


def _ticket(t, *, now=MONDAY, urgency="normal", kind="complaint", visitor=False, subject="Booth power is off"):
    scope = Scope(t.organizer.id)
    return services.create_ticket(scope, t.edition, kind=kind, urgency=urgency, subject=subject,
                                  description="断电了 since 9:00", source="visitor" if visitor else "staff",
                                  exhibitor=None if visitor else t.exhibitor,
                                  registration=t.registration if visitor else None, now=now,
                                  actor_id=None if visitor else t.users["sales"].id)


def test_deadlines_follow_urgency_and_settings(t):
    urgent = _ticket(t, urgency="urgent")
    normal = _ticket(t)
    assert urgent.due_at == datetime(2026, 12, 2, 10, tzinfo=SH) and urgent.sla_days == 2
    assert normal.due_at == datetime(2026, 12, 7, 10, tzinfo=SH) and normal.sla_days == 5
    scope = Scope(t.organizer.id)
    services.save_sla(scope, None, urgent_days="1", normal_days="3", holidays="2026-12-01")
    assert _ticket(t, urgency="urgent").due_at == datetime(2026, 12, 2, 10, tzinfo=SH)  # Tuesday is a holiday
    services.save_sla(scope, t.edition.id, urgent_days="3", normal_days="10")
    assert _ticket(t, urgency="urgent").due_at == datetime(2026, 12, 3, 10, tzinfo=SH)  # the edition's own
    assert services.sla_for(t.organizer.id, t.edition.id).source == "edition"
    assert urgent.due_at == datetime(2026, 12, 2, 10, tzinfo=SH)  # promised deadlines are kept
    for bad in ({"urgent_days": "0", "normal_days": "5"}, {"urgent_days": "x", "normal_days": "5"},
                {"urgent_days": "99999999999999", "normal_days": "5"}, {"urgent_days": "6", "normal_days": "5"}):
        with pytest.raises(ServiceError):
            services.save_sla(scope, None, **bad)
    with pytest.raises(ServiceError):
        services.save_sla(scope, None, urgent_days="2", normal_days="5", holidays="2026-02-30")
    with pytest.raises(ServiceError):
        services.save_sla(scope, None, urgent_days="2", normal_days="5", workdays="2026-12-01")  # a Tuesday


def test_status_moves_legal_and_illegal(t):
    ticket = _ticket(t)
    actor = t.users["onsite"].id
    with pytest.raises(ServiceError):
        services.move(ticket, "resolved", actor_id=actor)  # needs a resolution
    with pytest.raises(ServiceError):
        services.move(ticket, "bogus", actor_id=actor)
    services.move(ticket, "in_progress", actor_id=actor, now=MONDAY + timedelta(hours=2))
    assert ticket.first_response_at == MONDAY + timedelta(hours=2)
    with pytest.raises(ServiceError):
        services.resolve(ticket, "   ", actor_id=actor)
    services.resolve(ticket, "Electrician sent, power back.", actor_id=actor, now=MONDAY + timedelta(hours=5))
    assert ticket.status == "resolved" and ticket.resolved_at == MONDAY + timedelta(hours=5)
    services.move(ticket, "in_progress", actor_id=actor)  # reopened
    assert ticket.resolved_at is None
    services.resolve(ticket, "Fixed for good.", actor_id=actor)
    services.move(ticket, "closed", actor_id=actor)
    for target in ("open", "in_progress", "resolved"):
        with pytest.raises(ServiceError):
            services.move(ticket, target, actor_id=actor)
    kinds = [a.kind for a in db.session.scalars(select(Activity).where(Activity.subject_type == "company",
                                                                        Activity.subject_id == t.exhibitor.company_id,
                                                                        Activity.kind.like("ticket.%"))
                                               .order_by(Activity.id))]
    assert kinds == ["ticket.created", "ticket.status", "ticket.resolved", "ticket.reopened", "ticket.resolved",
                     "ticket.status"]
    actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "support_tickets")))
    assert {"ticket.created", "ticket.status", "ticket.resolved"} <= actions


def test_resolution_asks_the_visitor_to_rate_once(t, app):
    ticket = _ticket(t, visitor=True, kind="request", subject="找不到停车场")
    sent = services.resolve(ticket, "Parking P3, north gate.", actor_id=t.users["onsite"].id)
    db.session.commit()
    assert sent == 1
    resolved_at = ticket.resolved_at
    with pytest.raises(ServiceError):  # a second click: no second mail, the first resolution stands
        services.resolve(ticket, "Again.", actor_id=t.users["onsite"].id)
    db.session.rollback()
    assert (ticket.resolution, ticket.resolved_at) == ("Parking P3, north gate.", resolved_at)
    mail = db.session.scalar(select(MailMessage).where(MailMessage.recipient == t.registration.person.email))
    token = services.rating_token(ticket)
    assert f"/help/rate/{token}" in mail.body_text
    client = app.test_client()
    page = client.get(f"/help/rate/{token}")
    assert page.status_code == 200 and "Parking P3" in page.get_data(as_text=True)
    assert client.get("/help/rate/forged.token").status_code == 404
    visitor = Browser(app)
    assert visitor.post(f"/help/rate/{token}", {"rating": "9"}).status_code == 302
    assert db.session.get(Ticket, ticket.id).rating is None
    visitor.post(f"/help/rate/{token}", {"rating": "4", "comment": "快，谢谢"})
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).rating == 4
    visitor.post(f"/help/rate/{token}", {"rating": "1"})
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).rating == 4  # once
    assert db.session.scalar(select(Activity.kind).where(Activity.subject_type == "person",
                                                         Activity.subject_id == t.registration.person_id,
                                                         Activity.kind == "ticket.rated")) == "ticket.rated"


def test_escalation_mails_the_managers_once_per_overdue_ticket(t, make):
    urgent = _ticket(t, urgency="urgent")
    normal = _ticket(t)
    done = _ticket(t, urgency="urgent")
    services.resolve(done, "Done.", actor_id=t.users["sales"].id, now=MONDAY + timedelta(hours=1))
    db.session.commit()
    assert run_escalation(MONDAY + timedelta(days=1)) == 0  # nothing overdue yet
    thursday = datetime(2026, 12, 3, 9, tzinfo=SH)
    assert run_escalation(thursday) == 1  # one manager, the urgent ticket
    assert run_escalation(thursday + timedelta(hours=1)) == 0  # once
    db.session.expire_all()
    assert db.session.get(Ticket, urgent.id).escalated_at is not None
    assert db.session.get(Ticket, normal.id).escalated_at is None
    mails = list(db.session.scalars(select(MailMessage).where(MailMessage.recipient == t.users["manager"].email)))
    assert len(mails) == 1 and f"#{urgent.id}" in mails[0].subject
    assert run_escalation(datetime(2026, 12, 8, 9, tzinfo=SH)) == 1  # the normal one, later
    assert db.session.scalar(select(Activity.kind).where(Activity.kind == "ticket.escalated").limit(1))


def test_portal_creation_and_isolation(t, make, app):
    other = make.tenant("B", leads=False)
    admin = Browser(app, t.users["exhibitor_admin"])
    page = admin.get("/portal/support")
    assert page.status_code == 200
    response = admin.post("/portal/support", {"kind": "request", "urgency": "urgent", "subject": "Need 2 more chairs",
                                              "description": "展位A1需要两把椅子"})
    assert response.status_code == 302
    ticket = db.session.scalar(select(Ticket).where(Ticket.subject == "Need 2 more chairs"))
    assert ticket.source == "portal" and ticket.company_id == t.exhibitor.company_id and ticket.urgency == "urgent"
    booth = Browser(app, t.users["booth_staff"])
    assert "Need 2 more chairs" in booth.get("/portal/support").get_data(as_text=True)  # the company's tickets
    assert booth.get(f"/portal/support/{ticket.id}").status_code == 200
    stranger = Browser(app, other.users["exhibitor_admin"])
    assert stranger.get(f"/portal/support/{ticket.id}").status_code == 404
    assert "Need 2 more chairs" not in stranger.get("/portal/support").get_data(as_text=True)
    # hostile input: NUL bytes and huge text are errors beside the field, never a 500
    page = admin.post("/portal/support", {"kind": "request", "urgency": "normal", "subject": "a\x00b"})
    assert page.status_code == 200 and field_errors(page.get_data(as_text=True), "subject")
    page = admin.post("/portal/support", {"kind": "request", "urgency": "normal", "subject": "Long",
                                          "description": "x" * 100_000})
    assert page.status_code == 200 and field_errors(page.get_data(as_text=True), "description")
    page = admin.post("/portal/support", {"kind": "bogus", "urgency": "normal", "subject": "Hi"})
    assert page.status_code == 200 and field_errors(page.get_data(as_text=True), "kind")


def test_visitor_link_from_the_badge_page(t, make, app):
    client = app.test_client()
    badge = client.get(f"/r/{t.registration.access_key}").get_data(as_text=True)
    token = services.visitor_token(t.registration)
    assert f"/help/{token}" in badge
    visitor = Browser(app)
    assert visitor.get(f"/help/{token}").status_code == 200
    assert visitor.post(f"/help/{token}", {"kind": "suggestion", "urgency": "normal",
                                           "subject": "More signs to Hall 2"}).status_code == 302
    ticket = db.session.scalar(select(Ticket).where(Ticket.subject == "More signs to Hall 2"))
    assert ticket.source == "visitor" and ticket.person_id == t.registration.person_id
    assert "More signs to Hall 2" in visitor.get(f"/help/{token}").get_data(as_text=True)
    for bad in ("garbage", token[:-2] + "xx", "a" * 500, "%00"):
        assert visitor.get(f"/help/{bad}").status_code == 404
    page = visitor.post(f"/help/{token}", {"kind": "request", "urgency": "normal", "subject": "x",
                                           "description": "\x00"})
    assert page.status_code == 200 and field_errors(page.get_data(as_text=True), "description")


def test_staff_pages_and_foreign_ids(t, make, app):
    other = make.tenant("B", leads=False)
    foreign = _ticket(other)
    mine = _ticket(t)
    db.session.commit()
    sales = Browser(app, t.users["sales"])
    base = f"/org/editions/{t.edition.id}/tickets"
    assert "Booth power is off" in sales.get(base).get_data(as_text=True)
    assert sales.get(f"{base}?status=open&kind=complaint&urgency=normal&owner=0&overdue=1&q=power").status_code == 200
    assert sales.get(f"{base}?status=zz&owner=99999999999999999&q=%00").status_code in (200, 400)  # never a 500
    assert sales.get(f"{base}/{foreign.id}").status_code == 404
    assert sales.get(f"/org/editions/{other.edition.id}/tickets/{foreign.id}").status_code == 404
    assert sales.get(f"{base}/{mine.id}").status_code == 200
    sales.post(f"{base}/{mine.id}", {"action": "assign", "owner_id": str(other.users["sales"].id)})
    db.session.expire_all()
    assert db.session.get(Ticket, mine.id).owner_id is None  # another organizer's user: refused
    sales.post(f"{base}/{mine.id}", {"action": "assign", "owner_id": str(t.users["onsite"].id)})
    sales.post(f"{base}/{mine.id}", {"action": "note", "body": "Called the booth."})
    sales.post(f"{base}/{mine.id}", {"action": "move", "status": "closed"})
    db.session.expire_all()
    found = db.session.get(Ticket, mine.id)
    assert found.owner_id == t.users["onsite"].id and found.status == "closed" and len(found.notes) == 1
    assert sales.post(f"{base}/{mine.id}", {"action": "move", "status": "open"}).status_code == 302
    assert db.session.get(Ticket, mine.id).status == "closed"
    # a new ticket on behalf of a caller, about a visitor found by email
    response = sales.post(f"{base}/new", {"kind": "complaint", "urgency": "urgent", "subject": "Rude guard at gate 3",
                                          "visitor": t.registrations[1].person.email.upper(), "owner_id": ""})
    assert response.status_code == 302
    made = db.session.scalar(select(Ticket).where(Ticket.subject == "Rude guard at gate 3"))
    assert made.person_id == t.registrations[1].person_id and made.source == "staff"
    page = sales.post(f"{base}/new", {"kind": "complaint", "urgency": "urgent", "subject": "Nobody",
                                      "visitor": other.registration.person.email})
    assert page.status_code == 200 and field_errors(page.get_data(as_text=True), "visitor")
    page = sales.post(f"{base}/new", {"kind": "complaint", "urgency": "urgent", "subject": "Foreign",
                                      "exhibitor_id": str(other.exhibitor.id)})
    assert page.status_code == 200  # not a choice of this edition
    assert sales.get(f"{base}/report").status_code == 200
    assert sales.get(f"{base}/settings").status_code == 200
    assert sales.post(f"{base}/settings", {"urgent_days": "1", "normal_days": "2"}).status_code == 403
    manager = Browser(app, t.users["manager"])
    page = manager.post(f"{base}/settings?level=organizer",
                        {"urgent_days": "1", "normal_days": "x", "level": "organizer"})
    assert page.status_code == 200 and field_errors(page.get_data(as_text=True), "normal_days")
    assert manager.post(f"{base}/settings", {"urgent_days": "1", "normal_days": "3", "level": "edition",
                                             "holidays": "2026-12-01"}).status_code == 302
    assert services.sla_for(t.organizer.id, t.edition.id).normal_days == 3


def test_sla_report_on_fixed_data(t):
    now = datetime(2026, 12, 10, 12, tzinfo=SH)
    a = _ticket(t, urgency="urgent")  # due Wed 12-02 10:00
    b = _ticket(t, kind="request")  # due Mon 12-07 10:00
    c = _ticket(t, kind="suggestion", visitor=True)  # due Mon 12-07 10:00
    d = _ticket(t, urgency="urgent", kind="request")  # due Wed 12-02 10:00, still open: overdue
    owner = t.users["onsite"]
    services.assign(a, owner.id, actor_id=owner.id)
    services.add_note(a, "On it", actor_id=owner.id, now=MONDAY + timedelta(hours=1))
    services.resolve(a, "ok", actor_id=owner.id, now=MONDAY + timedelta(hours=3))  # on time
    services.rate(a, 5, "great", now=MONDAY + timedelta(days=1))
    services.move(b, "in_progress", actor_id=owner.id, now=MONDAY + timedelta(hours=2))
    services.resolve(b, "late", actor_id=owner.id, now=datetime(2026, 12, 8, 10, tzinfo=SH))  # late
    services.rate(b, 2, "")
    services.resolve(c, "ok", actor_id=t.users["sales"].id, now=MONDAY + timedelta(hours=4))
    report = ticket_report.build(list(db.session.scalars(select(Ticket))), now)
    o = report.overall
    assert (o.total, o.open, o.overdue, o.resolved, o.on_time) == (4, 1, 1, 3, 2)
    assert o.on_time_share == pytest.approx(2 / 3)
    assert o.median_response == pytest.approx(2.0)  # 1 h, 2 h, 4 h
    assert o.satisfaction == pytest.approx(3.5) and report.rating_counts == {1: 0, 2: 1, 3: 0, 4: 0, 5: 1}
    kinds = {f.key: f for f in report.by_kind}
    assert (kinds["request"].total, kinds["request"].overdue, kinds["request"].on_time_share) == (2, 1, 0.0)
    assert kinds["complaint"].median_resolution == pytest.approx(3.0)
    urgency = {f.key: f for f in report.by_urgency}
    assert (urgency["urgent"].total, urgency["urgent"].on_time) == (2, 1)
    owners = {f.key: f for f in report.by_owner}
    assert owners[str(owner.id)].total == 1 and owners["0"].total == 3
    assert report.chart()["series"][3]["data"] == [0, 0, 1]  # overdue: complaint, suggestion, request
    assert [t.rating_comment for t in report.comments] == ["great"]


def test_ticket_counts(t, make):
    other = make.tenant("B", leads=False)
    _ticket(t)
    _ticket(t)
    _ticket(t, visitor=True)
    _ticket(other)
    counts = services.ticket_counts(Scope(t.organizer.id), t.edition.id)
    assert counts == {"company": {t.exhibitor.company_id: 2}, "person": {t.registration.person_id: 1}}
    assert services.ticket_counts(Scope(t.organizer.id), other.edition.id) == {"company": {}, "person": {}}


def test_customer_pages_personal_data_and_erasure(t, app):
    from expo.visitors import privacy

    company_ticket = _ticket(t, subject="Carpet is torn")
    visitor_ticket = _ticket(t, visitor=True, subject="Lost my badge 丢了胸卡")
    db.session.commit()
    from expo.core import activity
    from expo.support import ticket_panels

    scope = Scope(t.organizer.id)
    with app.test_request_context():
        panel = ticket_panels.company_panel(scope, t.exhibitor.company, None, lambda p: True)
        assert panel["rows"][0]["ticket"]["text"] == f"#{company_ticket.id} Carpet is torn"
        assert ticket_panels.company_panel(scope, t.exhibitor.company, None, lambda p: False) is None
        panel = ticket_panels.person_panel(scope, t.registration.person, [t.registration], lambda p: True)
        assert [r["ticket"]["text"] for r in panel["rows"]] == [f"#{visitor_ticket.id} Lost my badge 丢了胸卡"]
        entries = activity.timeline(scope, "person", t.registration.person_id).items
        assert any(e.text == f"Ticket #{visitor_ticket.id} opened: Lost my badge 丢了胸卡" for e in entries)
    sections = privacy.personal_data_sections(t.registration.person)
    assert any(s["key"] == "tickets" and s["rows"][0]["subject"] == "Lost my badge 丢了胸卡" for s in sections)
    from expo.support.ticket_panels import forget_visitor
    forget_visitor(Scope(t.organizer.id), [t.registration.id])
    db.session.commit()
    assert db.session.get(Ticket, visitor_ticket.id).subject == "—"
    assert db.session.get(Ticket, company_ticket.id).subject == "Carpet is torn"


def test_two_ratings_at_once_store_one(t, app):
    from ..conftest import race

    ticket = _ticket(t, visitor=True)
    services.resolve(ticket, "Done.", actor_id=t.users["onsite"].id)
    db.session.commit()
    ticket_id = ticket.id
    outcomes = race(app, lambda prepared: services.rate(prepared[0], prepared[1]),
                    [(ticket_id, 5), (ticket_id, 1)], prepare=lambda ident, n: (db.session.get(Ticket, ident), n))
    assert sum(isinstance(o, ServiceError) for o in outcomes) == 1
    db.session.expire_all()
    stored = db.session.get(Ticket, ticket_id)
    assert stored.rating in (1, 5)
    assert db.session.query(Activity).filter(Activity.kind == "ticket.rated").count() == 1
