"""Customers part (issue 11): the pages on the demo show (varied stages and tiers), the weights settings with
hostile input, the panels on the company and person pages, and the query budget of the pages."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from expo import demo
from expo.core.demo import DEMO_PASSWORD
from expo.core.models import Edition, User
from expo.core.scoping import Scope
from expo.extensions import db
from expo.postshow import lifecycle as lc
from expo.postshow import values
from expo.postshow.models_customers import CustomerValueSettings

from ..conftest import csrf_token, empty_database, login

pytestmark = pytest.mark.shared_world  # one demo world for the module, emptied when it is done


@pytest.fixture(scope="module")
def shared(app):
    """The demo show with three editions (the last one live), built once."""
    with app.app_context():
        demo.generate(visitors=160, exhibitors=12, editions=3)
        db.session.commit()
        live = db.session.scalar(select(Edition).order_by(Edition.starts_on.desc()).limit(1))
        owner = db.session.scalar(select(User).where(User.role == "owner").limit(1))
        found = Scope(live.organizer_id), live.id, owner.email
        db.session.remove()
    yield found
    empty_database(app)


@pytest.fixture
def world(shared, ctx):
    return shared


def test_the_demo_has_every_stage_and_every_tier(world):
    scope, live_id, _owner = world
    companies = values.analyse_companies(scope, live_id)
    stages = companies.counts("stage", lc.STAGES)
    assert all(stages[s] > 0 for s in lc.STAGES), stages
    tiers = companies.counts("tier", lc.TIERS)
    assert all(tiers[t] > 0 for t in lc.TIERS), tiers
    persons = values.analyse_persons(scope, live_id)
    p_stages = persons.counts("stage", lc.STAGES)
    assert sum(1 for s in lc.STAGES if p_stages[s]) >= 3, p_stages
    assert all(v.stage_rule for v in companies.values.values())
    assert companies.pareto.customers > 0 and 0 < companies.pareto.share_for_80 <= 100


def test_overview_lists_and_drill_down(client, world):
    scope, live_id, owner = world
    login(client, owner, DEMO_PASSWORD)
    page = client.get(f"/org/editions/{live_id}/customers")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "chart-pareto" in body and "bring 80% of the revenue" in body
    assert "Stages and what to do" in body and "VIP" in body
    listing = client.get(f"/org/editions/{live_id}/customers/companies?stage=decline&sort=monetary")
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert "/org/companies/" in text and "In decline" in text
    assert "Missed the latest edition" in text or "Booth shrank" in text
    persons = client.get(f"/org/editions/{live_id}/customers/persons?tier=vip&per_page=25")
    assert persons.status_code == 200 and "/org/persons/" in persons.get_data(as_text=True)
    # a page past the end shows the last; garbage filters are ignored; a NUL byte is refused, never a 500
    far = client.get(f"/org/editions/{live_id}/customers/persons?page=999999&stage=x&tier=zz&sort=..&q=" + "z" * 500)
    assert far.status_code == 200
    assert client.get(f"/org/editions/{live_id}/customers/persons?q=%00").status_code == 400


def test_filters_and_paging_agree_with_the_values(client, world):
    scope, live_id, owner = world
    login(client, owner, DEMO_PASSWORD)
    every = values.analyse_persons(scope, live_id).values
    formation = sum(1 for v in every.values() if v.stage == "formation")
    page = client.get(f"/org/editions/{live_id}/customers/persons?stage=formation&per_page=25")
    assert f"of {formation:,}" in page.get_data(as_text=True)


def test_weights_change_the_list_and_hostile_weights_are_refused(client, world):
    scope, live_id, owner = world
    login(client, owner, DEMO_PASSWORD)
    url = f"/org/editions/{live_id}/customers/weights"
    token = csrf_token(client, url)
    good = {f"company_{k}": "0" for k in values.COMPANY_FEATURES}
    good.update({f"person_{k}": "10" for k in values.PERSON_FEATURES},
                vip_percent="10", important_percent="20", general_percent="40", csrf_token=token)
    good["company_years"] = "100"
    saved = client.post(url, data=good)
    assert saved.status_code == 302
    row = db.session.scalar(select(CustomerValueSettings))
    assert row.company_weights["years"] == 100 and float(row.vip_percent) == 10
    by_years = values.company_values(scope, live_id)
    top = min(by_years.values(), key=lambda v: v.rank)
    assert top.figures["years"] == max(v.figures["years"] for v in by_years.values())
    for field, value in (("company_revenue", "-5"), ("company_area", "1e309"), ("person_years", "7\x00"),
                         ("vip_percent", "80"), ("company_leads", "x" * 5000)):
        refused = client.post(url, data={**good, field: value})
        assert refused.status_code == 400
        assert re.search(r'class="alert alert-danger"', refused.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.scalar(select(CustomerValueSettings)).company_weights["years"] == 100
    reset = client.post(url, data={**good, "action": "reset"})
    assert reset.status_code == 302 and db.session.scalar(select(CustomerValueSettings)) is None


def test_panels_on_the_company_and_person_pages(client, world):
    scope, live_id, owner = world
    login(client, owner, DEMO_PASSWORD)
    companies = values.company_values(scope, live_id)
    company_id, value = next(iter(companies.items()))
    page = client.get(f"/org/companies/{company_id}").get_data(as_text=True)
    assert 'id="panel-customer-value"' in page and value.stage_rule.split(" (")[0][:20] in page
    persons = values.person_values(scope, live_id)
    person_id = next(iter(persons))
    page = client.get(f"/org/persons/{person_id}").get_data(as_text=True)
    assert 'id="panel-customer-value"' in page


def test_pages_in_chinese(client, world):
    _scope, live_id, owner = world
    login(client, owner, DEMO_PASSWORD)
    page = client.get(f"/org/editions/{live_id}/customers", headers={"Accept-Language": "zh-CN"})
    assert page.status_code == 200
