"""Like-for-like growth: the same outlets in both periods, and a missing base is not zero.

An outlet is comparable when it traded in both periods and was open from the start of the earlier
one (so a part period is never compared with a whole one). Growth is `None` with a reason when it
cannot be computed (casebook C04): `no_history` (the earlier period reaches before the data),
`no_baseline` (no comparable outlet, or their earlier total is 0), `negative_baseline`.
It is never infinite and never raises.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from allocation_service.domain.columns import Groups, OutletColumns
from allocation_service.domain.history import OutletHistory
from allocation_service.domain.metrics import Metric
from allocation_service.domain.series import ZERO
from allocation_service.domain.windows import Window

NO_HISTORY = "no_history"
NO_BASELINE = "no_baseline"
NEGATIVE_BASELINE = "negative_baseline"


@dataclass(frozen=True)
class Growth:
    rate: Decimal | None
    reason: str | None
    previous: Window
    current: Window
    previous_total: Decimal
    current_total: Decimal
    outlets: int

    @property
    def percent(self) -> Decimal | None:
        return None if self.rate is None else (self.rate * 100).quantize(Decimal("0.01"))

    def as_dict(self) -> dict[str, object]:
        return {
            "rate": None if self.rate is None else format(self.rate, "f"),
            "percent": None if self.percent is None else format(self.percent, "f"),
            "reason": self.reason,
            "previous": str(self.previous),
            "current": str(self.current),
            "previous_total": format(self.previous_total, "f"),
            "current_total": format(self.current_total, "f"),
            "comparable_outlets": self.outlets,
        }


def growth_rate(previous_total: Decimal, current_total: Decimal) -> tuple[Decimal | None, str | None]:
    """(rate, reason): the rate is None with a reason when the base is zero or negative (C04)."""
    if previous_total == 0:
        return None, NO_BASELINE
    if previous_total < 0:
        return None, NEGATIVE_BASELINE
    return (current_total - previous_total) / previous_total, None


def comparable_mask(columns: OutletColumns, previous: Window, current: Window) -> np.ndarray:
    """Per outlet: open since the start of the earlier period (first day known) and trading in both."""
    panel, rows = columns.series("orders")
    return (
        (columns.first_day <= previous.start.toordinal())
        & (panel.trading_days(rows, previous) > 0)
        & (panel.trading_days(rows, current) > 0)
    )


def like_for_like_growths(
    columns: OutletColumns,
    groups: Groups,
    previous: Window,
    current: Window,
    metric: Metric,
    data_start,
) -> list[Growth]:
    """The like-for-like growth of every group of outlets."""
    if previous.start < data_start:
        return [Growth(None, NO_HISTORY, previous, current, ZERO, ZERO, 0)] * len(groups)
    comparable = comparable_mask(columns, previous, current)
    panel, rows = columns.series(metric.name)
    before = groups.sum(np.where(comparable, panel.window_totals(rows, previous), 0))
    now = groups.sum(np.where(comparable, panel.window_totals(rows, current), 0))
    growths = []
    for previous_sum, current_sum, outlets in zip(before.tolist(), now.tolist(), groups.count(comparable).tolist(),
                                                  strict=True):
        previous_total = panel.to_decimal(previous_sum) if outlets else ZERO
        current_total = panel.to_decimal(current_sum) if outlets else ZERO
        rate, reason = growth_rate(previous_total, current_total)
        growths.append(Growth(rate, reason, previous, current, previous_total, current_total, outlets))
    return growths


def like_for_like_growth(
    outlets: Iterable[OutletHistory],
    previous: Window,
    current: Window,
    metric: Metric,
    data_start,
) -> Growth:
    outlets = list(outlets)
    return like_for_like_growths(OutletColumns.of(outlets), Groups.by([None] * len(outlets), [None]), previous, current,
                                 metric, data_start)[0]
