"""The static site model: one residential estate in a local metric CRS.

A :class:`Site` is the single description of the community that simulation, drills and live
operation share (DESIGN.md, principle 1). Everything is in metres in a local projected CRS
(x east, y north, z up, z = 0 at the site datum); levels are indexed from 0 (ground), basements
negative. IDs are stable readable strings (``B03``, ``B03-S1``, ``cam-gate-north-1``).

The model is plain dataclasses holding shapely geometries, so it is cheap to build, copy and
compare. :meth:`Site.validate` checks every rule at once and raises :class:`SiteError` listing
each problem with the feature, the field and what was expected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Iterable, Iterator

import numpy as np
from shapely.geometry import LineString, Point, Polygon

__all__ = [
    "ACCESS_TYPES",
    "Building",
    "BuildingExit",
    "BuildingUse",
    "CameraSpec",
    "Device",
    "DeviceKind",
    "Elevator",
    "Gate",
    "Grid",
    "OpenSpace",
    "Site",
    "SiteError",
    "StairCore",
    "Terrain",
    "Way",
]


class SiteError(ValueError):
    """A site that breaks the schema. ``problems`` lists every problem found, each a string
    naming the source (file), the feature, the field and what was expected."""

    def __init__(self, problems: Iterable[str], *, source: str | None = None) -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        if len(self.problems) == 1:
            msg = head + self.problems[0]
        else:
            msg = head + f"{len(self.problems)} problems:\n  - " + "\n  - ".join(self.problems)
        super().__init__(msg)


class BuildingUse(str, Enum):
    """What a building is used for; it sets defaults for storeys, stairs and occupants."""

    WALKUP = "residential_walkup"
    HIGHRISE = "residential_highrise"
    KINDERGARTEN = "kindergarten"
    COMMUNITY_CENTRE = "community_centre"
    GARAGE = "garage"
    OTHER = "other"

    @property
    def residential(self) -> bool:
        return self in (BuildingUse.WALKUP, BuildingUse.HIGHRISE)


class DeviceKind(str, Enum):
    """The kinds of field device a community installs (domain.md, practices 1, 7, 8)."""

    CAMERA = "camera"
    SMOKE_DETECTOR = "smoke_detector"
    HEAT_DETECTOR = "heat_detector"
    DOOR_SENSOR = "door_sensor"
    WATER_LEVEL = "water_level"
    MANHOLE = "manhole"
    EMERGENCY_BUTTON = "emergency_button"
    WRISTBAND = "wristband"


#: Access-control types of a gate (domain.md, practice 2).
ACCESS_TYPES = ("none", "guard", "card", "face", "qr", "plate")
GATE_KINDS = ("pedestrian", "vehicle", "mixed")
WAY_KINDS = ("walkway", "road", "fire_lane", "ramp")
OPEN_SPACE_KINDS = ("square", "green", "playground", "parking", "charging", "other")


@dataclass
class StairCore:
    """An enclosed stair serving a range of levels. ``position`` is the stair's centre (m),
    ``width_m`` its clear tread width, used for capacity (SFPE: 1.1-1.3 p/(m s) per effective
    width)."""

    id: str
    building: str
    position: Point
    width_m: float = 1.2
    lowest_level: int | None = None
    highest_level: int | None = None


@dataclass
class BuildingExit:
    """A door from a building's ground level (or a garage level) to the outside."""

    id: str
    building: str
    position: Point
    width_m: float = 1.2
    level: int = 0


@dataclass
class Elevator:
    """An elevator shaft. Not used for evacuation by default (fire-service lifts aside)."""

    id: str
    building: str
    position: Point
    fire_service: bool = False


