"""Facts the rules read: cities, per-outlet and per-city daily sales, weather, package periods."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
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
        unless the value is new), re-total the touched days; returns the days that changed."""
        facts = list(facts)
        if not facts:
            return set()
        days = {fact.day for fact in facts}
        existing = {
            (row.day, row.outlet_id, row.channel): (row.revision, row.orders)
            for row in self.session.execute(
                select(outlet_daily_sales).where(
                    outlet_daily_sales.c.city_code == city_code, outlet_daily_sales.c.day.in_(days)
                )
            )
        }
        inserts: dict[tuple, dict] = {}
        changed: set[date] = set()
        for fact in facts:
            key = (fact.day, fact.outlet_id, fact.channel)
            stored = existing.get(key)
            if stored is None:
                inserts[key] = {
                    "city_code": city_code, "day": fact.day, "outlet_id": fact.outlet_id,
                    "channel": fact.channel, "orders": fact.orders, "revision": fact.revision,
                }
                existing[key] = (fact.revision, fact.orders)
                changed.add(fact.day)
            elif fact.revision > stored[0] or (key in inserts and fact.revision == stored[0]):
                if key in inserts:
                    inserts[key].update(orders=fact.orders, revision=fact.revision)
                else:
                    self.session.execute(
                        outlet_daily_sales.update()
                        .where(
                            outlet_daily_sales.c.city_code == city_code, outlet_daily_sales.c.day == fact.day,
                            outlet_daily_sales.c.outlet_id == fact.outlet_id,
                            outlet_daily_sales.c.channel == fact.channel,
                        )
                        .values(orders=fact.orders, revision=fact.revision)
                    )
                existing[key] = (fact.revision, fact.orders)
                changed.add(fact.day)
        if inserts:
            self.session.execute(outlet_daily_sales.insert(), list(inserts.values()))
        if changed:
            self._retotal(city_code, changed, now)
        return changed

    def _retotal(self, city_code: str, days: set[date], now: datetime) -> None:
        totals = self.session.execute(
            select(
                outlet_daily_sales.c.day,
                func.sum(outlet_daily_sales.c.orders).label("orders"),
                func.count(func.distinct(outlet_daily_sales.c.outlet_id)).label("outlets"),
            )
            .where(outlet_daily_sales.c.city_code == city_code, outlet_daily_sales.c.day.in_(days))
            .group_by(outlet_daily_sales.c.day)
        ).all()
        self.session.execute(
            city_daily_actuals.delete().where(
                city_daily_actuals.c.city_code == city_code, city_daily_actuals.c.day.in_(days)
            )
        )
        self.session.execute(
            city_daily_actuals.insert(),
            [
                {"city_code": city_code, "day": row.day, "orders": int(row.orders), "outlets": row.outlets,
                 "updated_at": now}
                for row in totals
            ],
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
