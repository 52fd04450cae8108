"""Microscopic crowd model: individual pedestrians walking to the exits of a level raster or a
multi-level building atlas.

Model: the collision-free speed model (CFS) of Tordeux, Chraibi & Seyfried (2016),
"Collision-free speed model for pedestrian dynamics", Traffic and Granular Flow '15, 225-232
(arXiv:1512.05597), as JuPedSim's ``CollisionFreeSpeedModel`` implements it. Each agent i (a
disc of radius r_i, m) has a free speed v0_i (m/s) and

* walks in the direction e_i = normalise(e0_i + sum_j a exp((l_ij - d_ij)/D) n_ji
  + a_w exp((r_i - d_w)/D_w) n_w): its desired direction e0_i (the descent direction of the
  walking-distance field to the open exits, :mod:`geometry.distance`) bent away from neighbours
  (n_ji unit vector from j to i, l_ij = r_i + r_j) and walls (d_w distance from the centre to
  the nearest non-walkable cell, n_w pointing away from it);
* at the speed v_i = min(v0_i, max(0, (s_i + tau_a v_l) / T)), s_i the free spacing (centre
  distance minus l_ij) to the nearest neighbour ahead of it whose centre lies within l_ij of its
  path, and v_l >= 0 that leader's speed along e_i (previous step): the *anticipated* spacing
  after tau_a seconds, the anticipation of Xu, Chraibi & Seyfried (2021), "Anticipation in a
  velocity-based model for pedestrian dynamics", Transp. Res. C 133, 103464, reduced to the
  leader's motion (the paper also anticipates directions); tau_a = 0 is plain CFS;
* by explicit Euler, x_i += v_i e_i dt (dt = 0.05 s by default).

Parameters (:class:`CrowdParameters`): neighbour repulsion a = 8, D = 0.1 m and wall repulsion
a_w = 5, D_w = 0.02 m (JuPedSim's defaults), radius 0.2 m per agent (so l = 0.4 m);
symmetry-breaking noise 0.1 rad on e0. Time gap T = 1.2 s (paper: 1 s), anticipation
tau_a = 0.5 s and a bounded acceleration (from standstill to v0 in at least ``accel_time_s`` =
4 s, ~0.34 m/s²; the pure first-order model restarts instantly). Why: plain CFS (T = 1.2 s, no
anticipation) is only 0.55-0.67 of Weidmann's (1993) fundamental diagram at 1-4 p/m² in a
periodic corridor (RiMEA test 4), because v = s / T with everybody's leader standing still is
the jammed-crowd rule; with tau_a = 0.5 s a moving crowd keeps its speed (0.85-1.11 of
Weidmann at 0.5-4 p/m²). Door flows rise with anticipation, and the slow start-up is what
holds them at the design values: at a door every leader starts from rest. Calibrated set: IMO
MSC.1/Circ.1533 test 4 (100 persons, 1 m door) about 1.0-1.1 p/s, below its 1.33 p/s bound;
1,000 persons at a 1 m door 1.09 p/(m s), 5,000 persons at four 2 m doors 1.38 p/(m s) (the
SFPE/IMO design range is 1.1-1.4; wider doors pass more per metre in this model because the
wall boundary layer costs a 1 m door relatively more). Plain CFS with T = 1.2 s and a 1 s
start-up gave 1.2-1.3 p/s at 1 m but missed the fundamental diagram; with tau_a = 0.5 s and a
2.5 s start-up, 2 m doors passed 1.58 p/(m s). Plain CFS with T = 1 s and no acceleration
bound gives 1.7-1.9 p/s at a 1 m door (close to the 1.9 p/s measured at 1 m bottlenecks by
Seyfried et al. 2009, but above the design bound). Deviations from the
paper (random turn of e0, priority for mutual blocks, moves never end in a wall cell) are
explained in :mod:`agents._crowd_kernel`; they keep CFS from freezing at narrow doors
(JuPedSim 1.4.2 freezes with 1,000 persons at a 1 m door).

Stairs and levels: on a multi-level atlas (:mod:`geometry.atlas`) stair cells cap an agent's
speed at its own descent or ascent speed along the slope, and portals carry agents between a
landing and the flight it leads to (kernel docstring); routes and exit choice see stairs as
slow (:data:`STAIR_COST`).

Exits: cells of the raster's exit mask (default) or named masks/geometries. Entering an open
exit cell takes the agent out (its exit time and exit are recorded). :meth:`CrowdModel.close_exit`
turns an exit's cells into wall (nobody passes it) and recomputes the distance fields;
:meth:`CrowdModel.reopen_exit` undoes it. :class:`CrowdComponent` runs a model inside a
:class:`twin.core.Twin` (RouteBlocked / RouteReopened with exit ids; AgentsArrived per exit).

Behaviour beyond walking (pre-movement, who helps whom, the estate) lives in
:mod:`agents.crowd_evacuation`. Units SI: m, s, m/s.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import ndimage
from shapely.geometry.base import BaseGeometry

from agents import _crowd_kernel as K
from geometry.atlas import Portals
from geometry.distance import descent_directions, distance_field, wall_distance_field
from geometry.raster import LevelRaster
from twin.events import AgentsArrived, Event, RouteBlocked, RouteReopened

if TYPE_CHECKING:
    from agents.crowd_metrics import CrowdTrace
    from twin.core import Twin

__all__ = [
    "BLOCKED_COST",
    "DEFAULT_STAIR_FACTORS",
    "EXIT_CHOICES",
    "EXIT_SPECIFIC_FLOW",
    "STAIR_COST",
    "CrowdComponent",
    "CrowdModel",
    "CrowdParameters",
    "Portals",
]

#: Neighbour repulsion range beyond contact, in units of D: the weight a e^-7 is < 1 % of |e0|.
REPULSION_REACH = 7.0
#: Distance-field cost of passing a portal (m) and the kernel's tolerance when it checks that a
#: passage is on the agent's way (see agents._crowd_kernel): a return trip costs 2 x 1 m more
#: than the 1 m tolerance, so nobody oscillates between a landing and its flight.
PORTAL_COST_M = 1.0
PORTAL_TOL_M = 1.0
#: Gridlock breaking (:meth:`CrowdModel._check_progress`): checked every 5 s; no progress of
#: 0.25 m towards the target in ``stuck_after_s`` (60 s) lets the agent squeeze on for 2 s.
STUCK_CHECK_S = 5.0
STUCK_PROGRESS_M = 0.25
PUSH_S = 2.0
#: Walking below this fraction of one's own speed limit counts as queueing.
SLOW_FRACTION = 0.3
#: Default stair speeds along the slope as fractions of the free speed: descent 0.70 m/s and
#: ascent 0.50 m/s for a 1.34 m/s walker, the middles of the Fruin (1971) / SFPE Handbook
#: ranges 0.6-0.8 and 0.4-0.6 m/s (agents.demographics draws per-person values in them).
DEFAULT_STAIR_FACTORS = (0.70 / 1.34, 0.50 / 1.34)


@dataclass(frozen=True)
class CrowdParameters:
    """CFS parameters (module docstring): ``time_gap_s`` T (s); ``a_neighbour`` (-) and
    ``d_neighbour_m`` (m) the neighbour repulsion strength and range; ``a_wall``, ``d_wall_m``
    the same for walls; ``noise_rad`` the standard deviation of the random turn of e0 per step
    (rad, 0 = none); ``priority``: resolve mutual blocks by distance to the exit (kernel docs);
    ``accel_time_s``: shortest time from standstill to v0 (s, 0 = instant, the paper's model);
    ``anticipation_s``: tau_a, how far ahead the leader's motion is anticipated (s, 0 = plain
    CFS)."""

    time_gap_s: float = 1.2
    a_neighbour: float = 8.0
    d_neighbour_m: float = 0.1
    a_wall: float = 5.0
    d_wall_m: float = 0.02
    noise_rad: float = 0.1
    priority: bool = True
    accel_time_s: float = 4.0
    anticipation_s: float = 0.5

    def __post_init__(self) -> None:
        for name in ("time_gap_s", "d_neighbour_m", "d_wall_m"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"CrowdParameters.{name} must be a positive number, got {v!r}")
        for name in ("a_neighbour", "a_wall", "noise_rad", "accel_time_s", "anticipation_s"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ValueError(f"CrowdParameters.{name} must be a number >= 0, got {v!r}")
        if self.anticipation_s >= self.time_gap_s:
            raise ValueError(f"CrowdParameters.anticipation_s ({self.anticipation_s}) must be below time_gap_s "
                             f"({self.time_gap_s}): a follower would otherwise close in on a leader at any speed")


#: Distance-field cost multiplier of stair cells: level walking at 1.34 m/s against stair
#: descent at ~0.7 m/s along the slope (Fruin 1971; SFPE Handbook ch. 59), so fields are in
#: level-equivalent metres and route choice sees stairs as slow.
STAIR_COST = 1.34 / 0.7
#: Cost multiplier of a blocked zone (smoke-logged stair ...): avoided whenever another way
#: exists; people already inside still find the shortest way out of it.
BLOCKED_COST = 100.0
#: Design specific flow through exits for the queue estimate of the quickest exit choice,
#: p/(m s) (SFPE Handbook ch. 59: 1.3 p/(m s) maximum specific flow of doors and corridors).
EXIT_SPECIFIC_FLOW = 1.3
EXIT_CHOICES = ("nearest", "quickest")


class CrowdModel:
    """Agents on one :class:`~geometry.raster.LevelRaster` (one level, or a multi-level atlas
    with ``stairs`` and ``portals``) walking to its exits (module docstring).

    ``exits``: ``None`` (the raster's exit mask, one exit per 8-connected component, ids
    ``exit-1``, ``exit-2`` ... in label order), a bool mask (the same labelling), or a mapping
    exit id -> bool mask or shapely geometry. ``rng``: a numpy Generator or seed.
    ``stairs``: downhill unit vectors ``(sdx, sdy)`` [ny, nx] of stair cells (zero elsewhere);
    agents walk there at their own stair descent/ascent speeds. ``portals``: see
    :class:`Portals`. ``exit_choice``: ``"nearest"`` (shortest walk) or ``"quickest"`` (least
    estimated time including the queue, re-decided every ``choice_every_s``; see
    :meth:`choose_exits`). ``stuck_after_s``: gridlock breaking (:meth:`_check_progress`; ``inf`` = off).
    ``exit_capacity``: p/s per exit id for that choice (default 1.3 p/(m s) x the exit's width).
    ``periodic_x``: the grid wraps in x (fundamental-diagram runs);
    ``desired``: a fixed direction field ``(ux, uy)`` [ny, nx] instead of exits (then
    ``exits`` is ignored and nobody leaves). ``trace_every_s``: record positions for
    :meth:`trace` every so many seconds (0 = off)."""

    def __init__(
        self,
        raster: LevelRaster,
        *,
        exits: np.ndarray | Mapping[str, np.ndarray | BaseGeometry] | None = None,
        dt: float = 0.05,
        params: CrowdParameters = CrowdParameters(),
        rng: np.random.Generator | int | None = 0,
        stairs: tuple[np.ndarray, np.ndarray] | None = None,
        portals: Portals | None = None,
        exit_choice: str = "nearest",
        choice_every_s: float = 2.0,
        periodic_x: bool = False,
        desired: tuple[np.ndarray, np.ndarray] | None = None,
        trace_every_s: float = 0.0,
        exit_capacity: Mapping[str, float] | None = None,
        stuck_after_s: float = 60.0,
    ) -> None:
        if not (isinstance(dt, (int, float)) and math.isfinite(dt) and 0 < dt <= 0.5):
            raise ValueError(f"CrowdModel: dt must be a number of seconds in (0, 0.5], got {dt!r}")
        if exit_choice not in EXIT_CHOICES:
            raise ValueError(f"CrowdModel: exit_choice must be one of {EXIT_CHOICES}, got {exit_choice!r}")
        if not (choice_every_s > 0 and trace_every_s >= 0):
            raise ValueError("CrowdModel: choice_every_s must be > 0 and trace_every_s >= 0")
        self.raster = raster
        shape = raster.walkable.shape
        self.dt = float(dt)
        self.params = params
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self.exit_choice = exit_choice
        self.choice_every_s = float(choice_every_s)
        if not stuck_after_s > 0:
            raise ValueError(f"CrowdModel: stuck_after_s must be > 0 (inf = never break gridlock), got {stuck_after_s!r}")
        self.stuck_after_s = float(stuck_after_s)
        self.trace_every_s = float(trace_every_s)
        self.period = 0.0
        if periodic_x:
            self.period = raster.walkable.shape[1] * raster.cell_size_m
        self._desired = desired
        if desired is not None:
            ux, uy = (np.asarray(a, dtype=np.float64) for a in desired)
            if ux.shape != shape or uy.shape != shape:
                raise ValueError(f"CrowdModel: desired fields must have the raster's shape {shape}")
            self.exit_ids, self.exit_masks = [], []
        else:
            self.exit_ids, self.exit_masks = self._exits(raster, exits)
        if stairs is None:
            self.sdx = np.zeros(shape)
            self.sdy = np.zeros(shape)
        else:
            self.sdx, self.sdy = (np.ascontiguousarray(a, dtype=np.float64) for a in stairs)
            if self.sdx.shape != shape or self.sdy.shape != shape:
                raise ValueError(f"CrowdModel: stairs fields must have the raster's shape {shape}")
        self.stair_mask = (self.sdx != 0) | (self.sdy != 0)
        if portals is None:
            portals = Portals.none(shape)
        if portals.lab.shape != shape:
            raise ValueError(f"CrowdModel: portal grid must have the raster's shape {shape}")
        self.portals = portals
        self._links = self._portal_links()
        self.portal_count = np.zeros(len(portals.ids), dtype=np.int64)
        self.exit_widths_m = [self._front_width(mk) for mk in self.exit_masks]
        #: Capacity (p/s) of the route through each exit for the quickest choice: the exit's own
        #: (1.3 p/(m s) x width) unless ``exit_capacity`` names a narrower element on the way.
        self.exit_capacity = [EXIT_SPECIFIC_FLOW * w for w in self.exit_widths_m]
        for eid, c in (exit_capacity or {}).items():
            if not (isinstance(c, (int, float)) and c > 0):
                raise ValueError(f"CrowdModel: exit_capacity[{eid!r}] must be > 0 p/s, got {c!r}")
            self.exit_capacity[self.exit_index(eid)] = float(c)
        self.closed: set[str] = set()
        self.blocked: set[str] = set()
        self.t = 0.0
        n = 0
        self.x = np.zeros(n)
        self.y = np.zeros(n)
        self.ex = np.zeros(n)
        self.ey = np.zeros(n)
        self.speed = np.zeros(n)
        self.radius = np.zeros(n)
        self.v0 = np.zeros(n)
        self.vdown = np.zeros(n)
        self.vup = np.zeros(n)
        self.start_s = np.zeros(n)
        self.state = np.zeros(n, dtype=np.int64)
        self.t_out = np.zeros(n)
        self.exit_used = np.zeros(n, dtype=np.int64)
        self.target = np.zeros(n, dtype=np.int64)
        self.free_choice = np.zeros(n, dtype=bool)
        self.t_slow = np.zeros(n)
        self.push_until = np.zeros(n)
        self.stuck_breaks = 0
        self._prog_d = np.zeros(n)
        self._prog_t = np.zeros(n)
        self._next_prog = 0.0
        self._frozen = False
        self._next_choice = 0.0
        self._next_trace = 0.0
        self._trace: list[tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
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

    def _front_width(self, mask: np.ndarray) -> float:
        """Width (m) of an exit: its cells that border walkable non-exit cells, times the cell size."""
        walk = self.raster.walkable
        inner = walk & ~mask
        grown = ndimage.binary_dilation(inner, structure=np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool))
        return max(float((mask & grown).sum()) * self.raster.cell_size_m, self.raster.cell_size_m)

    def _portal_links(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        P = self.portals
        if not P.ids:
            return None
        r = self.raster
        jj, ii = np.nonzero(P.lab >= 0)
        p = P.lab[jj, ii]
        cx, cy = r.cell_to_world(ii, jj)
        qx = P.A[p, 0, 0] * cx + P.A[p, 0, 1] * cy + P.b[p, 0]
        qy = P.A[p, 1, 0] * cx + P.A[p, 1, 1] * cy + P.b[p, 1]
        qi, qj = r.world_to_cell(qx, qy)
        ok = r.inside(qi, qj)
        ok[ok] = r.walkable[qj[ok], qi[ok]]
        if not ok.all():
            k = int(np.flatnonzero(~ok)[0])
            raise ValueError(f"portal {P.ids[p[k]]!r}: the band cell at ({float(cx[k]):.2f}, {float(cy[k]):.2f}) "
                             f"is carried to ({float(qx[k]):.2f}, {float(qy[k]):.2f}), which is not walkable "
                             "(a stair without a landing?)")
        nx = r.walkable.shape[1]
        return (jj * nx + ii).astype(np.int64), (qj * nx + qi).astype(np.int64), np.full(len(jj), PORTAL_COST_M)

    def _field(self, targets: np.ndarray, walk: np.ndarray, cost: np.ndarray) -> np.ndarray:
        r = self.raster
        pr = LevelRaster(walk, r.origin, r.cell_size_m, level=r.level)
        return distance_field(pr, targets=targets, cost=cost, links=self._links)

    def _update_fields(self) -> None:
        r = self.raster
        walk = r.walkable.copy()
        shape = walk.shape
        lab = np.full(shape, -1, dtype=np.int64)
        open_any = np.zeros(shape, dtype=bool)
        for k, (eid, mk) in enumerate(zip(self.exit_ids, self.exit_masks)):
            if eid in self.closed:
                walk &= ~mk
            else:
                lab[mk] = k
                open_any |= mk
        open_any &= walk
        self.passable = np.ascontiguousarray(walk)
        self.exit_label = lab
        cost = np.where(self.stair_mask, STAIR_COST, 1.0)
        for z in self.blocked:
            cost[r.zones[z]] = BLOCKED_COST
        pr = LevelRaster(walk, r.origin, r.cell_size_m, level=r.level)
        if self._desired is not None:
            ux, uy = self._desired
            self.e0x = np.ascontiguousarray(np.asarray(ux, dtype=np.float64)[None])
            self.e0y = np.ascontiguousarray(np.asarray(uy, dtype=np.float64)[None])
            self.dist = np.zeros((1, *shape))
        else:
            K_ = len(self.exit_ids)
            F = 1 if K_ == 1 else 1 + K_
            dist = np.full((F, *shape), np.inf)
            if open_any.any():
                dist[0] = self._field(open_any, walk, cost)
            for k in range(K_ if F > 1 else 0):
                mk = self.exit_masks[k] & walk
                dist[k + 1] = self._field(mk, walk, cost) if (mk.any() and self.exit_ids[k] not in self.closed) else dist[0]
            self.dist = dist
            self.e0x = np.zeros((F, *shape))
            self.e0y = np.zeros((F, *shape))
            for f in range(F):
                if np.isfinite(dist[f]).any():
                    self.e0x[f], self.e0y[f] = descent_directions(dist[f], pr)
        if self.period > 0:
            tiled = np.concatenate([walk, walk, walk], axis=1)
            self.wallf = np.ascontiguousarray(wall_distance_field(tiled, r.cell_size_m)[:, shape[1]:2 * shape[1]])
        else:
            self.wallf = wall_distance_field(walk, r.cell_size_m)
        # agents whose own exit closed go to the nearest open one
        if self.n and len(self.exit_ids) > 1:
            for eid in self.closed:
                self.target[self.target == self.field_of(eid)] = 0

    def field_of(self, exit_id: str | None) -> int:
        """Index of the distance field that leads to ``exit_id`` (0 = the nearest open exit)."""
        if exit_id is None:
            return 0
        k = self.exit_index(exit_id)
        return 0 if len(self.exit_ids) == 1 else k + 1

    def exit_index(self, exit_id: str) -> int:
        try:
            return self.exit_ids.index(exit_id)
        except ValueError:
            raise KeyError(f"unknown exit {exit_id!r}; known: {', '.join(self.exit_ids)}") from None

    def close_exit(self, exit_id: str) -> None:
        """Block ``exit_id`` from now on: an exit's cells become wall (nobody passes it); a named
        zone of the raster (a stair, a corridor) is avoided (cost x100) by everybody who has
        another way. Fields are recomputed."""
        if exit_id in self.raster.zones and exit_id not in self.exit_ids:
            if exit_id not in self.blocked:
                self.blocked.add(exit_id)
                self._update_fields()
            return
        self.exit_index(exit_id)
        if exit_id not in self.closed:
            self.closed.add(exit_id)
            self._update_fields()

    def reopen_exit(self, exit_id: str) -> None:
        if exit_id in self.raster.zones and exit_id not in self.exit_ids:
            if exit_id in self.blocked:
                self.blocked.discard(exit_id)
                self._update_fields()
            return
        self.exit_index(exit_id)
        if exit_id in self.closed:
            self.closed.discard(exit_id)
            self._update_fields()

    # ------------------------------------------------------------------ agents
    @property
    def n(self) -> int:
        return int(self.x.shape[0])

    def add_agents(self, x: Any, y: Any, *, v0: Any, radius: Any = 0.2, start_s: Any = 0.0,
                   v_down: Any = None, v_up: Any = None, exit: str | Sequence[str | None] | None = None,
                   dormant: bool = False) -> np.ndarray:
        """Add agents at (x, y) (m) with free speeds ``v0`` (m/s), radii (m), start times (s,
        end of pre-movement) and stair descent/ascent speeds along the slope (m/s; default
        ``v0`` times :data:`DEFAULT_STAIR_FACTORS`); scalars broadcast. ``exit``: an
        assigned exit id per agent (or one for all); ``None`` = free choice by the model's
        ``exit_choice``. ``dormant``: not in this model yet (see :meth:`activate`; positions
        are then not checked). Returns the new agents' indices."""
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
        vd = v0s * DEFAULT_STAIR_FACTORS[0] if v_down is None else np.broadcast_to(np.asarray(v_down, dtype=np.float64), (m,)).copy()
        vu = v0s * DEFAULT_STAIR_FACTORS[1] if v_up is None else np.broadcast_to(np.asarray(v_up, dtype=np.float64), (m,)).copy()
        for name, arr, lo, hi in (("v0", v0s, 0.0, 10.0), ("radius", rs, 0.05, 1.0), ("start_s", ss, 0.0, np.inf),
                                  ("v_down", vd, 0.0, 10.0), ("v_up", vu, 0.0, 10.0)):
            bad = np.flatnonzero(~np.isfinite(arr) | (arr < lo) | (arr > hi) | ((arr <= 0) if name != "start_s" else False))
            if bad.size:
                k = int(bad[0])
                raise ValueError(f"agent {base + k}: {name} = {arr[k]!r} must be finite and in "
                                 f"{'(0' if name != 'start_s' else '[0'}, {hi}]")
        if exit is None or isinstance(exit, str):
            ex_list: list[str | None] = [exit] * m
        else:
            ex_list = list(exit)
            if len(ex_list) != m:
                raise ValueError(f"add_agents: exit must be one id or {m} ids, got {len(ex_list)}")
        tgt = np.array([self.field_of(e) if self._desired is None else 0 for e in ex_list], dtype=np.int64)
        if not dormant:
            self._check_positions(xs, ys, base)
        self.x = np.concatenate([self.x, xs])
        self.y = np.concatenate([self.y, ys])
        self.ex = np.concatenate([self.ex, np.zeros(m)])
        self.ey = np.concatenate([self.ey, np.zeros(m)])
        self.speed = np.concatenate([self.speed, np.zeros(m)])
        self.radius = np.concatenate([self.radius, rs])
        self.v0 = np.concatenate([self.v0, v0s])
        self.vdown = np.concatenate([self.vdown, vd])
        self.vup = np.concatenate([self.vup, vu])
        self.start_s = np.concatenate([self.start_s, ss])
        st = K.DORMANT if dormant else K.WAITING
        self.state = np.concatenate([self.state, np.full(m, st, dtype=np.int64)])
        self.t_out = np.concatenate([self.t_out, np.full(m, np.nan)])
        self.exit_used = np.concatenate([self.exit_used, np.full(m, -1, dtype=np.int64)])
        self.target = np.concatenate([self.target, tgt])
        self.free_choice = np.concatenate([self.free_choice, np.array([e is None for e in ex_list], dtype=bool)])
        self.t_slow = np.concatenate([self.t_slow, np.zeros(m)])
        self.push_until = np.concatenate([self.push_until, np.zeros(m)])
        self._prog_d = np.concatenate([self._prog_d, np.full(m, np.inf)])
        self._prog_t = np.concatenate([self._prog_t, ss])
        return np.arange(base, base + m)

    def _check_positions(self, xs: np.ndarray, ys: np.ndarray, base: int | np.ndarray) -> None:
        """Agents must stand on walkable cells from which an open exit can be reached."""
        i, j = self.raster.world_to_cell(xs, ys)
        ok = self.raster.inside(i, j)
        ok[ok] = self.passable[j[ok], i[ok]]
        idx = (base + np.arange(len(xs))) if np.isscalar(base) else np.asarray(base)
        if not ok.all():
            k = int(np.flatnonzero(~ok)[0])
            raise ValueError(f"agent {int(idx[k])} at ({xs[k]:.2f}, {ys[k]:.2f}) is inside a wall or outside the "
                             f"walkable area ({int((~ok).sum())} such agents)")
        if self._desired is None:
            reach = np.isfinite(self.dist[0][j, i])
            if not reach.all():
                k = int(np.flatnonzero(~reach)[0])
                raise ValueError(f"agent {int(idx[k])} at ({xs[k]:.2f}, {ys[k]:.2f}): no open exit can be reached "
                                 f"from there ({int((~reach).sum())} such agents); check the doors and exits")

    def activate(self, idx: Any, x: Any, y: Any, *, start_s: float | None = None) -> None:
        """Bring dormant agents ``idx`` into this model at (x, y) (e.g. people leaving a
        building onto the estate); they start walking at ``start_s`` (default now)."""
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        xs = np.atleast_1d(np.asarray(x, dtype=np.float64))
        ys = np.atleast_1d(np.asarray(y, dtype=np.float64))
        if (self.state[idx] != K.DORMANT).any():
            raise ValueError("activate: only dormant agents can be activated")
        self._check_positions(xs, ys, idx)
        self.x[idx] = xs
        self.y[idx] = ys
        self.speed[idx] = 0.0
        self.start_s[idx] = self.t if start_s is None else float(start_s)
        self.state[idx] = K.WAITING
        self._prog_d[idx] = np.inf

    def assign_exit(self, idx: Any, exit_id: str | None) -> None:
        """Send agents ``idx`` to ``exit_id`` (fixed), or back to free choice with ``None``."""
        idx = np.atleast_1d(np.asarray(idx, dtype=np.int64))
        self.target[idx] = self.field_of(exit_id)
        self.free_choice[idx] = exit_id is None

    def choose_exits(self) -> None:
        """Quickest exit choice: every free-choice agent inside takes the open exit k with the
        least estimated time E_k = max(d_k / v0, t1_k + Q_k / C_k): d_k its level-equivalent
        walking distance (stairs weighted by :data:`STAIR_COST`), Q_k the number walking to k
        nearer to it than this agent, t1_k when the first of them gets there (d_min / v0), C_k
        the route's capacity (1.3 p/(m s) x the exit width, or the narrower ``exit_capacity``
        given, e.g. the stair's): a fluid queue that starts discharging when its first member
        arrives (the "locally quickest" route idea of Kretz 2009, "Pedestrian traffic: on the
        quickest path", J. Stat. Mech. P03012, with SFPE capacities). An agent switches only when that
        saves at least 10 % and 3 s."""
        if self._desired is not None or len(self.exit_ids) < 2:
            return
        inside = np.flatnonzero((self.state == K.WAITING) | (self.state == K.WALKING))
        if inside.size == 0:
            return
        r = self.raster
        i, j = r.world_to_cell(self.x[inside], self.y[inside])
        i = np.clip(i, 0, r.walkable.shape[1] - 1)
        j = np.clip(j, 0, r.walkable.shape[0] - 1)
        K_ = len(self.exit_ids)
        est = np.full((K_, inside.size), np.inf)
        v = self.v0[inside]
        for k, eid in enumerate(self.exit_ids):
            if eid in self.closed:
                continue
            d = self.dist[k + 1][j, i]
            heading = self.target[inside] == k + 1
            dq = np.sort(d[heading & (self.state[inside] == K.WALKING)])
            q = np.searchsorted(dq, d, side="left")
            cap = self.exit_capacity[k]
            # the bottleneck discharges from when the first of those ahead gets there
            first = dq[0] / v if dq.size else d / v
            est[k] = np.maximum(d / v, np.minimum(first, d / v) + q / cap)
        free = self.free_choice[inside]
        best = np.argmin(est, axis=0)
        cur = self.target[inside] - 1
        cur_est = np.where(cur >= 0, est[np.clip(cur, 0, K_ - 1), np.arange(inside.size)], np.inf)
        gain = cur_est - est[best, np.arange(inside.size)]
        switch = free & np.isfinite(est[best, np.arange(inside.size)]) & (
            (cur < 0) | ((gain >= 3.0) & (gain >= 0.1 * cur_est)))
        self.target[inside[switch]] = best[switch] + 1

    def _check_progress(self) -> None:
        """Gridlock breaking: a walking agent whose distance to its target has not fallen by
        :data:`STUCK_PROGRESS_M` in ``stuck_after_s`` (default 60 s) squeezes on for :data:`PUSH_S`:
        walls still steer it, but neighbours neither turn nor slow it (it pushes past whoever
        blocks it, as people do in a doorway knot; the others still give way to it). Queues that move, however slowly, never trigger it; a knot of people
        blocking each other in a doorway does. ``stuck_breaks`` counts the occasions."""
        w = np.flatnonzero(self.state == K.WALKING)
        if w.size == 0 or self._desired is not None:
            return
        r = self.raster
        i, j = r.world_to_cell(self.x[w], self.y[w])
        i = np.clip(i, 0, r.walkable.shape[1] - 1)
        j = np.clip(j, 0, r.walkable.shape[0] - 1)
        d = self.dist[self.target[w], j, i]
        gained = (d < self._prog_d[w] - STUCK_PROGRESS_M) | np.isinf(self._prog_d[w])  # or just started
        self._prog_d[w[gained]] = d[gained]
        self._prog_t[w[gained]] = self.t
        stuck = w[~gained & (self.t - self._prog_t[w] > self.stuck_after_s)]
        if stuck.size:
            self.push_until[stuck] = self.t + PUSH_S
            self._prog_t[stuck] = self.t
            self.stuck_breaks += int(stuck.size)

    # ------------------------------------------------------------------ stepping
    def _grid(self) -> tuple[float, float, float, int, int]:
        p = self.params
        rmax = float(self.radius.max()) if self.n else 0.2
        vmax = float(max(self.v0.max(), self.vdown.max(), self.vup.max())) if self.n else 1.34
        reach = REPULSION_REACH * p.d_neighbour_m
        cs = max(1.0, 2 * rmax + reach)
        look = 2 * rmax + vmax * p.time_gap_s
        x0, y0, x1, y1 = self.raster.bounds
        ncx = max(1, int(math.ceil((x1 - x0) / cs)))
        if self.period > 0:
            ncx = max(1, int((x1 - x0) // cs))
            if ncx < 3:
                raise ValueError("CrowdModel: a periodic grid must be at least 3 m long")
            cs_x = (x1 - x0) / ncx
            cs = cs_x  # >= the nominal size, so the 3 x 3 scan still covers the repulsion range
        return cs, look, reach, ncx, max(1, int(math.ceil((y1 - y0) / cs)))

    def step(self, t: float | None = None) -> int:
        """Advance from ``t`` (default: the model's clock) by ``dt``; returns how many left."""
        if t is not None:
            self.t = float(t)
        n = self.n
        if self.exit_choice == "quickest" and self.t >= self._next_choice - 1e-9:
            self.choose_exits()
            self._next_choice = self.t + self.choice_every_s
        if self.t >= self._next_prog - 1e-9:
            self._check_progress()
            self._next_prog = self.t + STUCK_CHECK_S
        if self.trace_every_s > 0 and self.t >= self._next_trace - 1e-9:
            self._record()
            self._next_trace = self.t + self.trace_every_s
        if getattr(self, "_grid_n", -1) != n:
            self._grid_cache = self._grid()
            self._grid_n = n
        cs, look, reach, ncx, ncy = self._grid_cache
        if getattr(self, "_scratch_n", -1) != n or self._scratch_cells != ncx * ncy:
            self._cstart = np.zeros(ncx * ncy, dtype=np.int64)
            self._ccount = np.zeros(ncx * ncy, dtype=np.int64)
            self._touched = np.zeros(ncx * ncy, dtype=np.int64)
            steps_so_far = int(self._nt_prev[1]) if hasattr(self, "_nt_prev") else 0
            self._nt_prev = np.array([0, steps_so_far], dtype=np.int64)
            self._nxt = np.empty(n, dtype=np.int64)
            self._nex = np.zeros(n)
            self._ney = np.zeros(n)
            self._prio = np.zeros(n)
            self._scratch_n, self._scratch_cells = n, ncx * ncy
        p = self.params
        noise = self.rng.standard_normal(n)
        jitter = self.rng.random(n)
        r = self.raster
        P = self.portals
        rmax = float(self.radius.max()) if n else 0.2
        out = K.step(self.x, self.y, self.ex, self.ey, self.speed, self.radius, self.v0, self.vdown, self.vup,
                     self.start_s, self.state, self.t_out, self.exit_used, self.target, self.t_slow, self.t, self.dt,
                     self.e0x, self.e0y, self.dist, self.passable, self.exit_label, self.wallf, self.sdx, self.sdy,
                     P.lab, P.A, P.b, self.portal_count,
                     float(r.origin[0]), float(r.origin[1]), float(r.cell_size_m),
                     p.time_gap_s, p.a_neighbour, p.d_neighbour_m, reach, p.a_wall, p.d_wall_m, rmax, look,
                     p.noise_rad, noise, jitter, self._cstart, self._ccount, self._touched, self._nt_prev, self._nxt, ncx, ncy, cs, self._nex, self._ney, self._prio,
                     bool(p.priority), float(p.accel_time_s), self.period, SLOW_FRACTION,
                     PORTAL_TOL_M, PORTAL_COST_M, float(p.anticipation_s), self.push_until)
        self.t += self.dt
        return int(out)

    def run(self, until: float, *, stop_when_empty: bool = True, progress: Callable[[float], None] | None = None) -> float:
        """Step until sim time ``until`` (s) or, with ``stop_when_empty``, until every agent is
        out; returns the model time reached. ``progress(t)`` is called about once per simulated
        10 s."""
        next_p = self.t
        while self.t < until - 1e-9:
            if stop_when_empty and self.n and not ((self.state == K.WAITING) | (self.state == K.WALKING)).any():
                break
            self.step()
            if progress is not None and self.t >= next_p:
                progress(self.t)
                next_p = self.t + 10.0
        return self.t

    # ------------------------------------------------------------------ snapshot
    _STATE_ARRAYS = ("x", "y", "ex", "ey", "speed", "radius", "v0", "vdown", "vup", "start_s", "state", "t_out",
                     "exit_used", "target", "free_choice", "t_slow", "portal_count", "push_until", "_prog_d",
                     "_prog_t")

    def get_state(self) -> dict[str, Any]:
        """Everything a continuation needs (arrays copied; the random stream is the owner's)."""
        st: dict[str, Any] = {k: getattr(self, k).copy() for k in self._STATE_ARRAYS}
        st.update(t=self.t, closed=sorted(self.closed), blocked=sorted(self.blocked), next_choice=self._next_choice,
                  next_prog=self._next_prog, stuck_breaks=self.stuck_breaks,
                  next_trace=self._next_trace, trace=list(self._trace),
                  rng=self.rng.bit_generator.state)
        return st

    def set_state(self, st: dict[str, Any]) -> None:
        for k in self._STATE_ARRAYS:
            setattr(self, k, np.array(st[k], copy=True))
        self.t = float(st["t"])
        self.closed = set(st["closed"])
        self.blocked = set(st["blocked"])
        self._next_choice = float(st["next_choice"])
        self._next_trace = float(st["next_trace"])
        self._next_prog = float(st["next_prog"])
        self.stuck_breaks = int(st["stuck_breaks"])
        self._trace = list(st["trace"])
        self.rng.bit_generator.state = st["rng"]
        self._scratch_n = -1
        self._grid_n = -1
        self._update_fields()

    # ------------------------------------------------------------------ results
    def _record(self) -> None:
        inside = (self.state == K.WAITING) | (self.state == K.WALKING)
        x = np.where(inside, self.x, np.nan).astype(np.float32)
        y = np.where(inside, self.y, np.nan).astype(np.float32)
        self._trace.append((self.t, x, y, self.speed.astype(np.float32), self.state == K.WALKING))

    def trace(self) -> CrowdTrace:
        """The recorded samples (``trace_every_s`` > 0) as a :class:`agents.crowd_metrics.CrowdTrace`."""
        from agents.crowd_metrics import CrowdTrace

        if not self._trace:
            raise ValueError("CrowdModel.trace: nothing recorded; create the model with trace_every_s > 0 and run it")
        t, x, y, sp, w = zip(*self._trace)
        zones = dict(self.raster.zones)
        for eid, mk in zip(self.exit_ids, self.exit_masks):
            zones.setdefault(eid, mk)
        return CrowdTrace(t=np.array(t), x=np.stack(x), y=np.stack(y), speed=np.stack(sp), walking=np.stack(w),
                          v0=self.v0.copy(), origin=tuple(self.raster.origin), cell_size_m=float(self.raster.cell_size_m),
                          walkable=self.raster.walkable, regions=zones,
                          stair_mask=self.stair_mask if self.stair_mask.any() else None)

    @property
    def agent_steps(self) -> int:
        """Walking agent-steps computed so far (throughput figures)."""
        return int(self._nt_prev[1]) if hasattr(self, "_nt_prev") else 0

    @property
    def remaining(self) -> int:
        """Agents not out yet (waiting, walking or dormant)."""
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
        if not isinstance(event, (RouteBlocked, RouteReopened)):
            return
        if event.target not in self.model.exit_ids and event.target not in self.model.raster.zones:
            return
        if isinstance(event, RouteBlocked):
            self.model.close_exit(event.target)
        else:
            self.model.reopen_exit(event.target)

    def get_state(self) -> dict[str, Any]:
        m = self.model
        return {"closed": sorted(m.closed), "blocked": sorted(m.blocked), "reported": self._reported.copy(),
                "t": m.t, "ex": m.ex.copy(), "ey": m.ey.copy(), "target": m.target.copy(),
                "free_choice": m.free_choice.copy(), "t_slow": m.t_slow.copy(), "start_s": m.start_s.copy(),
                "portal_count": m.portal_count.copy(), "next_choice": m._next_choice}

    def set_state(self, state: dict[str, Any]) -> None:
        m = self.model
        m.closed = set(state["closed"])
        m.blocked = set(state["blocked"])
        m._update_fields()
        for nm in ("target", "free_choice", "t_slow", "start_s", "portal_count"):
            getattr(m, nm)[:] = state[nm]
        m._next_choice = float(state["next_choice"])
        self._reported = np.asarray(state["reported"]).copy()
        m.t = float(state["t"])
        m.ex[:] = state["ex"]
        m.ey[:] = state["ey"]
