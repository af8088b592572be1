"""Scenarios: generate (what-if, never published), compare, discard, publish as package v1."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from allocation_service.adapters import fact_store
from allocation_service.adapters.package_repository import PackageRepository
from allocation_service.application.codec import plan_json, version_lines_from_plan
from allocation_service.application.events import target_lines
from allocation_service.application.requests import ScenarioCreate
from allocation_service.domain.formula import FormulaError
from allocation_service.domain.metrics import metric_named
from allocation_service.domain.planning import PlanSpec, generate, has_revenue
from allocation_service.domain.reconciliation import DEFAULT_TIER_WEIGHTS, ReconciliationError
from allocation_service.domain.target_models import model_from_config
from allocation_service.domain.tiers import TierRule
from allocation_service.domain.versions import Provenance, TargetVersion
from allocation_service.domain.windows import Window
from shared.events.allocation import PackagePublished
from shared.problems import ProblemError


def plan_spec(request: ScenarioCreate) -> PlanSpec:
    try:
        model = model_from_config(request.model, request.model_params)
        tier_rule = TierRule(request.tier_high_at_least, request.tier_declining_at_most)
    except (FormulaError, ValueError, TypeError, ArithmeticError) as error:
        raise ProblemError(422, "invalid_model", str(error)) from error
    return PlanSpec(
        period=Window(request.period_start, request.period_end),
        history_end=request.effective_history_end,
        metric=metric_named(request.metric),
        model=model,
        hq_total=request.hq_total,
        hq_total_ratio=request.hq_total_ratio,
        hq_total_reference=request.hq_total_reference,
        region_totals=request.region_totals,
        tier_rule=tier_rule,
        tier_weights={**DEFAULT_TIER_WEIGHTS, **request.tier_weights},
        run_rate_days=request.run_rate_days,
        expense_ratios=request.expense_ratios,
        default_expense_ratio=request.default_expense_ratio,
        budget_total=request.budget_total,
    )


def build_plan(session, request: ScenarioCreate, history_years: int = 2) -> dict:
    history_end = request.effective_history_end
    history = fact_store.load_history(session, history_end - timedelta(days=366 * history_years), history_end)
    cities = fact_store.load_cities(session)
    if not cities:
        raise ProblemError(409, "no_cities", "No city master data yet: import cities first")
    if request.metric == "revenue" and history.outlets and not has_revenue(list(history.outlets.values())):
        raise ProblemError(422, "no_revenue_data",
                           f"The history up to {history_end} has order counts but no revenue figures: plan orders, "
                           "or import sales with revenue first")
    spec = plan_spec(request)
    try:
        result = generate(history, cities, spec)
    except ReconciliationError as error:
        raise ProblemError(422, "reconciliation_failed", str(error)) from error
    except (ValueError, ArithmeticError) as error:  # e.g. a budget or total the data cannot carry
        raise ProblemError(422, "invalid_scenario", str(error) or type(error).__name__) from error
    return plan_json(result)


def create_scenario(uow, request: ScenarioCreate, created_by: str, history_years: int = 2) -> str:
    plan = build_plan(uow.session, request, history_years)
    scenario_id = "scn-" + uuid.uuid4().hex[:12]
    PackageRepository(uow.session).add_scenario(
        id=scenario_id,
        name=request.name,
        status="draft",
        spec=request.model_dump_json(),
        result=json.dumps(plan, ensure_ascii=False),
        period_start=request.period_start,
        period_end=request.period_end,
        metric=request.metric,
        model=request.model,
        total=Decimal(plan["summary"]["total"]),
        created_by=created_by,
        created_at=uow.now(),
    )
    return scenario_id


def require_scenario(repository: PackageRepository, scenario_id: str):
    row = repository.scenario(scenario_id)
    if row is None:
        raise ProblemError(404, "scenario_not_found", f"No scenario {scenario_id}")
    return row


def discard(uow, scenario_id: str, expected_version: int | None) -> None:
    repository = PackageRepository(uow.session)
    row = require_scenario(repository, scenario_id)
    if row.status != "draft":
        raise ProblemError(409, "scenario_not_draft", f"Scenario {scenario_id} is {row.status}")
    expected = row.version if expected_version is None else expected_version
    if not repository.set_scenario_status(scenario_id, expected, "discarded"):
        raise ProblemError(409, "stale_version", "The scenario changed since you read it", current_version=row.version)


def publish(uow, scenario_id: str, name: str | None, expected_version: int | None, cache_key: str,
            supersede: bool = False) -> str:
    """Package version 1 from a draft. One live package per (period, metric): if one exists the publish
    is refused (409 `package_exists_for_period`) unless `supersede`, which marks it superseded."""
    repository = PackageRepository(uow.session, cache_key)
    row = require_scenario(repository, scenario_id)
    if row.status != "draft":
        raise ProblemError(409, "scenario_not_draft", f"Scenario {scenario_id} is {row.status}")
    plan = json.loads(row.result)
    if plan["summary"]["flagged"]:
        raise ProblemError(
            409, "cities_need_manual_targets",
            "Some cities have no computable target; give them manual targets before publishing",
            cities=plan["summary"]["flagged"],
        )
    package_id = "pkg-" + uuid.uuid4().hex[:12]
    expected = row.version if expected_version is None else expected_version
    if not repository.set_scenario_status(scenario_id, expected, "published", package_id):
        raise ProblemError(409, "stale_version", "The scenario changed since you read it", current_version=row.version)
    now = uow.now()
    existing = repository.live_packages_for(row.period_start, row.period_end, row.metric)
    if existing and not supersede:
        raise ProblemError(
            409, "package_exists_for_period",
            f"Package {existing[0].id} is already published for {row.period_start}…{row.period_end} ({row.metric}); "
            "publish with supersede: true to replace it",
            package_ids=[package.id for package in existing],
        )
    for package in existing:
        repository.supersede(package.id, package_id, now)
    version = TargetVersion(1, version_lines_from_plan(plan), Provenance("generated", scenario_id, row.name))
    package_name = name or row.name
    try:
        repository.add_package(
            id=package_id, name=package_name, scenario_id=scenario_id, period_start=row.period_start,
            period_end=row.period_end, metric=row.metric, model=row.model, current_version=1, published_at=now,
        )
    except IntegrityError as error:  # another publish for the same period won the race
        raise ProblemError(409, "package_exists_for_period",
                           f"A package for {row.period_start}…{row.period_end} ({row.metric}) was just published; "
                           "publish with supersede: true to replace it") from error
    repository.add_version(package_id, version, now)
    uow.publish(
        PackagePublished(
            package_id=package_id, version=1, name=package_name, period_start=row.period_start,
            period_end=row.period_end, metric=row.metric, model=row.model, total=version.total,
            lines=target_lines(version), published_at=now,
        )
    )
    return package_id


def compare(repository: PackageRepository, scenario_ids: list[str]) -> dict:
    if len(scenario_ids) < 2:
        raise ProblemError(422, "compare_needs_two", "Give at least two scenario ids")
    plans = {}
    for scenario_id in scenario_ids:
        plans[scenario_id] = json.loads(require_scenario(repository, scenario_id).result)
    codes = sorted({line["city_code"] for plan in plans.values() for line in plan["lines"]})
    by_city = {sid: {line["city_code"]: line for line in plan["lines"]} for sid, plan in plans.items()}
    first = scenario_ids[0]
    rows = []
    for code in codes:
        entry = {"city_code": code, "targets": {}, "tiers": {}, "difference_vs_first": {}}
        for sid in scenario_ids:
            line = by_city[sid].get(code)
            entry["targets"][sid] = line["target"] if line else None
            entry["tiers"][sid] = line["tier"] if line else None
            base = by_city[first].get(code)
            if line and base and line["target"] is not None and base["target"] is not None:
                entry["difference_vs_first"][sid] = format(Decimal(line["target"]) - Decimal(base["target"]), "f")
        name_source = next((by_city[sid][code] for sid in scenario_ids if code in by_city[sid]), None)
        entry["city_name"] = name_source["city_name"] if name_source else None
        rows.append(entry)
    return {
        "scenarios": {sid: plans[sid]["summary"] for sid in scenario_ids},
        "cities": rows,
    }
