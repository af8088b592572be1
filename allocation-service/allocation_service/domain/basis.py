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

from collections.abc import Iterable, Mapping
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
    last_year = period.shifted_years(-1)
    covered = last_year.start >= data_start and last_year.end <= history_end
    recent = last_days(history_end, run_rate_days)
    lfl_base = ZERO
    run_rate = ZERO
    peer = ZERO
    comparable = new = closed = pending = 0
    for outlet in outlets:
        if outlet.orders.first_trading_day() is None:
            rate = (peer_daily or {}).get(outlet.channel)
            opening = max(period.start, outlet.opened_on or period.start)
            if rate is not None and opening <= period.end:
                pending += 1
                peer += rate * ((period.end - opening).days + 1)
            continue
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
        peer_basis=peer,
        pending_outlets=pending,
    )


def average_daily_per_outlet(outlets: Iterable[OutletHistory], recent: Window, metric: Metric) -> Decimal | None:
    """Mean over the outlets trading in `recent` of their average daily value since opening."""
    rates = []
    for outlet in outlets:
        if not outlet.orders.traded_in(recent):
            continue
        open_window = recent.clipped_from(outlet.first_day) if outlet.first_day else recent
        if open_window is not None:
            rates.append(outlet.series(metric).total(open_window) / open_window.days)
    return sum(rates, ZERO) / len(rates) if rates else None
