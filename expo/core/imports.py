"""Imports: reading CSV/XLSX files, mapping their columns to an import kind's fields, and running the kind
over the rows in batches — as a dry run (the preview) or for real (a Celery task or ``expo import``).

A module declares its import kinds through the registry hook ``importers`` (a function returning a list of
:class:`Kind`); core never names a module. A kind lists its documented fields (with English and Chinese
header aliases) and a ``process(context, rows, write)`` function that classifies a batch of rows — new,
matched, ambiguous, bad — and, when ``write`` is true, writes them with one lookup query per batch and
Core INSERTs. Every row keeps its line number; a bad row gets a reason and the good ones go on.

Reading (:func:`open_table`): XLSX (openpyxl read-only, streamed) or CSV in UTF-8, UTF-8 with BOM or
GBK/GB18030 (what Chinese Excel writes), with comma, semicolon or tab separators, detected from the file.
"""
from __future__ import annotations

import codecs
import csv
import json
import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from . import jobs
from .db import take_write_lock
from .models import Edition, ImportMapping, Job
from . import search
from .registry import registry
from .scoping import Scope
from .services import MAX_DB_INT, ServiceError, audit, unstorable

BATCH_SIZE = 1000
PREVIEW_ROWS = 5000  # the preview classifies at most this many rows; the run checks every row
SAMPLES_PER_CLASS = 5
MAX_COLUMNS = 200
MAX_CELL = 10_000
ROW_CLASSES = ("new", "matched", "ambiguous", "bad")
CLASS_LABELS = {"new": _l("New"), "matched": _l("Matched"), "ambiguous": _l("Ambiguous"), "bad": _l("Bad")}
AMBIGUOUS_CHOICES = ("skip", "new")
UPLOAD_NAME = {"csv": "upload.csv", "xlsx": "upload.xlsx"}
ERROR_REPORT = "errors.csv"


class Snapshot:
    """A looked-up row as plain attributes that an import can change as it writes (``replaced``)."""

    def __init__(self, **values):
        self.__dict__.update(values)

    @classmethod
    def of(cls, row) -> "Snapshot":
        return cls(**row._asdict())

    def replaced(self, **changes) -> "Snapshot":
        return Snapshot(**{**self.__dict__, **changes})


class ImportFileError(ServiceError):
    """The file as a whole cannot be read (not a table, binary, empty…): said in words, never a 500."""


# --- kinds and fields -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    """One documented column of a kind. ``type``: text, email, phone, int, decimal, date, datetime, choice,
    list (several values separated by ; , 、 or |), country (ISO 3166 two letters), json."""

    name: str
    label: Any
    type: str = "text"
    required: bool = False
    aliases: tuple[str, ...] = ()
    example: str = ""
    max_length: int = 200
    choices: dict | None = None  # code -> accepted spellings besides the code and its labels
    minimum: float | None = None
    maximum: float | None = None
    help: Any = ""


@dataclass(frozen=True, eq=False)  # hashed by identity (its fields hold dicts)
class Kind:
    code: str
    label: Any
    fields: tuple[Field, ...]
    process: Callable  # (context, rows, write) -> None: sets every row's status (and reason)
    needs_edition: bool = False
    description: Any = ""
    one_of: tuple[tuple[str, ...], ...] = ()  # at least one field of each group must be mapped and given
    activity_subject: str = "person"
    tables: tuple[str, ...] = ()  # the tables it fills: their planner statistics are refreshed as they grow

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


def kinds() -> dict[str, Kind]:
    found: dict[str, Kind] = {}
    for hook in registry.hook("importers"):
        for kind in hook():
            found[kind.code] = kind
    return found


def kind(code: str) -> Kind:
    try:
        return kinds()[code]
    except KeyError:
        raise ServiceError(_l("Unknown import kind."), "kind") from None


@dataclass
class Row:
    line: int
    raw: list[str]
    values: dict = field(default_factory=dict)
    status: str | None = None  # new / matched / ambiguous / bad
    reason: str = ""
    written: bool = False  # something was inserted or changed for this row
    subject_id: int | None = None  # the person or company the row is about (for the timeline)
    note: str = ""  # what matched ("email", "phone", "external ref", …)

    def bad(self, reason) -> None:
        self.status, self.reason = "bad", str(reason)


@dataclass
class Context:
    """What a kind's ``process`` knows: where the rows go, who imports, and memory across batches (keys of
    rows already seen in this file, so that a file's second row of one person matches its first)."""

    organizer_id: int
    user_id: int | None
    edition: Edition | None = None
    ambiguous: str = "skip"  # skip: ambiguous rows are not written; new: written as new records
    job_id: int | None = None
    memory: dict = field(default_factory=dict)

    def remember(self, name: str) -> dict:
        return self.memory.setdefault(name, {})


