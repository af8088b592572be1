"""What goes wrong while reading an import: one row, or the whole file."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    """One rejected row (or cell), reported back to the planner exactly as it appeared in the file.

    `row` is the row number the planner sees in a spreadsheet: the header is row 1 in CSV/XLSX, the
    first line is row 1 in JSON lines. `code` is stable for machines; `reason` is for people.
    """

    row: int
    column: str
    value: str
    code: str
    reason: str


class FileProblem(Exception):
    """The file cannot be read at all (encoding, format, missing columns): one clear explanation."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
