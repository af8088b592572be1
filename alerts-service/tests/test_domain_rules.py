"""Rules as data: parsing, defaults, validation, versions, YAML, scopes and city groups."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alerts_service.domain.cities import CityDirectory, CityInfo, Scope, UnknownGroup
from alerts_service.domain.rule_yaml import dump_rules_yaml, load_rules_yaml
from alerts_service.domain.rules import (
    RuleInvalid,
    SalesCliffParams,
    WeatherSpellParams,
    parse_duration,
    rule_from_mapping,
)

CITIES = CityDirectory.of(
    [
        CityInfo("440100", "广州", "华南", "广东省"),
        CityInfo("420100", "武汉", "华中", "湖北省"),
        CityInfo("500000", "重庆", "西南", "重庆市"),
        CityInfo("310000", "上海", "华东", "上海市"),
        CityInfo("110000", "北京", "华北", "北京市"),
    ]
)


def test_weather_spell_defaults_are_the_issue_defaults():
    rule = rule_from_mapping({"id": "heat", "kind": "weather_spell", "scope": {"groups": ["south"]}})
    assert rule.params == WeatherSpellParams(Decimal("35"), 3, 7, "any")
    assert rule.action.type == "uplift" and rule.action.percent == Decimal("15")
    assert rule.version == 1 and rule.cooldown == timedelta(0) and rule.enabled


def test_revised_rule_keeps_its_id_and_bumps_the_version():
    rule = rule_from_mapping({"id": "heat", "kind": "weather_spell", "scope": {"groups": ["south"]}})
    second = rule.revised(name="南方高温 v2")
    assert (second.rule_id, second.version, second.name) == ("heat", 2, "南方高温 v2")
    assert rule.version == 1


@pytest.mark.parametrize(
    "patch, field",
    [
        ({"kind": "hail"}, "kind"),
        ({"scope": {}}, "scope"),
        ({"scope": {"planets": ["火星"]}}, "scope.planets"),
        ({"params": {"threshold": 35}}, "params.threshold"),
        ({"params": {"threshold_c": 35.5}}, "params.threshold_c"),
        ({"params": {"min_days": 0}}, "params.min_days"),
        ({"params": {"source": "rumour"}}, "params.source"),
        ({"action": {"type": "uplift", "percent": "-5"}}, "action.percent"),
        ({"action": {"type": "shout"}}, "action.type"),
        ({"action": {"type": "notify", "channels": ["sms"]}}, "action.channels"),
        ({"cooldown": "soon"}, "cooldown"),
        ({"id": "有空格 的 id"}, "id"),
    ],
)
def test_invalid_rules_name_the_offending_field(patch, field):
    raw = {"id": "heat", "kind": "weather_spell", "scope": {"groups": ["south"]}, **patch}
    with pytest.raises(RuleInvalid) as caught:
        rule_from_mapping(raw)
    assert caught.value.field == field


def test_only_weather_and_calendar_rules_can_uplift():
    with pytest.raises(RuleInvalid) as caught:
        rule_from_mapping({"id": "c", "kind": "sales_cliff", "scope": {"regions": ["华东"]}, "action": "uplift"})
    assert caught.value.field == "action.type"


def test_durations():
    assert [parse_duration(v) for v in ("7d", "12h", "30m", "45s", 90)] == [
        timedelta(days=7), timedelta(hours=12), timedelta(minutes=30), timedelta(seconds=45), timedelta(seconds=90),
    ]


def test_default_south_group_is_huanan_huazhong_xinan():
    rule = rule_from_mapping({"id": "heat", "kind": "weather_spell", "scope": {"groups": ["south"]}})
    assert CITIES.resolve(rule.scope) == ["420100", "440100", "500000"]


def test_scope_by_city_name_code_region_and_a_configured_group():
    directory = CityDirectory.of(CITIES.cities.values(), {"south": ("华南",), "coast": ("华东", "华南")})
    assert directory.resolve(Scope(groups=("south",))) == ["440100"]
    assert directory.resolve(Scope(groups=("coast",))) == ["310000", "440100"]
    assert directory.resolve(Scope(cities=("北京", "500000"))) == ["110000", "500000"]
    assert directory.resolve(Scope(regions=("华中",))) == ["420100"]
    # A city the directory has not met yet is judged by the region its event carries.
    assert directory.in_scope(Scope(groups=("south",)), "460200", region="华南", name="三亚")
    with pytest.raises(UnknownGroup):
        directory.resolve(Scope(groups=("north",)))


def test_yaml_reads_decimals_exactly_and_groups():
    document = load_rules_yaml(
        """
groups:
  south: [华南]
rules:
  - id: cliff
    name: 断崖
    kind: sales_cliff
    scope: {regions: [华东]}
    params: {drop_pct: 33.3, min_baseline: 0.1}
