"""The tester's defects on the allocation API, each reproduced with exact values: repeated manual edits,
scope of every read, bounded numbers, the clock's today in attainment, the head-office total kept
by manual edits, one live package per period and metric, refused bad input, the formula's errors.

Data: four cities with constant daily orders from 2015-06-01 to 2016-06-30, so every growth is 0 and
every city `stable` (×1.1): 杭州 10/day, 上海 20/day, 苏州 30/day (华东) and 广州 5/day (华南). For
1–10 July the bottom-up targets are 110 / 220 / 330 / 55 (Σ 715); head office asks 1,430 = 2 × 715,
so the reconciled targets are exactly 220 / 440 / 660 / 110 and the allocation weights 110 / 220 /
330 / 55 (bottom-up × tier weight 1.0).
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

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
from shared.timeutil import UTC

NOW = datetime(2016, 6, 30, 1, 0, tzinfo=UTC)  # 2016-06-30 09:00 in Shanghai
CITIES = [
    CityRecord(code="330100", name="杭州市", province="浙江省", region="华东", lng="120.15", lat="30.28"),
    CityRecord(code="310000", name="上海市", province="上海市", region="华东", lng="121.47", lat="31.23"),
    CityRecord(code="320500", name="苏州市", province="江苏省", region="华东", lng="120.58", lat="31.30"),
    CityRecord(code="440100", name="广州市", province="广东省", region="华南", lng="113.26", lat="23.13"),
]
REGION = {c.code: c.region for c in CITIES}
NAME = {c.code: c.name for c in CITIES}
OUTLET = {"330100": ("H1", 10), "310000": ("S1", 20), "320500": ("Z1", 30), "440100": ("G1", 5)}
API = "/api/v1/allocation"
SCENARIO = {"name": "七月上旬", "period_start": "2016-07-01", "period_end": "2016-07-10", "hq_total": "1430"}


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def sales(code: str, start: date, end: date, orders: int | None = None, batch: str = "hist") -> list[DailySalesRecorded]:
    outlet, per_day = OUTLET[code]
    items = [DailySale(day=d, outlet_id=outlet, channel="美食", orders=per_day if orders is None else orders)
             for d in days(start, end)]
    return [DailySalesRecorded(batch_id=f"{batch}-{code}-{i}", city_code=code, city_name=NAME[code], region=REGION[code],
                               sales=items[i:i + 500]) for i in range(0, len(items), 500)]


def publish(host, *events) -> None:
    host.bus.publish([to_message(wrap(e, producer="test", now=NOW), e.TOPIC) for e in events])
    host.wait_until_quiet(60)


def outbox_events(host, event_type: str) -> list[dict]:
    with host.services["allocation"].context.engine.connect() as connection:
        rows = connection.execute(select(outbox.c.envelope).where(outbox.c.event_type == event_type).order_by(outbox.c.id))
        return [json.loads(row[0])["data"] for row in rows]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def running(request, embedded_host, pg_host):
    factory = embedded_host if request.param == "sqlite" else pg_host
    host = factory([SERVICE], clock=ReplayClock(NOW))
    with TestClient(host.app()) as client:
        publish(host, CitiesRecorded(batch_id="c1", cities=CITIES), *[
            OutletsRecorded(batch_id=f"o-{code}", city_code=code, city_name=NAME[code], region=REGION[code],
                            outlets=[OutletRecord(outlet_id=outlet, channel="美食")])
            for code, (outlet, _) in OUTLET.items()
        ], *[event for code in OUTLET for event in sales(code, date(2015, 6, 1), date(2016, 6, 30))])
        yield host, client


def auth(host, *roles, **scope) -> dict:
    return {"Authorization": f"Bearer {host.authenticator.mint('u_test', roles, **scope)}"}


def new_package(client, headers, **changes) -> str:
    scenario = client.post(f"{API}/scenarios", json={**SCENARIO, **changes}, headers=headers)
    assert scenario.status_code == 201, scenario.text
    published = client.post(f"{API}/scenarios/{scenario.json()['id']}/publish", headers=headers)
    assert published.status_code == 201, published.text
    return published.json()["package_id"]


def targets(client, package_id: str, headers) -> dict[str, str]:
    return {line["city_code"]: line["target"] for line in
            client.get(f"{API}/packages/{package_id}", headers=headers).json()["lines"]}


# -- 1 and 5: every manual edit is a new version; the total is kept unless asked -----------------------------
def test_repeated_manual_edits_make_versions_and_keep_the_total_by_region_offsets(running):
    host, client = running
    planner = auth(host, "hq_planner")
    package_id = new_package(client, planner)
    assert targets(client, package_id, planner) == {"310000": "440", "320500": "660", "330100": "220", "440100": "110"}
    url = f"{API}/packages/{package_id}/targets"

    # 杭州 +110: 上海 and 苏州 absorb −110 by weights 220 : 330 → −44 and −66
    first = client.patch(url, json={"targets": {"330100": "330"}}, headers={**planner, "If-Match": '"1"'})
    assert first.status_code == 200 and first.headers["etag"] == '"2"', first.text
    after_first = targets(client, package_id, planner)
    # the second edit by the same person used to fail with 500 (unique package, source, reference)
    # 上海 +5: 杭州 and 苏州 absorb −5 by 110 : 330 → −1.25 / −3.75 → floors −2 / −4, the leftover unit to
    # the larger remainder (杭州 .75) → −1 / −4
    second = client.patch(url, json={"targets": {"310000": "401"}, "note": "第二次"}, headers={**planner, "If-Match": '"2"'})
    assert second.status_code == 200 and second.headers["etag"] == '"3"', second.text
    assert after_first == {"310000": "396", "320500": "594", "330100": "330", "440100": "110"}
    package = client.get(f"{API}/packages/{package_id}", params={"daily": True}, headers=planner).json()
    lines = {line["city_code"]: line for line in package["lines"]}
    assert {code: line["target"] for code, line in lines.items()} == {
        "310000": "401", "320500": "590", "330100": "329", "440100": "110"}
    assert package["total"] == "1430"
    assert {code: sum(int(v) for v in line["daily"].values()) for code, line in lines.items()} == {
        "310000": 401, "320500": 590, "330100": 329, "440100": 110}

    # 广州 is alone in 华南: nobody can offset it → 409 total_mismatch, nothing written
    alone = client.patch(url, json={"targets": {"440100": "200"}}, headers={**planner, "If-Match": '"3"'})
    assert alone.status_code == 409 and alone.json()["code"] == "total_mismatch"
    assert (alone.json()["region"], alone.json()["change"], alone.json()["total"]) == ("华南", "90", "1430")
    # 华东 cannot absorb +1,171 (上海 401 + 苏州 590 = 991) without a negative target
    too_much = client.patch(url, json={"targets": {"330100": "1500"}}, headers={**planner, "If-Match": '"3"'})
    assert too_much.status_code == 409 and too_much.json()["code"] == "total_mismatch"
    moved = client.patch(url, json={"targets": {"440100": "200"}, "allow_total_change": True},
                         headers={**planner, "If-Match": '"3"'})
    assert moved.status_code == 200 and moved.headers["etag"] == '"4"'
    versions = client.get(f"{API}/packages/{package_id}/versions", headers=planner).json()
    assert [(v["number"], v["source"], v["reference"], v["note"], v["total"]) for v in versions] == [
        (1, "generated", versions[0]["reference"], "七月上旬", "1430"),
        (2, "manual", "u_test", None, "1430"),
        (3, "manual", "u_test", "第二次", "1430"),
        (4, "manual", "u_test", None, "1520"),
    ]
    revised = outbox_events(host, "allocation.targets_revised")
    assert [(e["version"], e["total"]) for e in revised] == [(2, "1430"), (3, "1430"), (4, "1520")]


# -- 2: scope ---------------------------------------------------------------------------------------------
def test_scenarios_heat_map_and_region_attainment_stay_in_the_callers_scope(running):
    host, client = running
    planner = auth(host, "hq_planner")
    manager = auth(host, "city_manager", cities=["330100"])
    director = auth(host, "region_director", regions=["华南"])
    finance = auth(host, "finance")
    scenario = client.post(f"{API}/scenarios", json=SCENARIO, headers=planner).json()
    other = client.post(f"{API}/scenarios", json={**SCENARIO, "hq_total": "1500"}, headers=planner).json()
    reads = [("/scenarios", {}), (f"/scenarios/{scenario['id']}", {}),
             ("/scenarios/compare", {"ids": [scenario["id"], other["id"]]})]
    for path, params in reads:
        for who in (manager, director):
            refused = client.get(API + path, params=params, headers=who)
            assert refused.status_code == 403 and refused.json()["code"] == "role_required", path
        assert client.get(API + path, params=params, headers=finance).status_code == 200, path

    package_id = client.post(f"{API}/scenarios/{scenario['id']}/publish", headers=planner).json()["package_id"]
    host.clock.set(datetime(2016, 7, 2, 13, 0, tzinfo=UTC))  # 2 July, 21:00 in Shanghai
    publish(host, *sales("330100", date(2016, 7, 1), date(2016, 7, 2), 30, "jul"),
            *sales("310000", date(2016, 7, 1), date(2016, 7, 2), 50, "jul"),
            *sales("440100", date(2016, 7, 1), date(2016, 7, 2), 7, "jul"))

    def regions(headers) -> dict[str, tuple[str, str]]:
        body = client.get(f"{API}/packages/{package_id}/attainment", params={"level": "region"}, headers=headers).json()
        return {item["key"]: (item["actual_to_date"], item["target_to_date"]) for item in body["items"]}

    # targets to date (2 of 10 equal days): 杭州 44, 上海 88, 苏州 132, 广州 22
    assert regions(planner) == {"华东": ("160", "264"), "华南": ("14", "22")}
    assert regions(manager) == {"华东": ("60", "44")}  # 杭州 alone, not 上海 and 苏州
    assert regions(director) == {"华南": ("14", "22")}
    channels = client.get(f"{API}/packages/{package_id}/attainment", params={"level": "channel"}, headers=manager).json()
    assert [(c["key"], c["actual_to_date"]) for c in channels["items"]] == [("美食", "60")]
    cities = client.get(f"{API}/packages/{package_id}/attainment", headers=director).json()["items"]
    assert [c["key"] for c in cities] == ["440100"]

    assert client.get(f"{API}/heatmap", headers=manager).status_code == 403
    assert client.get(f"{API}/heatmap.png", headers=manager).status_code == 403
    east = auth(host, "region_director", regions=["华东"])
    heat = client.get(f"{API}/heatmap", params={"history_end": "2016-06-30"}, headers=east)
    assert sorted(f["city_code"] for f in heat.json()["features"]) == ["310000", "320500", "330100"]
    everyone = client.get(f"{API}/heatmap", params={"history_end": "2016-06-30"}, headers=finance).json()
    assert sorted(f["city_code"] for f in everyone["features"]) == ["310000", "320500", "330100", "440100"]
    picture = client.get(f"{API}/heatmap.png", params={"history_end": "2016-06-30"}, headers=east)
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")


# -- 3: bounded numbers: 422/404/412, never 500 ------------------------------------------------------------
def test_huge_and_non_finite_numbers_are_refused_not_500(running):
    host, client = running
    planner = auth(host, "hq_planner")
    for total in ("1e30", "1e309", "NaN", "Infinity", "1234567890123456", "10.5"):
        answer = client.post(f"{API}/scenarios", json={**SCENARIO, "hq_total": total}, headers=planner)
        assert answer.status_code == 422, (total, answer.text)
    assert client.post(f"{API}/scenarios", json={**SCENARIO, "hq_total": "999999999999999"},
                       headers=planner).status_code == 201  # 15 digits are fine
    package_id = new_package(client, planner, period_start="2016-07-11", period_end="2016-07-20")
    url = f"{API}/packages/{package_id}/targets"
    for value in ("1e30", "1e309", "-Infinity", "-5", "10.5"):
        answer = client.patch(url, json={"targets": {"330100": value}}, headers={**planner, "If-Match": '"1"'})
        assert answer.status_code == 422, (value, answer.text)
    huge = client.get(f"{API}/packages/{package_id}/versions/99999999999999999999", headers=planner)
    assert huge.status_code == 422
    assert client.get(f"{API}/packages/{package_id}/versions/7", headers=planner).status_code == 404
    stale_giant = client.patch(url, json={"targets": {"330100": "1"}},
                               headers={**planner, "If-Match": '"99999999999999999999"'})
    assert stale_giant.status_code == 412 and stale_giant.json()["code"] == "bad_if_match"
    for months in (0, -3, 37, 100000):
        assert client.get(f"{API}/heatmap", params={"months": months}, headers=planner).status_code == 422, months
    assert client.get(f"{API}/heatmap", params={"months": 36, "history_end": "2016-06-30"},
                      headers=planner).status_code == 200
    assert client.get(f"{API}/heatmap", params={"history_end": "0001-01-01"}, headers=planner).status_code == 422
    far = {**SCENARIO, "period_start": "0001-01-01", "period_end": "0001-01-10"}
    assert client.post(f"{API}/scenarios", json=far, headers=planner).status_code == 422


# -- 4: nothing after the clock's today counts ---------------------------------------------------------------
def test_attainment_never_reports_actuals_after_today(running):
    host, client = running
    planner = auth(host, "hq_planner")
    manager = auth(host, "city_manager", cities=["330100"])
    package_id = new_package(client, planner)
    # the whole period's actuals arrive while the clock still says 30 June (Shanghai)
    publish(host, *sales("330100", date(2016, 7, 1), date(2016, 7, 10), 25, "early"))
    assert [e for e in outbox_events(host, "allocation.attainment_updated")] == []
    [line] = client.get(f"{API}/my/targets", headers=manager).json()["packages"][0]["lines"]
    assert (line["as_of"], line["actual_to_date"], line["target_to_date"]) == ("2016-06-30", "0", "0")
    [item] = client.get(f"{API}/packages/{package_id}/attainment", headers=manager).json()["items"]
    assert (item["as_of"], item["actual_to_date"], item["projection"]) == ("2016-06-30", "0", "0")

    host.clock.set(datetime(2016, 7, 3, 15, 59, tzinfo=UTC))  # 3 July 23:59 in Shanghai
    [line] = client.get(f"{API}/my/targets", headers=manager).json()["packages"][0]["lines"]
    assert (line["as_of"], line["actual_to_date"], line["target_to_date"]) == ("2016-07-03", "75", "66")
    asked_later = client.get(f"{API}/packages/{package_id}/attainment", params={"as_of": "2016-07-09"},
                             headers=manager).json()["items"][0]
    assert (asked_later["as_of"], asked_later["actual_to_date"], asked_later["projection"]) == ("2016-07-03", "75", "250")
    host.clock.set(datetime(2016, 7, 3, 16, 0, tzinfo=UTC))  # 4 July 00:00 in Shanghai
    [line] = client.get(f"{API}/my/targets", headers=manager).json()["packages"][0]["lines"]
    assert (line["as_of"], line["actual_to_date"]) == ("2016-07-04", "100")


# -- 6: one live package per period and metric -------------------------------------------------------------
def test_a_second_package_for_the_same_period_needs_supersede(running):
    host, client = running
    planner = auth(host, "hq_planner")
    first = new_package(client, planner)
    again = client.post(f"{API}/scenarios", json={**SCENARIO, "hq_total": "2000"}, headers=planner).json()
    refused = client.post(f"{API}/scenarios/{again['id']}/publish", headers=planner)
    assert refused.status_code == 409 and refused.json()["code"] == "package_exists_for_period"
    assert refused.json()["package_ids"] == [first]
    assert client.get(f"{API}/scenarios/{again['id']}", headers=planner).json()["status"] == "draft"
    # another period (the first five days) or another metric is a different package
    short = new_package(client, planner, period_end="2016-07-05", hq_total="700")
    replaced = client.post(f"{API}/scenarios/{again['id']}/publish", json={"supersede": True}, headers=planner)
    assert replaced.status_code == 201, replaced.text
    second = replaced.json()["package_id"]
    old = client.get(f"{API}/packages/{first}", headers=planner).json()
    assert old["superseded_by"] == second and old["superseded_at"] == NOW.isoformat()
    edit = client.patch(f"{API}/packages/{first}/targets", json={"targets": {"330100": "1"}},
                        headers={**planner, "If-Match": '"1"'})
    assert edit.status_code == 409 and edit.json()["code"] == "package_superseded"
    # an uplift reaches the live packages only; "my targets" no longer lists the superseded one
    publish(host, UpliftRequested(uplift_id="upl-9", rule_id="heat", rule_version=1, city_code="330100", percent="10",
                                  start_day=date(2016, 7, 1), end_day=date(2016, 7, 10), reason="高温", requested_at=NOW))
    assert sorted(e["package_id"] for e in outbox_events(host, "allocation.targets_revised")) == sorted([second, short])
    assert client.get(f"{API}/packages/{first}", headers=planner).json()["current_version"] == 1
    mine = client.get(f"{API}/my/targets", headers=auth(host, "city_manager", cities=["330100"])).json()
    assert first not in [p["package_id"] for p in mine["packages"]]


# -- 7 and 9: bad input is refused with a word -----------------------------------------------------------
def test_bad_scenario_input_is_refused_with_a_reason(running):
    host, client = running
    planner = auth(host, "hq_planner")

    def create(**changes):
        return client.post(f"{API}/scenarios", json={**SCENARIO, **changes}, headers=planner)

    for changes in ({"tier_weights": {"stable": "-1"}}, {"tier_weights": {"hot": "1"}}, {"budget_total": "-100"},
                    {"expense_ratios": {"美食": "-0.1"}}, {"region_totals": {"华东": "-5"}},
                    {"model": "two_factor", "model_params": {"a": "1e400"}},
                    {"model": "tiered", "model_params": {"multiplier": {"stable": "2"}}}):
        answer = create(**changes)
        assert answer.status_code == 422, (changes, answer.text)
    revenue = create(metric="revenue", hq_total=None)
    assert revenue.status_code == 422 and revenue.json()["code"] == "no_revenue_data"
    zero = create(hq_total="-0")
    assert zero.status_code == 201
    assert (zero.json()["request"]["hq_total"], zero.json()["summary"]["hq_total"]) == ("0", "0")
    assert {line["target"] for line in zero.json()["lines"]} == {"0"}
    power = create(model="formula", model_params={"expression": "ly ** 2"})
    assert power.status_code == 422 and power.json()["code"] == "invalid_model"
    assert "operator ** (power) is not allowed" in power.json()["detail"] and "<ast." not in power.json()["detail"]
    schema = client.get(f"{API}/openapi.json").json()["components"]["schemas"]
    described = schema["ScenarioCreate"]["properties"]["model_params"]["description"]
    assert all(key in described for key in ("`expression`", "`multipliers`", "`a`", "`b`", "`markets`", "fx_impact"))
    assert "allow_total_change" in schema["PackageTargetsUpdate"]["properties"]
    assert "supersede" in schema["ScenarioPublish"]["properties"]
