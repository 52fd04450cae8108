"""The recorder: every event of a run, plus periodic snapshots of the state arrays.

Metrics are computed from the recording, so a run can be re-analysed without re-running it
(DESIGN.md, "The run loop"). The recorder subscribes to the bus after every component
(:data:`~twin.bus.RECORDER_ORDER`) and keeps each event as a flat row (``Event.to_record``:
``t`` in s, ``type``, ``subject``, ``source``, ``data`` JSON). Every ``snapshot_every_s`` seconds
of sim time (at the first tick boundary at or after each multiple, including t = 0, or when a multiple
is reached exactly at the end of a run) it copies the state arrays marked ``record=True``;
:meth:`Recorder.take_snapshot` adds one at any time (e.g. the final state).

On disk (the run folder of DESIGN.md, "Results of a run"):

* ``events.parquet`` -- one row per event, columns ``t`` (float64, s), ``type``, ``subject``,
  ``source``, ``data`` (strings), written with pyarrow;
* ``fields/`` -- one compressed ``.npz`` per snapshot time (``t000060.npz`` for t = 60 s,
  ``t000060_500.npz`` for t = 60.5 s) and ``index.json`` listing time, file, and each array's
  shape and dtype. :func:`read_fields` loads them back.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from twin.bus import RECORDER_ORDER
from twin.events import Event

if TYPE_CHECKING:
    from twin.core import Twin

__all__ = [
    "EVENT_COLUMNS",
    "EVENTS_SCHEMA",
    "Recorder",
    "ResultWriter",
    "field_file_name",
    "read_events",
    "read_fields",
]

#: Columns of the events table, in order.
EVENT_COLUMNS: tuple[str, ...] = ("t", "type", "subject", "source", "data")
#: Arrow schema of ``events.parquet``.
EVENTS_SCHEMA = pa.schema(
    [
        ("t", pa.float64()),
        ("type", pa.string()),
        ("subject", pa.string()),
        ("source", pa.string()),
        ("data", pa.string()),
    ]
)
_FRAME_DTYPES = {"t": "float64", "type": "string", "subject": "string", "source": "string", "data": "string"}
_EPS = 1e-9


@runtime_checkable
class ResultWriter(Protocol):
    """Something that writes its part of a run's result folder (as JuPedSim's trajectory
    writers do): the recorder writes ``events.parquet`` and ``fields/``; metrics, trajectories
    and reports are other writers."""

    def write(self, run_result_dir: str | Path) -> None: ...


def field_file_name(t: float) -> str:
    """``t000060.npz`` for 60 s; a fractional part is kept in milliseconds (``t000060_500``)."""
    ms = int(round(t * 1000.0))
    sec, frac = divmod(ms, 1000)
    return f"t{sec:06d}.npz" if frac == 0 else f"t{sec:06d}_{frac:03d}.npz"


class Recorder:
    """Keeps the events and field snapshots of a run (see the module docstring).
    ``snapshot_every_s=None`` disables field snapshots."""

    def __init__(self, *, snapshot_every_s: float | None = 60.0) -> None:
        if snapshot_every_s is not None and not (
            isinstance(snapshot_every_s, (int, float)) and math.isfinite(snapshot_every_s) and snapshot_every_s > 0
        ):
            raise ValueError(f"Recorder: snapshot_every_s must be a positive number of s or None, got {snapshot_every_s!r}")
        self.snapshot_every_s = None if snapshot_every_s is None else float(snapshot_every_s)
        self.records: list[dict[str, Any]] = []
        self.snapshots: list[tuple[float, dict[str, np.ndarray]]] = []
        self._next_snapshot_t: float = 0.0
        self._twin: Twin | None = None
        self._unsubscribe: Any = None

    # --- wiring ---------------------------------------------------------------------------

    def attach(self, twin: Twin) -> None:
        """Subscribe to all events of ``twin.bus`` (after the components)."""
        if self._twin is not None:
            raise RuntimeError("Recorder.attach: this recorder is already attached to a twin")
        self._twin = twin
        self._unsubscribe = twin.bus.subscribe(self.on_event, order=RECORDER_ORDER)
        self._next_snapshot_t = self._first_multiple_at_or_after(twin.now)

    def on_event(self, event: Event) -> None:
        self.records.append(event.to_record())

    def _first_multiple_at_or_after(self, t: float) -> float:
        if self.snapshot_every_s is None:
            return math.inf
        k = math.ceil(t / self.snapshot_every_s - _EPS)
        return k * self.snapshot_every_s

    def on_tick(self, t: float) -> None:
        """Called by the twin at each tick boundary (and at the end of a run): takes a field
        snapshot when ``t`` has reached the next multiple of ``snapshot_every_s``."""
        if self._twin is None or t < self._next_snapshot_t - _EPS:
            return
        self.take_snapshot(t)
        self._next_snapshot_t = self._first_multiple_after(t)

    def take_snapshot(self, t: float | None = None) -> None:
        """Copy the recorded state arrays now (labelled ``t``, default the twin's time), unless
        the last snapshot already has that time."""
        if self._twin is None:
            raise RuntimeError("Recorder.take_snapshot: the recorder is not attached to a twin")
        t = self._twin.now if t is None else float(t)
        if self.snapshots and abs(self.snapshots[-1][0] - t) <= _EPS * max(1.0, abs(t)):
            return
        state = self._twin.state
        self.snapshots.append((t, state.copy(state.recorded_names)))

    def _first_multiple_after(self, t: float) -> float:
        if self.snapshot_every_s is None:
            return math.inf
        return (math.floor(t / self.snapshot_every_s + _EPS) + 1) * self.snapshot_every_s

    # --- snapshot/restore of the recording itself ---------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """The recording so far (rows are shared, not copied: they are never mutated)."""
        return {
            "records": list(self.records),
            "snapshots": list(self.snapshots),
            "next_snapshot_t": self._next_snapshot_t,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.records = list(state["records"])
        self.snapshots = list(state["snapshots"])
        self._next_snapshot_t = float(state["next_snapshot_t"])

    # --- reading ---------------------------------------------------------------------------

    def events(self) -> list[Event]:
        """The recorded events as typed objects."""
        return [Event.from_record(r) for r in self.records]

    def events_frame(self) -> pd.DataFrame:
        """The events as a DataFrame: ``t`` float64, the others pandas ``string`` dtype (also
        when empty)."""
        frame = pd.DataFrame.from_records(self.records, columns=list(EVENT_COLUMNS))
        return frame.astype(_FRAME_DTYPES)

    # --- writing ---------------------------------------------------------------------------

    def write_events(self, path: str | Path) -> Path:
        """Write the events to Parquet at ``path`` (schema :data:`EVENTS_SCHEMA`)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        columns = {c: [r[c] for r in self.records] for c in EVENT_COLUMNS}
        table = pa.Table.from_pydict(columns, schema=EVENTS_SCHEMA)
        pq.write_table(table, path)
        return path

    def write_fields(self, dir: str | Path) -> Path:
        """Write each field snapshot to ``dir/<t...>.npz`` (compressed) and ``dir/index.json``.
        ``dir`` is the fields folder itself (``<run>/fields``)."""
        out = Path(dir)
        out.mkdir(parents=True, exist_ok=True)
        entries = []
        for t, arrays in self.snapshots:
            name = field_file_name(t)
            np.savez_compressed(out / name, **arrays)
            entries.append(
                {
                    "t": t,
                    "file": name,
                    "arrays": {k: {"shape": list(a.shape), "dtype": str(a.dtype)} for k, a in arrays.items()},
                }
            )
        index = {"snapshot_every_s": self.snapshot_every_s, "snapshots": entries}
        (out / "index.json").write_text(json.dumps(index, indent=1))
        return out

    def write(self, run_result_dir: str | Path) -> None:
        """:class:`ResultWriter`: ``events.parquet`` and ``fields/`` in ``run_result_dir``."""
        run_dir = Path(run_result_dir)
        self.write_events(run_dir / "events.parquet")
        self.write_fields(run_dir / "fields")


def read_events(path: str | Path) -> pd.DataFrame:
    """Read an ``events.parquet`` back as :meth:`Recorder.events_frame` gives it."""
    path = Path(path)
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise ValueError(f"{path}: not a readable events Parquet file ({exc})") from exc
    missing = [c for c in EVENT_COLUMNS if c not in table.column_names]
    if missing:
        raise ValueError(f"{path}: events table lacks column(s) {missing}; expected {list(EVENT_COLUMNS)}")
    return table.select(list(EVENT_COLUMNS)).to_pandas().astype(_FRAME_DTYPES)


def read_fields(dir: str | Path) -> list[tuple[float, dict[str, np.ndarray]]]:
    """Load the field snapshots written by :meth:`Recorder.write_fields`, in time order."""
    out = Path(dir)
    index_path = out / "index.json"
    try:
        index = json.loads(index_path.read_text())
        entries = index["snapshots"]
    except FileNotFoundError as exc:
        raise ValueError(f"{index_path}: no fields index (expected index.json written by Recorder.write_fields)") from exc
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{index_path}: malformed fields index, expected {{'snapshots': [...]}} ({exc})") from exc
    result = []
    for k, entry in enumerate(entries):
        try:
            t, name = float(entry["t"]), str(entry["file"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{index_path}: snapshots[{k}] needs 't' (s) and 'file' ({exc})") from exc
        with np.load(out / name) as npz:
            result.append((t, {key: npz[key] for key in npz.files}))
    return result
