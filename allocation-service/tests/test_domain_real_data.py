"""Acceptance on the real Koubei data: targets for 2016-07-01…2016-09-30 from history up to 2016-06-30."""

from datetime import date
from decimal import Decimal

import pytest
from allocation_service.adapters import koubei_csv
from allocation_service.domain.columns import Groups
from allocation_service.domain.heatmap import build_heat_map
from allocation_service.domain.phasing import month_totals, phase_days
from allocation_service.domain.planning import PlanSpec, day_shapes, generate
from allocation_service.domain.tiers import TierRule
from allocation_service.domain.windows import Window, last_days

HISTORY_END = date(2016, 6, 30)
PERIOD = Window(date(2016, 7, 1), date(2016, 9, 30))
HQ_TOTAL = Decimal(20_000_000)


@pytest.fixture(scope="module")
def real():
    if not koubei_csv.available():
        pytest.fail(f"the real data is expected under {koubei_csv.DATA_DIR} (set DATA_DIR)")
    wide = koubei_csv.read_wide(HISTORY_END)
    history, cities, _ = koubei_csv.load_history(HISTORY_END, wide)
    plan = generate(history, cities, PlanSpec(PERIOD, HISTORY_END, hq_total=HQ_TOTAL,
                                              expense_ratios={"美食": Decimal("0.8")},
                                              default_expense_ratio=Decimal("0.5")))
    heat = build_heat_map(history, cities, Window(date(2015, 7, 1), HISTORY_END))
    _, code_of = koubei_csv.load_cities()
    return wide, koubei_csv.load_shops(code_of), cities, plan, heat


def independent_lfl(wide, shops, previous, current):
    """city → like-for-like (before, now) straight from the CSV cells: shops live since previous.start,
    trading in both periods."""
    totals = {}
    for shop, (code, _) in shops.items():
        values = wide.get(shop, {})
        trading = [day for day, v in values.items() if v > 0]
        if not trading or min(trading) > previous.start:
            continue
        a = [v for day, v in values.items() if previous.start <= day <= previous.end]
        b = [v for day, v in values.items() if current.start <= day <= current.end]
        if any(a) and any(b):
            before, now = totals.get(code, (0, 0))
            totals[code] = (before + sum(a), now + sum(b))
    return totals


def test_every_city_gets_a_target_with_its_basis(real):
    _, _, cities, plan, _ = real
    assert len(cities) == 122
    assert [line.city.code for line in plan.lines] == sorted(cities)
    assert plan.flagged == []
    for line in plan.lines:
        assert line.target is not None and line.target > 0
        assert line.basis_text(plan.spec.metric)


def test_total_equals_the_head_office_figure_exactly(real):
    _, _, _, plan, _ = real
    assert plan.total == HQ_TOTAL
    assert sum(line.target for line in plan.lines) == HQ_TOTAL
    for line in plan.lines:
        assert sum(line.daily.values()) == line.target
        assert sum(line.months.values()) == line.target
        assert sorted(line.months) == ["2016-07", "2016-08", "2016-09"]
    assert sum(plan.budget.by_region.values()) == plan.budget.total


def test_tiers_agree_with_the_like_for_like_growth_computed_from_the_csv(real):
    wide, shops, _, plan, heat = real
    previous, current = Window(date(2015, 7, 1), date(2015, 12, 31)), Window(date(2016, 1, 1), HISTORY_END)
    heat_growth = {row.city.code: row.metrics["half_year_growth"] for row in heat}
    totals = independent_lfl(wide, shops, previous, current)
    with_growth = 0
    for line in plan.lines:
        before, now = totals.get(line.city.code, (0, 0))
        expected = (Decimal(now) - before) / before if before > 0 else None
        assert line.half_year.rate == expected, line.city.name
        assert line.tier == TierRule().tier_for(expected)
        assert heat_growth.get(line.city.code) == expected
        with_growth += expected is not None
    assert with_growth == 14  # only 61 shops in 14 cities were live by 2015-07-01
    hangzhou = next(line for line in plan.lines if line.city.name == "杭州市")
    assert (hangzhou.tier, hangzhou.half_year.percent) == ("stable", Decimal("9.60"))


def test_like_for_like_base_of_hangzhou_matches_the_csv(real):
    wide, shops, _, plan, _ = real
    hangzhou = next(line for line in plan.lines if line.city.name == "杭州市")
    last_year = Window(date(2015, 7, 1), date(2015, 9, 30))
    recent = Window(date(2016, 4, 2), HISTORY_END)
    expected = 0
    for shop, (code, _) in shops.items():
        values = wide.get(shop, {})
        trading = sorted(d for d, v in values.items() if v > 0)
        if code != "330100" or not trading or trading[0] > last_year.start:
            continue
        if any(v > 0 for d, v in values.items() if d in recent) and any(v > 0 for d, v in values.items() if d in last_year):
            expected += sum(v for d, v in values.items() if d in last_year)
    assert hangzhou.basis.lfl_base == expected == 293079


def test_the_parsed_matrix_gives_the_same_package_and_every_city_is_phased_exactly(real):
    """The numpy parse (`load_history` without facts) gives the package of the facts, figure for figure, and
    each city's days and months equal the day-by-day largest remainder over its shape."""
    _, _, cities, plan, heat = real
    history, _, _ = koubei_csv.load_history(HISTORY_END)
    again = generate(history, cities, plan.spec)

    def figures(lines):
        return [(ln.city.code, ln.tier, str(ln.weight), str(ln.target), ln.basis, [(d, str(v)) for d, v in ln.daily.items()],
                 [(m, str(v)) for m, v in ln.months.items()], str(ln.expense_budget)) for ln in lines]
    assert figures(again.lines) == figures(plan.lines)
    assert [(row.city.code, row.score, row.metrics) for row in build_heat_map(history, cities, Window(
        date(2015, 7, 1), HISTORY_END))] == [(row.city.code, row.score, row.metrics) for row in heat]
    columns = history.columns()
    shapes = day_shapes(columns, Groups.by(columns.city, sorted(cities)), plan.spec,
                        last_days(HISTORY_END, plan.spec.run_rate_days), [True] * len(cities))
    assert sorted({len(weights) for _, weights in shapes}) == [1, 3, 7]
    for line, (classes, weights) in zip(plan.lines, shapes, strict=True):
        expected = phase_days(line.target, classes.as_dict(weights))
        assert list(line.daily.items()) == list(expected.items()), line.city.name
        assert line.months == month_totals(expected)
