"""Numba kernel for patrol sightings: for paired samples (a guard's eye and a subject at the
same instant) whether the guard sees the subject -- within a sight radius and with a clear 2.5D
line of sight over the occlusion height grid of :mod:`geometry.viewshed` (the grid traversal of
:func:`geometry._viewshed.line_of_sight`, Amanatides & Woo 1987). Imports no framework."""

from __future__ import annotations

import math

import numba
import numpy as np

from geometry._viewshed import line_of_sight


@numba.njit(cache=True)
def pair_sight(height: np.ndarray, ox: float, oy: float, cs: float,
               ax: np.ndarray, ay: np.ndarray, az: float,
               bx: np.ndarray, by: np.ndarray, bz: float,
               radius: float, skip_m: float) -> np.ndarray:
    """``out[k]`` is True when the eye at (ax[k], ay[k], az) sees (bx[k], by[k], bz): horizontal
    distance <= ``radius`` (m) and no grid cell on the way rises above the sight line."""
    n = ax.shape[0]
    out = np.zeros(n, np.bool_)
    for k in range(n):
        d = math.hypot(bx[k] - ax[k], by[k] - ay[k])
        if d > radius:
            continue
        out[k] = line_of_sight(height, ox, oy, cs, ax[k], ay[k], az, bx[k], by[k], bz, skip_m)
    return out
