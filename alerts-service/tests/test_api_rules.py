"""Rules API: CRUD with versions, YAML import/export, groups, problems and roles."""

from __future__ import annotations

from pathlib import Path

import pytest
from alerts_service.settings import AlertsSettings
from fastapi.testclient import TestClient

from shared.events.ingestion import CitiesRecorded, CityRecord

RULES_YAML = (Path(__file__).resolve().parents[1] / "alerts_service" / "rules" / "default_rules.yaml").read_text(
    encoding="utf-8"
)
HEAT = {"id": "heat", "name": "高温", "kind": "weather_spell", "scope": {"groups": ["south"]},
        "action": {"type": "uplift", "percent": "15"}}


@pytest.fixture
def api(alerts_host):
    host = alerts_host(AlertsSettings())
    with TestClient(host.app()) as client:
        planner = host.authenticator.mint("u_hq", ["hq_planner"])
        manager = host.authenticator.mint("u_city", ["city_manager"], cities=["440100"])
        yield client, {"Authorization": f"Bearer {planner}"}, {"Authorization": f"Bearer {manager}"}


def test_create_revise_and_delete_a_rule_with_versions(api):
    client, planner, _ = api
    created = client.post("/api/v1/alerts/rules", json=HEAT, headers=planner)
    assert created.status_code == 201
    assert created.json()["version"] == 1
    assert created.json()["params"] == {"threshold_c": "35", "min_days": 3, "lead_days": 7, "source": "any"}
    assert client.post("/api/v1/alerts/rules", json=HEAT, headers=planner).json()["code"] == "rule_exists"

    change = {**{k: v for k, v in HEAT.items() if k != "id"}, "params": {"threshold_c": "37"}, "expected_version": 1}
    revised = client.put("/api/v1/alerts/rules/heat", json=change, headers=planner)
    assert (revised.status_code, revised.json()["version"], revised.json()["params"]["threshold_c"]) == (200, 2, "37")
    stale = client.put("/api/v1/alerts/rules/heat", json=change, headers=planner)
    assert (stale.status_code, stale.json()["code"], stale.json()["current_version"]) == (409, "stale_version", 2)

    detail = client.get("/api/v1/alerts/rules/heat", headers=planner).json()
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    assert detail["versions"][0]["created_by"] == "u_hq"
    first = client.get("/api/v1/alerts/rules/heat/versions/1", headers=planner).json()
    assert first["params"]["threshold_c"] == "35"

    assert client.delete("/api/v1/alerts/rules/heat?expected_version=1", headers=planner).status_code == 409
    assert client.delete("/api/v1/alerts/rules/heat?expected_version=2", headers=planner).status_code == 204
    assert client.get("/api/v1/alerts/rules/heat", headers=planner).status_code == 404
    again = client.post("/api/v1/alerts/rules", json=HEAT, headers=planner)
    assert again.json()["version"] == 3  # the id keeps its history


def test_invalid_rules_are_422_problems_naming_the_field(api):
    client, planner, _ = api
    response = client.post("/api/v1/alerts/rules", json={**HEAT, "params": {"threshold_c": 35.5}}, headers=planner)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["code"], response.json()["field"]) == ("rule_invalid", "params.threshold_c")
    unknown = client.post("/api/v1/alerts/rules", json={**HEAT, "colour": "red"}, headers=planner)
    assert unknown.status_code == 422


def test_only_planners_edit_rules_and_everyone_must_authenticate(api):
    client, _, manager = api
    assert client.get("/api/v1/alerts/rules").json()["code"] == "not_authenticated"
    refused = client.post("/api/v1/alerts/rules", json=HEAT, headers=manager)
    assert (refused.status_code, refused.json()["code"]) == (403, "role_required")
    assert client.get("/api/v1/alerts/rules", headers=manager).json() == []


