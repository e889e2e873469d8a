"""A registration's badge: its signed code, the QR code as a PNG for screens and mails, printable PDF badges
in several formats (an A6 page per badge, or sheets of labels), one at the desk or ten thousand in a batch.

Chinese text on PDF badges is set in Noto Sans SC, a TrueType font that `make setup` installs from the npm
registry (package @expo-google-fonts/noto-sans-sc, never committed). reportlab embeds a subset of it (only
the glyphs the badges use), so a badge prints and shows its Chinese name on a device without Chinese fonts.
EXPO_BADGE_FONT (and EXPO_BADGE_FONT_BOLD for names and categories) point at another .ttf file.

Speed (bench/badges.py, docs/benchmarks.md): the font is parsed once per process; a QR code is drawn as one
vector path of rectangles (one per horizontal run of dark modules, written straight into the page's
content stream), and its mask is chosen by scoring the eight candidates at once with numpy instead of
building eight codes one after the other.
"""
from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO

import numpy as np
import qrcode
from flask_babel import lazy_gettext as _l
from qrcode import util as qr_util
from qrcode.constants import ERROR_CORRECT_M
from reportlab.lib.pagesizes import A4, A6
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
DEFAULT_COLOUR = "#1f2937"


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
    """The reportlab name of the TrueType font at path, registered on first use (embedded as a subset).
    Parsing the 10 MB font takes about half a second: it happens once per process."""
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


def register_font(path: Path) -> str:
    """The reportlab name of a TrueType font (``cjk_font_paths``), for other PDFs than badges (reports)."""
    return _register(path)


def badge_code(registration) -> str:
    """The registration's current code, signed with its edition's key (older serials are revoked)."""
    edition = registration.edition
    return badge_codes.sign_badge(edition.signing_key, edition.id, registration.id, registration.badge_serial)


@dataclass(frozen=True)
class BadgeFace:
    """What one badge shows. category_label is printed in the colour band (colour: "#rrggbb")."""

    code: str
    name: str
    company: str
    category_label: str
    edition_name: str
    number: str
    colour: str = DEFAULT_COLOUR
    job_title: str = ""


def qr_png(code: str, box_size: int = 8) -> bytes:
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=box_size, border=4)
    qr.add_data(code)
    qr.make(fit=True)
    out = io.BytesIO()
    qr.make_image().save(out, format="PNG")
    return out.getvalue()


# --- QR codes as module matrices: our own encoder for badge codes, the mask chosen with numpy ---------
# A badge code is 120 characters of the QR alphanumeric alphabet. Drawing 10,000 of them, qrcode's pure-Python
# bit buffer, Reed-Solomon polynomials, module placement and eight-fold mask trial cost ~4 ms a code; here the
# same standard steps (ISO 18004, level M) take a fraction of that: bits as a string, Reed-Solomon with log
# tables, modules placed through a precomputed order, the eight masks scored at once. The function patterns,
# format bits and capacities still come from qrcode, and tests compare every mask's matrix with qrcode's.

