"""Badges as a visitor gets them (PNG, PDF, confirmation page), read back with a real QR decoder,
and the signed badge format itself (docs: expo/core/badge_codes.py)."""
import base64
import html
import io
import re
import struct

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from expo.core import badge_codes
from expo.core.models import Organizer
from expo.extensions import db
from expo.visitors import services as visitor_services


def decode_qr(image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image) if result.format == zxingcpp.BarcodeFormat.QRCode]


def encode(raw: bytes) -> str:
    return base64.b32encode(raw).decode("ascii").rstrip("=")


def wang(make, edition=None):
    edition = edition or make.edition()
    registration = make.registration(edition, name="王小明", email="xiaoming@example.cn", phone="+86 138 0000 1111",
                                     company="深圳宏达家具有限公司")
    db.session.commit()
    return registration


# --- badges over HTTP, read with a real decoder ------------------------------------------------------

def test_png_badge_decodes_to_a_code_that_verifies_for_its_edition_and_registration(client, make):
    registration = wang(make)
    edition = registration.edition

    response = client.get(f"/r/{registration.access_key}/badge.png")

    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert "no-store" in response.headers["Cache-Control"]
    texts = decode_qr(Image.open(io.BytesIO(response.data)))
    assert texts == [visitor_services.badge_code(registration)]
    claim = badge_codes.read_badge(texts[0])
    assert badge_codes.signature_valid(claim, edition.verify_key)
    assert (claim.edition_id, claim.registration_id, claim.serial) == (edition.id, registration.id, 1)


def test_png_badge_does_not_verify_with_another_editions_key(client, make):
    registration = wang(make)
    other = make.edition(db.session.get(Organizer, registration.organizer_id))
    db.session.commit()

    [text] = decode_qr(Image.open(io.BytesIO(client.get(f"/r/{registration.access_key}/badge.png").data)))

    assert not badge_codes.signature_valid(badge_codes.read_badge(text), other.verify_key)


