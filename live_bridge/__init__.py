"""Inbound events from the real estate: MQTT, HTTP, file replay and camera analytics; device
registry, event store, mirroring into the twin and the alarm lifecycle (its own issue).

The vocabulary (CloudEvents 1.0 envelopes with typed data) is in :mod:`live_bridge.vocabulary`
and docs/events.md; the Frigate NVR mapping in :mod:`live_bridge.frigate`; the durable event
store in :mod:`live_bridge.store`; the device registry in :mod:`live_bridge.registry`; the
alarm lifecycle, rules and audit in :mod:`live_bridge.alarms` / :mod:`live_bridge.rules` with the
resident register in :mod:`live_bridge.residents`; inbound paths: MQTT (:mod:`live_bridge.mqtt_in`),
HTTP (:mod:`live_bridge.http_in`, imported where the server is built: it loads FastAPI) and file
replay (:mod:`live_bridge.replay`); the mirror into the live twin (:mod:`live_bridge.mirror`), served by
:mod:`twin.server`; camera analytics with onnxruntime in the subpackage :mod:`live_bridge.vision`
(imported on its own: it loads OpenCV and onnxruntime).
"""

from live_bridge.alarms import PERMISSIONS, ROLES, Alarm, AlarmCenter, AlarmStateError, AuditEntry, Notification

from live_bridge.frigate import from_frigate, redact_frigate_payload
from live_bridge.mirror import DEVICE_STATES, LiveRecorder, LiveState, Mirror, MirroringStore, alarm_event, translate
from live_bridge.mqtt_in import EVENT_TOPIC, MqttIngestError, MqttSubscriber
from live_bridge.registry import (
    EVENT_SOURCE_KINDS,
    SOURCE_KINDS,
    DeviceCheck,
    DeviceRegistry,
    RegisteredDevice,
    RegistryError,
)
from live_bridge.replay import MqttTarget, ReplayError, ReplayProgress, ReplayResult, replay_file
from live_bridge.residents import RegisterError, Resident, ResidentRegister
from live_bridge.rules import (
    LEVELS,
    SEVERITIES,
    SEVERITY_RANK,
    AlarmSettings,
    DeviceAlarmRule,
    ElderlyNoActivityRule,
    PerimeterLoiteringRule,
    Recipient,
    ResponderPositions,
    RoutePlanner,
    Rule,
    RuleContext,
    Trigger,
    ZombieCarRule,
    default_rules,
)
from live_bridge.settings import LiveBridgeSettings
from live_bridge.store import (
    DEFAULT_IDENTITY_RETENTION_DAYS,
    IDENTITY_EVENT_TYPES,
    AppendResult,
    AppendStatus,
    DeadLetter,
    EventStore,
    SqliteEventStore,
    StoreClosedError,
    StoredEvent,
)
from live_bridge.vocabulary import (
    EVENT_DATA,
    EVENT_TYPES,
    EventError,
    LiveEvent,
    PlateHasher,
    make_event,
    normalise_plate,
    parse_event,
)

__all__ = [
    "DEFAULT_IDENTITY_RETENTION_DAYS", "IDENTITY_EVENT_TYPES",
    "DEVICE_STATES", "LiveRecorder", "LiveState", "Mirror", "MirroringStore", "alarm_event", "translate",
    "EVENT_TOPIC", "MqttIngestError", "MqttSubscriber", "MqttTarget", "ReplayError", "ReplayProgress", "ReplayResult",
    "replay_file",
    "LEVELS", "PERMISSIONS", "ROLES", "SEVERITIES", "SEVERITY_RANK",
    "Alarm", "AlarmCenter", "AlarmSettings", "AlarmStateError", "AuditEntry", "DeviceAlarmRule",
    "ElderlyNoActivityRule", "Notification", "PerimeterLoiteringRule", "Recipient", "RegisterError", "Resident",
    "ResidentRegister", "ResponderPositions", "RoutePlanner", "Rule", "RuleContext", "Trigger", "ZombieCarRule",
    "default_rules",
    "EVENT_DATA", "EVENT_SOURCE_KINDS", "EVENT_TYPES", "SOURCE_KINDS",
    "AppendResult", "AppendStatus", "DeadLetter", "DeviceCheck", "DeviceRegistry", "EventError",
    "EventStore", "LiveBridgeSettings", "LiveEvent", "PlateHasher", "RegisteredDevice", "RegistryError",
    "SqliteEventStore", "StoreClosedError", "StoredEvent",
    "from_frigate", "make_event", "normalise_plate", "parse_event", "redact_frigate_payload",
]
