"""Stored facts per kind: read the values a re-import compares against, write new revisions in bulk.

One `FactStore` per kind knows its table, its natural key columns and how a fact becomes a row.
Writes are bulk `executemany` statements (no per-row round trips).
"""

from __future__ import annotations

import json
import operator
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import BigInteger, Date, Integer, String, Table, and_, bindparam, select
from sqlalchemy.orm import Session

from ingestion_service.adapters import tables as t
from ingestion_service.domain.cities import City
from ingestion_service.domain.facts import (
    FulfilmentFact,
    Outlet,
    SalesFact,
    WeatherFact,
    WeatherWarningFact,
)
from ingestion_service.domain.revisions import Revised, Stored
from shared.db import ExactDecimal

Row = dict[str, Any]


@dataclass(frozen=True)
class FactStore:
    table: Table
    key_columns: tuple[str, ...]
    to_row: Callable[[Any], Row]
    key_of_row: Callable[[Any], tuple]
    value_of_row: Callable[[Any], tuple]
    by_day: bool = False  # read only the days the import covers
    # Optional fast path for large first imports: the fact's columns as a tuple (`values_columns`
    # in this order), straight into COPY without a dict per row.
    values_of: Callable[[Any], tuple] | None = None
    values_columns: tuple[str, ...] = ()

    def load(self, session: Session, facts: Sequence[Any]) -> dict[tuple, Stored]:
        if not facts:
            return {}
        days = (min(f.day for f in facts), max(f.day for f in facts)) if self.by_day else None
        if session.bind.dialect.name == "sqlite" and _plain(self.table):
            rows = _read_sqlite(session, self.table, days)
        else:
            query = select(self.table)
            if days is not None:
                query = query.where(self.table.c.day.between(*days))
            rows = session.execute(query)
        return {self.key_of_row(row): Stored(self.value_of_row(row), row.revision) for row in rows}

    def write(self, session: Session, revised: Sequence[Revised], job_id: str | None, now) -> None:
        row_of = self._row_maker(job_id, now)
        firsts = [item for item in revised if item.revision == 1]
        changed = [row_of(item) for item in revised if item.revision > 1]
        if firsts and not self._copy_values(session, firsts, job_id, now):
            bulk_insert(session, self.table, [row_of(item) for item in firsts])
        if changed:
            names = [column.name for column in self.table.columns]
            keyed = [{f"{'k' if name in self.key_columns else 'v'}_{name}": value for name, value in row.items()}
                     for row in changed]
            statement = (
                self.table.update()
                .where(and_(*(self.table.c[k] == bindparam(f"k_{k}") for k in self.key_columns)))
                .values({name: bindparam(f"v_{name}") for name in names if name not in self.key_columns})
            )
            session.connection().execute(statement, keyed)

    def _copy_values(self, session: Session, items: Sequence[Revised], job_id: str | None, now) -> bool:
        """COPY the items as tuples (no dict per row) when this store can; False: not done."""
        if (self.values_of is None or len(items) < BULK_THRESHOLD or session.bind.dialect.name != "postgresql"
                or copy_types(self.table) is None):
            return False
        extra: Row = {}
        if self._has_job_id:
            extra["job_id"] = job_id
        if self._has_updated_at:
            extra["updated_at"] = now
        names = [*self.values_columns, "revision", *extra]
        if set(names) != {column.name for column in self.table.columns}:
            return False
        tail = tuple(extra.values())
        values_of = self.values_of
        copy_rows(session, self.table, names, ((*values_of(item.fact), item.revision, *tail) for item in items))
        return True

    def _row(self, item: Revised, job_id: str | None, now) -> Row:
        return self._row_maker(job_id, now)(item)

    def _row_maker(self, job_id: str | None, now) -> Callable[[Revised], Row]:
        """fact → row, with the table's bookkeeping columns decided once (not per row)."""
        to_row = self.to_row
        extra: Row = {}
        if self._has_job_id:
            extra["job_id"] = job_id
        if self._has_updated_at:
            extra["updated_at"] = now

        def row_of(item: Revised) -> Row:
            row = to_row(item.fact)
            row["revision"] = item.revision
            row.update(extra)
            return row

        return row_of

    @property
    def _has_job_id(self) -> bool:
        return _has_column(self.table, "job_id")

    @property
    def _has_updated_at(self) -> bool:
        return _has_column(self.table, "updated_at")


@lru_cache(maxsize=64)
def _has_column(table: Table, name: str) -> bool:
    return name in table.c


BULK_THRESHOLD = 2000
_PLAIN_TYPES = (Date, Integer, String, ExactDecimal)


