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
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache

import chinese_calendar

from allocation_service.domain.windows import Window, add_years
from shared.money import largest_remainder

FESTIVAL = "festival"
REST = "rest"
WORKDAY = "workday"
ONE = Decimal(1)
WHOLE_LIMIT = 10**27  # whole units below it add up exactly in Decimal's 28 digits


@lru_cache(maxsize=4096)
def day_type(day: date) -> str:
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # outside the package's years: fall back to the weekday
        return REST if day.weekday() >= 5 else WORKDAY
    if on_holiday:
        return FESTIVAL if name else REST
    return WORKDAY


Stats = Mapping[Hashable, tuple[Decimal, int]]  # key → (exact sum, number of days with a value)


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
        return recent_shape(period, _stats(recent_daily or {}, day_type))
    span = set(month_span(period.shifted_years(-1)).each_day())
    inside = {day: value for day, value in last_year_daily.items() if day in span}
    return last_year_shape(period, _stats(inside, lambda day: (day.year, day.month)), _stats(inside, day_type))


@dataclass(frozen=True)
class DayClasses:
    """The days of a period sorted into classes that weigh the same: (last year's month, day type),
    or the day type alone, or one class. A shape is then one weight per class."""

    days: tuple[date, ...]
    keys: tuple[Hashable, ...]
    of_day: tuple[int, ...]
    positions: tuple[tuple[int, ...], ...]  # the days (positions) of each class
    months: tuple[tuple[str, int, int], ...]  # (label, first position, last position + 1)
    counts: tuple[int, ...] = ()  # the number of days of each class
    month_of: tuple[int, ...] = ()  # the month (index in `months`) of each day
    month_counts: tuple[tuple[int, ...], ...] = ()  # per month, the number of its days of each class

    def as_dict(self, weights: list[Decimal]) -> dict[date, Decimal]:
        return dict(zip(self.days, map(weights.__getitem__, self.of_day), strict=True))


@lru_cache(maxsize=64)
def day_classes(period: Window, by: str) -> DayClasses:
    """`by`: "month_and_type", "type" or "none"."""
    days = period.each_day()
    if by == "none":
        labels: list[Hashable] = [None] * len(days)
    else:
        labels = [day_type(day) for day in days]
        if by == "month_and_type":
            labels = [((ly.year, ly.month), kind) for ly, kind in zip((add_years(d, -1) for d in days), labels,
                                                                      strict=True)]
    keys = tuple(dict.fromkeys(labels))
    index = {key: position for position, key in enumerate(keys)}
    months: dict[str, list[int]] = {}
    for position, day in enumerate(days):
        months.setdefault(f"{day.year:04d}-{day.month:02d}", []).append(position)
    of_day = tuple(index[label] for label in labels)
    positions = tuple(tuple(p for p, kind in enumerate(of_day) if kind == wanted) for wanted in range(len(keys)))
    month_of = tuple(m for m, spots in enumerate(months.values()) for _ in spots)
    month_counts = tuple(tuple(sum(1 for p in spots if of_day[p] == kind) for kind in range(len(keys)))
                         for spots in months.values())
    return DayClasses(tuple(days), keys, of_day, positions,
                      tuple((label, spots[0], spots[-1] + 1) for label, spots in months.items()),
                      tuple(map(len, positions)), month_of, month_counts)


def last_year_weights(period: Window, by_month: Stats, by_type: Stats) -> tuple[DayClasses, list[Decimal]]:
    """Weights from last year's days with a value (those of `month_span(period.shifted_years(-1))`),
    summed by calendar month and by day type."""
    overall = _mean_of(sum((total for total, _ in by_month.values()), Decimal(0)),
                       sum(count for _, count in by_month.values()))
    if overall is None or overall <= 0:
        return day_classes(period, "none"), [ONE]
    type_factor = {kind: (_mean_of(*stats) or overall) / overall for kind, stats in by_type.items()}
    level = {month: _mean_of(*stats) or overall for month, stats in by_month.items()}
    classes = day_classes(period, "month_and_type")
    return classes, [level.get(month, overall) * type_factor.get(kind, ONE) for month, kind in classes.keys]