# --- normalisation --------------------------------------------------------------------------------------

def _halfwidth(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


# A company name without what varies between spellings of one company (full-width forms, case, spaces,
# punctuation, the legal form): one normaliser for the imports, the search and the company duplicates review.
company_key = search.company_key


LINE_BREAKS = re.compile(r"[\t\n\r]+")
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(value: str | None) -> str:
    """A cell as text to store: one line, no control characters, trimmed."""
    if not value:
        return ""
    if value.isprintable():
        return value.strip()
    return CONTROLS.sub("", LINE_BREAKS.sub(" ", value)).strip()


# --- reading files -----------------------------------------------------------------------------------------

def detect_encoding(head: bytes) -> str:
    """BOM → utf-8-sig; valid UTF-8 → utf-8; anything else → gb18030 (a superset of GBK and GB2312: what
    Chinese Excel writes as "CSV")."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a character cut at the end of the sample is not an error
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def detect_separator(sample: str) -> str:
    """The separator of the header line: the one of comma, semicolon and tab it holds most (outside quotes)."""
    line = sample.splitlines()[0] if sample else ""
    line = re.sub(r'"[^"]*"', "", line)
    counts = {sep: line.count(sep) for sep in (",", ";", "\t")}
    best = max(counts, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def file_format(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(4)
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    return "csv"


def _looks_binary(head: bytes) -> bool:
    if not head:
        return False
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    sample = head[:4096]
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)  # NUL and friends: a stray one is a bad cell
    return controls > max(2, len(sample) // 50)


@dataclass
class Table:
    """A file opened for reading: its header and a generator of (line number, cells) for the rows."""

    format: str
    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    encoding: str = ""
    separator: str = ""
    close: Callable = lambda: None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes") if value.time() != time(0) else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def open_table(path: Path | str) -> Table:
    """Open an import file (format and encoding detected). Raises ImportFileError in words when the file is
    empty, binary, not a table or without a header."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise ImportFileError(_l("The file is empty."))
    if file_format(path) == "xlsx":
        return _open_xlsx(path)
    return _open_csv(path)


def _header(cells: list) -> list[str]:
    header = [clean_text(_cell_text(c)).lstrip("\ufeff") for c in cells]
    while header and not header[-1]:
        header.pop()
    if not any(header):
        raise ImportFileError(_l("The first line holds no column names."))
    if len(header) > MAX_COLUMNS:
        raise ImportFileError(_l("The file has more than %(n)d columns.", n=MAX_COLUMNS))
    if any(unstorable(h) for h in header):
        raise ImportFileError(_l("The column names hold characters no database can store (a NUL byte)."))
    named, seen = [], set()
    for i, h in enumerate(header):
        h = h or f"#{i + 1}"
        if h in seen:  # a repeated header name gets its position: each column is mapped on its own
            h = f"{h} (#{i + 1})"
        seen.add(h)
        named.append(h)
    return named


def _open_csv(path: Path) -> Table:
    with open(path, "rb") as f:
        head = f.read(65536)
    if _looks_binary(head):
        raise ImportFileError(_l("This is not a CSV or XLSX file: it holds binary data."))
    encoding = detect_encoding(head)
    sample = head.decode(encoding, errors="ignore")
    separator = detect_separator(sample.lstrip("\ufeff"))
    handle = open(path, encoding=encoding, errors="replace", newline="")
    csv.field_size_limit(MAX_CELL * 10)
    reader = csv.reader(handle, delimiter=separator)
    try:
        first = next(reader)
    except StopIteration:
        handle.close()
        raise ImportFileError(_l("The file is empty.")) from None
    except csv.Error as error:
        handle.close()
        raise ImportFileError(_l("The file cannot be read as CSV: %(error)s", error=str(error))) from None
    header = _header(first)

    def rows():
        line = reader.line_num
        try:
            while True:
                try:
                    cells = next(reader)
                except StopIteration:
                    return
                except csv.Error as error:
                    yield line + 1, ["\x00csv:" + str(error)]
                    line = reader.line_num
                    continue
                start, line = line + 1, reader.line_num
                if not any(c.strip() for c in cells):
                    continue
                yield start, cells
        finally:
            handle.close()

    return Table("csv", header, rows(), encoding=encoding, separator=separator, close=handle.close)


def _open_xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise ImportFileError(_l("This XLSX file cannot be read: %(error)s", error=type(error).__name__)) from None
    except Exception:  # openpyxl raises many kinds on a damaged workbook
        raise ImportFileError(_l("This XLSX file cannot be read.")) from None
    if not book.worksheets:
        book.close()
        raise ImportFileError(_l("The workbook has no sheet."))
    sheet = book.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    try:
        first = next(iterator)
    except StopIteration:
        book.close()
        raise ImportFileError(_l("The file is empty.")) from None
    header = _header(list(first))

    def rows():
        try:
            for number, values in enumerate(iterator, start=2):
                cells = [_cell_text(v) for v in values]
                if any(c.strip() for c in cells):
                    yield number, cells
        finally:
            book.close()

    return Table("xlsx", header, rows(), close=book.close)


def count_rows(path: Path) -> int:
    """Rows after the header (for the progress bar): lines for CSV (a cell with a line break counts twice,
    which only makes the bar a little pessimistic), the sheet's rows for XLSX."""
    if file_format(path) == "xlsx":
        table = open_table(path)
        try:
            return sum(1 for _ in table.rows)
        finally:
            table.close()
    count = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            count += chunk.count(b"\n")
    return max(0, count - 1)


def sample(path: Path, rows: int = 5) -> tuple[Table, list[list[str]]]:
    table = open_table(path)
    found = []
    try:
        for _line, cells in table.rows:
            found.append(cells)
            if len(found) >= rows:
                break
    finally:
        table.close()
    return table, found


# --- mapping ----------------------------------------------------------------------------------------------

def _header_key(text: str) -> str:
    return re.sub(r"[\s_\-./:：()（）*]+", "", _halfwidth(text).casefold())


def guess_mapping(kind_: Kind, header: list[str]) -> dict[str, str]:
    """file column -> field name, from the field's name, its English label and its aliases (Chinese ones too)."""
    names = {}
    for f in kind_.fields:
        for spelling in (f.name, str(f.label), *f.aliases):
            names.setdefault(_header_key(spelling), f.name)
    mapping, taken = {}, set()
    for column in header:
        name = names.get(_header_key(column))
        if name and name not in taken:
            mapping[column] = name
            taken.add(name)
    return mapping


def check_mapping(kind_: Kind, header: list[str], mapping: dict[str, str]) -> list[str]:
    """What is wrong with a mapping, in words (empty: fine)."""
    problems = []
    fields = {f.name for f in kind_.fields}
    used = [name for column, name in mapping.items() if name and column in header]
    for name in used:
        if name not in fields:
            problems.append(_("Unknown field %(name)s.", name=name))
    for name in {n for n in used if used.count(n) > 1}:
        problems.append(_("Two columns are mapped to %(field)s.", field=str(kind_.field(name).label)))
    for f in kind_.fields:
        if f.required and f.name not in used:
            problems.append(_("Map a column to %(field)s: it is required.", field=str(f.label)))
    for group in kind_.one_of:
        if not any(name in used for name in group):
            problems.append(_("Map a column to one of: %(fields)s.",
                              fields=", ".join(str(kind_.field(n).label) for n in group)))
    return problems


def saved_mappings(scope: Scope, kind_code: str | None = None) -> list[ImportMapping]:
    stmt = select(ImportMapping).where(ImportMapping.organizer_id == scope.organizer_id)
    if kind_code:
        stmt = stmt.where(ImportMapping.kind == kind_code)
    return list(db.session.scalars(stmt.order_by(ImportMapping.name)))


def save_mapping(scope: Scope, kind_code: str, name: str, columns: dict, *, actor_id: int | None) -> ImportMapping:
    name = clean_text(name)[:100]
    if not name:
        raise ServiceError(_l("Give the mapping a name."), "mapping_name")
    mapping = db.session.scalar(select(ImportMapping).where(ImportMapping.organizer_id == scope.organizer_id,
                                                            ImportMapping.kind == kind_code,
                                                            ImportMapping.name == name))
    if mapping is None:
        mapping = ImportMapping(organizer_id=scope.organizer_id, kind=kind_code, name=name, created_by_id=actor_id)
        db.session.add(mapping)
    mapping.columns = {str(k)[:200]: v for k, v in columns.items() if v}
    db.session.flush()
    audit("import.mapping_saved", organizer_id=scope.organizer_id, user_id=actor_id, obj=mapping,
          details={"name": name})
    return mapping


def find_mapping(scope: Scope, kind_code: str, name_or_id) -> ImportMapping | None:
    stmt = select(ImportMapping).where(ImportMapping.organizer_id == scope.organizer_id,
                                       ImportMapping.kind == kind_code)
    if isinstance(name_or_id, int) or (isinstance(name_or_id, str) and name_or_id.isdigit()):
        found = db.session.scalar(stmt.where(ImportMapping.id == int(name_or_id)))
        if found:
            return found
    return db.session.scalar(stmt.where(ImportMapping.name == str(name_or_id)))


# --- converting cells ----------------------------------------------------------------------------------

TRUE_WORDS = {"1", "yes", "y", "true", "是", "有", "对", "x", "✓"}
FALSE_WORDS = {"0", "no", "n", "false", "否", "无", "不"}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%d.%m.%Y", "%Y%m%d")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                    "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y年%m月%d日 %H:%M")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
LIST_SPLIT = re.compile(r"\s*[;；,，、|]\s*")


class CellError(ValueError):
    pass


def _choice(f: Field, text: str) -> str:
    key = _header_key(text)
    for code, spellings in (f.choices or {}).items():
        if key in {_header_key(s) for s in (code, *spellings)}:
            return code
    raise CellError(_("%(value)s is not one of: %(choices)s", value=text[:40], choices=", ".join(f.choices or ())))


def convert(f: Field, text: str, *, region: str | None = None):
    """The value of one cell for its field, or CellError in words. Empty text is None."""
    if not text:
        return None
    text = clean_text(text if f.type in ("text", "list", "json") or text.isascii() else _halfwidth(text))
    if not text:
        return None
    if len(text) > MAX_CELL:
        raise CellError(_("the value is too long"))
    if f.type == "text":
        if len(text) > f.max_length:
            raise CellError(_("longer than %(n)d characters", n=f.max_length))
        return text
    if f.type == "email":
        if not EMAIL.fullmatch(text) or len(text) > 254:
            raise CellError(_("%(value)s is not an email address", value=text[:60]))
        return text
    if f.type == "phone":
        if len(text) > 40:
            raise CellError(_("longer than %(n)d characters", n=40))
        return text
    if f.type in ("int", "decimal"):
        cleaned = text.replace(",", "").replace(" ", "").replace("¥", "").replace("￥", "").replace("m²", "")
        try:
            number = Decimal(cleaned)
        except InvalidOperation:
            raise CellError(_("%(value)s is not a number", value=text[:40])) from None
        if not number.is_finite():
            raise CellError(_("%(value)s is not a number", value=text[:40]))
        low = f.minimum if f.minimum is not None else (-MAX_DB_INT if f.type == "int" else -1e9)
        high = f.maximum if f.maximum is not None else (MAX_DB_INT if f.type == "int" else 1e9)
        if number < Decimal(str(low)) or number > Decimal(str(high)):
            raise CellError(_("%(value)s is out of range (%(low)s to %(high)s)", value=text[:40],
                              low=_plain(low), high=_plain(high)))
        if f.type == "int":
            if number != number.to_integral_value():
                raise CellError(_("%(value)s is not a whole number", value=text[:40]))
            return int(number)
        return number.quantize(Decimal("0.01"))
    if f.type == "date":
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(text[:10] if fmt == "%Y-%m-%d" and len(text) > 10 else text, fmt).date()
            except ValueError:
                continue
        raise CellError(_("%(value)s is not a date (write 2025-03-18)", value=text[:40]))
    if f.type == "datetime":
        for fmt in DATETIME_FORMATS + DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt)
            except ValueError:
                continue
        try:
            # an aware value stays aware: in_edition_zone reads only naive values in the edition's zone
            return datetime.fromisoformat(text)
        except ValueError:
            raise CellError(_("%(value)s is not a date and time (write 2025-03-18 09:30)", value=text[:40])) from None
    if f.type == "choice":
        return _choice(f, text)
    if f.type == "bool":
        if text.casefold() in TRUE_WORDS:
            return True
        if text.casefold() in FALSE_WORDS:
            return False
        raise CellError(_("%(value)s is not yes or no", value=text[:40]))
    if f.type == "list":
        return [item for item in LIST_SPLIT.split(text) if item][:100]
    if f.type == "country":
        if not re.fullmatch(r"[A-Za-z]{2}", text):
            raise CellError(_("%(value)s is not a two-letter country code (CN, DE…)", value=text[:40]))
        return text.upper()
    if f.type == "json":
        return _answers(text)
    raise CellError(f"unknown field type {f.type}")


