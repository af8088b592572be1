"""Sales cliffs: a city's daily actual falls at least X % below its own baseline.

Baselines (from the city's own history, never from other cities):
- `same_weekday`: the mean of the same weekday over the previous `weeks` weeks;
- `trailing_median`: the median of the previous `window_days` days.
The baseline is rounded half up to 0.01 before comparing; the drop is
(baseline − actual) / baseline × 100 and a cliff is drop ≥ `drop_pct` (inclusive).

Holiday aware (Chinese public holidays and make-up working days, `chinese_calendar`): a day that
is a holiday or a make-up working day is not judged at all (festival dips are not cliffs), and such
days never enter another day's baseline. Days with no data are left out of the baseline. Too few
usable baseline days, or a baseline below `min_baseline`, and the day is skipped, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from alerts_service.domain.holidays import day_type, holiday_name, is_special
from alerts_service.domain.rules import SalesCliffParams
from shared.money import CENT, round_half_up

TENTH = Decimal("0.1")


@dataclass(frozen=True)
class CliffResult:
    day: date
    status: str  # cliff | normal | skipped
    reason: str = ""
    severity: str | None = None  # warning | critical, for a cliff
    actual: Decimal | None = None
    baseline: Decimal | None = None
    drop_pct: Decimal | None = None  # rounded half up to 0.1
    days_used: tuple[date, ...] = ()
    days_skipped: tuple[tuple[date, str], ...] = ()
    values_used: tuple[Decimal, ...] = field(default=(), repr=False)

    def evidence(self, method: str) -> dict:
        return {
            "day": self.day.isoformat(),
            "actual": _text(self.actual),
            "baseline": _text(self.baseline),
            "baseline_method": method,
            "drop_pct": _text(self.drop_pct),
            "days_used": {d.isoformat(): format(v, "f") for d, v in zip(self.days_used, self.values_used, strict=True)},
            "days_skipped": {d.isoformat(): why for d, why in self.days_skipped},
        }


def evaluate_cliff(params: SalesCliffParams, day: date, actuals: Mapping[date, Decimal]) -> CliffResult:
    if day not in actuals:
        return CliffResult(day, "skipped", "no_data")
    actual = Decimal(actuals[day])
    if params.holiday_aware and is_special(day):
        kind = day_type(day)
        name = holiday_name(day)
        return CliffResult(day, "skipped", f"{kind}: {name}" if name else kind, actual=actual)
    used, skipped = _baseline_days(params, day, actuals)
    values = tuple(Decimal(actuals[d]) for d in used)
    common = {"actual": actual, "days_used": used, "days_skipped": skipped, "values_used": values}
    if len(used) < params.min_baseline_days:
        return CliffResult(day, "skipped", "insufficient_baseline", **common)
    baseline = round_half_up(_mean(values) if params.baseline == "same_weekday" else _median(values), CENT)
    if baseline <= 0 or baseline < params.min_baseline:
        return CliffResult(day, "skipped", "baseline_too_small", baseline=baseline, **common)
    drop = (baseline - actual) * Decimal(100) / baseline
    shown = round_half_up(drop, TENTH)
    if drop >= params.drop_pct:
        level = "critical" if drop >= params.critical_pct else "warning"
        return CliffResult(day, "cliff", "", level, baseline=baseline, drop_pct=shown, **common)
    return CliffResult(day, "normal", "", baseline=baseline, drop_pct=shown, **common)


def _baseline_days(params: SalesCliffParams, day: date, actuals: Mapping[date, Decimal]):
    if params.baseline == "same_weekday":
        candidates = [day - timedelta(weeks=k) for k in range(1, params.weeks + 1)]
    else:
        candidates = [day - timedelta(days=k) for k in range(1, params.window_days + 1)]
    used: list[date] = []
    skipped: list[tuple[date, str]] = []
    for candidate in candidates:
        if params.holiday_aware and is_special(candidate):
            skipped.append((candidate, day_type(candidate)))
        elif candidate not in actuals:
            skipped.append((candidate, "no_data"))
        else:
            used.append(candidate)
    return tuple(sorted(used)), tuple(sorted(skipped))


def _mean(values: tuple[Decimal, ...]) -> Decimal:
    return sum(values, Decimal(0)) / Decimal(len(values))


def _median(values: tuple[Decimal, ...]) -> Decimal:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / Decimal(2)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