"""
    )
    assert document.groups == {"south": ("华南",)}
    (rule,) = document.rules
    assert rule.params == SalesCliffParams(drop_pct=Decimal("33.3"), min_baseline=Decimal("0.1"))
    assert rule.name == "断崖"


def test_yaml_errors_point_at_the_rule():
    with pytest.raises(RuleInvalid) as caught:
        load_rules_yaml("- {id: a, kind: weather_spell, scope: {groups: [south]}}\n- {id: b, kind: nope}\n")
    assert caught.value.field == "rules[1].kind"
    with pytest.raises(RuleInvalid) as caught:
        load_rules_yaml("- {id: a, kind: weather_spell, scope: {groups: [south]}}\n" * 2)
    assert caught.value.field == "rules[1].id"


def test_the_shipped_rules_load_and_round_trip():
    path = Path(__file__).resolve().parents[1] / "alerts_service" / "rules" / "default_rules.yaml"
    document = load_rules_yaml(path.read_text(encoding="utf-8"))
    assert [r.rule_id for r in document.rules] == ["south-heat-wave", "city-sales-cliff", "attainment-lag",
                                                    "school-opening"]
    assert document.groups == {"south": ("华南", "华中", "西南")}
    again = load_rules_yaml(dump_rules_yaml(list(document.rules), document.groups))
    assert again == document


def test_limits_hold_for_new_definitions_while_stored_ones_still_load():
    from alerts_service.domain.rules import check_limits

    stored = rule_from_mapping({"id": "old", "kind": "weather_spell", "scope": {"groups": ["south"]},
                                "params": {"threshold_c": "1e309", "min_days": 10**21}})
    assert stored.params.threshold_c == Decimal("1E+309")  # a version saved before the limits: still readable
    with pytest.raises(RuleInvalid) as caught:
        check_limits(stored)
    assert (caught.value.field, caught.value.message) == ("params.threshold_c", "must be between -60 and 70")
    check_limits(rule_from_mapping({"id": "ok", "kind": "weather_spell", "scope": {"groups": ["south"]},
                                    "params": {"threshold_c": "-60", "min_days": 60, "lead_days": 0},
                                    "cooldown": "365d"}))
    for raw, field in (({"kind": "sales_cliff", "params": {"critical_pct": "101"}}, "params.critical_pct"),
                       ({"kind": "sales_cliff", "params": {"weeks": 53}}, "params.weeks"),
                       ({"kind": "attainment_lag", "params": {"lag_points": "100.5"}}, "params.lag_points"),
                       ({"kind": "calendar_window", "params": {"lead_days": 31, "windows": [
                           {"name": "开学季", "start": "08-25", "end": "09-10"}]}}, "params.lead_days")):
        rule = rule_from_mapping({"id": "r", "scope": {"regions": ["华东"]}, **raw})
        with pytest.raises(RuleInvalid) as out_of_bounds:
            check_limits(rule)
        assert out_of_bounds.value.field == field


def test_non_finite_numbers_never_parse():
    for params in ({"threshold_c": "Infinity"}, {"threshold_c": "NaN"}):
        with pytest.raises(RuleInvalid) as caught:
            rule_from_mapping({"id": "x", "kind": "weather_spell", "scope": {"groups": ["south"]}, "params": params})
        assert caught.value.field == "params.threshold_c"
    with pytest.raises(RuleInvalid) as yaml_inf:
        load_rules_yaml("- {id: a, kind: weather_spell, scope: {groups: [south]}, params: {threshold_c: .inf}}")
    assert yaml_inf.value.field == "yaml" and "not a finite number: .inf" in yaml_inf.value.message


def test_admitting_a_rule_refuses_unknown_groups_and_warns_of_unknown_places():
    from alerts_service.domain.rules import admit

    directory = CityDirectory.of([CityInfo("440100", "广州", "华南"), CityInfo("650100", "乌鲁木齐", "新疆片区")])
    rule = rule_from_mapping({"id": "r", "kind": "weather_spell",
                              "scope": {"cities": ["广州", "440100", "999999"], "regions": ["新疆片区", "火星"],
                                        "groups": ["south"]}})
    assert admit(rule, directory) == [
        "scope.cities: 999999 is not a city alerts knows yet; the rule covers it once it is recorded",
        "scope.regions: 火星 is not a region alerts knows yet; no city is covered there until one is recorded"]
    with pytest.raises(RuleInvalid) as caught:
        admit(rule_from_mapping({"id": "r", "kind": "weather_spell", "scope": {"groups": ["south", "nowhere"]}}),
              directory)
    assert (caught.value.field, caught.value.message) == ("scope.groups", "unknown city group(s): nowhere; known: south")
