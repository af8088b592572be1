"""Master data: cities (adcode, name, province → region, coordinates, GDP) and outlets."""

from __future__ import annotations

import re
from decimal import Decimal

from ingestion_service.domain.cities import City, CityDirectory, RegionMap
from ingestion_service.domain.columns import CITY, OUTLET_ID, Column, resolve_columns
from ingestion_service.domain.dates import parse_date
from ingestion_service.domain.facts import Outlet, Parsed
from ingestion_service.domain.numbers import normalize_text, parse_decimal
from ingestion_service.domain.row_reader import RowReader
from ingestion_service.domain.tables import Table

CITY_COLUMNS = (
    Column("code", ("city_adcode", "adcode", "city_code", "城市代码", "行政区划代码")),
    Column("name", ("city", "city_name", "城市", "城市名称")),
    Column("province", ("省份", "省")),
    Column("alias", ("aliases", "koubei_city_name", "别名"), required=False),
    Column("lng", ("longitude", "lon", "经度"), required=False),
    Column("lat", ("latitude", "纬度"), required=False),
    Column("gdp", ("gdp_100m_cny", "gdp_2010_100m_cny", "GDP(亿元)", "GDP"), required=False),
    Column("gdp_growth", ("GDP增速", "gdp增长率"), required=False),
)
OUTLET_COLUMNS = (
    OUTLET_ID,
    CITY,
    Column("channel", ("cate_1_name", "category", "渠道", "品类")),
    Column("opened_on", ("open_date", "opened", "开业日期"), required=False),
)
_ADCODE = re.compile(r"^\d{6}$")
_ALIAS_SEPARATORS = re.compile(r"[|;；、]")


def parse_percent_or_fraction(value: str) -> Decimal | None:
    """`8.5%` → 0.085; a plain number is already a fraction (0.085)."""
    text = normalize_text(value)
    if text.endswith("%"):
        number = parse_decimal(text[:-1])
        return None if number is None else number / 100
    return parse_decimal(text)


def parse_cities(table: Table, regions: RegionMap) -> Parsed[City]:
    columns = resolve_columns(table, CITY_COLUMNS)
    reader = RowReader(table, columns)
    parsed: Parsed[City] = Parsed(errors=list(table.errors))
    for record in table.records:
        parsed.rows_read += 1
        reader.start(record)
        code = normalize_text(reader.required_text("code"))
        if code and not _ADCODE.match(code):
            reader.reject("code", "invalid_city_code", f"a city code is a 6-digit adcode, not {code!r}")
        name = normalize_text(reader.required_text("name"))
        province = normalize_text(reader.required_text("province"))
        region = regions.region_of(province) if province else None
        if province and region is None:
            reader.reject("province", "unknown_province",
                          f"no region is configured for province {province}")
        lng = reader.parse("lng", parse_decimal, "invalid_number")
        lat = reader.parse("lat", parse_decimal, "invalid_number")
        gdp = reader.parse("gdp", parse_decimal, "invalid_number")
        growth = reader.parse("gdp_growth", parse_percent_or_fraction, "invalid_number")
        aliases = tuple(
            alias for alias in (normalize_text(a) for a in _ALIAS_SEPARATORS.split(reader.text("alias")))
            if alias and alias != name
        )
        if reader.errors:
            parsed.errors.extend(reader.errors)
            continue
        parsed.facts.append(
            (record.row, City(code, name, province, region or "", lng, lat, gdp, growth, aliases))
        )
    return parsed


def parse_outlets(table: Table, cities: CityDirectory) -> Parsed[Outlet]:
    columns = resolve_columns(table, OUTLET_COLUMNS)
    used = {index for index in columns.values() if index is not None}
    extra = [(index, name) for index, name in enumerate(table.columns) if index not in used]
    reader = RowReader(table, columns)
    parsed: Parsed[Outlet] = Parsed(errors=list(table.errors))
    for record in table.records:
        parsed.rows_read += 1
        reader.start(record)
        outlet_id = normalize_text(reader.required_text("outlet_id"))
        city_name = reader.required_text("city")
        match = cities.resolve(city_name) if city_name else None
        if match is not None and match.city is None:
            reader.reject("city", "unknown_city", match.reason)
        channel = normalize_text(reader.required_text("channel"))
        opened_on = reader.parse("opened_on", parse_date, "invalid_date")
        attributes = tuple(
            sorted((name, table.cell(record, index)) for index, name in extra if table.cell(record, index))
        )
        if reader.errors or match is None or match.city is None:
            parsed.errors.extend(reader.errors)
            continue
        parsed.facts.append((record.row, Outlet(outlet_id, match.city.code, channel, opened_on, attributes)))
    return parsed
