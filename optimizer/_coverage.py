"""Exact and heuristic cores for covering problems on a demand x candidate incidence matrix.

What: the two classic covering models, each solved two ways.

* Set covering (Toregas, Swain, ReVelle & Bergman 1971, "The location of emergency service
  facilities", Operations Research 19(6)): choose candidates of least total cost so that every
  demand row i is covered at least ``k_i`` times (``k_i = 2`` gives redundant camera coverage;
  the multicover form is Hall & Hochbaum 1986).
* Maximal covering (Church & ReVelle 1974, "The maximal covering location problem", Papers of
  the Regional Science Association 32): choose candidates within a budget to maximise the total
  weight of covered demand, ``y_i <= sum_j a_ij x_j``.

Exact: mixed-integer programs solved by HiGHS through ``scipy.optimize.milp``; the LP relaxation
(``scipy.optimize.linprog``, HiGHS) gives the bound against which heuristics are judged.
Heuristic: Chvatal's (1979, "A greedy heuristic for the set-covering problem", Mathematics of
Operations Research 4(3)) cost-effectiveness greedy with lazy evaluation of the
(non-increasing) marginal gains on a binary heap (Minoux 1978's "accelerated greedy"), followed by
a local search: drop redundant columns, then "add one, drop the now-redundant" moves, which
contain the 1-for-1 swap and the 2-for-1 (r-for-1) swaps.  For budgeted maximal coverage the
greedy is the gain-per-cost rule compared with the best single affordable candidate (Khuller, Moss
& Naor 1999, a (1 - 1/e)/2 guarantee; with unit costs plain greedy gives 1 - 1/e, Nemhauser,
Wolsey & Fisher 1978), followed by 1-swap and add moves.

Why here: the hot loops (greedy with a heap, local search) run as numba kernels over the CSR/CSC
arrays, so instances with 10^5 candidates stay interactive.  Units: costs in whatever currency
the caller uses (one unit per camera for a cardinality problem), weights in demand units (people,
m^2 of ground, ...).  This module imports no framework; the public facade is
``optimizer.cameras``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

_EPS = 1e-9


# --------------------------------------------------------------------------------------------
# data


def as_incidence(a: ArrayLike | sp.spmatrix | sp.sparray) -> sp.csr_matrix:
    """Return ``a`` as a 0/1 CSR matrix (rows = demand points, columns = candidates).

    Any non-zero entry counts as "candidate j covers demand i"; explicit zeros are dropped.
    """
    m = sp.csr_matrix(a, dtype=np.float64)
    m.eliminate_zeros()
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return m


def _rows_k(k: int | ArrayLike, n_rows: int) -> NDArray[np.int64]:
    kk = np.asarray(k)
    if kk.ndim == 0:
        return np.full(n_rows, int(kk), dtype=np.int64)
    return kk.astype(np.int64, copy=True)


def _structure(a: sp.csr_matrix) -> tuple[NDArray[np.int64], ...]:
    """CSR (rows -> candidates) and CSC (candidates -> rows) index arrays as int64."""
    csc = a.tocsc()
    csc.sort_indices()
    return (
        a.indptr.astype(np.int64),
        a.indices.astype(np.int64),
        csc.indptr.astype(np.int64),
        csc.indices.astype(np.int64),
    )


@dataclass(frozen=True)
class Solution:
    """Outcome of one solve.

    ``x`` is the 0/1 choice per candidate; ``objective`` the cost (cover) or covered weight
    (max coverage); ``bound`` the best proven bound (MIP dual bound for the exact path, LP
    relaxation bound for heuristics; a lower bound for covers, an upper bound for max coverage);
    ``gap`` = |objective - bound| / |objective| (HiGHS's definition; 0 when both are 0).
    """

    x: NDArray[np.bool_]
    objective: float
    bound: float
    gap: float
    optimal: bool
    method: str
    time_s: float
    lp_bound: float = math.nan
    status: str = ""


def relative_gap(objective: float, bound: float) -> float:
    """|objective - bound| / |objective| (0 when both are 0, inf when only the objective is 0)."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    diff = abs(objective - bound)
    if diff <= 1e-9 * max(1.0, abs(objective)):
        return 0.0
    if objective == 0.0:
        return math.inf
    return diff / abs(objective)


def _milp_options(time_limit_s: float | None, mip_rel_gap: float | None) -> dict[str, object]:
    opts: dict[str, object] = {"disp": False}
    if time_limit_s is not None:
        opts["time_limit"] = float(time_limit_s)
    if mip_rel_gap is not None:
        opts["mip_rel_gap"] = float(mip_rel_gap)
    return opts


# --------------------------------------------------------------------------------------------
# exact: set (multi)cover


def lp_cover_bound(a: sp.csr_matrix, cost: NDArray[np.float64], k: int | ArrayLike = 1) -> float:
    """LP relaxation value of the (multi)cover, a lower bound on any cover's cost."""
    kk = _rows_k(k, a.shape[0]).astype(np.float64)
    res = linprog(cost, A_ub=-a, b_ub=-kk, bounds=(0.0, 1.0), method="highs")
    if res.status != 0:
        raise ValueError(f"LP relaxation of the cover failed: {res.message}")
    return float(res.fun)


def solve_set_cover_milp(
    a: sp.csr_matrix,
    cost: NDArray[np.float64],
    *,
    k: int | ArrayLike = 1,
    time_limit_s: float | None = None,
    mip_rel_gap: float | None = None,
    with_lp_bound: bool = True,
) -> Solution:
    """Minimum-cost cover with every row i covered at least ``k_i`` times (binary x_j).

    min sum_j c_j x_j  s.t.  sum_j a_ij x_j >= k_i,  x_j in {0, 1}   (Toregas et al. 1971).
    """
    a = as_incidence(a)
    cost = np.asarray(cost, dtype=np.float64)
    kk = _rows_k(k, a.shape[0]).astype(np.float64)
    t0 = time.perf_counter()
    lp = lp_cover_bound(a, cost, kk) if with_lp_bound else math.nan
    res = milp(
        cost,
        constraints=LinearConstraint(a, lb=kk, ub=np.inf),
        integrality=np.ones(a.shape[1]),
        bounds=Bounds(0.0, 1.0),
        options=_milp_options(time_limit_s, mip_rel_gap),
    )
    dt = time.perf_counter() - t0
    if res.x is None:
        raise ValueError(f"set-cover MILP found no cover: {res.message}")
    x = res.x > 0.5
    obj = float(cost[x].sum())
    bound = float(getattr(res, "mip_dual_bound", math.nan))
    if not math.isfinite(bound):
        bound = lp
    if math.isfinite(lp):
        bound = max(bound, lp)
    optimal = res.status == 0
    if optimal:
        bound = max(bound, obj - float(getattr(res, "mip_gap", 0.0) or 0.0) * abs(obj))
    return Solution(
        x=x, objective=obj, bound=bound, gap=relative_gap(obj, bound), optimal=optimal,
        method="milp", time_s=dt, lp_bound=lp, status=str(res.message),
    )


# --------------------------------------------------------------------------------------------
# exact: maximal (weighted) coverage under a budget


def _max_cov_model(
    a: sp.csr_matrix, cost: NDArray[np.float64], weight: NDArray[np.float64], budget: float,
    kk: NDArray[np.float64],
) -> tuple[NDArray[np.float64], sp.csr_matrix, NDArray[np.float64], NDArray[np.float64]]:
    m, n = a.shape
    # variables [x_1..x_n, y_1..y_m];  k_i y_i - sum_j a_ij x_j <= 0 ;  sum c_j x_j <= B
    c = np.concatenate([np.zeros(n), -weight])
    link = sp.hstack([-a, sp.diags(kk)], format="csr")
    bud = sp.csr_matrix(np.concatenate([cost, np.zeros(m)])[None, :])
    mat = sp.vstack([link, bud], format="csr")
    lb = np.full(m + 1, -np.inf)
    ub = np.concatenate([np.zeros(m), [float(budget)]])
    return c, mat, lb, ub


def lp_max_coverage_bound(
    a: sp.csr_matrix, cost: NDArray[np.float64], weight: NDArray[np.float64], *, budget: float,
    k: int | ArrayLike = 1,
) -> float:
    """LP relaxation value of the maximal covering model, an upper bound on covered weight."""
    kk = _rows_k(k, a.shape[0]).astype(np.float64)
    c, mat, _lb, ub = _max_cov_model(a, cost, weight, budget, kk)
    res = linprog(c, A_ub=mat, b_ub=ub, bounds=(0.0, 1.0), method="highs")
    if res.status != 0:
        raise ValueError(f"LP relaxation of the maximal covering model failed: {res.message}")
    return float(-res.fun)


def solve_max_coverage_milp(
    a: sp.csr_matrix,
    cost: NDArray[np.float64],
    weight: NDArray[np.float64],
    *,
    budget: float,
    k: int | ArrayLike = 1,
    time_limit_s: float | None = None,
    mip_rel_gap: float | None = None,
    with_lp_bound: bool = True,
) -> Solution:
    """Maximal weighted coverage with total cost <= ``budget`` (Church & ReVelle 1974).

    max sum_i w_i y_i  s.t.  k_i y_i <= sum_j a_ij x_j,  sum_j c_j x_j <= B,  x binary,
    0 <= y_i <= 1.  With k_i = 1 the y_i are integral at any optimum with integral x; with
    k_i > 1 they are declared integer too, so a row counts only when covered k_i times.
    """
    a = as_incidence(a)
    m, n = a.shape
    cost = np.asarray(cost, dtype=np.float64)
    weight = np.asarray(weight, dtype=np.float64)
    kk = _rows_k(k, m).astype(np.float64)
    t0 = time.perf_counter()
    lp = (
        lp_max_coverage_bound(a, cost, weight, budget=budget, k=kk) if with_lp_bound else math.nan
    )
    c, mat, lb, ub = _max_cov_model(a, cost, weight, budget, kk)
    integ = np.concatenate([np.ones(n), (kk > 1).astype(np.float64)])
    res = milp(
        c,
        constraints=LinearConstraint(mat, lb=lb, ub=ub),
        integrality=integ,
        bounds=Bounds(0.0, 1.0),
        options=_milp_options(time_limit_s, mip_rel_gap),
    )
    dt = time.perf_counter() - t0
    if res.x is None:
        raise ValueError(f"maximal covering MILP returned no solution: {res.message}")
    x = res.x[:n] > 0.5
    obj = float(covered_weight(a, x, weight, kk.astype(np.int64)))
    bound = -float(getattr(res, "mip_dual_bound", math.nan))
    if not math.isfinite(bound):
        bound = lp
    if math.isfinite(lp):
        bound = min(bound, lp)
    bound = max(bound, obj)
    optimal = res.status == 0
    return Solution(
        x=x, objective=obj, bound=bound, gap=relative_gap(obj, bound), optimal=optimal,
        method="milp", time_s=dt, lp_bound=lp, status=str(res.message),
    )


def coverage_counts(a: sp.csr_matrix, x: NDArray[np.bool_]) -> NDArray[np.int64]:
    """How many chosen candidates cover each row."""
    return np.asarray(a @ x.astype(np.float64)).round().astype(np.int64)


def covered_weight(
    a: sp.csr_matrix, x: NDArray[np.bool_], weight: NDArray[np.float64], k: int | ArrayLike = 1
) -> float:
    """Total weight of rows covered at least k_i times by the chosen candidates."""
    kk = _rows_k(k, a.shape[0])
    return float(np.asarray(weight)[coverage_counts(a, x) >= kk].sum())


# --------------------------------------------------------------------------------------------
# numba kernels: binary min-heap


@numba.njit(cache=True)
def _heap_push(keys: NDArray, items: NDArray, size: int, key: float, item: int) -> int:
    i = size
    keys[i] = key
    items[i] = item
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= keys[i]:
            break
        keys[parent], keys[i] = keys[i], keys[parent]
        items[parent], items[i] = items[i], items[parent]
        i = parent
    return size + 1


@numba.njit(cache=True)
def _heap_pop(keys: NDArray, items: NDArray, size: int) -> int:
    """Remove the top (caller reads keys[0], items[0] first); returns the new size."""
    size -= 1
    keys[0] = keys[size]
    items[0] = items[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and keys[left + 1] < keys[left]:
            child = left + 1
        if keys[i] <= keys[child]:
            break
        keys[child], keys[i] = keys[i], keys[child]
        items[child], items[i] = items[i], items[child]
        i = child
    return size


# --------------------------------------------------------------------------------------------
# numba kernels: cover


@numba.njit(cache=True)
def _greedy_cover_kernel(col_ptr, col_idx, cost, need_in):  # type: ignore[no-untyped-def]
    """Chvatal greedy for the multicover with lazy gains; returns the chosen mask (or fails)."""
    n = cost.shape[0]
    need = need_in.copy()
    remaining = 0
    for i in range(need.shape[0]):
        if need[i] > 0:
            remaining += 1
    chosen = np.zeros(n, dtype=np.bool_)
    keys = np.empty(n, dtype=np.float64)
    items = np.empty(n, dtype=np.int64)
    size = 0
    for j in range(n):
        g = 0
        for p in range(col_ptr[j], col_ptr[j + 1]):
            if need[col_idx[p]] > 0:
                g += 1
        if g > 0:
            size = _heap_push(keys, items, size, cost[j] / g, j)
    while remaining > 0 and size > 0:
        j = items[0]
        size = _heap_pop(keys, items, size)
        g = 0
        for p in range(col_ptr[j], col_ptr[j + 1]):
            if need[col_idx[p]] > 0:
                g += 1
        if g == 0:
            continue
        r = cost[j] / g
        if size > 0 and r > keys[0] * (1.0 + 1e-12) + 1e-15:
            size = _heap_push(keys, items, size, r, j)
            continue
        chosen[j] = True
        for p in range(col_ptr[j], col_ptr[j + 1]):
            i = col_idx[p]
            if need[i] > 0:
                need[i] -= 1
                if need[i] == 0:
                    remaining -= 1
    return chosen, remaining


@numba.njit(cache=True)
def _is_redundant(j, col_ptr, col_idx, cnt, k):  # type: ignore[no-untyped-def]
    for p in range(col_ptr[j], col_ptr[j + 1]):
        i = col_idx[p]
        if cnt[i] - 1 < k[i]:
            return False
    return True


@numba.njit(cache=True)
def _drop_redundant_kernel(col_ptr, col_idx, cost, k, chosen, cnt):  # type: ignore[no-untyped-def]
    """Drop redundant chosen columns, most expensive first; updates chosen and cnt in place."""
    order = np.argsort(-cost)
    dropped = 0
    for t in range(order.shape[0]):
        j = order[t]
        if chosen[j] and _is_redundant(j, col_ptr, col_idx, cnt, k):
            chosen[j] = False
            for p in range(col_ptr[j], col_ptr[j + 1]):
                cnt[col_idx[p]] -= 1
            dropped += 1
    return dropped


@numba.njit(cache=True)
def _add_drop_kernel(col_ptr, col_idx, row_ptr, row_idx, cost, k, chosen, cnt, max_passes):  # type: ignore[no-untyped-def]
    """Local search: add one unchosen column, drop the chosen ones it makes redundant (most
    expensive first); keep the move when it saves cost.  Covers 1-for-1 and r-for-1 swaps.
    Precondition: no chosen column is redundant.  Returns the number of improving moves."""
    n = cost.shape[0]
    stamp = np.zeros(n, dtype=np.int64)
    cand = np.empty(n, dtype=np.int64)
    dropped = np.empty(n, dtype=np.int64)
    order = np.argsort(cost)
    tick = 0
    moves = 0
    for _pass in range(max_passes):
        improved = False
        for t in range(n):
            jn = order[t]
            if chosen[jn] or col_ptr[jn + 1] == col_ptr[jn]:
                continue
            tick += 1
            nc = 0
            for p in range(col_ptr[jn], col_ptr[jn + 1]):
                i = col_idx[p]
                cnt[i] += 1
                for q in range(row_ptr[i], row_ptr[i + 1]):
                    s = row_idx[q]
                    if chosen[s] and stamp[s] != tick:
                        stamp[s] = tick
                        cand[nc] = s
                        nc += 1
            # most expensive first (insertion sort; nc is small)
            for a_ in range(1, nc):
                v = cand[a_]
                b_ = a_ - 1
                while b_ >= 0 and cost[cand[b_]] < cost[v]:
                    cand[b_ + 1] = cand[b_]
                    b_ -= 1
                cand[b_ + 1] = v
            saved = 0.0
            nd = 0
            for a_ in range(nc):
                s = cand[a_]
                if _is_redundant(s, col_ptr, col_idx, cnt, k):
                    for p in range(col_ptr[s], col_ptr[s + 1]):
                        cnt[col_idx[p]] -= 1
                    saved += cost[s]
                    dropped[nd] = s
                    nd += 1
            if nd > 0 and saved > cost[jn] + 1e-9 * max(1.0, saved):
                chosen[jn] = True
                for a_ in range(nd):
                    chosen[dropped[a_]] = False
                moves += 1
                improved = True
            else:
                for a_ in range(nd):
                    s = dropped[a_]
                    for p in range(col_ptr[s], col_ptr[s + 1]):
                        cnt[col_idx[p]] += 1
                for p in range(col_ptr[jn], col_ptr[jn + 1]):
                    cnt[col_idx[p]] -= 1
        if not improved:
            break
    return moves


def lazy_greedy_cover(
    a: sp.csr_matrix,
    cost: NDArray[np.float64],
    *,
    k: int | ArrayLike = 1,
    local_search: bool = True,
    max_passes: int = 50,
    with_lp_bound: bool = True,
) -> Solution:
    """Chvatal (1979) greedy (multi)cover with lazy gains, then drop-redundant + add-drop swaps.

    The result's ``bound`` is the LP relaxation value (when ``with_lp_bound``), so ``gap`` is the
    heuristic's proven distance from optimal.
    """
    a = as_incidence(a)
    m, _n = a.shape
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    kk = _rows_k(k, m)
    row_ptr, row_idx, col_ptr, col_idx = _structure(a)
    t0 = time.perf_counter()
    chosen, remaining = _greedy_cover_kernel(col_ptr, col_idx, cost, kk)
    if remaining > 0:
        raise ValueError(f"{remaining} rows cannot be covered the required number of times")
    cnt = coverage_counts(a, chosen)
    method = "greedy"
    if local_search:
        _drop_redundant_kernel(col_ptr, col_idx, cost, kk, chosen, cnt)
        _add_drop_kernel(col_ptr, col_idx, row_ptr, row_idx, cost, kk, chosen, cnt, max_passes)
        _drop_redundant_kernel(col_ptr, col_idx, cost, kk, chosen, cnt)
        method = "greedy+local"
    dt = time.perf_counter() - t0
    obj = float(cost[chosen].sum())
    lp = lp_cover_bound(a, cost, kk) if with_lp_bound else math.nan
    return Solution(
        x=chosen, objective=obj, bound=lp, gap=relative_gap(obj, lp), optimal=False,
        method=method, time_s=dt, lp_bound=lp, status="heuristic",
    )


# --------------------------------------------------------------------------------------------
# numba kernels: budgeted maximal coverage (k = 1)


@numba.njit(cache=True)
def _col_gain(j, col_ptr, col_idx, weight, cnt):  # type: ignore[no-untyped-def]
    g = 0.0
    for p in range(col_ptr[j], col_ptr[j + 1]):
        i = col_idx[p]
        if cnt[i] == 0:
            g += weight[i]
    return g


@numba.njit(cache=True)
def _greedy_maxcov_kernel(col_ptr, col_idx, cost, weight, budget, chosen, cnt, spent):  # type: ignore[no-untyped-def]
    """Lazy gain-per-cost greedy, continuing from the state (chosen, cnt, spent)."""
    n = cost.shape[0]
    keys = np.empty(n, dtype=np.float64)
    items = np.empty(n, dtype=np.int64)
    size = 0
    tol = 1e-9 * max(1.0, budget)
    for j in range(n):
        if chosen[j] or cost[j] > budget - spent + tol:
            continue
        g = _col_gain(j, col_ptr, col_idx, weight, cnt)
        if g > 0.0:
            key = -np.inf if cost[j] <= 0.0 else -g / cost[j]
            size = _heap_push(keys, items, size, key, j)
    while size > 0:
        j = items[0]
        size = _heap_pop(keys, items, size)
        if cost[j] > budget - spent + tol:
            continue  # never affordable again: the remaining budget only shrinks
        g = _col_gain(j, col_ptr, col_idx, weight, cnt)
        if g <= 0.0:
            continue  # gains only shrink
        key = -np.inf if cost[j] <= 0.0 else -g / cost[j]
        if size > 0 and key > keys[0] + 1e-12 * abs(keys[0]) + 1e-15:
            size = _heap_push(keys, items, size, key, j)
            continue
        chosen[j] = True
        spent += cost[j]
        for p in range(col_ptr[j], col_ptr[j + 1]):
            cnt[col_idx[p]] += 1
    return spent


@numba.njit(cache=True)
def _swap_maxcov_kernel(col_ptr, col_idx, cost, weight, budget, chosen, cnt, spent, max_passes):  # type: ignore[no-untyped-def]
    """1-swap local search (one chosen out, one unchosen in, within budget), best swap per
    chosen column, followed each time by greedy additions with any freed budget."""
    n = cost.shape[0]
    mark = np.zeros(cnt.shape[0], dtype=np.bool_)
    tol = 1e-9 * max(1.0, budget)
    moves = 0
    for _pass in range(max_passes):
        improved = False
        for jo in range(n):
            if not chosen[jo]:
                continue
            loss = 0.0
            for p in range(col_ptr[jo], col_ptr[jo + 1]):
                i = col_idx[p]
                mark[i] = True
                if cnt[i] == 1:
                    loss += weight[i]
            best = 1e-9 * max(1.0, loss)
            best_j = -1
            for ji in range(n):
                if chosen[ji] or spent - cost[jo] + cost[ji] > budget + tol:
                    continue
                g = 0.0
                for p in range(col_ptr[ji], col_ptr[ji + 1]):
                    i = col_idx[p]
                    if cnt[i] == 0 or (cnt[i] == 1 and mark[i]):
                        g += weight[i]
                if g - loss > best:
                    best = g - loss
                    best_j = ji
            for p in range(col_ptr[jo], col_ptr[jo + 1]):
                mark[col_idx[p]] = False
            if best_j >= 0:
                chosen[jo] = False
                for p in range(col_ptr[jo], col_ptr[jo + 1]):
                    cnt[col_idx[p]] -= 1
                chosen[best_j] = True
                for p in range(col_ptr[best_j], col_ptr[best_j + 1]):
                    cnt[col_idx[p]] += 1
                spent += cost[best_j] - cost[jo]
                spent = _greedy_maxcov_kernel(
                    col_ptr, col_idx, cost, weight, budget, chosen, cnt, spent
                )
                moves += 1
                improved = True
        if not improved:
            break
    return spent, moves


def lazy_greedy_max_coverage(
    a: sp.csr_matrix,
    cost: NDArray[np.float64],
    weight: NDArray[np.float64],
    *,
    budget: float,
    local_search: bool = True,
    max_passes: int = 20,
    with_lp_bound: bool = True,
) -> Solution:
    """Budgeted maximal coverage (k = 1): lazy gain-per-cost greedy, best of it and the best
    single affordable candidate (Khuller et al. 1999), then 1-swap + add local search."""
    a = as_incidence(a)
    m, n = a.shape
    cost = np.ascontiguousarray(cost, dtype=np.float64)
    weight = np.ascontiguousarray(weight, dtype=np.float64)
    _row_ptr, _row_idx, col_ptr, col_idx = _structure(a)
    t0 = time.perf_counter()
    chosen = np.zeros(n, dtype=np.bool_)
    cnt = np.zeros(m, dtype=np.int64)
    spent = _greedy_maxcov_kernel(col_ptr, col_idx, cost, weight, float(budget), chosen, cnt, 0.0)
    # best single affordable candidate
    single = np.asarray(a.T @ weight).ravel()
    single[cost > budget + 1e-9 * max(1.0, budget)] = -np.inf
    if n and single.max() > float(weight[cnt > 0].sum()):
        j = int(np.argmax(single))
        chosen[:] = False
        chosen[j] = True
        cnt = coverage_counts(a, chosen)
        spent = _greedy_maxcov_kernel(
            col_ptr, col_idx, cost, weight, float(budget), chosen, cnt, float(cost[j])
        )
    method = "greedy"
    if local_search and chosen.any():
        _swap_maxcov_kernel(
            col_ptr, col_idx, cost, weight, float(budget), chosen, cnt, spent, max_passes
        )
        method = "greedy+local"
    dt = time.perf_counter() - t0
    obj = float(weight[cnt > 0].sum())
    lp = lp_max_coverage_bound(a, cost, weight, budget=budget) if with_lp_bound else math.nan
    return Solution(
        x=chosen, objective=obj, bound=lp, gap=relative_gap(obj, lp), optimal=False,
        method=method, time_s=dt, lp_bound=lp, status="heuristic",
    )


# --------------------------------------------------------------------------------------------
# curve


@dataclass(frozen=True)
class Curve:
    """Coverage achieved per budget (or per number of cameras when costs are all 1)."""

    budgets: NDArray[np.float64]
    covered_weight: NDArray[np.float64]
    bound: NDArray[np.float64]
    optimal: NDArray[np.bool_]
    methods: tuple[str, ...]
    chosen: tuple[NDArray[np.int64], ...]
    time_s: NDArray[np.float64]


def coverage_curve(
    a: sp.csr_matrix,
    cost: NDArray[np.float64],
    weight: NDArray[np.float64],
    *,
    budgets: ArrayLike,
    k: int | ArrayLike = 1,
    method: str = "auto",
    exact_max_entries: int = 2_000_000,
    time_limit_s: float | None = 10.0,
) -> Curve:
    """Max coverage for each budget: exact MILP for small instances (rows x candidates <=
    ``exact_max_entries``, or ``method="exact"``), the greedy + local search otherwise."""
    a = as_incidence(a)
    kk = _rows_k(k, a.shape[0])
    bs = np.asarray(budgets, dtype=np.float64).ravel()
    if method not in ("auto", "exact", "heuristic"):
        raise ValueError(f"method must be 'auto', 'exact' or 'heuristic', got {method!r}")
    use_exact = method == "exact" or (
        method == "auto" and a.shape[0] * a.shape[1] <= exact_max_entries
    )
    if not use_exact and np.any(kk != 1):
        raise ValueError("the max-coverage heuristic handles k = 1 only; use method='exact'")
    cov, bnd, opt, tms, meth, ch = [], [], [], [], [], []
    for b in bs:
        if use_exact:
            s = solve_max_coverage_milp(
                a, cost, weight, budget=float(b), k=kk, time_limit_s=time_limit_s,
                with_lp_bound=False,
            )
        else:
            s = lazy_greedy_max_coverage(a, cost, weight, budget=float(b))
        cov.append(s.objective)
        bnd.append(s.bound)
        opt.append(s.optimal)
        tms.append(s.time_s)
        meth.append(s.method)
        ch.append(np.flatnonzero(s.x).astype(np.int64))
    return Curve(
        budgets=bs, covered_weight=np.asarray(cov, dtype=np.float64),
        bound=np.asarray(bnd, dtype=np.float64), optimal=np.asarray(opt, dtype=np.bool_),
        methods=tuple(meth), chosen=tuple(ch), time_s=np.asarray(tms, dtype=np.float64),
    )
