"""Alert history (one row per firing, unique per rule, city and occasion) and acknowledgement."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts_service.adapters.tables import alerts
from alerts_service.domain.firings import Firing
from alerts_service.domain.weather_spells import FiredSpell


class AlertRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def occasion_taken(self, firing: Firing) -> bool:
        query = select(alerts.c.alert_id).where(
            alerts.c.rule_id == firing.rule_id,
            alerts.c.city_code == firing.city_code,
            alerts.c.fire_key == firing.fire_key,
        )
        if firing.uplift is not None:
            query = select(alerts.c.alert_id).where(
                (alerts.c.uplift_id == firing.uplift.uplift_id)
                | (
                    (alerts.c.rule_id == firing.rule_id)
                    & (alerts.c.city_code == firing.city_code)
                    & (alerts.c.fire_key == firing.fire_key)
                )
            )
        return self.session.execute(query).first() is not None

    def last_fired_at(self, rule_id: str, city_code: str) -> datetime | None:
        return self.session.execute(
            select(func.max(alerts.c.fired_at)).where(alerts.c.rule_id == rule_id, alerts.c.city_code == city_code)
        ).scalar_one()

    def insert(self, firing: Firing, fired_at: datetime, span: tuple[date, date] | None) -> None:
        self.session.execute(
            alerts.insert().values(
                alert_id=firing.alert_id,
                rule_id=firing.rule_id,
                rule_version=firing.rule_version,
                kind=firing.kind,
                city_code=firing.city_code,
                city_name=firing.city_name,
                region=firing.region,
                fire_key=firing.fire_key,
                severity=firing.severity,
                title=firing.title,
                evidence=json.dumps(firing.evidence, ensure_ascii=False),
                span_start=span[0] if span else None,
                span_end=span[1] if span else None,
                uplift_id=firing.uplift.uplift_id if firing.uplift else None,
                uplift_percent=firing.uplift.percent if firing.uplift else None,
                fired_at=fired_at,
                version=1,
            )
        )

    def fired_spells_of(self, rule_ids: set[str], city_codes: set[str]) -> dict[tuple[str, str], list[FiredSpell]]:
        """(rule, city) → the spans of the spells fired (one query; pairs with none are left out)."""
        found: dict[tuple[str, str], list[FiredSpell]] = {}
        if not rule_ids or not city_codes:
            return found
        rows = self.session.execute(
            select(alerts.c.rule_id, alerts.c.city_code, alerts.c.span_start, alerts.c.span_end).where(
                alerts.c.rule_id.in_(rule_ids), alerts.c.city_code.in_(city_codes), alerts.c.span_start.is_not(None)
            )
        ).all()
        for rule_id, city_code, start, end in rows:
            found.setdefault((rule_id, city_code), []).append(FiredSpell(start, end))
        return found

    def extend_spell(self, rule_id: str, city_code: str, earlier: FiredSpell, start: date, end: date) -> None:
        """Record that a fired spell grew (the uplift already requested stays as it was)."""
        self.session.execute(
            alerts.update()
            .where(
                alerts.c.rule_id == rule_id, alerts.c.city_code == city_code,
                alerts.c.span_start == earlier.start, alerts.c.span_end == earlier.end,
            )
            .values(span_start=min(start, earlier.start), span_end=max(end, earlier.end))
        )

    def get(self, alert_id: str):
        return self.session.execute(select(alerts).where(alerts.c.alert_id == alert_id)).first()

    def list(
        self,
        *,
        kind: str | None = None,
        rule_id: str | None = None,
        city_code: str | None = None,
        region: str | None = None,
        acknowledged: bool | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list:
        query = select(alerts).order_by(alerts.c.fired_at.desc(), alerts.c.alert_id)
        if kind:
            query = query.where(alerts.c.kind == kind)
        if rule_id:
            query = query.where(alerts.c.rule_id == rule_id)
        if city_code:
            query = query.where(alerts.c.city_code == city_code)
        if region:
            query = query.where(alerts.c.region == region)
        if acknowledged is not None:
            query = query.where(
                alerts.c.acknowledged_at.is_not(None) if acknowledged else alerts.c.acknowledged_at.is_(None)
            )
        return list(self.session.execute(query.limit(limit).offset(offset)))

    def acknowledge(self, alert_id: str, expected_version: int, by: str, note: str | None, now: datetime) -> bool:
        result = self.session.execute(
            alerts.update()
            .where(
                alerts.c.alert_id == alert_id, alerts.c.version == expected_version,
                alerts.c.acknowledged_at.is_(None),
            )
            .values(acknowledged_at=now, acknowledged_by=by, acknowledgement_note=note, version=expected_version + 1)
        )
        return result.rowcount == 1
