"""Tests of agents.security: camera detection probability, occlusion, dispatch of the nearest
free guard, response times from path lengths and speeds, monotonicity in cameras, the sample
end to end."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from agents.incidents import IncidentSettings, generate_incidents, incident_places
from agents.security import (
    Responder,
    SecuritySettings,
    camera_coverage,
    compare_cameras,
    simulate_security,
)
from geometry.navgraph import build_nav_graph
from geometry.sample import sample_community
from geometry.site import Building, BuildingUse, CameraSpec, Device, DeviceKind, Gate, OpenSpace, Site, Way


def _mini(with_building: bool = True) -> Site:
    blds = [Building("B1", box(40, 38, 60, 48), use=BuildingUse.OTHER, storeys=3, storey_height_m=3.0)] \
        if with_building else []
    return Site(name="mini", boundary=box(0, 0, 100, 60), buildings=blds,
                ways=[Way("W1", LineString([(0, 30), (100, 30)]), 3.0)],
                gates=[Gate("G1", Point(0, 30), access="guard")],
                open_spaces=[OpenSpace("CH1", box(85, 33, 95, 38), kind="charging")]).validate()


def _cam(cid: str, x: float, y: float, **kw: float) -> Device:
    return Device(cid, DeviceKind.CAMERA, Point(x, y), camera=CameraSpec(**kw))


def _graph(site: Site) -> nx.Graph:
    return build_nav_graph(site, check=False)


def _stand(site_graph: nx.Graph) -> list[Responder]:
    return [Responder("g-west", "guard", "G1", ((0.0, 24.0),))]


INTRUSIONS = IncidentSettings(scale_to_site=False, rates_per_day={"intrusion": 40.0})


def test_camera_that_sees_detects_with_configured_probability():
    site = _mini(with_building=False)
    g = _graph(site)
    cam = _cam("c", 50, 30, fov_deg=360.0, range_m=200.0, mount_height_m=4.0)
    st = SecuritySettings(ai_accuracy=0.6, night_factor=1.0, distance_model="step")
    r = simulate_security(site, days=10, seed=1, cameras=[cam], guards=_stand(g), settings=st,
                          incident_settings=INTRUSIONS, graph=g)
    t = r.incidents
    n = len(t)
    assert n > 300
    assert (t["cameras_seeing"] == 1).all()
    rate = t["detected"].mean()
    assert abs(rate - 0.6) < 4 * math.sqrt(0.24 / n), rate
    assert t[t.detected]["detected_by"].eq("camera:c").all()
    # the night factor scales it
    st2 = SecuritySettings(ai_accuracy=0.6, night_factor=0.5, night_hours=(0, 0), distance_model="step")
    st2 = SecuritySettings(ai_accuracy=0.6, night_factor=0.5, night_hours=(0, 23), distance_model="step")
    r2 = simulate_security(site, days=10, seed=1, cameras=[cam], guards=_stand(g), settings=st2,
                           stream=r.stream)
    night = r2.incidents["hour"] < 23
    assert abs(r2.incidents[night]["detected"].mean() - 0.3) < 4 * math.sqrt(0.21 / night.sum())


def test_camera_behind_a_building_never_detects():
    cam = _cam("c", 50, 52, yaw_deg=180.0, fov_deg=30.0, range_m=30.0, mount_height_m=3.5)
    st = SecuritySettings(ai_accuracy=1.0, night_factor=1.0, distance_model="step")
    site = _mini(with_building=True)
    g = _graph(site)
    stream = generate_incidents(site, days=3, seed=2, settings=INTRUSIONS, graph=g)
    r = simulate_security(site, days=3, seed=2, cameras=[cam], guards=_stand(g), settings=st, stream=stream)
    assert len(r.incidents) > 50
    assert (r.incidents["cameras_seeing"] == 0).all()
    assert not r.incidents["detected"].any()
    # control: without the building the same camera sees and detects
    open_site = _mini(with_building=False)
    g2 = _graph(open_site)
    s2 = generate_incidents(open_site, days=3, seed=2, settings=INTRUSIONS, graph=g2)
    r2 = simulate_security(open_site, days=3, seed=2, cameras=[cam], guards=_stand(g2), settings=st, stream=s2)
    assert r2.incidents["cameras_seeing"].gt(0).mean() > 0.2  # tracks crossing x = 50 pass its cone
    assert (r2.incidents["detected"] == r2.incidents["cameras_seeing"].gt(0)).all()  # accuracy 1, step model


def _east_node(g: nx.Graph) -> str:
    return max((n for n, d in g.nodes(data=True) if d.get("kind") == "path"), key=lambda n: g.nodes[n]["x"])


def test_nearest_free_guard_dispatched_and_response_from_path_lengths():
    site = _mini(with_building=False)
    g = _graph(site)
    east = _east_node(g)
    guards = [Responder("g-west", "guard", "G1", ((0.0, 24.0),)), Responder("g-east", "guard", east, ((0.0, 24.0),))]
    st = SecuritySettings(on_scene_s=10.0, run_speed_m_s=2.0, alarm_latency_s=1.0, verify_s=4.0)
    inc = IncidentSettings(scale_to_site=False, rates_per_day={"hazard": 3.0}, hazard_indoor_share=0.0)
    r = simulate_security(site, days=20, seed=3, guards=guards, settings=st, incident_settings=inc, graph=g,
                          cameras=[])
    t = r.incidents
    assert len(t) > 30 and t["detected"].all()
    for _, row in t.iterrows():
        dw = nx.shortest_path_length(g, "G1", row["node"], weight="length_m")
        de = nx.shortest_path_length(g, east, row["node"], weight="length_m")
        assert row["responder"] == ("g-west" if (dw, "g-west") < (de, "g-east") else "g-east")
        assert row["t_alarm_s"] == pytest.approx(row["t_s"] + 5.0)
        assert row["response_s"] == pytest.approx(min(dw, de) / 2.0, abs=1e-6)


def test_busy_guard_is_skipped_and_queue_waits():
    site = _mini(with_building=False)
    g = _graph(site)
    east = _east_node(g)
    guards = [Responder("g-west", "guard", "G1", ((0.0, 24.0),)), Responder("g-east", "guard", east, ((0.0, 24.0),))]
    st = SecuritySettings(on_scene_s=4 * 3600.0)  # every guard busy for hours after a call
    inc = IncidentSettings(scale_to_site=False, rates_per_day={"hazard": 24.0}, hazard_indoor_share=0.0)
    r = simulate_security(site, days=1, seed=4, guards=guards, settings=st, incident_settings=inc, graph=g,
                          cameras=[])
    t = r.incidents.sort_values("t_s")
    assert t["responder"].iloc[0] != t["responder"].iloc[1] or t["t_s"].iloc[1] - t["t_s"].iloc[0] > 4 * 3600
    # with two guards busy for 4 h, a third call in that window waits: its dispatch is after its alarm
    waited = (t["t_dispatch_s"] - t["t_alarm_s"]) > 1.0
    assert waited.any()
    # one guard never serves two incidents at once
    for gid, sub in t.groupby("responder"):
        d = sub["t_dispatch_s"].to_numpy()
        assert np.all(np.diff(np.sort(d)) >= 4 * 3600.0 - 1e-6)


def test_shifts_respected():
    site = _mini(with_building=False)
    g = _graph(site)
    guards = [Responder("day", "guard", "G1", ((8.0, 20.0),))]
    inc = IncidentSettings(scale_to_site=False, rates_per_day={"hazard": 6.0}, hazard_indoor_share=0.0,
                           hour_profiles={"hazard": (1.0,) * 24})
    r = simulate_security(site, days=5, seed=5, guards=guards, incident_settings=inc, graph=g, cameras=[],
                          settings=SecuritySettings(on_scene_s=1.0))
    h = (r.incidents["t_dispatch_s"] % 86400) / 3600
    assert ((h >= 8.0) & (h < 20.0)).all()
    late = r.incidents[(r.incidents["hour"] < 7)]
    assert (late["response_s"] > 3600).all()


@pytest.fixture(scope="module")
def sample():
    return sample_community()


@pytest.fixture(scope="module")
def sample_graph(sample):
    return incident_places(sample).graph


def test_more_cameras_never_reduce_detection(sample, sample_graph):
    inc = IncidentSettings(rates_per_day={"theft": 3.0, "intrusion": 3.0, "thrown_object": 2.0, "fall": 1.0,
                                          "hazard": 0.0})
    cams = sample.devices_of(DeviceKind.CAMERA)
    stream = generate_incidents(sample, days=3, seed=6, settings=inc, graph=sample_graph)
    results = [simulate_security(sample, days=3, seed=6, cameras=c, stream=stream)
               for c in ([], cams[::3], cams)]
    det = [r.incidents["detected"].to_numpy(bool) for r in results]
    ttd = [r.incidents["time_to_detect_s"].to_numpy(float) for r in results]
    for lo, hi in ((0, 1), (1, 2)):
        assert np.all(det[hi] >= det[lo])
        both = det[lo] & det[hi]
        assert np.all(ttd[hi][both] <= ttd[lo][both] + 1e-9)
    assert det[2].sum() > det[0].sum()  # cameras matter on this stream


def test_compare_cameras_same_stream(sample, sample_graph):
    cams = sample.devices_of(DeviceKind.CAMERA)
    inc = IncidentSettings(rates_per_day={"theft": 2.0, "intrusion": 2.0, "fall": 0.0, "thrown_object": 0.0,
                                          "hazard": 0.0})
    c = compare_cameras(sample, cams[:20], cams, days=2, seed=9, incident_settings=inc, graph=sample_graph)
    assert c.a.stream is c.b.stream
    assert c.difference["cameras"] == len(cams) - 20
    assert c.difference["subject_detection_rate"] >= 0
    assert not c.lost
    tab = c.table()
    assert list(tab.columns) == ["existing", "plan", "difference"]


def test_sample_end_to_end(sample, sample_graph):
    r = simulate_security(sample, days=3, seed=0, graph=sample_graph)
    s = r.summary
    for k in ("detection_rate", "time_to_detect_p50_s", "response_p50_s", "response_p90_s", "prevented",
              "density_per_200m2", "coverage_public_area", "coverage_entrances", "coverage_perimeter"):
        assert k in s
    assert s["cameras"] == 106
    assert s["density_per_200m2"] == pytest.approx(106 * 200 / sample.public_area_m2())
    assert 0 < s["coverage_public_area"] < 1
    assert s["wall_s"] < 30
    t = r.incidents
    ok = t["response_s"].dropna()
    assert (ok >= 0).all()
    assert set(t["responder"].dropna()) <= {x.id for x in r.responders} | {""}


def test_coverage_counts_only_outdoor(sample):
    cams = sample.devices_of(DeviceKind.CAMERA)
    indoor = [d for d in cams if d.building is not None and d.level == -1]
    cov = camera_coverage(sample, indoor)
    assert cov["outdoor_cameras"] == 0 and cov["coverage_public_area"] == 0.0


def test_bad_settings_and_guards():
    site = _mini(with_building=False)
    g = _graph(site)
    with pytest.raises(ValueError, match="ai_accuracy"):
        simulate_security(site, days=1, settings=SecuritySettings(ai_accuracy=1.5), graph=g)
    with pytest.raises(ValueError, match="distance_model"):
        SecuritySettings(distance_model="cubic").validate()
    with pytest.raises(ValueError, match="post"):
        simulate_security(site, days=1, graph=g, guards=[Responder("x", "guard", "nowhere", ((0.0, 24.0),))])
    with pytest.raises(ValueError, match="patrol loop"):
        simulate_security(site, days=1, graph=g, guards=[Responder("x", "guard", "G1", ((0.0, 24.0),),
                                                                   patrol=("G1", "nowhere"))])
