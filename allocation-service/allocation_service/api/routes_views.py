"""Read views: the heat map (JSON and PNG) and "my targets" (JSON and markdown for WeCom bots)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Query, Response

from allocation_service.adapters import fact_store
from allocation_service.adapters.package_repository import PackageRepository
from allocation_service.api.deps import AllocationContext
from allocation_service.api.schemas import SalesTotalRead
from allocation_service.application import attainment as live
from allocation_service.application.codec import dec
from allocation_service.application.heat import heat_json, heat_rows, render_png
from allocation_service.application.packages import current_version
from allocation_service.application.requests import EARLIEST_DAY, LATEST_DAY
from shared.auth import CurrentPrincipal, Principal, require_roles
from shared.problems import ProblemError
from shared.timeutil import to_shanghai

HEAT_MAP_ROLES = ("hq_planner", "finance", "region_director")  # and admin
MAX_MONTHS = 36
Metric = Literal["orders", "units", "revenue"]


def my_targets(ctx: AllocationContext, principal: Principal) -> dict:
    result = []
    today = live.today(ctx.clock)
    with ctx.sessions() as session:
        repository = PackageRepository(session, ctx.cache_key)
        for package in repository.packages(include_superseded=False):
            version = current_version(repository, package)
            mine = [line for _, line in sorted(version.lines.items()) if principal.sees_city(line.city_code, line.region)]
            if not mine:
                continue
            attained = {a.key: a for a in live.city_attainments(session, repository, package, None, today=today)}
            result.append({
                "package_id": package.id, "name": package.name, "version": version.number,
                "period_start": package.period_start.isoformat(), "period_end": package.period_end.isoformat(),
                "metric": package.metric, "finalized": bool(package.finalized),
                "lines": [
                    {"city_code": line.city_code, "city_name": line.city_name, "region": line.region,
                     "tier": line.tier, "target": dec(line.target),
                     "target_to_date": dec(attained[line.city_code].target_to_date),
                     "actual_to_date": dec(attained[line.city_code].actual_to_date),
                     "attainment_pct": dec(attained[line.city_code].attainment_pct),
                     "projection": dec(attained[line.city_code].projection),
                     "rank": attained[line.city_code].rank,
                     "as_of": attained[line.city_code].as_of.isoformat()}
                    for line in mine
                ],
            })
    return {"subject": principal.subject, "as_of": to_shanghai(ctx.clock.now()).isoformat(), "packages": result}


def markdown(body: dict) -> str:
    lines = [f"**我的目标 / My targets** ({body['subject']})"]
    for package in body["packages"]:
        lines.append(f"> {package['name']} v{package['version']} · {package['period_start']}…{package['period_end']}"
                     f" · {package['metric']}")
        for line in package["lines"][:20]:
            pct = f"{line['attainment_pct']}%" if line["attainment_pct"] is not None else "—"
            lines.append(f"- {line['city_name']}: 目标 {line['target']}, 至今 {line['actual_to_date']}"
                         f" / {line['target_to_date']} ({pct}), 排名 {line['rank']}")
        if len(package["lines"]) > 20:
            lines.append(f"- … {len(package['lines']) - 20} more")
    if not body["packages"]:
        lines.append("No targets in your scope yet.")
    return "\n".join(lines) + "\n"


def build_router(ctx: AllocationContext) -> APIRouter:
    router = APIRouter(tags=["views"])

    @router.get("/heatmap", dependencies=[require_roles(*HEAT_MAP_ROLES)])
    def heatmap(principal: CurrentPrincipal, history_end: date | None = Query(None, ge=EARLIEST_DAY, le=LATEST_DAY),
                months: int = Query(12, ge=1, le=MAX_MONTHS), metric: Metric = "orders",
                by_channel: bool = False) -> dict:
        """Per city (or city × channel) metrics, like-for-like growth and heat score, with coordinates.
        For hq_planner, finance, admin and region directors; a director sees the cities of own regions only
        (scores and percentiles stay national, so they compare with the whole country)."""
        with ctx.sessions() as session:
            window, rows = heat_rows(session, history_end, months, metric, by_channel)
        body = heat_json(window, rows)
        body["features"] = [f for f in body["features"] if principal.sees_city(f["city_code"], f["region"])]
        return body

    @router.get("/heatmap.png", response_class=Response, responses={200: {"content": {"image/png": {}}}},
                dependencies=[require_roles(*HEAT_MAP_ROLES)])
    def heatmap_png(_principal: CurrentPrincipal,
                    history_end: date | None = Query(None, ge=EARLIEST_DAY, le=LATEST_DAY),
                    months: int = Query(12, ge=1, le=MAX_MONTHS), metric: Metric = "orders") -> Response:
        """A picture of China (province borders) with the cities coloured by heat score and the top cities
        named (also saved under the data dir). National for every role allowed to see it."""
        with ctx.sessions() as session:
            window, rows = heat_rows(session, history_end, months, metric, False)
        out = ctx.data_dir / f"heatmap-{window.end.isoformat()}.png"
        data = render_png(window, rows, ctx.settings.cjk_font, out, metric=metric)
        return Response(content=data, media_type="image/png", headers={"X-File": str(out)})

    @router.get("/my/targets")
    def mine(principal: CurrentPrincipal) -> dict:
        """The caller's targets (scope from the token) with attainment to date."""
        return my_targets(ctx, principal)

    @router.get("/my/targets.md", response_class=Response, responses={200: {"content": {"text/markdown": {}}}})
    def mine_markdown(principal: CurrentPrincipal) -> Response:
        """The same, as short markdown for WeCom bots."""
        return Response(content=markdown(my_targets(ctx, principal)), media_type="text/markdown; charset=utf-8")

    @router.get("/sales/total", response_model=SalesTotalRead, summary="Total orders over days (latest revisions)")
    def sales_total(principal: CurrentPrincipal, start: date, end: date,
                    city_code: str | None = Query(None, max_length=20)) -> SalesTotalRead:
        """Σ orders and the number of daily sales facts this service holds from start to end
        (inclusive), for every city or one: what allocation has applied from ingestion's events.
        The national total is for hq_planner, finance and admin; others name a city in their scope."""
        if end < start:
            raise ProblemError(422, "invalid_period", "end is before start")
        if not city_code and not principal.has_role("hq_planner", "finance"):
            raise ProblemError(403, "out_of_scope", "the national total is for hq_planner, finance and admin")
        with ctx.sessions() as session:
            if city_code and not principal.has_role("hq_planner", "finance"):
                city = fact_store.load_cities(session).get(city_code)
                if not principal.sees_city(city_code, city.region if city else None):
                    raise ProblemError(403, "out_of_scope", f"city {city_code} is outside your scope")
            orders, facts = fact_store.sales_total(session, start, end, city_code or None)
        return SalesTotalRead(city_code=city_code or None, start=start.isoformat(), end=end.isoformat(),
                              orders=orders, facts=facts)

    return router


