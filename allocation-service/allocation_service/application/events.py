"""Event payloads built from domain versions."""

from __future__ import annotations

from allocation_service.domain.versions import TargetVersion
from shared.events.allocation import TargetLine


def target_lines(version: TargetVersion) -> list[TargetLine]:
    return [
        TargetLine(
            city_code=line.city_code, city_name=line.city_name, region=line.region, tier=line.tier,
            basis=line.basis, base=line.base, target=line.target, weight=line.weight,
            expense_budget=line.expense_budget,
        )
        for _, line in sorted(version.lines.items())
    ]
