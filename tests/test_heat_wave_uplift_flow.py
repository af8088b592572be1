"""Alerts and allocation together on the real broker and PostgreSQL (issue 6's acceptance): the real
summer-2016 weather of the southern cities, replayed as 7-day-ahead forecasts, fires the heat-wave rule
and every uplift appears in the published Q3 package as a new target version exactly once, with the
amount allocation's rule promises (15 % of the spell days' phased targets, rounded half-up once).

Redelivery on purpose: the forecasts that made a spell fire are sent again as new events, and every
`uplift_requested` event alerts published is sent again under a new event id. Neither may add a version.

The package is generated from the real sales of the southern cities' shops (koubei, 2016-04-02…06-30,
the run-rate window), so every southern city has daily targets the uplifts land on. Expected spells are
counted here independently from the weather file (runs of >= 3 calendar days at >= 35 °C).
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import text

from services.catalog import load_all
from shared.clock import ReplayClock
from shared.envelope import to_message, wrap
from shared.events.alerts import UpliftRequested
from shared.events.ingestion import (
    CitiesRecorded,
    CityRecord,
    DailySale,
    DailySalesRecorded,
    OutletRecord,
    OutletsRecorded,
    WeatherDay,
    WeatherRecorded,
)
from shared.timeutil import SHANGHAI

DATA_DIR = Path(os.environ.get("DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
FIRST, LAST = date(2016, 7, 1), date(2016, 9, 30)
RUN_RATE = (date(2016, 4, 2), date(2016, 6, 30))  # the 90 days before the period
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


def read_csv(relative: str) -> list[dict[str, str]]:
    path = DATA_DIR / relative
    if not path.exists():
        raise FileNotFoundError(f"real data expected at {path} (set DATA_DIR); it is not part of the repository")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def southern_cities() -> dict[str, CityRecord]:
    """koubei city name → record, for the cities of the three southern regions."""
    regions = {row["province"]: row["region_7"] for row in read_csv("geo/province_region_map.csv")}
    return {
        row["koubei_city_name"]: CityRecord(code=row["city_adcode"], name=row["koubei_city_name"],
                                            province=row["province"], region=regions[row["province"]])
        for row in read_csv("geo/koubei_city_dim.csv") if regions[row["province"]] in SOUTH
    }


def southern_shops(cities: dict[str, CityRecord]) -> dict[str, tuple[CityRecord, str]]:
    return {row["shop_id"]: (cities[row["city_name"]], row["cate_1_name"])
            for row in read_csv("koubei/shop_info.csv") if row["city_name"] in cities}


def run_rate_sales(shops: dict[str, tuple[CityRecord, str]]) -> dict[str, list[DailySale]]:
    """city code → the real daily orders of its shops over the run-rate window."""
    sales: dict[str, list[DailySale]] = defaultdict(list)
    with (DATA_DIR / "koubei" / "shop_daily_pay_wide.csv").open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        days = [date.fromisoformat(cell) for cell in next(reader)[1:]]
        for row in reader:
            if row[0] not in shops:
                continue
            city, channel = shops[row[0]]
            for day, cell in zip(days, row[1:], strict=True):
                if cell.strip() and RUN_RATE[0] <= day <= RUN_RATE[1]:
                    sales[city.code].append(DailySale(day=day, outlet_id=row[0], channel=channel, orders=int(cell)))
    return sales


def real_tmax(names: set[str]) -> dict[str, dict[date, Decimal | None]]:
    table: dict[str, dict[date, Decimal | None]] = defaultdict(dict)
    for row in read_csv("weather/china_city_weather_daily.csv"):
        if row["city_name"] in names:
            value = row["tmax_c"].strip()
            table[row["city_name"]][date.fromisoformat(row["date"])] = Decimal(value) if value else None
    return table


def independent_spells(tmax: dict[date, Decimal | None]) -> list[tuple[date, date]]:
    """(first day, third day) of each run of >= 3 consecutive days at >= 35 °C within the quarter."""
    found, run, day = [], 0, FIRST
    while day <= LAST:
        value = tmax.get(day)
        run = run + 1 if value is not None and value >= 35 else 0
        if run == 3:
            found.append((day - timedelta(days=2), day))
        day += timedelta(days=1)
    return found


def publish(host, *events, now: datetime) -> None:
    host.bus.publish([to_message(wrap(event, producer="ingestion", now=now), event.TOPIC) for event in events])


def test_real_heat_waves_make_one_target_version_per_uplift(kafka_host):
    cities = southern_cities()
    shops = southern_shops(cities)
    sales = run_rate_sales(shops)
    tmax = real_tmax(set(cities))
    expected = {(city.code, start, third) for name, city in cities.items() for start, third in independent_spells(tmax[name])}
    assert len(cities) == 45 and len(expected) == 105

    clock = ReplayClock(datetime(2016, 6, 24, 8, 0, tzinfo=SHANGHAI))
    host = kafka_host(load_all(["allocation", "alerts"]), clock=clock)
    now = clock.now()
    with TestClient(host.app()) as client:
        planner = {"Authorization": f"Bearer {host.authenticator.mint('u_hq', ['hq_planner'])}"}
        imported = client.post("/api/v1/alerts/rules/import", content=RULES.encode(),
                               headers={**planner, "Content-Type": "application/yaml"})
        assert imported.status_code in (200, 201), imported.text
        by_code = {city.code: city for city in cities.values()}
        outlets = defaultdict(list)
        for shop_id, (city, channel) in sorted(shops.items()):
            outlets[city.code].append(OutletRecord(outlet_id=shop_id, channel=channel))
        publish(host, CitiesRecorded(batch_id="cities", cities=list(cities.values())), now=now)
        publish(host, *[
            OutletsRecorded(batch_id=f"outlets-{code}", city_code=code, city_name=by_code[code].name,
                            region=by_code[code].region, outlets=items)
            for code, items in sorted(outlets.items())
        ], now=now)
        publish(host, *[
            DailySalesRecorded(batch_id=f"sales-{code}-{i}", city_code=code, city_name=by_code[code].name,
                               region=by_code[code].region, sales=items[i:i + 500])
            for code, items in sorted(sales.items()) for i in range(0, len(items), 500)
        ], now=now)
        host.wait_until_quiet(300)

        scenario = client.post("/api/v1/allocation/scenarios", headers=planner, json={
            "name": "2016 Q3 南方", "period_start": FIRST.isoformat(), "period_end": LAST.isoformat(),
        })
        assert scenario.status_code == 201, scenario.text
        published = client.post(f"/api/v1/allocation/scenarios/{scenario.json()['id']}/publish", headers=planner)
        assert published.status_code == 201, published.text
        package_id = published.json()["package_id"]
        first = client.get(f"/api/v1/allocation/packages/{package_id}/versions/1", params={"daily": True},
                           headers=planner).json()
        daily = {line["city_code"]: {date.fromisoformat(d): Decimal(v) for d, v in line["daily"].items()}
                 for line in first["lines"] if line["target"] is not None}
        assert set(daily) == set(by_code)  # every southern city has daily targets for the uplifts to land on

        def forecast(city: CityRecord, issued: date) -> WeatherRecorded:
            day = issued + timedelta(days=7)
            return WeatherRecorded(
                batch_id=f"{city.code}-{issued}", city_code=city.code, city_name=city.name, region=city.region,
                days=[WeatherDay(day=day, kind="forecast", issued_on=issued, tmax_c=tmax[city.name].get(day))],
            )

        issued = FIRST - timedelta(days=7)
        while issued <= LAST - timedelta(days=7):
            publish(host, *[forecast(city, issued) for city in cities.values()], now=now)
            issued += timedelta(days=1)
        host.wait_until_quiet(300)
        # the forecasts that made each spell fire, sent again as new events
        publish(host, *[forecast(by_code[code], third - timedelta(days=7)) for code, _, third in sorted(expected)],
                now=now)
        host.wait_until_quiet(300)
        # every uplift alerts requested, delivered again under a new event id
        with host.services["alerts"].context.engine.connect() as connection:
            requested = [json.loads(row[0])["data"] for row in connection.execute(
                text("SELECT envelope FROM outbox WHERE event_type = :t ORDER BY id"), {"t": UpliftRequested.TYPE})]
        assert len(requested) == 105
        publish(host, *[UpliftRequested.model_validate(data) for data in requested], now=now)
        host.wait_until_quiet(300)

        versions = client.get(f"/api/v1/allocation/packages/{package_id}/versions", headers=planner).json()
        current = client.get(f"/api/v1/allocation/packages/{package_id}", headers=planner).json()

    assert [v["source"] for v in versions] == ["generated"] + ["rule_uplift"] * 105
    references = Counter(v["reference"] for v in versions[1:])
    assert set(references) == {u["uplift_id"] for u in requested} and set(references.values()) == {1}
    assert {(u["city_code"], date.fromisoformat(u["start_day"]), date.fromisoformat(u["end_day"]), u["percent"])
            for u in requested} == {(code, start, third, "15") for code, start, third in expected}

    # each city's final target = v1 + Σ over its spells of round_half_up(15 % × Σ v1 daily targets of the spell days)
    extra: dict[str, Decimal] = defaultdict(Decimal)
    for code, start, third in expected:
        covered = sum(value for day, value in daily[code].items() if start <= day <= third)
        extra[code] += (covered * Decimal(15) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    first_targets = {line["city_code"]: Decimal(line["target"]) for line in first["lines"]}
    final_targets = {line["city_code"]: Decimal(line["target"]) for line in current["lines"]}
    assert final_targets == {code: target + extra[code] for code, target in first_targets.items()}
    assert Decimal(current["total"]) == Decimal(first["total"]) + sum(extra.values())
    assert current["version"] == 106
