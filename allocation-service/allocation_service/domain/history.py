"""Sales history: outlets with their daily series, grouped by city and channel.

Built from the latest revision of each daily fact (the store keeps only the latest); the domain sees
plain values. `data_start` is the first day the history covers: a comparison that reaches before it
has no history, which is not the same as zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from allocation_service.domain.metrics import Metric
from allocation_service.domain.series import DailySeries


@dataclass(frozen=True, slots=True)
class DailyFact:
    outlet_id: str
    city_code: str
    channel: str
    day: date
    orders: int
    revenue: Decimal | None = None
    units: int | None = None


@dataclass(frozen=True)
class City:
    code: str
    name: str
    region: str
    province: str = ""
    lng: Decimal | None = None
    lat: Decimal | None = None
    gdp_growth: Decimal | None = None


@dataclass
class OutletHistory:
    outlet_id: str
    city_code: str
    channel: str
    orders: DailySeries
    revenue: DailySeries
    revenue_orders: DailySeries
    units: DailySeries
    opened_on: date | None = None

    def series(self, metric: Metric) -> DailySeries:
        return {"orders": self.orders, "revenue": self.revenue, "units": self.units}[metric.name]

    @property
    def first_day(self) -> date | None:
        """The opening date when known, else the first day with orders."""
        return self.opened_on or self.orders.first_trading_day()


@dataclass
class Fulfilment:
    city_code: str
    day: date
    ordered: int
    delivered: int


@dataclass
class SalesHistory:
    data_start: date
    data_end: date
    outlets: dict[str, OutletHistory]
    fulfilments: list[Fulfilment] = field(default_factory=list)

    def __post_init__(self) -> None:
        # One canonical order (by outlet id) for every sum over outlets: Decimal division is inexact at
        # 28 digits, so summing in the database's row order gave SQLite and PostgreSQL different last digits.
        self.outlets = {outlet_id: self.outlets[outlet_id] for outlet_id in sorted(self.outlets)}

    def by_city(self) -> dict[str, list[OutletHistory]]:
        grouped: dict[str, list[OutletHistory]] = defaultdict(list)
        for outlet in self.outlets.values():
            grouped[outlet.city_code].append(outlet)
        return dict(grouped)

    def by_city_channel(self) -> dict[tuple[str, str], list[OutletHistory]]:
        grouped: dict[tuple[str, str], list[OutletHistory]] = defaultdict(list)
        for outlet in self.outlets.values():
            grouped[(outlet.city_code, outlet.channel)].append(outlet)
        return dict(grouped)

    def channels(self) -> list[str]:
        return sorted({outlet.channel for outlet in self.outlets.values()})


_EMPTY: dict = {}
FactRow = tuple  # (outlet_id, city_code, channel, day, orders, revenue | None, units | None)


def build_history(
    facts: Iterable[DailyFact],
    data_start: date | None = None,
    data_end: date | None = None,
    opened_on: dict[str, date] | None = None,
    fulfilments: Iterable[Fulfilment] = (),
    outlet_master: dict[str, tuple[str, str]] | None = None,
) -> SalesHistory:
    """Group facts by outlet. A later fact for the same outlet and day replaces an earlier one.

    `outlet_master` (outlet → (city code, channel)) adds outlets that have no sales yet.
    """
    rows = ((f.outlet_id, f.city_code, f.channel, f.day, f.orders, f.revenue, f.units) for f in facts)
    return history_from_rows(rows, data_start, data_end, opened_on, fulfilments, outlet_master)


def history_from_rows(
    rows: Iterable[FactRow],
    data_start: date | None = None,
    data_end: date | None = None,
    opened_on: dict[str, date] | None = None,
    fulfilments: Iterable[Fulfilment] = (),
    outlet_master: dict[str, tuple[str, str]] | None = None,
) -> SalesHistory:
    """The same as `build_history` from plain tuples (the fast path for stored facts)."""
    orders: dict[str, dict[date, int]] = defaultdict(dict)
    revenue: dict[str, dict[date, Decimal]] = defaultdict(dict)
    revenue_orders: dict[str, dict[date, int]] = defaultdict(dict)
    units: dict[str, dict[date, int]] = defaultdict(dict)
    where: dict[str, tuple[str, str]] = {}
    first: date | None = None
    last: date | None = None
    for outlet_id, city_code, channel, day, count, money, unit_count in rows:
        where[outlet_id] = (city_code, channel)
        orders[outlet_id][day] = count
        if money is not None:
            revenue[outlet_id][day] = money
            revenue_orders[outlet_id][day] = count
        elif outlet_id in revenue:
            revenue[outlet_id].pop(day, None)
            revenue_orders[outlet_id].pop(day, None)
        if unit_count is not None:
            units[outlet_id][day] = unit_count
        if first is None or day < first:
            first = day
        if last is None or day > last:
            last = day
    if first is None or last is None:
        if data_start is None or data_end is None:
            raise ValueError("an empty history needs an explicit data_start and data_end")
        first, last = data_start, data_end
    opened_on = opened_on or {}
    for outlet_id, place in (outlet_master or {}).items():
        where.setdefault(outlet_id, place)
    outlets = {
        outlet_id: OutletHistory(
            outlet_id=outlet_id,
            city_code=city_code,
            channel=channel,
            orders=DailySeries(orders[outlet_id]),
            revenue=DailySeries(revenue.get(outlet_id) or _EMPTY),
            revenue_orders=DailySeries(revenue_orders.get(outlet_id) or _EMPTY),
            units=DailySeries(units.get(outlet_id) or _EMPTY),
            opened_on=opened_on.get(outlet_id),
        )
        for outlet_id, (city_code, channel) in where.items()
    }
    return SalesHistory(
        data_start=data_start or first,
        data_end=data_end or last,
        outlets=outlets,
        fulfilments=list(fulfilments),
    )
