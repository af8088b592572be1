"""Opening a window on a published package, and closing it at its deadline (final version, PDF)."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from negotiation_service.adapters.audit_store import append_audit
from negotiation_service.adapters.final_pdf import render_final_pdf
from negotiation_service.adapters.repository import NegotiationRepository
from negotiation_service.adapters.scheduler_store import schedule
from negotiation_service.adapters.tables import documents
from negotiation_service.application.views import audit_state
from negotiation_service.domain.closing import OffsetPolicy, expire_pending, final_version
from negotiation_service.domain.errors import ConflictError
from negotiation_service.domain.final_document import FinalDocument
from negotiation_service.domain.integrity import bind_to_window
from negotiation_service.domain.package import PackageLine, PackageSnapshot
from negotiation_service.domain.requests import RequestStatus
from negotiation_service.domain.window import Window, WindowStatus, open_window
from shared.events.allocation import PackagePublished, TargetsRevised
from shared.events.negotiation import (
    FinalLine,
    RequesterRestricted,
    TargetsFinalized,
    WindowClosed,
    WindowOpened,
)
from shared.outbox import UnitOfWork

log = logging.getLogger("quotaflow.negotiation")

CLOSE_WINDOW = "close_window"
SYSTEM = "system"


def window_id_for(package_id: str, version: int) -> str:
    return f"win-{package_id}-v{version}"


def document_id_for(window_id: str) -> str:
    return f"doc-{window_id}"


def snapshot(event: PackagePublished) -> PackageSnapshot:
    lines = tuple(PackageLine(line.city_code, line.city_name, line.region, line.tier, line.base, line.target,
                              line.weight, line.expense_budget) for line in event.lines)
    return PackageSnapshot(event.package_id, event.version, event.name, event.period_start, event.period_end,
                           event.metric, event.total, lines)


def open_for_package(uow: UnitOfWork, event: PackagePublished, duration: timedelta,
                     policy: OffsetPolicy) -> Window | None:
    """Open the window (once per package version), schedule its close, bind pending restrictions."""
    repo = NegotiationRepository(uow.session)
    if repo.window_exists_for(event.package_id, event.version):
        return None
    now = uow.now()
    package = snapshot(event)
    window = open_window(window_id_for(event.package_id, event.version), event.package_id, event.version, now,
                         duration)
    repo.add_package(package, now)
    repo.record_package_version(package.package_id, package.version, "generated", None, now)
    repo.add_window(window, policy)
    schedule(uow.session, CLOSE_WINDOW, window.window_id, window.closes_at)
    append_audit(uow.session, SYSTEM, now, "window.opened", f"window:{window.window_id}", None,
                 {"package_id": package.package_id, "version": package.version, "opened_at": window.opened_at,
                  "closes_at": window.closes_at, "policy": policy.value, "total": package.total})
    uow.publish(WindowOpened(window_id=window.window_id, package_id=window.package_id,
                             package_version=window.package_version, opened_at=window.opened_at,
                             closes_at=window.closes_at))
    for restriction in repo.restrictions():
        bound = bind_to_window(restriction, window)
        if bound != restriction:
            repo.save_restriction(bound)
            append_audit(uow.session, SYSTEM, now, "restriction.bound", f"restriction:{bound.restriction_id}",
                         {"until": None}, {"until": bound.until, "window_id": window.window_id})
            uow.publish(RequesterRestricted(user_id=bound.user_id, reason=bound.reason,
                                            restricted_at=bound.restricted_at, until=bound.until))
    return window


@dataclass(frozen=True)
class ClosedWindow:
    window: Window
    document_id: str
    sha256: str
    pdf_path: Path | None


def close(uow: UnitOfWork, window_id: str, pdf_dir: Path | None = None) -> ClosedWindow | None:
    """Close a due window: expire pending requests, apply the approved ones, archive the PDF,
    publish the final version. Returns None when it was already closed."""
    repo = NegotiationRepository(uow.session)
    window = repo.window(window_id, for_update=True)
    if window.status is WindowStatus.CLOSED:
        return None
    now = uow.now()
    closed = window.close(window.closes_at)  # the rule's instant; `now` may be later after a restart
    before = repo.requests(window_id=window_id)
    after = expire_pending(before, window.closes_at)
    for old, new in zip(before, after):
        if new is not old:
            repo.save_request(old, new)
            append_audit(uow.session, SYSTEM, now, "request.expired", f"request:{new.request_id}",
                         audit_state(old), audit_state(new))
    package = repo.package(window.package_id, window.package_version)
    policy = repo.window_policy(window_id)
    try:
        final = final_version(package, after, policy)
    except ConflictError as error:  # approval checks feasibility, so this only guards old data
        log.error("window %s: %s; the total moves instead", window_id, error)
        final = final_version(package, after, OffsetPolicy.MOVE_TOTAL)
    repo.add_final_lines(window_id, final.lines)
    # Allocation adds the final lines as the version after the latest one it has announced to us.
    next_version = max(repo.latest_package_version(window.package_id) or 0, window.package_version) + 1
    rendered = render_final_pdf(FinalDocument.build(package, closed, final, after, now, next_version))
    document_id = document_id_for(window_id)
    filename = f"{window_id}.pdf"
    uow.session.execute(documents.insert().values(
        document_id=document_id, window_id=window_id, filename=filename, media_type="application/pdf",
        sha256=rendered.sha256, size=len(rendered.content), content=rendered.content, created_at=now,
        final_version=next_version,
    ))
    repo.save_window(window, closed)
    counts = Counter(request.status for request in after)
    append_audit(uow.session, SYSTEM, now, "window.closed", f"window:{window_id}",
                 {"status": window.status.value},
                 {"status": closed.status.value, "closed_at": closed.closed_at, "policy": final.policy.value,
                  "final_total": final.total, "pdf_sha256": rendered.sha256, "final_version": next_version,
                  "approved": counts[RequestStatus.APPROVED], "rejected": counts[RequestStatus.REJECTED],
                  "expired": counts[RequestStatus.EXPIRED]})
    uow.publish(WindowClosed(window_id=window_id, package_id=window.package_id, closed_at=closed.closed_at,
                             approved=counts[RequestStatus.APPROVED], rejected=counts[RequestStatus.REJECTED],
                             expired=counts[RequestStatus.EXPIRED]))
    reasons = {request.request_id: f"{request.category.value}: {request.reason}" for request in after}
    uow.publish(TargetsFinalized(
        window_id=window_id, package_id=window.package_id, base_version=window.package_version,
        policy=final.policy.value,
        lines=[FinalLine(city_code=line.city_code, target=line.final_target, adjustment=line.adjustment,
                         reason=reasons.get(line.request_id) if line.request_id else
                         ("offset" if line.adjustment != 0 else None))
               for line in final.lines],
        pdf_sha256=rendered.sha256, finalized_at=now,
    ))
    pdf_path = None
    if pdf_dir is not None:
        pdf_dir.mkdir(parents=True, exist_ok=True)
        pdf_path = pdf_dir / filename
        pdf_path.write_bytes(rendered.content)
    return ClosedWindow(closed, document_id, rendered.sha256, pdf_path)


def document(session, document_id: str):
    return session.execute(select(documents).where(documents.c.document_id == document_id)).first()


def final_version_of(session, window_id: str) -> int | None:
    """The package version a closed window's final lines became (None before the close)."""
    return session.execute(select(documents.c.final_version).where(documents.c.window_id == window_id)).scalar()