def _plain(number) -> str:
    return f"{number:,.0f}" if float(number).is_integer() else str(number)


def _answers(text: str) -> dict:
    """Answers as a JSON object ({"q1": "yes"}) or as "key=value; key=value"."""
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            raise CellError(_("the answers are not valid JSON")) from None
        if not isinstance(value, dict):
            raise CellError(_("the answers are not a JSON object"))
        return {str(k)[:60]: v if isinstance(v, (str, int, float, bool, list)) or v is None else str(v)
                for k, v in list(value.items())[:100]}
    answers = {}
    for part in re.split(r"\s*[;；]\s*", text):
        if not part:
            continue
        key, sep, value = part.partition("=") if "=" in part else part.partition(":")
        if not sep or not key.strip():
            raise CellError(_("write the answers as key=value; key=value"))
        answers[key.strip()[:60]] = value.strip()
    return answers


@lru_cache(maxsize=32)
def _plan(kind_: Kind, header: tuple, mapping: tuple) -> list[tuple[int, str, Field]]:
    """(cell index, column, field) for every mapped column of the header: worked out once per file."""
    mapping = dict(mapping)
    return [(i, column, kind_.field(mapping[column])) for i, column in enumerate(header)
            if mapping.get(column) and kind_.field(mapping[column]) is not None]


