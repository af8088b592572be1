"""Adjustment requests: filing and amending, within scope, one open request per city per window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from negotiation_service.domain.actors import Actor
from negotiation_service.domain.errors import ConflictError, ForbiddenError, RuleViolation, require_aware
from negotiation_service.domain.package import PackageSnapshot
from negotiation_service.domain.window import Window
from shared.money import YUAN
from shared.timeutil import UTC

MAX_REASON_CHARS = 2000
MAX_EVIDENCE_REFS = 20
MAX_EVIDENCE_CHARS = 500
MAX_CLAIM_DIGITS = 15  # whole digits of a claimed target (a quadrillion yuan is beyond any city)


class ReasonCategory(StrEnum):
    NEW_STORE = "new_store"
    MAJOR_EVENT = "major_event"
    POLICY_CHANGE = "policy_change"
    COMPETITOR = "competitor"
    WEATHER = "weather"
    OTHER = "other"


class RequestStatus(StrEnum):
    PENDING = "pending"
    PENDING_FINANCE = "pending_finance"  # the regional director approved
    PENDING_DIRECTOR = "pending_director"  # finance approved
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


OPEN_STATUSES = frozenset({RequestStatus.PENDING, RequestStatus.PENDING_FINANCE, RequestStatus.PENDING_DIRECTOR})


class Slot(StrEnum):
    DIRECTOR = "director"
    FINANCE = "finance"


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"

    @property
    def past_tense(self) -> str:
        return _PAST_TENSE[self]


_PAST_TENSE = {Verdict.APPROVE: "approved", Verdict.REJECT: "rejected"}


def decision_action(verdict: Verdict, slot: Slot) -> str:
    """The audit trail's action for one approver's decision, e.g. `request.rejected_as_finance`.
    (Rows written before this was fixed say `request.rejectd_as_...`; they stay as written: the chain
    hashes them.)"""
    return f"request.{Verdict(verdict).past_tense}_as_{Slot(slot).value}"


@dataclass(frozen=True)
class Decision:
    slot: Slot
    actor_id: str
    verdict: Verdict
    at: datetime
    comment: str


@dataclass(frozen=True)
class AdjustmentRequest:
    request_id: str
    window_id: str
    package_id: str
    city_code: str
    city_name: str
    region: str
    requester_id: str
    current_target: Decimal
    claim: Decimal
    category: ReasonCategory
    reason: str
    evidence: tuple[str, ...]
    filed_at: datetime
    updated_at: datetime
    status: RequestStatus = RequestStatus.PENDING
    director: Decision | None = None
    finance: Decision | None = None
    decided_at: datetime | None = None
    version: int = 1

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def change(self) -> Decimal:
        """The requested change to the city's target (negative: asks for less)."""
        return self.claim - self.current_target

    def decision_in(self, slot: Slot) -> Decision | None:
        return self.director if slot is Slot.DIRECTOR else self.finance


@dataclass(frozen=True)
class Claim:
    """What the requester asks for: the new target, why, and evidence."""

    city_code: str
    claim: Decimal
    category: ReasonCategory | str
    reason: str
    evidence: Sequence[str] = ()


def file_request(
    request_id: str,
    window: Window,
    package: PackageSnapshot,
    actor: Actor,
    claim: Claim,
    at: datetime,
    existing_for_city: Sequence[AdjustmentRequest] = (),
    restriction_message: str | None = None,
    quantum: Decimal = YUAN,
) -> AdjustmentRequest:
    """File a request. `existing_for_city` are this window's requests for the same city;
    `restriction_message` is set when the actor is view-only for this window (see integrity)."""
    at = require_aware(at, "at")
    window.require_open(at)
    if package.package_id != window.package_id:
        raise RuleViolation("package_mismatch", f"window {window.window_id} is not on package {package.package_id}")
    line = package.line(claim.city_code)
    if restriction_message is not None:
        raise ForbiddenError("requester_restricted", restriction_message)
    if not actor.may_file_for(line.city_code, line.region):
        raise ForbiddenError(
            "out_of_scope",
            f"{actor.user_id} may not file for {line.city_name} ({line.city_code}, {line.region})",
        )
    for other in existing_for_city:
        if other.is_open:
            raise ConflictError(
                "open_request_exists",
                f"request {other.request_id} is already open for {line.city_name}; amend it instead",
                request_id=other.request_id,
            )
        if other.status is RequestStatus.APPROVED:
            raise ConflictError(
                "request_already_approved",
                f"request {other.request_id} for {line.city_name} is already approved in this window",
                request_id=other.request_id,
            )
    category, reason, evidence = _validated_reason(claim.category, claim.reason, claim.evidence)
    amount = _validated_claim(claim.claim, quantum)
    at_utc = at.astimezone(UTC)
    return AdjustmentRequest(
        request_id=request_id,
        window_id=window.window_id,
        package_id=package.package_id,
        city_code=line.city_code,
        city_name=line.city_name,
        region=line.region,
        requester_id=actor.user_id,
        current_target=line.target,
        claim=amount,
        category=category,
        reason=reason,
        evidence=evidence,
        filed_at=at_utc,
        updated_at=at_utc,
    )


