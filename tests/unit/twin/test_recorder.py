"""Recorder: event rows and frame dtypes, Parquet round trip, periodic field snapshots and their
files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from twin.component import BaseComponent
from twin.core import Twin
from twin.events import AlarmRaised, Event, RouteBlocked
from twin.recorder import EVENT_COLUMNS, Recorder, ResultWriter, field_file_name, read_events, read_fields


class Heater(BaseComponent):
    """Adds dt to a 2x3 field each step (so the field equals the time) and keeps a private
    array out of the field snapshots."""

    name = "heater"

    def attach(self, twin: Twin) -> None:
        super().attach(twin)
        self.field = twin.state.add("temp", np.zeros((2, 3), dtype=np.float32))
        self.scratch = twin.state.add("scratch", np.zeros(4), record=False)

    def step(self, t: float, dt: float) -> None:
        self.field += np.float32(dt)


def test_records_every_event_in_order() -> None:
    twin = Twin(None)
    twin.publish(AlarmRaised(t=0, building="B1"))
    twin.run(until=2)
    assert [r["type"] for r in twin.recorder.records] == ["AlarmRaised", "RunStarted", "RunFinished"]
    assert [type(e).__name__ for e in twin.recorder.events()] == ["AlarmRaised", "RunStarted", "RunFinished"]


def test_events_frame_dtypes_stable_even_when_empty() -> None:
    empty = Recorder().events_frame()
    assert list(empty.columns) == list(EVENT_COLUMNS) and len(empty) == 0
    twin = Twin(None)
    twin.publish(RouteBlocked(t=1.5, target="S1", source="inject"))
    full = twin.recorder.events_frame()
    assert dict(empty.dtypes) == dict(full.dtypes)
    assert full.dtypes["t"] == np.float64 and isinstance(full.dtypes["type"], pd.StringDtype)
    assert full.loc[0, "subject"] == "S1" and full.loc[0, "t"] == 1.5


def test_write_and_read_events_parquet(tmp_path: Path) -> None:
    twin = Twin(None)
    twin.publish(RouteBlocked(t=1.0, target="S1", source="live:mqtt"))
    twin.run(until=3)
    path = twin.recorder.write_events(tmp_path / "run" / "events.parquet")
    table = pq.read_table(path)
    assert table.column_names == list(EVENT_COLUMNS) and table.num_rows == 3
    back = read_events(path)
    pd.testing.assert_frame_equal(back, twin.recorder.events_frame())
    assert Event.from_record(back.iloc[0].to_dict()) == RouteBlocked(t=1.0, target="S1", source="live:mqtt")
    # empty recording still writes a typed table
    Recorder().write_events(tmp_path / "empty.parquet")
    assert str(pq.read_table(tmp_path / "empty.parquet").schema.field("t").type) == "double"


def test_read_events_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "events.parquet"
    bad.write_text("not parquet")
    with pytest.raises(ValueError, match="events.parquet: not a readable events Parquet"):
        read_events(bad)
    pq.write_table(pd.DataFrame({"t": [1.0]}).pipe(__import__("pyarrow").Table.from_pandas), tmp_path / "x.parquet")
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['type'"):
        read_events(tmp_path / "x.parquet")


def test_periodic_snapshots_at_multiples() -> None:
    twin = Twin(None, dt=7.0, snapshot_every_s=20.0)
    twin.add(Heater())
    twin.run(until=50)
    times = [t for t, _ in twin.recorder.snapshots]
    # first tick at or after each multiple of 20 s (ticks 0, 7, 14, 21, 28, 35, 42, 49)
    assert times == [0.0, 21.0, 42.0]
    for t, arrays in twin.recorder.snapshots:
        assert set(arrays) == {"temp"}  # scratch is record=False
        assert np.allclose(arrays["temp"], t)
    # snapshots are copies, not views of the live array
    twin.state["temp"][:] = -1
    assert twin.recorder.snapshots[0][1]["temp"][0, 0] == 0.0
    # a run ending exactly on a multiple snapshots there once, not again at the next tick;
    # 60 is off the 7 s grid, so the ticks after it are 63, 70, 77, 84
    twin.run(until=60)
    twin.run(until=90)
    assert [t for t, _ in twin.recorder.snapshots] == [0.0, 21.0, 42.0, 60.0, 84.0]
    twin.recorder.take_snapshot()
    twin.recorder.take_snapshot()
    assert [t for t, _ in twin.recorder.snapshots][-2:] == [84.0, 90.0]
    assert np.allclose(twin.recorder.snapshots[-1][1]["temp"], -1.0 + (90.0 - 50.0))  # reset to -1 at 50 s


def test_no_snapshots_when_disabled() -> None:
    twin = Twin(None, snapshot_every_s=None)
    twin.add(Heater())
    twin.run(until=200)
    assert twin.recorder.snapshots == []


def test_bad_snapshot_interval() -> None:
    with pytest.raises(ValueError, match="snapshot_every_s"):
        Recorder(snapshot_every_s=0)
    with pytest.raises(ValueError, match="snapshot_every_s"):
        Recorder(snapshot_every_s=float("nan"))


def test_field_file_names() -> None:
    assert field_file_name(60.0) == "t000060.npz"
    assert field_file_name(0.0) == "t000000.npz"
    assert field_file_name(60.5) == "t000060_500.npz"
    assert field_file_name(123456.0) == "t123456.npz"


def test_write_fields_and_read_back(tmp_path: Path) -> None:
    twin = Twin(None, dt=30.0, snapshot_every_s=60.0)
    twin.add(Heater())
    twin.run(until=150)
    twin.recorder.take_snapshot()  # the final state
    out = twin.recorder.write_fields(tmp_path / "fields")
    names = sorted(p.name for p in out.iterdir())
    assert names == ["index.json", "t000000.npz", "t000060.npz", "t000120.npz", "t000150.npz"]
    index = json.loads((out / "index.json").read_text())
    assert index["snapshot_every_s"] == 60.0
    assert index["snapshots"][1] == {"t": 60.0, "file": "t000060.npz", "arrays": {"temp": {"shape": [2, 3], "dtype": "float32"}}}
    back = read_fields(out)
    assert [t for t, _ in back] == [0.0, 60.0, 120.0, 150.0]
    for (t, a), (t2, b) in zip(back, twin.recorder.snapshots):
        assert t == t2 and a["temp"].dtype == np.float32 and np.array_equal(a["temp"], b["temp"])
    with pytest.raises(ValueError, match="no fields index"):
        read_fields(tmp_path / "nowhere")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "index.json").write_text("{}")
    with pytest.raises(ValueError, match="malformed fields index"):
        read_fields(tmp_path / "broken")


def test_result_writer(tmp_path: Path) -> None:
    rec = Recorder(snapshot_every_s=10.0)
    assert isinstance(rec, ResultWriter)
    twin = Twin(None, recorder=rec)
    twin.add(Heater())
    twin.run(until=10)
    rec.write(tmp_path)
    assert (tmp_path / "events.parquet").is_file() and (tmp_path / "fields" / "t000010.npz").is_file()


def test_recorder_attaches_once() -> None:
    rec = Recorder()
    Twin(None, recorder=rec)
    with pytest.raises(RuntimeError, match="already attached"):
        Twin(None, recorder=rec)
