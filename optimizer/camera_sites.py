"""Camera placement on a site: candidate poses, demand points, occlusion-aware coverage, plans.

What: turns a :class:`geometry.site.Site` into the covering problem of
:mod:`optimizer.cameras` and solves it, so a planner gets "which cameras where" and a funder
gets "coverage per camera bought".

* **Candidate poses** (:func:`camera_candidates`): wall mounts along every above-ground building
  footprint (stations every ``wall_spacing_m`` on each edge plus one each side of every
  ground-floor door, 0.3 m off the facade, facing out, 3.5 m high), lamp-post mounts along every
  way (every ``pole_spacing_m`` along the centre line, ``width/2 + 0.5`` m to alternate sides,
  4 m high; positions closer than a third of the spacing merged) and gate mounts (2 m inside
  each gate, one each side, 3.5 m). Each position gets every pan ``yaw`` of a ``pan_step_deg``
  (45 deg = 8 directions) for each directional camera type -- on walls only the pans whose whole
  view wedge faces away from the wall -- and one pose for each 360 deg type.
* **Camera types** (:data:`DEFAULT_CAMERA_TYPES`), assumed figures (domain.md quotes no camera
  prices): a fixed bullet camera, 90 deg, 30 m useful range (face-detection distance of a
  4 MP / 4 mm bullet, an assumption), CNY 2,000 installed; a 360 deg fisheye dome, 15 m,
  CNY 3,500 installed. A lamp-post mount adds CNY 600 (bracket and cabling on an existing
  street-light pole, an assumption). Pass ``camera_types=`` / ``pole_cost_cny=`` to change them.
* **Demand points** (:func:`demand_points`), each with a weight (m² it stands for x a risk
  factor) and a redundancy ``k``: way surfaces (each way's centre line buffered by its width,
  sampled every ``spacing_m`` along and across), open spaces (a ``spacing_m`` grid; greens at
  half weight), building entrances (1.5 m outside each ground-level door; 25 m² apron x risk 3,
  k = 2), gates (two points, 0.5 m and 5 m inside: the opening and the approach; 25 m² x risk 4 between them, k = 2) and the perimeter (1.5 m inside the
  boundary every ``perimeter_spacing_m``; a 3 m strip x risk 2). The risk factors are
  assumptions that follow domain.md practice 1 (cameras first at entrances, gates and the
  perimeter wall, where loitering strangers are flagged) and practice 2 (access control at
  gates); change them with ``risk=``.
* **Coverage**: :mod:`geometry.viewshed` (2.5D line of sight through the rasterised buildings,
  target 1.5 m high). :func:`camera_problem` builds the :class:`~optimizer.cameras.
  CoverageProblem` (costs in CNY); points no candidate can see are reported and get weight 0,
  and ``k`` is capped at the number of candidates that see a point.
* :func:`plan_cameras` solves the least-cost full cover (Toregas et al. 1971, with k = 2 at
  entrances and gates) or, with ``budget=``, the maximal cover (Church & ReVelle 1974), and
  reports coverage of the public area (fraction of a ``eval_spacing_m`` grid over the boundary
  less the buildings that a chosen camera sees), of entrances (seen k times), gates and
  perimeter, and the density in cameras per 200 m² of public area (domain.md's target is 1).
  :func:`existing_coverage` reports the same for the site's own outdoor cameras;
  :func:`camera_curve` the coverage-vs-number-of-cameras curve for funders.

Units: metres, degrees (yaw clockwise from north), CNY.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.polygon import orient
from shapely.ops import unary_union

from geometry.site import CameraSpec, Device, DeviceKind, Site, SiteError
from geometry.viewshed import (
    OcclusionGrid,
    PoseArray,
    Visibility,
    occlusion_grid,
    visibility,
)
from optimizer.cameras import (
    CoverageCurve,
    CoverageProblem,
    CoverageResult,
    coverage_curve,
    max_coverage,
    min_cost_cover,
)

__all__ = [
    "DEFAULT_CAMERA_TYPES",
    "DEFAULT_RISK",
    "CameraCandidates",
    "CameraPlan",
    "CameraSiteMeta",
    "CameraType",
    "CoverageReport",
    "DemandPoints",
    "camera_candidates",
    "camera_curve",
    "camera_problem",
    "demand_points",
    "existing_coverage",
    "outdoor_cameras",
    "plan_cameras",
    "report_for",
]

#: ``plan_cameras(method="auto")`` solves exactly up to this many points x candidates (the sample
#: estate, 2.5k x 3.5k, solves to proven optimality in ~3 s)
PLAN_EXACT_MAX_ENTRIES = 20_000_000

#: density target of domain.md practice 1: one camera per this many m² of public area
DENSITY_AREA_M2 = 200.0


@dataclass(frozen=True)
class CameraType:
    """A camera model offered to the optimizer: horizontal field of view (deg), useful range (m),
    installed cost (CNY) and the ``CameraSpec.model`` name."""

    name: str
    fov_deg: float
    range_m: float
    cost_cny: float
    model: str

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("CameraType: field 'name' must not be empty")
        if not (0 < self.fov_deg <= 360):
            raise ValueError(f"CameraType {self.name}: field 'fov_deg' must be in (0, 360], got {self.fov_deg!r}")
        if not (self.range_m > 0 and math.isfinite(self.range_m)):
            raise ValueError(f"CameraType {self.name}: field 'range_m' must be a positive number, got {self.range_m!r}")
        if not (self.cost_cny >= 0 and math.isfinite(self.cost_cny)):
            raise ValueError(f"CameraType {self.name}: field 'cost_cny' must be a number >= 0, got {self.cost_cny!r}")


#: Assumed camera types (module docstring): a 90 deg / 30 m bullet and a 360 deg / 15 m fisheye.
DEFAULT_CAMERA_TYPES: tuple[CameraType, ...] = (
    CameraType("bullet", 90.0, 30.0, 2000.0, "fixed-bullet"),
    CameraType("dome360", 360.0, 15.0, 3500.0, "fisheye-dome"),
)

#: Assumed risk factors per demand kind (module docstring)
DEFAULT_RISK: dict[str, float] = {"path": 1.0, "open": 1.0, "green": 0.5, "entrance": 3.0,
                                  "gate": 4.0, "perimeter": 2.0}
APRON_M2 = 25.0  # the area an entrance or gate point stands for
PERIMETER_STRIP_M = 3.0
POINT_OFFSET_M = 1.5  # entrances: outside the door; perimeter: inside the boundary
GATE_POINTS_M = (0.5, 5.0)  # gate points: in the opening and on the approach, inside the boundary
DEMAND_KINDS = ("path", "open", "entrance", "gate", "perimeter")
MOUNTS = ("wall", "pole", "gate")


# ------------------------------------------------------------------------------------ records
@dataclass(frozen=True)
class CameraCandidates:
    """Candidate poses, one entry per pose. ``mount`` is wall / pole / gate, ``anchor`` the
    building, way or gate id it hangs on, ``camera_type`` the :class:`CameraType` name,
    ``cost`` CNY (camera plus mount)."""

    ids: tuple[str, ...]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    mount_height_m: NDArray[np.float64]
    yaw_deg: NDArray[np.float64]
    fov_deg: NDArray[np.float64]
    range_m: NDArray[np.float64]
    cost: NDArray[np.float64]
    mount: tuple[str, ...]
    anchor: tuple[str, ...]
    camera_type: tuple[str, ...]
    model: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.ids)

    def poses(self) -> PoseArray:
        return PoseArray(self.x, self.y, self.mount_height_m, self.yaw_deg, self.fov_deg, self.range_m)

    def n_positions(self) -> int:
        return int(np.unique(np.round(np.c_[self.x, self.y], 3), axis=0).shape[0])

    def device(self, j: int, *, tilt_deg: float = 15.0) -> Device:
        """Candidate ``j`` as a site camera :class:`~geometry.site.Device`."""
        spec = CameraSpec(mount_height_m=float(self.mount_height_m[j]), yaw_deg=float(self.yaw_deg[j]),
                          fov_deg=float(self.fov_deg[j]), range_m=float(self.range_m[j]),
                          tilt_deg=tilt_deg, model=self.model[j])
        return Device(self.ids[j], DeviceKind.CAMERA, Point(float(self.x[j]), float(self.y[j])), camera=spec)


@dataclass(frozen=True)
class DemandPoints:
    """Demand points: ``kind`` (path / open / entrance / gate / perimeter), ``ref`` the feature
    they sample, ``area_m2`` the ground they stand for, ``weight`` = area x risk, ``k`` the
    required number of cameras seeing them."""

    ids: tuple[str, ...]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    kind: tuple[str, ...]
    ref: tuple[str, ...]
    area_m2: NDArray[np.float64]
    weight: NDArray[np.float64]
    k: NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def xy(self) -> NDArray[np.float64]:
        return np.c_[self.x, self.y]

    def mask(self, *kinds: str) -> NDArray[np.bool_]:
        return np.isin(np.asarray(self.kind), kinds)


@dataclass(frozen=True)
class CameraSiteMeta:
    """What :func:`camera_problem` built: candidates, demand, the occlusion grid, the
    visibility (candidates x points), the required ``k`` (before capping), the points no
    candidate sees, and the public-area evaluation grid."""

    site_name: str
    candidates: CameraCandidates
    demand: DemandPoints
    grid: OcclusionGrid
    visibility: Visibility
    k_required: NDArray[np.int64]
    unseeable: tuple[str, ...]
    short_of_k: tuple[str, ...]
    public_area_m2: float
    eval_points: NDArray[np.float64]
    target_height_m: float
    build_time_s: float


@dataclass(frozen=True)
class CoverageReport:
    """What a set of cameras achieves on the demand points of a :class:`CameraSiteMeta`.

    ``weighted_coverage``: risk weight of points seen k times / total weight (all points, the
    unseeable included); ``weighted_seen_once`` the same for at least one camera (the metric of
    :func:`camera_curve`). ``public_area_coverage``: fraction of the public-area evaluation grid
    seen by at least one camera. ``path_coverage`` / ``open_coverage``: area fraction of way /
    open-space points seen. ``entrance_coverage`` / ``gate_coverage``: fraction seen k (= 2)
    times; ``*_seen_once`` at least once. ``perimeter_coverage``: fraction of perimeter points
    seen. ``density_per_200m2``: cameras per 200 m² of public area (domain.md target: 1)."""

    n_cameras: int
    cost_cny: float
    weighted_coverage: float
    weighted_seen_once: float
    public_area_coverage: float
    path_coverage: float
    open_coverage: float
    entrance_coverage: float
    entrance_seen_once: float
    gate_coverage: float
    gate_seen_once: float
    perimeter_coverage: float
    density_per_200m2: float
    public_area_m2: float

    def as_dict(self) -> dict[str, float]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class CameraPlan:
    """A camera plan: the chosen candidates as site ``devices``, the solver ``result`` (with
    its optimality flag, gap and bound), the ``report``, the ``existing`` cameras' report on the
    same points (when asked), the ``problem`` / ``meta`` it was solved on, and ``extra`` notes
    (``k_relaxed_to_1`` when a budgeted heuristic solved the k = 1 form)."""

    devices: list[Device]
    result: CoverageResult
    report: CoverageReport
    existing: CoverageReport | None
    problem: CoverageProblem
    meta: CameraSiteMeta
    solve_time_s: float
    extra: dict[str, object] = field(default_factory=dict)


# ---------------------------------------------------------------------------- argument checks
def _num(name: str, v: object, *, lo: float = 0.0, strict: bool = True, hi: float = math.inf) -> float:
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    if ok:
        ok = (v > lo if strict else v >= lo) and v <= hi
    if not ok:
        rel = ">" if strict else ">="
        bound = f" and <= {hi}" if math.isfinite(hi) else ""
        raise ValueError(f"{name} must be a number {rel} {lo}{bound}, got {v!r}")
    return float(v)


def _check_site(site: Site) -> None:
    if not isinstance(site, Site):
        raise TypeError(f"site must be a geometry.site.Site, got {type(site).__name__}")
    problems = []
    if not isinstance(site.boundary, Polygon) or site.boundary.is_empty or not site.boundary.is_valid:
        problems.append("site: field 'boundary' must be a valid non-empty Polygon for camera placement")
    if problems:
        raise SiteError(problems, source=site.source or None)


def _yaw(vx: float, vy: float) -> float:
    return math.degrees(math.atan2(vx, vy)) % 360.0


def _above_ground(site: Site) -> list:
    return [b for b in site.buildings if b.storeys > 0 and b.height_m > 0]


# ------------------------------------------------------------------------------- candidates
def camera_candidates(
    site: Site,
    *,
    wall_spacing_m: float = 8.0,
    pole_spacing_m: float = 15.0,
    pan_step_deg: float = 45.0,
    camera_types: Sequence[CameraType] = DEFAULT_CAMERA_TYPES,
    wall_offset_m: float = 0.3,
    wall_mount_m: float = 3.5,
    pole_mount_m: float = 4.0,
    gate_mount_m: float = 3.5,
    pole_cost_cny: float = 600.0,
) -> CameraCandidates:
    """Candidate camera poses on walls, lamp posts and gates (module docstring)."""
    _check_site(site)
    ws = _num("wall_spacing_m", wall_spacing_m)
    ps = _num("pole_spacing_m", pole_spacing_m)
    step = _num("pan_step_deg", pan_step_deg, hi=360.0)
    off = _num("wall_offset_m", wall_offset_m)
    hw, hp, hg = (_num(n, v) for n, v in (("wall_mount_m", wall_mount_m), ("pole_mount_m", pole_mount_m),
                                         ("gate_mount_m", gate_mount_m)))
    pole_cost = _num("pole_cost_cny", pole_cost_cny, strict=False)
    types = list(camera_types)
    if not types or not all(isinstance(t, CameraType) for t in types):
        raise ValueError("camera_types must be a non-empty sequence of CameraType")
    if len({t.name for t in types}) != len(types):
        raise ValueError("camera_types: names must be unique")
    pans = np.arange(0.0, 360.0 - 1e-9, step)

    inner = site.boundary
    blds = _above_ground(site)
    built = unary_union([b.footprint for b in blds]) if blds else Polygon()
    shapely.prepare(built)
    shapely.prepare(inner)

    rows: list[tuple] = []  # (id, x, y, h, yaw, fov, range, cost, mount, anchor, type, model)

    def add(prefix: str, x: float, y: float, h: float, mount: str, anchor: str,
            normal_yaw: float | None, extra_cost: float) -> None:
        for t in types:
            if t.fov_deg >= 360.0 - 1e-9:
                yaws = [normal_yaw if normal_yaw is not None else 0.0]
            elif normal_yaw is None:
                yaws = list(pans)
            else:  # a wall: whole wedge on the outer side of the facade
                rel = ((pans - normal_yaw + 180.0) % 360.0) - 180.0
                ok = np.abs(rel) + t.fov_deg / 2.0 <= 90.0 + 1e-6
                yaws = [normal_yaw + r for r in sorted(set(np.round(rel[ok], 6)))]
                if not yaws:  # fov wider than 180 deg or no pan fits: face straight out
                    yaws = [normal_yaw]
            for yw in yaws:
                yw = float(yw) % 360.0
                rows.append((f"{prefix}-{t.name}-y{int(round(yw)) % 360:03d}", x, y, h, yw, t.fov_deg,
                             t.range_m, t.cost_cny + extra_cost, mount, anchor, t.name, t.model))

    # walls
    for b in blds:
        ring = orient(b.footprint, sign=1.0).exterior
        coords = list(ring.coords)
        stations: list[tuple[float, float, float, float]] = []  # x, y, nx, ny
        edges = []
        for (ax, ay), (bx, by) in zip(coords[:-1], coords[1:]):
            L = math.hypot(bx - ax, by - ay)
            if L < 1e-6:
                continue
            tx, ty = (bx - ax) / L, (by - ay) / L
            edges.append((ax, ay, tx, ty, L))
            n = max(1, round(L / ws))
            for k in range(n):
                s = (k + 0.5) * L / n
                stations.append((ax + s * tx, ay + s * ty, ty, -tx))
        for e in b.exits:
            if e.level != 0:
                continue
            ax, ay, tx, ty, L = min(edges, key=lambda ed: LineString([(ed[0], ed[1]), (ed[0] + ed[2] * ed[4], ed[1] + ed[3] * ed[4])]).distance(e.position))
            s0 = (e.position.x - ax) * tx + (e.position.y - ay) * ty
            for s in (s0 - 1.5, s0 + 1.5):
                if 0.3 < s < L - 0.3:
                    stations.append((ax + s * tx, ay + s * ty, ty, -tx))
        for k, (sx, sy, nx_, ny_) in enumerate(stations):
            x, y = sx + off * nx_, sy + off * ny_
            if not inner.contains(Point(x, y)) or built.contains(Point(x, y)):
                continue
            add(f"cam-wall-{b.id}-{k:03d}", x, y, hw, "wall", b.id, _yaw(nx_, ny_), 0.0)

    # lamp posts along ways
    poles: list[tuple[float, float, str]] = []
    for w in site.ways:
        line = w.line
        n = max(1, math.floor(line.length / ps))
        for k in range(n):
            s = (k + 0.5) * line.length / n
            a, c = line.interpolate(max(s - 0.5, 0.0)), line.interpolate(min(s + 0.5, line.length))
            tx, ty = c.x - a.x, c.y - a.y
            tn = math.hypot(tx, ty)
            if tn < 1e-9:
                continue
            tx, ty = tx / tn, ty / tn
            side = 1.0 if k % 2 == 0 else -1.0
            p = line.interpolate(s)
            d = w.width_m / 2.0 + 0.5
            x, y = p.x - side * ty * d, p.y + side * tx * d
            if not inner.contains(Point(x, y)) or built.distance(Point(x, y)) < 0.5:
                continue
            poles.append((x, y, w.id))
    if poles:
        xy = np.array([(p[0], p[1]) for p in poles])
        keep = np.ones(len(poles), bool)
        tree = cKDTree(xy)
        for i, j in sorted(tree.query_pairs(ps / 3.0)):
            if keep[i] and keep[j]:
                keep[j] = False
        for k in np.flatnonzero(keep):
            x, y, wid = poles[k]
            add(f"cam-pole-{wid}-{k:03d}", x, y, hp, "pole", wid, None, pole_cost)

    # gates
    for g in site.gates:
        inward, along = _gate_frame(site, g.position)
        for k, sgn in enumerate((1.0, -1.0)):
            d = g.width_m / 2.0 + 0.5
            x = g.position.x + 2.0 * inward[0] + sgn * d * along[0]
            y = g.position.y + 2.0 * inward[1] + sgn * d * along[1]
            if not inner.contains(Point(x, y)) or built.contains(Point(x, y)):
                continue
            add(f"cam-gate-{g.id}-{k + 1}", x, y, hg, "gate", g.id, None, 0.0)

    if not rows:
        raise SiteError([f"site {site.name!r}: no camera candidate position lies inside the boundary "
                         "(no buildings, ways or gates to mount cameras on)"], source=site.source or None)
    cols = list(zip(*rows))
    ids = list(cols[0])
    seen: dict[str, int] = {}
    for i, s in enumerate(ids):  # make ids unique (rounded yaws of close pans)
        if s in seen:
            seen[s] += 1
            ids[i] = f"{s}-{seen[s]}"
        else:
            seen[s] = 0
    f = lambda c: np.asarray(c, dtype=np.float64)
    return CameraCandidates(ids=tuple(ids), x=f(cols[1]), y=f(cols[2]), mount_height_m=f(cols[3]),
                            yaw_deg=f(cols[4]), fov_deg=f(cols[5]), range_m=f(cols[6]), cost=f(cols[7]),
                            mount=tuple(cols[8]), anchor=tuple(cols[9]), camera_type=tuple(cols[10]),
                            model=tuple(cols[11]))


def _gate_frame(site: Site, p: Point) -> tuple[tuple[float, float], tuple[float, float]]:
    """Unit inward normal and tangent of the boundary at the point nearest ``p``."""
    ring = site.boundary.exterior
    s = ring.project(p)
    a, c = ring.interpolate(max(s - 0.5, 0.0)), ring.interpolate(min(s + 0.5, ring.length))
    tx, ty = c.x - a.x, c.y - a.y
    tn = math.hypot(tx, ty) or 1.0
    tx, ty = tx / tn, ty / tn
    q = ring.interpolate(s)
    for nx_, ny_ in ((-ty, tx), (ty, -tx)):
        if site.boundary.contains(Point(q.x + 2.0 * nx_, q.y + 2.0 * ny_)):
            return (nx_, ny_), (tx, ty)
    return (-ty, tx), (tx, ty)


# ----------------------------------------------------------------------------------- demand
def demand_points(
    site: Site,
    *,
    spacing_m: float = 3.0,
    perimeter_spacing_m: float = 5.0,
    include_open_spaces: bool = True,
    risk: Mapping[str, float] | None = None,
    k_entrance: int = 2,
    k_gate: int = 2,
) -> DemandPoints:
    """Demand points on ways, open spaces, entrances, gates and the perimeter (module docstring)."""
    _check_site(site)
    sp_m = _num("spacing_m", spacing_m, lo=0.5, strict=False)
    per_m = _num("perimeter_spacing_m", perimeter_spacing_m, lo=0.5, strict=False)
    rk = dict(DEFAULT_RISK)
    for key, v in (risk or {}).items():
        if key not in DEFAULT_RISK:
            raise ValueError(f"risk: unknown demand kind {key!r}; expected one of {', '.join(DEFAULT_RISK)}")
        rk[key] = _num(f"risk[{key!r}]", v, strict=False)
    for name, v in (("k_entrance", k_entrance), ("k_gate", k_gate)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")

    blds = _above_ground(site)
    built = unary_union([b.footprint for b in blds]) if blds else Polygon()
    shapely.prepare(built)
    inner = site.boundary
    shapely.prepare(inner)

    # area points (ways, open spaces), deduplicated where ways cross or overlap
    ax, ay, aarea, akind, aref, arisk = [], [], [], [], [], []
    for w in site.ways:
        line = w.line
        n_along = max(1, math.floor(line.length / sp_m))
        n_across = max(1, round(w.width_m / sp_m))
        ds = line.length / n_along
        for k in range(n_along):
            s = (k + 0.5) * ds
            a, c = line.interpolate(max(s - 0.5, 0.0)), line.interpolate(min(s + 0.5, line.length))
            tx, ty = c.x - a.x, c.y - a.y
            tn = math.hypot(tx, ty)
            if tn < 1e-9:
                continue
            tx, ty = tx / tn, ty / tn
            p = line.interpolate(s)
            for l in range(n_across):
                o = (l + 0.5) * w.width_m / n_across - w.width_m / 2.0
                ax.append(p.x - ty * o)
                ay.append(p.y + tx * o)
                aarea.append(ds * w.width_m / n_across)
                akind.append("path")
                aref.append(w.id)
                arisk.append(rk["path"])
    if include_open_spaces:
        for o in site.open_spaces:
            x0, y0, x1, y1 = o.polygon.bounds
            xs = np.arange(x0 + sp_m / 2, x1, sp_m)
            ys = np.arange(y0 + sp_m / 2, y1, sp_m)
            if xs.size == 0 or ys.size == 0:
                c = o.polygon.representative_point()
                X, Y = np.array([c.x]), np.array([c.y])
            else:
                X, Y = (a.ravel() for a in np.meshgrid(xs, ys))
                inside = shapely.contains_xy(o.polygon, X, Y)
                X, Y = X[inside], Y[inside]
            for x, y in zip(X, Y):
                ax.append(float(x))
                ay.append(float(y))
                aarea.append(sp_m * sp_m)
                akind.append("open")
                aref.append(o.id)
                arisk.append(rk["green"] if o.kind == "green" else rk["open"])
    AX, AY = np.asarray(ax, float), np.asarray(ay, float)
    keep = np.zeros(AX.shape, bool)
    if AX.size:
        keep = shapely.contains_xy(inner, AX, AY) & ~shapely.contains_xy(built, AX, AY)
        idx = np.flatnonzero(keep)
        if idx.size > 1:
            tree = cKDTree(np.c_[AX[idx], AY[idx]])
            for i, j in sorted(tree.query_pairs(sp_m / 2.0 - 1e-9)):
                if keep[idx[i]] and keep[idx[j]]:
                    keep[idx[j]] = False

    ids: list[str] = []
    X: list[float] = []
    Y: list[float] = []
    kinds: list[str] = []
    refs: list[str] = []
    area: list[float] = []
    wgt: list[float] = []
    kk: list[int] = []
    counter: dict[str, int] = {}

    def push(kind: str, ref: str, x: float, y: float, a: float, r: float, k: int) -> None:
        n = counter.get(ref, 0)
        counter[ref] = n + 1
        ids.append(f"{kind}-{ref}-{n:04d}")
        X.append(x)
        Y.append(y)
        kinds.append(kind)
        refs.append(ref)
        area.append(a)
        wgt.append(a * r)
        kk.append(k)

    for i in np.flatnonzero(keep):
        push(akind[i], aref[i], float(AX[i]), float(AY[i]), aarea[i], arisk[i], 1)

    # entrances: 1.5 m outside each ground-level door (the surface door of an underground
    # building: at the door); basement doors are indoors and skipped
    for b in site.buildings:
        ring = orient(b.footprint, sign=1.0).exterior
        for e in b.exits:
            if e.level != 0:
                continue
            if b.storeys > 0:
                s = ring.project(e.position)
                a, c = ring.interpolate(max(s - 0.5, 0.0)), ring.interpolate(min(s + 0.5, ring.length))
                tx, ty = c.x - a.x, c.y - a.y
                tn = math.hypot(tx, ty) or 1.0
                q = ring.interpolate(s)
                x, y = q.x + POINT_OFFSET_M * ty / tn, q.y - POINT_OFFSET_M * tx / tn
            else:
                x, y = e.position.x, e.position.y
            push("entrance", e.id, x, y, APRON_M2, rk["entrance"], int(k_entrance))
    for g in site.gates:  # in the opening and on the approach inside
        (nx_, ny_), _ = _gate_frame(site, g.position)
        for dist in GATE_POINTS_M:
            push("gate", g.id, g.position.x + dist * nx_, g.position.y + dist * ny_,
                 APRON_M2 / len(GATE_POINTS_M), rk["gate"], int(k_gate))
    ring = orient(site.boundary, sign=1.0).exterior
    n = max(1, math.floor(ring.length / per_m))
    ds = ring.length / n
    for k in range(n):
        s = (k + 0.5) * ds
        a, c = ring.interpolate(max(s - 0.5, 0.0)), ring.interpolate(min(s + 0.5, ring.length))
        tx, ty = c.x - a.x, c.y - a.y
        tn = math.hypot(tx, ty) or 1.0
        q = ring.interpolate(s)
        x, y = q.x - POINT_OFFSET_M * ty / tn, q.y + POINT_OFFSET_M * tx / tn  # left of a ccw ring = inside
        if inner.contains(Point(x, y)) and not built.contains(Point(x, y)):
            push("perimeter", "boundary", x, y, ds * PERIMETER_STRIP_M, rk["perimeter"], 1)
    if not ids:
        raise SiteError([f"site {site.name!r}: no demand point (no ways, open spaces, exits, gates or "
                         "perimeter inside the boundary)"], source=site.source or None)
    return DemandPoints(ids=tuple(ids), x=np.asarray(X), y=np.asarray(Y), kind=tuple(kinds), ref=tuple(refs),
                        area_m2=np.asarray(area), weight=np.asarray(wgt), k=np.asarray(kk, dtype=np.int64))


# ---------------------------------------------------------------------------------- problem
def _public_grid(site: Site, spacing: float) -> NDArray[np.float64]:
    blds = _above_ground(site)
    public = site.boundary.difference(unary_union([b.footprint for b in blds])) if blds else site.boundary
    x0, y0, x1, y1 = public.bounds
    X, Y = np.meshgrid(np.arange(x0 + spacing / 2, x1, spacing), np.arange(y0 + spacing / 2, y1, spacing))
    X, Y = X.ravel(), Y.ravel()
    inside = shapely.contains_xy(public, X, Y)
    return np.c_[X[inside], Y[inside]]


def camera_problem(
    site: Site,
    *,
    spacing_m: float = 3.0,
    perimeter_spacing_m: float = 5.0,
    wall_spacing_m: float = 8.0,
    pole_spacing_m: float = 15.0,
    pan_step_deg: float = 45.0,
    camera_types: Sequence[CameraType] = DEFAULT_CAMERA_TYPES,
    pole_cost_cny: float = 600.0,
    include_open_spaces: bool = True,
    risk: Mapping[str, float] | None = None,
    k_entrance: int = 2,
    k_gate: int = 2,
    cell_size_m: float = 0.5,
    target_height_m: float = 1.5,
    eval_spacing_m: float = 2.0,
) -> tuple[CoverageProblem, CameraSiteMeta]:
    """The covering problem of ``site`` (costs CNY, weights m² x risk) and what it was built
    from. Points no candidate sees get weight 0 (listed in ``meta.unseeable``) and ``k`` is
    capped at the number of candidates seeing each point (``meta.short_of_k``); reports use the
    uncapped ``meta.k_required``."""
    t0 = time.perf_counter()
    _check_site(site)
    ev = _num("eval_spacing_m", eval_spacing_m, lo=0.5, strict=False)
    th = _num("target_height_m", target_height_m, strict=False)
    cand = camera_candidates(site, wall_spacing_m=wall_spacing_m, pole_spacing_m=pole_spacing_m,
                             pan_step_deg=pan_step_deg, camera_types=camera_types,
                             pole_cost_cny=pole_cost_cny)
    dem = demand_points(site, spacing_m=spacing_m, perimeter_spacing_m=perimeter_spacing_m,
                        include_open_spaces=include_open_spaces, risk=risk, k_entrance=k_entrance,
                        k_gate=k_gate)
    grid = occlusion_grid(site, cell_size_m=cell_size_m)
    vis = visibility(grid, cand.poses(), dem.xy, target_height_m=th)
    deg = vis.counts()
    k_req = dem.k.copy()
    k_eff = np.minimum(k_req, deg)
    weight = np.where(deg > 0, dem.weight, 0.0)
    unseeable = tuple(dem.ids[i] for i in np.flatnonzero(deg == 0))
    short = tuple(dem.ids[i] for i in np.flatnonzero((deg > 0) & (deg < k_req)))
    problem = CoverageProblem(incidence=vis.incidence(), cost=cand.cost, weight=weight, k=k_eff,
                              candidate_ids=cand.ids, demand_ids=dem.ids, allow_uncoverable=True)
    meta = CameraSiteMeta(site_name=site.name, candidates=cand, demand=dem, grid=grid, visibility=vis,
                          k_required=k_req, unseeable=unseeable, short_of_k=short,
                          public_area_m2=site.public_area_m2(), eval_points=_public_grid(site, ev),
                          target_height_m=th, build_time_s=time.perf_counter() - t0)
    return problem, meta


# ---------------------------------------------------------------------------------- reports
def _report_from_counts(meta: CameraSiteMeta, counts: NDArray[np.int64], eval_seen: float,
                        n_cameras: int, cost: float) -> CoverageReport:
    dem = meta.demand
    k = meta.k_required
    ok = counts >= k
    once = counts >= 1
    w = dem.weight

    def frac(mask: NDArray[np.bool_], hit: NDArray[np.bool_], by: NDArray[np.float64] | None = None) -> float:
        if not mask.any():
            return math.nan
        if by is None:
            return float(hit[mask].mean())
        tot = by[mask].sum()
        return float(by[mask & hit].sum() / tot) if tot > 0 else math.nan

    total = w.sum()
    return CoverageReport(
        n_cameras=n_cameras, cost_cny=cost,
        weighted_coverage=float(w[ok].sum() / total) if total > 0 else math.nan,
        weighted_seen_once=float(w[once].sum() / total) if total > 0 else math.nan,
        public_area_coverage=eval_seen,
        path_coverage=frac(dem.mask("path"), once, dem.area_m2),
        open_coverage=frac(dem.mask("open"), once, dem.area_m2),
        entrance_coverage=frac(dem.mask("entrance"), ok),
        entrance_seen_once=frac(dem.mask("entrance"), once),
        gate_coverage=frac(dem.mask("gate"), ok),
        gate_seen_once=frac(dem.mask("gate"), once),
        perimeter_coverage=frac(dem.mask("perimeter"), once),
        density_per_200m2=n_cameras * DENSITY_AREA_M2 / meta.public_area_m2 if meta.public_area_m2 > 0 else math.nan,
        public_area_m2=meta.public_area_m2,
    )


def _eval_fraction(meta: CameraSiteMeta, poses: PoseArray) -> float:
    if len(poses) == 0 or meta.eval_points.shape[0] == 0:
        return 0.0 if meta.eval_points.shape[0] else math.nan
    v = visibility(meta.grid, poses, meta.eval_points, target_height_m=meta.target_height_m)
    return float((v.counts() > 0).mean())


def report_for(meta: CameraSiteMeta, chosen: NDArray[np.int64]) -> CoverageReport:
    """The :class:`CoverageReport` of candidate indices ``chosen``."""
    chosen = np.asarray(chosen, dtype=np.int64)
    if chosen.size and (chosen.min() < 0 or chosen.max() >= len(meta.candidates)):
        raise ValueError(f"chosen: candidate indices must lie in 0..{len(meta.candidates) - 1}")
    x = np.zeros(len(meta.candidates))
    x[chosen] = 1.0
    counts = np.asarray(meta.visibility.matrix().T @ x).astype(np.int64)
    c = meta.candidates
    sel = PoseArray(c.x[chosen], c.y[chosen], c.mount_height_m[chosen], c.yaw_deg[chosen],
                    c.fov_deg[chosen], c.range_m[chosen]) if chosen.size else PoseArray(
        np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0))
    return _report_from_counts(meta, counts, _eval_fraction(meta, sel), int(chosen.size),
                               float(c.cost[chosen].sum()))



def outdoor_cameras(site: Site) -> list[Device]:
    """The site's cameras that look at open ground: no ``building``, or at level 0 of a
    building but standing outside its footprint. Indoor cameras (lobbies, garages) cannot see
    the outdoor demand points."""
    out = []
    for d in site.devices_of(DeviceKind.CAMERA):
        if d.camera is None:
            raise SiteError([f"device {d.id}: a camera needs its optics (field 'camera')"], source=site.source or None)
        if d.building is None:
            out.append(d)
            continue
        try:
            b = site.building(d.building)
        except KeyError:
            raise SiteError([f"device {d.id}: field 'building' refers to building {d.building!r}, which does "
                             "not exist"], source=site.source or None) from None
        if (d.level in (None, 0)) and not b.footprint.contains(d.position) and b.storeys > 0:
            out.append(d)
    return out


def existing_coverage(site: Site, meta: CameraSiteMeta) -> CoverageReport:
    """Coverage that the site's own outdoor cameras (:func:`outdoor_cameras`) achieve on the
    demand points of ``meta``; ``n_cameras`` counts all of the site's cameras (the density
    figure is about every camera the estate has), cost is 0 (already bought)."""
    cams = outdoor_cameras(site)
    n_all = len(site.devices_of(DeviceKind.CAMERA))
    if cams:
        poses = PoseArray.from_devices(cams)
        v = visibility(meta.grid, poses, meta.demand.xy, target_height_m=meta.target_height_m)
        counts = v.counts()
        ev = _eval_fraction(meta, poses)
    else:
        counts = np.zeros(len(meta.demand), np.int64)
        ev = 0.0
    return _report_from_counts(meta, counts, ev, n_all, 0.0)


# ------------------------------------------------------------------------------------- plans
def _k1_unit_problem(problem: CoverageProblem, meta: CameraSiteMeta) -> CoverageProblem:
    """The same incidence with unit costs, every point once, all weights (unseeable points keep
    their weight, so fractions are of all demand)."""
    return CoverageProblem(incidence=problem.incidence, cost=np.ones(problem.n_candidates),
                           weight=meta.demand.weight, k=1, candidate_ids=problem.candidate_ids,
                           demand_ids=problem.demand_ids, allow_uncoverable=True)


def plan_cameras(
    site: Site,
    *,
    budget: float | None = None,
    max_cameras: int | None = None,
    method: str = "auto",
    time_limit_s: float | None = 20.0,
    compare_existing: bool = True,
    problem: tuple[CoverageProblem, CameraSiteMeta] | None = None,
    **problem_options: object,
) -> CameraPlan:
    """Choose cameras for ``site``.

    No ``budget`` / ``max_cameras``: the least-cost set seeing every seeable demand point k
    times (:func:`optimizer.cameras.min_cost_cover`). ``budget`` (CNY): the most risk weight
    seen k times within it (:func:`optimizer.cameras.max_coverage`). ``max_cameras``: the same
    with unit costs (that many cameras, whatever they cost). ``method="auto"`` solves exactly
    (HiGHS MILP, capped by ``time_limit_s``; ``result.optimal`` / ``result.gap`` say how close)
    when points x candidates <= ``PLAN_EXACT_MAX_ENTRIES`` or when a budgeted problem has k > 1
    (the max-coverage heuristic handles k = 1 only), else by greedy + local search; an explicit
    ``method="heuristic"`` with a budget solves the k = 1 form (``plan.extra["k_relaxed_to_1"]``;
    the report still counts k). ``problem``: reuse a
    :func:`camera_problem` result; otherwise ``problem_options`` go to :func:`camera_problem`."""
    if budget is not None and max_cameras is not None:
        raise ValueError("give at most one of budget= and max_cameras=")
    if problem is None:
        prob, meta = camera_problem(site, **problem_options)  # type: ignore[arg-type]
    else:
        if problem_options:
            raise ValueError(f"problem= given; options {sorted(problem_options)} would be ignored")
        prob, meta = problem
    if method not in ("auto", "exact", "heuristic"):
        raise ValueError(f"method must be 'auto', 'exact' or 'heuristic', got {method!r}")
    if max_cameras is not None and (isinstance(max_cameras, bool) or not isinstance(max_cameras, (int, np.integer))
                                    or max_cameras < 1):
        raise ValueError(f"max_cameras must be an integer >= 1, got {max_cameras!r}")
    how = method
    if how == "auto":
        small = prob.n_points * prob.n_candidates <= PLAN_EXACT_MAX_ENTRIES
        how = "exact" if small or (budget is not None or max_cameras is not None) and np.any(prob.k > 1) \
            else "heuristic"
    t0 = time.perf_counter()
    extra: dict[str, object] = {}
    if budget is None and max_cameras is None:
        res = min_cost_cover(prob, method=how, time_limit_s=time_limit_s)
    else:
        k = prob.k
        if how == "heuristic" and np.any(k > 1):  # the greedy handles k = 1 only: relax, say so
            k = np.minimum(k, 1)
            extra["k_relaxed_to_1"] = True
        cost = prob.cost if budget is not None else np.ones(prob.n_candidates)
        sub = CoverageProblem(incidence=prob.incidence, cost=cost, weight=prob.weight, k=k,
                              candidate_ids=prob.candidate_ids, demand_ids=prob.demand_ids,
                              allow_uncoverable=True)
        b = float(budget) if budget is not None else float(max_cameras)  # type: ignore[arg-type]
        res = max_coverage(sub, budget=b, method=how, time_limit_s=time_limit_s)
    solve = time.perf_counter() - t0
    devices = [meta.candidates.device(int(j)) for j in res.chosen]
    report = report_for(meta, res.chosen)
    existing = existing_coverage(site, meta) if compare_existing else None
    return CameraPlan(devices=devices, result=res, report=report, existing=existing, problem=prob,
                      meta=meta, solve_time_s=solve, extra=extra)


def camera_curve(
    problem: CoverageProblem,
    meta: CameraSiteMeta,
    *,
    counts: Sequence[int],
    method: str = "auto",
    time_limit_s: float | None = 10.0,
) -> tuple[CoverageCurve, list[CoverageReport]]:
    """Coverage (risk weight seen at least once, of all demand) against the number of cameras,
    for each of ``counts``, via :func:`optimizer.cameras.coverage_curve` on the unit-cost,
    k = 1 form of ``problem``; with the full report of each point of the curve."""
    cs = [int(c) for c in counts]
    if not cs or any(c < 1 for c in cs) or any(isinstance(c, bool) for c in counts):
        raise ValueError(f"counts must be a non-empty list of integers >= 1, got {counts!r}")
    cur = coverage_curve(_k1_unit_problem(problem, meta), budgets=np.asarray(cs, float), method=method,
                         time_limit_s=time_limit_s)
    # unit costs make the budgets camera counts; report what each chosen set costs in CNY
    cur = replace(cur, by="cameras", cost=np.array([float(meta.candidates.cost[c].sum()) for c in cur.chosen]))
    return cur, [report_for(meta, ch) for ch in cur.chosen]

