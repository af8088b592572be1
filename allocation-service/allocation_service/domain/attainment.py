"""Attainment against phased targets: to date, percent, run-rate projection, rank.

- target to date: the sum of the phased daily targets up to and including `as_of`;
- attainment %: actual to date / target to date × 100, to 0.1 (None when the target to date is 0);
- projection: actual to date / elapsed days × days in the period (linear run rate), to the quantum;
- rank: by attainment % descending, cities without a percentage last, ties by code.
Groups (region, channel) add their members' targets and actuals before computing the percentage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from allocation_service.domain.windows import Window

PERCENT_QUANTUM = Decimal("0.1")


@dataclass(frozen=True)
class Attainment:
    key: str
    as_of: date
    period_target: Decimal
    target_to_date: Decimal
    actual_to_date: Decimal
    attainment_pct: Decimal | None
    projection: Decimal
    rank: int = 0


def attainment_for(
    key: str,
    period: Window,
    daily_targets: Mapping[date, Decimal],
    daily_actuals: Mapping[date, Decimal],
    as_of: date,
    quantum: Decimal = Decimal(1),
) -> Attainment:
    as_of = min(as_of, period.end)
    period_target = sum(daily_targets.values(), Decimal(0))
    target_to_date = sum((v for d, v in daily_targets.items() if d <= as_of), Decimal(0))
    actual_to_date = sum((v for d, v in daily_actuals.items() if period.start <= d <= as_of), Decimal(0))
    return _finish(key, period, as_of, period_target, target_to_date, actual_to_date, quantum)


def combine(
    key: str, members: Iterable[Attainment], period: Window, quantum: Decimal = Decimal(1)
) -> Attainment:
    members = list(members)
    if not members:
        raise ValueError("nothing to combine")
    as_of = members[0].as_of
    return _finish(
        key,
        period,
        as_of,
        sum((m.period_target for m in members), Decimal(0)),
        sum((m.target_to_date for m in members), Decimal(0)),
        sum((m.actual_to_date for m in members), Decimal(0)),
        quantum,
    )


def group_by(
    attainments: Iterable[Attainment], group_of: Mapping[str, str], period: Window, quantum: Decimal = Decimal(1)
) -> list[Attainment]:
    groups: dict[str, list[Attainment]] = defaultdict(list)
    for item in attainments:
        groups[group_of[item.key]].append(item)
    return rank([combine(name, members, period, quantum) for name, members in groups.items()])


def rank(attainments: Iterable[Attainment]) -> list[Attainment]:
    ordered = sorted(
        attainments,
        key=lambda a: (a.attainment_pct is None, -(a.attainment_pct or Decimal(0)), a.key),
    )
    return [replace(item, rank=index + 1) for index, item in enumerate(ordered)]


def _finish(
    key: str,
    period: Window,
    as_of: date,
    period_target: Decimal,
    target_to_date: Decimal,
    actual_to_date: Decimal,
    quantum: Decimal,
) -> Attainment:
    pct = None
    if target_to_date > 0:
        pct = (actual_to_date * 100 / target_to_date).quantize(PERCENT_QUANTUM, rounding=ROUND_HALF_UP)
    elapsed = (min(as_of, period.end) - period.start).days + 1
    if elapsed <= 0:
        projection = Decimal(0)
    else:
        projection = (actual_to_date * period.days / elapsed).quantize(quantum, rounding=ROUND_HALF_UP)
    return Attainment(key, as_of, period_target, target_to_date, actual_to_date, pct, projection)
