"""Casebook C20: heat spells — inclusive threshold, gaps, missing values, lead days, idempotency."""

from datetime import date, timedelta
from decimal import Decimal

from alerts_service.domain.cities import CityInfo
from alerts_service.domain.rule_evaluation import evaluate_weather_rule
from alerts_service.domain.rules import rule_from_mapping
from alerts_service.domain.uplifts import uplift_id
from alerts_service.domain.weather_spells import (
    DataQualityWarning,
    FiredSpell,
    Spell,
    WeatherReading,
    best_known_tmax,
    decide,
    find_spells,
    severity,
)

D = date


def series(start: date, values):
    return {start + timedelta(days=i): (None if v is None else Decimal(str(v))) for i, v in enumerate(values)}


def test_c20a_exactly_35_three_days_fires_on_the_third_day():
    scan = find_spells(series(D(2024, 7, 1), ["35.0", "35.0", "35.0"]))
    assert scan.spells == (Spell(D(2024, 7, 1), D(2024, 7, 3), D(2024, 7, 3), Decimal("35.0")),)
    assert scan.warnings == ()


def test_c20b_a_34_9_day_first_then_three_days_fires_on_07_04():
    scan = find_spells(series(D(2024, 7, 1), ["34.9", "35.0", "35.0", "35.0"]))
    assert [(s.start, s.fire_day) for s in scan.spells] == [(D(2024, 7, 2), D(2024, 7, 4))]


def test_c20c_a_null_breaks_the_run_and_warns():
    scan = find_spells(series(D(2024, 7, 1), [36, 37, None, 38, 39]))
    assert scan.spells == ()
    assert scan.warnings == (DataQualityWarning(D(2024, 7, 3), "missing_value", 2),)


def test_c20e_34_99_on_the_third_day_does_not_fire():
    assert find_spells(series(D(2024, 7, 1), ["35.0", "35.0", "34.99"])).spells == ()


def test_a_missing_date_breaks_the_run_and_warns():
    data = series(D(2024, 7, 1), [36, 36, 36, 36, 36])
    del data[D(2024, 7, 3)]
    scan = find_spells(data)
    assert scan.spells == ()
    assert scan.warnings == (DataQualityWarning(D(2024, 7, 3), "missing_date", 2),)


def test_a_long_spell_reports_its_end_and_peak_and_a_new_run_after_a_gap_is_a_second_spell():
    scan = find_spells(series(D(2016, 7, 20), [35, 37, 38, 36, 34, 35, 35, 40]))
    assert scan.spells == (
        Spell(D(2016, 7, 20), D(2016, 7, 22), D(2016, 7, 23), Decimal(38)),
        Spell(D(2016, 7, 25), D(2016, 7, 27), D(2016, 7, 27), Decimal(40)),
    )


def test_min_days_is_a_parameter():
    assert [s.fire_day for s in find_spells(series(D(2016, 8, 1), [35, 35]), Decimal(35), 2).spells] == [
        D(2016, 8, 2)
    ]


def test_severity_follows_the_cma_colours():
    assert [severity(Decimal(v)) for v in ("35", "36.9", "37", "39.9", "40")] == [
        "yellow", "yellow", "orange", "orange", "red",
    ]


def test_observation_overrides_forecast_and_later_forecast_overrides_earlier():
    readings = [
        WeatherReading(D(2016, 7, 10), "forecast", Decimal(36), issued_on=D(2016, 7, 3)),
        WeatherReading(D(2016, 7, 10), "forecast", Decimal(33), issued_on=D(2016, 7, 5)),
        WeatherReading(D(2016, 7, 9), "forecast", Decimal(30), issued_on=D(2016, 7, 2)),
        WeatherReading(D(2016, 7, 9), "observation", Decimal(37)),
    ]
    assert best_known_tmax(readings, today=D(2016, 7, 9), lead_days=7) == {
        D(2016, 7, 9): Decimal(37),
        D(2016, 7, 10): Decimal(33),
    }


def test_future_observations_forecasts_beyond_the_lead_and_unissued_forecasts_are_unknown():
    readings = [
        WeatherReading(D(2016, 7, 5), "observation", Decimal(36)),  # after today
        WeatherReading(D(2016, 7, 12), "forecast", Decimal(36), issued_on=D(2016, 7, 1)),  # beyond 7 days
        WeatherReading(D(2016, 7, 8), "forecast", Decimal(36), issued_on=D(2016, 7, 2)),  # issued tomorrow
        WeatherReading(D(2016, 7, 8), "forecast", Decimal(35), issued_on=D(2016, 7, 1)),
    ]
    assert best_known_tmax(readings, today=D(2016, 7, 1), lead_days=7) == {D(2016, 7, 8): Decimal(35)}
    assert best_known_tmax(readings, today=D(2016, 7, 1), lead_days=7, source="observation") == {}


