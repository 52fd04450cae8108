"""Live bridge end to end: sustained events/s through Mosquitto with persist-before-ack, and
publish-to-twin latency at a steady rate (issue 6). Not a test: nothing asserts a time.

Path measured: paho publisher (QoS 1) -> Mosquitto (persistence on) -> ``MqttSubscriber`` (manual
PUBACK after the commit) -> ``MirroringStore`` -> SQLite event store (WAL, ``synchronous`` as
given) -> ``Mirror`` -> ``Twin.post`` -> the real-time twin's next tick -> ``LiveState`` applied.

1. Throughput: ``--events`` CloudEvents published as fast as the broker takes them; events/s =
   events acknowledged by the bridge (stored and mirrored) / wall time.
2. Latency: ``--rate`` events/s for ``--seconds``; per event, wall time from ``publish()`` to
   the moment ``LiveState`` applied it in the twin's thread (a real-time twin ticking every
   ``--dt`` s); p50 / p99 / max.

Run: ``.venv/bin/python benchmarks/bench_bridge.py [--events 20000] [--rate 1000] [--seconds 10]``.
Everything shares this machine's cores.
"""

from __future__ import annotations

import argparse
import getpass
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from live_bridge.mirror import LiveState, Mirror, MirroringStore
from live_bridge.mqtt_in import MqttSubscriber
from live_bridge.store import SqliteEventStore
from live_bridge.vocabulary import make_event
from twin.core import Twin
from twin.events import DeviceStateChanged


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_broker(d: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    conf = d / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {d}/\n"
                    f"max_inflight_messages 1000\nmax_queued_messages 1000000\nuser {getpass.getuser()}\n")
    proc = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(250):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            time.sleep(0.02)
    proc.kill()
    raise RuntimeError("mosquitto did not start")


def bridge(d: Path, port: int, tag: str, *, dt: float, synchronous: str):  # type: ignore[no-untyped-def]
    twin = Twin(None, dt=dt, realtime=True, snapshot_every_s=None)
    state = twin.add(LiveState(capacity=4096))
    mirror = twin.add(Mirror(twin))
    store = SqliteEventStore(d / f"{tag}.sqlite", lateness_s=1e9, synchronous=synchronous)
    sub = MqttSubscriber(MirroringStore(store, mirror), port=port, client_id=f"bench-{tag}", frigate_prefix=None)
    th = threading.Thread(target=lambda: twin.run(until=1e7), daemon=True)
    th.start()
    sub.start()
    return twin, state, store, sub, th


def publisher(port: int) -> mqtt.Client:
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    pub.max_inflight_messages_set(1000)
    pub.max_queued_messages_set(0)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    return pub


def event(i: int, tag: str, t0: datetime) -> str:
    return make_event("cn.shoumen.door.open" if i % 2 else "cn.shoumen.door.close", id=f"{tag}-{i}", source="/bench",
                      subject=f"door-{i % 200}", time=t0 + timedelta(milliseconds=i)).to_json()


def throughput(d: Path, port: int, n: int, *, dt: float, synchronous: str) -> dict[str, float]:
    twin, state, store, sub, _ = bridge(d, port, "tp", dt=dt, synchronous=synchronous)
    t0 = datetime.now(UTC)
    msgs = [event(i, "tp", t0) for i in range(n)]
    pub = publisher(port)
    start = time.perf_counter()
    for m in msgs:
        pub.publish("shoumen/events/door", m, qos=1)
    ok = sub.wait_for(n, timeout=900)
    wall = time.perf_counter() - start
    stats = dict(sub.stats)
    sub.stop()
    pub.disconnect()
    pub.loop_stop()
    twin.stop()
    stored = store.counters()["accepted"]
    store.close()
    if not ok or stored != n:
        raise RuntimeError(f"throughput run incomplete: {stored}/{n} stored, {stats}")
    return {"events": n, "wall_s": round(wall, 2), "events_per_s": round(n / wall, 0),
            "events_per_batch": round(n / max(stats.get("batches", 1), 1), 1)}


def latency(d: Path, port: int, rate: float, seconds: float, *, dt: float, synchronous: str) -> dict[str, float]:
    twin, state, store, sub, _ = bridge(d, port, "lat", dt=dt, synchronous=synchronous)
    sent: dict[str, float] = {}
    applied: dict[str, float] = {}

    def on_apply(ev: object) -> None:
        if isinstance(ev, DeviceStateChanged):
            applied.setdefault(ev.event_id, time.perf_counter())

    state.add_listener(on_apply)
    pub = publisher(port)
    n = int(rate * seconds)
    t0 = datetime.now(UTC)
    msgs = [(f"lat-{i}", event(i, "lat", t0)) for i in range(n)]
    start = time.perf_counter()
    for i, (eid, m) in enumerate(msgs):
        due = start + i / rate
        while (now := time.perf_counter()) < due:
            time.sleep(min(0.0005, due - now))
        sent[eid] = time.perf_counter()
        pub.publish("shoumen/events/door", m, qos=1)
    end = time.perf_counter() + 30
    while len(applied) < n and time.perf_counter() < end:
        time.sleep(0.01)
    sub.stop()
    pub.disconnect()
    pub.loop_stop()
    twin.stop()
    store.close()
    lat = np.array([applied[k] - sent[k] for k in sent if k in applied]) * 1000.0
    return {"rate_per_s": rate, "events": n, "applied": int(lat.size), "p50_ms": round(float(np.percentile(lat, 50)), 1),
            "p99_ms": round(float(np.percentile(lat, 99)), 1), "max_ms": round(float(lat.max()), 1),
            "achieved_rate_per_s": round(n / (max(sent.values()) - min(sent.values())), 0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=20000, help="throughput run: events published (default 20000)")
    ap.add_argument("--rate", type=float, default=1000.0, help="latency run: events/s (default 1000)")
    ap.add_argument("--seconds", type=float, default=10.0, help="latency run: seconds (default 10)")
    ap.add_argument("--dt", type=float, default=0.02, help="the real-time twin's tick, s (default 0.02)")
    ap.add_argument("--synchronous", default="FULL", choices=["FULL", "NORMAL"], help="SQLite sync (default FULL)")
    ap.add_argument("--json", default=None, help="also write the results here")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        broker, port = start_broker(d)
        try:
            tp = throughput(d, port, a.events, dt=a.dt, synchronous=a.synchronous)
            print("throughput:", tp, flush=True)
            lat = latency(d, port, a.rate, a.seconds, dt=a.dt, synchronous=a.synchronous)
            print("latency:", lat, flush=True)
        finally:
            broker.terminate()
            broker.wait(5)
    if a.json:
        Path(a.json).write_text(json.dumps({"throughput": tp, "latency": lat, "dt_s": a.dt,
                                            "synchronous": a.synchronous}, indent=2) + "\n")


if __name__ == "__main__":
    main()
