"""Synthetic storey layouts: where the flats, corridor, stairs and doors of one storey lie.

Sites carry footprints, stair cores and exits but no floor plans, so the navigation graph
(:mod:`geometry.navgraph`) and the storey rasters (:mod:`geometry.raster`) need a plausible,
deterministic plan. :func:`storey_layout` derives one from the footprint alone. All lengths in
metres, in the site's local CRS.

Recipe (the same inputs always give the same plan):

1. **Axes.** The footprint's minimum rotated rectangle gives the long axis ``u`` (unit vector,
   pointing east-ish) and the short axis ``v``; local coordinates ``(s, t)`` are measured along
   ``u`` and ``v`` from the rectangle's centre.
2. **Stair areas.** Each stair core serving the level (``lowest_level <= level <=
   highest_level``, defaulting to all levels of the building) gets a rectangle
   ``(2 * width + 0.2) x 5.0`` m centred on the stair position: two flights side by side plus a
   0.2 m well along ``u``, flights plus landings (~5 m) along ``v`` — the usual dog-leg stair of
   Chinese residential blocks (GB 50096-2011 §6.3). Clipped to the footprint.
3. **Mode.** ``walkup`` for the above-ground storeys of a residential walk-up (单元式住宅)
   that a stair serves: no corridor; the footprint is cut along ``u`` at the midpoints between
   neighbouring stairs into one section (单元) per stair, and each section's flats open straight
   onto their stair's landing (一梯两户 when there are two flats per stair). ``corridor`` for
   high-rises, kindergartens, community centres and other buildings (and for a walk-up storey no
   stair serves): a 1.5 m corridor along ``u`` through the centre, flats/rooms on both sides,
   stair areas stretched along ``v`` until they meet the corridor (a stair lobby). ``open`` for
   basements and garage storeys: the whole footprint is one open floor (stored as the
   corridor).
4. **Dwelling units** take their ids from :meth:`Building.unit_ids`. In a walk-up section the
   ``k`` flats are the section (less stairs and entrances) cut into ``k`` angular sectors around
   the stair centre, starting on the ``+v`` side, so every flat touches its landing; units are
   distributed over the sections as evenly as possible (the first sections get one more).
   Along a corridor the flats are equal-width strips on the two sides (the larger side takes the
   extra one). Non-residential storeys in ``corridor`` mode get rooms (``B03-L01-R01``) about
   6 m wide instead. A piece that falls apart keeps its largest part that touches the landing or
   corridor.
5. **Doors.** A unit's door is the midpoint of the longest stretch of its outline shared with its
   landing (walk-up) or the corridor; failing that, the point of the outline nearest to it. Each
   unit is assigned to its section's stair (walk-up) or to the stair nearest its door.
6. **Entrances.** Each exit on the level gets an entrance passage (exit width, at least 1.2 m)
   from the exit point on the footprint outline to the nearest stair area or corridor, cut out of
   the flats — so a ground-floor flat never swallows the way from the stair to the door.
7. Exits and elevators on the level are carried through unchanged.

Assumptions: rectangular-ish footprints give the cleanest plans; for L- or U-shaped outlines
the corridor may break into parts and some slivers may be left unassigned (walls/voids). No
room-level detail inside flats. Stairs outside ``building.levels`` are clipped to it (a fully
underground building's stairs may reach level 0, its surface kiosks, which has no layout).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from shapely.geometry import LineString, MultiPolygon, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points, unary_union

from geometry.site import Building, BuildingExit, BuildingUse, Elevator, StairCore

__all__ = [
    "CORRIDOR_WIDTH_M",
    "MIN_ENTRANCE_WIDTH_M",
    "ROOM_WIDTH_M",
    "STAIR_AREA_DEPTH_M",
    "StairArea",
    "StoreyLayout",
    "UnitLayout",
    "stair_area_size",
    "stair_level_range",
    "storey_layout",
]

CORRIDOR_WIDTH_M = 1.5
STAIR_AREA_DEPTH_M = 5.0
STAIR_WELL_M = 0.2
ROOM_WIDTH_M = 6.0
MIN_ENTRANCE_WIDTH_M = 1.2
_EPS = 1e-6


@dataclass(frozen=True)
class StairArea:
    """One stair core's footprint on a storey (flights and landings)."""

    id: str
    polygon: Polygon | MultiPolygon
    position: Point
    width_m: float


