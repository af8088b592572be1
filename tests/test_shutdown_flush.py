"""C17: 1,000 events written, then SIGTERM to the API process: every one reaches Kafka."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from services.system import free_port
from shared.bus.kafka import KafkaBus
from shared.events.alerts import UpliftRequested
from tests.fixtures import create_pg_database, kafka_bootstrap

ROOT = Path(__file__).resolve().parents[1]


def test_sigterm_flushes_every_committed_event_to_kafka(tmp_path):
    prefix = f"s{uuid.uuid4().hex[:8]}."
    port = free_port()
    env = {
        **os.environ,
        "QUOTAFLOW_MODE": "distributed", "QUOTAFLOW_ENVIRONMENT": "test", "QUOTAFLOW_TOPIC_PREFIX": prefix,
        "QUOTAFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap(), "QUOTAFLOW_DATA_DIR": str(tmp_path),
        "TOY_DATABASE_URL": create_pg_database("t_toy"),
    }
    log = open(tmp_path / "toy.log", "wb")
    child = subprocess.Popen([sys.executable, "-m", "tests.toy.serve", str(port)], cwd=ROOT, env=env,
                             stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(timeout=30) as http:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if http.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, (tmp_path / "toy.log").read_text()
                time.sleep(0.2)
            for n in range(1000):
                response = http.post(f"{base}/api/v1/toy/uplifts",
                                     json={"uplift_id": f"c17-{n:04d}", "city_code": "310000", "percent": "15"})
                assert response.status_code == 202
        child.send_signal(signal.SIGTERM)
        assert child.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after a graceful stop
    finally:
        if child.poll() is None:
            child.kill()
    engine = create_engine(env["TOY_DATABASE_URL"])
    with engine.connect() as connection:
        counts = connection.execute(text("select count(*), count(sent_at) from outbox")).one()
    engine.dispose()
    assert tuple(counts) == (1000, 1000)  # drained and marked sent only after the broker acknowledged
    bus = KafkaBus(kafka_bootstrap(), topic_prefix=prefix)
    consumer = bus.consumer(f"c17-count-{uuid.uuid4().hex[:6]}", [UpliftRequested.TOPIC])
    seen: set[str] = set()
    deadline = time.monotonic() + 60
    try:
        while len(seen) < 1000 and time.monotonic() < deadline:
            for message in consumer.poll(1.0):
                seen.add(json.loads(message.value)["uplift_id"])
    finally:
        consumer.close()
        bus.close()
    assert len(seen) == 1000
