"""Microscopic crowd model: individual pedestrians walking to the exits of one level raster.

Model: the collision-free speed model (CFS) of Tordeux, Chraibi & Seyfried (2016),
"Collision-free speed model for pedestrian dynamics", Traffic and Granular Flow '15, 225-232
(arXiv:1512.05597), as JuPedSim's ``CollisionFreeSpeedModel`` implements it. Each agent i (a
disc of radius r_i, m) has a free speed v0_i (m/s) and

* walks in the direction e_i = normalise(e0_i + sum_j a exp((l_ij - d_ij)/D) n_ji
  + a_w exp((r_i - d_w)/D_w) n_w): its desired direction e0_i (the descent direction of the
  walking-distance field to the open exits, :mod:`geometry.distance`) bent away from neighbours
  (n_ji unit vector from j to i, l_ij = r_i + r_j) and walls (d_w distance from the centre to
  the nearest non-walkable cell, n_w pointing away from it);
* at the speed v_i = min(v0_i, max(0, s_i / T)), s_i the free spacing (centre distance minus
  l_ij) to the nearest neighbour ahead of it whose centre lies within l_ij of its path;
* by explicit Euler, x_i += v_i e_i dt (dt = 0.05 s by default).

Parameters (:class:`CrowdParameters`): neighbour repulsion a = 8, D = 0.1 m and wall repulsion
a_w = 5, D_w = 0.02 m (JuPedSim's defaults), radius 0.2 m per agent (so l = 0.4 m);
symmetry-breaking noise 0.1 rad on e0. Time gap T = 1.2 s (paper: 1 s) and a bounded
acceleration (from standstill to v0 in at least ``accel_time_s`` = 1.0 s, about 1.3 m/s²; the
exponential relaxation of Helbing & Molnar 1995 with tau = 0.5 s reaches 86 % of v0 in 1 s; the
pure first-order model restarts instantly): together they were calibrated so the IMO
MSC.1/Circ.1533 test 4 door flow (100 persons, 1 m door) lies at 1.20-1.23 p/s, below the
1.33 p/s bound; with T = 1 s and no acceleration bound the model gives 1.7-1.9 p/s there
(close to the 1.9 p/s measured at 1 m bottlenecks by Seyfried et al. 2009, but above the
design bound). Deviations from the paper (random turn of e0, priority for mutual blocks, moves
never end in a wall cell) are explained in :mod:`agents._crowd_kernel`; they keep CFS from
freezing at narrow doors (JuPedSim 1.4.2 freezes with 1,000 persons at a 1 m door).

Exits: cells of the raster's exit mask (default) or named masks/geometries. Entering an open
exit cell takes the agent out (its exit time and exit are recorded). :meth:`CrowdModel.close_exit`
turns an exit's cells into wall (nobody passes it) and recomputes the distance fields;
:meth:`CrowdModel.reopen_exit` undoes it. :class:`CrowdComponent` runs a model inside a
:class:`twin.core.Twin` (RouteBlocked / RouteReopened with exit ids; AgentsArrived per exit).

Single level only: no stairs, no transfer between levels, no behaviour beyond walking out
(later work). Units SI: m, s, m/s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from agents import _crowd_kernel as K
from geometry.distance import descent_directions, distance_field, wall_distance_field
from geometry.raster import LevelRaster
from twin.events import AgentsArrived, Event, RouteBlocked, RouteReopened

if TYPE_CHECKING:
    from twin.core import Twin

__all__ = ["CrowdComponent", "CrowdModel", "CrowdParameters"]


@dataclass(frozen=True)
class CrowdParameters:
    """CFS parameters (module docstring): ``time_gap_s`` T (s); ``a_neighbour`` (-) and
    ``d_neighbour_m`` (m) the neighbour repulsion strength and range; ``a_wall``, ``d_wall_m``
    the same for walls; ``noise_rad`` the standard deviation of the random turn of e0 per step
    (rad, 0 = none); ``priority``: resolve mutual blocks by distance to the exit (kernel docs);
    ``accel_time_s``: shortest time from standstill to v0 (s, 0 = instant, the paper's model)."""

    time_gap_s: float = 1.2
    a_neighbour: float = 8.0
    d_neighbour_m: float = 0.1
    a_wall: float = 5.0
    d_wall_m: float = 0.02
    noise_rad: float = 0.1
    priority: bool = True
    accel_time_s: float = 1.0

    def __post_init__(self) -> None:
        for name in ("time_gap_s", "d_neighbour_m", "d_wall_m"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"CrowdParameters.{name} must be a positive number, got {v!r}")
        for name in ("a_neighbour", "a_wall", "noise_rad", "accel_time_s"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"CrowdParameters.{name} must be a number >= 0, got {v!r}")


class CrowdModel:
    """Agents on one :class:`~geometry.raster.LevelRaster` walking to its exits (module
    docstring). ``exits``: ``None`` (the raster's exit mask, one exit per 8-connected component,
    ids ``exit-1``, ``exit-2`` ... in label order), a bool mask (the same labelling), or a
    mapping exit id -> bool mask or shapely geometry. ``rng``: a numpy Generator or seed."""

    def __init__(
        self,
        raster: LevelRaster,
        *,
        exits: np.ndarray | Mapping[str, np.ndarray | BaseGeometry] | None = None,
        dt: float = 0.05,
        params: CrowdParameters = CrowdParameters(),
        rng: np.random.Generator | int | None = 0,
    ) -> None:
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and 0 < dt <= 0.5):
            raise ValueError(f"CrowdModel: dt must be a number of seconds in (0, 0.5], got {dt!r}")
        self.raster = raster
        self.dt = float(dt)
        self.params = params
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self.exit_ids, self.exit_masks = self._exits(raster, exits)
        self.closed: set[str] = set()
        self.t = 0.0
        n = 0
        self.x = np.zeros(n)
        self.y = np.zeros(n)
        self.ex = np.zeros(n)
        self.ey = np.zeros(n)
        self.speed = np.zeros(n)
        self.radius = np.zeros(n)
        self.v0 = np.zeros(n)
        self.start_s = np.zeros(n)
        self.state = np.zeros(n, dtype=np.int64)
        self.t_out = np.zeros(n)
        self.exit_used = np.zeros(n, dtype=np.int64)
        self._frozen = False
        self._update_fields()

    # ------------------------------------------------------------------ geometry
    @staticmethod
    def _exits(raster: LevelRaster, exits: Any) -> tuple[list[str], list[np.ndarray]]:
        walk = raster.walkable
        if exits is None or isinstance(exits, np.ndarray):
            m = raster.exits if exits is None else np.asarray(exits)
            if m is None or m.shape != walk.shape:
                raise ValueError(f"CrowdModel: exits mask must have the raster's shape {walk.shape}")
            lab, k = ndimage.label(m.astype(bool) & walk, structure=np.ones((3, 3), dtype=int))
            if k == 0:
                raise ValueError("CrowdModel: the exit mask has no walkable cell; mark the exits "
                                 "(rasterize_polygons(exits=...)) or pass exits=")
            return [f"exit-{i}" for i in range(1, k + 1)], [lab == i for i in range(1, k + 1)]
        if not isinstance(exits, Mapping) or not exits:
            raise ValueError("CrowdModel: exits must be None, a bool mask or a non-empty mapping id -> mask/geometry")
        ids, masks = [], []
        for eid, g in exits.items():
            if isinstance(g, BaseGeometry):
                mk = raster.mask_of(g)
            else:
                mk = np.asarray(g, dtype=bool)
                if mk.shape != walk.shape:
                    raise ValueError(f"CrowdModel: exit {eid!r} mask has shape {mk.shape}, expected {walk.shape}")
            mk = mk & walk
            if not mk.any():
                raise ValueError(f"CrowdModel: exit {eid!r} covers no walkable cell of the raster")
            ids.append(str(eid))
            masks.append(mk)
        return ids, masks

    def _update_fields(self) -> None:
        r = self.raster
        walk = r.walkable.copy()
        lab = np.full(walk.shape, -1, dtype=np.int64)
        open_any = np.zeros(walk.shape, dtype=bool)
        for k, (eid, mk) in enumerate(zip(self.exit_ids, self.exit_masks)):
            if eid in self.closed:
                walk &= ~mk
            else:
                lab[mk] = k
                open_any |= mk
        open_any &= walk
        self.passable = np.ascontiguousarray(walk)
        self.exit_label = lab
        pr = LevelRaster(walk, r.origin, r.cell_size_m, level=r.level)
        if open_any.any():
            self.dexit = distance_field(pr, targets=open_any)
            self.e0x, self.e0y = descent_directions(self.dexit, pr)
        else:
            self.dexit = np.full(walk.shape, np.inf)
            self.e0x = np.zeros(walk.shape)
            self.e0y = np.zeros(walk.shape)
        self.wallf = wall_distance_field(walk, r.cell_size_m)

    def exit_index(self, exit_id: str) -> int:
        try:
            return self.exit_ids.index(exit_id)
        except ValueError:
            raise KeyError(f"unknown exit {exit_id!r}; known: {', '.join(self.exit_ids)}") from None

    def close_exit(self, exit_id: str) -> None:
        """Block ``exit_id`` from now on: its cells become wall, fields are recomputed."""
        self.exit_index(exit_id)
        if exit_id not in self.closed:
            self.closed.add(exit_id)
            self._update_fields()

    def reopen_exit(self, exit_id: str) -> None:
        self.exit_index(exit_id)
        if exit_id in self.closed:
            self.closed.discard(exit_id)
            self._update_fields()

    # ------------------------------------------------------------------ agents
    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def add_agents(self, x: Any, y: Any, *, v0: Any, radius: Any = 0.2, start_s: Any = 0.0) -> np.ndarray:
        """Add agents at (x, y) (m) with free speeds ``v0`` (m/s), radii (m) and start times (s,
        end of pre-movement); scalars broadcast. Returns the new agents' indices."""
        if self._frozen:
            raise RuntimeError("CrowdModel: agents cannot be added after the model was attached to a twin")
        xs = np.atleast_1d(np.asarray(x, dtype=np.float64))
        ys = np.atleast_1d(np.asarray(y, dtype=np.float64))
        if xs.shape != ys.shape or xs.ndim != 1:
            raise ValueError(f"add_agents: x and y must be 1-D of equal length, got {xs.shape} and {ys.shape}")
        m = xs.shape[0]
        base = self.n
        v0s = np.broadcast_to(np.asarray(v0, dtype=np.float64), (m,)).copy()
        rs = np.broadcast_to(np.asarray(radius, dtype=np.float64), (m,)).copy()
        ss = np.broadcast_to(np.asarray(start_s, dtype=np.float64), (m,)).copy()
        for name, arr, lo, hi in (("v0", v0s, 0.0, 10.0), ("radius", rs, 0.05, 1.0), ("start_s", ss, 0.0, np.inf)):
            bad = np.flatnonzero(~np.isfinite(arr) | (arr < lo) | (arr > hi) | ((arr <= 0) if name != "start_s" else False))
            if bad.size:
                k = int(bad[0])
                raise ValueError(f"agent {base + k}: {name} = {arr[k]!r} must be finite and in "
                                 f"{'(0' if name != 'start_s' else '[0'}, {hi}]")
        i, j = self.raster.world_to_cell(xs, ys)
        ok = self.raster.inside(i, j)
        ok[ok] = self.passable[j[ok], i[ok]]
        if not ok.all():
            k = int(np.flatnonzero(~ok)[0])
            raise ValueError(f"agent {base + k} at ({xs[k]:.2f}, {ys[k]:.2f}) is inside a wall or outside the walkable area")
        self.x = np.concatenate([self.x, xs])
        self.y = np.concatenate([self.y, ys])
        self.ex = np.concatenate([self.ex, np.zeros(m)])
        self.ey = np.concatenate([self.ey, np.zeros(m)])
        self.speed = np.concatenate([self.speed, np.zeros(m)])
        self.radius = np.concatenate([self.radius, rs])
        self.v0 = np.concatenate([self.v0, v0s])
        self.start_s = np.concatenate([self.start_s, ss])
        self.state = np.concatenate([self.state, np.zeros(m, dtype=np.int64)])
        self.t_out = np.concatenate([self.t_out, np.full(m, np.nan)])
        self.exit_used = np.concatenate([self.exit_used, np.full(m, -1, dtype=np.int64)])
        return np.arange(base, base + m)

    # ------------------------------------------------------------------ stepping
    def _grid(self) -> tuple[float, int, int]:
        p = self.params
        rmax = float(self.radius.max()) if self.n else 0.2
        vmax = float(self.v0.max()) if self.n else 1.34
        cutoff = max(2 * rmax + 10.0 * p.d_neighbour_m, 2 * rmax + vmax * p.time_gap_s)
        x0, y0, x1, y1 = self.raster.bounds
        cs = 0.5 * cutoff
        return cutoff, max(1, int(math.ceil((x1 - x0) / cs))), max(1, int(math.ceil((y1 - y0) / cs)))

    def step(self, t: float | None = None) -> int:
        """Advance from ``t`` (default: the model's clock) by ``dt``; returns how many left."""
        if t is not None:
            self.t = float(t)
        n = self.n
        cutoff, ncx, ncy = self._grid()
        if getattr(self, "_scratch_n", -1) != n or self._scratch_cells != ncx * ncy:
            self._head = np.empty(ncx * ncy + 1, dtype=np.int64)
            self._nxt = np.empty(n, dtype=np.int64)
            self._nex = np.zeros(n)
            self._ney = np.zeros(n)
            self._prio = np.zeros(n)
            self._scratch_n, self._scratch_cells = n, ncx * ncy
        p = self.params
        noise = self.rng.standard_normal(n)
        jitter = self.rng.random(n)
        r = self.raster
        out = K.step(self.x, self.y, self.ex, self.ey, self.speed, self.radius, self.v0, self.start_s, self.state,
                     self.t_out, self.exit_used, self.t, self.dt,
                     self.e0x, self.e0y, self.dexit, self.passable, self.exit_label, self.wallf,
                     float(r.origin[0]), float(r.origin[1]), float(r.cell_size_m),
                     p.time_gap_s, p.a_neighbour, p.d_neighbour_m, p.a_wall, p.d_wall_m, cutoff,
                     p.noise_rad, noise, jitter, self._head, self._nxt, ncx, ncy, self._nex, self._ney, self._prio,
                     bool(p.priority), float(p.accel_time_s))
        self.t += self.dt
        return int(out)

    def run(self, until: float, *, stop_when_empty: bool = True) -> float:
        """Step until sim time ``until`` (s) or, with ``stop_when_empty``, until every agent is
        out; returns the model time reached."""
        while self.t < until - 1e-9:
            if stop_when_empty and self.n and not (self.state != K.OUT).any():
                break
            self.step()
        return self.t

    # ------------------------------------------------------------------ results
    @property
    def remaining(self) -> int:
        return int((self.state != K.OUT).sum())

    @property
    def exit_times(self) -> np.ndarray:
        """Time (s) each agent left (NaN while inside)."""
        return self.t_out

    def exit_counts(self) -> dict[str, int]:
        """How many agents left through each exit (id -> count)."""
        c = np.bincount(self.exit_used[self.exit_used >= 0], minlength=len(self.exit_ids))
        return {eid: int(c[k]) for k, eid in enumerate(self.exit_ids)}

    def agent_exit(self, i: int) -> str | None:
        k = int(self.exit_used[i])
        return self.exit_ids[k] if k >= 0 else None


