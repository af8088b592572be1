import json
from datetime import date
from decimal import Decimal

import pytest
from allocation_service.domain.growth import growth_rate, like_for_like_growth
from allocation_service.domain.history import build_history
from allocation_service.domain.metrics import ORDERS
from allocation_service.domain.tiers import TierRule
from allocation_service.domain.windows import Window

PREVIOUS = Window(date(2015, 7, 1), date(2015, 12, 31))  # 184 days
CURRENT = Window(date(2016, 1, 1), date(2016, 6, 30))  # 182 days


def test_zero_base_is_no_baseline_not_infinite_c04():
    assert growth_rate(Decimal(0), Decimal(50000)) == (None, "no_baseline")


def test_negative_base_is_flagged_c04():
    assert growth_rate(Decimal(-5000), Decimal(50000)) == (None, "negative_baseline")


def test_growth_rate_exact():
    assert growth_rate(Decimal(200), Decimal(230)) == (Decimal("0.15"), None)


def test_like_for_like_uses_only_outlets_open_in_both_periods(daily):
    facts = (
        daily("A", "330100", PREVIOUS.start, PREVIOUS.end, 10)  # 1,840 before
        + daily("A", "330100", CURRENT.start, CURRENT.end, 11)  # 2,002 now
        + daily("B", "330100", date(2015, 10, 1), CURRENT.end, 50)  # opened mid-period: not comparable
        + daily("C", "330100", CURRENT.start, CURRENT.end, 99)  # new: not comparable
        + daily("D", "330100", PREVIOUS.start, PREVIOUS.end, 7)  # closed: not comparable
    )
    history = build_history(facts)
    growth = like_for_like_growth(history.outlets.values(), PREVIOUS, CURRENT, ORDERS, history.data_start)
    assert growth.outlets == 1
    assert growth.previous_total == Decimal(1840)
    assert growth.current_total == Decimal(2002)
    assert growth.rate == Decimal(162) / Decimal(1840)
    assert growth.percent == Decimal("8.80")
    assert growth.reason is None


def test_no_comparable_outlet_is_no_baseline_and_json_safe(daily):
    history = build_history(daily("N", "330100", CURRENT.start, CURRENT.end, 5), data_start=PREVIOUS.start)
    growth = like_for_like_growth(history.outlets.values(), PREVIOUS, CURRENT, ORDERS, history.data_start)
    assert (growth.rate, growth.reason, growth.outlets) == (None, "no_baseline", 0)
    text = json.dumps(growth.as_dict(), allow_nan=False)
    assert '"rate": null' in text and '"reason": "no_baseline"' in text


def test_period_before_the_data_is_no_history(daily):
    history = build_history(daily("A", "330100", date(2015, 8, 1), CURRENT.end, 5))
    growth = like_for_like_growth(history.outlets.values(), PREVIOUS, CURRENT, ORDERS, history.data_start)
    assert (growth.rate, growth.reason) == (None, "no_history")


@pytest.mark.parametrize(
    ("rate", "tier"),
    [
        ("0.10", "high_potential"),
        ("0.0999", "stable"),
        ("0", "stable"),
        ("-0.0499", "stable"),
        ("-0.05", "declining"),
        ("-0.30", "declining"),
        (None, "new"),
    ],
)
def test_default_tier_rule_boundaries_are_inclusive(rate, tier):
    assert TierRule().tier_for(None if rate is None else Decimal(rate)) == tier


def test_tier_rule_is_configurable_and_checked():
    rule = TierRule(high_at_least=Decimal("0.20"), declining_at_most=Decimal("0"))
    assert rule.tier_for(Decimal("0.15")) == "stable"
    assert rule.tier_for(Decimal("0")) == "declining"
    with pytest.raises(ValueError):
        TierRule(high_at_least=Decimal("0"), declining_at_most=Decimal("0.1"))


def test_new_tier_explains_why(daily):
    history = build_history(daily("N", "330100", CURRENT.start, CURRENT.end, 5), data_start=PREVIOUS.start)
    growth = like_for_like_growth(history.outlets.values(), PREVIOUS, CURRENT, ORDERS, history.data_start)
    assert TierRule().explain(growth).startswith("new: no like-for-like half-year growth (no_baseline;")
