"""Microscopic evacuation of a whole site: every resident walks out of their flat, down the
stairs, out of the building and on to an assembly point.

Each occupied building is a :class:`~agents.crowd.CrowdModel` on its multi-level atlas
(:func:`geometry.atlas.building_atlas`: storeys and unrolled stair flights joined at the
landings); the estate is one more model on the outdoor raster whose exits are the targets
(assembly points, gates). People leaving a building through an exit appear on the estate at
that exit and walk on. All models step together with the same ``dt``.

People (:mod:`agents.demographics`): per person free speed, stair descent and ascent speeds,
pre-movement time and mobility profile, placed at random spots of their flat. Rules for those
who need help (documented assumptions, scenario settings):

* A person who needs assistance and lives with someone: the household leaves together — all
  members start at the household's latest pre-movement time, and the helper walks at the
  assisted person's speeds (moves with them).
* A person who needs assistance and lives alone waits until a helper reaches them:
  ``assistance_delay_s`` after the alarm (default 480 s, the 8-minute community response the
  programme documents in ``shared/domain.md`` report), then walks at their own speeds.
* Smoke (when a :class:`twin.fire.component.FireComponent` runs in the same twin): whoever has
  their head (1.5 m above their floor) in a compartment's smoke layer accumulates FED (ISO 13571
  as coded in NIST FDS, plus convective heat) and walks at the FDS+Evac speed in smoke
  (Frantzich & Nilsson); FED >= 1 incapacitates — the person stops where they are and is left to
  the fire service (:meth:`exposure` counts them).
* Wheelchair users (stair speed 0 in the demographics: cannot use stairs unaided) are carried
  down by helpers at ``assisted_stair_m_s`` (0.3 m/s along the slope, an assumption in the low
  range of assisted stair descents) and occupy a disc of 0.3 m radius: a manual wheelchair is
  about 0.6-0.7 m wide (ISO 7176-5 envelope) and the helper pushes from behind.
* People start at random spots of their flat that are at least 0.5 m from walls and connected to
  the exits without gaps narrower than ~0.75 m (synthetic floor plans can leave slivers).

Merging at landings: a storey's flow enters the stair only where the landing is free (the
portal rule of :mod:`agents._crowd_kernel`), so floor and stair flows share the landing by who
is there first — the emergent merging that Galea et al. observed in high-rise evacuation trials
(Galea, Sharp, Lawrence & Holden 2008, "Approximating the evacuation of the World Trade Center
North Tower using computer simulation", J. Fire Prot. Eng. 18; Melly et al. 2009, "merging flow
ratios ... depend on the location of the floor door relative to the stair"), rather than a fixed
ratio imposed by a flow model.

Twin interface (same events as :class:`agents.flow_evacuation.FlowEvacuation`): starts people
on :class:`AlarmRaised` (a building or the estate); :class:`RouteBlocked` / :class:`RouteReopened`
for an exit id closes/reopens that exit, for a stair id (``B03-S1``) or a flight/landing id
(``B03-S1-F05``) makes everybody avoid it; publishes :class:`PopulationPlaced`,
:class:`AgentsEvacuated` (per building), :class:`AgentsArrived` (per target) and, at the end,
:class:`Bottleneck` for the places with the most person-seconds of queueing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import ndimage

from agents import _crowd_kernel as K
from agents.crowd import CrowdModel, CrowdParameters
from agents.demographics import People, Profile, synthesize_people
from agents.population import HouseholdPopulation
from geometry.atlas import BuildingAtlas, building_atlas
from geometry.raster import outdoor_raster
from geometry.site import Site
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
    from twin.core import Twin

__all__ = ["CrowdEvacuation", "CrowdEvacuationSettings", "route_capacities"]

_NOT_YET = 1e12  # start time before the alarm reaches a person (s)


@dataclass(frozen=True)
class CrowdEvacuationSettings:
    """Options of :class:`CrowdEvacuation` (module docstring): ``dt`` kernel step (s);
    ``cell_size_m`` of building atlases, ``outdoor_cell_m`` of the estate grid;
    ``exit_choice`` 'nearest' or 'quickest'; ``assistance_delay_s``; ``assisted_stair_m_s``;
    ``wheelchair_radius_m``; ``radius_m`` of everybody else; ``trace_every_s`` sampling of
    positions for the metrics (0 = off); ``to_targets``: walk on to the targets after leaving
    the building (False = stop at the building exit)."""

    dt: float = 0.05
    cell_size_m: float = 0.25
    outdoor_cell_m: float = 0.5
    exit_choice: str = "nearest"
    assistance_delay_s: float = 480.0
    assisted_stair_m_s: float = 0.3
    wheelchair_radius_m: float = 0.3
    radius_m: float = 0.2
    trace_every_s: float = 2.0
    to_targets: bool = True
    params: CrowdParameters = CrowdParameters()


class CrowdEvacuation:
    """The microscopic evacuation of ``site`` as a twin component (module docstring).
    ``population``: households at home; ``people``: their residents (synthesised from the
    seed when ``None``); ``targets``: outdoor target ids (assembly points, gates: zones of the
    outdoor raster)."""

    name = "evacuation"

    def __init__(
        self,
        site: Site,
        population: HouseholdPopulation,
        *,
        targets: list[str],
        people: People | None = None,
        settings: CrowdEvacuationSettings = CrowdEvacuationSettings(),
        rng: np.random.Generator | int = 0,
        stop_when_done: bool = True,
        bottlenecks_reported: int = 10,
    ) -> None:
        self.site = site
        self.population = population
        self.settings = s = settings
        self.stop_when_done = stop_when_done
        self.bottlenecks_reported = bottlenecks_reported
        g = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self.people = people if people is not None else synthesize_people(population, rng=g)
        P = self.people
        n = len(P)
        hh = P.household
        self.person_building = np.array([population.buildings[k] for k in hh]) if n else np.zeros(0, dtype=object)
        self.person_unit = np.array([population.unit_ids[k] for k in hh]) if n else np.zeros(0, dtype=object)
        # speeds, radii, assistance rules
        v0 = P.v0_m_s.copy()
        vd = P.stair_descent_m_s.copy()
        vu = P.stair_ascent_m_s.copy()
        pre = P.premovement_s.copy()
        rad = np.full(n, s.radius_m)
        wc = P.profile == int(Profile.WHEELCHAIR)
        rad[wc] = s.wheelchair_radius_m
        vd[vd <= 0] = s.assisted_stair_m_s
        vu[vu <= 0] = s.assisted_stair_m_s
        helped = P.needs_assistance | wc
        self.assisted_alone = helped & P.lives_alone
        pre[self.assisted_alone] = np.maximum(pre[self.assisted_alone], s.assistance_delay_s)
        for h in np.unique(hh[helped & ~P.lives_alone]):
            mem = np.flatnonzero(hh == h)
            pre[mem] = pre[mem].max()
            slow = mem[helped[mem]]
            v0[mem] = v0[slow].min()
            vd[mem] = vd[slow].min()
            vu[mem] = vu[slow].min()
        self.premovement_s = pre
        self.t_building_out = np.full(n, np.nan)
        self.t_arrived = np.full(n, np.nan)
        self.t_start = np.full(n, np.nan)
        # building models
        self.atlases: dict[str, BuildingAtlas] = {}
        self.models: dict[str, CrowdModel] = {}
        self.members: dict[str, np.ndarray] = {}
        self.buildings = sorted({str(b) for b in self.person_building})
        for bid in self.buildings:
            idx = np.flatnonzero(self.person_building == bid)
            a = building_atlas(site, bid, cell_size_m=s.cell_size_m)
            m = CrowdModel(a.raster, exits={e: a.raster.zones[e] for e in a.exit_widths_m}, dt=s.dt, params=s.params,
                           rng=g.integers(2**63), stairs=a.stairs, portals=a.portals, exit_choice=s.exit_choice,
                           trace_every_s=s.trace_every_s, exit_capacity=route_capacities(site, bid))
            x, y = _spots(a, [population.unit_ids[k] for k in hh[idx]], hh[idx], g, _roomy(a, m))
            m.add_agents(x, y, v0=v0[idx], radius=rad[idx], start_s=_NOT_YET, v_down=vd[idx], v_up=vu[idx])
            self.atlases[bid] = a
            self.models[bid] = m
            self.members[bid] = idx
        # the estate
        self.targets = list(targets)
        self.outdoor: CrowdModel | None = None
        if s.to_targets:
            o = outdoor_raster(site, cell_size_m=s.outdoor_cell_m)
            missing = [t for t in self.targets if t not in o.zones]
            if not self.targets or missing:
                raise ValueError(f"evacuation targets not on the estate grid: {missing or 'none given'}; "
                                 f"known: {', '.join(sorted(k for k in o.zones if '-E' not in k))}")
            self.outdoor = CrowdModel(o, exits={t: o.zones[t] for t in self.targets}, dt=s.dt, params=s.params,
                                      rng=g.integers(2**63), exit_choice=s.exit_choice, trace_every_s=s.trace_every_s)
            self.outdoor.add_agents(np.zeros(n), np.zeros(n), v0=v0, radius=rad, v_down=vd, v_up=vu, dormant=True)
            self._v0_out = self.outdoor.v0.copy()
            self._exit_cells: dict[str, tuple[np.ndarray, np.ndarray]] = {}
            for bid in self.buildings:
                for e in self.atlases[bid].exit_widths_m:
                    mk = o.zones.get(e)
                    if mk is None or not (mk & self.outdoor.passable).any():
                        raise ValueError(f"exit {e} of {bid} does not open onto the estate grid")
                    # the doorway and the ground within 1.5 m of it: where people step out
                    k = max(1, int(round(1.5 / o.cell_size_m)))
                    near = ndimage.binary_dilation(mk, iterations=k) & self.outdoor.passable
                    jj, ii = np.nonzero(near)
                    self._exit_cells[e] = o.cell_to_world(ii, jj)
        self._door_queue: dict[str, list[int]] = {}
        self._out_through: dict[str, int] = {}
        # smoke exposure (when a fire component runs in the same twin)
        self.fed = np.zeros(n)
        self.max_k_per_m = np.zeros(n)
        self.incapacitated = np.zeros(n, dtype=bool)
        # flood exposure on the estate (when a flood component runs in the same twin)
        self.max_water_m = np.zeros(n)
        self.max_water_hr = np.zeros(n)
        self.swept = np.zeros(n, dtype=bool)
        self._flood: Any = None
        self._v0_base = {b: m.v0.copy() for b, m in self.models.items()}
        self._fire: Any = None
        self._comp_of_cell: dict[str, np.ndarray] = {}
        self._rng = g
        self._alarmed = np.zeros(n, dtype=bool)
        self.t_alarm = np.full(n, np.nan)
        #: FED over time of the people of burning buildings (``fed_people``), every ``fed_record_every_s``
        self.fed_record_every_s = 5.0
        self.fed_t: list[float] = []
        self.fed_series: list[np.ndarray] = []
        self._fed_who = np.zeros(0, dtype=np.int64)
        self._fed_next = 0.0
        self._twin: Twin | None = None
        self._b_reported: dict[str, int] = {b: 0 for b in self.buildings}
        self._t_reported = np.zeros(len(self.targets), dtype=np.int64)
        self._placed = False

    # ------------------------------------------------------------------ twin
    def attach(self, twin: Twin) -> None:
        self._twin = twin
        self._fire = next((c for c in twin.components if getattr(c, "name", "") == "fire"), None)
        self._flood = next((c for c in twin.components if getattr(c, "name", "") == "flood"), None)
        if self._fire is not None:  # FED history of the people of the burning buildings
            self._fed_who = np.flatnonzero(np.isin(self.person_building, list(set(self._fire.net.building))))
            #: per fire compartment: the last time (s) somebody was in it (NaN: nobody ever)
            self.comp_last_occupied_s = np.full(len(self._fire.zone.ids), np.nan)
        for m in self.models.values():
            m._frozen = True
        if self.outdoor is not None:
            self.outdoor._frozen = True

    def on_event(self, event: Event) -> None:
        if isinstance(event, AlarmRaised):
            if event.level == "unit":
                self.alarm(event.t, event.building, unit=event.subject)
            else:
                self.alarm(event.t, None if (event.level == "estate" or not event.building) else event.building)
        elif isinstance(event, (RouteBlocked, RouteReopened)):
            self.block(event.target, blocked=isinstance(event, RouteBlocked))
        elif isinstance(event, RunFinished):
            self._report_bottlenecks(event.t)

    def alarm(self, t: float, building: str | None = None, *, unit: str | None = None) -> int:
        """The alarm reaches the people of ``building`` (all when ``None``; only those of flat
        ``unit`` when given: a local smoke alarm) at ``t`` (s); returns how many it reached."""
        hit = ~self._alarmed
        if building is not None:
            hit &= self.person_building == building
        if unit is not None:
            hit &= self.person_unit == unit
        self._alarmed |= hit
        self.t_alarm[hit] = t
        for bid, idx in self.members.items():
            h = hit[idx]
            if h.any():
                self.models[bid].start_s[h] = t + self.premovement_s[idx[h]]
        return int(hit.sum())

    def block(self, target: str, *, blocked: bool = True) -> None:
        """Close (or reopen) an exit, stair, flight or landing of a building, or an outdoor target."""
        for m in [*self.models.values(), *([self.outdoor] if self.outdoor is not None else [])]:
            if target in m.exit_ids or target in m.raster.zones:
                if target in m.exit_ids and not blocked and target not in m.closed:
                    continue
                (m.close_exit if blocked else m.reopen_exit)(target)
                return
        raise KeyError(f"route target {target!r} is no exit, stair, flight or landing of an occupied building "
                       "and no evacuation target")

    def assign_route(self, who: Any, *, exit_id: str | None = None, target: str | None = None) -> None:
        """Fix the way out of persons ``who`` (indices into :attr:`people`): leave their building
        through ``exit_id`` (an exit of that building; ``None``: the settings' ``exit_choice``)
        and walk on to ``target`` (one of :attr:`targets`; ``None``: the outdoor ``exit_choice``).
        An evacuation plan (:mod:`optimizer.plans`) calls it before the run; without it
        everybody chooses freely, as before."""
        idx = np.atleast_1d(np.asarray(who, dtype=np.int64))
        n = len(self.t_arrived)
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise IndexError(f"assign_route: person indices must lie in [0, {n}), got {idx.min()}..{idx.max()}")
        for bid in sorted({str(b) for b in self.person_building[idx]}):
            mine = idx[self.person_building[idx] == bid]
            m = self.models[bid]
            if exit_id is not None and exit_id not in m.exit_ids:
                raise KeyError(f"assign_route: {exit_id!r} is no exit of building {bid}; known: {', '.join(m.exit_ids)}")
            m.assign_exit(np.searchsorted(self.members[bid], mine), exit_id)
        if target is not None and self.outdoor is None:
            raise ValueError("assign_route: a target needs to_targets=True (people stop at the building exit)")
        if self.outdoor is not None:
            if target is not None and target not in self.targets:
                raise KeyError(f"assign_route: {target!r} is no evacuation target; known: {', '.join(self.targets)}")
            self.outdoor.assign_exit(idx, target)

    def route_targets(self) -> set[str]:
        """Ids :meth:`block` accepts: exits, stairs, landings and flights of the occupied
        buildings, and the evacuation targets."""
        ids: set[str] = set(self.targets)
        for m in self.models.values():
            ids.update(m.exit_ids)
            ids.update(m.raster.zones)
        return ids

    def step(self, t: float, dt: float) -> None:
        twin = self._twin
        if twin is not None and not self._placed:
            for bid in self.buildings:
                twin.bus.publish(PopulationPlaced(t=t, subject=bid, building=bid, count=int(self.members[bid].size)))
            self._placed = True
        if self._flood is not None and self.outdoor is not None:
            self._water_exposure()
        if self._fire is not None:
            self._smoke_exposure(dt, t)
            if t + 1e-9 >= self._fed_next:
                self.fed_t.append(t + dt)
                self.fed_series.append(self.fed[self._fed_who].copy())
                self._fed_next = t + self.fed_record_every_s
        k = max(1, int(round(dt / self.settings.dt)))
        for i in range(k):
            self.advance(t + i * self.settings.dt)
        if twin is None:
            return
        for bid in self.buildings:
            out = int(np.isfinite(self.t_building_out[self.members[bid]]).sum())
            if out > self._b_reported[bid]:
                twin.bus.publish(AgentsEvacuated(t=t + dt, subject=bid, building=bid,
                                                 count=out - self._b_reported[bid], total=out))
                self._b_reported[bid] = out
        if self.outdoor is not None:
            c = np.bincount(self.outdoor.exit_used[self.outdoor.exit_used >= 0], minlength=len(self.targets))
            for e in np.flatnonzero(c > self._t_reported):
                tid = self.targets[e]
                twin.bus.publish(AgentsArrived(t=t + dt, subject=tid, target=tid,
                                               count=int(c[e] - self._t_reported[e]), total=int(c[e])))
            self._t_reported = np.maximum(c, self._t_reported)
        if self.stop_when_done and self._alarmed.all() and self.remaining() == 0:
            twin.stop()

    def advance(self, t: float) -> None:
        """One kernel step of every model that has someone to move, from ``t``."""
        dt = self.settings.dt
        for bid, m in self.models.items():
            m.t = t
            busy = (m.state == K.WALKING).any() or ((m.state == K.WAITING) & (m.start_s <= t + dt)).any()
            if not busy:
                m.t = t + dt
                continue
            before = m.state.copy()
            m.step()
            idx = self.members[bid]
            started = (before == K.WAITING) & (m.state != K.WAITING)
            self.t_start[idx[started]] = m.start_s[started]
            left = np.flatnonzero((before != K.OUT) & (m.state == K.OUT))
            if left.size:
                who = idx[left]
                self.t_building_out[who] = m.t_out[left]
                if self.outdoor is not None:
                    for e, p in zip(m.exit_used[left].tolist(), who.tolist()):
                        self._door_queue.setdefault(m.exit_ids[e], []).append(p)
                else:
                    self.t_arrived[who] = m.t_out[left]
        o = self.outdoor
        if o is not None:
            self._step_out(t + dt)
            o.t = t
            if (o.state == K.WALKING).any() or (o.state == K.WAITING).any():
                before = o.state.copy()
                o.step()
                arr = np.flatnonzero((before != K.OUT) & (o.state == K.OUT))
                # people sent to a target (assign_route) walk on through the others they cross
                wrong = arr[~o.free_choice[arr] & (o.target[arr] != 0) & (o.target[arr] != o.exit_used[arr] + 1)]
                if wrong.size and len(o.exit_ids) > 1:
                    o.state[wrong] = K.WALKING
                    o.t_out[wrong] = np.nan
                    o.exit_used[wrong] = -1
                    arr = np.setdiff1d(arr, wrong)
                self.t_arrived[arr] = o.t_out[arr]
            else:
                o.t = t + dt

    def _compartments(self, bid: str) -> np.ndarray:
        """Zone-model compartment index per atlas cell of building ``bid`` (-1 none): flats,
        the storey's corridor for its other floor cells, the stair shaft for landings and
        flights (walk-up landings are part of their shaft)."""
        if bid in self._comp_of_cell:
            return self._comp_of_cell[bid]
        a, z = self.atlases[bid], self._fire.zone
        ids = {c: i for i, c in enumerate(z.ids)}
        lab = np.full(a.raster.walkable.shape, -1, dtype=np.int64)
        for k, rg in enumerate(a.regions):
            sl = (slice(rg.cells[1], rg.cells[3]), slice(rg.cells[0], rg.cells[2]))
            if rg.kind == "flight":
                lab[sl][a.region[sl] == k] = ids.get(rg.stair or "", -1)
                continue
            cid = f"{bid}-L{rg.level:02d}-C" if rg.level >= 0 else f"{bid}-L{rg.level}"
            lab[sl][a.region[sl] == k] = ids.get(cid, -1)
        for u, uid in enumerate(a.unit_ids):
            if uid in ids:
                lab[a.unit_lab == u] = ids[uid]
        for zid, mk in a.raster.zones.items():  # landings belong to their shaft
            sid = zid.rsplit("-L", 1)[0] if "-S" in zid else None
            if sid is not None and sid in ids and zid != sid:
                lab[mk] = ids[sid]
        self._comp_of_cell[bid] = lab
        return lab

    def _water_exposure(self) -> None:
        """Everyone walking on the estate through flood water: walking speed in water
        (Bernardini et al. 2020, :func:`twin.flood.hazard.walking_speed_in_water`), the FD2321
        hazard rating met, and stability (Xia et al., :func:`twin.flood.hazard.person_stability`
        with the body of their age group): a person who can no longer stand is swept off their
        feet and stops there (left to the rescuers, not modelled)."""
        from twin.flood.hazard import fd2321_hazard, person_stability, walking_speed_in_water

        o = self.outdoor
        assert o is not None
        who = np.flatnonzero(o.state == K.WALKING)
        if who.size == 0:
            return
        d = self._flood.depth_at(o.x[who], o.y[who])
        wet = d > 0.01
        base = self._v0_out[who]
        if not wet.any():
            o.v0[who] = base
            return
        w, dw = who[wet], d[wet]
        v = self._flood.speed_at(o.x[w], o.y[w])
        o.v0[who] = base
        o.v0[w] = np.maximum(np.asarray(walking_speed_in_water(dw, v, dry_speed_m_s=base[wet])), 0.05)
        self.max_water_m[w] = np.maximum(self.max_water_m[w], dw)
        self.max_water_hr[w] = np.maximum(self.max_water_hr[w], np.asarray(fd2321_hazard(dw, v).rating))
        prof = self.people.profile[w]
        groups = np.where(prof == int(Profile.CHILD), "child", np.where(prof == int(Profile.ELDERLY), "elderly", "adult"))
        down = np.zeros(w.size, dtype=bool)
        for gname in ("adult", "child", "elderly"):
            k = groups == gname
            if k.any():
                down[k] = ~np.asarray(person_stability(dw[k], v[k], group=gname).stable)
        if down.any():
            self.swept[w[down]] = True
            o.state[w[down]] = K.DORMANT

    def water_exposure(self) -> dict[str, Any]:
        """People who walked through flood water: how many, deeper than 0.2 m, the worst
        depth and FD2321 rating met, and how many were swept off their feet."""
        wet = self.max_water_m > 0.01
        return {"walked_through_water": int(wet.sum()), "deeper_than_0_2_m": int((self.max_water_m > 0.2).sum()),
                "max_depth_m": round(float(self.max_water_m.max()), 3) if wet.any() else 0.0,
                "max_fd2321_rating": round(float(self.max_water_hr.max()), 3) if wet.any() else 0.0,
                "swept": int(self.swept.sum())}

    def _smoke_exposure(self, dt: float, t: float = 0.0) -> None:
        """FED (ISO 13571 as in NIST FDS, :mod:`twin.fire.tenability`) and the walking speed in
        smoke (FDS+Evac, Frantzich & Nilsson) of everyone inside a burning building whose head
        (1.5 m above their floor) is in the smoke layer; FED >= 1 incapacitates (the person stops)."""
        from twin.fire.tenability import fed_rate_per_min, heat_incapacitation_min, walking_speed_in_smoke

        fire = self._fire
        st = fire.zone.state()
        z_abs = np.asarray(fire.zone.floor_z) + st.interface_m[0]
        k_ext = 8700.0 * st.soot_kg_m3[0]
        for bid, m in self.models.items():
            if bid not in fire.net.building:
                continue
            inside = np.flatnonzero((m.state == K.WALKING) | (m.state == K.WAITING))
            if inside.size == 0:
                continue
            lab = self._compartments(bid)
            i, j = m.raster.world_to_cell(m.x[inside], m.y[inside])
            c = lab[j, i]
            self.comp_last_occupied_s[c[c >= 0]] = t + dt
            a = self.atlases[bid]
            lev, _, _, z_rel = a.locate(m.x[inside], m.y[inside])
            head = self.site.building(bid).base_z + np.nan_to_num(z_rel) + 1.5
            exposed = (c >= 0) & (z_abs[np.maximum(c, 0)] < head) & (st.layer_kg[0][np.maximum(c, 0)] > 0)
            who = inside[exposed]
            idx = self.members[bid][who]
            cc = c[exposed]
            v0 = self._v0_base[bid][who]
            if who.size:
                rate = fed_rate_per_min(st.co_ppm[0][cc], st.co2_pct[0][cc], st.o2_pct[0][cc])
                heat = 1.0 / np.maximum(heat_incapacitation_min(np.maximum(st.temp_c[0][cc], 20.0)), 1e-9)
                self.fed[idx] += (np.asarray(rate) + heat) * dt / 60.0
                self.max_k_per_m[idx] = np.maximum(self.max_k_per_m[idx], k_ext[cc])
                m.v0[who] = np.maximum(np.asarray(walking_speed_in_smoke(v0, k_ext[cc])), 0.01)
            clear = inside[~exposed]
            m.v0[clear] = self._v0_base[bid][clear]
            down = who[self.fed[idx] >= 1.0]
            if down.size:  # collapsed where they stood: left to the fire service (not modelled)
                self.incapacitated[self.members[bid][down]] = True
                m.state[down] = K.DORMANT

    def exposure(self) -> dict[str, Any]:
        """People exposed to smoke (FED > 0), with FED >= 0.3 (all, and of the sensitive groups —
        elderly, children, wheelchair users, impaired — for whom ISO 13571 sets 0.3 as the
        incapacitation threshold), incapacitated (FED >= 1), and the worst extinction
        coefficient met; for the estate and ``by_building``."""
        sensitive = self.people.profile != int(Profile.ABLE)

        def one(sel: np.ndarray) -> dict[str, Any]:
            fed = self.fed[sel]
            return {"exposed": int((fed > 0).sum()), "fed_over_0_3": int((fed >= 0.3).sum()),
                    "sensitive_fed_over_0_3": int(((fed >= 0.3) & sensitive[sel]).sum()),
                    "incapacitated": int(self.incapacitated[sel].sum()),
                    "max_fed": round(float(fed.max()), 4) if fed.size else 0.0,
                    "max_extinction_per_m": round(float(self.max_k_per_m[sel].max()), 3) if fed.size else 0.0}

        out = one(np.ones(self.fed.size, dtype=bool))
        out["by_building"] = {b: one(self.person_building == b) for b in self.buildings
                              if (self.fed[self.person_building == b] > 0).any()}
        return out

    def fed_history(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(t [nt] s, person index [np], FED [nt, np])`` of the people of the burning buildings,
        recorded every :attr:`fed_record_every_s` while a fire component runs."""
        if not self.fed_t:
            return np.zeros(0), self._fed_who.copy(), np.zeros((0, self._fed_who.size))
        return np.asarray(self.fed_t), self._fed_who.copy(), np.stack(self.fed_series)

    def _step_out(self, t: float) -> None:
        """Bring the people at each building door onto the estate where there is room: a spot
        of the doorway area with no centre within 2 r (others wait at the door, a queue)."""
        o = self.outdoor
        assert o is not None
        for e, q in self._door_queue.items():
            if not q:
                continue
            ex, ey = self._exit_cells[e]
            x0, x1, y0, y1 = ex.min() - 1.0, ex.max() + 1.0, ey.min() - 1.0, ey.max() + 1.0
            near = np.flatnonzero((o.state == K.WALKING) & (o.x > x0) & (o.x < x1) & (o.y > y0) & (o.y < y1))
            px = list(o.x[near])
            py = list(o.y[near])
            order = self._rng.permutation(ex.size)[:64]
            placed = 0
            for c in order.tolist():
                if placed == len(q):
                    break
                cx, cy = float(ex[c]), float(ey[c])
                if px and min((cx - a) ** 2 + (cy - b) ** 2 for a, b in zip(px, py)) < 0.45 ** 2:
                    continue
                o.activate(q[placed], cx, cy, start_s=t)
                self._out_through[e] = self._out_through.get(e, 0) + 1
                px.append(cx)
                py.append(cy)
                placed += 1
            del q[:placed]

    def run(self, until: float, *, alarm_at: float = 0.0, progress: Any = None) -> float:
        """Stand-alone run (no twin): alarm everybody at ``alarm_at`` and step until everybody
        arrived or ``until`` (s). ``progress(t, remaining)`` is called every simulated 10 s."""
        if not self._alarmed.any():
            self.alarm(alarm_at)
        t = 0.0
        nxt = 0.0
        while t < until - 1e-9 and self.remaining() > 0:
            self.advance(t)
            t += self.settings.dt
            if progress is not None and t >= nxt:
                progress(t, self.remaining())
                nxt = t + 10.0
        return t

    # ------------------------------------------------------------------ results
    def remaining(self) -> int:
        """People still on their way: not yet at a target (or out of their building when
        ``to_targets`` is off) and not incapacitated by smoke."""
        return int((np.isnan(self.t_arrived) & ~self.incapacitated).sum())

    def rset(self) -> dict[str, dict[str, float]]:
        """Per building and for the estate: time (s from t = 0) for 95 % and 100 % to be out of
        the building, and (estate) to reach a target; ``inf`` when somebody never made it."""
        out: dict[str, dict[str, float]] = {}

        def q(v: np.ndarray, f: float) -> float:
            if v.size == 0:
                return float("nan")
            if np.isnan(v).any() and np.isnan(v).mean() > 1 - f + 1e-12:
                return float("inf")
            return float(np.nanquantile(np.where(np.isnan(v), np.inf, v), f, method="higher"))

        for bid, idx in self.members.items():
            v = self.t_building_out[idx]
            out[bid] = {"people": float(idx.size), "rset95_s": q(v, 0.95), "rset100_s": q(v, 1.0)}
        out["estate"] = {"people": float(len(self.t_arrived)), "rset95_s": q(self.t_building_out, 0.95),
                         "rset100_s": q(self.t_building_out, 1.0), "arrival95_s": q(self.t_arrived, 0.95),
                         "arrival100_s": q(self.t_arrived, 1.0)}
        return out

    def queue_times(self) -> np.ndarray:
        """Seconds each person walked below 30 % of their speed limit (queueing), building plus estate."""
        q = np.zeros(len(self.t_arrived))
        for bid, idx in self.members.items():
            q[idx] += self.models[bid].t_slow
        if self.outdoor is not None:
            q += self.outdoor.t_slow
        return q

    def _report_bottlenecks(self, t: float) -> None:
        if self._twin is None:
            return
        for row in self.bottlenecks()[: self.bottlenecks_reported]:
            self._twin.bus.publish(Bottleneck(t=t, subject=row["place"], node=row["place"], building=row["building"],
                                              kind=row["kind"], max_queue=float(row["peak_queue"]),
                                              wait_person_s=float(row["person_s"]), passed=float(row["passed"])))

    def bottlenecks(self) -> list[dict[str, Any]]:
        """Places ranked by person-seconds of queueing (from the recorded traces)."""
        from agents.crowd_metrics import bottlenecks as _bn

        rows: list[dict[str, Any]] = []
        models = [(bid, m) for bid, m in self.models.items()]
        if self.outdoor is not None:
            models.append(("", self.outdoor))
        for bid, m in models:
            if not m._trace:
                continue
            df = _bn(m.trace(), top=self.bottlenecks_reported)
            for r in df.itertuples(index=False):
                place = str(r.region)
                through = [c for pid, c in zip(m.portals.ids, m.portal_count.tolist()) if pid.startswith(place + "-")]
                if place in m.exit_ids:
                    kind, passed = ("target" if m is self.outdoor else "exit"), int(m.exit_counts().get(place, 0))
                elif through:
                    kind, passed = "stair", int(sum(through))
                elif m is self.outdoor and place in self._exit_cells:
                    kind, passed = "outside exit", int(self._out_through.get(place, 0))
                else:
                    kind, passed = "area", 0
                rows.append({"place": place, "building": bid, "kind": kind, "person_s": float(r.person_s_queueing),
                             "peak_queue": float(r.peak_queue_persons), "peak_density": float(r.peak_density_p_m2),
                             "los": str(r.los), "passed": passed})
        rows.sort(key=lambda r: -r["person_s"])
        return rows

    def get_state(self) -> dict[str, Any]:
        st: dict[str, Any] = {f"model:{b}": m.get_state() for b, m in self.models.items()}
        if self.outdoor is not None:
            st["outdoor"] = self.outdoor.get_state()
        st.update(door_queue={k: list(v) for k, v in self._door_queue.items()}, out_through=dict(self._out_through),
                  fed=self.fed.copy(), max_k=self.max_k_per_m.copy(), incap=self.incapacitated.copy(),
                  water=(self.max_water_m.copy(), self.max_water_hr.copy(), self.swept.copy()),
                  t_building_out=self.t_building_out.copy(), t_arrived=self.t_arrived.copy(),
                  t_start=self.t_start.copy(), alarmed=self._alarmed.copy(), t_alarm=self.t_alarm.copy(),
                  fed_rec=(list(self.fed_t), list(self.fed_series), self._fed_next),
                  comp_last=getattr(self, "comp_last_occupied_s", np.zeros(0)).copy(), b_reported=dict(self._b_reported),
                  t_reported=self._t_reported.copy(), placed=self._placed, rng=self._rng.bit_generator.state)
        return st

    def set_state(self, st: dict[str, Any]) -> None:
        for b, m in self.models.items():
            m.set_state(st[f"model:{b}"])
        if self.outdoor is not None:
            self.outdoor.set_state(st["outdoor"])
        self._door_queue = {k: list(v) for k, v in st["door_queue"].items()}
        self._out_through = dict(st["out_through"])
        self.fed = st["fed"].copy()
        self.max_k_per_m = st["max_k"].copy()
        self.incapacitated = st["incap"].copy()
        self.max_water_m, self.max_water_hr, self.swept = (a.copy() for a in st["water"])
        self.t_building_out = st["t_building_out"].copy()
        self.t_arrived = st["t_arrived"].copy()
        self.t_start = st["t_start"].copy()
        self._alarmed = st["alarmed"].copy()
        self.t_alarm = st["t_alarm"].copy()
        ft, fs, self._fed_next = st["fed_rec"]
        if st["comp_last"].size:
            self.comp_last_occupied_s = st["comp_last"].copy()
        self.fed_t, self.fed_series = list(ft), list(fs)
        self._b_reported = dict(st["b_reported"])
        self._t_reported = st["t_reported"].copy()
        self._placed = bool(st["placed"])
        self._rng.bit_generator.state = st["rng"]


def route_capacities(site: Site, building_id: str) -> dict[str, float]:
    """Capacity (p/s) of the way out through each exit of a building with stairs: the lesser of
    the door's and the stair's nearest to it, SFPE maximum specific flows (Gwynne & Rosenbaum,
    SFPE Handbook ch. 59): 1.3 p/(m s) for doors and 1.01 p/(m s) for 7/11 stairs, on the
    effective widths (clear width less 0.15 m per side)."""
    b = site.building(building_id)
    out: dict[str, float] = {}
    for e in b.exits:
        cap = 1.3 * max(e.width_m - 0.3, 0.3)
        if b.stairs and b.storeys > 1:
            st = min(b.stairs, key=lambda s: e.position.distance(s.position))
            cap = min(cap, 1.01 * max(st.width_m - 0.3, 0.3))
        out[e.id] = cap
    return out


def _roomy(a: BuildingAtlas, m: CrowdModel) -> np.ndarray:
    """Cells at least 0.5 m (cell centres) from any wall from which an exit can be reached
    without squeezing through a gap narrower than ~0.75 m: where people start, so nobody (and
    no wheelchair) starts in a sliver of a synthetic floor plan."""
    from geometry.distance import distance_field, wall_distance_field
    from geometry.raster import LevelRaster

    r = a.raster
    wide = r.walkable & (wall_distance_field(r.walkable, r.cell_size_m) >= 0.5 - 1e-9)
    # portal bands and exits stay passable (they lie against walls by construction)
    wide |= (a.portals.lab >= 0) | r.exits
    links = m._links
    if links is not None:
        flat = wide.ravel()
        keep = flat[links[0]] & flat[links[1]]
        links = (links[0][keep], links[1][keep], links[2][keep])
    tgt = r.exits & wide
    if not tgt.any():
        return wide
    d = distance_field(LevelRaster(wide, r.origin, r.cell_size_m), targets=tgt, links=links)
    return np.isfinite(d)


def _spots(a: BuildingAtlas, units: list[str], hh: np.ndarray, g: np.random.Generator,
           roomy: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A free spot per person inside their flat: random cells at least 0.5 m from the others of
    the household, preferably ``roomy`` ones (see :func:`_roomy`)."""
    x = np.empty(len(units))
    y = np.empty(len(units))
    cache: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    taken: dict[int, list[tuple[float, float]]] = {}
    h = a.raster.cell_size_m
    for k, (u, hk) in enumerate(zip(units, hh.tolist())):
        if u not in cache:
            cx, cy = a.unit_cells(u)
            if cx.size == 0:
                raise ValueError(f"{a.building}: unit {u} has no walkable floor in the atlas")
            if roomy is not None:
                i, j = a.raster.world_to_cell(cx, cy)
                ok = roomy[j, i]
                if ok.any():
                    cx, cy = cx[ok], cy[ok]
            cache[u] = (cx, cy)
        cx, cy = cache[u]
        mine = taken.setdefault(hk, [])
        for _ in range(60):
            c = int(g.integers(cx.size))
            px, py = float(cx[c]), float(cy[c])
            if all(math.hypot(px - qx, py - qy) >= 0.5 for qx, qy in mine):
                break
        mine.append((px, py))
        x[k] = px + g.uniform(-0.25, 0.25) * h
        y[k] = py + g.uniform(-0.25, 0.25) * h
    return x, y
