"""Tabular files: CSV that spreadsheet programs open safely."""
from __future__ import annotations

import csv
import io

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value) -> str:
    """Spreadsheet programs run cells that start with = + - @ as formulas: prefix those with a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_text(header: list[str], rows) -> str:
    """CSV with a byte-order mark, so that Excel reads the UTF-8 (Chinese) correctly."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([neutralise_cell(h) for h in header])
    for row in rows:
        writer.writerow([neutralise_cell(v) for v in row])
    return "\ufeff" + out.getvalue()