def test_pdf_badge_decodes_to_the_same_code_and_carries_the_chinese_name_and_company(client, make):
    registration = wang(make)

    response = client.get(f"/r/{registration.access_key}/badge.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    page = pypdfium2.PdfDocument(response.data)[0]
    assert decode_qr(page.render(scale=3).to_pil()) == [visitor_services.badge_code(registration)]
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    assert "王小明" in text
    assert "深圳宏达家具有限公司" in text
    assert registration.edition.name in text
    assert f"#{registration.id}" in text


def test_pdf_badge_of_a_latin_name_is_readable_too(client, make):
    registration = make.registration(make.edition(), name="Ada Lovelace", company="Analytical Engines Ltd")
    db.session.commit()

    data = client.get(f"/r/{registration.access_key}/badge.pdf").data

    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "Ada Lovelace" in text and "Analytical Engines Ltd" in text
    assert decode_qr(pypdfium2.PdfDocument(data)[0].render(scale=3).to_pil()) == [
        visitor_services.badge_code(registration)]


def test_reissued_badge_png_shows_the_new_code(client, make):
    registration = wang(make)
    old = visitor_services.badge_code(registration)
    new = visitor_services.reissue_badge(registration)
    db.session.commit()

    [text] = decode_qr(Image.open(io.BytesIO(client.get(f"/r/{registration.access_key}/badge.png").data)))

    assert text == new != old
    assert badge_codes.read_badge(text).serial == 2


@pytest.mark.parametrize("suffix", ["badge.png", "badge.pdf"])
def test_badge_of_an_unknown_key_is_404(client, make, suffix):
    wang(make)
    assert client.get(f"/r/not-a-real-key/{suffix}").status_code == 404


# --- no personal data in the code ----------------------------------------------------------------------

def test_badge_code_carries_no_personal_data(client, make):
    registration = wang(make)

    [text] = decode_qr(Image.open(io.BytesIO(client.get(f"/r/{registration.access_key}/badge.png").data)))

    assert len(text) == badge_codes.CODE_LENGTH == 120
    payload = base64.b32decode(text)
    assert len(payload) == 75
    person = registration.person
    for secret in (person.name, person.email, person.company, "xiaoming", "13800001111"):
        assert secret.encode("utf-8") not in payload
        assert secret.upper() not in text
    claim = badge_codes.read_badge(text)
    assert claim.signed == struct.pack(">BIIH", 1, registration.edition_id, registration.id, 1)


def test_badge_codes_have_the_same_length_whatever_the_visitor(make):
    edition = make.edition()
    short = make.registration(edition, name="A", email="a@example.com", company="")
    long = make.registration(edition, name="王" * 60, email="x" * 50 + "@example.com", company="公司" * 40)
    db.session.flush()

    assert len(visitor_services.badge_code(short)) == len(visitor_services.badge_code(long)) == badge_codes.CODE_LENGTH


# --- the format -------------------------------------------------------------------------------------

def test_sign_and_read_round_trip():
    private, public = badge_codes.generate_keypair()

    code = badge_codes.sign_badge(private, 4_000_000_000, 123_456, 65_535)

    assert len(code) == badge_codes.CODE_LENGTH
    claim = badge_codes.read_badge(code)
    assert (claim.version, claim.edition_id, claim.registration_id, claim.serial) == (1, 4_000_000_000, 123_456, 65_535)
    assert badge_codes.signature_valid(claim, public)


def test_read_tolerates_lower_case_and_whitespace_from_a_scanner():
    private, public = badge_codes.generate_keypair()
    code = badge_codes.sign_badge(private, 1, 2, 3)

    spaced = " ".join(code[i:i + 8] for i in range(0, len(code), 8)).lower() + "\r\n"

    assert badge_codes.signature_valid(badge_codes.read_badge(spaced), public)


def test_signature_does_not_verify_with_another_key():
    private, _public = badge_codes.generate_keypair()
    _other_private, other_public = badge_codes.generate_keypair()

    assert not badge_codes.signature_valid(badge_codes.read_badge(badge_codes.sign_badge(private, 1, 2, 1)), other_public)


@pytest.mark.parametrize("bit", [8, 8 * 5 + 3, 8 * 9, 8 * 11, 8 * 40 + 7, 8 * 75 - 1])
def test_a_flipped_bit_makes_the_signature_invalid(bit):
    private, public = badge_codes.generate_keypair()
    raw = bytearray(base64.b32decode(badge_codes.sign_badge(private, 10, 20, 1)))
    raw[bit // 8] ^= 1 << (bit % 8)

    claim = badge_codes.read_badge(encode(bytes(raw)))

    assert not badge_codes.signature_valid(claim, public)


@pytest.mark.parametrize("version", [0, 2, 255])
def test_wrong_version_byte_is_unsupported_version(version):
    private, _public = badge_codes.generate_keypair()
    raw = bytearray(base64.b32decode(badge_codes.sign_badge(private, 10, 20, 1)))
    raw[0] = version

    with pytest.raises(badge_codes.BadgeRefused) as refused:
        badge_codes.read_badge(encode(bytes(raw)))
    assert refused.value.reason == "unsupported_version"


@pytest.mark.parametrize("code", [
    "",
    "   \n\t",
    "https://example.com/?a=1",
    "王小明",
    "0189",                                  # digits outside the base32 alphabet
    "A" * (4 * badge_codes.CODE_LENGTH + 1),      # too long to even look at
    encode(b"\x01" + b"\x00" * 30),          # version 1 but too short
    encode(b"\x01" + b"\x00" * 80),          # version 1 but too long
    "AE======",                              # bad padding
], ids=["empty", "blank", "url", "chinese", "digits", "too-long", "short-v1", "long-v1", "padding"])
def test_garbage_is_malformed(code):
    with pytest.raises(badge_codes.BadgeRefused) as refused:
        badge_codes.read_badge(code)
    assert refused.value.reason == "malformed"


@pytest.mark.parametrize("word", ["HELLO", "BOOK", "ABCDEFGH"])
def test_short_base32_looking_word_is_malformed_not_unsupported_version(word):
    """Product barcodes and stray words that happen to use base32 letters are garbage, not a future badge."""
    with pytest.raises(badge_codes.BadgeRefused) as refused:
        badge_codes.read_badge(word)
    assert refused.value.reason == "malformed"


# --- the visitor's confirmation page -------------------------------------------------------------------

def test_confirmation_page_shows_the_qr_image_and_the_code(client, make):
    registration = wang(make)

    response = client.get(f"/r/{registration.access_key}")

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f'src="/r/{registration.access_key}/badge.png"' in page
    assert f'href="/r/{registration.access_key}/badge.pdf"' in page
    code = re.search(r'<code id="badge-code"[^>]*>([^<]*)<', page)
    assert code and code.group(1) == visitor_services.badge_code(registration)
    assert "王小明" in html.unescape(page)


def test_confirmation_page_of_an_unknown_key_is_404(client, make):
    registration = wang(make)

    assert client.get("/r/not-a-real-key").status_code == 404
    assert client.get(f"/r/{registration.access_key[:-1]}").status_code == 404
    assert client.get("/r/" + "x" * 200).status_code == 404
