"""Allocation knobs (prefix ALLOCATION_)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class AllocationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ALLOCATION_", extra="ignore")

    attainment_throttle_seconds: float = 60.0
    cjk_font: Path = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    history_years: int = 2
