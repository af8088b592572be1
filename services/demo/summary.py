"""The summary of a demo run, read back through REST.

`figures` holds what the run produced that does not depend on the mode, the machine or timing
(targets, actuals, alerts, requests, integrity scores): the e2e test compares it between an
embedded and a distributed run, exactly. `run` holds what does (ids, paths, timings, WeCom
deliveries, which follow real time because of the robots' rate limit).
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from shared.money import round_half_up

if TYPE_CHECKING:
    from services.demo.driver import ScenarioRun

PCT = Decimal("0.1")


def pct(part: Decimal, whole: Decimal) -> str | None:
    return None if whole == 0 else format(round_half_up(part * 100 / whole, PCT), "f")


def _d(value: str | None) -> Decimal:
    return Decimal(value) if value is not None else Decimal(0)


def collect_summary(run: ScenarioRun, days: list[date], robot_messages: list | None) -> dict:
    packages = {key: _package(run, key) for key in run.packages.ids}
    quarter = packages[run.scenario.quarter]
    alerts = run.client.get_all(run.planner, "alerts", "/alerts")
    figures = {
        "imports": {name: {k: job[k] for k in ("rows_read", "accepted", "rejected", "unchanged")}
                    for name, job in run.imports.items()},
        "replayed": {"first_day": days[0].isoformat() if days else None,
                     "last_day": days[-1].isoformat() if days else None, "days": len(days)},
        "heat_map": _heat_map(run),
        "packages": {key: body["figures"] for key, body in packages.items()},
        "regions": quarter["regions"],
        "cities": quarter["cities"],
        "alerts": _alerts(run, alerts),
        "requests": _requests(run),
        "windows": _windows(run),
        "integrity": _integrity(run),
    }
    deliveries = run.client.get(run.planner, "alerts", "/deliveries", {"limit": 2000})
    return {
        "figures": figures,
        "run": {
            "package_ids": dict(run.packages.ids),
            "window_ids": dict(run.packages.windows),
            "pdfs": {key: str(path) for key, path in run.pdfs.items()},
            "heatmap_png": str(run.heatmap_png) if run.heatmap_png else None,
            "deliveries": dict(sorted(Counter(d["status"] for d in deliveries).items())),
            "wecom_messages": None if robot_messages is None else {
                "received": len(robot_messages),
                "by_robot": dict(sorted(Counter(m.key for m in robot_messages).items())),
                "examples": [m.body.get("markdown", {}).get("content", "")[:300] for m in robot_messages[:3]],
            },
        },
    }


def _heat_map(run: ScenarioRun) -> dict:
    features = sorted(run.heatmap["features"], key=lambda f: (-Decimal(f["heat_score"] or "0"), f["city_code"]))
    return {
        "window": run.heatmap["window"],
        "cities": len(features),
        "hottest": [{"city": f["city_name"], "region": f["region"], "heat_score": f["heat_score"], "tier": f["tier"]}
                    for f in features[:10]],
    }


def _package(run: ScenarioRun, key: str) -> dict:
    client, planner, package_id = run.client, run.planner, run.packages.ids[key]
    current = client.get(planner, "allocation", f"/packages/{package_id}")
    versions = client.get(planner, "allocation", f"/packages/{package_id}/versions")
    first = client.get(planner, "allocation", f"/packages/{package_id}/versions/1")
    negotiated = next((v["number"] for v in versions if v["source"] == "negotiation"), None)
    agreed = client.get(planner, "allocation", f"/packages/{package_id}/versions/{negotiated}") if negotiated else first
    by_city = client.get(planner, "allocation", f"/packages/{package_id}/attainment", {"level": "city"})["items"]
    by_region = client.get(planner, "allocation", f"/packages/{package_id}/attainment", {"level": "region"})["items"]
    v1 = {line["city_code"]: line for line in first["lines"]}
    agreed_lines = {line["city_code"]: line for line in agreed["lines"]}
    final = {line["city_code"]: line for line in current["lines"]}
    cities = []
    for item in by_city:
        code = item["key"]
        cities.append({
            "region": final[code]["region"], "city_code": code, "city": item["city_name"], "tier": v1[code]["tier"],
            "target": v1[code]["target"], "negotiated_target": agreed_lines[code]["target"],
            "final_target": final[code]["target"], "target_to_date": item["target_to_date"],
            "actual": item["actual_to_date"], "attainment_pct": item["attainment_pct"],
        })
    cities.sort(key=lambda c: (c["region"], -Decimal(c["target"]), c["city_code"]))
    regions = []
    for item in sorted(by_region, key=lambda r: r["key"]):
        mine = [c for c in cities if c["region"] == item["key"]]
        regions.append({
            "region": item["key"], "cities": len(mine),
            "target": format(sum((Decimal(c["target"]) for c in mine), Decimal(0)), "f"),
            "final_target": item["period_target"], "target_to_date": item["target_to_date"],
            "actual": item["actual_to_date"], "attainment_pct": item["attainment_pct"],
        })
    actual = sum((_d(c["actual"]) for c in cities), Decimal(0))
    to_date = sum((_d(c["target_to_date"]) for c in cities), Decimal(0))
    generated = run.packages.scenarios[key]
    return {
        "figures": {
            "name": current["name"], "period": [current["period_start"], current["period_end"]],
            "generated": {k: generated[k] for k in ("total", "last_year_lfl_total", "base_total", "hq_total", "tiers",
                                                          "budget_total", "budget_by_region")},
            "target": first["total"], "negotiated_target": agreed["total"], "final_target": current["total"],
            "versions": dict(sorted(Counter(v["source"] for v in versions).items())),
            "target_to_date": format(to_date, "f"), "actual": format(actual, "f"),
            "attainment_pct": pct(actual, to_date), "finalized": current["finalized"],
            "closed": run.packages.closed_how.get(key),
        },
        "cities": cities,
        "regions": regions,
    }


def _alerts(run: ScenarioRun, alerts: list[dict]) -> dict:
    names = {package_id: key for key, package_id in run.packages.ids.items()}

    def stable_key(fire_key: str) -> str:
        for package_id, key in names.items():
            fire_key = fire_key.replace(package_id, key)
        return fire_key

    # examples: the first occasions of each kind (not by firing instant: a calendar window fires
    # when alerts' own worker notices the date changed, a moment that depends on the machine)
    ordered = sorted(alerts, key=lambda a: (a["kind"], stable_key(a["fire_key"]), a["city_code"]))
    examples: dict[str, list] = {}
    for alert in ordered:
        examples.setdefault(alert["kind"], [])
        if len(examples[alert["kind"]]) < 3:
            examples[alert["kind"]].append({"city": alert["city_name"], "title": alert["title"]})
    uplifts = sorted(
        ({"city": a["city_name"], "region": a["region"], "days": [str(a["span_start"]), str(a["span_end"])],
          "percent": a["uplift_percent"]} for a in alerts if a["uplift_id"]),
        key=lambda u: (u["days"][0], u["region"], u["city"]))
    return {
        "fired": len(alerts),
        "by_kind": dict(sorted(Counter(a["kind"] for a in alerts).items())),
        "by_region": dict(sorted(Counter(f"{a['kind']}:{a['region']}" for a in alerts).items())),
        "uplifts": uplifts,
        "occasions": sorted(f"{a['kind']}|{a['city_code']}|{stable_key(a['fire_key'])}" for a in alerts),
        "examples": examples,
    }


def _requests(run: ScenarioRun) -> list[dict]:
    names = {request_id: name for name, request_id in run.requests.items()}
    keys = {package_id: key for key, package_id in run.packages.ids.items()}
    rows = []
    for window_id in run.packages.windows.values():
        for request in run.client.get(run.finance, "negotiation", f"/windows/{window_id}/requests"):
            rows.append({
                "request": names.get(request["request_id"], request["request_id"]),
                "package": keys[request["package_id"]], "city": request["city_name"], "region": request["region"],
                "requester": request["requester_id"], "category": request["category"],
                "current_target": request["current_target"], "claim": request["claim"], "change": request["change"],
                "status": request["status"],
                "director": _decision(request.get("director")), "finance": _decision(request.get("finance")),
            })
    return sorted(rows, key=lambda r: r["request"])


def _decision(decision: dict | None) -> dict | None:
    return None if not decision else {"verdict": decision["verdict"], "by": decision["actor_id"],
                                      "comment": decision["comment"]}


def _windows(run: ScenarioRun) -> dict:
    result = {}
    for key, window_id in run.packages.windows.items():
        window = run.client.get(run.finance, "negotiation", f"/windows/{window_id}")
        final = window.get("final", [])
        result[key] = {
            "status": window["status"], "opened_at_local": window["opened_at_local"],
            "closes_at_local": window["closes_at_local"], "closed_at_local": window["closed_at_local"],
            "policy": window["policy"],
            "final_total": format(sum((Decimal(line["final_target"]) for line in final), Decimal(0)), "f")
            if final else None,
            "lines_changed": sum(1 for line in final if Decimal(line["final_target"]) != Decimal(line["original_target"])),
        }
    return result


def _integrity(run: ScenarioRun) -> dict:
    names = {request_id: name for name, request_id in run.requests.items()}
    keys = {package_id: key for key, package_id in run.packages.ids.items()}
    scored = [{
        "request": names.get(r["request_id"], r["request_id"]), "package": keys.get(r["package_id"]),
        "user": r["user_id"], "city": r["city_name"], "claim": r["claim"], "actual": r["actual"],
        "deviation": r["deviation"], "flagged": r["flagged"], "scored_at_local": r["scored_at_local"],
    } for r in run.client.get(run.finance, "negotiation", "/integrity")]
    restrictions = [{"user": r["user_id"], "reason": r["reason"]}
                    for r in run.client.get(run.finance, "negotiation", "/restrictions")]
    audit = run.client.get(run.finance, "negotiation", "/audit/verify")
    return {"scored": sorted(scored, key=lambda s: s["request"]), "restrictions": restrictions,
            "audit_chain": {"ok": audit["ok"], "rows": audit["rows"]}}
