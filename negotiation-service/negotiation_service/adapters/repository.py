"""Rows ↔ domain objects, around `select()`. Writes with optimistic version checks."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from negotiation_service.adapters.tables import (
    final_lines,
    package_lines,
    package_versions,
    packages,
    requests,
    restrictions,
    scored_claims,
    windows,
)
from negotiation_service.domain.closing import OffsetPolicy
from negotiation_service.domain.errors import ConflictError, NotFoundError
from negotiation_service.domain.integrity import Restriction, ScoredClaim
from negotiation_service.domain.package import PackageLine, PackageSnapshot
from negotiation_service.domain.requests import (
    OPEN_STATUSES,
    AdjustmentRequest,
    Decision,
    ReasonCategory,
    RequestStatus,
    Slot,
    Verdict,
)
from negotiation_service.domain.window import Window, WindowStatus


class NegotiationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- packages ------------------------------------------------------------------------------
    def add_package(self, package: PackageSnapshot, received_at) -> None:
        self.session.execute(packages.insert().values(
            package_id=package.package_id, version=package.version, name=package.name,
            period_start=package.period_start, period_end=package.period_end, metric=package.metric,
            total=package.total, received_at=received_at,
        ))
        self.session.execute(package_lines.insert(), [
            dict(package_id=package.package_id, version=package.version, city_code=line.city_code,
                 city_name=line.city_name, region=line.region, tier=line.tier, base=line.base, target=line.target,
                 weight=line.weight, expense_budget=line.expense_budget)
            for line in package.lines
        ])

    def package(self, package_id: str, version: int) -> PackageSnapshot:
        head = self.session.execute(
            select(packages).where(packages.c.package_id == package_id, packages.c.version == version)
        ).first()
        if head is None:
            raise NotFoundError("package_not_found", f"package {package_id} v{version} is not known here")
        rows = self.session.execute(
            select(package_lines)
            .where(package_lines.c.package_id == package_id, package_lines.c.version == version)
            .order_by(package_lines.c.city_code)
        ).all()
        lines = tuple(PackageLine(r.city_code, r.city_name, r.region, r.tier, r.base, r.target, r.weight,
                                  r.expense_budget) for r in rows)
        return PackageSnapshot(head.package_id, head.version, head.name, head.period_start, head.period_end,
                               head.metric, head.total, lines)

    # -- windows -------------------------------------------------------------------------------
    def add_window(self, window: Window, policy: OffsetPolicy) -> None:
        self.session.execute(windows.insert().values(**_window_values(window), policy=policy.value))

    def window_exists_for(self, package_id: str, version: int) -> bool:
        return self.session.execute(
            select(windows.c.window_id).where(windows.c.package_id == package_id,
                                              windows.c.package_version == version)
        ).first() is not None

    def window(self, window_id: str, for_update: bool = False, shared_lock: bool = False) -> Window:
        """`shared_lock` (FOR SHARE on PostgreSQL) for actions inside the window, `for_update` for
        closing it: closing waits for actions in flight, and actions wait for a close in flight."""
        query = select(windows).where(windows.c.window_id == window_id)
        if for_update:
            query = query.with_for_update()
        elif shared_lock:
            query = query.with_for_update(read=True)
        row = self.session.execute(query).first()
        if row is None:
            raise NotFoundError("window_not_found", f"no window {window_id}")
        return _window(row)

    def record_package_version(self, package_id: str, version: int, source: str, reference: str | None,
                               at) -> bool:
        """Remember a version allocation announced; False when it was already known."""
        known = self.session.execute(select(package_versions.c.version).where(
            package_versions.c.package_id == package_id, package_versions.c.version == version)).first()
        if known is not None:
            return False
        self.session.execute(package_versions.insert().values(
            package_id=package_id, version=version, source=source, reference=reference, recorded_at=at))
        return True

    def latest_package_version(self, package_id: str) -> int | None:
        return self.session.execute(select(func.max(package_versions.c.version)).where(
            package_versions.c.package_id == package_id)).scalar_one_or_none()

    def window_policy(self, window_id: str) -> OffsetPolicy:
        return OffsetPolicy(self.session.execute(
            select(windows.c.policy).where(windows.c.window_id == window_id)).scalar_one())

    def windows(self, package_id: str | None = None) -> list[Window]:
        query = select(windows).order_by(windows.c.opened_at, windows.c.window_id)
        if package_id is not None:
            query = query.where(windows.c.package_id == package_id)
        return [_window(row) for row in self.session.execute(query).all()]

    def save_window(self, before: Window, after: Window) -> None:
        result = self.session.execute(
            windows.update()
            .where(windows.c.window_id == before.window_id, windows.c.version == before.version)
            .values(**_window_values(after))
        )
        if result.rowcount != 1:
            raise ConflictError("stale_version", f"window {before.window_id} changed meanwhile")

    # -- requests ------------------------------------------------------------------------------
    def add_request(self, request: AdjustmentRequest) -> None:
        self.session.execute(requests.insert().values(**_request_values(request)))

    def request(self, request_id: str) -> AdjustmentRequest:
        row = self.session.execute(select(requests).where(requests.c.request_id == request_id)).first()
        if row is None:
            raise NotFoundError("request_not_found", f"no request {request_id}")
        return _request(row)

    def requests(self, window_id: str | None = None, city_code: str | None = None,
                 package_id: str | None = None) -> list[AdjustmentRequest]:
        query = select(requests).order_by(requests.c.filed_at, requests.c.request_id)
        if window_id is not None:
            query = query.where(requests.c.window_id == window_id)
        if city_code is not None:
            query = query.where(requests.c.city_code == city_code)
        if package_id is not None:
            query = query.where(requests.c.package_id == package_id)
        return [_request(row) for row in self.session.execute(query).all()]

    def save_request(self, before: AdjustmentRequest, after: AdjustmentRequest) -> None:
        """Optimistic write: exactly one writer moves a request from a given version."""
        result = self.session.execute(
            requests.update()
            .where(requests.c.request_id == before.request_id, requests.c.version == before.version)
            .values(**_request_values(after))
        )
        if result.rowcount != 1:
            raise ConflictError("stale_version", f"request {before.request_id} was changed by someone else; "
                                "reload and try again", request_id=before.request_id)

    # -- final version ---------------------------------------------------------------------------
    def add_final_lines(self, window_id: str, lines) -> None:
        self.session.execute(final_lines.insert(), [
            dict(window_id=window_id, city_code=line.city_code, original_target=line.original_target,
                 final_target=line.final_target, change=line.change.value, request_id=line.request_id)
            for line in lines
        ])

    def final_lines(self, window_id: str) -> list:
        return self.session.execute(
            select(final_lines).where(final_lines.c.window_id == window_id).order_by(final_lines.c.city_code)
        ).all()

    # -- integrity -------------------------------------------------------------------------------
    def scored_ids(self, request_ids: Sequence[str]) -> set[str]:
        if not request_ids:
            return set()
        return set(self.session.execute(
            select(scored_claims.c.request_id).where(scored_claims.c.request_id.in_(list(request_ids)))
        ).scalars())

    def add_scored(self, scored: ScoredClaim) -> None:
        self.session.execute(scored_claims.insert().values(**scored.__dict__))

    def scored(self, user_id: str | None = None) -> list[ScoredClaim]:
        query = select(scored_claims).order_by(scored_claims.c.scored_at, scored_claims.c.request_id)
        if user_id is not None:
            query = query.where(scored_claims.c.user_id == user_id)
        return [ScoredClaim(**row._mapping) for row in self.session.execute(query).all()]

    def restrictions(self, user_id: str | None = None) -> list[Restriction]:
        query = select(restrictions).order_by(restrictions.c.restricted_at, restrictions.c.restriction_id)
        if user_id is not None:
            query = query.where(restrictions.c.user_id == user_id)
        return [Restriction(**row._mapping) for row in self.session.execute(query).all()]

    def add_restriction(self, restriction: Restriction) -> None:
        self.session.execute(restrictions.insert().values(**restriction.__dict__))

    def save_restriction(self, restriction: Restriction) -> None:
        values = dict(restriction.__dict__)
        self.session.execute(
            restrictions.update().where(restrictions.c.restriction_id == values.pop("restriction_id")).values(**values)
        )


def _window_values(window: Window) -> dict:
    return dict(window_id=window.window_id, package_id=window.package_id, package_version=window.package_version,
                opened_at=window.opened_at, closes_at=window.closes_at, status=window.status.value,
                closed_at=window.closed_at, version=window.version)


def _window(row) -> Window:
    return Window(row.window_id, row.package_id, row.package_version, row.opened_at, row.closes_at,
                  WindowStatus(row.status), row.closed_at, row.version)


def _request_values(request: AdjustmentRequest) -> dict:
    values = dict(
        request_id=request.request_id, window_id=request.window_id, package_id=request.package_id,
        city_code=request.city_code, city_name=request.city_name, region=request.region,
        requester_id=request.requester_id, current_target=request.current_target, claim=request.claim,
        category=request.category.value, reason=request.reason,
        evidence=json.dumps(list(request.evidence), ensure_ascii=False),
        filed_at=request.filed_at, updated_at=request.updated_at, status=request.status.value,
        decided_at=request.decided_at, version=request.version,
        blocking_city=request.city_code if request.is_open or request.status is RequestStatus.APPROVED else None,
    )
    for slot in Slot:
        decision = request.decision_in(slot)
        values[f"{slot.value}_actor"] = decision.actor_id if decision else None
        values[f"{slot.value}_verdict"] = decision.verdict.value if decision else None
        values[f"{slot.value}_at"] = decision.at if decision else None
        values[f"{slot.value}_comment"] = decision.comment if decision else None
    return values


def _decision(row, slot: Slot) -> Decision | None:
    actor = getattr(row, f"{slot.value}_actor")
    if actor is None:
        return None
    return Decision(slot, actor, Verdict(getattr(row, f"{slot.value}_verdict")), getattr(row, f"{slot.value}_at"),
                    getattr(row, f"{slot.value}_comment") or "")


def _request(row) -> AdjustmentRequest:
    return AdjustmentRequest(
        request_id=row.request_id, window_id=row.window_id, package_id=row.package_id, city_code=row.city_code,
        city_name=row.city_name, region=row.region, requester_id=row.requester_id,
        current_target=row.current_target, claim=row.claim, category=ReasonCategory(row.category),
        reason=row.reason, evidence=tuple(json.loads(row.evidence)), filed_at=row.filed_at,
        updated_at=row.updated_at, status=RequestStatus(row.status), director=_decision(row, Slot.DIRECTOR),
        finance=_decision(row, Slot.FINANCE), decided_at=row.decided_at, version=row.version,
    )


__all__ = ["OPEN_STATUSES", "NegotiationRepository"]
