"""Crowd metrics (agents.crowd_metrics) on hand-made traces with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from agents.crowd_metrics import (
    CrowdTrace,
    bottlenecks,
    density_maps,
    door_flows,
    evacuation_curve,
    fruin_los,
    queue_time,
    rset,
)

H = 0.1  # cell size of the hand-made grids (m)


def make_trace(pos: np.ndarray, *, walkable: np.ndarray | None = None, speed: np.ndarray | None = None,
               walking: np.ndarray | None = None, t: np.ndarray | None = None, v0: float = 1.0,
               regions: dict[str, np.ndarray] | None = None, stair_mask: np.ndarray | None = None) -> CrowdTrace:
    """``pos`` [nt, n, 2] positions (NaN = not inside) on a 10 x 10 m grid of 0.1 m cells."""
    nt, n, _ = pos.shape
    walk = np.ones((100, 100), dtype=bool) if walkable is None else walkable
    return CrowdTrace(
        t=np.arange(nt, dtype=float) if t is None else t,
        x=pos[..., 0].astype(np.float32), y=pos[..., 1].astype(np.float32),
        speed=np.full((nt, n), v0, np.float32) if speed is None else speed.astype(np.float32),
        walking=np.isfinite(pos[..., 0]) if walking is None else walking,
        v0=np.full(n, v0), origin=(0.0, 0.0), cell_size_m=H, walkable=walk,
        regions=regions or {}, stair_mask=stair_mask)


def box_mask(x0: float, y0: float, x1: float, y1: float, shape: tuple[int, int] = (100, 100)) -> np.ndarray:
    j, i = np.mgrid[0:shape[0], 0:shape[1]]
    xc, yc = (i + 0.5) * H, (j + 0.5) * H
    return (xc > x0) & (xc < x1) & (yc > y0) & (yc < y1)


# ------------------------------------------------------------------ trace validation
def test_trace_bad_shapes_name_the_field() -> None:
    pos = np.full((3, 2, 2), 1.0)
    tr = make_trace(pos)
    with pytest.raises(ValueError, match=r"CrowdTrace\.x: expected a float array of shape \(nt, n\) = \(3, 2\)"):
        CrowdTrace(tr.t, tr.x[:, :1], tr.y, tr.speed, tr.walking, tr.v0, tr.origin, H, tr.walkable)
    with pytest.raises(ValueError, match=r"CrowdTrace\.speed"):
        CrowdTrace(tr.t, tr.x, tr.y, tr.speed[:2], tr.walking, tr.v0, tr.origin, H, tr.walkable)
    with pytest.raises(ValueError, match=r"CrowdTrace\.walking: expected dtype bool"):
        CrowdTrace(tr.t, tr.x, tr.y, tr.speed, tr.x, tr.v0, tr.origin, H, tr.walkable)
    with pytest.raises(ValueError, match=r"CrowdTrace\.t: sample times must be finite and strictly increasing"):
        CrowdTrace(np.array([0.0, 2.0, 1.0]), tr.x, tr.y, tr.speed, tr.walking, tr.v0, tr.origin, H, tr.walkable)
    with pytest.raises(ValueError, match=r"CrowdTrace\.v0: free speeds must be finite and > 0 m/s, agent 1"):
        CrowdTrace(tr.t, tr.x, tr.y, tr.speed, tr.walking, np.array([1.0, 0.0]), tr.origin, H, tr.walkable)
    with pytest.raises(ValueError, match=r"CrowdTrace\.regions\['door'\]: expected a bool mask"):
        CrowdTrace(tr.t, tr.x, tr.y, tr.speed, tr.walking, tr.v0, tr.origin, H, tr.walkable,
                   regions={"door": np.zeros((5, 5), dtype=bool)})
    with pytest.raises(ValueError, match=r"CrowdTrace\.stair_mask"):
        CrowdTrace(tr.t, tr.x, tr.y, tr.speed, tr.walking, tr.v0, tr.origin, H, tr.walkable,
                   stair_mask=np.zeros((100, 99), dtype=bool))
    with pytest.raises(ValueError, match=r"CrowdTrace\.cell_size_m"):
        CrowdTrace(tr.t, tr.x, tr.y, tr.speed, tr.walking, tr.v0, tr.origin, -1.0, tr.walkable)
    # several problems are reported together
    with pytest.raises(ValueError, match=r"(?s)CrowdTrace\.origin.*CrowdTrace\.walkable"):
        CrowdTrace(tr.t, tr.x, tr.y, tr.speed, tr.walking, tr.v0, (0.0,), H, np.zeros((4, 4)))


# ------------------------------------------------------------------ density
def test_four_agents_in_a_1m_bin_is_4_p_m2() -> None:
    pos = np.array([[[1.2, 1.2], [1.8, 1.2], [1.2, 1.8], [1.8, 1.8]]])
    dmax, dmean = density_maps(make_trace(pos))
    assert dmax.shape == (10, 10)
    assert dmax[1, 1] == pytest.approx(4.0)
    assert dmean[1, 1] == pytest.approx(4.0)
    assert np.nansum(dmax) == pytest.approx(4.0)
    assert np.isnan(dmean[0, 0])  # never occupied


def test_bin_half_wall_doubles_the_density() -> None:
    walk = np.ones((100, 100), dtype=bool)
    walk[:, 30:35] = False  # x in [3.0, 3.5): the west half of bin column 3 is wall
    pos = np.array([[[1.6, 1.5], [1.7, 1.5], [3.6, 1.5], [3.8, 1.5]]])
    dmax, _ = density_maps(make_trace(pos, walkable=walk))
    assert dmax[1, 1] == pytest.approx(2.0)
    assert dmax[1, 3] == pytest.approx(4.0)
    # slivers of floor (< 20 % of the bin by default) are not counted
    walk2 = np.ones((100, 100), dtype=bool)
    walk2[:, 50:59] = False
    dmax2, _ = density_maps(make_trace(np.array([[[5.95, 1.5]]]), walkable=walk2))
    assert np.isnan(dmax2[1, 5])
    dmax3, _ = density_maps(make_trace(np.array([[[5.95, 1.5]]]), walkable=walk2), min_walkable_fraction=0.05)
    assert dmax3[1, 5] == pytest.approx(10.0)


def test_density_max_and_mean_while_occupied_over_samples() -> None:
    nan = np.nan
    pos = np.array([
        [[0.5, 0.5], [0.6, 0.5], [0.7, 0.5], [0.8, 0.5]],
        [[0.5, 0.5], [0.6, 0.5], [nan, nan], [nan, nan]],
        [[5.5, 5.5], [nan, nan], [nan, nan], [nan, nan]],
    ])
    dmax, dmean = density_maps(make_trace(pos))
    assert dmax[0, 0] == pytest.approx(4.0)
    assert dmean[0, 0] == pytest.approx(3.0)  # (4 + 2) / 2, the empty third sample not counted
    assert dmax[5, 5] == pytest.approx(1.0)
    # 2 m windows: 4 agents on 4 m²
    dmax2, _ = density_maps(make_trace(pos), window_m=2.0)
    assert dmax2.shape == (5, 5)
    assert dmax2[0, 0] == pytest.approx(1.0)


def test_density_window_must_fit_the_grid() -> None:
    tr = make_trace(np.array([[[1.0, 1.0]]]))
    with pytest.raises(ValueError, match="whole multiple of the trace's cell size"):
        density_maps(tr, window_m=0.25)
    with pytest.raises(ValueError, match="window_m must be a positive number"):
        density_maps(tr, window_m=0.0)


def test_density_ignores_agents_off_the_grid() -> None:
    pos = np.array([[[-1.0, 1.0], [1.5, 12.0], [1.5, 1.5]]])
    dmax, _ = density_maps(make_trace(pos))
    assert np.nansum(dmax) == pytest.approx(1.0)


# ------------------------------------------------------------------ LoS
def test_fruin_walkway_boundaries() -> None:
    bounds = [3.24, 2.32, 1.39, 0.93, 0.46]  # m²/person, lower bounds of A..E
    for k, a in enumerate(bounds):
        assert fruin_los(1.0 / (a * 0.99)) == "ABCDEF"[k + 1]  # a little less space: next level
        assert fruin_los(1.0 / (a * 1.01)) == "ABCDEF"[k]  # a little more space: this level
    assert fruin_los(0.0) == "A"
    assert fruin_los(4.0) == "F"
    out = fruin_los(np.array([[0.2, 0.5], [1.0, np.nan]]))
    assert out.shape == (2, 2)
    assert out.tolist() == [["A", "C"], ["D", ""]]


def test_fruin_stairway_boundaries() -> None:
    bounds = [1.86, 1.39, 0.93, 0.65, 0.37]
    for k, a in enumerate(bounds):
        assert fruin_los(1.0 / (a * 0.99), stairs=True) == "ABCDEF"[k + 1]
        assert fruin_los(1.0 / (a * 1.01), stairs=True) == "ABCDEF"[k]
    # 1 p/m² is walkway D but stairway C; per-element stairs flags
    assert fruin_los(np.array([1.0, 1.0]), stairs=np.array([False, True])).tolist() == ["D", "C"]
    with pytest.raises(ValueError, match=">= 0"):
        fruin_los(-1.0)


# ------------------------------------------------------------------ queueing
def test_queue_time_of_an_agent_slowed_for_3_s() -> None:
    nt = 8
    pos = np.tile(np.array([[[2.0, 2.0], [4.0, 4.0], [6.0, 6.0]]]), (nt, 1, 1))
    speed = np.full((nt, 3), 1.0)
    speed[2:5, 0] = 0.1  # agent 0 slow at t = 2, 3, 4
    speed[:, 1] = 0.29   # agent 1 always just below 0.3 v0 ...
    walking = np.ones((nt, 3), dtype=bool)
    walking[:4, 1] = False  # ... but waits (pre-movement) until t = 4: 4 s of queueing
    speed[:, 2] = 0.31   # agent 2 just above
    q = queue_time(make_trace(pos, speed=speed, walking=walking))
    assert q.tolist() == pytest.approx([3.0, 4.0, 0.0])
    assert queue_time(make_trace(pos, speed=speed, walking=walking), slow_fraction=0.35)[2] == pytest.approx(8.0)
    with pytest.raises(ValueError, match="slow_fraction"):
        queue_time(make_trace(pos), slow_fraction=0.0)


def test_queue_time_uses_the_sampling_interval() -> None:
    t = np.array([0.0, 0.5, 1.0, 3.0, 5.0])
    pos = np.tile(np.array([[[2.0, 2.0]]]), (5, 1, 1))
    speed = np.array([[1.0], [0.0], [0.0], [0.0], [1.0]])
    # samples at 0.5, 1.0, 3.0 stand for 0.5 + 2.0 + 2.0 s
    assert queue_time(make_trace(pos, speed=speed, t=t))[0] == pytest.approx(4.5)


def test_queue_time_out_agents_do_not_queue() -> None:
    pos = np.array([[[2.0, 2.0]], [[np.nan, np.nan]]])
    speed = np.zeros((2, 1))
    walking = np.ones((2, 1), dtype=bool)
    assert queue_time(make_trace(pos, speed=speed, walking=walking))[0] == pytest.approx(1.0)


# ------------------------------------------------------------------ bottlenecks
def _queue_scene() -> CrowdTrace:
    """A 10 x 10 m level: door (1 x 0.2 m) at x 4.5-5.5, y 9.8-10; a room region over the whole
    floor; stairs 2 x 2 m in the south-west corner. Five agents queue 1 m in front of the door
    for 4 s (t 1-4), three queue on the stairs for 2 s (t 5-6), one queues in the open far from
    both for 1 s (t 7)."""
    nt, n = 10, 9
    pos = np.full((nt, n, 2), np.nan)
    speed = np.ones((nt, n))
    for a in range(5):
        pos[:, a] = [4.3 + 0.35 * a, 8.8]
        speed[1:5, a] = 0.05
    for a, p in zip((5, 6, 7), ([0.5, 1.0], [1.5, 1.0], [0.5, 0.5])):  # one per 1 m bin
        pos[:, a] = p
        speed[5:7, a] = 0.1
    pos[:, 8] = [8.0, 3.0]
    speed[7, 8] = 0.0
    regions = {"door": box_mask(4.5, 9.8, 5.5, 10.0), "stairs": box_mask(0.0, 0.0, 2.0, 2.0),
               "room": np.ones((100, 100), dtype=bool)}
    return make_trace(pos, speed=speed, regions=regions, stair_mask=regions["stairs"])


def test_bottlenecks_rank_and_attribute_queueing() -> None:
    bt = bottlenecks(_queue_scene())
    assert list(bt.columns[:7]) == ["region", "person_s_queueing", "peak_density_p_m2", "los",
                                    "peak_queue_persons", "first_t_s", "last_t_s"]
    assert bt["region"].tolist() == ["door", "stairs", "room"]
    door, stairs, room = (bt.iloc[k] for k in range(3))
    assert door.person_s_queueing == pytest.approx(20.0)
    assert door.peak_queue_persons == 5
    assert (door.first_t_s, door.last_t_s) == (1.0, 4.0)
    # five agents 0.35 m apart in one row: at most 3 in one 1 m bin
    assert door.peak_density_p_m2 == pytest.approx(3.0)
    assert door.los == "F"
    assert stairs.person_s_queueing == pytest.approx(6.0)
    assert stairs.peak_queue_persons == 3
    assert stairs.peak_density_p_m2 == pytest.approx(1.0)
    assert stairs.los == "C"  # stairway table: 1 m²/person (walkway D)
    assert room.person_s_queueing == pytest.approx(1.0)
    assert door.x_m == pytest.approx(5.0) and door.y_m == pytest.approx(9.9)
    assert len(bottlenecks(_queue_scene(), top=2)) == 2


def test_bottlenecks_without_regions_report_unnamed_places() -> None:
    tr = _queue_scene()
    bt = bottlenecks(tr, region_names=["door"])
    assert bt["region"].iloc[0] == "door"
    assert bt["person_s_queueing"].iloc[0] == pytest.approx(20.0)
    assert any(r.startswith("unnamed near (") for r in bt["region"])
    assert bt["person_s_queueing"].sum() == pytest.approx(27.0)
    with pytest.raises(KeyError, match="unknown region"):
        bottlenecks(tr, region_names=["gate"])


def test_bottlenecks_empty_when_nobody_queues() -> None:
    pos = np.full((3, 1, 2), 2.0)
    bt = bottlenecks(make_trace(pos))
    assert bt.empty and "person_s_queueing" in bt.columns


# ------------------------------------------------------------------ curves, RSET, doors
def test_evacuation_curve_counts() -> None:
    times = np.array([3.0, 1.0, np.nan, 2.0, 2.0])
    df = evacuation_curve(times, groups=np.array(["a", "b", "a", "b", "a"]))
    assert df["t"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert df["out"].tolist() == [0, 1, 3, 4]
    assert df["fraction"].tolist() == pytest.approx([0.0, 0.2, 0.6, 0.8])
    assert df["out_a"].tolist() == [0, 0, 1, 2]
    assert df["out_b"].tolist() == [0, 1, 2, 2]
    assert df.attrs == {"n": 5, "n_left": 1, "groups": {"a": 3, "b": 2}}
    with pytest.raises(ValueError, match="one label per person"):
        evacuation_curve(times, groups=np.array(["a"]))
    with pytest.raises(ValueError, match="out_times"):
        evacuation_curve(np.array([1.0, -2.0]))


def test_rset_fractions_and_nan_safety() -> None:
    r = rset(np.arange(1.0, 101.0))
    assert r["rset_95"] == 95.0 and r["rset_100"] == 100.0 and r["n_left"] == 0
    r = rset(np.array([5.0, np.nan, 1.0, 3.0]), fractions=(0.5, 0.75, 1.0))
    assert r["rset_50"] == 3.0 and r["rset_75"] == 5.0
    assert math.isinf(r["rset_100"]) and r["n_left"] == 1 and r["n_out"] == 3
    assert rset(np.array([]))["rset_100"] == 0.0
    with pytest.raises(ValueError, match="fractions"):
        rset(np.array([1.0]), fractions=(1.5,))


def test_door_flow_of_evenly_spaced_crossings() -> None:
    df = door_flows({"D1": 10.0 + 0.5 * np.arange(101), "D2": np.array([4.0, np.nan]), "D3": np.array([])},
                    {"D1": 1.2, "D2": 0.9, "D3": 1.0})
    d1 = df.set_index("door").loc["D1"]
    assert d1.persons == 101 and d1.first_s == 10.0 and d1.last_s == 60.0
    assert d1.mean_flow_p_s == pytest.approx(2.0)
    assert d1.specific_flow_p_ms == pytest.approx(2.0 / 1.2)
    assert d1.peak_10s_flow_p_s == pytest.approx(2.0)
    d2 = df.set_index("door").loc["D2"]
    assert d2.persons == 1 and math.isnan(d2.mean_flow_p_s)
    assert df.set_index("door").loc["D3"].persons == 0
    with pytest.raises(KeyError, match="no width for door 'D9'"):
        door_flows({"D9": np.array([1.0])}, {"D1": 1.0})
    with pytest.raises(ValueError, match="width of door 'D1'"):
        door_flows({"D1": np.array([1.0])}, {"D1": 0.0})


def test_door_flow_peak_window_sees_a_burst() -> None:
    # 1 p/s for 60 s, then 10 crossings in 2 s
    t = np.concatenate([np.arange(60.0), 60.0 + 0.2 * np.arange(10)])
    row = door_flows({"D": t}, {"D": 1.0}).iloc[0]
    assert row.peak_10s_flow_p_s == pytest.approx((10 + 8) / 10.0)
