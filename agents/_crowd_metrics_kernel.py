"""Numba kernel of :mod:`agents.crowd_metrics` (numpy, numba, math only; no framework imports).

:func:`density_stats` bins the positions of every sample of a crowd trace into square windows
of ``k`` x ``k`` grid cells and keeps, per window, the largest density seen (persons / walkable
m²), the sum of the densities of the samples in which the window was occupied, and the number of
those samples. One pass over the [nt, n] positions, O(nt * n) time and O(windows) memory, so an
hour of 10,000 agents sampled every second costs no [nt, windows] array.
"""

from __future__ import annotations

import math

import numba
import numpy as np


@numba.njit(cache=True)
def density_stats(x: np.ndarray, y: np.ndarray, ox: float, oy: float, cell: float, k: int,
                  area: np.ndarray, dmax: np.ndarray, dsum: np.ndarray, nocc: np.ndarray,
                  counts: np.ndarray, touched: np.ndarray) -> None:
    """Accumulate window densities over all samples.

    ``x``, ``y``: [nt, n] positions (m, NaN = not inside); ``ox``, ``oy`` grid origin (m);
    ``cell`` grid cell size (m); ``k`` cells per window side; ``area``: [nby, nbx] walkable area
    of each window (m², <= 0 = window not counted: agents in it are ignored). Outputs (in/out,
    zero on entry): ``dmax``, ``dsum`` [nby, nbx] float64, ``nocc`` [nby, nbx] int64. Scratch:
    ``counts`` [nby * nbx] int64 zeros, ``touched`` [n] int64.
    """
    nt, n = x.shape
    nby, nbx = area.shape
    for s in range(nt):
        m = 0
        for a in range(n):
            xa = x[s, a]
            ya = y[s, a]
            if not (math.isfinite(xa) and math.isfinite(ya)):
                continue
            # the cell first (as the raster does), then its window: stays aligned to the grid
            i = math.floor((xa - ox) / cell)
            j = math.floor((ya - oy) / cell)
            if i < 0 or j < 0:
                continue
            bi = i // k
            bj = j // k
            if bi >= nbx or bj >= nby or area[bj, bi] <= 0.0:
                continue
            b = bj * nbx + bi
            if counts[b] == 0:
                touched[m] = b
                m += 1
            counts[b] += 1
        for q in range(m):
            b = touched[q]
            bj = b // nbx
            bi = b - bj * nbx
            d = counts[b] / area[bj, bi]
            dmax[bj, bi] = max(dmax[bj, bi], d)
            dsum[bj, bi] += d
            nocc[bj, bi] += 1
            counts[b] = 0
