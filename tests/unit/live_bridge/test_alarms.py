"""Alarm lifecycle and rules: escalation timing on event-time clocks, folding, roles, audit,
each rule (positive and negative), priority of the elderly-alone smoke alarm, the route on the
sample's navigation graph, persistence across reopen, the resident register."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import networkx as nx
import pytest

from geometry.navgraph import build_nav_graph
from geometry.sample import sample_community
from live_bridge.alarms import AlarmCenter, AlarmStateError
from live_bridge.registry import RegisteredDevice, site_devices
from live_bridge.residents import RegisterError, Resident, ResidentRegister
from live_bridge.rules import AlarmSettings, RoutePlanner
from live_bridge.vocabulary import make_event

T0 = datetime(2025, 3, 1, 4, 0, tzinfo=timezone.utc)  # 12:00 local (UTC+8)
NIGHT = datetime(2025, 3, 1, 15, 0, tzinfo=timezone.utc)  # 23:00 local


@pytest.fixture(scope="module")
def site():
    return sample_community()


@pytest.fixture(scope="module")
def graph(site):
    return build_nav_graph(site)


@pytest.fixture(scope="module")
def residents(site):
    return ResidentRegister.from_site(site)


@pytest.fixture(scope="module")
def elderly_unit(residents) -> str:
    return residents.elderly_alone_units()[0]


@pytest.fixture(scope="module")
def devices(site, elderly_unit):
    reg = {d.id: d for d in site_devices(site)}
    b, lv = elderly_unit.split("-")[0], int(elderly_unit.split("-")[1][1:])
    reg[f"door-{elderly_unit}"] = RegisteredDevice(id=f"door-{elderly_unit}", kind="door_sensor", building=b,
                                                   level=lv, unit=elderly_unit, zone="GRID1")
    return reg


@pytest.fixture()
def center(tmp_path: Path, site, graph, devices, residents):
    c = AlarmCenter(tmp_path / "live.sqlite", registry=devices, residents=residents, site=site, graph=graph,
                    synchronous="NORMAL")
    yield c
    c.close()


_n = 0


def ev(type_: str, subject: str, t: datetime, data: dict | None = None):
    global _n
    _n += 1
    return make_event(type_, id=f"ev-{_n}", source="/test", subject=subject, time=t, data=data or {})


def at(s: float, base: datetime = T0) -> datetime:
    return base + timedelta(seconds=s)


def plate(p: str) -> str:
    return hashlib.sha256(p.encode()).hexdigest()


# ------------------------------------------------------------------ lifecycle and escalation
def test_escalation_steps_at_deadlines_in_event_time(center) -> None:
    [a] = center.handle(ev("cn.shoumen.water.level", "wl-P01-1", T0, {"level_m": 0.2}))
    assert (a.severity, a.level, a.state, a.id) == ("orange", "property", "open", "A-000001")
    assert center.tick(at(299)) == []
    assert center.get(a.id).level == "property"
    center.tick(at(300))
    assert center.get(a.id).level == "grid_worker"
    assert center.get(a.id).level_since == at(300)
    # one long tick escalates twice, each step at its own deadline (300 + 600, then + 900)
    out = center.tick(at(10_000))
    assert [(x.id, x.level) for x in out] == [(a.id, "emergency_services")]
    esc = [(e.time, e.detail["to"]) for e in center.history(a.id) if e.action == "escalate"]
    assert esc == [(at(300), "grid_worker"), (at(900), "community_office"), (at(1800), "emergency_services")]
    calls = [n for n in center.outbox(alarm_id=a.id) if n.role == "emergency_services"]
    assert len(calls) == 1 and calls[0].recipient == "119" and calls[0].channel == "call"
    assert calls[0].time == at(1800)


def test_acknowledge_stops_escalation_and_events_drive_the_clock(center) -> None:
    [a] = center.handle(ev("cn.shoumen.door.forced", "door-B01-E1", T0))
    # no tick: a later unrelated event moves the clock and escalates on the way
    center.handle(ev("cn.shoumen.door.open", "door-B02-E1", at(400)))
    assert center.get(a.id).level == "grid_worker"
    center.acknowledge(a.id, "li.wei", "grid_worker", at=at(450))
    center.tick(at(86_400))
    got = center.get(a.id)
    assert (got.state, got.level, got.acknowledged_by, got.acknowledged_at) == (
        "acknowledged", "grid_worker", "li.wei", at(450))
    # acknowledging after a due escalation: the escalation happens first, then the role check
    [b] = center.handle(ev("cn.shoumen.camera.intrusion", "cam-SQ1-1", at(90_000), {"zone": "roof"}))
    with pytest.raises(PermissionError, match="role 'property' may not acknowledge alarm A-000002 at level grid_worker"):
        center.acknowledge(b.id, "wang", "property", at=at(90_000 + 301))


def test_yellow_and_blue_never_reach_emergency_services(center) -> None:
    [y] = center.handle(ev("cn.shoumen.camera.crowding", "cam-SQ1-1", T0, {"count": 40}))
    [b] = center.handle(ev("cn.shoumen.grid.hazard_report", "Wang Fang", T0,
                           {"photo_uri": "https://x/1.jpg", "text": "bike in stairwell", "severity": "blue",
                            "location": "B01-S1"}))
    assert (y.severity, b.severity) == ("yellow", "blue")
    center.tick(at(7 * 86_400))
    assert center.get(y.id).level == "community_office"
    assert center.get(b.id).level == "grid_worker"
    assert [e.time for e in center.history(y.id) if e.action == "escalate"] == [at(1800), at(7200)]


# ------------------------------------------------------------------ folding
def test_repeats_fold_within_window_and_raise_anew_after(center) -> None:
    ids = [center.handle(ev("cn.shoumen.door.forced", "door-B03-E1", at(s)))[0].id for s in (0, 60, 1000)]
    assert len(set(ids)) == 1
    a = center.get(ids[0])
    assert (a.count, a.last_seen, a.raised) == (3, at(1000), T0)
    assert len(a.detail["event_ids"]) == 3
    assert [e.action for e in center.history(a.id)] == ["raise", "fold", "escalate", "escalate", "fold"]
    # beyond the fold window (1800 s after last_seen): a new alarm
    [b] = center.handle(ev("cn.shoumen.door.forced", "door-B03-E1", at(1000 + 1801)))
    assert b.id != a.id and b.count == 1
    # after resolution the same cause raises a new alarm even within the window
    center.resolve(b.id, "op1", "operator", "door repaired")
    [c] = center.handle(ev("cn.shoumen.door.forced", "door-B03-E1", at(2900)))
    assert c.id not in (a.id, b.id)
    # a different device is a different cause
    [d] = center.handle(ev("cn.shoumen.door.forced", "door-B04-E1", at(2900)))
    assert d.id != c.id


def test_fold_raises_severity(center) -> None:
    [a] = center.handle(ev("cn.shoumen.water.level", "wl-SE-1", T0, {"level_m": 0.2, "threshold_m": 0.15}))
    assert a.severity == "orange"
    [b] = center.handle(ev("cn.shoumen.water.level", "wl-SE-1", at(120), {"level_m": 0.35, "threshold_m": 0.15}))
    assert b.id == a.id and b.severity == "red" and b.count == 2
    fold = [e for e in center.history(a.id) if e.action == "fold"][0]
    assert fold.detail["upgraded_from"] == "orange"
    # red timings now apply from the level's start: property 60 s -> already due at 120 s
    center.tick(at(121))
    assert center.get(a.id).level == "grid_worker"


# ------------------------------------------------------------------ roles, errors, audit
def test_role_checks_and_errors(center) -> None:
    [r] = center.handle(ev("cn.shoumen.door.forced", "door-B05-E1", T0))
    [y] = center.handle(ev("cn.shoumen.camera.crowding", "cam-SQ1-2", T0, {"count": 30}))
    with pytest.raises(KeyError, match="unknown alarm 'A-999999'"):
        center.acknowledge("A-999999", "op", "operator")
    with pytest.raises(ValueError, match="role 'janitor' is not one of operator, grid_worker, property, admin"):
        center.acknowledge(r.id, "x", "janitor")
    with pytest.raises(PermissionError, match=r"role 'property' may not resolve orange alarm .*allowed: operator, admin"):
        center.resolve(r.id, "p1", "property", "done")
    with pytest.raises(ValueError, match="'note' must say what was done"):
        center.resolve(r.id, "op", "operator", "  ")
    center.acknowledge(r.id, "p1", "property")
    with pytest.raises(AlarmStateError, match="already acknowledged by p1"):
        center.acknowledge(r.id, "op", "operator")
    center.resolve(y.id, "g1", "grid_worker", "crowd dispersed, a wedding")
    with pytest.raises(AlarmStateError, match="already resolved"):
        center.resolve(y.id, "op", "operator", "again")
    with pytest.raises(AlarmStateError, match="before it was raised"):
        center.acknowledge(center.handle(ev("cn.shoumen.door.forced", "door-B06-E1", at(100)))[0].id, "op",
                           "operator", at=T0)
    # a failed action changes nothing
    assert center.get(r.id).state == "acknowledged"


def test_audit_is_complete_and_append_only(center, tmp_path: Path) -> None:
    [a] = center.handle(ev("cn.shoumen.manhole.displacement", "mh-R01-01", T0, {"displaced": True}))
    center.handle(ev("cn.shoumen.manhole.displacement", "mh-R01-01", at(30), {"displaced": True}))
    center.tick(at(301))
    center.acknowledge(a.id, "zhang", "operator", at=at(400))
    center.resolve(a.id, "zhang", "operator", "cover refitted", at=at(900))
    h = center.history(a.id)
    assert [(e.action, e.actor, e.role, e.time) for e in h] == [
        ("raise", "rule:manhole", "system", T0),
        ("fold", "rule:manhole", "system", at(30)),
        ("escalate", "system", "system", at(300)),
        ("acknowledge", "zhang", "operator", at(400)),
        ("resolve", "zhang", "operator", at(900)),
    ]
    assert h[-1].detail["note"] == "cover refitted"
    assert [e.seq for e in center.audit()] == sorted(e.seq for e in center.audit())
    con = sqlite3.connect(str(center.path))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("UPDATE alarm_audit SET actor = 'mallory'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        con.execute("DELETE FROM alarm_audit")
    con.close()


# ------------------------------------------------------------------ rules: elderly
def _check_route(route: dict, graph, unit: str) -> None:
    best = route["best"]
    nodes = best["nodes"]
    assert nodes[0] == "C01-E1" and nodes[-1] == unit and route["to"] == unit
    assert all(graph.has_edge(a, b) for a, b in zip(nodes, nodes[1:]))
    length = sum(graph.edges[a, b]["length_m"] for a, b in zip(nodes, nodes[1:]))
    assert best["length_m"] == pytest.approx(length, abs=0.01)
    assert best["time_s"] >= length / 1.34 - 0.1  # no faster than walking the whole way


def test_elderly_no_activity_from_wristband(center, graph, residents, site) -> None:
    wb_unit = next(d.unit for d in site.devices if d.id.startswith("wb-"))
    assert residents.is_elderly_alone(wb_unit)
    assert center.handle(ev("cn.shoumen.wristband.no_activity", f"wb-{wb_unit}", T0, {"hours": 6.0})) == []
    [a] = center.handle(ev("cn.shoumen.wristband.no_activity", f"wb-{wb_unit}", at(60), {"hours": 12.0}))
    assert (a.rule, a.severity, a.unit, a.key) == ("elderly_no_activity", "orange", wb_unit, wb_unit)
    roles = {(n.role, n.recipient) for n in center.outbox(alarm_id=a.id)}
    grid = next(g for g in site.grids if wb_unit.split("-")[0] in g.buildings)
    assert {("family", f"family-{wb_unit}-1"), ("community_doctor", "community-doctor"),
            ("grid_worker", grid.worker)} <= roles
    _check_route(a.detail["route"], graph, wb_unit)
    assert all("route" in n.payload for n in center.outbox(alarm_id=a.id))


def test_elderly_no_activity_from_absence(center, elderly_unit, devices) -> None:
    door = f"door-{elderly_unit}"
    center.handle(ev("cn.shoumen.door.close", door, T0))
    assert center.tick(at(12 * 3600 - 1)) == []
    [a] = center.tick(at(12 * 3600 + 500))
    assert a.raised == at(12 * 3600) and a.detail["source"] == "absence" and a.unit == elderly_unit
    assert all(x.id == a.id for x in center.tick(at(30 * 3600)))  # escalations only, nothing new
    assert len([x for x in center.open_alarms() if x.rule == "elderly_no_activity"]) == 1


def test_activity_rearms_and_prevents_the_alarm(center, elderly_unit) -> None:
    door = f"door-{elderly_unit}"
    center.handle(ev("cn.shoumen.door.open", door, T0))
    center.handle(ev("cn.shoumen.door.close", door, at(6 * 3600)))
    assert [a for a in center.tick(at(12 * 3600 + 60)) if a.rule == "elderly_no_activity"] == []
    out = center.tick(at(18 * 3600))
    assert [a.raised for a in out if a.rule == "elderly_no_activity"] == [at(18 * 3600)]


def test_no_absence_monitoring_for_flats_not_flagged(center, devices, site) -> None:
    # a door event from the flat of someone not in the register starts no monitoring
    dev = RegisteredDevice(id="door-B02-L03-U01", kind="door_sensor", building="B02", level=3, unit="B02-L03-U01")
    center.ctx.registry = {**devices, dev.id: dev}
    center.handle(ev("cn.shoumen.door.open", dev.id, T0))
    assert center.tick(at(48 * 3600)) == []


# ------------------------------------------------------------------ rules: zombie cars
def test_zombie_car_after_n_days(center) -> None:
    h = plate("京A12345")
    center.handle(ev("cn.shoumen.camera.licence_plate", "cam-gate-east-1", T0,
                     {"plate_hmac": h, "key_id": "k1", "direction": "in"}))
    assert center.tick(at(7 * 86_400 - 1)) == []
    [a] = center.tick(at(8 * 86_400))
    assert (a.rule, a.key, a.severity, a.raised) == ("zombie_car", h, "yellow", at(7 * 86_400))
    assert all(x.id == a.id for x in center.tick(at(20 * 86_400)))
    assert len([x for x in center.open_alarms() if x.rule == "zombie_car"]) == 1


def test_car_that_leaves_in_time_is_not_a_zombie(center) -> None:
    h = plate("沪B99999")
    center.handle(ev("cn.shoumen.camera.licence_plate", "cam-gate-east-1", T0,
                     {"plate_hmac": h, "key_id": "k1", "direction": "in"}))
    center.handle(ev("cn.shoumen.camera.licence_plate", "cam-gate-east-2", at(3 * 86_400),
                     {"plate_hmac": h, "key_id": "k1", "direction": "out"}))
    assert center.tick(at(30 * 86_400)) == []
    assert center.open_alarms() == []


def test_zombie_days_is_a_setting(tmp_path: Path, devices) -> None:
    c = AlarmCenter(tmp_path / "z.sqlite", registry=devices, settings=AlarmSettings(zombie_days=2.0),
                    synchronous="NORMAL")
    c.handle(ev("cn.shoumen.camera.licence_plate", "cam-PK1-1", T0, {"plate_hmac": plate("X1"), "key_id": "k1"}))
    assert [a.raised for a in c.tick(at(3 * 86_400))] == [at(2 * 86_400)]
    c.close()


# ------------------------------------------------------------------ rules: perimeter loitering
def test_night_loitering_at_the_perimeter(center) -> None:
    [a] = center.handle(ev("cn.shoumen.camera.loitering", "cam-wall-01", NIGHT, {"dwell_s": 180.0, "track": "p-7"}))
    assert (a.rule, a.severity, a.key) == ("perimeter_loitering", "yellow", "track:p-7")
    # the same person on a second night: orange
    [b] = center.handle(ev("cn.shoumen.camera.loitering", "cam-wall-03", NIGHT + timedelta(days=1, hours=5),
                           {"dwell_s": 90.0, "track": "p-7"}))
    assert b.severity == "orange" and b.detail["nights"] == 2


@pytest.mark.parametrize("subject, when, dwell", [
    ("cam-wall-01", T0 + timedelta(hours=2), 300.0),  # 14:00 local: daytime
    ("cam-wall-01", datetime(2025, 3, 1, 22, 30, tzinfo=timezone.utc), 300.0),  # 06:30 local: morning
    ("cam-SQ1-1", NIGHT, 300.0),  # the central square is not the perimeter
    ("cam-wall-01", NIGHT, 20.0),  # too short to be loitering
])
def test_loitering_negatives(center, subject, when, dwell) -> None:
    assert center.handle(ev("cn.shoumen.camera.loitering", subject, when, {"dwell_s": dwell})) == []


def test_night_window_wraps_midnight() -> None:
    s = AlarmSettings()
    us = lambda d: int(d.timestamp() * 1e6)  # noqa: E731
    assert s.night_of(us(datetime(2025, 3, 1, 14, 0, tzinfo=timezone.utc))) == s.night_of(
        us(datetime(2025, 3, 1, 21, 59, tzinfo=timezone.utc)))  # 22:00 and 05:59 local: one night
    assert s.night_of(us(datetime(2025, 3, 1, 13, 59, tzinfo=timezone.utc))) is None  # 21:59 local
    assert s.night_of(us(datetime(2025, 3, 1, 22, 0, tzinfo=timezone.utc))) is None  # 06:00 local


def test_plate_loitering_at_the_perimeter(center) -> None:
    h = plate("粤C00001")
    d = {"plate_hmac": h, "key_id": "k1"}
    assert center.handle(ev("cn.shoumen.camera.licence_plate", "cam-wall-05", NIGHT, d)) == []
    assert center.handle(ev("cn.shoumen.camera.licence_plate", "cam-wall-05", at(100, NIGHT), d)) == []
    [a] = center.handle(ev("cn.shoumen.camera.licence_plate", "cam-wall-06", at(600, NIGHT), d))
    assert a.key == f"plate:{h}" and a.severity == "yellow"


# ------------------------------------------------------------------ smoke and priority
def test_elderly_alone_smoke_outranks_everything(center, graph, elderly_unit) -> None:
    center.handle(ev("cn.shoumen.button.pressed", "btn-" + elderly_unit, T0))
    center.handle(ev("cn.shoumen.smoke.alarm", "smk-B05-L03-U01", T0, {"sensing": "heat"}))
    center.handle(ev("cn.shoumen.water.level", "wl-P01-2", T0, {"level_m": 1.0}))
    [s] = center.handle(ev("cn.shoumen.smoke.alarm", "smk-" + elderly_unit, at(30)))
    assert (s.severity, s.level, s.rule, s.priority) == ("red", "emergency_services", "smoke_elderly_alone", 100)
    top = center.open_alarms()
    assert top[0].id == s.id and all(a.severity == "red" for a in top[:4])
    calls = [n for n in center.outbox(alarm_id=s.id) if n.role == "emergency_services"]
    assert [(c.recipient, c.time) for c in calls] == [("119", at(30))]
    roles = {n.role for n in center.outbox(alarm_id=s.id)}
    assert {"family", "community_doctor", "grid_worker", "community_office"} <= roles
    _check_route(s.detail["route"], graph, elderly_unit)


def test_ordinary_smoke_orange_then_confirmed_red(center) -> None:
    [a] = center.handle(ev("cn.shoumen.smoke.alarm", "smk-B07-L10-U03", T0))
    assert (a.severity, a.level, a.rule) == ("orange", "property", "smoke")
    assert "community_office" in {n.role for n in center.outbox(alarm_id=a.id)}  # centre alerted at once
    [b] = center.handle(ev("cn.shoumen.smoke.alarm", "smk-B07-L11-U03", at(60)))
    assert b.severity == "red" and b.detail["confirmed_by"] == ["smk-B07-L10-U03"]
    [c] = center.handle(ev("cn.shoumen.smoke.alarm", "smk-B08-L11-U03", at(60 + 400)))
    assert c.severity == "orange"  # another building


@pytest.mark.parametrize("type_, subject, data, rule, severity", [
    ("cn.shoumen.button.pressed", "btn-B01-L00-U08", {}, "personal_emergency", "red"),
    ("cn.shoumen.wristband.sos", "wb-B01-L00-U08", {}, "personal_emergency", "red"),
    ("cn.shoumen.wristband.fall", "wb-B01-L00-U08", {"confidence": 0.9}, "personal_emergency", "red"),
    ("cn.shoumen.wristband.fall", "wb-B01-L00-U08", {"confidence": 0.3}, "personal_emergency", "orange"),
    ("cn.shoumen.wristband.heart_rate", "wb-B01-L00-U08", {"bpm": 150, "direction": "high"}, "heart_rate", "orange"),
    ("cn.shoumen.water.level", "wl-RAMP1", {"level_m": 0.5, "threshold_m": 0.2}, "water_level", "red"),
    ("cn.shoumen.manhole.displacement", "mh-R01-02", {"displaced": True}, "manhole", "orange"),
    ("cn.shoumen.door.forced", "door-B01-E1", {}, "door_forced", "orange"),
    ("cn.shoumen.camera.intrusion", "cam-P01-1", {"zone": "plant"}, "camera_intrusion", "orange"),
    ("cn.shoumen.camera.thrown_object", "cam-B01-E1", {"storey": 9, "building": "B01"}, "camera_thrown_object",
     "orange"),
    ("cn.shoumen.camera.fall", "cam-SQ1-3", {}, "camera_fall", "orange"),
    ("cn.shoumen.grid.hazard_report", "Wang Fang",
     {"photo_uri": "https://x/2.jpg", "text": "fire lane blocked", "severity": "red"}, "hazard_report", "red"),
])
def test_device_event_mapping(center, type_, subject, data, rule, severity) -> None:
    [a] = center.handle(ev(type_, subject, T0, data))
    assert (a.rule, a.severity) == (rule, severity)


@pytest.mark.parametrize("type_, subject, data", [
    ("cn.shoumen.water.level", "wl-RAMP1", {"level_m": 0.1}),
    ("cn.shoumen.manhole.displacement", "mh-R01-02", {"displaced": False}),
    ("cn.shoumen.door.open", "door-B01-E1", {}),
    ("cn.shoumen.smoke.clear", "smk-B01-L00-U01", {}),
    ("cn.shoumen.gate.passage", "G-N", {"direction": "in", "credential": "face"}),
    ("cn.shoumen.patrol.position", "patrol-1", {"x_m": 10.0, "y_m": 10.0}),
])
def test_non_alarming_events(center, type_, subject, data) -> None:
    assert center.handle(ev(type_, subject, T0, data)) == []
    assert center.open_alarms() == []


def test_patrol_position_offers_a_faster_route(center, graph, site) -> None:
    wb = next(d for d in site.devices if d.id.startswith("wb-"))
    # a patrol standing at the flat's building exit is closer than the community office
    ex = site.building(wb.building).exits[0].position
    center.handle(ev("cn.shoumen.patrol.position", "patrol-1", T0, {"x_m": ex.x, "y_m": ex.y}))
    [a] = center.handle(ev("cn.shoumen.wristband.sos", wb.id, at(5)))
    r = a.detail["route"]
    assert {x["from"] for x in r["routes"]} == {"community_office", "patrol-1"}
    assert r["best"]["from"] == "patrol-1"
    assert r["best"]["time_s"] == min(x["time_s"] for x in r["routes"])


# ------------------------------------------------------------------ persistence and replay
def test_open_alarms_and_rule_state_survive_reopen(tmp_path: Path, site, graph, devices, residents) -> None:
    db = tmp_path / "live.sqlite"
    kw = dict(registry=devices, residents=residents, site=site, graph=graph)
    c = AlarmCenter(db, **kw)
    [a] = c.handle(ev("cn.shoumen.door.forced", "door-B01-E1", T0))
    [b] = c.handle(ev("cn.shoumen.camera.crowding", "cam-SQ1-1", T0, {"count": 25}))
    c.acknowledge(a.id, "op", "operator", at=at(10))
    c.resolve(b.id, "op", "operator", "dispersed", at=at(20))
    c.handle(ev("cn.shoumen.camera.licence_plate", "cam-gate-east-1", at(30),
                {"plate_hmac": plate("A1"), "key_id": "k1", "direction": "in"}))
    before = c.open_alarms()
    n_audit = len(c.audit())
    c.close()
    c2 = AlarmCenter(db, **kw)
    assert c2.open_alarms() == before and [x.id for x in before] == [a.id]
    assert c2.clock == at(30)
    assert c2.get(b.id).state == "resolved" and c2.get(b.id).note == "dispersed"
    [z] = c2.tick(at(30 + 7 * 86_400))
    assert z.rule == "zombie_car"
    # folding continues into the restored alarm; ids keep counting
    [a2] = c2.handle(ev("cn.shoumen.door.forced", "door-B01-E1", at(7 * 86_400 + 60)))
    assert a2.id != a.id  # beyond the fold window: a new alarm with a fresh id
    assert int(z.id[2:]) > int(b.id[2:]) and len(c2.audit()) > n_audit
    c2.close()


def test_replay_is_deterministic(tmp_path: Path, devices, residents, site) -> None:
    events = [ev("cn.shoumen.door.forced", "door-B01-E1", T0),
              ev("cn.shoumen.door.forced", "door-B01-E1", at(50)),
              ev("cn.shoumen.smoke.alarm", "smk-B02-L01-U01", at(70)),
              ev("cn.shoumen.camera.licence_plate", "cam-gate-east-1", at(80),
                 {"plate_hmac": plate("Q"), "key_id": "k1", "direction": "in"}),
              ev("cn.shoumen.door.open", "door-B03-E1", at(9 * 86_400))]
    runs = []
    for k in range(2):
        c = AlarmCenter(tmp_path / f"r{k}.sqlite", registry=devices, residents=residents, site=site,
                        synchronous="NORMAL")
        for e in events:
            c.handle(e)
        runs.append(([(x.alarm_id, x.time, x.action, x.detail) for x in c.audit()],
                     [(n.recipient, n.time, n.payload) for n in c.outbox()]))
        c.close()
    assert runs[0] == runs[1]
    assert any(a[2] == "raise" and a[0] for a in runs[0][0])


def test_late_event_is_applied_at_its_own_time(center) -> None:
    center.tick(at(3600))
    [a] = center.handle(ev("cn.shoumen.door.forced", "door-B09-E1", at(3000)))
    # raised at its event time and already past the orange property deadline (300 s)
    assert a.raised == at(3000) and a.level == "grid_worker" and a.level_since == at(3300)
    assert center.clock == at(3600)


# ------------------------------------------------------------------ settings and register
def test_settings_validated() -> None:
    with pytest.raises(ValueError, match=r"escalation_s\['red'\]: expected 3 entries"):
        AlarmSettings(escalation_s={"red": (1.0,), "orange": (1, 1, 1), "yellow": (1, 1, 1), "blue": (1, 1, 1)})
    with pytest.raises(ValueError, match="night_start_h: expected an hour"):
        AlarmSettings(night_start_h=25)
    with pytest.raises(ValueError, match="office_node 'nowhere' is not a node"):
        RoutePlanner(nx.Graph(), office_node="nowhere")


def test_register_csv_round_trip_and_errors(tmp_path: Path, site, residents) -> None:
    assert len(residents) == 143 and all(r.elderly_alone for r in residents)
    p = tmp_path / "reg.csv"
    ResidentRegister([Resident("B01-L00-U01", True, False, ("fam-1", "fam-2"), "dr-li"),
                      Resident("B02-L01-U02", False, True)]).to_csv(p)
    r = ResidentRegister.from_csv(p, site=site)
    assert r.is_elderly_alone("B01-L00-U01") and not r.is_elderly_alone("B02-L01-U02")
    assert r.family_of("B01-L00-U01") == ("fam-1", "fam-2") and r.doctor_of("B01-L00-U01") == "dr-li"
    assert r.doctor_of("B02-L01-U02") == "community-doctor"
    bad = tmp_path / "bad.csv"
    bad.write_text("unit,elderly_alone,family\nB01-L00-U01,maybe,\nB99-L00-U01,true,\nB01-L00-U01,true,\n")
    with pytest.raises(RegisterError) as exc:
        ResidentRegister.from_csv(bad, site=site)
    msg = str(exc.value)
    assert str(bad) in msg
    assert "line 2: field 'elderly_alone' must be true/false" in msg
    assert "line 3: field 'unit' 'B99-L00-U01' is not a dwelling unit" in msg
    assert "line 4: field 'unit' 'B01-L00-U01' already listed on line 2" in msg
    hdr = tmp_path / "hdr.csv"
    hdr.write_text("flat,alone\n")
    with pytest.raises(RegisterError, match="line 1: header lacks column"):
        ResidentRegister.from_csv(hdr)


def test_register_from_people() -> None:
    import numpy as np

    from agents.demographics import synthesize_people
    from agents.population import synthesize_households

    units = [(f"B01-L{lv:02d}-U{u:02d}", "B01") for lv in range(6) for u in range(1, 9)]
    rng = np.random.default_rng(3)
    people = synthesize_people(synthesize_households(units, rng=rng, at_home=1.0), rng=rng,
                               living_alone_elderly_share=0.5)
    reg = ResidentRegister.from_people(people)
    alone = {people.unit_of(i) for i in range(len(people)) if people.lives_alone[i]}
    assert alone and set(reg.elderly_alone_units()) == alone
