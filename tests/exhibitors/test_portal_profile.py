"""The portal's profile in both languages, the logo and product pictures over HTTP: the admin uploads, hostile
files are refused with a clear message and leave nothing behind, nobody touches another company's pictures,
visitors see logos and pictures on the public exhibitor list (in their language), and the app serves the
images with caching headers."""
from __future__ import annotations

import html
import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from expo.core.models import AuditEntry
from expo.exhibitors import images, portal, products
from expo.exhibitors.models import CompanyProfile, ProductPicture
from expo.extensions import db

from ..conftest import Browser, count, field_errors, redirect_path


def picture(size=(600, 400), fmt="PNG", color=(30, 90, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt)
    return buffer.getvalue()


def upload(data: bytes, name: str):
    return (io.BytesIO(data), name)


def media_files(app) -> set[str]:
    root = Path(app.config["INSTANCE_DIR"]) / "media"
    return {p.name for p in root.rglob("*.webp")} if root.exists() else set()


def flashed(browser, path) -> str:
    return html.unescape(browser.get(path).get_data(as_text=True))


@pytest.fixture
def fair(make):
    t = make.tenant("A", exhibitors=2)
    other = make.tenant("B", domain="other.example.com")
    db.session.commit()
    return {"t": t, "other": other}


@pytest.fixture
def chair(fair):
    exhibitor, admin, _booth = fair["t"].exhibitors[0]
    product = products.create_product(exhibitor, products.ProductData(name_en="Mesh office chair",
                                                                      name_zh="网布办公椅"), actor_id=admin.id)
    db.session.commit()
    return product


# --- the profile in both languages -------------------------------------------------------------------

def profile_form(**changes) -> dict:
    return {"name": "Hongda Furniture", "name_zh": "宏达家具", "country": "cn", "website": "https://hongda.example.cn",
            "email": "", "phone": "", "description": "Office furniture since 1998.",
            "description_zh": "1998年以来的办公家具。\n\n深圳制造。", **changes}


def test_the_profile_is_kept_in_both_languages_and_shown_in_the_visitors(app, fair):
    t = fair["t"]
    exhibitor, admin, _booth = t.exhibitors[0]
    browser = Browser(app, admin)
    assert redirect_path(browser.post("/portal", data=profile_form())) == "/portal"
    profile = db.session.scalar(select(CompanyProfile))
    assert (profile.name_zh, profile.description_zh) == ("宏达家具", "1998年以来的办公家具。\n\n深圳制造。")
    assert profile.company_id == exhibitor.company_id and profile.organizer_id == t.organizer.id
    fields = [e.details["fields"] for e in db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "company.updated").order_by(AuditEntry.id))]
    assert set(fields[0]) >= {"name", "description", "website"} and fields[1] == ["name_zh", "description_zh"]
    page = browser.get("/portal").get_data(as_text=True)
    assert 'value="宏达家具"' in page and "深圳制造。" in page

    visitor = app.test_client()
    english = visitor.get(f"/e/{t.edition.slug}/exhibitors").get_data(as_text=True)
    assert "Office furniture since 1998." in english and "宏达家具" in english  # the other name beside it
    assert "深圳制造" not in english
    chinese = visitor.get(f"/e/{t.edition.slug}/exhibitors", headers={"Accept-Language": "zh-CN"})
    chinese = chinese.get_data(as_text=True)
    assert "1998年以来的办公家具" in chinese and "Office furniture since 1998." not in chinese
    assert chinese.index("宏达家具") < chinese.index("Hongda Furniture")


def test_a_missing_language_falls_back_to_the_other(app, fair):
    t = fair["t"]
    exhibitor, admin, _booth = t.exhibitors[0]
    Browser(app, admin).post("/portal", data=profile_form(name_zh="", description_zh=""))
    chinese = app.test_client().get(f"/e/{t.edition.slug}/exhibitors", headers={"Accept-Language": "zh-CN"})
    assert "Office furniture since 1998." in chinese.get_data(as_text=True)
    # only Chinese: English visitors read it rather than nothing
    Browser(app, admin).post("/portal", data=profile_form(description="", description_zh="只有中文。"))
    assert "只有中文。" in app.test_client().get(f"/e/{t.edition.slug}/exhibitors").get_data(as_text=True)


