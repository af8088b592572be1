"""The integrity record (诚信档案): approved claims scored against final actuals.

deviation = |actual − claim| / claim, flagged when strictly above 40%. A requester whose two most
recent scored requests are both flagged is view-only for the next negotiation round: every window
opened at or after the restriction instant and before the first such window closes. An admin can
lift a restriction with a recorded reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from negotiation_service.domain.actors import ADMIN, FINANCE, HQ_PLANNER, Actor
from negotiation_service.domain.errors import ConflictError, ForbiddenError, RuleViolation, require_aware
from negotiation_service.domain.requests import AdjustmentRequest, RequestStatus
from negotiation_service.domain.window import Window
from shared.money import round_half_up
from shared.timeutil import UTC, iso_shanghai

DEVIATION_LIMIT = Decimal("0.40")
DEVIATION_SHOWN = Decimal("0.0001")
FLAGS_TO_RESTRICT = 2


@dataclass(frozen=True)
class ScoredClaim:
    request_id: str
    user_id: str
    package_id: str
    city_code: str
    city_name: str
    region: str
    claim: Decimal
    actual: Decimal
    deviation: Decimal
    flagged: bool
    filed_at: datetime
    scored_at: datetime

    @property
    def deviation_shown(self) -> Decimal:
        return round_half_up(self.deviation, DEVIATION_SHOWN)


def deviation(claim: Decimal, actual: Decimal) -> Decimal:
    if claim <= 0:
        raise RuleViolation("claim_not_positive", f"cannot score a claim of {claim}")
    return abs(actual - claim) / claim


def score(request: AdjustmentRequest, actual: Decimal, at: datetime) -> ScoredClaim:
    at = require_aware(at, "at")
    if request.status is not RequestStatus.APPROVED:
        raise ConflictError("not_approved", f"only approved requests are scored, {request.request_id} is "
                            f"{request.status.value}")
    value = deviation(request.claim, actual)
    return ScoredClaim(
        request_id=request.request_id,
        user_id=request.requester_id,
        package_id=request.package_id,
        city_code=request.city_code,
        city_name=request.city_name,
        region=request.region,
        claim=request.claim,
        actual=actual,
        deviation=value,
        flagged=value > DEVIATION_LIMIT,
        filed_at=request.filed_at,
        scored_at=at.astimezone(UTC),
    )


def most_recent(history: Iterable[ScoredClaim], count: int = FLAGS_TO_RESTRICT) -> list[ScoredClaim]:
    ordered = sorted(history, key=lambda s: (s.scored_at, s.filed_at, s.request_id), reverse=True)
    return ordered[:count]


def earns_restriction(history: Sequence[ScoredClaim]) -> bool:
    """Whether the requester's two most recent scored requests are both flagged."""
    latest = most_recent(history)
    return len(latest) == FLAGS_TO_RESTRICT and all(s.flagged for s in latest)


@dataclass(frozen=True)
class Restriction:
    restriction_id: str
    user_id: str
    reason: str
    restricted_at: datetime
    until: datetime | None = None
    lifted_at: datetime | None = None
    lifted_by: str | None = None
    lift_reason: str | None = None

    @property
    def lifted(self) -> bool:
        return self.lifted_at is not None

    def covers(self, window: Window) -> bool:
        """Whether this restriction makes its user view-only in `window`."""
        if self.lifted or window.opened_at < self.restricted_at:
            return False
        return self.until is None or window.opened_at < self.until

    def message(self) -> str:
        until = iso_shanghai(self.until) if self.until else "the end of the next negotiation window"
        return f"view-only until {until}: {self.reason}"


def restriction_for(user_id: str, history: Sequence[ScoredClaim], restriction_id: str, at: datetime) -> Restriction | None:
    """A new restriction when the user's latest two scored requests are both flagged."""
    at = require_aware(at, "at")
    mine = [s for s in history if s.user_id == user_id]
    if not earns_restriction(mine):
        return None
    latest = most_recent(mine)
    detail = "; ".join(
        f"{s.city_name} claim {s.claim} actual {s.actual} deviation {s.deviation_shown:.2%}" for s in latest
    )
    reason = f"two most recent scored claims deviated over {DEVIATION_LIMIT:.0%}: {detail}"
    return Restriction(restriction_id, user_id, reason, at.astimezone(UTC))


def bind_to_window(restriction: Restriction, window: Window) -> Restriction:
    """When the first window after the restriction opens, the restriction ends with that window."""
    if restriction.until is None and not restriction.lifted and window.opened_at >= restriction.restricted_at:
        return replace(restriction, until=window.closes_at)
    return restriction


def active_restriction(restrictions: Iterable[Restriction], user_id: str, window: Window) -> Restriction | None:
    for restriction in restrictions:
        if restriction.user_id == user_id and restriction.covers(window):
            return restriction
    return None


def lift(restriction: Restriction, actor: Actor, reason: str, at: datetime) -> Restriction:
    at = require_aware(at, "at")
    if not actor.has(ADMIN):
        raise ForbiddenError("admin_only", "only an admin can lift a restriction")
    if restriction.lifted:
        raise ConflictError("already_lifted", f"restriction {restriction.restriction_id} is already lifted")
    text = (reason or "").strip()
    if not text:
        raise RuleViolation("reason_required", "lifting a restriction needs a recorded reason")
    return replace(restriction, lifted_at=at.astimezone(UTC), lifted_by=actor.user_id, lift_reason=text)


def may_view_record(actor: Actor, scored: ScoredClaim) -> bool:
    """The manager sees their own record, the regional director their region's, HQ everything."""
    if actor.roles & {HQ_PLANNER, ADMIN, FINANCE}:
        return True
    return actor.user_id == scored.user_id or actor.directs_region(scored.region)
