"""Weather through the bus: a heat spell fires once (redeliveries, re-evaluations), the uplift is
requested once, the WeCom robot of the region gets the message; data-quality warnings recorded."""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from alerts_service.adapters.tables import outbox
from alerts_service.domain.uplifts import uplift_id
from alerts_service.settings import AlertsSettings
from fastapi.testclient import TestClient
from sqlalchemy import select

from shared.clock import ReplayClock
from shared.events.alerts import AlertFired, UpliftRequested
from shared.events.ingestion import CitiesRecorded, CityRecord, WeatherDay, WeatherRecorded
from shared.timeutil import SHANGHAI

HEAT_YAML = """
rules:
  - id: south-heat-wave
    name: 南方高温上调
    kind: weather_spell
    scope: {groups: [south]}
    action: {type: uplift, percent: 15, channels: [wecom]}
"""
CITIES = CitiesRecorded(batch_id="c1", cities=[
    CityRecord(code="440100", name="广州", province="广东省", region="华南"),
    CityRecord(code="310000", name="上海", province="上海市", region="华东"),
])


def forecast(city_code: str, city_name: str, region: str, issued: date, first: date, values, batch: str):
    return WeatherRecorded(
        batch_id=batch, city_code=city_code, city_name=city_name, region=region,
        days=[WeatherDay(day=first + timedelta(days=i), kind="forecast", issued_on=issued,
                         tmax_c=None if v is None else Decimal(v)) for i, v in enumerate(values)],
    )


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def outbox_events(host, event_type: str) -> list[dict]:
    engine = host.services["alerts"].context.engine
    with engine.connect() as connection:
        rows = connection.execute(select(outbox.c.envelope).where(outbox.c.event_type == event_type).order_by(outbox.c.id))
        return [json.loads(row.envelope)["data"] for row in rows]


@pytest.fixture
def running(alerts_host, wecom, publish):
    clock = ReplayClock(datetime(2016, 7, 5, 9, 0, tzinfo=SHANGHAI))
    settings = AlertsSettings(wecom_robots={"华南": wecom.url("south-robot"), "*": wecom.url("default-robot")},
                              delivery_base_delay_seconds=0.05)
    host = alerts_host(settings, clock)
    with TestClient(host.app()) as client:
        token = host.authenticator.mint("u_hq", ["hq_planner"])
        headers = {"Authorization": f"Bearer {token}"}
        assert client.post("/api/v1/alerts/rules/import", content=HEAT_YAML.encode(),
                           headers={**headers, "Content-Type": "application/yaml"}).status_code == 200
        publish(host, CITIES)
        yield host, client, headers, clock


def test_a_forecast_heat_spell_fires_once_requests_one_uplift_and_pushes_wecom(running, wecom, publish):
    host, client, headers, _ = running
    spell = forecast("440100", "广州", "华南", date(2016, 7, 5), date(2016, 7, 10), ["35", "36", "38"], "w1")
    publish(host, spell, copies=2)  # the same message redelivered
    publish(host, spell)  # the same fact in a new event (new event id)
    # a later forecast extending the spell: an extension, not a second uplift
    publish(host, forecast("440100", "广州", "华南", date(2016, 7, 6), date(2016, 7, 13), ["37"], "w2"))
    # 上海 is not in the south group
    publish(host, forecast("310000", "上海", "华东", date(2016, 7, 5), date(2016, 7, 10), ["39", "39", "39"], "w3"))
    host.wait_until_quiet(30)

    alerts = client.get("/api/v1/alerts/alerts", headers=headers).json()
    assert len(alerts) == 1
    (alert,) = alerts
    expected_uplift = uplift_id("south-heat-wave", 1, "440100", date(2016, 7, 10))
    assert alert["uplift_id"] == expected_uplift
    assert (alert["span_start"], alert["span_end"]) == ("2016-07-10", "2016-07-13")  # grown by the extension
    assert alert["severity"] == "orange"
    assert alert["evidence"]["evaluated_on"] == "2016-07-05"
    assert alert["fired_at_local"] == "2016-07-05T09:00:00+08:00"

    uplifts = outbox_events(host, UpliftRequested.TYPE)
    assert len(uplifts) == 1
    assert {k: uplifts[0][k] for k in ("uplift_id", "city_code", "percent", "start_day", "end_day", "rule_version")} == {
        "uplift_id": expected_uplift, "city_code": "440100", "percent": "15",
        "start_day": "2016-07-10", "end_day": "2016-07-12", "rule_version": 1,
    }
    assert len(outbox_events(host, AlertFired.TYPE)) == 1

    (message,) = wait_for(lambda: wecom.messages("south-robot"))
    assert message["msgtype"] == "markdown"
    assert message["markdown"]["content"].startswith(
        "### 高温预警：广州 2016-07-10 起连续 3 天最高气温 ≥ 35℃，目标上调 15%\n> 城市：广州（华南）"
    )
    deliveries = wait_for(lambda: [d for d in client.get("/api/v1/alerts/deliveries", headers=headers).json()
                                   if d["status"] == "sent"])
    assert [(d["target"], d["attempts"], d["attempt_log"][0]["errcode"]) for d in deliveries] == [("华南", 1, 0)]
    assert wecom.messages("default-robot") == []


