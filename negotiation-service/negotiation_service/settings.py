"""The negotiation service's own knobs (prefix NEGOTIATION_)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from negotiation_service.domain.closing import OffsetPolicy


class NegotiationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="NEGOTIATION_", extra="ignore")

    window_hours: float = 72.0
    offset_policy: OffsetPolicy = OffsetPolicy.KEEP_TOTAL
    scheduler_poll_seconds: float = 0.5
    replica_id: str = ""
