"""Request bodies. Money travels as strings (numbers are accepted and read exactly)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from negotiation_service.domain.requests import ReasonCategory, Slot


class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    city_code: str = Field(min_length=1, max_length=20)
    claim: Decimal = Field(description="The requested target for the city (the claim)")
    category: ReasonCategory
    reason: str = Field(min_length=1, max_length=2000, description="Free text, Chinese welcome")
    evidence: list[str] = Field(default_factory=list, max_length=20)


class RequestUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    claim: Decimal | None = None
    category: ReasonCategory | None = None
    reason: str | None = Field(None, max_length=2000)
    evidence: list[str] | None = Field(None, max_length=20)
    version: int | None = Field(None, description="The version you amend (optimistic concurrency)")


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field("", max_length=2000)
    slot: Slot | None = Field(None, description="director | finance; needed only if you hold both roles")
    version: int | None = Field(None, description="The version you decide on (optimistic concurrency)")


class LiftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)
