"""Rules API: CRUD with versions, YAML import/export, groups, problems and roles."""

from __future__ import annotations

from pathlib import Path

import pytest
from alerts_service.settings import AlertsSettings
from fastapi.testclient import TestClient

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
        "revised": [], "unchanged": [], "groups": ["south"],
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
    assert put.json() == {"south": ["华南"]}


def test_the_shipped_rules_can_be_seeded_at_start(alerts_host):
    host = alerts_host(AlertsSettings(seed_default_rules=True))
    with TestClient(host.app()) as client:
        headers = {"Authorization": "Bearer " + host.authenticator.mint("u", ["city_manager"])}
        rules = client.get("/api/v1/alerts/rules", headers=headers).json()
    assert [(r["id"], r["version"], r["cooldown"]) for r in rules] == [
        ("attainment-lag", 1, "7d"), ("city-sales-cliff", 1, "3d"), ("school-opening", 1, "0s"),
        ("south-heat-wave", 1, "0s"),
    ]
