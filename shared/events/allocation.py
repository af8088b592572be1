"""Events produced by the allocation service."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.events.base import DecimalStr, Event, UtcDatetime, event

TARGETS_TOPIC = "quotaflow.allocation.targets"
ATTAINMENT_TOPIC = "quotaflow.allocation.attainment"


class TargetLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    city_code: str
    city_name: str
    region: str
    tier: str = Field(description="high_potential | stable | declining | new")
    basis: str = Field(description="How the base was computed, human-readable")
    base: DecimalStr
    target: DecimalStr
    weight: DecimalStr = Field(description="Allocation weight used to spread gaps and offsets")
    expense_budget: DecimalStr


class Provenance(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(description="generated | negotiation | rule_uplift | manual")
    reference: str | None = Field(None, description="e.g. the uplift id or the negotiation window id")
    note: str | None = None


@event
class PackagePublished(Event):
    TYPE = "allocation.package_published"
    TOPIC = TARGETS_TOPIC
    KEY_FIELD = "package_id"
    DESCRIPTION = "A target package was published (version 1): its lines open negotiation."

    package_id: str
    version: int
    name: str
    period_start: date
    period_end: date
    metric: str = Field(description="revenue | orders | units")
    model: str
    total: DecimalStr
    lines: list[TargetLine]
    published_at: UtcDatetime


@event
class TargetsRevised(Event):
    TYPE = "allocation.targets_revised"
    TOPIC = TARGETS_TOPIC
    KEY_FIELD = "package_id"
    DESCRIPTION = "A new immutable version of a package (final version, uplift, manual change)."

    package_id: str
    version: int
    previous_version: int
    period_start: date
    period_end: date
    metric: str
    total: DecimalStr
    lines: list[TargetLine]
    provenance: Provenance
    revised_at: UtcDatetime


@event
class AttainmentUpdated(Event):
    TYPE = "allocation.attainment_updated"
    TOPIC = ATTAINMENT_TOPIC
    KEY_FIELD = "city_code"
    DESCRIPTION = "A city's attainment against its phased target changed (throttled)."

    package_id: str
    version: int
    city_code: str
    city_name: str
    region: str
    as_of: date
    target_to_date: DecimalStr
    actual_to_date: DecimalStr
    attainment_pct: DecimalStr | None
    period_target: DecimalStr
    projection: DecimalStr
    rank: int
    updated_at: UtcDatetime


class CityActual(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    city_code: str
    city_name: str
    region: str
    target: DecimalStr
    actual: DecimalStr


@event
class PeriodActualsFinalized(Event):
    TYPE = "allocation.period_actuals_finalized"
    TOPIC = TARGETS_TOPIC
    KEY_FIELD = "package_id"
    DESCRIPTION = "A package's period is over and its actuals are final (drives the integrity record)."

    package_id: str
    version: int
    period_start: date
    period_end: date
    metric: str
    cities: list[CityActual]
    finalized_at: UtcDatetime
