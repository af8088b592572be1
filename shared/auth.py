"""Who is calling: JWT bearer tokens for people, API keys for bots and internal systems.

Roles: hq_planner, region_director, city_manager, finance, admin. A scope narrows a principal to
regions and/or cities; an empty scope means all. Authorisation is enforced in the API.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

import jwt
from fastapi import Depends, Request

from shared.problems import ProblemError
from shared.timeutil import UTC

ROLES = ("hq_planner", "region_director", "city_manager", "finance", "admin")


@dataclass(frozen=True)
class Principal:
    subject: str
    roles: frozenset[str]
    regions: frozenset[str] = field(default_factory=frozenset)
    cities: frozenset[str] = field(default_factory=frozenset)
    name: str | None = None
    kind: str = "user"  # user | api_key

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles)) or "admin" in self.roles

    def sees_region(self, region: str) -> bool:
        return not self.regions or region in self.regions

    def sees_city(self, city_code: str, region: str | None = None) -> bool:
        if self.cities:
            return city_code in self.cities
        if self.regions:
            return region is not None and region in self.regions
        return True


class Authenticator:
    def __init__(self, secret: str, issuer: str = "quotaflow", api_keys: dict[str, Principal] | None = None):
        self._secret = secret
        self._issuer = issuer
        self._api_keys = api_keys or {}  # sha256(key) -> principal

    def mint(
        self,
        subject: str,
        roles: Iterable[str],
        *,
        regions: Iterable[str] = (),
        cities: Iterable[str] = (),
        name: str | None = None,
        ttl: timedelta = timedelta(hours=12),
        now: datetime | None = None,
    ) -> str:
        roles = list(roles)
        unknown = set(roles) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown roles: {sorted(unknown)}")
        issued = now or datetime.now(UTC)
        claims = {
            "sub": subject,
            "iss": self._issuer,
            "iat": int(issued.timestamp()),
            "exp": int((issued + ttl).timestamp()),
            "roles": roles,
            "regions": list(regions),
            "cities": list(cities),
        }
        if name:
            claims["name"] = name
        return jwt.encode(claims, self._secret, algorithm="HS256")

    def from_token(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self._secret, algorithms=["HS256"], issuer=self._issuer)
        except jwt.ExpiredSignatureError as error:
            raise ProblemError(401, "token_expired", "The bearer token has expired") from error
        except jwt.InvalidTokenError as error:
            raise ProblemError(401, "invalid_token", f"The bearer token is invalid: {error}") from error
        return Principal(
            subject=claims["sub"],
            roles=frozenset(claims.get("roles", [])),
            regions=frozenset(claims.get("regions", [])),
            cities=frozenset(claims.get("cities", [])),
            name=claims.get("name"),
        )

    def from_api_key(self, key: str) -> Principal:
        principal = self._api_keys.get(hashlib.sha256(key.encode()).hexdigest())
        if principal is None:
            raise ProblemError(401, "invalid_api_key", "The API key is not known")
        return principal

    def authenticate(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return self.from_token(header[7:].strip())
        api_key = request.headers.get("x-api-key")
        if api_key:
            return self.from_api_key(api_key)
        raise ProblemError(401, "not_authenticated", "Send a bearer token or an X-API-Key header")


def load_api_keys(path: Path | None) -> dict[str, Principal]:
    """API keys file: {"<sha256 of key>": {"name": "...", "roles": [...], "regions": [...], "cities": [...]}}."""
    if path is None or not path.exists():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    return {
        digest: Principal(
            subject=f"api_key:{entry.get('name', digest[:8])}",
            roles=frozenset(entry.get("roles", [])),
            regions=frozenset(entry.get("regions", [])),
            cities=frozenset(entry.get("cities", [])),
            name=entry.get("name"),
            kind="api_key",
        )
        for digest, entry in raw.items()
    }


def current_principal(request: Request) -> Principal:
    authenticator: Authenticator = request.app.state.authenticator
    return authenticator.authenticate(request)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: str):
    """A dependency that lets through only principals holding one of `roles` (admin always)."""

    def _check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(*roles):
            raise ProblemError(
                403, "role_required", f"This needs one of the roles: {', '.join(roles)}", required_roles=list(roles)
            )
        return principal

    return Depends(_check)
