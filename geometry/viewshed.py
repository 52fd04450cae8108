"""Occlusion-aware camera viewsheds: which demand points each camera pose sees.

What: the building footprints (and optional free-standing walls) are rasterised into an
:class:`OcclusionGrid` of obstruction heights (m above local ground, cell 0.5-1 m, same cell
convention as :mod:`geometry.raster`: row 0 south, cell (i, j) has its lower-left corner at
``origin + (i, j) * cell_size_m``, a cell is a building cell when its centre lies in the
footprint). A camera pose (x, y, mount height, yaw in degrees clockwise from north, horizontal
field of view, range) sees a point when

1. the horizontal distance is at most ``range_m``;
2. the bearing to the point lies within ``yaw +- fov/2`` (``fov_deg = 360`` sees all round);
3. the 2D line of sight is clear: no grid cell crossed by the segment rises above the sight line
   from the camera (mount height) to the target (``target_height_m``, default 1.5 m: a face);
   see :mod:`geometry._viewshed` (Amanatides & Woo 1987 grid traversal). A building taller than
   the camera therefore blocks fully; a 2 m wall blocks a point close behind it but not one far
   beyond it. Cells within ``skip_m`` (default 0.5 m) of the camera are not tested, so a camera
   mounted 0.3 m off a facade is not blocked by the rasterised edge of its own wall.

Simplifications (documented, deliberate): flat ground (terrain is ignored; heights are above
local ground), no vertical field of view / tilt (a point right under the camera counts as
seen), no lighting, trees or vehicles. Underground buildings (``storeys == 0``) do not block.

:func:`visibility` evaluates many poses x many points in one parallel numba call and returns the
pose x point incidence as CSR arrays with the distance of each visible pair, so
:func:`detection_probability` can weight pairs by distance later (``linear`` falls from 1 at the
camera to 0 at the range; ``logistic`` is 1/2 at ``d50_fraction * range`` and forced to 0 at the
range; ``step`` is 1 within range). Those curves are modelling assumptions in the spirit of the
Johnson criteria (Johnson 1958, "Analysis of image forming systems": the probability of
detecting / recognising a target falls as fewer pixels land on it, i.e. with distance); they are
options, not validated sensor models.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from geometry import _viewshed as K
from geometry.site import Device, DeviceKind, Site

__all__ = [
    "DETECTION_MODELS",
    "OcclusionGrid",
    "PoseArray",
    "Visibility",
    "camera_view",
    "detection_probability",
    "occlusion_grid",
    "visibility",
]

CELL_SIZE_RANGE_M = (0.5, 1.0)
MAX_CELLS = 40_000_000
DETECTION_MODELS = ("step", "linear", "logistic")


@dataclass(frozen=True)
class OcclusionGrid:
    """Obstruction heights ``height_m[j, i]`` (m above local ground; 0 = open ground)."""

    height_m: NDArray[np.float64]
    origin: tuple[float, float]
    cell_size_m: float

    def __post_init__(self) -> None:
        _check_cell_size(self.cell_size_m)
        h = np.ascontiguousarray(self.height_m, dtype=np.float64)
        if h.ndim != 2 or min(h.shape) < 1:
            raise ValueError(f"OcclusionGrid: height_m must be a 2-D [ny, nx] array, got shape {h.shape}")
        if not np.isfinite(h).all() or (h < 0).any():
            raise ValueError("OcclusionGrid: height_m must hold finite heights >= 0 (m)")
        object.__setattr__(self, "height_m", h)

    @property
    def blocked(self) -> NDArray[np.bool_]:
        return self.height_m > 0

    @property
    def shape(self) -> tuple[int, int]:
        return self.height_m.shape  # type: ignore[return-value]

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        ny, nx = self.height_m.shape
        x0, y0 = self.origin
        return (x0, y0, x0 + nx * self.cell_size_m, y0 + ny * self.cell_size_m)

    def height_at(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.float64]:
        """Obstruction height (m) of the cell holding each point; 0 outside the grid."""
        ny, nx = self.height_m.shape
        i = np.floor((np.asarray(x, float) - self.origin[0]) / self.cell_size_m).astype(np.int64)
        j = np.floor((np.asarray(y, float) - self.origin[1]) / self.cell_size_m).astype(np.int64)
        ok = (i >= 0) & (i < nx) & (j >= 0) & (j < ny)
        out = np.zeros(np.broadcast(i, j).shape)
        out[ok] = self.height_m[j[ok], i[ok]]
        return out


def _check_cell_size(h: float) -> None:
    lo, hi = CELL_SIZE_RANGE_M
    if isinstance(h, bool) or not isinstance(h, (int, float)) or not math.isfinite(h) or not lo <= h <= hi:
        raise ValueError(f"cell_size_m must be a number in [{lo}, {hi}] m, got {h!r}")


def occlusion_grid(
    site: Site,
    *,
    cell_size_m: float = 0.5,
    walls: Iterable[tuple[LineString, float]] = (),
    pad_m: float = 5.0,
    extent: tuple[float, float, float, float] | None = None,
) -> OcclusionGrid:
    """Rasterise the above-ground buildings of ``site`` (height = storeys x storey height) and
    optional ``walls`` (``(line, height_m)`` pairs; a wall blocks cells within half a cell of
    its line) into an :class:`OcclusionGrid`. The grid covers the site boundary (or ``extent``,
    ``(x0, y0, x1, y1)``) plus ``pad_m``; its origin is snapped to a multiple of the cell size
    so facades on whole-metre coordinates fall on cell edges."""
    _check_cell_size(cell_size_m)
    if not isinstance(pad_m, (int, float)) or not math.isfinite(pad_m) or pad_m < 0:
        raise ValueError(f"pad_m must be a number >= 0, got {pad_m!r}")
    h = float(cell_size_m)
    x0, y0, x1, y1 = site.boundary.bounds if extent is None else extent
    if not (x1 > x0 and y1 > y0):
        raise ValueError(f"extent must be (x0, y0, x1, y1) with x1 > x0 and y1 > y0, got {extent!r}")
    ox = math.floor((x0 - pad_m) / h) * h
    oy = math.floor((y0 - pad_m) / h) * h
    nx = int(math.ceil((x1 + pad_m - ox) / h))
    ny = int(math.ceil((y1 + pad_m - oy) / h))
    if nx * ny > MAX_CELLS:
        raise ValueError(f"occlusion grid of {ny} x {nx} cells exceeds {MAX_CELLS}; use a larger cell_size_m")
    height = np.zeros((ny, nx))
    xs = ox + (np.arange(nx) + 0.5) * h
    ys = oy + (np.arange(ny) + 0.5) * h
    for b in site.buildings:
        if b.storeys <= 0 or b.height_m <= 0:
            continue
        _burn(height, b.footprint, xs, ys, b.height_m, 0.0)
    for k, item in enumerate(walls):
        try:
            line, wh = item
        except (TypeError, ValueError):
            raise ValueError(f"walls[{k}]: expected a (LineString, height_m) pair, got {item!r}") from None
        if not isinstance(line, BaseGeometry) or line.is_empty:
            raise ValueError(f"walls[{k}]: expected a non-empty shapely line, got {type(line).__name__}")
        if isinstance(wh, bool) or not isinstance(wh, (int, float)) or not math.isfinite(wh) or wh <= 0:
            raise ValueError(f"walls[{k}]: height_m must be a positive number, got {wh!r}")
        _burn(height, line, xs, ys, float(wh), 0.5 * h + 1e-9)
    return OcclusionGrid(height_m=height, origin=(ox, oy), cell_size_m=h)


def _burn(height: NDArray[np.float64], geom: BaseGeometry, xs: NDArray[np.float64],
          ys: NDArray[np.float64], value: float, within: float) -> None:
    """Raise cells whose centre lies in ``geom`` (``within`` = 0) or within ``within`` of it."""
    gx0, gy0, gx1, gy1 = geom.bounds
    i0 = int(np.searchsorted(xs, gx0 - within - 1e-9))
    i1 = int(np.searchsorted(xs, gx1 + within + 1e-9, side="right"))
    j0 = int(np.searchsorted(ys, gy0 - within - 1e-9))
    j1 = int(np.searchsorted(ys, gy1 + within + 1e-9, side="right"))
    if i1 <= i0 or j1 <= j0:
        return
    X, Y = np.meshgrid(xs[i0:i1], ys[j0:j1])
    shapely.prepare(geom)
    if within > 0:
        hit = shapely.dwithin(geom, shapely.points(X, Y), within)
    else:
        hit = shapely.contains_xy(geom, X, Y)
    sub = height[j0:j1, i0:i1]
    sub[hit] = np.maximum(sub[hit], value)


@dataclass(frozen=True)
class PoseArray:
    """Camera poses as arrays (one entry per pose): position ``x``, ``y`` (m), ``mount_height_m``
    (m above ground), ``yaw_deg`` (clockwise from north), ``fov_deg`` (0 < fov <= 360),
    ``range_m`` (> 0). Scalars broadcast to the length of ``x``."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    mount_height_m: NDArray[np.float64]
    yaw_deg: NDArray[np.float64]
    fov_deg: NDArray[np.float64]
    range_m: NDArray[np.float64]

    def __post_init__(self) -> None:
        x = np.atleast_1d(np.asarray(self.x, dtype=np.float64))
        if x.ndim != 1:
            raise ValueError(f"PoseArray: x must be 1-D, got shape {x.shape}")
        n = x.shape[0]
        for name in ("x", "y", "mount_height_m", "yaw_deg", "fov_deg", "range_m"):
            v = np.asarray(getattr(self, name), dtype=np.float64)
            if v.ndim == 0:
                v = np.full(n, float(v))
            if v.shape != (n,):
                raise ValueError(f"PoseArray: field {name!r} must have one entry per pose ({n}), got shape {v.shape}")
            bad = np.flatnonzero(~np.isfinite(v))
            if bad.size:
                raise ValueError(f"PoseArray: field {name!r} of pose {bad[0]} is {v[bad[0]]}; expected a finite number")
            object.__setattr__(self, name, np.ascontiguousarray(v))
        for name, ok, what in (
            ("mount_height_m", self.mount_height_m > 0, "> 0 m"),
            ("range_m", self.range_m > 0, "> 0 m"),
            ("fov_deg", (self.fov_deg > 0) & (self.fov_deg <= 360), "in (0, 360] degrees"),
        ):
            bad = np.flatnonzero(~ok)
            if bad.size:
                v = getattr(self, name)[bad[0]]
                raise ValueError(f"PoseArray: field {name!r} of pose {bad[0]} is {v}; expected {what}")

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @classmethod
    def from_devices(cls, devices: Sequence[Device]) -> PoseArray:
        """Poses of camera devices (each needs its ``camera`` optics)."""
        rows = []
        for d in devices:
            if d.kind != DeviceKind.CAMERA or d.camera is None:
                raise ValueError(f"device {d.id}: expected a camera with optics (field 'camera'), got kind "
                                 f"{getattr(d.kind, 'value', d.kind)!r}" + (" without optics" if d.camera is None else ""))
            c = d.camera
            rows.append((d.position.x, d.position.y, c.mount_height_m, c.yaw_deg, c.fov_deg, c.range_m))
        a = np.array(rows, dtype=np.float64).reshape(-1, 6)
        return cls(*(a[:, k] for k in range(6)))


