"""A local stand-in for WeCom (企业微信) group robots: a real HTTP server on 127.0.0.1 that records
every message posted to `/cgi-bin/webhook/send?key=...` and answers like the real robot
(`{"errcode":0,"errmsg":"ok"}`). The alerts service is pointed at it with `ALERTS_WECOM_ROBOTS`,
one robot (key) per region."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

REGIONS = ("华东", "华南", "华北", "华中", "西南", "西北", "东北")
SEND_PATH = "/cgi-bin/webhook/send"


@dataclass(frozen=True)
class RobotMessage:
    key: str
    body: dict


class LocalWeComRobots:
    def __init__(self) -> None:
        self.messages: list[RobotMessage] = []
        self._lock = threading.Lock()
        robots = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if url.path != SEND_PATH:
                    return self._answer(404, {"errcode": 404, "errmsg": "not found"})
                try:
                    body = json.loads(raw.decode("utf-8"))
                except ValueError:
                    return self._answer(200, {"errcode": 40008, "errmsg": "invalid message type"})
                key = parse_qs(url.query).get("key", [""])[0]
                with robots._lock:
                    robots.messages.append(RobotMessage(key, body))
                self._answer(200, {"errcode": 0, "errmsg": "ok"})

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="wecom-robots", daemon=True)

    def __enter__(self) -> LocalWeComRobots:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def robot_urls(self) -> dict[str, str]:
        """Region → robot URL, for `ALERTS_WECOM_ROBOTS` (a fallback `*` robot too)."""
        urls = {region: f"{self.base_url}{SEND_PATH}?key={quote(region)}" for region in REGIONS}
        urls["*"] = f"{self.base_url}{SEND_PATH}?key=fallback"
        return urls

    def alerts_env(self) -> dict[str, str]:
        return {"ALERTS_WECOM_ROBOTS": json.dumps(self.robot_urls(), ensure_ascii=False)}

    def received(self) -> list[RobotMessage]:
        with self._lock:
            return list(self.messages)