def test_a_missing_value_breaks_the_run_and_is_reported(running, publish):
    host, client, headers, _ = running
    publish(host, forecast("440100", "广州", "华南", date(2016, 7, 5), date(2016, 7, 8), ["36", "37", None, "38", "39"],
                           "w1"))
    host.wait_until_quiet(30)
    assert client.get("/api/v1/alerts/alerts", headers=headers).json() == []
    assert client.get("/api/v1/alerts/data-quality/weather", headers=headers).json() == [
        {"city_code": "440100", "day": "2016-07-10", "reason": "missing_value"}
    ]


def test_acknowledging_an_alert(running, publish, alerts_host):
    host, client, headers, _ = running
    publish(host, forecast("440100", "广州", "华南", date(2016, 7, 5), date(2016, 7, 10), ["35", "35", "35"], "w1"))
    host.wait_until_quiet(30)
    (alert,) = client.get("/api/v1/alerts/alerts", headers=headers).json()
    outsider = {"Authorization": "Bearer " + host.authenticator.mint("u_sh", ["city_manager"], cities=["310000"])}
    assert client.post(f"/api/v1/alerts/alerts/{alert['alert_id']}/acknowledge", json={}, headers=outsider
                       ).status_code == 404
    manager = {"Authorization": "Bearer " + host.authenticator.mint("u_gz", ["city_manager"], cities=["440100"])}
    acked = client.post(f"/api/v1/alerts/alerts/{alert['alert_id']}/acknowledge", json={"note": "已安排备货"},
                        headers=manager).json()
    assert (acked["acknowledged_by"], acked["acknowledgement_note"], acked["version"]) == ("u_gz", "已安排备货", 2)
    again = client.post(f"/api/v1/alerts/alerts/{alert['alert_id']}/acknowledge", json={}, headers=manager)
    assert (again.status_code, again.json()["code"]) == (409, "already_acknowledged")
    assert client.get("/api/v1/alerts/alerts?acknowledged=false", headers=headers).json() == []
    assert client.get("/api/v1/alerts/alerts", headers=outsider).json() == []


def test_acknowledging_needs_no_body(running, publish):
    host, client, headers, _ = running
    publish(host, forecast("440100", "广州", "华南", date(2016, 7, 5), date(2016, 7, 10), ["35", "35", "35"], "w1"))
    host.wait_until_quiet(30)
    (alert,) = client.get("/api/v1/alerts/alerts", headers=headers).json()
    manager = {"Authorization": "Bearer " + host.authenticator.mint("u_gz", ["city_manager"], cities=["440100"])}
    acked = client.post(f"/api/v1/alerts/alerts/{alert['alert_id']}/acknowledge", headers=manager)
    assert acked.status_code == 200, acked.text
    assert (acked.json()["acknowledged_by"], acked.json()["acknowledgement_note"], acked.json()["version"]) == (
        "u_gz", None, 2)
    assert acked.json()["acknowledged_at"] == "2016-07-05T01:00:00Z"
