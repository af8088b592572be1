"""Acceptance: the real summer-2016 weather, replayed through the bus as 7-day-ahead forecasts,
fires the heat-wave rule for the southern cities' real spells on the right days, and each uplift is
requested exactly once although every event is delivered twice and the firing days are re-sent."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta

from alerts_service.adapters.tables import alerts, outbox
from alerts_service.domain.uplifts import uplift_id
from alerts_service.settings import AlertsSettings
from fastapi.testclient import TestClient
from sqlalchemy import select

from shared.clock import ReplayClock
from shared.events.alerts import UpliftRequested
from shared.events.ingestion import CitiesRecorded, CityRecord, WeatherDay, WeatherRecorded
from shared.timeutil import SHANGHAI

FIRST, LAST = date(2016, 7, 1), date(2016, 9, 30)
SOUTH = ("华南", "华中", "西南")
RULES = """
rules:
  - id: south-heat-wave
    name: 南方高温上调
    kind: weather_spell
    scope: {groups: [south]}
    params: {threshold_c: 35, min_days: 3, lead_days: 7}
    action: {type: uplift, percent: 15, channels: []}
"""


def independent_spells(tmax: dict[date, object]) -> list[tuple[date, date]]:
    """(first day, third day) of each run of >= 3 days at >= 35 °C between July 1 and September 30."""
    found, run, day = [], 0, FIRST
    while day <= LAST:
        value = tmax.get(day)
        run = run + 1 if value is not None and int(value) >= 35 else 0
        if run == 3:
            found.append((day - timedelta(days=2), day))
        day += timedelta(days=1)
    return found


def test_real_southern_heat_waves_fire_7_days_ahead_once_each(alerts_host, publish, koubei_cities, real_tmax):
    host = alerts_host(AlertsSettings(), ReplayClock(datetime(2016, 6, 24, 8, 0, tzinfo=SHANGHAI)))
    southern = sorted((c for c in koubei_cities.values() if c["region"] in SOUTH), key=lambda c: c["code"])
    expected = {
        (city["code"], start, third, third - timedelta(days=7))
        for city in southern
        for start, third in independent_spells(real_tmax[city["name"]])
    }
    assert len(southern) == 45 and len(expected) == 105

    with TestClient(host.app()) as client:
        token = host.authenticator.mint("u_hq", ["hq_planner"])
        client.post("/api/v1/alerts/rules/import", content=RULES.encode(),
                    headers={"Authorization": f"Bearer {token}", "Content-Type": "application/yaml"})
        publish(host, CitiesRecorded(batch_id="cities", cities=[
            CityRecord(code=c["code"], name=c["name"], province=c["province"], region=c["region"])
            for c in koubei_cities.values()
        ]))

        def forecast(city, issued: date) -> WeatherRecorded:
            day = issued + timedelta(days=7)
            return WeatherRecorded(
                batch_id=f"{city['code']}-{issued}", city_code=city["code"], city_name=city["name"],
                region=city["region"],
                days=[WeatherDay(day=day, kind="forecast", issued_on=issued, tmax_c=real_tmax[city["name"]][day])],
            )

        issued = FIRST - timedelta(days=7)
        while issued <= LAST - timedelta(days=7):
            # The first three weeks are delivered twice (a redelivery of the very same messages).
            publish(host, *[forecast(city, issued) for city in southern], copies=2 if issued < FIRST + timedelta(days=14) else 1)
            issued += timedelta(days=1)
        # The forecasts that made each spell fire, sent again as new events (new event ids).
        by_code = {city["code"]: city for city in southern}
        publish(host, *[forecast(by_code[code], issue_day) for code, _, _, issue_day in sorted(expected)])
        host.wait_until_quiet(300)

    engine = host.services["alerts"].context.engine
    with engine.connect() as connection:
        fired = connection.execute(select(alerts).where(alerts.c.rule_id == "south-heat-wave")).all()
        uplifts = [json.loads(row.envelope)["data"] for row in connection.execute(
            select(outbox.c.envelope).where(outbox.c.event_type == UpliftRequested.TYPE))]
    got = {
        (row.city_code, row.span_start, date.fromisoformat(json.loads(row.evidence)["fire_day"]),
         date.fromisoformat(json.loads(row.evidence)["evaluated_on"]))
        for row in fired
    }
    assert got == expected
    assert len(fired) == 105
    assert len(uplifts) == 105
    assert Counter(u["uplift_id"] for u in uplifts).most_common(1)[0][1] == 1
    assert {(u["city_code"], u["start_day"], u["end_day"], u["percent"], u["uplift_id"]) for u in uplifts} == {
        (code, start.isoformat(), third.isoformat(), "15", uplift_id("south-heat-wave", 1, code, start))
        for code, start, third, _ in expected
    }
