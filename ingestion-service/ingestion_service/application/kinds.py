"""The kinds of import, what each needs from master data, and how its file is read and parsed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ingestion_service.domain.cities import CityDirectory, RegionMap
from ingestion_service.domain.columns import OUTLET_ID, resolve_columns
from ingestion_service.domain.facts import Outlet, Parsed
from ingestion_service.domain.open_meteo import open_meteo_table
from ingestion_service.domain.parse_fulfilment import FULFILMENT_COLUMNS, parse_fulfilment
from ingestion_service.domain.parse_reference import CITY_COLUMNS, OUTLET_COLUMNS, parse_cities, parse_outlets
from ingestion_service.domain.parse_sales import (
    SALES_LONG_COLUMNS,
    parse_sales_long,
    parse_sales_wide,
    wide_day_columns,
)
from ingestion_service.domain.parse_weather import (
    WARNING_COLUMNS,
    WEATHER_COLUMNS,
    parse_weather,
    parse_weather_warnings,
)
from ingestion_service.domain.problems import FileProblem
from ingestion_service.domain.tables import Table, read_table

OPEN_METEO = "open_meteo"


@dataclass(frozen=True)
class MasterData:
    regions: RegionMap
    directory: CityDirectory
    outlets: Mapping[str, Outlet]


Parser = Callable[[Table, MasterData], Parsed]

PARSERS: dict[str, Parser] = {
    "cities": lambda table, m: parse_cities(table, m.regions),
    "outlets": lambda table, m: parse_outlets(table, m.directory),
    "sales_wide": lambda table, m: parse_sales_wide(table, m.outlets),
    "sales_long": lambda table, m: parse_sales_long(table, m.outlets, m.directory),
    "fulfilment": lambda table, m: parse_fulfilment(table, m.directory),
    "weather": lambda table, m: parse_weather(table, m.directory),
    "weather_warnings": lambda table, m: parse_weather_warnings(table, m.directory),
}
KINDS = tuple(PARSERS)
NEEDS_OUTLETS = {"sales_wide", "sales_long"}
_COLUMNS = {
    "cities": CITY_COLUMNS, "outlets": OUTLET_COLUMNS, "sales_long": SALES_LONG_COLUMNS,
    "fulfilment": FULFILMENT_COLUMNS, "weather": WEATHER_COLUMNS, "weather_warnings": WARNING_COLUMNS,
}


def require_kind(kind: str) -> str:
    if kind not in PARSERS:
        raise FileProblem("unknown_kind", f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    return kind


def read_upload(data: bytes, filename: str | None, file_format: str | None, options: Mapping[str, str]) -> Table:
    if file_format == OPEN_METEO:
        return open_meteo_table(data, options.get("city", ""), options.get("weather_kind", "observation"),
                                options.get("issued_on"))
    return read_table(data, filename, file_format)


def check_shape(kind: str, table: Table) -> None:
    """The whole-file checks that can answer at upload time: the columns the kind needs are there."""
    if kind == "sales_wide":
        index = resolve_columns(table, (OUTLET_ID,))["outlet_id"]
        wide_day_columns(table, index)
    else:
        resolve_columns(table, _COLUMNS[kind])
