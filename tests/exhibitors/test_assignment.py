"""Assignment rules (R15): region, industry category, round-robin, by hand; reassignment audited and on the
company's timeline; each rep's accounts."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo.core import services as core
from expo.core.models import Activity, AuditEntry
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors import assignment, services
from expo.exhibitors.rep_models import AssignmentRule
from expo.extensions import db

from ..conftest import Browser, redirect_path


def _team(make, organizer):
    return [make.user("sales", organizer, email=f"rep{n}.{organizer.id}@example.com") for n in range(3)]


def _rep(exhibitor):
    """The rep the rules give a new exhibitor, by id (users compare by session token). add_exhibitor may have
    applied the rules already (assign_new is called there): then this call changes nothing."""
    assignment.assign_new(exhibitor)
    return exhibitor.sales_rep_id


def _new(edition, name, country="", status="prospect"):
    return services.add_exhibitor(Scope(edition.organizer_id), edition, name, status=status, country=country)


def test_region_rule_gives_the_rep_and_logs_it(make):
    edition = make.edition()
    scope = Scope(edition.organizer_id)
    ana, ben, _cy = _team(make, edition_organizer(edition))
    assignment.add_rule(scope, edition, assignment.RuleData("region", rep_id=ana.id, countries="cn, hk；MO"))
    exhibitor = _new(edition, "Foshan Sofa Co", country="HK")
    assert _rep(exhibitor) == ana.id
    assert exhibitor.sales_rep_id == ana.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "exhibitor.sales_rep"))
    assert entry.details == {"from": None, "to": ana.id, "how": "rule",
                             "rule_id": assignment.rules(scope, edition)[0].id}
    act = db.session.scalar(select(Activity).where(Activity.kind == "exhibitor.sales_rep"))
    assert act.subject_type == "company" and act.subject_id == exhibitor.company_id
    assert act.details["rep"] == ana.name
    # Another country: no rule matches, it waits for a rep chosen by hand.
    other = _new(edition, "Berlin Chairs GmbH", country="DE")
    assert assignment.assign_new(other) is None and other.sales_rep_id is None
    # One with a rep already keeps it.
    assert assignment.assign_new(exhibitor) is None
    _ = ben


def edition_organizer(edition):
    from expo.core.models import Organizer

    return db.session.get(Organizer, edition.organizer_id)


def test_category_rule_matches_the_category_and_those_below(make):
    edition = make.edition()
    organizer = edition_organizer(edition)
    scope = Scope(organizer.id)
    ana, ben, _cy = _team(make, organizer)
    furniture = core.add_category(scope, edition.show, "Furniture")
    office = core.add_category(scope, edition.show, "Office", furniture)
    lighting = core.add_category(scope, edition.show, "Lighting")
    assignment.add_rule(scope, edition, assignment.RuleData("category", rep_id=ben.id, category_id=furniture.id))
    chairs = _new(edition, "Chair Co")
    chairs.categories = [office]
    lamps = _new(edition, "Lamp Co")
    lamps.categories = [lighting]
    db.session.flush()
    assert _rep(chairs) == ben.id
    assert assignment.assign_new(lamps) is None


def test_round_robin_deals_in_turn_and_skips_inactive_reps(make):
    edition = make.edition()
    organizer = edition_organizer(edition)
    scope = Scope(organizer.id)
    ana, ben, cy = _team(make, organizer)
    assignment.add_rule(scope, edition, assignment.RuleData("round_robin", rep_ids=(ana.id, ben.id, cy.id)))
    got = [_rep(_new(edition, f"Co {n}")) for n in range(4)]
    assert got == [ana.id, ben.id, cy.id, ana.id]
    ben.active = False
    db.session.flush()
    got = [_rep(_new(edition, f"Later {n}")) for n in range(3)]
    assert ben.id not in got and set(got) == {ana.id, cy.id}


def test_rules_are_tried_in_order_region_before_round_robin(make):
    edition = make.edition()
    organizer = edition_organizer(edition)
    scope = Scope(organizer.id)
    ana, ben, cy = _team(make, organizer)
    robin = assignment.add_rule(scope, edition, assignment.RuleData("round_robin", rep_ids=(ben.id, cy.id)))
    region = assignment.add_rule(scope, edition, assignment.RuleData("region", rep_id=ana.id, countries="CN"))
    assert _rep(_new(edition, "A", country="CN")) in (ben.id, cy.id)  # round-robin is first
    assert assignment.move_rule(scope, region, "up")
    assert [r.id for r in assignment.rules(scope, edition)] == [region.id, robin.id]
    assert _rep(_new(edition, "B", country="CN")) == ana.id
    assert _rep(_new(edition, "C", country="US")) in (ben.id, cy.id)


def test_lost_exhibitors_are_not_assigned_and_apply_rules_catches_up(make):
    edition = make.edition()
    organizer = edition_organizer(edition)
    scope = Scope(organizer.id)
    ana, _ben, _cy = _team(make, organizer)
    waiting = [_new(edition, f"Co {n}", country="CN") for n in range(3)]
    lost = _new(edition, "Gone", country="CN", status="lost")
    assignment.add_rule(scope, edition, assignment.RuleData("region", rep_id=ana.id, countries="CN"))
    assert assignment.apply_rules(scope, edition) == 3
    assert all(e.sales_rep_id == ana.id for e in waiting) and lost.sales_rep_id is None
    assert assignment.apply_rules(scope, edition) == 0


def test_rules_refuse_bad_input(make):
    edition = make.edition()
    organizer = edition_organizer(edition)
    scope = Scope(organizer.id)
    ana, _ben, _cy = _team(make, organizer)
    other = make.user("sales")  # another organizer's rep
    analyst = make.user("analyst", organizer)
    cases = [
        (assignment.RuleData("region", rep_id=ana.id, countries="China"), "countries"),
        (assignment.RuleData("region", rep_id=ana.id, countries=" ,; "), "countries"),
        (assignment.RuleData("region", rep_id=other.id, countries="CN"), "rep_id"),
        (assignment.RuleData("region", rep_id=analyst.id, countries="CN"), "rep_id"),
        (assignment.RuleData("category", rep_id=ana.id, category_id=2**40), "category_id"),
        (assignment.RuleData("round_robin", rep_ids=(ana.id,)), "rep_ids"),
        (assignment.RuleData("round_robin", rep_ids=(ana.id, other.id)), "rep_ids"),
        (assignment.RuleData("anything"), "kind"),
    ]
    for data, field in cases:
        with pytest.raises(ServiceError) as error:
            assignment.add_rule(scope, edition, data)
        assert error.value.field == field, data
    assert db.session.scalar(select(db.func.count(AssignmentRule.id))) == 0


def test_reassignment_by_hand_is_audited_and_on_the_timeline(make):
    edition = make.edition()
    organizer = edition_organizer(edition)
    ana, ben, _cy = _team(make, organizer)
    owner = make.user("owner", organizer)
    exhibitor = _new(edition, "Moving Co")
    assert assignment.assign(exhibitor, ana, actor_id=owner.id)
    assert assignment.assign(exhibitor, ben, actor_id=owner.id)
    assert not assignment.assign(exhibitor, ben, actor_id=owner.id)  # no change, no entry
    assert assignment.assign(exhibitor, None, actor_id=owner.id)
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "exhibitor.sales_rep")
                                 .order_by(AuditEntry.id)).all()
    assert [(e.details["from"], e.details["to"], e.user_id) for e in entries] == [
        (None, ana.id, owner.id), (ana.id, ben.id, owner.id), (ben.id, None, owner.id)]
    kinds = db.session.scalars(select(Activity.kind).where(Activity.subject_id == exhibitor.company_id)
                               .order_by(Activity.id)).all()
    assert kinds[-3:] == ["exhibitor.sales_rep", "exhibitor.sales_rep", "exhibitor.sales_rep_removed"]
    with pytest.raises(ServiceError):
        assignment.assign(exhibitor, make.user("sales"))  # someone of another organizer


def test_accounts_lists_a_reps_exhibitors(make):
    edition = make.edition()
    organizer = edition_organizer(edition)
    scope = Scope(organizer.id)
    ana, ben, _cy = _team(make, organizer)
    mine = _new(edition, "Mine")
    theirs = _new(edition, "Theirs")
    nobody = _new(edition, "Nobody's")
    assignment.assign(mine, ana)
    assignment.assign(theirs, ben)
    assert [a.exhibitor for a in assignment.accounts(scope, edition, ana.id)] == [mine]
    assert [a.exhibitor for a in assignment.accounts(scope, edition, None)] == [nobody]


# --- pages --------------------------------------------------------------------------------------------

def test_manager_adds_rules_and_assigns_by_hand_in_the_pages(app, make):
    t = make.tenant("A", leads=False)
    ana = t.users["sales"]
    db.session.commit()
    manager = Browser(app, t.users["manager"])
    base = f"/org/editions/{t.edition.id}/sales"
    page = manager.post(f"{base}/assignment", data={"kind": "region", "countries": "CN, HK", "rep_id": ana.id})
    assert redirect_path(page) == f"{base}/assignment"
    bad = manager.post(f"{base}/assignment", data={"kind": "region", "countries": "Hong Kong", "rep_id": ana.id})
    assert bad.status_code == 200 and "two letters" in bad.get_data(as_text=True)
    nul = manager.post(f"{base}/assignment", data={"kind": "region", "countries": "CN\x00", "rep_id": ana.id})
    assert nul.status_code in (200, 400)
    huge = manager.post(f"{base}/assignment", data={"kind": "round_robin", "rep_ids": ["99999999999999999999", ana.id]})
    assert huge.status_code == 200
    body = manager.get(f"{base}/assignment").get_data(as_text=True)
    assert "Hong Kong" in body or "HK" in body
    # By hand: the tenant's exhibitor goes to the sales rep, and back to nobody.
    response = manager.post(f"{base}/exhibitors/{t.exhibitor.id}/rep", data={"rep_id": ana.id})
    assert redirect_path(response) == f"{base}/assignment"
    db.session.expire_all()
    assert t.exhibitor.sales_rep_id == ana.id
    assert manager.post(f"{base}/exhibitors/{t.exhibitor.id}/rep", data={"rep_id": "12x"}).status_code == 302
    db.session.expire_all()
    assert t.exhibitor.sales_rep_id == ana.id  # a bad id changes nothing
    # The rep sees the account on their page; the sales rep may not reassign.
    rep = Browser(app, ana)
    accounts = rep.get(f"{base}/accounts").get_data(as_text=True)
    assert t.exhibitor.company.name in accounts
    assert rep.post(f"{base}/exhibitors/{t.exhibitor.id}/rep", data={"rep_id": ""}).status_code == 403
    assert rep.get(f"{base}/accounts?rep=%00").status_code == 400  # the app refuses NUL bytes up front
    assert rep.get(f"{base}/accounts?rep=99999999999999999999999").status_code == 200


def test_another_organizers_rep_cannot_be_given_an_exhibitor(app, make):
    t = make.tenant("A", leads=False)
    u = make.tenant("B", leads=False)
    db.session.commit()
    manager = Browser(app, t.users["manager"])
    base = f"/org/editions/{t.edition.id}/sales"
    response = manager.post(f"{base}/exhibitors/{t.exhibitor.id}/rep", data={"rep_id": u.users["sales"].id})
    assert response.status_code == 302
    db.session.expire_all()
    assert t.exhibitor.sales_rep_id is None
    assert manager.post(f"/org/editions/{t.edition.id}/sales/exhibitors/{u.exhibitor.id}/rep",
                        data={"rep_id": t.users["sales"].id}).status_code == 404


def test_adding_a_prospect_applies_the_rules_at_once(make):
    """add_exhibitor itself gives a new prospect its rep (no later call needed)."""
    edition = make.edition()
    scope = Scope(edition.organizer_id)
    ana, _ben, _cy = _team(make, edition_organizer(edition))
    assignment.add_rule(scope, edition, assignment.RuleData("region", rep_id=ana.id, countries="IT"))
    exhibitor = _new(edition, "Milano Design Srl", country="IT")
    assert exhibitor.sales_rep_id == ana.id
    assert _new(edition, "Lyon Meubles", country="FR").sales_rep_id is None
