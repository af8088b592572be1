"""The integrity record over HTTP: scoring on final actuals, view-only next window, admin lift."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from negotiation_api_support import OPENED, actuals_event, headers, package_event, publish, wait_for
from negotiation_service.adapters.tables import outbox
from negotiation_service.bootstrap import SERVICE
from sqlalchemy import select

from shared.clock import ReplayClock

API = "/api/v1/negotiation"


def approved_claim(client, host, clock, package_id: str) -> str:
    publish(host, package_event(package_id, clock.now()), clock.now())
    window_id = f"win-{package_id}-v1"
    filed = client.post(f"{API}/windows/{window_id}/requests", headers=headers(host, "u_wang"),
                        json={"city_code": "310100", "claim": "700000", "category": "major_event",
                              "reason": "进博会推迟"})
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["request_id"]
    for user in ("u_zhang", "u_zhao"):
        assert client.post(f"{API}/requests/{request_id}/approve", headers=headers(host, user),
                           json={"comment": "同意"}).status_code == 200
    clock.advance(timedelta(hours=72))
    wait_for(lambda: client.get(f"{API}/windows/{window_id}", headers=headers(host, "u_hq")).json()["status"]
             == "closed")
    return request_id


def test_two_flagged_claims_make_the_next_window_view_only_until_an_admin_lifts_it(embedded_host, monkeypatch):
    monkeypatch.setenv("NEGOTIATION_SCHEDULER_POLL_SECONDS", "0.05")
    clock = ReplayClock(OPENED)
    host = embedded_host([SERVICE], clock=clock)
    with TestClient(host.app()) as client:
        first = approved_claim(client, host, clock, "pkg-a")
        second = approved_claim(client, host, clock, "pkg-b")
        # |400000 − 700000| / 700000 = 0.428571… and |1000000 − 700000| / 700000 = 0.428571…: both > 40%
        publish(host, actuals_event("pkg-a", {"310100": "400000", "330100": "90000"}, clock.now()), clock.now())
        clock.advance(timedelta(days=1))
        publish(host, actuals_event("pkg-b", {"310100": "1000000"}, clock.now()), clock.now())

        record = client.get(f"{API}/integrity", headers=headers(host, "u_wang")).json()
        assert [(r["request_id"], r["claim"], r["actual"], r["deviation"], r["flagged"]) for r in record] == [
            (first, "700000", "400000", "0.4286", True), (second, "700000", "1000000", "0.4286", True)]
        assert client.get(f"{API}/integrity", headers=headers(host, "u_chen")).json() == []
        assert len(client.get(f"{API}/integrity", headers=headers(host, "u_zhang")).json()) == 2
        assert len(client.get(f"{API}/integrity", headers=headers(host, "u_liu")).json()) == 0

        clock.advance(timedelta(days=2))
        publish(host, package_event("pkg-c", clock.now()), clock.now())
        window = client.get(f"{API}/windows/win-pkg-c-v1", headers=headers(host, "u_hq")).json()
        refused = client.post(f"{API}/windows/win-pkg-c-v1/requests", headers=headers(host, "u_wang"),
                              json={"city_code": "310100", "claim": "700000", "category": "other", "reason": "再试"})
        assert refused.status_code == 403
        problem = refused.json()
        assert problem["code"] == "requester_restricted"
        assert problem["until"] == window["closes_at"]
        assert problem["detail"].startswith(f"view-only until {window['closes_at_local']}: two most recent")

        restriction = client.get(f"{API}/restrictions", headers=headers(host, "u_wang")).json()[0]
        assert restriction["restriction_id"] == "res-u_wang-pkg-b-v1"
        not_admin = client.post(f"{API}/restrictions/{restriction['restriction_id']}/lift",
                                headers=headers(host, "u_hq"), json={"reason": "x"})
        assert not_admin.status_code == 403 and not_admin.json()["code"] == "admin_only"
        lifted = client.post(f"{API}/restrictions/{restriction['restriction_id']}/lift",
                             headers=headers(host, "u_admin"), json={"reason": "实际值含一次性团购，已核实"})
        assert lifted.status_code == 200 and lifted.json()["lift_reason"] == "实际值含一次性团购，已核实"
        allowed = client.post(f"{API}/windows/win-pkg-c-v1/requests", headers=headers(host, "u_wang"),
                              json={"city_code": "310100", "claim": "700000", "category": "other", "reason": "再试"})
        assert allowed.status_code == 201

    with host.services["negotiation"].context.engine.connect() as connection:
        restricted = [json.loads(row.envelope)["data"] for row in connection.execute(
            select(outbox.c.envelope).where(outbox.c.event_type == "negotiation.requester_restricted")).all()]
    assert [(event["user_id"], event["until"]) for event in restricted] == [
        ("u_wang", None), ("u_wang", window["closes_at"].replace("+00:00", "Z"))]
