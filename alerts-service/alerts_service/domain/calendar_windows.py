"""Calendar windows: school-opening seasons, festivals, promotions.

A window is given as fixed dates (`2016-09-01`), as a yearly month-day (`09-01`, which may wrap
over the new year: `12-20` → `01-05`), or as a Chinese public holiday by name (`holiday:
National Day`, its official days off that year). A window is *due* from `lead_days` before its
first day until its last day, so an evaluation that runs late still fires it (once: the fired key
is the window's first day).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from alerts_service.domain.holidays import holiday_days

_FIXED = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEARLY = re.compile(r"^(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class CalendarWindow:
    name: str
    start: str = ""  # YYYY-MM-DD or MM-DD
    end: str = ""
    holiday: str | None = None  # a chinese_calendar holiday name, instead of start/end

    def to_mapping(self) -> dict[str, Any]:
        if self.holiday is not None:
            return {"name": self.name, "holiday": self.holiday}
        return {"name": self.name, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class WindowOccurrence:
    name: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_window(raw: Any) -> CalendarWindow:
    if not isinstance(raw, dict):
        raise ValueError("a window is a mapping with name and start/end, or name and holiday")
    name = str(raw.get("name") or "").strip()
    if not name:
        raise ValueError("a window needs a name")
    if raw.get("holiday"):
        window = CalendarWindow(name=name, holiday=str(raw["holiday"]))
        holiday_days(window.holiday, 2016)  # validates the name
        return window
    start, end = str(raw.get("start") or ""), str(raw.get("end") or "")
    fixed = bool(_FIXED.match(start)) and bool(_FIXED.match(end))
    yearly = bool(_YEARLY.match(start)) and bool(_YEARLY.match(end))
    if not (fixed or yearly):
        raise ValueError(f"window {name}: start and end must both be YYYY-MM-DD or both MM-DD")
    try:
        if fixed:
            if date.fromisoformat(end) < date.fromisoformat(start):
                raise ValueError(f"window {name}: end before start")
        else:
            date(2016, *map(int, start.split("-")))
            date(2016, *map(int, end.split("-")))
    except ValueError as exc:
        raise ValueError(f"window {name}: {exc}") from exc
    return CalendarWindow(name=name, start=start, end=end)


def occurrences(window: CalendarWindow, year: int) -> list[WindowOccurrence]:
    """The occurrences of a window that start in `year`."""
    if window.holiday is not None:
        days = holiday_days(window.holiday, year)
        return [WindowOccurrence(window.name, days[0], days[-1])] if days else []
    if _FIXED.match(window.start):
        start, end = date.fromisoformat(window.start), date.fromisoformat(window.end)
        return [WindowOccurrence(window.name, start, end)] if start.year == year else []
    start = _month_day(year, window.start)
    end = _month_day(year, window.end)
    if end < start:  # wraps over the new year
        end = _month_day(year + 1, window.end)
    return [WindowOccurrence(window.name, start, end)]


def due_windows(windows: tuple[CalendarWindow, ...], today: date, lead_days: int = 0) -> list[WindowOccurrence]:
    """Occurrences for which `today` lies in [start − lead_days, end], sorted by start then name."""
    found: set[WindowOccurrence] = set()
    for window in windows:
        for year in (today.year - 1, today.year, today.year + 1):
            for occurrence in occurrences(window, year):
                if occurrence.start - timedelta(days=lead_days) <= today <= occurrence.end:
                    found.add(occurrence)
    return sorted(found, key=lambda o: (o.start, o.name))


def _month_day(year: int, month_day: str) -> date:
    month, day = map(int, month_day.split("-"))
    if (month, day) == (2, 29):
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 2, 28)
    return date(year, month, day)
