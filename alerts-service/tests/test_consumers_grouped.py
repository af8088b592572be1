"""A consumer's group of events in ONE transaction (stores and judgements deferred to its commit)
ends exactly as the same events applied one per transaction: stored facts, city totals, alerts,
their order in the outbox, and the deliveries. Through the real consumers, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from alerts_service import bootstrap
from alerts_service.adapters.tables import (
    alerts,
    city_daily_actuals,
    deliveries,
    outbox,
    outlet_daily_sales,
    weather_days,
)
from alerts_service.settings import AlertsSettings
from sqlalchemy import select

from shared.clock import ReplayClock
from shared.envelope import to_message, wrap
from shared.events.ingestion import (
    CitiesRecorded,
    CityRecord,
    DailySale,
    DailySalesRecorded,
    WeatherDay,
    WeatherRecorded,
    WeatherWarningIssued,
)
from shared.service import ServiceDefinition
from shared.timeutil import SHANGHAI, UTC

RULES = """
rules:
  - id: city-sales-cliff
    name: 城市销量断崖
    kind: sales_cliff
    scope: {regions: [华东, 华南, 华北]}
    params: {drop_pct: 40, critical_pct: 60, baseline: same_weekday, weeks: 4, min_baseline_days: 3, min_baseline: 200}
    action: {type: notify, channels: [wecom]}
    cooldown: 3d
  - id: south-heat-wave
    name: 南方高温上调
    kind: weather_spell
    scope: {regions: [华南, 华东]}
    params: {threshold_c: 35, min_days: 3, lead_days: 7, source: any}
    action: {type: uplift, percent: 15, channels: [wecom]}