@dataclass(frozen=True)
class UnitLayout:
    """A dwelling unit (``kind='dwelling'``) or a room of a non-residential storey
    (``kind='room'``): its outline, door point (on the outline) and the stair assigned to it."""

    id: str
    polygon: Polygon
    door: Point
    stair: str | None
    kind: str = "dwelling"

    @property
    def centre(self) -> Point:
        c = self.polygon.centroid
        return c if self.polygon.contains(c) else self.polygon.representative_point()


@dataclass
class StoreyLayout:
    """The synthetic plan of one storey (see the module docstring for the recipe)."""

    building: str
    level: int
    z: float
    mode: str  # 'walkup' | 'corridor' | 'open'
    footprint: Polygon
    axis: tuple[float, float]
    centre: tuple[float, float]
    stairs: list[StairArea] = field(default_factory=list)
    units: list[UnitLayout] = field(default_factory=list)
    corridor: Polygon | MultiPolygon | None = None
    entrances: list[Polygon] = field(default_factory=list)
    exits: list[BuildingExit] = field(default_factory=list)
    elevators: list[Elevator] = field(default_factory=list)

    @property
    def walkup(self) -> bool:
        return self.mode == "walkup"

    @property
    def circulation(self) -> BaseGeometry:
        """Corridor, stair areas and entrances together (the common parts of the storey)."""
        parts: list[BaseGeometry] = [s.polygon for s in self.stairs] + list(self.entrances)
        if self.corridor is not None:
            parts.append(self.corridor)
        return unary_union(parts) if parts else Polygon()

    def unit(self, unit_id: str) -> UnitLayout:
        for u in self.units:
            if u.id == unit_id:
                return u
        raise KeyError(f"building {self.building} level {self.level} has no unit {unit_id!r}")

    def stair(self, stair_id: str) -> StairArea:
        for s in self.stairs:
            if s.id == stair_id:
                return s
        raise KeyError(f"building {self.building} level {self.level} has no stair {stair_id!r}")

    def to_local(self, x: float, y: float) -> tuple[float, float]:
        """World (x, y) to local (s along the long axis, t across), metres from the centre."""
        ux, uy = self.axis
        dx, dy = x - self.centre[0], y - self.centre[1]
        return dx * ux + dy * uy, -dx * uy + dy * ux


def stair_area_size(stair: StairCore) -> tuple[float, float]:
    """(along the long axis, across) of a stair area: ``(2 * width + 0.2, 5.0)`` m."""
    return 2.0 * stair.width_m + STAIR_WELL_M, STAIR_AREA_DEPTH_M


def stair_level_range(building: Building, stair: StairCore) -> range:
    """The levels a stair serves: its ``lowest_level..highest_level`` (defaults: the building's
    lowest and highest level), clipped to the building's levels — except that a fully
    underground building (``storeys == 0``) keeps level 0, where its stairs surface (kiosks)."""
    lo = -building.basement_levels if stair.lowest_level is None else stair.lowest_level
    hi = building.storeys - 1 if stair.highest_level is None else stair.highest_level
    lo = max(lo, -building.basement_levels)
    hi = min(hi, max(building.storeys, 1) - 1)
    return range(lo, hi + 1)


