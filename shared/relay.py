"""The outbox relay: publishes committed events in order, then marks them sent.

At-least-once: a crash after the broker acknowledged but before `sent_at` was written publishes
the batch again; consumers de-duplicate by event id (inbox).
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from sqlalchemy import Table, select, update
from sqlalchemy.engine import Engine

from shared.bus.base import Bus
from shared.envelope import message_from_envelope_json
from shared.observability import EVENTS_PUBLISHED, RELAY_FAILURES
from shared.outbox import OutboxSignal
from shared.timeutil import UTC

log = logging.getLogger("quotaflow.relay")


class OutboxRelay:
    def __init__(
        self,
        *,
        name: str,
        engine: Engine,
        outbox: Table,
        bus: Bus,
        signal: OutboxSignal,
        batch_size: int = 500,
        idle_poll_seconds: float = 0.5,
        max_backoff_seconds: float = 5.0,
    ) -> None:
        self.name = name
        self._engine = engine
        self._outbox = outbox
        self._bus = bus
        self._signal = signal
        self._batch_size = batch_size
        self._idle_poll = idle_poll_seconds
        self._max_backoff = max_backoff_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"relay-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._signal.notify()
        if self._thread is not None:
            self._thread.join(timeout)
        try:
            self.publish_pending()  # drain what is committed, then flush (casebook C17)
        except Exception:  # noqa: BLE001 - logged; the rows stay in the outbox for next start
            log.exception("relay %s could not drain its outbox at shutdown; rows stay unsent", self.name)

    def _run(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                published = self.publish_pending()
                backoff = 0.1
                if published == 0:
                    self._signal.wait(self._idle_poll)
            except Exception as exc:  # noqa: BLE001 - a broker outage must not kill the relay
                RELAY_FAILURES.labels(self.name).inc()
                log.error("relay %s failed to publish, retrying in %.1fs: %s", self.name, backoff, exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    def publish_pending(self) -> int:
        """Publish one batch of unsent events in outbox order; returns how many were sent."""
        total = 0
        while True:
            rows = self._next_batch()
            if not rows:
                return total
            messages = [message_from_envelope_json(row.envelope, row.topic) for row in rows]
            try:
                self._bus.publish(messages)
            except Exception as exc:
                self._record_failure([row.id for row in rows], str(exc))
                raise
            self._mark_sent([row.id for row in rows])
            for row in rows:
                EVENTS_PUBLISHED.labels(self.name, row.event_type).inc()
            total += len(rows)
            if len(rows) < self._batch_size:
                return total

    def _next_batch(self):
        with self._engine.connect() as connection:
            return connection.execute(
                select(self._outbox.c.id, self._outbox.c.topic, self._outbox.c.envelope, self._outbox.c.event_type)
                .where(self._outbox.c.sent_at.is_(None))
                .order_by(self._outbox.c.id)
                .limit(self._batch_size)
            ).all()

    def _mark_sent(self, ids: list[int]) -> None:
        with self._engine.begin() as connection:
            connection.execute(
                update(self._outbox).where(self._outbox.c.id.in_(ids)).values(sent_at=datetime.now(UTC))  # wall clock: bookkeeping
            )

    def _record_failure(self, ids: list[int], error: str) -> None:
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    update(self._outbox)
                    .where(self._outbox.c.id.in_(ids))
                    .values(attempts=self._outbox.c.attempts + 1, last_error=error[:2000])
                )
        except Exception:  # noqa: BLE001
            log.exception("relay %s could not record a publish failure", self.name)

