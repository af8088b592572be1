"""docs/asyncapi.yaml is generated from the models, and no schema changes incompatibly."""

import json
from pathlib import Path

from shared.asyncapi import render
from shared.events import registry
from shared.events.compat import incompatibilities, snapshot

ROOT = Path(__file__).resolve().parents[1]


def test_asyncapi_document_is_up_to_date():
    assert (ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8") == render(), "run `make docs`"


def test_no_event_schema_changed_incompatibly():
    locked = json.loads((ROOT / "shared" / "events" / "schemas.lock.json").read_text(encoding="utf-8"))
    problems = incompatibilities(locked, snapshot())
    assert problems == [], "\n".join(problems)


def test_every_event_has_a_topic_a_key_and_a_past_tense_name():
    for model in registry.models():
        producer, name = model.TYPE.split(".")
        assert producer in {"ingestion", "allocation", "negotiation", "alerts"}
        assert name.endswith(("ed", "_issued")) or name in {"targets_revised"}, model.TYPE
        assert model.TOPIC.startswith("quotaflow.")
        assert model.KEY_FIELD in model.model_fields


def test_the_compatibility_check_catches_removed_retyped_and_newly_required_fields():
    old = {"x@1": {"properties": {"a": {"type": "string"}, "b": {"type": "integer"}, "c": {"type": "string"}},
                   "required": ["a"]}}
    new = {"x@1": {"properties": {"a": {"type": "string"}, "b": {"type": "string"}, "d": {"type": "string"}},
                   "required": ["a", "d"]}}
    assert sorted(incompatibilities(old, new)) == ["x@1.b: type changed", "x@1.c: field removed",
                                                    "x@1.d: newly required"]
    assert incompatibilities(old, {}) == ["x@1: removed (bump VERSION and keep the old one until consumers move)"]
