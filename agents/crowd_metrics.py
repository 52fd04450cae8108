"""Planners' metrics of a microscopic evacuation, from plain arrays (any crowd run, one level or
several laid out on one grid).

Input is a :class:`CrowdTrace`: positions, speeds and walking flags of n agents sampled nt times
(every ``sample_s`` seconds, 1 s by default), the free speeds, and the walkable grid the agents
walk on with named region masks (doors, exits, stairs, corridors, levels ...). Units SI: m, s,
m/s, persons/m² (p/m²).

* :func:`density_maps` — peak and mean-while-occupied crowd density on ``window_m`` square bins
  aligned to the grid; the count of a bin is divided by the bin's *walkable* area (a 1 m bin
  half in a wall holds its people on 0.5 m²).
* :func:`fruin_los` — Fruin's level of service (A-F) of a density, walkway or stairway table.
* :func:`queue_time` — per agent, the time spent walking slower than ``slow_fraction`` x its
  free speed (queueing).
* :func:`bottlenecks` — the places where most person-seconds of queueing accrue, ranked.
* :func:`evacuation_curve`, :func:`rset` — persons out over time, overall and per group; the
  required safe escape time (RSET) at 95 % and 100 % out.
* :func:`door_flows` — persons, mean flow (p/s), specific flow (p/(m s)) and peak 10 s flow
  per door from crossing times.

Sampling: a sample at t_k stands for the interval up to the next sample, w_k = t_{k+1} - t_k
(the last sample repeats the previous interval), so an agent slow in 3 samples 1 s apart
queued 3 s. Durations are therefore resolved to the sampling interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import ndimage

from agents import _crowd_metrics_kernel as K

__all__ = [
    "FRUIN_STAIRWAY_M2",
    "FRUIN_WALKWAY_M2",
    "CrowdTrace",
    "bottlenecks",
    "density_maps",
    "door_flows",
    "evacuation_curve",
    "fruin_los",
    "queue_time",
    "rset",
]

#: Fruin (1971) walkway levels of service: lower bounds of the area per person (m²/p) of A-E
#: (F below the last). 35/25/15/10/5 ft² per person in the original.
FRUIN_WALKWAY_M2: tuple[float, ...] = (3.24, 2.32, 1.39, 0.93, 0.46)
#: Fruin (1971) stairway levels of service (m²/p): 20/15/10/7/4 ft² per person.
FRUIN_STAIRWAY_M2: tuple[float, ...] = (1.86, 1.39, 0.93, 0.65, 0.37)
LOS_LETTERS = ("A", "B", "C", "D", "E", "F")


# ---------------------------------------------------------------------------------- the trace
@dataclass
class CrowdTrace:
    """Sampled state of a crowd run (module docstring).

    ``t`` [nt] sample times (s, strictly increasing); ``x``, ``y`` [nt, n] positions (m, NaN
    when the agent is not inside: waiting agents are inside, agents out are NaN); ``speed``
    [nt, n] (m/s); ``walking`` [nt, n] bool (started and not out); ``v0`` [n] free speeds
    (m/s, > 0); ``origin`` (m) lower-left corner and ``cell_size_m`` of the grid ``walkable``
    [ny, nx] (row 0 south, as :class:`geometry.raster.LevelRaster`); ``regions`` named bool
    masks [ny, nx]; ``stair_mask`` [ny, nx] bool cells on stairs (Fruin's stairway table
    applies there) or None. Shapes and values are checked on construction; a ValueError lists
    every field that is wrong.
    """

    t: np.ndarray
    x: np.ndarray
    y: np.ndarray
    speed: np.ndarray
    walking: np.ndarray
    v0: np.ndarray
    origin: tuple[float, float]
    cell_size_m: float
    walkable: np.ndarray
    regions: dict[str, np.ndarray] = field(default_factory=dict)
    stair_mask: np.ndarray | None = None

    def __post_init__(self) -> None:
        bad: list[str] = []
        self.t = np.asarray(self.t, dtype=np.float64)
        if self.t.ndim != 1 or self.t.size == 0:
            bad.append(f"CrowdTrace.t: expected a non-empty 1-D array of sample times (s), got shape {self.t.shape}")
        elif not np.isfinite(self.t).all() or (self.t.size > 1 and not (np.diff(self.t) > 0).all()):
            bad.append("CrowdTrace.t: sample times must be finite and strictly increasing")
        nt = self.t.shape[0] if self.t.ndim == 1 else -1
        self.v0 = np.asarray(self.v0, dtype=np.float64)
        n = self.v0.shape[0] if self.v0.ndim == 1 else -1
        if self.v0.ndim != 1:
            bad.append(f"CrowdTrace.v0: expected a 1-D array [n] of free speeds (m/s), got shape {self.v0.shape}")
        elif not (np.isfinite(self.v0) & (self.v0 > 0)).all():
            k = int(np.flatnonzero(~(np.isfinite(self.v0) & (self.v0 > 0)))[0])
            bad.append(f"CrowdTrace.v0: free speeds must be finite and > 0 m/s, agent {k} has {self.v0[k]!r}")
        for nm in ("x", "y", "speed", "walking"):
            arr = np.asarray(getattr(self, nm))
            if nm == "walking":
                if arr.dtype.kind in "iu":
                    arr = arr.astype(bool)
                ok_kind = arr.dtype.kind == "b"
                want = "bool"
            else:
                ok_kind = arr.dtype.kind == "f"
                want = "float"
            setattr(self, nm, arr)
            if arr.shape != (nt, n):
                bad.append(f"CrowdTrace.{nm}: expected a {want} array of shape (nt, n) = ({nt}, {n}) "
                           f"(len(t), len(v0)), got shape {arr.shape}")
            elif not ok_kind:
                bad.append(f"CrowdTrace.{nm}: expected dtype {want}, got {arr.dtype}")
        if self.x.shape == self.y.shape and self.x.dtype.kind == "f" and self.y.dtype.kind == "f" \
                and (np.isnan(self.x) != np.isnan(self.y)).any():
            bad.append("CrowdTrace.x/y: NaN (not inside) must be the same in x and y")
        try:
            ox, oy = (float(v) for v in self.origin)
            if not (math.isfinite(ox) and math.isfinite(oy)):
                raise ValueError
            self.origin = (ox, oy)
        except (TypeError, ValueError):
            bad.append(f"CrowdTrace.origin: expected two finite numbers (x, y) in m, got {self.origin!r}")
        if not (isinstance(self.cell_size_m, (int, float)) and math.isfinite(self.cell_size_m)
                and self.cell_size_m > 0):
            bad.append(f"CrowdTrace.cell_size_m: expected a positive number of metres, got {self.cell_size_m!r}")
        else:
            self.cell_size_m = float(self.cell_size_m)
        self.walkable = np.asarray(self.walkable)
        shape = self.walkable.shape
        if self.walkable.ndim != 2 or self.walkable.dtype.kind != "b":
            bad.append(f"CrowdTrace.walkable: expected a 2-D bool grid [ny, nx], got {self.walkable.dtype} "
                       f"of shape {shape}")
        if not isinstance(self.regions, Mapping):
            bad.append(f"CrowdTrace.regions: expected a dict name -> bool mask, got {type(self.regions).__name__}")
            self.regions = {}
        regions: dict[str, np.ndarray] = {}
        for name, mk in self.regions.items():
            arr = np.asarray(mk)
            if not isinstance(name, str) or not name:
                bad.append(f"CrowdTrace.regions: region names must be non-empty strings, got {name!r}")
            elif arr.shape != shape or arr.dtype.kind != "b":
                bad.append(f"CrowdTrace.regions[{name!r}]: expected a bool mask of the walkable grid's shape "
                           f"{shape}, got {arr.dtype} of shape {arr.shape}")
            regions[str(name)] = arr
        self.regions = regions
        if self.stair_mask is not None:
            self.stair_mask = np.asarray(self.stair_mask)
            if self.stair_mask.shape != shape or self.stair_mask.dtype.kind != "b":
                bad.append(f"CrowdTrace.stair_mask: expected a bool mask of shape {shape} or None, got "
                           f"{self.stair_mask.dtype} of shape {self.stair_mask.shape}")
        if bad:
            raise ValueError("invalid CrowdTrace:\n  " + "\n  ".join(bad))

    @property
    def nt(self) -> int:
        return int(self.t.shape[0])

    @property
    def n(self) -> int:
        return int(self.v0.shape[0])

    def sample_weights(self) -> np.ndarray:
        """Seconds each sample stands for: t[k+1] - t[k], the last one repeating the previous
        interval (0 for a single sample)."""
        if self.nt < 2:
            return np.zeros(self.nt)
        d = np.diff(self.t)
        return np.append(d, d[-1])

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(i, j, inside) grid cells of positions; ``inside`` False for NaN or off-grid points."""
        h = self.cell_size_m
        with np.errstate(invalid="ignore"):
            fi = np.floor((np.asarray(x, dtype=np.float64) - self.origin[0]) / h)
            fj = np.floor((np.asarray(y, dtype=np.float64) - self.origin[1]) / h)
        ny, nx = self.walkable.shape
        ok = np.isfinite(fi) & np.isfinite(fj) & (fi >= 0) & (fj >= 0) & (fi < nx) & (fj < ny)
        i = np.where(ok, fi, 0).astype(np.int64)
        j = np.where(ok, fj, 0).astype(np.int64)
        return i, j, ok


