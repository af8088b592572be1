from decimal import Decimal

import pytest
from allocation_service.domain.reconciliation import BottomUp, ReconciliationError, reconcile, split_exact

C01_WEIGHTS = {"上海": Decimal("72.68"), "杭州": Decimal("10.93"), "宁波": Decimal("2.73"), "苏州": Decimal("13.66")}


def test_c01_weights_parsed_from_strings_sum_to_exactly_100():
    assert sum(C01_WEIGHTS.values()) == Decimal("100.00")


def test_c02a_two_way_split_sums_to_the_total():
    parts = split_exact(12345, {"A": Decimal(90), "B": Decimal(10)})
    assert parts == {"A": Decimal(11111), "B": Decimal(1234)}


def test_c02b_largest_remainder():
    parts = split_exact(1000005, C01_WEIGHTS)
    assert parts == {"上海": 726804, "杭州": 109300, "宁波": 27300, "苏州": 136601}
    assert sum(parts.values()) == 1000005


def test_c02c_largest_remainder():
    assert split_exact(1000002, C01_WEIGHTS) == {"上海": 726802, "杭州": 109300, "宁波": 27300, "苏州": 136600}


def test_ties_are_broken_by_city_code():
    parts = split_exact(25, {"330200": Decimal(1), "330100": Decimal(1), "330400": Decimal(1), "330300": Decimal(1)})
    assert parts == {"330100": 7, "330200": 6, "330300": 6, "330400": 6}


LINES = [
    BottomUp("330100", "华东", "high_potential", Decimal(100)),
    BottomUp("330200", "华东", "declining", Decimal(100)),
    BottomUp("440100", "华南", "stable", Decimal(10)),
]


def test_positive_gap_spread_by_base_times_tier_weight():
    result = reconcile(LINES, 300)
    # gap 90 over weights 150 / 50 / 10: exact 164.29 / 121.43 / 14.29, the leftover unit to 330200 (.43)
    assert {code: r.target for code, r in result.items()} == {"330100": 164, "330200": 122, "440100": 14}
    assert {code: r.weight for code, r in result.items()} == {"330100": 150, "330200": 50, "440100": 10}
    assert sum(r.target for r in result.values()) == 300


def test_negative_gap_never_drives_a_target_below_zero():
    result = reconcile(LINES, 50)
    # first pass: 330100 would be −14.29 → 0; the rest (−60) over 50 / 10 → 50 and 0
    assert {code: r.target for code, r in result.items()} == {"330100": 0, "330200": 50, "440100": 0}


def test_without_a_head_office_total_the_rounded_bottom_up_sum_is_kept():
    lines = [BottomUp("A", "r", "stable", Decimal("10.5")), BottomUp("B", "r", "stable", Decimal("10.5"))]
    result = reconcile(lines, None)
    assert {code: r.target for code, r in result.items()} == {"A": 11, "B": 10}


def test_region_totals_reconcile_each_region_and_the_rest_shares_the_remainder():
    result = reconcile(LINES, 1000, region_totals={"华东": 600})
    # 华东: gap 400 over weights 150 / 50 → +300 / +100
    assert result["330100"].target + result["330200"].target == 600
    assert result["440100"].target == 400
    assert {code: r.target for code, r in result.items()} == {"330100": 400, "330200": 200, "440100": 400}


def test_region_totals_larger_than_the_total_are_refused():
    with pytest.raises(ReconciliationError):
        reconcile(LINES, 100, region_totals={"华东": 600})


def test_negative_inputs_are_refused():
    with pytest.raises(ReconciliationError):
        reconcile([BottomUp("X", "r", "stable", Decimal(-5000))], 100)
    with pytest.raises(ReconciliationError):
        reconcile(LINES, -1)


def test_many_cities_always_sum_exactly():
    lines = [BottomUp(f"{code:06d}", "r", ("high_potential", "stable", "declining", "new")[code % 4],
                      Decimal(code * 7919 % 1000) / 7) for code in range(1, 300)]
    for total in (0, 1, 99_999, 1_234_567):
        result = reconcile(lines, total)
        assert sum(r.target for r in result.values()) == total
        assert all(r.target >= 0 for r in result.values())
