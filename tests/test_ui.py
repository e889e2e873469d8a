"""The components of templates/_ui.html and templates/_form.html, rendered by the app's real Jinja
environment inside a real request: the query string is the list's state (sorting, paging, filters), chips
carry label + icon + colour, chart data cannot break out of its <script>, form errors sit in their field."""
from __future__ import annotations

import html
import json
import re
from datetime import date

import pytest
from flask import render_template_string
from flask_babel import force_locale
from sqlalchemy import select

from expo.core import services as core
from expo.core.models import Show
from expo.core.scoping import Scope
from expo.core.states import State
from expo.extensions import db

from .conftest import field_errors

UI = '{% import "_ui.html" as ui with context %}'


def render(app, source: str, url: str = "/", **context) -> str:
    with app.test_request_context(url):
        return render_template_string(UI + source, **context)


def hrefs(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]*)"', page)]


def test_sort_header_flips_the_direction_keeps_filters_and_starts_on_page_one(app):
    page = render(app, "{{ ui.sort_th('name', 'Name') }}", "/org/list?status=a&status=b&sort=name&page=3")
    assert 'aria-sort="ascending"' in page
    assert hrefs(page) == ["/org/list?status=a&status=b&sort=-name"]

    page = render(app, "{{ ui.sort_th('name', 'Name') }}", "/org/list?sort=-name")
    assert 'aria-sort="descending"' in page and hrefs(page) == ["/org/list?sort=name"]

    page = render(app, "{{ ui.sort_th('created', 'Registered', num=true) }}", "/org/list?sort=-name")
    assert "aria-sort" not in page and 'class="sortable num"' in page
    assert hrefs(page) == ["/org/list?sort=created"]


def test_filter_chips_remove_one_value_each_and_clear_all(app):
    items = [("status", "a", "Status: A"), ("status", "b", "Status: B"), ("q", "李", "“李”")]
    page = render(app, "{{ ui.active_filters(items) }}", "/org/list?status=a&status=b&q=李&sort=name&page=2",
                  items=items)
    links = hrefs(page)
    assert links[:3] == ["/org/list?status=b&q=%E6%9D%8E&sort=name", "/org/list?status=a&q=%E6%9D%8E&sort=name",
                         "/org/list?status=a&status=b&sort=name"]
    assert links[3] == "/org/list?sort=name"  # "clear filters" keeps the sort
    assert "Status: B" in page and "“李”" in page
    assert render(app, "{{ ui.active_filters([]) }}").strip() == ""


def test_pager_says_where_you_are_and_links_pages_and_sizes(app, ctx):
    organizer = core.create_organizer("Pager Org")
    scope = Scope(organizer.id)
    for n in range(60):
        core.create_show(scope, f"Show {n:02d}")
    db.session.commit()
    with app.test_request_context("/org/shows?q=x&page=2"):
        shows = db.paginate(select(Show).order_by(Show.id), page=2, per_page=25)
        page = render_template_string(UI + "{{ ui.pager(p) }}", p=shows)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "26–50 of 60" in text and "Page 2 of 3" in text
    links = hrefs(page)
    assert "/org/shows?q=x&page=1" in links and "/org/shows?q=x&page=3" in links  # previous, next
    assert "/org/shows?q=x&per_page=50" in links and "/org/shows?q=x&per_page=100" in links
    assert 'aria-current="page">2<' in page and "<strong>25</strong>" in page


def test_chip_shows_label_icon_and_colour(app):
    page = render(app, "{{ ui.chip(s) }}", s=State("confirmed", "已确认", "success", "check-circle"))
    assert page.strip() == ('<span class="chip chip-success"><i class="bi bi-check-circle" aria-hidden="true"></i>'
                            '已确认</span>')
    assert "chip-secondary" in render(app, "{{ ui.chip(none, 'Legacy') }}") and "Legacy" in render(
        app, "{{ ui.chip(none, 'Legacy') }}")
    assert render(app, "{{ ui.chip(none) }}").strip() == ""


def test_kpi_tile_is_one_link_with_a_grouped_number(app):
    page = render(app, "{{ ui.kpi(1234567, 'Registered', url='/r?status=confirmed', icon='people') }}")
    assert page.count("<a ") == 1 and 'href="/r?status=confirmed"' in page
    assert '<span class="kpi-value">1,234,567</span>' in page and "Registered" in page
    assert "<a " not in render(app, "{{ ui.kpi(0, 'Today') }}")
    assert '<span class="kpi-value">0</span>' in render(app, "{{ ui.kpi(0, 'Today') }}")


def test_chart_data_is_json_that_cannot_close_its_script(app):
    data = {"type": "bar", "categories": ["</script><script>alert(1)</script>", "李华"], "series": [
        {"name": "n", "data": [1, 2]}]}
    page = render(app, "{{ ui.chart('by-day', data, 280) }}", data=data)
    assert '<div class="chart" id="by-day" data-chart="by-day-data" data-height="280"' in page
    assert page.count("</script>") == 1
    body = re.search(r'<script type="application/json" id="by-day-data">(.*?)</script>', page, re.S).group(1)
    assert json.loads(body) == data


