"""CRM daily sales, in the long layout (one row per fact) and the wide one (one column per day).

The outlet decides the city and the channel (its category, e.g. koubei's cate_1_name). In the long
layout a row may name an outlet not yet imported if it also gives the city and the channel.
"""

from __future__ import annotations

from collections.abc import Mapping

from ingestion_service.domain.cities import CityDirectory
from ingestion_service.domain.columns import CITY, DAY, OUTLET_ID, Column, resolve_columns
from ingestion_service.domain.dates import DateError, parse_date
from ingestion_service.domain.facts import Outlet, Parsed, SalesFact
from ingestion_service.domain.numbers import NumberError, normalize_text, parse_count, parse_decimal
from ingestion_service.domain.problems import FileProblem, RowError
from ingestion_service.domain.row_reader import RowReader
from ingestion_service.domain.tables import Table

SALES_LONG_COLUMNS = (
    DAY,
    OUTLET_ID,
    Column("orders", ("pay_count", "order_count", "订单数", "笔数", "客流")),
    Column("revenue", ("sales_amount", "amount", "销售额", "金额"), required=False),
    Column("units", ("quantity", "数量", "件数"), required=False),
    Column("channel", ("cate_1_name", "渠道", "品类"), required=False),
    Column(CITY.name, CITY.aliases, required=False),
)


def parse_sales_long(table: Table, outlets: Mapping[str, Outlet], cities: CityDirectory) -> Parsed[SalesFact]:
    columns = resolve_columns(table, SALES_LONG_COLUMNS)
    reader = RowReader(table, columns)
    parsed: Parsed[SalesFact] = Parsed(errors=list(table.errors))
    for record in table.records:
        parsed.rows_read += 1
        reader.start(record)
        day = reader.parse("day", parse_date, "invalid_date", required=True)
        outlet_id = normalize_text(reader.required_text("outlet_id"))
        orders = reader.parse("orders", parse_count, "invalid_count", required=True)
        revenue = reader.parse("revenue", parse_decimal, "invalid_number")
        units = reader.parse("units", parse_count, "invalid_count")
        channel = normalize_text(reader.text("channel"))
        outlet = outlets.get(outlet_id)
        city_code = _city_of(reader, outlet, outlet_id, cities)
        if outlet is not None and not channel:
            channel = outlet.channel
        if outlet_id and outlet is None and not channel:
            reader.reject("channel", "missing_value", "give the channel or import the outlet first")
        if reader.errors or city_code is None:
            parsed.errors.extend(reader.errors)
            continue
        parsed.facts.append((record.row, SalesFact(day, outlet_id, channel, city_code, orders, revenue, units)))
    return parsed


def _city_of(reader: RowReader, outlet: Outlet | None, outlet_id: str, cities: CityDirectory) -> str | None:
    given = reader.text("city")
    match = cities.resolve(given) if given else None
    if match is not None and match.city is None:
        reader.reject("city", "unknown_city", match.reason)
        return None
    if outlet is not None:
        if match is not None and match.city is not None and match.city.code != outlet.city_code:
            reader.reject("city", "city_mismatch",
                          f"outlet {outlet_id} belongs to city {outlet.city_code}, not {match.city.code}")
            return None
        return outlet.city_code
    if match is None:
        if outlet_id:
            reader.reject("outlet_id", "unknown_outlet",
                          f"unknown outlet {outlet_id}: import the outlets first or give its city and channel")
        return None
    return match.city.code


def parse_sales_wide(table: Table, outlets: Mapping[str, Outlet]) -> Parsed[SalesFact]:
    """shop_id, then one column per date; a blank cell means no sales that day (no fact)."""
    columns = resolve_columns(table, (OUTLET_ID,))
    id_index = columns["outlet_id"]
    assert id_index is not None
    day_columns = wide_day_columns(table, id_index)
    parsed: Parsed[SalesFact] = Parsed(errors=list(table.errors))
    add = parsed.facts.append
    id_header = table.columns[id_index]
    for record in table.records:
        parsed.rows_read += 1
        values = record.values
        outlet_id = normalize_text(values[id_index]) if id_index < len(values) else ""
        outlet = outlets.get(outlet_id)
        if outlet is None:
            reason = f"{id_header} is required" if not outlet_id else (
                f"unknown outlet {outlet_id}: import the outlets first")
            parsed.errors.append(RowError(record.row, id_header, outlet_id,
                                          "missing_value" if not outlet_id else "unknown_outlet", reason))
            continue
        channel, city_code, row = outlet.channel, outlet.city_code, record.row
        width = len(values)
        for index, day in day_columns:
            cell = values[index] if index < width else ""
            if not cell:
                continue
            if cell.isdigit() and cell.isascii():  # the common case, as parse_count's first test
                orders = int(cell)
            else:
                try:
                    orders = parse_count(cell)
                except NumberError as exc:
                    parsed.errors.append(RowError(row, table.columns[index], cell, "invalid_count", str(exc)))
                    continue
                if orders is None:
                    continue
            add((row, SalesFact(day, outlet_id, channel, city_code, orders)))
    return parsed


def wide_day_columns(table: Table, id_index: int) -> list[tuple[int, object]]:
    days = []
    not_dates = []
    for index, header in enumerate(table.columns):
        if index == id_index:
            continue
        try:
            day = parse_date(header)
        except DateError:
            day = None
        if day is None:
            not_dates.append(header)
        else:
            days.append((index, day))
    if not_dates:
        raise FileProblem("not_a_date_column",
                          f"in the wide layout every column after the outlet id is a date; not dates: "
                          f"{', '.join(not_dates[:10])}")
    seen = [day for _, day in days]
    if len(set(seen)) != len(seen):
        raise FileProblem("duplicate_columns", "the wide layout names the same date in two columns")
    return days
