"""Heat map: per city and per city × channel metrics over a history window, and a 0–100 heat score.

Metrics: average daily orders (over the days the data covers), average order value (only where
revenue is known), dealer fulfilment rate (only where ERP data exists, per city), like-for-like
half-year growth (last 6 months vs the 6 before) and year-on-year growth (last 3 months vs the same
months a year before), active outlets (traded in the last `active_days`) and new outlets (opened
inside the window). The heat score is a weighted mean of percentile ranks (0–100) over the metrics a
row has; a missing metric is left out and the weights renormalised, never counted as 0.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from allocation_service.domain.columns import Groups, OutletColumns
from allocation_service.domain.growth import Growth, like_for_like_growths
from allocation_service.domain.history import City, SalesHistory
from allocation_service.domain.metrics import ORDERS, Metric
from allocation_service.domain.windows import Window, last_days, months_ending

DEFAULT_WEIGHTS: dict[str, Decimal] = {
    "avg_daily_orders": Decimal("0.30"),
    "half_year_growth": Decimal("0.25"),
    "yoy_growth": Decimal("0.15"),
    "avg_order_value": Decimal("0.10"),
    "fulfilment_rate": Decimal("0.10"),
    "active_outlets": Decimal("0.10"),
}
SCORED_METRICS = (*DEFAULT_WEIGHTS, "new_outlets")
SCORE_QUANTUM = Decimal("0.1")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class HeatRow:
    city: City
    channel: str | None
    metrics: dict[str, Decimal | None]
    half_year: Growth
    year_on_year: Growth
    percentiles: dict[str, Decimal] = field(default_factory=dict)
    score: Decimal | None = None

    @property
    def key(self) -> str:
        return self.city.code if self.channel is None else f"{self.city.code}|{self.channel}"


@dataclass(frozen=True)
class HeatWindows:
    window: Window
    half_year_current: Window
    half_year_previous: Window
    yoy_current: Window
    yoy_previous: Window
    active: Window


def heat_windows(window: Window, active_days: int = 90) -> HeatWindows:
    current = months_ending(window.end, 6)
    previous = months_ending(current.start - timedelta(days=1), 6)
    quarter = months_ending(window.end, 3)
    return HeatWindows(
        window=window,
        half_year_current=current,
        half_year_previous=previous,
        yoy_current=quarter,
        yoy_previous=quarter.shifted_years(-1),
        active=last_days(window.end, active_days),
    )


def group_metrics(
    columns: OutletColumns,
    groups: Groups,
    windows: HeatWindows,
    data_start,
    metric: Metric,
    fulfilment: Sequence[tuple[int, int] | None],
) -> list[tuple[dict[str, Decimal | None], Growth, Growth]]:
    """(metrics, half-year growth, year-on-year growth) of every group of outlets."""
    covered = windows.window.clipped_from(data_start)
    orders, order_rows = columns.series("orders")
    revenue, revenue_rows = columns.series("revenue")
    revenue_orders, revenue_order_rows = columns.series("revenue_orders")
    half_year = like_for_like_growths(
        columns, groups, windows.half_year_previous, windows.half_year_current, metric, data_start
    )
    yoy = like_for_like_growths(columns, groups, windows.yoy_previous, windows.yoy_current, metric, data_start)
    if covered:
        order_sums = groups.sum(orders.window_totals(order_rows, covered)).tolist()
        revenue_sums = groups.sum(revenue.window_totals(revenue_rows, covered)).tolist()
        revenue_order_sums = groups.sum(revenue_orders.window_totals(revenue_order_rows, covered)).tolist()
    else:
        order_sums = revenue_sums = revenue_order_sums = [0] * len(groups)
    active = groups.count(orders.trading_days(order_rows, windows.active) > 0).tolist()
    first = columns.first_day
    new = groups.count((first >= windows.window.start.toordinal()) & (first <= windows.window.end.toordinal())).tolist()
    result = []
    for group in range(len(groups)):
        metrics: dict[str, Decimal | None] = {
            "avg_daily_orders": (Decimal(order_sums[group]) / covered.days).quantize(CENT, ROUND_HALF_UP)
            if covered
            else None,
            "avg_order_value": (Decimal(revenue_sums[group]) / Decimal(revenue_order_sums[group] * 10**revenue.scale))
            .quantize(CENT, ROUND_HALF_UP)
            if revenue_order_sums[group] > 0
            else None,
            "fulfilment_rate": None,
            "half_year_growth": half_year[group].rate,
            "yoy_growth": yoy[group].rate,
            "active_outlets": Decimal(active[group]),
            "new_outlets": Decimal(new[group]),
        }
        done = fulfilment[group]
        if done is not None and done[0] > 0:
            metrics["fulfilment_rate"] = (Decimal(done[1]) / Decimal(done[0])).quantize(Decimal("0.0001"), ROUND_HALF_UP)
        result.append((metrics, half_year[group], yoy[group]))
    return result


def percentile_ranks(values: Mapping[str, Decimal | None]) -> dict[str, Decimal]:
    """Mid-rank percentiles 0–100 over the rows that have a value; a lone value ranks 50."""
    present = {key: value for key, value in values.items() if value is not None}
    ordered = sorted(present.values())
    n = len(ordered)
    if n == 1:
        return {key: Decimal(50) for key in present}
    rank_of: dict[Decimal, Decimal] = {}
    ranks: dict[str, Decimal] = {}
    for key, value in present.items():
        rank = rank_of.get(value)
        if rank is None:
            below = bisect_left(ordered, value)
            equal = bisect_right(ordered, value) - below
            rank = rank_of[value] = (Decimal(below) + Decimal(equal - 1) / 2) * 100 / (n - 1)
        ranks[key] = rank
    return ranks


def heat_score(percentiles: Mapping[str, Decimal], weights: Mapping[str, Decimal]) -> Decimal | None:
    used = {name: weight for name, weight in weights.items() if name in percentiles and weight > 0}
    total_weight = sum(used.values(), Decimal(0))
    if total_weight == 0:
        return None
    score = sum((percentiles[name] * weight for name, weight in used.items()), Decimal(0)) / total_weight
    return score.quantize(SCORE_QUANTUM, rounding=ROUND_HALF_UP)


def score_rows(rows: list[HeatRow], weights: Mapping[str, Decimal]) -> list[HeatRow]:
    unknown = set(weights) - set(SCORED_METRICS)
    if unknown:
        raise ValueError(f"unknown heat metrics {sorted(unknown)}")
    keys = [row.key for row in rows]
    by_metric = {name: percentile_ranks({key: row.metrics.get(name) for key, row in zip(keys, rows, strict=True)})
                 for name in weights}
    scored = []
    for key, row in zip(keys, rows, strict=True):
        percentiles = {name: ranks[key] for name, ranks in by_metric.items() if key in ranks}
        scored.append(
            HeatRow(row.city, row.channel, row.metrics, row.half_year, row.year_on_year, percentiles,
                    heat_score(percentiles, weights))
        )
    return scored


def build_heat_map(
    history: SalesHistory,
    cities: Mapping[str, City],
    window: Window,
    metric: Metric = ORDERS,
    weights: Mapping[str, Decimal] = DEFAULT_WEIGHTS,
    by_channel: bool = False,
    active_days: int = 90,
) -> list[HeatRow]:
    """Rows sorted by city code (and channel); cities with no outlet are left out."""
    windows = heat_windows(window, active_days)
    fulfilment: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for item in history.fulfilments:
        if item.day in window:
            fulfilment[item.city_code][0] += item.ordered
            fulfilment[item.city_code][1] += item.delivered
    columns = history.columns()
    if by_channel:
        keys = sorted({(code, channel) for code, channel in zip(columns.city, columns.channel, strict=True)
                       if code in cities})
        groups = Groups.by(list(zip(columns.city, columns.channel, strict=True)), keys)
        fulfilments: list[tuple[int, int] | None] = [None] * len(keys)
    else:
        keys = sorted({(code, None) for code in columns.city if code in cities})
        groups = Groups.by(columns.city, [code for code, _ in keys])
        fulfilments = [tuple(fulfilment[code]) if code in fulfilment else None for code, _ in keys]
    measured = group_metrics(columns, groups, windows, history.data_start, metric, fulfilments)
    rows = [HeatRow(cities[code], channel, metrics, half_year, yoy)
            for (code, channel), (metrics, half_year, yoy) in zip(keys, measured, strict=True)]
    return score_rows(rows, weights)
