"""Read one record's cells by column name, collecting every problem the row has."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ingestion_service.domain.problems import RowError
from ingestion_service.domain.tables import Record, Table

T = TypeVar("T")


class RowReader:
    def __init__(self, table: Table, columns: dict[str, int | None]) -> None:
        self.table = table
        self.columns = columns
        self.record: Record | None = None
        self.errors: list[RowError] = []

    def start(self, record: Record) -> None:
        self.record = record
        self.errors = []

    @property
    def row(self) -> int:
        assert self.record is not None
        return self.record.row

    def header(self, name: str) -> str:
        index = self.columns.get(name)
        return self.table.columns[index] if index is not None else name

    def text(self, name: str) -> str:
        index = self.columns.get(name)
        if index is None or self.record is None:
            return ""
        return self.table.cell(self.record, index)

    def reject(self, name: str, code: str, reason: str, value: str | None = None) -> None:
        self.errors.append(RowError(self.row, self.header(name), self.text(name) if value is None else value,
                                    code, reason))

    def parse(self, name: str, parser: Callable[[str], T], code: str, *, required: bool = False) -> T | None:
        raw = self.text(name)
        try:
            result = parser(raw)
        except ValueError as exc:
            self.reject(name, code, str(exc))
            return None
        if result is None and required:
            self.reject(name, "missing_value", f"{self.header(name)} is required")
        return result

    def required_text(self, name: str) -> str:
        raw = self.text(name)
        if not raw:
            self.reject(name, "missing_value", f"{self.header(name)} is required")
        return raw
