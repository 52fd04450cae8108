"""The event vocabulary of the twin: one set of typed, immutable events for simulation, drills
and live operation (DESIGN.md, principle 1 and "The run loop").

Every state change of interest is an :class:`Event` published on the bus. An event carries

* ``t`` -- simulation time in seconds from scenario start (live events get the sim time of the
  tick at which they are applied),
* ``subject`` -- the stable id of the entity it is about (``B03``, ``B03-S1``, ``cam-gate-1``);
  several event types fill it from their natural field when it is left empty,
* ``source`` -- where it came from: ``"sim"`` (a model), ``"inject"`` (a drill trainer or a
  scenario's scripted inject) or ``"live:<bridge>"`` (mirrored from a real device),

plus its own keyword-only fields. A live event and a simulated one differ only in ``source``.

Every subclass registers itself by class name in :data:`EVENT_TYPES`, so a recorded row
(:meth:`Event.to_record`: ``t, type, subject, source, data`` with ``data`` the JSON of the
remaining fields) turns back into the same event with :meth:`Event.from_record`. Names of event
classes must therefore be unique across the code base.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping

import numpy as np

__all__ = [
    "ALARM_LEVELS",
    "ALARM_SEVERITIES",
    "ALARM_STATES",
    "EVENT_TYPES",
    "AgentEvacuated",
    "AgentsArrived",
    "AgentsEvacuated",
    "AlarmAcknowledged",
    "AlarmCleared",
    "AlarmRaised",
    "AlarmStatusChanged",
    "Bottleneck",
    "CellFlooded",
    "DetectorActivated",
    "DeviceStateChanged",
    "Event",
    "FireSpread",
    "InjectApplied",
    "PatrolPositionReported",
    "PopulationPlaced",
    "ResponderArrived",
    "RouteBlocked",
    "RoadClosed",
    "RoadReopened",
    "RouteReopened",
    "RunFinished",
    "RunStarted",
    "SnapshotTaken",
    "ZonePeopleCounted",
]

#: Every concrete event class by name (filled by ``Event.__init_subclass__``).
EVENT_TYPES: dict[str, type[Event]] = {}

#: Where an alarm applies: one dwelling unit, one building, or the whole estate.
ALARM_LEVELS: tuple[str, ...] = ("unit", "building", "estate")
#: Chinese four-colour warning scale, most severe first (GB/T 27962-2011 style; domain.md).
ALARM_SEVERITIES: tuple[str, ...] = ("red", "orange", "yellow", "blue")

_BASE_FIELDS = ("t", "subject", "source")


def _json_default(value: Any) -> Any:
    """Make numpy scalars and arrays JSON-serialisable (events built from kernel output)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"event field value {value!r} of type {type(value).__name__} is not JSON-serialisable")


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events. ``t`` is sim time in s; ``subject`` the entity id; ``source`` one of
    ``"sim"``, ``"inject"`` or ``"live:<bridge>"``. Subclasses are frozen keyword-only
    dataclasses and register themselves in :data:`EVENT_TYPES` under their class name."""

    type: ClassVar[str] = "Event"
    #: Name of a field whose value fills ``subject`` when ``subject`` is left empty.
    subject_field: ClassVar[str | None] = None

    t: float
    subject: str = ""
    source: str = "sim"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__name__
        known = EVENT_TYPES.get(name)
        if known is not None and (known.__module__, known.__qualname__) != (cls.__module__, cls.__qualname__):
            raise TypeError(
                f"event type name {name!r} is already used by {known.__module__}.{known.__qualname__}; "
                f"event class names must be unique ({cls.__module__}.{cls.__qualname__})"
            )
        cls.type = name
        EVENT_TYPES[name] = cls

    def __post_init__(self) -> None:
        if isinstance(self.t, bool) or not isinstance(self.t, (int, float, np.integer, np.floating)):
            raise TypeError(f"{self.type}.t: expected a number (sim time in s), got {self.t!r}")
        t = float(self.t)
        if not math.isfinite(t):
            raise ValueError(f"{self.type}.t: expected a finite sim time in s, got {t}")
        object.__setattr__(self, "t", t)
        if not isinstance(self.subject, str):
            raise TypeError(f"{self.type}.subject: expected a string id, got {self.subject!r}")
        if not isinstance(self.source, str) or not (
            self.source in ("sim", "inject") or (self.source.startswith("live:") and len(self.source) > 5)
        ):
            raise ValueError(
                f"{self.type}.source: expected 'sim', 'inject' or 'live:<bridge>', got {self.source!r}"
            )
        if not self.subject and self.subject_field is not None:
            value = getattr(self, self.subject_field)
            if value is not None:
                object.__setattr__(self, "subject", str(value))

    def data(self) -> dict[str, Any]:
        """The event's own fields (all but ``t``, ``subject``, ``source``) as a dict."""
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in _BASE_FIELDS
        }

    def to_record(self) -> dict[str, Any]:
        """A flat row ``{"t", "type", "subject", "source", "data"}``; ``data`` is a JSON string of
        the remaining fields (numpy scalars become Python numbers)."""
        return {
            "t": self.t,
            "type": self.type,
            "subject": self.subject,
            "source": self.source,
            "data": json.dumps(self.data(), default=_json_default, separators=(",", ":")),
        }

    @staticmethod
    def from_record(rec: Mapping[str, Any]) -> Event:
        """Rebuild an event from :meth:`to_record` output (``data`` may be a JSON string or a
        dict). Raises ValueError naming the problem: unknown type (listing the known ones),
        missing keys, bad JSON or fields the type does not have."""
        missing = [k for k in ("t", "type") if k not in rec]
        if missing:
            raise ValueError(f"event record {dict(rec)!r}: missing key(s) {missing}")
        name = rec["type"]
        cls = EVENT_TYPES.get(name)
        if cls is None:
            raise ValueError(f"unknown event type {name!r}; known types: {', '.join(sorted(EVENT_TYPES))}")
        raw = rec.get("data", "{}")
        if raw is None or raw == "":
            raw = "{}"
        if isinstance(raw, str):
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ValueError(f"event record of type {name!r}: field 'data' is not valid JSON ({exc})") from exc
        else:
            data = dict(raw)
        if not isinstance(data, dict):
            raise ValueError(f"event record of type {name!r}: field 'data' must be a JSON object, got {raw!r}")
        fields = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(k for k in data if k not in fields or k in _BASE_FIELDS)
        if unknown:
            own = sorted(k for k in fields if k not in _BASE_FIELDS)
            raise ValueError(f"event record of type {name!r}: unknown data field(s) {unknown}; expected {own}")
        for key, value in data.items():
            if isinstance(value, list) and str(fields[key].type).startswith("tuple"):
                data[key] = _to_tuple(value)
        try:
            return cls(
                t=rec["t"],
                subject=rec.get("subject", "") or "",
                source=rec.get("source", "sim") or "sim",
                **data,
            )
        except TypeError as exc:
            raise ValueError(f"event record of type {name!r}: {exc}") from exc


