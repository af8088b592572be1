"""What each caller may read of a window and its PDF, bounded inputs, the audit's action names, and
the final PDF's figures and version numbers (base version and the version allocation gives it)."""

from __future__ import annotations

import io
from datetime import datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from negotiation_api_support import LINES, OPENED, headers, package_event, publish, wait_for
from negotiation_service.bootstrap import SERVICE
from pypdf import PdfReader

from shared.clock import ReplayClock
from shared.events.allocation import Provenance, TargetLine, TargetsRevised
from shared.timeutil import SHANGHAI

WINDOW = "win-pkg-2024q3-v1"
API = "/api/v1/negotiation"
EAST = ["310100", "320500", "330100", "330200"]
ALL = sorted(code for code, *_ in LINES)


@pytest.fixture
def system(embedded_host, monkeypatch):
    monkeypatch.setenv("NEGOTIATION_SCHEDULER_POLL_SECONDS", "0.05")
    clock = ReplayClock(OPENED)
    host = embedded_host([SERVICE], clock=clock)
    with TestClient(host.app()) as client:
        publish(host, package_event(), OPENED)
        yield host, client, clock


def get(client, host, user, path, **params):
    return client.get(f"{API}{path}", headers=headers(host, user), params=params)


def revised(version: int, source: str, reference: str | None, at: datetime) -> TargetsRevised:
    lines = [TargetLine(city_code=c, city_name=n, region=r, tier=t, basis="去年同期", base=v, target=v, weight=w,
                        expense_budget="10000") for c, n, r, v, w, t in LINES]
    return TargetsRevised(package_id="pkg-2024q3", version=version, previous_version=version - 1,
                          period_start=datetime(2024, 7, 1).date(), period_end=datetime(2024, 9, 30).date(),
                          metric="revenue", total=sum((Decimal(line.target) for line in lines), Decimal(0)),
                          lines=lines, provenance=Provenance(source=source, reference=reference), revised_at=at)


def close(client, host, clock):
    clock.set(datetime(2024, 6, 4, 9, 0, tzinfo=SHANGHAI))
    return wait_for(lambda: (w := get(client, host, "u_hq", f"/windows/{WINDOW}").json())["status"] == "closed"
                    and w)


def pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_window_lines_and_the_national_pdf_stay_within_the_callers_scope(system):
    host, client, clock = system
    open_view = get(client, host, "u_chen", f"/windows/{WINDOW}").json()
    assert [line["city_code"] for line in open_view["package"]["lines"]] == ["330100"]
    assert "final" not in open_view

    close(client, host, clock)
    seen = {}
    for user in ("u_chen", "u_wang", "u_zhang", "u_liu", "u_zhao", "u_admin", "u_hq"):
        view = get(client, host, user, f"/windows/{WINDOW}").json()
        seen[user] = ([line["city_code"] for line in view["package"]["lines"]],
                      [line["city_code"] for line in view["final"]], view.get("document_id"))
    doc = f"doc-{WINDOW}"
    assert seen == {
        "u_chen": (["330100"], ["330100"], None),
        "u_wang": (["310100"], ["310100"], None),
        "u_zhang": (EAST, EAST, doc),
        "u_liu": (["440100", "440300"], ["440100", "440300"], doc),
        "u_zhao": (ALL, ALL, doc),
        "u_admin": (ALL, ALL, doc),
        "u_hq": (ALL, ALL, doc),
    }
    for user in ("u_chen", "u_wang"):
        refused = get(client, host, user, f"/documents/{doc}")
        assert refused.status_code == 403
        assert (refused.json()["code"], refused.json()["detail"]) == (
            "out_of_scope", f"{user} may not read the national final document")
    for user in ("u_zhang", "u_zhao", "u_admin", "u_hq"):
        assert get(client, host, user, f"/documents/{doc}").status_code == 200


