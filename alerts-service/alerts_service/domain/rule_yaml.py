"""Loading rules (and city groups) from YAML.

A document is either a list of rules or a mapping with `rules` and optionally `groups`
(`{south: [华南, 华中, 西南]}`). Numbers written as decimals in YAML (`percent: 15.5`) are read
as exact `Decimal`s from their text, never through float.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from alerts_service.domain.rules import Rule, RuleInvalid, rule_from_mapping


class _DecimalLoader(yaml.SafeLoader):
    pass


def _decimal_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Decimal:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        number = Decimal(text)
    except InvalidOperation:  # .inf, .nan and YAML 1.1's sexagesimal 1:30.5
        number = None
    if number is None or not number.is_finite():
        raise yaml.constructor.ConstructorError(None, None, f"not a finite number: {text}", node.start_mark)
    return number


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _decimal_float)


@dataclass(frozen=True)
class RuleDocument:
    rules: tuple[Rule, ...]
    groups: dict[str, tuple[str, ...]]


def load_rules_yaml(text: str) -> RuleDocument:
    try:
        data = yaml.load(text, Loader=_DecimalLoader)
    except yaml.YAMLError as exc:
        raise RuleInvalid("yaml", str(exc)) from exc
    groups: dict[str, tuple[str, ...]] = {}
    if isinstance(data, dict):
        raw_groups = data.get("groups") or {}
        if not isinstance(raw_groups, dict):
            raise RuleInvalid("groups", "must map a group name to a list of regions")
        for name, regions in raw_groups.items():
            if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
                raise RuleInvalid(f"groups.{name}", "must be a list of region names")
            groups[str(name)] = tuple(regions)
        data = data.get("rules")
    if not isinstance(data, list):
        raise RuleInvalid("rules", "expected a list of rules")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, raw in enumerate(data):
        try:
            rule = rule_from_mapping(raw)
        except RuleInvalid as exc:
            raise RuleInvalid(f"rules[{index}].{exc.field}", exc.message) from exc
        if rule.rule_id in seen:
            raise RuleInvalid(f"rules[{index}].id", f"duplicate rule id {rule.rule_id}")
        seen.add(rule.rule_id)
        rules.append(rule)
    return RuleDocument(tuple(rules), groups)


def dump_rules_yaml(rules: list[Rule], groups: dict[str, tuple[str, ...]] | None = None) -> str:
    document: dict[str, Any] = {"rules": [rule.to_mapping() for rule in rules]}
    if groups:
        document = {"groups": {name: list(regions) for name, regions in groups.items()}, **document}
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
