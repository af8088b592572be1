"""Alert history with acknowledgement, the delivery log, and the facts alerts are judged on."""

from __future__ import annotations

import json
from datetime import date

from fastapi import APIRouter, Query

from alerts_service.adapters.alert_repository import AlertRepository
from alerts_service.adapters.delivery_repository import DeliveryRepository
from alerts_service.adapters.fact_repository import FactRepository
from alerts_service.api.deps import Wiring
from alerts_service.api.schemas import (
    Acknowledge,
    AlertRead,
    CityActualRead,
    DeliveryAttemptRead,
    DeliveryRead,
)
from shared.auth import CurrentPrincipal, Principal, require_roles
from shared.problems import ProblemError
from shared.timeutil import iso_shanghai

router = APIRouter(tags=["alerts"])
ACKNOWLEDGERS = ("hq_planner", "region_director", "city_manager")
MAX_OFFSET = 10_000_000


def alert_read(row) -> AlertRead:
    return AlertRead(
        alert_id=row.alert_id, rule_id=row.rule_id, rule_version=row.rule_version, kind=row.kind,
        city_code=row.city_code, city_name=row.city_name, region=row.region, fire_key=row.fire_key,
        severity=row.severity, title=row.title, evidence=json.loads(row.evidence), span_start=row.span_start,
        span_end=row.span_end, uplift_id=row.uplift_id,
        uplift_percent=None if row.uplift_percent is None else format(row.uplift_percent, "f"),
        fired_at=row.fired_at, fired_at_local=iso_shanghai(row.fired_at), acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by, acknowledgement_note=row.acknowledgement_note, version=row.version,
    )


@router.get("/alerts", response_model=list[AlertRead])
def list_alerts(
    wiring: Wiring,
    principal: CurrentPrincipal,
    kind: str | None = None,
    rule_id: str | None = None,
    city_code: str | None = None,
    region: str | None = None,
    acknowledged: bool | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> list[AlertRead]:
    """Newest first; only the cities the caller may see."""
    with wiring.sessions() as session:
        rows = AlertRepository(session).list(
            kind=kind, rule_id=rule_id, city_code=city_code, region=region, acknowledged=acknowledged,
            limit=limit, offset=offset,
        )
    return [alert_read(row) for row in rows if principal.sees_city(row.city_code, row.region)]


@router.get("/alerts/{alert_id}", response_model=AlertRead)
def get_alert(alert_id: str, wiring: Wiring, principal: CurrentPrincipal) -> AlertRead:
    with wiring.sessions() as session:
        row = AlertRepository(session).get(alert_id)
    if row is None or not principal.sees_city(row.city_code, row.region):
        raise ProblemError(404, "alert_not_found", f"no alert {alert_id}")
    return alert_read(row)


@router.post("/alerts/{alert_id}/acknowledge", response_model=AlertRead)
def acknowledge(
    alert_id: str, wiring: Wiring, body: Acknowledge | None = None,
    principal: Principal = require_roles(*ACKNOWLEDGERS),
) -> AlertRead:
    """The body (a note, the expected version) is optional."""
    body = body or Acknowledge()
    with wiring.unit_of_work() as uow:
        repository = AlertRepository(uow.session)
        row = repository.get(alert_id)
        if row is None or not principal.sees_city(row.city_code, row.region):
            raise ProblemError(404, "alert_not_found", f"no alert {alert_id}")
        if row.acknowledged_at is not None:
            raise ProblemError(409, "already_acknowledged", f"acknowledged by {row.acknowledged_by}",
                               acknowledged_by=row.acknowledged_by)
        expected = body.expected_version or row.version
        if not repository.acknowledge(alert_id, expected, principal.subject, body.note, uow.now()):
            raise ProblemError(409, "stale_version", "the alert changed; reload it", current_version=row.version)
        uow.commit()
        return alert_read(repository.get(alert_id))


@router.get("/deliveries", response_model=list[DeliveryRead])
def list_deliveries(
    wiring: Wiring,
    _principal: Principal = require_roles("hq_planner", "admin"),
    alert_id: str | None = None,
    status: str | None = None,
    limit: int = Query(200, ge=1, le=2000),
) -> list[DeliveryRead]:
    with wiring.sessions() as session:
        repository = DeliveryRepository(session)
        rows = repository.list(alert_id=alert_id, status=status, limit=limit)
        attempts = repository.attempts([row.id for row in rows])
    return [
        DeliveryRead(
            id=row.id, alert_id=row.alert_id, channel=row.channel, target=row.target, part=row.part,
            parts=row.parts, content=row.content, status=row.status, attempts=row.attempts,
            digest_id=row.digest_id, last_error=row.last_error, created_at=row.created_at, sent_at=row.sent_at,
            attempt_log=[
                DeliveryAttemptRead(attempt=a.attempt, at=a.at, outcome=a.outcome, http_status=a.http_status,
                                    errcode=a.errcode, errmsg=a.errmsg)
                for a in attempts[row.id]
            ],
        )
        for row in rows
    ]


@router.get("/cities/{city_code}/actuals", response_model=list[CityActualRead])
def city_actuals(city_code: str, start: date, end: date, wiring: Wiring, principal: CurrentPrincipal):
    """The city's daily totals (orders) that the cliff rules judge."""
    with wiring.sessions() as session:
        facts = FactRepository(session)
        city = facts.city(city_code, city_code, "")
        if city.region and not principal.sees_city(city_code, city.region):
            raise ProblemError(404, "city_not_found", f"no city {city_code}")
        actuals = facts.city_actuals(city_code, start, end)
    return [CityActualRead(day=day, orders=format(value, "f")) for day, value in sorted(actuals.items())]


@router.get("/data-quality/weather")
def weather_quality(wiring: Wiring, _principal: CurrentPrincipal, city_code: str | None = None) -> list[dict]:
    """Missing weather values and dates that broke a run (casebook C20)."""
    with wiring.sessions() as session:
        rows = FactRepository(session).quality_warnings(city_code)
    return [{"city_code": r.city_code, "day": r.day.isoformat(), "reason": r.reason} for r in rows]