class CrowdComponent:
    """A :class:`CrowdModel` inside a twin: steps it ``round(tick / model.dt)`` times per tick,
    closes/reopens exits on ``RouteBlocked``/``RouteReopened`` whose target is one of its exit
    ids (other targets are ignored), and publishes ``AgentsArrived(target=exit id, count,
    total)`` for every exit people left through during a tick. Agents must be added before
    ``twin.add``; positions, states and exit times are registered in ``twin.state`` as
    ``<name>.x`` etc."""

    def __init__(self, model: CrowdModel, *, name: str = "crowd", stop_when_empty: bool = False) -> None:
        self.model = model
        self.name = name
        self.stop_when_empty = stop_when_empty
        self.twin: Twin | None = None
        self._reported = np.zeros(len(model.exit_ids), dtype=np.int64)

    def attach(self, twin: Twin) -> None:
        self.twin = twin
        m = self.model
        m.rng = twin.rng(self.name)
        m._frozen = True
        for nm in ("x", "y", "speed", "state", "t_out", "exit_used"):
            twin.state.add(f"{self.name}.{nm}", getattr(m, nm))

    def step(self, t: float, dt: float) -> None:
        m = self.model
        k = max(1, int(round(dt / m.dt)))
        m.t = float(t)
        for _ in range(k):
            m.step()
        counts = np.bincount(m.exit_used[m.exit_used >= 0], minlength=len(m.exit_ids))
        assert self.twin is not None
        for e in np.flatnonzero(counts > self._reported):
            eid = m.exit_ids[e]
            self.twin.bus.publish(AgentsArrived(t=t, subject=eid, target=eid,
                                                count=int(counts[e] - self._reported[e]), total=int(counts[e])))
        self._reported = np.maximum(self._reported, counts)
        if self.stop_when_empty and m.n and m.remaining == 0:
            self.twin.stop()

    def on_event(self, event: Event) -> None:
        if isinstance(event, RouteBlocked) and event.target in self.model.exit_ids:
            self.model.close_exit(event.target)
        elif isinstance(event, RouteReopened) and event.target in self.model.exit_ids:
            self.model.reopen_exit(event.target)

    def get_state(self) -> dict[str, Any]:
        return {"closed": sorted(self.model.closed), "reported": self._reported.copy(), "t": self.model.t,
                "ex": self.model.ex.copy(), "ey": self.model.ey.copy()}

    def set_state(self, state: dict[str, Any]) -> None:
        m = self.model
        m.closed = set(state["closed"])
        m._update_fields()
        self._reported = np.asarray(state["reported"]).copy()
        m.t = float(state["t"])
        m.ex[:] = state["ex"]
        m.ey[:] = state["ey"]
