"""What a planner asks for when generating a scenario (validated by the API, stored with the scenario)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ScenarioCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    period_start: date
    period_end: date
    history_end: date | None = Field(None, description="Last day of history used (default: the day before the period)")
    metric: Literal["orders", "units", "revenue"] = "orders"
    model: Literal["tiered", "two_factor", "multinational", "formula"] = "tiered"
    model_params: dict = Field(default_factory=dict, description="Numbers as strings, e.g. {'a': '1', 'b': '0.5'}")
    hq_total: Decimal | None = Field(None, ge=0, description="Head-office total the parts must sum to exactly")
    hq_total_ratio: Decimal | None = Field(
        None, gt=0, description="Alternative to hq_total: ratio × the reference figure (e.g. 1.3 = +30 %)"
    )
    hq_total_reference: Literal["last_year_lfl", "base"] = Field(
        "base", description="last_year_lfl: Σ last-year like-for-like; base: Σ (like-for-like + run-rate + peer basis)"
    )
    region_totals: dict[str, Decimal] = Field(default_factory=dict)
    tier_high_at_least: Decimal = Decimal("0.10")
    tier_declining_at_most: Decimal = Decimal("-0.05")
    tier_weights: dict[str, Decimal] = Field(default_factory=dict)
    run_rate_days: int = Field(90, ge=7, le=366)
    expense_ratios: dict[str, Decimal] = Field(default_factory=dict, description="channel → yuan per unit of metric")
    default_expense_ratio: Decimal = Decimal(0)
    budget_total: Decimal | None = None

    @model_validator(mode="after")
    def _check(self) -> ScenarioCreate:
        if self.period_end < self.period_start:
            raise ValueError("period_end is before period_start")
        if self.hq_total is not None and self.hq_total_ratio is not None:
            raise ValueError("give hq_total or hq_total_ratio, not both")
        if self.history_end is not None and self.history_end >= self.period_start:
            raise ValueError("history_end must be before period_start")
        return self

    @property
    def effective_history_end(self) -> date:
        return self.history_end or self.period_start - timedelta(days=1)
