"""Camera placement on a site: candidates, demand points, occlusion-aware covering plans,
comparison with existing cameras, the funder's curve and pictures, bad inputs; one run on the
sample estate."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from geometry.site import (
    Building,
    BuildingExit,
    BuildingUse,
    CameraSpec,
    Device,
    DeviceKind,
    Gate,
    OpenSpace,
    Site,
    SiteError,
    StairCore,
    Way,
)
from geometry.viewshed import PoseArray, visibility
from optimizer.camera_sites import (
    DEFAULT_RISK,
    CameraType,
    camera_candidates,
    camera_curve,
    camera_problem,
    demand_points,
    existing_coverage,
    outdoor_cameras,
    plan_cameras,
    report_for,
)


def small_site(*, cameras: bool = True) -> Site:
    """80 m x 50 m estate: one 6-storey block (door on its south face), a walkway along the south,
    a path from the door, a west gate, a small square north of the block, and two existing
    cameras (one facing the door, one indoor)."""
    b = Building("B1", box(25, 20, 55, 32), BuildingUse.WALKUP, storeys=6, households_per_storey=2,
                 stairs=[StairCore("B1-S1", "B1", Point(40, 26))],
                 exits=[BuildingExit("B1-E1", "B1", Point(40, 20))])
    ways = [Way("W1", LineString([(0, 10), (80, 10)]), 3.0, "walkway"),
            Way("W2", LineString([(40, 10), (40, 20)]), 2.0, "walkway")]
    gates = [Gate("G-W", Point(0, 10), "pedestrian", "face", 3.0)]
    opens = [OpenSpace("SQ", box(30, 38, 50, 46), "square")]
    devices = []
    if cameras:
        devices = [
            Device("cam-door", DeviceKind.CAMERA, Point(40, 14),
                   camera=CameraSpec(mount_height_m=3.0, yaw_deg=0.0, fov_deg=70.0, range_m=15.0)),
            Device("cam-lobby", DeviceKind.CAMERA, Point(40, 26), building="B1", level=0,
                   camera=CameraSpec(mount_height_m=2.6, yaw_deg=180.0, fov_deg=100.0, range_m=10.0)),
        ]
    return Site("small camera site", box(0, 0, 80, 50), buildings=[b], ways=ways, gates=gates,
                open_spaces=opens, devices=devices, source="test_camera_sites.py").validate()


@pytest.fixture(scope="module")
def built() -> tuple:
    return camera_problem(small_site(), spacing_m=2.0, wall_spacing_m=6.0, pole_spacing_m=12.0)


def test_candidates_face_away_from_walls_and_cost() -> None:
    site = small_site()
    c = camera_candidates(site, wall_spacing_m=6.0, pole_spacing_m=12.0, pole_cost_cny=600.0)
    fp = site.buildings[0].footprint
    assert {"wall", "pole", "gate"} <= set(c.mount)
    for j in range(len(c)):
        p = Point(c.x[j], c.y[j])
        assert not fp.contains(p) and site.boundary.contains(p)
        if c.mount[j] == "wall":
            assert fp.exterior.distance(p) == pytest.approx(0.3, abs=1e-6)
            # the outward normal: from the nearest facade point to the camera
            q = fp.exterior.interpolate(fp.exterior.project(p))
            normal = math.degrees(math.atan2(p.x - q.x, p.y - q.y))
            rel = (c.yaw_deg[j] - normal + 180) % 360 - 180
            assert abs(rel) + (c.fov_deg[j] / 2 if c.fov_deg[j] < 360 else 0) <= 90 + 1e-6
        base = 2000.0 if c.camera_type[j] == "bullet" else 3500.0
        assert c.cost[j] == pytest.approx(base + (600.0 if c.mount[j] == "pole" else 0.0))
    # directional pole cameras come in 8 pans, wall bullets in 3 (facing out +- 45 deg)
    pole_bullets = [j for j in range(len(c)) if c.mount[j] == "pole" and c.camera_type[j] == "bullet"]
    assert len({round(c.yaw_deg[j]) for j in pole_bullets}) == 8
    assert len(set(c.ids)) == len(c)
    assert c.device(0).camera is not None and c.device(0).kind == DeviceKind.CAMERA


def test_demand_points_kinds_weights_and_redundancy() -> None:
    site = small_site()
    d = demand_points(site, spacing_m=2.0, perimeter_spacing_m=5.0)
    kinds = np.asarray(d.kind)
    assert set(kinds) == {"path", "open", "entrance", "gate", "perimeter"}
    e = np.flatnonzero(kinds == "entrance")
    assert e.size == 1 and d.x[e[0]] == pytest.approx(40.0) and d.y[e[0]] == pytest.approx(18.5)  # 1.5 m out
    assert np.all(d.k[kinds == "entrance"] == 2) and np.all(d.k[kinds == "gate"] == 2)
    assert np.all(d.k[np.isin(kinds, ["path", "open", "perimeter"])] == 1)
    gates = np.flatnonzero(kinds == "gate")
    assert np.allclose(sorted(d.x[gates]), [0.5, 5.0]) and np.allclose(d.y[gates], 10.0)
    assert np.allclose(d.weight, d.area_m2 * np.array([DEFAULT_RISK[k] for k in kinds]))
    fp = site.buildings[0].footprint
    assert not any(fp.contains(Point(x, y)) for x, y in d.xy)
    # the walkway areas are represented once: path points stand for about the ways' area
    way_area = sum(w.area.area for w in site.ways) - 2.0 * 1.5  # overlap of W2 with W1
    assert d.area_m2[kinds == "path"].sum() == pytest.approx(way_area, rel=0.1)


def test_full_cover_sees_every_point_k_times(built: tuple) -> None:
    prob, meta = built
    site = small_site()
    assert prob.n_points == len(meta.demand) and prob.n_candidates == len(meta.candidates)
    assert meta.unseeable == () and meta.short_of_k == ()
    plan = plan_cameras(site, problem=built)
    assert plan.result.optimal and plan.result.method == "milp"
    r = plan.report
    assert r.weighted_coverage == pytest.approx(1.0)
    assert r.entrance_coverage == 1.0 and r.gate_coverage == 1.0 and r.perimeter_coverage == 1.0
    assert r.n_cameras == len(plan.devices) and r.cost_cny == pytest.approx(plan.result.cost)
    assert r.density_per_200m2 == pytest.approx(len(plan.devices) * 200 / site.public_area_m2())
    # check independently: the chosen devices' own viewsheds
    v = visibility(meta.grid, PoseArray.from_devices(plan.devices), meta.demand.xy)
    assert np.all(v.counts() >= meta.k_required)
    # the heuristic is feasible and no cheaper than the proven optimum
    heur = plan_cameras(site, problem=built, method="heuristic", compare_existing=False)
    assert heur.report.weighted_coverage == pytest.approx(1.0)
    assert heur.result.cost >= plan.result.cost - 1e-6


def test_building_occludes_candidates(built: tuple) -> None:
    """No wall camera on the north face sees the entrance on the south face."""
    _, meta = built
    c, d = meta.candidates, meta.demand
    e = d.ids.index("entrance-B1-E1-0000")
    north = [j for j in range(len(c)) if c.mount[j] == "wall" and c.y[j] > 32.0]
    assert north
    m = meta.visibility.matrix()
    assert all(m[j, e] == 0 for j in north)
    assert m[:, e].nnz >= 2


def test_budget_plan_and_curve_are_monotone(built: tuple, tmp_path: Path) -> None:
    prob, meta = built
    site = small_site()
    full = plan_cameras(site, problem=built, compare_existing=False)
    half = plan_cameras(site, problem=built, budget=full.result.cost / 2, compare_existing=False)
    assert half.result.cost <= full.result.cost / 2 + 1e-6
    assert 0 < half.report.weighted_coverage < 1.0
    few = plan_cameras(site, problem=built, max_cameras=2, compare_existing=False)
    assert len(few.devices) <= 2
    cur, reps = camera_curve(prob, meta, counts=[1, 2, 4, 8])
    assert cur.by == "cameras" and np.all(np.diff(cur.coverage) >= -1e-9)
    assert np.all(cur.n_cameras <= np.array([1, 2, 4, 8]))
    assert [r.n_cameras for r in reps] == list(cur.n_cameras)
    assert np.allclose([r.weighted_seen_once for r in reps], cur.coverage)
    from viz.camera_pictures import plot_camera_map, plot_coverage_curve

    png = plot_coverage_curve(cur, tmp_path / "curve.png", reports=reps, existing=full.existing, plan=full.report)
    assert png.stat().st_size > 5_000
    png = plot_camera_map(site, full.devices, tmp_path / "map.png", meta=meta)
    assert png.stat().st_size > 5_000
    with pytest.raises(ValueError, match="ending in .png"):
        plot_camera_map(site, full.devices, tmp_path / "map.jpg")


def test_existing_cameras_coverage(built: tuple) -> None:
    _, meta = built
    site = small_site()
    assert [d.id for d in outdoor_cameras(site)] == ["cam-door"]
    ex = existing_coverage(site, meta)
    assert ex.n_cameras == 2 and ex.cost_cny == 0.0
    assert ex.entrance_seen_once == 1.0 and ex.entrance_coverage == 0.0  # one camera, k = 2
    assert 0 < ex.weighted_coverage < 0.5
    assert report_for(meta, np.array([], dtype=np.int64)).weighted_coverage == 0.0
    none = existing_coverage(small_site(cameras=False), meta)
    assert none.n_cameras == 0 and none.weighted_seen_once == 0.0


def test_unseeable_points_are_reported_not_fatal() -> None:
    """Only a 360 deg type with 5 m range and sparse poles: some demand cannot be seen; the
    plan covers the rest and the report counts the unseen against it."""
    site = small_site()
    prob, meta = camera_problem(site, camera_types=[CameraType("short", 360.0, 5.0, 1000.0, "dome")],
                                wall_spacing_m=20.0, pole_spacing_m=40.0)
    assert len(meta.unseeable) > 0
    plan = plan_cameras(site, problem=(prob, meta), compare_existing=False)
    assert plan.report.weighted_coverage < 1.0


def test_bad_inputs() -> None:
    site = small_site()
    with pytest.raises(ValueError, match="wall_spacing_m must be a number > 0"):
        camera_candidates(site, wall_spacing_m=0)
    with pytest.raises(ValueError, match="camera_types must be a non-empty sequence"):
        camera_candidates(site, camera_types=[])
    with pytest.raises(ValueError, match="CameraType x: field 'fov_deg' must be in"):
        CameraType("x", 400.0, 10.0, 1.0, "m")
    with pytest.raises(ValueError, match="risk: unknown demand kind 'roof'"):
        demand_points(site, risk={"roof": 2.0})
    with pytest.raises(ValueError, match="k_entrance must be an integer >= 1"):
        demand_points(site, k_entrance=0)
    with pytest.raises(ValueError, match="spacing_m must be a number >= 0.5"):
        demand_points(site, spacing_m=0.1)
    with pytest.raises(TypeError, match="site must be a geometry.site.Site"):
        camera_candidates("site.yaml")  # type: ignore[arg-type]
    empty = Site("empty", box(0, 0, 10, 10), source="empty.yaml")
    with pytest.raises(SiteError, match="empty.yaml: site 'empty': no camera candidate"):
        camera_candidates(empty)
    built = camera_problem(site, spacing_m=4.0)
    with pytest.raises(ValueError, match="at most one of budget= and max_cameras="):
        plan_cameras(site, problem=built, budget=1e4, max_cameras=3)
    with pytest.raises(ValueError, match="max_cameras must be an integer >= 1"):
        plan_cameras(site, problem=built, max_cameras=0)
    with pytest.raises(ValueError, match="method must be"):
        plan_cameras(site, problem=built, method="fast")
    with pytest.raises(ValueError, match="would be ignored"):
        plan_cameras(site, problem=built, spacing_m=2.0)
    with pytest.raises(ValueError, match="counts must be a non-empty list"):
        camera_curve(*built, counts=[])
    broken = small_site()
    broken.devices.append(Device("cam-x", DeviceKind.CAMERA, Point(5, 5)))
    with pytest.raises(SiteError, match="device cam-x: a camera needs its optics"):
        outdoor_cameras(broken)


def test_sample_estate_plan() -> None:
    from geometry.sample import sample_community

    site = sample_community()
    t0 = time.perf_counter()
    prob, meta = camera_problem(site)
    plan = plan_cameras(site, problem=(prob, meta))
    elapsed = time.perf_counter() - t0
    assert len(meta.candidates) > 2000 and len(meta.demand) > 2000
    assert meta.unseeable == ()
    r, ex = plan.report, plan.existing
    assert r.weighted_coverage == pytest.approx(1.0) and r.entrance_coverage == 1.0
    assert ex is not None and ex.n_cameras == 106
    # the estate's own cameras: every entrance seen once, but not twice
    assert ex.entrance_seen_once == 1.0 and ex.entrance_coverage < 0.5
    assert ex.weighted_coverage < r.weighted_coverage
    # as many cameras as the estate has, optimised, see more than the existing ones do
    same = plan_cameras(site, problem=(prob, meta), max_cameras=106, method="heuristic", compare_existing=False)
    assert same.report.weighted_seen_once > ex.weighted_seen_once
    assert elapsed < 60.0
