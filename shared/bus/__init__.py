from shared.bus.base import Bus, BusConsumer

__all__ = ["Bus", "BusConsumer"]