def test_oversized_numbers_are_422_not_500(system):
    host, client, _clock = system
    for limit in ("99999999999999999999999", "-1", "0"):
        response = get(client, host, "u_hq", "/audit", limit=limit)
        assert (response.status_code, response.json()["code"]) == (422, "validation_error"), limit
    assert [row["action"] for row in get(client, host, "u_hq", "/audit", limit=1).json()] == ["window.opened"]

    filed = client.post(f"{API}/windows/{WINDOW}/requests", headers=headers(host, "u_wang"),
                        json={"city_code": "310100", "claim": "700000", "category": "competitor", "reason": "竞品"})
    request_id = filed.json()["request_id"]
    for claim in ("1e30", "1e309", "-1", "NaN", "Infinity", 1e30, "1000000000000000"):
        amended = client.patch(f"{API}/requests/{request_id}", headers=headers(host, "u_wang"), json={"claim": claim})
        assert (amended.status_code, amended.json()["code"]) == (422, "validation_error"), claim
        assert amended.json()["errors"][0]["location"] == ["body", "claim"]
    for body in ({"version": 99999999999999999999999}, {"version": 0}):
        decided = client.post(f"{API}/requests/{request_id}/approve", headers=headers(host, "u_zhang"), json=body)
        assert (decided.status_code, decided.json()["code"]) == (422, "validation_error")
    stale = client.patch(f"{API}/requests/{request_id}", headers=headers(host, "u_wang"),
                         json={"claim": "690000", "version": 2**31 - 1})
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_version")
    assert get(client, host, "u_hq", f"/requests/{request_id}").json()["claim"] == "700000"


def test_rejections_are_audited_in_the_past_tense_and_the_chain_verifies(system):
    host, client, _clock = system
    ids = []
    for user, city in (("u_wang", "310100"), ("u_chen", "330100")):
        filed = client.post(f"{API}/windows/{WINDOW}/requests", headers=headers(host, user),
                            json={"city_code": city, "claim": "100000", "category": "weather", "reason": "台风"})
        ids.append(filed.json()["request_id"])
    for user, request_id in (("u_zhang", ids[0]), ("u_zhao", ids[1])):
        assert client.post(f"{API}/requests/{request_id}/reject", headers=headers(host, user),
                           json={"comment": "证据不足"}).json()["status"] == "rejected"
    actions = [row["action"] for row in get(client, host, "u_hq", "/audit").json()]
    assert actions == ["window.opened", "request.filed", "request.filed", "request.rejected_as_director",
                       "request.rejected_as_finance"]
    assert get(client, host, "u_hq", "/audit/verify").json() == {"ok": True, "rows": 5, "first_broken_seq": None,
                                                                  "problem": None}


def test_the_pdf_names_the_base_and_the_final_version_and_is_rendered_again_if_overtaken(system):
    host, client, clock = system
    for version in (2, 3):  # two rule uplifts during the window
        publish(host, revised(version, "rule_uplift", f"uplift-{version}", clock.now()), clock.now())
    window = close(client, host, clock)
    assert (window["package_version"], window["final_version"]) == (1, 4)
    first = get(client, host, "u_hq", f"/documents/{window['document_id']}")
    text = pdf_text(first.content)
    assert "目标包：pkg-2024q3 基础版本：1 最终版本：4 指标：revenue" in " ".join(text.split())

    # an uplift reached allocation first, so allocation numbered the negotiated lines 5, not 4
    publish(host, revised(4, "rule_uplift", "uplift-4", clock.now()), clock.now())
    publish(host, revised(5, "negotiation", WINDOW, clock.now()), clock.now())
    assert get(client, host, "u_hq", f"/windows/{WINDOW}").json()["final_version"] == 5
    again = get(client, host, "u_hq", f"/documents/{window['document_id']}")
    assert "基础版本：1 最终版本：5" in " ".join(pdf_text(again.content).split())
    assert again.headers["x-content-sha256"] != first.headers["x-content-sha256"]
    on_disk = host.services["negotiation"].context.data_dir / "pdf" / f"{WINDOW}.pdf"
    assert on_disk.read_bytes() == again.content
    audit = get(client, host, "u_hq", "/audit").json()
    assert audit[-1]["action"] == "document.rendered_again"
    assert (audit[-1]["before"]["final_version"], audit[-1]["after"]["final_version"]) == (4, 5)
    assert audit[-1]["after"]["sha256"] == again.headers["x-content-sha256"]
    publish(host, revised(5, "negotiation", WINDOW, clock.now()), clock.now())  # the same fact again: nothing
    assert [row["action"] for row in get(client, host, "u_hq", "/audit").json()].count("document.rendered_again") == 1
    assert get(client, host, "u_hq", "/audit/verify").json()["ok"] is True

