"""Generating a target package: basis → tier → model → reconciliation → phasing → budget.

Pure: takes the sales history, the cities and a `PlanSpec`, returns every line with its basis shown.
Cities the model cannot give a target (negative base, nothing to go on, formula failure, a revenue
plan without revenue figures: `no_revenue_data`) are listed as flagged and are never published with a
computed number; the head-office total is spread over the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from allocation_service.domain.basis import CityBasis, average_daily_per_outlet, city_basis
from allocation_service.domain.budget import Budget, expense_budget
from allocation_service.domain.growth import Growth, like_for_like_growth
from allocation_service.domain.heatmap import heat_windows
from allocation_service.domain.history import City, OutletHistory, SalesHistory
from allocation_service.domain.metrics import ORDERS, Metric
from allocation_service.domain.phasing import daily_shape, month_span, month_totals, phase_days
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
    by_city = history.by_city()
    peers = _peer_rates(history, cities, recent, spec.metric)
    lines: list[PlannedLine] = []
    for code in sorted(cities):
        outlets = by_city.get(code, [])
        basis = city_basis(
            code, outlets, spec.period, spec.history_end, history.data_start, spec.metric, spec.run_rate_days,
            peers.get(cities[code].region, {}),
        )
        half_year = like_for_like_growth(
            outlets, windows.half_year_previous, windows.half_year_current, spec.metric, history.data_start
        )
        yoy = like_for_like_growth(outlets, windows.yoy_previous, windows.yoy_current, spec.metric, history.data_start)
        tier = spec.tier_rule.tier_for(half_year.rate)
        inputs = CityInputs(cities[code], basis, tier, half_year, yoy)
        if spec.metric.name == "revenue" and outlets and not has_revenue(outlets):
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
    finished: list[PlannedLine] = []
    for line in lines:
        if line.model.target is None:
            finished.append(line)
            continue
        result = reconciled[line.city.code]
        outlets = by_city.get(line.city.code, [])
        shape = daily_shape(
            spec.period,
            _daily_sum(_shape_outlets(outlets, spec.period), month_span(spec.period.shifted_years(-1)), spec.metric),
            _daily_sum(outlets, recent, spec.metric),
        )
        daily = phase_days(result.target, shape, spec.metric.quantum)
        finished.append(
            PlannedLine(line.city, line.tier, line.tier_reason, line.basis, line.model, line.half_year,
                        line.year_on_year, result.weight, result.target, daily, month_totals(daily))
        )
    budget = None
    targets = {line.city.code: line.target for line in finished if line.target is not None}
    if spec.expense_ratios or spec.default_expense_ratio or spec.budget_total is not None:
        mix = {code: _channel_mix(by_city.get(code, []), recent, spec.metric) for code in targets}
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


def _peer_rates(
    history: SalesHistory, cities: Mapping[str, City], recent: Window, metric: Metric
) -> dict[str, dict[str, Decimal]]:
    """region → channel → average daily per trading outlet (the national figure where a region has none)."""
    by_region_channel: dict[tuple[str, str], list[OutletHistory]] = defaultdict(list)
    by_channel: dict[str, list[OutletHistory]] = defaultdict(list)
    for outlet in history.outlets.values():
        city = cities.get(outlet.city_code)
        if city is None:
            continue
        by_region_channel[(city.region, outlet.channel)].append(outlet)
        by_channel[outlet.channel].append(outlet)
    national = {channel: average_daily_per_outlet(outlets, recent, metric) for channel, outlets in by_channel.items()}
    rates: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for region in {city.region for city in cities.values()}:
        for channel in by_channel:
            rate = average_daily_per_outlet(by_region_channel.get((region, channel), []), recent, metric)
            rate = rate if rate is not None else national[channel]
            if rate is not None:
                rates[region][channel] = rate
    return rates


def _with_budget(line: PlannedLine, budget: Decimal | None) -> PlannedLine:
    return PlannedLine(line.city, line.tier, line.tier_reason, line.basis, line.model, line.half_year,
                       line.year_on_year, line.weight, line.target, line.daily, line.months, budget)


def _shape_outlets(outlets: list[OutletHistory], period: Window) -> list[OutletHistory]:
    """Outlets open for the whole of last year's months of the period (like for like)."""
    start = period.shifted_years(-1).start.replace(day=1)
    return [o for o in outlets if o.first_day is not None and o.first_day <= start]


def _daily_sum(outlets: list[OutletHistory], window: Window, metric: Metric) -> dict[date, Decimal]:
    totals: dict[date, Decimal] = defaultdict(Decimal)
    for outlet in outlets:
        for day, value in outlet.series(metric).items(window):
            totals[day] += value
    return dict(totals)


def _channel_mix(outlets: list[OutletHistory], recent: Window, metric: Metric) -> dict[str, Decimal]:
    mix: dict[str, Decimal] = defaultdict(Decimal)
    for outlet in outlets:
        mix[outlet.channel] += outlet.series(metric).total(recent)
    return dict(mix)
