"""Which services exist, and how to load their definitions (the only place that imports them all)."""

from __future__ import annotations

import importlib

from shared.service import ServiceDefinition

ALL_SERVICES = ("ingestion", "allocation", "negotiation", "alerts")
DEFAULT_PORTS = {"ingestion": 8101, "allocation": 8102, "negotiation": 8103, "alerts": 8104}


def parse_targets(target: str) -> list[str]:
    names = list(ALL_SERVICES) if target.strip() == "all" else [n.strip() for n in target.split(",") if n.strip()]
    unknown = [name for name in names if name not in ALL_SERVICES]
    if unknown:
        raise SystemExit(f"unknown service(s): {', '.join(unknown)}; choose from {', '.join(ALL_SERVICES)} or all")
    return names


def load(name: str) -> ServiceDefinition:
    module = importlib.import_module(f"{name}_service.bootstrap")
    return module.SERVICE


def load_all(names: list[str]) -> list[ServiceDefinition]:
    return [load(name) for name in names]
