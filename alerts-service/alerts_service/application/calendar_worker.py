"""Evaluates calendar-window rules whenever the clock's Shanghai date changes (and at start)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date

from alerts_service.application.evaluation import evaluate_calendar
from alerts_service.settings import AlertsSettings
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
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="alerts-calendar", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001
                log.exception("calendar evaluation failed")
            self._stop.wait(self._settings.calendar_poll_seconds)

    def run_once(self) -> int:
        today = shanghai_date(self._clock.now())
        if today == self._last:
            return 0
        with self._unit_of_work() as uow:
            fired = evaluate_calendar(uow, today, self._settings)
            uow.commit()
        self._last = today
        return fired
