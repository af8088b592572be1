"""The published package a window negotiates over: a frozen snapshot of its lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from negotiation_service.domain.errors import NotFoundError, RuleViolation


@dataclass(frozen=True)
class PackageLine:
    city_code: str
    city_name: str
    region: str
    tier: str
    base: Decimal
    target: Decimal
    weight: Decimal
    expense_budget: Decimal


@dataclass(frozen=True)
class PackageSnapshot:
    package_id: str
    version: int
    name: str
    period_start: date
    period_end: date
    metric: str
    total: Decimal
    lines: tuple[PackageLine, ...]

    def __post_init__(self) -> None:
        codes = [line.city_code for line in self.lines]
        if len(codes) != len(set(codes)):
            raise RuleViolation("duplicate_city", f"package {self.package_id} lists a city twice")

    def line(self, city_code: str) -> PackageLine:
        for line in self.lines:
            if line.city_code == city_code:
                return line
        raise NotFoundError("unknown_city", f"city {city_code} is not in package {self.package_id}")

    def regions(self) -> list[str]:
        return sorted({line.region for line in self.lines})

    def lines_in_region(self, region: str) -> list[PackageLine]:
        return [line for line in self.lines if line.region == region]
