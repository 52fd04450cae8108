"""Camera viewsheds: field of view, range, occlusion by buildings and walls, symmetry, CSR output,
detection probability, bad inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shapely.geometry import LineString, Point, box

from geometry.site import Building, BuildingUse, CameraSpec, Device, DeviceKind, Site
from geometry.viewshed import (
    OcclusionGrid,
    PoseArray,
    camera_view,
    detection_probability,
    occlusion_grid,
    visibility,
)


def _site(*buildings: Building) -> Site:
    return Site("viewshed test", box(-50, -50, 50, 50), buildings=list(buildings))


def _block(x0: float, y0: float, x1: float, y1: float, storeys: int = 3, bid: str = "B1") -> Building:
    return Building(bid, box(x0, y0, x1, y1), BuildingUse.OTHER, storeys=storeys, storey_height_m=3.0)


def _pose(x: float = 0.0, y: float = 0.0, *, yaw: float = 0.0, fov: float = 90.0, rng: float = 30.0,
          h: float = 3.5) -> PoseArray:
    return PoseArray(x=[x], y=[y], mount_height_m=h, yaw_deg=yaw, fov_deg=fov, range_m=rng)


def test_grid_marks_above_ground_buildings_only() -> None:
    garage = Building("P1", box(-40, -40, -20, -20), BuildingUse.GARAGE, storeys=0, basement_levels=1)
    g = occlusion_grid(_site(_block(10, -5, 20, 5), garage), cell_size_m=0.5)
    assert g.blocked.sum() == 20 * 20  # 10 m x 10 m in 0.5 m cells; the underground garage is open
    assert g.height_at(15, 0) == pytest.approx(9.0)
    assert g.height_at(-30, -30) == 0.0 and g.height_at(500, 500) == 0.0


def test_camera_behind_building_sees_nothing_beyond() -> None:
    g = occlusion_grid(_site(_block(10, -5, 20, 5)))
    pts = np.array([[25.0, 0.0], [28.0, 3.0], [28.0, -3.0], [8.0, 0.0]])
    v = visibility(g, _pose(yaw=90.0), pts)
    assert list(v.seen_by(0)) == [3]  # only the point in front of the building
    # with the building removed every point is seen
    v2 = visibility(occlusion_grid(_site()), _pose(yaw=90.0), pts)
    assert list(v2.seen_by(0)) == [0, 1, 2, 3]


def test_fov_edge_and_range() -> None:
    g = occlusion_grid(_site())
    a_in, a_out = math.radians(44.0), math.radians(46.0)
    pts = np.array([[10 * math.sin(a_in), 10 * math.cos(a_in)],     # 44 deg right of north: in
                    [10 * math.sin(a_out), 10 * math.cos(a_out)],   # 46 deg: just outside
                    [-10 * math.sin(a_in), 10 * math.cos(a_in)],    # 44 deg left: in
                    [0.0, 29.9], [0.0, 30.1],                        # range 30 m
                    [0.0, -5.0]])                                    # behind
    v = visibility(g, _pose(yaw=0.0, fov=90.0, rng=30.0), pts)
    assert list(v.seen_by(0)) == [0, 2, 3]
    v360 = visibility(g, _pose(fov=360.0, rng=30.0), pts)
    assert list(v360.seen_by(0)) == [0, 1, 2, 3, 5]


def test_yaw_is_clockwise_from_north() -> None:
    g = occlusion_grid(_site())
    pts = np.array([[10.0, 0.0], [0.0, 10.0], [-10.0, 0.0], [0.0, -10.0]])  # E, N, W, S
    poses = PoseArray(x=[0] * 4, y=[0] * 4, mount_height_m=3.5, yaw_deg=[0, 90, 180, 270], fov_deg=60,
                      range_m=20)
    v = visibility(g, poses, pts)
    assert [list(v.seen_by(c)) for c in range(4)] == [[1], [0], [3], [2]]


def test_mirror_symmetry() -> None:
    """A scene mirrored about x = 0 gives the mirrored visibility."""
    b = _block(5, 4, 12, 9)
    bm = _block(-12, 4, -5, 9)
    rng = np.random.default_rng(3)
    pts = rng.uniform(-30, 30, size=(400, 2))
    pts_m = pts * np.array([-1.0, 1.0])
    v = visibility(occlusion_grid(_site(b)), _pose(0.3, -2.0, yaw=30.0, fov=100.0), pts)
    vm = visibility(occlusion_grid(_site(bm)), _pose(-0.3, -2.0, yaw=330.0, fov=100.0), pts_m)
    assert 0 < v.seen_by(0).size < 400
    assert set(v.seen_by(0)) == set(vm.seen_by(0))


def test_short_wall_blocks_near_points_not_far_ones() -> None:
    """2.5D sight line: a 2.2 m wall 1 m in front of a 1.5 m target hides it from a 4 m camera
    20 m away, but a target 15 m beyond the wall (looked at from next to the wall) is seen."""
    wall = (LineString([(19.0, -10.0), (19.0, 10.0)]), 2.2)
    g = occlusion_grid(_site(), walls=[wall])
    near = visibility(g, _pose(0.0, 0.0, yaw=90.0, h=4.0), np.array([[20.0, 0.0]]))
    assert near.seen_by(0).size == 0
    far = visibility(g, _pose(18.0, 0.0, yaw=90.0, h=4.0), np.array([[34.0, 0.0]]))
    assert list(far.seen_by(0)) == [0]
    tall = occlusion_grid(_site(), walls=[(wall[0], 6.0)])  # taller than the camera: blocks fully
    assert visibility(tall, _pose(18.0, 0.0, yaw=90.0, h=4.0), np.array([[34.0, 0.0]])).seen_by(0).size == 0


def test_wall_mounted_camera_is_not_blocked_by_its_own_facade() -> None:
    g = occlusion_grid(_site(_block(-10, -10, 10, 0)))
    # 0.3 m north of the facade y = 0, looking north; points along the facade and out
    pts = np.array([[-8.0, 0.6], [8.0, 0.6], [0.0, 15.0], [0.0, -5.0]])
    v = visibility(g, _pose(0.0, 0.3, yaw=0.0, fov=360.0, rng=30.0), pts)
    assert list(v.seen_by(0)) == [0, 1, 2]  # not the point inside the building behind it


def test_many_poses_csr_matches_one_at_a_time() -> None:
    g = occlusion_grid(_site(_block(10, -5, 20, 5), _block(-20, 10, -5, 18, bid="B2")))
    rng = np.random.default_rng(7)
    pts = rng.uniform(-45, 45, size=(300, 2))
    n = 40
    poses = PoseArray(x=rng.uniform(-40, 40, n), y=rng.uniform(-40, 40, n), mount_height_m=3.5,
                      yaw_deg=rng.uniform(0, 360, n), fov_deg=rng.choice([60.0, 90.0, 360.0], n),
                      range_m=rng.uniform(10, 40, n))
    v = visibility(g, poses, pts)
    assert v.indptr.shape == (n + 1,) and v.indptr[-1] == v.indices.size == v.distance_m.size
    for c in range(n):
        one = visibility(g, PoseArray(poses.x[c], poses.y[c], 3.5, poses.yaw_deg[c], poses.fov_deg[c],
                                      poses.range_m[c]), pts)
        assert np.array_equal(one.seen_by(0), v.seen_by(c))
        seen = v.seen_by(c)
        assert np.all(np.diff(seen) > 0)
        d = np.hypot(pts[seen, 0] - poses.x[c], pts[seen, 1] - poses.y[c])
        assert np.allclose(v.distance_m[v.indptr[c]:v.indptr[c + 1]], d)
        assert np.all(d <= poses.range_m[c] + 1e-9)
    inc = v.incidence()
    assert inc.shape == (300, n) and inc.nnz == v.indices.size
    assert np.array_equal(v.counts(), np.asarray(inc.sum(axis=1)).ravel())


def test_camera_view_of_a_device() -> None:
    g = occlusion_grid(_site(_block(10, -5, 20, 5)))
    cam = Device("cam-1", DeviceKind.CAMERA, Point(0, 0),
                 camera=CameraSpec(mount_height_m=3.5, yaw_deg=90.0, fov_deg=90.0, range_m=30.0))
    assert list(camera_view(g, cam, np.array([[25.0, 0.0], [5.0, 0.0]]))) == [1]
    with pytest.raises(ValueError, match="device sd-1: expected a camera"):
        PoseArray.from_devices([Device("sd-1", DeviceKind.SMOKE_DETECTOR, Point(0, 0))])


def test_detection_probability_models() -> None:
    d = np.array([0.0, 7.5, 15.0, 30.0, 31.0])
    assert np.allclose(detection_probability(d, 30.0, model="step"), [1, 1, 1, 1, 0])
    assert np.allclose(detection_probability(d, 30.0, model="linear"), [1, 0.75, 0.5, 0, 0])
    p = detection_probability(d, 30.0, model="logistic")
    assert p[0] == pytest.approx(1.0) and p[3] == pytest.approx(0.0) and p[4] == 0.0
    assert p[2] == pytest.approx(0.5, abs=0.01)  # d50 = half the range
    assert np.all(np.diff(p) <= 0)
    g = occlusion_grid(_site())
    v = visibility(g, _pose(fov=360.0, rng=20.0), np.array([[0.0, 5.0], [0.0, 10.0]]))
    assert np.allclose(v.probability(model="linear").toarray(), [[0.75, 0.5]])


def test_bad_inputs() -> None:
    s = _site()
    with pytest.raises(ValueError, match="cell_size_m must be a number in"):
        occlusion_grid(s, cell_size_m=0.2)
    with pytest.raises(ValueError, match=r"walls\[0\]: height_m must be a positive number"):
        occlusion_grid(s, walls=[(LineString([(0, 0), (1, 0)]), -1.0)])
    with pytest.raises(ValueError, match=r"walls\[0\]: expected a \(LineString, height_m\) pair"):
        occlusion_grid(s, walls=[LineString([(0, 0), (1, 0)])])
    with pytest.raises(ValueError, match="field 'fov_deg' of pose 1 is 400.0"):
        PoseArray(x=[0, 0], y=[0, 0], mount_height_m=3, yaw_deg=0, fov_deg=[90, 400], range_m=10)
    with pytest.raises(ValueError, match="field 'range_m' of pose 0 is 0.0"):
        PoseArray(x=[0], y=[0], mount_height_m=3, yaw_deg=0, fov_deg=90, range_m=0)
    with pytest.raises(ValueError, match="field 'y' must have one entry per pose"):
        PoseArray(x=[0, 1], y=[0, 1, 2], mount_height_m=3, yaw_deg=0, fov_deg=90, range_m=10)
    g = occlusion_grid(s)
    with pytest.raises(ValueError, match=r"points must be an \[m, 2\] array"):
        visibility(g, _pose(), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="points must hold finite"):
        visibility(g, _pose(), np.array([[np.nan, 0.0]]))
    with pytest.raises(TypeError, match="grid must be an OcclusionGrid"):
        visibility(None, _pose(), np.zeros((1, 2)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="model must be one of"):
        detection_probability([1.0], 10.0, model="cubic")
    with pytest.raises(ValueError, match="height_m must hold finite heights"):
        OcclusionGrid(height_m=-np.ones((2, 2)), origin=(0, 0), cell_size_m=0.5)
