"""Phasing a city's period target into days and months, following last year's daily shape.

The weight of a day is last year's level for the same calendar month (average daily value of the
city's like-for-like outlets in that month) × a day-type factor learned from last year:
`festival` (a statutory holiday), `rest` (an ordinary weekend), `workday` (including make-up
working days). Day types come from the `chinese_calendar` package, so a Golden Week or a make-up
Sunday is weighted like last year's festivals or workdays, not like the same date. Without a usable
shape (no history), days are weighted equally. Daily parts sum exactly to the target (largest
remainder, ties by date); month parts are sums of their days.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import lru_cache

import chinese_calendar

from allocation_service.domain.windows import Window, add_years
from shared.money import largest_remainder

FESTIVAL = "festival"
REST = "rest"
WORKDAY = "workday"
ONE = Decimal(1)


@lru_cache(maxsize=4096)
def day_type(day: date) -> str:
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # outside the package's years: fall back to the weekday
        return REST if day.weekday() >= 5 else WORKDAY
    if on_holiday:
        return FESTIVAL if name else REST
    return WORKDAY


def daily_shape(
    period: Window,
    last_year_daily: Mapping[date, Decimal],
    recent_daily: Mapping[date, Decimal] | None = None,
) -> dict[date, Decimal]:
    """Day weights for `period` from last year's daily values of the same months (may be empty).

    Without last year's values, month levels are flat and the day-type factors come from
    `recent_daily` (e.g. the last 90 days); without either, every day weighs the same.
    """
    if not any(value > 0 for value in last_year_daily.values()):
        return _recent_shape(period, recent_daily or {})
    by_month: dict[tuple[int, int], list[Decimal]] = defaultdict(list)
    by_type: dict[str, list[Decimal]] = defaultdict(list)
    last_year = period.shifted_years(-1)
    for day in month_span(last_year).each_day():
        value = last_year_daily.get(day)
        if value is None:
            continue
        by_month[(day.year, day.month)].append(value)
        by_type[day_type(day)].append(value)
    all_values = [v for values in by_month.values() for v in values]
    overall = _mean(all_values)
    if overall is None or overall <= 0:
        return {day: ONE for day in period.each_day()}
    type_factor = {kind: (_mean(values) or overall) / overall for kind, values in by_type.items()}
    weights: dict[date, Decimal] = {}
    for day in period.each_day():
        ly_day = add_years(day, -1)
        level = _mean(by_month.get((ly_day.year, ly_day.month), [])) or overall
        weights[day] = level * type_factor.get(day_type(day), ONE)
    return weights


def _recent_shape(period: Window, recent_daily: Mapping[date, Decimal]) -> dict[date, Decimal]:
    by_type: dict[str, list[Decimal]] = defaultdict(list)
    for day, value in recent_daily.items():
        by_type[day_type(day)].append(value)
    overall = _mean([v for values in by_type.values() for v in values])
    if overall is None or overall <= 0:
        return {day: ONE for day in period.each_day()}
    factor = {kind: (_mean(values) or overall) / overall for kind, values in by_type.items()}
    return {day: factor.get(day_type(day), ONE) for day in period.each_day()}


def phase_days(target: Decimal, weights: Mapping[date, Decimal], quantum: Decimal = ONE) -> dict[date, Decimal]:
    if target < 0:
        raise ValueError("a negative target cannot be phased")
    return largest_remainder(target, weights, quantum, order=sorted(weights))


def month_totals(daily: Mapping[date, Decimal]) -> dict[str, Decimal]:
    months: dict[str, Decimal] = defaultdict(Decimal)
    for day, value in sorted(daily.items()):
        months[f"{day.year:04d}-{day.month:02d}"] += value
    return dict(months)


def phase_months(target: Decimal, month_weights: Mapping[str, Decimal], quantum: Decimal = ONE) -> dict[str, Decimal]:
    """Direct month split (ties by month order): 25 over four equal months is 7, 6, 6, 6 (C02 d)."""
    return largest_remainder(target, month_weights, quantum, order=sorted(month_weights))


def month_span(window: Window) -> Window:
    start = window.start.replace(day=1)
    following = date(window.end.year + (window.end.month == 12), window.end.month % 12 + 1, 1)
    return Window(start, date.fromordinal(following.toordinal() - 1))


def _mean(values: list[Decimal]) -> Decimal | None:
    return sum(values, Decimal(0)) / len(values) if values else None
