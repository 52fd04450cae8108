"""Unit tests of agents.crowd (CFS crowd model facade, kernel invariants, twin component)."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import box

from agents import _crowd_kernel as K
from agents.crowd import CrowdComponent, CrowdModel, CrowdParameters
from geometry.raster import rasterize_polygons
from twin.core import Twin
from twin.events import AgentsArrived, RouteBlocked, RouteReopened


def corridor(length: float = 10.0):
    ex = box(length, 0, length + 0.5, 2)
    return rasterize_polygons([box(0, 0, length, 2), ex], exits=ex, cell_size_m=0.1)


def two_exit_room():
    walk = [box(0, 0, 8, 5), box(-0.7, 2, 0, 3), box(8, 2, 8.7, 3)]
    e1, e2 = box(-0.7, 2, -0.2, 3), box(8.2, 2, 8.7, 3)
    return rasterize_polygons(walk, exits=[e1, e2], cell_size_m=0.1), e1, e2


def test_add_agents_rejects_wall_positions_naming_the_agent() -> None:
    m = CrowdModel(corridor(), rng=0)
    m.add_agents([1.0, 2.0], [1.0, 1.0], v0=1.3)
    with pytest.raises(ValueError, match=r"agent 3 at \(3\.10, 4\.00\) is inside a wall or outside the walkable area"):
        m.add_agents([1.0, 3.1], [1.5, 4.0], v0=1.3)
    assert m.n == 2


def test_add_agents_rejects_positions_no_exit_can_be_reached() -> None:
    """A walled-off room beside the corridor: walkable, but no open exit is reachable."""
    r = rasterize_polygons([box(0, 0, 10, 2), box(0, 3, 4, 5)], exits=box(9.5, 0, 10, 2), cell_size_m=0.1)
    m = CrowdModel(r, rng=0)
    with pytest.raises(ValueError, match=r"agent 1 at \(2\.00, 4\.00\): no open exit can be reached"):
        m.add_agents([1.0, 2.0], [1.0, 4.0], v0=1.3)


@pytest.mark.parametrize(("kw", "field"), [({"v0": 0.0}, "v0"), ({"v0": 1.0, "radius": -0.2}, "radius"),
                                           ({"v0": 1.0, "start_s": np.nan}, "start_s")])
def test_add_agents_rejects_bad_attributes(kw: dict, field: str) -> None:
    m = CrowdModel(corridor(), rng=0)
    with pytest.raises(ValueError, match=f"agent 0: {field}"):
        m.add_agents([1.0], [1.0], **kw)


def test_bad_parameters_and_exits() -> None:
    with pytest.raises(ValueError, match="time_gap_s"):
        CrowdParameters(time_gap_s=0.0)
    with pytest.raises(ValueError, match="noise_rad"):
        CrowdParameters(noise_rad=-1.0)
    r = rasterize_polygons(box(0, 0, 5, 5), cell_size_m=0.1)
    with pytest.raises(ValueError, match="exit mask has no walkable cell"):
        CrowdModel(r)
    with pytest.raises(ValueError, match="exit 'far' covers no walkable cell"):
        CrowdModel(r, exits={"far": box(20, 20, 21, 21)})
    with pytest.raises(ValueError, match="dt"):
        CrowdModel(corridor(), dt=2.0)
    with pytest.raises(KeyError, match="unknown exit 'nope'"):
        CrowdModel(corridor()).close_exit("nope")


def test_exit_components_are_labelled() -> None:
    r, _, _ = two_exit_room()
    m = CrowdModel(r)
    assert m.exit_ids == ["exit-1", "exit-2"]


def test_free_walk_speed_and_exit_record() -> None:
    m = CrowdModel(corridor(10.0), rng=1, params=CrowdParameters(accel_time_s=0.0, noise_rad=0.0))
    m.add_agents([1.0], [1.0], v0=1.0)
    m.run(30.0)
    assert m.remaining == 0
    # 9 m at 1 m/s, exit on the first step whose end lies on the exit cell
    assert m.exit_times[0] == pytest.approx(9.0, abs=0.06)
    assert m.exit_counts() == {"exit-1": 1}
    assert m.agent_exit(0) == "exit-1"


def test_follower_keeps_time_gap() -> None:
    """A follower behind a slow leader settles at the CFS spacing with anticipation:
    v = (gap + tau_a v_leader) / T, so gap = v (T - tau_a); without anticipation gap = v T."""
    for tau_a in (0.0, 0.5):
        m = CrowdModel(corridor(60.0), rng=2,
                       params=CrowdParameters(noise_rad=0.0, a_neighbour=0.0, anticipation_s=tau_a))
        m.add_agents([3.0, 1.0], [1.0, 1.0], v0=[0.5, 1.5])
        m.run(40.0, stop_when_empty=False)
        gap = m.x[0] - m.x[1] - 0.4
        assert m.speed[1] == pytest.approx(0.5, abs=0.02)
        assert gap == pytest.approx(0.5 * (m.params.time_gap_s - tau_a), abs=0.05)


def test_closed_exit_is_never_used_and_reopens() -> None:
    r, e1, e2 = two_exit_room()
    m = CrowdModel(r, exits={"w": e1, "e": e2}, rng=0)
    m.add_agents([0.5, 7.5], [2.5, 2.5], v0=1.3)
    m.close_exit("w")
    assert not m.passable[m.exit_masks[0]].any()
    m.run(60.0)
    assert m.exit_counts() == {"w": 0, "e": 2}
    m.reopen_exit("w")
    assert m.passable[m.exit_masks[0]].all()


def test_all_exits_closed_agents_wait() -> None:
    m = CrowdModel(corridor(), rng=0)
    m.add_agents([5.0], [1.0], v0=1.3)
    m.close_exit("exit-1")
    m.run(5.0)
    assert m.remaining == 1
    assert m.state[0] == K.WALKING


def test_component_in_twin_blocks_exit_and_publishes_arrivals() -> None:
    r, e1, e2 = two_exit_room()
    m = CrowdModel(r, exits={"west": e1, "east": e2})
    rng = np.random.default_rng(4)
    xs = rng.uniform(0.5, 7.5, 20)
    ys = rng.uniform(0.5, 4.5, 20)
    order = np.argsort(xs)
    xs, ys = xs[order], ys[order]
    keep = [0]
    for k in range(1, 20):
        if all(np.hypot(xs[k] - xs[q], ys[k] - ys[q]) > 0.45 for q in keep):
            keep.append(k)
    m.add_agents(xs[keep], ys[keep], v0=1.3)
    n = m.n
    twin = Twin(None, dt=0.5, seed=1, snapshot_every_s=None)
    comp = CrowdComponent(m, stop_when_empty=True)
    twin.add(comp)
    seen: list = []
    twin.bus.subscribe(lambda e: seen.append(e) if isinstance(e, AgentsArrived) else None)
    twin.schedule(RouteBlocked(t=0.0, target="west"), at=0.0)
    twin.schedule(RouteReopened(t=0.0, target="nothing-of-mine"), at=1.0)
    twin.run(until=200.0)
    assert m.remaining == 0
    assert sum(e.count for e in seen) == n
    assert {e.target for e in seen} == {"east"}
    assert seen[-1].total == n
    assert "crowd.x" in twin.state
    with pytest.raises(RuntimeError, match="cannot be added"):
        m.add_agents([4.0], [2.0], v0=1.0)
