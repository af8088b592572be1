"""Exact money and quantity arithmetic.

`Decimal` from the moment a number is parsed, ROUND_HALF_UP once at the end, and largest
remainder so that rounded parts always sum to their total (casebook C01, C02).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

YUAN = Decimal("1")
CENT = Decimal("0.01")


def to_decimal(value: object) -> Decimal:
    """A Decimal from a str, int or Decimal. Floats are refused: they carry binary error (C01)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"refusing {type(value).__name__} {value!r}: pass a str, int or Decimal")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {value!r}") from exc
        if not result.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        return result
    raise TypeError(f"cannot make a Decimal from {type(value).__name__}")


def round_half_up(value: Decimal, quantum: Decimal = YUAN) -> Decimal:
    """四舍五入 to the quantum (whole yuan by default)."""
    return value.quantize(quantum, rounding=ROUND_HALF_UP)


def largest_remainder(
    total: Decimal | int,
    weights: Mapping[Hashable, Decimal | int],
    quantum: Decimal = YUAN,
    order: Sequence[Hashable] | None = None,
) -> dict[Hashable, Decimal]:
    """Split `total` in proportion to `weights`, in multiples of `quantum`, summing exactly to `total`.

    Each part gets the floor of its exact share; the units left over go one each to the parts with
    the largest fractional remainders. Ties are broken by `order` (default: sorted keys), so the
    result is deterministic (casebook C02 d). Zero weights get zero. If every weight is zero the
    split is even. Negative weights or a total that is not a multiple of the quantum are refused.
    """
    total = Decimal(total)
    if not weights:
        if total != 0:
            raise ValueError("cannot split a non-zero total over no parts")
        return {}
    if total % quantum != 0:
        raise ValueError(f"total {total} is not a multiple of {quantum}")
    clean = {key: Decimal(w) for key, w in weights.items()}
    if any(w < 0 for w in clean.values()):
        raise ValueError("weights must not be negative")
    keys = list(order) if order is not None else sorted(clean, key=_sort_key)
    if set(keys) != set(clean):
        raise ValueError("order must name every key exactly once")
    weight_sum = sum(clean.values(), Decimal(0))
    if weight_sum == 0:
        clean = {key: Decimal(1) for key in clean}
        weight_sum = Decimal(len(clean))
    units_total = total / quantum
    floors: dict[Hashable, Decimal] = {}
    remainders: dict[Hashable, Decimal] = {}
    for key in keys:
        exact_units = units_total * clean[key] / weight_sum
        floor = exact_units.to_integral_value(rounding=ROUND_DOWN)
        if exact_units < 0 and floor != exact_units:  # floor towards -inf for negative totals
            floor -= 1
        floors[key] = floor
        remainders[key] = exact_units - floor
    leftover = int(units_total - sum(floors.values(), Decimal(0)))
    position = {key: index for index, key in enumerate(keys)}
    ranked = sorted(keys, key=lambda key: (-remainders[key], position[key]))
    for key in ranked[:leftover]:
        floors[key] += 1
    return {key: floors[key] * quantum for key in keys}


def _sort_key(key: Hashable) -> tuple[str, str]:
    return (type(key).__name__, str(key))