@pytest.mark.parametrize("field, value, message", [
    ("name_zh", "宏达\x00家具", "cannot be stored"), ("description_zh", "第一行\x00", "cannot be stored"),
    ("name_zh", "名" * 201, "200"), ("description_zh", "字" * 5001, "5000")])
def test_hostile_profile_text_is_a_field_error(app, fair, field, value, message):
    admin = fair["t"].exhibitors[0][1]
    response = Browser(app, admin).post("/portal", data=profile_form(**{field: value}))
    assert response.status_code == 200
    assert any(message in error for error in field_errors(response.get_data(as_text=True), field))
    assert count(CompanyProfile) == 0


def test_saving_the_profile_unchanged_changes_nothing(app, fair):
    admin = fair["t"].exhibitors[0][1]
    browser = Browser(app, admin)
    browser.post("/portal", data=profile_form())
    before = count(AuditEntry)
    assert redirect_path(browser.post("/portal", data=profile_form())) == "/portal"
    assert count(AuditEntry) == before and "Nothing changed." in flashed(browser, "/portal")


# --- the logo ------------------------------------------------------------------------------------------

def test_the_admin_uploads_a_logo_that_visitors_see_and_the_app_serves_cached(app, fair):
    t = fair["t"]
    exhibitor, admin, _booth = t.exhibitors[0]
    browser = Browser(app, admin)
    response = browser.post("/portal/logo", data={"file": upload(picture((800, 800)), "logo.png")},
                            content_type="multipart/form-data")
    assert redirect_path(response) == "/portal"
    assert "Logo saved." in flashed(browser, "/portal")
    profile = db.session.scalar(select(CompanyProfile))
    key = profile.logo_key
    assert len(key) == 32 and (profile.logo_width, profile.logo_height) == (256, 256)
    assert media_files(app) >= {f"{key}-s.webp", f"{key}-m.webp"}
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "company.logo"))
    assert entry.user_id == admin.id and entry.object_id == exhibitor.company_id

    visitor = app.test_client()
    page = visitor.get(f"/e/{t.edition.slug}/exhibitors").get_data(as_text=True)
    assert f"/media/{key}-s.webp" in page
    image = visitor.get(f"/media/{key}-m.webp")
    assert image.status_code == 200 and image.mimetype == "image/webp"
    assert Image.open(io.BytesIO(image.data)).size == (256, 256)
    assert image.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert image.headers["ETag"] and image.headers["X-Content-Type-Options"] == "nosniff"
    again = visitor.get(f"/media/{key}-m.webp", headers={"If-None-Match": image.headers["ETag"]})
    assert again.status_code == 304

    # a new logo replaces the old one; the old files go once the change is committed
    assert redirect_path(browser.post("/portal/logo", data={"file": upload(picture(fmt="JPEG"), "new.jpg")},
                                      content_type="multipart/form-data")) == "/portal"
    db.session.expire_all()
    new_key = db.session.scalar(select(CompanyProfile.logo_key))
    assert new_key != key and visitor.get(f"/media/{key}-m.webp").status_code == 404
    assert {f"{key}-s.webp", f"{key}-m.webp"}.isdisjoint(media_files(app))
    # removed
    assert redirect_path(browser.post("/portal/logo/remove")) == "/portal"
    db.session.expire_all()
    assert db.session.scalar(select(CompanyProfile.logo_key)) is None
    assert visitor.get(f"/media/{new_key}-s.webp").status_code == 404


