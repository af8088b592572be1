from datetime import date
from decimal import Decimal

import pytest
from allocation_service.domain.attainment import attainment_for, group_by, rank
from allocation_service.domain.versions import (
    Provenance,
    TargetVersion,
    UpliftError,
    VersionLine,
    apply_final_targets,
    apply_uplift,
)
from allocation_service.domain.windows import Window

PERIOD = Window(date(2016, 7, 1), date(2016, 7, 10))
TARGETS = {day: Decimal(100) for day in PERIOD.each_day()}


def actuals(*values: int) -> dict[date, Decimal]:
    return {day: Decimal(v) for day, v in zip(PERIOD.each_day()[:len(values)], values, strict=True)}


def test_attainment_to_date_and_run_rate_projection():
    a = attainment_for("330100", PERIOD, TARGETS, actuals(90, 110, 120, 80), date(2016, 7, 4))
    assert (a.period_target, a.target_to_date, a.actual_to_date) == (1000, 400, 400)
    assert a.attainment_pct == Decimal("100.0")
    assert a.projection == 1000


def test_attainment_percent_rounds_half_up_and_none_without_target():
    a = attainment_for("x", PERIOD, TARGETS, actuals(100, 100, 101), date(2016, 7, 3))
    assert a.attainment_pct == Decimal("100.3")  # 301 / 300 = 100.333…
    before = attainment_for("x", PERIOD, TARGETS, {}, date(2016, 6, 30))
    assert (before.target_to_date, before.attainment_pct, before.projection) == (0, None, 0)


def test_rank_and_region_groups():
    items = [
        attainment_for("330100", PERIOD, TARGETS, actuals(100, 100), date(2016, 7, 2)),  # 100.0
        attainment_for("330200", PERIOD, TARGETS, actuals(50, 100), date(2016, 7, 2)),  # 75.0
        attainment_for("440100", PERIOD, TARGETS, actuals(150, 100), date(2016, 7, 2)),  # 125.0
    ]
    ranked = rank(items)
    assert [(a.key, a.rank) for a in ranked] == [("440100", 1), ("330100", 2), ("330200", 3)]
    regions = group_by(items, {"330100": "华东", "330200": "华东", "440100": "华南"}, PERIOD)
    assert [(a.key, a.attainment_pct, a.rank) for a in regions] == [("华南", Decimal("125.0"), 1), ("华东", Decimal("87.5"), 2)]


def version_with(target: int, days: Window) -> TargetVersion:
    per_day = Decimal(target) / days.days
    line = VersionLine("310000", "上海市", "华东", "stable", "test", Decimal(target), Decimal(target), Decimal(1),
                       Decimal(0), {day: per_day for day in days.each_day()})
    return TargetVersion(1, {"310000": line}, Provenance("generated"))


def test_c18_uplift_applies_once():
    days = Window(date(2016, 7, 1), date(2016, 7, 20))
    v1 = version_with(200_000, days)
    v2 = apply_uplift(v1, "e-0001", "310000", Decimal(15), days.start, days.end, "heat_alert")
    assert v2.lines["310000"].target == 230_000
    assert sum(v2.lines["310000"].daily.values()) == 230_000
    assert (v2.number, v2.provenance) == (2, Provenance("rule_uplift", "e-0001", "heat_alert"))
    assert apply_uplift(v2, "e-0001", "310000", Decimal(15), days.start, days.end, "heat_alert") is None
    assert v1.lines["310000"].target == 200_000  # the published version is untouched


def test_uplift_on_some_days_only():
    days = Window(date(2016, 7, 1), date(2016, 7, 20))
    v2 = apply_uplift(version_with(200_000, days), "u-1", "310000", Decimal(15), date(2016, 7, 3), date(2016, 7, 5), "spell")
    daily = v2.lines["310000"].daily
    assert [daily[date(2016, 7, d)] for d in (2, 3, 4, 5, 6)] == [10_000, 11_500, 11_500, 11_500, 10_000]
    assert v2.lines["310000"].target == 204_500


def test_uplift_outside_the_package_is_refused():
    days = Window(date(2016, 7, 1), date(2016, 7, 20))
    with pytest.raises(UpliftError):
        apply_uplift(version_with(100, days), "u-2", "310000", Decimal(15), date(2016, 8, 1), date(2016, 8, 3), "x")
    with pytest.raises(UpliftError):
        apply_uplift(version_with(100, days), "u-3", "999999", Decimal(15), days.start, days.end, "x")


def test_final_targets_make_a_new_version_with_the_old_shape():
    days = Window(date(2016, 7, 1), date(2016, 7, 4))
    v2 = apply_final_targets(version_with(400, days), {"310000": Decimal(402)}, Provenance("negotiation", "w-1"))
    assert v2.number == 2 and v2.lines["310000"].target == 402
    assert list(v2.lines["310000"].daily.values()) == [101, 101, 100, 100]
    with pytest.raises(ValueError):
        apply_final_targets(v2, {"310000": Decimal(-1)}, Provenance("manual"))
