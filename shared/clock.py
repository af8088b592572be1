"""An injectable clock: the real one by default, a replay clock for demos and tests."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Protocol

from shared.timeutil import UTC, require_aware


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware, in UTC."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ReplayClock:
    """A clock that only moves when told to. Thread-safe; never goes backwards."""

    def __init__(self, start: datetime) -> None:
        self._now = require_aware(start).astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, instant: datetime) -> None:
        instant = require_aware(instant).astimezone(UTC)
        with self._lock:
            if instant < self._now:
                raise ValueError(f"a replay clock does not go back: {instant} < {self._now}")
            self._now = instant

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now = self._now + delta
            return self._now
