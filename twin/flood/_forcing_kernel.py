"""Numba helpers shared by the two flood kernels (private; imports numpy, numba and math only):
time interpolation of hydrographs and boundary levels, the exact integral of a piecewise-constant
hyetograph over one time step, and the point sources of inflow hydrographs.

Units: time s, rain rate m/s (converted from mm/h at the boundary by ``twin.flood.solvers``),
rain depth m, discharge m3/s, level m above the site datum.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

GRAVITY = 9.81  # m/s2

# boundary kinds per side (west, east, south, north)
BC_CLOSED = 0
BC_OPEN = 1
BC_LEVEL = 2

# slots of the accounting array ``acc`` (m3)
ACC_RAIN = 0
ACC_INFLOW = 1
ACC_DRAINED = 2
ACC_BOUNDARY_IN = 3
ACC_BOUNDARY_OUT = 4
ACC_CLIPPED = 5  # round-off negatives set to zero (reported; expected ~1e-15 of the volume)
N_ACC = 6


@intrinsic
def _f64_to_i64(typingctx, x):  # type: ignore[no-untyped-def]
    """Bit pattern of a float64 as int64 (an LLVM bitcast; no memory traffic)."""
    if not isinstance(x, types.Float) or x.bitwidth != 64:
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], context.get_value_type(types.int64))

    return types.int64(types.float64), codegen


@intrinsic
def _i64_to_f64(typingctx, x):  # type: ignore[no-untyped-def]
    """Float64 with the given int64 bit pattern (an LLVM bitcast)."""
    if not isinstance(x, types.Integer) or x.bitwidth != 64:
        return None

    def codegen(context, builder, sig, args):  # type: ignore[no-untyped-def]
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


@numba.njit(cache=True, inline="always", error_model="numpy")
def inv_cbrt(x: float) -> float:
    """x^(-1/3) for a positive normal float64 (1e-100 < x < 1e100) with no division and no libm
    call, so that the loops using it vectorise: the bit estimate bits(y) = 4/3 bits(1.0) -
    bits(x) / 3 (the division done in float64; error < 10 %) refined by four Newton steps
    y <- y (4 - x y^3) / 3 (quadratic convergence; relative error < 2e-13, measured)."""
    y = _i64_to_f64(6142909891733356544 - np.int64(np.float64(_f64_to_i64(x)) * (1.0 / 3.0)))
    c = 1.0 / 3.0
    y = y * (4.0 - x * y * y * y) * c
    y = y * (4.0 - x * y * y * y) * c
    y = y * (4.0 - x * y * y * y) * c
    return y * (4.0 - x * y * y * y) * c


@numba.njit(cache=True, error_model="numpy")
def interp_series(ts: np.ndarray, vs: np.ndarray, i0: int, i1: int, t: float) -> float:
    """Linear interpolation of the series ``ts[i0:i1], vs[i0:i1]`` at ``t``; end values are held
    outside its span (as ``numpy.interp``). ``i1 > i0`` required (caller guarantees)."""
    if t <= ts[i0]:
        return vs[i0]
    if t >= ts[i1 - 1]:
        return vs[i1 - 1]
    lo = i0
    hi = i1 - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if ts[mid] <= t:
            lo = mid
        else:
            hi = mid
    w = (t - ts[lo]) / (ts[hi] - ts[lo])
    return vs[lo] + w * (vs[hi] - vs[lo])


@numba.njit(cache=True, error_model="numpy")
def rain_depth(edges: np.ndarray, rate: np.ndarray, t0: float, t1: float) -> float:
    """Exact integral (m) over [t0, t1] of the piecewise-constant rain rate ``rate[k]`` (m/s) on
    ``[edges[k], edges[k+1])``; zero outside ``[edges[0], edges[-1]]``."""
    total = 0.0
    n = rate.shape[0]
    if n == 0 or t1 <= edges[0] or t0 >= edges[n]:
        return 0.0
    for k in range(n):
        a = max(t0, edges[k])
        b = min(t1, edges[k + 1])
        if b > a:
            total += rate[k] * (b - a)
    return total


@numba.njit(cache=True, error_model="numpy")
def add_inflows(h: np.ndarray, src_cell: np.ndarray, src_line: np.ndarray, src_w: np.ndarray,
                inf_t: np.ndarray, inf_q: np.ndarray, inf_off: np.ndarray,
                t_mid: float, dt: float, area: float) -> float:
    """Add the inflow volumes of one step (discharge at mid-step times dt, shared among each line's
    cells by ``src_w``) to the depths ``h`` (2-D, indexed by the flat ``src_cell``); returns m3."""
    nx = h.shape[1]
    total = 0.0
    for k in range(src_cell.shape[0]):
        line = src_line[k]
        q = interp_series(inf_t, inf_q, inf_off[line], inf_off[line + 1], t_mid)
        if q <= 0.0:
            continue
        vol = q * src_w[k] * dt
        c = src_cell[k]
        h[c // nx, c % nx] += vol / area
        total += vol
    return total
