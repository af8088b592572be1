"""The heat-wave rule on the real summer-2016 weather of the southern cities, replayed as 7-day-
ahead forecasts, against spells counted independently from the CSV."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from alerts_service.domain.cities import CityDirectory, CityInfo
from alerts_service.domain.rule_evaluation import evaluate_weather_rule
from alerts_service.domain.rules import rule_from_mapping
from alerts_service.domain.uplifts import uplift_id
from alerts_service.domain.weather_spells import FiredSpell, WeatherReading

FIRST, LAST = date(2016, 7, 1), date(2016, 9, 30)
RULE = rule_from_mapping({"id": "south-heat-wave", "kind": "weather_spell", "scope": {"groups": ["south"]},
                          "action": {"type": "uplift", "percent": "15"}})


def expected_spells(tmax: dict[date, int | None]) -> list[tuple[date, date]]:
    """(first day, third day) of every run of ≥ 3 days with tmax ≥ 35 in July–September 2016."""
    spells, run, day = [], 0, FIRST
    while day <= LAST:
        value = tmax.get(day)
        run = run + 1 if value is not None and int(value) >= 35 else 0
        if run == 3:
            spells.append((day - timedelta(days=2), day))
        day += timedelta(days=1)
    return spells


def test_heat_wave_fires_7_days_ahead_on_every_real_southern_spell_once(koubei_cities, real_tmax):
    directory = CityDirectory.of(CityInfo(c["code"], c["name"], c["region"], c["province"])
                                 for c in koubei_cities.values())
    southern = [directory.get(code) for code in directory.resolve(RULE.scope)]
    assert len(southern) == 45
    expected, actual = set(), set()
    for city in southern:
        for start, third in expected_spells(real_tmax[city.name]):
            expected.add((city.code, start, third, third - timedelta(days=7)))
        readings: list[WeatherReading] = []
        fired: list[FiredSpell] = []
        issued = FIRST - timedelta(days=7)
        while issued <= LAST - timedelta(days=7):
            day = issued + timedelta(days=7)
            readings.append(WeatherReading(day, "forecast", real_tmax[city.name][day], issued_on=issued))
            for firing in evaluate_weather_rule(RULE, city, readings[-40:], issued, fired).firings:
                fired.append(FiredSpell(firing.uplift.start_day, firing.uplift.end_day))
                assert firing.uplift.uplift_id == uplift_id(RULE.rule_id, 1, city.code, firing.uplift.start_day)
                assert firing.uplift.percent == Decimal("15")
                actual.add((city.code, firing.uplift.start_day, firing.uplift.end_day, issued))
            issued += timedelta(days=1)
    assert len(expected) == 105
    assert actual == expected
