"""End to end: the live twin service on a real uvicorn server with a real Mosquitto broker.

A smoke alarm published over MQTT for a sample flat shows in GET /alarms within a second and
the device is in alarm in GET /state; a device token may not acknowledge (403), an operator
token may; POST /forecast forks the live state and returns ASET/RSET; after a restart the
state rebuilt from the event store equals the state before.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
import pytest
import uvicorn
from paho.mqtt.enums import CallbackAPIVersion

from live_bridge.settings import LiveBridgeSettings
from live_bridge.vocabulary import make_event
from twin.server import Principal, create_server, parse_tokens

pytestmark = pytest.mark.system

DEVICE_KEY = "device-key-0123456789"
OPERATOR = "operator-token-0123456789"
PROPERTY = "property-token-0123456789"
SMK = "smk-B03-L07-U05"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def broker(start_mosquitto) -> int:  # type: ignore[no-untyped-def]
    """An anonymous Mosquitto on a free port (tests/conftest.py)."""
    return start_mosquitto().port


class Running:
    """A LiveServer served by uvicorn in a thread."""

    def __init__(self, store: Path, broker_port: int) -> None:
        settings = LiveBridgeSettings(api_keys=(DEVICE_KEY,), mqtt_port=broker_port, mqtt_client_id="t-serve")
        tokens = {OPERATOR: Principal("op-1", "operator"), PROPERTY: Principal("prop-1", "property")}
        self.srv = create_server("sample", store_path=store, settings=settings, tokens=tokens, dt=0.25)
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(self.srv.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        end = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > end or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        self.srv.start_mqtt(port=broker_port)
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)

    def get(self, path: str, token: str = OPERATOR, **kw: Any) -> httpx.Response:
        return self.http.get(path, headers={"Authorization": f"Bearer {token}"}, **kw)

    def post(self, path: str, token: str = OPERATOR, **kw: Any) -> httpx.Response:
        return self.http.post(path, headers={"Authorization": f"Bearer {token}"}, **kw)

    def stop(self) -> None:
        self.http.close()
        self.server.should_exit = True
        self.thread.join(20)
        assert not self.thread.is_alive()


def state_without_clock(r: Running) -> dict[str, Any]:
    s = r.get("/state").json()
    s.pop("twin")
    return s


def test_serve_end_to_end(tmp_path: Path, broker: int) -> None:
    db = tmp_path / "live.sqlite"
    r = Running(db, broker)
    try:
        # auth
        assert r.http.get("/alarms").status_code == 401
        assert r.get("/alarms", token="x" * 20).status_code == 401
        assert r.get("/alarms", token=DEVICE_KEY).status_code == 403
        assert r.get("/events", params={"since": "yesterday"}).status_code == 422

        # a smoke alarm over MQTT -> /alarms within a second
        now = datetime.now(UTC)
        smoke = make_event("cn.shoumen.smoke.alarm", id="mq-1", source="/mqtt/gw-b03", subject=SMK, time=now,
                           data={"obscuration_pct_per_m": 5.0})
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="t-pub")
        pub.connect("127.0.0.1", broker)
        pub.loop_start()
        t0 = time.monotonic()
        pub.publish(f"shoumen/events/{SMK}", smoke.to_json(), qos=1).wait_for_publish(5)
        alarm = None
        while time.monotonic() - t0 < 5:
            alarms = r.get("/alarms").json()["alarms"]
            alarm = next((a for a in alarms if a["device"] == SMK), None)
            if alarm is not None:
                break
            time.sleep(0.02)
        seen_s = time.monotonic() - t0
        pub.loop_stop()
        pub.disconnect()
        assert alarm is not None and alarm["unit"] == "B03-L07-U05" and alarm["state"] == "open"
        assert seen_s < 1.0, f"alarm visible after {seen_s:.2f} s"

        # HTTP ingest (the live bridge's app, mounted): a gate passage with the device key
        gate = make_event("cn.shoumen.gate.passage", id="http-1", source="/http/gate", subject="G-N", time=now,
                          data={"direction": "in", "credential": "face"})
        res = r.http.post("/events", content=gate.to_json(), headers={"X-API-Key": DEVICE_KEY,
                                                                    "Content-Type": "application/cloudevents+json"})
        assert res.status_code == 202 and res.json()["results"][0]["status"] == "accepted"

        # the live state shows the device in alarm and the passage (applied at a tick boundary)
        end = time.monotonic() + 3
        while True:
            st = r.get("/state").json()
            if st["devices"].get(SMK, {}).get("state") == "alarm" and "G-N" in st["gates"]:
                break
            assert time.monotonic() < end, st
            time.sleep(0.05)
        assert st["gates"]["G-N"]["in"] == 1 and st["twin"]["running"]
        assert any(a["id"] == alarm["id"] for a in st["alarms"])
        ev = r.get("/events", params={"since": now.isoformat()}).json()["events"]
        assert {e["event"]["id"] for e in ev} == {"mq-1", "http-1"}

        # acknowledge: device token refused, property (alarm at property level) may, but
        # the operator does it here; a second acknowledgement conflicts
        assert r.post(f"/alarms/{alarm['id']}/ack", token=DEVICE_KEY).status_code == 403
        assert r.post("/alarms/A-999999/ack").status_code == 404
        ok = r.post(f"/alarms/{alarm['id']}/ack")
        assert ok.status_code == 200, ok.text
        assert ok.json()["state"] == "acknowledged" and ok.json()["acknowledged_by"] == "op-1"
        assert r.post(f"/alarms/{alarm['id']}/ack").status_code == 409
        # a property token may not resolve a red/orange alarm
        assert r.post(f"/alarms/{alarm['id']}/resolve", token=PROPERTY, json={"note": "x"}).status_code == 403

        # what happens next: forecast from the live state (the detector in alarm)
        assert r.post("/forecast", token=PROPERTY, json={}).status_code == 403
        assert r.post("/forecast", json={"unit": "B03-L99-U05"}).status_code == 422
        t = time.perf_counter()
        fc = r.post("/forecast", json={})
        wall = time.perf_counter() - t
        assert fc.status_code == 201, fc.text
        f = fc.json()
        print(f"\nforecast wall time {wall:.2f} s (model run {f['wall_s']:.2f} s): "
              + json.dumps({k: f[k] for k in ("unit", "aset_s", "rset_95_s", "margin_95_s", "aset_remaining_s")}))
        assert f["unit"] == "B03-L07-U05" and f["live"]["detector"] == SMK
        assert isinstance(f["aset_s"], float) and f["aset_s"] > 0
        assert isinstance(f["rset_95_s"], float) and f["rset_95_s"] > 0
        assert f["margin_95_s"] == pytest.approx(f["aset_s"] - f["rset_95_s"], abs=0.11)
        assert f["first_untenable"] and f["first_untenable"][0]["compartment"] == "B03-L07-U05"
        assert 0 <= f["live"]["elapsed_since_alarm_s"] < 60
        assert r.get(f"/forecast/{f['id']}").json() == f
        assert r.get("/forecast/F-999999").status_code == 404

        before = state_without_clock(r)
    finally:
        r.stop()
    assert r.srv.raw_store.closed

    # restart on the same store: the rebuilt state equals the state before
    r2 = Running(db, broker)
    try:
        assert r2.get("/state").json()["twin"]["rebuilt_events"] == 2
        assert state_without_clock(r2) == before
        assert [a["id"] for a in r2.get("/alarms").json()["alarms"]] == [a["id"] for a in before["alarms"]]
    finally:
        r2.stop()


def test_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no device API keys"):
        create_server("sample", store_path=tmp_path / "x.sqlite", settings=LiveBridgeSettings())
    with pytest.raises(FileNotFoundError, match="site file"):
        create_server(tmp_path / "nope.gpkg", store_path=tmp_path / "x.sqlite",
                      settings=LiveBridgeSettings(api_keys=(DEVICE_KEY,)), tokens={})
    with pytest.raises(ValueError, match="role 'chief'"):
        parse_tokens(f"{OPERATOR}=op:chief")
    with pytest.raises(ValueError, match="at least 16"):
        parse_tokens("short=op:operator")
    with pytest.raises(ValueError, match="expected 'token=user:role'"):
        parse_tokens(f"{OPERATOR}")
    assert parse_tokens(f"{OPERATOR}=op-1:operator, ,{PROPERTY}=p:property") == {
        OPERATOR: Principal("op-1", "operator"), PROPERTY: Principal("p", "property")}


def test_cli_serve_and_replay_show_alarms(broker: int, tmp_path: Path) -> None:
    """The two commands operators use: ``shoumen serve`` (a real process with MQTT ingest) and
    ``shoumen replay`` of a recorded JSON Lines file to the broker: the replayed smoke alarms
    appear in GET /alarms, the elderly-alone or ordinary red ones first."""
    import os
    import sys

    exe = Path(sys.executable).parent / "shoumen"
    port = free_port()
    env = dict(os.environ, SHOUMEN_API_KEYS=DEVICE_KEY, SHOUMEN_TOKENS=f"{OPERATOR}=ann:operator",
               SHOUMEN_LIVE_DB=str(tmp_path / "live.sqlite"))
    srv = subprocess.Popen([str(exe), "serve", "--port", str(port), "--mqtt-port", str(broker), "--require-mqtt"],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=tmp_path)
    try:
        end = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if srv.poll() is not None or time.monotonic() > end:
                out = srv.stdout.read().decode() if srv.stdout else ""
                pytest.fail(f"shoumen serve did not come up: {out[-2000:]}")
            time.sleep(0.2)
        now = datetime.now(UTC)
        lines = [make_event("cn.shoumen.smoke.alarm", id=f"replay-{k}", source="/test/replay", subject=dev,
                            time=now.isoformat(), data={"sensing": "smoke"}).to_json()
                 for k, dev in enumerate([SMK, "smk-B12-L02-U03"])]
        f = tmp_path / "events.jsonl"
        f.write_text("\n".join(lines) + "\n")
        rep = subprocess.run([str(exe), "replay", str(f), "--speed", "0", "--mqtt-port", str(broker)],
                             capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
        assert rep.returncode == 0, rep.stderr
        end = time.monotonic() + 10
        subjects: set[str] = set()
        while time.monotonic() < end:
            r = httpx.get(f"http://127.0.0.1:{port}/alarms", headers={"Authorization": f"Bearer {OPERATOR}"}, timeout=5)
            assert r.status_code == 200, r.text
            body = r.json()
            items = body if isinstance(body, list) else body.get("alarms", [])
            subjects = {json.dumps(a) for a in items}
            if all(any(dev in s for s in subjects) for dev in (SMK, "smk-B12-L02-U03")):
                break
            time.sleep(0.2)
        assert any(SMK in s for s in subjects) and any("smk-B12-L02-U03" in s for s in subjects), subjects
    finally:
        srv.terminate()
        try:
            srv.wait(10)
        except subprocess.TimeoutExpired:
            srv.kill()
