"""Tabular files that spreadsheet programs open safely: CSV and XLSX for every export.

``csv_text(header, rows)`` and ``write_xlsx(header, rows, sheet_title)`` take the same input: a header
(translated labels) and rows of plain values. A value's Python type decides its cell: ``int``/``float``/
``Decimal`` are numbers, ``datetime``/``date`` are dates (give them already in the zone they are to be
read in), ``None`` is empty, anything else is text.
"""
from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from wcwidth import wcswidth, wcwidth

DATETIME_FORMAT = "%Y-%m-%d %H:%M"  # 24 h and sortable, the same in both languages (UI.md §4)
XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_DATE_FORMAT = "yyyy-mm-dd"
XLSX_TEXT_FORMAT = "@"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A cell whose text starts with one of these is read as a formula by Excel, LibreOffice or Google
# Sheets (tab and CR because some of them strip those first; the full-width forms because a Chinese
# or Japanese input method turns them into the ASCII ones when the cell is edited).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

# An international phone number as people write it: "+", then digits in groups separated by spaces,
# hyphens, dots, slashes or parentheses ("+86 139 1234 5678", "+1 (555) 123-4567"), at least 7 digits,
# no second "+". Nothing else fits: no letters (so no function name), no "!", "|", ":", "$" or "&"
# (so no cell reference, no DDE command), no "=", "*" or "^".
PHONE = re.compile(r"\+\(?\d[\d ()./-]*")
DOUBLED_SEPARATOR = re.compile(r"[ ./-]{2}")
# What makes a CSV cell need quotes: a separator (comma, semicolon, tab), the quote itself, a line break.
MUST_QUOTE = re.compile(r'[,;\t"\r\n]')


def _is_phone(text: str) -> bool:
    return (PHONE.fullmatch(text) is not None and sum(ch.isdigit() for ch in text) >= 7
            and DOUBLED_SEPARATOR.search(text) is None)


def neutralise_cell(value) -> str:
    """The text of a CSV cell such that no spreadsheet program runs it as a formula.

    The rule (CSV has no cell types, so the defence has to live in the text itself):

    * Text that does not start with a formula trigger is written as it is.
    * A phone number (``PHONE`` above: "+86 139 1234 5678", "+8613912345678") is written as it is too: it is
      data other programs import, and a "+" followed by nothing but digits and the separators people write in
      phone numbers cannot call a function (HYPERLINK, WEBSERVICE), read another cell or start a program
      through DDE ("cmd|…"), which is what makes formula injection dangerous. The worst a spreadsheet can do
      with it is arithmetic on the display; whoever opens exports in Excel takes the XLSX file, where a phone
      number is a text cell.
    * Any other text that starts with a trigger (=HYPERLINK(…), +cmd|…, -2+3, @SUM(…), a formula hidden
      behind a tab, the full-width ＝ an input method turns into "=") gets an **apostrophe**, the prefix OWASP
      recommends: visible, but no program strips it and evaluates. A negative number written as text ("-2")
      is prefixed too: a formula and a number cannot be told apart safely from the outside, and text must
      stay text.
    * Numbers (int, float, Decimal) are written as numbers and never prefixed: -2 is a number.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime(DATETIME_FORMAT)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    if not text.startswith(FORMULA_TRIGGERS) or _is_phone(text):
        return text
    return "'" + text


def _quoted(cell: str) -> str:
    """A cell holding a separator, a quote or a line break, in quotes (quotes doubled); any other as it is."""
    if MUST_QUOTE.search(cell) is None:
        return cell
    return '"' + cell.replace('"', '""') + '"'


def csv_text(header, rows) -> str:
    """CSV with a byte-order mark, so that Excel reads the UTF-8 (Chinese) correctly.

    Comma-separated, and every cell that holds a separator any spreadsheet program may split on is quoted:
    the comma, but also the semicolon (Excel's list separator where the comma is the decimal mark, as in
    German or French settings) and the tab (pasted text), where the csv module quotes only its own delimiter."""
    lines = [[neutralise_cell(str(h)) for h in header]] + [[neutralise_cell(v) for v in row] for row in rows]
    return "\ufeff" + "".join(",".join(_quoted(cell) for cell in line) + "\r\n" for line in lines)


def _sheet_title(title) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\ and not empty."""
    text = re.sub(r"[\[\]:*?/\\]", " ", str(title or "")).strip().strip("'")
    return text[:31] or "Sheet1"


def _display(value) -> str:
    return neutralise_cell(value).strip(" '")


def _cell(sheet, value) -> WriteOnlyCell:
    """One typed cell: numbers and dates as such, everything else a text cell that stays text."""
    if value is None:
        return WriteOnlyCell(sheet, value=None)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return WriteOnlyCell(sheet, value=value)
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=value.replace(tzinfo=None))  # Excel has no zones: local time
        cell.number_format = XLSX_DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = XLSX_DATE_FORMAT
        return cell
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))  # control characters XML cannot hold
    cell = WriteOnlyCell(sheet, value=text)
    # A string cell is never evaluated, whatever its text ("=HYPERLINK(…)" included); the text
    # format keeps it text when someone edits the cell, and the quote prefix (Excel's own mark for
    # "typed with a leading apostrophe", not part of the value) keeps a formula-like text text even
    # if the format is changed.
    cell.data_type = "s"
    cell.number_format = XLSX_TEXT_FORMAT
    if text.startswith(FORMULA_TRIGGERS) and not _is_phone(text):  # a phone number stays as typed: no "'+86…"
        cell.quotePrefix = True
    return cell


def write_xlsx(header, rows, sheet_title) -> bytes:
    """An XLSX workbook of one sheet: a bold, frozen header row with filters, typed cells, columns
    as wide as their content (Chinese characters count double)."""
    rows = [list(row) for row in rows]
    header = [str(h) for h in header]
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_sheet_title(sheet_title))
    widths = [display_width(h) for h in header]
    for row in rows:
        for index, value in enumerate(row[:len(widths)]):
            widths[index] = max(widths[index], display_width(_display(value)))
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width, 6), 60) + 2
    sheet.freeze_panes = "A2"
    if header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"
    bold = Font(bold=True)
    heading = []
    for title in header:
        cell = _cell(sheet, title)
        cell.font = bold
        heading.append(cell)
    sheet.append(heading)
    for row in rows:
        sheet.append([_cell(sheet, value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def display_width(text: str) -> int:
    """Columns a text takes in a terminal: a Chinese character takes two, a combining mark none."""
    width = wcswidth(text)
    if width >= 0:
        return width
    return sum(max(wcwidth(ch), 0) for ch in text)  # a control character somewhere: count the rest


def text_table(header, rows, gap: int = 2) -> str:
    """A plain-text table for terminals, columns aligned by display width (not by character count), so
    that Chinese text lines up: every column starts at the same display column on every line."""
    lines = [[str(h) for h in header]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(display_width(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join((" " * gap).join(cell + " " * (width - display_width(cell)) for cell, width in zip(line, widths))
                     .rstrip() for line in lines)
