"""Dates and date-times as exports write them (casebook C08).

Dates: ISO (2016-07-01), 2016/7/1, 2016.7.1, 20160701, 2016年7月1日, and Excel serial numbers
counted from 1899-12-30 (44185 → 2020-12-20). A date column refuses a time of day other than
midnight rather than silently dropping it. Date-times: ISO with an offset, or naive (including
Excel serials with a fraction: 45321.375 → 09:00), which by rule means Asia/Shanghai.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from ingestion_service.domain.numbers import normalize_text
from shared.timeutil import SHANGHAI, UTC

EXCEL_ORIGIN = datetime(1899, 12, 30)
# Serial 60 is Excel's phantom 1900-02-29; below 61 the 1899-12-30 origin is off by one day.
FIRST_SAFE_SERIAL = 61
LAST_SERIAL = 2958465  # 9999-12-31

_SEPARATED = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
_CHINESE = re.compile(r"^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{1,7}(\.\d+)?$")
_DATE_AND_TIME = re.compile(r"^(.+?)[T ](\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)$")


class DateError(ValueError):
    pass


def excel_serial_to_datetime(serial: Decimal | int | str) -> datetime:
    """A naive local date-time from an Excel serial (origin 1899-12-30), rounded to the second."""
    try:
        number = Decimal(serial)
    except InvalidOperation as exc:
        raise DateError(f"not an Excel serial number: {serial!r}") from exc
    if not number.is_finite() or number < FIRST_SAFE_SERIAL or number > LAST_SERIAL:
        raise DateError(
            f"Excel serial {serial} is outside {FIRST_SAFE_SERIAL}..{LAST_SERIAL} (1900-03-01..9999-12-31)"
        )
    seconds = (number * 86400).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return EXCEL_ORIGIN + timedelta(seconds=int(seconds))


def _calendar_date(year: str, month: str, day: str, original: str) -> date:
    try:
        return date(int(year), int(month), int(day))
    except ValueError as exc:
        raise DateError(f"not a calendar date: {original!r} ({exc})") from exc


def _parse_date_only(text: str, original: str) -> date | None:
    for pattern in (_SEPARATED, _CHINESE, _COMPACT):
        match = pattern.match(text)
        if match:
            return _calendar_date(*match.groups(), original)
    return None


def parse_local_datetime(value: object) -> datetime | None:
    """A naive date-time as written (no offset applied). Blank → None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time(0))
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return excel_serial_to_datetime(value)
    if not isinstance(value, str):
        raise DateError(f"not a date: {value!r}")
    text = normalize_text(value)
    if text == "":
        return None
    if _SERIAL.match(text) and not _COMPACT.match(text):
        return excel_serial_to_datetime(text)
    only_date = _parse_date_only(text, value)
    if only_date is not None:
        return datetime.combine(only_date, time(0))
    match = _DATE_AND_TIME.match(text)
    if match:
        day = _parse_date_only(match.group(1), value)
        if day is not None:
            hours, rest = match.group(2).split(":", 1)
            try:
                clock = time.fromisoformat(f"{int(hours):02d}:{rest}")
            except ValueError as exc:
                raise DateError(f"not a time of day in {value!r}") from exc
            return datetime.combine(day, clock)
    try:
        return datetime.fromisoformat(text)
    except ValueError as exc:
        raise DateError(f"not a date: {value!r}") from exc


def parse_date(value: object) -> date | None:
    if isinstance(value, str):
        return _parse_date_text(value)
    return _date_only(value)


@lru_cache(maxsize=16384)
def _parse_date_text(value: str) -> date | None:
    """Cached: a file names the same few hundred days over and over."""
    return _date_only(value)


def _date_only(value: object) -> date | None:
    moment = parse_local_datetime(value)
    if moment is None:
        return None
    if moment.tzinfo is not None or moment.time() != time(0):
        raise DateError(f"expected a date without a time of day: {value!r}")
    return moment.date()


def parse_instant(value: object) -> datetime | None:
    """An aware UTC instant; a value without an offset is read as Asia/Shanghai local time."""
    moment = parse_local_datetime(value)
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.astimezone(UTC)
