"""Daily values of outlets on one day axis: an integer matrix (outlets × days) with row prefix sums.

`DailyPanel` holds many outlets' values, so a window total of every outlet is two lookups in the prefix
sums (vectorised with numpy, exact: integers). A day without a fact is 0 and not `present`: a day
without trade. Fractional values (revenue) are stored as integers × 10^scale, so every sum is exact;
values too large for int64 are kept as Python integers (object arrays), still exact.
`DailySeries` is one outlet's row of a panel, with the per-outlet questions the rules ask.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import numpy as np

from allocation_service.domain.windows import Window

ZERO = Decimal(0)
NO_DAY = np.iinfo(np.int64).max  # "never": after every ordinal
INT64_SAFE = 2**62


class DailyPanel:
    """Immutable daily values of `rows` outlets from the day with ordinal `start`, `width` days long."""

    __slots__ = ("start", "width", "values", "present", "prefix", "trading", "scale", "first_trading")

    def __init__(self, start: int, values: np.ndarray, present: np.ndarray, scale: int = 0) -> None:
        self.start = start
        self.width = values.shape[1]
        self.values = values
        self.present = present
        self.scale = scale
        rows = values.shape[0]
        self.prefix = np.zeros((rows, self.width + 1), dtype=values.dtype)
        np.cumsum(values, axis=1, out=self.prefix[:, 1:])
        positive = values > 0
        self.trading = np.zeros((rows, self.width + 1), dtype=np.int32)
        np.cumsum(positive, axis=1, out=self.trading[:, 1:])
        if self.width:
            self.first_trading = np.where(positive.any(axis=1), positive.argmax(axis=1) + start, NO_DAY).astype(np.int64)
        else:
            self.first_trading = np.full(rows, NO_DAY, dtype=np.int64)

    @classmethod
    def empty(cls, rows: int) -> DailyPanel:
        return cls(0, np.zeros((rows, 0), dtype=np.int64), np.zeros((rows, 0), dtype=bool))

    @classmethod
    def from_cells(cls, rows: int, row: np.ndarray, ordinal: np.ndarray, value: Sequence) -> DailyPanel:
        """A panel from (row, day ordinal, value) cells, each cell given at most once; values int or Decimal."""
        if len(row) == 0:
            return cls.empty(rows)
        start = int(ordinal.min())
        width = int(ordinal.max()) - start + 1
        integers, scale = to_scaled_integers(value)
        values = np.zeros((rows, width), dtype=integers.dtype)
        present = np.zeros((rows, width), dtype=bool)
        column = ordinal - start
        values[row, column] = integers
        present[row, column] = True
        return cls(start, values, present, scale)

    def columns(self, window: Window) -> tuple[int, int]:
        """The column range [low, high) of the window's days inside the panel."""
        low = min(max(window.start.toordinal() - self.start, 0), self.width)
        high = min(max(window.end.toordinal() - self.start + 1, 0), self.width)
        return low, max(low, high)

    def column_of(self, ordinals: np.ndarray) -> np.ndarray:
        """Prefix-sum positions of days (clipped to the panel): the sum up to, not including, each day."""
        return np.clip(ordinals - self.start, 0, self.width)

    def totals(self, rows: np.ndarray, low, high) -> np.ndarray:
        """Integer totals (× 10^scale) of the given rows between prefix positions low and high."""
        return self.prefix[rows, high] - self.prefix[rows, low]

    def trading_days(self, rows: np.ndarray, window: Window) -> np.ndarray:
        low, high = self.columns(window)
        return self.trading[rows, high] - self.trading[rows, low]

    def window_totals(self, rows: np.ndarray, window: Window) -> np.ndarray:
        low, high = self.columns(window)
        return self.totals(rows, low, high)

    def to_decimal(self, value) -> Decimal:
        return Decimal(f"{int(value)}E-{self.scale}") if self.scale else Decimal(int(value))


def to_scaled_integers(values: Sequence) -> tuple[np.ndarray, int]:
    """Exact integers and the power of ten they are scaled by (Decimals with fractions get scaled).

    int64 when every running sum fits (the float sum below only bounds the magnitude), else Python ints.
    """
    array = np.asarray(values) if not isinstance(values, np.ndarray) else values
    scale = 0
    if array.dtype.kind not in "iub":
        for value in values:
            if isinstance(value, Decimal):
                exponent = value.as_tuple().exponent
                if isinstance(exponent, int) and -exponent > scale:
                    scale = -exponent
        integers = [int(Decimal(value).scaleb(scale)) if scale else int(value) for value in values]
        try:
            array = np.array(integers, dtype=np.int64)
        except OverflowError:
            return np.array(integers, dtype=object), scale
    array = array.astype(np.int64, copy=False)
    if float(np.abs(array).sum(dtype=np.float64)) >= INT64_SAFE:
        return np.array([int(v) for v in array.tolist()], dtype=object), scale
    return array, scale


class DailySeries:
    """One outlet's daily values: a row of a panel. A day with no value is a day without trade."""

    __slots__ = ("panel", "row")

    def __init__(self, panel: DailyPanel, row: int) -> None:
        self.panel = panel
        self.row = row

    @classmethod
    def of(cls, values: Mapping[date, Decimal | int]) -> DailySeries:
        """A series on a panel of its own (tests and one-off values)."""
        days = sorted(values)
        ordinal = np.array([day.toordinal() for day in days], dtype=np.int64)
        panel = DailyPanel.from_cells(1, np.zeros(len(days), dtype=np.int64), ordinal, [values[d] for d in days])
        return cls(panel, 0)

    def __len__(self) -> int:
        return int(self.panel.present[self.row].sum())

    def total(self, window: Window) -> Decimal:
        low, high = self.panel.columns(window)
        return self.panel.to_decimal(self.panel.prefix[self.row, high] - self.panel.prefix[self.row, low])

    def trading_days(self, window: Window) -> int:
        low, high = self.panel.columns(window)
        return int(self.panel.trading[self.row, high] - self.panel.trading[self.row, low])

    def traded_in(self, window: Window) -> bool:
        return self.trading_days(window) > 0

    def first_trading_day(self) -> date | None:
        first = int(self.panel.first_trading[self.row])
        return None if first == NO_DAY else date.fromordinal(first)

    def items(self, window: Window) -> list[tuple[date, Decimal]]:
        low, high = self.panel.columns(window)
        present = np.flatnonzero(self.panel.present[self.row, low:high]) + low
        values = self.panel.values[self.row, present].tolist()
        return [(date.fromordinal(self.panel.start + int(c)), self.panel.to_decimal(v)) for c, v in zip(present, values, strict=True)]
