"""Events produced by the alerts service."""

from __future__ import annotations

from datetime import date
from typing import Any

from shared.events.base import DecimalStr, Event, UtcDatetime, event

ALERTS_TOPIC = "quotaflow.alerts"


@event
class UpliftRequested(Event):
    TYPE = "alerts.uplift_requested"
    TOPIC = ALERTS_TOPIC
    KEY_FIELD = "city_code"
    DESCRIPTION = "A rule asks allocation to raise a city's target; uplift_id makes it idempotent."

    uplift_id: str
    rule_id: str
    rule_version: int
    city_code: str
    percent: DecimalStr
    start_day: date
    end_day: date
    reason: str
    requested_at: UtcDatetime


@event
class AlertFired(Event):
    TYPE = "alerts.alert_fired"
    TOPIC = ALERTS_TOPIC
    KEY_FIELD = "city_code"
    DESCRIPTION = "A rule fired for a city (sales cliff, heat wave, attainment lag, calendar)."

    alert_id: str
    rule_id: str
    kind: str
    city_code: str
    city_name: str
    region: str
    severity: str
    title: str
    evidence: dict[str, Any]
    fired_at: UtcDatetime
