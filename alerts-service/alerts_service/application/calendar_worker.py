"""Evaluates calendar-window rules whenever the clock's Shanghai date changes (and at start).

`wake()` makes it look at once (an embedded host calls it when a replay clock is moved), and
`settled()` says whether the clock's current date has been evaluated (a driver waits for that
before it calls the system quiet)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from alerts_service.application.evaluation import evaluate_calendar
from alerts_service.settings import AlertsSettings
from shared.background import PollingLoop
from shared.clock import Clock
from shared.outbox import UnitOfWork
from shared.timeutil import shanghai_date

log = logging.getLogger("quotaflow.alerts.calendar")


class CalendarWorker:
    def __init__(self, unit_of_work: Callable[[], UnitOfWork], clock: Clock, settings: AlertsSettings) -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._settings = settings
        self._last: date | None = None
        self._loop = PollingLoop("alerts-calendar", self.run_once, settings.calendar_poll_seconds)

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop(10)

    def wake(self) -> None:
        self._loop.wake()

    def settled(self) -> bool:
        return self._last == shanghai_date(self._clock.now())

    def run_once(self) -> int:
        today = shanghai_date(self._clock.now())
        if today == self._last:
            return 0
        with self._unit_of_work() as uow:
            fired = evaluate_calendar(uow, today, self._settings)
            uow.commit()
        self._last = today
        return fired
