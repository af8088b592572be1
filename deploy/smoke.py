"""Smoke checks for the local stack started by deploy/ (real Kafka broker, real PostgreSQL).

    python deploy/smoke.py kafka      # create a topic, produce one message, consume it back
    python deploy/smoke.py postgres   # connect to every database listed in $RUN_DIR/postgres/env
    python deploy/smoke.py all

Exits non-zero with a reason when a check fails. Uses KAFKA_PORT / RUN_DIR like the scripts.
"""

from __future__ import annotations

import os
import re
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RUN_DIR = Path(os.environ.get("RUN_DIR", REPO / ".run")).resolve()


def check_kafka() -> None:
    from kafka import KafkaConsumer, KafkaProducer
    from kafka.admin import KafkaAdminClient, NewTopic

    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", f"127.0.0.1:{os.environ.get('KAFKA_PORT', '9092')}")
    topic = f"smoke.{uuid.uuid4().hex[:8]}"
    t0 = time.monotonic()
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="deploy-smoke")
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
        payload = f"hello {uuid.uuid4()}".encode()
        producer.send(topic, key=b"k", value=payload).get(timeout=30)
        producer.flush()
        producer.close()
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"smoke-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=30_000,
        )
        got = None
        for message in consumer:
            got = message.value
            consumer.commit()
            break
        consumer.close()
        if got != payload:
            raise SystemExit(f"kafka: expected {payload!r}, consumed {got!r}")
        print(f"kafka OK: {bootstrap} topic {topic} round trip in {time.monotonic() - t0:.1f}s")
    finally:
        try:
            admin.delete_topics([topic])
        except Exception:  # noqa: BLE001 - best-effort cleanup of a throwaway topic
            pass
        admin.close()


def database_urls() -> dict[str, str]:
    env_file = RUN_DIR / "postgres" / "env"
    if not env_file.exists():
        raise SystemExit(f"postgres: {env_file} missing (run deploy/postgres/pg.py start)")
    urls = {}
    for line in env_file.read_text().splitlines():
        m = re.match(r"export (\w+_DATABASE_URL)='?([^']*)'?$", line.strip())
        if m:
            urls[m.group(1)] = m.group(2)
    if not urls:
        raise SystemExit(f"postgres: no *_DATABASE_URL in {env_file}")
    return urls


def check_postgres() -> None:
    import psycopg

    for name, url in database_urls().items():
        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            db, version = conn.execute("select current_database(), current_setting('server_version')").fetchone()
        print(f"postgres OK: {name} -> {db} (PostgreSQL {version})")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    if what in ("kafka", "all"):
        check_kafka()
    if what in ("postgres", "all"):
        check_postgres()
    if what not in ("kafka", "postgres", "all"):
        raise SystemExit("usage: smoke.py {kafka|postgres|all}")
