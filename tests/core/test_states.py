"""Statuses are types: each stateful table's codes, labels and allowed moves live on its model, and one
service (core.services.move_status) makes every move, audited, refusing the illegal ones."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo.core import services as core
from expo.core.models import EDITION_STATUS, AuditEntry, Organizer
from expo.core.registry import registry
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.models import EXHIBITOR_STATUS
from expo.extensions import db
from expo.visitors import services as visitor_services
from expo.visitors.models import REGISTRATION_STATUS

from ..conftest import Browser


def audit_actions(obj) -> list[tuple[str, dict]]:
    return [(e.action, e.details) for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == obj.__tablename__, AuditEntry.object_id == obj.id)
        .order_by(AuditEntry.id))]


def test_every_machine_is_registered_with_labels_colours_and_icons(app):
    machines = registry.machines()
    assert {"edition_status", "registration_status", "exhibitor_status", "visitor_category", "registration_source",
            "lead_rating", "scan_result", "scan_reason", "user_role"} <= set(machines)
    for machine in machines.values():
        for state in machine.states.values():
            assert str(state.label) and state.color and state.icon, (machine.name, state.code)


@pytest.mark.parametrize("machine, source, target, legal", [
    (EDITION_STATUS, "draft", "registration_open", True),
    (EDITION_STATUS, "closed", "draft", False),
    (EDITION_STATUS, "draft", "closed", False),
    (EXHIBITOR_STATUS, "prospect", "contracted", True),
    (EXHIBITOR_STATUS, "lost", "paid", False),
    (EXHIBITOR_STATUS, "exhibited", "prospect", False),
    (REGISTRATION_STATUS, "confirmed", "cancelled", True),
    (REGISTRATION_STATUS, "cancelled", "pending", False),
])
def test_allowed_moves(machine, source, target, legal):
    assert machine.can_move(source, target) is legal


def test_edition_moves_are_audited_and_illegal_ones_refused(make):
    edition = make.edition(status="draft")
    core.set_edition_status(edition, "registration_open", actor_id=None)
    with pytest.raises(core.ServiceError):
        core.set_edition_status(edition, "draft-ish")
    core.set_edition_status(edition, "live")
    core.set_edition_status(edition, "closed")
    with pytest.raises(core.ServiceError) as refused:
        core.set_edition_status(edition, "draft")
    assert "Closed" in str(refused.value) and "Draft" in str(refused.value)
    assert edition.status == "closed"
    assert [d for a, d in audit_actions(edition) if a == "edition.status"] == [
        {"from": "draft", "to": "registration_open"}, {"from": "registration_open", "to": "live"},
        {"from": "live", "to": "closed"}]


def test_exhibitor_pipeline_refuses_a_jump_from_cancelled_to_paid(make):
    edition = make.edition()
    exhibitor = make.exhibitor(edition)  # contracted
    exhibitor_services.set_status(exhibitor, "cancelled")
    with pytest.raises(core.ServiceError):
        exhibitor_services.set_status(exhibitor, "paid")
    assert exhibitor.status == "cancelled"
    assert ("exhibitor.status", {"from": "contracted", "to": "cancelled"}) in audit_actions(exhibitor)


def test_cancelling_a_registration_is_a_move(make):
    registration = make.registration(make.edition())
    visitor_services.cancel_registration(registration, actor_id=None)
    assert registration.status == "cancelled"
    assert ("registration.status", {"from": "confirmed", "to": "cancelled"}) in audit_actions(registration)


def test_the_status_form_offers_only_the_allowed_moves(app, make):
    edition = make.edition(status="live")
    owner = make.user("owner", db.session.get(Organizer, edition.organizer_id))
    db.session.commit()
    edition_id = edition.id
    browser = Browser(app, owner)
    page = browser.get(f"/org/editions/{edition_id}").get_data(as_text=True)
    offered = {code for code in EDITION_STATUS.codes if f'value="{code}"' in page}
    assert offered == {"live", "registration_open", "closed"}
    response = browser.post(f"/org/editions/{edition_id}", data={"status": "draft"})
    assert response.status_code == 200  # the form answers with an error, nothing changes
    db.session.expire_all()
    assert db.session.get(type(edition), edition_id).status == "live"
