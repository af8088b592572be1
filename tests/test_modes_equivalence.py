"""The same request sequence gives the same API answers embedded (SQLite + embedded bus) and
distributed (PostgreSQL + Kafka)."""

from fastapi.testclient import TestClient

from tests.toy import service as toy

SEQUENCE = [
    ("PUT", "/api/v1/toy/quotas/310000", {"city_code": "310000", "quota": "200000"}),
    ("PUT", "/api/v1/toy/quotas/330100", {"city_code": "330100", "quota": "123456.78"}),
    ("POST", "/api/v1/toy/uplifts", {"uplift_id": "u1", "city_code": "310000", "percent": "15"}),
    ("POST", "/api/v1/toy/uplifts", {"uplift_id": "u2", "city_code": "330100", "percent": "7.5"}),
    ("GET", "/api/v1/toy/quotas/310000", None),
    ("GET", "/api/v1/toy/quotas/330100", None),
    ("GET", "/api/v1/toy/quotas/999999", None),
    ("PUT", "/api/v1/toy/quotas/1", {"quota": "abc"}),
]


def answers(host) -> list[tuple[int, object]]:
    results = []
    with TestClient(host.app()) as client:
        for method, path, body in SEQUENCE:
            response = client.request(method, path, json=body)
            host.wait_until_quiet(120)
            payload = response.json()
            if isinstance(payload, dict):
                payload = {k: v for k, v in payload.items() if k not in ("request_id", "event_id")}
            results.append((response.status_code, response.headers["content-type"], payload))
    return results


def test_embedded_and_distributed_answer_alike(embedded_host, kafka_host):
    embedded = answers(embedded_host([toy.SERVICE]))
    distributed = answers(kafka_host([toy.SERVICE]))
    assert embedded == distributed
    assert embedded[5][2] == {"city_code": "330100", "quota": "132716", "applied": 1}
    assert embedded[6][0] == 404 and embedded[7][0] == 422
