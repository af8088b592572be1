"""50 concurrent approvals of one request on the real PostgreSQL: one transition, 49 × 409."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from fastapi.testclient import TestClient
from negotiation_api_support import OPENED, headers, package_event, publish
from negotiation_service.bootstrap import SERVICE

from shared.clock import ReplayClock

WINDOW = "win-pkg-2024q3-v1"
API = "/api/v1/negotiation"


def test_fifty_concurrent_approvals_make_exactly_one_transition(pg_host, monkeypatch):
    monkeypatch.setenv("NEGOTIATION_SCHEDULER_POLL_SECONDS", "3600")
    host = pg_host([SERVICE], clock=ReplayClock(OPENED))
    with TestClient(host.app()) as client:
        publish(host, package_event(), OPENED)
        filed = client.post(f"{API}/windows/{WINDOW}/requests", headers=headers(host, "u_wang"),
                            json={"city_code": "310100", "claim": "700000", "category": "new_store",
                                  "reason": "新店延期开业"})
        assert filed.status_code == 201
        request_id = filed.json()["request_id"]
        tokens = [{"Authorization": "Bearer " + host.authenticator.mint(f"u_fin{i}", ["finance"])}
                  for i in range(50)]
        barrier = threading.Barrier(50)

        def approve(token: dict) -> tuple[int, str]:
            barrier.wait()
            response = client.post(f"{API}/requests/{request_id}/approve", headers=token, json={"comment": "同意"})
            return response.status_code, response.json().get("code", "")

        with ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(approve, tokens))
        statuses = Counter(status for status, _code in results)
        assert statuses == {200: 1, 409: 49}, results
        assert {code for status, code in results if status == 409} <= {"stale_version", "slot_already_decided"}

        request = client.get(f"{API}/requests/{request_id}", headers=headers(host, "u_hq")).json()
        assert request["status"] == "pending_director" and request["version"] == 2
        audit = client.get(f"{API}/audit", headers=headers(host, "u_hq"),
                           params={"entity": f"request:{request_id}"}).json()
        assert [row["action"] for row in audit] == ["request.filed", "request.approved_as_finance"]
        assert client.get(f"{API}/audit/verify", headers=headers(host, "u_hq")).json()["ok"] is True
