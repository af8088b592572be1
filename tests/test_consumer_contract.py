"""The consumer runner on both buses: poison pills (C16), redelivery (C18), bounded retries."""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from shared.envelope import Message, to_message, wrap
from shared.events import DEAD_LETTER_TOPIC
from shared.events.alerts import UpliftRequested
from shared.timeutil import UTC
from tests.toy import service as toy


def uplift_event(city: str, uplift_id: str) -> UpliftRequested:
    return UpliftRequested(
        uplift_id=uplift_id, rule_id="heat", rule_version=1, city_code=city, percent="15",
        start_day="2024-07-03", end_day="2024-07-03", reason="heat_alert", requested_at=datetime(2024, 7, 1, tzinfo=UTC),
    )


@pytest.fixture(params=["embedded", "kafka"])
def toy_host(request, embedded_host, kafka_host):
    factory = embedded_host if request.param == "embedded" else kafka_host
    host = factory([toy.SERVICE])
    with TestClient(host.app()) as client:
        for city, quota in (("310000", "200000"), ("330100", "100000")):
            assert client.put(f"/api/v1/toy/quotas/{city}", json={"city_code": city, "quota": quota}).status_code == 200
        yield host, client


def dead_letters(bus, expected: int, timeout: float = 30.0) -> list[Message]:
    consumer = bus.consumer(f"dlq-reader-{uuid.uuid4().hex[:6]}", [DEAD_LETTER_TOPIC])
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while len(got) < expected and time.monotonic() < deadline:
            got.extend(consumer.poll(0.5))
    finally:
        consumer.close()
    return got


def test_duplicate_delivery_is_applied_once(toy_host):
    """C18: the same event delivered twice (crash between DB commit and offset commit) → 230,000 once."""
    host, client = toy_host
    envelope = wrap(uplift_event("310000", "e-0001"), producer="alerts", now=datetime(2024, 7, 1, tzinfo=UTC))
    message = to_message(envelope, UpliftRequested.TOPIC)
    host.bus.publish([message])
    host.bus.publish([message])
    host.wait_until_quiet(60)
    assert client.get("/api/v1/toy/quotas/310000").json() == {"city_code": "310000", "quota": "230000", "applied": 1}


def test_poison_message_goes_to_dead_letter_and_consumer_continues(toy_host):
    """C16: good, truncated invalid UTF-8, good → both good ones applied, the poison one dead-lettered."""
    host, client = toy_host
    good_1 = to_message(wrap(uplift_event("310000", "p-1"), producer="alerts", now=datetime(2024, 7, 1, tzinfo=UTC)),
                        UpliftRequested.TOPIC)
    good_2 = to_message(wrap(uplift_event("330100", "p-2"), producer="alerts", now=datetime(2024, 7, 1, tzinfo=UTC)),
                        UpliftRequested.TOPIC)
    poison = Message(topic=UpliftRequested.TOPIC, key=b"310000", value=b'{"city":"\xe4\xb8', headers=good_1.headers)
    host.bus.publish([good_1, poison, good_2])
    host.wait_until_quiet(60)
    assert client.get("/api/v1/toy/quotas/310000").json()["quota"] == "230000"
    assert client.get("/api/v1/toy/quotas/330100").json()["quota"] == "115000"
    [dead] = dead_letters(host.bus, 1)
    assert dead.value == b'{"city":"\xe4\xb8'
    assert dead.header("dlq_consumer") == "toy.uplifts"
    assert dead.header("dlq_topic") == UpliftRequested.TOPIC
    assert dead.header("dlq_error").startswith("undecodable: ")
    assert int(dead.header("dlq_offset")) >= 0
    assert dead.header("dlq_partition") is not None
    # the group's committed position is past all three records: nothing is delivered again
    host.stop()
    consumer = host.bus.consumer("toy.uplifts", [UpliftRequested.TOPIC])
    try:
        leftovers = [m for _ in range(4) for m in consumer.poll(0.5)]
    finally:
        consumer.close()
    assert leftovers == []


def test_failing_handler_is_retried_a_bounded_number_of_times_then_dead_lettered(toy_host):
    host, client = toy_host
    toy.FAIL_CITIES.add("330100")
    try:
        messages = [
            to_message(wrap(uplift_event(city, f"f-{city}"), producer="alerts", now=datetime(2024, 7, 1, tzinfo=UTC)),
                       UpliftRequested.TOPIC)
            for city in ("330100", "310000")
        ]
        host.bus.publish(messages)
        host.wait_until_quiet(60)
    finally:
        toy.FAIL_CITIES.discard("330100")
    assert client.get("/api/v1/toy/quotas/330100").json()["quota"] == "100000"
    assert client.get("/api/v1/toy/quotas/310000").json()["quota"] == "230000"
    [dead] = dead_letters(host.bus, 1)
    assert dead.header("dlq_error") == "handler failed 3 times: RuntimeError('refusing 330100')"
