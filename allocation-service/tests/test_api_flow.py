"""The allocation service end to end on its API and its consumers: facts in, scenario, package,
live attainment, rule uplift (C18), negotiated finals, If-Match, period close, my targets, heat map."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from allocation_service.adapters.tables import outbox
from allocation_service.bootstrap import SERVICE
from fastapi.testclient import TestClient
from sqlalchemy import select

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
)
from shared.events.negotiation import FinalLine, TargetsFinalized
from shared.timeutil import UTC

NOW = datetime(2016, 7, 1, 1, 0, tzinfo=UTC)
CITIES = [
    CityRecord(code="330100", name="杭州市", province="浙江省", region="华东", lng="120.15", lat="30.28"),
    CityRecord(code="310000", name="上海市", province="上海市", region="华东", lng="121.47", lat="31.23"),
    CityRecord(code="440100", name="广州市", province="广东省", region="华南", lng="113.26", lat="23.13"),
]
REGION = {c.code: c.region for c in CITIES}
NAME = {c.code: c.name for c in CITIES}


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def history_sales() -> dict[str, list[DailySale]]:
    sales: dict[str, list[DailySale]] = {"330100": [], "310000": [], "440100": []}
    for day in days(date(2015, 6, 1), date(2016, 6, 30)):
        sales["330100"].append(DailySale(day=day, outlet_id="H1", channel="美食", orders=10))
        if day <= date(2015, 12, 31):
            sales["310000"].append(DailySale(day=day, outlet_id="S1", channel="美食", orders=20))
        else:
            sales["310000"].append(DailySale(day=day, outlet_id="S1", channel="美食", orders=24))
        if day >= date(2016, 6, 1):
            sales["310000"].append(DailySale(day=day, outlet_id="S2", channel="超市便利店", orders=30))
        if day >= date(2016, 5, 1):
            sales["440100"].append(DailySale(day=day, outlet_id="G1", channel="美食", orders=5))
    return sales


def sales_events(sales: dict[str, list[DailySale]], batch: str) -> list[DailySalesRecorded]:
    events = []
    for code, items in sales.items():
        for start in range(0, len(items), 500):
            events.append(DailySalesRecorded(batch_id=f"{batch}-{code}-{start}", city_code=code, city_name=NAME[code],
                                             region=REGION[code], sales=items[start:start + 500]))
    return events


def publish(host, *events) -> None:
    host.bus.publish([to_message(wrap(e, producer="test", now=NOW), e.TOPIC) for e in events])
    host.wait_until_quiet(60)


def outbox_events(host, event_type: str) -> list[dict]:
    engine = host.services["allocation"].context.engine
    with engine.connect() as connection:
        rows = connection.execute(select(outbox.c.envelope).where(outbox.c.event_type == event_type).order_by(outbox.c.id))
        return [json.loads(row[0])["data"] for row in rows]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def running(request, embedded_host, pg_host, tmp_path):
    factory = embedded_host if request.param == "sqlite" else pg_host
    host = factory([SERVICE], clock=ReplayClock(NOW))
    with TestClient(host.app()) as client:
        publish(host, CitiesRecorded(batch_id="c1", cities=CITIES), *[
            OutletsRecorded(batch_id=f"o-{code}", city_code=code, city_name=NAME[code], region=REGION[code],
                            outlets=[OutletRecord(outlet_id=o, channel=ch)])
            for code, o, ch in (("330100", "H1", "美食"), ("310000", "S1", "美食"), ("310000", "S2", "超市便利店"),
                                ("440100", "G1", "美食"))
        ], *sales_events(history_sales(), "hist"))
        yield host, client


def auth(host, *roles, **scope) -> dict:
    return {"Authorization": f"Bearer {host.authenticator.mint('u_planner', roles, **scope)}"}


SCENARIO = {"name": "2016 Q3 前十天", "period_start": "2016-07-01", "period_end": "2016-07-10", "hq_total": "5000"}


def test_scenario_package_attainment_uplift_finals_and_close(running):
    host, client = running
    planner = auth(host, "hq_planner")

    response = client.post("/api/v1/allocation/scenarios", json=SCENARIO, headers=planner)
    assert response.status_code == 201, response.text
    scenario = response.json()
    lines = {line["city_code"]: line for line in scenario["lines"]}
    # bottom up: 杭州 100 × 1.1 = 110; 上海 200 × 1.3 + run rate 30 × 10 = 560; 广州 run rate 5 × 10 = 50
    assert {c: (ln["tier"], ln["bottom_up"]) for c, ln in lines.items()} == {
        "330100": ("stable", "110.0"), "310000": ("high_potential", "560.0"), "440100": ("new", "50.0"),
    }
    # gap 4,280 over weights 110 / 840 / 50 → 580.8 / 4155.2 / 264 → the leftover unit to 杭州 (.8)
    assert {c: ln["target"] for c, ln in lines.items()} == {"330100": "581", "310000": "4155", "440100": "264"}
    assert scenario["summary"]["total"] == "5000"
    assert "run rate of 1 outlets opened since" in lines["310000"]["basis"]

    other = client.post("/api/v1/allocation/scenarios", json={**SCENARIO, "name": "更高", "hq_total": "6000"}, headers=planner).json()
    compared = client.get("/api/v1/allocation/scenarios/compare", params={"ids": [scenario["id"], other["id"]]},
                          headers=planner).json()
    assert sum(Decimal(c["difference_vs_first"][other["id"]]) for c in compared["cities"]) == 1000
    assert client.post(f"/api/v1/allocation/scenarios/{other['id']}/discard", headers=planner).status_code == 200
    assert client.post(f"/api/v1/allocation/scenarios/{other['id']}/publish", headers=planner).status_code == 409

    viewer = auth(host, "city_manager", cities=["330100"])
    assert client.post("/api/v1/allocation/scenarios", json=SCENARIO, headers=viewer).status_code == 403

    published = client.post(f"/api/v1/allocation/scenarios/{scenario['id']}/publish", headers=planner)
    assert published.status_code == 201, published.text
    package_id = published.json()["package_id"]
    host.wait_until_quiet(30)
    [event] = outbox_events(host, "allocation.package_published")
    assert (event["package_id"], event["version"], event["total"]) == (package_id, 1, "5000")
    assert [line["target"] for line in event["lines"]] == ["4155", "581", "264"]  # by city code

    package = client.get(f"/api/v1/allocation/packages/{package_id}", params={"daily": True}, headers=planner)
    assert package.headers["etag"] == '"1"'
    daily = {line["city_code"]: line["daily"] for line in package.json()["lines"]}
    assert sum(Decimal(v) for v in daily["330100"].values()) == 581

    # actuals for 1–3 July, in the evening of 3 July (Shanghai): attainment per city, emitted as events
    host.clock.set(datetime(2016, 7, 3, 13, 0, tzinfo=UTC))
    july = {"330100": [DailySale(day=d, outlet_id="H1", channel="美食", orders=60) for d in days(date(2016, 7, 1), date(2016, 7, 3))]}
    publish(host, *sales_events(july, "july"))
    updates = [e for e in outbox_events(host, "allocation.attainment_updated") if e["city_code"] == "330100"]
    target_to_date = sum(Decimal(daily["330100"][f"2016-07-0{d}"]) for d in (1, 2, 3))
    assert updates[-1]["as_of"] == "2016-07-03"
    assert (updates[-1]["actual_to_date"], Decimal(updates[-1]["target_to_date"])) == ("180", target_to_date)
    assert updates[-1]["attainment_pct"] == format((Decimal(18000) / target_to_date).quantize(Decimal("0.1")), "f")
    assert updates[-1]["projection"] == "600"  # 180 / 3 days × 10 days

    attainment = client.get(f"/api/v1/allocation/packages/{package_id}/attainment", headers=planner).json()
    by_city = {item["key"]: item for item in attainment["items"]}
    assert by_city["330100"]["rank"] == 1 and by_city["330100"]["actual_to_date"] == "180"
    regions = client.get(f"/api/v1/allocation/packages/{package_id}/attainment", params={"level": "region"},
                         headers=planner).json()["items"]
    assert {r["key"]: r["actual_to_date"] for r in regions} == {"华东": "180", "华南": "0"}

    # a heat-wave uplift on 上海, delivered twice under two event ids: applied once (C18)
    uplift = UpliftRequested(uplift_id="upl-1", rule_id="heat", rule_version=1, city_code="310000", percent="15",
                             start_day=date(2016, 7, 1), end_day=date(2016, 7, 10), reason="高温", requested_at=NOW)
    publish(host, uplift, uplift)
    package = client.get(f"/api/v1/allocation/packages/{package_id}", headers=planner)
    assert package.headers["etag"] == '"2"'
    assert {ln["city_code"]: ln["target"] for ln in package.json()["lines"]}["310000"] == "4778"  # 4155 + 623
    [revised] = outbox_events(host, "allocation.targets_revised")
    assert revised["provenance"] == {"source": "rule_uplift", "reference": "upl-1", "note": "高温"}

    # a manual change with a stale If-Match is refused; with the current one it makes v3 (广州 is alone
    # in 华南: nobody can offset it, so the total may move only when asked)
    change = {"targets": {"440100": "300"}, "note": "广州 新店", "allow_total_change": True}
    stale = client.patch(f"/api/v1/allocation/packages/{package_id}/targets", json=change,
                         headers={**planner, "If-Match": '"1"'})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    assert client.patch(f"/api/v1/allocation/packages/{package_id}/targets", json=change, headers=planner).status_code == 428
    fresh = client.patch(f"/api/v1/allocation/packages/{package_id}/targets", json=change,
                         headers={**planner, "If-Match": '"2"'})
    assert fresh.status_code == 200 and fresh.headers["etag"] == '"3"'

    finals = TargetsFinalized(window_id="w-1", package_id=package_id, base_version=1, policy="proportional",
                              lines=[FinalLine(city_code="330100", target="600", adjustment="19")], finalized_at=NOW)
    publish(host, finals, finals.model_copy())
    versions = client.get(f"/api/v1/allocation/packages/{package_id}/versions", headers=planner).json()
    assert [(v["number"], v["source"], v["total"]) for v in versions] == [
        (1, "generated", "5000"), (2, "rule_uplift", "5623"), (3, "manual", "5659"), (4, "negotiation", "5678"),
    ]

    # my targets, in the caller's scope, as JSON and markdown
    mine = client.get("/api/v1/allocation/my/targets", headers=viewer).json()
    assert [ln["city_code"] for p in mine["packages"] for ln in p["lines"]] == ["330100"]
    assert mine["packages"][0]["lines"][0]["target"] == "600"
    text = client.get("/api/v1/allocation/my/targets.md", headers=viewer)
    assert text.headers["content-type"].startswith("text/markdown") and "杭州市: 目标 600" in text.text

    # the first fact after the period closes it: period_actuals_finalized, once
    host.clock.set(datetime(2016, 7, 11, 13, 0, tzinfo=UTC))
    publish(host, *sales_events({"330100": [DailySale(day=date(2016, 7, 11), outlet_id="H1", channel="美食", orders=1)]}, "after"))
    [final] = outbox_events(host, "allocation.period_actuals_finalized")
    assert {c["city_code"]: (c["target"], c["actual"]) for c in final["cities"]} == {
        "310000": ("4778", "0"), "330100": ("600", "180"), "440100": ("300", "0"),
    }
    assert client.post(f"/api/v1/allocation/packages/{package_id}/close", headers=planner).json()["emitted"] is False


def test_heat_map_json_and_png(running):
    host, client = running
    headers = auth(host, "hq_planner")
    body = client.get("/api/v1/allocation/heatmap", params={"history_end": "2016-06-30"}, headers=headers).json()
    features = {f["city_code"]: f for f in body["features"]}
    assert body["window"] == {"start": "2015-07-01", "end": "2016-06-30"}
    assert (features["310000"]["lng"], features["310000"]["lat"]) == ("121.47", "31.23")
    assert features["310000"]["half_year_growth"]["percent"] == "18.70"  # 4,368 vs 3,680
    assert features["310000"]["tier"] == "high_potential"
    assert features["440100"]["half_year_growth"]["reason"] == "no_baseline"
    assert features["440100"]["metrics"]["fulfilment_rate"] is None
    png = client.get("/api/v1/allocation/heatmap.png", params={"history_end": "2016-06-30"}, headers=headers)
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_errors_are_problems(running):
    host, client = running
    planner = auth(host, "hq_planner")
    missing = client.get("/api/v1/allocation/packages/nope", headers=planner)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    bad = client.post("/api/v1/allocation/scenarios", json={**SCENARIO, "model": "formula",
                                                           "model_params": {"expression": "__import__('os')"}}, headers=planner)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_model"
    assert client.get("/api/v1/allocation/packages").status_code == 401


def test_sales_total_reports_the_facts_held_latest_revision_winning(running):
    host, client = running
    headers = auth(host, "hq_planner")
    url = "/api/v1/allocation/sales/total"
    manager = auth(host, "city_manager", cities=["440100"])
    own = client.get(url, params={"start": "2016-05-01", "end": "2016-06-30", "city_code": "440100"}, headers=manager)
    assert (own.status_code, own.json()["orders"], own.json()["facts"]) == (200, 305, 61)
    for params in ({"start": "2016-05-01", "end": "2016-06-30", "city_code": "310000"},
                   {"start": "2016-05-01", "end": "2016-06-30"}):
        refused = client.get(url, params=params, headers=manager)
        assert (refused.status_code, refused.json()["code"]) == (403, "out_of_scope")
    director = auth(host, "region_director", regions=["华南"])
    south = client.get(url, params={"start": "2016-05-01", "end": "2016-06-30", "city_code": "440100"}, headers=director)
    assert (south.status_code, south.json()["orders"]) == (200, 305)
    for code in ("310000", "999999"):  # another region's city, an unknown city
        refused = client.get(url, params={"start": "2016-05-01", "end": "2016-06-30", "city_code": code}, headers=director)
        assert (refused.status_code, refused.json()["code"]) == (403, "out_of_scope")
    reversed_period = client.get(url, params={"start": "2016-06-30", "end": "2016-05-01"}, headers=headers)
    assert (reversed_period.status_code, reversed_period.json()["code"]) == (422, "invalid_period")

    def total(start: str, end: str, city_code: str | None = None) -> dict:
        params = {"start": start, "end": end, **({"city_code": city_code} if city_code else {})}
        answer = client.get(url, params=params, headers=headers)
        assert answer.status_code == 200
        return answer.json()

    # history_sales(): 杭州 H1 10/day × 396 days; 上海 S1 20/day × 214 days (2015) + 24/day × 182 days
    # (2016 H1), S2 30/day × 30 days (June 2016); 广州 G1 5/day × 61 days (May-June 2016).
    assert total("2015-06-01", "2016-06-30") == {"city_code": None, "start": "2015-06-01", "end": "2016-06-30",
                                                 "orders": 3960 + 4280 + 4368 + 900 + 305, "facts": 396 + 426 + 61}
    assert total("2016-06-01", "2016-06-30", "310000")["orders"] == 24 * 30 + 30 * 30 == 1620
    assert total("2016-06-01", "2016-06-30", "310000")["facts"] == 60
    assert total("2016-07-01", "2016-07-31") == {"city_code": None, "start": "2016-07-01", "end": "2016-07-31",
                                                 "orders": 0, "facts": 0}
    publish(host, DailySalesRecorded(batch_id="fix", city_code="310000", city_name=NAME["310000"], region="华东", sales=[
        DailySale(day=date(2016, 6, 30), outlet_id="S2", channel="超市便利店", orders=100, revision=2),  # 30 → 100
        DailySale(day=date(2016, 6, 29), outlet_id="S2", channel="超市便利店", orders=50, revision=3),  # 30 → 50
        DailySale(day=date(2016, 6, 28), outlet_id="S1", channel="美食", orders=1, revision=2),
        DailySale(day=date(2016, 6, 28), outlet_id="S1", channel="美食", orders=2, revision=2),  # 24 → 2 (later tie)
    ]))
    publish(host, DailySalesRecorded(batch_id="stale", city_code="310000", city_name=NAME["310000"], region="华东",
                                     sales=[DailySale(day=date(2016, 6, 29), outlet_id="S2", channel="超市便利店",
                                                      orders=999, revision=2)]))  # older than revision 3: ignored
    assert total("2016-06-01", "2016-06-30", "310000") == {
        "city_code": "310000", "start": "2016-06-01", "end": "2016-06-30",
        "orders": 1620 + (100 - 30) + (50 - 30) + (2 - 24), "facts": 60}
    assert client.get(url, params={"start": "2016-06-01", "end": "2016-06-30"}).status_code == 401
    assert client.get(url, params={"start": "2016-06-01"}, headers=headers).status_code == 422


def test_a_citys_packages_are_updated_the_shortest_period_first_whatever_their_ids(running):
    """Package ids are random; the order of a city's `attainment_updated` events must not be. A
    month's package comes before the quarter that holds it (alerts' lag rule fires on the first of
    them and its cooldown keeps the other quiet: the same package in every run and in both modes)."""
    host, client = running
    planner = auth(host, "hq_planner")
    published = {}
    for name, start, end in (("Q3", "2016-07-01", "2016-09-30"), ("七月", "2016-07-01", "2016-07-31"),
                             ("七月上旬", "2016-07-01", "2016-07-10")):
        scenario = client.post("/api/v1/allocation/scenarios", headers=planner, json={
            "name": name, "period_start": start, "period_end": end, "hq_total": "9000"}).json()
        response = client.post(f"/api/v1/allocation/scenarios/{scenario['id']}/publish", headers=planner)
        assert response.status_code == 201, response.text
        published[response.json()["package_id"]] = name
    host.wait_until_quiet(30)
    host.clock.set(datetime(2016, 7, 1, 13, 0, tzinfo=UTC))  # 21:00 in Shanghai
    publish(host, *sales_events({"330100": [DailySale(day=date(2016, 7, 1), outlet_id="H1", channel="美食",
                                                      orders=7)]}, "day1"))
    updates = [e for e in outbox_events(host, "allocation.attainment_updated") if e["city_code"] == "330100"]
    assert [published[e["package_id"]] for e in updates] == ["七月上旬", "七月", "Q3"]
    assert [e["actual_to_date"] for e in updates] == ["7", "7", "7"]


def test_a_group_of_sales_events_is_applied_as_one_by_one_would_leave_it(running):
    """One poll's events are applied in one transaction and the touched cities' attainment is
    recomputed once at its commit: a correction later in the group (revision 2 of 杭州's 1 July)
    wins over the fact before it, every city ends with its own figures, and the stored facts are
    the latest revisions."""
    host, client = running
    planner = auth(host, "hq_planner")
    scenario = client.post("/api/v1/allocation/scenarios", json=SCENARIO, headers=planner).json()
    package_id = client.post(f"/api/v1/allocation/scenarios/{scenario['id']}/publish", headers=planner).json()["package_id"]
    host.wait_until_quiet(30)
    daily = {line["city_code"]: line["daily"] for line in client.get(
        f"/api/v1/allocation/packages/{package_id}", params={"daily": True}, headers=planner).json()["lines"]}
    host.clock.set(datetime(2016, 7, 2, 13, 0, tzinfo=UTC))  # 21:00 on 2 July in Shanghai

    def sale(code: str, day: int, outlet: str, orders: int, revision: int = 1) -> DailySalesRecorded:
        return DailySalesRecorded(batch_id=f"g-{code}-{day}-{revision}", city_code=code, city_name=NAME[code],
                                  region=REGION[code], sales=[DailySale(day=date(2016, 7, day), outlet_id=outlet,
                                                                        channel="美食", orders=orders, revision=revision)])

    publish(host, sale("330100", 1, "H1", 60), sale("310000", 1, "S1", 40), sale("330100", 1, "H1", 70, revision=2),
            sale("330100", 2, "H1", 10), sale("310000", 1, "S1", 5))  # the last: same revision, later → wins
    updates = outbox_events(host, "allocation.attainment_updated")
    last = {e["city_code"]: e for e in updates}
    target = {code: sum(Decimal(daily[code][f"2016-07-0{d}"]) for d in days) for code, days in
              (("330100", (1, 2)), ("310000", (1,)))}
    assert [target["330100"], target["310000"]] == [117, 416]  # the package's daily phasing
    assert {code: (e["as_of"], e["actual_to_date"], e["target_to_date"], e["attainment_pct"], e["rank"])
            for code, e in last.items()} == {"330100": ("2016-07-02", "80", "117", "68.4", 1),
                                             "310000": ("2016-07-01", "5", "416", "1.2", 2)}
    attainment = client.get(f"/api/v1/allocation/packages/{package_id}/attainment", headers=planner).json()
    assert {item["key"]: item["actual_to_date"] for item in attainment["items"]} == {
        "330100": "80", "310000": "5", "440100": "0"}
    total = client.get("/api/v1/allocation/sales/total", params={"start": "2016-07-01", "end": "2016-07-02"},
                       headers=planner).json()
    assert (total["orders"], total["facts"]) == (85, 3)
