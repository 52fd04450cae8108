"""Flood in the twin: rain on the estate's terrain, drainage, the garage filling through its
ramp, roads closing, sensors firing and ground floors taking water.

:class:`FloodComponent` builds the site's flood grid (:mod:`twin.flood.site_grid`), steps a
:class:`~twin.flood.solvers.FloodModel` every tick and, from depth and velocity:

* pours the water that reaches the bottom of a garage ramp into the garage (a level pool over
  its floor, :class:`~twin.flood.site_grid.GarageStore`); when the garage is full to its ceiling
  the ramp backs up. The garage is impassable to cars from 0.3 m (Shand et al. 2011, small car
  in still water) and to people from 0.5 m (AIDR 7-3: H3 and above, unsafe for children and the
  elderly);
* closes roads, fire lanes and ramps for a vehicle class when any cell of them is unstable for
  it (Shand et al. 2011 via :func:`twin.flood.hazard.vehicle_stable`: small cars and emergency
  vehicles), publishing :class:`~twin.events.RoadClosed` / :class:`~twin.events.RoadReopened`;
* fires the water-level sensors at :data:`WATER_LEVEL_ALARM_M` (0.10 m of standing water) and
  the manhole-cover sensors at :data:`MANHOLE_ALARM_M` (0.20 m of surface water over the cover:
  a surcharging sewer lifts covers — an assumption of this model, which has no sewer network)
  as :class:`~twin.events.DetectorActivated`;
* marks a building's ground floor (and basements) flooded when the water at one of its
  ground-level doors is deeper than the threshold (0.15 m, :data:`~twin.flood.site_grid.DOOR_THRESHOLD_M`).

It keeps the maximum depth and speed per cell, the FD2321 hazard rating's maximum
(:func:`twin.flood.hazard.fd2321_hazard`), the depth series at the sensors, doors and in the
garages, and the model's volume account (:meth:`summary`). ``depth_at(x, y)`` and
``velocity_at(x, y)`` let the crowd model read the water at people's positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from geometry.site import Site
from twin.events import DetectorActivated, Event, RoadClosed, RoadReopened
from twin.flood.hazard import aidr_hazard_class, fd2321_hazard, vehicle_stable
from twin.flood.site_grid import DOOR_THRESHOLD_M, SiteFloodGrid, site_flood_grid
from twin.flood.solvers import FloodForcing, FloodModel

if TYPE_CHECKING:
    from twin.core import Twin

__all__ = ["FloodComponent", "Rainstorm", "WATER_LEVEL_ALARM_M", "MANHOLE_ALARM_M", "zhengzhou_like_storm"]

WATER_LEVEL_ALARM_M = 0.10
MANHOLE_ALARM_M = 0.20
GARAGE_CARS_M = 0.30
GARAGE_PEOPLE_M = 0.50
VEHICLES = ("small_car", "emergency")


@dataclass(frozen=True)
class Rainstorm:
    """A design storm: intensities ``rain_mm_h[k]`` over ``[times_s[k], times_s[k+1])`` and the
    estate's drainage capacity ``drainage_mm_h`` (what the pipes take away, per unit area)."""

    times_s: tuple[float, ...]
    rain_mm_h: tuple[float, ...]
    drainage_mm_h: float = 45.0

    def __post_init__(self) -> None:
        if len(self.times_s) != len(self.rain_mm_h) + 1 or not self.rain_mm_h:
            raise ValueError(f"Rainstorm: give one more time than intensities (interval edges), got "
                             f"{len(self.times_s)} times for {len(self.rain_mm_h)} intensities")
        if any(b <= a for a, b in zip(self.times_s, self.times_s[1:])):
            raise ValueError("Rainstorm.times_s: expected strictly increasing times")
        if any((not math.isfinite(r)) or r < 0 for r in self.rain_mm_h):
            raise ValueError("Rainstorm.rain_mm_h: expected intensities >= 0 mm/h")
        if not (math.isfinite(self.drainage_mm_h) and self.drainage_mm_h >= 0):
            raise ValueError(f"Rainstorm.drainage_mm_h: expected >= 0 mm/h, got {self.drainage_mm_h!r}")

    @property
    def total_mm(self) -> float:
        return float(sum(r * (b - a) / 3600.0 for r, a, b in zip(self.rain_mm_h, self.times_s, self.times_s[1:])))


