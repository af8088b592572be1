"""Facts the rules read: cities, per-outlet and per-city daily sales, weather, package periods."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import Table, bindparam, cast, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from alerts_service.adapters.tables import (
    cities,
    city_daily_actuals,
    outlet_daily_sales,
    packages,
    weather_days,
    weather_quality_warnings,
)
from alerts_service.domain.cities import CityDirectory, CityInfo
from alerts_service.domain.weather_spells import DataQualityWarning, WeatherReading
from shared.db import UTCDateTime


class FactRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- cities ----------------------------------------------------------------------------------
    def upsert_city(self, city: CityInfo) -> None:
        existing = self.session.execute(select(cities).where(cities.c.code == city.code)).first()
        values = {"name": city.name, "province": city.province, "region": city.region}
        if existing is None:
            self.session.execute(cities.insert().values(code=city.code, **values))
        elif (existing.name, existing.province, existing.region) != (city.name, city.province, city.region):
            self.session.execute(cities.update().where(cities.c.code == city.code).values(**values))

    def city(self, code: str, fallback_name: str, fallback_region: str) -> CityInfo:
        row = self.session.execute(select(cities).where(cities.c.code == code)).first()
        if row is None:
            return CityInfo(code, fallback_name, fallback_region)
        return CityInfo(row.code, row.name, row.region, row.province)

    def directory(self, groups: dict[str, tuple[str, ...]]) -> CityDirectory:
        rows = self.session.execute(select(cities))
        return CityDirectory.of((CityInfo(r.code, r.name, r.region, r.province) for r in rows), groups)

    # -- sales -----------------------------------------------------------------------------------
    def store_sales(self, city_code: str, facts: Iterable, now: datetime) -> set[date]:
        """Store outlet facts (a revision replaces a lower one; a lower or equal one is ignored
        unless the value is new), re-total the touched days; returns the days that changed.

        Set-based: one `INSERT … ON CONFLICT … DO UPDATE … WHERE excluded.revision > stored.revision
        RETURNING day` per batch; the rows it returns (inserted or updated) are the changed ones.
        """
        facts = list(facts)
        if not facts:
            return set()
        rows = self._sales_rows(city_code, facts)
        returned = set_based_upsert(self.session, outlet_daily_sales, rows, _SALES_KEY, strictly_newer=True,
                                    returning=("day",)) if rows else []
        changed = {row[0] for row in returned}
        if changed:
            self._retotal(city_code, changed, now)
        return changed

    def _sales_rows(self, city_code: str, facts: list) -> list[dict]:
        """One row per (day, outlet, channel), the one that applying the facts one by one keeps:
        a new key keeps its highest revision (the later fact on a tie), a stored key the first
        fact of its highest revision above the stored one. Only repeated keys need the stored
        revisions (one small query); a single fact per key is settled by the statement's WHERE."""
        chosen: dict[tuple, object] = {}
        repeated: dict[tuple, list] = {}
        for fact in facts:
            key = (fact.day, fact.outlet_id, fact.channel)
            if key in chosen:
                repeated.setdefault(key, [chosen[key]]).append(fact)
            chosen[key] = fact
        if repeated:
            stored = self._stored_revisions(city_code, repeated)
            for key, sequence in repeated.items():
                kept = _kept_fact(sequence, stored.get(key))
                if kept is None:
                    del chosen[key]
                else:
                    chosen[key] = kept
        return [
            {"city_code": city_code, "day": fact.day, "outlet_id": fact.outlet_id, "channel": fact.channel,
             "orders": fact.orders, "revision": fact.revision}
            for fact in chosen.values()
        ]

    def _stored_revisions(self, city_code: str, keys: Iterable[tuple]) -> dict[tuple, int]:
        keys = set(keys)
        rows = self.session.execute(
            select(outlet_daily_sales.c.day, outlet_daily_sales.c.outlet_id, outlet_daily_sales.c.channel,
                   outlet_daily_sales.c.revision).where(
                outlet_daily_sales.c.city_code == city_code,
                outlet_daily_sales.c.day.in_({key[0] for key in keys}),
                outlet_daily_sales.c.outlet_id.in_({key[1] for key in keys}),
            )
        )
        return {(row.day, row.outlet_id, row.channel): row.revision for row in rows
                if (row.day, row.outlet_id, row.channel) in keys}

    def _retotal(self, city_code: str, days: set[date], now: datetime) -> None:
        """Recompute the city's totals of these days inside the database (delete + INSERT … SELECT)."""
        where = (outlet_daily_sales.c.city_code == city_code, outlet_daily_sales.c.day.in_(days))
        self.session.execute(
            city_daily_actuals.delete().where(
                city_daily_actuals.c.city_code == city_code, city_daily_actuals.c.day.in_(days)
            )
        )
        totals = (
            select(
                outlet_daily_sales.c.city_code,
                outlet_daily_sales.c.day,
                func.sum(outlet_daily_sales.c.orders),
                func.count(func.distinct(outlet_daily_sales.c.outlet_id)),
                literal(now, UTCDateTime()),
            )
            .where(*where)
            .group_by(outlet_daily_sales.c.city_code, outlet_daily_sales.c.day)
        )
        self.session.execute(
            city_daily_actuals.insert().from_select(["city_code", "day", "orders", "outlets", "updated_at"], totals)
        )

    def city_actuals(self, city_code: str, first: date, last: date) -> dict[date, Decimal]:
        rows = self.session.execute(
            select(city_daily_actuals.c.day, city_daily_actuals.c.orders).where(
                city_daily_actuals.c.city_code == city_code,
                city_daily_actuals.c.day >= first,
                city_daily_actuals.c.day <= last,
            )
        )
        return {row.day: Decimal(row.orders) for row in rows}

    # -- weather ---------------------------------------------------------------------------------
    def store_weather(self, city_code: str, days: Iterable) -> None:
        for item in days:
            source_key = "observation" if item.kind == "observation" else f"forecast:{item.issued_on.isoformat()}"
            key = (
                weather_days.c.city_code == city_code,
                weather_days.c.day == item.day,
                weather_days.c.source_key == source_key,
            )
            stored = self.session.execute(select(weather_days.c.revision).where(*key)).first()
            values = {"kind": item.kind, "issued_on": item.issued_on, "tmax_c": item.tmax_c, "revision": item.revision}
            if stored is None:
                self.session.execute(
                    weather_days.insert().values(city_code=city_code, day=item.day, source_key=source_key, **values)
                )
            elif item.revision >= stored.revision:
                self.session.execute(weather_days.update().where(*key).values(**values))

    def weather_readings(self, city_code: str, first: date, last: date) -> list[WeatherReading]:
        rows = self.session.execute(
            select(weather_days).where(
                weather_days.c.city_code == city_code, weather_days.c.day >= first, weather_days.c.day <= last
            )
        )
        return [WeatherReading(r.day, r.kind, r.tmax_c, r.issued_on, r.revision) for r in rows]

    def record_warnings(self, city_code: str, warnings: Iterable[DataQualityWarning], now: datetime) -> int:
        added = 0
        for warning in warnings:
            key = (
                weather_quality_warnings.c.city_code == city_code,
                weather_quality_warnings.c.day == warning.day,
                weather_quality_warnings.c.reason == warning.reason,
            )
            if self.session.execute(select(weather_quality_warnings.c.day).where(*key)).first() is None:
                self.session.execute(
                    weather_quality_warnings.insert().values(
                        city_code=city_code, day=warning.day, reason=warning.reason, first_seen_at=now
                    )
                )
                added += 1
        return added

    def quality_warnings(self, city_code: str | None = None) -> list:
        query = select(weather_quality_warnings).order_by(
            weather_quality_warnings.c.city_code, weather_quality_warnings.c.day
        )
        if city_code is not None:
            query = query.where(weather_quality_warnings.c.city_code == city_code)
        return list(self.session.execute(query))

    # -- packages --------------------------------------------------------------------------------
    def upsert_package(self, package_id: str, period_start: date, period_end: date) -> None:
        if self.session.execute(select(packages.c.package_id).where(packages.c.package_id == package_id)).first():
            return
        self.session.execute(
            packages.insert().values(package_id=package_id, period_start=period_start, period_end=period_end)
        )

    def package_period(self, package_id: str) -> tuple[date, date] | None:
        row = self.session.execute(select(packages).where(packages.c.package_id == package_id)).first()
        return None if row is None else (row.period_start, row.period_end)


