"""Replay a recorded JSON Lines file into the event store or onto an MQTT broker.

File format (one JSON object per line; blank lines and lines starting with ``#`` are skipped):

* a CloudEvent in structured JSON form (it has ``specversion``) -- as ``LiveEvent.to_json()``
  writes it, or as ``SqliteEventStore.iter_events`` gives it back;
* a Frigate message: ``{"topic": "frigate/events", "payload": {...}}`` (``frigate/reviews``
  likewise; any ``<prefix>/events``), mapped with :func:`live_bridge.frigate.from_frigate` when
  replayed into a store, published as is on ``topic`` when replayed to MQTT. Its time is an
  optional ``"time"`` field (RFC 3339), else Frigate's own rule: ``after.end_time`` on ``end``,
  else ``after.frame_time``, else ``after.start_time`` (Unix seconds).

Timing. Lines are replayed in file order. Line ``i`` is due ``(t_i - t_0) / speed`` wall seconds
after the start, ``t`` being its event time (``speed=1`` real time, ``speed=10`` ten times
faster; ``speed=None`` as fast as possible). Due times are absolute, so sleeps do not accumulate
drift; a line whose time is earlier than an earlier line's is due at once (its lateness is the
store's business). Everything due at the same moment is written with one ``append_many`` (one
commit); as fast as possible, ``batch_size`` events per commit.

The whole file is read and validated before anything is replayed: with ``on_error="raise"`` a
bad line raises :class:`ReplayError` naming ``file:line`` and the field; with
``on_error="dead_letter"`` bad lines go to the store's dead letters (store target) or are skipped
(MQTT target) and counted, and the rest is replayed.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Literal, Mapping

from live_bridge._ingest import decode_frigate
from live_bridge.store import AppendStatus, EventStore
from live_bridge.vocabulary import EventError, LiveEvent, PlateHasher, parse_event

__all__ = ["MqttTarget", "ReplayError", "ReplayProgress", "ReplayResult", "replay_file"]


class ReplayError(ValueError):
    """A replay file with bad lines; ``problems`` are ``"file:line: ..."`` strings."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        super().__init__(f"{len(problems)} bad line(s):\n  - " + "\n  - ".join(shown))


@dataclass(frozen=True)
class MqttTarget:
    """Where to publish: broker ``host``:``port``; CloudEvents go to ``<topic_prefix>/<subject>``,
    Frigate lines to their own topic; QoS 1, each due group waited for (PUBACK) before the next."""

    host: str = "127.0.0.1"
    port: int = 1883
    topic_prefix: str = "shoumen/events"
    client_id: str = ""
    qos: int = 1


@dataclass(frozen=True)
class ReplayProgress:
    """Passed to the progress callback after each committed (or published) group."""

    done: int  # lines replayed so far
    total: int  # lines to replay
    event_time: datetime  # event time of the last line replayed
    wall_s: float  # wall seconds since the start


@dataclass
class ReplayResult:
    """What a replay did: lines replayed, events written and their outcomes, bad lines, wall time."""

    lines: int = 0
    events: int = 0
    statuses: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in AppendStatus})
    invalid: int = 0
    commits: int = 0
    wall_s: float = 0.0
    first_time: datetime | None = None
    last_time: datetime | None = None


@dataclass
class _Line:
    lineno: int
    time: datetime
    events: list[LiveEvent]  # store target (Frigate lines mapped)
    topic: str | None  # MQTT target
    payload: bytes


_FRIGATE_TOPIC = re.compile(r"^(.+/)?(events|reviews)$")


def _frigate_time(payload: Mapping[str, Any], where: str) -> datetime:
    a = payload.get("after") if isinstance(payload, Mapping) else None
    if not isinstance(a, Mapping):
        raise EventError([f"field 'payload.after': expected a JSON object"], source=where)
    key = "end_time" if payload.get("type") == "end" and a.get("end_time") is not None else (
        "frame_time" if a.get("frame_time") is not None else "start_time")
    t = a.get(key)
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
        raise EventError([f"field 'payload.after.{key}': expected Unix seconds >= 0, got {t!r}"], source=where)
    return datetime.fromtimestamp(float(t), tz=timezone.utc)


_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|z|[+-]\d\d:\d\d)$")


def _rfc3339(value: Any, where: str) -> datetime:
    if not isinstance(value, str) or not _RFC3339.match(value):
        raise EventError([f"field 'time': expected an RFC 3339 timestamp with a zone, e.g. 2025-03-01T08:15:00Z, "
                          f"got {value!r}"], source=where)
    return datetime.fromisoformat(value.replace("z", "Z")).astimezone(timezone.utc)