def recent_weights(period: Window, by_type: Stats) -> tuple[DayClasses, list[Decimal]]:
    """Weights from day-type factors of recent days with a value (month levels flat)."""
    overall = _mean_of(sum((total for total, _ in by_type.values()), Decimal(0)), sum(c for _, c in by_type.values()))
    if overall is None or overall <= 0:
        return day_classes(period, "none"), [ONE]
    factor = {kind: (_mean_of(*stats) or overall) / overall for kind, stats in by_type.items()}
    classes = day_classes(period, "type")
    return classes, [factor.get(kind, ONE) for kind in classes.keys]


def last_year_shape(period: Window, by_month: Stats, by_type: Stats) -> dict[date, Decimal]:
    classes, weights = last_year_weights(period, by_month, by_type)
    return classes.as_dict(weights)


def recent_shape(period: Window, by_type: Stats) -> dict[date, Decimal]:
    classes, weights = recent_weights(period, by_type)
    return classes.as_dict(weights)


def phase_classes(target: Decimal, classes: DayClasses, weights: list[Decimal], quantum: Decimal = ONE
                  ) -> tuple[dict[date, Decimal], dict[str, Decimal]]:
    """(days, months) of `phase_days(target, classes.as_dict(weights))` and its `month_totals`, worked out
    per class: the same arithmetic (weights added day by day in date order), the same ties (by date).

    Whole units (quantum 1, the counts) are added as Python integers: every part is a whole `Decimal` of
    exponent 0 below 10^27, so their `Decimal` sums would be exact and come out the same."""
    weight_sum = sum(map(weights.__getitem__, classes.of_day), Decimal(0))
    if target < 0 or weight_sum <= 0 or target % quantum or any(weight < 0 for weight in weights):
        daily = phase_days(target, classes.as_dict(weights), quantum)
        return daily, month_totals(daily)
    units_total = target / quantum
    floors: list[Decimal] = []
    remainders: list[Decimal] = []
    for weight in weights:
        exact_units = units_total * weight / weight_sum
        floor = exact_units.to_integral_value(rounding=ROUND_DOWN)
        floors.append(floor)
        remainders.append(exact_units - floor)
    whole = (quantum.as_tuple() == ONE.as_tuple() and units_total < WHOLE_LIMIT
             and len(classes.month_of) == len(classes.days)  # built by `day_classes`
             and all(floor.as_tuple().exponent == 0 for floor in floors))
    if whole:
        counts = classes.counts
        whole_floors = [int(floor) for floor in floors]
        leftover = int(units_total) - sum(map(int.__mul__, whole_floors, counts))
    else:
        leftover = int(units_total - sum(map(floors.__getitem__, classes.of_day), Decimal(0)))
    bumped: list[int] = []  # the days that get one unit more
    if leftover:
        by_remainder: dict[Decimal, list[int]] = defaultdict(list)
        for kind, remainder in enumerate(remainders):
            by_remainder[remainder].append(kind)
        for remainder in sorted(by_remainder, reverse=True):
            kinds = by_remainder[remainder]
            positions = classes.positions[kinds[0]] if len(kinds) == 1 else sorted(
                position for kind in kinds for position in classes.positions[kind])
            bumped.extend(positions[:leftover])
            leftover -= min(leftover, len(positions))
            if not leftover:
                break
    if whole:
        parts = list(map(floors.__getitem__, classes.of_day))
        raised = [floor + 1 for floor in floors]
        of_day, month_of = classes.of_day, classes.month_of
        bumps = [0] * len(classes.months)
        for position in bumped:
            parts[position] = raised[of_day[position]]
            bumps[month_of[position]] += 1
        daily = dict(zip(classes.days, parts, strict=True))
        months = {label: Decimal(sum(map(int.__mul__, whole_floors, counts)) + extra) for (label, _, _), counts, extra
                  in zip(classes.months, classes.month_counts, bumps, strict=True)}
        return daily, months
    units = list(map(floors.__getitem__, classes.of_day))
    for position in bumped:
        units[position] += 1
    parts = units if quantum.as_tuple() == ONE.as_tuple() else [unit * quantum for unit in units]
    months = {label: sum(parts[first:end], Decimal(0)) for label, first, end in classes.months}
    return dict(zip(classes.days, parts, strict=True)), months


