"""Aware time: stored in UTC, shown in Asia/Shanghai (casebook C12, C13)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")


def require_aware(value: datetime, what: str = "datetime") -> datetime:
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise ValueError(f"{what} must carry a time zone offset: {value.isoformat()}")
    return value


def to_utc(value: datetime) -> datetime:
    return require_aware(value).astimezone(UTC)


def to_shanghai(value: datetime) -> datetime:
    return require_aware(value).astimezone(SHANGHAI)


def shanghai_midnight(day: date) -> datetime:
    """The aware instant at which `day` begins in Asia/Shanghai."""
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def shanghai_date(value: datetime) -> date:
    return to_shanghai(value).date()


def days(start: date, end_inclusive: date) -> list[date]:
    if end_inclusive < start:
        return []
    return [start + timedelta(days=offset) for offset in range((end_inclusive - start).days + 1)]


def iso_shanghai(value: datetime) -> str:
    return to_shanghai(value).isoformat()