def _load(path: Path, *, to_store: bool, target: MqttTarget | None, hasher: PlateHasher | None,
          frigate_options: Mapping[str, Any]) -> tuple[list[_Line], list[tuple[str, str, str]]]:
    lines: list[_Line] = []
    bad: list[tuple[str, str, str]] = []  # (where, reason, raw)
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            text = raw.decode("utf-8", errors="replace").strip()
            if not text or text.startswith("#"):
                continue
            where = f"{path.name}:{lineno}"
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                bad.append((where, f"{where}: not valid JSON ({exc})", text))
                continue
            try:
                if not isinstance(obj, dict):
                    raise EventError([f"expected a JSON object (a CloudEvent or a Frigate line), got "
                                      f"{type(obj).__name__}"], source=where)
                if "specversion" in obj:
                    ev = parse_event(obj, source=where)
                    topic = None if target is None else f"{target.topic_prefix}/{ev.subject}"
                    lines.append(_Line(lineno, ev.time, [ev], topic, ev.to_json().encode()))
                    continue
                topic, payload = obj.get("topic"), obj.get("payload")
                if not isinstance(topic, str) or not _FRIGATE_TOPIC.match(topic):
                    raise EventError(["expected a CloudEvent (field 'specversion') or a Frigate line: field 'topic' "
                                      f"must be '<prefix>/events' or '<prefix>/reviews', got {topic!r}"], source=where)
                if not isinstance(payload, dict):
                    raise EventError([f"field 'payload': expected the Frigate message as a JSON object"], source=where)
                if "time" in obj:
                    t = _rfc3339(obj["time"], where)
                else:
                    t = _frigate_time(payload, where)
                events: list[LiveEvent] = []
                if to_store:
                    d = decode_frigate(topic, payload, hasher=hasher, options=frigate_options)
                    if d.reason is not None:
                        bad.append((where, f"{where}: {d.reason}", d.raw))
                        continue
                    events = d.events
                lines.append(_Line(lineno, t, events, topic, json.dumps(payload).encode()))
            except EventError as exc:
                msg = str(exc) if str(exc).startswith(where) else f"{where}: {exc}"
                bad.append((where, msg, text))
    return lines, bad


def replay_file(
    path: str | Path,
    *,
    store: EventStore | None = None,
    mqtt: MqttTarget | None = None,
    speed: float | None = 1.0,
    progress: Callable[[ReplayProgress], None] | None = None,
    hasher: PlateHasher | None = None,
    frigate_options: Mapping[str, Any] | None = None,
    on_error: Literal["raise", "dead_letter"] = "raise",
    batch_size: int = 500,
    stop: threading.Event | None = None,
) -> ReplayResult:
    """Replay ``path`` (module docstring) into ``store`` or onto the broker ``mqtt`` (exactly
    one). ``speed`` > 0 is the time factor, None as fast as possible. ``stop`` (an Event) ends
    the replay early. Returns a :class:`ReplayResult`."""
    path = Path(path)
    if (store is None) == (mqtt is None):
        raise ValueError("replay_file: give exactly one target, store= or mqtt=")
    if speed is not None and not (isinstance(speed, (int, float)) and speed > 0 and math.isfinite(speed)):
        raise ValueError(f"speed: expected a number > 0 (10 = ten times real time) or None (as fast as possible), "
                         f"got {speed!r}")
    if on_error not in ("raise", "dead_letter"):
        raise ValueError(f"on_error: expected 'raise' or 'dead_letter', got {on_error!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size: expected an integer >= 1, got {batch_size!r}")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: replay file not found")
    lines, bad = _load(path, to_store=store is not None, target=mqtt, hasher=hasher,
                       frigate_options=dict(frigate_options or {}))
    if bad and on_error == "raise":
        raise ReplayError([reason for _, reason, _ in bad])
    result = ReplayResult(invalid=len(bad))
    if store is not None:
        for where, reason, raw in bad:
            store.dead_letter(raw, reason, source=f"replay:{where}")

    client = None
    if mqtt is not None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=mqtt.client_id or "", protocol=paho.MQTTv311)
        client.max_inflight_messages_set(1000)
        client.connect(mqtt.host, mqtt.port)
        client.loop_start()

    t_start = time.perf_counter()
    try:
        t0 = lines[0].time if lines else None
        i = 0
        while i < len(lines):
            if stop is not None and stop.is_set():
                break
            if speed is None:
                j = i
                n = 0
                while j < len(lines) and (n == 0 or n + len(lines[j].events) <= batch_size):
                    n += max(len(lines[j].events), 1)
                    j += 1
            else:
                due = t_start + (lines[i].time - t0).total_seconds() / speed  # type: ignore[operator]
                wait = due - time.perf_counter()
                if wait > 0:
                    if stop is not None:
                        if stop.wait(wait):
                            break
                    else:
                        time.sleep(wait)
                now = time.perf_counter()
                j = i + 1
                while j < len(lines) and t_start + (lines[j].time - t0).total_seconds() / speed <= now:  # type: ignore[operator]
                    j += 1
            group = lines[i:j]
            if store is not None:
                events = [e for ln in group for e in ln.events]
                if events:
                    for r in store.append_many(events):
                        result.statuses[r.status.value] += 1
                    result.events += len(events)
                    result.commits += 1
            else:
                infos = [client.publish(ln.topic, ln.payload, qos=mqtt.qos) for ln in group]  # type: ignore[union-attr]
                for info in infos:
                    info.wait_for_publish(timeout=30)
                result.events += len(group)
            result.lines += len(group)
            if result.first_time is None:
                result.first_time = group[0].time
            result.last_time = group[-1].time
            i = j
            if progress is not None:
                progress(ReplayProgress(done=result.lines, total=len(lines), event_time=group[-1].time,
                                        wall_s=time.perf_counter() - t_start))
    finally:
        if client is not None:
            client.disconnect()
            client.loop_stop()
    result.wall_s = time.perf_counter() - t_start
    return result