def _stats(values: Mapping[date, Decimal], key) -> dict[Hashable, tuple[Decimal, int]]:
    grouped: dict[Hashable, list[Decimal]] = defaultdict(list)
    for day, value in values.items():
        grouped[key(day)].append(value)
    return {name: (sum(items, Decimal(0)), len(items)) for name, items in grouped.items()}


def _mean_of(total: Decimal, count: int) -> Decimal | None:
    return total / count if count else None


def phase_days(target: Decimal, weights: Mapping[date, Decimal], quantum: Decimal = ONE) -> dict[date, Decimal]:
    """Largest remainder over the days (ties by date): the arithmetic of `shared.money.largest_remainder`,
    worked out once per distinct weight object (a shape repeats a handful of weights over its days)."""
    if target < 0:
        raise ValueError("a negative target cannot be phased")
    days = sorted(weights)
    weight_sum = sum(weights.values(), Decimal(0))  # in the mapping's order, as largest_remainder adds them
    if weight_sum <= 0 or target % quantum:
        return largest_remainder(target, weights, quantum, order=days)
    units_total = target / quantum
    shares: dict[int, tuple[Decimal, Decimal]] = {}
    floors: list[Decimal] = []
    remainders: list[Decimal] = []
    for day in days:
        part = weights[day]
        share = shares.get(id(part))
        if share is None:
            if part < 0:
                return largest_remainder(target, weights, quantum, order=days)
            exact_units = units_total * part / weight_sum
            floor = exact_units.to_integral_value(rounding=ROUND_DOWN)
            share = shares[id(part)] = (floor, exact_units - floor)
        floors.append(share[0])
        remainders.append(share[1])
    leftover = int(units_total - sum(floors, Decimal(0)))
    if leftover:
        by_remainder: dict[Decimal, list[int]] = defaultdict(list)
        for position, remainder in enumerate(remainders):
            by_remainder[remainder].append(position)
        for remainder in sorted(by_remainder, reverse=True):
            for position in by_remainder[remainder][:leftover]:
                floors[position] += 1
            leftover -= min(leftover, len(by_remainder[remainder]))
            if not leftover:
                break
    if quantum.as_tuple() == ONE.as_tuple():  # × 1 changes neither value nor exponent
        return dict(zip(days, floors, strict=True))
    return {day: floor * quantum for day, floor in zip(days, floors, strict=True)}


def month_totals(daily: Mapping[date, Decimal]) -> dict[str, Decimal]:
    months: dict[str, Decimal] = defaultdict(Decimal)
    for day, value in sorted(daily.items()):
        months[_month_label(day)] += value
    return dict(months)


@lru_cache(maxsize=4096)
def _month_label(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def phase_months(target: Decimal, month_weights: Mapping[str, Decimal], quantum: Decimal = ONE) -> dict[str, Decimal]:
    """Direct month split (ties by month order): 25 over four equal months is 7, 6, 6, 6 (C02 d)."""
    return largest_remainder(target, month_weights, quantum, order=sorted(month_weights))


def month_span(window: Window) -> Window:
    start = window.start.replace(day=1)
    following = date(window.end.year + (window.end.month == 12), window.end.month % 12 + 1, 1)
    return Window(start, date.fromordinal(following.toordinal() - 1))
