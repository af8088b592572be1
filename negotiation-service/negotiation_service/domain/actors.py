"""Who is acting: a user id, roles and a scope (regions, cities), as given by authentication."""

from __future__ import annotations

from dataclasses import dataclass, field

HQ_PLANNER = "hq_planner"
REGION_DIRECTOR = "region_director"
CITY_MANAGER = "city_manager"
FINANCE = "finance"
ADMIN = "admin"
# The whole package (every city) and the national final PDF; city managers see only their cities.
NATIONAL_READERS = frozenset({HQ_PLANNER, FINANCE, ADMIN, REGION_DIRECTOR})


@dataclass(frozen=True)
class Actor:
    user_id: str
    roles: frozenset[str] = field(default_factory=frozenset)
    regions: frozenset[str] = field(default_factory=frozenset)
    cities: frozenset[str] = field(default_factory=frozenset)

    def has(self, role: str) -> bool:
        return role in self.roles

    def manages_city(self, city_code: str) -> bool:
        return self.has(CITY_MANAGER) and city_code in self.cities

    def directs_region(self, region: str) -> bool:
        return self.has(REGION_DIRECTOR) and region in self.regions

    def may_file_for(self, city_code: str, region: str) -> bool:
        """City manager for their own cities, regional director for their own region."""
        return self.manages_city(city_code) or self.directs_region(region)

    def may_view_city(self, city_code: str, region: str) -> bool:
        if self.roles & {HQ_PLANNER, FINANCE, ADMIN}:
            return True
        return self.may_file_for(city_code, region)

    def may_read_national_document(self) -> bool:
        """The archived final PDF lists every city of the package."""
        return bool(self.roles & NATIONAL_READERS)


def actor(user_id: str, *roles: str, regions: tuple[str, ...] = (), cities: tuple[str, ...] = ()) -> Actor:
    return Actor(user_id, frozenset(roles), frozenset(regions), frozenset(cities))
