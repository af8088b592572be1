"""Schema compatibility: a consumer built for the locked schema must still read the new one."""

from __future__ import annotations

from typing import Any

from shared.events import registry


def snapshot() -> dict[str, Any]:
    """type@version → the JSON schema of its data, as `make schema-lock` writes it."""
    return {
        f"{model.TYPE}@{model.VERSION}": model.model_json_schema(mode="serialization")
        for model in registry.models()
    }


def incompatibilities(locked: dict[str, Any], current: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for key, old in locked.items():
        new = current.get(key)
        if new is None:
            problems.append(f"{key}: removed (bump VERSION and keep the old one until consumers move)")
            continue
        problems.extend(_compare(key, old, new, old.get("$defs", {}), new.get("$defs", {})))
    return problems


def _compare(path: str, old: dict, new: dict, old_defs: dict, new_defs: dict) -> list[str]:
    old, new = _resolve(old, old_defs), _resolve(new, new_defs)
    problems = []
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_schema in old_props.items():
        if name not in new_props:
            problems.append(f"{path}.{name}: field removed")
            continue
        if _kind(old_schema, old_defs) != _kind(new_props[name], new_defs):
            problems.append(f"{path}.{name}: type changed")
        elif "properties" in _resolve(old_schema, old_defs):
            problems.extend(_compare(f"{path}.{name}", old_schema, new_props[name], old_defs, new_defs))
        elif _resolve(old_schema, old_defs).get("type") == "array":
            problems.extend(
                _compare(f"{path}.{name}[]", _resolve(old_schema, old_defs).get("items", {}),
                         _resolve(new_props[name], new_defs).get("items", {}), old_defs, new_defs)
            )
    for name in set(new.get("required", [])) - set(old.get("required", [])):
        problems.append(f"{path}.{name}: newly required")
    return problems


def _resolve(schema: dict, defs: dict) -> dict:
    ref = schema.get("$ref")
    if ref:
        return defs.get(ref.rsplit("/", 1)[-1], {})
    return schema


def _kind(schema: dict, defs: dict) -> Any:
    schema = _resolve(schema, defs)
    if "anyOf" in schema:
        return sorted(str(_kind(option, defs)) for option in schema["anyOf"])
    return schema.get("type", "object" if "properties" in schema else None)
