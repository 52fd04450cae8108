"""File replay: accelerated replay keeps order and event-time spacing, as-fast-as-possible
replay, Frigate lines, bad lines named by file:line, and replay onto a real Mosquitto broker."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from live_bridge.mqtt_in import MqttSubscriber
from live_bridge.replay import MqttTarget, ReplayError, ReplayProgress, replay_file
from live_bridge.store import SqliteEventStore
from live_bridge.vocabulary import make_event

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)
OFFSETS_S = [0.0, 1.0, 1.5, 4.0, 4.0, 6.0]  # event-time spacing of the recording


def write_events(path: Path, offsets: list[float] = OFFSETS_S) -> list[str]:
    ids = [f"r{i}" for i in range(len(offsets))]
    with open(path, "w") as f:
        f.write("# a recording\n")
        for i, dt in zip(ids, offsets):
            f.write(make_event("cn.shoumen.door.open", id=i, source="/replay", subject="door-1",
                               time=T0 + timedelta(seconds=dt)).to_json() + "\n\n")
    return ids


def test_accelerated_replay_keeps_order_and_spacing(tmp_path: Path) -> None:
    ids = write_events(tmp_path / "rec.jsonl")
    seen: list[ReplayProgress] = []
    with SqliteEventStore(tmp_path / "db.sqlite") as st:
        res = replay_file(tmp_path / "rec.jsonl", store=st, speed=10.0, progress=seen.append)
        stored = [e.event.id for e in st.iter_events(order="arrival")]
    assert stored == ids and res.lines == 6 and res.statuses["accepted"] == 6
    assert seen[-1].done == 6 and seen[-1].total == 6
    # each group was written no earlier than its due time (event offset / 10) and not much later
    for p in seen:
        due = (p.event_time - T0).total_seconds() / 10.0
        assert due - 0.005 <= p.wall_s <= due + 1.0, (due, p.wall_s)
    # the two events at 4.0 s are due together: one commit (fewer if the machine lags)
    assert res.commits <= 5
    assert 0.595 <= res.wall_s <= 3.0


def test_as_fast_as_possible_and_real_time_factor_validated(tmp_path: Path) -> None:
    write_events(tmp_path / "rec.jsonl", [float(10 * i) for i in range(50)])  # 490 s of recording
    with SqliteEventStore(tmp_path / "db.sqlite") as st:
        res = replay_file(tmp_path / "rec.jsonl", store=st, speed=None, batch_size=20)
        assert res.commits == 3 and res.statuses["accepted"] == 50
        assert res.wall_s < 10.0  # 490 s at real time; no sleeping here
        again = replay_file(tmp_path / "rec.jsonl", store=st, speed=None)
        assert again.statuses["duplicate"] == 50  # replaying twice is idempotent
        with pytest.raises(ValueError, match="speed"):
            replay_file(tmp_path / "rec.jsonl", store=st, speed=0)
        with pytest.raises(ValueError, match="exactly one target"):
            replay_file(tmp_path / "rec.jsonl", speed=None)
        with pytest.raises(FileNotFoundError, match="nope.jsonl"):
            replay_file(tmp_path / "nope.jsonl", store=st, speed=None)


def test_frigate_lines_and_bad_lines(tmp_path: Path) -> None:
    person = {"id": "trk-1", "camera": "cam-1", "label": "person", "start_time": 1740816000.0,
              "frame_time": 1740816001.0, "current_zones": ["roof"]}
    f = tmp_path / "mixed.jsonl"
    lines = [
        make_event("cn.shoumen.door.open", id="d1", source="/replay", subject="door-1",
                   time="2025-03-01T08:00:00Z").to_json(),
        json.dumps({"topic": "frigate/events", "payload": {"type": "new", "after": person}}),
        '{"specversion": "1.0", "id": "bad", "source": "/r", "type": "cn.shoumen.door.open", "subject": "d", '
        '"time": "2025-03-01T08:00:00Z", "data": {"door": 7}}',
        "[1, 2]",
        json.dumps({"topic": "frigate/other", "payload": {}}),
    ]
    f.write_text("\n".join(lines) + "\n")
    with SqliteEventStore(tmp_path / "db.sqlite") as st:
        with pytest.raises(ReplayError) as ei:
            replay_file(f, store=st, speed=None)
        msg = str(ei.value)
        assert "3 bad line(s)" in msg and "mixed.jsonl:3" in msg and "field 'data.door'" in msg
        assert "mixed.jsonl:4" in msg and "mixed.jsonl:5" in msg and "field 'topic'" in msg
        assert list(st.iter_events()) == []  # validated before anything is written
        res = replay_file(f, store=st, speed=None, on_error="dead_letter")
        assert res.invalid == 3 and res.lines == 2
        assert sorted(e.event.id for e in st.iter_events()) == ["d1", "frigate:trk-1:intrusion:roof"]
        assert [d.source for d in st.iter_dead_letters()] == ["replay:mixed.jsonl:3", "replay:mixed.jsonl:4",
                                                              "replay:mixed.jsonl:5"]


def test_replay_onto_mqtt(mosquitto, tmp_path: Path) -> None:
    ids = write_events(tmp_path / "rec.jsonl")
    with SqliteEventStore(tmp_path / "db.sqlite") as st:
        with MqttSubscriber(st, port=mosquitto.port, client_id="t-replay", frigate_prefix=None) as sub:
            res = replay_file(tmp_path / "rec.jsonl", mqtt=MqttTarget(port=mosquitto.port), speed=20.0)
            assert res.lines == 6
            assert sub.wait_for(6, timeout=10), sub.stats
        assert [e.event.id for e in st.iter_events(order="arrival")] == ids
