"""One contract, two buses: the embedded log and the real Kafka broker behave the same."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from shared.bus.base import Bus
from shared.bus.embedded import EmbeddedBus
from shared.bus.kafka import KafkaBus
from shared.envelope import Message, from_message, to_message, wrap
from shared.events import DEAD_LETTER_TOPIC
from shared.events.alerts import UpliftRequested
from shared.timeutil import UTC
from tests.fixtures import kafka_bootstrap

TOPIC = "contract.test"


def uplift(city: str, uplift_id: str = "u-1") -> UpliftRequested:
    return UpliftRequested(
        uplift_id=uplift_id, rule_id="heat", rule_version=1, city_code=city, percent="15",
        start_day="2024-07-01", end_day="2024-07-03", reason="高温 35℃ 连续三天", requested_at=datetime(2024, 6, 24, tzinfo=UTC),
    )


@pytest.fixture(params=["embedded", "kafka"])
def bus(request, tmp_path: Path):
    prefix = f"c{uuid.uuid4().hex[:8]}."
    if request.param == "embedded":
        bus: Bus = EmbeddedBus(str(tmp_path / "bus.db"), topic_prefix=prefix)
    else:
        bus = KafkaBus(kafka_bootstrap(), topic_prefix=prefix, partitions=3)
    bus.ensure_topics([TOPIC, DEAD_LETTER_TOPIC, UpliftRequested.TOPIC])
    yield bus
    bus.close()


def drain(consumer, expected: int, timeout: float = 30.0) -> list[Message]:
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < expected and time.monotonic() < deadline:
        got.extend(consumer.poll(0.5))
    return got


def test_per_key_order_headers_and_chinese_text_survive(bus: Bus):
    envelopes = [wrap(uplift(city, f"u-{i}"), producer="test", now=datetime(2024, 6, 24, tzinfo=UTC))
                 for i, city in enumerate(["310000", "330100", "310000", "330100", "310000"])]
    bus.publish([to_message(envelope, UpliftRequested.TOPIC) for envelope in envelopes])
    consumer = bus.consumer("g-order", [UpliftRequested.TOPIC])
    try:
        got = drain(consumer, 5)
    finally:
        consumer.close()
    decoded = [from_message(message) for message in got]
    assert sorted(e.id for e in decoded) == sorted(e.id for e in envelopes)
    for city in ("310000", "330100"):
        assert [e.data["uplift_id"] for e in decoded if e.subject == city] == [
            e.data["uplift_id"] for e in envelopes if e.subject == city
        ]
    assert decoded[0].data["reason"] == "高温 35℃ 连续三天"
    assert {m.header("ce_specversion") for m in got} == {"1.0"}
    assert all(m.header("traceparent").startswith("00-") for m in got)
    assert all(m.key in (b"310000", b"330100") for m in got)


def test_uncommitted_records_are_delivered_again_committed_ones_are_not(bus: Bus):
    bus.publish([Message(topic=TOPIC, key=b"k", value=json.dumps({"n": n}).encode()) for n in range(4)])
    first = bus.consumer("g-redeliver", [TOPIC])
    got = drain(first, 4)
    assert [json.loads(m.value)["n"] for m in got] == [0, 1, 2, 3]
    first.commit(got[:2])  # crash after processing 4, having committed only 2
    first.close()
    second = bus.consumer("g-redeliver", [TOPIC])
    try:
        again = drain(second, 2)
        assert [json.loads(m.value)["n"] for m in again] == [2, 3]
        second.commit(again)
        assert second.poll(1.0) == []
    finally:
        second.close()


def test_groups_are_independent(bus: Bus):
    bus.publish([Message(topic=TOPIC, key=b"k", value=b'{"n":1}')])
    for group in ("g-a", "g-b"):
        consumer = bus.consumer(group, [TOPIC])
        try:
            assert [m.value for m in drain(consumer, 1)] == [b'{"n":1}']
        finally:
            consumer.close()
