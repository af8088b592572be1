"""Request bodies (responses are documented JSON built from the stored plans and versions)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from allocation_service.application.requests import ScenarioCreate

__all__ = ["PackageTargetsUpdate", "ScenarioCreate", "ScenarioPublish"]


class ScenarioPublish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)


class PackageTargetsUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: dict[str, Decimal] = Field(min_length=1, description="city code → new target (a string number)")
    note: str | None = Field(None, max_length=1000)