_SALES_KEY = ("city_code", "day", "outlet_id", "channel")


def _kept_fact(sequence: list, stored_revision: int | None):
    """The fact that applying `sequence` one by one leaves stored (None: the stored row stays)."""
    current, inserted, kept = stored_revision, stored_revision is None, None
    for fact in sequence:
        if current is None or fact.revision > current or (inserted and fact.revision == current):
            kept, current = fact, fact.revision
    return kept


def set_based_upsert(session: Session, table: Table, rows: Sequence[dict], keys: Sequence[str], *,
                     revisioned: bool = True, strictly_newer: bool = False, returning: Sequence[str] = ()) -> list:
    """`INSERT … ON CONFLICT (keys) DO UPDATE SET <other columns> WHERE excluded.revision >= (or >)
    table.revision` for many rows in one statement; returns the `returning` columns of the rows
    inserted or updated (a row the WHERE skips is not returned).

    - PostgreSQL: `INSERT … SELECT * FROM unnest(:col1, :col2, …)`, one typed array parameter per
      column: one statement whatever the batch size, no bind-parameter limit, and a text that
      SQLAlchemy and psycopg both cache (a 500-row multi-row VALUES has thousands of parameters:
      SQLAlchemy recompiles `.values(rows)` on every call and psycopg re-parses any query of more
      than 50 parameters, which costs more than the per-row statements it replaces).
    - SQLite: multi-row `INSERT … VALUES (…), (…) … RETURNING` through SQLAlchemy's
      "insertmanyvalues" (one cached compilation, rendered per chunk of at most 1,000 rows and
      32,700 bind parameters, under SQLite's 32,766).
    Rows must all have the same columns and distinct keys.
    """
    if not rows:
        return []
    names = tuple(rows[0])
    dialect = session.get_bind().dialect.name
    options = (tuple(keys), revisioned, strictly_newer, tuple(returning or keys))
    if dialect == "postgresql" and len(rows) > 1:
        statement = _unnest_upsert(table, names, *options)
        result = session.execute(statement, {name: [row[name] for row in rows] for name in names})
    else:
        statement = _values_upsert(dialect, table, names, *options)
        result = session.execute(statement, list(rows))
    return list(result) if returning else []


