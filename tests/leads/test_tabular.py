"""The shared tabular writer (expo/core/tabular.py) every export uses: the formula rule on both sides,
typed XLSX cells read back with openpyxl."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from expo.core.tabular import csv_text, neutralise_cell, write_xlsx

TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

PHONES = ["+86 139 1234 5678", "+1 (555) 123-4567", "+49 151 2345 6789", "+44 20 7946 0958", "+852 9123.4567",
          "+86-139-1234-5678", "+8613912345678", "+14155550123"]
FORMULAS = ['=HYPERLINK("http://evil.example","x")', "=1+1", "+cmd|' /C calc'!A0", "+1+1", "-2+3", "-2",
            "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "＝1+1", "+1-1", "+86 139 1234 5678=A1", "+86 139 1234 5678+1",
            "+1 (555) WEBSERVICE", "+86 139--1234-5678", "＋1+1", "－2+3", "＠SUM(A1:A9)", "＝HYPERLINK(\"x\")",
            "+86 139 1234 5678;=1+1", "+86 139 1234 5678\t=1+1", "+86 139 1234 5678,x"]


@pytest.mark.parametrize("phone", PHONES)
def test_csv_phone_is_written_as_it_is(phone):
    """A "+" followed only by digits and the separators of phone numbers cannot start a function call: the
    number stays usable for whoever imports the file (no apostrophe, no space in front)."""
    assert neutralise_cell(phone) == phone


@pytest.mark.parametrize("formula", FORMULAS)
def test_csv_formula_is_neutralised(formula):
    assert neutralise_cell(formula) == "'" + formula


@pytest.mark.parametrize("text", ["王小明", "plain text", "a=b", "100% 棉", "", "Müller & Söhne", "13912345678"])
def test_csv_plain_text_is_untouched(text):
    assert neutralise_cell(text) == text


def test_csv_numbers_and_dates_are_written_as_such():
    assert [neutralise_cell(v) for v in (-5, 3.5, Decimal("-1.20"), None, True)] == ["-5", "3.5", "-1.20", "", "True"]
    assert neutralise_cell(datetime(2026, 5, 20, 10, 30)) == "2026-05-20 10:30"
    assert neutralise_cell(date(2026, 5, 20)) == "2026-05-20"


def test_csv_text_round_trip():
    text = csv_text(["姓名", "电话", "备注"], [["王小明", "+86 139 1234 5678", '=HYPERLINK("x")'],
                                          ["Anna, \"the\" buyer", None, "line\nbreak"]])
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows == [["姓名", "电话", "备注"], ["王小明", "+86 139 1234 5678", '\'=HYPERLINK("x")'],
                    ['Anna, "the" buyer', "", "line\nbreak"]]


@pytest.mark.parametrize("cell", ["Müller; Söhne", "a\tb", "a,b", 'say "hi"', "line\nbreak", "cr\rhere",
                                  "+86 139 1234 5678;x"])
def test_csv_quotes_every_cell_holding_a_separator(cell):
    """Excel splits on ";" where the comma is the decimal mark (German, French settings) and some programs on
    a tab: a cell holding either is quoted as well as one holding a comma, a quote or a line break."""
    text = csv_text(["h"], [[cell, "plain"]])
    line = text[1:].split("\r\n", 1)[1]
    quoted = '"' + neutralise_cell(cell).replace('"', '""') + '"'
    assert line.startswith(quoted + ",plain")
    assert list(csv.reader(io.StringIO(text[1:])))[1] == [neutralise_cell(cell), "plain"]


def test_csv_leaves_cells_without_separators_unquoted():
    text = csv_text(["姓名", "电话"], [["王小明", "+86 139 1234 5678"], [3, None]])
    assert text == "\ufeff姓名,电话\r\n王小明,+86 139 1234 5678\r\n3,\r\n"


@pytest.mark.parametrize("phone", PHONES)
def test_xlsx_phone_is_a_text_cell_as_typed(phone):
    sheet = load_workbook(io.BytesIO(write_xlsx(["Phone"], [[phone]], "Phones"))).active
    cell = sheet["A2"]
    assert (cell.value, cell.data_type, cell.number_format) == (phone, "s", "@")
    assert not cell.quotePrefix


def test_xlsx_cells_are_typed():
    header = ["名称", "Phone", "Formula", "Count", "Amount", "When", "Day", "Empty"]
    rows = [["深圳宏达家具有限公司", "+86 139 1234 5678", "=1+1", 3, Decimal("12.50"),
             datetime(2026, 5, 20, 10, 30, tzinfo=timezone.utc), date(2026, 5, 21), None],
            ["bell\x07 stripped", "13912345678", "-2", -2, 1.5, None, None, "x"]]
    book = load_workbook(io.BytesIO(write_xlsx(header, rows, "Leads: 2026/05 [test]*")))
    sheet = book.active
    assert sheet.title == "Leads  2026 05  test"
    assert [c.value for c in sheet[1]] == header and all(c.font.b for c in sheet[1])
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:H3"
    first, second = sheet[2], sheet[3]
    assert [c.value for c in first[:3]] == ["深圳宏达家具有限公司", "+86 139 1234 5678", "=1+1"]
    assert all(c.data_type == "s" and c.number_format == "@" for c in first[:3])
    assert first[2].quotePrefix and not first[0].quotePrefix
    assert not first[1].quotePrefix  # a phone number is a text cell as typed: no hidden "'" in front
    assert (first[3].value, first[3].data_type) == (3, "n")
    assert first[4].value == 12.5
    assert first[5].value == datetime(2026, 5, 20, 10, 30) and first[5].number_format == "yyyy-mm-dd hh:mm"
    assert first[6].is_date and first[6].value.date() == date(2026, 5, 21)
    assert first[7].value is None
    # A number written as text stays text (leading zeros and long digit strings survive), -2 as text too.
    assert (second[1].value, second[1].data_type) == ("13912345678", "s")
    assert (second[2].value, second[2].data_type) == ("-2", "s")
    assert (second[3].value, second[3].data_type) == (-2, "n")
    assert second[0].value == "bell stripped"
    # Chinese columns are wider than their character count (a Chinese character is two columns wide).
    assert sheet.column_dimensions["A"].width >= 2 * len("深圳宏达家具有限公司")


def test_xlsx_sheet_title_follows_excels_rules():
    for title, expected in (("Leads", "Leads"), ("销售线索", "销售线索"), ("", "Sheet1"), ("a/b:c", "a b c"),
                            ("x" * 40, "x" * 31)):
        book = load_workbook(io.BytesIO(write_xlsx(["h"], [], title)))
        assert book.active.title == expected
