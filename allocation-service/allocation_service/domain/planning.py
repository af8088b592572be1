"""Generating a target package: basis → tier → model → reconciliation → phasing → budget.

Pure: takes the sales history, the cities and a `PlanSpec`, returns every line with its basis shown.
Cities the model cannot give a target (negative base, nothing to go on, formula failure, a revenue
plan without revenue figures: `no_revenue_data`) are listed as flagged and are never published with a
computed number; the head-office total is spread over the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import numpy as np

from allocation_service.domain.basis import CityBasis, average_daily_rates, city_bases
from allocation_service.domain.budget import Budget, expense_budget
from allocation_service.domain.columns import Groups, OutletColumns, sums_by
from allocation_service.domain.growth import Growth, like_for_like_growths
from allocation_service.domain.heatmap import heat_windows
from allocation_service.domain.history import City, OutletHistory, SalesHistory
from allocation_service.domain.metrics import ORDERS, Metric
from allocation_service.domain.phasing import (
    DayClasses,
    day_type,
    last_year_weights,
    month_span,
    phase_classes,
    recent_weights,
)
from allocation_service.domain.reconciliation import DEFAULT_TIER_WEIGHTS, BottomUp, reconcile
from allocation_service.domain.target_models import (
    NO_REVENUE_DATA,
    CityInputs,
    ModelResult,
    TargetModel,
    TieredModel,
)
from allocation_service.domain.tiers import TierRule
from allocation_service.domain.windows import Window, last_days
from shared.money import round_half_up


@dataclass(frozen=True)
class PlanSpec:
    period: Window
    history_end: date
    metric: Metric = ORDERS
    model: TargetModel = field(default_factory=TieredModel)
    hq_total: Decimal | None = None
    hq_total_ratio: Decimal | None = None  # instead of hq_total: ratio × a reference figure
    hq_total_reference: str = "base"  # base: Σ (like-for-like + run-rate + peer); last_year_lfl: Σ like-for-like
    region_totals: Mapping[str, Decimal] = field(default_factory=dict)
    tier_rule: TierRule = TierRule()
    tier_weights: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_TIER_WEIGHTS))
    run_rate_days: int = 90
    expense_ratios: Mapping[str, Decimal] = field(default_factory=dict)
    default_expense_ratio: Decimal = Decimal(0)
    budget_total: Decimal | None = None

    def __post_init__(self) -> None:
        if self.history_end >= self.period.start:
            raise ValueError("the history must end before the target period starts")
        if self.hq_total is not None and self.hq_total_ratio is not None:
            raise ValueError("give a head-office total or a ratio, not both")
        if self.hq_total_reference not in ("base", "last_year_lfl"):
            raise ValueError(f"unknown head-office reference {self.hq_total_reference!r}")


@dataclass(frozen=True)
class PlannedLine:
    city: City
    tier: str
    tier_reason: str
    basis: CityBasis
    model: ModelResult
    half_year: Growth
    year_on_year: Growth
    weight: Decimal = Decimal(0)
    target: Decimal | None = None
    daily: Mapping[date, Decimal] = field(default_factory=dict)
    months: Mapping[str, Decimal] = field(default_factory=dict)
    expense_budget: Decimal | None = None

    @property
    def flag(self) -> str | None:
        return self.model.flag

    def basis_text(self, metric: Metric) -> str:
        return f"{self.basis.describe(metric)}; {self.model.basis}; tier {self.tier_reason}"


@dataclass(frozen=True)
class PlanResult:
    spec: PlanSpec
    lines: list[PlannedLine]
    total: Decimal
    bottom_up_total: Decimal
    last_year_lfl_total: Decimal
    budget: Budget | None
    base_total: Decimal = Decimal(0)
    hq_total: Decimal | None = None

    @property
    def planned(self) -> list[PlannedLine]:
        return [line for line in self.lines if line.target is not None]

    @property
    def flagged(self) -> list[PlannedLine]:
        return [line for line in self.lines if line.target is None]


def generate(history: SalesHistory, cities: Mapping[str, City], spec: PlanSpec) -> PlanResult:
    windows = heat_windows(Window(spec.history_end - timedelta(days=364), spec.history_end))
    recent = last_days(spec.history_end, spec.run_rate_days)
    columns = history.columns()
    codes = sorted(cities)
    by_city = Groups.by(columns.city, codes)
    peers = _peer_rates(columns, cities, recent, spec.metric)
    bases = city_bases(
        columns, by_city, spec.period, spec.history_end, history.data_start, spec.metric, spec.run_rate_days,
        [peers.get(cities[code].region, {}) for code in codes],
    )
    half_years = like_for_like_growths(
        columns, by_city, windows.half_year_previous, windows.half_year_current, spec.metric, history.data_start
    )
    yoys = like_for_like_growths(
        columns, by_city, windows.yoy_previous, windows.yoy_current, spec.metric, history.data_start
    )
    revenue_known = _has_revenue(columns, by_city) if spec.metric.name == "revenue" else None
    lines: list[PlannedLine] = []
    for group, code in enumerate(codes):
        basis, half_year, yoy = bases[group], half_years[group], yoys[group]
        tier = spec.tier_rule.tier_for(half_year.rate)
        inputs = CityInputs(cities[code], basis, tier, half_year, yoy)
        if revenue_known is not None and by_city.sizes[group] and not revenue_known[group]:
            model = ModelResult(None, "no revenue figures in the history (orders only): a revenue target needs "
                                      "revenue data or a manual target", NO_REVENUE_DATA)
        else:
            model = spec.model.compute(inputs)
        lines.append(PlannedLine(cities[code], tier, spec.tier_rule.explain(half_year), basis, model, half_year, yoy))
    planned = [line for line in lines if line.model.target is not None]
    last_year_lfl_total = sum((ln.basis.lfl_base for ln in lines), Decimal(0))
    base_total = sum((ln.basis.bottom_up for ln in lines), Decimal(0))
    hq_total = spec.hq_total
    if spec.hq_total_ratio is not None:
        reference = base_total if spec.hq_total_reference == "base" else last_year_lfl_total
        hq_total = round_half_up(reference * spec.hq_total_ratio, spec.metric.quantum)
    reconciled = reconcile(
        [BottomUp(ln.city.code, ln.city.region, ln.tier, ln.model.target) for ln in planned],
        hq_total,
        spec.metric.quantum,
        spec.tier_weights,
        spec.region_totals or None,
    )
    shapes = day_shapes(columns, by_city, spec, recent, [line.model.target is not None for line in lines])
    finished: list[PlannedLine] = []
    for group, line in enumerate(lines):
        if line.model.target is None:
            finished.append(line)
            continue
        result = reconciled[line.city.code]
        daily, months = phase_classes(result.target, *shapes[group], spec.metric.quantum)
        finished.append(
            PlannedLine(line.city, line.tier, line.tier_reason, line.basis, line.model, line.half_year,
                        line.year_on_year, result.weight, result.target, daily, months)
        )
    budget = None
    targets = {line.city.code: line.target for line in finished if line.target is not None}
    if spec.expense_ratios or spec.default_expense_ratio or spec.budget_total is not None:
        mixes = _channel_mixes(columns, by_city, recent, spec.metric)
        mix = {code: mixes[group] for group, code in enumerate(codes) if code in targets}
        budget = expense_budget(
            targets,
            {code: cities[code].region for code in targets},
            mix,
            spec.expense_ratios,
            spec.default_expense_ratio,
            spec.budget_total,
            spec.metric.quantum,
        )
        finished = [
            _with_budget(line, budget.by_city.get(line.city.code)) for line in finished
        ]
    return PlanResult(
        spec=spec,
        lines=finished,
        total=sum(targets.values(), Decimal(0)),
        bottom_up_total=sum((ln.model.target for ln in planned), Decimal(0)),
        last_year_lfl_total=last_year_lfl_total,
        budget=budget,
        base_total=base_total,
        hq_total=hq_total,
    )


def has_revenue(outlets: list[OutletHistory]) -> bool:
    """Whether any of the outlets has a revenue figure on any day of the history."""
    return any(len(outlet.revenue) for outlet in outlets)


def _has_revenue(columns: OutletColumns, groups: Groups) -> list[bool]:
    panel, rows = columns.series("revenue")
    return (groups.count(panel.present[rows].any(axis=1)) > 0).tolist()


def _peer_rates(
    columns: OutletColumns, cities: Mapping[str, City], recent: Window, metric: Metric
) -> dict[str, dict[str, Decimal]]:
    """region → channel → average daily per trading outlet (the national figure where a region has none)."""
    city_of, city_codes = columns.codes("city")
    channel_of, channel_names = columns.codes("channel")
    regions = sorted({city.region for city in cities.values()})
    region_index = {region: position for position, region in enumerate(regions)}
    region_of = np.array([region_index[cities[code].region] if code in cities else -1 for code in city_codes] or [-1],
                         dtype=np.int64)[city_of]
    known = region_of >= 0
    national_groups = Groups(np.where(known, channel_of, -1), channel_names)
    national = average_daily_rates(columns, national_groups, recent, metric)
    channels = [c for c, size in enumerate(national_groups.sizes.tolist()) if size]
    pairs = [(region, channel) for region in range(len(regions)) for channel in range(len(channel_names))]
    regional = average_daily_rates(
        columns, Groups(np.where(known, region_of * len(channel_names) + channel_of, -1), pairs), recent, metric
    )
    rates: dict[str, dict[str, Decimal]] = {}
    for region, name in enumerate(regions):
        for channel in channels:
            rate = regional[region * len(channel_names) + channel]
            rate = rate if rate is not None else national[channel]
            if rate is not None:
                rates.setdefault(name, {})[channel_names[channel]] = rate
    return rates


def _with_budget(line: PlannedLine, budget: Decimal | None) -> PlannedLine:
    return PlannedLine(line.city, line.tier, line.tier_reason, line.basis, line.model, line.half_year,
                       line.year_on_year, line.weight, line.target, line.daily, line.months, budget)


def day_shapes(columns: OutletColumns, groups: Groups, spec: PlanSpec, recent: Window, wanted: list[bool]
            ) -> list[tuple[DayClasses, list[Decimal]] | None]:
    """Per city: its day weights for the period (`daily_shape`: last year's daily shape of the outlets open
    for the whole of last year's months of the period, else the day types of the last days of all of them)."""
    panel, rows = columns.series(spec.metric.name)
    span = month_span(spec.period.shifted_years(-1))
    open_before = columns.first_day <= spec.period.shifted_years(-1).start.replace(day=1).toordinal()
    sums, present = groups.daily_sums(panel, rows, open_before, span)
    positive = (sums > 0).any(axis=1)
    needs_recent = np.append(np.array(wanted, dtype=bool) & ~positive, False)  # the last False: outlets of no group
    recent_sums, recent_present = groups.daily_sums(panel, rows, needs_recent[groups.of], recent)
    by_month = _stats_by(sums, present, [(day.year, day.month) for day in span.each_day()], panel)
    by_type = _stats_by(sums, present, [day_type(day) for day in span.each_day()], panel)
    recent_by_type = _stats_by(recent_sums, recent_present, [day_type(day) for day in recent.each_day()], panel)
    shapes: list[tuple[DayClasses, list[Decimal]] | None] = []
    for group, want in enumerate(wanted):
        if not want:
            shapes.append(None)
        elif positive[group]:
            shapes.append(last_year_weights(spec.period, by_month(group), by_type(group)))
        else:
            shapes.append(recent_weights(spec.period, recent_by_type(group)))
    return shapes


def _stats_by(sums: np.ndarray, present: np.ndarray, labels: list, panel):
    """A function group → {label: (exact sum, days with a value)} over the days with that label."""
    distinct = sorted(set(labels), key=labels.index)
    one_hot = np.array([[label == name for name in distinct] for label in labels], dtype=np.int64).reshape(
        len(labels), len(distinct))
    totals = (sums @ one_hot.astype(sums.dtype)).tolist()
    counts = (present.astype(np.int64) @ one_hot).tolist()

    def stats(group: int) -> dict:
        return {name: (panel.to_decimal(total), count)
                for name, total, count in zip(distinct, totals[group], counts[group], strict=True) if count}
    return stats


def _channel_mixes(columns: OutletColumns, groups: Groups, recent: Window, metric: Metric) -> list[dict[str, Decimal]]:
    panel, rows = columns.series(metric.name)
    channel_of, channel_names = columns.codes("channel")
    per_group = sums_by(groups, np.ones(len(columns), dtype=bool), channel_of, panel.window_totals(rows, recent))
    return [{channel_names[c]: panel.to_decimal(total) for c, (total, _) in sorted(mix.items())} for mix in per_group]