def record_revision(uow: UnitOfWork, event: TargetsRevised, pdf_dir: Path | None = None) -> None:
    """Remember the package's new version. When it is the version a closed window's final lines
    became and the archived PDF named another number (a revision overtook the close), render the
    PDF again with the right number and record the replacement in the audit trail."""
    repo = NegotiationRepository(uow.session)
    if not repo.record_package_version(event.package_id, event.version, event.provenance.source,
                                       event.provenance.reference, uow.now()):
        return
    if event.provenance.source != "negotiation" or not event.provenance.reference:
        return
    window_id = event.provenance.reference
    row = document(uow.session, document_id_for(window_id))
    if row is None or row.final_version == event.version:
        return
    window = repo.window(window_id)
    package = repo.package(window.package_id, window.package_version)
    closed_requests = repo.requests(window_id=window_id)
    policy = repo.window_policy(window_id)
    try:
        final = final_version(package, closed_requests, policy)
    except ConflictError:  # as at the close
        final = final_version(package, closed_requests, OffsetPolicy.MOVE_TOTAL)
    rendered = render_final_pdf(
        FinalDocument.build(package, window, final, closed_requests, row.created_at, event.version))
    uow.session.execute(documents.update().where(documents.c.document_id == row.document_id).values(
        sha256=rendered.sha256, size=len(rendered.content), content=rendered.content, final_version=event.version))
    append_audit(uow.session, SYSTEM, uow.now(), "document.rendered_again", f"document:{row.document_id}",
                 {"final_version": row.final_version, "sha256": row.sha256},
                 {"final_version": event.version, "sha256": rendered.sha256})
    if pdf_dir is not None:
        pdf_dir.mkdir(parents=True, exist_ok=True)
        (pdf_dir / row.filename).write_bytes(rendered.content)
