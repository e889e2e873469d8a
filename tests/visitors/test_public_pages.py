"""What a visitor without an account sees: the front door at ``/`` (the shows open for registration, each
with its public page, staff sign-in as a link), the show page with the form, the confirmation page with a
saveable QR code — light and WeChat-safe (UI.md §4) — and the links in the confirmation mail, which point
to the address the visitor reached when EXPO_PUBLIC_URL is unset."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from expo.core import services as core
from expo.core.models import MailMessage
from expo.core.scoping import Scope
from expo.extensions import db
from expo.visitors.models import Registration

from ..conftest import Browser, csrf_token, login

WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")


def _form(**overrides) -> dict:
    data = {"name": "王小明", "email": "xiaoming@example.cn", "phone": "13912345678", "company": "宏达家具",
            "job_title": "采购经理", "country": "CN", "category": "buyer", "consent": "y"}
    data.update(overrides)
    return data


def _assets_are_our_own(page: str) -> None:
    """No request to another host, no charts: WeChat's in-app browser on a venue's network (UI.md §4)."""
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert not re.match(r"^(https?:)?//", url), url
    assert "echarts" not in page


@pytest.fixture
def shows(make):
    organizer = make.organizer("Shenzhen Fairs")
    scope = Scope(organizer.id)
    furniture = core.create_show(scope, "Shenzhen Furniture Fair")
    lighting = core.create_show(scope, "Lighting Expo")
    soon = date.today() + timedelta(days=30)
    open_ = make.edition(organizer, show=furniture, status="registration_open", starts_on=soon,
                         name="Shenzhen Furniture Fair 2027")
    live = make.edition(organizer, show=lighting, status="live", name="Lighting Expo Spring")
    draft = make.edition(organizer, show=furniture, status="draft", starts_on=soon + timedelta(days=365),
                         name="Shenzhen Furniture Fair 2028")
    closed = make.edition(organizer, show=lighting, status="closed", starts_on=soon - timedelta(days=400),
                          name="Lighting Expo 2025")
    db.session.commit()
    return open_, live, draft, closed


# --- the front door -----------------------------------------------------------------------------------

def test_front_door_lists_the_shows_open_for_registration_with_a_register_button(app, client, shows):
    open_, live, draft, closed = shows

    response = client.get("/")

    assert response.status_code == 200, response.headers.get("Location")
    page = response.get_data(as_text=True)
    assert open_.name in page and live.name in page
    assert draft.name not in page and closed.name not in page
    assert f'href="/e/{open_.slug}#register"' in page and f'href="/e/{live.slug}#register"' in page
    assert "Hall" in page  # the venue
    assert 'href="/login"' in page  # staff sign in from here
    _assets_are_our_own(page)


def test_front_door_without_open_shows_says_so(app, client):
    page = client.get("/").get_data(as_text=True)

    assert "No show is open for registration right now." in page
    assert 'href="/login"' in page


def test_signed_in_staff_are_not_shown_the_front_door(app, client, make, shows):
    open_ = shows[0]
    login(client, make.user("manager", _organizer(open_)))

    assert client.get("/").status_code == 302


def _organizer(edition):
    from expo.core.models import Organizer

    return db.session.get(Organizer, edition.organizer_id)


def test_front_door_in_chinese(app, client, shows):
    page = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)

    assert '<html lang="zh-CN">' in page
    assert "正在开放登记的展会" in page and "预登记" in page and "工作人员登录" in page


# --- the show page and its form ------------------------------------------------------------------------

def test_show_page_has_the_facts_and_the_form_and_is_light(app, client, shows):
    open_ = shows[0]

    page = client.get(f"/e/{open_.slug}").get_data(as_text=True)

    assert open_.name in page and "Hall" in page and 'id="register"' in page
    assert 'name="email"' in page and 'autocomplete="email"' in page and 'inputmode="tel"' in page
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in page
    _assets_are_our_own(page)


def test_show_page_of_a_closed_edition_says_registration_is_closed(app, client, shows):
    closed = shows[3]

    page = client.get(f"/e/{closed.slug}").get_data(as_text=True)

    assert "Registration for this edition is not open." in page and 'name="email"' not in page


# --- the confirmation page ------------------------------------------------------------------------------

def _register(client, edition, **kwargs):
    """Register on the form; the confirmation page's path, from the link in the mail (the form itself answers
    "check your inbox", whoever the address belongs to)."""
    url = f"/e/{edition.slug}"
    token = csrf_token(client, url)
    response = client.post(url, data={**_form(), "csrf_token": token}, **kwargs)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(f"/e/{edition.slug}/mail-sent")
    return "/r/" + re.search(r"/r/([\w-]+)", _mail_to(_form()["email"]).body_text).group(1)


def test_confirmation_page_shows_the_qr_as_a_large_image_with_number_and_save_hint(app, client, shows):
    location = _register(client, shows[0])
    registration = db.session.scalar(select(Registration))

    page = client.get(location).get_data(as_text=True)

    img = re.search(r'<img id="badge-qr"[^>]*>', page).group(0)
    assert f'src="/r/{registration.access_key}/badge.png"' in img
    assert int(re.search(r'width="(\d+)"', img).group(1)) >= 240
    assert int(re.search(r'height="(\d+)"', img).group(1)) >= 240
    assert f"#{registration.id}" in page
    assert "Long-press the QR code to save it to your photos." in page
    assert f"/r/{registration.access_key}/badge.pdf" in page
    _assets_are_our_own(page)
    assert client.get(f"/r/{registration.access_key}/badge.png").mimetype == "image/png"


def test_confirmation_page_in_wechat_offers_no_dead_download(app, client, shows):
    location = _register(client, shows[0])

    page = client.get(location, headers={"User-Agent": WECHAT_UA, "Accept-Language": "zh-CN"}).get_data(as_text=True)

    assert 'id="badge-qr"' in page and "长按二维码图片保存到相册" in page
    assert "badge.pdf" not in page and "在浏览器打开" in page


# --- the links in the confirmation mail ----------------------------------------------------------------

def _mail_to(email) -> MailMessage:
    db.session.expire_all()
    return db.session.scalar(select(MailMessage).where(MailMessage.recipient == email))


def test_mail_links_use_the_address_the_visitor_reached_when_public_url_is_unset(app, client, shows,
                                                                                   monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", None)
    open_ = shows[0]
    base = "http://localhost:8080"
    token = csrf_token(client, f"{base}/e/{open_.slug}")

    response = client.post(f"/e/{open_.slug}", base_url=base, data={**_form(), "csrf_token": token})

    assert response.status_code == 302, response.get_data(as_text=True)
    key = db.session.scalar(select(Registration.access_key))
    mail = _mail_to("xiaoming@example.cn")
    assert f"{base}/r/{key}" in mail.body_text
    assert f'href="{base}/r/{key}"' in mail.body_html
    assert "5000" not in mail.body_text


def test_mail_links_use_public_url_when_it_is_set(app, client, shows, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://expo.example.com/")
    open_ = shows[0]
    base = "http://localhost:8080"
    token = csrf_token(client, f"{base}/e/{open_.slug}")

    response = client.post(f"/e/{open_.slug}", base_url=base, data={**_form(), "csrf_token": token})

    assert response.status_code == 302
    key = db.session.scalar(select(Registration.access_key))
    mail = _mail_to("xiaoming@example.cn")
    assert f"https://expo.example.com/r/{key}" in mail.body_text
    assert "localhost:8080" not in mail.body_text


def test_the_organizers_description_shows_on_the_front_door_and_the_show_page(app, client, make):
    owner = make.user("owner")
    show_id = make.edition(owner.organizer).show_id
    db.session.commit()
    browser = Browser(app, owner)
    response = browser.post(f"/org/shows/{show_id}/editions/new", data={
        "name": "SZIFF 2027", "starts_on": "2027-03-18", "ends_on": "2027-03-21", "venue": "深圳国际会展中心",
        "timezone": "Asia/Shanghai", "description": "家具行业的年度盛会。\nThe furniture trade's meeting place."})
    assert response.status_code == 302, response.get_data(as_text=True)
    edition_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    browser.post(f"/org/editions/{edition_id}", data={"status": "registration_open"})
    db.session.expire_all()
    from expo.core.models import Edition

    slug = db.session.get(Edition, edition_id).slug
    assert "家具行业的年度盛会。" in client.get("/").get_data(as_text=True)
    assert "The furniture trade&#39;s meeting place." in client.get(f"/e/{slug}").get_data(as_text=True)


def test_a_draft_edition_has_no_public_page(app, client, make):
    draft = make.edition(status="draft", name="Secret Expo 2031")
    db.session.commit()
    for path in (f"/e/{draft.slug}", f"/e/{draft.slug}#register"):
        response = client.get(path)
        assert response.status_code == 404 and "Secret Expo 2031" not in response.get_data(as_text=True)
    assert "Secret Expo 2031" not in client.get("/").get_data(as_text=True)
