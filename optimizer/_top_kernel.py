"""Numba kernel of the Team Orienteering Problem (TOP) metaheuristic (numpy, numba, math only).

Problem (Chao, Golden & Wasil 1996, "The team orienteering problem", EJOR 88(3):464-474): K
routes from ``start`` to ``end``, each of duration <= ``tmax``; a node's prize counts once, the
total prize of the visited nodes is maximised. Duration of a route ``start, v1, ..., vk, end`` is
``sum d[a, b]`` over its legs plus ``service[v]`` of its interior nodes (start/end not charged).

Method: iterated local search in the form of Vansteenwegen, Souffriau, Vanden Berghe & Van
Oudheusden (2009), "Iterated local search for the team orienteering problem with time windows",
Computers & Operations Research 36(12):3281-3290 (insert by ratio + shake that removes a
consecutive run of visits from every route, growing run length while nothing improves), with
the local-search moves of their guided local search for the TOP (Vansteenwegen et al. 2009,
"A guided local search metaheuristic for the team orienteering problem", EJOR 196(1):118-127):

* Insert: repeatedly the unvisited node / route / position with the largest
  ``prize / added time`` that fits the budget (greedy randomised - a random pick among the best
  ``rcl`` - for the constructions of the restarts, as in GRASP);
* TwoOpt: 2-opt inside each route (first improvement; exact O(1) delta for symmetric ``d``,
  recomputed legs otherwise), plus single-node relocation inside a route;
* Move / Swap: a node to another route, or two nodes between routes, when the total duration
  falls (makes room for later inserts);
* Replace: an unvisited node in, a visited node of smaller prize out of the same route, when the
  route stays feasible (largest prize gain first).

Acceptance: the search continues from the shaken and re-optimised solution; after ``reset`` shakes
without a new best it returns to the best of the restart. ``n_restarts`` independent restarts,
each ``n_iter`` shakes; the best solution overall is returned. Comparison key: larger prize, then
smaller total duration. Deterministic for a given ``seed`` (numba's own generator is seeded).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_EPS = 1e-9


@njit(cache=True)
def _route_cost(d: np.ndarray, service: np.ndarray, r: np.ndarray, n: int) -> float:
    c = 0.0
    for i in range(n - 1):
        c += d[r[i], r[i + 1]]
    for i in range(1, n - 1):
        c += service[r[i]]
    return c


@njit(cache=True)
def _insert_node(r: np.ndarray, n: int, pos: int, v: int) -> None:
    """Insert v after position pos (between r[pos] and r[pos+1])."""
    for i in range(n, pos + 1, -1):
        r[i] = r[i - 1]
    r[pos + 1] = v


@njit(cache=True)
def _remove_at(r: np.ndarray, n: int, q: int) -> None:
    for i in range(q, n - 1):
        r[i] = r[i + 1]


@njit(cache=True)
def _insert_pass(d, service, prize, allowed, tmax, R, L, C, where, rcl):
    """Greedy (rcl == 1) or greedy-randomised insertion by prize / added time until nothing fits.
    Returns the prize added."""
    K = R.shape[0]
    nn = prize.shape[0]
    added = 0.0
    cand_r = np.empty(rcl, np.float64)
    cand_v = np.empty(rcl, np.int64)
    cand_k = np.empty(rcl, np.int64)
    cand_p = np.empty(rcl, np.int64)
    cand_dt = np.empty(rcl, np.float64)
    while True:
        nc = 0
        for v in range(nn):
            if where[v] != -1 or not allowed[v]:
                continue
            bk = -1
            bp = -1
            bdt = 1e300
            for k in range(K):
                r = R[k]
                for p in range(L[k] - 1):
                    a = r[p]
                    b = r[p + 1]
                    dt = d[a, v] + service[v] + d[v, b] - d[a, b]
                    if dt < bdt and C[k] + dt <= tmax + _EPS:
                        bdt = dt
                        bk = k
                        bp = p
            if bk < 0:
                continue
            ratio = prize[v] / (bdt if bdt > _EPS else _EPS)
            # keep the rcl best (small sorted list, largest first)
            if nc < rcl:
                j = nc
                nc += 1
            elif ratio > cand_r[rcl - 1]:
                j = rcl - 1
            else:
                continue
            while j > 0 and cand_r[j - 1] < ratio:
                cand_r[j] = cand_r[j - 1]
                cand_v[j] = cand_v[j - 1]
                cand_k[j] = cand_k[j - 1]
                cand_p[j] = cand_p[j - 1]
                cand_dt[j] = cand_dt[j - 1]
                j -= 1
            cand_r[j] = ratio
            cand_v[j] = v
            cand_k[j] = bk
            cand_p[j] = bp
            cand_dt[j] = bdt
        if nc == 0:
            break
        j = 0 if nc == 1 else np.random.randint(0, nc)
        v = cand_v[j]
        k = cand_k[j]
        _insert_node(R[k], L[k], cand_p[j], v)
        L[k] += 1
        C[k] += cand_dt[j]
        where[v] = k
        added += prize[v]
    return added


@njit(cache=True)
def _two_opt(d, service, r, n, symmetric):
    """2-opt and single-node relocation inside one route until no improvement.
    Returns the time saved."""
    saved = 0.0
    improved = True
    while improved:
        improved = False
        for i in range(0, n - 3):
            for j in range(i + 2, n - 1):
                # reverse r[i+1 .. j]
                a = r[i]
                b = r[i + 1]
                c = r[j]
                e = r[j + 1]
                if symmetric:
                    delta = d[a, c] + d[b, e] - d[a, b] - d[c, e]
                else:
                    old = 0.0
                    new = d[a, c] + d[b, e]
                    for t in range(i, j + 1):
                        old += d[r[t], r[t + 1]]
                    for t in range(i + 1, j):
                        new += d[r[t + 1], r[t]]
                    delta = new - old
                if delta < -1e-10:
                    lo = i + 1
                    hi = j
                    while lo < hi:
                        tmp = r[lo]
                        r[lo] = r[hi]
                        r[hi] = tmp
                        lo += 1
                        hi -= 1
                    saved -= delta
                    improved = True
        # relocation of one node
        for q in range(1, n - 1):
            v = r[q]
            a = r[q - 1]
            b = r[q + 1]
            rem = d[a, v] + d[v, b] - d[a, b]
            best = -1e-10
            bp = -1
            for p in range(n - 1):
                if p == q - 1 or p == q:
                    continue
                x = r[p]
                y = r[p + 1]
                delta = d[x, v] + d[v, y] - d[x, y] - rem
                if delta < best:
                    best = delta
                    bp = p
            if bp >= 0:
                _remove_at(r, n, q)
                if bp > q:
                    bp -= 1
                _insert_node(r, n - 1, bp, v)
                saved -= best
                improved = True
                break
    return saved


@njit(cache=True)
def _best_ins(d, service, r, n, v, skip):
    """Cheapest position to insert v into r[:n] (edge p -> p+1), skipping node index ``skip``
    (as if it were removed; -1 for none). Returns (added time, position in the reduced route)."""
    best = 1e300
    bp = -1
    prev = r[0]
    pi = 0
    for p in range(1, n):
        if p == skip:
            continue
        nxt = r[p]
        dt = d[prev, v] + service[v] + d[v, nxt] - d[prev, nxt]
        if dt < best:
            best = dt
            bp = pi
        prev = nxt
        pi += 1
    return best, bp


@njit(cache=True)
def _move_swap(d, service, tmax, R, L, C, where):
    """One improving Move or Swap between routes (largest decrease of total time). Returns True
    if applied."""
    K = R.shape[0]
    best = -1e-9
    ka = -1
    kb = -1
    qa = -1
    qb = -1
    pa = -1
    pb = -1
    for a in range(K):
        ra = R[a]
        for q in range(1, L[a] - 1):
            v = ra[q]
            rem_a = d[ra[q - 1], v] + service[v] + d[v, ra[q + 1]] - d[ra[q - 1], ra[q + 1]]
            for b in range(K):
                if b == a:
                    continue
                rb = R[b]
                # move v to b
                dt, p = _best_ins(d, service, rb, L[b], v, -1)
                if p >= 0 and C[b] + dt <= tmax + _EPS and dt - rem_a < best:
                    best = dt - rem_a
                    ka, kb, qa, qb, pa, pb = a, b, q, -1, -1, p
                # swap v with w of b (count each pair once)
                if b < a:
                    continue
                for s in range(1, L[b] - 1):
                    w = rb[s]
                    rem_b = d[rb[s - 1], w] + service[w] + d[w, rb[s + 1]] - d[rb[s - 1], rb[s + 1]]
                    ia, xa = _best_ins(d, service, ra, L[a], w, q)
                    ib, xb = _best_ins(d, service, rb, L[b], v, s)
                    na = C[a] - rem_a + ia
                    nb = C[b] - rem_b + ib
                    if na <= tmax + _EPS and nb <= tmax + _EPS:
                        delta = na + nb - C[a] - C[b]
                        if delta < best:
                            best = delta
                            ka, kb, qa, qb, pa, pb = a, b, q, s, xa, xb
    if ka < 0:
        return False
    ra = R[ka]
    rb = R[kb]
    v = ra[qa]
    if qb < 0:
        _remove_at(ra, L[ka], qa)
        L[ka] -= 1
        _insert_node(rb, L[kb], pb, v)
        L[kb] += 1
        where[v] = kb
    else:
        w = rb[qb]
        _remove_at(ra, L[ka], qa)
        _insert_node(ra, L[ka] - 1, pa, w)
        _remove_at(rb, L[kb], qb)
        _insert_node(rb, L[kb] - 1, pb, v)
        where[v] = kb
        where[w] = ka
    C[ka] = _route_cost(d, service, ra, L[ka])
    C[kb] = _route_cost(d, service, rb, L[kb])
    return True


@njit(cache=True)
def _replace_pass(d, service, prize, allowed, tmax, R, L, C, where):
    """One Replace: unvisited u in, visited v (prize[v] < prize[u]) out of the same route, largest
    prize gain (then smallest new duration). Returns the prize gained (0 if none)."""
    K = R.shape[0]
    nn = prize.shape[0]
    bgain = 0.0
    bcost = 1e300
    bu = -1
    bk = -1
    bq = -1
    bp = -1
    for u in range(nn):
        if where[u] != -1 or not allowed[u]:
            continue
        pu = prize[u]
        for k in range(K):
            r = R[k]
            n = L[k]
            for q in range(1, n - 1):
                v = r[q]
                gain = pu - prize[v]
                if gain < bgain - 1e-12 or gain <= 1e-12:
                    continue
                rem = d[r[q - 1], v] + service[v] + d[v, r[q + 1]] - d[r[q - 1], r[q + 1]]
                ins, p = _best_ins(d, service, r, n, u, q)
                nc = C[k] - rem + ins
                if nc <= tmax + _EPS:
                    if gain > bgain + 1e-12 or nc < bcost:
                        bgain = gain
                        bcost = nc
                        bu, bk, bq, bp = u, k, q, p
    if bu < 0:
        return 0.0
    r = R[bk]
    v = r[bq]
    _remove_at(r, L[bk], bq)
    _insert_node(r, L[bk] - 1, bp, bu)
    where[v] = -1
    where[bu] = bk
    C[bk] = _route_cost(d, service, r, L[bk])
    return bgain


@njit(cache=True)
def _local_search(d, service, prize, allowed, tmax, R, L, C, where, symmetric):
    K = R.shape[0]
    while True:
        gained = 0.0
        for k in range(K):
            if _two_opt(d, service, R[k], L[k], symmetric) > 0.0:
                C[k] = _route_cost(d, service, R[k], L[k])
        it = 0
        while _move_swap(d, service, tmax, R, L, C, where) and it < 50:
            it += 1
        gained += _insert_pass(d, service, prize, allowed, tmax, R, L, C, where, 1)
        while True:
            g = _replace_pass(d, service, prize, allowed, tmax, R, L, C, where)
            if g <= 0.0:
                break
            gained += g
            gained += _insert_pass(d, service, prize, allowed, tmax, R, L, C, where, 1)
        if gained <= 0.0:
            break


@njit(cache=True)
def _total(prize, R, L):
    s = 0.0
    for k in range(R.shape[0]):
        for i in range(1, L[k] - 1):
            s += prize[R[k, i]]
    return s


@njit(cache=True)
def _shake(service, d, R, L, C, where, size, related):
    """Remove visits, marking them tabu (``where = -2``) for the repair that follows.
    ``related`` False: a run of ``size`` consecutive visits at a random position of every route
    (Vansteenwegen et al. 2009). True: the ``size * K`` visits nearest to a random visited node,
    over all routes (related removal, Shaw 1998), which frees a whole area of the map."""
    K = R.shape[0]
    if related:
        nv = 0
        for k in range(K):
            nv += L[k] - 2
        if nv == 0:
            return
        j = np.random.randint(0, nv)
        c = -1
        for k in range(K):
            if j < L[k] - 2:
                c = R[k, 1 + j]
                break
            j -= L[k] - 2
        m = size * K
        if m > nv:
            m = nv
        vis = np.empty(nv, np.int64)
        dist = np.empty(nv, np.float64)
        t = 0
        for k in range(K):
            for i in range(1, L[k] - 1):
                vis[t] = R[k, i]
                dist[t] = d[c, R[k, i]] + d[R[k, i], c]
                t += 1
        order = np.argsort(dist)
        for i in range(m):
            where[vis[order[i]]] = -2
        for k in range(K):
            w = 1
            for i in range(1, L[k]):
                if where[R[k, i]] != -2 or i == L[k] - 1:
                    R[k, w] = R[k, i]
                    w += 1
            L[k] = w
            C[k] = _route_cost(d, service, R[k], L[k])
        return
    for k in range(K):
        m = L[k] - 2
        if m <= 0:
            continue
        s = size if size < m else m
        q0 = 1 + np.random.randint(0, m - s + 1)
        for i in range(q0, q0 + s):
            where[R[k, i]] = -2
        for i in range(q0, L[k] - s):
            R[k, i] = R[k, i + s]
        L[k] -= s
        C[k] = _route_cost(d, service, R[k], L[k])


@njit(cache=True)
def solve_top(d, service, prize, allowed, start, end, n_routes, tmax, seed, n_restarts, n_iter,
              reset, rcl, symmetric, p_related):
    """Best found TOP solution. ``d`` (n, n) travel times, ``service`` (n,) dwell times,
    ``prize`` (n,) >= 0, ``allowed`` (n,) bool (candidates; start/end must be False), ``tmax``
    the duration budget of each route. Returns (routes (K, n+2) int64 padded with -1, lengths
    (K,) incl. start and end, durations (K,), total prize)."""
    np.random.seed(seed)
    nn = prize.shape[0]
    K = n_routes
    cap = nn + 2
    bR = np.full((K, cap), -1, np.int64)
    bL = np.full(K, 2, np.int64)
    bC = np.full(K, d[start, end], np.float64)
    for k in range(K):
        bR[k, 0] = start
        bR[k, 1] = end
    bP = 0.0
    max_shake = max(1, nn // (3 * K))
    for rs in range(n_restarts):
        R = np.full((K, cap), -1, np.int64)
        L = np.full(K, 2, np.int64)
        C = np.full(K, d[start, end], np.float64)
        where = np.full(nn, -1, np.int64)
        for k in range(K):
            R[k, 0] = start
            R[k, 1] = end
        _insert_pass(d, service, prize, allowed, tmax, R, L, C, where, 1 if rs == 0 else rcl)
        _local_search(d, service, prize, allowed, tmax, R, L, C, where, symmetric)
        rR = R.copy()
        rL = L.copy()
        rC = C.copy()
        rW = where.copy()
        rP = _total(prize, R, L)
        size = 1
        no_imp = 0
        for it in range(n_iter):
            _shake(service, d, R, L, C, where, size, np.random.random() < p_related)
            _insert_pass(d, service, prize, allowed, tmax, R, L, C, where, rcl)
            for v in range(nn):
                if where[v] == -2:
                    where[v] = -1
            _local_search(d, service, prize, allowed, tmax, R, L, C, where, symmetric)
            p = _total(prize, R, L)
            if p > rP + 1e-9 or (p > rP - 1e-9 and C.sum() < rC.sum() - 1e-9):
                rR[:, :] = R
                rL[:] = L
                rC[:] = C
                rW[:] = where
                rP = p
                size = 1
                no_imp = 0
            else:
                size += 1
                if size > max_shake:
                    size = 1
                no_imp += 1
                if no_imp % reset == 0:
                    R[:, :] = rR
                    L[:] = rL
                    C[:] = rC
                    where[:] = rW
        if rP > bP + 1e-9 or (rP > bP - 1e-9 and rC.sum() < bC.sum() - 1e-9):
            bR[:, :] = rR
            bL[:] = rL
            bC[:] = rC
            bP = rP
    return bR, bL, bC, bP
