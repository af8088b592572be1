"""Posting notifications over HTTP (httpx): WeCom group robots and generic webhooks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class HttpResult:
    status: int | None
    body: Any  # parsed JSON, or the text when it is not JSON, or None
    error: str | None  # a transport error (connection refused, timeout, ...)


class HttpSender:
    def __init__(self, timeout_seconds: float = 5.0) -> None:
        self._client = httpx.Client(timeout=timeout_seconds, headers={"User-Agent": "quotaflow-alerts/1.0"})

    def post(self, url: str, content: str) -> HttpResult:
        try:
            response = self._client.post(
                url, content=content.encode("utf-8"), headers={"Content-Type": "application/json; charset=utf-8"}
            )
        except httpx.HTTPError as error:
            return HttpResult(None, None, f"{type(error).__name__}: {error}")
        try:
            body = response.json()
        except ValueError:
            body = response.text
        return HttpResult(response.status_code, body, None)

    def close(self) -> None:
        self._client.close()
