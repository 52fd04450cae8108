"""Mirroring accepted live events into the twin's live state (the live-bridge issue, item 5).

Path of one live event (DESIGN.md, "The run loop" and principle 6)::

    MQTT / HTTP / replay --> MirroringStore.append_many --> SqliteEventStore (committed)
                                      |  for each event stored (accepted or late; not duplicates
                                      v  nor rejections)
                                 Mirror.accept(event)
                                   1. AlarmCenter.handle(event)  (alarms raised / folded, in SQLite)
                                   2. translate(event) -> twin events --Twin.post--> queue
                                   3. AlarmStatusChanged for each alarm it changed --Twin.post-->
                                              ... drained at the twin's next tick boundary ...
                                 LiveState.on_event (in the twin's thread)

:func:`translate` turns a :class:`~live_bridge.vocabulary.LiveEvent` into the twin's vocabulary
(:class:`~twin.events.DeviceStateChanged`, :class:`~twin.events.ZonePeopleCounted`,
:class:`~twin.events.PatrolPositionReported`), with ``source="live:<bridge>"``. The alarm
lifecycle's changes (raise, fold, escalation, acknowledgement, resolution) reach the twin as
:class:`~twin.events.AlarmStatusChanged`; every call into the :class:`AlarmCenter` goes through
:class:`Mirror` under one lock, so the twin sees them in the order they happened.

:class:`LiveState` is the twin component holding the live picture:

* **devices** -- struct-of-arrays over device index (``dev_state`` code, ``dev_value``,
  ``dev_state_us`` / ``dev_last_seen_us`` in UTC microseconds) plus the id of the event that set
  the state. A state is replaced only by an event with a larger ``(observed time, event id)``,
  so a late event (older than the current state) never overwrites a newer one, and the result
  does not depend on arrival order;
* **people per zone** (management grid): cameras' latest crowding counts (per camera, same
  ordering rule; the zone's figure is the sum of its cameras') and gate passages in/out
  (commutative counters);
* **patrols**: the latest position (and checkpoint) of each tracker, same ordering rule;
* **open alarms**: a copy of the :class:`AlarmCenter`'s open alarms.

Because every part is order-independent, :meth:`LiveState.rebuild` -- replaying the event store
in event-time order through the same :func:`translate` and taking the open alarms from the
(persistent) alarm center -- gives after a restart the same state as before it.

Limitation: an event committed to the store whose :meth:`Mirror.accept` did not run (the
process died between the commit and the call) is in the device state after a rebuild, but the
alarm center has not seen it; nothing replays it into the alarm center automatically.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from live_bridge.alarms import Alarm, AlarmCenter
from live_bridge.store import AppendResult, DeadLetter, EventStore, StoredEvent
from live_bridge.vocabulary import LiveEvent
from twin.component import BaseComponent
from twin.events import (
    AlarmStatusChanged,
    DeviceStateChanged,
    Event,
    PatrolPositionReported,
    ZonePeopleCounted,
)
from twin.recorder import Recorder

if TYPE_CHECKING:
    from twin.core import Twin

__all__ = [
    "DEVICE_STATES",
    "LiveRecorder",
    "LiveState",
    "Mirror",
    "MirroringStore",
    "alarm_event",
    "translate",
]

log = logging.getLogger(__name__)

#: Every device state word, in code order (``LiveState.dev_state`` holds the index; 0 = none yet).
DEVICE_STATES: tuple[str, ...] = (
    "", "alarm", "clear", "open", "closed", "forced", "high", "normal", "displaced", "seated", "pressed",
    "sos", "fall", "heart_rate_high", "heart_rate_low", "no_activity", "loitering", "intrusion", "crowding",
    "thrown_object", "plate_in", "plate_out", "plate", "position", "checkpoint", "hazard_report",
    "passage_in", "passage_out",
)
_CODE = {s: i for i, s in enumerate(DEVICE_STATES)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DEFAULT_WATER_THRESHOLD_M = 0.15  # as live_bridge.rules.AlarmSettings.water_threshold_m


def _iso(us: int) -> str | None:
    if us <= 0:
        return None
    return datetime.fromtimestamp(us / 1e6, tz=UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _bridge_source(ev: LiveEvent) -> str:
    """``live:<bridge>``: the first path segment of the CloudEvents source (``/mqtt/x`` -> mqtt)."""
    head = ev.source.strip("/").split("/")[0].split(":")[-1] if ev.source.strip("/") else ""
    head = "".join(c for c in head if c.isalnum() or c in "-_.") or "bridge"
    return f"live:{head}"


def _state_of(ev: LiveEvent, water_threshold_m: float) -> tuple[str, float | None, str]:
    """(state word, value, detail) of a live event for the reporting device."""
    d = ev.data
    typ = ev.type[len("cn.shoumen."):]
    if typ == "smoke.alarm":
        return "alarm", d.obscuration_pct_per_m if d.sensing == "smoke" else d.temperature_c, d.sensing
    if typ == "smoke.clear":
        return "clear", None, d.reason
    if typ.startswith("door."):
        return {"door.open": "open", "door.close": "closed", "door.forced": "forced"}[typ], None, d.door or ""
    if typ == "water.level":
        thr = d.threshold_m if d.threshold_m is not None else water_threshold_m
        return ("high" if d.level_m >= thr else "normal"), float(d.level_m), f"threshold_m={thr:g}"
    if typ == "manhole.displacement":
        return ("displaced" if d.displaced else "seated"), d.tilt_deg, ""
    if typ == "button.pressed":
        return "pressed", None, "long" if d.long_press else ""
    if typ == "wristband.sos":
        return "sos", None, ""
    if typ == "wristband.fall":
        return "fall", d.confidence, ""
    if typ == "wristband.heart_rate":
        return f"heart_rate_{d.direction}", float(d.bpm), ""
    if typ == "wristband.no_activity":
        return "no_activity", float(d.hours), ""
    if typ == "camera.loitering":
        return "loitering", float(d.dwell_s), d.zone or ""
    if typ == "camera.intrusion":
        return "intrusion", d.confidence, d.zone
    if typ == "camera.crowding":
        return "crowding", float(d.count), d.zone or ""
    if typ == "camera.fall":
        return "fall", d.confidence, d.zone or ""
    if typ == "camera.thrown_object":
        return "thrown_object", float(d.storey), d.building or ""
    if typ == "camera.licence_plate":
        return {"in": "plate_in", "out": "plate_out", None: "plate"}[d.direction], None, ""
    if typ == "patrol.position":
        return "position", d.accuracy_m, ""
    if typ == "patrol.checkpoint":
        return "checkpoint", None, d.checkpoint
    if typ == "grid.hazard_report":
        return "hazard_report", None, d.category or ""
    if typ == "gate.passage":
        return f"passage_{d.direction}", None, d.credential
    raise ValueError(f"translate: no mapping for live event type {ev.type!r}")  # pragma: no cover


def translate(ev: LiveEvent, *, registry: Any = None, t: float = 0.0,
              water_threshold_m: float = _DEFAULT_WATER_THRESHOLD_M) -> list[Event]:
    """The twin events of one live event: a :class:`DeviceStateChanged` for the reporting
    device, plus a :class:`ZonePeopleCounted` for camera crowding counts and gate passages and
    a :class:`PatrolPositionReported` for patrol positions. ``registry`` (a
    :class:`~live_bridge.registry.DeviceRegistry` or a mapping with ``get``) gives the device's
    kind and zone; ``t`` the sim time to stamp (the twin re-stamps posted events anyway)."""
    if not isinstance(ev, LiveEvent):
        raise TypeError(f"translate: expected a LiveEvent, got {type(ev).__name__}")
    dev = registry.get(ev.subject) if registry is not None else None
    kind = getattr(dev, "kind", "") or ""
    zone = getattr(dev, "zone", None) or ""
    src = _bridge_source(ev)
    us = ev.time_us
    state, value, detail = _state_of(ev, water_threshold_m)
    if value is not None and not math.isfinite(value):
        value = None
    out: list[Event] = [DeviceStateChanged(t=t, source=src, device=ev.subject, kind=kind, state=state,
                                           value=None if value is None else float(value), detail=detail,
                                           observed_us=us, event_id=ev.id)]
    if ev.type == "cn.shoumen.camera.crowding":
        out.append(ZonePeopleCounted(t=t, source=src, zone=zone, device=ev.subject, method="camera",
                                     count=int(ev.data.count), observed_us=us, event_id=ev.id))
    elif ev.type == "cn.shoumen.gate.passage":
        out.append(ZonePeopleCounted(t=t, source=src, zone=zone, device=ev.subject, method="gate", count=1,
                                     direction=ev.data.direction, observed_us=us, event_id=ev.id))
    elif ev.type == "cn.shoumen.patrol.position":
        d = ev.data
        out.append(PatrolPositionReported(t=t, source=src, patrol=ev.subject, x_m=d.x_m, y_m=d.y_m, lon=d.lon,
                                          lat=d.lat, level=d.level, accuracy_m=d.accuracy_m, observed_us=us,
                                          event_id=ev.id))
    return out


def _us(t: datetime | None) -> int:
    if t is None:
        return 0
    d = t - _EPOCH
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def alarm_event(alarm: Alarm, *, t: float = 0.0, source: str = "live:alarms") -> AlarmStatusChanged:
    """The twin event saying ``alarm`` (of the :class:`AlarmCenter`) is now as it is."""
    return AlarmStatusChanged(
        t=t, source=source, alarm_id=alarm.id, rule=alarm.rule, state=alarm.state, severity=alarm.severity,
        level=alarm.level, title=alarm.title, device=alarm.device, building=alarm.building, storey=alarm.storey,
        unit=alarm.unit, zone=alarm.zone, raised_us=_us(alarm.raised), last_seen_us=_us(alarm.last_seen),
        count=int(alarm.count), acknowledged_by=alarm.acknowledged_by, resolved_by=alarm.resolved_by)


class LiveState(BaseComponent):
    """The live picture of the estate inside the twin (module docstring). Add it to a twin
    (``twin.add(LiveState())``); it reads the twin's events in ``on_event``. Reading
    (:meth:`snapshot`) is safe from any thread."""

    name = "live"

    def __init__(self, *, capacity: int = 1024, name: str | None = None) -> None:
        super().__init__(name)
        if capacity < 1:
            raise ValueError(f"LiveState: capacity must be >= 1, got {capacity!r}")
        self._lock = threading.RLock()
        self._listeners: list[Callable[[Event], None]] = []
        self._reset(capacity)

    def _reset(self, capacity: int) -> None:
        self.index: dict[str, int] = {}
        self.dev_kind: list[str] = []
        self.dev_state = np.zeros(capacity, dtype=np.int16)
        self.dev_value = np.full(capacity, np.nan)
        self.dev_state_us = np.zeros(capacity, dtype=np.int64)
        self.dev_last_seen_us = np.zeros(capacity, dtype=np.int64)
        self.dev_state_event: list[str] = []
        self.dev_detail: list[str] = []
        #: camera -> (observed_us, event_id, zone, count)
        self.camera_counts: dict[str, tuple[int, str, str, int]] = {}
        #: gate -> [zone, in, out]
        self.gate_counts: dict[str, list[Any]] = {}
        #: patrol -> (observed_us, event_id, position dict)
        self.patrols: dict[str, tuple[int, str, dict[str, Any]]] = {}
        #: patrol -> (observed_us, event_id, checkpoint)
        self.checkpoints: dict[str, tuple[int, str, str]] = {}
        #: alarm id -> alarm record (open and acknowledged alarms)
        self.alarms: dict[str, dict[str, Any]] = {}
        self.applied = 0

    # --- twin component ---------------------------------------------------------------------
    def add_listener(self, fn: Callable[[Event], None]) -> None:
        """Call ``fn(event)`` after each mirrored event is applied in :meth:`on_event` (not in
        :meth:`rebuild`), in the twin's thread while the state's lock is held -- so ``fn`` may read
        this state (:meth:`device`, ...) as the event left it, and a reader that takes
        :meth:`snapshot` sees either the state before ``fn`` ran or after. ``fn`` must be quick;
        an exception in it is logged, never raised. (The operator page's change stream uses it.)"""
        self._listeners.append(fn)

    def on_event(self, event: Event) -> None:
        if isinstance(event, (DeviceStateChanged, ZonePeopleCounted, PatrolPositionReported, AlarmStatusChanged)):
            with self._lock:
                self.apply(event)
                for fn in self._listeners:
                    try:
                        fn(event)
                    except Exception:
                        log.exception("LiveState listener %r failed on %s", fn, type(event).__name__)

    def apply(self, event: Event) -> None:
        """Apply one mirrored twin event (``on_event`` calls this; rebuild too)."""
        if isinstance(event, DeviceStateChanged):
            self._device(event)
        elif isinstance(event, ZonePeopleCounted):
            self._people(event)
        elif isinstance(event, PatrolPositionReported):
            key = (event.observed_us, event.event_id)
            cur = self.patrols.get(event.patrol)
            if cur is None or key >= cur[:2]:
                pos = {k: getattr(event, k) for k in ("x_m", "y_m", "lon", "lat", "level", "accuracy_m")}
                self.patrols[event.patrol] = (event.observed_us, event.event_id, pos)
        elif isinstance(event, AlarmStatusChanged):
            if event.state == "resolved":
                self.alarms.pop(event.alarm_id, None)
            else:
                self.alarms[event.alarm_id] = _alarm_record(event)
        else:
            return
        self.applied += 1

    def _slot(self, device: str, kind: str) -> int:
        i = self.index.get(device)
        if i is not None:
            if kind and not self.dev_kind[i]:
                self.dev_kind[i] = kind
            return i
        i = len(self.index)
        if i >= self.dev_state.size:
            n = 2 * self.dev_state.size
            self.dev_state = np.concatenate([self.dev_state, np.zeros(n - i, dtype=np.int16)])
            self.dev_value = np.concatenate([self.dev_value, np.full(n - i, np.nan)])
            self.dev_state_us = np.concatenate([self.dev_state_us, np.zeros(n - i, dtype=np.int64)])
            self.dev_last_seen_us = np.concatenate([self.dev_last_seen_us, np.zeros(n - i, dtype=np.int64)])
        self.index[device] = i
        self.dev_kind.append(kind)
        self.dev_state_event.append("")
        self.dev_detail.append("")
        return i

    def _device(self, e: DeviceStateChanged) -> None:
        code = _CODE.get(e.state)
        if code is None:
            raise ValueError(f"LiveState: unknown device state {e.state!r}; expected one of {DEVICE_STATES[1:]}")
        i = self._slot(e.device, e.kind)
        self.dev_last_seen_us[i] = max(self.dev_last_seen_us[i], e.observed_us)
        if e.state == "checkpoint":
            cur = self.checkpoints.get(e.device)
            if cur is None or (e.observed_us, e.event_id) >= cur[:2]:
                self.checkpoints[e.device] = (e.observed_us, e.event_id, e.detail)
        if (e.observed_us, e.event_id) >= (int(self.dev_state_us[i]), self.dev_state_event[i]):
            self.dev_state[i] = code
            self.dev_value[i] = np.nan if e.value is None else e.value
            self.dev_state_us[i] = e.observed_us
            self.dev_state_event[i] = e.event_id
            self.dev_detail[i] = e.detail

    def _people(self, e: ZonePeopleCounted) -> None:
        if e.method == "camera":
            cur = self.camera_counts.get(e.device)
            if cur is None or (e.observed_us, e.event_id) >= cur[:2]:
                self.camera_counts[e.device] = (e.observed_us, e.event_id, e.zone, int(e.count))
        else:
            g = self.gate_counts.setdefault(e.device, [e.zone, 0, 0])
            g[1 if e.direction == "in" else 2] += int(e.count)

    # --- reading ----------------------------------------------------------------------------
    def device(self, device_id: str) -> dict[str, Any] | None:
        """One device's live record, or None if it has not reported."""
        with self._lock:
            i = self.index.get(device_id)
            return None if i is None else self._device_record(i)

    def _device_record(self, i: int) -> dict[str, Any]:
        v = float(self.dev_value[i])
        return {"kind": self.dev_kind[i], "state": DEVICE_STATES[int(self.dev_state[i])],
                "value": None if math.isnan(v) else v, "detail": self.dev_detail[i],
                "state_time": _iso(int(self.dev_state_us[i])), "last_seen": _iso(int(self.dev_last_seen_us[i])),
                "event_id": self.dev_state_event[i]}

    def snapshot(self) -> dict[str, Any]:
        """The live state as plain JSON-able data: ``devices`` (id -> kind, state, value,
        detail, state_time, last_seen, event_id), ``zones`` (zone -> people seen by cameras now,
        gate passages in/out and their net), ``cameras`` (camera -> zone, count, time),
        ``gates``, ``patrols`` (tracker -> position, time, last checkpoint), ``alarms`` (open and
        acknowledged alarms, most recent first by id) and ``counts`` (devices per state)."""
        with self._lock:
            devices = {d: self._device_record(i) for d, i in self.index.items()}
            zones: dict[str, dict[str, int]] = {}

            def z(name: str) -> dict[str, int]:
                return zones.setdefault(name, {"camera_people": 0, "gate_in": 0, "gate_out": 0, "gate_net": 0})

            cameras = {}
            for cam, (us, _eid, zone, n) in sorted(self.camera_counts.items()):
                z(zone)["camera_people"] += n
                cameras[cam] = {"zone": zone, "count": n, "time": _iso(us)}
            gates = {}
            for gate, (zone, nin, nout) in sorted(self.gate_counts.items()):
                rec = z(zone)
                rec["gate_in"] += nin
                rec["gate_out"] += nout
                rec["gate_net"] += nin - nout
                gates[gate] = {"zone": zone, "in": nin, "out": nout}
            patrols = {}
            for p in sorted(set(self.patrols) | set(self.checkpoints)):
                rec: dict[str, Any] = {}
                if p in self.patrols:
                    us, _eid, pos = self.patrols[p]
                    rec.update(pos, time=_iso(us))
                if p in self.checkpoints:
                    rec["checkpoint"] = self.checkpoints[p][2]
                    rec["checkpoint_time"] = _iso(self.checkpoints[p][0])
                patrols[p] = rec
            counts: dict[str, int] = {}
            for i in range(len(self.index)):
                s = DEVICE_STATES[int(self.dev_state[i])]
                counts[s] = counts.get(s, 0) + 1
            return {"devices": devices, "zones": zones, "cameras": cameras, "gates": gates, "patrols": patrols,
                    "alarms": [dict(self.alarms[k]) for k in sorted(self.alarms)], "counts": counts}

    def devices_in(self, state: str) -> list[str]:
        """Ids of the devices whose current state is ``state``, oldest state first."""
        code = _CODE.get(state)
        if code is None:
            raise ValueError(f"LiveState.devices_in: unknown state {state!r}; expected one of {DEVICE_STATES[1:]}")
        with self._lock:
            n = len(self.index)
            ids = np.array(list(self.index), dtype=object)
            hit = np.flatnonzero(self.dev_state[:n] == code)
            order = hit[np.argsort(self.dev_state_us[hit], kind="stable")]
            return [str(ids[i]) for i in order]

    # --- snapshot / restore ------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        with self._lock:
            n = len(self.index)
            return {"index": dict(self.index), "dev_kind": list(self.dev_kind),
                    "dev_state": self.dev_state[:n].copy(), "dev_value": self.dev_value[:n].copy(),
                    "dev_state_us": self.dev_state_us[:n].copy(), "dev_last_seen_us": self.dev_last_seen_us[:n].copy(),
                    "dev_state_event": list(self.dev_state_event), "dev_detail": list(self.dev_detail),
                    "camera_counts": dict(self.camera_counts),
                    "gate_counts": {k: list(v) for k, v in self.gate_counts.items()},
                    "patrols": {k: (a, b, dict(c)) for k, (a, b, c) in self.patrols.items()},
                    "checkpoints": dict(self.checkpoints), "alarms": {k: dict(v) for k, v in self.alarms.items()},
                    "applied": self.applied}

    def set_state(self, state: dict[str, Any]) -> None:
        with self._lock:
            n = len(state["index"])
            self._reset(max(n, 16))
            self.index = dict(state["index"])
            self.dev_kind = list(state["dev_kind"])
            for name in ("dev_state", "dev_value", "dev_state_us", "dev_last_seen_us"):
                getattr(self, name)[:n] = state[name]
            self.dev_state_event = list(state["dev_state_event"])
            self.dev_detail = list(state["dev_detail"])
            self.camera_counts = dict(state["camera_counts"])
            self.gate_counts = {k: list(v) for k, v in state["gate_counts"].items()}
            self.patrols = dict(state["patrols"])
            self.checkpoints = dict(state["checkpoints"])
            self.alarms = dict(state["alarms"])
            self.applied = int(state["applied"])

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> LiveState:
        """A detached LiveState holding ``state`` (a ``get_state()`` result, e.g. from a twin
        snapshot's ``components["live"]``) -- for reading a forked copy."""
        ls = cls()
        ls.set_state(state)
        return ls

    # --- rebuild ------------------------------------------------------------------------------
    def rebuild(self, store: EventStore, *, registry: Any = None, alarms: AlarmCenter | None = None,
                water_threshold_m: float | None = None) -> int:
        """Replace this state with the one the event ``store`` implies: every stored event in
        event-time order through :func:`translate`, then the open alarms of ``alarms`` (the
        alarm center persists its own state). Returns the number of live events replayed."""
        thr = water_threshold_m if water_threshold_m is not None else (
            alarms.settings.water_threshold_m if alarms is not None else _DEFAULT_WATER_THRESHOLD_M)
        n = 0
        with self._lock:
            self._reset(max(self.dev_state.size, 16))
            for se in store.iter_events(order="event_time"):
                for tev in translate(se.event, registry=registry, water_threshold_m=thr):
                    self.apply(tev)
                n += 1
            if alarms is not None:
                for a in alarms.open_alarms():
                    self.apply(alarm_event(a))
        return n


def _alarm_record(e: AlarmStatusChanged) -> dict[str, Any]:
    return {"id": e.alarm_id, "rule": e.rule, "state": e.state, "severity": e.severity, "level": e.level,
            "title": e.title, "device": e.device, "building": e.building, "storey": e.storey, "unit": e.unit,
            "zone": e.zone, "raised": _iso(e.raised_us), "last_seen": _iso(e.last_seen_us), "count": e.count,
            "acknowledged_by": e.acknowledged_by}


class Mirror(BaseComponent):
    """Feeds accepted live events to the alarm center and, through ``twin.post``, to the
    twin's :class:`LiveState` (module docstring). As a twin component it also advances the
    alarm center's clock every ``alarm_tick_s`` of sim time (escalations, no-activity and
    zombie-car rules), at ``now()`` (UTC wall clock by default) -- the only place the live
    bridge reads the wall clock."""

    name = "mirror"

    def __init__(self, twin: Twin | None, *, registry: Any = None, alarms: AlarmCenter | None = None,
                 alarm_tick_s: float = 5.0, now: Callable[[], datetime] | None = None,
                 water_threshold_m: float | None = None) -> None:
        super().__init__()
        if not (isinstance(alarm_tick_s, (int, float)) and math.isfinite(alarm_tick_s) and alarm_tick_s > 0):
            raise ValueError(f"Mirror: alarm_tick_s must be a positive number of s, got {alarm_tick_s!r}")
        self.target = twin
        self.registry = registry
        self.alarms = alarms
        self.alarm_tick_s = float(alarm_tick_s)
        self.now = now or (lambda: datetime.now(UTC))
        self.water_threshold_m = water_threshold_m if water_threshold_m is not None else (
            alarms.settings.water_threshold_m if alarms is not None else _DEFAULT_WATER_THRESHOLD_M)
        self._lock = threading.RLock()
        self._next_tick = 0.0
        #: in-memory counters: events mirrored, twin events posted, alarm changes, failures
        self.stats = {"events": 0, "posted": 0, "alarm_changes": 0, "alarm_errors": 0, "mirror_errors": 0}

    def _post(self, ev: Event) -> None:
        if self.target is not None:
            self.target.post(ev)
            self.stats["posted"] += 1

    def accept(self, event: LiveEvent) -> list[Alarm]:
        """Mirror one event that the store has committed (call once per stored event): alarm
        center first, then the twin. Returns the alarms it raised or folded. An error in the
        alarm center is logged and counted, never raised: the event is stored already."""
        with self._lock:
            changed: list[Alarm] = []
            if self.alarms is not None:
                try:
                    changed = self.alarms.handle(event)
                except Exception:
                    self.stats["alarm_errors"] += 1
                    log.exception("alarm center failed on event %s (%s)", event.id, event.type)
            for tev in translate(event, registry=self.registry, water_threshold_m=self.water_threshold_m):
                self._post(tev)
            for a in changed:
                self._post(alarm_event(a))
            self.stats["events"] += 1
            self.stats["alarm_changes"] += len(changed)
            return changed

    def acknowledge(self, alarm_id: str, user: str, role: str) -> Alarm:
        """Acknowledge through the alarm center (its role checks apply) and mirror the change."""
        return self._alarm_call(lambda c: c.acknowledge(alarm_id, user, role))

    def resolve(self, alarm_id: str, user: str, role: str, note: str) -> Alarm:
        """Resolve through the alarm center (its role checks apply) and mirror the change."""
        return self._alarm_call(lambda c: c.resolve(alarm_id, user, role, note))

    def _alarm_call(self, fn: Callable[[AlarmCenter], Alarm]) -> Alarm:
        if self.alarms is None:
            raise RuntimeError("Mirror: no alarm center")
        with self._lock:
            a = fn(self.alarms)
            self._post(alarm_event(a))
            self.stats["alarm_changes"] += 1
            return a

    def tick_alarms(self, now: datetime | None = None) -> list[Alarm]:
        """Advance the alarm center to ``now`` (default ``self.now()``) and mirror what changed."""
        if self.alarms is None:
            return []
        with self._lock:
            changed = self.alarms.tick(now or self.now())
            for a in changed:
                self._post(alarm_event(a))
            self.stats["alarm_changes"] += len(changed)
            return changed

    def step(self, t: float, dt: float) -> None:
        if self.alarms is not None and t >= self._next_tick - 1e-9:
            self._next_tick = t + self.alarm_tick_s
            try:
                self.tick_alarms()
            except Exception:
                self.stats["alarm_errors"] += 1
                log.exception("alarm center tick failed")


class MirroringStore(EventStore):
    """An :class:`EventStore` that hands every event it stored (accepted or late) to
    ``mirror.accept`` after the commit, in the order of the batch. Give it to the inbound paths
    (:func:`live_bridge.http_in.create_app`, :class:`live_bridge.mqtt_in.MqttSubscriber`,
    :func:`live_bridge.replay.replay_file`) in place of the store itself."""

    def __init__(self, store: EventStore, mirror: Mirror) -> None:
        self.inner = store
        self.mirror = mirror

    @property
    def check(self) -> Callable[[LiveEvent], str | None] | None:
        return getattr(self.inner, "check", None)

    def append_many(self, events: Sequence[LiveEvent], *, timeout: float | None = None) -> list[AppendResult]:
        results = self.inner.append_many(events, timeout=timeout)
        for ev, r in zip(events, results):
            if r.stored:
                try:
                    self.mirror.accept(ev)
                except Exception:  # stored already: the caller's acknowledgement must not fail
                    self.mirror.stats["mirror_errors"] += 1
                    log.exception("mirroring event %s (%s) failed", ev.id, ev.type)
        return results

    def iter_events(self, *, since: datetime | None = None,
                    order: Literal["event_time", "arrival"] = "event_time") -> Iterator[StoredEvent]:
        return self.inner.iter_events(since=since, order=order)

    def counters(self) -> dict[str, int]:
        return self.inner.counters()

    def dead_letter(self, raw: str | bytes | Mapping[str, Any], reason: str, *, source: str,
                    timeout: float | None = None) -> None:
        self.inner.dead_letter(raw, reason, source=source, timeout=timeout)

    def iter_dead_letters(self) -> Iterator[DeadLetter]:
        return self.inner.iter_dead_letters()

    def close(self) -> None:
        self.inner.close()


class LiveRecorder(Recorder):
    """A recorder for a long-running live twin: keeps only the newest ``max_records`` event
    rows (a live twin runs for months; the event store is the durable record) and takes no
    field snapshots by default."""

    def __init__(self, *, max_records: int = 100_000, snapshot_every_s: float | None = None) -> None:
        super().__init__(snapshot_every_s=snapshot_every_s)
        if max_records < 1:
            raise ValueError(f"LiveRecorder: max_records must be >= 1, got {max_records!r}")
        self.max_records = int(max_records)

    def on_event(self, event: Event) -> None:
        super().on_event(event)
        if len(self.records) > self.max_records + self.max_records // 10:
            del self.records[: len(self.records) - self.max_records]
