"""Outlets as columns (one numpy array per attribute) and exact integer sums per group of outlets.

The rules ask the same questions of every outlet (traded in a window? total over it? open since
when?); asked of all outlets at once on their panels (`series.DailyPanel`) they cost a few numpy
operations instead of a Python loop. Sums are int64 (or Python ints): exact; figures become
`Decimal` only per group, at the end.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from allocation_service.domain.series import NO_DAY, DailyPanel
from allocation_service.domain.windows import Window

if TYPE_CHECKING:
    from allocation_service.domain.history import OutletHistory

SERIES = ("orders", "revenue", "revenue_orders", "units")
CHUNK_CELLS = 4_000_000  # outlets × days gathered at once when summing day by day


@dataclass
class OutletColumns:
    """The outlets in a fixed order, their places, first days and the rows of their series."""

    outlets: Sequence[OutletHistory]
    city: list[str]
    channel: list[str]
    opened: np.ndarray  # ordinal of the opening date; NO_DAY when unknown
    first_trading: np.ndarray  # ordinal of the first day with orders; NO_DAY when none
    _series: dict[str, tuple[DailyPanel, np.ndarray]] = field(default_factory=dict, repr=False)
    _codes: dict[str, tuple[np.ndarray, list[str]]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, outlets: Sequence[OutletHistory]) -> OutletColumns:
        outlets = list(outlets)
        opened = np.fromiter(
            (o.opened_on.toordinal() if o.opened_on is not None else NO_DAY for o in outlets), np.int64, len(outlets)
        )
        columns = cls(outlets, [o.city_code for o in outlets], [o.channel for o in outlets], opened,
                      np.zeros(0, dtype=np.int64))
        panel, rows = columns.series("orders")
        columns.first_trading = panel.first_trading[rows]
        return columns

    def __len__(self) -> int:
        return len(self.outlets)

    @property
    def first_day(self) -> np.ndarray:
        """The opening date when known, else the first day with orders (NO_DAY: neither)."""
        return np.where(self.opened != NO_DAY, self.opened, self.first_trading)

    def codes(self, attribute: str) -> tuple[np.ndarray, list[str]]:
        """(index of each outlet's value, the distinct values sorted) of `city` or `channel`."""
        key = f"codes:{attribute}"
        if key not in self._codes:
            values = getattr(self, attribute)
            distinct = sorted(set(values))
            index = {value: position for position, value in enumerate(distinct)}
            self._codes[key] = (np.fromiter(map(index.__getitem__, values), np.int64, len(values)), distinct)
        return self._codes[key]

    def series(self, name: str) -> tuple[DailyPanel, np.ndarray]:
        """(panel, row of each outlet) of one of the outlets' series."""
        if name not in self._series:
            self._series[name] = _gather([getattr(o, name) for o in self.outlets])
        return self._series[name]


def _gather(series: list) -> tuple[DailyPanel, np.ndarray]:
    if not series:
        return DailyPanel.empty(0), np.zeros(0, dtype=np.int64)
    panels = {id(s.panel): s.panel for s in series}
    if len(panels) == 1:
        (panel,) = panels.values()
        return panel, np.fromiter((s.row for s in series), np.int64, len(series))
    return _merged(series, list(panels.values())), np.arange(len(series), dtype=np.int64)


def _merged(series: list, panels: list[DailyPanel]) -> DailyPanel:
    """One panel holding the rows of several (rare: outlets put together from different histories)."""
    wide = [p for p in panels if p.width]
    start = min((p.start for p in wide), default=0)
    end = max((p.start + p.width for p in wide), default=0)
    scale = max(p.scale for p in panels)
    dtype = object if any(p.values.dtype == object for p in panels) else np.int64
    values = np.zeros((len(series), end - start), dtype=dtype)
    present = np.zeros((len(series), end - start), dtype=bool)
    for index, s in enumerate(series):
        p = s.panel
        if p.width:
            offset = p.start - start
            values[index, offset:offset + p.width] = p.values[s.row] * 10 ** (scale - p.scale)
            present[index, offset:offset + p.width] = p.present[s.row]
    return DailyPanel(start, values, present, scale)


class Groups:
    """Outlets grouped by key, in the given order of keys; outlets whose key is not listed are left out."""

    def __init__(self, of: np.ndarray, keys: Sequence[Hashable]) -> None:
        """`of`: each outlet's position in `keys`, -1 for none."""
        self.keys = list(keys)
        self.of = of
        member = np.flatnonzero(self.of >= 0)
        self.order = member[np.argsort(self.of[member], kind="stable")]
        self.sizes = np.bincount(self.of[member], minlength=len(self.keys))
        self.starts = np.concatenate(([0], np.cumsum(self.sizes)[:-1])).astype(np.int64)

    @classmethod
    def by(cls, outlet_keys: Sequence[Hashable], keys: Sequence[Hashable]) -> Groups:
        index = {key: position for position, key in enumerate(keys)}
        return cls(np.fromiter((index.get(key, -1) for key in outlet_keys), np.int64, len(outlet_keys)), keys)

    def __len__(self) -> int:
        return len(self.keys)

    def members(self, group: int) -> np.ndarray:
        start = self.starts[group]
        return self.order[start:start + self.sizes[group]]

    def sum(self, values: np.ndarray) -> np.ndarray:
        """Per group, the exact sum of the outlets' values (1-D: one per outlet; 2-D: one row per outlet)."""
        shape = (len(self.keys), *values.shape[1:])
        result = np.zeros(shape, dtype=values.dtype if values.dtype != bool else np.int64)
        filled = self.sizes > 0
        if filled.any():
            ordered = values[self.order]
            if ordered.dtype == bool:
                ordered = ordered.astype(np.int64)
            result[filled] = np.add.reduceat(ordered, self.starts[filled], axis=0)
        return result

    def count(self, mask: np.ndarray) -> np.ndarray:
        """Per group, how many of its outlets the mask selects."""
        selected = self.of[mask & (self.of >= 0)]
        return np.bincount(selected, minlength=len(self.keys))

    def daily_sums(self, panel: DailyPanel, rows: np.ndarray, mask: np.ndarray, window: Window
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Per group and day of the window: the sum of the selected outlets' values, and whether any
        of them has a value that day (groups × days; days outside the panel have none)."""
        sums = np.zeros((len(self.keys), window.days), dtype=panel.values.dtype)
        present = np.zeros((len(self.keys), window.days), dtype=bool)
        low, high = panel.columns(window)
        if high <= low:
            return sums, present
        offset = panel.start + low - window.start.toordinal()
        chosen = mask[self.order]
        group_of = self.of[self.order]
        step = max(1, CHUNK_CELLS // (high - low))
        for begin in range(0, len(self.order), step):
            picked = np.flatnonzero(chosen[begin:begin + step]) + begin
            if not len(picked):
                continue
            outlets = self.order[picked]
            block = panel.values[rows[outlets], low:high]
            seen = panel.present[rows[outlets], low:high].astype(np.int64)
            groups = group_of[picked]
            cut = np.flatnonzero(np.concatenate(([True], groups[1:] != groups[:-1])))
            target = groups[cut]
            sums[target, offset:offset + high - low] += np.add.reduceat(block, cut, axis=0)
            present[target, offset:offset + high - low] |= np.add.reduceat(seen, cut, axis=0) > 0
        return sums, present


def sums_by(groups: Groups, mask: np.ndarray, sub: np.ndarray, values: np.ndarray) -> list[dict[int, tuple[int, int]]]:
    """Per group: sub-key → (exact Σ values, number of outlets) over the outlets the mask selects."""
    result: list[dict[int, tuple[int, int]]] = [{} for _ in range(len(groups))]
    chosen = mask & (groups.of >= 0)
    if not chosen.any():
        return result
    width = int(sub[chosen].max()) + 1
    key = groups.of[chosen] * width + sub[chosen]
    order = np.argsort(key, kind="stable")
    key, ordered = key[order], values[chosen][order]
    cut = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    sums = np.add.reduceat(ordered, cut)
    counts = np.diff(np.append(cut, len(key)))
    for combined, total, count in zip(key[cut].tolist(), sums.tolist(), counts.tolist(), strict=True):
        result[combined // width][combined % width] = (total, count)
    return result
