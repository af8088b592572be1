"""The broker stops while events are being written; after it restarts every event is delivered and
applied exactly once in effect (outbox + relay retries + inbox)."""

import os
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

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