def zhengzhou_like_storm(*, drainage_mm_h: float = 45.0, step_s: float = 600.0) -> Rainstorm:
    """A three-hour storm shaped after Zhengzhou, 20 July 2021: its published peak hour of
    201.9 mm (China Meteorological Administration) in the middle, one hour either side at about a
    third of it (an assumption: the shoulders are not station data), as ``step_s`` blocks with a
    triangular shape inside each hour-long part; drainage at the 3-year design capacity of a
    Chinese estate (~45 mm/h, ``shared/domain.md``)."""
    hours = (65.0, 201.9, 70.0)  # mm in each hour
    n = int(round(3600.0 / step_s))
    w = np.array([1.0 + (k if k < n / 2 else n - 1 - k) for k in range(n)], dtype=float)
    times, rain = [0.0], []
    for mm in hours:
        per = mm * w / w.sum()  # mm in each block
        for p in per:
            rain.append(float(p * 3600.0 / step_s))
            times.append(times[-1] + step_s)
    return Rainstorm(times_s=tuple(times), rain_mm_h=tuple(rain), drainage_mm_h=drainage_mm_h)


class FloodComponent:
    """The flood of ``site`` under ``storm`` (module docstring); ``solver`` "inertial" (default)
    or "fv"; ``cell_size_m`` of the flood grid; ``record_every_s`` for the series."""

    name = "flood"

    def __init__(self, site: Site, storm: Rainstorm, *, solver: str = "inertial", cell_size_m: float = 2.0,
                 record_every_s: float = 60.0, boundaries: str = "open",
                 points: dict[str, tuple[float, float]] | None = None) -> None:
        if boundaries not in ("open", "closed"):
            raise ValueError(f"FloodComponent: boundaries {boundaries!r}; expected 'open' or 'closed'")
        self.site = site
        self.storm = storm
        self.sg: SiteFloodGrid = site_flood_grid(site, cell_size_m=cell_size_m)
        forcing = FloodForcing(rain_times_s=list(storm.times_s), rain_mm_h=list(storm.rain_mm_h),
                               drain_capacity_mm_h=storm.drainage_mm_h,
                               boundaries={s: boundaries for s in ("west", "east", "south", "north")})
        self.model = FloodModel(self.sg.grid, solver=solver, forcing=forcing)
        self.record_every_s = float(record_every_s)
        shape = self.sg.grid.shape
        self.max_speed = np.zeros(shape)
        self.max_hr = np.zeros(shape)
        self.garage_in_m3 = {g.building: 0.0 for g in self.sg.garages}
        self.sensor_fired: dict[str, float] = {}
        self.ground_flooded: dict[str, float] = {}
        self.door_max: dict[str, float] = {k: 0.0 for k in self.sg.doors}
        self.closed: dict[tuple[str, str], float] = {}
        self.closures: list[dict[str, Any]] = []
        self.garage_full_s: dict[str, float] = {}
        self.garage_cars_s: dict[str, float] = {}
        self.garage_people_s: dict[str, float] = {}
        self.t_rec: list[float] = []
        self.garage_series: dict[str, list[float]] = {g.building: [] for g in self.sg.garages}
        self.sensor_series: dict[str, list[float]] = {k: [] for k in self.sg.sensors}
        # the user's chosen points (name -> x, y): depth over time there
        self.points: dict[str, tuple[int, int]] = {}
        for name, (x, y) in (points or {}).items():
            try:
                c = self.sg.grid.cell_of(float(x), float(y), name=f"point {name!r}")
            except ValueError as exc:
                raise ValueError(f"FloodComponent: {exc}") from None
            if self.sg.grid.closed[c]:
                raise ValueError(f"FloodComponent: point {name!r} at ({x:g}, {y:g}) lies inside a building; "
                                 "expected a point on open ground")
            self.points[name] = c
        self.point_series: dict[str, list[float]] = {k: [] for k in self.points}
        self._road_cells = {w: c for w, (kind, c) in self.sg.ways.items()
                            if kind in ("road", "fire_lane", "ramp") and len(c)}
        self._next_rec = 0.0
        self._twin: Twin | None = None
        self.t = 0.0

    # ------------------------------------------------------------------ twin
    def attach(self, twin: Twin) -> None:
        self._twin = twin

    def on_event(self, event: Event) -> None:
        return None

    def _publish(self, ev: Event) -> None:
        if self._twin is not None:
            self._twin.bus.publish(ev)

    def step(self, t: float, dt: float) -> None:
        self.advance(t, dt)

    def advance(self, t: float, dt: float) -> None:
        """Run the flood from ``t`` to ``t + dt`` (s) and apply the couplings."""
        m = self.model
        if abs(m.time_s - t) > 1e-6:
            raise ValueError(f"FloodComponent.advance: the model is at {m.time_s} s, asked to step from {t} s")
        m._advance(t + dt)
        now = t + dt
        self.t = now
        for g in self.sg.garages:
            if not g.full:
                got = m.withdraw(g.inlet_cells, max_m3=g.capacity_m3 - g.volume_m3)
                g.volume_m3 += got
                self.garage_in_m3[g.building] += got
            if g.full and g.building not in self.garage_full_s:
                self.garage_full_s[g.building] = now
            if g.depth_m >= GARAGE_CARS_M and g.building not in self.garage_cars_s:
                self.garage_cars_s[g.building] = now
            if g.depth_m >= GARAGE_PEOPLE_M and g.building not in self.garage_people_s:
                self.garage_people_s[g.building] = now
        h = m._h
        u, v = m.velocity_m_s()
        spd = np.hypot(u, v)
        np.maximum(self.max_speed, spd, out=self.max_speed)
        np.maximum(self.max_hr, np.asarray(fd2321_hazard(h, spd).rating), out=self.max_hr)
        for dev, (kind, (j, i)) in self.sg.sensors.items():
            thr = WATER_LEVEL_ALARM_M if kind == "water_level" else MANHOLE_ALARM_M
            if dev not in self.sensor_fired and h[j, i] >= thr:
                self.sensor_fired[dev] = now
                self._publish(DetectorActivated(t=now, device=dev, kind=kind))
        for door, (b, _lv, (j, i)) in self.sg.doors.items():
            self.door_max[door] = max(self.door_max[door], float(h[j, i]))
            if h[j, i] > DOOR_THRESHOLD_M and b not in self.ground_flooded:
                self.ground_flooded[b] = now
        for w, cells in self._road_cells.items():
            d = h[cells[:, 0], cells[:, 1]]
            s = spd[cells[:, 0], cells[:, 1]]
            for veh in VEHICLES:
                ok = bool(np.all(vehicle_stable(d, s, vehicle=veh)))
                key = (w, veh)
                if not ok and key not in self.closed:
                    self.closed[key] = now
                    self._publish(RoadClosed(t=now, road=w, vehicle=veh, reason=f"flood: {d.max():.2f} m deep"))
                elif ok and key in self.closed:
                    t0 = self.closed.pop(key)
                    self.closures.append({"road": w, "vehicle": veh, "closed_s": t0, "reopened_s": now})
                    self._publish(RoadReopened(t=now, road=w, vehicle=veh))
        if now + 1e-9 >= self._next_rec:
            self.t_rec.append(now)
            for g in self.sg.garages:
                self.garage_series[g.building].append(g.depth_m)
            for dev, (_k, (j, i)) in self.sg.sensors.items():
                self.sensor_series[dev].append(float(h[j, i]))
            for name, (j, i) in self.points.items():
                self.point_series[name].append(float(h[j, i]))
            self._next_rec = now + self.record_every_s

    # ------------------------------------------------------------------ queries
    def depth_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Water depth (m) at world points (0 outside the grid or in buildings)."""
        return self._sample(self.model._h, x, y)

    def speed_at(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        u, v = self.model.velocity_m_s()
        return self._sample(np.hypot(u, v), x, y)

    def _sample(self, field: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        g = self.sg.grid
        i = np.floor((np.asarray(x, float) - g.origin[0]) / g.cell_size_m).astype(np.int64)
        j = np.floor((np.asarray(y, float) - g.origin[1]) / g.cell_size_m).astype(np.int64)
        ok = (i >= 0) & (j >= 0) & (i < g.shape[1]) & (j < g.shape[0])
        out = np.zeros(np.shape(i))
        out[ok] = field[j[ok], i[ok]]
        return out

    def road_closures(self) -> list[dict[str, Any]]:
        """Every closure so far: road, vehicle class, closed_s, reopened_s (None: still closed)."""
        still = [{"road": w, "vehicle": v, "closed_s": t0, "reopened_s": None} for (w, v), t0 in self.closed.items()]
        return sorted(self.closures + still, key=lambda c: (c["closed_s"], c["road"], c["vehicle"]))

    def summary(self) -> dict[str, Any]:
        """Figures for ``metrics.json``: volumes, flooded area, garages, roads, sensors, doors."""
        mb = self.model.mass_balance()
        g = self.sg.grid
        a = g.cell_area_m2
        hmax = self.model.max_depth_m
        hz = np.asarray(aidr_hazard_class(hmax, self.max_speed))
        out: dict[str, Any] = {
            "storm": {"total_mm": round(self.storm.total_mm, 1), "peak_mm_h": round(max(self.storm.rain_mm_h), 1),
                      "drainage_mm_h": self.storm.drainage_mm_h, "duration_s": self.storm.times_s[-1]},
            "grid": {"cells": int(g.active.sum()), "cell_size_m": g.cell_size_m, "solver": self.model.solver},
            "volumes_m3": {"rain": round(mb.rain_m3, 1), "drained_and_garages": round(mb.drained_m3, 1),
                           "out_of_the_estate": round(mb.outflow_m3, 1), "on_the_ground": round(mb.stored_m3, 1),
                           "relative_error": float(f"{mb.relative_error:.3g}")},
            "max_depth_m": round(float(hmax.max()), 3),
            "area_deeper_than_m2": {f"{d:g}": round(float((hmax > d).sum() * a), 0) for d in (0.05, 0.15, 0.3, 0.5)},
            "area_by_hazard_class_m2": {f"H{k}": round(float(((hz == k) & (hmax > 0.01)).sum() * a), 0)
                                        for k in range(1, 7)},
            "max_fd2321_rating": round(float(self.max_hr.max()), 3),
            "garages": {gs.building: {"max_depth_m": round(max(self.garage_series[gs.building], default=gs.depth_m), 3),
                                      "depth_now_m": round(gs.depth_m, 3),
                                      "inflow_m3": round(self.garage_in_m3[gs.building], 1),
                                      "impassable_cars_s": _r(self.garage_cars_s.get(gs.building)),
                                      "impassable_people_s": _r(self.garage_people_s.get(gs.building)),
                                      "full_s": _r(self.garage_full_s.get(gs.building))} for gs in self.sg.garages},
            "roads": self.road_closures(),
            "sensors": {d: round(t, 1) for d, t in sorted(self.sensor_fired.items(), key=lambda kv: kv[1])},
            "ground_floors_flooded": {b: round(t, 1) for b, t in sorted(self.ground_flooded.items(), key=lambda kv: kv[1])},
            "points": {k: {"max_depth_m": round(max(v, default=0.0), 3),
                           "first_over_0_15_m_s": _first_over(self.t_rec, v, 0.15)} for k, v in self.point_series.items()},
        }
        return out

    def series(self) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``(t, garage depth per garage, depth per sensor and chosen point)``, every
        ``record_every_s``."""
        return (np.asarray(self.t_rec), {k: np.asarray(v) for k, v in self.garage_series.items()},
                {k: np.asarray(v) for k, v in {**self.sensor_series, **self.point_series}.items()})


def _first_over(t: list[float], v: list[float], thr: float) -> float | None:
    return next((round(tt, 1) for tt, vv in zip(t, v) if vv > thr), None)


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 1)


def hyetograph_from(values: Sequence[float], *, step_s: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Interval edges for equal ``step_s`` blocks of intensities ``values`` (mm/h)."""
    return tuple(float(k * step_s) for k in range(len(values) + 1)), tuple(float(v) for v in values)
