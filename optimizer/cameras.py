"""Camera placement as covering problems: least-cost (redundant) cover and budgeted max coverage.

What: given which candidate camera poses see which demand points (a 0/1 incidence, demand
points x candidates, e.g. from viewsheds), a cost per candidate (currency, or 1 per camera) and
a weight per demand point (people, m^2 of path, risk), answer the planner's and funder's
questions:

* :func:`min_cost_cover` -- the cheapest set of cameras seeing every point at least ``k_i``
  times (set covering, Toregas, Swain, ReVelle & Bergman 1971, Operations Research 19(6);
  ``k_i = 2`` for redundancy at gates).
* :func:`max_coverage` -- the most demand weight seen within a budget (maximal covering,
  Church & ReVelle 1974, Papers of the Regional Science Association 32).
* :func:`coverage_curve` -- coverage vs budget or number of cameras, the funder's curve.

Each is solved exactly (HiGHS MILP via ``scipy.optimize.milp``, with proven-optimal flag, MIP
gap and bound) or heuristically (lazy greedy after Chvatal 1979, Mathematics of Operations
Research 4(3), plus swap local search; its gap is measured against the LP relaxation bound).
``method="auto"`` picks the exact path for small instances.  The numerical cores live in
``optimizer._coverage``; validation against Beasley's OR-Library set-covering optima is in
tests/validation/test_optimizer_orlib.py.  Site integration (poses from viewsheds) is separate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from optimizer import _coverage as C
from optimizer.orlib import OrlibFormatError, ScpInstance, read_orlib_scp

__all__ = [
    "CoverageCurve",
    "CoverageProblem",
    "CoverageResult",
    "OrlibFormatError",
    "ScpInstance",
    "coverage_curve",
    "max_coverage",
    "min_cost_cover",
    "read_orlib_scp",
]

#: ``method="auto"`` uses the exact MILP when rows x candidates is at most this
EXACT_MAX_ENTRIES = 2_000_000


@dataclass(frozen=True)
class CoverageProblem:
    """A covering instance, validated on construction.

    ``incidence``: demand points x candidates, non-zero = "candidate j sees point i" (any
    array or scipy.sparse matrix; stored as 0/1 CSR).  ``cost``: per candidate, >= 0 (default
    1 = count cameras).  ``weight``: per demand point, >= 0 (default 1).  ``k``: required
    coverage multiplicity, an int or one per point (default 1).  ``candidate_ids`` /
    ``demand_ids``: optional names used in results and error messages.  Unless
    ``allow_uncoverable``, every point must be seen by at least k_i candidates (ValueError
    naming the first that is not); max coverage with unseeable points needs
    ``allow_uncoverable=True``.
    """

    incidence: sp.csr_matrix
    cost: NDArray[np.float64] | None = None
    weight: NDArray[np.float64] | None = None
    k: NDArray[np.int64] | int = 1
    candidate_ids: Sequence[str] | None = None
    demand_ids: Sequence[str] | None = None
    allow_uncoverable: bool = False
    n_points: int = field(init=False)
    n_candidates: int = field(init=False)

    def __post_init__(self) -> None:
        raw = self.incidence
        if not sp.issparse(raw):
            arr = np.asarray(raw)
            if arr.ndim != 2:
                raise ValueError(
                    f"incidence must be 2-D (demand points x candidates), got shape {arr.shape}"
                )
            if arr.dtype.kind not in "biuf" or (arr.dtype.kind == "f" and not np.isfinite(arr).all()):
                raise ValueError("incidence must hold finite numbers (non-zero = covers)")
        a = C.as_incidence(raw)
        m, n = a.shape
        if m == 0 or n == 0:
            raise ValueError(f"incidence must have at least one row and one column, got {a.shape}")
        object.__setattr__(self, "incidence", a)
        object.__setattr__(self, "n_points", m)
        object.__setattr__(self, "n_candidates", n)

        def vec(name: str, v: object, size: int, what: str) -> NDArray[np.float64]:
            if v is None:
                return np.ones(size)
            x = np.asarray(v, dtype=np.float64)
            if x.ndim == 0:
                x = np.full(size, float(x))
            if x.shape != (size,):
                raise ValueError(
                    f"{name} must have one entry per {what} ({size}), got shape {x.shape}"
                )
            bad = np.flatnonzero(~np.isfinite(x) | (x < 0))
            if bad.size:
                label = self._label(bad[0], what)
                raise ValueError(f"{name} of {label} is {x[bad[0]]}; expected a finite number >= 0")
            return x

        for ids, size, what in ((self.candidate_ids, n, "candidate"), (self.demand_ids, m, "point")):
            if ids is not None and len(ids) != size:
                raise ValueError(f"{what}_ids has {len(ids)} names for {size} {what}s")
        object.__setattr__(self, "cost", vec("cost", self.cost, n, "candidate"))
        object.__setattr__(self, "weight", vec("weight", self.weight, m, "point"))
        kk = np.asarray(self.k)
        if kk.dtype.kind not in "iu" and not (kk.dtype.kind == "f" and np.all(kk == np.round(kk))):
            raise ValueError(f"k must be an integer or integers, got {self.k!r}")
        kk = np.broadcast_to(kk.astype(np.int64), (m,)).copy() if kk.ndim == 0 else kk.astype(np.int64)
        if kk.shape != (m,):
            raise ValueError(f"k must be an int or one entry per point ({m}), got shape {kk.shape}")
        if (kk < 0).any():
            i = int(np.flatnonzero(kk < 0)[0])
            raise ValueError(f"k of {self._label(i, 'point')} is {kk[i]}; expected >= 0")
        object.__setattr__(self, "k", kk)
        if not self.allow_uncoverable:
            deg = np.diff(a.indptr)
            short = np.flatnonzero(deg < kk)
            if short.size:
                i = int(short[0])
                raise ValueError(
                    f"{self._label(i, 'point')} is seen by {deg[i]} candidate(s) but must be "
                    f"covered k={kk[i]} times ({short.size} point(s) short in all); add "
                    f"candidates, lower k, or pass allow_uncoverable=True for max coverage"
                )

    def _label(self, idx: int, what: str) -> str:
        ids = self.candidate_ids if what == "candidate" else self.demand_ids
        return f"{what} {idx} ({ids[idx]!r})" if ids is not None else f"{what} {idx}"

    @classmethod
    def from_orlib(cls, inst: ScpInstance) -> CoverageProblem:
        """Problem from an OR-Library SCP instance (unit weights, k = 1)."""
        return cls(incidence=inst.incidence, cost=inst.cost)


@dataclass(frozen=True)
class CoverageResult:
    """A chosen camera set and what it achieves.

    ``chosen``: candidate indices (sorted); ``chosen_ids`` their names when given.
    ``cost``: total cost.  ``covered_weight`` / ``coverage``: weight of points covered at least
    k_i times, absolute and as a fraction of the total.  ``objective``: the optimised value
    (cost for covers, covered weight for max coverage).  ``bound``: proven bound on it (lower
    for covers, upper for max coverage; MIP dual bound or LP relaxation).  ``gap`` =
    |objective - bound| / |objective|.  ``optimal``: proven optimal.  ``method``: "milp",
    "greedy" or "greedy+local".
    """

    chosen: NDArray[np.int64]
    chosen_ids: tuple[str, ...] | None
    cost: float
    covered_weight: float
    coverage: float
    objective: float
    bound: float
    gap: float
    optimal: bool
    method: str
    time_s: float


def _result(problem: CoverageProblem, s: C.Solution) -> CoverageResult:
    x = s.x
    chosen = np.flatnonzero(x).astype(np.int64)
    cw = C.covered_weight(problem.incidence, x, problem.weight, problem.k)
    total = float(problem.weight.sum())
    ids = tuple(problem.candidate_ids[j] for j in chosen) if problem.candidate_ids is not None else None
    return CoverageResult(
        chosen=chosen, chosen_ids=ids, cost=float(problem.cost[x].sum()), covered_weight=cw,
        coverage=cw / total if total > 0 else 1.0, objective=s.objective, bound=s.bound,
        gap=s.gap, optimal=s.optimal, method=s.method, time_s=s.time_s,
    )


def _pick(problem: CoverageProblem, method: str) -> str:
    if method not in ("auto", "exact", "heuristic"):
        raise ValueError(f"method must be 'auto', 'exact' or 'heuristic', got {method!r}")
    if method == "auto":
        return "exact" if problem.n_points * problem.n_candidates <= EXACT_MAX_ENTRIES else "heuristic"
    return method


def min_cost_cover(
    problem: CoverageProblem,
    *,
    method: str = "auto",
    time_limit_s: float | None = None,
    local_search: bool = True,
) -> CoverageResult:
    """Least-cost candidate set covering every point at least k_i times (Toregas et al. 1971).

    ``method="exact"``: HiGHS MILP (proven optimum unless ``time_limit_s`` cuts it short);
    ``"heuristic"``: Chvatal (1979) lazy greedy + drop/swap local search, gap vs LP bound.
    """
    if problem.allow_uncoverable:
        deg = np.diff(problem.incidence.indptr)
        short = np.flatnonzero(deg < problem.k)
        if short.size:
            raise ValueError(
                f"{problem._label(int(short[0]), 'point')} cannot be covered k="
                f"{int(problem.k[short[0]])} times; no cover exists"
            )
    how = _pick(problem, method)
    if how == "exact":
        s = C.solve_set_cover_milp(problem.incidence, problem.cost, k=problem.k,
                                   time_limit_s=time_limit_s)
    else:
        s = C.lazy_greedy_cover(problem.incidence, problem.cost, k=problem.k,
                                local_search=local_search)
    return _result(problem, s)


def _check_budget(budget: float) -> float:
    b = float(budget)
    if not math.isfinite(b) or b < 0:
        raise ValueError(f"budget must be a finite number >= 0, got {budget!r}")
    return b


def max_coverage(
    problem: CoverageProblem,
    *,
    budget: float,
    method: str = "auto",
    time_limit_s: float | None = None,
    local_search: bool = True,
) -> CoverageResult:
    """Most demand weight covered (k_i times) with total cost <= ``budget`` (Church & ReVelle
    1974).  The heuristic path supports k = 1 only."""
    b = _check_budget(budget)
    how = _pick(problem, method)
    if how == "exact":
        s = C.solve_max_coverage_milp(problem.incidence, problem.cost, problem.weight,
                                      budget=b, k=problem.k, time_limit_s=time_limit_s)
    else:
        if np.any(problem.k != 1):
            raise ValueError("the max-coverage heuristic handles k = 1 only; use method='exact'")
        s = C.lazy_greedy_max_coverage(problem.incidence, problem.cost, problem.weight,
                                       budget=b, local_search=local_search)
    return _result(problem, s)


@dataclass(frozen=True)
class CoverageCurve:
    """Coverage against budget (``by="budget"``) or number of cameras (``by="cameras"``).

    Arrays have one entry per budget: ``covered_weight``, ``coverage`` (fraction of total
    weight), ``bound`` (upper bound on covered weight), ``optimal``, ``cost`` (what the chosen
    set costs), ``n_cameras``; ``chosen`` the candidate indices per point of the curve.
    """

    budgets: NDArray[np.float64]
    by: str
    covered_weight: NDArray[np.float64]
    coverage: NDArray[np.float64]
    bound: NDArray[np.float64]
    optimal: NDArray[np.bool_]
    cost: NDArray[np.float64]
    n_cameras: NDArray[np.int64]
    chosen: tuple[NDArray[np.int64], ...]
    methods: tuple[str, ...]
    time_s: NDArray[np.float64]


def coverage_curve(
    problem: CoverageProblem,
    *,
    budgets: ArrayLike | None = None,
    max_cameras: int | None = None,
    method: str = "auto",
    time_limit_s: float | None = 10.0,
) -> CoverageCurve:
    """Coverage achieved for each budget, or for 1..``max_cameras`` cameras (costs ignored).

    Exactly one of ``budgets`` and ``max_cameras`` must be given.  ``method="auto"`` solves
    each point exactly for small instances (rows x candidates <= EXACT_MAX_ENTRIES) and with
    the heuristic otherwise; ``time_limit_s`` caps each exact point (``optimal`` says which
    points were proven).
    """
    if (budgets is None) == (max_cameras is None):
        raise ValueError("give exactly one of budgets= and max_cameras=")
    if max_cameras is not None:
        if isinstance(max_cameras, bool) or not isinstance(max_cameras, (int, np.integer)) \
                or max_cameras < 1:
            raise ValueError(f"max_cameras must be an integer >= 1, got {max_cameras!r}")
        bs = np.arange(1, min(int(max_cameras), problem.n_candidates) + 1, dtype=np.float64)
        cost = np.ones(problem.n_candidates)
        by = "cameras"
    else:
        bs = np.asarray(budgets, dtype=np.float64).ravel()
        for b in bs:
            _check_budget(b)
        cost = problem.cost
        by = "budget"
    how = _pick(problem, method)
    cur = C.coverage_curve(
        problem.incidence, cost, problem.weight, budgets=bs, k=problem.k, method=how,
        time_limit_s=time_limit_s,
    )
    total = float(problem.weight.sum())
    return CoverageCurve(
        budgets=bs, by=by, covered_weight=cur.covered_weight,
        coverage=cur.covered_weight / total if total > 0 else np.ones_like(cur.covered_weight),
        bound=cur.bound, optimal=cur.optimal,
        cost=np.array([float(problem.cost[c].sum()) for c in cur.chosen]),
        n_cameras=np.array([c.size for c in cur.chosen], dtype=np.int64),
        chosen=cur.chosen, methods=cur.methods, time_s=cur.time_s,
    )
