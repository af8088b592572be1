"""What a rule produces when it fires for a city: an alert, and for uplift rules an uplift request.

`fire_key` identifies the occasion within (rule id, city): the spell's or window's first day, the
cliff's day, the attainment date. The application stores (rule id, city, fire key) under a unique
key, so a re-evaluated rule, a redelivered event or a new version of the rule never fires twice
for the same occasion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from alerts_service.domain.uplifts import alert_id


@dataclass(frozen=True)
class UpliftPlan:
    uplift_id: str
    percent: Decimal
    start_day: date
    end_day: date
    reason: str


@dataclass(frozen=True)
class Firing:
    rule_id: str
    rule_version: int
    kind: str
    city_code: str
    city_name: str
    region: str
    fire_key: str
    severity: str
    title: str
    evidence: dict[str, Any] = field(default_factory=dict)
    uplift: UpliftPlan | None = None

    @property
    def alert_id(self) -> str:
        return alert_id(self.rule_id, self.rule_version, self.city_code, self.fire_key)


def cooldown_allows(last_fired_at: datetime | None, now: datetime, cooldown: timedelta) -> bool:
    """Whether a rule may fire again for a city: no earlier firing, or the cooldown has passed."""
    return last_fired_at is None or now >= last_fired_at + cooldown
