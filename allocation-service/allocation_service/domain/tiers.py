"""Tiers from like-for-like half-year growth (documented, configurable).

Default: growth ≥ +10 % → `high_potential`; ≤ −5 % → `declining`; otherwise `stable`. A city whose
growth cannot be computed (no comparable history) is `new`, and its basis says why (casebook C04).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from allocation_service.domain.growth import Growth

HIGH_POTENTIAL = "high_potential"
STABLE = "stable"
DECLINING = "declining"
NEW = "new"
TIERS = (HIGH_POTENTIAL, STABLE, DECLINING, NEW)


@dataclass(frozen=True)
class TierRule:
    high_at_least: Decimal = Decimal("0.10")
    declining_at_most: Decimal = Decimal("-0.05")

    def __post_init__(self) -> None:
        if self.declining_at_most >= self.high_at_least:
            raise ValueError("the declining threshold must lie below the high-potential threshold")

    def tier_for(self, rate: Decimal | None) -> str:
        if rate is None:
            return NEW
        if rate >= self.high_at_least:
            return HIGH_POTENTIAL
        if rate <= self.declining_at_most:
            return DECLINING
        return STABLE

    def explain(self, growth: Growth) -> str:
        tier = self.tier_for(growth.rate)
        if tier == NEW:
            return (
                f"new: no like-for-like half-year growth ({growth.reason}; "
                f"{growth.previous} vs {growth.current})"
            )
        return (
            f"{tier}: like-for-like half-year growth {growth.percent}% over {growth.outlets} outlets "
            f"({growth.previous} vs {growth.current}; rule ≥ {self.high_at_least * 100}% high, "
            f"≤ {self.declining_at_most * 100}% declining)"
        )