@dataclass(frozen=True)
class Visibility:
    """Pose x point visibility in CSR form: the points pose ``c`` sees are
    ``indices[indptr[c]:indptr[c+1]]`` (ascending), at horizontal distances ``distance_m``."""

    indptr: NDArray[np.int64]
    indices: NDArray[np.int64]
    distance_m: NDArray[np.float64]
    n_poses: int
    n_points: int
    range_m: NDArray[np.float64]

    def matrix(self, data: NDArray[np.float64] | None = None) -> sp.csr_matrix:
        """The poses x points sparse matrix (1 per visible pair, or ``data``)."""
        d = np.ones(self.indices.shape[0]) if data is None else data
        return sp.csr_matrix((d, self.indices, self.indptr), shape=(self.n_poses, self.n_points))

    def incidence(self) -> sp.csr_matrix:
        """The points x poses 0/1 matrix, the orientation :class:`optimizer.cameras.CoverageProblem` takes."""
        return self.matrix().T.tocsr()

    def seen_by(self, pose: int) -> NDArray[np.int64]:
        return self.indices[self.indptr[pose]:self.indptr[pose + 1]]

    def counts(self) -> NDArray[np.int64]:
        """How many poses see each point."""
        return np.bincount(self.indices, minlength=self.n_points).astype(np.int64)

    def probability(self, *, model: str = "linear", d50_fraction: float = 0.5,
                    steepness_fraction: float = 0.1) -> sp.csr_matrix:
        """Poses x points matrix of detection probabilities (:func:`detection_probability`)."""
        rng = np.repeat(self.range_m, np.diff(self.indptr))
        p = detection_probability(self.distance_m, rng, model=model, d50_fraction=d50_fraction,
                                  steepness_fraction=steepness_fraction)
        return self.matrix(p)


