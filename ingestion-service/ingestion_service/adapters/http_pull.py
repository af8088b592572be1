"""Fetch a feed over HTTP with httpx: retries with backoff, ETag, an incremental cursor, pagination.

- A conditional request (`If-None-Match: <etag>`) answered `304` means nothing new.
- The cursor, when the source has one, is sent as `?<cursor_param>=<cursor>`; the next cursor is read
  from the `X-Next-Cursor` header of the last page.
- Pages are followed through `Link: <...>; rel="next"`.
- Connection errors, 429 and 5xx are retried (`Retry-After` honoured, capped); other errors are not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

RETRYABLE = {429, 500, 502, 503, 504}
MAX_PAGES = 10_000


class PullError(Exception):
    pass


@dataclass(frozen=True)
class Page:
    url: str
    data: bytes
    content_type: str | None


@dataclass(frozen=True)
class FetchResult:
    not_modified: bool
    pages: list[Page] = field(default_factory=list)
    etag: str | None = None
    cursor: str | None = None


class HttpFetcher:
    def __init__(self, client: httpx.Client | None = None, *, retries: int = 3, backoff_seconds: float = 0.5,
                 max_wait_seconds: float = 30.0, sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client or httpx.Client(timeout=httpx.Timeout(30.0), follow_redirects=True)
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.max_wait_seconds = max_wait_seconds
        self.sleep = sleep

    def close(self) -> None:
        self.client.close()

    def fetch(self, url: str, *, etag: str | None = None, cursor: str | None = None,
              cursor_param: str | None = None, headers: Mapping[str, str] | None = None) -> FetchResult:
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        params = {cursor_param: cursor} if cursor_param and cursor else None
        response = self._get(url, request_headers, params)
        if response.status_code == 304:
            return FetchResult(True, etag=etag, cursor=cursor)
        new_etag = response.headers.get("ETag") or etag
        pages = [Page(str(response.url), response.content, response.headers.get("content-type"))]
        next_cursor = response.headers.get("X-Next-Cursor")
        plain_headers = {k: v for k, v in request_headers.items() if k != "If-None-Match"}
        while "next" in response.links and len(pages) < MAX_PAGES:
            next_url = response.url.join(response.links["next"]["url"])
            response = self._get(str(next_url), plain_headers, None)
            pages.append(Page(str(response.url), response.content, response.headers.get("content-type")))
            next_cursor = response.headers.get("X-Next-Cursor") or next_cursor
        return FetchResult(False, pages, new_etag, next_cursor or cursor)

    def _get(self, url: str, headers: Mapping[str, str], params) -> httpx.Response:
        last_error: str = ""
        for attempt in range(self.retries + 1):
            try:
                response = self.client.get(url, headers=headers, params=params)
            except httpx.TransportError as error:
                last_error = f"{type(error).__name__}: {error}"
            else:
                if response.status_code not in RETRYABLE:
                    if response.status_code >= 400:
                        raise PullError(f"GET {url} answered {response.status_code}")
                    return response
                last_error = f"GET {url} answered {response.status_code}"
                if attempt < self.retries:
                    self.sleep(self._wait(attempt, response.headers.get("Retry-After")))
                    continue
                break
            if attempt < self.retries:
                self.sleep(self._wait(attempt, None))
        raise PullError(f"giving up after {self.retries + 1} attempts: {last_error}")

    def _wait(self, attempt: int, retry_after: str | None) -> float:
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), self.max_wait_seconds)
        return min(self.backoff_seconds * (2 ** attempt), self.max_wait_seconds)
