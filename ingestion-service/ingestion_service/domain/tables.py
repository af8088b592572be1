"""A file read into rows of text cells: CSV, XLSX or JSON lines, whatever the upload was.

Every cell is text (blank = ""), so one set of parsers serves every format. Row numbers are the
ones the planner sees: in CSV/XLSX the header is row 1; in JSON lines the first line is row 1.
Rows whose cells are all blank (trailing blank rows, spacer rows) are skipped.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

from ingestion_service.domain.encoding import decode_text
from ingestion_service.domain.problems import FileProblem, RowError

FORMATS = ("csv", "xlsx", "jsonl")
_XLSX_MAGIC = b"PK\x03\x04"


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


def read_csv(data: bytes) -> Table:
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
        rows = (
            (number, [_xlsx_text(value) for value in row])
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        return _from_rows(rows)
    finally:
        workbook.close()


def read_jsonl(data: bytes) -> Table:
    decoded = decode_text(data)
    columns: list[str] = []
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
            if key not in columns:
                columns.append(key)
        objects.append((number, {key: _json_text(value) for key, value in obj.items()}))
    records = [Record(number, tuple(cells.get(column, "") for column in columns)) for number, cells in objects]
    return Table(columns, records, errors, decoded.encoding)


def _from_rows(rows: Iterator[tuple[int, list[str]]]) -> Table:
    header: list[str] | None = None
    records: list[Record] = []
    for number, row in rows:
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
    width = max([len(header), *(len(record.values) for record in records)])
    header = header + [""] * (width - len(header))
    keep: list[int] = []
    for index, name in enumerate(header):
        if name or any(index < len(record.values) and record.values[index] for record in records):
            keep.append(index)
    columns = [header[index] or f"column_{index + 1}" for index in keep]
    duplicates = sorted({name for name in columns if columns.count(name) > 1})
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
