"""Outgoing notifications (one row per message part) and the log of every delivery attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts_service.adapters.tables import deliveries, delivery_attempts
from alerts_service.domain.delivery_policy import DeliveryOutcome


class DeliveryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(self, alert_id: str | None, channel: str, target: str, parts: list[str], now: datetime) -> list[int]:
        ids = []
        for index, content in enumerate(parts, start=1):
            result = self.session.execute(
                deliveries.insert().values(
                    alert_id=alert_id, channel=channel, target=target, part=index, parts=len(parts),
                    content=content, status="pending", attempts=0, next_attempt_at=now, created_at=now,
                )
            )
            ids.append(result.inserted_primary_key[0])
        return ids

    def get(self, delivery_id: int):
        return self.session.execute(select(deliveries).where(deliveries.c.id == delivery_id)).first()

    def due(self, now: datetime, limit: int = 500) -> list:
        return list(
            self.session.execute(
                select(deliveries)
                .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now)
                .order_by(deliveries.c.id)
                .limit(limit)
            )
        )

    def next_due_at(self) -> datetime | None:
        return self.session.execute(
            select(deliveries.c.next_attempt_at)
            .where(deliveries.c.status == "pending")
            .order_by(deliveries.c.next_attempt_at)
            .limit(1)
        ).scalar()

    def mark_merged(self, ids: list[int], digest_id: int) -> None:
        self.session.execute(
            deliveries.update().where(deliveries.c.id.in_(ids)).values(status="merged", digest_id=digest_id)
        )

    def record_attempt(
        self, delivery_id: int, attempt: int, outcome: DeliveryOutcome, at: datetime,
        status: str, next_attempt_at: datetime | None,
    ) -> None:
        self.session.execute(
            delivery_attempts.insert().values(
                delivery_id=delivery_id, attempt=attempt, at=at, outcome=outcome.status,
                http_status=outcome.http_status, errcode=outcome.errcode, errmsg=outcome.errmsg[:2000],
            )
        )
        values = {"status": status, "attempts": attempt, "last_error": None if status == "sent" else outcome.errmsg}
        if status == "sent":
            values["sent_at"] = at
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        self.session.execute(deliveries.update().where(deliveries.c.id == delivery_id).values(**values))

    def list(self, *, alert_id: str | None = None, status: str | None = None, limit: int = 200) -> list:
        query = select(deliveries).order_by(deliveries.c.id)
        if alert_id:
            query = query.where(deliveries.c.alert_id == alert_id)
        if status:
            query = query.where(deliveries.c.status == status)
        return list(self.session.execute(query.limit(limit)))

    def attempts(self, delivery_ids: list[int]) -> dict[int, list]:
        found: dict[int, list] = {delivery_id: [] for delivery_id in delivery_ids}
        if not delivery_ids:
            return found
        rows = self.session.execute(
            select(delivery_attempts)
            .where(delivery_attempts.c.delivery_id.in_(delivery_ids))
            .order_by(delivery_attempts.c.delivery_id, delivery_attempts.c.attempt)
        )
        for row in rows:
            found[row.delivery_id].append(row)
        return found
