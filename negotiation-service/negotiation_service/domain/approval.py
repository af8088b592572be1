"""Joint approval: the regional director of the request's region AND finance must both approve,
in either order; either rejection rejects. Nobody decides their own request, and one person
cannot fill both slots (casebook C14)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from negotiation_service.domain.actors import FINANCE, Actor
from negotiation_service.domain.errors import ConflictError, ForbiddenError, RuleViolation, require_aware
from negotiation_service.domain.requests import (
    AdjustmentRequest,
    Decision,
    RequestStatus,
    Slot,
    Verdict,
)
from negotiation_service.domain.window import Window
from shared.timeutil import UTC

MAX_COMMENT_CHARS = 2000


def eligible_slots(actor: Actor, request: AdjustmentRequest) -> set[Slot]:
    slots = set()
    if actor.directs_region(request.region):
        slots.add(Slot.DIRECTOR)
    if actor.has(FINANCE):
        slots.add(Slot.FINANCE)
    return slots


def decide(
    request: AdjustmentRequest,
    window: Window,
    actor: Actor,
    verdict: Verdict | str,
    at: datetime,
    comment: str = "",
    slot: Slot | str | None = None,
    expected_version: int | None = None,
) -> AdjustmentRequest:
    """Record one approver's decision and return the request in its new state."""
    at = require_aware(at, "at")
    verdict = Verdict(verdict)
    window.require_open(at)
    if request.window_id != window.window_id:
        raise RuleViolation("window_mismatch", f"request {request.request_id} is not in window {window.window_id}")
    if expected_version is not None and expected_version != request.version:
        raise ConflictError(
            "stale_version",
            f"request {request.request_id} is at version {request.version}, not {expected_version}",
            version=request.version,
        )
    if not request.is_open:
        raise ConflictError(
            "request_not_pending", f"request {request.request_id} is {request.status.value}", request_status=request.status
        )
    if actor.user_id == request.requester_id:
        raise ForbiddenError("self_approval_forbidden", f"{actor.user_id} filed request {request.request_id}")
    chosen = _chosen_slot(actor, request, slot)
    other = Slot.FINANCE if chosen is Slot.DIRECTOR else Slot.DIRECTOR
    other_decision = request.decision_in(other)
    if other_decision is not None and other_decision.actor_id == actor.user_id:
        raise ForbiddenError(
            "same_approver_both_slots",
            f"{actor.user_id} already decided as {other.value}; the {chosen.value} slot needs someone else",
            request_status=request.status,
        )
    if request.decision_in(chosen) is not None:
        raise ConflictError(
            "slot_already_decided", f"the {chosen.value} slot of request {request.request_id} is already decided"
        )
    text = (comment or "").strip()
    if verdict is Verdict.REJECT and not text:
        raise RuleViolation("comment_required", "a rejection must say why")
    if len(text) > MAX_COMMENT_CHARS:
        raise RuleViolation("comment_too_long", f"comments are limited to {MAX_COMMENT_CHARS} characters")
    at_utc = at.astimezone(UTC)
    decision = Decision(chosen, actor.user_id, verdict, at_utc, text)
    changes: dict = {"updated_at": at_utc, "version": request.version + 1}
    changes["director" if chosen is Slot.DIRECTOR else "finance"] = decision
    if verdict is Verdict.REJECT:
        changes.update(status=RequestStatus.REJECTED, decided_at=at_utc)
    elif other_decision is not None:
        changes.update(status=RequestStatus.APPROVED, decided_at=at_utc)
    else:
        changes["status"] = (
            RequestStatus.PENDING_FINANCE if chosen is Slot.DIRECTOR else RequestStatus.PENDING_DIRECTOR
        )
    return replace(request, **changes)


def _chosen_slot(actor: Actor, request: AdjustmentRequest, slot: Slot | str | None) -> Slot:
    eligible = eligible_slots(actor, request)
    if slot is not None:
        chosen = Slot(slot)
        if chosen not in eligible:
            raise ForbiddenError(
                "not_an_approver",
                f"{actor.user_id} cannot decide as {chosen.value} for {request.city_name} ({request.region})",
            )
        return chosen
    if not eligible:
        raise ForbiddenError(
            "not_an_approver", f"{actor.user_id} is neither the {request.region} director nor finance"
        )
    if len(eligible) == 1:
        return next(iter(eligible))
    undecided = [s for s in sorted(eligible) if request.decision_in(s) is None]
    if len(undecided) == 1:
        return undecided[0]
    raise RuleViolation("slot_required", f"{actor.user_id} holds both approver roles: say which slot")
