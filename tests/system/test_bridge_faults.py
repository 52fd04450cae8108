"""Fault tests of the live bridge with real processes: a real Mosquitto broker (persistence on),
a real paho publisher at QoS 1, and the bridge (MqttSubscriber -> MirroringStore -> SqliteEventStore).

(a) ``kill -9`` of the bridge process while 10,000 events stream in; a new bridge process with
    the same client id picks up the broker's persistent session. Every event the broker
    acknowledged to the publisher (paho ``on_publish`` = PUBACK received) is in the store exactly
    once, and :meth:`LiveState.rebuild` from that store equals the live state of a clean,
    crash-free run that mirrored the same events incrementally.
(b) The broker is restarted (SIGTERM, persistence saved, same config and port) mid-stream: the
    subscriber reconnects to its persistent session and nothing acknowledged is lost.

No timing asserts; generous timeouts. Each test runs in well under a minute.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from live_bridge.mirror import LiveState, Mirror, MirroringStore
from live_bridge.mqtt_in import MqttSubscriber
from live_bridge.store import SqliteEventStore
from live_bridge.vocabulary import LiveEvent, make_event

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=UTC)
N_EVENTS = 10_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Broker:
    """A Mosquitto process that can be restarted with the same config, port and persistence."""

    conf: Path
    port: int
    dir: Path
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        exe = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
        if exe is None:
            pytest.fail("mosquitto is not installed (scripts/setup.sh installs the Debian package)")
        end = time.monotonic() + 20
        while True:  # the port may linger for a moment after a restart
            self.proc = subprocess.Popen([exe, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE)
            while self.proc.poll() is None:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                        return
                except OSError:
                    if time.monotonic() > end:
                        break
                    time.sleep(0.02)
            if time.monotonic() > end:
                err = self.proc.stderr.read().decode() if self.proc.stderr and self.proc.poll() is not None else ""
                self.stop()
                pytest.fail(f"mosquitto did not start on port {self.port}: {err}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: mosquitto writes its persistence file on exit
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def log_tail(self) -> str:
        p = self.dir / "mosquitto.log"
        return p.read_text(errors="replace")[-3000:] if p.exists() else ""


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    port = free_port()
    d = tmp_path / "mosquitto"
    d.mkdir()
    conf = d / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {d}/\n"
        f"max_inflight_messages 1000\nmax_queued_messages 1000000\nuser {getpass.getuser()}\n"
        f"log_dest file {d}/mosquitto.log\n")
    b = Broker(conf, port, d)
    b.start()
    try:
        yield b
    finally:
        b.stop()


def stream(n: int, tag: str) -> list[LiveEvent]:
    """``n`` events over 40 devices of five kinds, shuffled event times (late events too): door
    open/close, smoke alarm/clear, camera crowding counts, gate passages (commutative counters --
    a duplicate would show) and patrol positions."""
    out: list[LiveEvent] = []
    for i in range(n):
        # event times not monotone in publish order: every 7th event is 30 s older
        t = T0 + timedelta(milliseconds=100 * i) - (timedelta(seconds=30) if i % 7 == 0 else timedelta())
        k = i % 5
        dev = i % 8
        eid = f"{tag}-{i:05d}"
        if k == 0:
            ev = make_event("cn.shoumen.door.open" if (i // 5) % 2 else "cn.shoumen.door.close", id=eid,
                            source="/mqtt/gw", subject=f"door-{dev}", time=t)
        elif k == 1:
            ev = (make_event("cn.shoumen.smoke.alarm", id=eid, source="/mqtt/gw", subject=f"smk-{dev}", time=t,
                             data={"obscuration_pct_per_m": float(i % 50)}) if (i // 5) % 3 else
                  make_event("cn.shoumen.smoke.clear", id=eid, source="/mqtt/gw", subject=f"smk-{dev}", time=t))
        elif k == 2:
            ev = make_event("cn.shoumen.camera.crowding", id=eid, source="/mqtt/cam", subject=f"cam-{dev}", time=t,
                            data={"count": 1 + i % 97})
        elif k == 3:
            ev = make_event("cn.shoumen.gate.passage", id=eid, source="/mqtt/gate", subject=f"gate-{dev}", time=t,
                            data={"direction": "in" if i % 3 else "out", "credential": "card"})
        else:
            ev = make_event("cn.shoumen.patrol.position", id=eid, source="/mqtt/patrol", subject=f"pat-{dev}",
                            time=t, data={"x_m": float(i % 311), "y_m": float(i % 173), "accuracy_m": 3.0})
        out.append(ev)
    return out


class Publisher:
    """A QoS 1 publisher that records which messages the broker acknowledged (PUBACK). Message
    ids are unique here (fewer than 65,535 publications per client)."""

    def __init__(self, port: int, client_id: str) -> None:
        self.mids: dict[int, str] = {}
        self.acked_mids: set[int] = set()  # filled by paho's network thread (set.add is atomic)
        # clean_session=False: unacknowledged publications are resent after a reconnect
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                                  protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(200)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(0.1, 1)
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: object, props: object) -> None:
        self.acked_mids.add(mid)

    def publish(self, ev: LiveEvent) -> None:
        info = self.client.publish(f"shoumen/events/{ev.subject}", ev.to_json(), qos=1)
        assert info.mid not in self.mids, "message id reused"
        self.mids[info.mid] = ev.id

    @property
    def acked(self) -> set[str]:
        """Ids of the events the broker acknowledged."""
        return {self.mids[m] for m in list(self.acked_mids) if m in self.mids}

    def n_acked(self) -> int:
        return len(self.acked_mids)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


_BRIDGE = textwrap.dedent("""
    import sys, time
    from live_bridge.mirror import Mirror, MirroringStore
    from live_bridge.mqtt_in import MqttSubscriber
    from live_bridge.store import SqliteEventStore

    port, client_id, db = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    store = MirroringStore(SqliteEventStore(db, lateness_s=1e9), Mirror(None))
    sub = MqttSubscriber(store, port=port, client_id=client_id, frigate_prefix=None).start(timeout=30)
    print("ready", flush=True)
    time.sleep(3600)
