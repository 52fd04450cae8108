"""Helpers shared by the inbound paths (MQTT, HTTP, replay): the registry guard and the
decoding of one message into events or a dead-letter reason. No framework imports."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from live_bridge.frigate import from_frigate, redact_frigate_payload
from live_bridge.registry import DeviceRegistry
from live_bridge.store import EventStore
from live_bridge.vocabulary import EventError, LiveEvent, PlateHasher, parse_event


def require_device_check(store: EventStore, registry: DeviceRegistry | None, *, where: str) -> None:
    """When a registry is given, the store must check events with it (the store dead-letters
    refused events in the same transaction and counts them); a ValueError says how otherwise."""
    if registry is None:
        return
    if getattr(store, "check", None) is None:
        raise ValueError(f"{where}: a device registry was given but the event store checks no devices; create the "
                         f"store with SqliteEventStore(path, check=registry.reject_reason)")


@dataclass
class Decoded:
    """One message decoded: its events, or the reason it is refused and what to dead-letter."""

    events: list[LiveEvent] = field(default_factory=list)
    reason: str | None = None
    raw: str = ""


def decode_cloudevents(payload: bytes | str | Any, *, where: str) -> Decoded:
    """A CloudEvent in structured JSON mode, or a JSON array of them (a batch: all or none)."""
    if isinstance(payload, (bytes, bytearray, str)):
        try:
            obj = json.loads(payload)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return Decoded(reason=f"{where}: not valid JSON ({exc})", raw=_text(payload))
    else:
        obj = payload
    items = obj if isinstance(obj, list) else [obj]
    if not items:
        return Decoded(reason=f"{where}: empty batch (expected one or more CloudEvents)", raw=_text(payload))
    events: list[LiveEvent] = []
    problems: list[str] = []
    for i, item in enumerate(items):
        try:
            events.append(parse_event(item))
        except EventError as exc:
            head = f"[{i}] " if isinstance(obj, list) else ""
            problems.append(head + str(exc))
    if problems:
        return Decoded(reason=f"{where}: " + "; ".join(problems), raw=_text(payload))
    return Decoded(events=events)


def decode_frigate(topic: str, payload: bytes | str | Mapping[str, Any], *, hasher: PlateHasher | None,
                   options: Mapping[str, Any]) -> Decoded:
    """A Frigate ``events``/``reviews`` message via :func:`from_frigate`; a refused one is
    dead-lettered in redacted form (plates hashed or removed)."""
    try:
        return Decoded(events=from_frigate(topic, payload, hasher=hasher, **options))
    except EventError as exc:
        return Decoded(reason=f"{topic}: {exc}", raw=redact_frigate_payload(payload, hasher=hasher))


def _text(payload: Any) -> str:
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload).decode("utf-8", errors="replace")
    if isinstance(payload, str):
        return payload
    return json.dumps(payload, default=str, separators=(",", ":"))
