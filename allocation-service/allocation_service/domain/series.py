"""One outlet's daily values, indexed for fast window sums (prefix sums over sorted days)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from datetime import date
from decimal import Decimal

from allocation_service.domain.windows import Window

ZERO = Decimal(0)


class DailySeries:
    """Immutable daily values of one outlet. A day with no value is a day without trade."""

    __slots__ = ("_ordinals", "_prefix", "_positive_prefix", "_values")

    def __init__(self, values: Mapping[date, Decimal | int]) -> None:
        items = sorted((day.toordinal(), value) for day, value in values.items())
        self._ordinals = [ordinal for ordinal, _ in items]
        self._values = [value for _, value in items]  # ints stay ints (fast); Decimals stay exact
        prefix: list[Decimal | int] = [0]
        positive = [0]
        running, count = 0, 0
        for value in self._values:
            running += value
            count += value > 0
            prefix.append(running)
            positive.append(count)
        self._prefix = prefix
        self._positive_prefix = positive

    def __len__(self) -> int:
        return len(self._ordinals)

    def _bounds(self, window: Window) -> tuple[int, int]:
        return (
            bisect_left(self._ordinals, window.start.toordinal()),
            bisect_right(self._ordinals, window.end.toordinal()),
        )

    def total(self, window: Window) -> Decimal:
        low, high = self._bounds(window)
        return Decimal(self._prefix[high] - self._prefix[low])

    def trading_days(self, window: Window) -> int:
        low, high = self._bounds(window)
        return self._positive_prefix[high] - self._positive_prefix[low]

    def traded_in(self, window: Window) -> bool:
        return self.trading_days(window) > 0

    def first_trading_day(self) -> date | None:
        for ordinal, value in zip(self._ordinals, self._values, strict=True):
            if value > 0:
                return date.fromordinal(ordinal)
        return None

    def items(self, window: Window) -> list[tuple[date, Decimal]]:
        low, high = self._bounds(window)
        return [(date.fromordinal(o), Decimal(v)) for o, v in zip(self._ordinals[low:high], self._values[low:high], strict=True)]
