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
from pydantic_core import from_json

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
    return _new_envelope(event, producer, now, traceparent, event.model_dump(mode="json"))


def _new_envelope(event: Event | SerializedEvent, producer: str, now: datetime, traceparent: str | None,
                  data: dict) -> Envelope:
    return Envelope(
        id=str(uuid.uuid4()),
        source=f"quotaflow/{producer}",
        type=event.TYPE,
        time=now,
        subject=event.subject(),
        schemaversion=event.VERSION,
        traceparent=traceparent or new_traceparent(),
        data=data,
    )


@dataclass(frozen=True)
class SerializedEvent:
    """An event whose data is already its JSON text, exactly as `model.model_dump_json()` would
    give it: for large batches built from facts that were validated when parsed (a producer's test
    checks the text against the model). Publish it with `UnitOfWork.publish_many`."""

    model: type[Event]
    key_value: str
    data_json: str

    @property
    def TYPE(self) -> str:  # noqa: N802 - the same attribute names as an Event
        return self.model.TYPE

    @property
    def TOPIC(self) -> str:  # noqa: N802
        return self.model.TOPIC

    @property
    def VERSION(self) -> int:  # noqa: N802
        return self.model.VERSION

    def key(self) -> str:
        return self.key_value

    def subject(self) -> str:
        return self.key_value


_EMPTY_DATA = '"data":{}}'
_DATA_KEY = ',"data":'


def wrap_json(event: Event | SerializedEvent, *, producer: str, now: datetime,
              traceparent: str | None = None) -> tuple[str, str]:
    """(event id, the envelope's JSON) without building the data as a dict: the same text as
    `envelope_json(wrap(...))`, with the event serialised once, straight to JSON (large batches)."""
    data = event.data_json if isinstance(event, SerializedEvent) else event.model_dump_json()
    head = _new_envelope(event, producer, now, traceparent, {})
    text = head.model_dump_json()
    assert text.endswith(_EMPTY_DATA)
    return head.id, f"{text[:-len(_EMPTY_DATA)]}\"data\":{data}}}"


_ATTRIBUTES = ("id", "source", "type", "specversion", "time", "subject", "schemaversion")


def to_message(envelope: Envelope, topic: str) -> Message:
    headers = [(f"ce_{name}", _attr_text(getattr(envelope, name)).encode()) for name in _ATTRIBUTES]
    headers.append(("content-type", envelope.datacontenttype.encode()))
    if envelope.traceparent:
        headers.append(("traceparent", envelope.traceparent.encode()))
    value = json.dumps(envelope.data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Message(topic=topic, key=envelope.subject.encode("utf-8"), value=value, headers=tuple(headers))


def from_message(message: Message, *, with_data: bool = True) -> Envelope:
    """The envelope of a record. `with_data=False` checks and reads only the attributes (the data is
    left `{}`): a consumer then validates the record's bytes straight into its event model with
    `decode_message`, one pass instead of parsing to a dict and validating that."""
    try:
        attributes = {name: message.header(f"ce_{name}") for name in _ATTRIBUTES}
        missing = [name for name, value in attributes.items() if value is None]
        if missing:
            raise UndecodableMessage(f"missing CloudEvents attributes: {', '.join(missing)}")
        data = from_json(message.value.decode("utf-8")) if with_data else {}  # strict UTF-8; ~2× json.loads
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


def decode_message(envelope: Envelope, message: Message, registry: EventRegistry) -> Event | None:
    """The typed event of a record whose envelope was read with `from_message(message, with_data=False)`,
    or None for a type this registry does not know. The record's bytes are validated by the model in
    one pass: invalid UTF-8, invalid JSON, a non-object or a value the schema refuses all raise
    UndecodableMessage."""
    model = registry.model_for(envelope.type)
    if model is None:
        return None
    try:
        return model.model_validate_json(message.value)
    except ValidationError as exc:
        raise UndecodableMessage(f"{envelope.type} v{envelope.schemaversion}: {exc}") from exc


def envelope_json(envelope: Envelope) -> str:
    return envelope.model_dump_json()


def envelope_from_json(text: str) -> Envelope:
    return Envelope.model_validate_json(text)


def message_from_envelope_json(text: str, topic: str) -> Message:
    """`to_message(envelope_from_json(text), topic)` without parsing and re-serialising the data.

    An envelope's JSON (`envelope_json`, `wrap_json`) lists the scalar attributes first and `data`
    last, so the first `,"data":` is the data's key (inside a JSON string a quote is escaped): the
    attributes are parsed and checked, and the data's text becomes the message value as it is.
    Any other layout takes the full path."""
    head, found, data = text.partition(_DATA_KEY)
    if found and data.endswith("}") and data.startswith("{"):
        try:
            attributes = json.loads(head + "}")
        except json.JSONDecodeError:
            attributes = None
        if isinstance(attributes, dict) and set(attributes) <= _HEAD_FIELDS and all(
            not isinstance(value, (dict, list)) for value in attributes.values()
        ):
            envelope = Envelope.model_validate({**attributes, "data": {}})
            message = to_message(envelope, topic)
            return Message(topic=topic, key=message.key, value=data[:-1].encode("utf-8"), headers=message.headers)
    return to_message(envelope_from_json(text), topic)


_HEAD_FIELDS = frozenset(Envelope.model_fields) - {"data"}


def _attr_text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)