def test_yaml_import_creates_then_leaves_unchanged_then_revises_and_exports(api):
    client, planner, _ = api
    yaml_headers = {**planner, "Content-Type": "application/yaml"}
    first = client.post("/api/v1/alerts/rules/import", content=RULES_YAML.encode("utf-8"), headers=yaml_headers)
    assert first.json() == {
        "created": ["south-heat-wave", "city-sales-cliff", "attainment-lag", "school-opening"],
        "revised": [], "unchanged": [], "groups": ["south"], "warnings": [],
    }
    second = client.post("/api/v1/alerts/rules/import", json={"yaml": RULES_YAML}, headers=planner)
    assert second.json()["unchanged"] == ["south-heat-wave", "city-sales-cliff", "attainment-lag", "school-opening"]
    changed = RULES_YAML.replace("percent: 15", "percent: 20")
    third = client.post("/api/v1/alerts/rules/import", content=changed.encode("utf-8"), headers=yaml_headers)
    assert third.json()["revised"] == ["south-heat-wave"]
    heat = client.get("/api/v1/alerts/rules/south-heat-wave", headers=planner).json()
    assert (heat["version"], heat["action"]["percent"], heat["name"]) == (2, "20", "南方高温上调")
    exported = client.get("/api/v1/alerts/rules/export", headers=planner)
    assert exported.headers["content-type"].startswith("application/yaml")
    assert "南方高温上调" in exported.text and "percent: '20'" in exported.text
    broken = client.post("/api/v1/alerts/rules/import", content=b"- {id: x, kind: nope}", headers=yaml_headers)
    assert (broken.status_code, broken.json()["field"]) == (422, "rules[0].kind")


def test_city_groups_are_configurable(api):
    client, planner, _ = api
    assert client.get("/api/v1/alerts/groups", headers=planner).json() == {"south": ["华南", "华中", "西南"]}
    put = client.put("/api/v1/alerts/groups/south", json={"regions": ["华南"]}, headers=planner)
    assert put.json() == {"name": "south", "regions": ["华南"], "groups": {"south": ["华南"]}, "warnings": []}


def test_the_shipped_rules_can_be_seeded_at_start(alerts_host):
    host = alerts_host(AlertsSettings(seed_default_rules=True))
    with TestClient(host.app()) as client:
        headers = {"Authorization": "Bearer " + host.authenticator.mint("u", ["city_manager"])}
        rules = client.get("/api/v1/alerts/rules", headers=headers).json()
    assert [(r["id"], r["version"], r["cooldown"]) for r in rules] == [
        ("attainment-lag", 1, "7d"), ("city-sales-cliff", 1, "3d"), ("school-opening", 1, "0s"),
        ("south-heat-wave", 1, "0s"),
    ]


# -- what a rule may say: bounded numbers, known groups, and warnings for unknown places ---------------
CITIES = CitiesRecorded(batch_id="c1", cities=[CityRecord(code="440100", name="广州", province="广东省", region="华南")])


@pytest.mark.parametrize("change, field, detail", [
    ({"params": {"threshold_c": "1e309"}}, "params.threshold_c", "must be between -60 and 70"),
    ({"params": {"threshold_c": "70.00001"}}, "params.threshold_c", "must be between -60 and 70"),
    ({"params": {"threshold_c": "35.12345"}}, "params.threshold_c", "at most 4 decimal places"),
    ({"params": {"min_days": 10**21}}, "params.min_days", "must be between 1 and 60"),
    ({"params": {"min_days": 1e21}}, "params.min_days", "must be a whole number"),
    ({"params": {"min_days": "²"}}, "params.min_days", "must be a whole number"),
    ({"params": {"lead_days": 31}}, "params.lead_days", "must be between 0 and 30"),
    ({"action": {"type": "uplift", "percent": "1e309"}}, "action.percent", "must be in (0, 100]"),
    ({"cooldown": "99999999999999999d"}, "cooldown", "must be at most 365d"),
    ({"cooldown": 10**30}, "cooldown", "must be at most 365d"),
    ({"scope": {"groups": ["nowhere"]}}, "scope.groups", "unknown city group(s): nowhere; known: south"),
])
def test_numbers_out_of_bounds_and_unknown_groups_are_refused(api, change, field, detail):
    client, planner, _ = api
    response = client.post("/api/v1/alerts/rules", json={**HEAT, **change}, headers=planner)
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"], response.json()["detail"]) == (
        "rule_invalid", field, f"{field}: {detail}")
    assert client.get("/api/v1/alerts/rules", headers=planner).json() == []


