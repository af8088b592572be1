"""Scenarios, packages and their immutable versions."""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from allocation_service.adapters.fact_store import upsert
from allocation_service.adapters.tables import (
    applied_uplifts,
    city_attainment,
    package_versions,
    packages,
    scenarios,
)
from allocation_service.application.codec import version_from_json, version_line_json
from allocation_service.domain.versions import Provenance, TargetVersion

_VERSION_CACHE: dict[tuple[str, str, int], TargetVersion] = {}
_CACHE_LOCK = threading.Lock()


class PackageRepository:
    def __init__(self, session: Session, cache_key: str = "") -> None:
        self.session = session
        self._cache_key = cache_key  # one cache namespace per database

    # -- scenarios -------------------------------------------------------------------------
    def add_scenario(self, **values) -> None:
        self.session.execute(scenarios.insert().values(version=1, **values))

    def scenario(self, scenario_id: str):
        return self.session.execute(select(scenarios).where(scenarios.c.id == scenario_id)).first()

    def scenarios(self, status: str | None = None) -> list:
        query = select(
            scenarios.c.id, scenarios.c.name, scenarios.c.status, scenarios.c.period_start, scenarios.c.period_end,
            scenarios.c.metric, scenarios.c.model, scenarios.c.total, scenarios.c.package_id,
            scenarios.c.created_by, scenarios.c.created_at, scenarios.c.version,
        ).order_by(scenarios.c.created_at, scenarios.c.id)
        if status:
            query = query.where(scenarios.c.status == status)
        return list(self.session.execute(query))

    def set_scenario_status(self, scenario_id: str, expected_version: int, status: str, package_id: str | None = None) -> bool:
        result = self.session.execute(
            scenarios.update()
            .where(scenarios.c.id == scenario_id, scenarios.c.version == expected_version)
            .values(status=status, package_id=package_id, version=expected_version + 1)
        )
        return result.rowcount == 1

    # -- packages --------------------------------------------------------------------------
    def add_package(self, **values) -> None:
        self.session.execute(packages.insert().values(finalized=False, **values))

    def package(self, package_id: str):
        return self.session.execute(select(packages).where(packages.c.id == package_id)).first()

    def packages(self, active_only: bool = False, include_superseded: bool = True) -> list:
        """Every package (oldest first); `active_only`: neither finalized nor superseded."""
        query = select(packages).order_by(packages.c.published_at, packages.c.id)
        if active_only:
            query = query.where(packages.c.finalized.is_(False), packages.c.superseded_at.is_(None))
        elif not include_superseded:
            query = query.where(packages.c.superseded_at.is_(None))
        return list(self.session.execute(query))

    def packages_covering(self, first_day: date, last_day: date) -> list:
        """Open (not finalized, not superseded) packages whose period meets first_day…last_day."""
        query = select(packages).where(
            packages.c.finalized.is_(False), packages.c.superseded_at.is_(None),
            packages.c.period_start <= last_day, packages.c.period_end >= first_day,
        ).order_by(packages.c.id)
        return list(self.session.execute(query))

    def live_packages_for(self, period_start: date, period_end: date, metric: str) -> list:
        """Packages not superseded for exactly this period and metric."""
        query = select(packages).where(
            packages.c.period_start == period_start, packages.c.period_end == period_end,
            packages.c.metric == metric, packages.c.superseded_at.is_(None),
        ).order_by(packages.c.id)
        return list(self.session.execute(query))

    def supersede(self, package_id: str, by: str, at: datetime) -> bool:
        result = self.session.execute(
            packages.update()
            .where(packages.c.id == package_id, packages.c.superseded_at.is_(None))
            .values(superseded_by=by, superseded_at=at)
        )
        return result.rowcount == 1

    def advance_version(self, package_id: str, expected: int, new: int) -> bool:
        result = self.session.execute(
            packages.update()
            .where(packages.c.id == package_id, packages.c.current_version == expected)
            .values(current_version=new)
        )
        return result.rowcount == 1

    def mark_finalized(self, package_id: str, at: datetime) -> bool:
        result = self.session.execute(
            packages.update()
            .where(packages.c.id == package_id, packages.c.finalized.is_(False))
            .values(finalized=True, finalized_at=at)
        )
        return result.rowcount == 1

    # -- versions --------------------------------------------------------------------------
    def add_version(self, package_id: str, version: TargetVersion, at: datetime) -> None:
        lines = [version_line_json(line) for _, line in sorted(version.lines.items())]
        self.session.execute(
            package_versions.insert().values(
                package_id=package_id,
                number=version.number,
                total=version.total,
                source=version.provenance.source,
                reference=version.provenance.reference,
                note=version.provenance.note,
                lines=json.dumps(lines, ensure_ascii=False),
                created_at=at,
            )
        )

    def version(self, package_id: str, number: int) -> TargetVersion | None:
        key = (self._cache_key, package_id, number)
        with _CACHE_LOCK:
            cached = _VERSION_CACHE.get(key)
        if cached is None:
            row = self.session.execute(
                select(package_versions).where(
                    package_versions.c.package_id == package_id, package_versions.c.number == number
                )
            ).first()
            if row is None:
                return None
            cached = version_from_json(number, json.loads(row.lines), Provenance(row.source, row.reference, row.note))
            with _CACHE_LOCK:
                if len(_VERSION_CACHE) > 256:
                    _VERSION_CACHE.clear()
                _VERSION_CACHE[key] = cached
        uplifts = frozenset(
            row[0] for row in self.session.execute(
                select(applied_uplifts.c.uplift_id).where(applied_uplifts.c.package_id == package_id)
            )
        )
        return TargetVersion(cached.number, cached.lines, cached.provenance, uplifts)

    def versions(self, package_id: str) -> list:
        query = select(
            package_versions.c.number, package_versions.c.total, package_versions.c.source,
            package_versions.c.reference, package_versions.c.note, package_versions.c.created_at,
        ).where(package_versions.c.package_id == package_id).order_by(package_versions.c.number)
        return list(self.session.execute(query))

    def version_with_reference(self, package_id: str, source: str, reference: str) -> int | None:
        return self.session.execute(
            select(package_versions.c.number).where(
                package_versions.c.package_id == package_id,
                package_versions.c.source == source,
                package_versions.c.reference == reference,
            )
        ).scalar()

    # -- uplifts and attainment emissions ----------------------------------------------------
    def uplift_applied(self, uplift_id: str, package_id: str) -> bool:
        return self.session.execute(
            select(applied_uplifts.c.version).where(
                applied_uplifts.c.uplift_id == uplift_id, applied_uplifts.c.package_id == package_id
            )
        ).first() is not None

    def record_uplift(self, uplift_id: str, package_id: str, version: int, at: datetime) -> None:
        self.session.execute(
            applied_uplifts.insert().values(uplift_id=uplift_id, package_id=package_id, version=version, applied_at=at)
        )

    def attainment_state(self, package_id: str, city_code: str):
        return self.session.execute(
            select(city_attainment).where(
                city_attainment.c.package_id == package_id, city_attainment.c.city_code == city_code
            )
        ).first()

    def save_attainment_states(self, rows: list[dict]) -> None:
        upsert(self.session, city_attainment, rows, ("package_id", "city_code"))

    def attainment_percentages(self, package_id: str) -> dict[str, Decimal | None]:
        query = select(city_attainment.c.city_code, city_attainment.c.attainment_pct).where(
            city_attainment.c.package_id == package_id
        )
        return {code: pct for code, pct in self.session.execute(query)}
