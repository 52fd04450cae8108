"""Surface-flood solvers behind one interface: a grid, its forcing, a model that runs and records.

Two numba kernels solve the 2-D shallow-water equations on the same regular grid (square cells,
row 0 south, column 0 west, cell (j, i) with lower-left corner ``origin + (i, j) * cell_size_m``,
the convention of ``geometry.raster``):

* ``solver="inertial"``: the local inertial model (Bates, Horritt & Fewtrell 2010, J. Hydrology
  387; theta weighting of de Almeida et al. 2012, WRR 48) in :mod:`twin.flood._inertial_kernel`.
  Fast and robust for rain-on-grid and slowly varying floods; it cannot reproduce dam-break
  waves (shocks). Time step dt = alpha dx / sqrt(g h_max).
* ``solver="fv"``: shock-capturing finite volumes (HLL with the hydrostatic reconstruction of
  Audusse et al. 2004, SIAM J. Sci. Comput. 25) in :mod:`twin.flood._fv_kernel`, for dam-break-
  like flows and sharp wet/dry fronts. Time step dt = CFL dx / max(max(|u|, |v|) + sqrt(g h)).
  ``order=2`` (default): MUSCL reconstruction of h, eta = h + z, u, v with the minmod limiter
  and Heun (SSP-RK2) time stepping, Audusse et al.'s second-order well-balanced scheme, CFL
  <= 0.25 for positivity (default 0.25); ``order=1``: the first-order scheme, CFL <= 0.5
  (default 0.45).

Units are SI (m, s, m3/s, m2/s) except the rain hyetograph and drainage capacity, given in mm/h
and converted here (1 mm/h = 1 / 3.6e6 m/s). Obstacle cells (``FloodGrid.closed``, e.g. buildings)
are walls: no water enters them and rain falling on them is not counted (roofs drain elsewhere).

Every run keeps a volume account (m3): rain in, inflow in, boundary in/out, drained and stored;
:meth:`FloodModel.mass_balance` reports it with the relative closure error (round-off, ~1e-14).
Inputs are validated here, at the boundary, with ``ValueError`` messages that name the field and
what was expected; the kernels trust their arguments.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from twin.flood._forcing_kernel import (
    ACC_BOUNDARY_IN,
    ACC_BOUNDARY_OUT,
    ACC_CLIPPED,
    ACC_DRAINED,
    ACC_INFLOW,
    ACC_RAIN,
    BC_CLOSED,
    BC_LEVEL,
    BC_OPEN,
    GRAVITY,
    N_ACC,
)
from twin.flood._fv_kernel import advance_fv, advance_fv2
from twin.flood._inertial_kernel import advance_inertial

SIDES: tuple[str, ...] = ("west", "east", "south", "north")
SOLVERS: tuple[str, ...] = ("inertial", "fv")
MM_H_TO_M_S: float = 1.0 / 3.6e6
# alpha: measured onset of instability at 0.75 (2-D rain on a bumpy 150 x 150 grid, theta 0.7:
# depths depart by 7.6 cm from an alpha = 0.3 run; 0.7 still stable, 0.6 overshoots a 1-D
# wave by 0.2 mm); 0.6 keeps a margin and agrees with shared/data/validation/flood.md
DEFAULT_ALPHA: float = 0.6
DEFAULT_THETA: float = 0.7
DEFAULT_CFL: float = 0.45  # first-order fv (positivity bound 0.5)
# second-order fv (MUSCL + Heun): each Heun stage is positive for CFL <= 1/4 in 2-D (half the
# first-order bound; Kurganov & Petrova 2007 Thm 2.1). Measured at 0.25: the Ritter dam break
# clips no depth (clipped volume 0) and all flood validation tests close the volume account.
DEFAULT_CFL_ORDER2: float = 0.25
MAX_CFL: dict[int, float] = {1: 0.5, 2: 0.25}
FV_ORDERS: tuple[int, ...] = (1, 2)
DEFAULT_H_EPS_M: float = 1e-6
# velocities are reported only where the depth exceeds this (thin rain films give q / h noise)
DEFAULT_VELOCITY_DEPTH_M: float = 1e-3
# depth used for the largest time step when the grid is (nearly) dry
DT_REFERENCE_DEPTH_M: float = 0.01

BoundarySpec = str | float | tuple[Sequence[float], Sequence[float]]


def _float_array(name: str, value: object, *, ndim: int | None = None) -> np.ndarray:
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected numbers, got {value!r}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name}: expected a {ndim}-D array, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite numbers, found NaN or infinity")
    return arr


def _positive(name: str, value: object) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a positive number, got {value!r}") from exc
    if not math.isfinite(v) or v <= 0.0:
        raise ValueError(f"{name}: expected a positive finite number, got {value!r}")
    return v


def _series(name: str, times: object, values: object, *,
            nonnegative: bool = False) -> tuple[np.ndarray, np.ndarray]:
    t = _float_array(f"{name} times_s", times, ndim=1)
    v = _float_array(f"{name} values", values, ndim=1)
    if t.size == 0:
        raise ValueError(f"{name}: expected at least one (time, value) pair")
    if t.size != v.size:
        raise ValueError(f"{name}: expected as many values as times, got {v.size} values for "
                         f"{t.size} times")
    if np.any(np.diff(t) <= 0.0):
        raise ValueError(f"{name} times_s: expected strictly increasing times")
    if nonnegative and np.any(v < 0.0):
        raise ValueError(f"{name} values: expected values >= 0, got min {v.min()}")
    return t, v


@dataclass
class FloodGrid:
    """The terrain: bed level ``bed_m[ny, nx]`` (m above datum), square cells of ``cell_size_m``,
    ``origin`` (x, y) of the lower-left corner (m), Manning's n per cell (s m^-1/3; a scalar is
    broadcast) and ``closed[ny, nx]`` (True = obstacle / building cell, a wall)."""

    bed_m: np.ndarray
    cell_size_m: float
    origin: tuple[float, float] = (0.0, 0.0)
    manning_n: np.ndarray | float = 0.03
    closed: np.ndarray | None = None

    def __post_init__(self) -> None:
        bed = _float_array("FloodGrid.bed_m", self.bed_m, ndim=2)
        if bed.shape[0] < 1 or bed.shape[1] < 1:
            raise ValueError(f"FloodGrid.bed_m: expected at least one cell, got shape {bed.shape}")
        self.bed_m = np.ascontiguousarray(bed)
        self.cell_size_m = _positive("FloodGrid.cell_size_m", self.cell_size_m)
        org = _float_array("FloodGrid.origin", self.origin, ndim=1)
        if org.size != 2:
            raise ValueError(f"FloodGrid.origin: expected (x, y), got {self.origin!r}")
        self.origin = (float(org[0]), float(org[1]))
        n = _float_array("FloodGrid.manning_n", self.manning_n)
        if n.ndim == 0:
            n = np.full(bed.shape, float(n))
        if n.shape != bed.shape:
            raise ValueError(f"FloodGrid.manning_n: expected a scalar or shape {bed.shape}, got "
                             f"shape {n.shape}")
        if np.any(n < 0.0):
            raise ValueError(f"FloodGrid.manning_n: expected values >= 0, got min {n.min()}")
        self.manning_n = np.ascontiguousarray(n)
        if self.closed is None:
            closed = np.zeros(bed.shape, dtype=np.bool_)
        else:
            closed = np.asarray(self.closed)
            if closed.shape != bed.shape:
                raise ValueError(f"FloodGrid.closed: expected shape {bed.shape}, got "
                                 f"{closed.shape}")
            if closed.dtype != np.bool_:
                if not np.all(np.isin(closed, (0, 1))):
                    raise ValueError("FloodGrid.closed: expected booleans (True = obstacle)")
                closed = closed.astype(np.bool_)
        self.closed = np.ascontiguousarray(closed)

    @property
    def shape(self) -> tuple[int, int]:
        """(ny, nx)."""
        return self.bed_m.shape  # type: ignore[return-value]

    @property
    def cell_area_m2(self) -> float:
        return self.cell_size_m * self.cell_size_m

    @property
    def active(self) -> np.ndarray:
        """True where water may be (not an obstacle)."""
        assert self.closed is not None
        return ~self.closed

    def cell_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """1-D x (columns) and y (rows) of the cell centres (m)."""
        ny, nx = self.shape
        xs = self.origin[0] + (np.arange(nx) + 0.5) * self.cell_size_m
        ys = self.origin[1] + (np.arange(ny) + 0.5) * self.cell_size_m
        return xs, ys

    def cell_of(self, x: float, y: float, *, name: str = "point") -> tuple[int, int]:
        """(row, column) of the cell holding world point (x, y); ValueError outside the grid."""
        ny, nx = self.shape
        i = math.floor((float(x) - self.origin[0]) / self.cell_size_m)
        j = math.floor((float(y) - self.origin[1]) / self.cell_size_m)
        if not (0 <= i < nx and 0 <= j < ny):
            raise ValueError(f"{name}: ({x}, {y}) lies outside the grid (x from {self.origin[0]} "
                             f"to {self.origin[0] + nx * self.cell_size_m}, y from "
                             f"{self.origin[1]} to {self.origin[1] + ny * self.cell_size_m})")
        return j, i

    def boundary_cells(self, side: str) -> np.ndarray:
        """(row, column) pairs of the cells along one side ("west", "east", "south", "north")."""
        ny, nx = self.shape
        if side == "west":
            return np.stack([np.arange(ny), np.zeros(ny, np.int64)], axis=1)
        if side == "east":
            return np.stack([np.arange(ny), np.full(ny, nx - 1)], axis=1)
        if side == "south":
            return np.stack([np.zeros(nx, np.int64), np.arange(nx)], axis=1)
        if side == "north":
            return np.stack([np.full(nx, ny - 1), np.arange(nx)], axis=1)
        raise ValueError(f"side: expected one of {SIDES}, got {side!r}")


@dataclass
class Inflow:
    """An inflow hydrograph: discharge ``discharge_m3_s`` (>= 0) at ``times_s`` (linear in
    between, end values held outside), shared equally among ``cells`` ((row, column) pairs, e.g.
    a boundary line from :meth:`FloodGrid.boundary_cells`)."""

    cells: np.ndarray
    times_s: Sequence[float] | np.ndarray
    discharge_m3_s: Sequence[float] | np.ndarray
    name: str = "inflow"

    def __post_init__(self) -> None:
        cells = np.asarray(self.cells)
        if cells.ndim != 2 or cells.shape[1] != 2 or cells.shape[0] == 0:
            raise ValueError(f"Inflow {self.name!r} cells: expected (row, column) pairs of shape "
                             f"(k, 2) with k >= 1, got shape {cells.shape}")
        if not np.issubdtype(cells.dtype, np.integer):
            raise ValueError(f"Inflow {self.name!r} cells: expected integer (row, column) "
                             f"indices, got dtype {cells.dtype}")
        self.cells = cells.astype(np.int64)
        t, q = _series(f"Inflow {self.name!r}", self.times_s, self.discharge_m3_s,
                       nonnegative=True)
        self.times_s = t
        self.discharge_m3_s = q


@dataclass
class FloodForcing:
    """What drives the flood.

    * Rain: a hyetograph, ``rain_mm_h[k]`` on ``[rain_times_s[k], rain_times_s[k+1])`` (so one
      more time than intensities; no rain outside), uniform over the open cells.
    * Drainage: ``drain_capacity_mm_h`` removed from every open cell (limited by the water
      there), plus inlets at ``inlet_cells`` ((row, column) pairs) with capacities
      ``inlet_capacity_m3_s``.
    * Inflows: :class:`Inflow` hydrographs (m3/s) at cells.
    * Boundaries per side (``west``, ``east``, ``south``, ``north``; missing sides are closed):
      ``"closed"`` (wall), ``"open"`` (free outflow), a number (fixed water level, m above datum)
      or ``(times_s, levels_m)`` (a level hydrograph, linear in between, ends held).
    """

    rain_times_s: Sequence[float] | np.ndarray | None = None
    rain_mm_h: Sequence[float] | np.ndarray | None = None
    drain_capacity_mm_h: float = 0.0
    inlet_cells: np.ndarray | None = None
    inlet_capacity_m3_s: Sequence[float] | np.ndarray | None = None
    inflows: Sequence[Inflow] = ()
    boundaries: Mapping[str, BoundarySpec] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.rain_times_s is None) != (self.rain_mm_h is None):
            raise ValueError("FloodForcing rain: expected both rain_times_s and rain_mm_h, or "
                             "neither")
        if self.rain_mm_h is not None:
            r = _float_array("FloodForcing.rain_mm_h", self.rain_mm_h, ndim=1)
            e = _float_array("FloodForcing.rain_times_s", self.rain_times_s, ndim=1)
            if r.size == 0 or e.size != r.size + 1:
                raise ValueError(f"FloodForcing.rain_times_s: expected the {r.size + 1} interval "
                                 f"edges of {r.size} rain intensities (one more time than "
                                 f"intensities), got {e.size} times")
            if np.any(np.diff(e) <= 0.0):
                raise ValueError("FloodForcing.rain_times_s: expected strictly increasing times")
            if np.any(r < 0.0):
                raise ValueError(f"FloodForcing.rain_mm_h: expected intensities >= 0, got min "
                                 f"{r.min()}")
            self.rain_times_s, self.rain_mm_h = e, r
        d = float(_float_array("FloodForcing.drain_capacity_mm_h", self.drain_capacity_mm_h,
                               ndim=0))
        if d < 0.0:
            raise ValueError(f"FloodForcing.drain_capacity_mm_h: expected >= 0, got {d}")
        self.drain_capacity_mm_h = d
        if (self.inlet_cells is None) != (self.inlet_capacity_m3_s is None):
            raise ValueError("FloodForcing inlets: expected both inlet_cells and "
                             "inlet_capacity_m3_s, or neither")
        if self.inlet_cells is not None:
            cells = np.asarray(self.inlet_cells)
            if cells.ndim != 2 or cells.shape[1] != 2 or \
                    not np.issubdtype(cells.dtype, np.integer):
                raise ValueError(f"FloodForcing.inlet_cells: expected integer (row, column) "
                                 f"pairs of shape (k, 2), got shape {cells.shape} dtype "
                                 f"{cells.dtype}")
            cap = _float_array("FloodForcing.inlet_capacity_m3_s", self.inlet_capacity_m3_s,
                               ndim=1)
            if cap.size != cells.shape[0]:
                raise ValueError(f"FloodForcing.inlet_capacity_m3_s: expected one capacity per "
                                 f"inlet cell ({cells.shape[0]}), got {cap.size}")
            if np.any(cap < 0.0):
                raise ValueError("FloodForcing.inlet_capacity_m3_s: expected capacities >= 0")
            self.inlet_cells, self.inlet_capacity_m3_s = cells.astype(np.int64), cap
        for k, inf in enumerate(self.inflows):
            if not isinstance(inf, Inflow):
                raise ValueError(  # noqa: TRY004 (bad input -> ValueError, house rule)
                    f"FloodForcing.inflows[{k}]: expected an Inflow, got {type(inf).__name__}")
        self.inflows = tuple(self.inflows)
        if not isinstance(self.boundaries, Mapping):
            raise ValueError(  # noqa: TRY004
                "FloodForcing.boundaries: expected a mapping side -> spec")
        parsed: dict[str, BoundarySpec] = {}
        for side, spec in self.boundaries.items():
            if side not in SIDES:
                raise ValueError(f"FloodForcing.boundaries: unknown side {side!r}; expected one "
                                 f"of {SIDES}")
            name = f"FloodForcing.boundaries[{side!r}]"
            if isinstance(spec, str):
                if spec not in ("closed", "open"):
                    raise ValueError(f"{name}: expected 'closed', 'open', a level (m) or "
                                     f"(times_s, levels_m), got {spec!r}")
                parsed[side] = spec
            elif isinstance(spec, tuple | list) and len(spec) == 2:
                t, v = _series(name, spec[0], spec[1])
                parsed[side] = (t, v)
            else:
                try:
                    lvl = float(spec)  # type: ignore[arg-type]
                except (TypeError, ValueError) as exc:
                    raise ValueError(f"{name}: expected 'closed', 'open', a level (m) or "
                                     f"(times_s, levels_m), got {spec!r}") from exc
                if not math.isfinite(lvl):
                    raise ValueError(f"{name}: expected a finite level, got {spec!r}")
                parsed[side] = lvl
        self.boundaries = parsed


@dataclass(frozen=True)
class MassBalance:
    """Volume account of a model since it was built (m3). ``error_m3`` = initial + rain + inflow
    + boundary_in - drained - boundary_out - stored; ``relative_error`` divides its magnitude by
    the larger of the total supplied and stored volumes. ``clipped_m3`` is round-off negative
    depth set to zero (reported, not hidden in the balance)."""

    initial_m3: float
    rain_m3: float
    inflow_m3: float
    boundary_in_m3: float
    drained_m3: float
    outflow_m3: float
    stored_m3: float
    clipped_m3: float
    error_m3: float
    relative_error: float


@dataclass(frozen=True)
class FloodResult:
    """What :meth:`FloodModel.run` recorded. ``times_s`` (n,); fields (n, ny, nx) when recorded
    (``depth_m``, cell-centred ``velocity_x_m_s`` / ``velocity_y_m_s``), else None;
    ``max_depth_m`` (ny, nx) since the model was built; ``point_depth_m`` and
    ``point_speed_m_s`` (n, p) at ``points`` ((p, 2) world x, y); solver ``steps`` and
    ``cell_updates`` (steps x cells) of this run, its ``wall_s`` and the mass balance at the end."""

    times_s: np.ndarray
    depth_m: np.ndarray | None
    velocity_x_m_s: np.ndarray | None
    velocity_y_m_s: np.ndarray | None
    max_depth_m: np.ndarray
    points: np.ndarray
    point_depth_m: np.ndarray
    point_speed_m_s: np.ndarray
    steps: int
    cell_updates: int
    wall_s: float
    mass_balance: MassBalance


class FloodModel:
    """A flood simulation on a :class:`FloodGrid` driven by :class:`FloodForcing`.

    ``solver`` "inertial" (options ``alpha``, ``theta``) or "fv" (options ``order`` 1 or 2,
    default 2, and ``cfl``, default 0.45 for order 1 and 0.25 for order 2). Initial water
    as ``initial_depth_m`` (scalar or [ny, nx]) or ``initial_level_m`` (water level, scalar or
    [ny, nx]; depth = max(level - bed, 0)); dry by default. ``dt_max_s`` caps the step (default:
    the solver's step at a depth of 1 cm). ``h_eps_m``: depth below which faces carry no flow
    (inertial) or a cell holds no momentum (fv); ``velocity_depth_m``: depth below which reported
    velocities are zero."""

    def __init__(self, grid: FloodGrid, *, solver: str = "inertial",
                 forcing: FloodForcing | None = None,
                 initial_depth_m: np.ndarray | float | None = None,
                 initial_level_m: np.ndarray | float | None = None,
                 alpha: float = DEFAULT_ALPHA, theta: float = DEFAULT_THETA,
                 cfl: float | None = None, order: int = 2, dt_max_s: float | None = None,
                 h_eps_m: float = DEFAULT_H_EPS_M,
                 velocity_depth_m: float = DEFAULT_VELOCITY_DEPTH_M) -> None:
        if not isinstance(grid, FloodGrid):
            raise ValueError(  # noqa: TRY004
                f"grid: expected a FloodGrid, got {type(grid).__name__}")
        if solver not in SOLVERS:
            raise ValueError(f"solver: expected one of {SOLVERS}, got {solver!r}")
        if forcing is None:
            forcing = FloodForcing()
        if not isinstance(forcing, FloodForcing):
            raise ValueError(  # noqa: TRY004
                f"forcing: expected a FloodForcing, got {type(forcing).__name__}")
        self.grid = grid
        self.solver = solver
        self.forcing = forcing
        self.alpha = _positive("alpha", alpha)
        if self.alpha > 1.0:
            raise ValueError(f"alpha: expected 0 < alpha <= 1 (Courant number), got {alpha}")
        theta = float(theta)
        if not (0.5 <= theta <= 1.0):
            raise ValueError(f"theta: expected 0.5 <= theta <= 1, got {theta}")
        self.theta = theta
        if isinstance(order, bool) or order not in FV_ORDERS:
            raise ValueError(f"order: expected 1 or 2 (spatial order of the fv solver), got "
                             f"{order!r}")
        self.order = int(order)
        o = self.order if solver == "fv" else 1
        if cfl is None:
            cfl = DEFAULT_CFL if o == 1 else DEFAULT_CFL_ORDER2
        self.cfl = _positive("cfl", cfl)
        if self.cfl > MAX_CFL[o]:
            raise ValueError(f"cfl: expected 0 < cfl <= {MAX_CFL[o]} (positivity"
                             f"{', order 2' if o == 2 else ''}), got {cfl}")
        self.h_eps_m = _positive("h_eps_m", h_eps_m)
        self.velocity_depth_m = _positive("velocity_depth_m", velocity_depth_m)
        dx = grid.cell_size_m
        c_ref = math.sqrt(GRAVITY * DT_REFERENCE_DEPTH_M)
        if dt_max_s is None:
            dt_max_s = (self.alpha if solver == "inertial" else self.cfl) * dx / c_ref
        self.dt_max_s = _positive("dt_max_s", dt_max_s)
        ny, nx = grid.shape
        active = grid.active
        self._active = np.ascontiguousarray(active)
        z = grid.bed_m
        # initial water
        if initial_depth_m is not None and initial_level_m is not None:
            raise ValueError("initial_depth_m / initial_level_m: expected at most one of them")
        h = np.zeros((ny, nx))
        if initial_depth_m is not None:
            d = _float_array("initial_depth_m", initial_depth_m)
            if d.ndim not in (0, 2) or (d.ndim == 2 and d.shape != (ny, nx)):
                raise ValueError(f"initial_depth_m: expected a scalar or shape {(ny, nx)}, got "
                                 f"shape {d.shape}")
            if np.any(d < 0.0):
                raise ValueError(f"initial_depth_m: expected depths >= 0, got min {d.min()}")
            h[:] = d
        elif initial_level_m is not None:
            lv = _float_array("initial_level_m", initial_level_m)
            if lv.ndim not in (0, 2) or (lv.ndim == 2 and lv.shape != (ny, nx)):
                raise ValueError(f"initial_level_m: expected a scalar or shape {(ny, nx)}, got "
                                 f"shape {lv.shape}")
            h[:] = np.maximum(lv - z, 0.0)
        h[~active] = 0.0
        self._h = np.ascontiguousarray(h)
        self._hmax = self._h.copy()
        self._z = z
        self._n2 = np.ascontiguousarray(np.asarray(grid.manning_n) ** 2)
        self._build_forcing(forcing)
        if solver == "inertial":
            self._qx = np.zeros((ny, nx + 1))
            self._qy = np.zeros((ny + 1, nx))
            act = self._active
            self._ox = np.zeros((ny, nx + 1))
            self._ox[:, 1:nx] = act[:, :-1] & act[:, 1:]
            self._oy = np.zeros((ny + 1, nx))
            self._oy[1:ny, :] = act[:-1, :] & act[1:, :]
        else:
            self._hu = np.zeros((ny, nx))
            self._hv = np.zeros((ny, nx))
            self._rh = np.zeros((ny, nx))
            self._ru = np.zeros((ny, nx))
            self._rv = np.zeros((ny, nx))
        self._acc = np.zeros(N_ACC)
        self._initial_m3 = float(self._h.sum() * grid.cell_area_m2)
        self.time_s = 0.0
        self.steps = 0

    # ------------------------------------------------------------------ forcing -> kernel arrays
    def _cell_index(self, cells: np.ndarray, name: str) -> np.ndarray:
        ny, nx = self.grid.shape
        r, c = cells[:, 0], cells[:, 1]
        bad = (r < 0) | (r >= ny) | (c < 0) | (c >= nx)
        if np.any(bad):
            k = int(np.argmax(bad))
            raise ValueError(f"{name}: cell (row {r[k]}, column {c[k]}) lies outside the grid "
                             f"of {ny} rows x {nx} columns")
        shut = ~self._active[r, c]
        if np.any(shut):
            k = int(np.argmax(shut))
            raise ValueError(f"{name}: cell (row {r[k]}, column {c[k]}) is a closed (obstacle) "
                             f"cell; expected an open cell")
        return (r * nx + c).astype(np.int64)

    def _build_forcing(self, f: FloodForcing) -> None:
        g = self.grid
        area = g.cell_area_m2
        if f.rain_mm_h is not None:
            self._rain_edges = np.asarray(f.rain_times_s, dtype=np.float64)
            self._rain_rate = np.asarray(f.rain_mm_h, dtype=np.float64) * MM_H_TO_M_S
        else:
            self._rain_edges = np.zeros(1)
            self._rain_rate = np.zeros(0)
        drain = np.where(self._active, f.drain_capacity_mm_h * MM_H_TO_M_S, 0.0)
        if f.inlet_cells is not None:
            idx = self._cell_index(np.asarray(f.inlet_cells), "FloodForcing.inlet_cells")
            np.add.at(drain.reshape(-1), idx, np.asarray(f.inlet_capacity_m3_s) / area)
        self._drain = np.ascontiguousarray(drain)
        cells, lines, weights, ts, qs, off = [], [], [], [], [], [0]
        for k, inf in enumerate(f.inflows):
            idx = self._cell_index(inf.cells, f"Inflow {inf.name!r} cells")
            cells.append(idx)
            lines.append(np.full(idx.size, k, np.int64))
            weights.append(np.full(idx.size, 1.0 / idx.size))
            ts.append(np.asarray(inf.times_s, dtype=np.float64))
            qs.append(np.asarray(inf.discharge_m3_s, dtype=np.float64))
            off.append(off[-1] + ts[-1].size)
        cat = (lambda a, dt: np.concatenate(a).astype(dt) if a else np.zeros(0, dt))
        self._src_cell = cat(cells, np.int64)
        self._src_line = cat(lines, np.int64)
        self._src_w = cat(weights, np.float64)
        self._inf_t = cat(ts, np.float64)
        self._inf_q = cat(qs, np.float64)
        self._inf_off = np.asarray(off, np.int64)
        bc = np.zeros(4, np.int64)
        lt: list[np.ndarray] = []
        lv: list[np.ndarray] = []
        loff = [0]
        zmin = np.zeros(4)
        for s, side in enumerate(SIDES):
            spec = f.boundaries.get(side, "closed")
            cells_s = g.boundary_cells(side)
            zs = self._z[cells_s[:, 0], cells_s[:, 1]][self._active[cells_s[:, 0], cells_s[:, 1]]]
            zmin[s] = zs.min() if zs.size else 0.0
            if spec == "closed":
                bc[s] = BC_CLOSED
            elif spec == "open":
                bc[s] = BC_OPEN
            else:
                bc[s] = BC_LEVEL
                if isinstance(spec, tuple):
                    lt.append(np.asarray(spec[0], np.float64))
                    lv.append(np.asarray(spec[1], np.float64))
                else:
                    lt.append(np.zeros(1))
                    lv.append(np.array([float(spec)]))  # type: ignore[arg-type]
            loff.append(loff[-1] + (lt[-1].size if bc[s] == BC_LEVEL else 0))
        self._bc = bc
        self._lvl_t = np.concatenate(lt) if lt else np.zeros(0)
        self._lvl_v = np.concatenate(lv) if lv else np.zeros(0)
        self._lvl_off = np.asarray(loff, np.int64)
        self._zmin_side = zmin

    # ------------------------------------------------------------------ stepping
    def _advance(self, t_end: float) -> int:
        dx = self.grid.cell_size_m
        if self.solver == "inertial":
            _t, n, _ = advance_inertial(
                self._h, self._qx, self._qy, self._z, self._n2, self._active, self._drain,
                self._hmax, self._rain_edges, self._rain_rate, self._src_cell, self._src_line,
                self._src_w, self._inf_t, self._inf_q, self._inf_off, self._bc, self._lvl_t,
                self._lvl_v, self._lvl_off, self._zmin_side, dx, self.time_s, t_end,
                self.alpha, self.theta, self.dt_max_s, self.h_eps_m, self._acc, self._ox,
                self._oy)
        else:
            _t, n, _ = (advance_fv2 if self.order == 2 else advance_fv)(
                self._h, self._hu, self._hv, self._z, self._n2, self._active, self._drain,
                self._hmax, self._rain_edges, self._rain_rate, self._src_cell, self._src_line,
                self._src_w, self._inf_t, self._inf_q, self._inf_off, self._bc, self._lvl_t,
                self._lvl_v, self._lvl_off, dx, self.time_s, t_end, self.cfl, self.dt_max_s,
                self.h_eps_m, self._acc, self._rh, self._ru, self._rv)
        self.time_s = float(t_end)  # the kernel lands on t_end exactly (last step shortened)
        self.steps += int(n)
        return int(n)

    @property
    def depth_m(self) -> np.ndarray:
        """Current depth [ny, nx] (m), a copy."""
        return self._h.copy()

    @property
    def level_m(self) -> np.ndarray:
        """Current water level [ny, nx] (m above datum; bed level where dry), a copy."""
        return self._h + self._z

    @property
    def max_depth_m(self) -> np.ndarray:
        return self._hmax.copy()

    def velocity_m_s(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centred velocities (u east, v north) in m/s; zero where the depth is at most
        ``velocity_depth_m`` (1 mm by default, as LISFLOOD-FP's depth threshold)."""
        h = self._h
        wet = h > max(self.velocity_depth_m, self.h_eps_m)
        if self.solver == "inertial":
            mx = 0.5 * (self._qx[:, :-1] + self._qx[:, 1:])
            my = 0.5 * (self._qy[:-1, :] + self._qy[1:, :])
        else:
            mx, my = self._hu, self._hv
        u = np.zeros_like(h)
        v = np.zeros_like(h)
        u[wet] = mx[wet] / h[wet]
        v[wet] = my[wet] / h[wet]
        return u, v

    def run(self, until_s: float, *, record_every_s: float | None = None,
            points: Sequence[tuple[float, float]] | np.ndarray | None = None,
            record_fields: bool = True) -> FloodResult:
        """Advance to ``until_s`` (s, after the current time), recording the state now, every
        ``record_every_s`` (default: only at the end) and at the end: fields if
        ``record_fields``, depth and speed at world ``points`` always."""
        until = float(until_s)
        if not math.isfinite(until) or until <= self.time_s:
            raise ValueError(f"until_s: expected a time after the current time {self.time_s} s, "
                             f"got {until_s!r}")
        if record_every_s is not None:
            every = _positive("record_every_s", record_every_s)
        else:
            every = until - self.time_s
        if points is None:
            pts = np.zeros((0, 2))
        else:
            pts = _float_array("points", points)
            if pts.ndim != 2 or pts.shape[1] != 2:
                raise ValueError(f"points: expected (x, y) pairs of shape (p, 2), got shape "
                                 f"{pts.shape}")
        cells = np.array([self.grid.cell_of(x, y, name=f"points[{k}]")
                          for k, (x, y) in enumerate(pts)], dtype=np.int64).reshape(-1, 2)
        times: list[float] = []
        depths: list[np.ndarray] = []
        us: list[np.ndarray] = []
        vs: list[np.ndarray] = []
        pdep: list[np.ndarray] = []
        pspd: list[np.ndarray] = []

        def record() -> None:
            u, v = self.velocity_m_s()
            times.append(self.time_s)
            if record_fields:
                depths.append(self._h.copy())
                us.append(u)
                vs.append(v)
            r, c = cells[:, 0], cells[:, 1]
            pdep.append(self._h[r, c].copy())
            pspd.append(np.hypot(u[r, c], v[r, c]))

        record()
        steps = 0
        start = time.perf_counter()
        k = 1
        t0 = self.time_s
        while self.time_s < until:
            target = min(t0 + k * every, until)
            if until - target < 1e-9 * max(1.0, until):
                target = until
            steps += self._advance(target)
            record()
            k += 1
        wall = time.perf_counter() - start
        ncell = int(self._active.sum())
        return FloodResult(
            times_s=np.asarray(times),
            depth_m=np.stack(depths) if record_fields else None,
            velocity_x_m_s=np.stack(us) if record_fields else None,
            velocity_y_m_s=np.stack(vs) if record_fields else None,
            max_depth_m=self._hmax.copy(),
            points=pts,
            point_depth_m=np.asarray(pdep).reshape(len(times), -1),
            point_speed_m_s=np.asarray(pspd).reshape(len(times), -1),
            steps=steps,
            cell_updates=steps * ncell,
            wall_s=wall,
            mass_balance=self.mass_balance(),
        )

    def withdraw(self, cells: np.ndarray, *, max_m3: float = math.inf) -> float:
        """Take the water standing in ``cells`` ((row, column) pairs) out of the model — at most
        ``max_m3`` — and book it as drained (e.g. into an underground garage through its ramp,
        or a manhole that swallows it). Returns the volume taken (m3)."""
        cells = np.asarray(cells, dtype=np.int64).reshape(-1, 2)
        self._cell_index(cells, "withdraw cells")  # validates
        r, c = cells[:, 0], cells[:, 1]
        area = self.grid.cell_area_m2
        vol = self._h[r, c] * area
        total = float(vol.sum())
        if total <= 0.0 or max_m3 <= 0.0:
            return 0.0
        frac = min(1.0, max_m3 / total)
        self._h[r, c] *= 1.0 - frac
        taken = total * frac
        self._acc[ACC_DRAINED] += taken
        return taken

    def mass_balance(self) -> MassBalance:
        """The volume account since the model was built (see :class:`MassBalance`)."""
        a = self._acc
        stored = float(self._h.sum() * self.grid.cell_area_m2)
        supplied = self._initial_m3 + a[ACC_RAIN] + a[ACC_INFLOW] + a[ACC_BOUNDARY_IN]
        err = supplied - a[ACC_DRAINED] - a[ACC_BOUNDARY_OUT] - stored
        scale = max(supplied, stored, 1e-300)
        return MassBalance(
            initial_m3=self._initial_m3, rain_m3=float(a[ACC_RAIN]),
            inflow_m3=float(a[ACC_INFLOW]), boundary_in_m3=float(a[ACC_BOUNDARY_IN]),
            drained_m3=float(a[ACC_DRAINED]), outflow_m3=float(a[ACC_BOUNDARY_OUT]),
            stored_m3=stored, clipped_m3=float(a[ACC_CLIPPED]), error_m3=float(err),
            relative_error=float(abs(err) / scale) if supplied > 0 or stored > 0 else 0.0)
