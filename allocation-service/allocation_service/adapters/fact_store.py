"""Facts from ingestion: bulk upserts where the latest revision wins, and history loading."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from allocation_service.adapters.tables import cities, daily_sales, fulfilments, outlets
from allocation_service.domain.history import City, Fulfilment, SalesHistory, history_from_rows
from shared.db import set_based_upsert


def upsert(session: Session, table: Table, rows: Sequence[dict], keys: Sequence[str], revisioned: bool = False) -> None:
    """Insert or update by primary key; with `revisioned`, an older revision never overwrites a newer one
    (`ON CONFLICT … DO UPDATE … WHERE excluded.revision >= table.revision`).

    Set-based: a batch goes to the database as one statement (`shared.db.set_based_upsert`), not one
    statement per row. Rows repeating a key are reduced first as a row-by-row application would
    (`_latest`: the highest revision, the later one on a tie), since one statement may not touch
    a row twice.
    """
    if not rows:
        return
    rows = _latest(rows, keys) if len(rows) > 1 else list(rows)
    set_based_upsert(session, table, rows, keys, revisioned=revisioned)


def _latest(rows: Iterable[dict], keys: Sequence[str]) -> list[dict]:
    """One row per key inside a batch (the highest revision, the later one on a tie)."""
    chosen: dict[tuple, dict] = {}
    for row in rows:
        key = tuple(row[k] for k in keys)
        if key not in chosen or row.get("revision", 1) >= chosen[key].get("revision", 1):
            chosen[key] = row
    return list(chosen.values())


def sales_rows(city_code: str, sales: Iterable) -> list[dict]:
    return [
        {"outlet_id": s.outlet_id, "day": s.day, "city_code": city_code, "channel": s.channel, "orders": s.orders,
         "revenue": s.revenue, "units": s.units, "revision": s.revision}
        for s in sales
    ]


def upsert_sales(session: Session, rows: Sequence[dict]) -> None:
    """Facts in arrival order (several events' worth): per (outlet, day) the highest revision wins,
    the later one on a tie, as if applied one by one."""
    upsert(session, daily_sales, rows, ("outlet_id", "day"), revisioned=True)


def record_fulfilments(session: Session, city_code: str, items: Iterable) -> None:
    rows = [
        {"city_code": city_code, "dealer_id": f.dealer_id, "day": f.day, "quantity_ordered": f.quantity_ordered,
         "quantity_delivered": f.quantity_delivered, "revision": f.revision}
        for f in items
    ]
    keys = ("city_code", "dealer_id", "day")
    upsert(session, fulfilments, rows, keys, revisioned=True)


def record_outlets(session: Session, city_code: str, items: Iterable) -> None:
    rows = [{"outlet_id": o.outlet_id, "city_code": city_code, "channel": o.channel, "opened_on": o.opened_on} for o in items]
    upsert(session, outlets, rows, ("outlet_id",))


def record_cities(session: Session, items: Iterable) -> None:
    rows = [
        {"code": c.code, "name": c.name, "province": c.province, "region": c.region, "lng": c.lng, "lat": c.lat,
         "gdp_growth": c.gdp_growth}
        for c in items
    ]
    upsert(session, cities, rows, ("code",))


def load_cities(session: Session) -> dict[str, City]:
    return {
        row.code: City(row.code, row.name, row.region, row.province, row.lng, row.lat, row.gdp_growth)
        for row in session.execute(select(cities))
    }


def load_history(session: Session, first_day: date, last_day: date) -> SalesHistory:
    """Facts from first_day to last_day, plus every known outlet (some may not trade yet)."""
    rows = _fact_rows(session, first_day, last_day)
    outlet_rows = list(session.execute(select(outlets)))
    master = {row.outlet_id: (row.city_code, row.channel) for row in outlet_rows}
    opened = {row.outlet_id: row.opened_on for row in outlet_rows if row.opened_on}
    earliest = session.execute(select(func.min(daily_sales.c.day))).scalar()
    data_start = max(first_day, earliest) if earliest else first_day
    items = [
        Fulfilment(row.city_code, row.day, row.quantity_ordered, row.quantity_delivered)
        for row in session.execute(select(fulfilments).where(fulfilments.c.day >= first_day, fulfilments.c.day <= last_day))
    ]
    return history_from_rows(rows, data_start=data_start, data_end=last_day, opened_on=opened,
                             fulfilments=items, outlet_master=master)


_FACT_SQL = (
    "SELECT outlet_id, city_code, channel, day, orders, revenue, units FROM daily_sales "
    "WHERE day >= {p} AND day <= {p}"
)


def _fact_rows(session: Session, first_day: date, last_day: date) -> list[tuple]:
    """Plain tuples straight from the driver: ~10× faster than ORM rows for half a million facts."""
    connection = session.connection()
    raw = connection.connection.driver_connection
    cursor = raw.cursor()
    try:
        if connection.dialect.name == "sqlite":
            cursor.execute(_FACT_SQL.format(p="?"), (first_day.isoformat(), last_day.isoformat()))
            days: dict[str, date] = {}
            rows = []
            for outlet_id, city_code, channel, day, orders, revenue, units in cursor.fetchall():
                parsed = days.get(day)
                if parsed is None:
                    parsed = days[day] = date.fromisoformat(day)
                rows.append((outlet_id, city_code, channel, parsed, orders,
                             None if revenue is None else Decimal(revenue), units))
            return rows
        cursor.execute(_FACT_SQL.format(p="%s"), (first_day, last_day))
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def daily_actuals(
    session: Session, first_day: date, last_day: date, metric: str = "orders", city_codes: Iterable[str] | None = None
) -> dict[str, dict[date, Decimal]]:
    """city → day → actual of the metric (orders or units as counts; revenue summed as Decimal)."""
    conditions = [daily_sales.c.day >= first_day, daily_sales.c.day <= last_day]
    if city_codes is not None:
        conditions.append(daily_sales.c.city_code.in_(list(city_codes)))
    if metric == "revenue":
        query = select(daily_sales.c.city_code, daily_sales.c.day, daily_sales.c.revenue).where(
            *conditions, daily_sales.c.revenue.is_not(None)
        )
        result: dict[str, dict[date, Decimal]] = {}
        for code, day, value in session.execute(query):
            result.setdefault(code, {}).setdefault(day, Decimal(0))
            result[code][day] += value
        return result
    column = daily_sales.c.units if metric == "units" else daily_sales.c.orders
    query = (
        select(daily_sales.c.city_code, daily_sales.c.day, func.sum(column))
        .where(*conditions)
        .group_by(daily_sales.c.city_code, daily_sales.c.day)
    )
    result = {}
    for code, day, total in session.execute(query):
        if total is not None:
            result.setdefault(code, {})[day] = Decimal(total)
    return result


def sales_total(session: Session, first_day: date, last_day: date, city_code: str | None = None) -> tuple[int, int]:
    """(Σ orders, number of facts) held for first_day…last_day (latest revisions), optionally one city's."""
    query = select(func.coalesce(func.sum(daily_sales.c.orders), 0), func.count()).where(
        daily_sales.c.day >= first_day, daily_sales.c.day <= last_day
    )
    if city_code is not None:
        query = query.where(daily_sales.c.city_code == city_code)
    orders, facts = session.execute(query).one()
    return int(orders), int(facts)


def cities_with_facts_on(session: Session, day: date, codes: Iterable[str]) -> set[str]:
    query = select(daily_sales.c.city_code).where(daily_sales.c.day == day, daily_sales.c.city_code.in_(list(codes))).distinct()
    return {row[0] for row in session.execute(query)}
