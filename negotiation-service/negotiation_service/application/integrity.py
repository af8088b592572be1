"""Scoring approved claims when a period's actuals are final; lifting restrictions."""

from __future__ import annotations

from negotiation_service.adapters.audit_store import append_audit
from negotiation_service.adapters.repository import NegotiationRepository
from negotiation_service.domain.actors import Actor
from negotiation_service.domain.errors import NotFoundError
from negotiation_service.domain.integrity import Restriction, ScoredClaim, lift, restriction_for, score
from negotiation_service.domain.requests import RequestStatus
from shared.events.allocation import PeriodActualsFinalized
from shared.events.negotiation import RequesterRestricted
from shared.outbox import UnitOfWork

SYSTEM = "system"


def score_period(uow: UnitOfWork, event: PeriodActualsFinalized) -> list[ScoredClaim]:
    """Score each approved request on this package once (the request id is the business key)."""
    repo = NegotiationRepository(uow.session)
    now = uow.now()
    actuals = {city.city_code: city.actual for city in event.cities}
    approved = [r for r in repo.requests(package_id=event.package_id)
                if r.status is RequestStatus.APPROVED and r.city_code in actuals]
    already = repo.scored_ids([r.request_id for r in approved])
    new: list[ScoredClaim] = []
    for request in approved:
        if request.request_id in already:
            continue
        scored = score(request, actuals[request.city_code], now)
        repo.add_scored(scored)
        append_audit(uow.session, SYSTEM, now, "claim.scored", f"request:{request.request_id}", None,
                     {"claim": scored.claim, "actual": scored.actual, "deviation": scored.deviation_shown,
                      "flagged": scored.flagged})
        new.append(scored)
    for user_id in sorted({s.user_id for s in new}):
        restriction = restriction_for(user_id, repo.scored(user_id),
                                      f"res-{user_id}-{event.package_id}-v{event.version}", now)
        if restriction is None:
            continue
        repo.add_restriction(restriction)
        append_audit(uow.session, SYSTEM, now, "restriction.imposed", f"restriction:{restriction.restriction_id}",
                     None, {"user_id": user_id, "reason": restriction.reason})
        uow.publish(RequesterRestricted(user_id=user_id, reason=restriction.reason,
                                        restricted_at=restriction.restricted_at, until=None))
    return new


def lift_restriction(uow: UnitOfWork, actor: Actor, restriction_id: str, reason: str) -> Restriction:
    repo = NegotiationRepository(uow.session)
    found = [r for r in repo.restrictions() if r.restriction_id == restriction_id]
    if not found:
        raise NotFoundError("restriction_not_found", f"no restriction {restriction_id}")
    lifted = lift(found[0], actor, reason, uow.now())
    repo.save_restriction(lifted)
    append_audit(uow.session, actor.user_id, uow.now(), "restriction.lifted", f"restriction:{restriction_id}",
                 {"lifted": False}, {"lifted": True, "lift_reason": lifted.lift_reason})
    return lifted