""")


def start_bridge(tmp_path: Path, port: int, client_id: str, db: Path) -> subprocess.Popen:
    script = tmp_path / "bridge.py"
    script.write_text(_BRIDGE)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, str(script), str(port), client_id, str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if line != b"ready":
        proc.kill()
        raise AssertionError(f"bridge did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
    return proc


def stored_ids(db: Path) -> list[str]:
    con = sqlite3.connect(str(db), timeout=30)
    try:
        return [r[0] for r in con.execute("SELECT id FROM events ORDER BY seq")]
    finally:
        con.close()


def stored_count(db: Path) -> int:
    if not db.exists():
        return 0
    con = sqlite3.connect(str(db), timeout=30)
    try:
        return int(con.execute("SELECT COUNT(*) FROM events").fetchone()[0])
    except sqlite3.OperationalError:  # schema not created yet
        return 0
    finally:
        con.close()


def wait_until(cond, timeout: float, what: str) -> None:  # noqa: ANN001
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class _Applier:
    """A stand-in for the twin's post(): applies the mirrored events to a LiveState at once."""

    def __init__(self, live: LiveState) -> None:
        self.live = live

    def post(self, ev: object) -> None:
        self.live.on_event(ev)  # type: ignore[arg-type]


def clean_run_state(tmp_path: Path, events: list[LiveEvent]) -> dict:
    """The live state of a crash-free run: the same events appended once each, mirrored
    incrementally (in publish order, in batches like the subscriber's)."""
    live = LiveState()
    st = MirroringStore(SqliteEventStore(tmp_path / "clean.sqlite", lateness_s=1e9, synchronous="NORMAL"),
                        Mirror(_Applier(live)))  # type: ignore[arg-type]
    try:
        for i in range(0, len(events), 500):
            st.append_many(events[i:i + 500])
    finally:
        st.close()
    return live.snapshot()


def rebuilt_state(db: Path) -> dict:
    live = LiveState()
    st = SqliteEventStore(db, lateness_s=1e9)
    try:
        live.rebuild(st)
    finally:
        st.close()
    return live.snapshot()


