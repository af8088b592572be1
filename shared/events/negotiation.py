"""Events produced by the negotiation service."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from shared.events.base import DecimalStr, Event, UtcDatetime, event

NEGOTIATION_TOPIC = "quotaflow.negotiation"


@event
class WindowOpened(Event):
    TYPE = "negotiation.window_opened"
    TOPIC = NEGOTIATION_TOPIC
    KEY_FIELD = "package_id"
    DESCRIPTION = "A 72-hour negotiation window opened on a published package."

    window_id: str
    package_id: str
    package_version: int
    opened_at: UtcDatetime
    closes_at: UtcDatetime


@event
class WindowClosed(Event):
    TYPE = "negotiation.window_closed"
    TOPIC = NEGOTIATION_TOPIC
    KEY_FIELD = "package_id"
    DESCRIPTION = "A negotiation window closed; pending requests expired."

    window_id: str
    package_id: str
    closed_at: UtcDatetime
    approved: int
    rejected: int
    expired: int


@event
class RequestDecided(Event):
    TYPE = "negotiation.request_decided"
    TOPIC = NEGOTIATION_TOPIC
    KEY_FIELD = "package_id"
    DESCRIPTION = "An adjustment request reached a final decision (approved or rejected)."

    request_id: str
    window_id: str
    package_id: str
    city_code: str
    status: str
    claim: DecimalStr
    decided_at: UtcDatetime


class FinalLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    city_code: str
    target: DecimalStr
    adjustment: DecimalStr
    reason: str | None = None


@event
class TargetsFinalized(Event):
    TYPE = "negotiation.targets_finalized"
    TOPIC = NEGOTIATION_TOPIC
    KEY_FIELD = "package_id"
    DESCRIPTION = "The final version of a package after negotiation; allocation tracks it."

    window_id: str
    package_id: str
    base_version: int
    policy: str
    lines: list[FinalLine]
    pdf_sha256: str | None = None
    finalized_at: UtcDatetime


@event
class RequesterRestricted(Event):
    TYPE = "negotiation.requester_restricted"
    TOPIC = NEGOTIATION_TOPIC
    KEY_FIELD = "user_id"
    DESCRIPTION = "A manager's two latest scored claims deviated over 40%: view-only next window."

    user_id: str
    reason: str
    restricted_at: UtcDatetime
    until: UtcDatetime | None = None
