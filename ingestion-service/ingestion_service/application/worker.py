"""Runs queued import jobs one at a time, in the order they were submitted (outlets before sales)."""

from __future__ import annotations

import logging
import queue
import threading

from ingestion_service.adapters import jobs_repository as jobs
from ingestion_service.application.importer import Importer

log = logging.getLogger("quotaflow.ingestion.worker")
_STOP = object()


class ImportWorker:
    def __init__(self, importer: Importer) -> None:
        self.importer = importer
        self._queue: queue.Queue = queue.Queue()
        self._thread: threading.Thread | None = None

    def enqueue(self, job_id: str) -> None:
        self._queue.put(job_id)

    def start(self) -> None:
        with self.importer.sessions() as session:
            for job_id in jobs.unfinished_job_ids(session):  # left over by a crash or a restart
                self._queue.put(job_id)
        self._thread = threading.Thread(target=self._loop, name="ingestion-imports", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout=120)
        self._thread = None

    def _loop(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is _STOP:
                return
            try:
                self.importer.run(job_id)
            except Exception:  # noqa: BLE001 - keep serving the queue
                log.exception("import job %s could not be run", job_id)
