"""Numba kernels for camera viewsheds: field-of-view/range tests and 2.5D line of sight over an
occlusion height grid, for many camera poses x many demand points in one call.

Conventions (the same as :mod:`geometry.raster`): ``height[j, i]`` (m above local ground, 0 =
open) is the obstruction of the cell whose lower-left corner is ``(ox + i*cs, oy + j*cs)``;
row 0 is the southern row. Angles are radians, yaw clockwise from north (compass), so the view
direction of yaw ``a`` is ``(sin a, cos a)``.

Line of sight is the grid traversal of Amanatides & Woo (1987, "A fast voxel traversal
algorithm for ray tracing", Eurographics '87): every cell the 2D segment camera->point crosses
is visited once; a cell blocks when its obstruction height exceeds the sight line's height
over that cell (the line falls linearly from the camera's mount height to the target height;
the lower of its heights at the cell's entry and exit is used, so the test is conservative).
The target's own cell and cells within ``skip_m`` of the camera (its bracket on a wall) are
not tested. This module imports no framework.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import prange

_TWO_PI = 2.0 * math.pi


@numba.njit(cache=True, inline="always")
def _in_view(dx: float, dy: float, d: float, yaw: float, half_fov: float, rng: float) -> bool:
    if d > rng:
        return False
    if half_fov >= math.pi - 1e-12 or d < 1e-9:
        return True
    bearing = math.atan2(dx, dy)  # clockwise from north
    off = (bearing - yaw + math.pi) % _TWO_PI - math.pi
    return abs(off) <= half_fov + 1e-9


@numba.njit(cache=True)
def line_of_sight(height: np.ndarray, ox: float, oy: float, cs: float, cx: float, cy: float,
                  cz: float, px: float, py: float, pz: float, skip_m: float) -> bool:
    """True when no cell on the segment (cx, cy) -> (px, py) rises above the sight line."""
    ny, nx = height.shape
    gx0 = (cx - ox) / cs
    gy0 = (cy - oy) / cs
    gx1 = (px - ox) / cs
    gy1 = (py - oy) / cs
    i = int(math.floor(gx0))
    j = int(math.floor(gy0))
    ie = int(math.floor(gx1))
    je = int(math.floor(gy1))
    dx = gx1 - gx0
    dy = gy1 - gy0
    length = math.hypot(dx, dy) * cs
    inf = math.inf
    if dx > 0:
        sx = 1
        tdx = 1.0 / dx
        tmx = (i + 1 - gx0) / dx
    elif dx < 0:
        sx = -1
        tdx = -1.0 / dx
        tmx = (gx0 - i) / (-dx)
    else:
        sx = 0
        tdx = inf
        tmx = inf
    if dy > 0:
        sy = 1
        tdy = 1.0 / dy
        tmy = (j + 1 - gy0) / dy
    elif dy < 0:
        sy = -1
        tdy = -1.0 / dy
        tmy = (gy0 - j) / (-dy)
    else:
        sy = 0
        tdy = inf
        tmy = inf
    t = 0.0
    max_steps = abs(ie - i) + abs(je - j) + 2
    for _ in range(max_steps):
        if i == ie and j == je:
            return True  # the target's own cell is not tested
        t_next = min(tmx, tmy, 1.0)
        if 0 <= i < nx and 0 <= j < ny:
            h = height[j, i]
            if h > 0.0 and t_next * length > skip_m:
                z = min(cz + (pz - cz) * t, cz + (pz - cz) * t_next)
                if h > z:
                    return False
        if tmx < tmy:
            i += sx
            t = tmx
            tmx += tdx
        else:
            j += sy
            t = tmy
            tmy += tdy
        if t > 1.0:
            return True
    return True


@numba.njit(cache=True, parallel=True)
def visibility_csr(height: np.ndarray, ox: float, oy: float, cs: float,
                   cam_x: np.ndarray, cam_y: np.ndarray, cam_z: np.ndarray, yaw: np.ndarray,
                   half_fov: np.ndarray, rng: np.ndarray,
                   pt_x: np.ndarray, pt_y: np.ndarray, pt_z: np.ndarray,
                   skip_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pose x point visibility as CSR arrays (rows = poses): ``indptr`` [n+1], ``indices``
    (point index, ascending per row) and ``dist`` (horizontal camera-point distance, m)."""
    n = cam_x.shape[0]
    m = pt_x.shape[0]
    cnt = np.zeros(n, np.int64)
    for c in prange(n):
        k = 0
        for p in range(m):
            ddx = pt_x[p] - cam_x[c]
            ddy = pt_y[p] - cam_y[c]
            if _in_view(ddx, ddy, math.hypot(ddx, ddy), yaw[c], half_fov[c], rng[c]):
                k += 1
        cnt[c] = k
    start = np.zeros(n + 1, np.int64)
    for c in range(n):
        start[c + 1] = start[c] + cnt[c]
    buf_i = np.empty(start[n], np.int64)
    buf_d = np.empty(start[n], np.float64)
    seen = np.zeros(n, np.int64)
    for c in prange(n):
        w = start[c]
        for p in range(m):
            ddx = pt_x[p] - cam_x[c]
            ddy = pt_y[p] - cam_y[c]
            d = math.hypot(ddx, ddy)
            if not _in_view(ddx, ddy, d, yaw[c], half_fov[c], rng[c]):
                continue
            if line_of_sight(height, ox, oy, cs, cam_x[c], cam_y[c], cam_z[c], pt_x[p], pt_y[p],
                             pt_z[p], skip_m):
                buf_i[w] = p
                buf_d[w] = d
                w += 1
        seen[c] = w - start[c]
    indptr = np.zeros(n + 1, np.int64)
    for c in range(n):
        indptr[c + 1] = indptr[c] + seen[c]
    indices = np.empty(indptr[n], np.int64)
    dist = np.empty(indptr[n], np.float64)
    for c in prange(n):
        s = start[c]
        o = indptr[c]
        for q in range(seen[c]):
            indices[o + q] = buf_i[s + q]
            dist[o + q] = buf_d[s + q]
    return indptr, indices, dist
