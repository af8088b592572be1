"""Cities by adcode, the regions they belong to, and matching the names exports use.

A name matches, in order: an adcode; the official name; an alias (an export's own spelling such
as koubei's 思茅, or a historical name); the name with or without 市 (杭州 = 杭州市); a unique
short form of an autonomous prefecture, league or area (恩施 = 恩施土家族苗族自治州), unless the
short form is a province's name (海南 is the province, not 海南藏族自治州).
An unknown or ambiguous name is reported to the caller, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ingestion_service.domain.numbers import normalize_text

_PROVINCE_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市")
_ADCODE = re.compile(r"^\d{6}$")


def province_short_name(province: str) -> str:
    name = normalize_text(province)
    for suffix in _PROVINCE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


class RegionMap:
    """Province → region. Configuration: 浙江 and 浙江省 both find 华东."""

    def __init__(self, province_to_region: Mapping[str, str]) -> None:
        self._exact = {normalize_text(p): r for p, r in province_to_region.items()}
        self._short = {province_short_name(p): r for p, r in province_to_region.items()}

    def region_of(self, province: str) -> str | None:
        name = normalize_text(province)
        return self._exact.get(name) or self._short.get(province_short_name(name))

    @property
    def regions(self) -> list[str]:
        return list(dict.fromkeys(self._exact.values()))


@dataclass(frozen=True)
class City:
    code: str
    name: str
    province: str
    region: str
    lng: Decimal | None = None
    lat: Decimal | None = None
    gdp_100m_cny: Decimal | None = None
    gdp_growth: Decimal | None = None
    aliases: tuple[str, ...] = field(default=())

    @property
    def key(self) -> tuple:
        return (self.code,)

    @property
    def value(self) -> tuple:
        return (self.name, self.province, self.region, self.lng, self.lat, self.gdp_100m_cny,
                self.gdp_growth, tuple(sorted(self.aliases)))


@dataclass(frozen=True)
class CityMatch:
    city: City | None
    reason: str = ""


class CityDirectory:
    def __init__(self, cities: Iterable[City], historical_names: Mapping[str, str] | None = None) -> None:
        self._by_code: dict[str, City] = {}
        self._by_name: dict[str, City] = {}
        self._aliases: dict[str, City] = {}
        for city in cities:
            self._by_code[city.code] = city
            self._by_name[normalize_text(city.name)] = city
        for city in self._by_code.values():
            for alias in city.aliases:
                self._aliases.setdefault(normalize_text(alias), city)
        self._province_short_names = {province_short_name(c.province) for c in self._by_code.values()}
        self._resolved: dict[str, CityMatch] = {}
        for old, new in (historical_names or {}).items():
            target = self._by_name.get(normalize_text(new))
            if target is not None:
                self._aliases.setdefault(normalize_text(old), target)

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: str) -> bool:
        return code in self._by_code

    def by_code(self, code: str) -> City | None:
        return self._by_code.get(code)

    def cities(self) -> list[City]:
        return list(self._by_code.values())

    def resolve(self, name: str) -> CityMatch:
        match = self._resolved.get(name)
        if match is None:
            match = self._resolved[name] = self._resolve(name)
        return match

    def _resolve(self, name: str) -> CityMatch:
        text = normalize_text(name)
        if not text:
            return CityMatch(None, "no city given")
        if _ADCODE.match(text):
            city = self._by_code.get(text)
            return CityMatch(city, "" if city else f"unknown city code {text}")
        for candidate in (text, text.removesuffix("市") if text.endswith("市") else text + "市"):
            city = self._by_name.get(candidate) or self._aliases.get(candidate)
            if city is not None:
                return CityMatch(city)
        if len(text) >= 2 and text not in self._province_short_names:
            short_forms = [c for n, c in self._by_name.items() if not n.endswith("市") and n.startswith(text)]
            if len(short_forms) == 1:
                return CityMatch(short_forms[0])
            if len(short_forms) > 1:
                names = "、".join(sorted(c.name for c in short_forms))
                return CityMatch(None, f"ambiguous city {text}: could be {names}")
        return CityMatch(None, f"unknown city {text}")