def read_row(kind_: Kind, header: list[str], mapping: dict[str, str], line: int, cells: list[str]) -> Row:
    """A file row as the kind's values; a cell that does not convert makes the row bad (with the reason)."""
    row = Row(line, cells)
    if cells and cells[0].startswith("\x00csv:"):
        row.bad(_("The line cannot be read as CSV: %(error)s", error=cells[0][5:]))
        return row
    if len(cells) > len(header) and any(c.strip() for c in cells[len(header):]):
        row.bad(_("The line has %(n)d cells, the header %(m)d columns.", n=len(cells), m=len(header)))
        return row
    if UNSTORABLE.search("".join(cells)):  # what unstorable() looks for, once per line
        row.bad(_("The line holds characters no database can store (a NUL byte)."))
        return row
    problems = []
    for i, column, f in _plan(kind_, tuple(header), tuple(sorted(mapping.items()))):
        text = cells[i] if i < len(cells) else ""
        name = f.name
        try:
            value = convert(f, text)
        except CellError as error:
            problems.append(f"{column}: {error}")
            continue
        if value is not None:
            row.values[name] = value
    for f in kind_.fields:
        if f.required and row.values.get(f.name) in (None, "", []):
            problems.append(_("%(field)s is required", field=str(f.label)))
    for group in kind_.one_of:
        if not any(row.values.get(name) not in (None, "", []) for name in group):
            problems.append(_("give one of: %(fields)s", fields=", ".join(str(kind_.field(n).label) for n in group)))
    if problems:
        row.bad("; ".join(problems))
    return row


