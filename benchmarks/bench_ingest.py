"""Live-bridge ingest throughput: acknowledged events/s through MQTT and through HTTP.

MQTT: a real Mosquitto broker (started here on a free port, persistence on,
``max_inflight_messages`` as given) and one paho publisher sending N CloudEvents at QoS 1 as
fast as the broker accepts them; :class:`live_bridge.mqtt_in.MqttSubscriber` commits each batch
to a fresh SQLite store (WAL, synchronous=FULL) and only then sends the PUBACKs. Measured from the
first publish until the subscriber has acknowledged the N-th message.

HTTP: the FastAPI app under a real uvicorn server; ``--clients`` threads POST batches of
``--batch`` events to ``/events:batch`` (each answered 202 after its commit), and the same number
of threads POST single events to ``/events``.

Publisher, broker, server and store share this machine's cores. Run:
``.venv/bin/python benchmarks/bench_ingest.py [--events 5000] [--batch 100] [--clients 4]``.
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
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import uvicorn
from paho.mqtt.enums import CallbackAPIVersion

from live_bridge.http_in import create_app
from live_bridge.mqtt_in import MqttSubscriber
from live_bridge.settings import LiveBridgeSettings
from live_bridge.store import SqliteEventStore
from live_bridge.vocabulary import make_event

T0 = datetime(2025, 3, 1, tzinfo=timezone.utc)
KEY = "bench-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def payloads(n: int, tag: str) -> list[str]:
    return [make_event("cn.shoumen.door.open", id=f"{tag}-{i}", source="/bench", subject="door-1",
                       time=T0 + timedelta(milliseconds=i)).to_json() for i in range(n)]


def bench_mqtt(n: int, inflight: int, d: Path) -> dict[str, float]:
    port = free_port()
    conf = d / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {d}/\n"
                    f"max_inflight_messages {inflight}\nmax_queued_messages 1000000\nuser {getpass.getuser()}\n")
    broker = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.02)
        msgs = payloads(n, f"mqtt{inflight}")
        st = SqliteEventStore(d / f"mqtt{inflight}.sqlite", lateness_s=1e9)
        sub = MqttSubscriber(st, port=port, client_id=f"bench-{inflight}", frigate_prefix=None).start()
        pub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        pub.max_inflight_messages_set(1000)
        pub.max_queued_messages_set(0)
        pub.connect("127.0.0.1", port)
        pub.loop_start()
        t0 = time.perf_counter()
        for p in msgs:
            pub.publish("shoumen/events/door-1", p, qos=1)
        ok = sub.wait_for(n, timeout=600)
        wall = time.perf_counter() - t0
        stats = dict(sub.stats)
        sub.stop()
        pub.disconnect()
        pub.loop_stop()
        stored = st.counters()["accepted"]
        st.close()
        assert ok and stored == n, (stats, stored)
        return {"events": n, "wall_s": wall, "events_per_s": n / wall, "batches": stats["batches"],
                "events_per_batch": n / stats["batches"]}
    finally:
        broker.terminate()
        broker.wait(5)


def bench_http(n: int, batch: int, clients: int, d: Path, *, single: bool) -> dict[str, float]:
    st = SqliteEventStore(d / f"http-{batch}-{single}.sqlite", lateness_s=1e9)
    app = create_app(st, None, LiveBridgeSettings(api_keys=(KEY,)))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    while not server.started:
        time.sleep(0.02)
    msgs = [json.loads(p) for p in payloads(n, f"http{batch}{single}")]
    per = n // clients
    barrier = threading.Barrier(clients + 1)
    errors: list[str] = []

    def work(k: int) -> None:
        mine = msgs[k * per:(k + 1) * per]
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": KEY}, timeout=60) as c:
            barrier.wait()
            if single:
                for m in mine:
                    r = c.post("/events", json=m)
                    if r.status_code != 202:
                        errors.append(r.text)
            else:
                for i in range(0, len(mine), batch):
                    r = c.post("/events:batch", json=mine[i:i + batch])
                    if r.status_code != 202:
                        errors.append(r.text)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    server.should_exit = True
    th.join(10)
    commits = st.stats["commits"]
    stored = st.counters()["accepted"]
    st.close()
    assert not errors and stored == per * clients, (errors[:3], stored)
    return {"events": per * clients, "wall_s": wall, "events_per_s": per * clients / wall, "commits": commits,
            "events_per_commit": per * clients / commits}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--clients", type=int, default=4)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        for inflight in (20, 1000):
            r = bench_mqtt(a.events, inflight, d)
            print(f"MQTT QoS1, manual ack after commit, broker in-flight {inflight:4d}: {r['events_per_s']:7.0f} "
                  f"events/s ({r['events']} in {r['wall_s']:.2f} s, {r['events_per_batch']:.1f} events/commit)")
        r = bench_http(a.events, a.batch, a.clients, d, single=False)
        print(f"HTTP POST /events:batch ({a.batch}/request, {a.clients} clients): {r['events_per_s']:7.0f} events/s "
              f"({r['events']} in {r['wall_s']:.2f} s, {r['events_per_commit']:.1f} events/commit)")
        n_single = min(a.events, 2000)
        r = bench_http(n_single, 1, a.clients, d, single=True)
        print(f"HTTP POST /events (single, {a.clients} clients): {r['events_per_s']:7.0f} events/s "
              f"({r['events']} in {r['wall_s']:.2f} s, {r['events_per_commit']:.1f} events/commit)")


if __name__ == "__main__":
    main()
