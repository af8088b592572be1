"""Shared fixtures: a small package in two regions (华东 uses the casebook C01/C02 weights)."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from negotiation_service.domain.actors import CITY_MANAGER, FINANCE, REGION_DIRECTOR, actor
from negotiation_service.domain.package import PackageLine, PackageSnapshot
from negotiation_service.domain.window import open_window

from shared.timeutil import SHANGHAI

# The API tests share helpers in `negotiation_api_support.py` beside this file (tests run with --import-mode=importlib).
sys.path.insert(0, str(Path(__file__).parent))

D = Decimal
OPENED = datetime(2024, 6, 1, 9, 0, tzinfo=SHANGHAI)


def line(code, name, region, target, weight, tier="stable", base=None, budget="10000"):
    return PackageLine(code, name, region, tier, D(base or target), D(target), D(weight), D(budget))


@pytest.fixture(scope="session")
def package() -> PackageSnapshot:
    lines = (
        line("310100", "上海", "华东", "726804", "72.68", tier="high_potential", base="632003"),
        line("330100", "杭州", "华东", "109300", "10.93"),
        line("330200", "宁波", "华东", "27300", "2.73", tier="declining"),
        line("320500", "苏州", "华东", "136601", "13.66"),
        line("440100", "广州", "华南", "500000", "60"),
        line("440300", "深圳", "华南", "400000", "40", tier="new"),
    )
    total = sum((item.target for item in lines), D(0))
    return PackageSnapshot("pkg-2024q3", 1, "2024年第三季度销售目标", date(2024, 7, 1), date(2024, 9, 30),
                           "revenue", total, lines)


@pytest.fixture(scope="session")
def window(package):
    return open_window("win-1", package.package_id, package.version, OPENED, timedelta(hours=72))


@pytest.fixture(scope="session")
def people():
    return {
        "sh_manager": actor("u_wang", CITY_MANAGER, cities=("310100",)),
        "hz_manager": actor("u_chen", CITY_MANAGER, cities=("330100",)),
        "east_director": actor("u_zhang", REGION_DIRECTOR, regions=("华东",)),
        "south_director": actor("u_liu", REGION_DIRECTOR, regions=("华南",)),
        "finance": actor("u_zhao", FINANCE),
        "both_roles": actor("u_li", REGION_DIRECTOR, FINANCE, regions=("华东",)),
    }
