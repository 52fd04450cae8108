"""The world at run time: the Twin facade over a SimPy clock, typed events on a bus, state
arrays, the recorder and deterministic seeding. The CLI lives in ``twin.cli`` (not imported
here: it imports every package)."""

from twin.bus import RECORDER_ORDER, EventBus
from twin.component import BaseComponent, Component, StatefulComponent
from twin.core import Twin, TwinSnapshot
from twin.events import (
    ALARM_LEVELS,
    ALARM_SEVERITIES,
    EVENT_TYPES,
    AgentEvacuated,
    AgentsArrived,
    AgentsEvacuated,
    AlarmAcknowledged,
    AlarmCleared,
    AlarmRaised,
    Bottleneck,
    CellFlooded,
    DetectorActivated,
    Event,
    InjectApplied,
    PopulationPlaced,
    ResponderArrived,
    RouteBlocked,
    RouteReopened,
    RunFinished,
    RunStarted,
    SnapshotTaken,
)
from twin.recorder import EVENT_COLUMNS, Recorder, ResultWriter, read_events, read_fields
from twin.seeding import replication_seeds, root_sequence, stream, stream_sequence
from twin.state import StateArrays

__all__ = [
    "ALARM_LEVELS",
    "ALARM_SEVERITIES",
    "EVENT_COLUMNS",
    "EVENT_TYPES",
    "RECORDER_ORDER",
    "AgentEvacuated",
    "AgentsArrived",
    "AgentsEvacuated",
    "AlarmAcknowledged",
    "AlarmCleared",
    "AlarmRaised",
    "BaseComponent",
    "Bottleneck",
    "CellFlooded",
    "Component",
    "DetectorActivated",
    "Event",
    "EventBus",
    "InjectApplied",
    "PopulationPlaced",
    "Recorder",
    "ResponderArrived",
    "ResultWriter",
    "RouteBlocked",
    "RouteReopened",
    "RunFinished",
    "RunStarted",
    "SnapshotTaken",
    "StateArrays",
    "StatefulComponent",
    "Twin",
    "TwinSnapshot",
    "read_events",
    "read_fields",
    "replication_seeds",
    "root_sequence",
    "stream",
    "stream_sequence",
]