def _conflict_clause(statement, table: Table, names, keys, revisioned: bool, strictly_newer: bool):
    updates = {name: statement.excluded[name] for name in names if name not in keys}
    where = None
    if revisioned:
        where = (statement.excluded.revision > table.c.revision if strictly_newer
                 else statement.excluded.revision >= table.c.revision)
    return statement.on_conflict_do_update(index_elements=list(keys), set_=updates, where=where)


@lru_cache(maxsize=32)
def _values_upsert(dialect: str, table: Table, names, keys, revisioned, strictly_newer, returning):
    """The single-row form; executed with a list of rows it becomes multi-row VALUES statements
    ("insertmanyvalues" needs RETURNING)."""
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    statement = _conflict_clause(statement, table, names, keys, revisioned, strictly_newer)
    return statement.returning(*(table.c[name] for name in returning))


@lru_cache(maxsize=32)
def _unnest_upsert(table: Table, names, keys, revisioned, strictly_newer, returning):
    arrays = [
        cast(bindparam(name, type_=postgresql.ARRAY(table.c[name].type)), postgresql.ARRAY(table.c[name].type))
        for name in names
    ]
    source = func.unnest(*arrays).table_valued(*names).render_derived(name="incoming")
    statement = postgresql.insert(table).from_select(names, select(*(source.c[name] for name in names)))
    statement = _conflict_clause(statement, table, names, keys, revisioned, strictly_newer)
    return statement.returning(*(table.c[name] for name in returning))
