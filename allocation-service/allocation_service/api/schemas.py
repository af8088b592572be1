"""Request bodies (responses are documented JSON built from the stored plans and versions)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from allocation_service.application.requests import Amount, ScenarioCreate

__all__ = ["PackageTargetsUpdate", "SalesTotalRead", "ScenarioCreate", "ScenarioPublish"]


class ScenarioPublish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    supersede: bool = Field(
        False,
        description="Replace the package already published for the same period and metric: it is marked "
        "superseded (no more uplifts, attainment or edits). Without it such a publish is refused with 409 "
        "`package_exists_for_period`.",
    )


class PackageTargetsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: dict[str, Amount] = Field(
        min_length=1, max_length=5000,
        description="city code → new target (a string number: ≥ 0, at most 15 digits, a multiple of the metric's "
        "quantum)",
    )
    note: str | None = Field(None, max_length=1000)
    allow_total_change: bool = Field(
        False,
        description="false (default): the package total is kept; the other cities of each edited city's region "
        "absorb the change by their allocation weights (409 `total_mismatch` when they cannot). true: only the "
        "named cities change and the total moves with them.",
    )


class SalesTotalRead(BaseModel):
    """The daily sales facts the service holds over a span of days (latest revisions)."""

    city_code: str | None = Field(None, description="the city asked for, or null for all cities")
    start: str = Field(description="first day (ISO date)")
    end: str = Field(description="last day (ISO date)")
    orders: int = Field(description="Σ orders of the facts")
    facts: int = Field(description="number of (outlet, day) facts")
