"""JSON logs with request and event ids, Prometheus metrics, and the request-id middleware."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import datetime

from prometheus_client import Counter, Histogram
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request

from shared.timeutil import UTC

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
event_id_var: ContextVar[str | None] = ContextVar("event_id", default=None)

HTTP_REQUESTS = Counter("quotaflow_http_requests_total", "HTTP requests", ["method", "status"])
HTTP_LATENCY = Histogram("quotaflow_http_request_seconds", "HTTP request latency", ["method"])
EVENTS_PUBLISHED = Counter("quotaflow_events_published_total", "Events relayed from an outbox", ["relay", "type"])
EVENTS_CONSUMED = Counter("quotaflow_events_consumed_total", "Events applied by a consumer", ["consumer", "type"])
EVENTS_DUPLICATE = Counter("quotaflow_events_duplicate_total", "Redelivered events skipped", ["consumer"])
EVENTS_DEAD_LETTERED = Counter("quotaflow_events_dead_lettered_total", "Events sent to the DLQ", ["consumer"])
RELAY_FAILURES = Counter("quotaflow_relay_failures_total", "Outbox relay publish failures", ["relay"])


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            payload["request_id"] = request_id
        event_id = event_id_var.get()
        if event_id:
            payload["event_id"] = event_id
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("kafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


class RequestIdMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next):
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = await call_next(request)
        finally:
            request_id_var.reset(token)
        HTTP_LATENCY.labels(request.method).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(request.method, str(response.status_code)).inc()
        response.headers["X-Request-ID"] = request_id
        return response
