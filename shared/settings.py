"""Settings shared by every service (prefix QUOTAFLOW_); each service adds its own (<NAME>_)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "development-secret-change-me-0123456789"


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QUOTAFLOW_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    mode: Literal["embedded", "distributed"] = "embedded"
    data_dir: Path = Path(".run/data")
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_partitions: int = 3
    topic_prefix: str = ""
    jwt_secret: SecretStr = SecretStr(DEV_SECRET)
    jwt_issuer: str = "quotaflow"
    api_keys_file: Path | None = None
    log_level: str = "INFO"
    replay_clock_start: str | None = None  # ISO instant: start a replay clock (demos, e2e) instead of the real one

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> PlatformSettings:
        if self.environment == "production" and self.jwt_secret.get_secret_value() == DEV_SECRET:
            raise ValueError("QUOTAFLOW_JWT_SECRET must be set outside development")
        if self.environment == "production" and self.replay_clock_start:
            raise ValueError("a replay clock is for development and tests only")
        if len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("QUOTAFLOW_JWT_SECRET must be at least 32 characters")
        return self


def database_url(service: str, configured: str | None, platform: PlatformSettings) -> str:
    """The service's database: its configured URL, else (embedded mode) a SQLite file in data_dir."""
    if configured:
        return configured
    if platform.mode == "distributed":
        raise ValueError(f"{service.upper()}_DATABASE_URL is required in distributed mode")
    return f"sqlite:///{(platform.data_dir / f'{service}.db').resolve()}"
