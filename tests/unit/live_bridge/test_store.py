"""SQLite event store: durability, idempotency, lateness, group commit, concurrency (real files, threads)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from live_bridge.store import AppendStatus, SqliteEventStore, StoreClosedError
from live_bridge.vocabulary import make_event

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)


def ev(i: int, *, dt_s: float | None = None, subject: str = "smk-1"):
    t = T0 + timedelta(seconds=i if dt_s is None else dt_s)
    return make_event("cn.shoumen.smoke.alarm", id=f"e{i}", source="/test", subject=subject, time=t)


def test_append_read_back_and_reopen(tmp_path: Path) -> None:
    db = tmp_path / "live.sqlite"
    with SqliteEventStore(db) as st:
        res = st.append_many([ev(i) for i in range(5)])
        assert [r.status for r in res] == [AppendStatus.ACCEPTED] * 5 and all(r.stored for r in res)
    st = SqliteEventStore(db)
    try:
        got = list(st.iter_events())
        assert [g.event.id for g in got] == [f"e{i}" for i in range(5)]
        assert got[0].event == ev(0) and not got[0].late
        assert st.counters()["accepted"] == 5
        mode = st._con.execute("PRAGMA journal_mode").fetchone()[0]
        sync = st._con.execute("PRAGMA synchronous").fetchone()[0]
        assert mode == "wal" and sync == 2  # FULL
    finally:
        st.close()
    with pytest.raises(StoreClosedError):
        st.append(ev(9))


def test_idempotent_by_id(tmp_path: Path) -> None:
    with SqliteEventStore(tmp_path / "db.sqlite") as st:
        assert st.append(ev(1)).status is AppendStatus.ACCEPTED
        res = st.append_many([ev(1), ev(2), ev(2)])
        assert [r.status for r in res] == [AppendStatus.DUPLICATE, AppendStatus.ACCEPTED, AppendStatus.DUPLICATE]
        assert len(list(st.iter_events())) == 2
        c = st.counters()
        assert (c["received"], c["accepted"], c["duplicate"]) == (4, 2, 2)


def test_lateness_window_flags_and_replay_is_event_time_ordered(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite"
    with SqliteEventStore(db, lateness_s=60.0) as st:
        assert st.append(ev(1, dt_s=1000)).status is AppendStatus.ACCEPTED
        assert st.append(ev(2, dt_s=950)).status is AppendStatus.ACCEPTED  # within 60 s
        r = st.append(ev(3, dt_s=900))  # 100 s older than the newest: late, still stored
        assert r.status is AppendStatus.LATE and r.stored and "60 s" in r.reason
        assert st.append(ev(4, dt_s=1200)).status is AppendStatus.ACCEPTED
    # the newest event time survives a reopen
    with SqliteEventStore(db, lateness_s=60.0) as st:
        assert st.append(ev(5, dt_s=1100)).status is AppendStatus.LATE
        by_time = [(s.event.id, s.late) for s in st.iter_events()]
        assert by_time == [("e3", True), ("e2", False), ("e1", False), ("e5", True), ("e4", False)]
        assert [s.event.id for s in st.iter_events(order="arrival")] == ["e1", "e2", "e3", "e4", "e5"]
        assert [s.event.id for s in st.iter_events(since=T0 + timedelta(seconds=1000))] == ["e1", "e5", "e4"]
        assert st.counters()["late"] == 2
        with pytest.raises(ValueError, match="order"):
            list(st.iter_events(order="random"))  # type: ignore[arg-type]


def test_check_rejects_to_dead_letters_and_dead_letter_api(tmp_path: Path) -> None:
    def check(e):
        return None if e.subject == "smk-1" else f"unknown device {e.subject!r}"

    with SqliteEventStore(tmp_path / "db.sqlite", check=check) as st:
        res = st.append_many([ev(1), ev(2, subject="ghost")])
        assert [r.status for r in res] == [AppendStatus.ACCEPTED, AppendStatus.REJECTED]
        assert res[1].reason == "unknown device 'ghost'"
        st.dead_letter(b'{"broken": ', "not valid JSON", source="mqtt:shoumen/x")
        dl = list(st.iter_dead_letters())
        assert [(d.reason, d.source) for d in dl] == [("unknown device 'ghost'", "/test"),
                                                       ("not valid JSON", "mqtt:shoumen/x")]
        assert '"ghost"' in dl[0].raw and dl[1].raw == '{"broken": '
        c = st.counters()
        assert (c["rejected"], c["dead_letters"], c["accepted"]) == (1, 2, 1)
        assert [s.event.id for s in st.iter_events()] == ["e1"]
        with pytest.raises(ValueError, match="reason"):
            st.dead_letter("x", "", source="s")


def test_bad_options(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="lateness_s"):
        SqliteEventStore(tmp_path / "a.sqlite", lateness_s=-1)
    with pytest.raises(ValueError, match="synchronous"):
        SqliteEventStore(tmp_path / "a.sqlite", synchronous="OFF")  # type: ignore[arg-type]


def _hammer(st: SqliteEventStore, n_threads: int, per_thread: int) -> list:
    results: list = []
    lock = threading.Lock()
    start = threading.Barrier(n_threads)

    def work(k: int) -> None:
        start.wait()
        for j in range(per_thread):
            r = st.append(ev(k * 100_000 + j))
            with lock:
                results.append(r)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_eight_threads_group_commit_batches(tmp_path: Path) -> None:
    with SqliteEventStore(tmp_path / "db.sqlite", lateness_s=1e9) as st:
        res = _hammer(st, 8, 60)
        assert len(res) == 480 and all(r.status is AppendStatus.ACCEPTED for r in res)
        assert len({s.event.id for s in st.iter_events()}) == 480
        c = st.counters()
        assert c["accepted"] == 480
        # group commit: fewer transactions than events (8 concurrent callers share fsyncs)
        assert c["commits"] == st.stats["commits"] < 480 * 0.75, c
        assert st.stats["max_batch_seen"] >= 2


def test_one_commit_per_call_without_group_commit(tmp_path: Path) -> None:
    with SqliteEventStore(tmp_path / "db.sqlite", group_commit=False, lateness_s=1e9) as st:
        res = _hammer(st, 4, 20)
        assert len(res) == 80 and st.counters()["commits"] == 80 and st.stats["max_batch_seen"] == 1


_CHILD = r"""
import sys, time
from datetime import datetime, timedelta, timezone
import threading
from live_bridge.store import SqliteEventStore
from live_bridge.vocabulary import make_event
st = SqliteEventStore(sys.argv[1], lateness_s=1e9)
T0 = datetime(2025, 3, 1, tzinfo=timezone.utc)
out_lock = threading.Lock()
def work(k):
    for j in range(100000):
        i = k * 1000000 + j
        e = make_event("cn.shoumen.door.open", id=f"c{i}", source="/child", subject="door-1",
                       time=T0 + timedelta(milliseconds=j))
        st.append(e)
        with out_lock:
            sys.stdout.write(f"ACK c{i}\n"); sys.stdout.flush()
for k in range(4):
    threading.Thread(target=work, args=(k,), daemon=True).start()
time.sleep(600)
"""


def test_killed_writer_loses_nothing_acknowledged(tmp_path: Path) -> None:
    """SIGKILL a process in the middle of appending from 4 threads (no close, no flush): every
    event it had acknowledged is in the database when it is reopened."""
    db = tmp_path / "crash.sqlite"
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(db)], stdout=subprocess.PIPE, text=True,
                            cwd=str(Path(__file__).resolve().parents[3]))
    acked: list[str] = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while len(acked) < 300 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        acked.append(line.split()[1])
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    acked += [line.split()[1] for line in proc.stdout.read().splitlines() if line.startswith("ACK ")]
    assert len(acked) >= 300
    with SqliteEventStore(db) as st:
        stored = {s.event.id for s in st.iter_events()}
        assert set(acked) <= stored
        assert st.counters()["accepted"] == len(stored)
