"""JSON forms of plans and versions (Decimals as strings, days as ISO dates)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from allocation_service.domain.metrics import Metric
from allocation_service.domain.planning import PlannedLine, PlanResult
from allocation_service.domain.versions import Provenance, TargetVersion, VersionLine


def dec(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def planned_line_json(line: PlannedLine, metric: Metric) -> dict:
    return {
        "city_code": line.city.code,
        "city_name": line.city.name,
        "region": line.city.region,
        "tier": line.tier,
        "basis": line.basis_text(metric),
        "flag": line.flag,
        "last_year_lfl": dec(line.basis.lfl_base),
        "run_rate_basis": dec(line.basis.run_rate_basis),
        "peer_basis": dec(line.basis.peer_basis),
        "comparable_outlets": line.basis.comparable_outlets,
        "new_outlets": line.basis.new_outlets,
        "pending_outlets": line.basis.pending_outlets,
        "closed_outlets": line.basis.closed_outlets,
        "half_year_growth": line.half_year.as_dict(),
        "yoy_growth": line.year_on_year.as_dict(),
        "bottom_up": dec(line.model.target),
        "weight": dec(line.weight),
        "target": dec(line.target),
        "expense_budget": dec(line.expense_budget),
        "months": {month: dec(value) for month, value in line.months.items()},
        "daily": {day.isoformat(): dec(value) for day, value in sorted(line.daily.items())},
    }


def plan_json(result: PlanResult) -> dict:
    tiers: dict[str, int] = {}
    for line in result.lines:
        tiers[line.tier] = tiers.get(line.tier, 0) + 1
    budget = result.budget
    return {
        "summary": {
            "total": dec(result.total),
            "bottom_up_total": dec(result.bottom_up_total),
            "last_year_lfl_total": dec(result.last_year_lfl_total),
            "base_total": dec(result.base_total),
            "hq_total": dec(result.hq_total),
            "cities": len(result.lines),
            "flagged": [line.city.code for line in result.flagged],
            "tiers": tiers,
            "budget_total": dec(budget.total) if budget else None,
            "budget_by_region": {k: dec(v) for k, v in sorted(budget.by_region.items())} if budget else {},
        },
        "lines": [planned_line_json(line, result.spec.metric) for line in result.lines],
    }


def version_lines_from_plan(plan: dict) -> dict[str, VersionLine]:
    lines = {}
    for line in plan["lines"]:
        if line["target"] is None:
            continue
        lines[line["city_code"]] = VersionLine(
            city_code=line["city_code"],
            city_name=line["city_name"],
            region=line["region"],
            tier=line["tier"],
            basis=line["basis"],
            base=Decimal(line["bottom_up"]),
            target=Decimal(line["target"]),
            weight=Decimal(line["weight"]),
            expense_budget=Decimal(line["expense_budget"] or "0"),
            daily={date.fromisoformat(day): Decimal(value) for day, value in line["daily"].items()},
        )
    return lines


def version_line_json(line: VersionLine, with_daily: bool = True) -> dict:
    body = {
        "city_code": line.city_code,
        "city_name": line.city_name,
        "region": line.region,
        "tier": line.tier,
        "basis": line.basis,
        "base": dec(line.base),
        "target": dec(line.target),
        "weight": dec(line.weight),
        "expense_budget": dec(line.expense_budget),
    }
    if with_daily:
        body["daily"] = {day.isoformat(): dec(value) for day, value in sorted(line.daily.items())}
    return body


def version_line_from_json(body: dict) -> VersionLine:
    return VersionLine(
        city_code=body["city_code"],
        city_name=body["city_name"],
        region=body["region"],
        tier=body["tier"],
        basis=body["basis"],
        base=Decimal(body["base"]),
        target=Decimal(body["target"]),
        weight=Decimal(body["weight"]),
        expense_budget=Decimal(body["expense_budget"]),
        daily={date.fromisoformat(day): Decimal(value) for day, value in body.get("daily", {}).items()},
    )


def version_from_json(number: int, lines: list[dict], provenance: Provenance) -> TargetVersion:
    return TargetVersion(number, {body["city_code"]: version_line_from_json(body) for body in lines}, provenance)
