"""PDF badges carry their Chinese font: a subset of the CJK TrueType font that the setup installs from the
npm registry is embedded, so a badge shows the visitor's Chinese name on a printer or phone without any
Chinese font. The rendering checks run pdfium in a child process whose only font folder is one we choose
(an empty one: no system fonts at all), since pdfium reads the system fonts once per process."""
from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from expo.extensions import db
from expo.visitors import badges

SCALE = 3
PX_PER_MM = 72 / 25.4 * SCALE
# The name line of an A6 badge: baseline 32 mm below the top edge, at most 24 pt high.
NAME_BAND = (int(8 * PX_PER_MM), int(22 * PX_PER_MM), int(97 * PX_PER_MM), int(35 * PX_PER_MM))

RENDER = r"""
import ctypes, sys
import pypdfium2 as pdfium
import pypdfium2.raw as raw
from pypdfium2._library_scope import destroy_lib
from pypdfium2.internal import bases

pdf_path, font_dir, png_path = sys.argv[1:4]
# pdfium scanned the system font folders when it started: start it again with only font_dir to look in.
destroy_lib()
folder = ctypes.create_string_buffer(font_dir.encode())
paths = (ctypes.POINTER(ctypes.c_char) * 2)(ctypes.cast(folder, ctypes.POINTER(ctypes.c_char)), None)
raw.FPDF_InitLibraryWithConfig(raw.FPDF_LIBRARY_CONFIG(version=2, m_pUserFontPaths=paths, m_pIsolate=None,
                                                       m_v8EmbedderSlot=0))
bases.LIBRARY_AVAILABLE = True
document = pdfium.PdfDocument(pdf_path)
document[0].render(scale=%d).to_pil().convert("L").save(png_path)
document.close()
""" % SCALE


def _badge_pdf(client, make, name: str) -> bytes:
    edition = make.edition()
    registration = make.registration(edition, name=name, company="深圳宏达家具有限公司")
    db.session.commit()
    response = client.get(f"/r/{registration.access_key}/badge.pdf")
    assert response.status_code == 200, response.status_code
    return response.data


def _render(tmp_path: Path, data: bytes, font_dir: Path) -> Image.Image:
    pdf = tmp_path / f"badge-{len(list(tmp_path.iterdir()))}.pdf"
    pdf.write_bytes(data)
    png = pdf.with_suffix(".png")
    subprocess.run([sys.executable, "-c", RENDER, str(pdf), str(font_dir), str(png)], check=True, timeout=60)
    return Image.open(png)


def _ink(image: Image.Image) -> int:
    """Dark pixels in the image."""
    return sum(image.point(lambda v: 255 if v < 128 else 0).histogram()[255:])


def _fonts(data: bytes) -> list[dict]:
    """Every font the PDF's pages use (descendant fonts of composite fonts included)."""
    found = []
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            found.append(font)
            for descendant in font.get("/DescendantFonts", []):
                found.append(descendant.get_object())
    return found


def test_pdf_badge_embeds_a_subset_of_the_cjk_truetype_font(client, make):
    data = _badge_pdf(client, make, "王小明")

    fonts = _fonts(data)
    names = [str(font["/BaseFont"]) for font in fonts]
    assert not any("STSong" in name for name in names), names
    embedded = [font for font in fonts
                if "/FontDescriptor" in font and "/FontFile2" in font["/FontDescriptor"].get_object()]
    assert embedded, f"no embedded TrueType font program in the badge; fonts: {names}"
    for font in embedded:
        # a subset is named with a six-letter tag ("AAAAAA+NotoSansSC-Bold") and is far smaller than the font
        assert str(font["/BaseFont"]).lstrip("/")[6:7] == "+", font["/BaseFont"]
        program = font["/FontDescriptor"].get_object()["/FontFile2"].get_object().get_data()
        assert len(program) < 500_000, f"{font['/BaseFont']} embeds {len(program)} bytes: the whole font?"
    # every font that is not embedded is one of the 14 standard fonts every PDF reader has
    for font in fonts:
        if font not in embedded and "/DescendantFonts" not in font:
            assert str(font["/BaseFont"]).lstrip("/") in {"Helvetica", "Helvetica-Bold"}, font
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "王小明" in text and "深圳宏达家具有限公司" in text


def test_pdf_badge_shows_the_chinese_name_without_any_system_font(client, make, tmp_path):
    no_fonts = tmp_path / "no-fonts"
    no_fonts.mkdir()
    with_cjk = tmp_path / "cjk-font"
    with_cjk.mkdir()
    regular, bold = badges.cjk_font_paths()
    for font in {regular, bold}:
        (with_cjk / font.name).symlink_to(font.resolve())
    wang = _badge_pdf(client, make, "王小明")
    li = _badge_pdf(client, make, "李四光")

    bare = _render(tmp_path, wang, no_fonts).crop(NAME_BAND)
    dressed = _render(tmp_path, wang, with_cjk).crop(NAME_BAND)
    other = _render(tmp_path, li, no_fonts).crop(NAME_BAND)

    assert _ink(bare) > 500, "the name line is blank on a device without Chinese fonts"
    # the same glyphs whether or not the device has the font: the badge brings its own
    assert bare.tobytes() == dressed.tobytes(), "the name is drawn differently when the device lacks the font"
    # and they are real glyphs, not one missing-glyph box repeated: another name of three characters differs
    changed = sum(1 for a, b in zip(bare.tobytes(), other.tobytes()) if abs(a - b) > 64)
    assert changed > 300, f"王小明 and 李四光 render alike ({changed} pixels differ): boxes instead of glyphs?"


def test_missing_badge_font_fails_with_a_clear_message(monkeypatch, tmp_path):
    missing = tmp_path / "nowhere" / "font.ttf"
    monkeypatch.setenv("EXPO_BADGE_FONT", str(missing))
    face = badges.BadgeFace(code="X", name="王小明", company="", category_label="Buyer", edition_name="Expo",
                            number="1")

    with pytest.raises(badges.BadgeFontMissing) as error:
        badges.badges_pdf([face])

    assert str(missing) in str(error.value) and "EXPO_BADGE_FONT" in str(error.value)


def test_badge_font_is_configurable(monkeypatch, tmp_path):
    regular, _bold = badges.cjk_font_paths()
    copy = tmp_path / "my-font.ttf"
    copy.symlink_to(regular.resolve())
    monkeypatch.setenv("EXPO_BADGE_FONT", str(copy))
    monkeypatch.delenv("EXPO_BADGE_FONT_BOLD", raising=False)
    face = badges.BadgeFace(code="X", name="王小明", company="", category_label="买家", edition_name="Expo",
                            number="1")

    assert badges.cjk_font_paths() == (copy, copy)
    data = badges.badges_pdf([face])

    assert "王小明" in PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert any("NotoSansSC-Regular" in str(font["/BaseFont"]) for font in _fonts(data))
