"""Immutable target versions: every change (final lines, rule uplift, manual edit) is a new version.

A version holds each city's line with its phased daily targets. `apply_uplift` raises a city's daily
targets for start_day…end_day (inclusive) by a percentage; the extra amount is rounded half-up once
and spread over those days by largest remainder, so the days still sum to the city target. An uplift
id already applied returns `None`: a redelivered request never applies twice (casebook C18:
200,000 + 15 % → 230,000, once).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from shared.money import largest_remainder


@dataclass(frozen=True)
class Provenance:
    source: str  # generated | negotiation | rule_uplift | manual
    reference: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class VersionLine:
    city_code: str
    city_name: str
    region: str
    tier: str
    basis: str
    base: Decimal
    target: Decimal
    weight: Decimal
    expense_budget: Decimal
    daily: Mapping[date, Decimal] = field(default_factory=dict)


@dataclass(frozen=True)
class TargetVersion:
    number: int
    lines: Mapping[str, VersionLine]
    provenance: Provenance
    applied_uplifts: frozenset[str] = frozenset()

    @property
    def total(self) -> Decimal:
        return sum((line.target for line in self.lines.values()), Decimal(0))


class UpliftError(ValueError):
    pass


def uplift_amount(days_total: Decimal, percent: Decimal, quantum: Decimal = Decimal(1)) -> Decimal:
    return (days_total * percent / 100).quantize(quantum, rounding=ROUND_HALF_UP)


def apply_uplift(
    version: TargetVersion,
    uplift_id: str,
    city_code: str,
    percent: Decimal,
    start_day: date,
    end_day: date,
    reason: str,
    quantum: Decimal = Decimal(1),
) -> TargetVersion | None:
    if uplift_id in version.applied_uplifts:
        return None
    if percent <= 0:
        raise UpliftError("an uplift must be a positive percentage")
    line = version.lines.get(city_code)
    if line is None:
        raise UpliftError(f"city {city_code} has no target in this package")
    days = sorted(day for day in line.daily if start_day <= day <= end_day)
    if not days:
        raise UpliftError(f"no target days of {city_code} between {start_day} and {end_day}")
    covered = {day: line.daily[day] for day in days}
    amount = uplift_amount(sum(covered.values(), Decimal(0)), percent, quantum)
    extra = largest_remainder(amount, covered, quantum, order=days)
    daily = {day: value + extra.get(day, Decimal(0)) for day, value in line.daily.items()}
    lines = dict(version.lines)
    lines[city_code] = replace(line, target=line.target + amount, daily=daily)
    return TargetVersion(
        number=version.number + 1,
        lines=lines,
        provenance=Provenance("rule_uplift", uplift_id, reason),
        applied_uplifts=version.applied_uplifts | {uplift_id},
    )


def apply_final_targets(
    version: TargetVersion,
    final_targets: Mapping[str, Decimal],
    provenance: Provenance,
    quantum: Decimal = Decimal(1),
) -> TargetVersion:
    """A new version with the given city targets; each city's days follow its previous shape."""
    unknown = set(final_targets) - set(version.lines)
    if unknown:
        raise ValueError(f"final targets for cities not in the package: {sorted(unknown)}")
    lines = dict(version.lines)
    for code, target in final_targets.items():
        if target < 0:
            raise ValueError(f"a negative target for {code} is never published")
        line = lines[code]
        if target == line.target:
            continue
        days = sorted(line.daily)
        daily = largest_remainder(target, dict(line.daily), quantum, order=days) if days else {}
        lines[code] = replace(line, target=target, daily=daily)
    return TargetVersion(version.number + 1, lines, provenance, version.applied_uplifts)


class OffsetInfeasible(ValueError):
    """A region cannot absorb a change to some of its cities without a negative target."""

    def __init__(self, region: str, change: Decimal, message: str) -> None:
        super().__init__(message)
        self.region = region
        self.change = change


def keep_region_totals(
    version: TargetVersion, targets: Mapping[str, Decimal], quantum: Decimal = Decimal(1)
) -> dict[str, Decimal]:
    """`targets` plus, in each region, new targets for the cities *not* named so that every region's
    total (and so the package's) is unchanged: the change is offset in proportion to their allocation
    weights, exactly (largest remainder, ties by city code); a city that would go below zero is set
    to zero and the rest spread again over the others, as negotiation's `keep_total` policy does.
    Raises `OffsetInfeasible` when a region has no other city or cannot absorb the change."""
    unknown = set(targets) - set(version.lines)
    if unknown:
        raise ValueError(f"targets for cities not in the package: {sorted(unknown)}")
    result = dict(targets)
    regions = sorted({version.lines[code].region for code in targets})
    for region in regions:
        members = [line for line in version.lines.values() if line.region == region]
        change = sum((targets[line.city_code] - line.target for line in members if line.city_code in targets),
                     Decimal(0))
        if change == 0:
            continue
        pool = {line.city_code: line for line in members if line.city_code not in targets}
        if not pool:
            raise OffsetInfeasible(region, change, f"{region} has no other city to offset a change of "
                                                   f"{format(change, 'f')}")
        remaining = -change
        while True:
            order = sorted(pool)
            shares = largest_remainder(remaining, {code: pool[code].weight for code in order}, quantum, order)
            below = [code for code in order if pool[code].target + shares[code] < 0]
            if not below:
                result.update({code: pool[code].target + shares[code] for code in order})
                break
            for code in below:
                result[code] = Decimal(0)
                remaining += pool[code].target
                del pool[code]
            if not pool:
                raise OffsetInfeasible(region, change, f"{region} cannot absorb a change of {format(change, 'f')} "
                                                       "without a negative target")
    return result
