"""Event vocabulary: registry, records round trip, validation and clear errors."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from twin.events import (
    EVENT_TYPES,
    AgentEvacuated,
    AgentsEvacuated,
    AlarmRaised,
    CellFlooded,
    DetectorActivated,
    Event,
    InjectApplied,
    RouteBlocked,
    RunFinished,
    RunStarted,
)


def test_type_is_class_name_and_registered() -> None:
    assert RouteBlocked.type == "RouteBlocked"
    assert RouteBlocked(t=1.0, target="B03-S1").type == "RouteBlocked"
    for name in [
        "RunStarted", "RunFinished", "AlarmRaised", "AlarmCleared", "AlarmAcknowledged", "InjectApplied",
        "RouteBlocked", "RouteReopened", "DetectorActivated", "AgentsEvacuated", "AgentEvacuated",
        "CellFlooded", "ResponderArrived", "SnapshotTaken",
    ]:
        assert EVENT_TYPES[name].__name__ == name
        assert EVENT_TYPES[name].type == name


def test_subclass_registers_itself() -> None:
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class GasLeakDetected(Event):
        ppm: float = 0.0

    assert EVENT_TYPES["GasLeakDetected"] is GasLeakDetected
    ev = GasLeakDetected(t=3, subject="B01", ppm=120.5)
    assert Event.from_record(ev.to_record()) == ev


def test_duplicate_name_from_elsewhere_rejected() -> None:
    with pytest.raises(TypeError, match="RouteBlocked.*already used"):
        type("RouteBlocked", (Event,), {"__module__": "somewhere.else"})


def test_events_are_frozen_and_keyword_only() -> None:
    ev = RouteBlocked(t=1.0, target="B03-S1")
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.t = 2.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        RouteBlocked(1.0, "", "sim", "B03-S1")  # type: ignore[misc]


def test_record_layout_and_round_trip() -> None:
    ev = AlarmRaised(t=12.5, severity="orange", reason="smoke in stair", building="B03", source="live:mqtt")
    rec = ev.to_record()
    assert set(rec) == {"t", "type", "subject", "source", "data"}
    assert rec["type"] == "AlarmRaised" and rec["t"] == 12.5 and rec["source"] == "live:mqtt"
    assert rec["subject"] == "B03"  # filled from building
    assert json.loads(rec["data"]) == {"level": "building", "severity": "orange", "reason": "smoke in stair", "building": "B03"}
    assert Event.from_record(rec) == ev
    # data may also be a dict
    assert Event.from_record({**rec, "data": json.loads(rec["data"])}) == ev


@pytest.mark.parametrize(
    "ev",
    [
        RunStarted(t=0, seed=42, scenario="fire-B03", spawn_key=(1, 2)),
        RunFinished(t=600, reason="stopped"),
        InjectApplied(t=5, action="block", target="B03-S1", detail='{"why": "smoke"}', source="inject"),
        DetectorActivated(t=7, device="smk-B03-L02", kind="smoke_detector"),
        AgentsEvacuated(t=9, building="B03", count=3, total=10),
        AgentEvacuated(t=9, agent=17, building="B03"),
        CellFlooded(t=100, level=-1, i=4, j=9, depth_m=0.15),
    ],
)
def test_round_trip_each_type(ev: Event) -> None:
    back = Event.from_record(ev.to_record())
    assert back == ev and type(back) is type(ev)


def test_subject_filled_but_explicit_subject_kept() -> None:
    assert RouteBlocked(t=0, target="G-north").subject == "G-north"
    assert RouteBlocked(t=0, target="G-north", subject="estate").subject == "estate"
    assert AlarmRaised(t=0, level="estate").subject == ""


def test_numpy_values_serialise() -> None:
    ev = CellFlooded(t=np.float64(3.0), level=np.int64(0), i=np.int32(2), j=np.int64(5), depth_m=np.float32(0.25))
    data = json.loads(ev.to_record()["data"])
    assert data == {"level": 0, "i": 2, "j": 5, "depth_m": 0.25}
    assert isinstance(ev.t, float)


def test_unknown_type_error_lists_known() -> None:
    with pytest.raises(ValueError, match="unknown event type 'Earthquake'.*AlarmRaised.*RouteBlocked"):
        Event.from_record({"t": 0.0, "type": "Earthquake", "subject": "", "source": "sim", "data": "{}"})


def test_bad_records_named() -> None:
    with pytest.raises(ValueError, match="missing key"):
        Event.from_record({"type": "RouteBlocked"})
    with pytest.raises(ValueError, match="RouteBlocked.*unknown data field.*'colour'.*expected \\['target'\\]"):
        Event.from_record({"t": 0, "type": "RouteBlocked", "data": '{"colour": "red"}'})
    with pytest.raises(ValueError, match="not valid JSON"):
        Event.from_record({"t": 0, "type": "RouteBlocked", "data": "{oops"})


def test_field_validation() -> None:
    with pytest.raises(ValueError, match="AlarmRaised.severity.*'purple'"):
        AlarmRaised(t=0, severity="purple")
    with pytest.raises(ValueError, match="AlarmRaised.level"):
        AlarmRaised(t=0, level="district")
    with pytest.raises(ValueError, match="source"):
        RouteBlocked(t=0, target="x", source="camera")
    with pytest.raises(ValueError, match="finite"):
        RouteBlocked(t=float("nan"), target="x")
    with pytest.raises(TypeError, match="RouteBlocked.t"):
        RouteBlocked(t="soon", target="x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="count <= total"):
        AgentsEvacuated(t=0, building="B01", count=5, total=3)
    with pytest.raises(ValueError, match="reason"):
        RunFinished(t=0, reason="bored")
