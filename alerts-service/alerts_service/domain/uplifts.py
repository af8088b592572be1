"""Uplift arithmetic and the deterministic ids that make firing idempotent end to end.

`uplift_id` is derived from (rule id, rule version, city code, first day of the spell or window):
a redelivered event or a re-evaluated rule produces the same id, so allocation (and our own
unique keys) apply it once (casebook C18: 200,000 → 230,000, never 264,500).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from shared.money import YUAN, round_half_up, to_decimal

_NAMESPACE = uuid.UUID("5f0c3e1e-7a51-4d3c-9a43-2f1f7b0a1c06")


def uplift_id(rule_id: str, rule_version: int, city_code: str, first_day: date) -> str:
    return "upl-" + str(uuid.uuid5(_NAMESPACE, f"{rule_id}|{rule_version}|{city_code}|{first_day.isoformat()}"))


def alert_id(rule_id: str, rule_version: int, city_code: str, fire_key: str) -> str:
    return "alt-" + str(uuid.uuid5(_NAMESPACE, f"alert|{rule_id}|{rule_version}|{city_code}|{fire_key}"))


def uplift_factor(percent: Decimal | int | str) -> Decimal:
    """+15 → 1.15, exactly."""
    return (Decimal(100) + to_decimal(percent)) / Decimal(100)


def uplifted_amount(amount: Decimal | int | str, percent: Decimal | int | str, quantum: Decimal = YUAN) -> Decimal:
    """`amount` raised by `percent` %, rounded half up once at the end: 200,000 +15 % → 230,000."""
    return round_half_up(to_decimal(amount) * uplift_factor(percent), quantum)
