"""Validation of the microscopic crowd model (agents.crowd) on the two room cases of
/work/shared/data/validation/evacuation.md: RiMEA 3.0/4.1.1 test 9 ("R9", a large room with
four doors, then two of them closed) and test 12 ("R12", effect of a bottleneck: room ->
corridor -> room -> exit). Each case runs several seeds; the criterion holds for every seed.

Conventions as tests/validation/test_crowd_rimea.py: 0.1 m cells; a door is a walkable passage
through a 0.2 m wall with a 0.5 m deep exit area behind it (an agent is out once its centre is
on an exit cell); positions uniform in the room, no two centres closer than 0.42 m. Walking
speeds: RiMEA's tests 9 and 12 populate the rooms with adults "walking speed per Table 1", i.e.
the 30-50 y band 1.41-1.54 m/s, drawn with :func:`agents.demographics.draw_walking_speeds`
(``SpeedGroup.AGE_30_50``, the distribution that tests/validation/test_demographics_r7.py
checks against the R7 bands). Pre-movement 0 s (RiMEA: "Reaktionsdauer 0 s").

R9 geometry (choice): RiMEA's figure and JuPedSim's reference implementation of test 9
(systemtest/rimea_tests/test_9/geometry.xml) put two 1 m doors in each 30 m wall, each door's
outer edge 4 m from the corner (x in [4, 5] and [25, 26] m, at y = 0 and y = 20 m). The
two-door case closes both doors of the south wall ("the exits of one of the longer walls are
closed", JuPedSim's test description) with :meth:`CrowdModel.close_exit` before the first step
(t = 0), on the same raster, so the 1,000 start positions and speeds are identical in both
runs (a paired comparison). T is the time the last person leaves. Pass (RiMEA):
T(2 doors) / T(4 doors) in [1.6, 2.4], everybody out (no deadlock), nobody through a closed door.

R12 geometry (RiMEA figure 9; JuPedSim systemtest/rimea_tests/test_12/geometry.xml): room 1
[0, 10] x [0, 10] m holds the 150 persons; a corridor 5 m long and 1 m wide ([10, 15] x
[4.5, 5.5]) leads to room 2 [15, 25] x [0, 10]; the final exit is a 1 m door in room 2's east
wall in line with the corridor. RiMEA's requirement: "since the corridor limits the flow,
congestion may form only in room 1, not in room 2". Measured here:

* Flows (JuPedSim's runtest_rimea_12.py, the reference implementation, uses the same measure
  and the same 0.05 p/s tolerance): J = (N - 1) / (t_last - t_first) over the passage times
  of all N persons at a line, over the whole run. Corridor flow: at the corridor's exit line
  x = 15 m, passage time = end of the first step after which the agent's centre has x >= 15
  (found by comparing x before and after every step). Final-exit flow: over the exit times
  (also ends of steps). Pass: J_exit - J_corridor <= 0.05 p/s. A sliding 10 s window is not
  used: a window that short holds ~7 passages, so one person more or less changes its flow by
  0.1 p/s, twice the tolerance, and the criterion would test counting noise, not the model.
* Congestion: persons (walking, not yet out) per m² in 2 x 2 m cells aligned with each room
  (25 cells per room), every step. Room 2 must never reach Fruin's (1971) walkway level of
  service E, where queueing begins (above 1.08 p/m²): at most 4 persons in a 4 m² cell, level of
  service D or better; a jam at the final exit shows up first in the cell in front of it.
  And at every step the mean speed of the persons in room 2 is at least 0.7 of their mean v0
  (free walking, not stop-and-go). Room 1 must congest: the cell in front of the corridor
  entrance ([8, 10] x [4, 6]) averages at least 2 p/m² between t = 20 s and the time half the
  crowd has passed the corridor (Weidmann: 0.45 v0 at 2 p/m², Fruin level F above 2.17 p/m²),
  well above the initial mean density of 1.5 p/m² in room 1.

Measured with the model at the time of writing: R9 ratios 1.84-1.92 (T4 200-210 s, T2 385-389 s);
R12 J_corridor 0.69-0.70 p/s, J_exit lower by 0.000-0.002 p/s, room 2 at most 0.5 p/m², room 1
queue ~4.3 p/m². The corridor flow is close to the single-file limit of CFS,
v0 / (2 r + v0 T) = 1.475 / (0.4 + 1.475 * 1.2) = 0.68 p/s, i.e. about 60 % of the model's 1 m
door flow; R12 does not test that value.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from agents.crowd import CrowdModel
from agents.demographics import SpeedGroup, draw_walking_speeds
from geometry.raster import LevelRaster, rasterize_polygons

H = 0.1
WALL = 0.2  # wall thickness (m): the door passage's depth
EXIT_DEPTH = 0.5  # exit area behind a door (m)


def scatter(w: float, h: float, n: int, seed: int, *, gap: float = 0.42, margin: float = 0.3) -> np.ndarray:
    """n non-overlapping positions (centre distance > gap) uniformly in the room [0, w] x [0, h]."""
    rng = np.random.default_rng(seed)
    pts = np.empty((0, 2))
    while len(pts) < n:
        p = rng.uniform([margin, margin], [w - margin, h - margin])
        if len(pts) == 0 or (np.hypot(*(pts - p).T) > gap).all():
            pts = np.vstack([pts, p])
    return pts


def adult_speeds(n: int, seed: int) -> np.ndarray:
    """RiMEA Table 1 adults (30-50 y), m/s."""
    return draw_walking_speeds(SpeedGroup.AGE_30_50, n, rng=np.random.default_rng(10_000 + seed))


def line_flow(t: np.ndarray) -> float:
    """(N - 1) / (t_last - t_first) over passage times t (s), p/s."""
    ts = np.sort(t)
    return (len(ts) - 1) / (ts[-1] - ts[0])


# ---------------------------------------------------------------------------------------- R9
R9_W, R9_H, R9_N = 30.0, 20.0, 1000
R9_DOOR_X = {"west": 4.0, "east": R9_W - 5.0}  # door's west edge; outer edge 4 m from the corner
R9_CLOSED = ("south-west", "south-east")


def r9_room() -> tuple[LevelRaster, dict[str, BaseGeometry]]:
    """Room [0, 30] x [0, 20] m, 1 m doors at x in [4, 5] and [25, 26] in both long walls,
    exits named ``north-west``, ``north-east``, ``south-west``, ``south-east``."""
    walk = [box(0, 0, R9_W, R9_H)]
    exits: dict[str, BaseGeometry] = {}
    for side in ("north", "south"):
        for end, x0 in R9_DOOR_X.items():
            if side == "north":
                door = box(x0, R9_H, x0 + 1, R9_H + WALL)
                ex = box(x0, R9_H + WALL, x0 + 1, R9_H + WALL + EXIT_DEPTH)
            else:
                door = box(x0, -WALL, x0 + 1, 0)
                ex = box(x0, -WALL - EXIT_DEPTH, x0 + 1, -WALL)
            walk += [door, ex]
            exits[f"{side}-{end}"] = ex
    return rasterize_polygons(walk, exits=list(exits.values()), cell_size_m=H), exits


@functools.cache
def r9_run(seed: int, doors: int) -> CrowdModel:
    r, exits = r9_room()
    m = CrowdModel(r, exits=exits, rng=seed)
    if doors == 2:
        for e in R9_CLOSED:
            m.close_exit(e)
    p = scatter(R9_W, R9_H, R9_N, seed)
    m.add_agents(p[:, 0], p[:, 1], v0=adult_speeds(R9_N, seed))
    m.run(1500.0)
    return m


def test_r9_geometry_doors_4m_from_corners() -> None:
    r, exits = r9_room()
    m = CrowdModel(r, exits=exits)
    assert m.exit_ids == ["north-west", "north-east", "south-west", "south-east"]
    for eid, mk in zip(m.exit_ids, m.exit_masks):
        _, i = np.nonzero(mk)
        xs = r.origin[0] + (i + 0.5) * H
        width = xs.max() - xs.min() + H
        assert abs(width - 1.0) < 1e-6, (eid, width)
        assert min(xs.min() - 0.5 * H, R9_W - xs.max() - 0.5 * H) == pytest.approx(4.0), eid


@pytest.mark.parametrize("seed", [0, pytest.param(1, marks=pytest.mark.slow), pytest.param(2, marks=pytest.mark.slow)])
def test_r9_two_doors_take_about_twice_as_long(seed: int) -> None:
    m4, m2 = r9_run(seed, 4), r9_run(seed, 2)
    assert m4.remaining == 0, f"seed {seed}, 4 doors: {m4.remaining} persons stuck at t = {m4.t:.1f} s"
    assert m2.remaining == 0, f"seed {seed}, 2 doors: {m2.remaining} persons stuck at t = {m2.t:.1f} s"
    c4, c2 = m4.exit_counts(), m2.exit_counts()
    assert all(c2[e] == 0 for e in R9_CLOSED), c2
    assert min(c4.values()) >= 150, c4  # every door serves its quarter of the room
    t4, t2 = float(np.max(m4.exit_times)), float(np.max(m2.exit_times))
    ratio = t2 / t4
    assert 1.6 <= ratio <= 2.4, f"seed {seed}: T(2 doors) = {t2:.1f} s, T(4 doors) = {t4:.1f} s, ratio {ratio:.3f}"


# --------------------------------------------------------------------------------------- R12
R12_N = 150
R12_CORRIDOR_END_X = 15.0
R12_ROOM1 = (0.0, 0.0)  # lower-left corners of the rooms
R12_ROOM2 = (15.0, 0.0)
CELL = 2.0  # density cell side (m)


def r12_geometry() -> LevelRaster:
    ex = box(25.0 + WALL, 4.5, 25.0 + WALL + EXIT_DEPTH, 5.5)
    walk = [box(0, 0, 10, 10), box(10, 4.5, 15, 5.5), box(15, 0, 25, 10), box(25, 4.5, 25 + WALL, 5.5), ex]
    return rasterize_polygons(walk, exits=ex, cell_size_m=H)


def room_cell_counts(x: np.ndarray, y: np.ndarray, corner: tuple[float, float]) -> np.ndarray:
    """Persons per 2 x 2 m cell of the 10 x 10 m room with lower-left ``corner``, [5, 5] (x, y)."""
    edges = np.arange(0.0, 10.0 + 1e-9, CELL)
    h, _, _ = np.histogram2d(x - corner[0], y - corner[1], bins=[edges, edges])
    return h


@functools.cache
def r12_run(seed: int) -> dict[str, object]:
    m = CrowdModel(r12_geometry(), rng=seed)
    p = scatter(10.0, 10.0, R12_N, seed)
    m.add_agents(p[:, 0], p[:, 1], v0=adult_speeds(R12_N, seed))
    t_corr = np.full(R12_N, np.nan)
    room2_max = 0.0
    room2_speed_ratio = np.inf
    queue: list[tuple[float, float]] = []  # (t, density in front of the corridor)
    while m.remaining and m.t < 900.0:
        xb = m.x.copy()
        m.step()
        new = np.isnan(t_corr) & (xb < R12_CORRIDOR_END_X) & (m.x >= R12_CORRIDOR_END_X)
        t_corr[new] = m.t
        w = m.state == 1
        c1 = room_cell_counts(m.x[w], m.y[w], R12_ROOM1)
        queue.append((m.t, c1[4, 2] / CELL**2))  # cell [8, 10] x [4, 6]
        room2_max = max(room2_max, float(room_cell_counts(m.x[w], m.y[w], R12_ROOM2).max()) / CELL**2)
        k = w & (m.x >= 15.0) & (m.x <= 25.0)
        if k.any():
            room2_speed_ratio = min(room2_speed_ratio, float(m.speed[k].mean() / m.v0[k].mean()))
    q = np.array(queue)
    t_half = float(np.sort(t_corr)[R12_N // 2 - 1]) if np.isfinite(t_corr).all() else m.t
    sel = (q[:, 0] >= 20.0) & (q[:, 0] <= t_half)
    return {"model": m, "t_corr": t_corr, "room2_max": room2_max, "room2_speed_ratio": room2_speed_ratio,
            "queue_mean": float(q[sel, 1].mean()) if sel.any() else 0.0}


R12_SEEDS = [0, 1, 2, 3, 4]


@pytest.mark.parametrize("seed", R12_SEEDS)
def test_r12_everybody_passes_the_corridor_and_leaves(seed: int) -> None:
    res = r12_run(seed)
    m = res["model"]
    assert isinstance(m, CrowdModel)
    assert m.remaining == 0, f"seed {seed}: {m.remaining} persons stuck at t = {m.t:.1f} s"
    t_corr = res["t_corr"]
    assert np.isfinite(t_corr).all()
    # everybody passed the corridor's end before leaving through the final exit
    assert (t_corr < m.exit_times).all()


@pytest.mark.parametrize("seed", R12_SEEDS)
def test_r12_exit_flow_not_above_corridor_flow(seed: int) -> None:
    res = r12_run(seed)
    m = res["model"]
    assert isinstance(m, CrowdModel) and m.remaining == 0
    j_corr = line_flow(res["t_corr"])  # type: ignore[arg-type]
    j_exit = line_flow(m.exit_times)
    assert j_exit - j_corr <= 0.05, f"seed {seed}: J_exit = {j_exit:.3f} p/s, J_corridor = {j_corr:.3f} p/s"


@pytest.mark.parametrize("seed", R12_SEEDS)
def test_r12_congestion_only_in_room_1(seed: int) -> None:
    res = r12_run(seed)
    d2, v2, q1 = res["room2_max"], res["room2_speed_ratio"], res["queue_mean"]
    assert d2 <= 1.08, f"seed {seed}: room 2 reached {d2:.2f} p/m² in a 2 x 2 m cell (Fruin LoS E)"
    assert v2 >= 0.7, f"seed {seed}: mean speed in room 2 fell to {v2:.2f} v0"
    assert q1 >= 2.0, f"seed {seed}: only {q1:.2f} p/m² in front of the corridor (no queue in room 1)"
