"""The CloudEvents 1.0 envelope every event travels in, and its Kafka binary-mode binding.

On the wire (Kafka and the embedded bus alike) the value is the event's JSON data and the
attributes are `ce_*` headers, plus a W3C `traceparent` header; the key is the aggregate key.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from shared.events.base import Event, EventRegistry

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


@dataclass(frozen=True)
class Message:
    """A record as both buses carry it."""

    topic: str
    key: bytes | None
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()
    partition: int = 0
    offset: int = -1
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value.decode("utf-8", errors="strict") if value is not None else None
        return None


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    source: str
    type: str
    specversion: str = SPEC_VERSION
    time: AwareDatetime
    subject: str
    datacontenttype: str = CONTENT_TYPE
    schemaversion: int
    traceparent: str | None = None
    data: dict[str, Any]

    @property
    def key(self) -> str:
        return self.subject


class UndecodableMessage(Exception):
    """The bytes are not a valid Quotaflow CloudEvent (poison message)."""


def new_traceparent() -> str:
    return f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01"


def wrap(event: Event, *, producer: str, now: datetime, traceparent: str | None = None) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        source=f"quotaflow/{producer}",
        type=event.TYPE,
        time=now,
        subject=event.subject(),
        schemaversion=event.VERSION,
        traceparent=traceparent or new_traceparent(),
        data=event.model_dump(mode="json"),
    )


_ATTRIBUTES = ("id", "source", "type", "specversion", "time", "subject", "schemaversion")


def to_message(envelope: Envelope, topic: str) -> Message:
    headers = [(f"ce_{name}", _attr_text(getattr(envelope, name)).encode()) for name in _ATTRIBUTES]
    headers.append(("content-type", envelope.datacontenttype.encode()))
    if envelope.traceparent:
        headers.append(("traceparent", envelope.traceparent.encode()))
    value = json.dumps(envelope.data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Message(topic=topic, key=envelope.subject.encode("utf-8"), value=value, headers=tuple(headers))


def from_message(message: Message) -> Envelope:
    try:
        attributes = {name: message.header(f"ce_{name}") for name in _ATTRIBUTES}
        missing = [name for name, value in attributes.items() if value is None]
        if missing:
            raise UndecodableMessage(f"missing CloudEvents attributes: {', '.join(missing)}")
        data = json.loads(message.value.decode("utf-8"))
        if not isinstance(data, dict):
            raise UndecodableMessage("event data is not a JSON object")
        return Envelope(
            **attributes,
            datacontenttype=message.header("content-type") or CONTENT_TYPE,
            traceparent=message.header("traceparent"),
            data=data,
        )
    except UndecodableMessage:
        raise
    except (UnicodeDecodeError, json.JSONDecodeError, ValidationError, ValueError, TypeError) as exc:
        raise UndecodableMessage(f"{type(exc).__name__}: {exc}") from exc


def decode_event(envelope: Envelope, registry: EventRegistry) -> Event | None:
    """The typed event, or None for a type this registry does not know. Raises UndecodableMessage."""
    model = registry.model_for(envelope.type)
    if model is None:
        return None
    try:
        return model.model_validate(envelope.data)
    except ValidationError as exc:
        raise UndecodableMessage(f"{envelope.type} v{envelope.schemaversion}: {exc}") from exc


def envelope_json(envelope: Envelope) -> str:
    return envelope.model_dump_json()


def envelope_from_json(text: str) -> Envelope:
    return Envelope.model_validate_json(text)


def _attr_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
