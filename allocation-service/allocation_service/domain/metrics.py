"""The quantity a plan targets: revenue in yuan (Decimal) or a count (orders, units).

Every figure is a `Decimal`; a count metric simply has the quantum 1 and never shows a fraction.
The real Koubei data has order counts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Metric:
    name: str
    quantum: Decimal
    unit: str

    @property
    def is_count(self) -> bool:
        return self.name in ("orders", "units")


REVENUE = Metric("revenue", Decimal("1"), "yuan")
ORDERS = Metric("orders", Decimal("1"), "orders")
UNITS = Metric("units", Decimal("1"), "units")

_BY_NAME = {metric.name: metric for metric in (REVENUE, ORDERS, UNITS)}


def metric_named(name: str) -> Metric:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}: choose one of {sorted(_BY_NAME)}") from None