def test_decide_fire_extend_already_fired_and_past():
    spell = Spell(D(2016, 7, 20), D(2016, 7, 22), D(2016, 7, 24), Decimal(38))
    assert decide([spell], [], D(2016, 7, 15))[0].decision == "fire"
    assert decide([spell], [FiredSpell(D(2016, 7, 20), D(2016, 7, 22))], D(2016, 7, 17))[0].decision == "extend"
    assert decide([spell], [FiredSpell(D(2016, 7, 20), D(2016, 7, 24))], D(2016, 7, 17))[0].decision == (
        "already_fired"
    )
    # A window that starts mid-spell sees a later "start": still the fired spell, not a new one.
    late_view = Spell(D(2016, 7, 22), D(2016, 7, 24), D(2016, 7, 25), Decimal(38))
    assert decide([late_view], [FiredSpell(D(2016, 7, 20), D(2016, 7, 22))], D(2016, 7, 18))[0].decision == (
        "extend"
    )
    assert decide([spell], [], D(2016, 7, 26))[0].decision == "fire"  # ended 2 days ago: still acted on
    assert decide([spell], [], D(2016, 7, 27))[0].decision == "past"


HEAT_RULE = rule_from_mapping(
    {
        "id": "south-heat-wave",
        "name": "南方高温上调",
        "kind": "weather_spell",
        "scope": {"groups": ["south"]},
        "action": {"type": "uplift", "percent": "15"},
    }
)
GUANGZHOU = CityInfo("440100", "广州", "华南", "广东省")


def forecasts(issued: date, first_day: date, values):
    return [
        WeatherReading(first_day + timedelta(days=i), "forecast", Decimal(v), issued_on=issued)
        for i, v in enumerate(values)
    ]


def test_a_7_day_ahead_forecast_fires_7_days_before_the_third_day_with_the_uplift_from_day_one():
    # Forecasts issued daily for the day 7 days ahead; the third hot day (07-12) is forecast on 07-05.
    readings = []
    fired: list[FiredSpell] = []  # what the application remembers (its unique key)
    fired_on = {}
    tmax = {D(2016, 7, 8): 34, D(2016, 7, 9): 34, D(2016, 7, 10): 35, D(2016, 7, 11): 36, D(2016, 7, 12): 38,
            D(2016, 7, 13): 36, D(2016, 7, 14): 33}
    for issued in [D(2016, 7, 1) + timedelta(days=k) for k in range(7)]:
        target = issued + timedelta(days=7)
        readings += forecasts(issued, target, [tmax[target]])
        outcome = evaluate_weather_rule(HEAT_RULE, GUANGZHOU, readings, issued, fired)
        for firing in outcome.firings:
            fired_on.setdefault(issued, []).append(firing)
            fired.append(FiredSpell(firing.uplift.start_day, firing.uplift.end_day))
    assert list(fired_on) == [D(2016, 7, 5)]
    (firing,) = fired_on[D(2016, 7, 5)]
    assert firing.uplift.start_day == D(2016, 7, 10)
    assert firing.uplift.end_day == D(2016, 7, 12)
    assert firing.uplift.percent == Decimal("15")
    assert firing.uplift.uplift_id == uplift_id("south-heat-wave", 1, "440100", D(2016, 7, 10))
    assert firing.fire_key == "2016-07-10"
    assert firing.severity == "orange"
    assert firing.evidence["tmax_c"] == {"2016-07-10": "35", "2016-07-11": "36", "2016-07-12": "38"}
    assert firing.title == "高温预警：广州 2016-07-10 起连续 3 天最高气温 ≥ 35℃，目标上调 15%"
    # Re-evaluated the next day without its memory, the same spell (now 4 days) yields the same
    # uplift id (so allocation still applies it once); with it, the spell is an extension.
    forgetful = evaluate_weather_rule(HEAT_RULE, GUANGZHOU, readings[:6], D(2016, 7, 6))
    assert forgetful.firings[0].uplift.uplift_id == firing.uplift.uplift_id
    assert forgetful.firings[0].uplift.end_day == D(2016, 7, 13)
    told = evaluate_weather_rule(
        HEAT_RULE, GUANGZHOU, readings[:6], D(2016, 7, 6), [FiredSpell(D(2016, 7, 10), D(2016, 7, 12))]
    )
    assert told.firings == ()
    assert [d.decision for d in told.decisions] == ["extend"]


def test_uplift_ids_differ_per_city_spell_and_version():
    ids = {
        uplift_id("r", 1, "440100", D(2016, 7, 10)),
        uplift_id("r", 1, "440300", D(2016, 7, 10)),
        uplift_id("r", 1, "440100", D(2016, 7, 11)),
        uplift_id("r", 2, "440100", D(2016, 7, 10)),
    }
    assert len(ids) == 4
    assert uplift_id("r", 1, "440100", D(2016, 7, 10)) == uplift_id("r", 1, "440100", D(2016, 7, 10))


def test_a_notify_rule_fires_without_an_uplift():
    rule = rule_from_mapping({"id": "heat-notice", "kind": "weather_spell", "scope": {"cities": ["广州"]},
                              "action": "notify"})
    readings = [WeatherReading(D(2016, 7, 1) + timedelta(days=i), "observation", Decimal(35)) for i in range(3)]
    (firing,) = evaluate_weather_rule(rule, GUANGZHOU, readings, D(2016, 7, 3)).firings
    assert firing.uplift is None
    assert firing.title == "高温预警：广州 2016-07-01 起连续 3 天最高气温 ≥ 35℃"
