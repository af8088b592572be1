"""The base of every event that crosses a service boundary.

An event is a frozen pydantic model. Its class names the CloudEvents `type` (past tense,
`<producer>.<what_happened>`), its schema `version`, the Kafka `topic` it travels on and the
aggregate `key` that keeps per-aggregate order. The producing service owns the module.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, PlainSerializer

# Money and quantities travel as JSON strings so no float ever touches them.
DecimalStr = Annotated[Decimal, PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json")]
UtcDatetime = AwareDatetime
Day = date


class Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    TOPIC: ClassVar[str]
    KEY_FIELD: ClassVar[str]
    DESCRIPTION: ClassVar[str] = ""

    def key(self) -> str:
        return str(getattr(self, self.KEY_FIELD))

    def subject(self) -> str:
        return self.key()


class EventRegistry:
    """type → model → topic."""

    def __init__(self) -> None:
        self._by_type: dict[str, type[Event]] = {}

    def register(self, model: type[Event]) -> type[Event]:
        for attribute in ("TYPE", "TOPIC", "KEY_FIELD"):
            if not getattr(model, attribute, None):
                raise TypeError(f"{model.__name__} must set {attribute}")
        if model.KEY_FIELD not in model.model_fields:
            raise TypeError(f"{model.__name__}.KEY_FIELD names no field: {model.KEY_FIELD}")
        existing = self._by_type.get(model.TYPE)
        if existing is not None and existing is not model:
            raise TypeError(f"event type {model.TYPE} registered twice")
        self._by_type[model.TYPE] = model
        return model

    def model_for(self, event_type: str) -> type[Event] | None:
        return self._by_type.get(event_type)

    def topic_for(self, event_type: str) -> str:
        model = self._by_type.get(event_type)
        if model is None:
            raise KeyError(f"unknown event type {event_type}")
        return model.TOPIC

    def types(self) -> list[str]:
        return sorted(self._by_type)

    def models(self) -> list[type[Event]]:
        return [self._by_type[name] for name in self.types()]

    def topics(self) -> list[str]:
        return sorted({model.TOPIC for model in self._by_type.values()})


registry = EventRegistry()


def event(model: type[Event]) -> type[Event]:
    """Class decorator: register an event model in the global registry."""
    return registry.register(model)


