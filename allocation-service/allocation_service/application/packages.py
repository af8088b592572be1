"""Package versions: manual revisions (If-Match), rule uplifts and negotiated final targets.

Every change is a new immutable version with its provenance, announced as `targets_revised`.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from allocation_service.adapters.package_repository import PackageRepository
from allocation_service.application.events import target_lines
from allocation_service.domain.metrics import metric_named
from allocation_service.domain.versions import (
    OffsetInfeasible,
    Provenance,
    TargetVersion,
    UpliftError,
    apply_final_targets,
    apply_uplift,
    keep_region_totals,
)
from shared.events.alerts import UpliftRequested
from shared.events.allocation import Provenance as ProvenanceModel
from shared.events.allocation import TargetsRevised
from shared.events.negotiation import TargetsFinalized
from shared.problems import ProblemError

log = logging.getLogger("quotaflow.allocation")


def require_package(repository: PackageRepository, package_id: str):
    row = repository.package(package_id)
    if row is None:
        raise ProblemError(404, "package_not_found", f"No package {package_id}")
    return row


def current_version(repository: PackageRepository, package) -> TargetVersion:
    version = repository.version(package.id, package.current_version)
    if version is None:  # pragma: no cover - a package always has its current version
        raise ProblemError(500, "version_missing", f"{package.id} v{package.current_version} is missing")
    return version


def save_revision(uow, repository: PackageRepository, package, previous: TargetVersion, new: TargetVersion) -> None:
    if not repository.advance_version(package.id, previous.number, new.number):
        raise ProblemError(409, "stale_version", "The package changed since you read it",
                           current_version=repository.package(package.id).current_version)
    now = uow.now()
    repository.add_version(package.id, new, now)
    uow.publish(
        TargetsRevised(
            package_id=package.id, version=new.number, previous_version=previous.number,
            period_start=package.period_start, period_end=package.period_end, metric=package.metric,
            total=new.total, lines=target_lines(new),
            provenance=ProvenanceModel(source=new.provenance.source, reference=new.provenance.reference,
                                       note=new.provenance.note),
            revised_at=now,
        )
    )


def revise_manually(uow, package_id: str, expected_version: int, targets: dict[str, Decimal], note: str | None,
                    author: str, cache_key: str, allow_total_change: bool = False) -> int:
    """A new version with the given city targets (each manual edit is its own version).

    By default the package total does not move: in each region the other cities absorb the change in
    proportion to their allocation weights (`keep_region_totals`); when a region cannot, 409
    `total_mismatch`. With `allow_total_change` only the named cities change and the total moves.
    """
    repository = PackageRepository(uow.session, cache_key)
    package = require_package(repository, package_id)
    if package.current_version != expected_version:
        raise ProblemError(409, "stale_version", "The package changed since you read it",
                           current_version=package.current_version)
    if package.finalized:
        raise ProblemError(409, "package_finalized", "The period is closed")
    if package.superseded_at is not None:
        raise ProblemError(409, "package_superseded", f"The package was superseded by {package.superseded_by}",
                           superseded_by=package.superseded_by)
    previous = current_version(repository, package)
    quantum = metric_named(package.metric).quantum
    unknown = sorted(set(targets) - set(previous.lines))
    if unknown:
        raise ProblemError(422, "invalid_targets", f"cities not in the package: {unknown}", cities=unknown)
    for code, target in targets.items():
        if target % quantum:
            raise ProblemError(422, "target_not_whole", f"{code}: {target} is not a multiple of {quantum}")
    if not allow_total_change:
        try:
            targets = keep_region_totals(previous, targets, quantum)
        except OffsetInfeasible as error:
            raise ProblemError(
                409, "total_mismatch",
                f"{error}: the package total {format(previous.total, 'f')} would change; offset it yourself with "
                "other cities of the region or send allow_total_change: true",
                region=error.region, change=format(error.change, "f"), total=format(previous.total, "f"),
            ) from error
    try:
        new = apply_final_targets(previous, targets, Provenance("manual", author, note), quantum)
    except ValueError as error:
        raise ProblemError(422, "invalid_targets", str(error)) from error
    save_revision(uow, repository, package, previous, new)
    return new.number


def on_uplift_requested(event: UpliftRequested, _envelope, uow, cache_key: str = "") -> None:
    """Raise the city's daily targets in every open package covering the days; once per uplift id."""
    repository = PackageRepository(uow.session, cache_key)
    for package in repository.packages_covering(event.start_day, event.end_day):
        if repository.uplift_applied(event.uplift_id, package.id):
            continue
        previous = current_version(repository, package)
        if event.city_code not in previous.lines:
            continue
        try:
            new = apply_uplift(previous, event.uplift_id, event.city_code, event.percent, event.start_day,
                               event.end_day, event.reason, metric_named(package.metric).quantum)
        except UpliftError as error:
            log.warning("uplift %s not applied to %s: %s", event.uplift_id, package.id, error)
            continue
        if new is None:
            continue
        save_revision(uow, repository, package, previous, new)
        repository.record_uplift(event.uplift_id, package.id, new.number, uow.now())


def on_targets_finalized(event: TargetsFinalized, _envelope, uow, cache_key: str = "") -> None:
    """The negotiated final lines become a new version (once per negotiation window)."""
    repository = PackageRepository(uow.session, cache_key)
    package = repository.package(event.package_id)
    if package is None:
        log.warning("targets_finalized for unknown package %s", event.package_id)
        return
    if repository.version_with_reference(package.id, "negotiation", event.window_id) is not None:
        return
    previous = current_version(repository, package)
    targets = {line.city_code: line.target for line in event.lines if line.city_code in previous.lines}
    new = apply_final_targets(
        previous, targets, Provenance("negotiation", event.window_id, f"policy {event.policy}"),
        metric_named(package.metric).quantum,
    )
    save_revision(uow, repository, package, previous, new)
