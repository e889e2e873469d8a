"""Hostile input to pages and forms never reaches a 500 and stores nothing: NUL bytes and lone surrogates in
paths, queries and form fields, ids beyond what an INTEGER holds, numbers that are not finite or too big."""
from __future__ import annotations

import pytest

from expo.core.models import Organizer
from expo.exhibitors.models import Exhibitor
from expo.extensions import db
from expo.visitors.models import Person, Registration

from .conftest import Browser, count, csrf_token, field_errors


@pytest.fixture
def fair(make):
    edition = make.edition(status="registration_open")
    owner = make.user("owner", db.session.get(Organizer, edition.organizer_id))
    db.session.commit()
    return edition.id, edition.slug, owner


@pytest.mark.parametrize("path", ["/r/%00", "/e/%00", "/r/%ED%A0%80", "/e/abc%00def", "/r/x%00/badge.png"])
def test_nul_in_a_public_path_is_a_404(client, fair, path):
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/org/editions/2147483648", "/org/editions/99999999999999999999/registrations",
                                  "/org/shows/2147483648", "/org/editions/{e}/registrations/9223372036854775808"])
def test_ids_beyond_the_integer_range_are_404s(app, fair, path):
    edition_id, _slug, owner = fair
    assert Browser(app, owner).get(path.format(e=edition_id)).status_code == 404


@pytest.mark.parametrize("query", ["q=%00", "q=abc%00", "category=%00", "sort=%00", "%00=1"])
def test_nul_in_a_query_is_a_400(app, fair, query):
    edition_id, _slug, owner = fair
    assert Browser(app, owner).get(f"/org/editions/{edition_id}/registrations?{query}").status_code == 400


def test_invalid_utf8_in_a_query_is_read_as_replacement_characters(app, fair):
    """(HTTP form and query decoding turn broken UTF-8 into U+FFFD: lone surrogates only come by JSON.)"""
    edition_id, _slug, owner = fair
    assert Browser(app, owner).get(f"/org/editions/{edition_id}/registrations?q=%ED%A0%80").status_code == 200


@pytest.mark.parametrize("field, value", [("name", "王\x00小明"), ("company", "Acme\x00"), ("job_title", "Buyer\x00")])
def test_nul_in_the_registration_form_is_a_field_error(client, fair, field, value):
    _edition_id, slug, _owner = fair
    form = {"name": "王小明", "email": "w@example.cn", "category": "buyer", "consent": "y", field: value,
            "csrf_token": csrf_token(client, f"/e/{slug}")}
    response = client.post(f"/e/{slug}", data=form)
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), field) == ["This text contains characters that cannot be stored."]
    assert count(Registration) == 0 and count(Person) == 0


@pytest.mark.parametrize("area", ["NaN", "sNaN", "-sNaN", "Infinity", "-inf", "1e999999", "99999999999"])
def test_a_number_that_is_not_finite_or_too_big_is_a_field_error(app, fair, area):
    edition_id, _slug, owner = fair
    response = Browser(app, owner).post(f"/org/editions/{edition_id}/exhibitors", data={
        "company_name": "Hostile Numbers Ltd", "status": "contracted", "area_m2": area, "admin_name": "Admin",
        "admin_email": "admin@hostile.example", "admin_password": "a-long-password-1"})
    assert response.status_code == 200
    assert field_errors(response.get_data(as_text=True), "area_m2")
    assert count(Exhibitor) == 0


@pytest.mark.parametrize("path", ["/", "/login", "/e/{slug}", "/static/app.css", "/no-such-page"])
def test_every_answer_carries_the_security_headers(client, fair, path):
    _edition_id, slug, _owner = fair
    response = client.get(path.format(slug=slug))
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_pages_of_a_signed_in_user_are_not_cached(app, fair):
    edition_id, _slug, owner = fair
    browser = Browser(app, owner)
    for path in ("/org", f"/org/editions/{edition_id}", f"/org/editions/{edition_id}/registrations"):
        assert browser.get(path).headers["Cache-Control"] == "private, no-store", path
