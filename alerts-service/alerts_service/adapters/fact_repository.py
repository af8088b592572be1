"""Facts the rules read: cities, per-outlet and per-city daily sales, weather, package periods."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, literal, select
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
from shared.db import UTCDateTime, set_based_upsert


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
        returned = set_based_upsert(self.session, outlet_daily_sales, rows, _SALES_KEY, revisioned=True,
                                    strictly_newer=True, returning=("day",)) if rows else []
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
        """A new (day, source) is inserted; a stored one is replaced by an equal or higher revision.
        The items apply in order: one look at what is stored, then one write per row that changes."""
        items = [(item.day, _source_key(item), item) for item in days]
        if not items:
            return
        stored = {
            (row.day, row.source_key): row.revision
            for row in self.session.execute(
                select(weather_days.c.day, weather_days.c.source_key, weather_days.c.revision).where(
                    weather_days.c.city_code == city_code, weather_days.c.day.in_({day for day, _, _ in items})
                )
            )
        }
        inserted: dict[tuple, dict] = {}
        updated: dict[tuple, dict] = {}
        for day, source_key, item in items:
            key = (day, source_key)
            values = {"kind": item.kind, "issued_on": item.issued_on, "tmax_c": item.tmax_c, "revision": item.revision}
            if key not in stored:
                inserted[key] = {"city_code": city_code, "day": day, "source_key": source_key, **values}
            elif item.revision >= stored[key]:
                if key in inserted:
                    inserted[key].update(values)
                else:
                    updated[key] = values
            else:
                continue
            stored[key] = item.revision
        if inserted:
            self.session.execute(weather_days.insert(), list(inserted.values()))
        for (day, source_key), values in updated.items():
            self.session.execute(
                weather_days.update().where(
                    weather_days.c.city_code == city_code, weather_days.c.day == day,
                    weather_days.c.source_key == source_key,
                ).values(**values)
            )

    def weather_readings(self, city_code: str, first: date, last: date) -> list[WeatherReading]:
        rows = self.session.execute(
            select(weather_days).where(
                weather_days.c.city_code == city_code, weather_days.c.day >= first, weather_days.c.day <= last
            )
        )
        return [WeatherReading(r.day, r.kind, r.tmax_c, r.issued_on, r.revision) for r in rows]

    def record_warnings(self, city_code: str, warnings: Iterable[DataQualityWarning], now: datetime) -> int:
        """Each (day, reason) is recorded once, when first seen; returns how many were new."""
        wanted = {(warning.day, warning.reason): None for warning in warnings}
        if not wanted:
            return 0
        known = {
            (row.day, row.reason)
            for row in self.session.execute(
                select(weather_quality_warnings.c.day, weather_quality_warnings.c.reason).where(
                    weather_quality_warnings.c.city_code == city_code,
                    weather_quality_warnings.c.day.in_({day for day, _ in wanted}),
                )
            )
        }
        new = [{"city_code": city_code, "day": day, "reason": reason, "first_seen_at": now}
               for day, reason in wanted if (day, reason) not in known]
        if new:
            self.session.execute(weather_quality_warnings.insert(), new)
        return len(new)

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


def _source_key(item) -> str:
    return "observation" if item.kind == "observation" else f"forecast:{item.issued_on.isoformat()}"


def _kept_fact(sequence: list, stored_revision: int | None):
    """The fact that applying `sequence` one by one leaves stored (None: the stored row stays)."""
    current, inserted, kept = stored_revision, stored_revision is None, None
    for fact in sequence:
        if current is None or fact.revision > current or (inserted and fact.revision == current):
            kept, current = fact, fact.revision
    return kept
