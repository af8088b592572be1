"""Casebook C18/C20: the uplift is exact and applied once."""

from decimal import Decimal

import pytest
from alerts_service.domain.uplifts import uplift_factor, uplifted_amount


def test_200000_plus_15_percent_is_exactly_230000():
    assert uplifted_amount(Decimal("200000"), Decimal("15")) == Decimal("230000")
    assert str(uplifted_amount(200000, "15")) == "230000"


def test_float_arithmetic_would_have_lost_a_yuan():
    assert int(200000 * 1.15) == 229999  # the bug the Decimal path avoids
    assert uplift_factor("15") == Decimal("1.15")


def test_applying_twice_would_be_264500_which_is_what_idempotency_prevents():
    assert uplifted_amount(uplifted_amount(200000, 15), 15) == Decimal("264500")


def test_half_up_rounding_at_the_end():
    # 1,001 × 1.15 = 1,151.15 → 1,151; 1,003 × 1.15 = 1,153.45 → 1,153; 1,010 × 1.15 = 1,161.5 → 1,162
    assert [uplifted_amount(a, 15) for a in (1001, 1003, 1010)] == [Decimal(1151), Decimal(1153), Decimal(1162)]
    assert uplifted_amount(1001, 15, Decimal("0.01")) == Decimal("1151.15")


def test_floats_are_refused():
    with pytest.raises(TypeError):
        uplifted_amount(200000.0, 15)
