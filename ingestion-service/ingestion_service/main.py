"""Run the ingestion service alone: `uvicorn --factory ingestion_service.main:create_app`."""

from __future__ import annotations

from fastapi import FastAPI

from ingestion_service.bootstrap import SERVICE
from shared.hosting import Host


def create_app() -> FastAPI:
    return Host([SERVICE]).app()
