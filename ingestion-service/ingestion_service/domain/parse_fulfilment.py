"""ERP dealer fulfilment: what a dealer ordered and what was delivered, per day."""

from __future__ import annotations

from ingestion_service.domain.cities import CityDirectory
from ingestion_service.domain.columns import CITY, DAY, Column, resolve_columns
from ingestion_service.domain.dates import parse_date
from ingestion_service.domain.facts import FulfilmentFact, Parsed
from ingestion_service.domain.numbers import normalize_text, parse_count
from ingestion_service.domain.row_reader import RowReader
from ingestion_service.domain.tables import Table

FULFILMENT_COLUMNS = (
    Column("dealer_id", ("dealer", "经销商编号", "经销商", "经销商id")),
    CITY,
    DAY,
    Column("quantity_ordered", ("ordered", "qty_ordered", "订货量", "订单数量")),
    Column("quantity_delivered", ("delivered", "qty_delivered", "发货量", "交付数量")),
)


def parse_fulfilment(table: Table, cities: CityDirectory) -> Parsed[FulfilmentFact]:
    reader = RowReader(table, resolve_columns(table, FULFILMENT_COLUMNS))
    parsed: Parsed[FulfilmentFact] = Parsed(errors=list(table.errors))
    for record in table.records:
        parsed.rows_read += 1
        reader.start(record)
        dealer_id = normalize_text(reader.required_text("dealer_id"))
        city_name = reader.required_text("city")
        match = cities.resolve(city_name) if city_name else None
        if match is not None and match.city is None:
            reader.reject("city", "unknown_city", match.reason)
        day = reader.parse("day", parse_date, "invalid_date", required=True)
        ordered = reader.parse("quantity_ordered", parse_count, "invalid_count", required=True)
        delivered = reader.parse("quantity_delivered", parse_count, "invalid_count", required=True)
        if reader.errors or match is None or match.city is None:
            parsed.errors.extend(reader.errors)
            continue
        parsed.facts.append((record.row, FulfilmentFact(day, dealer_id, match.city.code, ordered, delivered)))
    return parsed
