"""Run the alerts service alone: `uvicorn alerts_service.main:create_app --factory`."""

from __future__ import annotations

from fastapi import FastAPI

from alerts_service.bootstrap import SERVICE
from shared.hosting import Host


def create_app() -> FastAPI:
    return Host([SERVICE]).app()
