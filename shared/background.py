"""A background loop for workers (schedulers, deliveries, pulls): runs a step every few seconds,
sooner when woken, logs and survives a failing step, stops cleanly."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("quotaflow.background")


class PollingLoop:
    def __init__(self, name: str, step: Callable[[], object], interval_seconds: float) -> None:
        self.name = name
        self._step = step
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before the step: a wake that comes during it runs the next one at once
            try:
                self._step()
            except Exception:  # noqa: BLE001 - a worker keeps going; the next round retries
                log.exception("%s: step failed; retrying", self.name)
            self._wake.wait(self._interval)