def test_kill_9_bridge_mid_stream_loses_nothing_acknowledged(tmp_path: Path, broker: Broker) -> None:
    db = tmp_path / "live.sqlite"
    events = stream(N_EVENTS, "k9")
    bridge = start_bridge(tmp_path, broker.port, "fault-bridge", db)
    pub = Publisher(broker.port, "fault-pub-a")
    killed_at = -1
    try:
        def produce() -> None:
            for ev in events:
                pub.publish(ev)

        th = threading.Thread(target=produce, daemon=True)
        th.start()
        # kill -9 once the bridge has committed a good part of the stream, while more arrives
        wait_until(lambda: stored_count(db) >= 2_000, 60, f"2,000 stored events\n{broker.log_tail()}")
        bridge.send_signal(signal.SIGKILL)
        bridge.wait(10)
        killed_at = stored_count(db)
        th.join(120)
        assert not th.is_alive()
        wait_until(lambda: pub.n_acked() == N_EVENTS, 60, f"PUBACKs ({pub.n_acked()} of {N_EVENTS})")
        # the events published while the bridge was down wait in its persistent session
        bridge = start_bridge(tmp_path, broker.port, "fault-bridge", db)
        wait_until(lambda: stored_count(db) >= N_EVENTS, 60,
                   f"all acknowledged events stored ({stored_count(db)} of {N_EVENTS})\n{broker.log_tail()}")
        time.sleep(0.5)  # anything redelivered twice would land now
    finally:
        pub.close()
        if bridge.poll() is None:
            bridge.send_signal(signal.SIGKILL)
            bridge.wait(10)
    assert 0 < killed_at < N_EVENTS, f"the kill did not land mid-stream ({killed_at} stored)"
    ids = stored_ids(db)
    assert len(ids) == len(set(ids)), "an event is stored twice"
    assert pub.acked <= set(ids), f"{len(pub.acked - set(ids))} acknowledged event(s) lost"
    assert set(ids) == {e.id for e in events}
    # the state rebuilt from the crashed-and-resumed store equals a clean run's live state
    assert rebuilt_state(db) == clean_run_state(tmp_path, events)


class GatedStore(SqliteEventStore):
    """A real store whose commits wait for ``gate``: messages the subscriber has received stay
    uncommitted and unacknowledged until the test opens it."""

    def __init__(self, *args: object, **kw: object) -> None:
        super().__init__(*args, **kw)  # type: ignore[arg-type]
        self.gate = threading.Event()

    def append_many(self, events, *, timeout=None):  # noqa: ANN001, ANN201
        self.gate.wait(120)
        return super().append_many(events, timeout=timeout)


def test_broker_restart_mid_stream_loses_nothing_acknowledged(tmp_path: Path, broker: Broker) -> None:
    db = tmp_path / "live.sqlite"
    events = stream(N_EVENTS // 2, "br")
    half = len(events) // 2
    st = GatedStore(db, lateness_s=1e9)
    sub = MqttSubscriber(st, port=broker.port, client_id="restart-bridge", frigate_prefix=None)
    sub._client.reconnect_delay_set(0.1, 1)  # reconnect promptly (paho's default back-off is 1..120 s)
    sub.start(timeout=30)
    pub = Publisher(broker.port, "restart-pub")
    try:
        for ev in events[:half]:
            pub.publish(ev)
        wait_until(lambda: pub.n_acked() == half, 60, "PUBACKs before the restart")
        wait_until(lambda: sub.stats["messages"] > 0, 30, "the first deliveries")
        # acknowledged by the broker, partly delivered, none committed nor acknowledged by the
        # bridge: all of it lives only in the broker's persistent session now
        assert stored_count(db) == 0 and sub.stats["acked"] == 0
        broker.stop()  # SIGTERM: the session and its queued / in-flight messages are saved
        st.gate.set()  # the bridge commits what it had; those PUBACKs go nowhere (no connection)
        broker.start()
        for ev in events[half:]:
            pub.publish(ev)
        wait_until(lambda: pub.n_acked() == len(events), 90,
                   f"PUBACKs after the restart ({pub.n_acked()} of {len(events)})\n{broker.log_tail()}")
        wait_until(lambda: stored_count(db) >= len(events), 90,
                   f"all acknowledged events stored ({stored_count(db)} of {len(events)}; {sub.stats})\n"
                   f"{broker.log_tail()}")
        assert sub.wait_idle(timeout=30), sub.stats
        assert sub.stats["connects"] >= 2, sub.stats  # it did reconnect
        assert sub.session_present is True, sub.stats  # ... to its persistent session
    finally:
        pub.close()
        sub.stop(drain=False)
        st.close()
    ids = stored_ids(db)
    assert len(ids) == len(set(ids)), "an event is stored twice"
    assert pub.acked == {e.id for e in events}
    assert pub.acked <= set(ids), f"{len(pub.acked - set(ids))} acknowledged event(s) lost"
