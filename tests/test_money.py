from decimal import Decimal as D

import pytest

from shared.money import largest_remainder, round_half_up, to_decimal

WEIGHTS = {"上海": D("72.68"), "杭州": D("10.93"), "宁波": D("2.73"), "苏州": D("13.66")}
ORDER = ["上海", "杭州", "宁波", "苏州"]


def test_c01_weights_parsed_from_strings_sum_to_exactly_100():
    assert sum((to_decimal(w) for w in ("72.68", "10.93", "2.73", "13.66")), D(0)) == D("100.00")
    with pytest.raises(TypeError):
        to_decimal(72.68)


def test_c02a_two_way_split_sums_to_the_total():
    assert largest_remainder(12345, {"a": D(90), "b": D(10)}) == {"a": D(11111), "b": D(1234)}


def test_c02b_largest_remainder_with_c01_weights():
    assert largest_remainder(1000005, WEIGHTS, order=ORDER) == {
        "上海": D(726804), "杭州": D(109300), "宁波": D(27300), "苏州": D(136601)}


def test_c02c_largest_remainder_with_c01_weights():
    assert largest_remainder(1000002, WEIGHTS, order=ORDER) == {
        "上海": D(726802), "杭州": D(109300), "宁波": D(27300), "苏州": D(136600)}


def test_c02d_ties_are_broken_deterministically_by_key():
    assert list(largest_remainder(25, {"m4": 1, "m2": 1, "m1": 1, "m3": 1}).items()) == [
        ("m1", D(7)), ("m2", D(6)), ("m3", D(6)), ("m4", D(6))]


def test_quantum_cents_and_zero_weights():
    assert largest_remainder(D("0.10"), {"a": 1, "b": 1, "c": 1}, quantum=D("0.01")) == {
        "a": D("0.04"), "b": D("0.03"), "c": D("0.03")}
    assert largest_remainder(10, {"a": 0, "b": 0}) == {"a": D(5), "b": D(5)}
    assert largest_remainder(10, {"a": 0, "b": 3}) == {"a": D(0), "b": D(10)}


def test_half_up_not_bankers():
    assert round_half_up(D("2.5")) == D(3)
    assert round_half_up(D("229999.5")) == D(230000)
    assert D(200000) * D("1.15") == D("230000.00")


def test_refuses_bad_input():
    with pytest.raises(ValueError):
        largest_remainder(10, {"a": -1, "b": 2})
    with pytest.raises(ValueError):
        largest_remainder(D("10.5"), {"a": 1})
    with pytest.raises(ValueError):
        to_decimal("NaN")
