"""A file read into rows of text cells: CSV, XLSX or JSON lines, whatever the upload was.

Every cell is text (blank = ""), so one set of parsers serves every format. Row numbers are the
ones the planner sees: in CSV/XLSX the header is row 1; in JSON lines the first line is row 1.
Rows whose cells are all blank (trailing blank rows, spacer rows) are skipped.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from ingestion_service.domain.encoding import UTF8_BOM, decode_text
from ingestion_service.domain.problems import FileProblem, RowError

FORMATS = ("csv", "xlsx", "jsonl")
_XLSX_MAGIC = b"PK\x03\x04"
# The widest real export (the Koubei daily wide file) has 494 columns and a 5.4 kB header line.
MAX_COLUMNS = 2000
MAX_HEADER_BYTES = 64 * 1024
TOO_MANY_COLUMNS = "too_many_columns"


@dataclass(frozen=True)
class Record:
    row: int
    values: tuple[str, ...]


@dataclass
class Table:
    columns: list[str]
    records: list[Record]
    errors: list[RowError] = field(default_factory=list)
    encoding: str | None = None

    def index(self, column: str) -> int:
        return self.columns.index(column)

    def cell(self, record: Record, column_index: int) -> str:
        return record.values[column_index] if column_index < len(record.values) else ""


def detect_format(filename: str | None, data: bytes) -> str:
    name = (filename or "").lower()
    if name.endswith((".xlsx", ".xlsm")) or data.startswith(_XLSX_MAGIC):
        return "xlsx"
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".xls"):
        raise FileProblem("unsupported_format", "legacy .xls files are not supported; save as .xlsx or CSV")
    return "csv"


def read_table(data: bytes, filename: str | None = None, file_format: str | None = None) -> Table:
    chosen = file_format or detect_format(filename, data)
    if chosen == "xlsx":
        return read_xlsx(data)
    if chosen == "jsonl":
        return read_jsonl(data)
    if chosen == "csv":
        return read_csv(data)
    raise FileProblem("unsupported_format", f"unknown format {chosen!r}; expected one of {', '.join(FORMATS)}")


def check_csv_header(data: bytes) -> None:
    """Refuse a CSV whose header line is too long or too wide, from the raw bytes, before decoding
    or any per-column work (a 2 MB header of 200,000 columns must be answered at once).

    The header is the first line with content. Delimiters inside double quotes do not count; the
    bytes of a delimiter (`,` TAB `;`) and of `"` never occur inside a UTF-8 or GB18030 character."""
    start = len(UTF8_BOM) if data.startswith(UTF8_BOM) else 0
    while True:
        end = data.find(b"\n", start, start + MAX_HEADER_BYTES + 1)
        if end == -1:
            if len(data) - start > MAX_HEADER_BYTES:
                raise FileProblem(TOO_MANY_COLUMNS, f"the header line is longer than {MAX_HEADER_BYTES} bytes: "
                                                    f"at most {MAX_COLUMNS} columns are accepted")
            end = len(data)
        line = data[start:end]
        if line.strip(b" \t\r,;"):
            break
        if end >= len(data):
            return  # no header at all: the parser says so
        start = end + 1
    delimiter = b"," if b"," in line else (b"\t" if b"\t" in line else (b";" if b";" in line else b","))
    columns = 1 + sum(part.count(delimiter) for part in line.split(b'"')[::2])
    if columns > MAX_COLUMNS:
        raise FileProblem(TOO_MANY_COLUMNS, f"the header has {columns} columns; at most {MAX_COLUMNS} are accepted")


def _check_width(cells: int, row: int) -> None:
    if cells > MAX_COLUMNS:
        raise FileProblem(TOO_MANY_COLUMNS, f"row {row} has {cells} cells; at most {MAX_COLUMNS} columns are accepted")


def _trimmed(row: list[str]) -> list[str]:
    """A row wider than the limit, without its trailing blank cells (Excel pads rows)."""
    end = len(row)
    while end and not str(row[end - 1]).strip():
        end -= 1
    return row[:end]


def read_csv(data: bytes) -> Table:
    check_csv_header(data)
    decoded = decode_text(data)
    text = decoded.text
    first_line = text.split("\n", 1)[0]
    delimiter = ","
    if "," not in first_line:
        delimiter = "\t" if "\t" in first_line else (";" if ";" in first_line else ",")
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
    except csv.Error as exc:
        raise FileProblem("malformed_csv", f"the CSV cannot be parsed: {exc}") from exc
    table = _from_rows(((number, row) for number, row in enumerate(rows, start=1)))
    table.encoding = decoded.encoding
    return table


def read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook  # file-format library only; imported when an XLSX arrives

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a damaged file
        raise FileProblem("malformed_xlsx", f"the XLSX workbook cannot be opened: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        # openpyxl pads every row to the sheet's declared width (formatting can stretch it to 16,384
        # columns): read at most one column past the limit; a value there is refused in _from_rows.
        max_col = min(sheet.max_column or MAX_COLUMNS + 1, MAX_COLUMNS + 1)
        rows = (
            (number, [_xlsx_text(value) for value in row])
            for number, row in enumerate(sheet.iter_rows(max_col=max_col, values_only=True), start=1)
        )
        return _from_rows(rows)
    finally:
        workbook.close()


def read_jsonl(data: bytes) -> Table:
    decoded = decode_text(data)
    columns: dict[str, None] = {}  # insertion-ordered set: the keys in order of first appearance
    objects: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    for number, line in enumerate(decoded.text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, parse_float=str, parse_int=str)
        except json.JSONDecodeError as exc:
            errors.append(RowError(number, "", line[:200], "invalid_json", f"not a JSON object: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            errors.append(RowError(number, "", line[:200], "invalid_json", "each line must be a JSON object"))
            continue
        for key in obj:
            columns.setdefault(key)
        _check_width(len(columns), number)
        objects.append((number, {key: _json_text(value) for key, value in obj.items()}))
    records = [Record(number, tuple(cells.get(column, "") for column in columns)) for number, cells in objects]
    return Table(list(columns), records, errors, decoded.encoding)


def _from_rows(rows: Iterator[tuple[int, list[str]]]) -> Table:
    header: list[str] | None = None
    records: list[Record] = []
    for number, row in rows:
        if len(row) > MAX_COLUMNS:
            row = _trimmed(row)
            _check_width(len(row), number)
        cells = tuple(map(str.strip, row))
        if not any(cells):
            continue
        if header is None:
            header = list(cells)
            continue
        records.append(Record(number, cells))
    if header is None:
        raise FileProblem("empty_file", "the file has no header row and no data")
    return _name_columns(header, records)


def _name_columns(header: list[str], records: list[Record]) -> Table:
    """Linear in the cells: an unnamed column is kept only if some row fills it."""
    width = max([len(header), *(len(record.values) for record in records)])
    header = header + [""] * (width - len(header))
    filled: set[int] = set()
    if not all(header):
        for record in records:
            filled.update(index for index, value in enumerate(record.values) if value)
    keep = [index for index, name in enumerate(header) if name or index in filled]
    columns = [header[index] or f"column_{index + 1}" for index in keep]
    duplicates = sorted(name for name, count in Counter(columns).items() if count > 1)
    if duplicates:
        raise FileProblem("duplicate_columns", f"the header repeats column(s): {', '.join(duplicates)}")
    if keep != list(range(len(header))):
        records = [
            Record(record.row, tuple(record.values[i] if i < len(record.values) else "" for i in keep))
            for record in records
        ]
    return Table(columns, records)


def _xlsx_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).strip()


def _json_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
