"""Idempotent event consumers over either bus.

For every record: read its CloudEvents attributes, skip types this consumer does not handle, validate
its bytes into the event model (undecodable → dead-letter topic, move on), then in ONE database
transaction claim (consumer, event id) in the inbox and apply the handler; commit the bus offset only
after the database commit. A handler that keeps failing is retried a bounded number of times, then the
record is dead-lettered with its error.

Group commit: the records of one poll are applied in groups of up to `group_size`, each group in one
transaction (one inbox claim statement, every handler, one commit), which amortises the commit and
the round trips when a backlog is drained. All or nothing still holds per group; if any handler of a
group raises, the group is rolled back and its records are applied one per transaction as above
(the failed handler's try counts as its first attempt).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from shared.bus.base import Bus, BusConsumer
from shared.envelope import Envelope, Message, UndecodableMessage, decode_message, from_message
from shared.events import DEAD_LETTER_TOPIC, registry
from shared.events.base import Event
from shared.observability import EVENTS_CONSUMED, EVENTS_DEAD_LETTERED, EVENTS_DUPLICATE, event_id_var
from shared.outbox import UnitOfWork

log = logging.getLogger("quotaflow.consumer")

Handler = Callable[[Event, Envelope, UnitOfWork], None]


@dataclass
class ConsumerSpec:
    """What a service subscribes to: a consumer (group) name and a handler per event type."""

    name: str
    handlers: dict[str, Handler]
    topics: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.topics:
            self.topics = sorted({registry.topic_for(event_type) for event_type in self.handlers})


class EventConsumer:
    def __init__(
        self,
        spec: ConsumerSpec,
        *,
        bus: Bus,
        unit_of_work: Callable[[], UnitOfWork],
        max_attempts: int = 3,
        retry_backoff_seconds: float = 0.2,
        poll_seconds: float = 0.5,
        group_size: int = 100,
    ) -> None:
        self.spec = spec
        self._bus = bus
        self._unit_of_work = unit_of_work
        self._max_attempts = max_attempts
        self._backoff = retry_backoff_seconds
        self._poll = poll_seconds
        self._group_size = max(1, group_size)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._consumer: BusConsumer | None = None
        self.processed = 0

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        self._consumer = self._bus.consumer(self.spec.name, self.spec.topics)
        self._thread = threading.Thread(target=self._run, name=f"consumer-{self.spec.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        assert self._consumer is not None
        try:
            while not self._stop.is_set():
                try:
                    self.poll_once(self._consumer)
                except Exception:  # noqa: BLE001 - e.g. the broker is down: keep trying
                    log.exception("consumer %s poll failed; retrying", self.spec.name)
                    self._stop.wait(1.0)
        finally:
            self._consumer.close()

    # -- one step --------------------------------------------------------------------------
    def poll_once(self, consumer: BusConsumer) -> int:
        messages = consumer.poll(self._poll)
        if not messages:
            return 0
        for start in range(0, len(messages), self._group_size):
            if self._stop.is_set():
                consumer.commit(messages[:start])
                return start
            self.process_group(messages[start:start + self._group_size])
        consumer.commit(messages)
        return len(messages)

    def process(self, message: Message) -> None:
        self.process_group([message])

    def process_group(self, messages: list[Message]) -> None:
        """Decode the records (dead-lettering the undecodable ones), then apply the rest: in one
        transaction when there are several, else one by one."""
        decoded: list[tuple[Message, Envelope, Event, Handler]] = []
        for message in messages:
            try:
                envelope = from_message(message, with_data=False)  # the data is validated once, below
                handler = self.spec.handlers.get(envelope.type)
                if handler is None:
                    continue
                event = decode_message(envelope, message, registry)
                if event is None:
                    continue
            except UndecodableMessage as error:
                self._dead_letter(message, f"undecodable: {error}")
                continue
            decoded.append((message, envelope, event, handler))
        if len(decoded) > 1:
            failed = self._apply_together(decoded)
            if failed is None:
                return
        else:
            failed = ()
        for message, envelope, event, handler in decoded:  # one transaction each, bounded retries
            token = event_id_var.set(envelope.id)
            try:
                prior = failed[1] if failed and failed[0] == envelope.id else None
                self._apply(message, envelope, event, handler, prior_error=prior)
            finally:
                event_id_var.reset(token)

    def _apply_together(self, decoded: list[tuple[Message, Envelope, Event, Handler]]) -> tuple | None:
        """Apply several records in one transaction. Returns None when committed, else (the failing
        event id or None, its error) after rolling everything back."""
        failing: str | None = None
        try:
            with self._unit_of_work() as uow:
                fresh = uow.claim_many(self.spec.name, [envelope for _, envelope, _, _ in decoded])
                applied: list[Envelope] = []
                duplicates = 0
                for _message, envelope, event, handler in decoded:
                    if envelope.id not in fresh:
                        duplicates += 1
                        continue
                    fresh.discard(envelope.id)  # the same event twice in one group: applied once
                    failing = envelope.id
                    token = event_id_var.set(envelope.id)
                    try:
                        handler(event, envelope, uow)
                    finally:
                        event_id_var.reset(token)
                    applied.append(envelope)
                failing = None
                uow.commit()
        except Exception as error:  # noqa: BLE001 - rolled back: the records are applied one by one
            log.info("consumer %s: a group of %d rolled back (%s); applying one by one",
                     self.spec.name, len(decoded), error)
            return (failing, error)
        if duplicates:
            EVENTS_DUPLICATE.labels(self.spec.name).inc(duplicates)
        for envelope in applied:
            EVENTS_CONSUMED.labels(self.spec.name, envelope.type).inc()
        self.processed += len(applied)
        return None

    def _apply(self, message: Message, envelope: Envelope, event: Event, handler: Handler,
               prior_error: Exception | None = None) -> None:
        last_error: Exception | None = prior_error
        first = 1
        if prior_error is not None:  # its group's try was the first attempt
            log.warning("consumer %s failed on %s (attempt 1/%d): %s",
                        self.spec.name, envelope.id, self._max_attempts, prior_error)
            time.sleep(self._backoff)
            first = 2
        for attempt in range(first, self._max_attempts + 1):
            try:
                with self._unit_of_work() as uow:
                    if not uow.claim(self.spec.name, envelope):
                        EVENTS_DUPLICATE.labels(self.spec.name).inc()
                        return
                    handler(event, envelope, uow)
                    uow.commit()
                EVENTS_CONSUMED.labels(self.spec.name, envelope.type).inc()
                self.processed += 1
                return
            except IntegrityError as error:
                if "inbox" in str(error).lower():  # another replica applied it first
                    EVENTS_DUPLICATE.labels(self.spec.name).inc()
                    return
                last_error = error
            except Exception as error:  # noqa: BLE001 - bounded retries, then dead letter
                last_error = error
            log.warning(
                "consumer %s failed on %s (attempt %d/%d): %s",
                self.spec.name, envelope.id, attempt, self._max_attempts, last_error,
            )
            time.sleep(self._backoff * attempt)
        self._dead_letter(message, f"handler failed {self._max_attempts} times: {last_error!r}")

    def _dead_letter(self, message: Message, error: str) -> None:
        log.error(
            "consumer %s dead-letters %s[%d]@%d: %s",
            self.spec.name, message.topic, message.partition, message.offset, error,
        )
        headers = tuple(message.headers) + (
            ("dlq_consumer", self.spec.name.encode()),
            ("dlq_topic", message.topic.encode()),
            ("dlq_partition", str(message.partition).encode()),
            ("dlq_offset", str(message.offset).encode()),
            ("dlq_error", error[:4000].encode("utf-8")),
        )
        self._bus.publish(
            [Message(topic=DEAD_LETTER_TOPIC, key=message.key, value=message.value, headers=headers)]
        )
        EVENTS_DEAD_LETTERED.labels(self.spec.name).inc()
