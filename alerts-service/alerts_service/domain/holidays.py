"""Chinese public holidays and make-up working days (调休), via the `chinese_calendar` package.

A day is one of:
- `holiday`: an official day off of a public holiday (including the bridging days);
- `makeup_workday`: a weekend day that is an official working day in exchange;
- `weekend`: an ordinary Saturday or Sunday;
- `workday`: an ordinary Monday–Friday;
- `unknown`: outside the years the package has data for (treated as special, never as normal).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar

HOLIDAY = "holiday"
MAKEUP_WORKDAY = "makeup_workday"
WEEKEND = "weekend"
WORKDAY = "workday"
UNKNOWN = "unknown"

HOLIDAY_NAMES = tuple(holiday.value for holiday in chinese_calendar.Holiday)


# The calendar is fixed data: each day is looked up once per process (a calendar rule scans whole
# years for its holiday, for every city and every evaluation).
@lru_cache(maxsize=8192)
def _detail(day: date) -> tuple[bool, str | None] | None:
    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    return on_holiday, name


def day_type(day: date) -> str:
    detail = _detail(day)
    if detail is None:
        return UNKNOWN
    on_holiday, name = detail
    if name is not None:
        return HOLIDAY if on_holiday else MAKEUP_WORKDAY
    return WEEKEND if day.weekday() >= 5 else WORKDAY


def holiday_name(day: date) -> str | None:
    """The festival a holiday or a make-up working day belongs to (English name), else None."""
    detail = _detail(day)
    return None if detail is None else detail[1]


def is_special(day: date) -> bool:
    """A public holiday, a make-up working day, or a day the calendar has no data for."""
    return day_type(day) in (HOLIDAY, MAKEUP_WORKDAY, UNKNOWN)


def holiday_days(name: str, year: int) -> list[date]:
    """The official days off of the named holiday whose first day falls in `year` (sorted): the
    contiguous run of days off carrying the name, from the first one in the year."""
    if name not in HOLIDAY_NAMES:
        raise ValueError(f"unknown holiday {name!r}; known: {', '.join(HOLIDAY_NAMES)}")
    return list(_holiday_days(name, year))


@lru_cache(maxsize=256)
def _holiday_days(name: str, year: int) -> tuple[date, ...]:
    day = date(year, 1, 1)
    while day.year == year:
        if day_type(day) == HOLIDAY and holiday_name(day) == name:
            run = [day]
            following = day + timedelta(days=1)
            while day_type(following) == HOLIDAY and holiday_name(following) == name:
                run.append(following)
                following += timedelta(days=1)
            return tuple(run)
        day += timedelta(days=1)
    return ()
