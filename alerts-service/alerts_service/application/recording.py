"""Recording a firing: the alert row, its events and its notifications, in the caller's unit of work.

A firing whose occasion (rule, city, fire key) or uplift id is already recorded, or that comes
within the rule's cooldown, is dropped: this is what makes a redelivered event or a re-evaluated
rule fire once.
"""

from __future__ import annotations

import json
import logging
from datetime import date

from alerts_service.adapters.alert_repository import AlertRepository
from alerts_service.adapters.delivery_repository import DeliveryRepository
from alerts_service.domain.firings import Firing, cooldown_allows
from alerts_service.domain.rules import Rule
from alerts_service.domain.wecom_messages import numbered_parts, render_alert
from alerts_service.settings import AlertsSettings
from shared.events.alerts import AlertFired, UpliftRequested
from shared.outbox import UnitOfWork

log = logging.getLogger("quotaflow.alerts")


def record_firing(
    uow: UnitOfWork, firing: Firing, rule: Rule, settings: AlertsSettings, span: tuple[date, date] | None = None
) -> bool:
    repository = AlertRepository(uow.session)
    now = uow.now()
    if repository.occasion_taken(firing):
        return False
    if not cooldown_allows(repository.last_fired_at(rule.rule_id, firing.city_code), now, rule.cooldown):
        return False
    repository.insert(firing, now, span)
    if firing.uplift is not None:
        uow.publish(
            UpliftRequested(
                uplift_id=firing.uplift.uplift_id,
                rule_id=firing.rule_id,
                rule_version=firing.rule_version,
                city_code=firing.city_code,
                percent=firing.uplift.percent,
                start_day=firing.uplift.start_day,
                end_day=firing.uplift.end_day,
                reason=firing.uplift.reason,
                requested_at=now,
            )
        )
    fired = AlertFired(
        alert_id=firing.alert_id,
        rule_id=firing.rule_id,
        kind=firing.kind,
        city_code=firing.city_code,
        city_name=firing.city_name,
        region=firing.region,
        severity=firing.severity,
        title=firing.title,
        evidence=firing.evidence,
        fired_at=now,
    )
    uow.publish(fired)
    deliveries = DeliveryRepository(uow.session)
    if "wecom" in rule.action.channels:
        deliveries.enqueue(firing.alert_id, "wecom", firing.region, numbered_parts(render_alert(firing)), now)
    if "webhook" in rule.action.channels:
        body = json.dumps(fired.model_dump(mode="json"), ensure_ascii=False)
        for name in sorted(settings.webhooks):
            deliveries.enqueue(firing.alert_id, "webhook", name, [body], now)
    log.info("alert %s fired: %s", firing.alert_id, firing.title)
    return True
