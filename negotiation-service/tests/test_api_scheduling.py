"""The window closes on time from the durable schedule: across a restart, and once with replicas."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from negotiation_api_support import OPENED, headers, package_event, publish, wait_for
from negotiation_service.adapters.tables import outbox, scheduled_jobs
from negotiation_service.bootstrap import SERVICE
from negotiation_service.scheduler import WindowCloser
from sqlalchemy import select

from shared.clock import ReplayClock
from shared.timeutil import SHANGHAI

WINDOW = "win-pkg-2024q3-v1"
API = "/api/v1/negotiation"
CLOSES = datetime(2024, 6, 4, 9, 0, tzinfo=SHANGHAI)


def window_status(client, host) -> str:
    return client.get(f"{API}/windows/{WINDOW}", headers=headers(host, "u_hq")).json()["status"]


def count_events(host, event_type: str) -> int:
    with host.services["negotiation"].context.engine.connect() as connection:
        return len(connection.execute(select(outbox.c.id).where(outbox.c.event_type == event_type)).all())


def test_window_closes_on_time_across_a_service_restart(embedded_host, monkeypatch):
    monkeypatch.setenv("NEGOTIATION_SCHEDULER_POLL_SECONDS", "0.05")
    clock = ReplayClock(OPENED)
    first = embedded_host([SERVICE], clock=clock)
    with TestClient(first.app()) as client:
        publish(first, package_event(), OPENED)
        filed = client.post(f"{API}/windows/{WINDOW}/requests", headers=headers(first, "u_wang"),
                            json={"city_code": "310100", "claim": "700000", "category": "weather", "reason": "台风"})
        assert filed.status_code == 201
    # the service is down; time passes to one hour before the deadline; a new process starts
    clock.set(CLOSES - timedelta(hours=1))
    second = embedded_host([SERVICE], clock=clock)
    with TestClient(second.app()) as client:
        time.sleep(0.3)  # several polls: nothing is due yet
        assert window_status(client, second) == "open"
        clock.set(CLOSES)
        wait_for(lambda: window_status(client, second) == "closed")
        window = client.get(f"{API}/windows/{WINDOW}", headers=headers(second, "u_hq")).json()
        assert window["closed_at_local"] == "2024-06-04T09:00:00+08:00"
        request = client.get(f"{API}/requests/{WINDOW}.310100.1", headers=headers(second, "u_hq")).json()
        assert request["status"] == "expired" and request["decided_at"] == "2024-06-04T01:00:00+00:00"
    assert count_events(second, "negotiation.window_closed") == 1


def test_a_deadline_missed_while_down_closes_at_the_deadline_on_start(embedded_host, monkeypatch):
    monkeypatch.setenv("NEGOTIATION_SCHEDULER_POLL_SECONDS", "0.05")
    clock = ReplayClock(OPENED)
    first = embedded_host([SERVICE], clock=clock)
    with TestClient(first.app()):
        publish(first, package_event(), OPENED)
    clock.set(CLOSES + timedelta(hours=5))
    second = embedded_host([SERVICE], clock=clock)
    with TestClient(second.app()) as client:
        wait_for(lambda: window_status(client, second) == "closed")
        body = client.get(f"{API}/windows/{WINDOW}", headers=headers(second, "u_hq")).json()
        assert body["closed_at"] == "2024-06-04T01:00:00+00:00"


@pytest.fixture(params=["sqlite", "postgres"])
def any_host(request, embedded_host, pg_host):
    return embedded_host if request.param == "sqlite" else pg_host


def test_several_replicas_close_a_window_exactly_once(any_host, monkeypatch):
    monkeypatch.setenv("NEGOTIATION_SCHEDULER_POLL_SECONDS", "3600")  # only our replicas poll
    clock = ReplayClock(OPENED)
    host = any_host([SERVICE], clock=clock)
    with TestClient(host.app()):
        publish(host, package_event(), OPENED)
        clock.set(CLOSES)
        runtime = host.services["negotiation"].runtime
        replicas = [WindowCloser(runtime.unit_of_work, clock, None, worker_id=f"replica-{i}") for i in range(4)]
        barrier = threading.Barrier(len(replicas))
        results: dict[str, int] = {}

        def run(replica: WindowCloser) -> None:
            barrier.wait()
            results[replica.worker_id] = replica.run_due()

        threads = [threading.Thread(target=run, args=(replica,)) for replica in replicas]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(results.values()) == [0, 0, 0, 1]
        assert count_events(host, "negotiation.window_closed") == 1
        with host.services["negotiation"].context.engine.connect() as connection:
            job = connection.execute(select(scheduled_jobs)).one()
        assert job.status == "done" and job.attempts == 1
        assert job.done_by == next(name for name, ran in results.items() if ran == 1)
