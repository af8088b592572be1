"""The negotiation window: the half-open interval [opened_at, opened_at + duration).

Boundary (casebook C13, pinned): an action at closes_at or later is refused as closed, one a
microsecond earlier is accepted. Everything is compared as aware instants; naive times are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from negotiation_service.domain.errors import ConflictError, RuleViolation, WindowClosedError, require_aware
from shared.timeutil import UTC

DEFAULT_DURATION = timedelta(hours=72)


class WindowStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class Window:
    window_id: str
    package_id: str
    package_version: int
    opened_at: datetime
    closes_at: datetime
    status: WindowStatus = WindowStatus.OPEN
    closed_at: datetime | None = None
    version: int = 1

    def accepts(self, at: datetime) -> bool:
        """Whether an action at `at` falls inside the window (and it has not been closed early)."""
        at = require_aware(at, "at")
        return self.status is WindowStatus.OPEN and self.opened_at <= at < self.closes_at

    def require_open(self, at: datetime) -> None:
        at = require_aware(at, "at")
        if at < self.opened_at:
            raise ConflictError(
                "window_not_open", f"the window opens at {self.opened_at.isoformat()}", opens_at=self.opened_at
            )
        if not self.accepts(at):
            raise WindowClosedError(at, self.closes_at)

    def is_due(self, now: datetime) -> bool:
        """Whether the window should be closed by the scheduler at `now`."""
        return self.status is WindowStatus.OPEN and require_aware(now, "now") >= self.closes_at

    def close(self, at: datetime) -> Window:
        at = require_aware(at, "at")
        if self.status is WindowStatus.CLOSED:
            raise ConflictError("window_already_closed", f"window {self.window_id} is already closed")
        if at < self.closes_at:
            raise ConflictError(
                "window_not_due", f"window {self.window_id} closes at {self.closes_at.isoformat()}, not before"
            )
        return replace(self, status=WindowStatus.CLOSED, closed_at=at.astimezone(UTC), version=self.version + 1)


def open_window(
    window_id: str,
    package_id: str,
    package_version: int,
    opened_at: datetime,
    duration: timedelta = DEFAULT_DURATION,
) -> Window:
    opened_at = require_aware(opened_at, "opened_at").astimezone(UTC)
    if duration <= timedelta(0):
        raise RuleViolation("invalid_duration", f"window duration must be positive, got {duration}")
    return Window(window_id, package_id, package_version, opened_at, opened_at + duration)
