"""MQTT ingest against a real Mosquitto broker: storage, duplicates, dead letters, Frigate, and
the manual-acknowledgement guarantee (a crash before the commit makes the broker redeliver)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from geometry.sample import sample_community
from live_bridge.mqtt_in import MqttIngestError, MqttSubscriber
from live_bridge.registry import DeviceRegistry
from live_bridge.store import SqliteEventStore
from live_bridge.vocabulary import PlateHasher, make_event

T = "2025-03-01T08:15:00Z"
SMK = "smk-B01-L00-U01"
CAM = "cam-gate-north-1"


@pytest.fixture(scope="module")
def site():
    return sample_community()


@pytest.fixture
def store(tmp_path: Path, site):
    reg = DeviceRegistry(tmp_path / "live.sqlite", site=site)
    st = SqliteEventStore(tmp_path / "live.sqlite", check=reg.reject_reason)
    yield st, reg
    st.close()
    reg.close()


def smoke(i: int, subject: str = SMK) -> str:
    return make_event("cn.shoumen.smoke.alarm", id=f"smk-{i}", source="/mqtt/test", subject=subject,
                      time=f"2025-03-01T08:15:{i:02d}Z").to_json()


def publisher(broker) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    c.connect(broker.host, broker.port)
    c.loop_start()
    return c


def publish_all(c: mqtt.Client, msgs: list[tuple[str, str | bytes]]) -> None:
    infos = [c.publish(t, p, qos=1) for t, p in msgs]
    for info in infos:
        info.wait_for_publish(timeout=5)
        assert info.is_published()


def test_events_stored_duplicates_once_bad_input_dead_lettered(mosquitto, store) -> None:
    st, reg = store
    bad_bpm = json.loads(make_event("cn.shoumen.wristband.heart_rate", id="hr-1", source="/mqtt/test",
                                    subject="wb-B01-L00-U08", time=T, data={"bpm": 120, "direction": "high"}).to_json())
    bad_bpm["data"]["bpm"] = 400
    batch = json.dumps([json.loads(smoke(7)), json.loads(smoke(8))])
    msgs: list[tuple[str, str | bytes]] = [
        ("shoumen/events/smk", smoke(1)), ("shoumen/events/smk", smoke(2)),
        ("shoumen/events/smk", smoke(1)),                                  # duplicate id
        ("shoumen/events/ghost", smoke(3, subject="ghost-1")),            # unknown device
        ("shoumen/events/x", b"{not json"),                                # invalid JSON
        ("shoumen/events/wb", json.dumps(bad_bpm)),                        # breaks the vocabulary
        ("shoumen/events/batch", batch),                                   # a JSON array: two events
    ]
    with MqttSubscriber(st, registry=reg, port=mosquitto.port, client_id="t-basic") as sub:
        pub = publisher(mosquitto)
        publish_all(pub, msgs)
        assert sub.wait_for(len(msgs), timeout=10), sub.stats
        pub.disconnect()
        pub.loop_stop()
        s = dict(sub.stats)
    assert sorted(e.event.id for e in st.iter_events()) == ["smk-1", "smk-2", "smk-7", "smk-8"]
    c = st.counters()
    assert (c["accepted"], c["duplicate"], c["rejected"], c["dead_letters"]) == (4, 1, 1, 3)
    assert (s["acked"], s["accepted"], s["duplicate"], s["rejected"], s["dead_lettered"]) == (7, 4, 1, 1, 2)
    reasons = {d.source: d.reason for d in st.iter_dead_letters()}
    assert reasons["/mqtt/test"] == "unknown device 'ghost-1'"
    assert "not valid JSON" in reasons["mqtt:shoumen/events/x"]
    assert "field 'data.bpm': expected a number <= 300, got 400" in reasons["mqtt:shoumen/events/wb"]


def test_frigate_messages_mapped(mosquitto, store) -> None:
    st, reg = store
    hasher = PlateHasher(b"0123456789abcdef0123456789abcdef", key_id="t")
    person = {"id": "1700000000.1-abc", "camera": CAM, "label": "person", "score": 0.8, "top_score": 0.9,
              "false_positive": False, "start_time": 1740816000.0, "frame_time": 1740816100.0,
              "current_zones": ["lawn"], "entered_zones": ["lawn"]}
    car = {"id": "1700000001.2-def", "camera": CAM, "label": "car", "score": 0.9, "top_score": 0.95,
           "false_positive": False, "start_time": 1740816000.0, "frame_time": 1740816001.0,
           "current_zones": [], "recognized_license_plate": ["京A·12345", 0.93]}
    review = {"id": "rev-1", "camera": CAM, "start_time": 1740816000.0, "end_time": 1740816030.0,
              "severity": "alert", "data": {"detections": [f"d{i}" for i in range(6)], "objects": ["person"],
                                            "zones": ["lawn"]}}
    msgs: list[tuple[str, str | bytes]] = [
        ("frigate/events", json.dumps({"type": "new", "before": person, "after": person})),
        ("frigate/events", json.dumps({"type": "update", "before": person, "after": person})),  # same ids again
        ("frigate/events", json.dumps({"type": "new", "before": car, "after": car})),
        ("frigate/reviews", json.dumps({"type": "end", "before": review, "after": review})),
        ("frigate/events", json.dumps({"type": "new", "after": {"id": "x"}})),  # malformed
    ]
    with MqttSubscriber(st, registry=reg, port=mosquitto.port, client_id="t-frigate", hasher=hasher) as sub:
        pub = publisher(mosquitto)
        publish_all(pub, msgs)
        assert sub.wait_for(len(msgs), timeout=10), sub.stats
        pub.disconnect()
        pub.loop_stop()
    got = {e.event.id: e.event for e in st.iter_events()}
    assert set(got) == {f"frigate:{person['id']}:intrusion:lawn", f"frigate:{person['id']}:loitering",
                        f"frigate:{car['id']}:plate:{hasher.hash('京A12345')[:16]}", "frigate-review:rev-1:crowding"}
    assert got[f"frigate:{person['id']}:loitering"].data.dwell_s == pytest.approx(100.0)
    assert got["frigate-review:rev-1:crowding"].data.count == 6
    assert st.counters()["duplicate"] == 1  # the update repeats the loitering event (zone unchanged)
    (dl,) = list(st.iter_dead_letters())
    assert dl.source == "mqtt:frigate/events" and "after.camera" in dl.reason
    assert "12345" not in json.dumps([e.to_dict() for e in got.values()])


_CRASHING_SUBSCRIBER = textwrap.dedent("""
    import sys, time
    from live_bridge.mqtt_in import MqttSubscriber
    from live_bridge.store import SqliteEventStore

    port, client_id, db, marker = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

    class StuckStore(SqliteEventStore):
        # receives the message, then never commits: the process is killed here
        def append_many(self, events, *, timeout=None):
            open(marker, "w").write(",".join(e.id for e in events))
            time.sleep(3600)

    sub = MqttSubscriber(StuckStore(db), port=port, client_id=client_id, frigate_prefix=None).start()
    print("ready", flush=True)
    time.sleep(3600)
