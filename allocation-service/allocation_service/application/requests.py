"""What a planner asks for when generating a scenario (validated by the API, stored with the scenario).

Every number is a finite Decimal (a JSON string such as "1250000" is best) with at most
`MAX_INTEGER_DIGITS` digits before the point; amounts and weights are never negative and "-0" is 0.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from allocation_service.domain.metrics import metric_named
from allocation_service.domain.tiers import TIERS

MAX_INTEGER_DIGITS = 15
MAX_FRACTION_DIGITS = 10
EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2099, 12, 31)
MAX_PERIOD_DAYS = 366


def bounded_decimal(value: Decimal) -> Decimal:
    """Finite, at most 15 integer and 10 fractional digits, -0 → 0."""
    if not value.is_finite():
        raise ValueError("must be a finite number")
    sign, digits, exponent = value.as_tuple()
    integer_digits = len(digits) + exponent if digits != (0,) else 0
    if integer_digits > MAX_INTEGER_DIGITS:
        raise ValueError(f"must have at most {MAX_INTEGER_DIGITS} digits before the decimal point")
    if -exponent > MAX_FRACTION_DIGITS and value != value.quantize(Decimal(1).scaleb(-MAX_FRACTION_DIGITS)):
        raise ValueError(f"must have at most {MAX_FRACTION_DIGITS} digits after the decimal point")
    if value == 0:
        return abs(value)  # "-0" and "-0.00" become 0 and 0.00
    return value


def _not_negative(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError("must not be negative")
    return value


Number = Annotated[Decimal, AfterValidator(bounded_decimal)]
"""Any bounded, finite number (growth thresholds may be negative)."""
Amount = Annotated[Decimal, AfterValidator(bounded_decimal), AfterValidator(_not_negative)]
"""A bounded, finite, non-negative number: totals, targets, budgets, weights, ratios."""

MODEL_PARAMS_DESCRIPTION = """Parameters of the target model; numbers as strings (JSON floats are refused).
- `tiered`: `multipliers` {tier → multiplier}, default {"high_potential": "1.3", "stable": "1.1",
  "declining": "1.0", "new": "1.0"}.
- `two_factor`: `a` (weight of YoY growth, default "1"), `b` (weight of regional GDP growth, default "0.5");
  target = like-for-like × (1 + a·YoY + b·GDP) + run rate.
- `multinational`: `multipliers` as tiered, `default` and `markets` {region → factors}, factors being
  {"fx_impact": "0.02", "delay_probability": "0.1", "delay_impact": "0.05"}.
- `formula`: `expression` (required), e.g. "ly * multiplier + run_rate", over the variables ly,
  run_rate, base, multiplier, hy_growth, yoy_growth, gdp_growth, days, comparable_outlets,
  new_outlets; operators + - * / (unary -, +), comparisons < <= > >= == !=, and, or, `x if c else y`,
  functions min(), max(), abs() (no **, %, //); `multipliers` as tiered.
Every number must be finite with at most 15 digits before the point."""


class ScenarioCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    period_start: date
    period_end: date
    history_end: date | None = Field(None, description="Last day of history used (default: the day before the period)")
    metric: Literal["orders", "units", "revenue"] = "orders"
    model: Literal["tiered", "two_factor", "multinational", "formula"] = "tiered"
    model_params: dict = Field(default_factory=dict, description=MODEL_PARAMS_DESCRIPTION)
    hq_total: Amount | None = Field(
        None, description="Head-office total the parts must sum to exactly: ≥ 0, a whole number of the metric"
    )
    hq_total_ratio: Amount | None = Field(
        None, gt=0, le=1000, description="Alternative to hq_total: ratio × the reference figure (e.g. 1.3 = +30 %)"
    )
    hq_total_reference: Literal["last_year_lfl", "base"] = Field(
        "base", description="last_year_lfl: Σ last-year like-for-like; base: Σ (like-for-like + run-rate + peer basis)"
    )
    region_totals: dict[str, Amount] = Field(default_factory=dict, description="region → its total (≥ 0, whole)")
    tier_high_at_least: Number = Field(Decimal("0.10"), ge=-1, le=100)
    tier_declining_at_most: Number = Field(Decimal("-0.05"), ge=-1, le=100)
    tier_weights: dict[str, Amount] = Field(
        default_factory=dict,
        description="tier → weight (≥ 0) spreading the gap to hq_total; tiers: high_potential, stable, declining, new",
    )
    run_rate_days: int = Field(90, ge=7, le=366)
    expense_ratios: dict[str, Amount] = Field(default_factory=dict, description="channel → yuan per unit of metric (≥ 0)")
    default_expense_ratio: Amount = Decimal(0)
    budget_total: Amount | None = Field(None, description="Head-office expense budget in yuan (≥ 0, whole)")

    @model_validator(mode="after")
    def _check(self) -> ScenarioCreate:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        if self.hq_total is not None and self.hq_total_ratio is not None:
            raise ValueError("give hq_total or hq_total_ratio, not both")
        if self.history_end is not None and self.history_end >= self.period_start:
            raise ValueError("history_end must be before period_start")
        for day in (self.period_start, self.period_end, self.history_end):
            if day is not None and not EARLIEST_DAY <= day <= LATEST_DAY:
                raise ValueError(f"days must lie between {EARLIEST_DAY} and {LATEST_DAY}")
        if (self.period_end - self.period_start).days + 1 > MAX_PERIOD_DAYS:
            raise ValueError(f"a target period is at most {MAX_PERIOD_DAYS} days")
        unknown = sorted(set(self.tier_weights) - set(TIERS))
        if unknown:
            raise ValueError(f"tier_weights for unknown tiers {unknown}; tiers: {list(TIERS)}")
        quantum = metric_named(self.metric).quantum
        for what, value in (("hq_total", self.hq_total), *((f"region_totals[{k}]", v) for k, v in
                                                           self.region_totals.items())):
            if value is not None and value % quantum:
                raise ValueError(f"{what} {value} is not a multiple of the {self.metric} quantum {quantum}")
        if self.budget_total is not None and self.budget_total % 1:
            raise ValueError(f"budget_total {self.budget_total} is not whole yuan")
        return self

    @property
    def effective_history_end(self) -> date:
        return self.history_end or self.period_start - timedelta(days=1)