# --------------------------------------------------------------------- frame
class _Frame:
    """Local (s, t) frame of a footprint's minimum rotated rectangle."""

    def __init__(self, footprint: Polygon) -> None:
        rect = footprint.minimum_rotated_rectangle
        if isinstance(rect, Polygon) and not rect.is_empty:
            xy = list(rect.exterior.coords)[:4]
            e0 = (xy[1][0] - xy[0][0], xy[1][1] - xy[0][1])
            e1 = (xy[2][0] - xy[1][0], xy[2][1] - xy[1][1])
            l0, l1 = math.hypot(*e0), math.hypot(*e1)
            if abs(l0 - l1) <= 1e-9 * max(l0, l1, 1.0):  # square: prefer the more east-west edge
                long = e0 if abs(e0[0]) >= abs(e1[0]) else e1
            else:
                long = e0 if l0 > l1 else e1
            c = rect.centroid
            self.cx, self.cy = c.x, c.y
        else:
            long = (1.0, 0.0)
            c = footprint.centroid
            self.cx, self.cy = c.x, c.y
        n = math.hypot(*long) or 1.0
        ux, uy = long[0] / n, long[1] / n
        if ux < -1e-12 or (abs(ux) <= 1e-12 and uy < 0):
            ux, uy = -ux, -uy
        self.ux, self.uy = ux, uy
        ss, ts = [], []
        for x, y in footprint.exterior.coords:
            s, t = self.local(x, y)
            ss.append(s)
            ts.append(t)
        self.smin, self.smax, self.tmin, self.tmax = min(ss), max(ss), min(ts), max(ts)

    def local(self, x: float, y: float) -> tuple[float, float]:
        dx, dy = x - self.cx, y - self.cy
        return dx * self.ux + dy * self.uy, -dx * self.uy + dy * self.ux

    def world(self, s: float, t: float) -> tuple[float, float]:
        return self.cx + s * self.ux - t * self.uy, self.cy + s * self.uy + t * self.ux

    def rect(self, s0: float, s1: float, t0: float, t1: float) -> Polygon:
        return Polygon([self.world(s0, t0), self.world(s1, t0), self.world(s1, t1), self.world(s0, t1)])

    def sector(self, s: float, t: float, a0: float, a1: float, radius: float) -> Polygon:
        """A circular sector (angles in radians from +u) of ``radius`` around local (s, t)."""
        n = max(2, int(math.ceil((a1 - a0) / (math.pi / 8))))
        pts = [self.world(s, t)]
        for k in range(n + 1):
            a = a0 + (a1 - a0) * k / n
            pts.append(self.world(s + radius * math.cos(a), t + radius * math.sin(a)))
        return Polygon(pts)


# --------------------------------------------------------------------- helpers
def _polys(geom: BaseGeometry) -> list[Polygon]:
    if geom.is_empty:
        return []
    if isinstance(geom, Polygon):
        return [geom]
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]


def _pick_part(geom: BaseGeometry, touch: BaseGeometry | None) -> Polygon | None:
    """The largest polygon of ``geom`` that touches ``touch`` (or the largest at all)."""
    parts = [p for p in _polys(geom) if p.area > 1e-6]
    if not parts:
        return None
    if touch is not None and not touch.is_empty:
        near = [p for p in parts if p.distance(touch) < 1e-4]
        if near:
            parts = near
    return max(parts, key=lambda p: p.area)


def _door(unit: Polygon, space: BaseGeometry) -> Point:
    """Midpoint of the longest stretch of ``unit``'s outline on ``space``, else the nearest point."""
    if space is not None and not space.is_empty:
        shared = unit.exterior.intersection(space.buffer(1e-4))
        lines: list[LineString] = []
        if isinstance(shared, LineString):
            lines = [shared]
        else:
            lines = [g for g in getattr(shared, "geoms", []) if isinstance(g, LineString)]
        lines = [ln for ln in lines if ln.length > 1e-3]
        if lines:
            best = max(lines, key=lambda ln: ln.length)
            p = best.interpolate(0.5, normalized=True)
            return Point(p.x, p.y)
        p = nearest_points(unit.exterior, space)[0]
        return Point(p.x, p.y)
    p = unit.exterior.interpolate(0.0)
    return Point(p.x, p.y)


def _split_even(n: int, k: int) -> list[int]:
    if k <= 0:
        return []
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


