"""The Kafka bus (kafka-python): topics created by the project, acks=all, manual commits."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.structs import OffsetAndMetadata

from shared.bus.base import Bus, BusConsumer, highest_offsets
from shared.envelope import Message

log = logging.getLogger("quotaflow.bus.kafka")


class KafkaBus(Bus):
    kind = "kafka"

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        topic_prefix: str = "",
        partitions: int = 3,
        client_id: str = "quotaflow",
        send_timeout_seconds: float = 30.0,
    ) -> None:
        super().__init__(topic_prefix)
        self._bootstrap = bootstrap_servers
        self._partitions = partitions
        self._client_id = client_id
        self._send_timeout = send_timeout_seconds
        self._producer: KafkaProducer | None = None
        self._offsets_lock = threading.Lock()
        self._offsets_admin: KafkaAdminClient | None = None
        self._offsets_reader: KafkaConsumer | None = None

    def _admin(self) -> KafkaAdminClient:
        return KafkaAdminClient(bootstrap_servers=self._bootstrap, client_id=f"{self._client_id}-admin")

    def ensure_topics(self, topics: Sequence[str]) -> None:
        admin = self._admin()
        try:
            existing = set(admin.list_topics())
            wanted = [self.physical(topic) for topic in topics if self.physical(topic) not in existing]
            if not wanted:
                return
            new_topics = [NewTopic(name, num_partitions=self._partitions, replication_factor=1) for name in wanted]
            try:
                admin.create_topics(new_topics)
            except TopicAlreadyExistsError:
                pass
        finally:
            admin.close()

    def _ensure_producer(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = KafkaProducer(
                bootstrap_servers=self._bootstrap,
                client_id=f"{self._client_id}-producer",
                acks="all",
                retries=10,
                retry_backoff_ms=200,
                max_in_flight_requests_per_connection=1,  # keeps order across retries
                linger_ms=2,
                request_timeout_ms=15000,
                max_block_ms=int(self._send_timeout * 1000),
            )
        return self._producer

    def publish(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        producer = self._ensure_producer()
        futures = [
            producer.send(
                self.physical(message.topic),
                key=message.key,
                value=message.value,
                headers=list(message.headers),
            )
            for message in messages
        ]
        producer.flush(timeout=self._send_timeout)
        for future in futures:
            future.get(timeout=self._send_timeout)  # raises the delivery error, if any

    def consumer(self, group: str, topics: Sequence[str]) -> BusConsumer:
        return _KafkaConsumer(self, group, [self.physical(topic) for topic in topics])

    def ping(self) -> None:
        admin = self._admin()
        try:
            admin.list_topics()
        finally:
            admin.close()

    # -- reading the log's positions (quiet checks) -------------------------------------------
    def backlog(self, group: str, topics: Sequence[str]) -> int:
        with self._offsets_lock:
            try:
                ends = self._ends([self.physical(topic) for topic in topics])
                committed = self._offsets_clients()[0].list_group_offsets(group).get(group, {})
            except Exception:
                self._close_offsets_clients()  # reconnect next time (e.g. after a broker restart)
                raise
        return sum(max(0, end - max(committed[tp].offset, 0) if tp in committed else end) for tp, end in ends.items())

    def log_end(self) -> int | None:
        """The sum of the end offsets of every partition of this bus's topics."""
        with self._offsets_lock:
            try:
                reader = self._offsets_clients()[1]
                topics = [topic for topic in reader.topics() if topic.startswith(self.topic_prefix)]
                ends = self._ends(topics)
            except Exception:
                self._close_offsets_clients()
                raise
        return sum(ends.values())

    def _ends(self, topics: Sequence[str]) -> dict[TopicPartition, int]:
        reader = self._offsets_clients()[1]
        partitions = [TopicPartition(topic, partition) for topic in topics
                      for partition in sorted(reader.partitions_for_topic(topic) or ())]
        return reader.end_offsets(partitions) if partitions else {}

    def _offsets_clients(self) -> tuple[KafkaAdminClient, KafkaConsumer]:
        if self._offsets_admin is None or self._offsets_reader is None:
            self._offsets_admin = self._admin()
            self._offsets_reader = KafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None,
                                                 client_id=f"{self._client_id}-offsets", enable_auto_commit=False)
        return self._offsets_admin, self._offsets_reader

    def _close_offsets_clients(self) -> None:
        for client in (self._offsets_admin, self._offsets_reader):
            if client is not None:
                client.close()
        self._offsets_admin = self._offsets_reader = None

    def close(self) -> None:
        with self._offsets_lock:
            self._close_offsets_clients()
        if self._producer is not None:
            self._producer.flush(timeout=self._send_timeout)
            self._producer.close(timeout=self._send_timeout)
            self._producer = None


class _KafkaConsumer(BusConsumer):
    def __init__(self, bus: KafkaBus, group: str, topics: list[str]) -> None:
        self._bus = bus
        self._consumer = KafkaConsumer(
            bootstrap_servers=bus._bootstrap,
            group_id=group,
            client_id=f"{bus._client_id}-{group}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_interval_ms=300000,
            session_timeout_ms=10000,
            heartbeat_interval_ms=3000,
        )
        self._consumer.subscribe(topics)

    def poll(self, timeout_seconds: float, max_records: int = 500) -> list[Message]:
        batches = self._consumer.poll(timeout_ms=int(timeout_seconds * 1000), max_records=max_records)
        messages: list[Message] = []
        for records in batches.values():
            for record in records:
                messages.append(
                    Message(
                        topic=self._bus.logical(record.topic),
                        key=record.key,
                        value=record.value,
                        headers=tuple((key, value) for key, value in (record.headers or [])),
                        partition=record.partition,
                        offset=record.offset,
                    )
                )
        return messages

    def commit(self, messages: Sequence[Message]) -> None:
        if not messages:
            return
        offsets = {
            TopicPartition(self._bus.physical(topic), partition): OffsetAndMetadata(offset + 1, "", -1)
            for (topic, partition), offset in highest_offsets(messages).items()
        }
        try:
            self._consumer.commit(offsets)
        except Exception:
            self._rewind(messages)
            raise

    def _rewind(self, messages: Sequence[Message]) -> None:
        """After a failed commit (e.g. the broker went away), read these records again from the first
        of each partition: the consumer's position is already past them, so without this nothing would
        commit their offsets until later records came (the group's lag would stay up, and a restarted
        consumer would read them again anyway). Applying them again is harmless: the inbox skips them."""
        first: dict[tuple[str, int], int] = {}
        for message in messages:
            key = (message.topic, message.partition)
            first[key] = min(first.get(key, message.offset), message.offset)
        assigned = self._consumer.assignment()
        for (topic, partition), offset in first.items():
            assigned_partition = TopicPartition(self._bus.physical(topic), partition)
            if assigned_partition in assigned:
                self._consumer.seek(assigned_partition, offset)

    def close(self) -> None:
        self._consumer.close(autocommit=False)