HOSTILE = [
    (b"just text, not an image", "logo.png", "not a PNG, JPEG or WebP image"),
    (picture(), "logo.gif", "Upload a PNG, JPEG or WebP image"),
    (picture(), "logo.jpg", "holds a PNG image"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.svg", "Upload a PNG"),
    (picture()[:300], "logo.png", "damaged"),
    (b"", "logo.png", "Choose an image file"),
]


@pytest.mark.parametrize("data, name, message", HOSTILE)
def test_hostile_logos_are_refused_with_a_clear_message_and_leave_nothing(app, fair, data, name, message):
    admin = fair["t"].exhibitors[0][1]
    browser = Browser(app, admin)
    before = media_files(app)
    response = browser.post("/portal/logo", data={"file": upload(data, name)}, content_type="multipart/form-data")
    assert redirect_path(response) == "/portal"
    page = flashed(browser, "/portal")
    assert "Logo not saved:" in page and message in page
    assert count(CompanyProfile) == 0 and media_files(app) == before


def test_a_decompression_bomb_and_huge_dimensions_are_refused(app, fair):
    admin = fair["t"].exhibitors[0][1]
    browser = Browser(app, admin)
    buffer = io.BytesIO()
    Image.new("1", (20000, 20000)).save(buffer, "PNG")  # ~50 kB file, 400 MP decoded
    response = browser.post("/portal/logo", data={"file": upload(buffer.getvalue(), "bomb.png")},
                            content_type="multipart/form-data")
    assert redirect_path(response) == "/portal"
    assert "The image is too large" in flashed(browser, "/portal")
    assert count(CompanyProfile) == 0


def test_a_file_over_the_size_limit_is_refused(app, fair):
    admin = fair["t"].exhibitors[0][1]
    browser = Browser(app, admin)
    big = b"\xff\xd8\xff" + b"\0" * (images.MAX_BYTES + 1)
    response = browser.post("/portal/logo", data={"file": upload(big, "big.jpg")}, content_type="multipart/form-data")
    assert redirect_path(response) == "/portal"
    assert "too large: at most 5 MB" in flashed(browser, "/portal")


def test_a_post_without_a_file_is_refused(app, fair):
    browser = Browser(app, fair["t"].exhibitors[0][1])
    assert redirect_path(browser.post("/portal/logo")) == "/portal"
    assert "Choose an image file" in flashed(browser, "/portal")


def test_only_the_exhibitor_admin_changes_the_logo(app, fair):
    t = fair["t"]
    booth = t.exhibitors[0][2]
    data = {"file": upload(picture(), "logo.png")}
    assert Browser(app, booth).post("/portal/logo", data=data, content_type="multipart/form-data").status_code == 403
    owner = t.users["owner"]
    data = {"file": upload(picture(), "logo.png")}
    assert Browser(app, owner).post("/portal/logo", data=data, content_type="multipart/form-data").status_code == 403
    assert count(CompanyProfile) == 0


# --- product pictures ------------------------------------------------------------------------------------

def add(browser, product_id, data=None, name="shot.png"):
    return browser.post("/portal/products/pictures",
                        data={"product_id": str(product_id), "file": upload(data or picture(), name)},
                        content_type="multipart/form-data")


def test_pictures_are_added_ordered_removed_and_shown_to_visitors(app, fair, chair):
    t = fair["t"]
    exhibitor, admin, _booth = t.exhibitors[0]
    browser = Browser(app, admin)
    for color in ((255, 0, 0), (0, 255, 0), (0, 0, 255)):
        response = add(browser, chair.id, picture((1600, 1200), color=color))
        assert redirect_path(response) == "/portal/products"
        assert f"edit={chair.id}" in response.headers["Location"]
    first, second, third = db.session.scalars(select(ProductPicture).order_by(ProductPicture.position)).all()
    assert [p.position for p in (first, second, third)] == [0, 1, 2]
    assert (first.width, first.height) == (1200, 900)
    page = browser.get(f"/portal/products?edit={chair.id}").get_data(as_text=True)
    assert f"/media/{first.key}-s.webp" in page and 'id="picture-list"' in page

    browser.post("/portal/products/pictures/move", data={"picture_id": str(third.id), "direction": "up"})
    browser.post("/portal/products/pictures/move", data={"picture_id": str(third.id), "direction": "up"})
    db.session.expire_all()
    assert [p.id for p in portal.pictures_of(chair)] == [third.id, first.id, second.id]
    # already first: nothing moves
    browser.post("/portal/products/pictures/move", data={"picture_id": str(third.id), "direction": "up"})
    browser.post("/portal/products/pictures/move", data={"picture_id": str(third.id), "direction": "sideways"})
    db.session.expire_all()
    assert [p.id for p in portal.pictures_of(chair)] == [third.id, first.id, second.id]

    visitor = app.test_client()
    public = visitor.get(f"/e/{t.edition.slug}/exhibitors").get_data(as_text=True)
    assert public.index(f"/media/{third.key}-s.webp") < public.index(f"/media/{first.key}-s.webp")
    assert f"/media/{third.key}-l.webp" in public
    assert visitor.get(f"/media/{third.key}-l.webp").status_code == 200

    assert redirect_path(browser.post("/portal/products/pictures/remove",
                                      data={"picture_id": str(first.id)})) == "/portal/products"
    db.session.expire_all()
    assert [(p.id, p.position) for p in portal.pictures_of(chair)] == [(third.id, 0), (second.id, 1)]
    assert visitor.get(f"/media/{first.key}-s.webp").status_code == 404
    actions = list(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("product.picture%"))))
    assert actions.count("product.picture_added") == 3 and "product.picture_removed" in actions
    assert "product.pictures_ordered" in actions