# ---------------------------------------------------------------------------------- density
def _window_cells(cell_size_m: float, window_m: float) -> int:
    if not (isinstance(window_m, (int, float)) and math.isfinite(window_m) and window_m > 0):
        raise ValueError(f"window_m must be a positive number of metres, got {window_m!r}")
    k = round(window_m / cell_size_m)
    if k < 1 or abs(k * cell_size_m - window_m) > 1e-6 * max(1.0, window_m):
        raise ValueError(f"window_m = {window_m} m must be a whole multiple of the trace's cell size "
                         f"{cell_size_m} m (the bins are aligned to the grid)")
    return k


def _walkable_area(walkable: np.ndarray, k: int, cell_size_m: float) -> np.ndarray:
    """Walkable area (m²) of each k x k window of the grid (windows at the north/east edge may
    be cut off by the grid: they count only the cells they have)."""
    ny, nx = walkable.shape
    nby, nbx = -(-ny // k), -(-nx // k)
    pad = np.zeros((nby * k, nbx * k), dtype=np.float64)
    pad[:ny, :nx] = walkable
    return pad.reshape(nby, k, nbx, k).sum(axis=(1, 3)) * cell_size_m**2


def density_maps(trace: CrowdTrace, *, window_m: float = 1.0,
                 min_walkable_fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Peak and mean-while-occupied density (p/m²) on square bins of ``window_m`` (a whole
    multiple of the cell size) aligned to the trace's grid: bin (bj, bi) covers cells
    [bj*k, (bj+1)*k) x [bi*k, (bi+1)*k), k = window_m / cell_size_m, row 0 south.

    Per sample, a bin's density is the number of agents inside it (waiting or walking; agents
    out have NaN positions) divided by the bin's **walkable** area. Bins whose walkable area is
    below ``min_walkable_fraction`` of the full bin (slivers of floor along a wall, where one
    person would read as tens of p/m²) are NaN in both maps, as are bins with no floor.

    Returns ``(max_density, mean_density_while_occupied)``, both [ceil(ny/k), ceil(nx/k)]:
    the largest density over all samples (0 where nobody ever was), and the mean density over
    the samples in which the bin held at least one agent (NaN where it never did).
    """
    if not (isinstance(min_walkable_fraction, (int, float)) and 0 <= min_walkable_fraction <= 1):
        raise ValueError(f"min_walkable_fraction must be in [0, 1], got {min_walkable_fraction!r}")
    k = _window_cells(trace.cell_size_m, window_m)
    area = _walkable_area(trace.walkable, k, trace.cell_size_m)
    counted = area >= max(min_walkable_fraction * window_m**2, 1e-12)
    area_k = np.where(counted, area, 0.0)
    dmax = np.zeros(area.shape)
    dsum = np.zeros(area.shape)
    nocc = np.zeros(area.shape, dtype=np.int64)
    K.density_stats(np.ascontiguousarray(trace.x), np.ascontiguousarray(trace.y),
                    float(trace.origin[0]), float(trace.origin[1]), float(trace.cell_size_m), k,
                    area_k, dmax, dsum, nocc, np.zeros(area.size, dtype=np.int64),
                    np.zeros(max(trace.n, 1), dtype=np.int64))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(nocc > 0, dsum / np.maximum(nocc, 1), np.nan)
    dmax[~counted] = np.nan
    mean[~counted] = np.nan
    return dmax, mean


# ---------------------------------------------------------------------------------- LoS
def fruin_los(density: float | np.ndarray, *, stairs: bool | np.ndarray = False) -> str | np.ndarray:
    """Fruin's level of service (``'A'`` ... ``'F'``) of a density (p/m²), from the area per
    person a = 1 / density: walkway A a > 3.24, B 2.32 < a <= 3.24, C 1.39 < a <= 2.32,
    D 0.93 < a <= 1.39, E 0.46 < a <= 0.93, F a <= 0.46 m²/p; stairway (``stairs=True``, or a
    bool array of the density's shape) A a > 1.86, B 1.39-1.86, C 0.93-1.39, D 0.65-0.93,
    E 0.37-0.65, F a <= 0.37 m²/p. Density 0 is A; NaN gives ``''``. A scalar gives a str, an
    array an array of str of the same shape.

    Source: J. J. Fruin (1971), *Pedestrian Planning and Design*, Metropolitan Association of
    Urban Designers and Environmental Planners, New York (ch. 4, walkway and stairway levels of
    service), and J. J. Fruin (1971), "Designing for pedestrians: a level-of-service concept",
    Highway Research Record 355, 1-15: walkway LoS A >= 35, B 25-35, C 15-25, D 10-15, E 5-10,
    F <= 5 ft²/person; stairway A >= 20, B 15-20, C 10-15, D 7-10, E 4-7, F <= 4 ft²/person
    (1 ft² = 0.0929 m²; the metric values above are the usual roundings).
    """
    d0 = np.asarray(density, dtype=np.float64)
    d = np.atleast_1d(d0)
    if np.any(np.isfinite(d) & (d < 0)):
        raise ValueError("fruin_los: densities must be >= 0 p/m²")
    st = np.atleast_1d(np.broadcast_to(np.asarray(stairs, dtype=bool), d0.shape))
    with np.errstate(divide="ignore"):
        a = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), np.inf)
    out = np.full(d.shape, "", dtype="<U1")
    for table, sel in ((FRUIN_WALKWAY_M2, ~st), (FRUIN_STAIRWAY_M2, st)):
        # level index = number of lower bounds the area does not exceed
        idx = np.zeros(d.shape, dtype=np.int64)
        for lo in table:
            idx += a <= lo
        letters = np.asarray(LOS_LETTERS)[idx]
        m = sel & np.isfinite(d) & (d >= 0)
        out[m] = letters[m]
    return str(out[0]) if d0.ndim == 0 else out.reshape(d0.shape)


# ---------------------------------------------------------------------------------- queueing
def _check_fraction(slow_fraction: float) -> None:
    if not (isinstance(slow_fraction, (int, float)) and 0 < slow_fraction <= 1):
        raise ValueError(f"slow_fraction must be in (0, 1], got {slow_fraction!r}")


def _slow(trace: CrowdTrace, slow_fraction: float, s0: int = 0, s1: int | None = None) -> np.ndarray:
    sl = slice(s0, s1)
    with np.errstate(invalid="ignore"):
        return (trace.walking[sl] & np.isfinite(trace.x[sl])
                & (trace.speed[sl] < slow_fraction * trace.v0[None, :]))


def queue_time(trace: CrowdTrace, *, slow_fraction: float = 0.3) -> np.ndarray:
    """Seconds each agent spent queueing: the sampled time (module docstring) in which it was
    walking (started, inside, not out) at a speed below ``slow_fraction`` x its free speed v0.
    Returns a float array [n]. Waiting before the start (pre-movement) is not queueing.

    Definition: congestion/queueing identified by a speed threshold, as in traffic simulation
    (SUMO's queue output counts the queue up to the last vehicle slower than 5 km/h;
    https://sumo.dlr.de/docs/Simulation/Output/QueueOutput.html), here relative to each
    pedestrian's own free speed so slow walkers are not counted as queueing merely for being
    slow. With the default 0.3 an agent of v0 = 1.34 m/s queues below 0.40 m/s, which on
    Weidmann's (1993) fundamental diagram corresponds to densities above about 3 p/m², Fruin
    walkway LoS E-F. Acceleration from standstill at the start (about 1 s in
    :mod:`agents.crowd`) counts if a sample falls in it.
    """
    _check_fraction(slow_fraction)
    w = trace.sample_weights()
    out = np.zeros(trace.n)
    for s0, s1 in _chunks(trace):
        out += w[s0:s1] @ _slow(trace, slow_fraction, s0, s1)
    return out


def _chunks(trace: CrowdTrace, budget: int = 4_000_000) -> list[tuple[int, int]]:
    step = max(1, budget // max(trace.n, 1))
    return [(s, min(s + step, trace.nt)) for s in range(0, trace.nt, step)]


# ---------------------------------------------------------------------------------- bottlenecks
def _attribution(trace: CrowdTrace, names: Sequence[str], radius_m: float,
                 place_max_area_m2: float) -> np.ndarray:
    """Label [ny, nx] of the region (index into ``names``) each cell's queueing counts for, -1
    for none. Regions are *places* (doors, exits, stairs: at most ``place_max_area_m2`` and
    containing no other candidate region) or *areas* (rooms, corridors, levels: larger, or
    holding another region in them). A cell counts for the nearest place within ``radius_m``
    (straight-line distance to the place's nearest cell, 0 inside; the smaller place on ties);
    only cells no place claims count for the nearest area within ``radius_m``. So a queue in
    the room in front of a door counts for the door, not for the room it stands in."""
    h = trace.cell_size_m
    shape = trace.walkable.shape
    masks = [trace.regions[nm] for nm in names]
    areas = np.array([int(m.sum()) for m in masks])
    big = areas * h * h > place_max_area_m2
    for a in range(len(names)):
        for b in range(len(names)):
            if a != b and areas[a] > areas[b] > 0 and (masks[a] & masks[b]).sum() >= 0.9 * areas[b]:
                big[a] = True
                break
    label = np.full(shape, -1, dtype=np.int64)
    pad = math.ceil(radius_m / h) + 1
    for tier in (False, True):
        best = np.full(shape, np.inf)
        lab = np.full(shape, -1, dtype=np.int64)
        for r in sorted(np.flatnonzero((big == tier) & (areas > 0)), key=lambda q: areas[q]):
            jj, ii = np.nonzero(masks[r])
            j0, j1 = max(jj.min() - pad, 0), min(jj.max() + pad + 1, shape[0])
            i0, i1 = max(ii.min() - pad, 0), min(ii.max() + pad + 1, shape[1])
            crop = masks[r][j0:j1, i0:i1]
            dist = ndimage.distance_transform_edt(~crop, sampling=h)
            sub_best = best[j0:j1, i0:i1]
            take = (dist <= radius_m + 1e-9) & (dist < sub_best)
            sub_best[take] = dist[take]
            lab[j0:j1, i0:i1][take] = r
        free = (label < 0) & (lab >= 0)
        label[free] = lab[free]
    return label


def bottlenecks(trace: CrowdTrace, *, top: int = 10, slow_fraction: float = 0.3,
                region_names: Sequence[str] | None = None, radius_m: float = 3.0,
                place_max_area_m2: float | None = None, window_m: float = 1.0) -> pd.DataFrame:
    """Places ranked by person-seconds of queueing (most first, at most ``top`` rows).

    Every sample of a queueing agent (see :func:`queue_time`) is binned to its grid cell and
    attributed to a named region: the one it is in or the nearest within ``radius_m`` (3 m by
    default; straight-line distance), where small *places* (doors, exits, stairs: regions of at
    most ``place_max_area_m2``, default the area of a ``radius_m`` disc, 28 m², that hold no
    other region) take precedence over the *areas* around them (rooms, corridors, levels), so a
    queue inside a room in front of its door counts for the door. ``region_names`` restricts
    the candidates (default: all of ``trace.regions``). Queueing farther than
    ``radius_m`` from every candidate is grouped into ``radius_m`` squares of the grid and
    reported as ``"unnamed near (x, y)"`` (square centre, m), so unnamed bottlenecks show too.

    Columns: ``region``; ``person_s_queueing`` (person-seconds); ``peak_density_p_m2``, the
    largest :func:`density_maps` density (``window_m`` bins) over the bins touching the place's
    attributed area; ``los`` its Fruin level (stairway table when at least half of the region's
    cells are on ``trace.stair_mask``); ``peak_queue_persons``, the most agents queueing there
    at one sample; ``first_t_s``, ``last_t_s`` the first and last samples with anyone queueing
    there; plus ``x_m``, ``y_m``, the centroid of the region's own cells (for labels on maps).
    """
    _check_fraction(slow_fraction)
    if not (isinstance(top, int) and top >= 1):
        raise ValueError(f"top must be an integer >= 1, got {top!r}")
    if not (isinstance(radius_m, (int, float)) and math.isfinite(radius_m) and radius_m >= 0):
        raise ValueError(f"radius_m must be a number >= 0 m, got {radius_m!r}")
    names = list(trace.regions) if region_names is None else list(region_names)
    unknown = [nm for nm in names if nm not in trace.regions]
    if unknown:
        raise KeyError(f"bottlenecks: unknown region(s) {', '.join(map(repr, unknown))}; "
                       f"the trace has {', '.join(map(repr, trace.regions)) or 'none'}")
    h = trace.cell_size_m
    ny, nx = trace.walkable.shape
    if place_max_area_m2 is None:
        place_max_area_m2 = math.pi * radius_m**2
    label = _attribution(trace, names, float(radius_m), float(place_max_area_m2))
    # unattributed cells: radius_m squares of the grid, labelled after the regions
    kb = max(1, round(max(radius_m, h) / h))
    nbx = -(-nx // kb)
    jj, ii = np.mgrid[0:ny, 0:nx]
    block = (jj // kb) * nbx + (ii // kb)
    nr = len(names)
    label = np.where(label >= 0, label, nr + block)
    nl = nr + (-(-ny // kb)) * nbx
    w = trace.sample_weights()
    person_s = np.zeros(nl)
    peak = np.zeros(nl, dtype=np.int64)
    first = np.full(nl, np.inf)
    last = np.full(nl, -np.inf)
    for s0, s1 in _chunks(trace):
        kk, aa = np.nonzero(_slow(trace, slow_fraction, s0, s1))
        if kk.size == 0:
            continue
        kk = kk + s0
        i, j, ok = trace.cell_of(trace.x[kk, aa], trace.y[kk, aa])
        kk, lab = kk[ok], label[j[ok], i[ok]]
        person_s += np.bincount(lab, weights=w[kk], minlength=nl)
        keys, cnt = np.unique(kk * nl + lab, return_counts=True)
        lu, tu = keys % nl, trace.t[keys // nl]
        np.maximum.at(peak, lu, cnt)
        np.minimum.at(first, lu, tu)
        np.maximum.at(last, lu, tu)
    used = np.flatnonzero(person_s > 0)
    order = used[np.lexsort((used, -person_s[used]))][:top]
    cols = ["region", "person_s_queueing", "peak_density_p_m2", "los", "peak_queue_persons",
            "first_t_s", "last_t_s", "x_m", "y_m"]
    if order.size == 0:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("region", "los") else float) for c in cols})
    k = _window_cells(h, window_m)
    dmax, _ = density_maps(trace, window_m=window_m)
    dcell = np.repeat(np.repeat(dmax, k, axis=0), k, axis=1)[:ny, :nx]
    stair = trace.stair_mask if trace.stair_mask is not None else np.zeros((ny, nx), dtype=bool)
    rows = []
    for lb in order:
        zone = (label == lb) & trace.walkable
        vals = dcell[zone]
        pk = float(np.nanmax(vals)) if np.isfinite(vals).any() else float("nan")
        if lb < nr:
            name = names[lb]
            own = trace.regions[name]
            own = own if own.any() else zone
        else:
            own = zone
            bj, bi = divmod(int(lb - nr), nbx)
            cx = trace.origin[0] + (bi + 0.5) * kb * h
            cy = trace.origin[1] + (bj + 0.5) * kb * h
            name = f"unnamed near ({cx:.1f}, {cy:.1f})"
        oj, oi = np.nonzero(own)
        on_stairs = bool(stair[own].mean() >= 0.5) if own.any() else False
        rows.append({
            "region": name,
            "person_s_queueing": float(person_s[lb]),
            "peak_density_p_m2": pk,
            "los": fruin_los(pk, stairs=on_stairs) if math.isfinite(pk) else "",
            "peak_queue_persons": int(peak[lb]),
            "first_t_s": float(first[lb]),
            "last_t_s": float(last[lb]),
            "x_m": float(trace.origin[0] + (oi.mean() + 0.5) * h),
            "y_m": float(trace.origin[1] + (oj.mean() + 0.5) * h),
        })
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------------- curves
def _out_times(out_times: np.ndarray) -> np.ndarray:
    t = np.asarray(out_times, dtype=np.float64)
    if t.ndim != 1:
        raise ValueError(f"out_times: expected a 1-D array [n] of exit times (s, NaN = not out), got shape {t.shape}")
    if np.isinf(t).any() or (t[np.isfinite(t)] < 0).any():
        raise ValueError("out_times: exit times must be finite and >= 0 s (NaN for persons never out)")
    return t


def evacuation_curve(out_times: np.ndarray, *, groups: np.ndarray | None = None) -> pd.DataFrame:
    """Persons out over time: one row at t = 0 and one per distinct exit time, columns ``t``
    (s), ``out`` (persons out by then, overall), ``fraction`` (out / n, n counting those never
    out, NaN exit time) and, with ``groups`` (a label per person), ``out_<group>`` per group.
    ``df.attrs`` holds ``n`` (persons), ``n_left`` (never out) and ``groups`` (label -> n)."""
    t = _out_times(out_times)
    n = t.shape[0]
    fin = np.isfinite(t)
    ts = np.unique(np.concatenate([[0.0], t[fin]]))
    df = pd.DataFrame({"t": ts, "out": np.searchsorted(np.sort(t[fin]), ts, side="right")})
    df["fraction"] = df["out"] / n if n else np.nan
    gsizes: dict[str, int] = {}
    if groups is not None:
        g = np.asarray(groups)
        if g.shape != t.shape:
            raise ValueError(f"groups: expected one label per person, shape {t.shape}, got {g.shape}")
        for lab in pd.unique(g):
            sel = g == lab
            df[f"out_{lab}"] = np.searchsorted(np.sort(t[sel & fin]), ts, side="right")
            gsizes[str(lab)] = int(sel.sum())
    df.attrs.update({"n": n, "n_left": int(n - fin.sum()), "groups": gsizes})
    return df


def rset(out_times: np.ndarray, *, fractions: Sequence[float] = (0.95, 1.0)) -> dict[str, float | int]:
    """Required safe escape time: for each fraction f, the exit time of the ceil(f n)-th person
    out (s), ``inf`` if fewer than that ever got out (NaN exit times count as never out).
    Returns ``{"rset_95": ..., "rset_100": ..., "n": n, "n_out": .., "n_left": ..}`` (keys
    ``rset_<100 f>``, e.g. ``rset_99.5``); with no persons every RSET is 0."""
    t = _out_times(out_times)
    fin = np.sort(t[np.isfinite(t)])
    n = t.shape[0]
    res: dict[str, float | int] = {}
    for f in fractions:
        if not (isinstance(f, (int, float)) and 0 < f <= 1):
            raise ValueError(f"rset: fractions must lie in (0, 1], got {f!r}")
        need = math.ceil(f * n - 1e-9)
        key = f"rset_{100 * f:g}"
        res[key] = 0.0 if need == 0 else (float(fin[need - 1]) if need <= fin.size else math.inf)
    res.update({"n": n, "n_out": int(fin.size), "n_left": int(n - fin.size)})
    return res


# ---------------------------------------------------------------------------------- doors
def door_flows(cross_times: Mapping[str, np.ndarray], widths_m: Mapping[str, float], *,
               peak_window_s: float = 10.0) -> pd.DataFrame:
    """Flow through each door from the times (s) persons crossed it (NaN entries ignored).

    Columns: ``door``, ``width_m``, ``persons``, ``first_s``, ``last_s``; ``mean_flow_p_s``
    over the 10th-90th percentile window of the crossings, (i90 - i10) / (t[i90] - t[i10]) with
    i_p = round(p (N - 1)) on the sorted times (the start-up and the stragglers left out, as in
    the flow measurement of the RiMEA/IMO door tests); ``specific_flow_p_ms`` = mean flow /
    width (p/(m s)); ``peak_10s_flow_p_s``, the most crossings in any ``peak_window_s`` window
    [t_i, t_i + window) divided by the window. Flows are NaN with fewer than 2 crossings or a
    zero-length window."""
    if not (isinstance(peak_window_s, (int, float)) and peak_window_s > 0):
        raise ValueError(f"peak_window_s must be a positive number of seconds, got {peak_window_s!r}")
    rows = []
    for door, times in cross_times.items():
        if door not in widths_m:
            raise KeyError(f"door_flows: no width for door {door!r} in widths_m "
                           f"(has {', '.join(map(repr, widths_m)) or 'none'})")
        wd = widths_m[door]
        if not (isinstance(wd, (int, float)) and math.isfinite(wd) and wd > 0):
            raise ValueError(f"door_flows: width of door {door!r} must be a positive number of metres, got {wd!r}")
        t = np.asarray(times, dtype=np.float64)
        if t.ndim != 1:
            raise ValueError(f"door_flows: crossing times of door {door!r} must be 1-D, got shape {t.shape}")
        t = np.sort(t[np.isfinite(t)])
        nn = t.size
        mean = peak = float("nan")
        if nn >= 2:
            i10, i90 = round(0.1 * (nn - 1)), round(0.9 * (nn - 1))
            if t[i90] > t[i10]:
                mean = (i90 - i10) / (t[i90] - t[i10])
            cnt = np.searchsorted(t, t + peak_window_s, side="left") - np.arange(nn)
            peak = float(cnt.max()) / peak_window_s
        elif nn == 1:
            peak = 1.0 / peak_window_s
        rows.append({"door": str(door), "width_m": float(wd), "persons": int(nn),
                     "first_s": float(t[0]) if nn else float("nan"),
                     "last_s": float(t[-1]) if nn else float("nan"),
                     "mean_flow_p_s": mean, "specific_flow_p_ms": mean / wd, "peak_10s_flow_p_s": peak})
    cols = ["door", "width_m", "persons", "first_s", "last_s", "mean_flow_p_s", "specific_flow_p_ms",
            "peak_10s_flow_p_s"]
    return pd.DataFrame(rows, columns=cols)