def test_post_button_carries_csrf_and_the_confirm_question(app):
    page = render(app, "{{ ui.post_button('/x/revoke', 'Revoke', confirm='Revoke “A”?') }}")
    assert 'method="post" action="/x/revoke"' in page and 'name="csrf_token"' in page
    assert 'data-confirm="Revoke “A”?"' in page


@pytest.mark.parametrize(("locale", "start", "end", "expected"), [
    ("zh_CN", date(2026, 11, 24), date(2026, 11, 26), "2026年11月24日 – 26日"),
    ("zh_CN", date(2026, 11, 29), date(2026, 12, 2), "2026年11月29日 – 12月2日"),
    ("zh_CN", date(2026, 12, 30), date(2027, 1, 2), "2026年12月30日 – 2027年1月2日"),
    ("en", date(2026, 11, 24), date(2026, 11, 26), "Nov 24 – 26, 2026"),
    ("en", date(2026, 11, 29), date(2026, 12, 2), "Nov 29 – Dec 2, 2026"),
    ("en", date(2026, 12, 30), date(2027, 1, 2), "Dec 30, 2026 – Jan 2, 2027"),
])
def test_date_range_is_written_the_way_each_language_writes_it(app, locale, start, end, expected):
    with app.test_request_context("/"), force_locale(locale):
        page = render_template_string(UI + "{{ ui.date_range(s, e) }}", s=start, e=end, current_locale=locale)
    assert page.strip() == expected


def test_form_field_keeps_errors_in_the_field_for_tests_and_marks_the_input(app):
    from wtforms import BooleanField, Form, StringField
    from wtforms.validators import DataRequired

    class Sample(Form):
        name = StringField("Name", validators=[DataRequired("Say your name.")])
        consent = BooleanField("I agree", validators=[DataRequired("Consent, please.")])

    form = Sample()
    form.validate()
    with app.test_request_context("/"):
        page = render_template_string('{% from "_form.html" import field %}{{ field(f.name) }}{{ field(f.consent) }}',
                                      f=form)
    assert field_errors(page, "name") == ["Say your name."]
    assert field_errors(page, "consent") == ["Consent, please."]
    assert 'class="form-control is-invalid"' in page and 'aria-invalid="true"' in page
    assert 'class="form-check-input is-invalid"' in page
    assert '<label class="form-label" for="name">Name</label>' in page


def test_every_asset_of_the_shell_is_served_by_the_app(app, client):
    """Bootstrap, its icons and our files come from static/ (static/vendor/ is filled by `make setup`:
    npm ci + scripts/sync_vendor.py); no page names another host."""
    page = client.get("/login").get_data(as_text=True)
    assets = re.findall(r'<(?:link rel="stylesheet" href|script src)="([^"]+)"', page)
    assert any("vendor/bootstrap/css/bootstrap.min.css" in a for a in assets), assets
    assert any("vendor/bootstrap/js/bootstrap.bundle.min.js" in a for a in assets), assets
    assert not [a for a in assets if "echarts" in a], "ECharts only on pages that draw charts"
    for asset in assets:
        assert asset.startswith("/static/"), f"{asset} is not served by the app"
        response = client.get(asset)
        assert response.status_code == 200, f"{asset}: {response.status_code} (run `make setup`)"
        response.close()
    icons_css = client.get("/static/vendor/bootstrap-icons/font/bootstrap-icons.min.css").get_data(as_text=True)
    for font in re.findall(r'url\("(fonts/[^"?]+)', icons_css):
        response = client.get(f"/static/vendor/bootstrap-icons/font/{font}")
        assert response.status_code == 200, font
        response.close()
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page), "an absolute URL to another host in the shell"


def test_edition_bar_groups_set_up_pages_in_one_menu(client, make):
    """Many set-up pages would push the edition's bar off a laptop screen: the entries of a NavGroup become one
    dropdown, placed where its first entry sorts; a user who may open none of them gets no menu."""
    from .conftest import login

    tenant = make.tenant()
    db.session.commit()
    edition_id = tenant.edition.id

    def bar_of(user):
        login(client, user)
        page = client.get(f"/org/editions/{edition_id}").get_data(as_text=True)
        start = page.index('class="edition-nav"')
        client.delete_cookie("session")
        return page[start:page.index("</nav>", start)]

    bar = bar_of(tenant.users["owner"])
    menu = re.search(r'<li class="nav-item dropdown">\s*<a[^>]*>.*?Set-up.*?</ul>', bar, re.S)
    assert menu, bar
    for path in ("registration-setup", "questions", "category-rules"):
        assert f"/org/editions/{edition_id}/{path}" in menu.group(0), path
    outside = bar.replace(menu.group(0), "")
    assert f'href="/org/editions/{edition_id}/registrations"' in outside
    assert "/questions" not in outside  # never twice
    assert bar.index("/registrations\"") < bar.index("Set-up") < bar.index("/exhibitors")

    onsite_bar = bar_of(tenant.users["onsite"])
    assert "Set-up" not in onsite_bar and "/questions" not in onsite_bar
