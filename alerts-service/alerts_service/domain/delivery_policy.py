"""How notifications are delivered: per-robot rate limit, queue or digest, retries.

- WeCom allows at most 20 messages per minute per robot. `RobotRateLimiter` keeps a sliding
  60-second window of send instants per robot.
- `plan_sends` takes a robot's pending messages: what fits the window is sent; when more are
  pending than there are free slots, the last free slot carries a digest of all the rest
  (`merge_overflow=True`), or the rest stay queued for the next window.
- `classify_response`: HTTP 200 with `errcode` 0 is success; HTTP 200 with another errcode is a
  failure. 45009 (rate limited) and −1 (system busy), HTTP 429 and 5xx and transport errors are
  retried with exponential backoff; everything else is permanent and not retried.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

WECOM_LIMIT_PER_MINUTE = 20
WINDOW = timedelta(seconds=60)
RATE_LIMITED = 45009
SYSTEM_BUSY = -1
RETRYABLE_ERRCODES = frozenset({RATE_LIMITED, SYSTEM_BUSY})

SUCCESS = "success"
RETRY = "retry"
PERMANENT = "permanent"


class RobotRateLimiter:
    def __init__(self, limit: int = WECOM_LIMIT_PER_MINUTE, window: timedelta = WINDOW) -> None:
        self.limit = limit
        self.window = window
        self._sent: dict[str, deque[datetime]] = {}

    def _recent(self, robot: str, now: datetime) -> deque[datetime]:
        sent = self._sent.setdefault(robot, deque())
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        return sent

    def free_slots(self, robot: str, now: datetime) -> int:
        return max(0, self.limit - len(self._recent(robot, now)))

    def try_acquire(self, robot: str, now: datetime) -> bool:
        sent = self._recent(robot, now)
        if len(sent) >= self.limit:
            return False
        sent.append(now)
        return True

    def next_free_at(self, robot: str, now: datetime) -> datetime:
        sent = self._recent(robot, now)
        if len(sent) < self.limit:
            return now
        return sent[0] + self.window


@dataclass(frozen=True)
class SendPlan:
    send: tuple[str, ...]  # message keys to send now, in order
    digest_of: tuple[str, ...]  # keys merged into one digest sent in the last free slot
    queued: tuple[str, ...]  # keys left for a later window


def plan_sends(pending: Sequence[str], free_slots: int, merge_overflow: bool = True) -> SendPlan:
    pending = tuple(pending)
    if len(pending) <= free_slots:
        return SendPlan(pending, (), ())
    if free_slots <= 0:
        return SendPlan((), (), pending)
    if merge_overflow:
        return SendPlan(pending[: free_slots - 1], pending[free_slots - 1 :], ())
    return SendPlan(pending[:free_slots], (), pending[free_slots:])


@dataclass(frozen=True)
class DeliveryOutcome:
    status: str  # success | retry | permanent
    http_status: int | None
    errcode: int | None
    errmsg: str


def classify_response(http_status: int | None, body: Any, transport_error: str | None = None) -> DeliveryOutcome:
    if transport_error is not None or http_status is None:
        return DeliveryOutcome(RETRY, http_status, None, transport_error or "no response")
    if http_status == 429 or http_status >= 500:
        return DeliveryOutcome(RETRY, http_status, None, f"HTTP {http_status}")
    if http_status != 200:
        return DeliveryOutcome(PERMANENT, http_status, None, f"HTTP {http_status}")
    if not isinstance(body, dict) or not isinstance(body.get("errcode"), int):
        return DeliveryOutcome(PERMANENT, http_status, None, "response has no errcode")
    errcode = body["errcode"]
    errmsg = str(body.get("errmsg", ""))
    if errcode == 0:
        return DeliveryOutcome(SUCCESS, http_status, 0, errmsg)
    if errcode in RETRYABLE_ERRCODES:
        return DeliveryOutcome(RETRY, http_status, errcode, errmsg)
    return DeliveryOutcome(PERMANENT, http_status, errcode, errmsg)


def classify_webhook_response(http_status: int | None, transport_error: str | None = None) -> DeliveryOutcome:
    """A generic outgoing webhook: any 2xx is success."""
    if transport_error is not None or http_status is None:
        return DeliveryOutcome(RETRY, http_status, None, transport_error or "no response")
    if 200 <= http_status < 300:
        return DeliveryOutcome(SUCCESS, http_status, None, "")
    if http_status == 429 or http_status >= 500:
        return DeliveryOutcome(RETRY, http_status, None, f"HTTP {http_status}")
    return DeliveryOutcome(PERMANENT, http_status, None, f"HTTP {http_status}")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(seconds=60)

    def delay_before(self, attempt: int) -> timedelta | None:
        """The wait before attempt number `attempt` (2, 3, …): base × 2^(attempt−2), capped;
        None when no attempt is left."""
        if attempt < 2:
            return timedelta(0)
        if attempt > self.max_attempts:
            return None
        return min(self.base_delay * (2 ** (attempt - 2)), self.max_delay)
