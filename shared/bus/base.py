"""The bus contract both backends (Kafka, embedded) fulfil.

- `publish(messages)` returns only once every message is durably accepted (Kafka: acks=all and
  flushed; embedded: committed to its log file), in the given order per key; it raises otherwise.
- `consumer(group, topics)` gives a consumer whose `poll` returns records after the group's
  committed position; `commit(records)` moves that position past them. Records that were polled
  but not committed are delivered again to the next consumer of the group (at-least-once).
- `backlog(group, topics)` and `log_end()` read the log itself (a group's lag; what has been
  appended so far), so that a driver can tell "nothing left to do" without trusting timings.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

from shared.envelope import Message


class BusConsumer(ABC):
    @abstractmethod
    def poll(self, timeout_seconds: float, max_records: int = 500) -> list[Message]: ...

    @abstractmethod
    def commit(self, messages: Sequence[Message]) -> None:
        """Commit past the highest offset per (topic, partition) among `messages`."""

    @abstractmethod
    def close(self) -> None: ...


class Bus(ABC):
    kind: str

    @abstractmethod
    def backlog(self, group: str, topics: Sequence[str]) -> int:
        """How many records of `topics` the group has not committed yet (its lag)."""

    @abstractmethod
    def log_end(self) -> int | None:
        """A number that grows with every record appended to this bus's topics (None: cannot say
        now, look again)."""

    def __init__(self, topic_prefix: str = "") -> None:
        self.topic_prefix = topic_prefix

    def physical(self, topic: str) -> str:
        return f"{self.topic_prefix}{topic}"

    def logical(self, topic: str) -> str:
        return topic[len(self.topic_prefix):] if topic.startswith(self.topic_prefix) else topic

    @abstractmethod
    def ensure_topics(self, topics: Sequence[str]) -> None: ...

    @abstractmethod
    def publish(self, messages: Sequence[Message]) -> None: ...

    @abstractmethod
    def consumer(self, group: str, topics: Sequence[str]) -> BusConsumer: ...

    @abstractmethod
    def ping(self) -> None:
        """Raise if the bus is unreachable (readiness)."""

    @abstractmethod
    def close(self) -> None: ...


def highest_offsets(messages: Sequence[Message]) -> dict[tuple[str, int], int]:
    highest: dict[tuple[str, int], int] = {}
    for message in messages:
        position = (message.topic, message.partition)
        highest[position] = max(highest.get(position, -1), message.offset)
    return highest
