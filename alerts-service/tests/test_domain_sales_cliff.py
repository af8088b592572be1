"""Sales cliffs: exact baselines and drops, inclusive threshold, Chinese holidays and 调休 days."""

from datetime import date, timedelta
from decimal import Decimal

from alerts_service.domain.cities import CityInfo
from alerts_service.domain.holidays import day_type
from alerts_service.domain.rule_evaluation import evaluate_cliff_rule
from alerts_service.domain.rules import SalesCliffParams, rule_from_mapping
from alerts_service.domain.sales_cliff import evaluate_cliff

D = date
SAME_WEEKDAY = SalesCliffParams(drop_pct=Decimal("40"), critical_pct=Decimal("60"))


def daily(start: date, values):
    return {start + timedelta(days=i): Decimal(v) for i, v in enumerate(values) if v is not None}


def test_day_types_of_mid_autumn_and_national_day_2016():
    assert day_type(D(2016, 9, 15)) == "holiday"  # 中秋节, Thursday
    assert day_type(D(2016, 9, 18)) == "makeup_workday"  # Sunday worked in exchange
    assert day_type(D(2016, 9, 24)) == "weekend"
    assert day_type(D(2016, 9, 22)) == "workday"
    assert day_type(D(2016, 10, 9)) == "makeup_workday"


def test_same_weekday_mean_over_four_weeks_and_the_exact_drop():
    actuals = {D(2016, 6, 29): Decimal(104), D(2016, 7, 6): Decimal(90), D(2016, 7, 13): Decimal(110),
               D(2016, 7, 20): Decimal(100), D(2016, 7, 27): Decimal(60)}
    result = evaluate_cliff(SAME_WEEKDAY, D(2016, 7, 27), actuals)
    assert result.status == "cliff" and result.severity == "warning"
    assert result.baseline == Decimal("101.00")  # (104 + 90 + 110 + 100) / 4
    assert result.drop_pct == Decimal("40.6")  # 41 / 101 = 40.594…%
    assert result.days_used == (D(2016, 6, 29), D(2016, 7, 6), D(2016, 7, 13), D(2016, 7, 20))
    assert result.evidence("same_weekday") == {
        "day": "2016-07-27",
        "actual": "60",
        "baseline": "101.00",
        "baseline_method": "same_weekday",
        "drop_pct": "40.6",
        "days_used": {"2016-06-29": "104", "2016-07-06": "90", "2016-07-13": "110", "2016-07-20": "100"},
        "days_skipped": {},
    }


def test_critical_and_normal():
    history = {D(2016, 7, 27) - timedelta(weeks=k): Decimal(100) for k in range(1, 5)}
    assert evaluate_cliff(SAME_WEEKDAY, D(2016, 7, 27), {**history, D(2016, 7, 27): Decimal(40)}).severity == (
        "critical"
    )
    normal = evaluate_cliff(SAME_WEEKDAY, D(2016, 7, 27), {**history, D(2016, 7, 27): Decimal(61)})
    assert (normal.status, normal.drop_pct) == ("normal", Decimal("39.0"))


def test_trailing_median_and_an_inclusive_threshold():
    params = SalesCliffParams(drop_pct=Decimal("40"), baseline="trailing_median", window_days=5)
    actuals = daily(D(2016, 7, 22), [100, 200, 150, 120, 130, 78])
    result = evaluate_cliff(params, D(2016, 7, 27), actuals)
    assert (result.status, result.baseline, result.drop_pct) == ("cliff", Decimal("130.00"), Decimal("40.0"))
    even = evaluate_cliff(
        SalesCliffParams(baseline="trailing_median", window_days=4), D(2016, 7, 27), {**actuals}
    )
    assert even.baseline == Decimal("140.00")  # median of 200, 150, 120, 130


