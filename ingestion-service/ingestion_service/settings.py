"""Ingestion's own knobs (prefix INGESTION_)."""

from __future__ import annotations

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INGESTION_", extra="ignore")

    region_map: Path | None = None  # YAML or CSV province → region; default: the packaged 7-region map
    pull_sources: Path | None = None  # YAML list of HTTP sources to pull on a schedule
    pull_poll_seconds: float = 30.0
    max_upload_bytes: int = 200 * 1024 * 1024
