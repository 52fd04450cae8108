"""Grid distance fields and descent directions (geometry.distance, geometry._distance)."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from shapely.geometry import LineString, box

from geometry.distance import descent_directions, distance_field
from geometry.raster import LevelRaster, rasterize_polygons


def open_field(n: int = 81, h: float = 0.5) -> LevelRaster:
    return LevelRaster(np.ones((n, n), bool), (0.0, 0.0), h)


def test_open_field_within_3_percent_of_euclid() -> None:
    r = open_field()
    c = 40
    x0, y0 = r.cell_to_world(c, c)
    f = distance_field(r, targets=[(float(x0), float(y0))])
    X, Y = r.cell_centres()
    e = np.hypot(X - x0, Y - y0)
    far = e > 5 * r.cell_size_m
    rel = (f[far] - e[far]) / e[far]
    # the 16-neighbourhood's worst direction (atan 0.236, ~13.3 deg) is 2.75 % long; the
    # 8-neighbourhood would be 8.24 % long at 22.5 deg (sqrt(4 - 2 sqrt 2) / cos 22.5 - 1)
    assert rel.max() <= 0.03
    assert rel.max() == pytest.approx(0.0275, abs=0.002)
    assert rel.min() >= -1e-12  # never shorter than the straight line
    assert f[c, c] == 0.0
    # along the axes and the diagonals it is exact
    assert f[c, c + 20] == pytest.approx(10.0) and f[c + 20, c + 20] == pytest.approx(10 * math.sqrt(2))


def test_wall_with_door_goes_around_via_the_door() -> None:
    h = 0.25
    wall = [LineString([(10, 0), (10, 8)]), LineString([(10, 9), (10, 20)])]  # 1 m door at y 8..9
    r = rasterize_polygons(box(0, 0, 20, 20), obstacles=wall, cell_size_m=h)
    src = (5.125, 2.125)
    f = distance_field(r, targets=[src])
    door = (10.0, 8.5)
    for tx, ty in [(15.125, 2.125), (18.125, 15.125), (12.125, 0.625)]:
        i, j = r.world_to_cell(tx, ty)
        exact = math.hypot(door[0] - src[0], door[1] - src[1]) + math.hypot(tx - door[0], ty - door[1])
        assert f[j, i] == pytest.approx(exact, rel=0.03)
    i, j = r.world_to_cell(15.125, 2.125)
    assert f[j, i] > 1.5 * 10.0  # not through the wall (straight line: 10 m)


def test_no_corner_cutting_through_diagonal_gap() -> None:
    walk = np.ones((9, 9), bool)
    for k in range(9):  # an 8-connected diagonal wall j = i, from corner to corner
        walk[k, k] = False
    r = LevelRaster(walk, (0.0, 0.0), 1.0)
    f = distance_field(r, targets=[(0.5 + 1, 0.5)])  # cell (1, 0), south-east of the wall
    assert math.isinf(f[1, 0])  # cell (0, 1): diagonal neighbour across the wall
    assert np.isinf(f[np.triu_indices(9, 1)[1], np.triu_indices(9, 1)[0]]).all()
    # one walkable cell on the wall lets the field through, orthogonally only
    walk[4, 4] = True
    f = distance_field(LevelRaster(walk, (0.0, 0.0), 1.0), targets=[(1.5, 0.5)])
    assert np.isfinite(f[5, 4]) and np.isfinite(f[1, 0])


def test_unreachable_is_inf_and_bad_targets() -> None:
    walk = np.ones((10, 20), bool)
    walk[:, 10] = False
    r = LevelRaster(walk, (0.0, 0.0), 0.5)
    f = distance_field(r, targets=[(1.0, 1.0)])
    assert np.isinf(f[:, 10:]).all() and np.isfinite(f[:, :10]).all()
    with pytest.raises(ValueError, match="outside the raster"):
        distance_field(r, targets=[(100.0, 1.0)])
    with pytest.raises(ValueError, match="unwalkable"):
        distance_field(r, targets=[(5.2, 1.0)])
    with pytest.raises(ValueError, match="expected the raster's"):
        distance_field(r, targets=np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="cost multipliers must be > 0"):
        distance_field(r, targets=[(1.0, 1.0)], cost=np.zeros((10, 20)))


def test_polygon_targets_and_cost_multipliers() -> None:
    r = rasterize_polygons(box(0, 0, 20, 4), cell_size_m=0.5)
    f = distance_field(r, targets=[box(0, 0, 1, 4)])
    assert (f[:, :2] == 0).all()
    i, j = r.world_to_cell(10.25, 2.25)
    assert f[j, i] == pytest.approx(10.25 - 0.75)
    cost = np.ones(r.shape)
    cost[:, 20:] = 2.0  # x > 10 m costs twice
    f2 = distance_field(r, targets=[box(0, 0, 1, 4)], cost=cost)
    i, j = r.world_to_cell(15.25, 2.25)
    # step cost = length x mean of the two end cells' multipliers: knight moves straddling the
    # cost boundary make it ~0.4 % cheaper than the piecewise-exact 19.75 m
    assert f2[j, i] == pytest.approx((9.75 - 0.75) + 0.5 * 1.5 + 5.0 * 2.0, rel=0.01)
    cost[:, 20] = np.inf  # an impassable column
    assert np.isinf(distance_field(r, targets=[box(0, 0, 1, 4)], cost=cost)[:, 21:]).all()


def test_descent_directions_point_to_target() -> None:
    r = open_field(61, 0.5)
    tx, ty = r.cell_to_world(30, 30)
    f = distance_field(r, targets=[(float(tx), float(ty))])
    ux, uy = descent_directions(f, r)
    X, Y = r.cell_centres()
    dx, dy = float(tx) - X, float(ty) - Y
    d = np.hypot(dx, dy)
    m = d > 2.0
    cosang = (ux[m] * dx[m] + uy[m] * dy[m]) / d[m]
    assert cosang.min() > math.cos(math.radians(15))
    assert np.allclose(np.hypot(ux[m], uy[m]), 1.0)
    assert ux[30, 30] == 0.0 and uy[30, 30] == 0.0


def test_descent_next_to_walls_never_points_into_wall() -> None:
    wall = [LineString([(10, 0), (10, 8)]), LineString([(10, 9), (10, 20)])]
    r = rasterize_polygons(box(0, 0, 20, 20), obstacles=wall, cell_size_m=0.25)
    f = distance_field(r, targets=[box(0, 0, 2, 20)])
    ux, uy = descent_directions(f, r)
    walk = r.walkable
    ny, nx = walk.shape
    reach = walk & np.isfinite(f) & (f > 0)
    assert (np.hypot(ux, uy)[reach] > 0.99).all()
    assert (ux[~walk] == 0).all()
    # following the directions from behind the wall always reaches the target
    x, y = 18.0, 2.0
    for _ in range(400):
        i, j = r.world_to_cell(x, y)
        if f[j, i] == 0:
            break
        x, y = x + 0.1 * ux[j, i], y + 0.1 * uy[j, i]
        assert walk[r.world_to_cell(x, y)[1], r.world_to_cell(x, y)[0]]
    assert f[r.world_to_cell(x, y)[1], r.world_to_cell(x, y)[0]] == 0


def test_performance_600x500() -> None:
    r = LevelRaster(np.ones((500, 600), bool), (0.0, 0.0), 0.5)
    distance_field(r, targets=[(1.0, 1.0)])  # JIT warm-up (cached on disk)
    t0 = time.perf_counter()
    f = distance_field(r, targets=[(150.0, 125.0)])
    dt = time.perf_counter() - t0
    t0 = time.perf_counter()
    descent_directions(f, r)
    dt2 = time.perf_counter() - t0
    print(f"\n600x500 distance field {dt * 1000:.0f} ms, descent directions {dt2 * 1000:.0f} ms")


def test_wall_distance_field_counts_the_grid_edge_as_wall() -> None:
    import numpy as _np

    from geometry.distance import wall_distance_field

    walk = _np.ones((9, 9), dtype=bool)
    walk[4, 4] = False
    f = wall_distance_field(walk, 0.5)
    assert f[4, 4] == 0.0
    assert f[4, 3] == 0.5  # next to the blocked cell
    assert f[0, 0] == 0.5  # next to the outside
    assert abs(f[2, 2] - 0.5 * 8 ** 0.5) < 1e-9  # sqrt(8) cells to the blocked centre, 3 to the edge
