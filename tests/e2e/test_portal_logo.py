"""The portal's images in a real browser: an exhibitor admin on a phone (375×667) uploads a logo and a product
picture through the file inputs, is told plainly when a file is not an image, and a visitor then sees the logo
and the picture on the public exhibitor list, in Chinese. Nothing scrolls sideways. Screenshots go to
$EXPO_SCREENSHOTS (default: the test's tmp dir)."""
from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from expo.exhibitors import products
from expo.exhibitors.models import CompanyProfile, ProductPicture
from expo.extensions import db

from .conftest import sign_in

pytestmark = pytest.mark.e2e
PHONE = {"width": 375, "height": 667}


def _png(tmp_path, name, size, colour):
    path = tmp_path / name
    Image.new("RGB", size, colour).save(path, "PNG")
    return path


def test_an_admin_uploads_a_logo_and_a_picture_that_visitors_see(app, make, new_page, shots, tmp_path):
    edition = make.edition(status="live")
    exhibitor = make.exhibitor(edition, name="Hongda Furniture")
    admin = make.user("exhibitor_admin", exhibitor=exhibitor)
    product = products.create_product(exhibitor, products.ProductData(name_en="Mesh chair", name_zh="网布椅"))
    db.session.commit()
    slug, product_id = edition.slug, product.id
    logo = _png(tmp_path, "logo.png", (600, 600), (13, 110, 253))
    photo = _png(tmp_path, "chair.png", (1600, 1200), (25, 135, 84))
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")

    page = new_page(viewport=PHONE)
    sign_in(page, admin.email)
    page.goto("/portal")
    page.set_input_files("#logo-file", str(fake))
    with page.expect_navigation():
        page.click("#logo button[type=submit]")
    assert "not a PNG, JPEG or WebP image" in page.inner_text("body")
    page.set_input_files("#logo-file", str(logo))
    with page.expect_navigation():
        page.click("#logo button[type=submit]")
    assert "Logo saved." in page.inner_text("body")
    assert page.locator("#logo img").evaluate("img => img.complete && img.naturalWidth") == 256
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(shots / "portal-logo-phone.png"), full_page=True)

    page.goto(f"/portal/products?edit={product_id}")
    page.set_input_files("#picture-file", str(photo))
    with page.expect_navigation():
        page.click("#pictures button[type=submit]")
    assert "Picture added." in page.inner_text("body")
    assert page.locator("#picture-list img").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(shots / "portal-pictures-phone.png"), full_page=True)

    db.session.expire_all()
    key = db.session.scalar(select(CompanyProfile.logo_key))
    picture_key = db.session.scalar(select(ProductPicture.key))
    visitor = new_page(locale="zh-CN", viewport=PHONE)
    visitor.goto(f"/lang/zh_CN?next=/e/{slug}/exhibitors")
    assert visitor.locator(f"img[src='/media/{key}-s.webp']").evaluate("img => img.naturalWidth") == 96
    assert visitor.locator(f"img[src='/media/{picture_key}-s.webp']").evaluate("img => img.naturalWidth") == 320
    assert "网布椅" in visitor.inner_text("body")
    assert visitor.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    visitor.screenshot(path=str(shots / "public-exhibitors-zh-phone.png"), full_page=True)
