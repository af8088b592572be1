"""Closed date windows and the calendar arithmetic the planning rules need."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True, order=True)
class Window:
    """The days start … end, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"window ends before it starts: {self.start} … {self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range(self.days)]

    def shifted_years(self, years: int) -> Window:
        return Window(add_years(self.start, years), add_years(self.end, years))

    def clipped_from(self, first: date) -> Window | None:
        """This window from `first` on, or None when nothing is left."""
        if first > self.end:
            return None
        return Window(max(self.start, first), self.end)

    def __str__(self) -> str:
        return f"{self.start.isoformat()}…{self.end.isoformat()}"


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def months_ending(last_day: date, months: int) -> Window:
    """The `months` whole calendar months that end on `last_day` (a month's last day)."""
    start = add_months(last_day + timedelta(days=1), -months)
    return Window(start, last_day)


def last_days(last_day: date, count: int) -> Window:
    return Window(last_day - timedelta(days=count - 1), last_day)


def month_windows(window: Window) -> list[Window]:
    """The calendar months a window touches, clipped to it."""
    parts: list[Window] = []
    cursor = window.start
    while cursor <= window.end:
        month_end = date(cursor.year, cursor.month, calendar.monthrange(cursor.year, cursor.month)[1])
        parts.append(Window(cursor, min(month_end, window.end)))
        cursor = month_end + timedelta(days=1)
    return parts
