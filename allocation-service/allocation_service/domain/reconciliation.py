"""Reconcile bottom-up city targets to a head-office total, exactly.

The gap (total − Σ bottom-up) is spread in proportion to a weight: by default the city's bottom-up
figure × its tier weight {high_potential 1.5, stable 1.0, declining 0.5, new 1.0}. No target goes
below zero: a city that would is set to 0 and the rest of the gap is spread over the others. The
rounded parts sum exactly to the total by largest remainder, ties broken by city code (C01, C02).
Optional region totals reconcile each region on its own; regions without one share what is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from allocation_service.domain.tiers import DECLINING, HIGH_POTENTIAL, NEW, STABLE
from shared.money import largest_remainder

DEFAULT_TIER_WEIGHTS = {
    HIGH_POTENTIAL: Decimal("1.5"),
    STABLE: Decimal("1.0"),
    DECLINING: Decimal("0.5"),
    NEW: Decimal("1.0"),
}


class ReconciliationError(ValueError):
    pass


@dataclass(frozen=True)
class BottomUp:
    city_code: str
    region: str
    tier: str
    amount: Decimal


@dataclass(frozen=True)
class Reconciled:
    city_code: str
    bottom_up: Decimal
    weight: Decimal
    target: Decimal


def split_exact(total: Decimal | int, weights: Mapping[str, Decimal], quantum: Decimal = Decimal(1)) -> dict[str, Decimal]:
    """Largest-remainder split with the tie-break by code (sorted)."""
    return largest_remainder(Decimal(total), weights, quantum, order=sorted(weights))


def spread_gap(
    lines: list[BottomUp],
    total: Decimal,
    tier_weights: Mapping[str, Decimal] = DEFAULT_TIER_WEIGHTS,
) -> dict[str, tuple[Decimal, Decimal]]:
    """Exact (unrounded) reconciled values: city → (weight, value ≥ 0), Σ value == total."""
    if total < 0:
        raise ReconciliationError(f"a negative total {total} cannot be allocated")
    if any(line.amount < 0 for line in lines):
        raise ReconciliationError("negative bottom-up figures must be rejected before reconciling")
    if not lines:
        if total != 0:
            raise ReconciliationError("no cities to allocate the total to")
        return {}
    weights = {line.city_code: line.amount * tier_weights.get(line.tier, Decimal(1)) for line in lines}
    amounts = {line.city_code: line.amount for line in lines}
    if sum(weights.values()) == 0:
        weights = {code: Decimal(1) for code in weights}
    values = dict(amounts)
    open_codes = set(amounts)
    while True:
        fixed = sum((values[c] for c in amounts if c not in open_codes), Decimal(0))
        # sums in city-code order: Decimal addition at 28 digits is order-sensitive, a set's order is not stable
        gap = total - fixed - sum((amounts[c] for c in sorted(open_codes)), Decimal(0))
        weight_sum = sum((weights[c] for c in sorted(open_codes)), Decimal(0))
        if weight_sum == 0:
            weights.update({code: Decimal(1) for code in open_codes})
            weight_sum = Decimal(len(open_codes))
        for code in open_codes:
            values[code] = amounts[code] + gap * weights[code] / weight_sum
        below = {code for code in open_codes if values[code] < 0}
        if not below:
            break
        for code in below:
            values[code] = Decimal(0)
        open_codes -= below
    return {code: (weights[code], values[code]) for code in amounts}


def reconcile(
    lines: list[BottomUp],
    total: Decimal | int | None,
    quantum: Decimal = Decimal(1),
    tier_weights: Mapping[str, Decimal] = DEFAULT_TIER_WEIGHTS,
    region_totals: Mapping[str, Decimal | int] | None = None,
) -> dict[str, Reconciled]:
    """Rounded targets summing exactly to `total` (or to the rounded bottom-up sum when None)."""
    if total is None:
        exact_sum = sum((line.amount for line in lines), Decimal(0))
        total = exact_sum.quantize(quantum, rounding="ROUND_HALF_UP")
    total = Decimal(total)
    if total % quantum:
        raise ReconciliationError(f"total {total} is not a multiple of {quantum}")
    groups: list[tuple[list[BottomUp], Decimal]] = []
    region_totals = {region: Decimal(value) for region, value in (region_totals or {}).items()}
    if region_totals:
        known = {line.region for line in lines}
        unknown = set(region_totals) - known
        if unknown:
            raise ReconciliationError(f"region totals for regions without cities: {sorted(unknown)}")
        rest = [line for line in lines if line.region not in region_totals]
        rest_total = total - sum(region_totals.values(), Decimal(0))
        if rest_total < 0 or (not rest and rest_total != 0):
            raise ReconciliationError("region totals do not fit inside the head-office total")
        for region, region_total in sorted(region_totals.items()):
            groups.append(([line for line in lines if line.region == region], region_total))
        groups.append((rest, rest_total))
    else:
        groups.append((lines, total))
    result: dict[str, Reconciled] = {}
    for group, group_total in groups:
        exact = spread_gap(group, group_total, tier_weights)
        rounded = split_exact(group_total, {code: value for code, (_, value) in exact.items()}, quantum) if exact else {}
        for line in group:
            weight, _ = exact[line.city_code]
            result[line.city_code] = Reconciled(line.city_code, line.amount, weight, rounded[line.city_code])
    return result
