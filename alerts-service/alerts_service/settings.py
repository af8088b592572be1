"""Alerts settings (prefix ALERTS_)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AlertsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALERTS_", extra="ignore")

    # WeCom group robots per region: {"华南": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
    # "*": "<fallback robot>"}. No robot for a region (and no "*") → the message is logged as failed.
    wecom_robots: dict[str, str] = Field(default_factory=dict)
    # Generic outgoing webhooks receiving the AlertFired JSON: {"ops": "https://…"}.
    webhooks: dict[str, str] = Field(default_factory=dict)
    # At start-up, when the rules table is empty: load the shipped rules
    # (alerts_service/rules/default_rules.yaml) and/or these YAML files (JSON list in the env).
    seed_default_rules: bool = False
    seed_rules_files: list[str] = Field(default_factory=list)
    # Cliffs are judged only on days at most this old (by the clock): a history load stores
    # actuals without alerting on years of old days.
    cliff_max_age_days: int = 3
    # How far back weather is read when looking for spells.
    weather_lookback_days: int = 40
    # Delivery: WeCom limit, retries with backoff, the HTTP timeout and the worker's poll.
    wecom_limit_per_minute: int = 20
    delivery_max_attempts: int = 5
    delivery_base_delay_seconds: float = 2.0
    delivery_max_delay_seconds: float = 120.0
    delivery_timeout_seconds: float = 5.0
    delivery_poll_seconds: float = 0.2
    merge_overflow_into_digest: bool = True
    # Calendar windows are evaluated when the clock's Shanghai date changes (checked this often).
    calendar_poll_seconds: float = 1.0