def detection_probability(
    distance_m: ArrayLike,
    range_m: ArrayLike,
    *,
    model: str = "linear",
    d50_fraction: float = 0.5,
    steepness_fraction: float = 0.1,
) -> NDArray[np.float64]:
    """Probability that a camera detects a person at ``distance_m`` given its ``range_m``.

    ``step``: 1 for d <= R. ``linear``: 1 - d/R. ``logistic``: L(d) = 1/(1 + exp((d - d50)/s))
    with d50 = ``d50_fraction`` R and s = ``steepness_fraction`` R, rescaled to
    (L(d) - L(R)) / (L(0) - L(R)) so it is exactly 1 at the camera and 0 at the range. All are 0
    beyond the range. Assumed shapes (module docstring), not measured sensor curves."""
    d = np.asarray(distance_m, dtype=np.float64)
    r = np.broadcast_to(np.asarray(range_m, dtype=np.float64), d.shape)
    if model not in DETECTION_MODELS:
        raise ValueError(f"model must be one of {', '.join(DETECTION_MODELS)}; got {model!r}")
    if (~np.isfinite(d)).any() or (d < 0).any():
        raise ValueError("distance_m must be finite and >= 0 (m)")
    if (~np.isfinite(r)).any() or (r <= 0).any():
        raise ValueError("range_m must be finite and > 0 (m)")
    if not 0 < d50_fraction < 1:
        raise ValueError(f"d50_fraction must lie in (0, 1), got {d50_fraction!r}")
    if not steepness_fraction > 0:
        raise ValueError(f"steepness_fraction must be > 0, got {steepness_fraction!r}")
    inside = d <= r
    if model == "step":
        p = np.ones_like(d)
    elif model == "linear":
        p = 1.0 - d / r
    else:
        d50, s = d50_fraction * r, steepness_fraction * r

        def L(x: NDArray[np.float64]) -> NDArray[np.float64]:
            return 1.0 / (1.0 + np.exp((x - d50) / s))

        p = (L(d) - L(r)) / (L(np.zeros_like(d)) - L(r))
    return np.where(inside, np.clip(p, 0.0, 1.0), 0.0)


