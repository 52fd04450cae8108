"""The network-flow evacuation against SFPE hydraulic-model hand calculations.

Reference: Gwynne & Rosenbaum, SFPE Handbook 5th ed. (2016), ch. 59: once a queue has formed
at the controlling component, people pass it at Fs,max x effective width; the time to clear is
the first person's travel time plus N / capacity. The worked numbers below are that arithmetic.
"""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from agents.flow_evacuation import FlowEvacuation, FlowParameters
from agents.population import HouseholdPopulation
from scenarios.metrics import compute_metrics
from twin.core import Twin
from twin.events import AlarmRaised, RouteBlocked


def _stair_building(storeys: int = 6, stair_width: float = 1.2, exit_width: float = 1.2) -> nx.Graph:
    g = nx.Graph()
    g.add_node("A", kind="assembly", building=None)
    g.add_node("B1-E1", kind="exit", building="B1")
    g.add_edge("B1-E1", "A", kind="path", length_m=11.9, width_m=6.0)  # 10 s at 1.19 m/s
    prev = None
    for lv in range(storeys):
        land = f"B1-S1-L{lv:02d}"
        g.add_node(land, kind="landing", building="B1", level=lv)
        if prev is not None:
            g.add_edge(prev, land, kind="stair", length_m=9.18, width_m=stair_width)  # 10 s at 0.918 m/s
        prev = land
        unit = f"B1-L{lv:02d}-U01"
        g.add_node(unit, kind="unit", building="B1", level=lv)
        g.add_edge(unit, land, kind="door", length_m=1.19, width_m=2.0)
    g.add_edge("B1-S1-L00", "B1-E1", kind="door", length_m=1.19, width_m=exit_width)
    return g


def _run(graph: nx.Graph, occupants: list[int], *, dt: float = 0.1, until: float = 2000.0,
         blocked_at: float | None = None, blocked: str = "") -> dict:
    units = [n for n, d in graph.nodes(data=True) if d["kind"] == "unit"]
    pop = HouseholdPopulation(unit_ids=tuple(units), buildings=tuple(graph.nodes[u]["building"] for u in units),
                              occupants=np.array(occupants, dtype=np.int64),
                              premovement_s=np.zeros(len(units)))
    twin = Twin(None, dt=dt, seed=1, snapshot_every_s=None)
    twin.add(FlowEvacuation(graph, pop, targets=["A"]))
    twin.schedule(AlarmRaised(t=0.0, level="estate"), at=0.0)
    if blocked_at is not None:
        twin.schedule(RouteBlocked(t=blocked_at, target=blocked), at=blocked_at)
    twin.run(until=until)
    return compute_metrics(twin.recorder.events_frame())


def test_single_person_walks_the_free_speed_route() -> None:
    # one person on level 5: door 1 s + 5 flights x 10 s + exit door 1 s + path 10 s = 62 s; as
    # in any hydraulic (fluid) model the person passes the narrowest component at its capacity,
    # so the last fraction of them arrives 1 / (Fsm x We) = 1.1 s later
    m = _run(_stair_building(), [0, 0, 0, 0, 0, 1])
    spread = 1.0 / FlowParameters().capacity("stair", 1.2)
    assert m["estate"]["rset_100_s"] == pytest.approx(62.0 + spread, abs=0.25)


def test_queue_clears_at_the_stair_capacity() -> None:
    # 150 people on the top floor; the stair (Fsm 1.01 p/s/m x (1.2 - 0.3) m = 0.909 p/s) controls
    p = FlowParameters()
    cap = p.capacity("stair", 1.2)
    assert cap == pytest.approx(1.01 * 0.9)
    n = 150
    m = _run(_stair_building(), [0, 0, 0, 0, 0, n])
    # the unit door (1.3 x 1.7 = 2.21 p/s) feeds the stair faster than it drains, so the last
    # person leaves the landing at 1 s + n / cap and then walks 5 flights + door + path
    expected = 1.0 + n / cap + 50.0 + 1.0 + 10.0
    assert m["estate"]["rset_100_s"] == pytest.approx(expected, rel=0.02)


