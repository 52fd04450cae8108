"""Event store throughput: acknowledged events/s with group commit vs one commit per event.

8 threads each append events one at a time (each call blocks until its commit), as MQTT/HTTP
handlers would, into a fresh SQLite file in WAL mode with synchronous=FULL. Run:
``.venv/bin/python benchmarks/bench_event_store.py [--events 4000] [--threads 8]``.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from live_bridge.store import SqliteEventStore
from live_bridge.vocabulary import make_event

T0 = datetime(2025, 3, 1, tzinfo=timezone.utc)


def run(*, group_commit: bool, n_events: int, n_threads: int, sync: str) -> dict[str, float]:
    per = n_events // n_threads
    events = [[make_event("cn.shoumen.door.open", id=f"t{k}-{j}", source="/bench", subject="door-1",
                          time=T0 + timedelta(milliseconds=j)) for j in range(per)] for k in range(n_threads)]
    with tempfile.TemporaryDirectory() as d:
        st = SqliteEventStore(Path(d) / "bench.sqlite", group_commit=group_commit, lateness_s=1e9,
                              synchronous=sync)  # type: ignore[arg-type]
        barrier = threading.Barrier(n_threads + 1)

        def work(k: int) -> None:
            barrier.wait()
            for e in events[k]:
                st.append(e)

        threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
        for t in threads:
            t.start()
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        commits = st.stats["commits"]
        st.close()
    n = per * n_threads
    return {"events": n, "wall_s": wall, "events_per_s": n / wall, "commits": commits, "events_per_commit": n / commits}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=4000)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--sync", default="FULL", choices=["FULL", "NORMAL"])
    a = ap.parse_args()
    print(f"{a.events} events, {a.threads} threads, synchronous={a.sync}")
    for group in (False, True):
        r = run(group_commit=group, n_events=a.events, n_threads=a.threads, sync=a.sync)
        name = "group commit" if group else "one commit per event"
        print(f"{name:22s} {r['events_per_s']:9.0f} events/s acknowledged  ({r['wall_s']:.2f} s, "
              f"{r['commits']} commits, {r['events_per_commit']:.1f} events/commit)")


if __name__ == "__main__":
    main()
