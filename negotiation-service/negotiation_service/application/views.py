"""Plain JSON-ready views of domain objects, for the audit trail and the API."""

from __future__ import annotations

from negotiation_service.domain.audit import jsonable
from negotiation_service.domain.requests import AdjustmentRequest
from negotiation_service.domain.window import Window
from shared.timeutil import iso_shanghai


def request_view(request: AdjustmentRequest) -> dict:
    view = jsonable(request)
    view["change"] = format(request.change, "f")
    view["filed_at_local"] = iso_shanghai(request.filed_at)
    view["decided_at_local"] = iso_shanghai(request.decided_at) if request.decided_at else None
    for slot in ("director", "finance"):
        if view.get(slot):
            view[slot]["at_local"] = iso_shanghai(getattr(request, slot).at)
    return view


def window_view(window: Window) -> dict:
    view = jsonable(window)
    view["opened_at_local"] = iso_shanghai(window.opened_at)
    view["closes_at_local"] = iso_shanghai(window.closes_at)
    view["closed_at_local"] = iso_shanghai(window.closed_at) if window.closed_at else None
    return view


def audit_state(request: AdjustmentRequest) -> dict:
    """What the audit trail records about a request: the fields that can change."""
    return {
        "status": request.status.value, "claim": request.claim, "category": request.category.value,
        "reason": request.reason, "evidence": list(request.evidence), "version": request.version,
        "director": jsonable(request.director), "finance": jsonable(request.finance),
    }
