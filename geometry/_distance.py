"""Numba kernels for grid distance fields (no framework imports: numpy, numba, math only).

Dijkstra over a 16-neighbourhood: the 8 king moves (cost h, h*sqrt(2)) and the 8 knight moves
(cost h*sqrt(5)). The lattice metric then deviates from the Euclidean distance by at most
2.75 % (worst direction atan(0.236) ~ 13.3°), against 8.24 % for the 8-neighbourhood (22.5°);
see e.g. Kretz et al., "Quickest paths in simulations of pedestrians" (2011) on grid metrics.
No corner cutting: a diagonal move needs both orthogonal neighbours walkable; a knight move
(2, 1) needs the two cells its straight segment passes through, (sx, 0) and (sx, sy) (and
(0, sy), (sx, sy) for (1, 2)). Any 8-connected wall then stops every move.

The priority queue is an indexed binary min-heap on arrays (decrease-key), so memory is O(cells).
Step cost = step length * (c[a] + c[b]) / 2 with per-cell multipliers ``c`` (1 = plain metres;
e.g. 1/speed gives seconds); ``inf`` multiplier = impassable.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

# 16 moves: (di, dj) with di along x (columns), dj along y (rows)
_DI = np.array([1, -1, 0, 0, 1, 1, -1, -1, 2, 2, -2, -2, 1, 1, -1, -1], dtype=np.int64)
_DJ = np.array([0, 0, 1, -1, 1, -1, 1, -1, 1, -1, 1, -1, 2, -2, 2, -2], dtype=np.int64)
_LEN = np.array(
    [1.0, 1.0, 1.0, 1.0] + [math.sqrt(2.0)] * 4 + [math.sqrt(5.0)] * 8,
    dtype=np.float64,
)


@nb.njit(cache=True, inline="always")
def _ok(walk: np.ndarray, i: int, j: int) -> bool:
    ny, nx = walk.shape
    return 0 <= i < nx and 0 <= j < ny and walk[j, i]


@nb.njit(cache=True)
def move_allowed(walk: np.ndarray, i: int, j: int, di: int, dj: int) -> bool:
    """Whether the move (di, dj) from cell (i, j) is allowed (target walkable, no corner cut)."""
    if not _ok(walk, i + di, j + dj):
        return False
    adi, adj = abs(di), abs(dj)
    sx = 1 if di > 0 else -1
    sy = 1 if dj > 0 else -1
    if adi == 1 and adj == 1:
        return _ok(walk, i + sx, j) and _ok(walk, i, j + sy)
    if adi == 2 and adj == 1:
        return _ok(walk, i + sx, j) and _ok(walk, i + sx, j + sy)
    if adi == 1 and adj == 2:
        return _ok(walk, i, j + sy) and _ok(walk, i + sx, j + sy)
    return True


@nb.njit(cache=True)
def _sift_up(heap: np.ndarray, pos: np.ndarray, key: np.ndarray, k: int) -> None:
    node = heap[k]
    kv = key[node]
    while k > 0:
        parent = (k - 1) >> 1
        pn = heap[parent]
        if key[pn] <= kv:
            break
        heap[k] = pn
        pos[pn] = k
        k = parent
    heap[k] = node
    pos[node] = k


@nb.njit(cache=True)
def _sift_down(heap: np.ndarray, pos: np.ndarray, key: np.ndarray, k: int, size: int) -> None:
    node = heap[k]
    kv = key[node]
    while True:
        c = 2 * k + 1
        if c >= size:
            break
        if c + 1 < size and key[heap[c + 1]] < key[heap[c]]:
            c += 1
        cn = heap[c]
        if key[cn] >= kv:
            break
        heap[k] = cn
        pos[cn] = k
        k = c
    heap[k] = node
    pos[node] = k


def _move_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per move: (di, dj) of the cells that must be walkable (target first, then up to two
    intermediate cells; unused slots repeat the target)."""
    req_i = np.zeros((16, 3), dtype=np.int64)
    req_j = np.zeros((16, 3), dtype=np.int64)
    nreq = np.zeros(16, dtype=np.int64)
    for m in range(16):
        di, dj = int(_DI[m]), int(_DJ[m])
        sx, sy = (1 if di > 0 else -1), (1 if dj > 0 else -1)
        cells = [(di, dj)]
        if abs(di) == 1 and abs(dj) == 1:
            cells += [(sx, 0), (0, sy)]
        elif abs(di) == 2:
            cells += [(sx, 0), (sx, sy)]
        elif abs(dj) == 2:
            cells += [(0, sy), (sx, sy)]
        nreq[m] = len(cells)
        for k in range(3):
            c = cells[min(k, len(cells) - 1)]
            req_i[m, k], req_j[m, k] = c
    return req_i, req_j, nreq


