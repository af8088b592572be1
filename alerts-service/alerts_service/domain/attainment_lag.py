"""Attainment lag: a city behind its phased target by more than X points after day N.

The lag is 100 − attainment % (attainment = actual to date / phased target to date × 100, as
allocation computes it). Day 1 is the period's first day; the rule looks only at days after day N
(day index > N) and fires when the lag is strictly more than `lag_points`; more than twice that
is critical.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from alerts_service.domain.rules import AttainmentLagParams


@dataclass(frozen=True)
class LagResult:
    status: str  # lagging | on_track | skipped
    reason: str = ""
    day_index: int = 0
    lag_points: Decimal | None = None
    severity: str | None = None


def evaluate_attainment_lag(
    params: AttainmentLagParams, attainment_pct: Decimal | None, as_of: date, period_start: date
) -> LagResult:
    day_index = (as_of - period_start).days + 1
    if day_index <= params.after_day:
        return LagResult("skipped", "too_early", day_index)
    if attainment_pct is None:
        return LagResult("skipped", "no_target", day_index)
    lag = Decimal(100) - Decimal(attainment_pct)
    if lag > params.lag_points:
        level = "critical" if lag > 2 * params.lag_points else "warning"
        return LagResult("lagging", "", day_index, lag, level)
    return LagResult("on_track", "", day_index, lag)