# --------------------------------------------------------------------- public
def storey_layout(building: Building, level: int) -> StoreyLayout:
    """The synthetic plan of ``building``'s storey ``level`` (recipe in the module docstring).

    Raises ``ValueError`` when ``level`` is not a level of the building."""
    if level not in building.levels:
        raise ValueError(
            f"building {building.id}: level {level} is not one of its levels "
            f"({building.levels.start}..{building.levels.stop - 1})"
        )
    fp = building.footprint
    fr = _Frame(fp)
    serving = [s for s in building.stairs if level in stair_level_range(building, s)]
    serving.sort(key=lambda s: (fr.local(s.position.x, s.position.y)[0], s.id))
    if level < 0 or building.use == BuildingUse.GARAGE:
        mode = "open"
    elif building.use == BuildingUse.WALKUP and serving:
        mode = "walkup"
    else:
        mode = "corridor"
    half = CORRIDOR_WIDTH_M / 2.0
    big = 4.0 * (fr.smax - fr.smin + fr.tmax - fr.tmin) + 10.0

    # stair areas
    stairs: list[StairArea] = []
    for s in serving:
        a, d = stair_area_size(s)
        ps, pt = fr.local(s.position.x, s.position.y)
        t0, t1 = pt - d / 2.0, pt + d / 2.0
        if mode == "corridor":  # stretch to the corridor: a stair lobby
            t0, t1 = min(t0, -half + _EPS), max(t1, half - _EPS)
        poly = fr.rect(ps - a / 2.0, ps + a / 2.0, t0, t1).intersection(fp)
        part = _pick_part(poly, None)
        if part is None:  # stair outside the footprint (allowed within 1 m): keep a sliver
            part = fp.intersection(s.position.buffer(a))
            part = _pick_part(part, None) or fp
        stairs.append(StairArea(id=s.id, polygon=part, position=s.position, width_m=s.width_m))
    stair_union = unary_union([s.polygon for s in stairs]) if stairs else Polygon()

    corridor: BaseGeometry | None = None
    if mode == "corridor":
        corridor = fr.rect(fr.smin - 1.0, fr.smax + 1.0, -half, half).intersection(fp)
        if corridor.is_empty:
            corridor = None
        else:
            parts = _polys(corridor)
            corridor = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    elif mode == "open":
        corridor = fp

    # entrances from the level's exits to the circulation
    exits = [e for e in building.exits if e.level == level]
    entrances: list[Polygon] = []
    if mode != "open":
        circ0 = unary_union([g for g in (stair_union, corridor) if g is not None and not g.is_empty])
        for e in exits:
            if circ0.is_empty:
                break
            p0 = nearest_points(fp.exterior, e.position)[0]
            if circ0.buffer(1e-4).contains(p0):
                continue
            p1 = nearest_points(circ0, p0)[0]
            if p0.distance(p1) < 1e-3:
                continue
            w = max(e.width_m, MIN_ENTRANCE_WIDTH_M)
            # extend slightly into the circulation so the passage overlaps it
            dx, dy = p1.x - p0.x, p1.y - p0.y
            n = math.hypot(dx, dy)
            far = Point(p1.x + dx / n * 0.5, p1.y + dy / n * 0.5)
            passage = LineString([(p0.x - dx / n * 0.5, p0.y - dy / n * 0.5), far]).buffer(w / 2.0, cap_style="flat")
            part = _pick_part(passage.intersection(fp), None)
            if part is not None:
                entrances.append(part)

    common = unary_union([g for g in [stair_union, corridor, *entrances] if g is not None and not g.is_empty])
    units: list[UnitLayout] = []
    unit_ids = building.unit_ids(level)
    if mode == "walkup":
        m = len(stairs)
        counts = _split_even(len(unit_ids), m)
        ss = [fr.local(s.position.x, s.position.y)[0] for s in stairs]
        k_id = 0
        for i, st in enumerate(stairs):
            lo = fr.smin - 1.0 if i == 0 else 0.5 * (ss[i - 1] + ss[i])
            hi = fr.smax + 1.0 if i == m - 1 else 0.5 * (ss[i] + ss[i + 1])
            section = fr.rect(lo, hi, fr.tmin - 1.0, fr.tmax + 1.0).intersection(fp).difference(common)
            k = counts[i]
            ps, pt = fr.local(st.position.x, st.position.y)
            for j in range(k):
                if k == 1:
                    piece = section
                else:
                    a0 = math.pi / 2 + 2 * math.pi * j / k
                    piece = section.intersection(fr.sector(ps, pt, a0, a0 + 2 * math.pi / k, big))
                poly = _pick_part(piece, st.polygon)
                uid = unit_ids[k_id]
                k_id += 1
                if poly is None:
                    poly = _fallback_box(fr, st.polygon, ps, pt)
                units.append(UnitLayout(uid, poly, _door(poly, st.polygon), st.id, "dwelling"))
    elif mode == "corridor":
        ids = unit_ids
        kind = "dwelling"
        rest = fp.difference(common)
        sides = [
            rest.intersection(fr.rect(fr.smin - 1.0, fr.smax + 1.0, half - _EPS, fr.tmax + 1.0)),
            rest.intersection(fr.rect(fr.smin - 1.0, fr.smax + 1.0, fr.tmin - 1.0, -half + _EPS)),
        ]
        if not ids and building.use != BuildingUse.GARAGE and not building.use.residential:
            n_rooms = [
                max(1, int(round((fr.smax - fr.smin) / ROOM_WIDTH_M))) if side.area > 1.0 else 0 for side in sides
            ]
            ids = [f"{building.id}-L{level:02d}-R{r + 1:02d}" for r in range(sum(n_rooms))]
            kind = "room"
            per_side = n_rooms
        else:
            big_first = sides[0].area >= sides[1].area
            nbig, nsmall = (len(ids) + 1) // 2, len(ids) // 2
            per_side = [nbig, nsmall] if big_first else [nsmall, nbig]
        k_id = 0
        for side, k in zip(sides, per_side):
            if k == 0:
                continue
            if side.is_empty:
                side_s = (fr.smin, fr.smax)
            else:
                loc = [fr.local(x, y)[0] for x, y in _coords(side)]
                side_s = (min(loc), max(loc))
            width = (side_s[1] - side_s[0]) / k
            for j in range(k):
                s0, s1 = side_s[0] + j * width, side_s[0] + (j + 1) * width
                piece = side.intersection(fr.rect(s0, s1, fr.tmin - 1.0, fr.tmax + 1.0))
                poly = _pick_part(piece, corridor)
                if poly is None:
                    poly = _fallback_box(fr, corridor if corridor is not None else fp, 0.5 * (s0 + s1), 0.0)
                door = _door(poly, corridor if corridor is not None else stair_union)
                nearest = min(stairs, key=lambda s: (s.position.distance(door), s.id)).id if stairs else None
                units.append(UnitLayout(ids[k_id], poly, door, nearest, kind))
                k_id += 1

    return StoreyLayout(
        building=building.id,
        level=level,
        z=building.level_z(level),
        mode=mode,
        footprint=fp,
        axis=(fr.ux, fr.uy),
        centre=(fr.cx, fr.cy),
        stairs=stairs,
        units=units,
        corridor=corridor,
        entrances=entrances,
        exits=exits,
        elevators=list(building.elevators),
    )


def _coords(geom: BaseGeometry) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for p in _polys(geom):
        out.extend(p.exterior.coords)
    return out


def _fallback_box(fr: _Frame, near: BaseGeometry, s: float, t: float) -> Polygon:
    """A 1 x 1 m unit next to ``near`` for a degenerate footprint where the recipe leaves no
    room for a unit (keeps its id; documented as a sliver)."""
    x, y = fr.world(s, t)
    p = nearest_points(near, Point(x, y))[0] if near is not None and not near.is_empty else Point(x, y)
    return Polygon(p.buffer(0.5, cap_style="square"))