@dataclass
class Building:
    """A building: footprint extruded ``storeys`` times ``storey_height_m`` above ``base_z``.
    A fully underground garage has ``storeys = 0`` and ``basement_levels >= 1``.

    ``households_per_storey`` applies to the above-ground residential storeys (levels
    0..storeys-1); ``basement_levels`` storeys lie below level 0 (garage or plant)."""

    id: str
    footprint: Polygon
    use: BuildingUse = BuildingUse.WALKUP
    storeys: int = 6
    storey_height_m: float = 2.9
    basement_levels: int = 0
    households_per_storey: int = 0
    name: str = ""
    base_z: float = 0.0
    stairs: list[StairCore] = field(default_factory=list)
    exits: list[BuildingExit] = field(default_factory=list)
    elevators: list[Elevator] = field(default_factory=list)

    @property
    def height_m(self) -> float:
        return self.storeys * self.storey_height_m

    @property
    def households(self) -> int:
        return self.storeys * self.households_per_storey

    @property
    def levels(self) -> range:
        """All level indices, basements (negative) first."""
        return range(-self.basement_levels, self.storeys)

    def level_z(self, level: int) -> float:
        """Floor elevation (m above datum) of ``level``."""
        return self.base_z + level * self.storey_height_m

    def unit_ids(self, level: int) -> list[str]:
        """Stable dwelling-unit ids of one storey (``B03-L05-U02``)."""
        if level < 0 or not self.use.residential:
            return []
        return [f"{self.id}-L{level:02d}-U{u + 1:02d}" for u in range(self.households_per_storey)]


@dataclass
class Way:
    """A walkway, road, fire lane or ramp: a centre line with a width (m)."""

    id: str
    line: LineString
    width_m: float
    kind: str = "walkway"
    name: str = ""

    @property
    def area(self) -> Polygon:
        return self.line.buffer(self.width_m / 2.0, cap_style="flat")


@dataclass
class Gate:
    """A gate in the estate's boundary."""

    id: str
    position: Point
    kind: str = "pedestrian"
    access: str = "none"
    width_m: float = 3.0
    name: str = ""


@dataclass
class OpenSpace:
    """A square, green, playground, parking or charging area. ``capacity`` is persons (for an
    assembly point, Fruin's 0.5 m²/person standing unless stated) or places."""

    id: str
    polygon: Polygon
    kind: str = "square"
    capacity: int = 0
    assembly_point: bool = False
    name: str = ""


@dataclass
class Grid:
    """A management grid (网格): an area, the buildings in it and its grid worker."""

    id: str
    polygon: Polygon
    worker: str
    buildings: list[str] = field(default_factory=list)


@dataclass
class CameraSpec:
    """Camera optics: mounting height (m), yaw (degrees clockwise from north, the compass
    convention), horizontal field of view (degrees), useful range (m), tilt below horizontal."""

    mount_height_m: float = 3.5
    yaw_deg: float = 0.0
    fov_deg: float = 90.0
    range_m: float = 30.0
    tilt_deg: float = 15.0
    model: str = "fixed-bullet"

    def cone(self, position: Point, *, segments: int = 16) -> Polygon:
        """The 2D view cone (a circular sector) on the ground."""
        half = math.radians(self.fov_deg) / 2.0
        yaw = math.radians(self.yaw_deg)
        pts = [(position.x, position.y)]
        for k in range(segments + 1):
            a = yaw - half + 2 * half * k / segments
            pts.append((position.x + self.range_m * math.sin(a), position.y + self.range_m * math.cos(a)))
        return Polygon(pts)


@dataclass
class Device:
    """A field device. Devices inside a building carry ``building`` and ``level``; devices per
    household (smoke detectors, buttons, wristbands) also carry ``unit``. ``z`` is height above
    the device's floor (m)."""

    id: str
    kind: DeviceKind
    position: Point
    building: str | None = None
    level: int | None = None
    unit: str | None = None
    z: float = 0.0
    camera: CameraSpec | None = None


@dataclass
class Terrain:
    """A DEM raster: ``z[j, i]`` is the ground elevation (m) at the centre of cell (i, j), whose
    lower-left corner is ``origin + (i, j) * cell_size_m``. Row 0 is the southern row."""

    origin: tuple[float, float]
    cell_size_m: float
    z: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.z.shape  # type: ignore[return-value]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        ny, nx = self.z.shape
        x0, y0 = self.origin
        return (x0, y0, x0 + nx * self.cell_size_m, y0 + ny * self.cell_size_m)

    def elevation_at(self, x: float | np.ndarray, y: float | np.ndarray) -> np.ndarray:
        """Bilinear ground elevation (m); points outside the raster take the nearest edge."""
        ny, nx = self.z.shape
        fx = np.clip((np.asarray(x, float) - self.origin[0]) / self.cell_size_m - 0.5, 0, nx - 1)
        fy = np.clip((np.asarray(y, float) - self.origin[1]) / self.cell_size_m - 0.5, 0, ny - 1)
        i0 = np.minimum(np.floor(fx).astype(int), max(nx - 2, 0))
        j0 = np.minimum(np.floor(fy).astype(int), max(ny - 2, 0))
        i1 = np.minimum(i0 + 1, nx - 1)
        j1 = np.minimum(j0 + 1, ny - 1)
        tx, ty = fx - i0, fy - j0
        z = self.z
        return (
            z[j0, i0] * (1 - tx) * (1 - ty)
            + z[j0, i1] * tx * (1 - ty)
            + z[j1, i0] * (1 - tx) * ty
            + z[j1, i1] * tx * ty
        )


