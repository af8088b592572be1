"""Every event type, registered on import: the registry maps type → model → topic."""

from shared.events import alerts, allocation, ingestion, negotiation  # noqa: F401  (registration)
from shared.events.base import DecimalStr, Event, EventRegistry, registry

DEAD_LETTER_TOPIC = "quotaflow.dead_letter"

__all__ = ["DEAD_LETTER_TOPIC", "DecimalStr", "Event", "EventRegistry", "registry"]
