"""Delivery to a real local HTTP server acting as the WeCom robot: errcode handling and retries,
the 20-per-minute limit with a digest, 4,096-byte splitting, generic webhooks, the attempt log."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from alerts_service.settings import AlertsSettings
from fastapi.testclient import TestClient

from shared.clock import ReplayClock
from shared.events.ingestion import CitiesRecorded, CityRecord
from shared.timeutil import SHANGHAI

FIVE_CITIES = CitiesRecorded(batch_id="c", cities=[
    CityRecord(code=code, name=name, province="广东省", region="华南")
    for code, name in [("440100", "广州"), ("440300", "深圳"), ("440400", "珠海"), ("440600", "佛山"),
                       ("441900", "东莞")]
])


def calendar_rules(window_name: str, channels: str = "[wecom]") -> str:
    return f"""
rules:
  - id: window
    name: 窗口提醒
    kind: calendar_window
    scope: {{regions: [华南]}}
    params:
      windows: [{{name: "{window_name}", start: 2016-07-02, end: 2016-07-03}}]
    action: {{type: notify, channels: {channels}}}
"""


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def start(alerts_host, wecom, publish):
    clients = []

    def starter(rules_yaml: str, cities=FIVE_CITIES, **settings):
        clock = ReplayClock(datetime(2016, 7, 1, 9, 0, tzinfo=SHANGHAI))
        options = {"wecom_robots": {"华南": wecom.url("south")}, "delivery_base_delay_seconds": 0.05,
                   "calendar_poll_seconds": 0.05, **settings}
        host = alerts_host(AlertsSettings(**options), clock)
        client = TestClient(host.app()).__enter__()
        clients.append(client)
        headers = {"Authorization": "Bearer " + host.authenticator.mint("u_hq", ["hq_planner"])}
        client.post("/api/v1/alerts/rules/import", content=rules_yaml.encode(),
                    headers={**headers, "Content-Type": "application/yaml"})
        publish(host, cities)
        host.wait_until_quiet(30)
        clock.advance(timedelta(days=1))  # 07-02: the window opens for every city at once
        return host, client, headers

    yield starter
    for client in clients:
        client.__exit__(None, None, None)


def deliveries(client, headers, **query):
    return client.get("/api/v1/alerts/deliveries", params=query, headers=headers).json()


def test_rate_limit_sends_what_fits_and_merges_the_rest_into_a_digest(start, wecom):
    host, client, headers = start(calendar_rules("开学季"), wecom_limit_per_minute=3)
    messages = wait_for(lambda: len(wecom.messages("south")) >= 3 and wecom.messages("south"))
    time.sleep(0.5)
    assert len(wecom.messages("south")) == 3  # the limit: nothing more this minute
    contents = [m["markdown"]["content"] for m in messages]
    assert contents[0].startswith("### 日历窗口：广州 开学季（2016-07-02 至 2016-07-03）")
    assert contents[1].startswith("### 日历窗口：深圳 开学季")
    assert contents[2] == (
        "### 告警汇总（3 条）\n- 日历窗口：珠海 开学季（2016-07-02 至 2016-07-03）\n"
        "- 日历窗口：佛山 开学季（2016-07-02 至 2016-07-03）\n- 日历窗口：东莞 开学季（2016-07-02 至 2016-07-03）"
    )
    rows = deliveries(client, headers)
    assert [r["status"] for r in rows] == ["sent", "sent", "merged", "merged", "merged", "sent"]
    assert {r["digest_id"] for r in rows if r["status"] == "merged"} == {rows[-1]["id"]}


def test_rate_limited_errcode_45009_is_retried_with_backoff_and_logged(start, wecom):
    wecom.script("south", (200, {"errcode": 45009, "errmsg": "api freq out of limit"}),
                 (200, {"errcode": 0, "errmsg": "ok"}))
    one_city = CitiesRecorded(batch_id="c", cities=[FIVE_CITIES.cities[0]])
    host, client, headers = start(calendar_rules("开学季"), cities=one_city)
    (row,) = wait_for(lambda: [r for r in deliveries(client, headers) if r["status"] == "sent"])
    assert [(a["outcome"], a["errcode"]) for a in row["attempt_log"]] == [("retry", 45009), ("success", 0)]
    assert row["attempts"] == 2
    assert len(wecom.messages("south")) == 2


def test_a_permanent_errcode_fails_at_once_without_retries(start, wecom):
    wecom.script("south", (200, {"errcode": 93000, "errmsg": "invalid webhook url"}))
    one_city = CitiesRecorded(batch_id="c", cities=[FIVE_CITIES.cities[0]])
    host, client, headers = start(calendar_rules("开学季"), cities=one_city)
    (row,) = wait_for(lambda: [r for r in deliveries(client, headers) if r["status"] == "failed"])
    time.sleep(0.3)
    assert len(wecom.messages("south")) == 1
    assert (row["attempts"], row["last_error"]) == (1, "invalid webhook url")
    assert [(a["outcome"], a["http_status"], a["errcode"]) for a in row["attempt_log"]] == [("permanent", 200, 93000)]


def test_a_long_markdown_body_is_split_on_character_boundaries(start, wecom):
    name = "超长的活动名称" * 300  # 6,300 bytes; it appears in the title and the evidence
    one_city = CitiesRecorded(batch_id="c", cities=[FIVE_CITIES.cities[0]])
    host, client, headers = start(calendar_rules(name), cities=one_city)
    rows = wait_for(lambda: (r := deliveries(client, headers)) and all(x["status"] == "sent" for x in r) and r)
    assert len(rows) == 4
    assert [(r["part"], r["parts"]) for r in rows] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    received = [m["markdown"]["content"] for m in wecom.messages("south")]
    assert received == [r["content"] for r in rows]
    assert all(len(content.encode("utf-8")) <= 4096 for content in received)
    assert [content.split("\n", 1)[0] for content in received] == ["(1/4)", "(2/4)", "(3/4)", "(4/4)"]
    whole = "".join(content.split("\n", 1)[1] for content in received)
    assert whole.startswith(f"### 日历窗口：广州 {name}（2016-07-02 至 2016-07-03）\n> 城市：广州（华南）")
    assert f"> window：{name}\n" in whole


def test_generic_webhook_gets_the_alert_fired_json(start, wecom):
    one_city = CitiesRecorded(batch_id="c", cities=[FIVE_CITIES.cities[0]])
    host, client, headers = start(calendar_rules("开学季", "[webhook]"), cities=one_city,
                                  webhooks={"ops": wecom.url("ops-hook")})
    (body,) = wait_for(lambda: wecom.messages("ops-hook"))
    assert {k: body[k] for k in ("rule_id", "kind", "city_code", "city_name", "region", "severity")} == {
        "rule_id": "window", "kind": "calendar_window", "city_code": "440100", "city_name": "广州",
        "region": "华南", "severity": "info",
    }
    assert body["evidence"]["start"] == "2016-07-02"
    assert wecom.messages("south") == []