def _to_tuple(value: Any) -> Any:
    return tuple(_to_tuple(v) for v in value) if isinstance(value, list) else value


def _check_choice(event: Event, field: str, choices: tuple[str, ...]) -> None:
    value = getattr(event, field)
    if value not in choices:
        raise ValueError(f"{event.type}.{field}: expected one of {list(choices)}, got {value!r}")


# --- run lifecycle -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RunStarted(Event):
    """A run began. ``seed`` is the root seed's entropy (``spawn_key`` its position in the seed
    tree, empty for a root seed) and ``scenario`` the scenario name, so a recording says how to
    reproduce itself."""

    seed: int = 0
    scenario: str = ""
    spawn_key: tuple[int, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RunFinished(Event):
    """A call to ``Twin.run`` ended: ``reason`` is ``"until"`` (the requested end time was
    reached) or ``"stopped"`` (``Twin.stop()`` was called, e.g. when everyone is out). A run
    continued in several calls records one per call; the last one ends the recording."""

    reason: str = "until"

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice(self, "reason", ("until", "stopped"))


@dataclass(frozen=True, kw_only=True)
class SnapshotTaken(Event):
    """An operator or a scenario took a labelled snapshot of the twin (a fork point for
    "what happens next")."""

    label: str = ""


# --- alarms --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AlarmRaised(Event):
    """An alarm was raised. ``level`` is its scope (``unit``, ``building`` or ``estate``),
    ``severity`` the four-colour scale (``red`` > ``orange`` > ``yellow`` > ``blue``),
    ``reason`` a short human text, ``building`` the building id when it applies to one
    (it fills ``subject`` when ``subject`` is empty)."""

    subject_field: ClassVar[str | None] = "building"

    level: str = "building"
    severity: str = "red"
    reason: str = ""
    building: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice(self, "level", ALARM_LEVELS)
        _check_choice(self, "severity", ALARM_SEVERITIES)


@dataclass(frozen=True, kw_only=True)
class AlarmCleared(Event):
    """The alarm about ``subject`` was cleared (false alarm, hazard over); ``reason`` says why."""

    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class AlarmAcknowledged(Event):
    """A person (``by``: operator, warden or trainee id) acknowledged the alarm about
    ``subject``; drills measure the time from raise to acknowledgement."""

    by: str = ""


# --- injects and routes ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class InjectApplied(Event):
    """A drill or scenario inject took effect: ``action`` (e.g. ``block``, ``ignite``,
    ``power_cut``), ``target`` the entity id acted on (fills ``subject``), ``detail`` free text
    or JSON for the parameters."""

    subject_field: ClassVar[str | None] = "target"

    action: str = ""
    target: str = ""
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class RouteBlocked(Event):
    """A stair, exit, door, gate or way (``target``, its stable id; fills ``subject``) can no
    longer be used by people, e.g. smoke-logged or locked."""

    subject_field: ClassVar[str | None] = "target"

    target: str = ""


@dataclass(frozen=True, kw_only=True)
class RouteReopened(Event):
    """A previously blocked stair, exit, door, gate or way (``target``; fills ``subject``) is
    usable again."""

    subject_field: ClassVar[str | None] = "target"

    target: str = ""


# --- devices and hazards -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DetectorActivated(Event):
    """A detector or sensor (``device`` id; fills ``subject``) went into alarm; ``kind`` is its
    device kind (``smoke_detector``, ``heat_detector``, ``water_level``, ...)."""

    subject_field: ClassVar[str | None] = "device"

    device: str = ""
    kind: str = ""


@dataclass(frozen=True, kw_only=True)
class FireSpread(Event):
    """Fire reached ``compartment`` (fills ``subject``) from ``origin`` by ``mechanism``
    (``ignition``, ``window``, ``wall``, ``floor`` or ``hamada``); also marks flashover
    (``mechanism="flashover"``, ``origin`` = the compartment) and a window breaking
    (``mechanism="window_broken"``)."""

    subject_field: ClassVar[str | None] = "compartment"

    compartment: str = ""
    origin: str = ""
    mechanism: str = ""


@dataclass(frozen=True, kw_only=True)
class RoadClosed(Event):
    """Road or ramp ``road`` (fills ``subject``) became impassable for ``vehicle`` (a vehicle
    class: ``small_car``, ``emergency``, ...) because of ``reason`` (e.g. flood depth)."""

    subject_field: ClassVar[str | None] = "road"

    road: str = ""
    vehicle: str = ""
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RoadReopened(Event):
    """Road ``road`` (fills ``subject``) is passable again for ``vehicle``."""

    subject_field: ClassVar[str | None] = "road"

    road: str = ""
    vehicle: str = ""


@dataclass(frozen=True, kw_only=True)
class CellFlooded(Event):
    """A raster cell (``i``, ``j``) on ``level`` first exceeded the flood threshold; ``depth_m``
    is the water depth in m at that moment."""

    level: int = 0
    i: int = 0
    j: int = 0
    depth_m: float = 0.0


# --- people and responders ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AgentEvacuated(Event):
    """Agent number ``agent`` (its index in the people arrays) left ``building`` to a place of
    safety."""

    agent: int = -1
    building: str = ""


@dataclass(frozen=True, kw_only=True)
class AgentsEvacuated(Event):
    """Progress of a building's evacuation: ``count`` more people left ``building`` (fills
    ``subject``) in the last tick; ``total`` have left so far. Published in aggregate so large
    runs stay small."""

    subject_field: ClassVar[str | None] = "building"

    building: str = ""
    count: int = 0
    total: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not (0 <= self.count <= self.total):
            raise ValueError(
                f"AgentsEvacuated: expected 0 <= count <= total, got count={self.count}, total={self.total}"
            )


@dataclass(frozen=True, kw_only=True)
class ResponderArrived(Event):
    """A responder (``responder`` id, e.g. a patrol team or fire engine; fills ``subject``)
    reached the scene of ``incident``."""

    subject_field: ClassVar[str | None] = "responder"

    responder: str = ""
    incident: str = ""

@dataclass(frozen=True, kw_only=True)
class PopulationPlaced(Event):
    """``count`` people are in ``building`` (fills ``subject``) when the run starts; the
    denominator of the building's evacuation metrics."""

    subject_field: ClassVar[str | None] = "building"

    building: str = ""
    count: int = 0


@dataclass(frozen=True, kw_only=True)
class AgentsArrived(Event):
    """``count`` more people reached the place of safety ``target`` (an assembly point or gate
    id; fills ``subject``) in the last tick; ``total`` have arrived there so far."""

    subject_field: ClassVar[str | None] = "target"

    target: str = ""
    count: int = 0
    total: int = 0


@dataclass(frozen=True, kw_only=True)
class Bottleneck(Event):
    """A place where people queued during the run (published when a run finishes, worst first):
    ``node`` (fills ``subject``) in ``building`` ('' outdoors) of ``kind``; the largest queue in
    persons, the total queueing time in person-seconds and the people who passed."""

    subject_field: ClassVar[str | None] = "node"

    node: str = ""
    building: str = ""
    kind: str = ""
    max_queue: float = 0.0
    wait_person_s: float = 0.0
    passed: float = 0.0



# --- live operation (mirrored from the live bridge) ----------------------------------------------
# Each carries the observation's own time ``observed_us`` (UTC microseconds since the Unix epoch)
# and the live event's id ``event_id``: ``t`` is the tick at which the twin applied it, so a
# consumer that must not depend on arrival order (a late event, a replay) orders by
# ``(observed_us, event_id)``.

#: States an alarm of the live alarm lifecycle can be in.
ALARM_STATES: tuple[str, ...] = ("open", "acknowledged", "resolved")


@dataclass(frozen=True, kw_only=True)
class DeviceStateChanged(Event):
    """A live device (``device`` id; fills ``subject``) of ``kind`` reported ``state``
    (``alarm``, ``clear``, ``open``, ``closed``, ``forced``, ``high``, ``normal``, ``crowding``,
    ...) with an optional reading ``value`` (water level in m, people counted, bpm, ...) and a
    short ``detail`` (e.g. a checkpoint id), observed at ``observed_us``."""

    subject_field: ClassVar[str | None] = "device"

    device: str = ""
    kind: str = ""
    state: str = ""
    value: float | None = None
    detail: str = ""
    observed_us: int = 0
    event_id: str = ""


@dataclass(frozen=True, kw_only=True)
class ZonePeopleCounted(Event):
    """People counted in management zone ``zone`` (fills ``subject``; ``""`` when the device
    has none) by ``device``: ``method`` ``camera`` (``count`` people in view now, replacing that
    camera's previous count) or ``gate`` (``count`` people passed in ``direction`` in/out)."""

    subject_field: ClassVar[str | None] = "zone"

    zone: str = ""
    device: str = ""
    method: str = "camera"
    count: int = 0
    direction: str = ""
    observed_us: int = 0
    event_id: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice(self, "method", ("camera", "gate"))
        if self.method == "gate":
            _check_choice(self, "direction", ("in", "out"))
        if self.count < 0:
            raise ValueError(f"ZonePeopleCounted.count: expected a count >= 0, got {self.count}")


@dataclass(frozen=True, kw_only=True)
class PatrolPositionReported(Event):
    """Patrol ``patrol`` (its tracker id; fills ``subject``) was at local ``x_m``, ``y_m`` (m)
    or WGS 84 ``lon``, ``lat`` (degrees), on ``level`` when known, ``accuracy_m`` the fix's
    accuracy, observed at ``observed_us``."""

    subject_field: ClassVar[str | None] = "patrol"

    patrol: str = ""
    x_m: float | None = None
    y_m: float | None = None
    lon: float | None = None
    lat: float | None = None
    level: int | None = None
    accuracy_m: float | None = None
    observed_us: int = 0
    event_id: str = ""


@dataclass(frozen=True, kw_only=True)
class AlarmStatusChanged(Event):
    """An alarm of the live alarm lifecycle (``alarm_id``, fills ``subject``) is now in
    ``state`` (open, acknowledged, resolved) at escalation ``level`` with ``severity``; the
    other fields copy the alarm (where it is, when raised and last seen in UTC microseconds, how
    many triggers were folded into it, who acknowledged / resolved it)."""

    subject_field: ClassVar[str | None] = "alarm_id"

    alarm_id: str = ""
    rule: str = ""
    state: str = "open"
    severity: str = "red"
    level: str = ""
    title: str = ""
    device: str | None = None
    building: str | None = None
    storey: int | None = None
    unit: str | None = None
    zone: str | None = None
    raised_us: int = 0
    last_seen_us: int = 0
    count: int = 1
    acknowledged_by: str | None = None
    resolved_by: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_choice(self, "state", ALARM_STATES)
        _check_choice(self, "severity", ALARM_SEVERITIES)


EVENT_TYPES["Event"] = Event
