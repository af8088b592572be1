"""Configuration files shipped with the service (province → region map, historical city names)."""

from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

import yaml

from ingestion_service.domain.cities import RegionMap

DEFAULT_REGION_MAP = "province_regions.yaml"
CITY_ALIASES = "city_aliases.yaml"


def _packaged_text(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def load_region_map(path: str | Path | None = None) -> RegionMap:
    """The default seven-region map, or an override: YAML (`regions: {region: [province, ...]}`) or
    CSV with a `province` column and a `region` (or `region_7`) column."""
    if path is None:
        return _region_map_from_yaml(_packaged_text(DEFAULT_REGION_MAP))
    text = Path(path).read_text(encoding="utf-8-sig")
    if str(path).lower().endswith(".csv"):
        rows = list(csv.DictReader(io.StringIO(text)))
        region_column = "region" if rows and "region" in rows[0] else "region_7"
        return RegionMap({row["province"].strip(): row[region_column].strip() for row in rows})
    return _region_map_from_yaml(text)


def _region_map_from_yaml(text: str) -> RegionMap:
    document = yaml.safe_load(text) or {}
    regions = document.get("regions")
    if not isinstance(regions, dict):
        raise ValueError("a region map YAML needs a top-level `regions:` mapping of region → provinces")
    return RegionMap({province: region for region, provinces in regions.items() for province in provinces})


def load_historical_names() -> dict[str, str]:
    document = yaml.safe_load(_packaged_text(CITY_ALIASES)) or {}
    return {str(old): str(new) for old, new in (document.get("historical_names") or {}).items()}
