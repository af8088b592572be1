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

import numpy as np

from allocation_service.domain.columns import OutletColumns
from allocation_service.domain.metrics import Metric
from allocation_service.domain.series import DailyPanel, DailySeries


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
        self._columns: OutletColumns | None = None

    def columns(self) -> OutletColumns:
        """The outlets (in the canonical order) as columns, for the rules that look at all of them at once."""
        if self._columns is None:
            self._columns = OutletColumns.of(list(self.outlets.values()))
        return self._columns

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
    rows = [(f.outlet_id, f.city_code, f.channel, f.day, f.orders, f.revenue, f.units) for f in facts]
    return history_from_rows(rows, data_start, data_end, opened_on, fulfilments, outlet_master)


def history_from_rows(
    rows: Iterable[FactRow],
    data_start: date | None = None,
    data_end: date | None = None,
    opened_on: dict[str, date] | None = None,
    fulfilments: Iterable[Fulfilment] = (),
    outlet_master: dict[str, tuple[str, str]] | None = None,
) -> SalesHistory:
    """The same as `build_history` from plain tuples (the fast path for stored facts).

    Revenue follows the latest fact of a day (a later fact without revenue removes it); units keep the
    latest fact that has them.
    """
    rows = rows if isinstance(rows, list) else list(rows)
    where: dict[str, tuple[str, str]] = {}
    if rows:
        outlet_ids, city_codes, channels, days, counts, moneys, unit_counts = zip(*rows, strict=True)
        where = dict(zip(outlet_ids, zip(city_codes, channels, strict=True), strict=True))  # an outlet's last row
        first, last = min(days), max(days)
    elif data_start is None or data_end is None:
        raise ValueError("an empty history needs an explicit data_start and data_end")
    for outlet_id, place in (outlet_master or {}).items():
        where.setdefault(outlet_id, place)
    ids = list(where)
    if not rows:
        empty = DailyPanel.empty(len(ids))
        return history_from_panels(ids, where, empty, data_start, data_end, opened_on=opened_on, fulfilments=fulfilments)
    index = {outlet_id: position for position, outlet_id in enumerate(ids)}
    row = np.fromiter(map(index.__getitem__, outlet_ids), np.int64, len(rows))
    ordinal = np.fromiter(map(date.toordinal, days), np.int64, len(rows))
    latest = _latest(row, ordinal, np.ones(len(rows), dtype=bool))
    orders = DailyPanel.from_cells(len(ids), row[latest], ordinal[latest], np.asarray(counts)[latest])
    revenue = revenue_orders = units = None
    if any(money is not None for money in moneys):
        known = latest[np.fromiter((moneys[p] is not None for p in latest.tolist()), bool, len(latest))]
        revenue = DailyPanel.from_cells(len(ids), row[known], ordinal[known], [moneys[p] for p in known.tolist()])
        revenue_orders = DailyPanel.from_cells(len(ids), row[known], ordinal[known], np.asarray(counts)[known])
    if any(count is not None for count in unit_counts):
        given = _latest(row, ordinal, np.fromiter((u is not None for u in unit_counts), bool, len(rows)))
        units = DailyPanel.from_cells(len(ids), row[given], ordinal[given], [unit_counts[p] for p in given.tolist()])
    return history_from_panels(ids, where, orders, data_start or first, data_end or last, revenue, revenue_orders,
                               units, opened_on, fulfilments)


def _latest(row: np.ndarray, ordinal: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Positions of the last chosen row of each (outlet, day)."""
    positions = np.flatnonzero(chosen)
    if not len(positions):
        return positions
    key = row[positions] * (int(ordinal.max()) - int(ordinal.min()) + 1) + (ordinal[positions] - ordinal.min())
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = ordered[1:] != ordered[:-1]
    return positions[order[last]]


def history_from_panels(
    ids: list[str],
    where: dict[str, tuple[str, str]],
    orders: DailyPanel,
    data_start: date,
    data_end: date,
    revenue: DailyPanel | None = None,
    revenue_orders: DailyPanel | None = None,
    units: DailyPanel | None = None,
    opened_on: dict[str, date] | None = None,
    fulfilments: Iterable[Fulfilment] = (),
) -> SalesHistory:
    """A history from panels whose row i is outlet `ids[i]` (a missing panel: no values)."""
    nothing = DailySeries(DailyPanel.empty(1), 0)  # one shared series for every outlet of a missing panel
    opened_on = opened_on or {}
    outlets = {}
    for position, outlet_id in enumerate(ids):
        city_code, channel = where[outlet_id]
        outlets[outlet_id] = OutletHistory(
            outlet_id,
            city_code,
            channel,
            DailySeries(orders, position),
            DailySeries(revenue, position) if revenue is not None else nothing,
            DailySeries(revenue_orders, position) if revenue_orders is not None else nothing,
            DailySeries(units, position) if units is not None else nothing,
            opened_on.get(outlet_id),
        )
    return SalesHistory(data_start=data_start, data_end=data_end, outlets=outlets, fulfilments=list(fulfilments))
