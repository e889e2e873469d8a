"""The follow-up of a lead (expo.leads.follow_up): legal and illegal moves, each audited and in the lead's
history; won value and lost reason; the next step; the organizer's rates per exhibitor on fixed data."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from expo.core.models import AuditEntry
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.extensions import db
from expo.leads import follow_up
from expo.leads.models import LEAD_FOLLOW_UP, Lead, LeadFollowUp

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def world(make):
    t = make.tenant("A", exhibitors=2, visitors=4)
    db.session.commit()
    return t


def test_a_new_lead_is_to_contact(world):
    assert world.lead.follow_up_status == "to_contact"
    assert world.lead.next_step_on is None and world.lead.first_followed_up_at is None


def test_the_moves_along_the_pipeline_are_audited_and_kept_in_the_history(world):
    lead, admin = world.lead, world.users["exhibitor_admin"]
    assert follow_up.move(lead, "contacted", actor_id=admin.id, next_step_on=date(2026, 12, 5), now=NOW)
    assert follow_up.move(lead, "quote_sent", actor_id=admin.id, now=NOW + timedelta(days=2))
    assert follow_up.move(lead, "won", actor_id=admin.id, won_value=Decimal("12500.50"), now=NOW + timedelta(days=9))
    db.session.commit()
    assert lead.follow_up_status == "won" and lead.won_value == Decimal("12500.50")
    assert lead.next_step_on is None  # a closed lead has no next step
    assert lead.first_followed_up_at == NOW and lead.follow_up_by_id == admin.id
    assert lead.follow_up_at == NOW + timedelta(days=9)
    moves = [(m.from_status, m.to_status) for m in follow_up.history(lead)]
    assert moves == [("quote_sent", "won"), ("contacted", "quote_sent"), ("to_contact", "contacted")]
    audited = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "lead.follow_up_status")).all()
    assert [(a.details["from"], a.details["to"]) for a in audited] == [
        ("to_contact", "contacted"), ("contacted", "quote_sent"), ("quote_sent", "won")]


@pytest.mark.parametrize("path, illegal", [
    ((), "won"),  # to contact -> won: never talked to them
    (("contacted", "won"), "to_contact"),
    (("lost",), "won"),
])
def test_illegal_moves_are_refused_and_change_nothing(world, path, illegal):
    lead, admin = world.lead, world.users["exhibitor_admin"]
    for step in path:
        follow_up.move(lead, step, actor_id=admin.id, lost_reason="price" if step == "lost" else "", now=NOW)
    before = lead.follow_up_status
    with pytest.raises(ServiceError) as refused:
        follow_up.move(lead, illegal, actor_id=admin.id, lost_reason="price", now=NOW)
    assert refused.value.field == "follow_up_status"
    assert lead.follow_up_status == before
    assert not LEAD_FOLLOW_UP.can_move(before, illegal)


def test_every_state_can_be_left_and_reached(world):
    targets = {t for moves in LEAD_FOLLOW_UP.moves.values() for t in moves}
    assert targets == set(LEAD_FOLLOW_UP.codes)
    assert all(LEAD_FOLLOW_UP.moves[c] for c in LEAD_FOLLOW_UP.codes)


def test_lost_needs_a_reason_and_reopening_clears_it(world):
    lead, admin = world.lead, world.users["exhibitor_admin"]
    with pytest.raises(ServiceError) as refused:
        follow_up.move(lead, "lost", actor_id=admin.id, now=NOW)
    assert refused.value.field == "lost_reason"
    with pytest.raises(ServiceError):
        follow_up.apply_change(lead, status="lost", lost_reason="bored\x00", actor_id=admin.id)
    follow_up.apply_change(lead, status="lost", lost_reason="competitor", actor_id=admin.id, now=NOW)
    assert lead.lost_reason == "competitor"
    follow_up.apply_change(lead, status="contacted", next_step_on="2026-12-10", actor_id=admin.id, now=NOW)
    assert lead.lost_reason == "" and lead.next_step_on == date(2026, 12, 10)


@pytest.mark.parametrize("field, value", [
    ("won_value", "-5"), ("won_value", "1e400"), ("won_value", "10000000000000"), ("won_value", "NaN"),
    ("won_value", "12\x003"), ("won_value", "12.345"), ("won_value", 0.001), ("won_value", True),
    ("next_step_on", "2026-13-01"), ("next_step_on", "tomorrow"),
    ("next_step_on", "0001-01-01"), ("next_step_on", 20261201), ("status", "maybe"), ("status", None),
])
def test_bad_values_are_refused_with_their_field(world, field, value):
    lead, admin = world.lead, world.users["exhibitor_admin"]
    follow_up.move(lead, "contacted", actor_id=admin.id, now=NOW)
    change = {"status": "won"} if field == "won_value" else {}
    change[field] = value
    with pytest.raises(ServiceError) as refused:
        follow_up.apply_change(lead, **change, actor_id=admin.id, now=NOW)
    assert refused.value.field == ("follow_up_status" if field == "status" else field)
    assert lead.follow_up_status == "contacted"


def test_a_deal_value_is_read_as_typed():
    assert follow_up.parse_won_value("-0") == Decimal("0.00") and str(follow_up.parse_won_value("-0")) == "0.00"
    assert follow_up.parse_won_value("12.50") == Decimal("12.50") and follow_up.parse_won_value(9800.5) == Decimal("9800.50")
    assert follow_up.parse_won_value("1.500") == Decimal("1.50")


def test_a_next_step_alone_is_audited_and_a_closed_lead_takes_none(world):
    lead, admin = world.lead, world.users["exhibitor_admin"]
    assert follow_up.apply_change(lead, next_step_on="2026-12-03", actor_id=admin.id, now=NOW)
    assert lead.follow_up_status == "to_contact" and lead.next_step_on == date(2026, 12, 3)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "lead.next_step")) is not None
    follow_up.move(lead, "contacted", actor_id=admin.id, now=NOW)
    follow_up.move(lead, "won", actor_id=admin.id, now=NOW)
    with pytest.raises(ServiceError):
        follow_up.apply_change(lead, next_step_on="2026-12-09", actor_id=admin.id)


def _lead_at(t, registration, exhibitor_index, scanned_at):
    exhibitor, admin, booth = t.exhibitors[exhibitor_index]
    lead = t.capture(booth, registration)
    lead.first_scanned_at = lead.last_scanned_at = scanned_at
    return lead, admin


def test_follow_up_rates_per_exhibitor_on_fixed_data(world, make):
    t = world
    scan = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)
    first = t.lead
    first.first_scanned_at = scan
    admin = t.users["exhibitor_admin"]
    follow_up.move(first, "contacted", actor_id=admin.id, now=scan + timedelta(days=2))  # within 7 days
    follow_up.move(first, "quote_sent", actor_id=admin.id, now=scan + timedelta(days=4))
    follow_up.move(first, "won", actor_id=admin.id, won_value=Decimal("8000"), now=scan + timedelta(days=9))
    second, _ = _lead_at(t, t.registrations[1], 0, scan)
    follow_up.move(second, "contacted", actor_id=admin.id, now=scan + timedelta(days=10))  # late
    follow_up.move(second, "quote_sent", actor_id=admin.id, now=scan + timedelta(days=11))
    follow_up.move(second, "lost", actor_id=admin.id, lost_reason="price", now=scan + timedelta(days=20))
    _lead_at(t, t.registrations[2], 0, scan)  # never followed up
    other, other_admin = _lead_at(t, t.registrations[0], 1, scan)
    follow_up.move(other, "contacted", actor_id=other_admin.id, now=scan + timedelta(days=1))
    foreign = make.tenant("B")  # another organizer's leads never count
    follow_up.move(foreign.lead, "contacted", actor_id=foreign.users["exhibitor_admin"].id, now=scan)
    db.session.commit()

    rates = follow_up.follow_up_rates(Scope(t.organizer.id), t.edition.id)
    assert set(rates) == {t.exhibitors[0][0].id, t.exhibitors[1][0].id}
    mine = rates[t.exhibitor.id]
    assert {k: mine[k] for k in ("leads", "followed_up", "contacted_7d", "quotes", "won", "won_value", "lost")} == {
        "leads": 3, "followed_up": 2, "contacted_7d": 1, "quotes": 2, "won": 1, "won_value": 8000.0, "lost": 1}
    assert mine["followed_up_rate"] == round(2 / 3, 4) and mine["contacted_7d_rate"] == round(1 / 3, 4)
    assert rates[t.exhibitors[1][0].id]["leads"] == 1 and rates[t.exhibitors[1][0].id]["contacted_7d"] == 1
    assert follow_up.follow_up_rates(Scope(foreign.organizer.id), t.edition.id) == {}


def test_the_demo_follows_up_its_leads_realistically(ctx):
    from expo import demo
    from expo.core.models import Edition

    now = datetime(2026, 5, 20, 11, 30, tzinfo=timezone.utc)
    demo.generate(visitors=120, exhibitors=6, editions=2, now=now)
    db.session.remove()
    statuses = dict(db.session.execute(select(Lead.follow_up_status, db.func.count(Lead.id))
                                       .group_by(Lead.follow_up_status)).all())
    assert {"to_contact", "contacted", "won", "lost"} <= set(statuses)
    assert db.session.scalar(select(db.func.max(LeadFollowUp.moved_at))) <= now
    assert db.session.scalar(select(db.func.count(Lead.id)).where(Lead.follow_up_status == "won",
                                                                  Lead.won_value.is_(None))) == 0
    assert db.session.scalar(select(db.func.count(Lead.id)).where(Lead.follow_up_status == "lost",
                                                                  Lead.lost_reason == "")) == 0
    closed = db.session.scalars(select(Edition).order_by(Edition.starts_on)).first()
    rates = follow_up.follow_up_rates(Scope(closed.organizer_id), closed.id)
    assert rates and sum(r["won"] for r in rates.values()) > 0
    assert len({r["followed_up_rate"] for r in rates.values() if r["leads"]}) > 1  # exhibitors differ
