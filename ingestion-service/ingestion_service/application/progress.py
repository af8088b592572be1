"""Progress of running jobs, kept in memory (the job's transaction holds the database until it ends)."""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    phase: str
    percent: int


class ProgressBoard:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Progress] = {}

    def set(self, job_id: str, phase: str, percent: int) -> None:
        with self._lock:
            self._jobs[job_id] = Progress(phase, max(0, min(100, percent)))

    def get(self, job_id: str) -> Progress | None:
        with self._lock:
            return self._jobs.get(job_id)

    def clear(self, job_id: str) -> None:
        with self._lock:
            self._jobs.pop(job_id, None)