# --- running ---------------------------------------------------------------------------------------------

@dataclass
class Report:
    counts: dict = field(default_factory=lambda: {c: 0 for c in ROW_CLASSES} | {"written": 0, "rows": 0})
    samples: dict = field(default_factory=lambda: {c: [] for c in ROW_CLASSES})
    header: list = field(default_factory=list)

    def add(self, row: Row, mapping: dict) -> None:
        status = row.status or "bad"
        self.counts[status] += 1
        self.counts["rows"] += 1
        if row.written:
            self.counts["written"] += 1
        if len(self.samples[status]) < SAMPLES_PER_CLASS:
            shown = {name: _shown(value) for name, value in row.values.items()}
            self.samples[status].append({"line": row.line, "reason": row.reason, "note": row.note,
                                         "values": shown, "raw": [c[:200] for c in row.raw[:MAX_COLUMNS]]})


def _shown(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)[:200]
    return value


class ErrorWriter:
    """The error report: line, reason and the original row, as CSV that spreadsheet programs open safely."""

    def __init__(self, path: Path | None, header: list[str]):
        self.path = path
        self.count = 0
        self.handle = None
        if path is not None:
            from .tabular import neutralise_cell

            self._neutral = neutralise_cell
            self.handle = open(path, "w", encoding="utf-8-sig", newline="")
            self.writer = csv.writer(self.handle)
            self.writer.writerow([_("Line"), _("Class"), _("Reason"),
                                  *(self._neutral(str(c).replace("\x00", "")) for c in header)])

    def write(self, row: Row) -> None:
        self.count += 1
        if self.handle is not None:
            cells = [self._neutral(c.replace("\x00", "")) for c in row.raw]
            self.writer.writerow([row.line, str(CLASS_LABELS.get(row.status, row.status)),
                                  self._neutral(row.reason), *cells])

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def run(kind_: Kind, path: Path, mapping: dict[str, str], context: Context, *, write: bool,
        limit: int | None = None, error_path: Path | None = None,
        progress: Callable[[int, int], None] | None = None) -> Report:
    """Read the file, convert every row, hand the kind batches of good rows, and collect the report. With
    ``write`` every batch is committed (a bad row never stops the others; a rerun of the same file changes
    nothing: every kind matches rows on their external reference first, then on its dedupe keys)."""
    table = open_table(path)
    report = Report(header=table.header)
    problems = check_mapping(kind_, table.header, mapping)
    if problems:
        table.close()
        raise ServiceError(" ".join(problems), "mapping")
    errors = ErrorWriter(error_path, table.header)
    batch: list[Row] = []
    seen = 0
    batches = [0]

    def flush_batch():
        good = [r for r in batch if r.status != "bad"]
        if good:
            try:
                kind_.process(context, good, write)
            except ServiceError as error:  # a kind refusing a whole batch: every row of it is bad, in words
                db.session.rollback()
                for r in good:
                    r.bad(str(error))
            if write:
                _record_activities(kind_, context, good)
                db.session.commit()
                batches[0] += 1
                if batches[0] in ANALYZE_AFTER_BATCHES:
                    _refresh_statistics(kind_)
        for r in batch:
            if r.status is None:
                r.bad(_("not processed"))
            report.add(r, mapping)
            if r.status in ("bad", "ambiguous") and (r.status == "bad" or context.ambiguous == "skip"):
                errors.write(r)
        batch.clear()

    try:
        for line, cells in table.rows:
            batch.append(read_row(kind_, table.header, mapping, line, cells))
            seen += 1
            if len(batch) >= BATCH_SIZE:
                flush_batch()
                if progress:
                    progress(seen, report.counts["bad"])
            if limit is not None and seen >= limit:
                break
        flush_batch()
        if progress:
            progress(seen, report.counts["bad"])
    finally:
        errors.close()
        table.close()
    report.counts["errors"] = errors.count
    return report


