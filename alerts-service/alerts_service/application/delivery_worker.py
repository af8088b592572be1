"""Delivers queued notifications: WeCom robots per region (markdown) and generic webhooks.

Runs in its own thread, outside any consumer transaction (no HTTP inside a database transaction).
Timing (the 20-per-minute robot limit, the retry backoff) follows real time, whatever clock the
business logic runs on. Every attempt is logged in `delivery_attempts`.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from datetime import timedelta

from sqlalchemy.orm import sessionmaker

from alerts_service.adapters.delivery_repository import DeliveryRepository
from alerts_service.adapters.http_sender import HttpSender
from alerts_service.domain.delivery_policy import (
    PERMANENT,
    RETRY,
    SUCCESS,
    DeliveryOutcome,
    RetryPolicy,
    RobotRateLimiter,
    classify_response,
    classify_webhook_response,
    plan_sends,
)
from alerts_service.domain.wecom_messages import markdown_payload, render_digest
from alerts_service.settings import AlertsSettings
from shared.background import PollingLoop
from shared.clock import Clock, SystemClock

log = logging.getLogger("quotaflow.alerts.delivery")


class DeliveryWorker:
    def __init__(self, sessions: sessionmaker, settings: AlertsSettings, clock: Clock | None = None) -> None:
        self._sessions = sessions
        self._settings = settings
        self._clock = clock or SystemClock()
        self._sender = HttpSender(settings.delivery_timeout_seconds)
        self.limiter = RobotRateLimiter(settings.wecom_limit_per_minute)
        self.policy = RetryPolicy(
            settings.delivery_max_attempts,
            timedelta(seconds=settings.delivery_base_delay_seconds),
            timedelta(seconds=settings.delivery_max_delay_seconds),
        )
        self._loop = PollingLoop("alerts-delivery", self.run_once, settings.delivery_poll_seconds)

    def start(self) -> None:
        self._loop.start()

    def stop(self) -> None:
        self._loop.stop(10)
        self._sender.close()

    def wake(self) -> None:
        self._loop.wake()

    def run_once(self) -> int:
        now = self._clock.now()
        with self._sessions() as session:
            due = DeliveryRepository(session).due(now)
        groups: dict[tuple[str, str], list] = defaultdict(list)
        for row in due:
            groups[(row.channel, row.target)].append(row)
        handled = 0
        for (channel, target), rows in groups.items():
            if channel == "webhook":
                for row in rows:
                    self._deliver(row)
                    handled += 1
                continue
            plan = plan_sends([row.id for row in rows], self.limiter.free_slots(target, now),
                              self._settings.merge_overflow_into_digest)
            by_id = {row.id: row for row in rows}
            for delivery_id in plan.send:
                self._deliver(by_id[delivery_id])
                handled += 1
            if plan.digest_of:
                self._deliver(self._merge(target, [by_id[i] for i in plan.digest_of]))
                handled += len(plan.digest_of)
        return handled

    def _merge(self, target: str, rows: list):
        titles, seen = [], set()
        for row in rows:
            key = row.alert_id or f"delivery-{row.id}"
            if key in seen:
                continue
            seen.add(key)
            first = next((line for line in row.content.splitlines() if line.startswith("### ")), row.content[:80])
            titles.append(first.removeprefix("### "))
        now = self._clock.now()
        with self._sessions() as session:
            repository = DeliveryRepository(session)
            (digest_id,) = repository.enqueue(None, "wecom", target, [render_digest(titles)], now)
            repository.mark_merged([row.id for row in rows], digest_id)
            session.commit()
            return repository.get(digest_id)

    def _deliver(self, row) -> None:
        now = self._clock.now()
        attempt = row.attempts + 1
        if row.channel == "wecom":
            url = self._settings.wecom_robots.get(row.target) or self._settings.wecom_robots.get("*")
            if url is None:
                outcome = DeliveryOutcome(PERMANENT, None, None, f"no WeCom robot configured for {row.target}")
            else:
                self.limiter.try_acquire(row.target, now)
                result = self._sender.post(url, json.dumps(markdown_payload(row.content), ensure_ascii=False))
                outcome = classify_response(result.status, result.body, result.error)
        else:
            url = self._settings.webhooks.get(row.target)
            if url is None:
                outcome = DeliveryOutcome(PERMANENT, None, None, f"no webhook configured named {row.target}")
            else:
                result = self._sender.post(url, row.content)
                outcome = classify_webhook_response(result.status, result.error)
        status, next_at = "failed", None
        if outcome.status == SUCCESS:
            status = "sent"
        elif outcome.status == RETRY:
            delay = self.policy.delay_before(attempt + 1)
            if delay is not None:
                status, next_at = "pending", now + delay
        with self._sessions() as session:
            DeliveryRepository(session).record_attempt(row.id, attempt, outcome, now, status, next_at)
            session.commit()
        if status == "failed":
            log.warning("delivery %s to %s failed: %s", row.id, row.target, outcome.errmsg)
