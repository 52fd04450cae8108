"""The live event store: every accepted live event is persisted before it is acknowledged.

:class:`EventStore` is the interface; :class:`SqliteEventStore` the embedded default
(DESIGN.md, principles 4-6).

SqliteEventStore
----------------
* **WAL mode, synchronous=FULL.** In WAL mode ``FULL`` fsyncs the write-ahead log at every
  commit, so an acknowledged event survives a process crash *and* a power cut; ``NORMAL`` would
  survive a process crash only (SQLite docs, "PRAGMA synchronous" and "Write-Ahead Logging").
  DESIGN.md says accepted events are persisted before acknowledgement, hence FULL by default;
  ``synchronous="NORMAL"`` is an option for bulk replay.
* **Group commit.** One writer thread owns the write connection. Callers on any thread put
  their events on a queue with a :class:`concurrent.futures.Future` and block on it; the writer
  takes everything queued (up to ``max_batch`` events), writes it in ONE transaction, commits
  (one fsync), then resolves all the futures. While a commit's fsync runs the next batch
  queues up, so the fsync cost is shared by all concurrent callers. ``group_commit=False`` writes
  one transaction per call (the benchmark's baseline).
* **Idempotent by event id** (``UNIQUE`` column, ``INSERT OR IGNORE``): a redelivered event is
  reported :attr:`AppendStatus.DUPLICATE` and counted, never an error, never stored twice.
* **Event-time order with a lateness window.** The store tracks the newest accepted event time
  ``T``. An event older than ``T - lateness_s`` is **accepted but flagged late**
  (:attr:`AppendStatus.LATE`, ``late = 1``, counted). Chosen over rejecting because a genuine
  alarm held back by a gateway during a network cut must not be lost; consumers that built live
  state use the flag to apply it as a correction. Replay (:meth:`iter_events`) returns all
  events in event-time order (ties by arrival), so a rebuild sees late events in place.
* **Dead letters.** Events refused by the ``check`` callable (e.g. the device registry:
  unknown device, wrong kind) and raw payloads that failed validation (:meth:`dead_letter`)
  go to the ``dead_letters`` table with the reason and source, committed like events and
  counted (``rejected``, ``dead_letters``).
* **Retention** (:meth:`SqliteEventStore.purge_older_than`). Events that identify a person
  (:data:`IDENTITY_EVENT_TYPES`: licence-plate reads, which carry a plate HMAC) and dead letters
  (raw payloads may hold personal data) are deleted once older than the retention period
  (``SHOUMEN_IDENTITY_RETENTION_DAYS``, default :data:`DEFAULT_IDENTITY_RETENTION_DAYS` = 30 days,
  :class:`~live_bridge.settings.LiveBridgeSettings`); events are aged by event time, dead
  letters by arrival time. Other events are operational records and are kept. A purged plate
  event no longer contributes to :meth:`LiveState.rebuild`.
* **Counters** live in the ``counters`` table, updated in the same transaction as the events
  they count: ``received``, ``accepted``, ``duplicate``, ``late``, ``rejected``,
  ``dead_letters``, ``commits``.

Scale-out. A PostgreSQL store behind the same interface is the planned scale-out option
(``INSERT ... ON CONFLICT (id) DO NOTHING`` for idempotency, one writer per process with the
same group commit, ``synchronous_commit=on``). It is not implemented in this package: psycopg is
not installed in this environment, and no code path refers to it.
"""

from __future__ import annotations

import json
import queue
import sqlite3
import threading
import time as _time
from abc import ABC, abstractmethod
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Iterator, Literal, Mapping, Sequence

from live_bridge.vocabulary import LiveEvent, parse_event

__all__ = [
    "DEFAULT_IDENTITY_RETENTION_DAYS",
    "IDENTITY_EVENT_TYPES",
    "AppendResult",
    "AppendStatus",
    "DeadLetter",
    "EventStore",
    "SqliteEventStore",
    "StoreClosedError",
    "StoredEvent",
]

#: Event types that identify a person (plate HMACs; face-recognition tokens would join them):
#: deleted by :meth:`SqliteEventStore.purge_older_than` after the retention period.
IDENTITY_EVENT_TYPES: tuple[str, ...] = ("cn.shoumen.camera.licence_plate",)
#: Default retention of person-identity events and dead letters, days.
DEFAULT_IDENTITY_RETENTION_DAYS = 30.0

COUNTERS = ("received", "accepted", "duplicate", "late", "rejected", "dead_letters", "commits")


