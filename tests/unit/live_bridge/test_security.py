"""Security of the live bridge: the shipped broker config (accounts, topic ACL) on a real
Mosquitto, the HTTP size and rate limits, no personal data in logs, and retention of
person-identity events."""

from __future__ import annotations

import json
import logging
import re
import shutil
import socket
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient
from paho.mqtt.enums import CallbackAPIVersion

from live_bridge.http_in import create_app
from live_bridge.mqtt_in import MqttIngestError, MqttSubscriber
from live_bridge.settings import LiveBridgeSettings
from live_bridge.store import DEFAULT_IDENTITY_RETENTION_DAYS, IDENTITY_EVENT_TYPES, SqliteEventStore
from live_bridge.vocabulary import PlateHasher, make_event

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy" / "mosquitto"
PASSWORDS = {"shoumen-bridge": "bridge-pw-0123456789", "shoumen-device": "device-pw-0123456789",
             "frigate": "frigate-pw-0123456789", "monitor": "monitor-pw-0123456789"}
KEY = "test-key-0123456789abcdef"
KEY2 = "other-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def secured_broker(start_mosquitto, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    """Mosquitto running the shipped deploy/mosquitto/shoumen.conf and shoumen.acl (paths and
    port rewritten for the test; a test-only ``monitor`` account that may read ``#`` appended)."""
    passwd_exe = shutil.which("mosquitto_passwd")
    if passwd_exe is None:
        pytest.fail("mosquitto_passwd is not installed (scripts/setup.sh installs the Debian package)")
    d = tmp_path / "broker"
    d.mkdir()
    pw = d / "shoumen.passwd"
    for i, (user, password) in enumerate(PASSWORDS.items()):  # the set-up recipe, non-interactive
        subprocess.run([passwd_exe, *(["-c"] if i == 0 else []), "-b", str(pw), user, password], check=True,
                       capture_output=True)
    acl = d / "shoumen.acl"
    acl.write_text((DEPLOY / "shoumen.acl").read_text() + "\n# test only\nuser monitor\ntopic read #\n")
    conf_lines = []
    for line in (DEPLOY / "shoumen.conf").read_text().splitlines():
        key = line.split(" ", 1)[0]
        line = {"listener": "listener {port} 127.0.0.1", "password_file": f"password_file {pw}",
                "acl_file": f"acl_file {acl}", "persistence_location": "persistence_location {dir}/"}.get(
            key, line.replace("{", "{{").replace("}", "}}"))
        conf_lines.append(line)
    shipped = "\n".join(conf_lines)
    assert "allow_anonymous false" in shipped and f"acl_file {acl}" in shipped
    return start_mosquitto(shipped, name="secured").port


def client(port: int, user: str | None, password: str | None = None) -> tuple[mqtt.Client, list, threading.Event]:
    """A connected client; returns (client, received (topic, payload) list, connected event)."""
    got: list[tuple[str, bytes]] = []
    ok = threading.Event()
    refused: list[str] = []
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    if user is not None:
        c.username_pw_set(user, password)

    def on_connect(cl, ud, flags, reason, props):  # noqa: ANN001
        if reason.is_failure:
            refused.append(str(reason))
        else:
            ok.set()

    c.on_connect = on_connect
    c.on_message = lambda cl, ud, m: got.append((m.topic, bytes(m.payload)))
    c.connect("127.0.0.1", port)
    c.loop_start()
    c.refused = refused  # type: ignore[attr-defined]
    return c, got, ok


def event(i: int) -> str:
    return make_event("cn.shoumen.door.open", id=f"acl-{i}", source="/mqtt/gw", subject="door-1",
                      time="2025-03-01T08:00:00Z").to_json()


def test_shipped_acl_delivers_only_granted_topics(secured_broker: int, tmp_path: Path) -> None:
    port = secured_broker
    mon, seen, mon_ok = client(port, "monitor", PASSWORDS["monitor"])
    assert mon_ok.wait(5), mon.refused  # type: ignore[attr-defined]
    mon.subscribe("#", qos=1)
    st = SqliteEventStore(tmp_path / "live.sqlite")
    settings = LiveBridgeSettings(mqtt_port=port, mqtt_client_id="acl-bridge", mqtt_username="shoumen-bridge",
                                  mqtt_password=PASSWORDS["shoumen-bridge"])
    sub = MqttSubscriber.from_settings(st, settings, frigate_prefix=None).start()
    dev, dev_got, dev_ok = client(port, "shoumen-device", PASSWORDS["shoumen-device"])
    brg, _, brg_ok = client(port, "shoumen-bridge", PASSWORDS["shoumen-bridge"])
    try:
        assert dev_ok.wait(5) and brg_ok.wait(5)
        time.sleep(0.2)  # the monitor's SUBACK
        dev.subscribe("shoumen/events/#", qos=1)  # devices may not read events
        # outside the ACL: acknowledged (MQTT 3.1.1 has no refusal code) but never delivered
        for info in [dev.publish("shoumen/alarms/x", event(1), qos=1), dev.publish("estate/doors", event(2), qos=1),
                     brg.publish("shoumen/events/door-1", event(3), qos=1)]:  # the bridge may not publish
            info.wait_for_publish(5)
        dev.publish("shoumen/events/door-1", event(4), qos=1).wait_for_publish(5)  # granted
        dev.publish("frigate/events", b"{}", qos=1).wait_for_publish(5)  # granted (dead-lettered content aside)
        assert sub.wait_for(1, timeout=10), sub.stats
        end = time.monotonic() + 5
        while len(seen) < 2 and time.monotonic() < end:
            time.sleep(0.02)
        time.sleep(0.3)  # anything else would have arrived by now (in order behind the granted ones)
        assert sorted(t for t, _ in seen) == ["frigate/events", "shoumen/events/door-1"]
        assert json.loads(seen[[t for t, _ in seen].index("shoumen/events/door-1")][1])["id"] == "acl-4"
        assert dev_got == []
        sub.wait_idle(timeout=5)
        assert [e.event.id for e in st.iter_events()] == ["acl-4"] and sub.stats["messages"] == 1
    finally:
        sub.stop()
        for c in (mon, dev, brg):
            c.disconnect()
            c.loop_stop()
        st.close()


def test_wrong_password_and_anonymous_are_refused(secured_broker: int, tmp_path: Path) -> None:
    port = secured_broker
    for user, password in [("shoumen-device", "wrong-password-123"), (None, None), ("nobody", "x" * 20)]:
        c, _, ok = client(port, user, password)
        time.sleep(0.5)
        c.loop_stop()
        assert not ok.is_set() and c.refused, (user, c.refused)  # type: ignore[attr-defined]
        assert re.search(r"[Nn]ot authori[sz]ed|[Bb]ad user name or password", c.refused[0])  # type: ignore[attr-defined]
    st = SqliteEventStore(tmp_path / "live.sqlite")
    try:
        with pytest.raises(MqttIngestError, match=r"127\.0\.0\.1:\d+.*(CONNACK|not subscribed)"):
            MqttSubscriber(st, port=port, client_id="bad-pw", username="shoumen-bridge", password="wrong-1234567",
                           frigate_prefix=None).start(timeout=2)
    finally:
        st.close()


# --- HTTP limits ----------------------------------------------------------------------------------
def test_http_body_limit_413_and_rate_limit_429(tmp_path: Path) -> None:
    st = SqliteEventStore(tmp_path / "live.sqlite")
    app = create_app(st, None, LiveBridgeSettings(api_keys=(KEY, KEY2)), max_body_bytes=2000,
                     rate_per_key_s=0.5, rate_burst=3)
    ev = json.loads(event(1))
    with TestClient(app) as c:
        h = {"X-API-Key": KEY, "Content-Type": "application/cloudevents+json"}
        big = dict(ev, id="big", data={"door": "D" * 3000})
        r = c.post("/events", content=json.dumps(big), headers=h)
        assert r.status_code == 413 and "2000" in r.json()["detail"]
        codes = [c.post("/events", content=json.dumps(dict(ev, id=f"r{i}")), headers=h).status_code for i in range(2)]
        assert codes == [202, 202]  # burst 3, the 413 took the first token
        r = c.post("/events", content=json.dumps(dict(ev, id="r9")), headers=h)
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        # per key: the other key is not throttled; a wrong key is 401, not 429
        assert c.post("/events", content=json.dumps(dict(ev, id="k2")),
                      headers={**h, "X-API-Key": KEY2}).status_code == 202
        assert c.post("/events", content=json.dumps(ev), headers={**h, "X-API-Key": "w" * 20}).status_code == 401
    ids = {e.event.id for e in st.iter_events()}
    st.close()
    assert ids == {"r0", "r1", "k2"}  # nothing stored for the refused requests


def test_http_limit_options_checked(tmp_path: Path) -> None:
    st = SqliteEventStore(tmp_path / "live.sqlite")
    try:
        s = LiveBridgeSettings(api_keys=(KEY,))
        with pytest.raises(ValueError, match="rate_per_key_s"):
            create_app(st, None, s, rate_per_key_s=0)
        with pytest.raises(ValueError, match="rate_burst"):
            create_app(st, None, s, rate_burst=0)
        with pytest.raises(ValueError, match="max_body_bytes"):
            create_app(st, None, s, max_body_bytes=0)
    finally:
        st.close()


# --- no personal data in logs ------------------------------------------------------------------------
PLATE = "京A·12345"
NAME = "Zhang Wei"


def test_no_plates_or_names_in_logs(mosquitto, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    hasher = PlateHasher(b"k" * 32)
    car = {"id": "trk-car", "camera": "cam-gate-north-1", "label": "car", "score": 0.9, "top_score": 0.9,
           "false_positive": False, "start_time": 1740816900.0, "frame_time": 1740816901.0,
           "current_zones": [], "sub_label": [NAME, 0.9], "recognized_license_plate": [PLATE, 0.93]}
    person = dict(car, id="trk-p", label="person", recognized_license_plate=None, sub_label=[NAME, 0.8])
    msgs = [json.dumps({"type": "new", "before": car, "after": car}),
            json.dumps({"type": "new", "before": person, "after": dict(person, camera=None)}),  # malformed
            json.dumps({"type": "new", "after": dict(car, recognized_license_plate=12345)})]  # bad plate
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    pub.enable_logger(logging.getLogger("test.publisher"))
    pub.connect(mosquitto.host, mosquitto.port)
    pub.loop_start()
    failures = [RuntimeError("database is locked")]

    class Flaky(SqliteEventStore):
        def append_many(self, events, *, timeout=None):  # noqa: ANN001, ANN201
            if failures:
                raise failures.pop()
            return super().append_many(events, timeout=timeout)

    for key in (hasher, None):  # with a plate key, and without (plate messages dead-lettered)
        st = Flaky(tmp_path / f"live-{key is None}.sqlite")
        with MqttSubscriber(st, port=mosquitto.port, client_id=f"t-logs-{key is None}", hasher=key) as sub:
            sub._client.enable_logger(logging.getLogger("test.subscriber"))
            for m in msgs:
                pub.publish("frigate/events", m, qos=1).wait_for_publish(5)
            assert sub.wait_for(len(msgs), timeout=10), sub.stats
        dead = [d.raw + d.reason for d in st.iter_dead_letters()]
        st.close()
        assert dead and not any(PLATE in d or "12345" in d for d in dead)
    pub.disconnect()
    pub.loop_stop()
    app = create_app(SqliteEventStore(tmp_path / "http.sqlite"), None, LiveBridgeSettings(api_keys=(KEY,)))
    with TestClient(app) as c:  # a refused event whose field holds a plate and a name
        bad = json.loads(event(5))
        bad["data"] = {"driver": f"{PLATE} {NAME}"}  # an unexpected field
        assert c.post("/events", json=bad, headers={"X-API-Key": KEY}).status_code == 422
    text = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "store failed" in text and "PUBLISH" in text  # the logs were captured at all
    for secret in (PLATE, "12345", NAME):
        assert secret not in text, f"{secret!r} appears in the logs"


# --- retention ---------------------------------------------------------------------------------------
def test_purge_older_than_deletes_old_identity_events_only(tmp_path: Path) -> None:
    hasher = PlateHasher(b"k" * 32)
    now = datetime(2025, 6, 1, tzinfo=UTC)
    st = SqliteEventStore(tmp_path / "live.sqlite", lateness_s=1e9)
    try:
        def plate(i: int, age_days: float):  # noqa: ANN202
            return make_event("cn.shoumen.camera.licence_plate", id=f"pl-{i}", source="/cam", subject="cam-1",
                              time=now - timedelta(days=age_days),
                              data={"plate_hmac": hasher.hash("京A12345"), "key_id": hasher.key_id})

        old_door = make_event("cn.shoumen.door.open", id="door-old", source="/gw", subject="door-1",
                              time=now - timedelta(days=400))
        st.append_many([plate(1, 45), plate(2, 31), plate(3, 29), plate(4, 1), old_door])
        st.dead_letter("{plate}", "bad", source="mqtt:frigate/events")
        assert IDENTITY_EVENT_TYPES == ("cn.shoumen.camera.licence_plate",) and DEFAULT_IDENTITY_RETENTION_DAYS == 30
        out = st.purge_older_than(now=now)  # default 30 days
        assert out == {"events": 2, "dead_letters": 0}  # the dead letter arrived just now (wall clock)
        assert sorted(e.event.id for e in st.iter_events()) == ["door-old", "pl-3", "pl-4"]
        assert st.purge_older_than(0.5, now=now, dead_letters=False) == {"events": 2, "dead_letters": 0}
        assert st.purge_older_than(0, now=datetime.now(UTC) + timedelta(seconds=5)) == {"events": 0, "dead_letters": 1}
        assert [e.event.id for e in st.iter_events()] == ["door-old"]  # operational events are kept
        assert list(st.iter_dead_letters()) == []
        with pytest.raises(ValueError, match="days must be a number >= 0"):
            st.purge_older_than(-1)
        with pytest.raises(ValueError, match="timezone-aware"):
            st.purge_older_than(1, now=datetime(2025, 1, 1))
    finally:
        st.close()


def test_settings_mqtt_account_and_retention_from_env() -> None:
    s = LiveBridgeSettings.from_env({"SHOUMEN_MQTT_USERNAME": "shoumen-bridge", "SHOUMEN_MQTT_PASSWORD": "secret-pw",
                                     "SHOUMEN_IDENTITY_RETENTION_DAYS": "7"})
    assert (s.mqtt_username, s.mqtt_password, s.identity_retention_days) == ("shoumen-bridge", "secret-pw", 7.0)
    assert "secret-pw" not in repr(s)
    assert LiveBridgeSettings.from_env({}).identity_retention_days == 30.0
    with pytest.raises(ValueError, match="SHOUMEN_IDENTITY_RETENTION_DAYS"):
        LiveBridgeSettings.from_env({"SHOUMEN_IDENTITY_RETENTION_DAYS": "a week"})
    with pytest.raises(ValueError, match="SHOUMEN_IDENTITY_RETENTION_DAYS"):
        LiveBridgeSettings.from_env({"SHOUMEN_IDENTITY_RETENTION_DAYS": "-1"})
