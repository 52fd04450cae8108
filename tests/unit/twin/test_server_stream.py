"""The operator page's server parts without a server: :class:`twin.server.ChangeLog` (ids,
resume, eviction, resync), :func:`twin.server.live_type` (the inverse of the mirror's state
words), :func:`twin.server.site_geojson` and the :meth:`LiveState.add_listener` hook."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from geometry.sample import sample_community
from geometry.site import DeviceKind
from live_bridge.mirror import LiveState, translate
from live_bridge.vocabulary import make_event
from twin.events import DeviceStateChanged
from twin.server import ChangeLog, live_type, site_geojson


def test_changelog_ids_resume_and_eviction() -> None:
    log = ChangeLog(capacity=3, first_id=100)
    assert log.last_id == 100 and log.since(100) == []
    ids = [log.append("device", {"n": k}) for k in range(5)]
    assert ids == [101, 102, 103, 104, 105] and len(log) == 3
    assert [e[0] for e in log.since(102)] == [103, 104, 105]  # 102 itself evicted, the rest kept
    assert [e[0] for e in log.since(104)] == [105]
    assert log.since(105) == []
    assert log.since(101) is None  # 102 is gone: the caller must resync
    assert log.since(106) is None  # from the future (another process): resync
    assert json.loads(log.since(104)[0][2]) == {"n": 4}
    with pytest.raises(ValueError, match="capacity"):
        ChangeLog(capacity=0)
    with pytest.raises(ValueError):  # NaN is not JSON
        log.append("device", {"x": float("nan")})
    assert ChangeLog().last_id > 1_600_000_000 * 10**6  # ids start at the wall clock (us)


def test_changelog_wakes_subscribers() -> None:
    log = ChangeLog(first_id=0)

    async def main() -> bool:
        ev = log.subscribe()
        loop = asyncio.get_running_loop()
        loop.call_later(0.01, lambda: log.append("alarm", {}))
        await asyncio.wait_for(ev.wait(), 2)
        log.unsubscribe(ev)
        return ev.is_set()

    assert asyncio.run(main())


@pytest.mark.parametrize(("typ", "subject", "data"), [
    ("cn.shoumen.smoke.alarm", "smk-B03-L07-U05", {"obscuration_pct_per_m": 5.0}),
    ("cn.shoumen.smoke.clear", "smk-B03-L07-U05", {}),
    ("cn.shoumen.door.forced", "door-B01-E1", {}),
    ("cn.shoumen.camera.fall", "cam-gate-north-1", {}),
    ("cn.shoumen.camera.crowding", "cam-gate-north-1", {"count": 4}),
    ("cn.shoumen.gate.passage", "G-N", {"direction": "out", "credential": "face"}),
    ("cn.shoumen.patrol.position", "patrol-1", {"x_m": 1.0, "y_m": 2.0}),
])
def test_live_type_inverts_translate(typ: str, subject: str, data: dict) -> None:
    kinds = {"cam-gate-north-1": "camera"}
    ev = make_event(typ, id="e1", source="/t", subject=subject, time=datetime.now(UTC), data=data)
    dsc = translate(ev)[0]
    assert live_type(kinds.get(subject, dsc.kind), dsc.state) == typ
    with pytest.raises(ValueError, match="no live event"):
        live_type("camera", "melted")


def test_site_geojson_layers() -> None:
    site = sample_community()
    g = site_geojson(site)
    by: dict[str, list[dict]] = {}
    for f in g["features"]:
        by.setdefault(f["properties"]["layer"], []).append(f)
    assert len(by["building"]) == len(site.buildings) and len(by["device"]) == len(site.devices)
    assert len(by["camera_cone"]) == len(site.devices_of(DeviceKind.CAMERA))
    b = next(f for f in by["building"] if f["id"] == "B03")
    assert b["properties"]["storeys"] == site.building("B03").storeys and b["geometry"]["type"] == "Polygon"
    assert g["bounds"] == [0.0, 0.0, 300.0, 240.0]
    json.dumps(g, allow_nan=False)  # plain JSON


def test_live_state_listener_sees_applied_state() -> None:
    live = LiveState()
    seen: list[tuple[str, str | None]] = []

    def listener(e: object) -> None:
        rec = live.device("smk-1")
        seen.append((type(e).__name__, None if rec is None else rec["state"]))
        raise RuntimeError("a broken listener must not stop the state")

    live.add_listener(listener)
    live.on_event(DeviceStateChanged(t=0.0, device="smk-1", kind="smoke_detector", state="alarm",
                                     observed_us=5, event_id="a"))
    live.on_event(DeviceStateChanged(t=0.0, device="smk-1", kind="smoke_detector", state="clear",
                                     observed_us=3, event_id="b"))  # late: the state stays alarm
    assert seen == [("DeviceStateChanged", "alarm"), ("DeviceStateChanged", "alarm")]
    assert live.device("smk-1")["state"] == "alarm"
