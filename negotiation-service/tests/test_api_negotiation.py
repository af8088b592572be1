"""The whole window over HTTP on SQLite with the embedded bus and a replay clock."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from negotiation_api_support import OPENED, headers, package_event, publish, wait_for
from negotiation_service.adapters.tables import outbox
from negotiation_service.bootstrap import SERVICE
from pypdf import PdfReader
from sqlalchemy import select, text

from shared.clock import ReplayClock
from shared.timeutil import SHANGHAI

WINDOW = "win-pkg-2024q3-v1"
API = "/api/v1/negotiation"


@pytest.fixture
def system(embedded_host, monkeypatch):
    monkeypatch.setenv("NEGOTIATION_SCHEDULER_POLL_SECONDS", "0.05")
    clock = ReplayClock(OPENED)
    host = embedded_host([SERVICE], clock=clock)
    with TestClient(host.app()) as client:
        publish(host, package_event(), OPENED)
        yield host, client, clock


def file(client, host, user, city, claim, reason="竞品在浦东新开三家旗舰店"):
    return client.post(f"{API}/windows/{WINDOW}/requests", headers=headers(host, user),
                       json={"city_code": city, "claim": claim, "category": "competitor", "reason": reason,
                             "evidence": ["evidence/浦东.jpg"]})


def act(client, host, user, request_id, verdict="approve", **body):
    return client.post(f"{API}/requests/{request_id}/{verdict}", headers=headers(host, user), json=body)


def events_of(host, event_type):
    engine = host.services["negotiation"].context.engine
    with engine.connect() as connection:
        rows = connection.execute(select(outbox.c.envelope).where(outbox.c.event_type == event_type)).all()
    return [json.loads(row.envelope)["data"] for row in rows]


def test_window_opens_on_package_published(system):
    host, client, _clock = system
    windows = client.get(f"{API}/windows", headers=headers(host, "u_hq")).json()
    assert [w["window_id"] for w in windows] == [WINDOW]
    assert windows[0]["opened_at"] == "2024-06-01T01:00:00+00:00"
    assert windows[0]["closes_at_local"] == "2024-06-04T09:00:00+08:00"
    assert events_of(host, "negotiation.window_opened")[0]["closes_at"] == "2024-06-04T01:00:00Z"
    publish(host, package_event(), OPENED)  # a second delivery of the same fact opens nothing new
    assert len(client.get(f"{API}/windows", headers=headers(host, "u_hq")).json()) == 1


def test_full_cycle_closes_on_time_with_final_version_pdf_and_audit(system):
    host, client, clock = system
    created = file(client, host, "u_wang", "310100", "700000")
    assert created.status_code == 201, created.text
    sh = created.json()
    assert sh["request_id"] == f"{WINDOW}.310100.1" and sh["reason"] == "竞品在浦东新开三家旗舰店"
    assert sh["change"] == "-26804" and sh["status"] == "pending"

    again = file(client, host, "u_wang", "310100", "710000")
    assert again.status_code == 409 and again.json()["code"] == "open_request_exists"
    assert again.headers["content-type"] == "application/problem+json"
    assert file(client, host, "u_chen", "310100", "1").json()["code"] == "out_of_scope"

    amended = client.patch(f"{API}/requests/{sh['request_id']}", headers=headers(host, "u_wang"),
                           json={"claim": "700000", "reason": "竞品在浦东新开三家旗舰店（附照片）", "version": 1})
    assert amended.status_code == 200 and amended.json()["version"] == 2

    clock.advance(timedelta(hours=5))
    half = act(client, host, "u_zhang", sh["request_id"], comment="同意")
    assert half.status_code == 200 and half.json()["status"] == "pending_finance"
    done = act(client, host, "u_zhao", sh["request_id"], comment="预算可承受")
    assert done.json()["status"] == "approved"
    assert done.json()["finance"]["at_local"] == "2024-06-01T14:00:00+08:00"

    # C14 (a): u_zhang files for 宁波 and tries to approve it himself
    nb = file(client, host, "u_zhang", "330200", "20000").json()
    own = act(client, host, "u_zhang", nb["request_id"], slot="director")
    assert own.status_code == 403 and own.json()["code"] == "self_approval_forbidden"
    # C14 (b): u_li holds both roles
    hz = file(client, host, "u_chen", "330100", "100000").json()
    assert act(client, host, "u_li", hz["request_id"], slot="director").status_code == 200
    second = act(client, host, "u_li", hz["request_id"], slot="finance")
    assert second.status_code == 403 and second.json()["code"] == "same_approver_both_slots"
    assert client.get(f"{API}/requests/{hz['request_id']}", headers=headers(host, "u_hq")).json()["status"] == \
        "pending_finance"

    # C13 at the API: the last microsecond is inside, the closing instant is not
    clock.set(datetime(2024, 6, 4, 8, 59, 59, 999999, tzinfo=SHANGHAI))
    rejected = act(client, host, "u_zhao", nb["request_id"], "reject", comment="证据不足")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    clock.set(datetime(2024, 6, 4, 9, 0, tzinfo=SHANGHAI))
    late = act(client, host, "u_zhao", hz["request_id"], comment="晚了")
    assert late.status_code == 409 and late.json()["code"] == "window_closed"

    window = wait_for(lambda: (w := client.get(f"{API}/windows/{WINDOW}", headers=headers(host, "u_hq")).json())
                      ["status"] == "closed" and w)
    assert window["closed_at"] == "2024-06-04T01:00:00+00:00"
    final = {line["city_code"]: line["final_target"] for line in window["final"]}
    assert final == {"310100": "700000", "330100": "120024", "330200": "29978", "320500": "150003",
                     "440100": "500000", "440300": "400000"}
    assert client.get(f"{API}/requests/{hz['request_id']}", headers=headers(host, "u_hq")).json()["status"] == "expired"

    closed = events_of(host, "negotiation.window_closed")
    assert closed == [{"window_id": WINDOW, "package_id": "pkg-2024q3", "closed_at": "2024-06-04T01:00:00Z",
                       "approved": 1, "rejected": 1, "expired": 1}]
    finalized = events_of(host, "negotiation.targets_finalized")
    assert len(finalized) == 1
    assert sum(int(line["target"]) for line in finalized[0]["lines"]) == 1900005

    refused = client.get(f"{API}/documents/{window['document_id']}", headers=headers(host, "u_wang"))
    assert (refused.status_code, refused.json()["code"]) == (403, "out_of_scope")  # a city manager: not national
    pdf = client.get(f"{API}/documents/{window['document_id']}", headers=headers(host, "u_zhang"))
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["x-content-sha256"] == hashlib.sha256(pdf.content).hexdigest() == finalized[0]["pdf_sha256"]
    pdf_text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for expected in ("上海", "杭州", "700,000", "120,024", "竞品在浦东新开三家旗舰店（附照片）", "证据不足"):
        assert expected in pdf_text
    on_disk = host.services["negotiation"].context.data_dir / "pdf" / f"{WINDOW}.pdf"
    assert on_disk.read_bytes() == pdf.content

    verified = client.get(f"{API}/audit/verify", headers=headers(host, "u_hq")).json()
    assert verified["ok"] is True and verified["rows"] >= 10
    engine = host.services["negotiation"].context.engine
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET after = replace(after, '700000', '600000') WHERE seq = 2"))
    broken = client.get(f"{API}/audit/verify", headers=headers(host, "u_hq")).json()
    assert broken == {"ok": False, "rows": verified["rows"], "first_broken_seq": 2,
                      "problem": "row content does not match its hash"}
    assert client.get(f"{API}/audit/verify", headers=headers(host, "u_wang")).status_code == 403
