"""Mirroring live events into the twin: translation, LiveState semantics (late events, people
counts, patrols, alarms), the path through Twin.post at tick boundaries, and rebuild from the
event store equal to the state before a restart."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from geometry.sample import sample_community
from live_bridge.alarms import AlarmCenter
from live_bridge.mirror import LiveState, Mirror, MirroringStore, alarm_event, translate
from live_bridge.registry import DeviceRegistry, RegisteredDevice
from live_bridge.store import SqliteEventStore
from live_bridge.vocabulary import make_event
from twin.core import Twin
from twin.events import (
    DeviceStateChanged,
    Event,
    PatrolPositionReported,
    ZonePeopleCounted,
)

T0 = datetime(2025, 3, 1, 18, 30, tzinfo=UTC)  # 02:30 local (UTC+8)
SMK = "smk-B03-L07-U05"


@pytest.fixture(scope="module")
def site():
    return sample_community()


@pytest.fixture
def env(tmp_path: Path, site):
    db = tmp_path / "live.sqlite"
    reg = DeviceRegistry(db, site=site)
    reg.add(RegisteredDevice(id="patrol-1", kind="patrol_tracker"))
    store = SqliteEventStore(db, check=reg.reject_reason, synchronous="NORMAL")
    center = AlarmCenter(db, registry=reg, site=site, synchronous="NORMAL")
    yield db, reg, store, center
    store.close()
    center.close()
    reg.close()


_n = 0


def ev(typ: str, subject: str, dt_s: float, **data):
    global _n
    _n += 1
    return make_event(typ, id=f"e{_n:05d}", source="/mqtt/test", subject=subject, time=T0 + timedelta(seconds=dt_s),
                      data=data)


def stream() -> list:
    """A mixed stream including a late smoke clear that must not overwrite a newer alarm."""
    return [
        ev("cn.shoumen.smoke.alarm", SMK, 10, obscuration_pct_per_m=4.0),
        ev("cn.shoumen.camera.crowding", "cam-gate-north-1", 11, count=12),
        ev("cn.shoumen.camera.crowding", "cam-gate-north-1", 15, count=7),
        ev("cn.shoumen.camera.crowding", "cam-gate-north-2", 12, count=3),
        ev("cn.shoumen.gate.passage", "G-N", 13, direction="in", credential="face"),
        ev("cn.shoumen.gate.passage", "G-N", 14, direction="in", credential="card"),
        ev("cn.shoumen.gate.passage", "G-N", 16, direction="out", credential="face"),
        ev("cn.shoumen.patrol.position", "patrol-1", 20, x_m=10.0, y_m=20.0, accuracy_m=3.0),
        ev("cn.shoumen.patrol.position", "patrol-1", 25, x_m=11.0, y_m=21.0),
        ev("cn.shoumen.patrol.checkpoint", "patrol-1", 26, checkpoint="nfc-7"),
        ev("cn.shoumen.smoke.clear", SMK, 5, reason="reset"),  # observed before the alarm: late
    ]


def water_sensor(site) -> str:
    return next(d.id for d in site.devices if d.kind.value == "water_level")


def test_translate_maps_types_with_live_source(site, env) -> None:
    _, reg, _, _ = env
    out = translate(ev("cn.shoumen.camera.crowding", "cam-gate-north-1", 1, count=9), registry=reg)
    assert [type(e) for e in out] == [DeviceStateChanged, ZonePeopleCounted]
    assert out[0].source == "live:mqtt" and out[0].state == "crowding" and out[0].value == 9.0
    assert out[1].zone == reg.get("cam-gate-north-1").zone and out[1].count == 9 and out[1].method == "camera"
    w = water_sensor(site)
    hi = translate(ev("cn.shoumen.water.level", w, 2, level_m=0.40), registry=reg, water_threshold_m=0.15)[0]
    lo = translate(ev("cn.shoumen.water.level", w, 3, level_m=0.05, threshold_m=0.1), registry=reg)[0]
    assert (hi.state, hi.value, lo.state) == ("high", 0.40, "normal")
    p = translate(ev("cn.shoumen.patrol.position", "patrol-1", 4, lon=113.6, lat=34.7), registry=reg)
    assert isinstance(p[1], PatrolPositionReported) and (p[1].lon, p[1].lat, p[1].x_m) == (113.6, 34.7, None)
    g = translate(ev("cn.shoumen.gate.passage", "G-N", 5, direction="out", credential="qr"), registry=reg)
    assert g[0].state == "passage_out" and g[1].direction == "out" and g[1].method == "gate"
    # every translated event survives the twin's record round trip
    for e in out + p + g:
        assert Event.from_record(e.to_record()) == e
    with pytest.raises(TypeError, match="expected a LiveEvent"):
        translate({"type": "cn.shoumen.smoke.alarm"})  # type: ignore[arg-type]


def test_live_state_semantics_late_counts_patrols(env) -> None:
    _, reg, _, _ = env
    ls = LiveState(capacity=2)  # grows
    for e in stream():
        for tev in translate(e, registry=reg):
            ls.apply(tev)
    s = ls.snapshot()
    smk = s["devices"][SMK]
    assert smk["state"] == "alarm"  # the late "clear" (observed earlier) did not overwrite it
    assert smk["last_seen"] == "2025-03-01T18:30:10.000000Z"
    assert s["cameras"]["cam-gate-north-1"]["count"] == 7  # the newest count replaces the older one
    expected = {}
    for cam, n in (("cam-gate-north-1", 7), ("cam-gate-north-2", 3)):
        expected[reg.get(cam).zone] = expected.get(reg.get(cam).zone, 0) + n
    assert {z: s["zones"][z]["camera_people"] for z in expected} == expected
    gz = reg.get("G-N").zone
    assert s["gates"]["G-N"] == {"zone": gz, "in": 2, "out": 1}
    assert s["zones"][gz]["gate_net"] == 1
    assert s["patrols"]["patrol-1"]["x_m"] == 11.0 and s["patrols"]["patrol-1"]["checkpoint"] == "nfc-7"
    assert ls.devices_in("alarm") == [SMK]
    with pytest.raises(ValueError, match="unknown state"):
        ls.devices_in("burning")
    with pytest.raises(ValueError, match="unknown device state"):
        ls.apply(DeviceStateChanged(t=0, device="x", state="melted"))
    # snapshot/restore of the component gives the same picture
    assert LiveState.from_state(ls.get_state()).snapshot() == s


def test_order_independent(env) -> None:
    _, reg, _, _ = env
    events = stream()
    ref = LiveState()
    for e in sorted(events, key=lambda e: (e.time_us, e.id)):
        for tev in translate(e, registry=reg):
            ref.apply(tev)
    rng = random.Random(3)
    for _ in range(5):
        shuffled = events[:]
        rng.shuffle(shuffled)
        ls = LiveState()
        for e in shuffled:
            for tev in translate(e, registry=reg):
                ls.apply(tev)
        assert ls.snapshot() == ref.snapshot()


def test_events_reach_live_state_through_the_twin_queue_and_rebuild_matches(env, site) -> None:
    db, reg, store, center = env
    twin = Twin(None, dt=1.0)
    mirror = twin.add(Mirror(twin, registry=reg, alarms=center, now=lambda: T0 + timedelta(seconds=40)))
    live = twin.add(LiveState())
    ms = MirroringStore(store, mirror)
    assert ms.check is not None  # the inbound paths require the registry check
    events = stream()
    res = ms.append_many(events[:6])
    assert all(r.stored for r in res)
    # posted, not yet applied: nothing changes outside a tick
    assert live.snapshot()["devices"] == {}
    twin.run(until=1.0)
    assert live.device(SMK)["state"] == "alarm"
    alarms = [a for a in live.snapshot()["alarms"] if a["rule"] == "smoke"]
    assert len(alarms) == 1 and alarms[0]["device"] == SMK and alarms[0]["state"] == "open"
    assert {a["id"] for a in live.snapshot()["alarms"]} == {a.id for a in center.open_alarms()}
    # duplicates and rejected events are not mirrored twice / at all
    before = mirror.stats["events"]
    dup = ms.append_many([events[0], ev("cn.shoumen.smoke.alarm", "smk-NOPE", 1)])
    assert [r.status.value for r in dup] == ["duplicate", "rejected"] and mirror.stats["events"] == before
    ms.append_many(events[6:])
    a = mirror.acknowledge(alarms[0]["id"], "op-1", "operator")
    assert a.state == "acknowledged"
    twin.run(until=3.0)
    s1 = live.snapshot()
    mine = next(x for x in s1["alarms"] if x["id"] == a.id)
    assert mine["state"] == "acknowledged" and mine["acknowledged_by"] == "op-1"
    assert s1["devices"][SMK]["state"] == "alarm"
    # a fork at a tick boundary holds the same state
    snap = twin.snapshot()
    assert LiveState.from_state(snap.components["live"]).snapshot() == s1
    # restart: a fresh LiveState rebuilt from the store (event-time order) equals the live one
    center2 = AlarmCenter(db, registry=reg, site=site, synchronous="NORMAL")
    try:
        fresh = LiveState()
        n = fresh.rebuild(store, registry=reg, alarms=center2)
        assert n == len(events)
        assert fresh.snapshot() == s1
    finally:
        center2.close()
    # resolving removes the alarm from the live picture
    mirror.resolve(a.id, "op-1", "operator", "cooking smoke, checked on site")
    twin.run(until=4.0)
    assert a.id not in {x["id"] for x in live.snapshot()["alarms"]}
    assert len(live.snapshot()["alarms"]) == len(s1["alarms"]) - 1


def test_permission_refused_changes_nothing(env) -> None:
    _, reg, store, center = env
    twin = Twin(None, dt=1.0)
    mirror = twin.add(Mirror(twin, registry=reg, alarms=center))
    live = twin.add(LiveState())
    MirroringStore(store, mirror).append(ev("cn.shoumen.smoke.alarm", SMK, 0, sensing="heat"))
    twin.run(until=1.0)
    aid = live.snapshot()["alarms"][0]["id"]
    posted = mirror.stats["posted"]
    with pytest.raises(PermissionError):
        mirror.resolve(aid, "p-1", "property", "fixed")  # property may not resolve a red alarm
    assert mirror.stats["posted"] == posted


def test_alarm_tick_runs_in_the_twin_step(env) -> None:
    _, reg, store, center = env
    t_now = [T0]
    twin = Twin(None, dt=1.0)
    mirror = twin.add(Mirror(twin, registry=reg, alarms=center, alarm_tick_s=2.0, now=lambda: t_now[0]))
    live = twin.add(LiveState())
    MirroringStore(store, mirror).append(ev("cn.shoumen.smoke.alarm", SMK, 0))  # orange: 300 s at property
    twin.run(until=1.0)
    assert live.snapshot()["alarms"][0]["level"] == "property"
    t_now[0] = T0 + timedelta(seconds=301)
    twin.run(until=4.0)
    assert live.snapshot()["alarms"][0]["level"] == "grid_worker"


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="alarm_tick_s"):
        Mirror(None, alarm_tick_s=0)
    with pytest.raises(ValueError, match="capacity"):
        LiveState(capacity=0)


def test_alarm_event_round_trip(env) -> None:
    center = env[3]
    a = center.handle(ev("cn.shoumen.smoke.alarm", SMK, 0))[0]
    e = alarm_event(a)
    assert e.subject == a.id and e.state == "open" and Event.from_record(e.to_record()) == e
    assert np.isfinite(e.raised_us)


class _BrokenCenter:
    """An alarm center that fails: mirroring must go on and the store's answer stand."""

    def handle(self, event):
        raise RuntimeError("database is locked")


def test_failures_after_the_commit_do_not_fail_ingest(env) -> None:
    _, reg, store, _ = env
    twin = Twin(None, dt=1.0)
    mirror = twin.add(Mirror(twin, registry=reg, alarms=_BrokenCenter(), water_threshold_m=0.15))  # type: ignore[arg-type]
    live = twin.add(LiveState())
    ms = MirroringStore(store, mirror)
    assert ms.append(ev("cn.shoumen.smoke.alarm", SMK, 0)).stored
    assert mirror.stats["alarm_errors"] == 1
    twin.run(until=1.0)
    assert live.device(SMK)["state"] == "alarm"  # the twin still got the device state

    class Boom(Mirror):
        def accept(self, event):
            raise ValueError("bug")

    boom = Boom(None, registry=reg)
    assert MirroringStore(store, boom).append(ev("cn.shoumen.smoke.clear", SMK, 1)).stored
    assert boom.stats["mirror_errors"] == 1