@dataclass
class Site:
    """One residential estate. ``crs`` names the local projected CRS (an EPSG code such as
    ``EPSG:32650`` for imported sites, or ``LOCAL`` for synthetic ones)."""

    name: str
    boundary: Polygon
    crs: str = "LOCAL"
    buildings: list[Building] = field(default_factory=list)
    ways: list[Way] = field(default_factory=list)
    gates: list[Gate] = field(default_factory=list)
    open_spaces: list[OpenSpace] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)
    terrain: Terrain | None = None
    source: str = ""

    # ----------------------------------------------------------------- look-ups
    def building(self, building_id: str) -> Building:
        for b in self.buildings:
            if b.id == building_id:
                return b
        raise KeyError(f"site {self.name!r} has no building {building_id!r}")

    def stair(self, stair_id: str) -> StairCore:
        for s in self.iter_stairs():
            if s.id == stair_id:
                return s
        raise KeyError(f"site {self.name!r} has no stair {stair_id!r}")

    def iter_stairs(self) -> Iterator[StairCore]:
        for b in self.buildings:
            yield from b.stairs

    def iter_exits(self) -> Iterator[BuildingExit]:
        for b in self.buildings:
            yield from b.exits

    def devices_of(self, kind: DeviceKind) -> list[Device]:
        return [d for d in self.devices if d.kind == kind]

    @property
    def households(self) -> int:
        return sum(b.households for b in self.buildings if b.use.residential)

    @property
    def assembly_points(self) -> list[OpenSpace]:
        return [o for o in self.open_spaces if o.assembly_point]

    @property
    def area_m2(self) -> float:
        return float(self.boundary.area)

    def public_area_m2(self) -> float:
        """Open ground inside the boundary: the boundary less the footprints of buildings that
        stand above ground (an underground garage's lawn is public area) (m²)."""
        from shapely.ops import unary_union

        above = [b.footprint for b in self.buildings if b.storeys > 0]
        built = unary_union(above) if above else Polygon()
        return float(self.boundary.difference(built).area)

    def summary(self) -> dict[str, object]:
        """Counts a person wants first (used by ``shoumen site show``)."""
        kinds: dict[str, int] = {}
        for d in self.devices:
            kinds[d.kind.value] = kinds.get(d.kind.value, 0) + 1
        uses: dict[str, int] = {}
        for b in self.buildings:
            uses[b.use.value] = uses.get(b.use.value, 0) + 1
        return {
            "name": self.name,
            "crs": self.crs,
            "area_m2": round(self.area_m2, 1),
            "buildings": len(self.buildings),
            "building_uses": uses,
            "households": self.households,
            "stairs": sum(len(b.stairs) for b in self.buildings),
            "exits": sum(len(b.exits) for b in self.buildings),
            "ways": len(self.ways),
            "gates": len(self.gates),
            "open_spaces": len(self.open_spaces),
            "assembly_points": len(self.assembly_points),
            "grids": len(self.grids),
            "devices": kinds,
            "terrain": None if self.terrain is None else list(self.terrain.shape),
        }

    # ----------------------------------------------------------------- validation
    def validate(self, *, source: str | None = None) -> "Site":
        """Check every schema rule; raise :class:`SiteError` listing all problems, or return
        ``self`` so calls chain."""
        problems = list(_site_problems(self))
        if problems:
            raise SiteError(problems, source=source or self.source or None)
        return self


