"""A registration's badge: its signed code, the QR code as a PNG for screens and mails, printable PDF badges.

Chinese text on PDF badges is set in Noto Sans SC, a TrueType font that `make setup` installs from the npm
registry (package @expo-google-fonts/noto-sans-sc, never committed). reportlab embeds a subset of it (only
the glyphs the badge uses), so a badge prints and shows its Chinese name on a device without Chinese fonts.
EXPO_BADGE_FONT (and EXPO_BADGE_FONT_BOLD for names and categories) point at another .ttf file.
"""
from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen import canvas

from ..config import ROOT
from ..core import badge_codes

FONT_PACKAGE = ROOT / "node_modules" / "@expo-google-fonts" / "noto-sans-sc"
DEFAULT_CJK_FONT = FONT_PACKAGE / "400Regular" / "NotoSansSC_400Regular.ttf"
DEFAULT_CJK_BOLD = FONT_PACKAGE / "700Bold" / "NotoSansSC_700Bold.ttf"
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"


class BadgeFontMissing(RuntimeError):
    """The CJK TrueType font for PDF badges is not installed (or is not a usable TrueType file)."""


def cjk_font_paths() -> tuple[Path, Path]:
    """The regular and bold CJK fonts: EXPO_BADGE_FONT / EXPO_BADGE_FONT_BOLD, else the npm package's files.
    A configured regular font without a configured bold one serves for both."""
    regular = os.environ.get("EXPO_BADGE_FONT")
    bold = os.environ.get("EXPO_BADGE_FONT_BOLD")
    if regular:
        return Path(regular), Path(bold or regular)
    return DEFAULT_CJK_FONT, Path(bold) if bold else DEFAULT_CJK_BOLD


_registered: dict[Path, str] = {}


def _register(path: Path) -> str:
    """The reportlab name of the TrueType font at path, registered on first use (embedded as a subset)."""
    path = path.resolve() if path.exists() else path
    if path in _registered:
        return _registered[path]
    if not path.is_file():
        raise BadgeFontMissing(
            f"The Chinese font for PDF badges is missing: {path}. Run `make setup` (it installs the npm package "
            f"@expo-google-fonts/noto-sans-sc with `npm ci`), or set EXPO_BADGE_FONT to a TrueType (.ttf) font "
            f"with Chinese glyphs.")
    name = f"ExpoCJK-{hashlib.sha1(str(path).encode()).hexdigest()[:10]}"
    try:
        pdfmetrics.registerFont(TTFont(name, str(path)))
    except TTFError as error:
        raise BadgeFontMissing(f"The Chinese font for PDF badges at {path} cannot be embedded: {error}. "
                               f"EXPO_BADGE_FONT must name a TrueType (.ttf, glyf outlines) font.") from error
    _registered[path] = name
    return name


def badge_code(registration) -> str:
    """The registration's current code, signed with its edition's key (older serials are revoked)."""
    edition = registration.edition
    return badge_codes.sign_badge(edition.signing_key, edition.id, registration.id, registration.badge_serial)


@dataclass(frozen=True)
class BadgeFace:
    code: str
    name: str
    company: str
    category_label: str
    edition_name: str
    number: str


def qr_png(code: str, box_size: int = 8) -> bytes:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    qr.add_data(code)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image().save(out, format="PNG")
    return out.getvalue()


@dataclass(frozen=True)
class _Fonts:
    cjk: str
    cjk_bold: str

    def for_text(self, text: str, bold: bool = False) -> str:
        if any(ord(ch) > 0x24F for ch in text):
            return self.cjk_bold if bold else self.cjk
        return LATIN_BOLD if bold else LATIN_FONT


def _fonts() -> _Fonts:
    regular, bold = cjk_font_paths()
    return _Fonts(_register(regular), _register(bold))


def _fit(c: canvas.Canvas, text: str, font: str, size: float, width: float) -> float:
    while size > 7 and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def badges_pdf(faces: list[BadgeFace]) -> bytes:
    """One A6 page per badge: edition, name, company, category, and the QR code."""
    fonts = _fonts()  # before anything is drawn: a missing font fails the whole request clearly
    out = io.BytesIO()
    page_w, page_h = A6
    c = canvas.Canvas(out, pagesize=A6)
    c.setTitle("Badges")
    for face in faces:
        usable = page_w - 16 * mm
        c.setFont(fonts.for_text(face.edition_name), 10)
        c.drawCentredString(page_w / 2, page_h - 14 * mm, face.edition_name)
        font = fonts.for_text(face.name, bold=True)
        size = _fit(c, face.name, font, 24, usable)
        c.setFont(font, size)
        c.drawCentredString(page_w / 2, page_h - 32 * mm, face.name)
        if face.company:
            font = fonts.for_text(face.company)
            c.setFont(font, _fit(c, face.company, font, 13, usable))
            c.drawCentredString(page_w / 2, page_h - 41 * mm, face.company)
        widget = QrCodeWidget(face.code, barLevel="M", barBorder=4)
        x0, y0, x1, y1 = widget.getBounds()
        side = 62 * mm
        drawing = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
        drawing.add(widget)
        renderPDF.draw(drawing, c, (page_w - side) / 2, 22 * mm)
        c.setFillColorRGB(0.1, 0.1, 0.1)
        c.rect(0, 0, page_w, 16 * mm, stroke=0, fill=1)
        c.setFillColorRGB(1, 1, 1)
        font = fonts.for_text(face.category_label, bold=True)
        c.setFont(font, 14)
        c.drawCentredString(page_w / 2, 6 * mm, face.category_label)
        c.setFillColorRGB(0, 0, 0)
        c.setFont(LATIN_FONT, 7)
        c.drawRightString(page_w - 5 * mm, 18 * mm, face.number)
        c.showPage()
    c.save()
    return out.getvalue()
