"""Who may read which sales totals.

HQ planners, finance and admins see every city and the national total (unless their token narrows
them to regions or cities). A regional director sees the cities of their regions and, instead of the
national total, the total of their regions. A city manager sees only their own cities. Anyone else,
or a token without the scope its role needs, sees nothing.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

NATIONWIDE_ROLES = frozenset({"hq_planner", "finance", "admin"})
REGION_DIRECTOR = "region_director"
CITY_MANAGER = "city_manager"


@dataclass(frozen=True)
class SalesScope:
    allowed: bool
    regions: frozenset[str] | None = None  # the total is limited to these regions (None: not limited)
    reason: str = ""


def sales_scope(roles: Set[str], regions: Set[str], cities: Set[str], city_code: str | None,
                city_region: str | None) -> SalesScope:
    """`city_region` is the region of `city_code` as ingestion knows it (None when unknown)."""
    if city_code:
        return _city(roles, regions, cities, city_code, city_region)
    if roles & NATIONWIDE_ROLES and not regions and not cities:
        return SalesScope(True)
    if (roles & NATIONWIDE_ROLES or REGION_DIRECTOR in roles) and regions:
        return SalesScope(True, frozenset(regions))
    return SalesScope(False, reason="the national total is for HQ planners, finance, admins and regional "
                                    "directors (their regions); ask for one of your cities with city_code")


def _city(roles: Set[str], regions: Set[str], cities: Set[str], city_code: str, city_region: str | None) -> SalesScope:
    if roles & NATIONWIDE_ROLES and not regions and not cities:
        return SalesScope(True)
    if city_code in cities and (roles & NATIONWIDE_ROLES or CITY_MANAGER in roles):
        return SalesScope(True)
    if (roles & NATIONWIDE_ROLES or REGION_DIRECTOR in roles) and city_region is not None and city_region in regions:
        return SalesScope(True)
    return SalesScope(False, reason=f"city {city_code} is outside your scope")
