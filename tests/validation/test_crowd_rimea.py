"""Validation of the microscopic crowd model (agents.crowd) against the evacuation cases of
/work/shared/data/validation/evacuation.md: RiMEA 3.0/4.1.1 tests 1, 5, 6; IMO MSC.1/Circ.1533
test 4 (door flow, "I4"); NIST TN 1822 N4.1 (exit closes); and the narrow-door deadlock
regression (1,000 persons, 20 x 20 m room, one 1 m exit).

Geometry conventions: rooms have a 0.2 m thick wall with the door as a walkable passage through
it and a 0.5 m deep exit area behind it (agents count as out once their centre is on an exit
cell). Cell size 0.1 m. Flows are (N - 1) / (t_last - t_first) over the exit times.
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import box
from shapely.ops import unary_union

from agents.crowd import CrowdModel
from geometry.raster import LevelRaster, rasterize_polygons

H = 0.1


def room_with_door(w: float, h: float, *, door: float = 1.0) -> LevelRaster:
    """Room [0, w] x [0, h], a door ``door`` wide centred in the north wall (0.2 m thick) and an
    exit area 0.5 m deep behind it."""
    x0, x1 = w / 2 - door / 2, w / 2 + door / 2
    ex = box(x0, h + 0.2, x1, h + 0.7)
    return rasterize_polygons([box(0, 0, w, h), box(x0, h, x1, h + 0.2), ex], exits=ex, cell_size_m=H)


def scatter(w: float, h: float, n: int, seed: int, *, gap: float = 0.42, margin: float = 0.3) -> np.ndarray:
    """n non-overlapping positions (centre distance > gap) uniformly in the room."""
    rng = np.random.default_rng(seed)
    pts = np.empty((0, 2))
    while len(pts) < n:
        p = rng.uniform([margin, margin], [w - margin, h - margin])
        if len(pts) == 0 or (np.hypot(*(pts - p).T) > gap).all():
            pts = np.vstack([pts, p])
    return pts


def flow(m: CrowdModel) -> float:
    te = np.sort(m.exit_times)
    return (len(te) - 1) / (te[-1] - te[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_r1_corridor_40m(seed: int) -> None:
    r = rasterize_polygons([box(-0.3, 0, 40.0, 2.0), box(40.0, 0, 40.5, 2.0)], exits=box(40.0, 0, 40.5, 2.0),
                           cell_size_m=H)
    m = CrowdModel(r, rng=seed)
    m.add_agents([0.0], [1.0], v0=1.33)
    m.run(100.0)
    assert m.remaining == 0
    assert 26.0 <= m.exit_times[0] <= 34.0


def test_r5_premovement_times() -> None:
    r = room_with_door(8, 5)
    rng = np.random.default_rng(5)
    p = scatter(8, 5, 10, 5)
    start = rng.uniform(10.0, 100.0, 10)
    m = CrowdModel(r, rng=5)
    m.add_agents(p[:, 0], p[:, 1], v0=1.34, start_s=start)
    first_move = np.full(10, np.nan)
    while m.remaining and m.t < 200:
        x0, y0, t0 = m.x.copy(), m.y.copy(), m.t
        m.step()
        moved = ((m.x != x0) | (m.y != y0)) & np.isnan(first_move)
        first_move[moved] = t0
    assert m.remaining == 0
    assert np.isfinite(first_move).all()
    # nobody moves before its time, everybody within one step after it
    assert (first_move >= start - 1e-9).all()
    assert (first_move - start <= m.dt + 1e-9).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_r6_corner(seed: int) -> None:
    leg1 = box(0, 0, 12, 2)
    leg2 = box(10, 0, 12, 12)
    ex = box(10, 12, 12, 12.5)
    corridor = unary_union([leg1, leg2, ex])
    r = rasterize_polygons([leg1, leg2, ex], exits=ex, cell_size_m=H)
    p = scatter(6, 2, 20, seed, margin=0.25)
    m = CrowdModel(r, rng=seed)
    m.add_agents(p[:, 0], p[:, 1], v0=1.34)
    min_wall = np.inf
    while m.remaining and m.t < 120:
        m.step()
        k = np.flatnonzero(m.state == 1)
        inside = shapely.contains_xy(corridor, m.x[k], m.y[k])
        assert inside.all(), f"t={m.t:.2f}: agents {k[~inside]} outside the corridor"
        if k.size:
            min_wall = min(min_wall, float(shapely.distance(corridor.exterior, shapely.points(m.x[k], m.y[k])).min()))
    assert m.remaining == 0
    # centres never closer to a wall than half a body (walls repel at 0.2 m + a few cm)
    assert min_wall > 0.1, min_wall


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_i4_door_flow(seed: int) -> None:
    r = room_with_door(8, 5)
    p = scatter(8, 5, 100, seed)
    m = CrowdModel(r, rng=seed)
    m.add_agents(p[:, 0], p[:, 1], v0=1.34)
    m.run(400.0)
    assert m.remaining == 0
    f = flow(m)
    assert 0.8 < f <= 1.33, f"seed {seed}: mean flow {f:.3f} p/s"


def _two_exit_room(seed: int) -> CrowdModel:
    walk = [box(0, 0, 8, 5), box(-0.7, 2, 0, 3), box(8, 2, 8.7, 3)]
    e1, e2 = box(-0.7, 2, -0.2, 3), box(8.2, 2, 8.7, 3)
    r = rasterize_polygons(walk, exits=[e1, e2], cell_size_m=H)
    p = scatter(8, 5, 40, seed)
    m = CrowdModel(r, exits={"exit-1": e1, "exit-2": e2}, rng=seed)
    m.add_agents(p[:, 0], p[:, 1], v0=1.34)
    return m


def test_n41_both_exits_used_when_open() -> None:
    m = _two_exit_room(3)
    m.run(300.0)
    assert m.remaining == 0
    c = m.exit_counts()
    assert c["exit-1"] >= 10 and c["exit-2"] >= 10, c


def test_n41_exit_closes() -> None:
    m = _two_exit_room(3)
    m.run(1.0)
    m.close_exit("exit-1")
    n1 = m.exit_counts()["exit-1"]
    assert np.all(m.exit_times[m.exit_used == 0] <= 1.0 + 1e-9)
    m.run(300.0)
    assert m.remaining == 0
    assert m.exit_counts()["exit-1"] == n1
    assert m.exit_counts()["exit-2"] == 40 - n1


def _deadlock_room(seed: int) -> CrowdModel:
    r = room_with_door(20, 20)
    m = CrowdModel(r, rng=seed)
    g = np.stack(np.meshgrid(np.arange(0.35, 19.7, 0.6), np.arange(0.35, 19.7, 0.6)), -1).reshape(-1, 2)
    rng = np.random.default_rng(seed)
    g = g[rng.permutation(len(g))[:1000]] + rng.uniform(-0.08, 0.08, (1000, 2))
    m.add_agents(g[:, 0], g[:, 1], v0=1.34)
    return m


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)])
def test_no_deadlock_1000_at_1m_door(seed: int) -> None:
    """JuPedSim 1.4.2's CFS freezes here; ours must empty the room. 1,000 persons at ~1.2-1.3
    p/s need ~800 s; 1,500 s is the generous bound."""
    m = _deadlock_room(seed)
    m.run(1500.0)
    assert m.remaining == 0, f"seed {seed}: {m.remaining} agents stuck"
    f = flow(m)
    assert 0.9 < f < 2.0, f"seed {seed}: flow {f:.3f} p/s"
