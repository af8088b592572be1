import hashlib
import json
from datetime import datetime, timedelta

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from shared.auth import Authenticator, CurrentPrincipal, Principal, load_api_keys, require_roles
from shared.settings import PlatformSettings
from shared.timeutil import UTC
from shared.web import create_service_api

SECRET = "a-test-secret-that-is-long-enough-0123456789"


def make_client(api_keys=None) -> tuple[TestClient, Authenticator]:
    authenticator = Authenticator(SECRET, api_keys=api_keys)
    router = APIRouter()

    @router.get("/me")
    def me(principal: CurrentPrincipal) -> dict:
        return {"sub": principal.subject, "roles": sorted(principal.roles), "kind": principal.kind}

    @router.post("/approve", dependencies=[require_roles("finance")])
    def approve() -> dict:
        return {"ok": True}

    app = create_service_api(name="t", title="t", description="t", routers=[router], authenticator=authenticator)
    return TestClient(app), authenticator


def test_bearer_token_roles_and_scope():
    client, auth = make_client()
    token = auth.mint("u_li", ["finance"], regions=["华东"], name="李")
    assert client.get("/me", headers={"Authorization": f"Bearer {token}"}).json() == {
        "sub": "u_li", "roles": ["finance"], "kind": "user"}
    assert client.post("/approve", headers={"Authorization": f"Bearer {token}"}).json() == {"ok": True}
    director = auth.mint("u_zhang", ["region_director"], regions=["华东"])
    refused = client.post("/approve", headers={"Authorization": f"Bearer {director}"})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "role_required"


def test_missing_expired_and_forged_tokens_are_401_problems():
    client, auth = make_client()
    assert client.get("/me").json()["code"] == "not_authenticated"
    expired = auth.mint("u", ["admin"], now=datetime.now(UTC) - timedelta(days=2), ttl=timedelta(hours=1))
    assert client.get("/me", headers={"Authorization": f"Bearer {expired}"}).json()["code"] == "token_expired"
    forged = Authenticator("another-secret-that-is-long-enough-000000").mint("u", ["admin"])
    response = client.get("/me", headers={"Authorization": f"Bearer {forged}"})
    assert (response.status_code, response.json()["code"]) == (401, "invalid_token")


def test_api_keys_for_bots(tmp_path):
    key_file = tmp_path / "keys.json"
    digest = hashlib.sha256(b"wecom-bot-key").hexdigest()
    key_file.write_text(json.dumps({digest: {"name": "wecom", "roles": ["city_manager"], "cities": ["310000"]}}))
    client, _ = make_client(load_api_keys(key_file))
    assert client.get("/me", headers={"X-API-Key": "wecom-bot-key"}).json() == {
        "sub": "api_key:wecom", "roles": ["city_manager"], "kind": "api_key"}
    assert client.get("/me", headers={"X-API-Key": "nope"}).status_code == 401


def test_scope():
    manager = Principal("m", frozenset({"city_manager"}), cities=frozenset({"310000"}))
    director = Principal("d", frozenset({"region_director"}), regions=frozenset({"华东"}))
    assert manager.sees_city("310000") and not manager.sees_city("330100", "华东")
    assert director.sees_city("330100", "华东") and not director.sees_city("440100", "华南")


def test_default_secret_is_refused_outside_development():
    with pytest.raises(ValueError, match="QUOTAFLOW_JWT_SECRET"):
        PlatformSettings(environment="production")
    assert PlatformSettings(environment="production", jwt_secret=SECRET).environment == "production"


def test_unknown_role_cannot_be_minted():
    with pytest.raises(ValueError):
        Authenticator(SECRET).mint("u", ["emperor"])


def test_401_says_how_to_authenticate():
    client, _ = make_client()
    response = client.get("/me")
    assert response.headers["www-authenticate"] == 'Bearer realm="quotaflow"'


def test_only_an_admin_moves_a_replay_clock(embedded_host):
    from tests.toy import service as toy

    host = embedded_host([toy.SERVICE], replay_clock_start="2016-06-30T09:00:00+08:00")
    with TestClient(host.app()) as client:
        body = {"now": "2016-07-03T09:00:00+08:00"}
        assert client.put("/_system/clock", json=body).status_code == 401
        planner = host.authenticator.mint("u_hq", ["hq_planner"])
        refused = client.put("/_system/clock", json=body, headers={"Authorization": f"Bearer {planner}"})
        assert (refused.status_code, refused.json()["code"]) == (403, "role_required")
        admin = host.authenticator.mint("u_admin", ["admin"])
        moved = client.put("/_system/clock", json=body, headers={"Authorization": f"Bearer {admin}"})
        assert moved.json() == {"now": "2016-07-03T01:00:00+00:00", "kind": "ReplayClock"}
        backwards = client.put("/_system/clock", json={"now": "2016-07-01T00:00:00+08:00"},
                               headers={"Authorization": f"Bearer {admin}"})
        assert (backwards.status_code, backwards.json()["code"]) == (409, "clock_backwards")
        naive = client.put("/_system/clock", json={"now": "2016-07-04T00:00:00"},
                           headers={"Authorization": f"Bearer {admin}"})
        assert naive.status_code == 422
