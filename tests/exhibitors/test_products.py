"""Products: the exhibitor admin's catalogue (both languages, the show's categories), never another company's,
hostile input refused with a reason, the public list for visitors, and the one-query read for matchmaking."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from expo.core import services as core
from expo.core.db import utcnow
from expo.core.models import AuditEntry
from expo.core.scoping import Scope
from expo.core.services import ServiceError
from expo.exhibitors import products
from expo.exhibitors import services as exhibitor_services
from expo.exhibitors.models import Product
from expo.extensions import db

from ..conftest import Browser, count, field_errors, redirect_path


@pytest.fixture
def fair(make):
    """Two exhibitors of one edition (with admins) whose show has a small category tree, and a second organizer."""
    t = make.tenant("A", exhibitors=2)
    scope = Scope(t.organizer.id)
    furniture = core.add_category(scope, t.show, "Furniture 家具")
    office = core.add_category(scope, t.show, "Office furniture 办公家具", furniture)
    lighting = core.add_category(scope, t.show, "Lighting 照明")
    other = make.tenant("B")
    foreign_category = core.add_category(Scope(other.organizer.id), other.show, "Foreign")
    db.session.commit()
    return {"t": t, "office": office, "lighting": lighting, "furniture": furniture, "other": other,
            "foreign_category": foreign_category}


def chair(**changes) -> products.ProductData:
    values = {"name_en": "Ergonomic mesh office chair", "name_zh": "人体工学网布办公椅",
              "description_en": "Mesh back, adjustable lumbar support.", "description_zh": "网布靠背，腰托可调。"}
    values.update(changes)
    return products.ProductData(**values)


# --- services -----------------------------------------------------------------------------------------

def test_create_update_delete_in_both_languages(fair):
    t, office = fair["t"], fair["office"]
    exhibitor, admin, _booth = t.exhibitors[0]
    product = products.create_product(exhibitor, chair(category_ids=[office.id]), actor_id=admin.id)
    db.session.commit()
    assert product.name("en") == "Ergonomic mesh office chair" and product.name("zh_CN") == "人体工学网布办公椅"
    assert [c.id for c in product.categories] == [office.id]
    changed = products.update_product(exhibitor, product, chair(name_en="", description_zh="网布靠背。",
                                                                category_ids=[str(office.id), fair["lighting"].id]),
                                      actor_id=admin.id)
    assert set(changed) == {"name_en", "description_zh", "categories"}
    assert product.name("en") == "人体工学网布办公椅"  # the other language when one is missing
    assert products.update_product(exhibitor, product, chair(name_en="", description_zh="网布靠背。",
                                                             category_ids=[office.id, fair["lighting"].id])) == []
    products.delete_product(exhibitor, product, actor_id=admin.id)
    db.session.commit()
    assert products.company_products(exhibitor) == []
    assert db.session.get(Product, product.id).deleted_at is not None  # kept: matchmaking sees the change
    actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "products")
                                      .order_by(AuditEntry.id)))
    assert actions == ["product.created", "product.updated", "product.deleted"]


def test_products_belong_to_the_company_across_editions(make, fair):
    t = fair["t"]
    exhibitor = t.exhibitors[0][0]
    products.create_product(exhibitor, chair())
    later = make.edition(t.organizer, show=t.show, starts_on=t.edition.starts_on + timedelta(days=365))
    rebooked = exhibitor_services.add_exhibitor(Scope(t.organizer.id), later, exhibitor.company.name)
    assert [p.name_en for p in products.company_products(rebooked)] == ["Ergonomic mesh office chair"]


def test_an_exhibitor_never_touches_another_companys_products(fair):
    t = fair["t"]
    (mine, _a, _b), (theirs, _c, _d) = t.exhibitors
    product = products.create_product(theirs, chair())
    foreign_exhibitor = fair["other"].exhibitor
    foreign_product = products.create_product(foreign_exhibitor, chair(name_en="Foreign chair"))
    db.session.commit()
    assert products.get_product(mine, product.id) is None
    assert products.get_product(mine, foreign_product.id) is None
    for move in (lambda p: products.update_product(mine, p, chair(name_en="Hijacked")),
                 lambda p: products.delete_product(mine, p)):
        for target in (product, foreign_product):
            with pytest.raises(ServiceError):
                move(target)
    db.session.rollback()
    assert db.session.get(Product, product.id).name_en == "Ergonomic mesh office chair"
    assert db.session.get(Product, product.id).deleted_at is None


@pytest.mark.parametrize("changes, field", [
    ({"name_en": "", "name_zh": "  "}, "name_en"),
    ({"name_en": "Chair\x00"}, "name_en"),
    ({"description_zh": "椅子\x00"}, "description_zh"),
    ({"description_en": "bad \ud800 surrogate"}, "description_en"),
    ({"name_zh": "椅" * (products.NAME_MAX + 1)}, "name_zh"),
    ({"description_en": "x" * (products.DESCRIPTION_MAX + 1)}, "description_en"),
])
def test_hostile_text_is_refused_with_the_field(fair, changes, field):
    exhibitor = fair["t"].exhibitor
    with pytest.raises(ServiceError) as caught:
        products.create_product(exhibitor, chair(**changes))
    assert caught.value.field == field
    db.session.rollback()
    assert count(Product) == 0


def test_control_characters_are_cleaned_and_categories_must_be_the_shows(fair):
    exhibitor = fair["t"].exhibitor
    product = products.create_product(exhibitor, chair(name_en="Mesh\tchair\u200b \n pro",
                                                       description_en="Line one\r\nLine\x07 two  "))
    assert product.name_en == "Mesh chair pro" and product.description_en == "Line one\nLine two"
    for ids in ([fair["foreign_category"].id], [2**31 - 1], ["x", -3, fair["office"].id, 2**40, fair["foreign_category"].id]):
        with pytest.raises(ServiceError) as caught:
            products.create_product(exhibitor, chair(category_ids=ids))
        assert caught.value.field == "category_ids"
    garbage_only = products.create_product(exhibitor, chair(category_ids=["x", None, -1, 2**40]))
    assert garbage_only.categories == []


def test_a_catalogue_has_a_limit(fair, monkeypatch):
    monkeypatch.setattr(products, "MAX_PRODUCTS", 2)
    exhibitor = fair["t"].exhibitor
    products.create_product(exhibitor, chair())
    products.create_product(exhibitor, chair())
    with pytest.raises(ServiceError):
        products.create_product(exhibitor, chair())


# --- for matchmaking -----------------------------------------------------------------------------------

def test_products_for_exhibitors_in_one_query(fair, count_queries):
    t = fair["t"]
    (first, _a, _b), (second, _c, _d) = t.exhibitors
    products.create_product(first, chair(category_ids=[fair["office"].id, fair["furniture"].id]))
    products.create_product(first, chair(name_en="LED panel", name_zh="", description_en="", description_zh=""))
    gone = products.create_product(second, chair(name_en="Removed"))
    products.delete_product(second, gone)
    foreign = fair["other"].exhibitor
    products.create_product(foreign, chair(name_en="Foreign"))
    db.session.commit()
    scope = Scope(t.organizer.id)
    ids = [first.id, second.id, foreign.id]
    first_id, wanted = first.id, {fair["office"].id, fair["furniture"].id}
    with count_queries() as queries:
        found = exhibitor_services.products_for_exhibitors(scope, ids)
    assert len(queries) == 1, queries.report()
    assert list(found) == [first_id]
    chair_text, panel = found[first_id]
    assert set(chair_text.category_ids) == wanted and panel.category_ids == ()
    assert "人体工学网布办公椅" in chair_text.text and "Mesh back" in chair_text.text
    assert panel.text == "LED panel"
    assert exhibitor_services.products_for_exhibitors(scope, []) == {}


def test_companies_changed_since(fair):
    t = fair["t"]
    (first, _a, _b), (second, _c, _d) = t.exhibitors
    before = utcnow() - timedelta(seconds=1)
    product = products.create_product(first, chair())
    db.session.commit()
    scope = Scope(t.organizer.id)
    assert exhibitor_services.companies_changed_since(scope, before) == [first.company_id]
    assert exhibitor_services.companies_changed_since(scope, utcnow() + timedelta(seconds=1)) == []
    mark = utcnow()
    product.updated_at = mark - timedelta(days=1)  # long ago; now removed
    db.session.commit()
    products.delete_product(first, product)
    assert exhibitor_services.companies_changed_since(scope, mark - timedelta(seconds=1)) == [first.company_id]


# --- the portal page ------------------------------------------------------------------------------------

def test_admin_adds_edits_and_removes_over_http(app, fair):
    t, office = fair["t"], fair["office"]
    admin = t.users["exhibitor_admin"]
    browser = Browser(app, admin)
    page = browser.get("/portal/products").get_data(as_text=True)
    assert "Office furniture 办公家具" in page and "No products yet" in page
    response = browser.post("/portal/products", data={
        "name_en": "Mesh chair", "name_zh": "网布椅", "description_en": "Breathable.", "description_zh": "透气。",
        "category_ids": [str(office.id)]})
    assert redirect_path(response) == "/portal/products"
    product = db.session.scalar(select(Product))
    assert (product.name_zh, [c.id for c in product.categories]) == ("网布椅", [office.id])
    page = browser.get(f"/portal/products?edit={product.id}").get_data(as_text=True)
    assert 'value="Mesh chair"' in page
    response = browser.post("/portal/products", data={"product_id": str(product.id), "name_en": "Mesh chair II",
                                                      "name_zh": "网布椅", "category_ids": []})
    assert redirect_path(response) == "/portal/products"
    db.session.expire_all()
    assert db.session.get(Product, product.id).name_en == "Mesh chair II"
    assert db.session.get(Product, product.id).categories == []
    response = browser.post("/portal/products/delete", data={"product_id": str(product.id)})
    assert redirect_path(response) == "/portal/products"
    db.session.expire_all()
    assert db.session.get(Product, product.id).deleted_at is not None


def test_portal_form_errors_stay_beside_the_field(app, fair):
    browser = Browser(app, fair["t"].users["exhibitor_admin"])
    page = browser.post("/portal/products", data={"name_en": "", "name_zh": ""}).get_data(as_text=True)
    assert field_errors(page, "name_en") == ["Name the product in English, in Chinese or in both."]
    page = browser.post("/portal/products", data={"name_en": "Chair\x00"}).get_data(as_text=True)
    assert field_errors(page, "name_en")
    page = browser.post("/portal/products", data={"name_en": "Chair", "description_en": "x" * 300_000})
    assert page.status_code in (200, 413)
    assert count(Product) == 0


def test_portal_refuses_another_companys_product(app, fair):
    t = fair["t"]
    theirs = products.create_product(t.exhibitors[1][0], chair())
    foreign = products.create_product(fair["other"].exhibitor, chair(name_en="Foreign chair"))
    db.session.commit()
    browser = Browser(app, t.users["exhibitor_admin"])
    for product in (theirs, foreign):
        assert browser.get(f"/portal/products?edit={product.id}").status_code == 404
        page = browser.post("/portal/products", data={"product_id": str(product.id), "name_en": "Hijacked"})
        assert page.status_code == 200 and "No such product." in page.get_data(as_text=True)
        assert redirect_path(browser.post("/portal/products/delete",
                                          data={"product_id": str(product.id)})) == "/portal/products"
    for garbage in ("abc", "-1", "99999999999999999999", "１２"):
        assert browser.get(f"/portal/products?edit={garbage}").status_code == 404
    db.session.expire_all()
    assert {p.name_en for p in db.session.scalars(select(Product))} == {"Ergonomic mesh office chair", "Foreign chair"}
    assert all(p.deleted_at is None for p in db.session.scalars(select(Product)))


def test_booth_staff_cannot_edit_the_catalogue(app, fair):
    browser = Browser(app, fair["t"].users["booth_staff"])
    assert browser.get("/portal/products").status_code == 403


# --- the public list -------------------------------------------------------------------------------------

def test_public_list_shows_participating_exhibitors_and_their_products(app, fair, make):
    t = fair["t"]
    products.create_product(t.exhibitors[0][0], chair(category_ids=[fair["office"].id]))
    products.create_product(t.exhibitors[1][0], chair(name_en="LED panel", name_zh="LED平板灯",
                                                      category_ids=[fair["lighting"].id]))
    prospect = exhibitor_services.add_exhibitor(Scope(t.organizer.id), t.edition, "Secret Prospect Ltd",
                                                status="prospect")
    products.create_product(prospect, chair(name_en="Unreleased"))
    db.session.commit()
    client = app.test_client()
    page = client.get(f"/e/{t.edition.slug}/exhibitors").get_data(as_text=True)
    assert "Ergonomic mesh office chair" in page and "LED panel" in page
    assert "Secret Prospect" not in page and "Unreleased" not in page
    page = client.get(f"/e/{t.edition.slug}/exhibitors?category={fair['lighting'].id}").get_data(as_text=True)
    assert "LED panel" in page and "Ergonomic mesh office chair" not in page
    page = client.get(f"/e/{t.edition.slug}/exhibitors?q=led").get_data(as_text=True)
    assert "LED panel" in page and "Ergonomic" not in page
    chinese = client.get(f"/e/{t.edition.slug}/exhibitors", headers={"Accept-Language": "zh-CN"})
    assert "LED平板灯" in chinese.get_data(as_text=True)
    assert client.get(f"/e/{t.edition.slug}/exhibitors", query_string={"q": "\x00"}).status_code == 400  # app-wide
    for hostile in ("x" * 5000, "%'; drop table products; --", "99999999999999999999"):
        assert client.get(f"/e/{t.edition.slug}/exhibitors", query_string={"q": hostile,
                                                                            "category": hostile}).status_code == 200
    for raw in ("q=%ED%A0%80", "q=%FF%FE&category=%C0", "category=-1"):  # a lone surrogate, bad UTF-8
        assert client.get(f"/e/{t.edition.slug}/exhibitors?{raw}").status_code in (200, 400)
    assert client.get("/e/no-such-show/exhibitors").status_code == 404


def test_a_merged_companys_products_move_to_the_kept_company(fair):
    t = fair["t"]
    (first, _a, _b), (second, _c, _d) = t.exhibitors
    products.create_product(second, chair(name_en="From the duplicate"))
    foreign = products.create_product(fair["other"].exhibitor, chair(name_en="Foreign"))
    assert products.move_products(t.organizer.id, second.company_id, first.company_id) == 1
    assert products.move_products(t.organizer.id, foreign.company_id, first.company_id) == 0  # other organizer
    db.session.expire_all()
    assert [p.name_en for p in products.company_products(first)] == ["From the duplicate"]


def test_merging_companies_in_the_duplicates_review_moves_the_catalogue(fair):
    from expo.exhibitors import companies

    t = fair["t"]
    (first, _a, _b), (second, _c, _d) = t.exhibitors
    products.create_product(second, chair(name_en="From the duplicate"))
    second.status = "lost"  # both booked for the same edition: the duplicate's booking is withdrawn first
    db.session.commit()
    companies.merge_companies(Scope(t.organizer.id), first.company_id, second.company_id, actor_id=None)
    db.session.commit()
    assert [p.name_en for p in products.company_products(first)] == ["From the duplicate"]
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "company.merged")).one()
    assert entry.details["products_moved"] == 1