_ALPHANUMERIC = {ch: i for i, ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")}
_GF_EXP = [0] * 512
_GF_LOG = [0] * 256
_value = 1
for _i in range(255):
    _GF_EXP[_i], _GF_LOG[_value] = _value, _i
    _value <<= 1
    if _value & 0x100:
        _value ^= 0x11D
for _i in range(255, 512):
    _GF_EXP[_i] = _GF_EXP[_i - 255]


@lru_cache(maxsize=16)
def _rs_table(ec_count: int) -> list[list[int]]:
    """For each leading coefficient c: c times the generator polynomial of ec_count codewords (its tail)."""
    generator = [1]
    for i in range(ec_count):  # multiply by (x - a^i)
        generator = [a ^ (_GF_EXP[_GF_LOG[b] + i] if b else 0) for a, b in zip(generator + [0], [0] + generator)]
    tail = generator[1:]
    return [[_GF_EXP[_GF_LOG[c] + _GF_LOG[g]] if c and g else 0 for g in tail] for c in range(256)]


def _reed_solomon(data: list[int], ec_count: int) -> list[int]:
    table = _rs_table(ec_count)
    remainder = [0] * ec_count
    for byte in data:
        row = table[byte ^ remainder[0]]
        remainder = [r ^ t for r, t in zip(remainder[1:] + [0], row)]
    return remainder


@lru_cache(maxsize=8)
def _qr_template(version: int):
    """For a QR version: the data modules in placement order (rows, cols), the function patterns with the
    format bits of each of the eight masks, the eight mask patterns over the data modules, the RS blocks."""
    n = version * 4 + 17
    q = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M, border=0)
    q.modules_count = n
    q.modules = [[None] * n for _ in range(n)]
    q.setup_position_probe_pattern(0, 0)
    q.setup_position_probe_pattern(n - 7, 0)
    q.setup_position_probe_pattern(0, n - 7)
    q.setup_position_adjust_pattern()
    q.setup_timing_pattern()
    if version >= 7:
        q.setup_type_number(False)
    q.setup_type_info(True, 0)
    data = np.array([[m is None for m in row] for row in q.modules])
    functions = []
    for mask in range(8):
        q.setup_type_info(False, mask)
        functions.append(np.array([[bool(m) for m in row] for row in q.modules]) & ~data)
    rows, cols = np.indices((n, n))
    masks = np.stack([np.vectorize(qr_util.mask_func(mask))(rows, cols).astype(bool) & data for mask in range(8)])
    order, inc, row, col = [], -1, n - 1, n - 1  # two columns at a time, right to left, up and down in turn
    while col > 0:
        if col == 6:
            col -= 1
        while True:
            order += [(row, c) for c in (col, col - 1) if data[row, c]]
            row += inc
            if row < 0 or row >= n:
                row -= inc
                inc = -inc
                break
        col -= 2
    order = np.array(order)
    blocks = [(block.data_count, block.total_count - block.data_count)
              for block in qrcode.base.rs_blocks(version, ERROR_CORRECT_M)]
    return (order[:, 0], order[:, 1]), np.stack(functions), masks, blocks


