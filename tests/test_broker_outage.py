"""The broker stops while events are being written; after it restarts every event is delivered and
applied exactly once in effect (outbox + relay retries + inbox)."""

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from shared.bus.kafka import KafkaBus
from shared.envelope import Message
from tests.fixtures import kafka_bootstrap
from tests.toy import service as toy

ROOT = Path(__file__).resolve().parents[1]
CITIES = [f"{330100 + i * 100}" for i in range(12)]


def kafka_ctl(action: str) -> None:
    """Stop or start THE broker the tests use (`tests/run_all.sh` exports where it runs and its port):
    a kafka.sh left to its defaults would stop nothing and start a second broker."""
    broker = os.environ.get("QUOTAFLOW_TEST_KAFKA")
    if not broker:
        pytest.fail("QUOTAFLOW_TEST_KAFKA is not set: run with `make test`")
    port = broker.rsplit(":", 1)[-1]
    if not os.environ.get("RUN_DIR") or os.environ.get("KAFKA_PORT") != port:
        pytest.fail(f"RUN_DIR and KAFKA_PORT={port} must name the broker at {broker} (as `make test` sets them)")
    subprocess.run(["bash", str(ROOT / "deploy" / "kafka" / "kafka.sh"), action], check=True, timeout=150,
                   stdout=subprocess.DEVNULL)


@pytest.mark.kafka
def test_events_written_while_the_broker_is_down_are_delivered_once(kafka_host):
    host = kafka_host([toy.SERVICE])
    with TestClient(host.app()) as client:
        for city in CITIES:
            client.put(f"/api/v1/toy/quotas/{city}", json={"city_code": city, "quota": "200000"})
        for city in CITIES[:4]:
            client.post("/api/v1/toy/uplifts", json={"uplift_id": f"a-{city}", "city_code": city, "percent": "15"})
        kafka_ctl("stop")
        try:
            for city in CITIES[4:]:
                response = client.post("/api/v1/toy/uplifts",
                                       json={"uplift_id": f"b-{city}", "city_code": city, "percent": "15"})
                assert response.status_code == 202  # the API keeps working: events wait in the outbox
        finally:
            kafka_ctl("start")
        host.wait_until_quiet(180)
        quotas = {city: client.get(f"/api/v1/toy/quotas/{city}").json() for city in CITIES}
    assert {city: (q["quota"], q["applied"]) for city, q in quotas.items()} == {
        city: ("230000", 1) for city in CITIES}
    assert host.unsent_events() == 0


@pytest.mark.kafka
def test_records_whose_commit_failed_are_read_again_and_then_committed():
    """A consumer applied records, then the broker went away before their offsets were committed:
    the consumer reads them again once the broker is back (the inbox makes that harmless) and their
    commit then holds. Without the rewind its position was past them and the group's lag stayed up."""
    bus = KafkaBus(kafka_bootstrap(), topic_prefix=f"o{uuid.uuid4().hex[:8]}.", partitions=1)
    try:
        bus.ensure_topics(["outage.test"])
        bus.publish([Message(topic="outage.test", key=b"k", value=json.dumps({"n": n}).encode()) for n in range(3)])
        consumer = bus.consumer("g-outage", ["outage.test"])
        got = _drain(consumer, 3)
        assert [json.loads(m.value)["n"] for m in got] == [0, 1, 2]
        kafka_ctl("stop")
        try:
            with pytest.raises(Exception):  # noqa: B017 - whatever kafka-python raises for a broker that is gone
                consumer.commit(got)
        finally:
            kafka_ctl("start")
        # As the consumer loop does: read, apply, commit; a commit the restarted coordinator refuses
        # (the member must rejoin the group first) rewinds again, and the next poll rejoins.
        readings = []
        for _attempt in range(5):
            again = _drain(consumer, 3, timeout=120)
            readings.append([json.loads(m.value)["n"] for m in again])
            try:
                consumer.commit(again)
                break
            except Exception:  # noqa: BLE001 - e.g. CommitFailedError (UnknownMemberId) right after the restart
                continue
        assert readings and all(reading == [0, 1, 2] for reading in readings), readings
        consumer.close()
        assert _backlog_settles_at_zero(bus, "g-outage", ["outage.test"])
    finally:
        bus.close()


def _drain(consumer, expected: int, timeout: float = 30.0) -> list[Message]:
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while len(got) < expected and time.monotonic() < deadline:
        try:
            got.extend(consumer.poll(0.5))
        except Exception:  # noqa: BLE001 - the group coordinator is still loading after the restart
            time.sleep(0.5)
    return got


def _backlog_settles_at_zero(bus: KafkaBus, group: str, topics: list[str], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if bus.backlog(group, topics) == 0:
                return True
        except Exception:  # noqa: BLE001 - coordinator loading
            pass
        time.sleep(0.5)
    return False
