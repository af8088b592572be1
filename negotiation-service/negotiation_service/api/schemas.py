"""Request bodies. Money travels as strings (numbers are accepted and read exactly)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from negotiation_service.domain.requests import MAX_CLAIM_DIGITS, ReasonCategory, Slot

MAX_VERSION = 2**31 - 1  # versions are INTEGER columns; anything larger cannot name a stored version
# A claim is a target: finite, not negative, at most MAX_CLAIM_DIGITS whole digits and 4 decimals
# (the domain then requires it above zero and a multiple of the metric's unit).
Claimed = Annotated[Decimal, Field(ge=0, max_digits=MAX_CLAIM_DIGITS + 4, decimal_places=4, allow_inf_nan=False,
                                   description="The requested target for the city (the claim), e.g. \"700000\"")]


class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    city_code: str = Field(min_length=1, max_length=20)
    claim: Claimed
    category: ReasonCategory
    reason: str = Field(min_length=1, max_length=2000, description="Free text, Chinese welcome")
    evidence: list[str] = Field(default_factory=list, max_length=20)


class RequestUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    claim: Claimed | None = None
    category: ReasonCategory | None = None
    reason: str | None = Field(None, max_length=2000)
    evidence: list[str] | None = Field(None, max_length=20)
    version: int | None = Field(None, ge=1, le=MAX_VERSION,
                                description="The version you amend (optimistic concurrency)")


class DecisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field("", max_length=2000)
    slot: Slot | None = Field(None, description="director | finance; needed only if you hold both roles")
    version: int | None = Field(None, ge=1, le=MAX_VERSION,
                                description="The version you decide on (optimistic concurrency)")


class LiftCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)