def test_a_product_holds_at_most_the_limit(app, fair, chair):
    exhibitor, admin, _booth = fair["t"].exhibitors[0]
    for _ in range(portal.MAX_PICTURES):
        portal.add_picture(exhibitor, chair, picture((40, 40)), "p.png")
    db.session.commit()
    browser = Browser(app, admin)
    add(browser, chair.id)
    assert "at most 8 pictures" in flashed(browser, f"/portal/products?edit={chair.id}")
    assert count(ProductPicture) == portal.MAX_PICTURES


@pytest.mark.parametrize("data, name, message", HOSTILE)
def test_hostile_pictures_are_refused_with_a_clear_message(app, fair, chair, data, name, message):
    browser = Browser(app, fair["t"].exhibitors[0][1])
    before = media_files(app)
    response = add(browser, chair.id, data, name) if data else browser.post(
        "/portal/products/pictures", data={"product_id": str(chair.id)})
    assert redirect_path(response) == "/portal/products"
    page = flashed(browser, f"/portal/products?edit={chair.id}")
    assert "Picture not added:" in page and message in page
    assert count(ProductPicture) == 0 and media_files(app) == before


@pytest.mark.parametrize("product_id", ["", "abc", "0", "-1", "99999999999", "2147483648", "1\x00", "١"])
def test_bad_product_ids_are_refused(app, fair, chair, product_id):
    browser = Browser(app, fair["t"].exhibitors[0][1])
    response = browser.post("/portal/products/pictures", data={"product_id": product_id,
                                                               "file": upload(picture(), "a.png")},
                            content_type="multipart/form-data")
    assert response.status_code in (302, 400)
    assert count(ProductPicture) == 0


def test_nobody_touches_another_companys_pictures(app, fair, chair):
    t, other = fair["t"], fair["other"]
    exhibitor, admin, _booth = t.exhibitors[0]
    picture_row = portal.add_picture(exhibitor, chair, picture(), "a.png")
    db.session.commit()
    for intruder in (t.exhibitors[1][1], other.exhibitors[0][1]):  # same show, another organizer
        browser = Browser(app, intruder)
        add(browser, chair.id)
        assert "No such product." in flashed(browser, "/portal/products")
        for action in ("remove", "move"):
            browser.post(f"/portal/products/pictures/{action}", data={"picture_id": str(picture_row.id),
                                                                      "direction": "down"})
            assert "No such picture." in flashed(browser, "/portal/products")
    db.session.expire_all()
    assert [p.id for p in portal.pictures_of(chair)] == [picture_row.id]
    assert count(ProductPicture) == 1