# A table filled from empty by an import has planner statistics of an empty table: PostgreSQL then looks rows
# up through the organizer index alone and each batch's lookup reads every row imported so far. Refreshed
# after these batches (ANALYZE samples a bounded number of rows: a few ms), the lookups use their own index.
ANALYZE_AFTER_BATCHES = frozenset({1, 3, 10, 30, 100, 300})


def _refresh_statistics(kind_: Kind) -> None:
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        return  # SQLite plans these lookups by their indexes without statistics
    for table in (*kind_.tables, "activities"):
        connection.exec_driver_sql(f"ANALYZE {table}")
    db.session.commit()


def padded(values) -> list:
    """The values of an IN list, repeated up to a multiple of BATCH_SIZE: every batch's lookup is then the same
    statement text, which the database driver prepares once (SQLite's statement cache would otherwise keep up
    to 128 statements of thousands of placeholders, one per list length: tens of MB)."""
    values = list(values)
    if not values:
        return values
    size = -(-len(values) // BATCH_SIZE) * BATCH_SIZE
    return values + [values[0]] * (size - len(values))


def insert_returning_ids(table, values: list[dict]) -> list[int]:
    """INSERT many rows (dicts with the same keys) as one prepared statement executed many times, and return
    their ids in the order of ``values``.

    Not SQLAlchemy's multi-row VALUES with RETURNING: in parameter order it inserts one row at a time on
    SQLite, and its statements of thousands of placeholders, one text per batch size, make psycopg parse
    each anew and fill SQLite's statement cache (memory that grows with the import)."""
    if not values:
        return []
    connection = db.session.connection()
    names = list(values[0])
    defaults = {}  # what SQLAlchemy would add: the Python-side defaults of the columns not given
    for column in table.columns:
        if column.name not in values[0] and not column.primary_key and column.default is not None \
                and not column.default.is_sequence:
            defaults[column.name] = column.default
    if defaults:
        names += list(defaults)
        values = [{**v, **{n: (d.arg if d.is_scalar else d.arg(None)) for n, d in defaults.items()}} for v in values]
    processors = {name: table.c[name].type.bind_processor(connection.dialect) for name in names}
    rows = [[_plain_value(processors[n](v[n]) if processors[n] else v[n]) for n in names] for v in values]
    columns = ", ".join(names)
    if connection.dialect.name == "postgresql":
        sql = f"INSERT INTO {table.name} ({columns}) VALUES ({', '.join(['%s'] * len(names))}) RETURNING id"
        cursor = connection.connection.driver_connection.cursor()
        try:
            cursor.executemany(sql, rows, returning=True)  # prepared once, pipelined; one result per row
            ids = []
            while True:
                ids.append(cursor.fetchone()[0])
                if not cursor.nextset():
                    break
            return ids
        finally:
            cursor.close()
    # SQLite: with the write lock held, a rowid table numbers new rows max(id) + 1, + 2, … in insertion order
    take_write_lock(db.session)
    before = connection.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table.name}").scalar()
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.executemany(f"INSERT INTO {table.name} ({columns}) VALUES ({', '.join(['?'] * len(names))})", rows)
    finally:
        cursor.close()
    after = connection.exec_driver_sql(f"SELECT max(id) FROM {table.name}").scalar()
    if after - before != len(rows):
        raise RuntimeError(f"{table.name}: ids not consecutive ({before}..{after} for {len(rows)} rows)")
    return list(range(before + 1, after + 1))


