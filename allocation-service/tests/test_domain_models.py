from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from allocation_service.domain.basis import city_basis
from allocation_service.domain.formula import FormulaError, validate
from allocation_service.domain.growth import Growth
from allocation_service.domain.history import City, build_history
from allocation_service.domain.metrics import ORDERS
from allocation_service.domain.target_models import (
    CityInputs,
    FormulaModel,
    MarketFactors,
    MultinationalModel,
    TieredModel,
    TwoFactorModel,
    model_from_config,
)
from allocation_service.domain.windows import Window

PERIOD = Window(date(2016, 7, 1), date(2016, 9, 30))  # 92 days
HISTORY_END = date(2016, 6, 30)
HANGZHOU = City("330100", "杭州市", "华东", gdp_growth=Decimal("0.06"))


def growth(rate: str | None, reason: str | None = None) -> Growth:
    window = Window(date(2016, 1, 1), date(2016, 6, 30))
    return Growth(Decimal(rate) if rate else None, reason, window, window, Decimal(0), Decimal(0), 1)


@pytest.fixture()
def basis(daily):
    facts = (
        daily("A", "330100", date(2015, 6, 1), HISTORY_END, 10)  # like for like: 920 last Q3
        + daily("B", "330100", date(2016, 6, 1), HISTORY_END, 10)  # opened since: 300 in 30 days
        + daily("C", "330100", date(2015, 6, 1), date(2015, 12, 31), 50)  # closed
    )
    history = build_history(facts, outlet_master={"D": ("330100", "美食")})  # D: not trading yet
    return city_basis(
        "330100", history.outlets.values(), PERIOD, HISTORY_END, history.data_start, ORDERS, 90,
        peer_daily={"美食": Decimal(5)},
    )


def test_basis_splits_like_for_like_run_rate_and_peer(basis):
    assert basis.last_year == Window(date(2015, 7, 1), date(2015, 9, 30))
    assert basis.lfl_base == Decimal(920)
    assert basis.run_rate_basis == Decimal(920)  # 300 / 30 days × 92 days
    assert basis.peer_basis == Decimal(460)  # 5 a day × 92 days
    assert (basis.comparable_outlets, basis.new_outlets, basis.pending_outlets, basis.closed_outlets) == (1, 1, 1, 1)
    assert basis.bottom_up == Decimal(2300)
    text = basis.describe(ORDERS)
    assert "last year 2015-07-01…2015-09-30: 920 orders from 1 like-for-like outlets" in text
    assert "1 outlets without trade since 2016-04-02 left out" in text


@pytest.mark.parametrize(
    ("tier", "expected"),
    [("high_potential", "2576.0"), ("stable", "2392.0"), ("declining", "2300.0"), ("new", "2300.0")],
)
def test_tiered_multiplies_only_the_like_for_like_part(basis, tier, expected):
    result = TieredModel().compute(CityInputs(HANGZHOU, basis, tier, growth("0.2"), growth("0.2")))
    assert result.target == Decimal(expected)
    assert result.flag is None


def test_two_factor(basis):
    inputs = CityInputs(HANGZHOU, basis, "stable", growth("0.02"), growth("0.2"))
    result = TwoFactorModel(a=Decimal("1"), b=Decimal("0.5")).compute(inputs)
    # 920 × (1 + 0.2 + 0.5 × 0.06) + 1380 = 920 × 1.23 + 1380
    assert result.target == Decimal("2511.60")


def test_two_factor_says_when_a_term_is_missing(basis):
    inputs = CityInputs(HANGZHOU, basis, "stable", growth(None, "no_history"), growth(None, "no_history"))
    result = TwoFactorModel().compute(inputs)
    assert result.target == Decimal("920") * Decimal("1.030") + 1380
    assert "YoY growth missing (no_history): term dropped" in result.basis