def test_removing_a_product_removes_its_pictures(app, fair, chair):
    exhibitor, admin, _booth = fair["t"].exhibitors[0]
    row = portal.add_picture(exhibitor, chair, picture(), "a.png")
    db.session.commit()
    key = row.key
    browser = Browser(app, admin)
    assert redirect_path(browser.post("/portal/products/delete", data={"product_id": str(chair.id)})) \
        == "/portal/products"
    assert count(ProductPicture) == 0
    assert app.test_client().get(f"/media/{key}-s.webp").status_code == 404


def test_the_public_list_reads_logos_and_pictures_in_a_few_queries(app, fair, make, count_queries):
    t = fair["t"]
    for exhibitor, admin, _booth in t.exhibitors:
        portal.set_logo(exhibitor, picture(), "logo.png")
        for n in range(3):
            product = products.create_product(exhibitor, products.ProductData(name_en=f"Product {n}"))
            portal.add_picture(exhibitor, product, picture((40, 40)), "p.png")
    db.session.commit()
    url = f"/e/{t.edition.slug}/exhibitors"
    client = app.test_client()
    client.get(url)
    with count_queries() as queries:
        page = client.get(url).get_data(as_text=True)
    assert page.count("/media/") == 2 + 2 * 3 * 2  # logos; each picture: thumbnail and its link
    assert len(queries) <= 12, queries.report()


# --- the media route -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["x", "..%2F..%2Fsecret_key", "%2E%2E", "0" * 32 + "-s.png", "0" * 32 + "-q.webp",
                                  "A" * 32 + "-s.webp", "0" * 32 + "-s.webp", "0" * 33 + "-s.webp",
                                  "0" * 32 + "-s.webp%00"])
def test_media_names_that_are_not_images_are_404s(app, client, name):
    assert client.get(f"/media/{name}").status_code == 404
    assert client.get("/media/../secret_key").status_code == 404



def test_an_upload_beyond_the_request_limit_is_a_clear_413(app, fair):
    browser = Browser(app, fair["t"].exhibitors[0][1])
    huge = b"\x89PNG\r\n\x1a\n" + b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = browser.post("/portal/logo", data={"file": upload(huge, "huge.png")},
                            content_type="multipart/form-data")
    assert response.status_code == 413
    assert count(CompanyProfile) == 0


def test_the_organizer_cannot_read_portal_services_of_another_organizer(fair, chair):
    """The one-query reads take the organizer: another organizer's rows never come back."""
    t, other = fair["t"], fair["other"]
    exhibitor = t.exhibitors[0][0]
    portal.set_logo(exhibitor, picture(), "logo.png")
    portal.add_picture(exhibitor, chair, picture(), "a.png")
    db.session.commit()
    assert portal.logo_keys(t.organizer.id, [exhibitor.company_id])
    assert portal.logo_keys(other.organizer.id, [exhibitor.company_id]) == {}
    assert portal.pictures_for_products(other.organizer.id, [chair.id]) == {}
    assert portal.get_picture(other.exhibitors[0][0], db.session.scalar(select(ProductPicture.id))) is None


def test_visitors_find_a_company_by_its_chinese_name(app, fair):
    t = fair["t"]
    Browser(app, t.exhibitors[0][1]).post("/portal", data=profile_form())
    page = app.test_client().get(f"/e/{t.edition.slug}/exhibitors", query_string={"q": "宏达"}).get_data(as_text=True)
    assert "Hongda Furniture" in page and t.exhibitors[1][0].company.name not in page
