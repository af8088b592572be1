"""Calendar windows and attainment lag."""

from datetime import date
from decimal import Decimal

import pytest
from alerts_service.domain.attainment_lag import evaluate_attainment_lag
from alerts_service.domain.calendar_windows import WindowOccurrence, due_windows, parse_window
from alerts_service.domain.cities import CityInfo
from alerts_service.domain.rule_evaluation import evaluate_calendar_rule, evaluate_lag_rule
from alerts_service.domain.rules import AttainmentLagParams, RuleInvalid, rule_from_mapping
from alerts_service.domain.uplifts import uplift_id

D = date
SCHOOL = parse_window({"name": "开学季", "start": "08-25", "end": "09-10"})
NEW_YEAR = parse_window({"name": "元旦促销", "start": "12-20", "end": "01-05"})
NATIONAL_DAY = parse_window({"name": "国庆节", "holiday": "National Day"})


def test_a_yearly_window_is_due_from_lead_days_before_until_its_last_day():
    assert due_windows((SCHOOL,), D(2016, 8, 17), lead_days=7) == []
    assert due_windows((SCHOOL,), D(2016, 8, 18), lead_days=7) == [
        WindowOccurrence("开学季", D(2016, 8, 25), D(2016, 9, 10))
    ]
    assert due_windows((SCHOOL,), D(2016, 9, 10)) == [WindowOccurrence("开学季", D(2016, 8, 25), D(2016, 9, 10))]
    assert due_windows((SCHOOL,), D(2016, 9, 11)) == []


def test_a_window_wrapping_the_new_year_and_a_holiday_window():
    assert due_windows((NEW_YEAR,), D(2017, 1, 3)) == [WindowOccurrence("元旦促销", D(2016, 12, 20), D(2017, 1, 5))]
    assert due_windows((NATIONAL_DAY,), D(2016, 9, 24), lead_days=7) == [
        WindowOccurrence("国庆节", D(2016, 10, 1), D(2016, 10, 7))
    ]
    assert due_windows((NATIONAL_DAY,), D(2016, 9, 23), lead_days=7) == []


def test_bad_windows_are_refused():
    for raw in ({"name": "x", "start": "2016-09-10", "end": "2016-09-01"}, {"name": "x", "start": "13-01",
                "end": "13-05"}, {"name": "x", "holiday": "Christmas"}, {"name": "x", "start": "08-25",
                "end": "2016-09-10"}):
        with pytest.raises(ValueError):
            parse_window(raw)
    with pytest.raises(RuleInvalid):
        rule_from_mapping({"id": "w", "kind": "calendar_window", "scope": {"regions": ["华东"]},
                           "params": {"windows": []}})


def test_a_calendar_uplift_rule_fires_once_per_occurrence_with_an_idempotent_uplift():
    rule = rule_from_mapping({"id": "national-day", "kind": "calendar_window", "scope": {"regions": ["华东"]},
                              "params": {"windows": [{"name": "国庆节", "holiday": "National Day"}],
                                         "lead_days": 7},
                              "action": {"type": "uplift", "percent": "10"}})
    city = CityInfo("310000", "上海", "华东")
    (firing,) = evaluate_calendar_rule(rule, city, D(2016, 9, 24))
    assert firing.fire_key == "2016-10-01"
    assert firing.uplift.uplift_id == uplift_id("national-day", 1, "310000", D(2016, 10, 1))
    assert (firing.uplift.start_day, firing.uplift.end_day, firing.uplift.percent) == (
        D(2016, 10, 1), D(2016, 10, 7), Decimal("10"))
    assert firing.title == "日历窗口：上海 国庆节（2016-10-01 至 2016-10-07），目标上调 10%"
    assert evaluate_calendar_rule(rule, city, D(2016, 9, 25))[0].alert_id == firing.alert_id


PARAMS = AttainmentLagParams(lag_points=Decimal("15"), after_day=10)


@pytest.mark.parametrize(
    "attainment, as_of, expected",
    [
        ("50", D(2016, 7, 10), ("skipped", "too_early", 10, None, None)),
        ("84.9", D(2016, 7, 11), ("lagging", "", 11, Decimal("15.1"), "warning")),
        ("85", D(2016, 7, 11), ("on_track", "", 11, Decimal("15"), None)),
        ("69.9", D(2016, 7, 20), ("lagging", "", 20, Decimal("30.1"), "critical")),
        ("70", D(2016, 7, 20), ("lagging", "", 20, Decimal("30"), "warning")),
        (None, D(2016, 7, 20), ("skipped", "no_target", 20, None, None)),
    ],
)
def test_attainment_lag(attainment, as_of, expected):
    result = evaluate_attainment_lag(PARAMS, None if attainment is None else Decimal(attainment), as_of,
                                     D(2016, 7, 1))
    assert (result.status, result.reason, result.day_index, result.lag_points, result.severity) == expected


def test_a_lag_rule_firing():
    rule = rule_from_mapping({"id": "lag", "kind": "attainment_lag", "scope": {"regions": ["华南"]},
                              "params": {"lag_points": 15, "after_day": 10}})
    assert rule.cooldown.days == 7
    firing, _ = evaluate_lag_rule(rule, CityInfo("440100", "广州", "华南"), Decimal("80.5"), D(2016, 7, 15),
                                  D(2016, 7, 1), "pkg-2016q3")
    assert firing.title == "达成落后：广州 截至 2016-07-15（第 15 天）达成率 80.5%，落后 19.5 个百分点"
    assert firing.fire_key == "pkg-2016q3:2016-07-15"
    assert firing.severity == "warning"