def test_multinational(basis):
    model = MultinationalModel(
        by_market={"华东": MarketFactors(Decimal("0.05"), Decimal("0.2"), Decimal("0.5"))},
    )
    result = model.compute(CityInputs(HANGZHOU, basis, "high_potential", growth("0.2"), growth("0.2")))
    assert result.target == Decimal("2576.0") * Decimal("1.05") * Decimal("0.9")
    other = replace(HANGZHOU, region="西南")
    assert model.compute(CityInputs(other, basis, "high_potential", growth("0.2"), growth("0.2"))).target == Decimal(
        "2576.0"
    )


def test_formula_equal_to_tiered(basis):
    model = FormulaModel("ly * multiplier + run_rate")
    assert model.compute(CityInputs(HANGZHOU, basis, "high_potential", growth("0.2"), growth("0.2"))).target == Decimal(
        "2576.0"
    )


def test_formula_decimal_literals_are_exact(basis):
    result = FormulaModel("base * 1.1").compute(CityInputs(HANGZHOU, basis, "stable", growth("0"), growth("0")))
    assert result.target == Decimal("2530.0")


def test_formula_with_a_missing_variable_flags_the_city(basis):
    result = FormulaModel("ly * (1 + yoy_growth) + run_rate").compute(
        CityInputs(HANGZHOU, basis, "stable", growth("0.1"), growth(None, "no_history"))
    )
    assert (result.target, result.flag) == (None, "formula_failed")
    assert "yoy_growth" in result.basis


@pytest.mark.parametrize(
    "expression",
    ["__import__('os').system('id')", "ly.__class__", "open('x')", "ly ** 99999", "unknown + 1", "ly +", "'text'", "ly / 0", ""],
)
def test_formula_is_validated_when_saved(expression):
    with pytest.raises(FormulaError):
        validate(expression)


def test_model_from_config_reads_strings_never_floats():
    model = model_from_config("tiered", {"multipliers": {"high_potential": "1.25"}})
    assert model.multipliers["high_potential"] == Decimal("1.25")
    assert model.multipliers["stable"] == Decimal("1.1")
    with pytest.raises(TypeError):
        model_from_config("two_factor", {"a": 0.5})
    with pytest.raises(ValueError):
        model_from_config("magic")


# casebook C04: a zero or negative base is never published as 0 × 1.15 or −5,750
def test_new_city_gets_the_run_rate_basis_not_zero_c04(daily):
    facts = daily("X1", "990100", date(2016, 4, 2), HISTORY_END, 50000 // 90 + 1)[:90]
    history = build_history(facts)
    basis = city_basis("990100", history.outlets.values(), PERIOD, HISTORY_END, date(2015, 6, 1), ORDERS)
    assert basis.lfl_base == 0 and basis.comparable_outlets == 0
    result = TieredModel().compute(CityInputs(City("990100", "新城", "华东"), basis, "new", growth(None, "no_baseline"), growth(None, "no_baseline")))
    assert result.target == Decimal(556 * 92)
    assert result.flag is None


def test_negative_base_is_rejected_c04():
    history = build_history([], data_start=date(2015, 6, 1), data_end=HISTORY_END)
    basis = replace(
        city_basis("990200", history.outlets.values(), PERIOD, HISTORY_END, date(2015, 6, 1), ORDERS),
        lfl_base=Decimal(-5000),
        comparable_outlets=1,
    )
    result = TieredModel().compute(CityInputs(City("990200", "X", "华东"), basis, "stable", growth("0"), growth("0")))
    assert (result.target, result.flag) == (None, "negative_base")


def test_city_with_nothing_to_go_on_needs_a_manual_target_c04():
    history = build_history([], data_start=date(2015, 6, 1), data_end=HISTORY_END)
    basis = city_basis("990300", [], PERIOD, HISTORY_END, history.data_start, ORDERS)
    result = TieredModel().compute(CityInputs(City("990300", "空城", "华东"), basis, "new", growth(None, "no_baseline"), growth(None, "no_baseline")))
    assert (result.target, result.flag) == (None, "no_baseline")
