"""Cities the rules can target, named city groups, and resolving a rule's scope to city codes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

# "south" is configurable; by default it is the three southern regions of the seven-region convention.
DEFAULT_GROUPS: Mapping[str, tuple[str, ...]] = {"south": ("华南", "华中", "西南")}
# The seven-region convention (ingestion's packaged region map); other regions become known with
# the first city recorded in them.
CONVENTIONAL_REGIONS = frozenset({"华东", "华南", "华北", "华中", "西南", "西北", "东北"})


@dataclass(frozen=True)
class CityInfo:
    code: str
    name: str
    region: str
    province: str = ""


@dataclass(frozen=True)
class Scope:
    """Which cities a rule covers: explicit cities (codes or names), regions, and/or named groups.

    The union of all three is the scope. An empty scope covers nothing (never "everything").
    """

    cities: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.cities or self.regions or self.groups)

    def as_dict(self) -> dict[str, list[str]]:
        return {"cities": list(self.cities), "regions": list(self.regions), "groups": list(self.groups)}


class UnknownGroup(ValueError):
    pass


@dataclass
class CityDirectory:
    """The known cities (from `CitiesRecorded`) and the configured city groups."""

    cities: dict[str, CityInfo] = field(default_factory=dict)
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_GROUPS))

    @classmethod
    def of(cls, cities: Iterable[CityInfo], groups: Mapping[str, tuple[str, ...]] | None = None):
        return cls({city.code: city for city in cities}, dict(groups if groups is not None else DEFAULT_GROUPS))

    def add(self, city: CityInfo) -> None:
        self.cities[city.code] = city

    def get(self, code: str) -> CityInfo | None:
        return self.cities.get(code)

    def known_regions(self) -> frozenset[str]:
        return CONVENTIONAL_REGIONS | {city.region for city in self.cities.values() if city.region}

    def regions_of_group(self, group: str) -> tuple[str, ...]:
        if group not in self.groups:
            raise UnknownGroup(f"unknown city group: {group}")
        return tuple(self.groups[group])

    def in_scope(self, scope: Scope, code: str, region: str | None = None, name: str | None = None) -> bool:
        """Whether a city is covered. `region` and `name` may come from the event when the
        directory does not know the city yet."""
        known = self.cities.get(code)
        region = known.region if known is not None else region
        name = known.name if known is not None else name
        if code in scope.cities or (name is not None and name in scope.cities):
            return True
        if region is not None and region in scope.regions:
            return True
        return any(region is not None and region in self.regions_of_group(group) for group in scope.groups)

    def resolve(self, scope: Scope) -> list[str]:
        """The sorted codes of the known cities in scope."""
        return sorted(code for code in self.cities if self.in_scope(scope, code))