def bulk_insert(session: Session, table: Table, rows: list[Row]) -> None:
    """Insert many rows in one round trip per chunk: COPY on PostgreSQL, executemany on SQLite.

    Used for tables of dates, text, integers and exact decimals (no instants); smaller or other
    inserts go through SQLAlchemy's executemany.
    """
    if len(rows) < BULK_THRESHOLD or not _plain(table):
        session.execute(table.insert(), rows)
        return
    names = [column.name for column in table.columns]
    dbapi = session.connection().connection.driver_connection
    dialect = session.bind.dialect.name
    if dialect == "postgresql":
        getter = _values_getter(names)
        copy_rows(session, table, names, (getter(row) for row in rows))
        return
    getter = operator.itemgetter(*names)
    values = [getter(row) for row in rows]
    decimals = [i for i, column in enumerate(table.columns) if isinstance(column.type, ExactDecimal)]
    if decimals:
        values = [_decimals_as_text(value, decimals) for value in values]
    cursor = dbapi.cursor()
    try:
        cursor.execute("PRAGMA cache_size=-131072")  # 128 MiB: index pages stay in memory during the load
        cursor.executemany(statement_for(table, names), values)
    finally:
        cursor.close()


def copy_rows(session: Session, table: Table, names: Sequence[str], values: Iterable[tuple]) -> None:
    """COPY tuples (values of `names`, in that order) into the table on PostgreSQL. Binary COPY with
    the column types declared once: psycopg then packs each row in C without looking a dumper up per
    value (~2.5x faster than text COPY with per-row lists of values)."""
    types = copy_types(table)
    by_name = dict(zip([column.name for column in table.columns], types or (), strict=False))
    quoted = ", ".join(f'"{name}"' for name in names)
    options = " (FORMAT BINARY)" if types else ""
    dbapi = session.connection().connection.driver_connection
    with dbapi.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN{options}') as copy:
        if types:
            copy.set_types([by_name[name] for name in names])
        write_row = copy.write_row
        for row in values:
            write_row(row)


def copy_types(table: Table) -> list[str] | None:
    """PostgreSQL type names for a binary COPY into the table (None: a column type not mapped here)."""
    names = []
    for column in table.columns:
        kind = column.type
        if isinstance(kind, ExactDecimal):
            names.append("numeric")
        elif isinstance(kind, BigInteger):
            names.append("int8")
        elif isinstance(kind, Integer):
            names.append("int4")
        elif isinstance(kind, Date):
            names.append("date")
        elif isinstance(kind, String):
            names.append("text")
        else:
            return None
    return names


def _values_getter(names: list[str]) -> Callable[[Row], tuple]:
    """row → its values in column order (a missing optional column gives None)."""
    getter = operator.itemgetter(*names)

    def values(row: Row) -> tuple:
        try:
            found = getter(row)
        except KeyError:
            return tuple(row.get(name) for name in names)
        return found if len(names) > 1 else (found,)

    return values


def statement_for(table: Table, names: list[str]) -> str:
    return f'INSERT INTO "{table.name}" ({", ".join(names)}) VALUES ({", ".join("?" for _ in names)})'


def _decimals_as_text(value: tuple, indexes: list[int]) -> tuple:
    if all(value[i] is None for i in indexes):
        return value
    converted = list(value)
    for i in indexes:
        if converted[i] is not None:
            converted[i] = format(Decimal(converted[i]), "f")
    return tuple(converted)


def _plain(table: Table) -> bool:
    return all(isinstance(column.type, _PLAIN_TYPES) for column in table.columns)


# SQLAlchemy stores a Date on SQLite as ISO text; the raw paths below write and read the same text.
sqlite3.register_adapter(date, date.isoformat)


@lru_cache(maxsize=8192)
def _iso_day(text: str) -> date:
    return date.fromisoformat(text)


@lru_cache(maxsize=32)
def _row_type(table_name: str, names: tuple[str, ...]):
    return namedtuple(f"{table_name}_row", names)


def _read_sqlite(session: Session, table: Table, days: tuple[date, date] | None) -> Iterator[Any]:
    """Read a plain table with the DB-API cursor: SQLAlchemy's per-value processing of 600k rows on
    SQLite is the slow part of a re-import."""
    names = [column.name for column in table.columns]
    sql = f'SELECT {", ".join(names)} FROM "{table.name}"'
    params: tuple = ()
    if days is not None:
        sql += " WHERE day BETWEEN ? AND ?"
        params = (days[0].isoformat(), days[1].isoformat())
    row_type = _row_type(table.name, tuple(names))
    dates = [i for i, column in enumerate(table.columns) if isinstance(column.type, Date)]
    decimals = [i for i, column in enumerate(table.columns) if isinstance(column.type, ExactDecimal)]
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        cursor.execute(sql, params)
        for raw in cursor:
            values = list(raw)
            for i in dates:
                if values[i] is not None:
                    values[i] = _iso_day(values[i])
            for i in decimals:
                if values[i] is not None:
                    values[i] = Decimal(values[i])
            yield row_type(*values)
    finally:
        cursor.close()


