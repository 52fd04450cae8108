"""The flood grid of a site: terrain, buildings as obstacles, kerbs, land cover, the garage ramp
and what the flood coupling needs to find on it (doors, roads, sensors, the garage).

:func:`site_flood_grid` samples the site's DEM (``Site.terrain``; a flat datum without one) at
the cell centres of a grid over the site boundary plus a margin, then:

* **buildings** with storeys above ground are closed cells (walls; rain on roofs is assumed to
  go down the downpipes into the drainage system, which the drainage capacity stands for);
  a fully underground building (the garage) is not an obstacle: its roof is the estate's ground;
* **roads, fire lanes and parking** lie :data:`KERB_M` = 0.15 m below the pavements and greens
  around them (kerb exposed height 0.10-0.20 m, CJJ 37-2012 *Code for design of urban road
  engineering* §5.4; the carriageway is where a Chinese estate's surface water runs);
* **the garage ramp** (a way of kind ``ramp`` next to an underground building) is cut into the
  ground, falling linearly from its upper end at ground level to the garage floor (the
  building's lowest level) at the end next to the garage; water reaching its lowest cells
  pours into the garage (:class:`GarageStore`: free outfall, the garage fills as a level pool
  over its floor area until it is full to its ceiling);
* **Manning's n** by land cover (Chow 1959, *Open-channel hydraulics*, Table 5-6): asphalt and
  concrete (roads, fire lanes, ramps, parking, squares, charging bays) 0.016, paving
  (walkways, playgrounds) 0.020, short grass (greens and the rest of the estate) 0.035.

Bad input (a cell size that is not positive, a grid of more than :data:`MAX_CELLS` cells, a
ramp with no underground building at either end) raises ``ValueError`` naming the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import Point

from geometry.site import DeviceKind, Site
from twin.flood.solvers import FloodGrid

__all__ = [
    "KERB_M",
    "MANNING_N",
    "MAX_CELLS",
    "DOOR_THRESHOLD_M",
    "GarageStore",
    "SiteFloodGrid",
    "site_flood_grid",
]

KERB_M = 0.15
#: The ground floor of a building lies 0.15 m or more above the ground outside (GB 50352-2019
#: *Uniform standard for design of civil buildings* §5.3.1 / GB 50096 practice: indoor-outdoor
#: height difference); water deeper than this at a door enters the ground floor.
DOOR_THRESHOLD_M = 0.15
MANNING_N = {"hard": 0.016, "paving": 0.020, "grass": 0.035}
MAX_CELLS = 4_000_000
_HARD_WAYS = ("road", "fire_lane", "ramp")
_HARD_SPACES = ("parking", "square", "charging")


@dataclass
class GarageStore:
    """An underground garage filled through its ramp: floor ``area_m2``, ``height_m`` from floor
    to ceiling, ``floor_z_m`` (m above datum); ``volume_m3`` the water in it. The water in it is
    a level pool (depth = volume / area)."""

    building: str
    area_m2: float
    height_m: float
    floor_z_m: float
    inlet_cells: np.ndarray  # (k, 2) rows, cols of the ramp's lowest cells
    volume_m3: float = 0.0

    @property
    def depth_m(self) -> float:
        return self.volume_m3 / self.area_m2

    @property
    def capacity_m3(self) -> float:
        return self.area_m2 * self.height_m

    @property
    def full(self) -> bool:
        return self.volume_m3 >= self.capacity_m3 - 1e-9


@dataclass
class SiteFloodGrid:
    """A :class:`FloodGrid` of a site and where things are on it: ``doors`` (exit id -> building
    id, level, cell) of ground-level exits, ``ways`` (way id -> kind, cells), ``sensors``
    (device id -> kind, cell) of water-level and manhole sensors, ``garages``, and the land-cover
    class per cell (``cover``: 0 hard, 1 paving, 2 grass, -1 building)."""

    grid: FloodGrid
    doors: dict[str, tuple[str, int, tuple[int, int]]] = field(default_factory=dict)
    ways: dict[str, tuple[str, np.ndarray]] = field(default_factory=dict)
    sensors: dict[str, tuple[str, tuple[int, int]]] = field(default_factory=dict)
    garages: list[GarageStore] = field(default_factory=list)
    cover: np.ndarray | None = None

    def cell_of(self, x: float, y: float) -> tuple[int, int]:
        return self.grid.cell_of(x, y)


def _mask(geom: object, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    return shapely.contains_xy(geom, xs, ys)


def site_flood_grid(site: Site, *, cell_size_m: float = 2.0, margin_m: float = 10.0, kerb_m: float = KERB_M
                    ) -> SiteFloodGrid:
    """The flood grid of ``site`` (module docstring)."""
    if not (isinstance(cell_size_m, (int, float)) and math.isfinite(cell_size_m) and cell_size_m > 0):
        raise ValueError(f"site_flood_grid: cell_size_m must be a positive number of metres, got {cell_size_m!r}")
    if not (math.isfinite(margin_m) and margin_m >= 0 and math.isfinite(kerb_m) and kerb_m >= 0):
        raise ValueError("site_flood_grid: margin_m and kerb_m must be finite numbers >= 0")
    x0, y0, x1, y1 = site.boundary.bounds
    x0, y0 = math.floor((x0 - margin_m) / cell_size_m) * cell_size_m, math.floor((y0 - margin_m) / cell_size_m) * cell_size_m
    nx = int(math.ceil((x1 + margin_m - x0) / cell_size_m))
    ny = int(math.ceil((y1 + margin_m - y0) / cell_size_m))
    if nx * ny > MAX_CELLS:
        raise ValueError(f"site_flood_grid: {nx} x {ny} cells at cell_size_m={cell_size_m} is more than {MAX_CELLS:,}; "
                         "use larger cells")
    xs = x0 + (np.arange(nx) + 0.5) * cell_size_m
    ys = y0 + (np.arange(ny) + 0.5) * cell_size_m
    X, Y = np.meshgrid(xs, ys)
    bed = site.terrain.elevation_at(X, Y) if site.terrain is not None else np.zeros_like(X)
    bed = np.asarray(bed, dtype=float).copy()
    cover = np.full(bed.shape, 2, dtype=np.int8)
    # land cover, then kerbs: the hard surfaces lie below the rest
    low = np.zeros(bed.shape, dtype=bool)
    for o in site.open_spaces:
        m = _mask(o.polygon, X, Y)
        if o.kind in _HARD_SPACES:
            cover[m] = 0
            low |= m & (o.kind == "parking")
        elif o.kind == "playground":
            cover[m] = 1
    for w in site.ways:
        m = _mask(w.area, X, Y)
        if w.kind in _HARD_WAYS:
            cover[m] = 0
            if w.kind != "ramp":
                low |= m
        else:  # walkways: paving, unless a hard surface is already there
            cover[m] = np.minimum(cover[m], 1)
    bed[low] -= kerb_m
    closed = np.zeros(bed.shape, dtype=bool)
    for b in site.buildings:
        if b.storeys > 0:
            closed |= _mask(b.footprint, X, Y)
    cover[closed] = -1
    out = SiteFloodGrid(grid=FloodGrid(bed_m=bed, cell_size_m=float(cell_size_m), origin=(x0, y0),
                                       manning_n=np.array([MANNING_N["hard"], MANNING_N["paving"],
                                                           MANNING_N["grass"], MANNING_N["grass"]])[cover],
                                       closed=closed), cover=cover)
    grid = out.grid

    def cell(x: float, y: float) -> tuple[int, int] | None:
        i = int((x - x0) // cell_size_m)
        j = int((y - y0) // cell_size_m)
        return (j, i) if 0 <= i < nx and 0 <= j < ny else None

    # the garage ramps, cut into the ground down to the garage floor
    for w in site.ways:
        if w.kind != "ramp":
            continue
        ends = [Point(w.line.coords[0]), Point(w.line.coords[-1])]
        garages = [b for b in site.buildings if b.storeys == 0 and b.basement_levels > 0]
        best = min(((b.footprint.distance(p), k, b) for b in garages for k, p in enumerate(ends)), default=None,
                   key=lambda x: (x[0], x[1]))
        if best is None or best[0] > 5.0:
            raise ValueError(f"site_flood_grid: ramp {w.id} ends at no underground building (field 'ways', kind 'ramp'; "
                             "expected one end within 5 m of a garage footprint)")
        _, k_low, g = best
        m = _mask(w.area, X, Y) & ~closed
        jj, ii = np.nonzero(m)
        if jj.size == 0:
            continue
        low_end, high_end = ends[k_low], ends[1 - k_low]
        s = np.array([w.line.project(Point(x, y), normalized=True) for x, y in zip(X[m], Y[m])])
        frac = np.clip(np.abs(s - w.line.project(high_end, normalized=True)), 0.0, 1.0)
        top = float(site.terrain.elevation_at(high_end.x, high_end.y)) if site.terrain is not None else 0.0
        floor = g.level_z(-g.basement_levels)
        grid.bed_m[jj, ii] = top + (floor - top) * frac
        # the lowest cells: within one cell of the low end
        d_low = np.hypot(X[m] - low_end.x, Y[m] - low_end.y)
        sel = d_low <= d_low.min() + cell_size_m
        out.garages.append(GarageStore(building=g.id, area_m2=float(g.footprint.area), height_m=float(g.storey_height_m)
                                       * g.basement_levels, floor_z_m=floor,
                                       inlet_cells=np.column_stack([jj[sel], ii[sel]]).astype(np.int64)))
    # doors of the ground-level exits: the open cell outside each
    for b in site.buildings:
        if b.storeys == 0:
            continue
        for e in b.exits:
            if e.level != 0:
                continue
            c = _outside_cell(e.position, b.footprint, closed, cell, cell_size_m)
            if c is not None:
                out.doors[e.id] = (b.id, 0, c)
    for w in site.ways:
        m = _mask(w.area, X, Y) & ~closed
        out.ways[w.id] = (w.kind, np.column_stack(np.nonzero(m)).astype(np.int64))
    for d in site.devices:
        if d.kind in (DeviceKind.WATER_LEVEL, DeviceKind.MANHOLE):
            c = cell(d.position.x, d.position.y)
            if c is not None and not closed[c]:
                out.sensors[d.id] = (d.kind.value, c)
    return out


def _outside_cell(p: Point, footprint: object, closed: np.ndarray, cell: object, dx: float) -> tuple[int, int] | None:
    """The open cell nearest to a door point, stepping outward from the footprint."""
    c = footprint.centroid  # type: ignore[attr-defined]
    vx, vy = p.x - c.x, p.y - c.y
    n = math.hypot(vx, vy) or 1.0
    for k in range(0, 6):
        q = cell(p.x + vx / n * k * dx * 0.75, p.y + vy / n * k * dx * 0.75)  # type: ignore[operator]
        if q is not None and not closed[q]:
            return q
    return None
