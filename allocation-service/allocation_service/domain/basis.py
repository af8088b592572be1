"""A city's bottom-up basis for a target period, from its outlets' history.

- Comparable outlets (open since the start of last year's same period, traded in it, and still
  trading in the last `run_rate_days` of history): their last-year-same-period total is the
  like-for-like base.
- Outlets that opened since (or did not trade last year) and still trade: a run-rate basis, the
  average daily value over the last `run_rate_days` (counted from their opening day when they opened
  inside that window) × the days of the target period.
- Outlets with no trade in the last `run_rate_days` are treated as closed and left out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from allocation_service.domain.history import OutletHistory
from allocation_service.domain.metrics import Metric
from allocation_service.domain.series import ZERO
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

    @property
    def bottom_up(self) -> Decimal:
        return self.lfl_base + self.run_rate_basis

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
        if self.closed_outlets:
            parts.append(f"{self.closed_outlets} outlets without trade since {self.run_rate_window.start} left out")
        return "; ".join(parts)


def city_basis(
    city_code: str,
    outlets: Iterable[OutletHistory],
    period: Window,
    history_end,
    data_start,
    metric: Metric,
    run_rate_days: int = 90,
) -> CityBasis:
    last_year = period.shifted_years(-1)
    covered = last_year.start >= data_start and last_year.end <= history_end
    recent = last_days(history_end, run_rate_days)
    lfl_base = ZERO
    run_rate = ZERO
    comparable = new = closed = 0
    for outlet in outlets:
        if not outlet.orders.traded_in(recent):
            closed += 1
            continue
        first = outlet.first_day
        if covered and first is not None and first <= last_year.start and outlet.orders.traded_in(last_year):
            comparable += 1
            lfl_base += outlet.series(metric).total(last_year)
            continue
        new += 1
        open_window = recent.clipped_from(first) if first is not None else recent
        if open_window is None:  # opened after the history ends: nothing to go on
            continue
        run_rate += outlet.series(metric).total(open_window) * period.days / open_window.days
    return CityBasis(
        city_code=city_code,
        period=period,
        last_year=last_year,
        run_rate_window=recent,
        lfl_base=lfl_base,
        run_rate_basis=run_rate,
        comparable_outlets=comparable,
        new_outlets=new,
        closed_outlets=closed,
        last_year_covered=covered,
    )