def amend_request(
    request: AdjustmentRequest,
    window: Window,
    actor: Actor,
    at: datetime,
    claim: Decimal | None = None,
    category: ReasonCategory | str | None = None,
    reason: str | None = None,
    evidence: Sequence[str] | None = None,
    restriction_message: str | None = None,
    quantum: Decimal = YUAN,
) -> AdjustmentRequest:
    """Amend an open request (its requester only). Any approval already given is cleared: the
    approvers approved a different claim."""
    at = require_aware(at, "at")
    window.require_open(at)
    if restriction_message is not None:
        raise ForbiddenError("requester_restricted", restriction_message)
    if actor.user_id != request.requester_id:
        raise ForbiddenError("not_requester", f"only {request.requester_id} may amend request {request.request_id}")
    if not request.is_open:
        raise ConflictError(
            "request_not_pending", f"request {request.request_id} is {request.status.value}", request_status=request.status
        )
    new_category, new_reason, new_evidence = _validated_reason(
        request.category if category is None else category,
        request.reason if reason is None else reason,
        request.evidence if evidence is None else evidence,
    )
    new_claim = request.claim if claim is None else _validated_claim(claim, quantum)
    return replace(
        request,
        claim=new_claim,
        category=new_category,
        reason=new_reason,
        evidence=new_evidence,
        status=RequestStatus.PENDING,
        director=None,
        finance=None,
        updated_at=at.astimezone(UTC),
        version=request.version + 1,
    )


def expire_request(request: AdjustmentRequest, at: datetime) -> AdjustmentRequest:
    at = require_aware(at, "at")
    if not request.is_open:
        return request
    return replace(
        request, status=RequestStatus.EXPIRED, decided_at=at.astimezone(UTC), updated_at=at.astimezone(UTC),
        version=request.version + 1,
    )


def _validated_claim(value: Decimal, quantum: Decimal) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise RuleViolation("invalid_claim", f"the claim must be a finite Decimal, got {value!r}")
    if value.adjusted() >= MAX_CLAIM_DIGITS:  # before any arithmetic: 1e309 exceeds the Decimal context
        raise RuleViolation("claim_too_large", f"the claimed target has more than {MAX_CLAIM_DIGITS} digits")
    if value <= 0:
        raise RuleViolation("claim_not_positive", f"the claimed target must be above zero, got {value}")
    if value % quantum != 0:
        raise RuleViolation("claim_not_whole", f"the claimed target must be a multiple of {quantum}, got {value}")
    return value


def _validated_reason(
    category: ReasonCategory | str, reason: str, evidence: Sequence[str]
) -> tuple[ReasonCategory, str, tuple[str, ...]]:
    try:
        checked_category = ReasonCategory(category)
    except ValueError:
        allowed = ", ".join(c.value for c in ReasonCategory)
        raise RuleViolation("invalid_category", f"reason category must be one of {allowed}, got {category!r}") from None
    text = (reason or "").strip()
    if not text:
        raise RuleViolation("reason_required", "a reason in words is required")
    if len(text) > MAX_REASON_CHARS:
        raise RuleViolation("reason_too_long", f"the reason is limited to {MAX_REASON_CHARS} characters")
    refs = tuple(ref.strip() for ref in evidence)
    if len(refs) > MAX_EVIDENCE_REFS or any(not ref or len(ref) > MAX_EVIDENCE_CHARS for ref in refs):
        raise RuleViolation(
            "invalid_evidence",
            f"up to {MAX_EVIDENCE_REFS} non-empty evidence references of at most {MAX_EVIDENCE_CHARS} characters",
        )
    return checked_category, text, refs
