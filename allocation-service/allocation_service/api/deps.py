"""What the routes need: the service's units of work, sessions, settings; If-Match parsing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from allocation_service.settings import AllocationSettings
from shared.clock import Clock
from shared.outbox import UnitOfWork
from shared.problems import ProblemError


@dataclass
class AllocationContext:
    unit_of_work: Callable[[], UnitOfWork]
    sessions: sessionmaker
    clock: Clock
    settings: AllocationSettings
    data_dir: Path
    cache_key: str


MAX_VERSION = 2**31 - 1  # versions are 32-bit integers in the database


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(header: str | None, required: bool = True) -> int | None:
    if header is None or not header.strip():
        if required:
            raise ProblemError(428, "if_match_required", 'Send If-Match with the version you read (its ETag, e.g. "1")')
        return None
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isascii() or not value.isdigit() or len(value) > 10 or int(value) > MAX_VERSION:
        raise ProblemError(412, "bad_if_match", f"If-Match {header!r} is not a version ETag")
    return int(value)