# --------------------------------------------------------------------- rules
def _poly_problems(where: str, fld: str, poly: object) -> Iterator[str]:
    if not isinstance(poly, Polygon) or poly.is_empty:
        yield f"{where}: field '{fld}' must be a non-empty Polygon, got {type(poly).__name__}"
        return
    if not poly.is_valid:
        from shapely.validation import explain_validity

        yield f"{where}: field '{fld}' is not a valid polygon ({explain_validity(poly)})"
    elif poly.area <= 0:
        yield f"{where}: field '{fld}' has zero area"


def _positive(where: str, fld: str, value: float, *, allow_zero: bool = False) -> Iterator[str]:
    number = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not number or not (value >= 0 if allow_zero else value > 0):
        expected = "a number >= 0" if allow_zero else "a positive number"
        yield f"{where}: field '{fld}' must be {expected}, got {value!r}"


def _choice(where: str, fld: str, value: str, allowed: Iterable[str]) -> Iterator[str]:
    allowed = tuple(allowed)
    if value not in allowed:
        yield f"{where}: field '{fld}' must be one of {', '.join(allowed)}; got {value!r}"


def _site_problems(site: Site) -> Iterator[str]:
    yield from _poly_problems("site", "boundary", site.boundary)
    seen: dict[str, str] = {}

    def unique(kind: str, ident: str) -> Iterator[str]:
        if not ident:
            yield f"{kind} with empty 'id'"
        elif ident in seen:
            yield f"{kind} {ident}: id already used by a {seen[ident]}"
        else:
            seen[ident] = kind

    building_ids = {b.id for b in site.buildings}
    broken: set[str] = set()  # buildings whose basic fields have the wrong type
    for b in site.buildings:
        w = f"building {b.id}"
        yield from unique("building", b.id)
        yield from _poly_problems(w, "footprint", b.footprint)
        basic = []
        if not isinstance(b.use, BuildingUse):
            basic.append(f"{w}: field 'use' must be one of {', '.join(u.value for u in BuildingUse)}; got {b.use!r}")
        for fld in ("storeys", "basement_levels", "households_per_storey"):
            v = getattr(b, fld)
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                basic.append(f"{w}: field '{fld}' must be an integer >= 0, got {v!r}")
        h = b.storey_height_m
        if not isinstance(h, (int, float)) or isinstance(h, bool):
            basic.append(f"{w}: field 'storey_height_m' must be a positive number, got {h!r}")
        if basic:  # the rules below need these fields to be well typed
            broken.add(b.id)
            yield from basic
            continue
        yield from _positive(w, "storey_height_m", b.storey_height_m)
        if b.storeys == 0 and b.basement_levels < 1:
            yield f"{w}: field 'storeys' is 0, so 'basement_levels' must be >= 1 (a fully underground building)"
        if b.storey_height_m > 10:
            yield f"{w}: field 'storey_height_m' must be <= 10 m, got {b.storey_height_m}"
        if b.use.residential and b.storeys > 1 and not b.stairs:
            yield f"{w}: a residential building of {b.storeys} storeys needs at least one stair"
        if not b.exits and b.use != BuildingUse.OTHER:
            yield f"{w}: needs at least one building exit"
        grown = b.footprint.buffer(1.0) if isinstance(b.footprint, Polygon) else None
        for s in b.stairs:
            sw = f"stair {s.id}"
            yield from unique("stair", s.id)
            if s.building != b.id:
                yield f"{sw}: field 'building' is {s.building!r} but it is listed under {b.id}"
            yield from _positive(sw, "width_m", s.width_m)
            lo = b.levels.start if s.lowest_level is None else s.lowest_level
            hi = b.levels.stop - 1 if s.highest_level is None else s.highest_level
            top = max(b.storeys - 1, 0)  # an underground building's stairs may reach its level-0 doors
            if not (-b.basement_levels <= lo <= hi <= top):
                yield (f"{sw}: levels {lo}..{hi} (fields 'lowest_level', 'highest_level') must be ordered and within "
                       f"building {b.id}'s levels {-b.basement_levels}..{top}")
            if grown is not None and not grown.contains(s.position):
                yield f"{sw}: position ({s.position.x:.1f}, {s.position.y:.1f}) lies outside building {b.id}'s footprint"
        for e in b.exits:
            ew = f"exit {e.id}"
            yield from unique("exit", e.id)
            yield from _positive(ew, "width_m", e.width_m)
            if grown is not None and grown.distance(e.position) > 0:
                yield f"{ew}: position ({e.position.x:.1f}, {e.position.y:.1f}) is more than 1 m from building {b.id}"
            # a fully underground building (storeys 0) may have level-0 exits: the surface doors
            # of its stairs (a garage's stair kiosks)
            if not (-b.basement_levels <= e.level < max(b.storeys, 1)):
                yield f"{ew}: field 'level' {e.level} is not a level of building {b.id}"
        for el in b.elevators:
            yield from unique("elevator", el.id)

    for way in site.ways:
        w = f"way {way.id}"
        yield from unique("way", way.id)
        yield from _positive(w, "width_m", way.width_m)
        yield from _choice(w, "kind", way.kind, WAY_KINDS)
        if not isinstance(way.line, LineString) or way.line.is_empty or way.line.length <= 0:
            yield f"{w}: field 'line' must be a LineString of positive length"

    for g in site.gates:
        w = f"gate {g.id}"
        yield from unique("gate", g.id)
        yield from _positive(w, "width_m", g.width_m)
        yield from _choice(w, "kind", g.kind, GATE_KINDS)
        yield from _choice(w, "access", g.access, ACCESS_TYPES)
        if isinstance(site.boundary, Polygon) and site.boundary.exterior.distance(g.position) > 5.0:
            yield f"{w}: position is {site.boundary.exterior.distance(g.position):.1f} m from the site boundary (expected within 5 m)"

    for o in site.open_spaces:
        w = f"open space {o.id}"
        yield from unique("open space", o.id)
        yield from _poly_problems(w, "polygon", o.polygon)
        yield from _choice(w, "kind", o.kind, OPEN_SPACE_KINDS)
        if not isinstance(o.capacity, int) or o.capacity < 0:
            yield f"{w}: field 'capacity' must be an integer >= 0, got {o.capacity!r}"
        if o.assembly_point and o.capacity <= 0:
            yield f"{w}: an assembly point needs 'capacity' > 0"

    for gr in site.grids:
        w = f"grid {gr.id}"
        yield from unique("grid", gr.id)
        yield from _poly_problems(w, "polygon", gr.polygon)
        if not gr.worker:
            yield f"{w}: field 'worker' must name the grid worker"
        for bid in gr.buildings:
            if bid not in building_ids:
                yield f"{w}: field 'buildings' refers to building {bid!r}, which does not exist"

    for d in site.devices:
        w = f"device {d.id}"
        yield from unique("device", d.id)
        if not isinstance(d.kind, DeviceKind):
            yield f"{w}: field 'kind' must be one of {', '.join(k.value for k in DeviceKind)}"
            continue
        if d.building is not None:
            if d.building not in building_ids:
                yield f"{w}: field 'building' refers to building {d.building!r}, which does not exist"
            elif d.building not in broken:
                b = site.building(d.building)
                if d.level is not None and d.level not in b.levels:
                    yield f"{w}: field 'level' {d.level} is not a level of building {b.id} ({b.levels.start}..{b.levels.stop - 1})"
                if d.unit is not None and d.level is not None and d.unit not in b.unit_ids(d.level):
                    yield f"{w}: field 'unit' {d.unit!r} is not a dwelling unit of {b.id} level {d.level}"
        if d.kind == DeviceKind.CAMERA:
            if d.camera is None:
                yield f"{w}: a camera needs its optics (mount_height_m, yaw_deg, fov_deg, range_m)"
            else:
                c = d.camera
                yield from _positive(w, "mount_height_m", c.mount_height_m)
                yield from _positive(w, "range_m", c.range_m)
                if not (0 < c.fov_deg <= 360):
                    yield f"{w}: field 'fov_deg' must be in (0, 360], got {c.fov_deg}"

    if site.terrain is not None:
        t = site.terrain
        if t.z.ndim != 2 or min(t.z.shape) < 2:
            yield f"terrain: field 'z' must be a 2-D raster of at least 2 x 2 cells, got shape {t.z.shape}"
        elif not np.isfinite(t.z).all():
            yield "terrain: field 'z' contains NaN or infinite elevations"
        yield from _positive("terrain", "cell_size_m", t.cell_size_m)
