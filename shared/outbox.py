"""The transactional outbox and the idempotent-consumer inbox, as tables any service adds to its
own metadata, and the unit of work that writes state and events in one transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from shared.clock import Clock
from shared.db import UTCDateTime, set_based_upsert
from shared.envelope import Envelope, SerializedEvent, envelope_json, wrap, wrap_json
from shared.events.base import Event


def add_outbox_tables(metadata: MetaData) -> tuple[Table, Table]:
    """Adds `outbox` and `inbox` to a service's metadata (its migrations create them)."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("event_type", String(120), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("event_key", String(200), nullable=False),
        Column("envelope", Text, nullable=False),
        Column("created_at", UTCDateTime, nullable=False),
        Column("sent_at", UTCDateTime, nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
    )
    Index("ix_outbox_unsent", outbox.c.sent_at, outbox.c.id)
    inbox = Table(
        "inbox",
        metadata,
        Column("consumer", String(120), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(120), nullable=False),
        Column("processed_at", UTCDateTime, nullable=False),
    )
    return outbox, inbox


class OutboxSignal:
    """Wakes the relay as soon as a unit of work commits events (it also polls, so nothing waits on it)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def notify(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> None:
        self._event.wait(timeout)
        self._event.clear()


class UnitOfWork:
    """One transaction: state changes plus the events they cause, committed together.

        with uow_factory() as uow:
            uow.session.add(...)
            uow.publish(SomethingHappened(...))
            uow.commit()

    Leaving the block without `commit()` rolls everything back, events included.

    Published events are written to the outbox at `commit()`, in publish order, in one statement
    (nothing reads the outbox inside the transaction that writes it). Work that should run once
    per transaction rather than once per event (a consumer applying a group of events, e.g. one
    recomputation for every city the group touched) gathers its items with `pending(key, apply)`.
    """

    def __init__(
        self,
        sessions: sessionmaker,
        outbox: Table,
        inbox: Table,
        *,
        producer: str,
        clock: Clock,
        signal: OutboxSignal | None = None,
        traceparent: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._outbox = outbox
        self._inbox = inbox
        self._producer = producer
        self.clock = clock
        self._signal = signal
        self._traceparent = traceparent
        self.session: Session
        self.published: list[Envelope] = []
        self.published_count = 0
        self._committed = False
        self._outbox_rows: list[dict] = []
        self._pending: dict[str, Pending] = {}

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self.published = []
        self.published_count = 0
        self._committed = False
        self._outbox_rows = []
        self._pending = {}
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if not self._committed:
                self.session.rollback()
        finally:
            self.session.close()

    def now(self) -> datetime:
        return self.clock.now()

    def publish(self, event: Event) -> Envelope:
        envelope = wrap(event, producer=self._producer, now=self.now(), traceparent=self._traceparent)
        self._outbox_rows.append({"event_id": envelope.id, "event_type": envelope.type, "topic": event.TOPIC,
                                  "event_key": event.key(), "envelope": envelope_json(envelope),
                                  "created_at": envelope.time, "attempts": 0})
        self.published.append(envelope)
        self.published_count += 1
        return envelope

    def publish_many(self, events: list[Event | SerializedEvent]) -> None:
        """Many events into the outbox in one statement, in order (a large import's batches): each
        envelope is serialised straight to JSON, never held as a dict (`uow.published` lists only
        the envelopes of `publish`)."""
        if not events:
            return
        now = self.now()
        rows = []
        for event in events:
            event_id, text = wrap_json(event, producer=self._producer, now=now, traceparent=self._traceparent)
            rows.append({"event_id": event_id, "event_type": event.TYPE, "topic": event.TOPIC,
                         "event_key": event.key(), "envelope": text, "created_at": now, "attempts": 0})
        self._outbox_rows.extend(rows)
        self.published_count += len(rows)
        if len(self._outbox_rows) >= _OUTBOX_FLUSH_ROWS:  # a large import: do not hold it all in memory
            self._flush_outbox()

    def pending(self, key: str, apply: Callable[[list[T]], object]) -> Pending[T]:
        """This transaction's `Pending` under `key`, created with `apply` on first use: the items added
        to it are applied together, in order, at `commit()` before the outbox is written (`apply` may
        publish), or earlier by `flush_pending(key)`."""
        if key not in self._pending:
            self._pending[key] = Pending(apply)
        return self._pending[key]

    def flush_pending(self, key: str) -> None:
        """Apply what is pending under `key` now (before work whose outcome depends on it)."""
        if key in self._pending:
            self._pending[key].flush()

    def _flush_outbox(self) -> None:
        if self._outbox_rows:
            rows, self._outbox_rows = self._outbox_rows, []
            self.session.execute(self._outbox.insert(), rows)

    def claim(self, consumer: str, envelope: Envelope) -> bool:
        """Record (consumer, event id) in the inbox; False if this consumer already processed it."""
        already = self.session.execute(
            select(self._inbox.c.event_id).where(
                self._inbox.c.consumer == consumer, self._inbox.c.event_id == envelope.id
            )
        ).first()
        if already is not None:
            return False
        self.session.execute(
            self._inbox.insert().values(
                consumer=consumer, event_id=envelope.id, event_type=envelope.type, processed_at=self.now()
            )
        )
        return True

    def claim_many(self, consumer: str, envelopes: list[Envelope]) -> set[str]:
        """Record many (consumer, event id) in one statement; returns the ids not processed before
        (`INSERT … ON CONFLICT DO NOTHING RETURNING`: a concurrent replica's claim of the same id
        makes ours skip it rather than fail)."""
        now = self.now()
        rows = {
            envelope.id: {"consumer": consumer, "event_id": envelope.id, "event_type": envelope.type,
                          "processed_at": now}
            for envelope in envelopes
        }
        if not rows:
            return set()
        claimed = set_based_upsert(self.session, self._inbox, list(rows.values()), ("consumer", "event_id"),
                                   keep_existing=True, returning=("event_id",))
        return {row[0] for row in claimed}

    def commit(self) -> None:
        while any(gathered.items for gathered in self._pending.values()):  # applying may add more
            for gathered in list(self._pending.values()):
                gathered.flush()
        self._flush_outbox()
        self.session.commit()
        self._committed = True
        if self.published_count and self._signal is not None:
            self._signal.notify()

    def rollback(self) -> None:
        self.session.rollback()


UnitOfWorkFactory = Callable[[], UnitOfWork]

T = TypeVar("T")


class Pending(Generic[T]):
    """Items a transaction's handlers add, applied together in order by `apply` (see `UnitOfWork.pending`)."""

    def __init__(self, apply: Callable[[list[T]], object]) -> None:
        self.items: list[T] = []
        self._apply = apply

    def add(self, item: T) -> None:
        self.items.append(item)

    def flush(self) -> None:
        items, self.items = self.items, []
        if items:
            self._apply(items)

_OUTBOX_FLUSH_ROWS = 5000


def is_duplicate_inbox_error(error: Exception) -> bool:
    """A concurrent replica claimed the same event first: the unique key rejected our claim."""
    return isinstance(error, IntegrityError) and "inbox" in str(error).lower()