def test_a_festival_dip_is_not_a_cliff_and_never_pollutes_a_later_baseline():
    # Thursdays: 08-25, 09-01, 09-08 normal; 09-15 is 中秋节 and dips to 20; 09-22 normal again.
    actuals = {D(2016, 8, 25): Decimal(100), D(2016, 9, 1): Decimal(100), D(2016, 9, 8): Decimal(100),
               D(2016, 9, 15): Decimal(20), D(2016, 9, 22): Decimal(95)}
    festival = evaluate_cliff(SAME_WEEKDAY, D(2016, 9, 15), actuals)
    assert (festival.status, festival.reason) == ("skipped", "holiday: Mid-autumn Festival")
    after = evaluate_cliff(SAME_WEEKDAY, D(2016, 9, 22), actuals)
    assert after.status == "normal"
    assert after.baseline == Decimal("100.00")
    assert after.days_used == (D(2016, 8, 25), D(2016, 9, 1), D(2016, 9, 8))
    assert after.days_skipped == ((D(2016, 9, 15), "holiday"),)
    # Without holiday awareness the dip is judged, and is a (false) alarm.
    blind = SalesCliffParams(drop_pct=Decimal("40"), critical_pct=Decimal("60"), holiday_aware=False)
    assert evaluate_cliff(blind, D(2016, 9, 15), actuals).status == "cliff"


def test_a_make_up_working_sunday_is_not_judged_and_not_a_baseline_sunday():
    actuals = {D(2016, 8, 28): Decimal(300), D(2016, 9, 4): Decimal(300), D(2016, 9, 11): Decimal(300),
               D(2016, 9, 18): Decimal(120), D(2016, 9, 25): Decimal(290)}
    assert evaluate_cliff(SAME_WEEKDAY, D(2016, 9, 18), actuals).reason == "makeup_workday: Mid-autumn Festival"
    after = evaluate_cliff(SAME_WEEKDAY, D(2016, 9, 25), actuals)
    assert (after.status, after.baseline, after.days_skipped) == (
        "normal", Decimal("300.00"), ((D(2016, 9, 18), "makeup_workday"),)
    )


def test_too_few_baseline_days_or_a_tiny_baseline_skips():
    actuals = {D(2016, 9, 22): Decimal(100), D(2016, 9, 29): Decimal(100), D(2016, 10, 13): Decimal(10)}
    result = evaluate_cliff(SAME_WEEKDAY, D(2016, 10, 13), actuals)
    assert result.reason == "insufficient_baseline"
    assert result.days_skipped == ((D(2016, 9, 15), "holiday"), (D(2016, 10, 6), "holiday"))
    small = SalesCliffParams(min_baseline=Decimal(200))
    history = {D(2016, 7, 27) - timedelta(weeks=k): Decimal(150) for k in range(1, 5)}
    assert evaluate_cliff(small, D(2016, 7, 27), {**history, D(2016, 7, 27): Decimal(1)}).reason == (
        "baseline_too_small"
    )
    assert evaluate_cliff(SAME_WEEKDAY, D(2016, 7, 27), history).reason == "no_data"


def test_a_cliff_rule_fires_with_title_severity_and_evidence():
    rule = rule_from_mapping({"id": "cliff", "kind": "sales_cliff", "scope": {"regions": ["华东"]},
                              "params": {"drop_pct": "40", "critical_pct": "60"}})
    history = {D(2016, 7, 27) - timedelta(weeks=k): Decimal(200) for k in range(1, 5)}
    firing, result = evaluate_cliff_rule(rule, CityInfo("310000", "上海", "华东"), D(2016, 7, 27),
                                         {**history, D(2016, 7, 27): Decimal(70)})
    assert firing.title == "销量断崖：上海 2016-07-27 实际 70，较基线 200.00 下降 65.0%"
    assert (firing.severity, firing.fire_key, firing.uplift) == ("critical", "2016-07-27", None)
    assert firing.evidence["days_used"] == {"2016-06-29": "200", "2016-07-06": "200", "2016-07-13": "200",
                                            "2016-07-20": "200"}
    assert firing.alert_id == evaluate_cliff_rule(rule, CityInfo("310000", "上海", "华东"), D(2016, 7, 27),
                                                  {**history, D(2016, 7, 27): Decimal(70)})[0].alert_id