def _codewords(code: str) -> tuple[int, list[int]] | None:
    """The version and the interleaved data + error correction codewords of an alphanumeric text at level M
    (None when the text is not alphanumeric)."""
    values = [_ALPHANUMERIC.get(ch) for ch in code]
    if not values or None in values or code.isdigit():  # digits alone: numeric mode, qrcode's encoder
        return None
    for version in range(1, 41):
        count_bits = 9 if version < 10 else 11 if version < 27 else 13
        blocks = [(b.data_count, b.total_count - b.data_count) for b in qrcode.base.rs_blocks(version, ERROR_CORRECT_M)]
        capacity = 8 * sum(d for d, _ec in blocks)
        if 4 + count_bits + 11 * (len(values) // 2) + 6 * (len(values) % 2) <= capacity:
            break
    else:
        return None
    bits = ["0010", format(len(values), f"0{count_bits}b")]
    bits += [format(values[i] * 45 + values[i + 1], "011b") for i in range(0, len(values) - 1, 2)]
    if len(values) % 2:
        bits.append(format(values[-1], "06b"))
    stream = "".join(bits)
    stream += "0" * min(4, capacity - len(stream))
    stream += "0" * (-len(stream) % 8)
    data = [int(stream[i:i + 8], 2) for i in range(0, len(stream), 8)]
    data += [0xEC, 0x11] * ((capacity // 8 - len(data)) // 2 + 1)
    data = data[:capacity // 8]
    pieces, ecs, offset = [], [], 0
    for data_count, ec_count in blocks:
        piece = data[offset:offset + data_count]
        offset += data_count
        pieces.append(piece)
        ecs.append(_reed_solomon(piece, ec_count))
    out = [p[i] for i in range(max(map(len, pieces))) for p in pieces if i < len(p)]
    out += [e[i] for i in range(max(map(len, ecs))) for e in ecs if i < len(e)]
    return version, out


_FINDER_LIKE = (np.array([1, 0, 1, 1, 1, 0, 1, 0, 0, 0, 0], dtype=bool),
                np.array([0, 0, 0, 0, 1, 0, 1, 1, 1, 0, 1], dtype=bool))


def _run_penalties(c: np.ndarray) -> np.ndarray:
    """ISO 18004 rules 1 and 3 along the last axis, for a stack of candidate matrices."""
    eq = c[..., 1:] == c[..., :-1]
    fives = eq[..., :-3] & eq[..., 1:-2] & eq[..., 2:-1] & eq[..., 3:]  # five equal modules from here
    starts = fives.copy()
    starts[..., 1:] &= ~eq[..., :-4]  # ... and the run starts here
    penalty = fives.sum(axis=(1, 2)) + 2 * starts.sum(axis=(1, 2))  # a run of L >= 5 costs L - 2
    width = c.shape[-1] - 10
    for pattern in _FINDER_LIKE:
        found = np.ones(c.shape[:-1] + (width,), dtype=bool)
        for k, value in enumerate(pattern):
            found &= c[..., k:k + width] == value
        penalty = penalty + 40 * found.sum(axis=(1, 2))
    return penalty


def _penalties(c: np.ndarray) -> np.ndarray:
    n = c.shape[-1]
    penalty = _run_penalties(c) + _run_penalties(c.transpose(0, 2, 1))
    top_left = c[:, :-1, :-1]
    blocks = (top_left == c[:, 1:, :-1]) & (top_left == c[:, :-1, 1:]) & (top_left == c[:, 1:, 1:])
    penalty = penalty + 3 * blocks.sum(axis=(1, 2))
    dark = c.sum(axis=(1, 2)) * 100 / (n * n)
    return penalty + (np.abs(dark - 50) // 5) * 10


def qr_candidates(code: str) -> np.ndarray:
    """The QR code of code (level M) under each of the eight masks: a (8, n, n) bool array, True = dark."""
    encoded = _codewords(code)
    if encoded is None:  # not a badge code: qrcode's general encoder (any mode), mask 0, then the same path
        q = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=0)
        q.add_data(code)
        q.make(fit=True)
        order, functions, masks, _blocks = _qr_template(q.version)
        unmasked = (np.array(q.modules, dtype=bool) ^ masks[0]) & _data_region(q.version)
        return (unmasked[None] ^ masks) | functions
    version, codewords = encoded
    order, functions, masks, _blocks = _qr_template(version)
    n = version * 4 + 17
    bits = np.unpackbits(np.array(codewords, dtype=np.uint8)).astype(bool)
    unmasked = np.zeros((n, n), dtype=bool)
    placed = min(len(bits), len(order[0]))
    unmasked[order[0][:placed], order[1][:placed]] = bits[:placed]  # remainder bits stay light
    return (unmasked[None] ^ masks) | functions


def _data_region(version: int) -> np.ndarray:
    order = _qr_template(version)[0]
    n = version * 4 + 17
    region = np.zeros((n, n), dtype=bool)
    region[order[0], order[1]] = True
    return region


def qr_matrix(code: str) -> np.ndarray:
    """The QR code of code (level M) as a square bool array (True = dark), with the mask of lowest penalty
    (ISO 18004 rules 1-4, the eight candidates scored together)."""
    candidates = qr_candidates(code)
    return candidates[int(np.argmin(_penalties(candidates)))]


def _qr_path(matrix: np.ndarray) -> str:
    """PDF path operators filling the dark modules, one rectangle per horizontal run, in module units with
    the origin at the bottom left of the code."""
    n = matrix.shape[0]
    padded = np.zeros((n, n + 2), dtype=np.int8)
    padded[:, 1:-1] = matrix
    edges = np.diff(padded.ravel())
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    rows, cols = np.divmod(starts, n + 2)
    return " ".join(f"{col} {n - 1 - row} {length} 1 re" for row, col, length
                    in zip(rows.tolist(), cols.tolist(), (ends - starts).tolist())) + " f"


def _draw_qr(c: canvas.Canvas, code: str, x: float, y: float, side: float, border: int = 4) -> None:
    """The QR code with a white quiet zone of border modules, in a square of side points at (x, y)."""
    matrix = qr_matrix(code)
    module = side / (matrix.shape[0] + 2 * border)
    c.saveState()
    c.setFillColorRGB(0, 0, 0)
    c.addLiteral(f"1 0 0 1 {x + border * module:.3f} {y + border * module:.3f} cm "
                 f"{module:.5f} 0 0 {module:.5f} 0 0 cm {_qr_path(matrix)}")
    c.restoreState()


# --- formats ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class BadgeFormat:
    """A page of badges: one A6 badge, or a sheet of labels (sizes in mm, origin at the sheet's top left)."""

    code: str
    title: str
    page: tuple[float, float]  # points
    columns: int
    rows: int
    width: float  # one badge, mm
    height: float
    left: float  # the first badge's top-left corner, mm
    top: float
    pitch_x: float  # from one badge to the next, mm
    pitch_y: float
    cut_marks: bool = False

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    def cells(self) -> list[tuple[float, float]]:
        """Bottom-left corners (points) of the badges on a page, row by row from the top left."""
        page_h = self.page[1]
        return [((self.left + col * self.pitch_x) * mm,
                 page_h - (self.top + row * self.pitch_y + self.height) * mm)
                for row in range(self.rows) for col in range(self.columns)]


FORMATS = {f.code: f for f in (
    BadgeFormat("a6", _l("A6 badge, one per page (105 × 148 mm)"), A6, 1, 1, 105, 148, 0, 0, 105, 148),
    BadgeFormat("a4-4", _l("A4 sheet of 4 A6 badges to cut (2 × 2)"), A4, 2, 2, 105, 148.5, 0, 0, 105, 148.5,
                cut_marks=True),
    BadgeFormat("l7165", _l("A4 label sheet, 8 labels 99.1 × 67.7 mm (Avery L7165)"), A4, 2, 4, 99.1, 67.7,
                4.65, 13.1, 101.6, 67.7),
    BadgeFormat("l7163", _l("A4 label sheet, 14 labels 99.1 × 38.1 mm (Avery L7163)"), A4, 2, 7, 99.1, 38.1,
                4.65, 15.15, 101.6, 38.1),
)}
DEFAULT_FORMAT = "a6"


# --- drawing ----------------------------------------------------------------------------------------

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


def _rgb(colour: str) -> tuple[float, float, float]:
    try:
        value = int(colour.lstrip("#")[:6], 16) if len(colour) == 7 else int(DEFAULT_COLOUR[1:], 16)
    except ValueError:
        value = int(DEFAULT_COLOUR[1:], 16)
    return (value >> 16) / 255, ((value >> 8) & 255) / 255, (value & 255) / 255


def _ink_on(rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    """Text colour on a band: near-black on light colours, white on dark ones."""
    r, g, b = rgb
    return (0.07, 0.07, 0.07) if 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.6 else (1, 1, 1)


def _text(c: canvas.Canvas, fonts: _Fonts, text: str, x: float, y: float, size: float, width: float, *,
          bold: bool = False, align: str = "centre", minimum: float = 6) -> None:
    """One line, shrunk to fit width (not below minimum), then cut with an ellipsis if still too wide."""
    if not text:
        return
    font = fonts.for_text(text, bold)
    measured = pdfmetrics.stringWidth(text, font, size)
    if measured > width:
        size = max(minimum, size * width / measured)
        while len(text) > 1 and pdfmetrics.stringWidth(text, font, size) > width:
            text = text[:-2].rstrip() + "…"
    c.setFont(font, size)
    if align == "centre":
        c.drawCentredString(x, y, text)
    elif align == "right":
        c.drawRightString(x, y, text)
    else:
        c.drawString(x, y, text)


def _draw_portrait(c: canvas.Canvas, fonts: _Fonts, face: BadgeFace, x: float, y: float, w: float,
                   h: float) -> None:
    """An A6 badge: the show at the top over a rule in the category colour, the name (its baseline 32 mm
    below the top edge), the company, the QR code, and the colour band with the category label."""
    top, centre, usable = y + h, x + w / 2, w - 16 * mm
    colour = _rgb(face.colour)
    c.setFillColorRGB(0.12, 0.12, 0.14)
    _text(c, fonts, face.edition_name, centre, top - 11 * mm, 11, usable, bold=True)
    c.setFillColorRGB(*colour)
    c.rect(x + 8 * mm, top - 16 * mm, w - 16 * mm, 1.2 * mm, stroke=0, fill=1)
    c.setFillColorRGB(0, 0, 0)
    _text(c, fonts, face.name, centre, top - 32 * mm, 24, usable, bold=True, minimum=9)
    c.setFillColorRGB(0.25, 0.25, 0.28)
    _text(c, fonts, face.company, centre, top - 41 * mm, 12, usable, minimum=7)
    c.setFillColorRGB(0.42, 0.42, 0.45)
    _text(c, fonts, face.job_title, centre, top - 47.5 * mm, 10, usable, minimum=7)
    side = 62 * mm  # the quiet zone included: the code itself is about 51 mm wide
    _draw_qr(c, face.code, centre - side / 2, y + 31 * mm, side)
    c.setFillColorRGB(0.35, 0.35, 0.38)
    c.setFont(LATIN_FONT, 7)
    c.drawRightString(x + w - 5 * mm, y + 22 * mm, face.number)
    c.setFillColorRGB(*colour)
    c.rect(x, y, w, 20 * mm, stroke=0, fill=1)
    c.setFillColorRGB(*_ink_on(colour))
    _text(c, fonts, face.category_label, centre, y + 7.5 * mm, 18, usable, bold=True)


def _draw_label(c: canvas.Canvas, fonts: _Fonts, face: BadgeFace, x: float, y: float, w: float,
                h: float) -> None:
    """A landscape label: the QR code on the right, the show, name and company on the left above a rounded
    band in the category colour with the category label."""
    small = h < 50 * mm
    margin = 3 * mm
    side = min(h - 2 * mm, w * 0.42)
    _draw_qr(c, face.code, x + w - side - 1 * mm, y + (h - side) / 2, side, border=3)
    text_w = w - side - margin - 1 * mm
    band_h = h * (0.24 if small else 0.22)
    colour = _rgb(face.colour)
    c.setFillColorRGB(*colour)
    c.roundRect(x + 2 * mm, y + 2 * mm, text_w + margin - 2 * mm, band_h, 1.5 * mm, stroke=0, fill=1)
    c.setFillColorRGB(*_ink_on(colour))
    label_size = 11 if small else 16
    _text(c, fonts, face.category_label, x + margin + text_w / 2 - 0.5 * mm,
          y + 2 * mm + band_h / 2 - label_size * 0.35, label_size, text_w - 2 * mm, bold=True)
    top = y + h - margin
    edition_size, name_size, company_size = (6.5, 15, 8.5) if small else (8.5, 22, 11)
    c.setFillColorRGB(0.35, 0.35, 0.38)
    _text(c, fonts, face.edition_name, x + margin, top - edition_size, edition_size, text_w - 12 * mm, align="left")
    c.setFont(LATIN_FONT, 6)
    c.drawRightString(x + margin + text_w, top - edition_size, face.number)
    c.setFillColorRGB(0, 0, 0)
    name_y = top - edition_size - (2.5 * mm if small else 4 * mm) - name_size * 0.8
    _text(c, fonts, face.name, x + margin, name_y, name_size, text_w, bold=True, align="left", minimum=8)
    c.setFillColorRGB(0.25, 0.25, 0.28)
    company_y = name_y - company_size - (1.5 * mm if small else 3 * mm)
    _text(c, fonts, face.company, x + margin, company_y, company_size, text_w, align="left")
    if not small:
        c.setFillColorRGB(0.42, 0.42, 0.45)
        _text(c, fonts, face.job_title, x + margin, company_y - company_size - 1 * mm, company_size - 1.5, text_w,
              align="left")


def _cut_marks(c: canvas.Canvas, fmt: BadgeFormat) -> None:
    page_w, page_h = fmt.page
    c.saveState()
    c.setStrokeColorRGB(0.6, 0.6, 0.6)
    c.setLineWidth(0.3)
    for col in range(1, fmt.columns):
        x = (fmt.left + col * fmt.pitch_x) * mm
        c.line(x, 0, x, 5 * mm)
        c.line(x, page_h - 5 * mm, x, page_h)
    for row in range(1, fmt.rows):
        y = page_h - (fmt.top + row * fmt.pitch_y) * mm
        c.line(0, y, 5 * mm, y)
        c.line(page_w - 5 * mm, y, page_w, y)
    c.restoreState()


def write_badges_pdf(faces: Iterable[BadgeFace], out: BinaryIO | str, fmt: str = DEFAULT_FORMAT, *,
                     progress: Callable[[int], None] | None = None, every: int = 250,
                     title: str = "Badges") -> int:
    """Draw the badges in format fmt (a code of FORMATS) into out (a file or a path); returns how many.
    progress(done) is called every `every` badges. faces may be a generator: nothing is held but the PDF."""
    layout = FORMATS[fmt]
    fonts = _fonts()  # before anything is drawn: a missing font fails the whole request clearly
    c = canvas.Canvas(out, pagesize=layout.page, pageCompression=1)
    c.setTitle(title)
    c.setCreator("Expo CRM")
    cells = layout.cells()
    w, h = layout.width * mm, layout.height * mm
    draw = _draw_portrait if h > w else _draw_label
    done = 0
    for face in faces:
        slot = done % layout.per_page
        if slot == 0 and done:
            c.showPage()
        if slot == 0 and layout.cut_marks:
            _cut_marks(c, layout)
        draw(c, fonts, face, *cells[slot], w, h)
        done += 1
        if progress and done % every == 0:
            progress(done)
    if not done:
        c.setFont(LATIN_FONT, 10)
        c.drawString(20 * mm, layout.page[1] - 20 * mm, "No badges.")
    c.showPage()
    c.save()
    if progress:
        progress(done)
    return done


def badges_pdf(faces: list[BadgeFace], fmt: str = DEFAULT_FORMAT) -> bytes:
    """The badges as one PDF in memory (the desk's single badge, small batches)."""
    out = io.BytesIO()
    write_badges_pdf(faces, out, fmt)
    return out.getvalue()
