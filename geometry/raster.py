"""Walkable-cell rasters of one level: what the crowd model walks on and steers by.

A :class:`LevelRaster` is a boolean grid ``walkable[j, i]`` (row 0 = south, column 0 = west)
whose cell (i, j) has its lower-left corner at ``origin + (i, j) * cell_size_m`` (the same
convention as :class:`geometry.site.Terrain`), plus masks of door openings and exits and named
zones (units, stairs, assembly points, gates ...). A cell is walkable when its **centre** lies
in the walkable area (``shapely.contains_xy``, vectorized) and not in an obstacle.

* :func:`rasterize_polygons` — free-form geometry (validation rooms and corridors, RiMEA).
  Polygon obstacles block cells whose centre lies inside them (keep them at least one cell
  thick); line obstacles (walls as lines) block every cell whose centre is within half a cell
  of the line (``<=``), which always forms an 8-connected barrier the 16-neighbourhood of
  :mod:`geometry.distance` cannot cross. ``openings`` are carved back (walkable, door mask);
  ``exits`` are walkable and marked in the exit mask.
* :func:`outdoor_raster` — the site boundary less the footprints of buildings above ground,
  with each ground-level exit carved into its footprint edge as an opening (exit width, two
  cells deep) and marked as an exit; zones for assembly points, gates and exits.
* :func:`storey_raster` — the storey layout of :mod:`geometry.floorplan`: flats, corridor, stair
  areas and entrances walkable; walls (half a cell each side) along every flat's outline and
  the footprint outline; 0.9 m doors from flats to the landing/corridor and the exits as
  openings; zones for every unit, stair and exit.

Cell sizes must lie in [0.1, 1.0] m: finer grids cost memory and time for no gain at the
0.4-0.5 m body size of pedestrians; coarser ones close doors.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points, unary_union

from geometry.floorplan import storey_layout
from geometry.site import Site

__all__ = [
    "CELL_SIZE_RANGE_M",
    "LevelRaster",
    "outdoor_raster",
    "rasterize_polygons",
    "storey_raster",
]

CELL_SIZE_RANGE_M = (0.1, 1.0)
UNIT_DOOR_WIDTH_M = 0.9
MAX_CELLS = 50_000_000


@dataclass
class LevelRaster:
    """A walkable grid of one level (conventions in the module docstring)."""

    walkable: np.ndarray
    origin: tuple[float, float]
    cell_size_m: float
    level: int = 0
    building: str | None = None
    doors: np.ndarray | None = None
    exits: np.ndarray | None = None
    zones: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_cell_size(self.cell_size_m)
        self.walkable = np.ascontiguousarray(self.walkable, dtype=bool)
        if self.walkable.ndim != 2:
            raise ValueError(f"LevelRaster: walkable must be 2-D [ny, nx], got shape {self.walkable.shape}")
        if self.doors is None:
            self.doors = np.zeros_like(self.walkable)
        if self.exits is None:
            self.exits = np.zeros_like(self.walkable)
        for nm, arr in (("doors", self.doors), ("exits", self.exits), *self.zones.items()):
            if arr.shape != self.walkable.shape:
                raise ValueError(f"LevelRaster: mask {nm!r} has shape {arr.shape}, expected {self.walkable.shape}")

    @property
    def shape(self) -> tuple[int, int]:
        return self.walkable.shape  # type: ignore[return-value]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        ny, nx = self.walkable.shape
        x0, y0 = self.origin
        return (x0, y0, x0 + nx * self.cell_size_m, y0 + ny * self.cell_size_m)

    def world_to_cell(self, x: float | np.ndarray, y: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(i, j) integer cell indices (column, row) of world points; may lie outside the grid."""
        i = np.floor((np.asarray(x, float) - self.origin[0]) / self.cell_size_m).astype(np.int64)
        j = np.floor((np.asarray(y, float) - self.origin[1]) / self.cell_size_m).astype(np.int64)
        return i, j

    def cell_to_world(self, i: int | np.ndarray, j: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World (x, y) of the centres of cells (i, j)."""
        x = self.origin[0] + (np.asarray(i, float) + 0.5) * self.cell_size_m
        y = self.origin[1] + (np.asarray(j, float) + 0.5) * self.cell_size_m
        return x, y

    def inside(self, i: np.ndarray | int, j: np.ndarray | int) -> np.ndarray:
        ny, nx = self.walkable.shape
        i, j = np.asarray(i), np.asarray(j)
        return (i >= 0) & (i < nx) & (j >= 0) & (j < ny)

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Centre coordinates of all cells as two [ny, nx] arrays."""
        ny, nx = self.walkable.shape
        xs = self.origin[0] + (np.arange(nx) + 0.5) * self.cell_size_m
        ys = self.origin[1] + (np.arange(ny) + 0.5) * self.cell_size_m
        return np.meshgrid(xs, ys)

    def mask_of(self, geom: BaseGeometry) -> np.ndarray:
        """Cells whose centre lies in ``geom`` (polygons) or within half a cell of it (points,
        lines)."""
        return _mask(geom, *self.cell_centres(), self.cell_size_m)


def _check_cell_size(h: float) -> None:
    lo, hi = CELL_SIZE_RANGE_M
    if not isinstance(h, (int, float)) or not math.isfinite(h) or not (lo <= h <= hi):
        raise ValueError(f"cell_size_m must be a number in [{lo}, {hi}] m, got {h!r}")


def _parts(geoms: BaseGeometry | Iterable[BaseGeometry] | None) -> list[BaseGeometry]:
    if geoms is None:
        return []
    if isinstance(geoms, BaseGeometry):
        geoms = [geoms]
    out: list[BaseGeometry] = []
    for g in geoms:
        if not isinstance(g, BaseGeometry):
            raise TypeError(f"expected shapely geometries, got {type(g).__name__}")
        if not g.is_empty:
            out.append(g)
    return out


def _mask(geom: BaseGeometry, xs: np.ndarray, ys: np.ndarray, h: float) -> np.ndarray:
    """Polygonal parts: centre inside; points and lines: centre within h/2."""
    out = np.zeros(xs.shape, dtype=bool)
    if geom is None or geom.is_empty:
        return out
    areal = [g for g in _flatten(geom) if g.geom_type == "Polygon"]
    thin = [g for g in _flatten(geom) if g.geom_type != "Polygon"]
    if areal:
        a = unary_union(areal)
        shapely.prepare(a)
        x0, y0, x1, y1 = a.bounds
        sel = (xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1)
        if sel.any():
            out[sel] = shapely.contains_xy(a, xs[sel], ys[sel])
    if thin:
        t = unary_union(thin)
        x0, y0, x1, y1 = t.bounds
        r = 0.5 * h + 1e-9
        sel = (xs >= x0 - r) & (xs <= x1 + r) & (ys >= y0 - r) & (ys <= y1 + r)
        if sel.any():
            shapely.prepare(t)
            out[sel] |= shapely.dwithin(t, shapely.points(xs[sel], ys[sel]), r)
    return out


def _flatten(geom: BaseGeometry) -> list[BaseGeometry]:
    if hasattr(geom, "geoms"):
        out: list[BaseGeometry] = []
        for g in geom.geoms:
            out.extend(_flatten(g))
        return out
    return [geom]


def _grid(bounds: tuple[float, float, float, float], h: float, origin: tuple[float, float] | None,
          shape: tuple[int, int] | None, pad_cells: int = 0) -> tuple[tuple[float, float], tuple[int, int]]:
    x0, y0, x1, y1 = bounds
    if origin is None:
        origin = (x0 - pad_cells * h, y0 - pad_cells * h)
    if shape is None:
        nx = max(1, int(math.ceil((x1 - origin[0]) / h - 1e-9)) + pad_cells)
        ny = max(1, int(math.ceil((y1 - origin[1]) / h - 1e-9)) + pad_cells)
        shape = (ny, nx)
    if len(shape) != 2 or shape[0] < 1 or shape[1] < 1:
        raise ValueError(f"shape must be (ny, nx) with both >= 1, got {shape}")
    if shape[0] * shape[1] > MAX_CELLS:
        raise ValueError(f"raster of {shape[0]} x {shape[1]} cells exceeds {MAX_CELLS} cells; use a coarser cell_size_m")
    return (float(origin[0]), float(origin[1])), (int(shape[0]), int(shape[1]))


def rasterize_polygons(
    walkable: BaseGeometry | Iterable[BaseGeometry],
    *,
    obstacles: BaseGeometry | Iterable[BaseGeometry] = (),
    openings: BaseGeometry | Iterable[BaseGeometry] = (),
    exits: BaseGeometry | Iterable[BaseGeometry] = (),
    zones: dict[str, BaseGeometry] | None = None,
    cell_size_m: float = 0.25,
    origin: tuple[float, float] | None = None,
    shape: tuple[int, int] | None = None,
    level: int = 0,
    building: str | None = None,
) -> LevelRaster:
    """Rasterize free-form geometry (rules in the module docstring). ``origin`` (lower-left
    corner, m) and ``shape`` (ny, nx) default to the walkable area's bounds."""
    _check_cell_size(cell_size_m)
    walk_parts = _parts(walkable)
    if not walk_parts:
        raise ValueError("rasterize_polygons: 'walkable' is empty; expected at least one polygon")
    bad = [g.geom_type for g in walk_parts if g.geom_type not in ("Polygon", "MultiPolygon", "GeometryCollection")]
    if bad:
        raise ValueError(f"rasterize_polygons: 'walkable' must be polygons, got {', '.join(bad)}")
    area = unary_union(walk_parts)
    org, shp = _grid(area.bounds, cell_size_m, origin, shape)
    ny, nx = shp
    xs = org[0] + (np.arange(nx) + 0.5) * cell_size_m
    ys = org[1] + (np.arange(ny) + 0.5) * cell_size_m
    X, Y = np.meshgrid(xs, ys)
    walk = _mask(area, X, Y, cell_size_m)
    obs = _parts(obstacles)
    if obs:
        walk &= ~_mask(unary_union(obs), X, Y, cell_size_m)
    doors = np.zeros_like(walk)
    ops = _parts(openings)
    if ops:
        doors = _mask(unary_union(ops), X, Y, cell_size_m)
        walk |= doors
    ex = np.zeros_like(walk)
    exs = _parts(exits)
    if exs:
        ex = _mask(unary_union(exs), X, Y, cell_size_m)
        walk |= ex
    zmasks = {k: _mask(g, X, Y, cell_size_m) & walk for k, g in (zones or {}).items()}
    return LevelRaster(walk, org, float(cell_size_m), level=level, building=building, doors=doors, exits=ex,
                       zones=zmasks)


def _opening_box(ring: BaseGeometry, p: Point, width: float, depth: float) -> Polygon:
    """A rectangle ``width`` along the outline ``ring`` at its point nearest ``p``, ``depth``
    to each side of it."""
    q = nearest_points(ring, p)[0]
    d = ring.project(q)
    a = ring.interpolate(max(d - 0.05, 0.0))
    b = ring.interpolate(min(d + 0.05, ring.length))
    tx, ty = b.x - a.x, b.y - a.y
    n = math.hypot(tx, ty)
    if n < 1e-12:
        tx, ty, n = 1.0, 0.0, 1.0
    tx, ty = tx / n, ty / n
    nx_, ny_ = -ty, tx
    w, dd = width / 2.0, depth
    pts = [
        (q.x - tx * w - nx_ * dd, q.y - ty * w - ny_ * dd),
        (q.x + tx * w - nx_ * dd, q.y + ty * w - ny_ * dd),
        (q.x + tx * w + nx_ * dd, q.y + ty * w + ny_ * dd),
        (q.x - tx * w + nx_ * dd, q.y - ty * w + ny_ * dd),
    ]
    return Polygon(pts)


def outdoor_raster(site: Site, *, cell_size_m: float = 0.5) -> LevelRaster:
    """The open ground of ``site`` at level 0 (module docstring). Zones: every assembly point
    (its id), every gate (cells within half its width of the gate) and every exit."""
    _check_cell_size(cell_size_m)
    h = float(cell_size_m)
    above = [b for b in site.buildings if b.storeys > 0]
    openings: list[Polygon] = []
    zones: dict[str, BaseGeometry] = {}
    for b in above:
        for e in b.exits:
            if e.level != 0:
                continue
            box = _opening_box(b.footprint.exterior, e.position, max(e.width_m, h), 2.0 * h)
            cut = box.intersection(b.footprint)
            if cut.is_empty:
                cut = box
            openings.append(cut)
            zones[e.id] = cut
    for o in site.assembly_points:
        zones[o.id] = o.polygon
    for g in site.gates:
        zones[g.id] = g.position.buffer(max(g.width_m / 2.0, h))
    r = rasterize_polygons(
        site.boundary,
        obstacles=[b.footprint for b in above],
        exits=openings,
        zones=zones,
        cell_size_m=h,
        level=0,
        building=None,
    )
    # the exit threshold is also a door opening
    r.doors = r.exits.copy()
    return r


def storey_raster(site: Site, building_id: str, level: int, *, cell_size_m: float = 0.25) -> LevelRaster:
    """The walkable plan of one storey from :func:`geometry.floorplan.storey_layout` (module
    docstring). Zones: every unit/room id, every stair id on the level, every exit id."""
    _check_cell_size(cell_size_m)
    h = float(cell_size_m)
    b = site.building(building_id)
    lay = storey_layout(b, level)
    circ = lay.circulation
    units = [u.polygon for u in lay.units]
    walkable = [g for g in [circ, *units] if not g.is_empty]
    walls: list[BaseGeometry] = [b.footprint.exterior] + [u.polygon.exterior for u in lay.units]
    if lay.mode == "walkup" or lay.mode == "corridor":
        # the circulation's own outline (where it meets voids or flats)
        for p in _polygons(circ):
            walls.append(p.exterior)
    openings: list[Polygon] = []
    zones: dict[str, BaseGeometry] = {}
    for u in lay.units:
        ring = u.polygon.exterior
        openings.append(_opening_box(ring, u.door, UNIT_DOOR_WIDTH_M, 1.5 * h))
        zones[u.id] = u.polygon
    exits: list[Polygon] = []
    for e in lay.exits:
        box = _opening_box(b.footprint.exterior, e.position, max(e.width_m, h), 1.5 * h)
        exits.append(box)
        zones[e.id] = box
    for s in lay.stairs:
        zones[s.id] = s.polygon
    if lay.corridor is not None:
        zones[f"{b.id}-L{level:02d}-C"] = lay.corridor
    fp = b.footprint.buffer(2.0 * h)
    org, shp = _grid(fp.bounds, h, None, None)
    return rasterize_polygons(
        walkable,
        obstacles=[LineString(w.coords) for w in walls],
        openings=openings,
        exits=exits,
        zones=zones,
        cell_size_m=h,
        origin=org,
        shape=shp,
        level=level,
        building=b.id,
    )


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    return [g for g in _flatten(geom) if isinstance(g, Polygon) and not g.is_empty]
