"""Network-flow evacuation: the SFPE hydraulic model on the site's navigation graph.

A fast, coarse evacuation estimate of the kind planners use for a first RSET (Pathfinder's
"SFPE mode", EVACNET). People are counts, not individuals: households enter their dwelling's
node after the alarm plus their pre-movement time, then flow from node to node along the
quickest route to the nearest target (assembly point or gate). Each move along an edge takes
the edge's travel time at the model's speed, and leaves its node at most at the edge's
capacity, so queues form where the capacity drops (stair entries, exit doors) and flows merge
where floors join a stair (in proportion to what arrives, as the hydraulic model assumes).

Source: Gwynne, S.M.V. & Rosenbaum, E.R., "Employing the Hydraulic Model in Assessing Emergency
Movement", SFPE Handbook of Fire Protection Engineering, 5th ed. (2016), ch. 59 (after Nelson &
Mowrer and Fruin 1971):

* speed S = k (1 - 0.266 D) for D >= 0.55 p/m², and 0.85 k below; we route at the free speed
  0.85 k with k = 1.40 for corridors, doors and outdoor ways (1.19 m/s) and k = 1.08 for stairs
  with 7 in risers and 10 in treads (0.92 m/s along the slope; the navigation graph's stairs are
  0.175 m / 0.26 m);
* maximum specific flow Fsm = 1.3 p/(s m) for corridors, doors and ways, 1.01 p/(s m) for
  those stairs;
* effective width = clear width minus the boundary layers: 0.15 m per side for stairs and
  doors, 0.20 m for corridors. Outdoor ways get none (a deviation: SFPE's 0.46 m is for
  concourses between walls, while estate paths are bordered by kerbs, lawns and paving that a
  crowd spills onto), so a way passes Fsm x its width.

Simplifications: ascent (from basements) uses the descent speed; queues have no storage limit;
no counter-flow; edge travel times are rounded to whole ticks (at least one), so very short edges
(door thresholds, connectors) cost a full tick — at dt = 1 s about 3 s per dwelling's route in
the sample estate, less with a smaller ``dt_s``; households start at the first tick at or after
their start time. The microscopic crowd model (agents, issue 3) supersedes it where detail
matters; this model stays as the quick estimate and cross-check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from agents import _flow_kernel
from agents.population import HouseholdPopulation
from twin.events import (
    AgentsArrived,
    AgentsEvacuated,
    AlarmRaised,
    Bottleneck,
    Event,
    PopulationPlaced,
    RouteBlocked,
    RouteReopened,
    RunFinished,
)

if TYPE_CHECKING:
    import pandas as pd

    from twin.core import Twin

__all__ = ["FlowEvacuation", "FlowParameters", "RouteTargetError"]


class RouteTargetError(ValueError):
    """An inject names something the navigation graph does not have."""


@dataclass(frozen=True)
class FlowParameters:
    """SFPE hydraulic-model constants (see the module docstring for the source)."""

    level_speed_m_s: float = 0.85 * 1.40
    stair_speed_m_s: float = 0.85 * 1.08
    level_fsm: float = 1.3
    stair_fsm: float = 1.01
    boundary_stair_m: float = 0.15
    boundary_door_m: float = 0.15
    boundary_corridor_m: float = 0.20
    boundary_way_m: float = 0.0

    def speed(self, kind: str) -> float:
        return self.stair_speed_m_s if kind == "stair" else self.level_speed_m_s

    def capacity(self, kind: str, width_m: float) -> float:
        """Flow capacity (persons/s) of an edge of ``kind`` and clear width ``width_m``."""
        if kind == "stair":
            fsm, bl = self.stair_fsm, self.boundary_stair_m
        elif kind == "door":
            fsm, bl = self.level_fsm, self.boundary_door_m
        elif kind in ("corridor", "garage"):
            fsm, bl = self.level_fsm, self.boundary_corridor_m
        else:
            fsm, bl = self.level_fsm, self.boundary_way_m
        effective = max(width_m - 2.0 * bl, 0.3)
        return fsm * effective


_INSIDE_KINDS = ("unit", "corridor", "landing", "garage")


class FlowEvacuation:
    """The network-flow evacuation as a twin component.

    Households start ``premovement_s`` after an :class:`AlarmRaised` that covers their building
    (``building=None`` or ``level='estate'`` covers all). :class:`RouteBlocked` /
    :class:`RouteReopened` for a stair id, or any node id (exit, gate, landing, junction), close
    or reopen it; everyone re-routes at once. Publishes :class:`PopulationPlaced` at the first
    step, :class:`AgentsEvacuated` as people leave each building, :class:`AgentsArrived` as they
    reach targets and :class:`Bottleneck` for the worst queues at the end."""

    name = "evacuation"

    def __init__(
        self,
        graph: nx.Graph,
        population: HouseholdPopulation,
        *,
        targets: list[str],
        params: FlowParameters = FlowParameters(),
        stop_when_done: bool = True,
        bottlenecks_reported: int = 10,
    ) -> None:
        missing = [t for t in targets if t not in graph]
        if not targets or missing:
            raise RouteTargetError(f"evacuation targets not in the navigation graph: {missing or 'none given'}")
        unknown_units = [u for u in population.unit_ids if u not in graph]
        if unknown_units:
            raise RouteTargetError(f"{len(unknown_units)} dwelling units are not in the navigation graph, e.g. {unknown_units[:3]}")
        self.graph = graph
        self.population = population
        self.targets = list(targets)
        self.params = params
        self.stop_when_done = stop_when_done
        self.bottlenecks_reported = bottlenecks_reported
        self.blocked: set[str] = set()
        self._twin: Twin | None = None
        self._compile()

    # ------------------------------------------------------------------ set-up
    def _compile(self) -> None:
        g = self.graph
        self.node_ids: list[str] = list(g.nodes)
        self.index = {n: i for i, n in enumerate(self.node_ids)}
        n = len(self.node_ids)
        kinds = [g.nodes[v].get("kind", "") for v in self.node_ids]
        self.node_kind = np.array(kinds, dtype=object)
        self.node_building = [g.nodes[v].get("building") for v in self.node_ids]
        self.buildings = sorted({b for b in self.population.buildings})
        self._bidx = {b: i for i, b in enumerate(self.buildings)}
        # exits whose outflow counts as "out of building b"
        self.exit_nodes = np.array(
            [i for i, k in enumerate(kinds) if k == "exit" and self.node_building[i] in self._bidx], dtype=np.int64
        )
        self.exit_building = np.array([self._bidx[self.node_building[i]] for i in self.exit_nodes], dtype=np.int64)
        self.is_target = np.zeros(n, dtype=np.bool_)
        for t in self.targets:
            self.is_target[self.index[t]] = True
        # directed arcs: both ways, except from an exit into its building (no through-routing)
        rows, cols, tt, cp, eds = [], [], [], [], []
        for u, v, data in g.edges(data=True):
            for a, b in ((u, v), (v, u)):
                ia, ib = self.index[a], self.index[b]
                if kinds[ia] == "exit" and kinds[ib] in _INSIDE_KINDS:
                    continue
                kind = data.get("kind", "path")
                length = float(data.get("length_m", 1.0))
                width = float(data.get("width_m", 1.0))
                rows.append(ia)
                cols.append(ib)
                tt.append(max(length / self.params.speed(kind), 1e-3))
                cp.append(self.params.capacity(kind, width))
                eds.append((a, b))
        self.arc_from = np.array(rows, dtype=np.int64)
        self.arc_to = np.array(cols, dtype=np.int64)
        self.arc_time = np.array(tt, dtype=np.float64)
        self.arc_cap = np.array(cp, dtype=np.float64)
        self.arc_kind = [g.edges[e].get("kind", "path") for e in eds]
        self.arc_key = {(int(a), int(b)): k for k, (a, b) in enumerate(zip(rows, cols))}
        self.n_nodes = n

    def _stair_landings(self, stair_id: str) -> list[int]:
        prefix = stair_id + "-L"
        return [i for i, v in enumerate(self.node_ids) if v.startswith(prefix) and self.node_kind[i] == "landing"]

    def check_target(self, target: str) -> None:
        """Raise :class:`RouteTargetError` unless ``target`` is a stair id or a node id."""
        if target not in self.index and not self._stair_landings(target):
            raise RouteTargetError(
                f"'{target}' is neither a stair nor a node (exit, gate, landing, junction) of the navigation graph"
            )

    def _arc_open(self) -> np.ndarray:
        open_ = np.ones(self.arc_from.shape[0], dtype=np.bool_)
        for target in self.blocked:
            landings = self._stair_landings(target)
            if landings:
                ls = np.array(landings)
                stair = np.array([k == "stair" for k in self.arc_kind])
                open_ &= ~(stair & np.isin(self.arc_from, ls) & np.isin(self.arc_to, ls))
            elif target in self.index:
                open_ &= self.arc_to != self.index[target]
        return open_

    def _route(self) -> None:
        """Next hop and its capacity and travel time for every node (quickest route)."""
        open_ = self._arc_open()
        a = csr_matrix(
            (self.arc_time[open_], (self.arc_to[open_], self.arc_from[open_])), shape=(self.n_nodes, self.n_nodes)
        )
        targets = np.flatnonzero(self.is_target)
        dist, pred, _ = dijkstra(a, directed=True, indices=targets, min_only=True, return_predecessors=True)
        self.route_time_s = dist
        nxt = np.where(pred < 0, -1, pred).astype(np.int64)
        nxt[self.is_target] = -1
        cap = np.zeros(self.n_nodes)
        steps = np.ones(self.n_nodes, dtype=np.int64)
        for i in np.flatnonzero(nxt >= 0):
            k = self.arc_key[(int(i), int(nxt[i]))]
            cap[i] = self.arc_cap[k]
            steps[i] = max(1, int(round(self.arc_time[k] / self._dt)))
        if steps.max() >= self.ring.shape[1]:
            raise RuntimeError("internal: delay line shorter than the slowest edge")
        self.nxt, self.cap, self.steps = nxt, cap, steps

    def attach(self, twin: "Twin") -> None:
        self._twin = twin
        self._dt = float(twin.dt)
        n = self.n_nodes
        slots = int(math.ceil(self.arc_time.max() / self._dt)) + 2 if self.arc_time.size else 2
        self.queue = np.zeros(n)
        self.ring = np.zeros((n, slots))
        self.arrived = np.zeros(n)
        self.outflow = np.zeros(n)
        self.max_queue = np.zeros(n)
        self.wait_ps = np.zeros(n)
        for name in ("queue", "arrived", "outflow", "max_queue", "wait_ps"):
            twin.state.add(f"evacuation.{name}", getattr(self, name))
        self._pending = (np.zeros(0), np.zeros(0, dtype=np.int64), np.zeros(0))
        self._ptr = 0
        self._alarmed = np.zeros(len(self.population.unit_ids), dtype=np.bool_)
        self._unit_node = np.array([self.index[u] for u in self.population.unit_ids], dtype=np.int64)
        self._unit_bidx = np.array([self._bidx[b] for b in self.population.buildings], dtype=np.int64)
        self._b_out_reported = np.zeros(len(self.buildings), dtype=np.int64)
        self._arr_reported = np.zeros(n, dtype=np.int64)
        self._placed = False
        self._k = 0
        self._route()

    # ------------------------------------------------------------------ events
    def on_event(self, event: Event) -> None:
        if isinstance(event, AlarmRaised):
            self._alarm(event)
        elif isinstance(event, RouteBlocked):
            self.check_target(event.target)
            self.blocked.add(event.target)
            self._route()
        elif isinstance(event, RouteReopened):
            self.check_target(event.target)
            self.blocked.discard(event.target)
            self._route()
        elif isinstance(event, RunFinished):
            self._report_bottlenecks(event.t)

    def _alarm(self, event: AlarmRaised) -> None:
        if event.level == "estate" or not event.building:
            hit = ~self._alarmed
        elif event.level == "unit":
            hit = (~self._alarmed) & (np.asarray(self.population.unit_ids) == event.subject)
        else:
            b = self._bidx.get(event.building)
            if b is None:
                return
            hit = (~self._alarmed) & (self._unit_bidx == b)
        if not hit.any():
            return
        self._alarmed |= hit
        occ = self.population.occupants[hit]
        start = event.t + self.population.premovement_s[hit]
        node = self._unit_node[hit]
        s0, n0, c0 = self._pending
        s = np.concatenate([s0[self._ptr:], start])
        nd = np.concatenate([n0[self._ptr:], node])
        c = np.concatenate([c0[self._ptr:], occ.astype(np.float64)])
        order = np.argsort(s, kind="stable")
        self._pending = (s[order], nd[order], c[order])
        self._ptr = 0

    # ------------------------------------------------------------------ stepping
    def step(self, t: float, dt: float) -> None:
        twin = self._twin
        assert twin is not None
        if not self._placed:
            for b, count in sorted(self.population.per_building().items()):
                twin.bus.publish(PopulationPlaced(t=t, subject=b, building=b, count=count))
            self._placed = True
        s, nd, c = self._pending
        self._ptr = _flow_kernel.release(s, nd, c, self._ptr, t, self.queue)
        _flow_kernel.step(self._k, dt, self.queue, self.ring, self.nxt, self.cap, self.steps, self.is_target,
                          self.arrived, self.outflow, self.max_queue, self.wait_ps)
        self._k += 1
        # The kernel moves people between nodes at the step's start time: what it discharged in
        # step k arrives steps * dt later, and what targets absorbed in step k arrived at t. So
        # both progress events carry t (stamping t + dt would add one tick to every RSET).
        t_ev = t
        out_b = np.bincount(self.exit_building, weights=self.outflow[self.exit_nodes], minlength=len(self.buildings))
        out_i = np.floor(out_b + 1e-6).astype(np.int64)
        for b in np.flatnonzero(out_i > self._b_out_reported):
            bid = self.buildings[b]
            twin.bus.publish(AgentsEvacuated(t=t_ev, subject=bid, building=bid,
                                             count=int(out_i[b] - self._b_out_reported[b]), total=int(out_i[b])))
        self._b_out_reported = np.maximum(out_i, self._b_out_reported)
        arr_i = np.floor(self.arrived + 1e-6).astype(np.int64)
        for i in np.flatnonzero(arr_i > self._arr_reported):
            tid = self.node_ids[i]
            twin.bus.publish(AgentsArrived(t=t_ev, subject=tid, target=tid,
                                           count=int(arr_i[i] - self._arr_reported[i]), total=int(arr_i[i])))
        self._arr_reported = np.maximum(arr_i, self._arr_reported)
        if self.stop_when_done and self._alarmed.all() and self._ptr >= len(s):
            if self.arrived.sum() >= self.population.total - 1e-6:
                twin.stop()

    def _report_bottlenecks(self, t: float) -> None:
        assert self._twin is not None
        order = np.argsort(-self.wait_ps, kind="stable")
        for i in order[: self.bottlenecks_reported]:
            if self.max_queue[i] < 1.0:  # less than a person: fluid spreading, not a queue
                continue
            node = self.node_ids[i]
            self._twin.bus.publish(Bottleneck(
                t=t, subject=node, node=node, building=self.node_building[i] or "",
                kind=str(self.node_kind[i]), max_queue=float(round(self.max_queue[i], 3)),
                wait_person_s=float(round(self.wait_ps[i], 3)), passed=float(round(self.outflow[i], 3)),
            ))

    # ------------------------------------------------------------------ snapshot
    def get_state(self) -> dict[str, Any]:
        return {
            "ring": self.ring.copy(), "pending": tuple(x.copy() for x in self._pending), "ptr": self._ptr,
            "alarmed": self._alarmed.copy(), "blocked": set(self.blocked), "k": self._k, "placed": self._placed,
            "b_out": self._b_out_reported.copy(), "arr": self._arr_reported.copy(),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.ring[...] = state["ring"]
        self._pending = tuple(x.copy() for x in state["pending"])  # type: ignore[assignment]
        self._ptr = state["ptr"]
        self._alarmed[...] = state["alarmed"]
        self.blocked = set(state["blocked"])
        self._k = state["k"]
        self._placed = state["placed"]
        self._b_out_reported[...] = state["b_out"]
        self._arr_reported[...] = state["arr"]
        self._route()

    def node_table(self) -> "pd.DataFrame":
        """One row per graph node in state-array order (id, kind, building, level, x, y, z), so
        the ``evacuation.*`` arrays in ``fields/`` can be read by node."""
        import pandas as pd

        g = self.graph
        rows = [{"node": v, "kind": str(self.node_kind[i]), "building": self.node_building[i] or "",
                 "level": int(g.nodes[v].get("level", 0) or 0), "x": float(g.nodes[v].get("x", np.nan)),
                 "y": float(g.nodes[v].get("y", np.nan)), "z": float(g.nodes[v].get("z", np.nan))}
                for i, v in enumerate(self.node_ids)]
        return pd.DataFrame(rows)

    def remaining(self) -> float:
        """People not yet at a target (persons, including those not yet alarmed)."""
        return float(self.population.total - self.arrived.sum())