def test_exit_door_controls_when_narrower_than_the_stair() -> None:
    # 0.8 m exit: 1.3 x 0.5 = 0.65 p/s < stair 0.909 p/s -> the exit controls
    n = 100
    m = _run(_stair_building(exit_width=0.8), [0, 0, 0, 0, 0, n])
    cap = FlowParameters().capacity("door", 0.8)
    first = 1.0 + 50.0 + 1.0
    expected = first + n / cap + 10.0
    assert m["estate"]["rset_100_s"] == pytest.approx(expected, rel=0.03)
    # queues in the flat (door 2.21 p/s), at the stair entry (0.91 p/s) and at the exit door (0.65 p/s)
    assert {b["node"] for b in m["bottlenecks"]} == {"B1-L05-U01", "B1-S1-L05", "B1-S1-L00"}


def test_floors_merge_and_everyone_arrives() -> None:
    occ = [20, 20, 20, 20, 20, 20]
    m = _run(_stair_building(), occ)
    assert m["estate"]["arrived"] == sum(occ)
    assert m["buildings"]["B1"]["evacuated"] == sum(occ)
    cap = FlowParameters().capacity("stair", 1.2)
    # a lower bound: everyone above level 0 must pass the lowest flight at the stair capacity
    assert m["buildings"]["B1"]["rset_100_s"] >= 100 / cap


def test_blocking_the_only_stair_traps_the_upper_floors() -> None:
    m = _run(_stair_building(), [5, 5, 5, 5, 5, 5], blocked_at=0.0, blocked="B1-S1", until=600)
    assert m["estate"]["arrived"] == 5
    assert m["estate"]["not_evacuated"] == 25
    assert m["estate"]["rset_100_s"] is None


def test_second_stair_takes_over_when_first_is_blocked() -> None:
    g = _stair_building()
    # add a second stair (S2) connected at every level by a corridor
    prev = None
    for lv in range(6):
        land = f"B1-S2-L{lv:02d}"
        g.add_node(land, kind="landing", building="B1", level=lv)
        g.add_edge(land, f"B1-S1-L{lv:02d}", kind="corridor", length_m=20.0, width_m=1.5)
        if prev is not None:
            g.add_edge(prev, land, kind="stair", length_m=9.18, width_m=1.2)
        prev = land
    g.add_node("B1-E2", kind="exit", building="B1")
    g.add_edge("B1-S2-L00", "B1-E2", kind="door", length_m=1.19, width_m=1.2)
    g.add_edge("B1-E2", "A", kind="path", length_m=30.0, width_m=6.0)
    base = _run(g, [0, 0, 0, 0, 0, 60])
    blocked = _run(g, [0, 0, 0, 0, 0, 60], blocked_at=0.0, blocked="B1-S1")
    assert blocked["estate"]["arrived"] == 60
    # detour: 20 m corridor (16.8 s) and the longer path (30 m instead of 11.9 m)
    assert blocked["estate"]["rset_100_s"] > base["estate"]["rset_100_s"] + 20.0
    assert math.isfinite(blocked["estate"]["rset_100_s"])


@pytest.mark.parametrize("dt", [0.1, 1.0])
def test_times_do_not_gain_a_tick(dt: float) -> None:
    # the hand calculations hold at the scenarios' 1 s tick too: arrivals are stamped with the
    # time they reach the target, not the end of the tick in which the kernel counted them
    p = FlowParameters()
    single = _run(_stair_building(), [0, 0, 0, 0, 0, 1], dt=dt)
    assert single["estate"]["rset_100_s"] == pytest.approx(62.0 + 1.0 / p.capacity("stair", 1.2), abs=0.5 * dt + 0.05)
    n = 150
    queued = _run(_stair_building(), [0, 0, 0, 0, 0, n], dt=dt)
    assert queued["estate"]["rset_100_s"] == pytest.approx(1.0 + n / p.capacity("stair", 1.2) + 61.0, abs=0.5 * dt + 0.05)