def _outlet_row(outlet: Outlet) -> Row:
    return {"outlet_id": outlet.outlet_id, "city_code": outlet.city_code, "channel": outlet.channel,
            "opened_on": outlet.opened_on, "attributes": json.dumps(dict(outlet.attributes), ensure_ascii=False)}


def outlet_from_row(row) -> Outlet:
    attributes = tuple(sorted(json.loads(row.attributes or "{}").items()))
    return Outlet(row.outlet_id, row.city_code, row.channel, row.opened_on, attributes)


def _city_row(city: City) -> Row:
    return {"code": city.code, "name": city.name, "province": city.province, "region": city.region,
            "lng": city.lng, "lat": city.lat, "gdp_100m_cny": city.gdp_100m_cny, "gdp_growth": city.gdp_growth,
            "aliases": "|".join(sorted(city.aliases))}


def city_from_row(row) -> City:
    aliases = tuple(sorted(alias for alias in (row.aliases or "").split("|") if alias))
    return City(row.code, row.name, row.province, row.region, row.lng, row.lat, row.gdp_100m_cny,
                row.gdp_growth, aliases)


CITY_STORE = FactStore(
    t.cities, ("code",), _city_row,
    key_of_row=lambda row: (row.code,),
    value_of_row=lambda row: city_from_row(row).value,
)
OUTLET_STORE = FactStore(
    t.outlets, ("outlet_id",), _outlet_row,
    key_of_row=lambda row: (row.outlet_id,),
    value_of_row=lambda row: outlet_from_row(row).value,
)
SALES_STORE = FactStore(
    t.sales_facts, ("day", "outlet_id", "channel"),
    lambda f: {"day": f.day, "outlet_id": f.outlet_id, "channel": f.channel, "city_code": f.city_code,
               "orders": f.orders, "revenue": f.revenue, "units": f.units},
    key_of_row=lambda row: (row.day, row.outlet_id, row.channel),
    value_of_row=lambda row: (row.orders, row.revenue, row.units),
    by_day=True,
    values_of=lambda f: (f.day, f.outlet_id, f.channel, f.city_code, f.orders, f.revenue, f.units),
    values_columns=("day", "outlet_id", "channel", "city_code", "orders", "revenue", "units"),
)
FULFILMENT_STORE = FactStore(
    t.fulfilment_facts, ("day", "dealer_id"),
    lambda f: {"day": f.day, "dealer_id": f.dealer_id, "city_code": f.city_code,
               "quantity_ordered": f.quantity_ordered, "quantity_delivered": f.quantity_delivered},
    key_of_row=lambda row: (row.day, row.dealer_id),
    value_of_row=lambda row: (row.city_code, row.quantity_ordered, row.quantity_delivered),
    by_day=True,
)
WEATHER_STORE = FactStore(
    t.weather_facts, ("city_code", "day", "kind", "issued_key"),
    lambda f: {"city_code": f.city_code, "day": f.day, "kind": f.kind,
               "issued_key": f.issued_on.isoformat() if f.issued_on else "", "issued_on": f.issued_on,
               "tmax_c": f.tmax_c, "tmin_c": f.tmin_c, "text": f.text, "wind": f.wind},
    key_of_row=lambda row: (row.city_code, row.day, row.kind, row.issued_on),
    value_of_row=lambda row: (row.tmax_c, row.tmin_c, row.text, row.wind),
    by_day=True,
)
WARNING_STORE = FactStore(
    t.weather_warnings, ("warning_id",),
    lambda f: {"warning_id": f.warning_id, "city_code": f.city_code, "warning_type": f.warning_type,
               "level": f.level, "valid_from": f.valid_from, "valid_to": f.valid_to},
    key_of_row=lambda row: (row.warning_id,),
    value_of_row=lambda row: (row.city_code, row.warning_type, row.level, row.valid_from, row.valid_to),
)

STORES: dict[type, FactStore] = {
    City: CITY_STORE, Outlet: OUTLET_STORE, SalesFact: SALES_STORE, FulfilmentFact: FULFILMENT_STORE,
    WeatherFact: WEATHER_STORE, WeatherWarningFact: WARNING_STORE,
}
