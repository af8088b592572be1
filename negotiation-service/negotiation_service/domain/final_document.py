"""What the archived final PDF says: package, period, per region and city the base, tier, the
adjustments with their reasons, final target and expense budget, and the approvals with times."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from negotiation_service.domain.closing import FinalCityLine, FinalVersion, LineChange, OffsetPolicy
from negotiation_service.domain.package import PackageSnapshot
from negotiation_service.domain.requests import AdjustmentRequest, RequestStatus, Slot, Verdict
from negotiation_service.domain.window import Window
from shared.timeutil import to_shanghai

TIER_LABELS = {"high_potential": "高潜力", "stable": "稳定", "declining": "下滑", "new": "新城市"}
CATEGORY_LABELS = {
    "new_store": "新开门店", "major_event": "重大活动", "policy_change": "政策变化",
    "competitor": "竞争对手", "weather": "天气", "other": "其他",
}
STATUS_LABELS = {
    RequestStatus.APPROVED: "已批准", RequestStatus.REJECTED: "已驳回", RequestStatus.EXPIRED: "已过期",
    RequestStatus.PENDING: "待审批", RequestStatus.PENDING_FINANCE: "待财务审批",
    RequestStatus.PENDING_DIRECTOR: "待区域总监审批",
}
SLOT_LABELS = {Slot.DIRECTOR: "区域总监", Slot.FINANCE: "财务"}
VERDICT_LABELS = {Verdict.APPROVE: "批准", Verdict.REJECT: "驳回"}
CHANGE_LABELS = {LineChange.UNCHANGED: "", LineChange.REQUESTED: "申请调整", LineChange.OFFSET: "区域内抵销"}
POLICY_LABELS = {OffsetPolicy.KEEP_TOTAL: "保持总部总目标不变（区域内按权重抵销）",
                 OffsetPolicy.MOVE_TOTAL: "总目标随调整变动"}
# The unit every figure of a metric is shown in (allocation plans every metric in whole units:
# yuan of revenue, orders, units); expense budgets are money, shown to the fen when there are fen.
METRIC_QUANTUM = {"revenue": Decimal(1), "orders": Decimal(1), "units": Decimal(1)}
DEFAULT_QUANTUM = Decimal(1)
FEN = Decimal("0.01")


@dataclass(frozen=True)
class FinalDocument:
    package: PackageSnapshot
    window: Window
    final: FinalVersion
    requests: tuple[AdjustmentRequest, ...]
    generated_at: datetime
    final_version: int | None = None  # the package version the final lines become (allocation numbers it)

    @classmethod
    def build(cls, package: PackageSnapshot, window: Window, final: FinalVersion,
              requests: Sequence[AdjustmentRequest], generated_at: datetime,
              final_version: int | None = None) -> FinalDocument:
        ordered = tuple(sorted(requests, key=lambda r: (r.region, r.city_code, r.filed_at, r.request_id)))
        return cls(package, window, final, ordered, generated_at, final_version)

    @property
    def base_version(self) -> int:
        """The version negotiated over (the window's package)."""
        return self.package.version

    @property
    def quantum(self) -> Decimal:
        return METRIC_QUANTUM.get(self.package.metric, DEFAULT_QUANTUM)

    def amount(self, value: Decimal) -> str:
        """A figure of the package's metric (base, targets, claims), in the metric's unit."""
        return amount(value, self.quantum)

    def change(self, value: Decimal) -> str:
        return signed(value, self.quantum)

    def regions(self) -> list[str]:
        return sorted({line.region for line in self.final.lines})

    def lines_in(self, region: str) -> list[FinalCityLine]:
        return sorted((line for line in self.final.lines if line.region == region), key=lambda l: l.city_code)

    def region_total(self, region: str, attribute: str) -> Decimal:
        return sum((getattr(line, attribute) for line in self.lines_in(region)), Decimal(0))

    def requests_in(self, region: str) -> list[AdjustmentRequest]:
        return [request for request in self.requests if request.region == region]


def amount(value: Decimal, quantum: Decimal = DEFAULT_QUANTUM) -> str:
    """Rounded half-up to the quantum, with thousands separators: 632003.4999… → '632,003'."""
    rounded = value.quantize(quantum, rounding=ROUND_HALF_UP)
    if rounded == 0:
        rounded = abs(rounded)  # never "-0"
    return f"{rounded:,f}"


def money(value: Decimal) -> str:
    """Yuan with thousands separators, to the fen only when there are fen: 10000 → '10,000',
    1234.5 → '1,234.50'."""
    rounded = value.quantize(FEN, rounding=ROUND_HALF_UP)
    return amount(rounded, DEFAULT_QUANTUM if rounded == rounded.to_integral_value() else FEN)


def signed(value: Decimal, quantum: Decimal = DEFAULT_QUANTUM) -> str:
    text = amount(value, quantum)
    if text.strip("0.,") == "":
        return "0"
    return text if text.startswith("-") else "+" + text


def shanghai_text(value: datetime | None) -> str:
    return "" if value is None else to_shanghai(value).strftime("%Y-%m-%d %H:%M:%S")