""")


def test_crash_between_receive_and_commit_is_redelivered_and_stored_once(mosquitto, store, tmp_path: Path) -> None:
    st, reg = store
    marker = tmp_path / "received"
    script = tmp_path / "crashing_subscriber.py"
    script.write_text(_CRASHING_SUBSCRIBER)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[3]))
    proc = subprocess.Popen([sys.executable, str(script), str(mosquitto.port), "bridge-1", str(tmp_path / "other.sqlite"),
                             str(marker)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready", proc.stderr.read()
        pub = publisher(mosquitto)
        publish_all(pub, [("shoumen/events/smk", smoke(5))])
        end = time.monotonic() + 10
        while not marker.exists() and time.monotonic() < end:
            time.sleep(0.02)
        assert marker.exists() and marker.read_text() == "smk-5", mosquitto.log.read_text()[-2000:]  # it had it ...
        proc.send_signal(signal.SIGKILL)      # ... and died before committing and acknowledging it
        proc.wait(5)
    finally:
        if proc.poll() is None:
            proc.kill()
    # same client id: the persistent session gets the unacknowledged message again
    with MqttSubscriber(st, registry=reg, port=mosquitto.port, client_id="bridge-1", frigate_prefix=None) as sub:
        diag = lambda: f"{sub.stats} / broker log:\n{mosquitto.log.read_text()[-2000:]}"  # noqa: E731
        assert sub.wait_for(1, timeout=10), diag()
        assert sub.session_present is True, diag()
        assert sub.stats["redelivered"] == 1, diag()
        publish_all(pub, [("shoumen/events/smk", smoke(5))])  # the producer retries too: still once
        assert sub.wait_for(2, timeout=10), sub.stats
    pub.disconnect()
    pub.loop_stop()
    assert [e.event.id for e in st.iter_events()] == ["smk-5"]
    assert (st.counters()["accepted"], st.counters()["duplicate"]) == (1, 1)
    # nothing left unacknowledged: a third session receives nothing
    with MqttSubscriber(st, registry=reg, port=mosquitto.port, client_id="bridge-1", frigate_prefix=None) as sub:
        time.sleep(0.3)
        assert sub.stats["messages"] == 0, f"{sub.stats} / broker log:\n{mosquitto.log.read_text()[-2000:]}"


class FlakyStore(SqliteEventStore):
    """Fails the first commit like a locked database would."""

    failures = 1

    def append_many(self, events, *, timeout=None):
        if self.failures:
            self.failures -= 1
            raise sqlite3.OperationalError("database is locked")
        return super().append_many(events, timeout=timeout)


def test_store_failure_is_retried_before_the_ack(mosquitto, tmp_path: Path) -> None:
    st = FlakyStore(tmp_path / "flaky.sqlite")
    try:
        with MqttSubscriber(st, port=mosquitto.port, client_id="t-flaky", frigate_prefix=None) as sub:
            pub = publisher(mosquitto)
            publish_all(pub, [("shoumen/events/smk", smoke(1))])
            assert sub.wait_for(1, timeout=10), sub.stats
            assert sub.stats["store_retries"] == 1 and sub.stats["accepted"] == 1
            pub.disconnect()
            pub.loop_stop()
        assert [e.event.id for e in st.iter_events()] == ["smk-1"]
    finally:
        st.close()


def test_configuration_errors(tmp_path: Path, site) -> None:
    reg = DeviceRegistry(tmp_path / "db.sqlite", site=site)
    unchecked = SqliteEventStore(tmp_path / "db.sqlite")
    try:
        with pytest.raises(ValueError, match="check=registry.reject_reason"):
            MqttSubscriber(unchecked, registry=reg)
        with pytest.raises(ValueError, match="client_id"):
            MqttSubscriber(unchecked, client_id="")
    finally:
        reg.close()
    sock_port = _closed_port()
    with pytest.raises(MqttIngestError, match=f"127.0.0.1:{sock_port}: cannot connect"):
        MqttSubscriber(unchecked, port=sock_port, client_id="t-none").start(timeout=2)
    unchecked.close()


def _closed_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
