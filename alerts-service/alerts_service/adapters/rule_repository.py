"""Rules with immutable versions, and the configurable city groups."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts_service.adapters.tables import city_groups, rule_versions, rules
from alerts_service.domain.cities import DEFAULT_GROUPS
from alerts_service.domain.rules import Rule, rule_from_mapping


class StaleVersion(Exception):
    def __init__(self, current: int) -> None:
        super().__init__(f"the rule is at version {current}")
        self.current = current


class RuleRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def current(self, *, include_disabled: bool = True, kind: str | None = None) -> list[Rule]:
        query = (
            select(rule_versions.c.definition, rules.c.version, rules.c.rule_id)
            .join(rules, (rules.c.rule_id == rule_versions.c.rule_id) & (rules.c.version == rule_versions.c.version))
            .where(rules.c.deleted.is_(False))
            .order_by(rules.c.rule_id)
        )
        if kind is not None:
            query = query.where(rules.c.kind == kind)
        found = [_rule(row.definition, row.version) for row in self.session.execute(query)]
        return found if include_disabled else [rule for rule in found if rule.enabled]

    def get(self, rule_id: str, version: int | None = None) -> Rule | None:
        head = self.session.execute(select(rules).where(rules.c.rule_id == rule_id)).first()
        if head is None or head.deleted:
            return None
        wanted = version or head.version
        row = self.session.execute(
            select(rule_versions.c.definition).where(
                rule_versions.c.rule_id == rule_id, rule_versions.c.version == wanted
            )
        ).first()
        return None if row is None else _rule(row.definition, wanted)

    def versions(self, rule_id: str) -> list[tuple[int, datetime, str]]:
        rows = self.session.execute(
            select(rule_versions.c.version, rule_versions.c.created_at, rule_versions.c.created_by)
            .where(rule_versions.c.rule_id == rule_id)
            .order_by(rule_versions.c.version)
        )
        return [(row.version, row.created_at, row.created_by) for row in rows]

    def exists(self, rule_id: str) -> bool:
        """Whether the id was ever used (deleted rules keep their id and history)."""
        return self.session.execute(select(rules.c.rule_id).where(rules.c.rule_id == rule_id)).first() is not None

    def save_new(self, rule: Rule, now: datetime, by: str) -> Rule:
        previous = self.session.execute(select(rules).where(rules.c.rule_id == rule.rule_id)).first()
        if previous is None:
            rule = _with_version(rule, 1)
            self.session.execute(
                rules.insert().values(
                    rule_id=rule.rule_id, version=1, kind=rule.kind, enabled=rule.enabled, deleted=False,
                    created_at=now, updated_at=now,
                )
            )
        else:  # re-creating a deleted rule continues its version history
            rule = _with_version(rule, previous.version + 1)
            self._move_head(rule, previous.version, now, deleted=False)
        self._add_version(rule, now, by)
        return rule

    def save_revision(self, rule: Rule, expected_version: int, now: datetime, by: str) -> Rule:
        rule = _with_version(rule, expected_version + 1)
        self._move_head(rule, expected_version, now, deleted=False)
        self._add_version(rule, now, by)
        return rule

    def delete(self, rule_id: str, expected_version: int, now: datetime) -> None:
        result = self.session.execute(
            rules.update()
            .where(rules.c.rule_id == rule_id, rules.c.version == expected_version, rules.c.deleted.is_(False))
            .values(deleted=True, enabled=False, updated_at=now)
        )
        if result.rowcount != 1:
            head = self.session.execute(select(rules.c.version).where(rules.c.rule_id == rule_id)).first()
            raise StaleVersion(head.version if head else 0)

    def _move_head(self, rule: Rule, expected_version: int, now: datetime, deleted: bool) -> None:
        result = self.session.execute(
            rules.update()
            .where(rules.c.rule_id == rule.rule_id, rules.c.version == expected_version)
            .values(version=rule.version, kind=rule.kind, enabled=rule.enabled, deleted=deleted, updated_at=now)
        )
        if result.rowcount != 1:
            head = self.session.execute(select(rules.c.version).where(rules.c.rule_id == rule.rule_id)).first()
            raise StaleVersion(head.version if head else 0)

    def _add_version(self, rule: Rule, now: datetime, by: str) -> None:
        self.session.execute(
            rule_versions.insert().values(
                rule_id=rule.rule_id, version=rule.version,
                definition=json.dumps(rule.to_mapping(), ensure_ascii=False), created_at=now, created_by=by,
            )
        )

    # -- city groups --------------------------------------------------------------------------
    def groups(self) -> dict[str, tuple[str, ...]]:
        stored = {row.name: tuple(json.loads(row.regions)) for row in self.session.execute(select(city_groups))}
        return {**DEFAULT_GROUPS, **stored}

    def put_group(self, name: str, regions: list[str], now: datetime) -> None:
        exists = self.session.execute(select(city_groups.c.name).where(city_groups.c.name == name)).first()
        values = {"regions": json.dumps(list(regions), ensure_ascii=False), "updated_at": now}
        if exists is None:
            self.session.execute(city_groups.insert().values(name=name, **values))
        else:
            self.session.execute(city_groups.update().where(city_groups.c.name == name).values(**values))


@lru_cache(maxsize=512)
def _rule(definition: str, version: int) -> Rule:
    """Parsed once per stored definition (rules are immutable per version)."""
    return rule_from_mapping(json.loads(definition), version=version)


def _with_version(rule: Rule, version: int) -> Rule:
    return replace(rule, version=version)
