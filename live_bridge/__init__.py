"""Inbound events from the real estate: MQTT, HTTP, file replay and camera analytics; device
registry, event store, mirroring into the twin and the alarm lifecycle (its own issue)."""

__all__: list[str] = []
