"""Acceptance: the real daily actuals of four cities, replayed day by day through the bus as
per-shop facts, produce sales-cliff alerts whose days and evidence match an independent count."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import chinese_calendar
from alerts_service.settings import AlertsSettings
from fastapi.testclient import TestClient

from shared.clock import ReplayClock
from shared.events.ingestion import CitiesRecorded, CityRecord, DailySale, DailySalesRecorded
from shared.timeutil import SHANGHAI

CITIES = ("珠海", "湖州", "大连", "哈尔滨")
FIRST, LAST = date(2016, 5, 1), date(2016, 9, 30)
RULES = """
rules:
  - id: city-sales-cliff
    name: 城市销量断崖
    kind: sales_cliff
    scope: {regions: [华东, 华南, 华北, 华中, 西南, 西北, 东北]}
    params: {drop_pct: 40, critical_pct: 60, baseline: same_weekday, weeks: 4, min_baseline_days: 3, min_baseline: 200}
    action: {type: notify, channels: []}
"""


def special(day: date) -> bool:
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    return name is not None  # an official holiday or a make-up working day


def independent_cliffs(totals: dict[date, int]) -> dict[date, dict]:
    found = {}
    day = FIRST
    while day <= LAST:
        if day in totals and not special(day):
            used = [day - timedelta(days=7 * k) for k in (4, 3, 2, 1)]
            used = [d for d in used if d in totals and not special(d)]
            if len(used) >= 3:
                baseline = (Decimal(sum(totals[d] for d in used)) / len(used)).quantize(Decimal("0.01"), ROUND_HALF_UP)
                if baseline >= 200 and (baseline - totals[day]) * 100 >= 40 * baseline:
                    drop = ((baseline - totals[day]) * 100 / baseline).quantize(Decimal("0.1"), ROUND_HALF_UP)
                    found[day] = {
                        "actual": str(totals[day]), "baseline": str(baseline), "drop_pct": str(drop),
                        "days_used": {d.isoformat(): str(totals[d]) for d in used},
                    }
        day += timedelta(days=1)
    return found


def test_real_actuals_replayed_produce_the_cliffs_the_data_has(alerts_host, publish, koubei_cities, real_shop_days):
    # The replay clock stays on the first day: every day is judged as it arrives (the batch's day is
    # later than the clock). With the real clock (2016 is long past) no day would be judged at all.
    host = alerts_host(AlertsSettings(), ReplayClock(datetime(2016, 5, 1, 8, 0, tzinfo=SHANGHAI)))
    expected = {}
    for name in CITIES:
        totals = {day: sum(orders for _, _, orders in rows) for day, rows in real_shop_days[name].items()}
        for day, evidence in independent_cliffs(totals).items():
            expected[(koubei_cities[name]["code"], day.isoformat())] = evidence
    assert len(expected) >= 10

    with TestClient(host.app()) as client:
        token = host.authenticator.mint("u_hq", ["hq_planner"])
        headers = {"Authorization": f"Bearer {token}"}
        client.post("/api/v1/alerts/rules/import", content=RULES.encode(),
                    headers={**headers, "Content-Type": "application/yaml"})
        publish(host, CitiesRecorded(batch_id="cities", cities=[
            CityRecord(code=koubei_cities[n]["code"], name=n, province=koubei_cities[n]["province"],
                       region=koubei_cities[n]["region"]) for n in CITIES
        ]))
        day = FIRST
        while day <= LAST:
            events = []
            for name in CITIES:
                rows = real_shop_days[name].get(day, [])
                if rows:
                    city = koubei_cities[name]
                    events.append(DailySalesRecorded(
                        batch_id=f"{city['code']}-{day}", city_code=city["code"], city_name=name,
                        region=city["region"],
                        sales=[DailySale(day=day, outlet_id=shop, channel=category, orders=orders)
                               for shop, category, orders in rows],
                    ))
            publish(host, *events, copies=2 if day.day == 15 else 1)
            day += timedelta(days=1)
        host.wait_until_quiet(120)
        fired = client.get("/api/v1/alerts/alerts?kind=sales_cliff&limit=1000", headers=headers).json()

    got = {
        (alert["city_code"], alert["fire_key"]): {
            key: alert["evidence"][key] for key in ("actual", "baseline", "drop_pct", "days_used")
        }
        for alert in fired
    }
    assert len(fired) == len(expected)
    assert got == expected
    zhuhai = next(a for a in fired if a["city_code"] == koubei_cities["珠海"]["code"] and a["fire_key"] == "2016-07-11")
    assert zhuhai["title"] == "销量断崖：珠海 2016-07-11 实际 261，较基线 624.75 下降 58.2%"
    assert zhuhai["severity"] == "warning"
