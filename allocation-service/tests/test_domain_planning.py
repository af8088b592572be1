from datetime import date
from decimal import Decimal

import pytest
from allocation_service.domain.history import City, build_history
from allocation_service.domain.planning import PlanSpec, generate
from allocation_service.domain.target_models import FormulaModel
from allocation_service.domain.windows import Window

PERIOD = Window(date(2016, 7, 1), date(2016, 7, 10))
END = date(2016, 6, 30)
CITIES = {
    "330100": City("330100", "杭州市", "华东"),
    "310000": City("310000", "上海市", "华东"),
    "440100": City("440100", "广州市", "华南"),
    "460200": City("460200", "三亚市", "华南"),  # no outlet at all
}


@pytest.fixture()
def history(daily):
    facts = (
        daily("H1", "330100", date(2015, 6, 1), END, 10)
        + daily("S1", "310000", date(2015, 6, 1), date(2015, 12, 31), 20)
        + daily("S1", "310000", date(2016, 1, 1), END, 24)
        + daily("S2", "310000", date(2016, 6, 1), END, 30, "超市便利店")
        + daily("G1", "440100", date(2016, 5, 1), END, 5)
    )
    return build_history(facts)


def test_generate_shows_every_basis_and_flags_what_it_cannot_compute(history):
    plan = generate(history, CITIES, PlanSpec(PERIOD, END))
    by_code = {line.city.code: line for line in plan.lines}
    assert {c: (ln.tier, ln.model.target) for c, ln in by_code.items() if ln.target is not None} == {
        "330100": ("stable", Decimal("110.0")), "310000": ("high_potential", Decimal("560.0")),
        "440100": ("new", Decimal("50.0")),
    }
    assert [line.city.code for line in plan.flagged] == ["460200"]
    assert by_code["460200"].flag == "no_baseline"
    assert plan.total == 720 and plan.last_year_lfl_total == 300 and plan.base_total == 650
    for line in plan.planned:
        assert sum(line.daily.values()) == line.target


def test_head_office_total_as_a_ratio_of_the_base(history):
    plan = generate(history, CITIES, PlanSpec(PERIOD, END, hq_total_ratio=Decimal("1.3")))
    assert plan.hq_total == plan.total == 845  # 650 × 1.3
    plan = generate(history, CITIES, PlanSpec(PERIOD, END, hq_total_ratio=Decimal("1.3"),
                                              hq_total_reference="last_year_lfl"))
    assert plan.total == 390  # 300 × 1.3: below the bottom-up 720, cut by weight, never below 0
    assert all(line.target >= 0 for line in plan.planned)


def test_expense_budget_per_city_and_region(history):
    spec = PlanSpec(PERIOD, END, hq_total=Decimal(5000), expense_ratios={"美食": Decimal("0.5"), "超市便利店": Decimal("0.2")})
    plan = generate(history, CITIES, spec)
    targets = {line.city.code: line.target for line in plan.planned}
    assert targets == {"330100": 581, "310000": 4155, "440100": 264}
    # 上海's channel mix over the last 90 days: 美食 24 × 90 = 2,160, 超市便利店 30 × 30 = 900 → 2,933 / 1,222
    # exact expenses: 杭州 290.5, 上海 1,466.5 + 244.4 = 1,710.9, 广州 132 → total 2,133.4 → 2,133
    assert plan.budget.by_city_channel[("310000", "超市便利店")] == 244
    assert plan.budget.total == 2133
    assert plan.budget.by_city == {"330100": 290, "310000": 1711, "440100": 132}
    assert plan.budget.by_region == {"华东": 2001, "华南": 132}
    assert {ln.city.code: ln.expense_budget for ln in plan.planned} == plan.budget.by_city


def test_formula_plan(history):
    plan = generate(history, CITIES, PlanSpec(PERIOD, END, model=FormulaModel("ly * 1.2 + run_rate")))
    assert {ln.city.code: ln.model.target for ln in plan.planned} == {
        "330100": Decimal("120.0"), "310000": Decimal("540.0"), "440100": Decimal("50.0"),
    }


def test_history_must_end_before_the_period():
    with pytest.raises(ValueError):
        PlanSpec(PERIOD, date(2016, 7, 1))
