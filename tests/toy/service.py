from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from shared.consumer import ConsumerSpec
from shared.db import ExactDecimal, UTCDateTime
from shared.events.alerts import UpliftRequested
from shared.money import round_half_up
from shared.outbox import UnitOfWork, add_outbox_tables
from shared.problems import ProblemError
from shared.service import ServiceContext, ServiceDefinition, ServiceRuntime
from shared.web import create_service_api

metadata = MetaData()
quotas = Table(
    "quotas", metadata,
    Column("city_code", String(20), primary_key=True),
    Column("quota", ExactDecimal, nullable=False),
    Column("applied", Integer, nullable=False, default=0),
    Column("updated_at", UTCDateTime, nullable=True),
)
outbox, inbox = add_outbox_tables(metadata)

FAIL_CITIES: set[str] = set()  # tests make a handler fail for these cities


class QuotaIn(BaseModel):
    city_code: str
    quota: Decimal


class UpliftIn(BaseModel):
    uplift_id: str
    city_code: str
    percent: Decimal


def apply_uplift(event: UpliftRequested, _envelope, uow: UnitOfWork) -> None:
    if event.city_code in FAIL_CITIES:
        raise RuntimeError(f"refusing {event.city_code}")
    row = uow.session.execute(select(quotas).where(quotas.c.city_code == event.city_code)).first()
    if row is None:
        return
    new_quota = round_half_up(row.quota * (Decimal(100) + event.percent) / Decimal(100))
    uow.session.execute(
        quotas.update().where(quotas.c.city_code == event.city_code)
        .values(quota=new_quota, applied=row.applied + 1, updated_at=uow.now())
    )


def build(context: ServiceContext) -> ServiceRuntime:
    unit_of_work = context.unit_of_work_factory(outbox, inbox)
    router = APIRouter()

    @router.put("/quotas/{city_code}")
    def put_quota(city_code: str, body: QuotaIn) -> dict:
        with unit_of_work() as uow:
            existing = uow.session.execute(select(quotas).where(quotas.c.city_code == city_code)).first()
            if existing is None:
                uow.session.execute(quotas.insert().values(city_code=city_code, quota=body.quota, applied=0))
            else:
                uow.session.execute(quotas.update().where(quotas.c.city_code == city_code).values(quota=body.quota))
            uow.commit()
        return {"city_code": city_code, "quota": str(body.quota)}

    @router.get("/quotas/{city_code}")
    def get_quota(city_code: str) -> dict:
        with context.sessions() as session:
            row = session.execute(select(quotas).where(quotas.c.city_code == city_code)).first()
        if row is None:
            raise ProblemError(404, "quota_not_found", f"no quota for {city_code}")
        return {"city_code": city_code, "quota": str(row.quota), "applied": row.applied}

    @router.post("/uplifts", status_code=202)
    def request_uplift(body: UpliftIn, request: Request) -> dict:
        with unit_of_work() as uow:
            envelope = uow.publish(
                UpliftRequested(
                    uplift_id=body.uplift_id, rule_id="toy", rule_version=1, city_code=body.city_code,
                    percent=body.percent, start_day="2024-07-03", end_day="2024-07-03",
                    reason="toy", requested_at=uow.now(),
                )
            )
            uow.commit()
        return {"event_id": envelope.id}

    app = create_service_api(
        name="toy", title="Toy", description="platform test service", routers=[router],
        authenticator=context.authenticator,
    )
    consumer = ConsumerSpec(name=f"{context.name}.uplifts", handlers={UpliftRequested.TYPE: apply_uplift})
    return ServiceRuntime(name=context.name, app=app, outbox=outbox, unit_of_work=unit_of_work, consumers=[consumer])


SERVICE = ServiceDefinition(name="toy", migrations=Path(__file__).parent / "migrations", build=build)
