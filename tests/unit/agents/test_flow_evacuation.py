"""The network-flow component's own contract: bad set-up, reopening, unknown inject targets."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "validation"))
from test_flow_sfpe import _stair_building  # noqa: E402  (the hand-checked test building)

from agents.flow_evacuation import FlowEvacuation, RouteTargetError
from agents.population import HouseholdPopulation
from twin.core import Twin
from twin.events import AlarmRaised, RouteBlocked, RouteReopened


def _pop(units: list[str], n: int = 5) -> HouseholdPopulation:
    return HouseholdPopulation(unit_ids=tuple(units), buildings=("B1",) * len(units),
                               occupants=np.full(len(units), n, dtype=np.int64), premovement_s=np.zeros(len(units)))


def test_targets_and_units_must_be_in_the_graph() -> None:
    g = _stair_building()
    with pytest.raises(RouteTargetError, match="targets not in the navigation graph"):
        FlowEvacuation(g, _pop(["B1-L00-U01"]), targets=["NOWHERE"])
    with pytest.raises(RouteTargetError, match="dwelling units are not in the navigation graph"):
        FlowEvacuation(g, _pop(["B1-L09-U01"]), targets=["A"])


def test_reopened_stair_lets_the_trapped_out() -> None:
    g = _stair_building()
    units = [n for n, d in g.nodes(data=True) if d["kind"] == "unit"]
    twin = Twin(None, dt=0.5, seed=0, snapshot_every_s=None)
    comp = twin.add(FlowEvacuation(g, _pop(units), targets=["A"]))
    twin.schedule(RouteBlocked(t=0.0, target="B1-S1"), at=0.0)
    twin.schedule(AlarmRaised(t=0.0, level="estate"), at=0.0)
    twin.run(until=300)
    assert comp.remaining() == pytest.approx(25.0)  # only level 0 got out
    twin.schedule(RouteReopened(t=300.0, target="B1-S1"), at=300.0)
    twin.run(until=900)
    assert comp.remaining() == pytest.approx(0.0)


def test_unknown_inject_target_is_refused() -> None:
    g = _stair_building()
    units = [n for n, d in g.nodes(data=True) if d["kind"] == "unit"]
    twin = Twin(None, dt=1.0, seed=0, snapshot_every_s=None)
    twin.add(FlowEvacuation(g, _pop(units), targets=["A"]))
    twin.schedule(RouteBlocked(t=5.0, target="B1-S7"), at=5.0)
    with pytest.raises(RouteTargetError, match="'B1-S7' is neither a stair nor a node"):
        twin.run(until=10)