def _plain_value(value):
    """A JSON value the driver left as it is (psycopg: JSON is adapted by the dialect, not here), as its text."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def _record_activities(kind_: Kind, context: Context, rows: list[Row]) -> None:
    from .activity import record_many

    entries = [{"kind": "import.row", "organizer_id": context.organizer_id, "subject_type": kind_.activity_subject,
                "subject_id": r.subject_id, "edition_id": context.edition.id if context.edition else None,
                "user_id": context.user_id, "details": {"kind": kind_.code, "line": r.line, "class": r.status}}
               for r in rows if r.written and r.subject_id]
    record_many(entries)


# --- jobs: the upload, the preview and the run --------------------------------------------------------

IMPORT_PERMISSION = "import_data"


def start_upload(scope: Scope, kind_code: str, filename: str, stream, *, user_id: int | None,
                 edition: Edition | None = None) -> "jobs.Job":
    """Keep an uploaded file as a job (not yet run) and check that it reads as a table."""
    kind_ = kind(kind_code)
    if kind_.needs_edition and edition is None:
        raise ServiceError(_l("This kind of import goes into an edition: choose one."), "edition_id")
    job = jobs.create(f"import.{kind_.code}", organizer_id=scope.organizer_id, user_id=user_id,
                      edition_id=edition.id if edition else None,
                      params={"permission": IMPORT_PERMISSION, "import_kind": kind_.code, "stage": "mapping",
                              "filename": clean_text(filename)[:200], "title": str(kind_.label)})
    target = jobs.file_path(job, "upload.tmp")
    with open(target, "wb") as out:
        while chunk := stream.read(1 << 20):
            out.write(chunk)
    fmt = file_format(target)
    final = jobs.file_path(job, UPLOAD_NAME[fmt])
    target.rename(final)
    try:
        table = open_table(final)
        table.close()
    except ImportFileError:
        db.session.rollback()  # no job for a file that cannot be read (the request answers with the reason)
        shutil.rmtree(jobs.directory(job.id), ignore_errors=True)
        raise
    set_params(job, upload=final.name, format=fmt, mapping=guess_mapping(kind_, table.header),
               encoding=table.encoding, separator=table.separator)
    return job


def set_params(job, **values) -> None:
    """Change the import's settings (kept in the job's params) in the caller's transaction (the screens)."""
    job.params = {**(job.params or {}), **values}
    db.session.flush()


def upload_path(job) -> Path:
    return jobs.file_path(job, (job.params or {}).get("upload") or "upload.csv")


def context_for(job) -> Context:
    params = job.params or {}
    return Context(organizer_id=job.organizer_id, user_id=job.user_id, edition=job.edition,
                   ambiguous=params.get("ambiguous", "skip"), job_id=job.id)


