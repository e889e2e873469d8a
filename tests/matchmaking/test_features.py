"""The engine's inputs from the database: registrations, interests, answers, exhibitors, products, history."""
from datetime import date, timedelta

from sqlalchemy import insert, select

from expo import demo
from expo.core import services as core
from expo.core.models import Edition
from expo.core.scoping import Scope
from expo.exhibitors.models import Company
from expo.exhibitors.services import ProductData, create_product
from expo.extensions import db
from expo.leads.models import Lead
from expo.matchmaking import backtest, engine, features
from expo.visitors.models import registration_interests


def test_answers_to_features_splits_needs_tags_and_authority():
    questions = {"products": ("multi", {"office_chairs": "Office chairs 办公椅"}),
                 "company_type": ("single", {"distributor": "Distributor 经销商"}),
                 "needs": ("text", {}), "main_market": ("country", {})}
    answers = {"products": {"v": 1, "value": ["office_chairs", "lamps"]},
               "company_type": {"v": 1, "value": "distributor"}, "purchase_authority": {"v": 1, "value": "decides"},
               "needs": {"v": 2, "value": "人体工学椅 ergonomic chairs"}, "main_market": {"v": 1, "value": "DE"},
               "empty": {"v": 1, "value": ""}}
    needs, authority, tags = features.answers_to_features(answers, questions)
    assert needs == ["Office chairs 办公椅", "lamps", "人体工学椅 ergonomic chairs"]
    assert authority == "decides"
    assert tags == ["company_type=distributor", "main_market=DE"]


def _world(make):
    organizer = make.organizer()
    scope = Scope(organizer.id)
    show = core.create_show(scope, "Furniture Fair")
    furniture = core.add_category(scope, show, "Furniture 家具")
    office = core.add_category(scope, show, "Office furniture 办公家具", furniture)
    lighting = core.add_category(scope, show, "Lighting 照明")
    past = make.edition(organizer, show=show, starts_on=date.today() - timedelta(days=365), status="closed")
    current = make.edition(organizer, show=show, starts_on=date.today() + timedelta(days=30))
    return scope, show, past, current, office, lighting


def _link(registration, *categories):
    db.session.execute(insert(registration_interests),
                       [{"registration_id": registration.id, "category_id": c.id} for c in categories])


def test_load_reads_interests_products_and_history(make):
    scope, show, past, current, office, lighting = _world(make)
    old_exhibitor = make.exhibitor(past, "Ergo Seating Co")
    old_visitor = make.registration(past, email="buyer@example.com", source="import")
    _link(old_visitor, office)
    db.session.execute(insert(Lead), [{"organizer_id": scope.organizer_id, "exhibitor_id": old_exhibitor.id,
                                       "registration_id": old_visitor.id, "rating": "hot"}])
    exhibitor = make.exhibitor(current, "Ergo Seating Co")  # the same company, back again
    exhibitor.categories.append(office)
    company = db.session.get(Company, exhibitor.company_id)
    company.description = "Office seating manufacturer 办公座椅制造商"
    create_product(exhibitor, ProductData(name_en="Mesh office chair", name_zh="网布办公椅",
                                          description_en="Ergonomic mesh chair", category_ids=[lighting.id]))
    other = make.exhibitor(current, "Bright Lamps")
    other.categories.append(lighting)
    visitor = make.registration(current, email="buyer@example.com")  # the same person
    _link(visitor, office)
    cancelled = make.registration(current)
    from expo.visitors.services import cancel_registration
    cancel_registration(cancelled)
    db.session.flush()

    inputs = features.load(current.id)
    assert list(inputs.visitor_ids) == [visitor.id]  # cancelled visitors get nothing
    assert sorted(inputs.exhibitor_ids) == sorted([exhibitor.id, other.id])
    e = list(inputs.exhibitor_ids).index(exhibitor.id)
    cats = {inputs.category_names[i] for i in inputs.exhibitor_categories[e].indices}
    assert cats == {"Office furniture 办公家具", "Lighting 照明"}  # its own and its product's
    kinds = {d.kind for d in inputs.exhibitor_docs[e]}
    assert kinds == {"product", "profile"}
    assert inputs.visitor_interests[0].indices.tolist() == [list(inputs.category_ids).index(office.id)]
    h = inputs.history
    assert h is not None and list(h.pair_action) == ["hot"]
    assert h.exhibitor_company[h.pair_exhibitor[0]] == exhibitor.company_id
    assert h.visitor_person[h.pair_visitor[0]] == visitor.person_id

    # history comes only from editions before the one asked: the past edition knows none
    assert features.load(past.id).history is None
    assert features.load(current.id, known_before=past.id).history is None

    # exclusions and the repeat reason
    inputs = features.load(current.id, exclude_pairs=[(visitor.id, other.id)])
    result = engine.recommend(inputs, k=5)
    assert other.id not in [inputs.exhibitor_ids[i] for i in result.visitor_top[0] if i >= 0]
    why = engine.explain(inputs, 0, e)
    history = [r for r in why["reasons"] if r["signal"] == "history"]
    assert {"signal": "history", "kind": "repeat", "actions": ["hot", "visited"]} in history


def test_load_and_backtest_on_the_demo(ctx):
    demo.generate(visitors=300, exhibitors=12, editions=2)
    live = db.session.scalar(select(Edition).where(Edition.status == "live"))
    inputs = features.load(live.id)
    assert inputs.n_visitors > 100 and inputs.n_exhibitors >= 6
    assert sum(bool(n) for n in inputs.visitor_needs) > inputs.n_visitors * 0.8  # "products of interest"
    assert set(inputs.visitor_authority) <= {"decides", "recommends", "none", ""}
    assert any(t.startswith("company_type=") for t in inputs.tag_names)
    assert inputs.history is not None and len(inputs.history.pair_visitor) > 0
    result = engine.recommend(inputs, k=5)
    assert (result.visitor_top[:, 0] >= 0).mean() > 0.9
    report = backtest.run(live.id)  # the live edition's leads so far, known before it: the past edition
    assert report["k"] == 10 and set(report["model"]) == {"recall", "precision"}
    # The demo itself stored recommendations and the backtest the organizer's Matchmaking page shows.
    from expo.matchmaking import services

    stored = services.settings_for(live).backtest
    assert stored and "error" not in stored, stored
    assert 0 < stored["model"]["recall"] <= 1 and 0 < stored["baseline"]["recall"] <= 1
    assert services.settings_for(live).computed_rows > 0
    closed = db.session.scalars(select(Edition).where(Edition.status == "closed")).all()
    for edition in closed:
        assert features.load(edition.id).n_exhibitors >= 0
