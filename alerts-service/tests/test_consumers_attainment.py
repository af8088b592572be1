"""Attainment lag through the bus: package periods from allocation, one alert per cooldown."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from alerts_service.settings import AlertsSettings
from fastapi.testclient import TestClient

from shared.clock import ReplayClock
from shared.events.allocation import AttainmentUpdated, PackagePublished, TargetLine
from shared.timeutil import SHANGHAI, UTC

RULES = """
rules:
  - id: attainment-lag
    name: 达成落后
    kind: attainment_lag
    scope: {regions: [华南]}
    params: {lag_points: 15, after_day: 10}
    action: {type: notify, channels: []}
    cooldown: 7d
"""


def attainment(as_of: date, pct: str | None, city=("440100", "广州", "华南")) -> AttainmentUpdated:
    return AttainmentUpdated(
        package_id="pkg-q3", version=1, city_code=city[0], city_name=city[1], region=city[2], as_of=as_of,
        target_to_date=Decimal("1000"), actual_to_date=Decimal("800"),
        attainment_pct=None if pct is None else Decimal(pct), period_target=Decimal("9200"),
        projection=Decimal("7360"), rank=3, updated_at=datetime(2016, 7, 1, tzinfo=UTC),
    )


def test_lag_fires_after_day_n_once_per_cooldown(alerts_host, publish):
    clock = ReplayClock(datetime(2016, 7, 11, 9, 0, tzinfo=SHANGHAI))
    host = alerts_host(AlertsSettings(), clock)
    with TestClient(host.app()) as client:
        headers = {"Authorization": "Bearer " + host.authenticator.mint("u_hq", ["hq_planner"])}
        client.post("/api/v1/alerts/rules/import", content=RULES.encode(),
                    headers={**headers, "Content-Type": "application/yaml"})
        line = TargetLine(city_code="440100", city_name="广州", region="华南", tier="stable", basis="ly",
                          base=Decimal(8000), target=Decimal(9200), weight=Decimal(1), expense_budget=Decimal(0))
        publish(host, PackagePublished(
            package_id="pkg-q3", version=1, name="2016Q3", period_start=date(2016, 7, 1),
            period_end=date(2016, 9, 30), metric="orders", model="m", total=Decimal(9200), lines=[line],
            published_at=datetime(2016, 6, 30, tzinfo=UTC)), producer="allocation")
        host.wait_until_quiet(30)
        publish(host, attainment(date(2016, 7, 10), "50"),  # day 10: too early
                attainment(date(2016, 7, 11), "85"),  # lag 15: not more than 15
                attainment(date(2016, 7, 11), "84.9", ("310000", "上海", "华东")),  # out of scope
                producer="allocation")
        publish(host, attainment(date(2016, 7, 12), "84.9"), producer="allocation")  # fires
        host.wait_until_quiet(30)
        clock.set(datetime(2016, 7, 13, 9, 0, tzinfo=SHANGHAI))
        publish(host, attainment(date(2016, 7, 13), "70"), producer="allocation")  # within the 7-day cooldown
        host.wait_until_quiet(30)
        clock.set(datetime(2016, 7, 19, 9, 0, tzinfo=SHANGHAI))
        publish(host, attainment(date(2016, 7, 19), "60"), producer="allocation")  # cooldown over
        host.wait_until_quiet(30)
        alerts = client.get("/api/v1/alerts/alerts?kind=attainment_lag", headers=headers).json()
    assert [(a["fire_key"], a["severity"], a["title"]) for a in alerts] == [
        ("pkg-q3:2016-07-19", "critical", "达成落后：广州 截至 2016-07-19（第 19 天）达成率 60%，落后 40 个百分点"),
        ("pkg-q3:2016-07-12", "warning", "达成落后：广州 截至 2016-07-12（第 12 天）达成率 84.9%，落后 15.1 个百分点"),
    ]
