"""The scoping helper: organizer scope on every query; exhibitor scope narrows to the exhibitor's rows
and refuses tables that belong to no exhibitor instead of widening them to the whole organizer."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from expo.core.scoping import Scope, ScopeRefused, get_scoped, scoped
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.leads.models import Lead
from expo.onsite import services as onsite
from expo.visitors.models import Person, Registration
from expo.visitors.services import badge_code

from ..conftest import new_scan_id


@pytest.fixture
def fair(make):
    edition = make.edition()
    mine, theirs = make.exhibitor(edition, "Mine Ltd"), make.exhibitor(edition, "Theirs Ltd")
    me = make.user("booth_staff", exhibitor=mine)
    them = make.user("booth_staff", exhibitor=theirs)
    visitor = make.registration(edition)
    for user in (me, them):
        assert onsite.record_scan(user, code=badge_code(visitor), kind="lead", client_scan_id=new_scan_id()).result == "ok"
    db.session.flush()
    return edition, mine, theirs, me, visitor


@pytest.mark.parametrize("model", [Registration, Person])
def test_exhibitor_scope_refuses_tables_without_an_exhibitor(fair, model):
    _edition, _mine, _theirs, me, _visitor = fair
    with pytest.raises(ScopeRefused):
        scoped(model, Scope.of(me))
    with pytest.raises(ScopeRefused):
        get_scoped(model, 1, Scope.of(me))


def test_exhibitor_scope_narrows_to_the_own_exhibitor(fair):
    _edition, mine, theirs, me, _visitor = fair
    scope = Scope.of(me)
    assert [lead.exhibitor_id for lead in db.session.scalars(scoped(Lead, scope))] == [mine.id]
    assert list(db.session.scalars(scoped(Exhibitor, scope))) == [mine]
    assert get_scoped(Exhibitor, theirs.id, scope) is None


def test_organizer_scope_sees_every_exhibitor_but_no_other_organizer(fair, make):
    edition, mine, theirs, _me, visitor = fair
    other = make.edition()
    make.exhibitor(other, "Elsewhere Ltd")
    scope = Scope(edition.organizer_id)
    assert {e.id for e in db.session.scalars(scoped(Exhibitor, scope))} == {mine.id, theirs.id}
    assert list(db.session.scalars(scoped(Registration, scope))) == [visitor]
    assert db.session.scalar(select(Exhibitor).where(Exhibitor.edition_id == other.id)) is not None