class AppendStatus(str, Enum):
    """Outcome of appending one event."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"  # same id already stored: nothing written
    LATE = "late"  # stored, but older than newest event time - lateness_s
    REJECTED = "rejected"  # refused by the check (unknown device ...): dead-lettered


@dataclass(frozen=True)
class AppendResult:
    """Per-event result of :meth:`EventStore.append_many`; ``reason`` set for rejections."""

    event_id: str
    status: AppendStatus
    reason: str = ""

    @property
    def stored(self) -> bool:
        """True when the event is now in the store (accepted or late)."""
        return self.status in (AppendStatus.ACCEPTED, AppendStatus.LATE)


@dataclass(frozen=True)
class StoredEvent:
    """An event read back: arrival sequence number, arrival time (UTC), late flag."""

    seq: int
    event: LiveEvent
    late: bool
    arrival: datetime


@dataclass(frozen=True)
class DeadLetter:
    """A refused event or payload: raw text, reason, where it came from, when (UTC)."""

    seq: int
    raw: str
    reason: str
    source: str
    arrival: datetime


class StoreClosedError(RuntimeError):
    """The store was closed; nothing more can be appended."""


class EventStore(ABC):
    """Interface of event stores. Thread-safe: any thread may append; appends return only
    after the events are durable."""

    @abstractmethod
    def append_many(self, events: Sequence[LiveEvent], *, timeout: float | None = None) -> list[AppendResult]:
        """Persist ``events``; one :class:`AppendResult` per event, in order."""

    def append(self, event: LiveEvent, *, timeout: float | None = None) -> AppendResult:
        """Persist one event (see :meth:`append_many`)."""
        return self.append_many([event], timeout=timeout)[0]

    @abstractmethod
    def iter_events(self, *, since: datetime | None = None,
                    order: Literal["event_time", "arrival"] = "event_time") -> Iterator[StoredEvent]:
        """Stored events with event time >= ``since``, by event time (ties by arrival) or by
        arrival."""

    @abstractmethod
    def counters(self) -> dict[str, int]:
        """The persisted counters (names in :data:`COUNTERS`)."""

    @abstractmethod
    def dead_letter(self, raw: str | bytes | Mapping[str, Any], reason: str, *, source: str,
                    timeout: float | None = None) -> None:
        """Persist a refused payload with the reason; returns after commit."""

    @abstractmethod
    def iter_dead_letters(self) -> Iterator[DeadLetter]:
        """Dead letters in arrival order."""

    @abstractmethod
    def close(self) -> None:
        """Finish queued writes and release the store."""

    def __enter__(self) -> "EventStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    time_us    INTEGER NOT NULL,
    arrival_us INTEGER NOT NULL,
    type       TEXT NOT NULL,
    source     TEXT NOT NULL,
    subject    TEXT NOT NULL,
    late       INTEGER NOT NULL DEFAULT 0,
    envelope   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_time ON events (time_us, seq);
CREATE INDEX IF NOT EXISTS events_subject ON events (subject, time_us);
CREATE TABLE IF NOT EXISTS dead_letters (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    arrival_us INTEGER NOT NULL,
    source     TEXT NOT NULL,
    reason     TEXT NOT NULL,
    raw        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""


def _now_us() -> int:
    return _time.time_ns() // 1000


def _from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1e6, tz=timezone.utc)


def _to_us(t: datetime) -> int:
    if t.tzinfo is None:
        raise ValueError("since: expected a timezone-aware datetime (UTC)")
    d = t - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


def _raw_text(raw: str | bytes | Mapping[str, Any]) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, (bytes, bytearray)):
        return bytes(raw).decode("utf-8", errors="replace")
    return json.dumps(raw, default=str, separators=(",", ":"))


def open_connection(path: str | Path, *, synchronous: str = "FULL") -> sqlite3.Connection:
    """A connection to the live database in WAL mode with the given ``synchronous`` level and a
    busy timeout (shared by the store and the device registry)."""
    con = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30.0)
    mode = con.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        con.close()
        raise RuntimeError(f"{path}: could not switch SQLite to WAL mode (got {mode!r})")
    con.execute(f"PRAGMA synchronous={synchronous}")
    con.execute("PRAGMA busy_timeout=30000")
    return con


class _Job:
    __slots__ = ("kind", "items", "future", "purged")

    def __init__(self, kind: str, items: list[Any]) -> None:
        self.kind = kind  # "events", "dead" or "purge"
        self.items = items
        self.future: Future[list[AppendResult]] = Future()
        self.purged: dict[str, int] = {}


_STOP = object()


class SqliteEventStore(EventStore):
    """The embedded event store (module docstring). ``check(event)`` returns a rejection reason
    or None (e.g. :meth:`live_bridge.registry.DeviceRegistry.reject_reason`); it runs on the
    caller's thread. ``lateness_s`` is the lateness window in s; ``max_batch`` the most events
    per transaction; ``group_commit=False`` commits each call separately."""

    def __init__(
        self,
        path: str | Path,
        *,
        lateness_s: float = 300.0,
        check: Callable[[LiveEvent], str | None] | None = None,
        group_commit: bool = True,
        max_batch: int = 2000,
        synchronous: Literal["FULL", "NORMAL"] = "FULL",
    ) -> None:
        if not lateness_s >= 0:
            raise ValueError(f"lateness_s: expected a number >= 0, got {lateness_s!r}")
        if synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"synchronous: expected 'FULL' or 'NORMAL', got {synchronous!r}")
        if max_batch < 1:
            raise ValueError(f"max_batch: expected an integer >= 1, got {max_batch!r}")
        self.path = Path(path)
        self.lateness_us = int(round(lateness_s * 1e6))
        self._check = check
        self._group = group_commit
        self._max_batch = max_batch
        self._con = open_connection(self.path, synchronous=synchronous)
        self._con.executescript(_SCHEMA)
        self._con.execute("BEGIN IMMEDIATE")
        self._con.executemany("INSERT OR IGNORE INTO counters (name, n) VALUES (?, 0)", [(c,) for c in COUNTERS])
        self._con.execute("COMMIT")
        newest = self._con.execute("SELECT MAX(time_us) FROM events").fetchone()[0]
        self._newest_us: int | None = newest
        self._queue: queue.Queue[Any] = queue.Queue()
        self._closed = False
        self._close_lock = threading.Lock()
        #: in-memory statistics of this process: transactions committed, events in them
        self.stats = {"commits": 0, "events": 0, "max_batch_seen": 0}
        self._writer = threading.Thread(target=self._run, name=f"event-store-writer:{self.path.name}", daemon=True)
        self._writer.start()

    # ------------------------------------------------------------------ public API
    def append_many(self, events: Sequence[LiveEvent], *, timeout: float | None = None) -> list[AppendResult]:
        items: list[tuple[LiveEvent, str | None]] = []
        for ev in events:
            if not isinstance(ev, LiveEvent):
                raise TypeError(f"append_many: expected LiveEvent objects, got {type(ev).__name__}")
            reason = self._check(ev) if self._check is not None else None
            items.append((ev, reason))
        if not items:
            return []
        return self._submit(_Job("events", items), timeout)

    def dead_letter(self, raw: str | bytes | Mapping[str, Any], reason: str, *, source: str,
                    timeout: float | None = None) -> None:
        if not reason:
            raise ValueError("dead_letter: 'reason' must say why the payload was refused")
        self._submit(_Job("dead", [(_raw_text(raw), str(reason), str(source))]), timeout)

    def purge_older_than(self, days: float = DEFAULT_IDENTITY_RETENTION_DAYS, *, now: datetime | None = None,
                         types: Sequence[str] = IDENTITY_EVENT_TYPES, dead_letters: bool = True,
                         timeout: float | None = None) -> dict[str, int]:
        """Delete the events of ``types`` (default: person-identity events) whose event time is
        more than ``days`` before ``now`` (default: the wall clock, UTC), and with
        ``dead_letters`` the dead letters that arrived before then; one transaction through the
        writer. Returns ``{"events": n, "dead_letters": m}`` deleted."""
        if isinstance(days, bool) or not isinstance(days, (int, float)) or not days >= 0:
            raise ValueError(f"purge_older_than: days must be a number >= 0, got {days!r}")
        ref = datetime.now(timezone.utc) if now is None else now
        cutoff = _to_us(ref) - int(round(days * 86_400e6))
        job = _Job("purge", [(cutoff, tuple(str(t) for t in types), bool(dead_letters))])
        self._submit(job, timeout)
        return dict(job.purged)

    def iter_events(self, *, since: datetime | None = None,
                    order: Literal["event_time", "arrival"] = "event_time") -> Iterator[StoredEvent]:
        if order not in ("event_time", "arrival"):
            raise ValueError(f"order: expected 'event_time' or 'arrival', got {order!r}")
        since_us = -(2**62) if since is None else _to_us(since)
        by = "time_us, seq" if order == "event_time" else "seq"
        con = open_connection(self.path, synchronous="NORMAL")
        try:
            cur = con.execute(
                f"SELECT seq, envelope, late, arrival_us FROM events WHERE time_us >= ? ORDER BY {by}", (since_us,))
            while True:
                rows = cur.fetchmany(1000)
                if not rows:
                    break
                for seq, env, late, arr in rows:
                    yield StoredEvent(seq=seq, event=parse_event(env), late=bool(late), arrival=_from_us(arr))
        finally:
            con.close()

    def iter_dead_letters(self) -> Iterator[DeadLetter]:
        con = open_connection(self.path, synchronous="NORMAL")
        try:
            rows = con.execute("SELECT seq, raw, reason, source, arrival_us FROM dead_letters ORDER BY seq").fetchall()
        finally:
            con.close()
        for seq, raw, reason, source, arr in rows:
            yield DeadLetter(seq=seq, raw=raw, reason=reason, source=source, arrival=_from_us(arr))

    def counters(self) -> dict[str, int]:
        con = open_connection(self.path, synchronous="NORMAL")
        try:
            return {name: int(n) for name, n in con.execute("SELECT name, n FROM counters ORDER BY name")}
        finally:
            con.close()

    def close(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(_STOP)
        self._writer.join()
        self._con.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def check(self) -> Callable[[LiveEvent], str | None] | None:
        """The ``check`` given at construction (None when events are not checked)."""
        return self._check

    # ------------------------------------------------------------------ the writer
    def _submit(self, job: _Job, timeout: float | None) -> list[AppendResult]:
        with self._close_lock:
            if self._closed:
                raise StoreClosedError(f"event store {self.path} is closed")
            self._queue.put(job)
        return job.future.result(timeout=timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            n = len(first.items)
            stop = False
            if self._group:
                while n < self._max_batch:
                    try:
                        nxt = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if nxt is _STOP:
                        stop = True
                        break
                    batch.append(nxt)
                    n += len(nxt.items)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[_Job]) -> None:
        con = self._con
        newest = self._newest_us
        results: list[list[AppendResult]] = []
        counts = dict.fromkeys(COUNTERS, 0)
        try:
            con.execute("BEGIN IMMEDIATE")
            now = _now_us()
            for job in batch:
                res: list[AppendResult] = []
                if job.kind == "purge":
                    cutoff, types, dead = job.items[0]
                    marks = ",".join("?" * len(types))
                    n_ev = con.execute(f"DELETE FROM events WHERE time_us < ? AND type IN ({marks})",
                                       (cutoff, *types)).rowcount if types else 0
                    n_dl = con.execute("DELETE FROM dead_letters WHERE arrival_us < ?", (cutoff,)).rowcount if dead else 0
                    job.purged = {"events": int(n_ev), "dead_letters": int(n_dl)}
                    results.append(res)
                    continue
                if job.kind == "dead":
                    con.executemany("INSERT INTO dead_letters (arrival_us, source, reason, raw) VALUES (?, ?, ?, ?)",
                                    [(now, s, r, raw) for raw, r, s in job.items])
                    counts["dead_letters"] += len(job.items)
                    results.append(res)
                    continue
                for ev, reason in job.items:
                    counts["received"] += 1
                    if reason is not None:
                        con.execute("INSERT INTO dead_letters (arrival_us, source, reason, raw) VALUES (?, ?, ?, ?)",
                                    (now, ev.source, reason, ev.to_json()))
                        counts["rejected"] += 1
                        counts["dead_letters"] += 1
                        res.append(AppendResult(ev.id, AppendStatus.REJECTED, reason))
                        continue
                    t = ev.time_us
                    late = newest is not None and t < newest - self.lateness_us
                    cur = con.execute(
                        "INSERT OR IGNORE INTO events (id, time_us, arrival_us, type, source, subject, late, envelope)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (ev.id, t, now, ev.type, ev.source, ev.subject, int(late), ev.to_json()))
                    if cur.rowcount == 0:
                        counts["duplicate"] += 1
                        res.append(AppendResult(ev.id, AppendStatus.DUPLICATE))
                        continue
                    counts["accepted"] += 1
                    if late:
                        counts["late"] += 1
                        res.append(AppendResult(ev.id, AppendStatus.LATE,
                                                f"older than the newest event time minus {self.lateness_us / 1e6:g} s"))
                    else:
                        res.append(AppendResult(ev.id, AppendStatus.ACCEPTED))
                    if newest is None or t > newest:
                        newest = t
                results.append(res)
            counts["commits"] = 1
            con.executemany("UPDATE counters SET n = n + ? WHERE name = ?",
                            [(v, k) for k, v in counts.items() if v])
            con.execute("COMMIT")
        except BaseException as exc:  # roll back and fail every caller in the batch
            try:
                con.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        self._newest_us = newest
        self.stats["commits"] += 1
        nev = sum(len(j.items) for j in batch)
        self.stats["events"] += nev
        self.stats["max_batch_seen"] = max(self.stats["max_batch_seen"], nev)
        for job, res in zip(batch, results):
            job.future.set_result(res)