def test_unknown_cities_and_regions_are_kept_but_named_in_warnings(alerts_host, publish):
    host = alerts_host(AlertsSettings())
    with TestClient(host.app()) as client:
        planner = {"Authorization": "Bearer " + host.authenticator.mint("u_hq", ["hq_planner"])}
        publish(host, CITIES)
        host.wait_until_quiet(30)
        created = client.post("/api/v1/alerts/rules", headers=planner, json={
            **HEAT, "scope": {"cities": ["999999", "广州", "440100"], "regions": ["火星", "华南", "东北"]}})
        assert created.status_code == 201
        assert created.json()["warnings"] == [
            "scope.cities: 999999 is not a city alerts knows yet; the rule covers it once it is recorded",
            "scope.regions: 火星 is not a region alerts knows yet; no city is covered there until one is recorded",
        ]
        assert created.json()["scope"]["regions"] == ["火星", "华南", "东北"]
        revised = client.put("/api/v1/alerts/rules/heat", headers=planner, json={
            **{k: v for k, v in HEAT.items() if k != "id"}, "scope": {"cities": ["广州"]}, "expected_version": 1})
        assert (revised.json()["version"], revised.json()["warnings"]) == (2, [])

        group = client.put("/api/v1/alerts/groups/south", json={"regions": ["火星", "华南"]}, headers=planner)
        assert group.status_code == 200
        assert group.json() == {
            "name": "south", "regions": ["火星", "华南"], "groups": {"south": ["火星", "华南"]},
            "warnings": ["regions: 火星 is not a region alerts knows yet; no city is covered there until one is "
                         "recorded"]}

        imported = client.post("/api/v1/alerts/rules/import", headers={**planner, "Content-Type": "application/yaml"},
                               content="""
groups: {coast: [华南, 海底]}
rules:
  - {id: coast-heat, kind: weather_spell, scope: {groups: [coast], cities: [亚特兰蒂斯]}}
""".encode())
        assert imported.json() == {"created": ["coast-heat"], "revised": [], "unchanged": [], "groups": ["coast"],
                                   "warnings": [
            "groups.coast: 海底 is not a region alerts knows yet; no city is covered there until one is recorded",
            "rules[0].scope.cities: 亚特兰蒂斯 is not a city alerts knows yet; the rule covers it once it is recorded"]}
        refused = client.post("/api/v1/alerts/rules/import", headers={**planner, "Content-Type": "application/yaml"},
                              content=b"- {id: far, kind: weather_spell, scope: {groups: [moon]}}\n"
                                      b"- {id: hot, kind: weather_spell, scope: {groups: [south]},"
                                      b" params: {threshold_c: 99}}\n")
        assert (refused.status_code, refused.json()["field"]) == (422, "rules[0].scope.groups")
        assert "far" not in [rule["id"] for rule in client.get("/api/v1/alerts/rules", headers=planner).json()]


def test_integers_beyond_any_version_are_422_not_500(api):
    client, planner, _ = api
    assert client.post("/api/v1/alerts/rules", json=HEAT, headers=planner).status_code == 201
    huge = "9" * 30
    for method, path in (("GET", f"/api/v1/alerts/rules/heat/versions/{huge}"),
                         ("GET", "/api/v1/alerts/rules/heat/versions/0"),
                         ("DELETE", f"/api/v1/alerts/rules/heat?expected_version={huge}"),
                         ("DELETE", "/api/v1/alerts/rules/heat?expected_version=-1"),
                         ("GET", f"/api/v1/alerts/alerts?offset={huge}")):
        response = client.request(method, path, headers=planner)
        assert (response.status_code, response.json()["code"]) == (422, "validation_error"), path
    change = {**{k: v for k, v in HEAT.items() if k != "id"}, "expected_version": int(huge)}
    assert client.put("/api/v1/alerts/rules/heat", json=change, headers=planner).status_code == 422
    assert client.get("/api/v1/alerts/rules/heat/versions/2147483647", headers=planner).status_code == 404
    assert client.delete("/api/v1/alerts/rules/heat?expected_version=1", headers=planner).status_code == 204