_REQ_I, _REQ_J, _NREQ = _move_table()


_NO_LINKS = (np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))


def dijkstra16(walk: np.ndarray, init: np.ndarray, cost: np.ndarray, h: float) -> np.ndarray:
    """Grid Dijkstra without links (see :func:`dijkstra16_links`)."""
    ny, nx = walk.shape
    ptr = np.zeros(ny * nx + 1, dtype=np.int64)
    return dijkstra16_links(walk, init, cost, h, ptr, _NO_LINKS[1], _NO_LINKS[2])


@nb.njit(cache=True)
def dijkstra16_links(walk: np.ndarray, init: np.ndarray, cost: np.ndarray, h: float,
                     link_ptr: np.ndarray, link_src: np.ndarray, link_cost: np.ndarray) -> np.ndarray:
    """Grid Dijkstra. ``walk`` bool [ny, nx]; ``init`` float64 [ny, nx] initial costs (finite at
    source cells, inf elsewhere); ``cost`` float64 [ny, nx] per-cell multipliers (use ones);
    ``h`` cell size. Returns float64 [ny, nx], inf where unreachable or not walkable.

    Links (portals between distant cells, e.g. a stair landing and the flight it leads to):
    for flat cell index ``u = j * nx + i``, ``link_src[link_ptr[u]:link_ptr[u + 1]]`` are the
    cells whose walkers are carried to ``u``; each gets ``dist[u] + link_cost`` (m).

    Works on a copy padded by two unwalkable cells so moves need no bounds checks."""
    ny, nx = walk.shape
    P = 2
    W = nx + 2 * P
    H = ny + 2 * P
    n = W * H
    ok = np.zeros(n, dtype=np.bool_)
    cst = np.full(n, np.inf)
    dist = np.full(n, np.inf)
    for j in range(ny):
        for i in range(nx):
            c = (j + P) * W + (i + P)
            if walk[j, i] and cost[j, i] < np.inf:
                ok[c] = True
                cst[c] = cost[j, i]
    off = np.empty(16, dtype=np.int64)
    r1 = np.empty(16, dtype=np.int64)
    r2 = np.empty(16, dtype=np.int64)
    step = np.empty(16)
    for m in range(16):
        off[m] = _DJ[m] * W + _DI[m]
        r1[m] = _REQ_J[m, 1] * W + _REQ_I[m, 1]
        r2[m] = _REQ_J[m, 2] * W + _REQ_I[m, 2]
        step[m] = _LEN[m] * h * 0.5
    heap = np.empty(n, dtype=np.int64)
    pos = np.full(n, -1, dtype=np.int64)  # -1 never queued, -2 settled
    size = 0
    for j in range(ny):
        for i in range(nx):
            v = init[j, i]
            c = (j + P) * W + (i + P)
            if ok[c] and v < np.inf:
                dist[c] = v
                heap[size] = c
                pos[c] = size
                size += 1
                _sift_up(heap, pos, dist, size - 1)
    while size > 0:
        cur = heap[0]
        size -= 1
        pos[cur] = -2
        if size > 0:
            heap[0] = heap[size]
            pos[heap[0]] = 0
            _sift_down(heap, pos, dist, 0, size)
        dc = dist[cur]
        cc = cst[cur]
        for m in range(16):
            t = cur + off[m]
            if not ok[t] or pos[t] == -2:
                continue
            if m >= 4 and not (ok[cur + r1[m]] and ok[cur + r2[m]]):
                continue
            nd = dc + step[m] * (cc + cst[t])
            if nd < dist[t]:
                dist[t] = nd
                if pos[t] == -1:
                    heap[size] = t
                    pos[t] = size
                    size += 1
                    _sift_up(heap, pos, dist, size - 1)
                else:
                    _sift_up(heap, pos, dist, pos[t])
        u = (cur // W - P) * nx + (cur % W - P)
        for q in range(link_ptr[u], link_ptr[u + 1]):
            s = link_src[q]
            t = (s // nx + P) * W + (s % nx + P)
            if not ok[t] or pos[t] == -2:
                continue
            nd = dc + link_cost[q]
            if nd < dist[t]:
                dist[t] = nd
                if pos[t] == -1:
                    heap[size] = t
                    pos[t] = size
                    size += 1
                    _sift_up(heap, pos, dist, size - 1)
                else:
                    _sift_up(heap, pos, dist, pos[t])
    out = np.empty((ny, nx), dtype=np.float64)
    for j in range(ny):
        for i in range(nx):
            out[j, i] = dist[(j + P) * W + (i + P)]
    return out


@nb.njit(cache=True)
def descent(field: np.ndarray, walk: np.ndarray, h: float) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors (ux, uy) down ``field``: minus the gradient by central differences (one-sided
    next to walls / inf); where that direction points into a wall or uphill, or the gradient
    vanishes, the direction of the steepest allowed 16-neighbour descent. Zero at local minima
    (the targets) and on unwalkable or unreachable cells."""
    ny, nx = field.shape
    ux = np.zeros((ny, nx))
    uy = np.zeros((ny, nx))
    for j in range(ny):
        for i in range(nx):
            f0 = field[j, i]
            if not walk[j, i] or not f0 < np.inf:
                continue
            # gradient by differences
            fe = field[j, i + 1] if (i + 1 < nx and walk[j, i + 1]) else np.inf
            fw = field[j, i - 1] if (i - 1 >= 0 and walk[j, i - 1]) else np.inf
            fn_ = field[j + 1, i] if (j + 1 < ny and walk[j + 1, i]) else np.inf
            fs = field[j - 1, i] if (j - 1 >= 0 and walk[j - 1, i]) else np.inf
            if fe < np.inf and fw < np.inf:
                gx = (fe - fw) / (2.0 * h)
            elif fe < np.inf:
                gx = (fe - f0) / h
            elif fw < np.inf:
                gx = (f0 - fw) / h
            else:
                gx = 0.0
            if fn_ < np.inf and fs < np.inf:
                gy = (fn_ - fs) / (2.0 * h)
            elif fn_ < np.inf:
                gy = (fn_ - f0) / h
            elif fs < np.inf:
                gy = (f0 - fs) / h
            else:
                gy = 0.0
            g = math.sqrt(gx * gx + gy * gy)
            use_grad = g > 1e-12
            if use_grad:
                dx = -gx / g
                dy = -gy / g
                # the king-move cell the direction points to must be walkable and downhill
                si = 1 if dx > 0.3826834 else (-1 if dx < -0.3826834 else 0)
                sj = 1 if dy > 0.3826834 else (-1 if dy < -0.3826834 else 0)
                if (si != 0 or sj != 0) and move_allowed(walk, i, j, si, sj) and field[j + sj, i + si] < f0:
                    ux[j, i] = dx
                    uy[j, i] = dy
                    continue
            # steepest allowed descent among the 16 moves
            best = 0.0
            bdx = 0.0
            bdy = 0.0
            for m in range(16):
                di = _DI[m]
                dj = _DJ[m]
                if not move_allowed(walk, i, j, di, dj):
                    continue
                fn = field[j + dj, i + di]
                if not fn < np.inf:
                    continue
                slope = (f0 - fn) / _LEN[m]
                if slope > best:
                    best = slope
                    bdx = di / _LEN[m]
                    bdy = dj / _LEN[m]
            if best <= 0.0:
                continue  # a target (local minimum)
            ux[j, i] = bdx
            uy[j, i] = bdy
    return ux, uy
