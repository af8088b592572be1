"""Closing a window: pending requests expire, approved claims are applied to make the final version.

Policies:
- `keep_total` (default): head office's total does not move. In each region, the sum of the approved
  changes is offset across the region's cities *without* an approved change, in proportion to their
  allocation weights, exactly (largest remainder, ties by city code). No city goes below zero: a city
  that would is set to zero and the rest is spread again over the others. If a region cannot absorb
  its changes the final version is refused (`offset_infeasible`); approval checks this beforehand.
- `move_total`: approved cities get their claims, nobody else moves, and the total moves with them.

Expense budgets are kept as published (the budget is head office's money, not the target's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from negotiation_service.domain.errors import ConflictError, RuleViolation
from negotiation_service.domain.package import PackageLine, PackageSnapshot
from negotiation_service.domain.requests import AdjustmentRequest, RequestStatus, expire_request
from shared.money import YUAN, largest_remainder


class OffsetPolicy(StrEnum):
    KEEP_TOTAL = "keep_total"
    MOVE_TOTAL = "move_total"


class LineChange(StrEnum):
    UNCHANGED = "unchanged"
    REQUESTED = "requested"
    OFFSET = "offset"


@dataclass(frozen=True)
class FinalCityLine:
    city_code: str
    city_name: str
    region: str
    tier: str
    base: Decimal
    original_target: Decimal
    final_target: Decimal
    expense_budget: Decimal
    change: LineChange
    request_id: str | None = None

    @property
    def adjustment(self) -> Decimal:
        return self.final_target - self.original_target


@dataclass(frozen=True)
class FinalVersion:
    package_id: str
    base_version: int
    policy: OffsetPolicy
    lines: tuple[FinalCityLine, ...]

    @property
    def total(self) -> Decimal:
        return sum((line.final_target for line in self.lines), Decimal(0))

    def line(self, city_code: str) -> FinalCityLine:
        return next(line for line in self.lines if line.city_code == city_code)


def expire_pending(requests: Sequence[AdjustmentRequest], at: datetime) -> list[AdjustmentRequest]:
    return [expire_request(request, at) if request.is_open else request for request in requests]


def final_version(
    package: PackageSnapshot,
    requests: Sequence[AdjustmentRequest],
    policy: OffsetPolicy = OffsetPolicy.KEEP_TOTAL,
    quantum: Decimal = YUAN,
) -> FinalVersion:
    """The package after applying the approved requests among `requests` (others are ignored)."""
    policy = OffsetPolicy(policy)
    approved: dict[str, AdjustmentRequest] = {}
    for request in requests:
        if request.status is not RequestStatus.APPROVED:
            continue
        if request.package_id != package.package_id:
            raise RuleViolation("package_mismatch", f"request {request.request_id} is not on {package.package_id}")
        if request.city_code in approved:
            raise RuleViolation("two_approved_requests", f"two approved requests for {request.city_code}")
        package.line(request.city_code)
        approved[request.city_code] = request
    targets = {line.city_code: line.target for line in package.lines}
    for city_code, request in approved.items():
        targets[city_code] = request.claim
    if policy is OffsetPolicy.KEEP_TOTAL:
        for region in package.regions():
            targets.update(_offset_region(package.lines_in_region(region), approved, quantum))
    lines = tuple(_final_line(line, targets[line.city_code], approved) for line in package.lines)
    return FinalVersion(package.package_id, package.version, policy, lines)


def _final_line(line: PackageLine, final: Decimal, approved: dict[str, AdjustmentRequest]) -> FinalCityLine:
    request = approved.get(line.city_code)
    if request is not None:
        change = LineChange.REQUESTED
    elif final != line.target:
        change = LineChange.OFFSET
    else:
        change = LineChange.UNCHANGED
    return FinalCityLine(
        city_code=line.city_code,
        city_name=line.city_name,
        region=line.region,
        tier=line.tier,
        base=line.base,
        original_target=line.target,
        final_target=final,
        expense_budget=line.expense_budget,
        change=change,
        request_id=request.request_id if request else None,
    )


def _offset_region(
    lines: list[PackageLine], approved: dict[str, AdjustmentRequest], quantum: Decimal
) -> dict[str, Decimal]:
    """New targets for the region's unadjusted cities so that the region's total is unchanged."""
    region = lines[0].region
    change = sum((approved[line.city_code].change for line in lines if line.city_code in approved), Decimal(0))
    pool = {line.city_code: line for line in lines if line.city_code not in approved}
    if change == 0:
        return {}
    if not pool:
        raise ConflictError(
            "offset_infeasible", f"{region} has no other city to offset a change of {change}", region=region
        )
    for line in pool.values():
        if line.target % quantum != 0:
            raise RuleViolation("target_not_whole", f"target {line.target} of {line.city_code} is not whole")
    remaining = -change  # what the pool must absorb in total
    result: dict[str, Decimal] = {}
    while True:
        order = sorted(pool)
        shares = largest_remainder(remaining, {code: pool[code].weight for code in order}, quantum, order)
        below_zero = [code for code in order if pool[code].target + shares[code] < 0]
        if not below_zero:
            result.update({code: pool[code].target + shares[code] for code in order})
            return result
        for code in below_zero:
            result[code] = Decimal(0)
            remaining += pool[code].target
            del pool[code]
        if not pool:
            raise ConflictError(
                "offset_infeasible",
                f"{region} cannot absorb a change of {change} without a negative target",
                region=region,
            )
