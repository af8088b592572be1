"""The demo's scenario, read from a YAML file (default: `services/demo/scenario.yaml`).

It says when the replay clock starts, which history and which days are replayed, what head office
asks of allocation, which packages are generated, who takes part (roles and scope, cities by the
names in the data) and what they do during the negotiation window.
"""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

DEFAULT_SCENARIO = Path(__file__).with_name("scenario.yaml")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Clock(Strict):
    start: AwareDatetime = Field(description="the replay clock's first instant; packages are published then")
    daily_at: time = Field(description="local (Asia/Shanghai) time at which each replayed day is fed in")


class History(Strict):
    first_day: date = Field(description="first day of the heat map's 12 months")
    last_day: date = Field(description="last day of history: sales and weather up to it are ingested")


class Replay(Strict):
    first_day: date
    last_day: date
    forecast_lead_days: int = Field(7, ge=1, le=15)


class Package(Strict):
    key: str
    name: str
    period_start: date
    period_end: date


class Person(Strict):
    name: str | None = None
    roles: list[str]
    regions: list[str] = Field(default_factory=list)
    cities: list[str] = Field(default_factory=list, description="city names as in the data (e.g. 杭州)")


class FileRequest(Strict):
    id: str = Field(description="a name for the request, used by the decisions below")
    by: str
    package: str
    city: str
    change_pct: Decimal = Field(description="the claim as a change of the city's current target, in %")
    category: Literal["new_store", "major_event", "policy_change", "competitor", "weather", "other"]
    reason: str
    evidence: list[str] = Field(default_factory=list)


class Decide(Strict):
    by: str
    request: str
    verdict: Literal["approve", "reject"]
    comment: str = ""


class Step(Strict):
    at: AwareDatetime
    file: FileRequest | None = None
    decide: Decide | None = None

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        if (self.file is None) == (self.decide is None):
            raise ValueError("each negotiation step either files a request or decides one")
        return self


class Scenario(Strict):
    clock: Clock
    history: History
    replay: Replay
    alert_rules: Path = Field(description="rules YAML imported through the alerts API (relative to the repository)")
    allocation: dict[str, Any] = Field(description="the options sent with every POST /allocation/scenarios")
    packages: list[Package]
    quarter: str = Field(description="the package the per-city summary is about")
    planner: str
    finance: str
    people: dict[str, Person]
    negotiation: list[Step]

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        keys = {package.key for package in self.packages}
        if self.quarter not in keys:
            raise ValueError(f"quarter {self.quarter!r} is not one of the packages")
        for who in (self.planner, self.finance):
            if who not in self.people:
                raise ValueError(f"{who!r} is not among the people")
        filed: set[str] = set()
        for step in self.negotiation:
            actor = step.file.by if step.file else step.decide.by
            if actor not in self.people:
                raise ValueError(f"{actor!r} is not among the people")
            if step.file:
                if step.file.package not in keys:
                    raise ValueError(f"request {step.file.id}: unknown package {step.file.package!r}")
                filed.add(step.file.id)
            elif step.decide.request not in filed:
                raise ValueError(f"decision on {step.decide.request!r} before it is filed")
        if self.history.last_day >= self.replay.first_day:
            raise ValueError("the replay starts after the history ends")
        return self


def load_scenario(path: Path | None = None) -> Scenario:
    path = path or DEFAULT_SCENARIO
    return Scenario.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
