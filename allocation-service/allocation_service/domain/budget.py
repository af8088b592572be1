"""Expense budgets per city and region from per-channel expense ratios; every sum is exact.

A city's target is split over its channels by its channel mix (largest remainder), each channel part
× the channel's expense ratio (yuan per unit of the metric: a share of revenue, or yuan per order)
gives the exact expense. The budget total is the rounded exact sum (or a head-office budget); city
budgets split it by largest remainder (ties by city code) and a region's budget is the sum of its
cities, so cities sum to regions and regions to the total.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from shared.money import largest_remainder


@dataclass(frozen=True)
class Budget:
    total: Decimal
    by_city: dict[str, Decimal]
    by_region: dict[str, Decimal]
    by_city_channel: dict[tuple[str, str], Decimal]


def city_channel_targets(
    targets: Mapping[str, Decimal],
    channel_mix: Mapping[str, Mapping[str, Decimal]],
    quantum: Decimal = Decimal(1),
) -> dict[tuple[str, str], Decimal]:
    """Each city's target split over its channels by its mix; a city without a mix is `all`."""
    parts: dict[tuple[str, str], Decimal] = {}
    for code, target in targets.items():
        mix = {channel: weight for channel, weight in (channel_mix.get(code) or {}).items() if weight > 0}
        if not mix:
            mix = {"all": Decimal(1)}
        for channel, part in largest_remainder(target, mix, quantum, order=sorted(mix)).items():
            parts[(code, channel)] = part
    return parts


def expense_budget(
    targets: Mapping[str, Decimal],
    regions: Mapping[str, str],
    channel_mix: Mapping[str, Mapping[str, Decimal]],
    expense_ratios: Mapping[str, Decimal],
    default_ratio: Decimal = Decimal(0),
    total: Decimal | None = None,
    target_quantum: Decimal = Decimal(1),
    money_quantum: Decimal = Decimal(1),
) -> Budget:
    channel_targets = city_channel_targets(targets, channel_mix, target_quantum)
    exact_city: dict[str, Decimal] = defaultdict(Decimal)
    exact_channel: dict[tuple[str, str], Decimal] = {}
    for (code, channel), part in channel_targets.items():
        expense = part * expense_ratios.get(channel, default_ratio)
        exact_channel[(code, channel)] = expense
        exact_city[code] += expense
    for code in targets:
        exact_city.setdefault(code, Decimal(0))
    if total is None:
        total = sum(exact_city.values(), Decimal(0)).quantize(money_quantum, rounding=ROUND_HALF_UP)
    by_city = largest_remainder(total, dict(exact_city), money_quantum, order=sorted(exact_city)) if exact_city else {}
    by_region: dict[str, Decimal] = defaultdict(Decimal)
    for code, value in by_city.items():
        by_region[regions[code]] += value
    keys_by_city: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for key in exact_channel:
        keys_by_city[key[0]].append(key)
    by_city_channel: dict[tuple[str, str], Decimal] = {}
    for code, city_total in by_city.items():
        keys = sorted(keys_by_city[code])
        weights = {key: exact_channel[key] for key in keys}
        by_city_channel.update(largest_remainder(city_total, weights, money_quantum, order=keys))
    return Budget(total, dict(by_city), dict(by_region), by_city_channel)