def visibility(
    grid: OcclusionGrid,
    poses: PoseArray,
    points: ArrayLike,
    *,
    target_height_m: float | ArrayLike = 1.5,
    skip_m: float = 0.5,
) -> Visibility:
    """Which of ``points`` (an [m, 2] array of x, y in m) each pose sees (module docstring)."""
    if not isinstance(grid, OcclusionGrid):
        raise TypeError(f"grid must be an OcclusionGrid, got {type(grid).__name__}")
    if not isinstance(poses, PoseArray):
        raise TypeError(f"poses must be a PoseArray, got {type(poses).__name__}")
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2:
        raise ValueError(f"points must be an [m, 2] array of (x, y) in m, got shape {pts.shape}")
    if not np.isfinite(pts).all():
        raise ValueError("points must hold finite coordinates (m)")
    pz = np.asarray(target_height_m, dtype=np.float64)
    pz = np.full(pts.shape[0], float(pz)) if pz.ndim == 0 else pz
    if pz.shape != (pts.shape[0],) or not np.isfinite(pz).all() or (pz < 0).any():
        raise ValueError(f"target_height_m must be a number >= 0 or one per point ({pts.shape[0]}) (m)")
    if not isinstance(skip_m, (int, float)) or not math.isfinite(skip_m) or skip_m < 0:
        raise ValueError(f"skip_m must be a number >= 0 (m), got {skip_m!r}")
    ox, oy = grid.origin
    indptr, indices, dist = K.visibility_csr(
        grid.height_m, float(ox), float(oy), float(grid.cell_size_m),
        poses.x, poses.y, poses.mount_height_m, np.radians(poses.yaw_deg),
        np.radians(poses.fov_deg) / 2.0, poses.range_m,
        np.ascontiguousarray(pts[:, 0]), np.ascontiguousarray(pts[:, 1]), np.ascontiguousarray(pz),
        float(skip_m),
    )
    return Visibility(indptr=indptr, indices=indices, distance_m=dist, n_poses=len(poses),
                      n_points=int(pts.shape[0]), range_m=poses.range_m.copy())


def camera_view(grid: OcclusionGrid, device: Device, points: ArrayLike, *,
                target_height_m: float = 1.5) -> NDArray[np.int64]:
    """Indices of ``points`` one camera device sees (a convenience over :func:`visibility`)."""
    return visibility(grid, PoseArray.from_devices([device]), points,
                      target_height_m=target_height_m).seen_by(0)

