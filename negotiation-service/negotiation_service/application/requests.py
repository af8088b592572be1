"""Commands on adjustment requests: file, amend, approve/reject. Each runs inside a unit of work
that the caller commits."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from negotiation_service.adapters.audit_store import append_audit
from negotiation_service.adapters.repository import NegotiationRepository
from negotiation_service.application.views import audit_state
from negotiation_service.domain.actors import Actor
from negotiation_service.domain.approval import decide
from negotiation_service.domain.closing import OffsetPolicy, final_version
from negotiation_service.domain.errors import ConflictError, ForbiddenError
from negotiation_service.domain.integrity import active_restriction
from negotiation_service.domain.requests import (
    AdjustmentRequest,
    Claim,
    RequestStatus,
    Slot,
    Verdict,
    amend_request,
    decision_action,
    file_request,
)
from negotiation_service.domain.window import Window
from shared.events.negotiation import RequestDecided
from shared.outbox import UnitOfWork


def _check_restriction(repo: NegotiationRepository, actor: Actor, window: Window) -> None:
    restriction = active_restriction(repo.restrictions(actor.user_id), actor.user_id, window)
    if restriction is not None:
        raise ForbiddenError("requester_restricted", restriction.message(), reason=restriction.reason,
                             until=restriction.until, restriction_id=restriction.restriction_id)


def file(uow: UnitOfWork, actor: Actor, window_id: str, claim: Claim) -> AdjustmentRequest:
    repo = NegotiationRepository(uow.session)
    window = repo.window(window_id, shared_lock=True)
    now = uow.now()
    window.require_open(now)
    _check_restriction(repo, actor, window)
    package = repo.package(window.package_id, window.package_version)
    existing = repo.requests(window_id=window_id, city_code=claim.city_code)
    request_id = f"{window_id}.{claim.city_code}.{len(existing) + 1}"
    request = file_request(request_id, window, package, actor, claim, now, existing)
    repo.add_request(request)
    append_audit(uow.session, actor.user_id, now, "request.filed", f"request:{request_id}", None, audit_state(request))
    return request


def amend(uow: UnitOfWork, actor: Actor, request_id: str, *, claim: Decimal | None = None, category: str | None = None,
          reason: str | None = None, evidence: Sequence[str] | None = None,
          expected_version: int | None = None) -> AdjustmentRequest:
    repo = NegotiationRepository(uow.session)
    before = repo.request(request_id)
    window = repo.window(before.window_id, shared_lock=True)
    now = uow.now()
    window.require_open(now)
    _check_restriction(repo, actor, window)
    _expect(before, expected_version)
    after = amend_request(before, window, actor, now, claim, category, reason, evidence)
    repo.save_request(before, after)
    append_audit(uow.session, actor.user_id, now, "request.amended", f"request:{request_id}",
                 audit_state(before), audit_state(after))
    return after


def decide_request(uow: UnitOfWork, actor: Actor, request_id: str, verdict: Verdict, comment: str,
                   slot: Slot | None = None, expected_version: int | None = None) -> AdjustmentRequest:
    repo = NegotiationRepository(uow.session)
    before = repo.request(request_id)
    window = repo.window(before.window_id, shared_lock=True)
    now = uow.now()
    after = decide(before, window, actor, verdict, now, comment, slot, expected_version)
    if after.status is RequestStatus.APPROVED:
        _check_offset_feasible(repo, window, after)
    repo.save_request(before, after)
    append_audit(uow.session, actor.user_id, now, decision_action(verdict, _slot_of(before, after)),
                 f"request:{request_id}", audit_state(before), audit_state(after))
    if after.status in (RequestStatus.APPROVED, RequestStatus.REJECTED):
        uow.publish(RequestDecided(
            request_id=after.request_id, window_id=after.window_id, package_id=after.package_id,
            city_code=after.city_code, status=after.status.value, claim=after.claim, decided_at=after.decided_at,
        ))
    return after


def _check_offset_feasible(repo: NegotiationRepository, window: Window, approved: AdjustmentRequest) -> None:
    """Approving must leave a final version that exists (raises 409 offset_infeasible otherwise)."""
    policy = repo.window_policy(window.window_id)
    if policy is not OffsetPolicy.KEEP_TOTAL:
        return
    package = repo.package(window.package_id, window.package_version)
    others = [r for r in repo.requests(window_id=window.window_id)
              if r.status is RequestStatus.APPROVED and r.request_id != approved.request_id]
    final_version(package, [*others, approved], policy)


def _slot_of(before: AdjustmentRequest, after: AdjustmentRequest) -> Slot:
    return Slot.DIRECTOR if before.director != after.director else Slot.FINANCE


def _expect(request: AdjustmentRequest, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != request.version:
        raise ConflictError("stale_version", f"request {request.request_id} is at version {request.version}",
                            version=request.version)
