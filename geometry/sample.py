"""The built-in sample community: "Heping Garden (和平花园) sample estate".

A realistic, synthetic Chinese residential estate (小区) that ``shoumen demo``, the scenario
library and the tests use when no site file is given (DESIGN.md, principle 5). It is built in
code, deterministically and quickly (well under a second), and passes :meth:`Site.validate`.
The ``seed`` only chooses *which* households are elderly people living alone (and so carry an
emergency button and, most of them, a wristband); all geometry is the same for every seed.

Frame
-----
CRS ``LOCAL``: metres, origin at the south-west corner of the boundary wall, x east, y north,
z up with z = 0 at the natural ground in the middle of the estate (150, 120). The walled
boundary is a 300 m x 240 m rectangle (7.2 ha).

Buildings (ids north-west first, row by row, west to east)
-----------------------------------------------------------
Rows run east-west with the long (south) faces to the sun, tall buildings north so that they do
not shade the low ones, and every stair door (单元门) on the north face, as Chinese estates do.

* Rows 1-3, ``B01``-``B09``: nine 18-storey slab high-rises (``residential_highrise``), 60 x 16 m,
  storey 2.9 m (52.2 m tall), internal corridor, 16 households per storey (288 per building), two
  1.2 m stair cores 4 m in from the ends, a 1.4 m exit beside each, two elevators (``EL1`` is the
  fire-service lift), one basement level. The gap between high-rise rows is 40 m (0.77 H): the
  1.0-1.3 H sunlight spacing is relaxed, as it is in many dense urban estates.
* Row 4, ``B10``-``B13``: four 6-storey walk-ups (``residential_walkup``) of four 单元 each,
  50 x 12 m; row 5, ``B14``, ``B15``: two older 3-单元 walk-ups, 37.5 x 12 m. Storey 2.9 m
  (17.4 m tall). Each 单元 has its own 1.1 m stair core and its own 1.2 m ground-floor door, two
  flats per landing (households per storey = 2 x stairs). Rows of walk-ups are 21 m apart
  (1.2 H, the usual sunlight spacing), and so is the last high-rise row from the first walk-up row.
* ``K01`` kindergarten (3 storeys of 3.6 m, 40 x 24 m, two 1.4 m stairs, two 1.5 m exits) and
  ``C01`` community centre (2 storeys of 3.9 m, 30 x 18 m, two stairs, two exits), both beside
  the south main gate.
* ``P01`` fully underground garage (storeys 0, one basement level of 3.8 m floor to floor:
  2.2 m minimum clear height for cars plus structure and services), 233 x 32 m under the lawn
  between high-rise rows 1 and 2, footprint clear of every other footprint. Two pedestrian stairs
  (levels -1..0) open in surface kiosks (exits ``P01-E1``, ``P01-E2`` at level 0, each within
  60 m walking of any point of the floor) and the vehicle door ``P01-E3`` (6 m, level -1) sits
  at the bottom of ramp ``RAMP1`` (6 m wide, 34 m from the east ring road, about 12 % slope).

Households: 9 x 288 + 4 x 48 + 2 x 36 = **2,856** (~3,000). At
:data:`SAMPLE_RESIDENTS_PER_HOUSEHOLD` = 2.83 residents each that is ~8,100 residents, the
domain's "typical community of ~8,500" (shared/domain.md) at the same household size.

Ways, gates, open spaces, grids
-------------------------------
* ``R01`` ring road (6 m) 8 m inside the wall; ``R02`` east vehicle-gate road (7 m); ``R03`` south
  gate road (6 m); ``R04``, ``R05`` north-south roads (6 m) through the high-rise rows; ``R06``-``R08``
  east-west fire lanes (4 m) along the south faces of the high-rise rows; ``RAMP1`` garage ramp.
* Walkways: ``F01`` main avenue (4 m) from the south gate, ``F02`` front walk (2 m) along row 5,
  ``F03`` north gate path (3 m), ``F04``-``F06`` square links (3 m), and one 2 m walkway from each
  building exit to the nearest road, lane or walkway (``F07``...). Ways are noded: every
  junction is a shared vertex.
* Gates: ``G-N`` north pedestrian gate (face recognition), ``G-E`` east vehicle gate (licence-plate
  recognition), ``G-S`` south main gate, mixed, guard post with visitor QR codes (access ``qr``).
* Open spaces: ``SQ1`` central square, 1,540 m², assembly point for 3,080 people at
  :data:`ASSEMBLY_M2_PER_PERSON` = 0.5 m² per standing person (the model's documented default;
  it lies in Fruin's queuing level of service D, 0.28-0.65 m²/p, just denser than LoS C,
  0.65-0.93 m²/p: J.J. Fruin, *Pedestrian Planning and Design*, 1971); ``GR1`` west green,
  1,920 m², second assembly point counting only its lawn (70 %, the rest trees and beds) ->
  2,688 people; ``GR2`` east green; ``PL1`` playground beside the kindergarten; ``CH1``, ``CH2``
  central e-bike charging points, >= 6 m from any building (domain practice 6: e-bikes are
  charged only at central points, never indoors), 2.5 m² per charging place; ``PK1`` (in the
  low south-east corner), ``PK2`` surface parking, 25 m² per place including aisle.
* Grids ``GRID1``-``GRID5`` partition the estate, three residential buildings each (the domain's
  worked example: 15 buildings, 5 grids, one grid worker each).

Terrain (2 m DEM, boundary plus a 10 m margin, float64)
--------------------------------------------------------
1. A plane falling 0.5 % towards the south-east (bearing 135°), z = 0 at (150, 120).
2. A bowl in the south-east corner: 1.5 m deep at (282, 20), cosine taper to 0 at 40 m radius.
   It takes in the corner of the ring road and parking ``PK1`` -- where rain water collects, the
   estate's flood hot spot (the domain's basement-flood example).
3. Building pads: every above-ground building sits on a flat pad (its footprint plus 1 m) at
   ``base_z`` = the natural ground at its centroid, so the DEM at each centroid is its ``base_z``.
4. The ramp is carved in: flat at the road level at the road edge, falling linearly to the
   garage floor (``P01.base_z - 3.8`` m, about -3.5 m), then a 3 m flat landing at the door.
   The garage's ``base_z`` is the natural ground at its centroid (its roof carries the lawn).

Devices (seed 0; the counts are the same for every seed)
---------------------------------------------------------
* 106 cameras: 2 per gate (``cam-gate-north-1`` looks in, ``-2`` out); one facing each of the 47
  building exits from 4 m out at 3 m (``cam-B03-E1``; the garage door's camera is inside the
  garage); 22 along the perimeter wall, one per ~49 m, looking along it (turned 20° inwards);
  4 at the square, 2 at the assembly green, 2 at the playground, 1 per charging point, 3 at the
  car parks, 1 at the ramp top, 8 inside the garage (level -1), 1 in each high-rise lobby (level 0). That is below
  the domain's one camera per 200 m² of public area, on purpose: closing the gap is what the
  optimizer is for.
* 2,952 smoke detectors: one per household (2,856, ``smk-B03-L05-U02``, ceiling 2.7 m) and, in the
  kindergarten and community centre, one per <= 60 m² of each floor (96; GB 50116-2013 Table
  6.2.2, A = 60 m² for rooms over 80 m² and under 6 m high).
* 28 heat detectors in the garage (one per ~300 m²); 47 door sensors, one on every exit door
  (the garage's surface kiosk doors are outdoor devices, no building); 4 water-level sensors
  (garage west and east sumps, ramp bottom, low south-east corner); 54 manhole-cover sensors,
  every 40 m along roads and fire lanes.
* Elderly people living alone: 143 households (5 %), each with an emergency button
  (``btn-B03-L05-U02``); 114 of them (80 %, the domain target) also with a wristband
  (``wb-...``). Source and assumption: domain.md gives 18.7 % of residents aged 60+, i.e.
  0.187 x 2.83 = 0.53 older people per household; *assuming* about one in ten of them lives
  alone (this module's assumption, not a domain figure) gives ~0.053 single-elderly households
  per household, rounded to 5 %. Which households: ``numpy.random.Generator(PCG64(seed))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box
from shapely.geometry.base import BaseGeometry

from geometry.site import (
    Building,
    BuildingExit,
    BuildingUse,
    CameraSpec,
    Device,
    DeviceKind,
    Elevator,
    Gate,
    Grid,
    OpenSpace,
    Site,
    StairCore,
    Terrain,
    Way,
)

__all__ = [
    "ASSEMBLY_M2_PER_PERSON",
    "SAMPLE_ELDERLY_ALONE_SHARE",
    "SAMPLE_NAME",
    "SAMPLE_RESIDENTS_PER_HOUSEHOLD",
    "SAMPLE_WRISTBAND_SHARE",
    "sample_community",
]

#: The sample estate's name.
SAMPLE_NAME = "Heping Garden (和平花园) sample estate"
#: Residents per household: the domain's ~8,500 residents over ~3,000 households (8,500 / 3,000).
SAMPLE_RESIDENTS_PER_HOUSEHOLD = 2.83
#: Share of households that are one elderly person living alone (module docstring: assumption).
SAMPLE_ELDERLY_ALONE_SHARE = 0.05
#: Share of elderly-living-alone households given a wristband (domain.md practice 8 target).
SAMPLE_WRISTBAND_SHARE = 0.80
#: Standing space per person used for assembly-point capacity (m²/person).
ASSEMBLY_M2_PER_PERSON = 0.5

# ----------------------------------------------------------------------------- layout constants
_W, _H = 300.0, 240.0  # boundary (m)
_DATUM_XY = (150.0, 120.0)  # natural ground z = 0 here
_SLOPE = 0.005  # 0.5 % towards the south-east
_BOWL_XY, _BOWL_DEPTH_M, _BOWL_RADIUS_M = (282.0, 20.0), 1.5, 40.0
_DEM_CELL_M, _DEM_MARGIN_M = 2.0, 10.0
_STOREY_M = 2.9
_GARAGE_STOREY_M = 3.8
_RING = 8.0  # ring-road centre line, m inside the wall
_HR_ROWS_Y0 = (204.0, 148.0, 92.0)  # south faces of the high-rise rows
_HR_COLS_X0 = (20.0, 120.0, 220.0)
_GARAGE_BOX = (25.0, 168.0, 258.0, 200.0)
_RAMP_Y = 184.0
_SMOKE_Z_M = 2.7  # ceiling mount in a 2.9 m storey
_M2_PER_CHARGING_PLACE = 2.5
_M2_PER_PARKING_PLACE = 25.0
_GREEN_LAWN_SHARE = 0.7


# ----------------------------------------------------------------------------- terrain
def _natural_ground(x: np.ndarray | float, y: np.ndarray | float) -> np.ndarray:
    """Plane falling 0.5 % to the south-east plus the south-east bowl (m)."""
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    plane = _SLOPE * ((_DATUM_XY[0] - x) + (y - _DATUM_XY[1])) / math.sqrt(2.0)
    r = np.hypot(x - _BOWL_XY[0], y - _BOWL_XY[1])
    bowl = _BOWL_DEPTH_M * 0.5 * (1.0 + np.cos(np.pi * np.minimum(r / _BOWL_RADIUS_M, 1.0)))
    return plane - bowl


def _dem_grid() -> tuple[tuple[float, float], np.ndarray, np.ndarray]:
    x0, y0 = -_DEM_MARGIN_M, -_DEM_MARGIN_M
    nx = int(round((_W + 2 * _DEM_MARGIN_M) / _DEM_CELL_M))
    ny = int(round((_H + 2 * _DEM_MARGIN_M) / _DEM_CELL_M))
    xc = x0 + (np.arange(nx) + 0.5) * _DEM_CELL_M
    yc = y0 + (np.arange(ny) + 0.5) * _DEM_CELL_M
    xx, yy = np.meshgrid(xc, yc)  # row 0 = southern row
    return (x0, y0), xx, yy


# ----------------------------------------------------------------------------- buildings
@dataclass
class _Door:
    """Layout-only facts about an exit: its outward normal (for walkways and cameras)."""

    exit: BuildingExit
    normal: tuple[float, float]


def _highrise(bid: str, x0: float, y0: float, doors: list[_Door]) -> Building:
    x1, y1 = x0 + 60.0, y0 + 16.0
    cx = (x0 + x1) / 2
    base = float(_natural_ground(cx, (y0 + y1) / 2))
    b = Building(
        bid, box(x0, y0, x1, y1), BuildingUse.HIGHRISE, storeys=18, storey_height_m=_STOREY_M,
        basement_levels=1, households_per_storey=16, name=f"Building {int(bid[1:])} (high-rise)",
        base_z=base,
    )
    for k, sx in enumerate((x0 + 4.0, x1 - 4.0), start=1):
        b.stairs.append(StairCore(f"{bid}-S{k}", bid, Point(sx, y1 - 3.5), width_m=1.2,
                                  lowest_level=-1, highest_level=17))
        e = BuildingExit(f"{bid}-E{k}", bid, Point(sx, y1), width_m=1.4, level=0)
        b.exits.append(e)
        doors.append(_Door(e, (0.0, 1.0)))
    b.elevators = [
        Elevator(f"{bid}-EL1", bid, Point(cx - 1.5, y1 - 2.5), fire_service=True),
        Elevator(f"{bid}-EL2", bid, Point(cx + 1.5, y1 - 2.5)),
    ]
    return b


def _walkup(bid: str, x0: float, y0: float, n_stairs: int, doors: list[_Door]) -> Building:
    x1, y1 = x0 + 12.5 * n_stairs, y0 + 12.0
    base = float(_natural_ground((x0 + x1) / 2, (y0 + y1) / 2))
    b = Building(
        bid, box(x0, y0, x1, y1), BuildingUse.WALKUP, storeys=6, storey_height_m=_STOREY_M,
        households_per_storey=2 * n_stairs, name=f"Building {int(bid[1:])} (walk-up)", base_z=base,
    )
    for k in range(n_stairs):
        sx = x0 + 12.5 * (k + 0.5)
        b.stairs.append(StairCore(f"{bid}-S{k + 1}", bid, Point(sx, y1 - 2.5), width_m=1.1,
                                  lowest_level=0, highest_level=5))
        e = BuildingExit(f"{bid}-E{k + 1}", bid, Point(sx, y1), width_m=1.2, level=0)
        b.exits.append(e)
        doors.append(_Door(e, (0.0, 1.0)))
    return b


def _public(bid: str, use: BuildingUse, name: str, fp: Polygon, storeys: int, storey_m: float,
            stairs: list[tuple[float, float]], exits: list[tuple[float, float, tuple[float, float]]],
            doors: list[_Door]) -> Building:
    c = fp.centroid
    b = Building(bid, fp, use, storeys=storeys, storey_height_m=storey_m, name=name,
                 base_z=float(_natural_ground(c.x, c.y)))
    for k, (sx, sy) in enumerate(stairs, start=1):
        b.stairs.append(StairCore(f"{bid}-S{k}", bid, Point(sx, sy), width_m=1.4,
                                  lowest_level=0, highest_level=storeys - 1))
    for k, (ex, ey, nrm) in enumerate(exits, start=1):
        e = BuildingExit(f"{bid}-E{k}", bid, Point(ex, ey), width_m=1.5, level=0)
        b.exits.append(e)
        doors.append(_Door(e, nrm))
    return b


def _garage(doors: list[_Door]) -> Building:
    fp = box(*_GARAGE_BOX)
    c = fp.centroid
    b = Building("P01", fp, BuildingUse.GARAGE, storeys=0, storey_height_m=_GARAGE_STOREY_M,
                 basement_levels=1, name="Underground garage",
                 base_z=float(_natural_ground(c.x, c.y)))
    for k, sx in enumerate((75.0, 165.0), start=1):
        b.stairs.append(StairCore(f"P01-S{k}", "P01", Point(sx, 190.0), width_m=1.2,
                                  lowest_level=-1, highest_level=0))
        e = BuildingExit(f"P01-E{k}", "P01", Point(sx, 192.0), width_m=1.2, level=0)
        b.exits.append(e)
        doors.append(_Door(e, (0.0, 1.0)))
    # the vehicle door at the bottom of the ramp
    b.exits.append(BuildingExit("P01-E3", "P01", Point(_GARAGE_BOX[2], _RAMP_Y), width_m=6.0, level=-1))
    return b


def _buildings(doors: list[_Door]) -> list[Building]:
    out: list[Building] = []
    n = 0
    for y0 in _HR_ROWS_Y0:
        for x0 in _HR_COLS_X0:
            n += 1
            out.append(_highrise(f"B{n:02d}", x0, y0, doors))
    for x0, n_st in ((20.0, 4), (85.0, 4), (165.0, 4), (230.0, 4)):
        n += 1
        out.append(_walkup(f"B{n:02d}", x0, 59.0, n_st, doors))
    for x0, n_st in ((20.0, 3), (230.0, 3)):
        n += 1
        out.append(_walkup(f"B{n:02d}", x0, 26.0, n_st, doors))
    out.append(_public(
        "K01", BuildingUse.KINDERGARTEN, "Heping Garden Kindergarten", box(90, 20, 130, 44), 3, 3.6,
        stairs=[(94.0, 40.0), (126.0, 40.0)],
        exits=[(94.0, 44.0, (0.0, 1.0)), (126.0, 44.0, (0.0, 1.0))], doors=doors))
    out.append(_public(
        "C01", BuildingUse.COMMUNITY_CENTRE, "Community service centre", box(170, 22, 200, 40), 2, 3.9,
        stairs=[(173.5, 31.0), (196.0, 36.5)],
        exits=[(170.0, 31.0, (-1.0, 0.0)), (195.0, 40.0, (0.0, 1.0))], doors=doors))
    out.append(_garage(doors))
    return out


def _unit_position(b: Building, u: int) -> Point:
    """Centre of dwelling unit index ``u`` (0-based) on a storey of residential building ``b``."""
    x0, y0, x1, y1 = b.footprint.bounds
    if b.use == BuildingUse.WALKUP:
        k, side = divmod(u, 2)
        return Point(x0 + 12.5 * (k + 0.5) + (-3.1 if side == 0 else 3.1), (y0 + y1) / 2)
    row, col = divmod(u, 8)  # high-rise: U01-U08 south side, U09-U16 north side of the corridor
    return Point(x0 + 3.75 + 7.5 * col, y0 + 4.0 if row == 0 else y1 - 4.0)


# ----------------------------------------------------------------------------- ways
def _line(*pts: tuple[float, float]) -> LineString:
    return LineString(pts)


def _points_of(geom: BaseGeometry) -> list[Point]:
    if geom.is_empty:
        return []
    if isinstance(geom, Point):
        return [geom]
    if isinstance(geom, MultiPoint):
        return list(geom.geoms)
    if isinstance(geom, LineString):
        return [Point(c) for c in (geom.coords[0], geom.coords[-1])]
    out: list[Point] = []
    for g in getattr(geom, "geoms", []):
        out.extend(_points_of(g))
    return out


def _insert_vertices(line: LineString, pts: list[Point]) -> LineString:
    coords = list(line.coords)
    cum = [0.0]
    for a, b in zip(coords[:-1], coords[1:]):
        cum.append(cum[-1] + math.dist(a, b))
    items = [(d, k, c) for k, (d, c) in enumerate(zip(cum, coords))]
    for p in pts:
        d = line.project(p)
        if any(abs(d - e) < 1e-6 for e in cum) or any(abs(d - e) < 1e-6 for e, _, _ in items[len(cum):]):
            continue
        items.append((d, len(items), (p.x, p.y)))
    items.sort(key=lambda t: (t[0], t[1]))
    return LineString([c for _, _, c in items])


def _node_ways(ways: list[Way]) -> None:
    """Make every crossing and T-junction a shared vertex of the lines involved."""
    extra: list[list[Point]] = [[] for _ in ways]
    for i, a in enumerate(ways):
        for j in range(i + 1, len(ways)):
            b = ways[j]
            if a.line.distance(b.line) > 1e-6:
                continue
            pts = _points_of(a.line.intersection(b.line))
            # T-junctions: an end of one line lying on the other
            for la, lb, kb in ((a.line, b.line, j), (b.line, a.line, i)):
                for c in (la.coords[0], la.coords[-1]):
                    if lb.distance(Point(c)) < 1e-6:
                        extra[kb].append(Point(c))
            extra[i].extend(pts)
            extra[j].extend(pts)
    for w, pts in zip(ways, extra):
        if pts:
            w.line = _insert_vertices(w.line, pts)


def _ways(buildings: list[Building], doors: list[_Door]) -> list[Way]:
    r = _RING
    ways = [
        Way("R01", _line((r, r), (_W - r, r), (_W - r, _H - r), (r, _H - r), (r, r)), 6.0, "road", "Ring road"),
        Way("R02", _line((_W - r, 128.0), (_W, 128.0)), 7.0, "road", "East gate road"),
        Way("R03", _line((150.0, 0.0), (150.0, r)), 6.0, "road", "South gate road"),
        Way("R04", _line((100.0, 86.0), (100.0, _H - r)), 6.0, "road", "West cross road"),
        Way("R05", _line((200.0, 86.0), (200.0, _H - r)), 6.0, "road", "East cross road"),
        Way("R06", _line((r, 198.0), (_W - r, 198.0)), 4.0, "fire_lane", "Fire lane, row 1"),
        Way("R07", _line((r, 142.0), (_W - r, 142.0)), 4.0, "fire_lane", "Fire lane, row 2"),
        Way("R08", _line((r, 86.0), (_W - r, 86.0)), 4.0, "fire_lane", "Fire lane, row 3"),
        Way("RAMP1", _line((_W - r, _RAMP_Y), (_GARAGE_BOX[2], _RAMP_Y)), 6.0, "ramp", "Garage ramp"),
        Way("F01", _line((150.0, r), (150.0, 86.0)), 4.0, "walkway", "Main avenue"),
        Way("F02", _line((r, 48.0), (_W - r, 48.0)), 2.0, "walkway", "South front walk"),
        Way("F03", _line((100.0, _H), (100.0, _H - r)), 3.0, "walkway", "North gate path"),
        Way("F04", _line((115.0, 125.0), (100.0, 125.0)), 8.0, "walkway", "Square west link (plaza approach)"),
        Way("F05", _line((185.0, 125.0), (200.0, 125.0)), 8.0, "walkway", "Square east link (plaza approach)"),
        Way("F06", _line((150.0, 136.0), (150.0, 142.0)), 3.0, "walkway", "Square north link"),
    ]
    network = [w.line for w in ways if w.kind != "ramp"]
    solid = [b.footprint.buffer(-0.5) for b in buildings if b.storeys > 0]
    n = sum(1 for w in ways if w.id.startswith("F"))  # last F number used
    for d in doors:
        e = d.exit
        stub = Point(e.position.x + 2.0 * d.normal[0], e.position.y + 2.0 * d.normal[1])
        best: LineString | None = None
        for net in network:
            p = net.interpolate(net.project(stub))
            leg = LineString([stub, p]) if p.distance(stub) > 1e-9 else None
            if leg is not None and any(leg.intersects(s) for s in solid):
                continue
            cand = LineString([e.position, stub] + ([p] if leg is not None else []))
            if best is None or cand.length < best.length:
                best = cand
        if best is None:  # pragma: no cover - a layout bug, not an input error
            raise RuntimeError(f"sample community: no walkway route from exit {e.id}")
        n += 1
        ways.append(Way(f"F{n:02d}", best, 2.0, "walkway", f"Path from {e.id}"))
    _node_ways(ways)
    return ways


# ----------------------------------------------------------------------------- devices
def _yaw_to(dx: float, dy: float) -> float:
    """Compass bearing (degrees clockwise from north) of the direction (dx, dy)."""
    return math.degrees(math.atan2(dx, dy)) % 360.0


def _cam(did: str, x: float, y: float, yaw: float, *, mount: float = 3.5, fov: float = 90.0,
         rng_m: float = 30.0, building: str | None = None, level: int | None = None,
         model: str = "fixed-bullet") -> Device:
    spec = CameraSpec(mount_height_m=mount, yaw_deg=round(yaw % 360.0, 3), fov_deg=fov,
                      range_m=rng_m, model=model)
    return Device(did, DeviceKind.CAMERA, Point(x, y), building=building, level=level,
                  z=mount, camera=spec)


def _corner_cams(prefix: str, poly: Polygon, corners: tuple[int, ...], *, rng_m: float,
                 inset: float = 1.0) -> list[Device]:
    """Cameras at chosen corners of a rectangle, inset, each looking at its centre."""
    c = poly.centroid
    pts = list(poly.exterior.coords)[:-1]
    out = []
    for k, ci in enumerate(corners, start=1):
        x, y = pts[ci]
        dx, dy = c.x - x, c.y - y
        dn = math.hypot(dx, dy)
        px, py = x + inset * dx / dn, y + inset * dy / dn
        out.append(_cam(f"cam-{prefix}-{k}", px, py, _yaw_to(dx, dy), mount=4.5, rng_m=rng_m))
    return out


def _grid_points(poly: Polygon, max_cell_m: float) -> list[tuple[float, float]]:
    """Centres of an even grid over a rectangle with cells no larger than max_cell_m a side."""
    x0, y0, x1, y1 = poly.bounds
    nx = max(1, math.ceil((x1 - x0) / max_cell_m))
    ny = max(1, math.ceil((y1 - y0) / max_cell_m))
    dx, dy = (x1 - x0) / nx, (y1 - y0) / ny
    return [(x0 + (i + 0.5) * dx, y0 + (j + 0.5) * dy) for j in range(ny) for i in range(nx)]


def _devices(site: Site, doors: list[_Door], seed: int) -> list[Device]:
    devs: list[Device] = []
    gate_names = {"G-N": "north", "G-E": "east", "G-S": "south"}
    # gates: two cameras each, 2 m inside, one looking in and one looking out
    for g in site.gates:
        gx, gy = g.position.x, g.position.y
        if gy >= _H - 1e-9:
            inward = (0.0, -1.0)
        elif gy <= 1e-9:
            inward = (0.0, 1.0)
        elif gx >= _W - 1e-9:
            inward = (-1.0, 0.0)
        else:
            inward = (1.0, 0.0)
        side = (-inward[1], inward[0])
        name = gate_names[g.id]
        for k, (s, yaw) in enumerate(((1.0, _yaw_to(*inward)), (-1.0, _yaw_to(-inward[0], -inward[1]))), start=1):
            x = gx + 2.0 * inward[0] + s * (g.width_m / 2 + 0.5) * side[0]
            y = gy + 2.0 * inward[1] + s * (g.width_m / 2 + 0.5) * side[1]
            model = "face-recognition" if g.access == "face" else "lpr" if g.access == "plate" else "fixed-bullet"
            devs.append(_cam(f"cam-gate-{name}-{k}", x, y, yaw, mount=3.5, fov=70.0, rng_m=25.0, model=model))
    # building exits: a camera 4 m out facing the door (the garage door: from inside the garage)
    for d in doors:
        e = d.exit
        nx_, ny_ = d.normal
        devs.append(_cam(f"cam-{e.id}", e.position.x + 4.0 * nx_, e.position.y + 4.0 * ny_,
                         _yaw_to(-nx_, -ny_), mount=3.0, fov=70.0, rng_m=15.0))
    gx_door = site.building("P01").exits[-1].position
    devs.append(_cam("cam-P01-E3", gx_door.x - 6.0, gx_door.y, 90.0, mount=2.8, fov=70.0, rng_m=20.0,
                     building="P01", level=-1))
    # perimeter wall: one per ~50 m, 1 m inside, looking along the wall (counter-clockwise)
    ring = site.boundary.exterior
    if not ring.is_ccw:
        ring = LineString(list(ring.coords)[::-1])
    n_wall = max(1, round(ring.length / 50.0))
    step = ring.length / n_wall
    for k in range(n_wall):
        s = (k + 0.5) * step
        a, b = ring.interpolate(s - 0.5), ring.interpolate(s + 0.5)
        tx, ty = b.x - a.x, b.y - a.y
        tn = math.hypot(tx, ty)
        tx, ty = tx / tn, ty / tn
        p = ring.interpolate(s)
        # turned 20° in from the wall so the cone covers the strip inside it
        devs.append(_cam(f"cam-wall-{k + 1:02d}", p.x - ty, p.y + tx, _yaw_to(tx, ty) - 20.0,
                         mount=4.0, fov=60.0, rng_m=50.0))
    spaces = {o.id: o for o in site.open_spaces}
    devs += _corner_cams("SQ1", spaces["SQ1"].polygon, (0, 1, 2, 3), rng_m=45.0)
    devs += _corner_cams("GR1", spaces["GR1"].polygon, (0, 2), rng_m=50.0)
    devs += _corner_cams("PL1", spaces["PL1"].polygon, (0, 2), rng_m=30.0)
    devs += _corner_cams("CH1", spaces["CH1"].polygon, (1,), rng_m=25.0)
    devs += _corner_cams("CH2", spaces["CH2"].polygon, (3,), rng_m=20.0)
    devs += _corner_cams("PK1", spaces["PK1"].polygon, (0, 2), rng_m=30.0)
    devs += _corner_cams("PK2", spaces["PK2"].polygon, (1,), rng_m=30.0)
    devs.append(_cam("cam-RAMP1-1", _W - _RING - 2.0, _RAMP_Y + 4.0, 270.0, mount=4.0, fov=60.0, rng_m=40.0))
    garage = site.building("P01")
    gx0, gy0, gx1, gy1 = garage.footprint.bounds
    for k in range(8):
        x = gx0 + (k + 0.5) * (gx1 - gx0) / 8
        devs.append(_cam(f"cam-P01-{k + 1}", x, (gy0 + gy1) / 2, 90.0 if k % 2 == 0 else 270.0,
                         mount=2.8, rng_m=30.0, building="P01", level=-1))
    for b in site.buildings:
        if b.use == BuildingUse.HIGHRISE:
            c = b.footprint.centroid
            devs.append(_cam(f"cam-{b.id}-lobby", c.x, c.y, 0.0, mount=2.6, fov=100.0, rng_m=12.0,
                             building=b.id, level=0, model="dome"))

    # smoke detectors: one per household; public buildings one per <= 60 m² per floor
    units: list[tuple[Building, int, int]] = []
    for b in site.buildings:
        if b.use.residential:
            for lv in range(b.storeys):
                for u in range(b.households_per_storey):
                    units.append((b, lv, u))
    unit_pos = {b.id: [_unit_position(b, u) for u in range(b.households_per_storey)]
                for b in site.buildings if b.use.residential}
    for b, lv, u in units:
        uid = f"{b.id}-L{lv:02d}-U{u + 1:02d}"
        devs.append(Device(f"smk-{uid}", DeviceKind.SMOKE_DETECTOR, unit_pos[b.id][u],
                           building=b.id, level=lv, unit=uid, z=_SMOKE_Z_M))
    for b in site.buildings:
        if b.use in (BuildingUse.KINDERGARTEN, BuildingUse.COMMUNITY_CENTRE):
            pts = _grid_points(b.footprint, math.sqrt(60.0))
            for lv in range(b.storeys):
                for k, (x, y) in enumerate(pts, start=1):
                    devs.append(Device(f"smk-{b.id}-L{lv:02d}-{k:02d}", DeviceKind.SMOKE_DETECTOR,
                                       Point(x, y), building=b.id, level=lv, z=b.storey_height_m - 0.2))
    # garage: heat detectors (one per ~300 m²), water level at both sumps
    for k, (x, y) in enumerate(_grid_points(garage.footprint, math.sqrt(300.0)), start=1):
        devs.append(Device(f"heat-P01-{k:02d}", DeviceKind.HEAT_DETECTOR, Point(x, y),
                           building="P01", level=-1, z=_GARAGE_STOREY_M - 0.5))
    # door sensors on every exit door
    for e in site.iter_exits():
        b = site.building(e.building)
        inside = e.level in b.levels
        devs.append(Device(f"door-{e.id}", DeviceKind.DOOR_SENSOR, e.position,
                           building=b.id if inside else None, level=e.level if inside else None,
                           z=2.1))
    # water level: garage sumps, ramp bottom, the low south-east corner
    devs.append(Device("wl-P01-1", DeviceKind.WATER_LEVEL, Point(gx0 + 3.0, gy0 + 3.0),
                       building="P01", level=-1, z=0.05))
    devs.append(Device("wl-P01-2", DeviceKind.WATER_LEVEL, Point(gx1 - 3.0, gy0 + 3.0),
                       building="P01", level=-1, z=0.05))
    devs.append(Device("wl-RAMP1", DeviceKind.WATER_LEVEL, Point(gx1 + 1.5, _RAMP_Y), z=0.05))
    devs.append(Device("wl-SE-1", DeviceKind.WATER_LEVEL, Point(*_BOWL_XY), z=0.05))
    # manhole-cover sensors every 40 m along roads and fire lanes
    for w in site.ways:
        if w.kind in ("road", "fire_lane"):
            k = 0
            s = 20.0
            while s <= w.line.length:
                k += 1
                p = w.line.interpolate(s)
                devs.append(Device(f"mh-{w.id}-{k:02d}", DeviceKind.MANHOLE, Point(p.x, p.y)))
                s += 40.0
    # elderly living alone: emergency button each, wristband for 80 % of them
    rng = np.random.Generator(np.random.PCG64(seed))
    n_alone = int(round(SAMPLE_ELDERLY_ALONE_SHARE * len(units)))
    alone = np.sort(rng.choice(len(units), size=n_alone, replace=False))
    n_wb = int(round(SAMPLE_WRISTBAND_SHARE * n_alone))
    with_wb = np.sort(alone[rng.choice(n_alone, size=n_wb, replace=False)])
    for kind, prefix, idx, z in ((DeviceKind.EMERGENCY_BUTTON, "btn", alone, 0.9),
                                 (DeviceKind.WRISTBAND, "wb", with_wb, 1.0)):
        for i in idx:
            b, lv, u = units[int(i)]
            uid = f"{b.id}-L{lv:02d}-U{u + 1:02d}"
            devs.append(Device(f"{prefix}-{uid}", kind, unit_pos[b.id][u], building=b.id, level=lv,
                               unit=uid, z=z))
    return devs


# ----------------------------------------------------------------------------- the site
def _terrain(buildings: list[Building], ramp: Way) -> Terrain:
    origin, xx, yy = _dem_grid()
    z = _natural_ground(xx, yy)
    for b in buildings:
        if b.storeys > 0:  # flat building pads
            z[shapely.contains_xy(b.footprint.buffer(1.0), xx, yy)] = b.base_z
    garage = next(b for b in buildings if b.use == BuildingUse.GARAGE)
    floor = garage.level_z(-1)
    line = LineString([ramp.line.coords[0], ramp.line.coords[-1]])
    mask = shapely.contains_xy(ramp.area, xx, yy)
    t = shapely.line_locate_point(line, shapely.points(xx[mask], yy[mask]))
    road_half, landing = 3.0, 3.0  # ring road half-width; flat landing at the garage door
    top_xy = line.interpolate(road_half)
    top = float(_natural_ground(top_xy.x, top_xy.y))
    run = line.length - road_half - landing
    frac = np.clip((t - road_half) / run, 0.0, 1.0)
    ramp_z = top + (floor - top) * frac
    zm = z[mask]
    on_ramp = t > road_half  # the part on the ring road keeps the road level
    zm[on_ramp] = ramp_z[on_ramp]
    z[mask] = zm
    return Terrain(origin=origin, cell_size_m=_DEM_CELL_M, z=np.ascontiguousarray(z, dtype=np.float64))


def _open_spaces() -> list[OpenSpace]:
    def cap_people(poly: Polygon, share: float = 1.0) -> int:
        return int(poly.area * share / ASSEMBLY_M2_PER_PERSON)

    sq, gr1 = box(115, 114, 185, 136), box(15, 113, 95, 137)
    ch1, ch2 = box(206, 16, 224, 30), box(206, 206, 214, 218)
    pk1, pk2 = box(272, 14, 287, 44), box(266, 113, 286, 137)
    return [
        OpenSpace("SQ1", sq, "square", cap_people(sq), True, "Central square (assembly point)"),
        OpenSpace("GR1", gr1, "green", cap_people(gr1, _GREEN_LAWN_SHARE), True, "West green (assembly point)"),
        OpenSpace("GR2", box(205, 113, 262, 137), "green", 0, False, "East green"),
        OpenSpace("PL1", box(62, 18, 86, 44), "playground", 0, False, "Children's playground"),
        OpenSpace("CH1", ch1, "charging", int(ch1.area / _M2_PER_CHARGING_PLACE), False, "E-bike charging, south"),
        OpenSpace("CH2", ch2, "charging", int(ch2.area / _M2_PER_CHARGING_PLACE), False, "E-bike charging, north"),
        OpenSpace("PK1", pk1, "parking", int(pk1.area / _M2_PER_PARKING_PLACE), False, "Surface parking, south-east"),
        OpenSpace("PK2", pk2, "parking", int(pk2.area / _M2_PER_PARKING_PLACE), False, "Visitor parking, east gate"),
    ]


def _grids() -> list[Grid]:
    return [
        Grid("GRID1", box(0, 166, _W, _H), "Wang Fang", ["B01", "B02", "B03", "P01"]),
        Grid("GRID2", box(0, 125, _W, 166), "Li Wei", ["B04", "B05", "B06"]),
        Grid("GRID3", box(0, 81, _W, 125), "Zhang Min", ["B07", "B08", "B09"]),
        Grid("GRID4", box(0, 0, 150, 81), "Liu Yang", ["B10", "B11", "B14", "K01"]),
        Grid("GRID5", box(150, 0, _W, 81), "Chen Jing", ["B12", "B13", "B15", "C01"]),
    ]


def sample_community(*, seed: int = 0) -> Site:
    """Build the Heping Garden sample estate (see the module docstring for the layout and all
    counts). ``seed`` picks which households are elderly people living alone (emergency buttons,
    wristbands); everything else is identical for every seed. The result passes
    :meth:`Site.validate`."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"sample_community: 'seed' must be an integer >= 0, got {seed!r}")
    doors: list[_Door] = []
    buildings = _buildings(doors)
    ways = _ways(buildings, doors)
    ramp = next(w for w in ways if w.kind == "ramp")
    site = Site(
        name=SAMPLE_NAME,
        boundary=box(0.0, 0.0, _W, _H),
        crs="LOCAL",
        buildings=buildings,
        ways=ways,
        gates=[
            Gate("G-N", Point(100.0, _H), "pedestrian", "face", 3.0, "North gate (face recognition)"),
            Gate("G-E", Point(_W, 128.0), "vehicle", "plate", 7.0, "East vehicle gate (licence-plate recognition)"),
            Gate("G-S", Point(150.0, 0.0), "mixed", "qr", 8.0, "South main gate (guard post, visitor QR codes)"),
        ],
        open_spaces=_open_spaces(),
        grids=_grids(),
        terrain=_terrain(buildings, ramp),
        source=f"geometry.sample.sample_community(seed={int(seed)})",
    )
    site.devices = _devices(site, doors, int(seed))
    return site.validate()
