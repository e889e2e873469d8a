"""A registration's badge: its signed code, the QR code as a PNG for screens and mails, printable PDF badges."""
from __future__ import annotations

import io
from dataclasses import dataclass

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A6
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from ..core import badge_codes

CJK_FONT = "STSong-Light"  # an Adobe CID font: Chinese without shipping a font file
LATIN_FONT = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


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


def _font_for(text: str, bold: bool = False) -> str:
    if any(ord(ch) > 0x24F for ch in text):
        return CJK_FONT
    return LATIN_BOLD if bold else LATIN_FONT


def _fit(c: canvas.Canvas, text: str, font: str, size: float, width: float) -> float:
    while size > 7 and pdfmetrics.stringWidth(text, font, size) > width:
        size -= 0.5
    return size


def badges_pdf(faces: list[BadgeFace]) -> bytes:
    """One A6 page per badge: edition, name, company, category, and the QR code."""
    out = io.BytesIO()
    page_w, page_h = A6
    c = canvas.Canvas(out, pagesize=A6)
    c.setTitle("Badges")
    for face in faces:
        usable = page_w - 16 * mm
        c.setFont(_font_for(face.edition_name), 10)
        c.drawCentredString(page_w / 2, page_h - 14 * mm, face.edition_name)
        font = _font_for(face.name, bold=True)
        size = _fit(c, face.name, font, 24, usable)
        c.setFont(font, size)
        c.drawCentredString(page_w / 2, page_h - 32 * mm, face.name)
        if face.company:
            font = _font_for(face.company)
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
        font = _font_for(face.category_label, bold=True)
        c.setFont(font, 14)
        c.drawCentredString(page_w / 2, 6 * mm, face.category_label)
        c.setFillColorRGB(0, 0, 0)
        c.setFont(LATIN_FONT, 7)
        c.drawRightString(page_w - 5 * mm, 18 * mm, face.number)
        c.showPage()
    c.save()
    return out.getvalue()
