"""Find the columns a kind of import needs, under the names real exports give them."""

from __future__ import annotations

from dataclasses import dataclass

from ingestion_service.domain.numbers import normalize_text
from ingestion_service.domain.problems import FileProblem
from ingestion_service.domain.tables import Table


@dataclass(frozen=True)
class Column:
    name: str
    aliases: tuple[str, ...]
    required: bool = True


def _normal(name: str) -> str:
    return normalize_text(name).lower().replace(" ", "_")


def resolve_columns(table: Table, wanted: tuple[Column, ...]) -> dict[str, int | None]:
    """Map each wanted column to its index in the table (None when an optional one is absent)."""
    by_normal = {_normal(column): index for index, column in enumerate(table.columns)}
    found: dict[str, int | None] = {}
    missing: list[str] = []
    for column in wanted:
        index = next(
            (by_normal[_normal(alias)] for alias in (column.name, *column.aliases) if _normal(alias) in by_normal),
            None,
        )
        if index is None and column.required:
            missing.append(f"{column.name} (or {' / '.join(column.aliases)})" if column.aliases else column.name)
        found[column.name] = index
    if missing:
        shown = ", ".join(table.columns[:_SHOWN_COLUMNS])
        if len(table.columns) > _SHOWN_COLUMNS:
            shown += f", … ({len(table.columns)} columns in all)"
        raise FileProblem("missing_columns", f"missing column(s): {'; '.join(missing)}. Found: {shown}")
    return found


_SHOWN_COLUMNS = 50


CITY = Column("city", ("city_name", "city_code", "城市", "城市名称", "城市代码"))
DAY = Column("day", ("date", "日期", "业务日期"))
OUTLET_ID = Column("outlet_id", ("shop_id", "store_id", "门店编号", "门店id", "门店"))