def preview(job) -> Report:
    """The dry run over the first PREVIEW_ROWS rows: classes and samples; nothing is written."""
    kind_ = kind(job.params["import_kind"])
    report = run(kind_, upload_path(job), job.params.get("mapping") or {}, context_for(job), write=False,
                 limit=PREVIEW_ROWS)
    db.session.rollback()
    return report


def queue(job, *, ambiguous: str, actor_id: int | None) -> None:
    """The user said "run": the job goes to the worker (after the caller's commit)."""
    if ambiguous not in AMBIGUOUS_CHOICES:
        raise ServiceError(_l("Choose what happens to ambiguous rows."), "ambiguous")
    # A double click on "Run" sends two requests: the second must see the first's "queued", so the job's
    # row is locked and read afresh before its stage is checked (SQLite: the write lock, taken first).
    take_write_lock(db.session)
    db.session.scalars(select(Job).where(Job.id == job.id).with_for_update()
                       .execution_options(populate_existing=True)).one()
    if (job.params or {}).get("stage") not in ("mapping", "preview"):
        raise ServiceError(_l("This import has been started already."))
    set_params(job, stage="queued", ambiguous=ambiguous)
    audit("import.started", organizer_id=job.organizer_id, user_id=actor_id, obj=job,
          details={"name": job.params.get("filename"), "edition_id": job.edition_id})
    run_import.delay(job.id)


def execute(job_id: int, *, progress: Callable | None = None) -> Report:
    """Run an import job for real: progress on the job, the error report as its result file."""
    job = jobs.get(job_id)
    kind_ = kind(job.params["import_kind"])
    path = upload_path(job)
    total = count_rows(path)
    jobs.start(job_id, total=total)
    jobs._write(job_id, params={**job.params, "stage": "running"})
    context = context_for(job)
    error_path = jobs.file_path(job, ERROR_REPORT)

    def advance(done, errors):
        jobs.advance(job_id, min(done, max(total, done)), total=max(total, done), errors=errors)
        if progress:
            progress(done)

    report = run(kind_, path, job.params.get("mapping") or {}, context, write=True, error_path=error_path,
                 progress=advance)
    counts = report.counts
    audit("import.finished", organizer_id=job.organizer_id, user_id=job.user_id, object_type="jobs", object_id=job_id,
          details={"rows": counts["rows"], "status": "done"})
    db.session.commit()
    jobs.advance(job_id, counts["rows"], total=counts["rows"], errors=counts["errors"])
    jobs.finish(job_id, result={"counts": counts, "files": [ERROR_REPORT] if counts["errors"] else [],
                                "labels": {k: str(v) for k, v in COUNT_LABELS.items()}},
                message=summary(counts))
    return report


COUNT_LABELS = {"rows": _l("Rows read"), "new": _l("New"), "matched": _l("Matched"),
                "ambiguous": _l("Ambiguous"), "bad": _l("Bad rows"), "written": _l("Rows that changed data"),
                "errors": _l("Rows in the error report")}


def summary(counts: dict) -> str:
    return _("%(rows)d rows: %(new)d new, %(matched)d matched, %(ambiguous)d ambiguous, %(bad)d bad; "
             "%(written)d changed data.", **{k: counts.get(k, 0) for k in ("rows", "new", "matched", "ambiguous",
                                                                             "bad", "written")})


try:  # Celery task: registered when core's tasks are loaded
    from celery import shared_task

    @shared_task
    def run_import(job_id: int) -> None:
        try:
            execute(job_id)
        except Exception as error:  # the job says what went wrong; the worker log has the trace
            db.session.rollback()
            jobs.fail(job_id, str(error) if isinstance(error, ServiceError)
                      else _("The import stopped: %(error)s", error=type(error).__name__))
            if not isinstance(error, ServiceError):
                raise
except ImportError:  # pragma: no cover
    pass


def in_edition_zone(edition: Edition | None, moment: datetime | None) -> datetime | None:
    """A file's date and time (naive: as the show's staff wrote it) in UTC, read in the edition's time zone."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        return moment.astimezone(timezone.utc)
    from zoneinfo import ZoneInfo

    try:
        zone = ZoneInfo(edition.timezone) if edition is not None and edition.timezone else timezone.utc
    except (KeyError, ValueError):
        zone = timezone.utc
    return moment.replace(tzinfo=zone).astimezone(timezone.utc)
