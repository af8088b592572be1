"""The worker that closes windows on time: polls the durable schedule with the injected clock."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from pathlib import Path

from negotiation_service.adapters import scheduler_store
from negotiation_service.application import windows
from shared.background import PollingLoop
from shared.clock import Clock
from shared.outbox import UnitOfWork

log = logging.getLogger("quotaflow.negotiation.scheduler")

MAX_ATTEMPTS = 5


class WindowCloser:
    def __init__(self, unit_of_work: Callable[[], UnitOfWork], clock: Clock, pdf_dir: Path | None,
                 poll_seconds: float = 0.5, worker_id: str = "") -> None:
        self._unit_of_work = unit_of_work
        self._clock = clock
        self._pdf_dir = pdf_dir
        self._poll = poll_seconds
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.closed: list[str] = []
        self._loop = PollingLoop("negotiation-window-closer", self.run_due, poll_seconds)

    def start(self) -> None:
        self._loop.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._loop.stop(timeout)

    def run_due(self) -> int:
        """Run every job due at the clock's now; returns how many this worker ran."""
        now = self._clock.now()
        with self._unit_of_work() as uow:
            due = scheduler_store.due_jobs(uow.session, now)
        ran = 0
        for job in due:
            if job.kind != windows.CLOSE_WINDOW:
                continue
            try:
                with self._unit_of_work() as uow:
                    if not scheduler_store.claim(uow.session, job.job_id, uow.now(), self.worker_id):
                        continue
                    windows.close(uow, job.subject, self._pdf_dir)
                    uow.commit()
                ran += 1
                self.closed.append(job.subject)
                log.info("closed window %s", job.subject)
            except Exception as error:
                log.exception("closing window %s failed", job.subject)
                with self._unit_of_work() as uow:
                    scheduler_store.record_failure(uow.session, job.job_id, repr(error), MAX_ATTEMPTS)
                    uow.commit()
        return ran
