"""A city's bottom-up basis for a target period, from its outlets' history.

- Comparable outlets (open since the start of last year's same period, traded in it, and still
  trading in the last `run_rate_days` of history): their last-year-same-period total is the
  like-for-like base.
- Outlets that opened since (or did not trade last year) and still trade: a run-rate basis, the
  average daily value over the last `run_rate_days` (counted from their opening day when they opened
  inside that window) × the days of the target period.
- Outlets that have not traded yet (known from outlet master data): a peer basis, the average
  daily value per trading outlet of the same channel in the same region (`peer_daily`) × the days
  of the period from their opening date (or the whole period when it is unknown).
- Outlets that traded before but not in the last `run_rate_days` are treated as closed, left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from math import lcm

import numpy as np

from allocation_service.domain.columns import Groups, OutletColumns, sums_by
from allocation_service.domain.history import OutletHistory
from allocation_service.domain.metrics import Metric
from allocation_service.domain.series import NO_DAY, ZERO
from allocation_service.domain.windows import Window, last_days


@dataclass(frozen=True)
class CityBasis:
    city_code: str
    period: Window
    last_year: Window
    run_rate_window: Window
    lfl_base: Decimal
    run_rate_basis: Decimal
    comparable_outlets: int
    new_outlets: int
    closed_outlets: int
    last_year_covered: bool
    peer_basis: Decimal = ZERO
    pending_outlets: int = 0

    @property
    def fresh_basis(self) -> Decimal:
        """The basis of the outlets without like-for-like history: run rate + peer basis."""
        return self.run_rate_basis + self.peer_basis

    @property
    def bottom_up(self) -> Decimal:
        return self.lfl_base + self.fresh_basis

    def describe(self, metric: Metric) -> str:
        parts = []
        if self.comparable_outlets:
            parts.append(
                f"last year {self.last_year}: {format(self.lfl_base, 'f')} {metric.unit} "
                f"from {self.comparable_outlets} like-for-like outlets"
            )
        elif not self.last_year_covered:
            parts.append(f"no history for last year's period {self.last_year}")
        else:
            parts.append(f"no like-for-like outlets in {self.last_year}")
        if self.new_outlets:
            parts.append(
                f"run rate of {self.new_outlets} outlets opened since: average daily of "
                f"{self.run_rate_window} × {self.period.days} days = "
                f"{format(self.run_rate_basis.quantize(Decimal('0.01')), 'f')} {metric.unit}"
            )
        if self.pending_outlets:
            parts.append(
                f"peer basis of {self.pending_outlets} outlets not trading yet: regional average daily "
                f"per outlet of their channel × days open in the period = "
                f"{format(self.peer_basis.quantize(Decimal('0.01')), 'f')} {metric.unit}"
            )
        if self.closed_outlets:
            parts.append(f"{self.closed_outlets} outlets without trade since {self.run_rate_window.start} left out")
        return "; ".join(parts)


def city_bases(
    columns: OutletColumns,
    groups: Groups,
    period: Window,
    history_end,
    data_start,
    metric: Metric,
    run_rate_days: int = 90,
    peer_daily: Sequence[Mapping[str, Decimal]] | None = None,
) -> list[CityBasis]:
    """The basis of every group of outlets (a city; its code is the group's key)."""
    last_year = period.shifted_years(-1)
    covered = last_year.start >= data_start and last_year.end <= history_end
    recent = last_days(history_end, run_rate_days)
    orders, order_rows = columns.series("orders")
    panel, rows = columns.series(metric.name)
    first = columns.first_day
    never = columns.first_trading == NO_DAY
    live = ~never & (orders.trading_days(order_rows, recent) > 0)
    closed = ~never & ~live
    comparable = live & covered & (first <= last_year.start.toordinal()) & (orders.trading_days(order_rows, last_year) > 0)
    fresh = live & ~comparable
    lfl = groups.sum(np.where(comparable, panel.window_totals(rows, last_year), 0))
    run_rates = sums_by(groups, fresh & (first <= recent.end.toordinal()), *_since_opening(columns, panel, rows, recent))
    channel_of, channels = columns.codes("channel")
    opening = np.maximum(np.where(columns.opened == NO_DAY, period.start.toordinal(), columns.opened),
                         period.start.toordinal())
    waiting = sums_by(groups, never & (opening <= period.end.toordinal()), channel_of,
                      period.end.toordinal() - opening + 1)
    counts = zip(groups.count(comparable).tolist(), groups.count(fresh).tolist(), groups.count(closed).tolist(),
                 strict=True)
    bases = []
    for group, (comparable_count, new, closed_count) in enumerate(counts):
        rates = (peer_daily[group] if peer_daily else None) or {}
        pending = [(rates[channels[c]], days, count) for c, (days, count) in waiting[group].items()
                   if channels[c] in rates]
        bases.append(CityBasis(
            city_code=groups.keys[group],
            period=period,
            last_year=last_year,
            run_rate_window=recent,
            lfl_base=panel.to_decimal(lfl[group]) if comparable_count else ZERO,
            run_rate_basis=_rate_sum(run_rates[group], panel.scale, period.days),
            comparable_outlets=comparable_count,
            new_outlets=new,
            closed_outlets=closed_count,
            last_year_covered=covered,
            peer_basis=_exact_sum((rate * days for rate, days, _ in pending)),
            pending_outlets=sum(count for _, _, count in pending),
        ))
    return bases


def city_basis(
    city_code: str,
    outlets: Iterable[OutletHistory],
    period: Window,
    history_end,
    data_start,
    metric: Metric,
    run_rate_days: int = 90,
    peer_daily: Mapping[str, Decimal] | None = None,
) -> CityBasis:
    outlets = list(outlets)
    groups = Groups.by([city_code] * len(outlets), [city_code])
    return city_bases(OutletColumns.of(outlets), groups, period, history_end, data_start, metric, run_rate_days,
                      [peer_daily or {}])[0]


def average_daily_rates(columns: OutletColumns, groups: Groups, recent: Window, metric: Metric) -> list[Decimal | None]:
    """Per group: the mean over its outlets trading in `recent` of their average daily value since opening."""
    orders, order_rows = columns.series("orders")
    panel, rows = columns.series(metric.name)
    trading = (orders.trading_days(order_rows, recent) > 0) & (columns.first_day <= recent.end.toordinal())
    per_group = sums_by(groups, trading, *_since_opening(columns, panel, rows, recent))
    return [_rate_sum(terms, panel.scale, 1, sum(count for _, count in terms.values())) if terms else None
            for terms in per_group]


def average_daily_per_outlet(outlets: Iterable[OutletHistory], recent: Window, metric: Metric) -> Decimal | None:
    """Mean over the outlets trading in `recent` of their average daily value since opening."""
    outlets = list(outlets)
    return average_daily_rates(OutletColumns.of(outlets), Groups.by([None] * len(outlets), [None]), recent, metric)[0]


def _since_opening(columns: OutletColumns, panel, rows: np.ndarray, recent: Window) -> tuple[np.ndarray, np.ndarray]:
    """Per outlet: the days of `recent` since it opened, and its total over them."""
    start = np.maximum(columns.first_day, recent.start.toordinal())
    days = np.maximum(recent.end.toordinal() - start + 1, 0)
    totals = panel.totals(rows, panel.column_of(np.minimum(start, recent.end.toordinal() + 1)), panel.columns(recent)[1])
    return days, totals


def _rate_sum(terms: Mapping[int, tuple[int, int]], scale: int, factor: int, count: int = 1) -> Decimal:
    """Σ total / days (× factor, / count) over the terms {days: (total, outlets)}, rounded once.

    Exact: one division of integers, so the figure does not depend on the order of the outlets.
    """
    if not terms:
        return ZERO
    common = lcm(*terms)
    numerator = sum(total * (common // days) for days, (total, _) in terms.items())
    return Decimal(numerator * factor) / Decimal(common * count * 10**scale)


def _exact_sum(values: Iterable[Decimal]) -> Decimal:
    """The sum, exact until one rounding at the end (order-independent)."""
    with localcontext() as context:
        context.prec = 200
        total = sum(values, ZERO)
    return +total
