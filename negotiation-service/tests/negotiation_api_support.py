"""Helpers for the API tests: the package event, tokens, waiting for the scheduler."""

from __future__ import annotations

import time
from datetime import date, datetime
from decimal import Decimal

from shared.envelope import to_message, wrap
from shared.events.allocation import CityActual, PackagePublished, PeriodActualsFinalized, TargetLine
from shared.timeutil import SHANGHAI

OPENED = datetime(2024, 6, 1, 9, 0, tzinfo=SHANGHAI)
LINES = (
    ("310100", "上海", "华东", "726804", "72.68", "high_potential"),
    ("330100", "杭州", "华东", "109300", "10.93", "stable"),
    ("330200", "宁波", "华东", "27300", "2.73", "declining"),
    ("320500", "苏州", "华东", "136601", "13.66", "stable"),
    ("440100", "广州", "华南", "500000", "60", "stable"),
    ("440300", "深圳", "华南", "400000", "40", "new"),
)
PEOPLE = {
    "u_wang": (["city_manager"], [], ["310100"]),
    "u_chen": (["city_manager"], [], ["330100"]),
    "u_zhang": (["region_director"], ["华东"], []),
    "u_liu": (["region_director"], ["华南"], []),
    "u_zhao": (["finance"], [], []),
    "u_li": (["region_director", "finance"], ["华东"], []),
    "u_admin": (["admin"], [], []),
    "u_hq": (["hq_planner"], [], []),
}


def package_event(package_id: str = "pkg-2024q3", published_at: datetime = OPENED) -> PackagePublished:
    lines = [TargetLine(city_code=c, city_name=n, region=r, tier=t, basis="去年同期", base=v, target=v, weight=w,
                        expense_budget="10000") for c, n, r, v, w, t in LINES]
    total = sum((Decimal(line.target) for line in lines), Decimal(0))
    return PackagePublished(package_id=package_id, version=1, name="2024年第三季度销售目标",
                            period_start=date(2024, 7, 1), period_end=date(2024, 9, 30), metric="revenue",
                            model="yoy", total=total, lines=lines, published_at=published_at)


def actuals_event(package_id: str, actual_by_city: dict[str, str], at: datetime) -> PeriodActualsFinalized:
    names = {c: (n, r, v) for c, n, r, v, _w, _t in LINES}
    cities = [CityActual(city_code=c, city_name=names[c][0], region=names[c][1], target=names[c][2], actual=a)
              for c, a in actual_by_city.items()]
    return PeriodActualsFinalized(package_id=package_id, version=1, period_start=date(2024, 7, 1),
                                  period_end=date(2024, 9, 30), metric="revenue", cities=cities, finalized_at=at)


def publish(host, event, at: datetime) -> None:
    host.bus.publish([to_message(wrap(event, producer="allocation", now=at), event.TOPIC)])
    host.wait_until_quiet(30)


def headers(host, user: str) -> dict[str, str]:
    roles, regions, cities = PEOPLE[user]
    return {"Authorization": "Bearer " + host.authenticator.mint(user, roles, regions=regions, cities=cities)}


def wait_for(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")
