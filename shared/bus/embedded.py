"""The embedded bus: a durable, append-only log in a SQLite file, with consumer-group offsets.

Same contract as Kafka (one partition per topic, so order holds for every key): the outbox relays
append to it, consumers poll after their group's committed offset and commit after their database
commit. Survives restarts; a polled but uncommitted record is delivered again.
"""

from __future__ import annotations

import json
import threading
from base64 import b64decode, b64encode
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shared.bus.base import Bus, BusConsumer, highest_offsets
from shared.db import UTCDateTime, make_engine
from shared.envelope import Message
from shared.timeutil import UTC

_metadata = MetaData()
_log = Table(
    "bus_log",
    _metadata,
    Column("topic", String(200), nullable=False),
    Column("offset", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    Column("msg_key", LargeBinary, nullable=True),
    Column("headers", Text, nullable=False),
    Column("value", LargeBinary, nullable=False),
    Column("appended_at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("topic", "offset"),
)
_offsets = Table(
    "bus_offsets",
    _metadata,
    Column("consumer_group", String(200), nullable=False),
    Column("topic", String(200), nullable=False),
    Column("next_offset", BigInteger().with_variant(Integer, "sqlite"), nullable=False),
    PrimaryKeyConstraint("consumer_group", "topic"),
)


class EmbeddedBus(Bus):
    kind = "embedded"

    def __init__(self, path: str, topic_prefix: str = "") -> None:
        super().__init__(topic_prefix)
        self._engine = make_engine(f"sqlite:///{path}")
        _metadata.create_all(self._engine)
        self._appended = threading.Condition()
        self._appends = 0  # publishes finished: a consumer waits only if none finished since it read
        self._publishing = 0  # publishes begun (== `_appends` when none is in flight)
        self._closed = False

    def ensure_topics(self, topics: Sequence[str]) -> None:
        """Topics exist implicitly in the embedded log."""

    def publish(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        with self._appended:
            self._publishing += 1
        try:
            self._append(messages)
        finally:
            with self._appended:
                self._appends += 1
                self._appended.notify_all()

    def _append(self, messages: Sequence[Message]) -> None:
        with self._engine.begin() as connection:
            next_offsets: dict[str, int] = {}
            rows = []
            for message in messages:
                topic = self.physical(message.topic)
                if topic not in next_offsets:
                    last = connection.execute(
                        select(func.max(_log.c.offset)).where(_log.c.topic == topic)
                    ).scalar()
                    next_offsets[topic] = -1 if last is None else last
                next_offsets[topic] += 1
                rows.append(
                    {
                        "topic": topic,
                        "offset": next_offsets[topic],
                        "msg_key": message.key,
                        "headers": _encode_headers(message.headers),
                        "value": message.value,
                        "appended_at": datetime.now(UTC),
                    }
                )
            connection.execute(_log.insert(), rows)

    def consumer(self, group: str, topics: Sequence[str]) -> BusConsumer:
        return _EmbeddedConsumer(self, group, [self.physical(topic) for topic in topics])

    def ping(self) -> None:
        with self._engine.connect() as connection:
            connection.execute(select(1))

    def close(self) -> None:
        self._closed = True
        with self._appended:
            self._appended.notify_all()
        self._engine.dispose()

    def backlog(self, group: str, topics: Sequence[str]) -> int:
        physical = [self.physical(topic) for topic in topics]
        with self._engine.connect() as connection:
            committed = dict(connection.execute(
                select(_offsets.c.topic, _offsets.c.next_offset).where(
                    _offsets.c.consumer_group == group, _offsets.c.topic.in_(physical))).all())
            backlog = 0
            for topic in physical:  # one index lookup per topic (a GROUP BY would scan the whole log)
                last = connection.execute(select(func.max(_log.c.offset)).where(_log.c.topic == topic)).scalar()
                if last is not None:
                    backlog += max(0, last + 1 - committed.get(topic, 0))
            return backlog

    def log_end(self) -> int | None:
        """How many publishes have finished, or None while one is in flight. (This process is the
        log's only writer.)"""
        with self._appended:
            return self._appends if self._publishing == self._appends else None

    @property
    def appends(self) -> int:
        return self._appends

    # -- used by the consumer -------------------------------------------------------------
    def _read(
        self, group: str, topics: list[str], max_records: int, delivered: dict[str, int]
    ) -> list[Message]:
        """Records after the group's committed offset and after what this consumer already got."""
        with self._engine.connect() as connection:
            positions = dict(
                connection.execute(
                    select(_offsets.c.topic, _offsets.c.next_offset).where(
                        _offsets.c.consumer_group == group, _offsets.c.topic.in_(topics)
                    )
                ).all()
            )
            messages: list[Message] = []
            for topic in topics:
                if len(messages) >= max_records:
                    break
                rows = connection.execute(
                    select(_log)
                    .where(
                        _log.c.topic == topic,
                        _log.c.offset >= max(positions.get(topic, 0), delivered.get(topic, -1) + 1),
                    )
                    .order_by(_log.c.offset)
                    .limit(max_records - len(messages))
                ).all()
                messages.extend(
                    Message(
                        topic=self.logical(row.topic),
                        key=row.msg_key,
                        value=row.value,
                        headers=_decode_headers(row.headers),
                        partition=0,
                        offset=row.offset,
                    )
                    for row in rows
                )
            return messages

    def _commit(self, group: str, positions: dict[tuple[str, int], int]) -> None:
        with self._engine.begin() as connection:
            for (topic, _partition), offset in positions.items():
                statement = sqlite_insert(_offsets).values(
                    consumer_group=group, topic=self.physical(topic), next_offset=offset + 1
                )
                connection.execute(
                    statement.on_conflict_do_update(
                        index_elements=["consumer_group", "topic"],
                        set_={"next_offset": statement.excluded.next_offset},
                    )
                )

    def _wait(self, timeout_seconds: float, appends_seen: int) -> None:
        """Until the next publish after the `appends_seen`-th (no wait if it already came: a publish
        between a consumer's empty read and this wait would otherwise leave it asleep for the timeout)."""
        with self._appended:
            if not self._closed and self._appends == appends_seen:
                self._appended.wait(timeout_seconds)


class _EmbeddedConsumer(BusConsumer):
    def __init__(self, bus: EmbeddedBus, group: str, topics: list[str]) -> None:
        self._bus = bus
        self._group = group
        self._topics = topics
        self._delivered: dict[str, int] = {}

    def poll(self, timeout_seconds: float, max_records: int = 500) -> list[Message]:
        appends_seen = self._bus.appends
        messages = self._fresh(max_records)
        if not messages:
            self._bus._wait(timeout_seconds, appends_seen)
            messages = self._fresh(max_records)
        return messages

    def _fresh(self, max_records: int) -> list[Message]:
        # Like a Kafka consumer: within one session, continue after what was already handed out.
        messages = self._bus._read(self._group, self._topics, max_records, self._delivered)
        for message in messages:
            topic = self._bus.physical(message.topic)
            self._delivered[topic] = max(self._delivered.get(topic, -1), message.offset)
        return messages

    def commit(self, messages: Sequence[Message]) -> None:
        if messages:
            self._bus._commit(self._group, highest_offsets(messages))

    def close(self) -> None:
        self._delivered.clear()


def _encode_headers(headers: Sequence[tuple[str, bytes]]) -> str:
    return json.dumps([[key, b64encode(value).decode()] for key, value in headers])


def _decode_headers(text: str) -> tuple[tuple[str, bytes], ...]:
    return tuple((key, b64decode(value)) for key, value in json.loads(text))
