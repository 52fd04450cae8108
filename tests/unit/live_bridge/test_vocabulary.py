"""Live event vocabulary: envelopes, strict typed data, clear errors, plate hashing, Frigate mapping."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from live_bridge.frigate import from_frigate, redact_frigate_payload
from live_bridge.settings import LiveBridgeSettings
from live_bridge.vocabulary import EVENT_DATA, EVENT_TYPES, EventError, LiveEvent, PlateHasher, make_event, parse_event

KEY = PlateHasher(b"0123456789abcdef0123456789abcdef", key_id="test")

EXAMPLES: dict[str, dict] = {
    "cn.shoumen.smoke.alarm": {"sensing": "smoke", "obscuration_pct_per_m": 12.5},
    "cn.shoumen.smoke.clear": {"reason": "reset"},
    "cn.shoumen.door.open": {},
    "cn.shoumen.door.close": {"door": "B01-E1"},
    "cn.shoumen.door.forced": {},
    "cn.shoumen.water.level": {"level_m": 0.35, "threshold_m": 0.3},
    "cn.shoumen.manhole.displacement": {"displaced": True, "tilt_deg": 12.0},
    "cn.shoumen.button.pressed": {},
    "cn.shoumen.wristband.sos": {},
    "cn.shoumen.wristband.fall": {"confidence": 0.9},
    "cn.shoumen.wristband.heart_rate": {"bpm": 148, "direction": "high"},
    "cn.shoumen.wristband.no_activity": {"hours": 12.0},
    "cn.shoumen.camera.loitering": {"dwell_s": 600.0, "zone": "wall-north"},
    "cn.shoumen.camera.intrusion": {"zone": "roof"},
    "cn.shoumen.camera.crowding": {"count": 40},
    "cn.shoumen.camera.fall": {},
    "cn.shoumen.camera.thrown_object": {"storey": 7, "building": "B03"},
    "cn.shoumen.camera.licence_plate": {"plate_hmac": KEY.hash("京A12345"), "key_id": "test", "direction": "in"},
    "cn.shoumen.patrol.position": {"x_m": 12.0, "y_m": 40.5},
    "cn.shoumen.patrol.checkpoint": {"checkpoint": "CP-07"},
    "cn.shoumen.grid.hazard_report": {"photo_uri": "s3://hazards/2025/03/01/b03.jpg", "text": "bikes block stair B03-S1"},
    "cn.shoumen.gate.passage": {"direction": "in", "credential": "face"},
}


def env(type_: str, data: dict, **over) -> dict:
    e = {"specversion": "1.0", "id": f"id-{type_}", "source": "/test", "type": type_, "subject": "dev-1",
         "time": "2025-03-01T08:15:00+08:00", "datacontenttype": "application/json", "data": data}
    e.update(over)
    return e


def test_every_type_has_an_example_and_round_trips() -> None:
    assert set(EXAMPLES) == set(EVENT_TYPES) == set(EVENT_DATA)
    for t, data in EXAMPLES.items():
        ev = parse_event(env(t, data))
        assert isinstance(ev, LiveEvent) and ev.type == t and ev.event_type == t
        assert ev.time == datetime(2025, 3, 1, 0, 15, tzinfo=timezone.utc)
        assert ev.to_dict()["time"] == "2025-03-01T00:15:00.000000Z"
        again = parse_event(ev.to_json())
        assert again == ev
        assert parse_event(ev.to_json().encode()) == ev


def test_time_us_and_make_event() -> None:
    ev = make_event("cn.shoumen.button.pressed", id="b1", source="/t", subject="btn-1",
                    time=datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=timezone.utc))
    assert ev.time_us == 1_000_005
    with pytest.raises(EventError, match="unknown event type"):
        make_event("cn.shoumen.nope", id="x", source="/t", subject="d", time="2025-01-01T00:00:00Z")


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda e: e["data"].update(bpm="fast"), "field 'data.bpm': expected an integer, got 'fast'"),
        (lambda e: e["data"].update(bpm=400), "field 'data.bpm': expected a number <= 300, got 400"),
        (lambda e: e["data"].update(bpm=True), "field 'data.bpm': expected an integer"),
        (lambda e: e["data"].update(direction="up"), "field 'data.direction': expected one of 'high' or 'low'"),
        (lambda e: e["data"].pop("bpm"), "field 'data.bpm' is missing"),
        (lambda e: e.update(time="2025-03-01T08:15:00"), "field 'time': expected an RFC 3339 timestamp with a zone"),
        (lambda e: e.update(time=1740788100), "field 'time'"),
        (lambda e: e.update(specversion="0.3"), "field 'specversion': expected one of '1.0'"),
        (lambda e: e.update(type="cn.shoumen.smoke.boom"), "unknown event type 'cn.shoumen.smoke.boom'"),
        (lambda e: e.pop("type"), "field 'type' is missing"),
        (lambda e: e.pop("specversion"), "field 'specversion' is missing"),
        (lambda e: e.update(subject=""), "field 'subject': expected a string of at least 1 character"),
        (lambda e: e.update(colour="red"), "field 'colour' is not allowed"),
    ],
)
def test_bad_events_name_the_field(mutate, fragment) -> None:
    e = env("cn.shoumen.wristband.heart_rate", {"bpm": 150, "direction": "high"})
    mutate(e)
    with pytest.raises(EventError) as info:
        parse_event(e, source="mqtt:shoumen/wb")
    assert fragment in str(info.value)
    assert str(info.value).startswith("mqtt:shoumen/wb: ")


def test_extra_fields_never_echo_values_and_plates_are_not_a_field() -> None:
    e = env("cn.shoumen.camera.licence_plate", {"plate_hmac": KEY.hash("A1"), "key_id": "k", "plate": "京A99999"})
    with pytest.raises(EventError) as info:
        parse_event(e)
    assert "data.plate" in str(info.value) and "京A99999" not in str(info.value)
    bad = env("cn.shoumen.camera.licence_plate", {"plate_hmac": "京A99999", "key_id": "k"})
    with pytest.raises(EventError, match="data.plate_hmac"):
        parse_event(bad)


def test_patrol_position_needs_exactly_one_pair_and_uri_is_checked() -> None:
    assert parse_event(env("cn.shoumen.patrol.position", {"lon": 116.4, "lat": 39.9})).data.lon == 116.4
    for data in ({"x_m": 1.0}, {"x_m": 1.0, "y_m": 2.0, "lon": 1.0, "lat": 2.0}, {}):
        with pytest.raises(EventError, match="field 'data'"):
            parse_event(env("cn.shoumen.patrol.position", data))
    with pytest.raises(EventError, match="data.photo_uri.*absolute URI"):
        parse_event(env("cn.shoumen.grid.hazard_report", {"photo_uri": "photo.jpg", "text": "x"}))


def test_non_json_and_non_object() -> None:
    with pytest.raises(EventError, match="not valid JSON"):
        parse_event("{nope")
    with pytest.raises(EventError, match="expected a JSON object, got list"):
        parse_event("[1, 2]")


def test_plate_hash_is_keyed_normalised_and_one_way() -> None:
    h = KEY.hash("京A·12345")
    assert h == KEY.hash("京a 12345") == KEY.hash("京A-12345")
    assert len(h) == 64 and "12345" not in h
    assert PlateHasher(b"another-key-of-16-bytes", key_id="k2").hash("京A12345") != h
    assert KEY.hash("京A12346") != h
    assert "0123456789" not in repr(KEY)
    with pytest.raises(ValueError, match="at least 16 bytes"):
        PlateHasher(b"short")


def test_settings_from_env() -> None:
    s = LiveBridgeSettings.from_env({"SHOUMEN_PLATE_KEY": "00" * 32, "SHOUMEN_LATENESS_S": "60"})
    assert s.lateness_s == 60.0 and s.plate_key == bytes(32) and "plate_key=" not in repr(s)
    assert s.plate_hasher().hash("A1") == PlateHasher(bytes(32)).hash("A1")
    with pytest.raises(ValueError, match="SHOUMEN_PLATE_KEY"):
        LiveBridgeSettings.from_env({}).plate_hasher()
    with pytest.raises(ValueError, match="SHOUMEN_LATENESS_S"):
        LiveBridgeSettings.from_env({"SHOUMEN_LATENESS_S": "soon"})


# --- Frigate -----------------------------------------------------------------------------------
def frigate_obj(**over) -> dict:
    o = {"id": "1718987129.3-abc", "camera": "cam-wall-03", "frame_time": 1718987139.3, "label": "person",
         "sub_label": None, "top_score": 0.91, "false_positive": False, "start_time": 1718987129.3,
         "end_time": None, "score": 0.88, "box": [1, 2, 3, 4], "area": 4, "current_zones": [],
         "entered_zones": [], "stationary": False, "attributes": {}, "current_attributes": []}
    o.update(over)
    return o


def test_frigate_person_entering_zone_is_intrusion_once_per_zone() -> None:
    before = frigate_obj(current_zones=["lawn"])
    after = frigate_obj(current_zones=["lawn", "roof"], entered_zones=["lawn", "roof"])
    evs = from_frigate("frigate/events", json.dumps({"type": "update", "before": before, "after": after}))
    assert [e.type for e in evs] == ["cn.shoumen.camera.intrusion"]
    e = evs[0]
    assert e.data.zone == "roof" and e.subject == "cam-wall-03" and e.id == "frigate:1718987129.3-abc:intrusion:roof"
    assert e.data.confidence == pytest.approx(0.91) and e.time.timestamp() == pytest.approx(1718987139.3)
    # a 'new' message: every current zone counts; intrusion_zones filters
    evs = from_frigate("frigate/events", {"type": "new", "before": after, "after": after}, intrusion_zones=["roof"])
    assert [e.data.zone for e in evs] == ["roof"]


def test_frigate_long_present_person_is_loitering_with_dwell() -> None:
    after = frigate_obj(frame_time=1718987129.3 + 75.0)
    evs = from_frigate("frigate/events", {"type": "update", "before": after, "after": after}, loiter_s=60)
    assert [e.type for e in evs] == ["cn.shoumen.camera.loitering"]
    assert evs[0].data.dwell_s == pytest.approx(75.0) and evs[0].id.endswith(":loitering")
    assert from_frigate("frigate/events", {"type": "update", "after": after}, loiter_s=120) == []
    end = frigate_obj(end_time=1718987129.3 + 200.0)
    evs = from_frigate("frigate/events", {"type": "end", "after": end}, loiter_s=120)
    assert evs[0].data.dwell_s == pytest.approx(200.0)


def test_frigate_plate_is_hashed_and_never_stored_plain() -> None:
    car = frigate_obj(label="car", recognized_license_plate=["京A12345", 0.93])
    msg = {"type": "update", "before": car, "after": car}
    evs = from_frigate("frigate/events", msg, hasher=KEY, camera_map={"cam-wall-03": "cam-gate-east-1"})
    assert len(evs) == 1 and evs[0].type == "cn.shoumen.camera.licence_plate"
    assert evs[0].data.plate_hmac == KEY.hash("京A12345") and evs[0].subject == "cam-gate-east-1"
    assert "12345" not in evs[0].to_json()
    with pytest.raises(EventError) as info:
        from_frigate("frigate/events", msg)  # no key
    assert "12345" not in str(info.value)
    red = redact_frigate_payload(json.dumps(msg), hasher=KEY)
    assert "12345" not in red and KEY.hash("京A12345") in red
    assert "12345" not in redact_frigate_payload(msg, hasher=None)
    car2 = frigate_obj(label="car", recognized_license_plate="京B777")
    assert from_frigate("frigate/events", {"type": "new", "after": car2}, hasher=KEY)[0].data.plate_hmac == KEY.hash("京B777")


def test_frigate_false_positive_other_labels_and_fall() -> None:
    fp = frigate_obj(false_positive=True, current_zones=["roof"])
    assert from_frigate("frigate/events", {"type": "new", "after": fp}) == []
    dog = frigate_obj(label="dog", current_zones=["roof"])
    assert from_frigate("frigate/events", {"type": "new", "after": dog}) == []
    fall = frigate_obj(label="fall", current_zones=["stair"])
    evs = from_frigate("frigate/events", {"type": "new", "after": fall})
    assert [e.type for e in evs] == ["cn.shoumen.camera.fall"] and evs[0].data.zone == "stair"


def test_frigate_review_crowding() -> None:
    review = {"id": "1718987129.308396-fqk5ka", "camera": "cam-SQ1-1", "start_time": 1718987129.3, "end_time": None,
              "severity": "alert", "thumb_path": "/x.webp",
              "data": {"detections": [f"d{i}" for i in range(12)], "objects": ["person"], "sub_labels": [],
                       "zones": ["square"], "audio": []}}
    evs = from_frigate("frigate/reviews", {"type": "update", "before": review, "after": review}, crowd_count=10)
    assert len(evs) == 1 and evs[0].type == "cn.shoumen.camera.crowding" and evs[0].data.count == 12
    assert evs[0].data.zone == "square"
    mixed = json.loads(json.dumps(review))
    mixed["data"]["objects"] = ["person", "car"]
    assert from_frigate("frigate/reviews", {"type": "update", "after": mixed}, crowd_count=10) == []
    assert from_frigate("frigate/reviews", {"type": "update", "after": review}, crowd_count=20) == []


def test_frigate_bad_payloads_name_the_field() -> None:
    with pytest.raises(EventError, match="field 'after.camera' is missing"):
        bad = frigate_obj()
        del bad["camera"]
        from_frigate("frigate/events", {"type": "new", "after": bad})
    with pytest.raises(EventError, match="field 'type'"):
        from_frigate("frigate/events", {"type": "begin", "after": frigate_obj()})
    with pytest.raises(EventError, match="expected '<prefix>/events'"):
        from_frigate("frigate/stats", {})
    with pytest.raises(EventError, match="not valid JSON"):
        from_frigate("frigate/events", b"\xff{")


def test_docs_examples_parse_and_cover_every_type() -> None:
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "docs" / "events.md").read_text(encoding="utf-8")
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)\n```", text, flags=re.S)]
    types = [parse_event(b).type for b in blocks if "specversion" in b]
    assert sorted(types) == sorted(EVENT_TYPES)
