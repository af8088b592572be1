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

from allocation_service.domain.growth import Growth, like_for_like_growth
from allocation_service.domain.history import City, OutletHistory, SalesHistory
from allocation_service.domain.metrics import ORDERS, Metric
from allocation_service.domain.series import ZERO
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
    outlets: Sequence[OutletHistory],
    windows: HeatWindows,
    data_start,
    metric: Metric,
    fulfilment: tuple[int, int] | None,
) -> tuple[dict[str, Decimal | None], Growth, Growth]:
    covered = windows.window.clipped_from(data_start)
    orders = sum((o.orders.total(covered) for o in outlets), ZERO) if covered else ZERO
    revenue = sum((o.revenue.total(covered) for o in outlets), ZERO) if covered else ZERO
    revenue_orders = sum((o.revenue_orders.total(covered) for o in outlets), ZERO) if covered else ZERO
    half_year = like_for_like_growth(
        outlets, windows.half_year_previous, windows.half_year_current, metric, data_start
    )
    yoy = like_for_like_growth(outlets, windows.yoy_previous, windows.yoy_current, metric, data_start)
    metrics: dict[str, Decimal | None] = {
        "avg_daily_orders": (orders / covered.days).quantize(Decimal("0.01"), ROUND_HALF_UP) if covered else None,
        "avg_order_value": (revenue / revenue_orders).quantize(Decimal("0.01"), ROUND_HALF_UP)
        if revenue_orders > 0
        else None,
        "fulfilment_rate": None,
        "half_year_growth": half_year.rate,
        "yoy_growth": yoy.rate,
        "active_outlets": Decimal(sum(1 for o in outlets if o.orders.traded_in(windows.active))),
        "new_outlets": Decimal(
            sum(1 for o in outlets if o.first_day is not None and o.first_day in windows.window)
        ),
    }
    if fulfilment is not None and fulfilment[0] > 0:
        metrics["fulfilment_rate"] = (Decimal(fulfilment[1]) / Decimal(fulfilment[0])).quantize(
            Decimal("0.0001"), ROUND_HALF_UP
        )
    return metrics, half_year, yoy


def percentile_ranks(values: Mapping[str, Decimal | None]) -> dict[str, Decimal]:
    """Mid-rank percentiles 0–100 over the rows that have a value; a lone value ranks 50."""
    present = {key: value for key, value in values.items() if value is not None}
    ordered = sorted(present.values())
    n = len(ordered)
    ranks: dict[str, Decimal] = {}
    for key, value in present.items():
        if n == 1:
            ranks[key] = Decimal(50)
            continue
        below = bisect_left(ordered, value)
        equal = bisect_right(ordered, value) - below
        ranks[key] = (Decimal(below) + Decimal(equal - 1) / 2) * 100 / (n - 1)
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
    by_metric = {name: percentile_ranks({row.key: row.metrics.get(name) for row in rows}) for name in weights}
    scored = []
    for row in rows:
        percentiles = {name: ranks[row.key] for name, ranks in by_metric.items() if row.key in ranks}
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
    groups = history.by_city_channel() if by_channel else {(c, None): o for c, o in history.by_city().items()}
    rows = []
    for (code, channel), outlets in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        if code not in cities:
            continue
        city_fulfilment = None if by_channel else tuple(fulfilment[code]) if code in fulfilment else None
        metrics, half_year, yoy = group_metrics(outlets, windows, history.data_start, metric, city_fulfilment)
        rows.append(HeatRow(cities[code], channel, metrics, half_year, yoy))
    return score_rows(rows, weights)
