"""Request and response bodies of the alerts API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_VERSION = 2**31 - 1  # versions are INTEGER columns: anything larger cannot name a stored version


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(examples=["south-heat-wave"])
    name: str | None = None
    kind: str = Field(description="weather_spell | calendar_window | sales_cliff | attainment_lag")
    description: str | None = None
    enabled: bool = True
    scope: dict[str, Any] = Field(examples=[{"groups": ["south"]}])
    params: dict[str, Any] = Field(default_factory=dict, examples=[{"threshold_c": "35", "min_days": 3}])
    action: dict[str, Any] | str | None = Field(None, examples=[{"type": "uplift", "percent": "15"}])
    cooldown: str | int | None = Field(None, examples=["7d"])


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expected_version: int = Field(ge=1, le=MAX_VERSION, description="The version being edited (optimistic concurrency)")
    name: str | None = None
    kind: str
    description: str | None = None
    enabled: bool = True
    scope: dict[str, Any]
    params: dict[str, Any] = Field(default_factory=dict)
    action: dict[str, Any] | str | None = None
    cooldown: str | int | None = None


class RuleVersionRead(BaseModel):
    version: int
    created_at: datetime
    created_by: str


class RuleRead(BaseModel):
    id: str
    version: int
    name: str
    kind: str
    description: str
    enabled: bool
    scope: dict[str, Any]
    params: dict[str, Any]
    action: dict[str, Any]
    cooldown: str
    versions: list[RuleVersionRead] | None = None
    warnings: list[str] = Field(default_factory=list, description="on create and revise: cities and regions in "
                                "the scope that alerts does not know (yet); the rule is saved all the same")


class RuleImportResult(BaseModel):
    created: list[str]
    revised: list[str]
    unchanged: list[str]
    groups: list[str]
    warnings: list[str] = Field(default_factory=list, description="cities and regions alerts does not know (yet)")


class GroupWrite(BaseModel):
    regions: list[str] = Field(min_length=1, examples=[["华南", "华中", "西南"]])


class GroupWritten(BaseModel):
    name: str
    regions: list[str]
    groups: dict[str, list[str]] = Field(description="every group after the change")
    warnings: list[str] = Field(default_factory=list, description="regions alerts does not know (yet)")


class AlertRead(BaseModel):
    alert_id: str
    rule_id: str
    rule_version: int
    kind: str
    city_code: str
    city_name: str
    region: str
    fire_key: str
    severity: str
    title: str
    evidence: dict[str, Any]
    span_start: date | None
    span_end: date | None
    uplift_id: str | None
    uplift_percent: str | None
    fired_at: datetime
    fired_at_local: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledgement_note: str | None
    version: int


class Acknowledge(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000)
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION)


class DeliveryAttemptRead(BaseModel):
    attempt: int
    at: datetime
    outcome: str
    http_status: int | None
    errcode: int | None
    errmsg: str | None


class DeliveryRead(BaseModel):
    id: int
    alert_id: str | None
    channel: str
    target: str
    part: int
    parts: int
    content: str
    status: str
    attempts: int
    digest_id: int | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    attempt_log: list[DeliveryAttemptRead]


class CityActualRead(BaseModel):
    day: date
    orders: str