"""
CITIES = [CityRecord(code="440100", name="广州", province="广东省", region="华南"),
          CityRecord(code="310000", name="上海", province="上海市", region="华东"),
          CityRecord(code="110000", name="北京", province="北京市", region="华北")]
TODAY = date(2016, 8, 10)  # a Wednesday, no holiday; the judged days are 8-07 … 8-10
OUTLETS = ("A", "B", "C", "D")


def sales(city: CityRecord, batch: str, facts: list[tuple]) -> DailySalesRecorded:
    """facts: (day, outlet, orders[, revision])."""
    return DailySalesRecorded(batch_id=batch, city_code=city.code, city_name=city.name, region=city.region, sales=[
        DailySale(day=f[0], outlet_id=f[1], channel="美食", orders=f[2], revision=f[3] if len(f) > 3 else 1)
        for f in facts])


def day_of(city: CityRecord, day: date, per_outlet: int, batch: str) -> DailySalesRecorded:
    return sales(city, batch, [(day, outlet, per_outlet) for outlet in OUTLETS])


def history() -> list[DailySalesRecorded]:
    """Five weeks of 100 orders per outlet and day (400 a day per city) up to 8-06."""
    first = TODAY - timedelta(days=39)
    return [day_of(city, first + timedelta(days=k), 100, f"h{k}{city.code}") for k in range(36) for city in CITIES]


def grouped_sales() -> list[DailySalesRecorded]:
    gz, sh, bj = CITIES
    yesterday = TODAY - timedelta(days=1)
    return [
        day_of(gz, TODAY, 30, "g1"),  # 120 vs 400: a critical cliff on 8-10
        day_of(sh, yesterday, 100, "s1"),  # normal
        sales(bj, "b1", [(yesterday, "A", 90), (yesterday, "A", 10), (yesterday, "B", 20)]),  # tie in a batch: 10
        # the same city again: a revision of the day judged above (applied after that judgement)
        sales(gz, "g2", [(TODAY, "A", 400, 2), (TODAY, "B", 5, 1), (TODAY, "E", 50)]),
        day_of(sh, TODAY, 55, "s2"),  # later day of the same city: 220 vs 400, a warning cliff
        # a revision of yesterday, lower revision ignored, equal one ignored (stored key)
        sales(bj, "b2", [(yesterday, "A", 300, 2), (yesterday, "A", 1, 1), (yesterday, "B", 21, 1),
                         (yesterday, "C", 100), (yesterday, "D", 100)]),
        sales(bj, "b3", [(yesterday, "A", 301, 2), (yesterday, "A", 5, 3)]),  # 2 ≤ 2 ignored, then 3 replaces
        sales(gz, "g3", [(TODAY - timedelta(days=2), "A", 10, 2)]),  # 8-08 now a cliff, within the cooldown
    ]


def grouped_weather() -> list:
    gz, sh, _ = CITIES
    forecast = [WeatherDay(day=TODAY + timedelta(days=k), kind="forecast", issued_on=TODAY,
                           tmax_c=Decimal(v)) for k, v in ((1, "35"), (2, "36.50"), (3, "38"), (4, "31"))]
    return [
        WeatherRecorded(batch_id="w1", city_code=gz.code, city_name=gz.name, region=gz.region, days=forecast),
        WeatherRecorded(batch_id="w2", city_code=sh.code, city_name=sh.name, region=sh.region, days=[
            WeatherDay(day=TODAY - timedelta(days=k), kind="observation", tmax_c=Decimal("36")) for k in (2, 1, 0)]),
        # a warning between: it shares the rule's cooldown, it is recorded after the batches before it
        WeatherWarningIssued(warning_id="wx1", city_code=sh.code, city_name=sh.name, region=sh.region,
                             warning_type="高温", level="橙色",
                             valid_from=datetime(2016, 8, 10, 8, tzinfo=UTC), valid_to=datetime(2016, 8, 11, tzinfo=UTC)),
        # the same city again: a newer revision lowers a forecast day, an observation of today
        WeatherRecorded(batch_id="w3", city_code=gz.code, city_name=gz.name, region=gz.region, days=[
            WeatherDay(day=TODAY + timedelta(days=2), kind="forecast", issued_on=TODAY, tmax_c=Decimal("30"),
                       revision=2),
            WeatherDay(day=TODAY, kind="observation", tmax_c=None)]),
        WeatherRecorded(batch_id="w4", city_code=sh.code, city_name=sh.name, region=sh.region, days=[
            WeatherDay(day=TODAY + timedelta(days=1), kind="forecast", issued_on=TODAY, tmax_c=Decimal("37"))]),
    ]


def messages(events) -> list:
    return [to_message(wrap(e, producer="ingestion", now=datetime(2016, 8, 10, tzinfo=UTC)), e.TOPIC) for e in events]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def make_alerts(request, embedded_host, pg_host, tmp_path):
    factory = embedded_host if request.param == "sqlite" else pg_host
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES, encoding="utf-8")

    def make():
        settings = AlertsSettings(seed_rules_files=[str(rules)], wecom_robots={"*": "http://127.0.0.1:9/none"})
        definition = ServiceDefinition(name="alerts", migrations=bootstrap.SERVICE.migrations,
                                       build=lambda context: bootstrap.build(context, settings))
        host = factory([definition], clock=ReplayClock(datetime(2016, 8, 10, 9, 0, tzinfo=SHANGHAI)))
        consumers = {consumer.spec.name: consumer for consumer in host.services["alerts"].consumers}
        consumers["alerts.reference"].process(messages([CitiesRecorded(batch_id="c", cities=CITIES)])[0])
        return host, consumers

    return make


def snapshot(host) -> dict:
    engine = host.services["alerts"].context.engine
    with engine.connect() as connection:
        def rows(query):
            return [tuple(row) for row in connection.execute(query)]
        return {
            "outlets": rows(select(outlet_daily_sales).order_by(*outlet_daily_sales.primary_key.columns)),
            "totals": rows(select(city_daily_actuals.c.city_code, city_daily_actuals.c.day, city_daily_actuals.c.orders,
                                  city_daily_actuals.c.outlets).order_by(city_daily_actuals.c.city_code,
                                                                         city_daily_actuals.c.day)),
            "weather": rows(select(weather_days).order_by(*weather_days.primary_key.columns)),
            "alerts": rows(select(alerts.c.alert_id, alerts.c.rule_id, alerts.c.city_code, alerts.c.fire_key,
                                  alerts.c.severity, alerts.c.title, alerts.c.evidence, alerts.c.span_start,
                                  alerts.c.span_end, alerts.c.uplift_id).order_by(alerts.c.alert_id)),
            "events": [(row.event_type, json.loads(row.envelope)["data"]) for row in
                       connection.execute(select(outbox).order_by(outbox.c.id))],
            "deliveries": rows(select(deliveries.c.alert_id, deliveries.c.target, deliveries.c.content)
                               .order_by(deliveries.c.id)),
        }


def test_a_group_of_sales_in_one_transaction_ends_as_one_per_transaction(make_alerts):
    one_by_one, grouped = make_alerts(), make_alerts()
    for _host, consumers in (one_by_one, grouped):
        for message in messages(history()):
            consumers["alerts.sales"].process(message)
    for message in messages(grouped_sales()):
        one_by_one[1]["alerts.sales"].process(message)
    grouped[1]["alerts.sales"].process_group(messages(grouped_sales()))
    assert grouped[1]["alerts.sales"].processed == one_by_one[1]["alerts.sales"].processed

    expected, state = snapshot(one_by_one[0]), snapshot(grouped[0])
    assert state == expected
    totals = {(code, day): (orders, outlets) for code, day, orders, outlets in state["totals"] if day >= date(2016, 8, 8)}
    assert totals == {
        # 8-08 had no history: only g3's revision; 8-10: A 400 (rev 2) + B 30 (an equal revision of a
        # stored key is ignored) + C 30 + D 30 + E 50
        ("440100", date(2016, 8, 8)): (10, 1), ("440100", date(2016, 8, 10)): (540, 5),
        ("310000", date(2016, 8, 9)): (400, 4), ("310000", date(2016, 8, 10)): (220, 4),
        # A 5 (rev 3, after 300 at rev 2 and an ignored 301 at rev 2) + B 20 + C 100 + D 100
        ("110000", date(2016, 8, 9)): (225, 4),
    }
    fired = [(data["city_code"], data["title"]) for event_type, data in state["events"]
             if event_type == "alerts.alert_fired"]
    assert fired == [
        ("440100", "销量断崖：广州 2016-08-10 实际 120，较基线 400.00 下降 70.0%"),
        ("110000", "销量断崖：北京 2016-08-09 实际 30，较基线 400.00 下降 92.5%"),  # b1 arrives before s2
        ("310000", "销量断崖：上海 2016-08-10 实际 220，较基线 400.00 下降 45.0%"),
    ]


def test_a_group_of_weather_in_one_transaction_ends_as_one_per_transaction(make_alerts):
    one_by_one, grouped = make_alerts(), make_alerts()
    history = [WeatherRecorded(batch_id=f"o{k}{city.code}", city_code=city.code, city_name=city.name,
                               region=city.region, days=[
                                   WeatherDay(day=TODAY - timedelta(days=k), kind="forecast",
                                              issued_on=TODAY - timedelta(days=k + d), tmax_c=Decimal(30 + d))
                                   for d in (1, 2, 3)])
               for k in range(3, 12) for city in CITIES]
    for _host, consumers in (one_by_one, grouped):
        consumers["alerts.weather"].process_group(messages(history))
    for message in messages(grouped_weather()):
        one_by_one[1]["alerts.weather"].process(message)
    grouped[1]["alerts.weather"].process_group(messages(grouped_weather()))

    expected, state = snapshot(one_by_one[0]), snapshot(grouped[0])
    assert state == expected
    fired = [(event_type, data.get("city_code"), data.get("title")) for event_type, data in state["events"]]
    assert [f[:2] for f in fired] == [
        ("alerts.uplift_requested", "440100"), ("alerts.alert_fired", "440100"),
        ("alerts.uplift_requested", "310000"), ("alerts.alert_fired", "310000"),
        ("alerts.alert_fired", "310000"),
    ]
    assert fired[4][2] == "气象预警：上海 高温橙色预警"
