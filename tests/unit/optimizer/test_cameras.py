"""Unit tests for optimizer.cameras and its cores (optimizer._coverage): tiny hand-checkable
instances, brute-force checks on small random ones, k = 2 redundancy, budgets, bad inputs."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from optimizer import _coverage as C
from optimizer.cameras import (
    CoverageProblem,
    OrlibFormatError,
    coverage_curve,
    max_coverage,
    min_cost_cover,
    read_orlib_scp,
)

# 3 points x 3 candidates: cand0 sees {0,1} (3), cand1 sees {1,2} (3), cand2 sees all (5)
A3 = np.array([[1, 0, 1], [1, 1, 1], [0, 1, 1]])
COST3 = np.array([3.0, 3.0, 5.0])


def _brute_cover(a: np.ndarray, cost: np.ndarray, k: np.ndarray) -> float:
    n = a.shape[1]
    best = np.inf
    for mask in itertools.product([0, 1], repeat=n):
        x = np.array(mask, dtype=bool)
        if np.all(a[:, x].sum(axis=1) >= k):
            best = min(best, cost[x].sum())
    return best


def _brute_maxcov(a: np.ndarray, cost: np.ndarray, w: np.ndarray, budget: float, k: np.ndarray) -> float:
    n = a.shape[1]
    best = 0.0
    for mask in itertools.product([0, 1], repeat=n):
        x = np.array(mask, dtype=bool)
        if cost[x].sum() <= budget + 1e-9:
            best = max(best, w[a[:, x].sum(axis=1) >= k].sum())
    return best


def _random(seed: int, m: int = 14, n: int = 10, dens: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = (rng.random((m, n)) < dens).astype(int)
    for i in range(m):  # every point seen by at least 2 candidates
        while a[i].sum() < 2:
            a[i, rng.integers(n)] = 1
    return a, rng.integers(1, 20, n).astype(float)


def test_tiny_cover_exact_and_heuristic() -> None:
    pb = CoverageProblem(incidence=A3, cost=COST3, candidate_ids=["a", "b", "c"])
    ex = min_cost_cover(pb, method="exact")
    assert ex.chosen.tolist() == [2] and ex.chosen_ids == ("c",)
    assert ex.cost == 5.0 and ex.optimal and ex.coverage == 1.0 and ex.gap == 0.0
    greedy = min_cost_cover(pb, method="heuristic", local_search=False)
    assert greedy.cost == 6.0  # Chvatal picks a then b (ratio 1.5 < 5/3)
    local = min_cost_cover(pb, method="heuristic")
    assert local.cost == 5.0 and local.method == "greedy+local"  # the 2-for-1 swap finds c
    assert local.bound <= 5.0 + 1e-9 and local.optimal is False


def test_k2_redundancy_needs_all_three() -> None:
    pb = CoverageProblem(incidence=A3, cost=COST3, k=2)
    for method in ("exact", "heuristic"):
        r = min_cost_cover(pb, method=method)
        assert r.chosen.tolist() == [0, 1, 2] and r.cost == 11.0


def test_per_row_k() -> None:
    pb = CoverageProblem(incidence=A3, cost=COST3, k=np.array([1, 3, 1]))
    assert min_cost_cover(pb, method="exact").cost == 11.0  # point 1 needs all three
    pb = CoverageProblem(incidence=A3, cost=COST3, k=np.array([0, 2, 0]))
    assert min_cost_cover(pb, method="exact").cost == 6.0  # two cheapest seeing point 1


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("k", [1, 2])
def test_cover_matches_brute_force(seed: int, k: int) -> None:
    a, cost = _random(seed)
    best = _brute_cover(a, cost, np.full(a.shape[0], k))
    pb = CoverageProblem(incidence=sp.csr_matrix(a), cost=cost, k=k)
    ex = min_cost_cover(pb, method="exact")
    assert ex.optimal and ex.cost == pytest.approx(best)
    assert np.all(a[:, ex.chosen].sum(axis=1) >= k)
    h = min_cost_cover(pb, method="heuristic")
    assert np.all(a[:, h.chosen].sum(axis=1) >= k)  # feasible
    assert h.cost >= best - 1e-9 and h.bound <= best + 1e-9  # LP bound is a lower bound
    assert h.gap == pytest.approx((h.cost - h.bound) / h.cost)


def test_max_coverage_budget_tiny() -> None:
    pb = CoverageProblem(incidence=A3, cost=COST3, weight=[1.0, 1.0, 10.0])
    assert max_coverage(pb, budget=2.0, method="exact").covered_weight == 0.0
    r = max_coverage(pb, budget=3.0, method="exact")
    assert r.chosen.tolist() == [1] and r.covered_weight == 11.0 and r.cost <= 3.0
    r = max_coverage(pb, budget=5.0, method="exact")
    assert r.chosen.tolist() == [2] and r.covered_weight == 12.0 and r.coverage == 1.0
    h = max_coverage(pb, budget=3.0, method="heuristic")
    assert h.chosen.tolist() == [1] and h.covered_weight == 11.0


@pytest.mark.parametrize("seed", range(6))
def test_max_coverage_matches_brute_force(seed: int) -> None:
    a, cost = _random(seed + 10)
    w = np.random.default_rng(seed).integers(1, 9, a.shape[0]).astype(float)
    budget = float(cost.sum() / 3)
    best = _brute_maxcov(a, cost, w, budget, np.ones(a.shape[0]))
    pb = CoverageProblem(incidence=a, cost=cost, weight=w)
    ex = max_coverage(pb, budget=budget, method="exact")
    assert ex.optimal and ex.covered_weight == pytest.approx(best) and ex.cost <= budget + 1e-9
    h = max_coverage(pb, budget=budget, method="heuristic")
    assert h.cost <= budget + 1e-9 and h.covered_weight <= best + 1e-9
    assert h.bound >= best - 1e-9  # LP bound is an upper bound
    # k = 2: a point counts only when seen twice
    best2 = _brute_maxcov(a, cost, w, budget, np.full(a.shape[0], 2))
    ex2 = max_coverage(CoverageProblem(incidence=a, cost=cost, weight=w, k=2), budget=budget,
                       method="exact")
    assert ex2.covered_weight == pytest.approx(best2)


def test_coverage_curve_cameras_and_budget() -> None:
    a, cost = _random(3, m=30, n=12)
    pb = CoverageProblem(incidence=a, cost=cost)
    cur = coverage_curve(pb, max_cameras=12)
    assert cur.by == "cameras" and cur.budgets.tolist() == list(range(1, 13))
    assert np.all(np.diff(cur.covered_weight) >= -1e-9) and cur.optimal.all()
    assert np.all(cur.n_cameras <= cur.budgets)
    n_min = min_cost_cover(CoverageProblem(incidence=a, cost=np.ones(12)), method="exact").cost
    assert cur.coverage[int(n_min) - 1] == 1.0 and cur.coverage[int(n_min) - 2] < 1.0
    h = coverage_curve(pb, budgets=[10, 20, 40], method="heuristic")
    e = coverage_curve(pb, budgets=[10, 20, 40], method="exact")
    assert np.all(h.covered_weight <= e.covered_weight + 1e-9)
    assert np.all(h.cost <= h.budgets + 1e-9) and np.all(e.cost <= e.budgets + 1e-9)


def test_lazy_greedy_equals_plain_greedy() -> None:
    """Lazy evaluation must pick exactly what the eager Chvatal rule picks."""
    rng = np.random.default_rng(7)
    a = (rng.random((60, 40)) < 0.1).astype(int)
    a[np.arange(60), rng.integers(0, 40, 60)] = 1
    cost = rng.integers(1, 50, 40).astype(float)
    lazy = C.lazy_greedy_cover(a, cost, local_search=False, with_lp_bound=False).x
    need = np.ones(60, dtype=bool)
    chosen = np.zeros(40, dtype=bool)
    while need.any():
        gain = (a[need] > 0).sum(axis=0).astype(float)
        ratio = np.where(gain > 0, cost / np.maximum(gain, 1), np.inf)
        ratio[chosen] = np.inf
        j = int(np.argmin(ratio))
        chosen[j] = True
        need &= a[:, j] == 0
    assert cost[lazy].sum() == cost[chosen].sum()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"incidence": np.ones(3)}, "2-D"),
        ({"incidence": A3, "cost": [1.0, 2.0]}, "one entry per candidate"),
        ({"incidence": A3, "cost": [1.0, -2.0, 1.0]}, "cost of candidate 1"),
        ({"incidence": A3, "cost": [1.0, np.nan, 1.0]}, "cost of candidate 1"),
        ({"incidence": A3, "weight": [1.0, 1.0, -1.0]}, "weight of point 2"),
        ({"incidence": A3, "k": 4}, "covered k=4"),
        ({"incidence": A3, "k": [1, 1]}, "one entry per point"),
        ({"incidence": A3, "k": -1}, "expected >= 0"),
        ({"incidence": A3, "k": 1.5}, "integer"),
        ({"incidence": A3, "candidate_ids": ["a"]}, "candidate_ids has 1 names"),
        ({"incidence": np.zeros((0, 3))}, "at least one row"),
    ],
)
def test_bad_problem(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CoverageProblem(**kwargs)


def test_uncoverable_point_named() -> None:
    a = np.array([[1, 0], [0, 0], [0, 1]])
    with pytest.raises(ValueError, match=r"point 1 \('gate-N'\) is seen by 0 candidate"):
        CoverageProblem(incidence=a, demand_ids=["p0", "gate-N", "p2"])
    pb = CoverageProblem(incidence=a, allow_uncoverable=True)
    assert max_coverage(pb, budget=2, method="exact").coverage == pytest.approx(2 / 3)
    assert max_coverage(pb, budget=2, method="heuristic").coverage == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="point 1 cannot be covered"):
        min_cost_cover(pb)


def test_bad_options() -> None:
    pb = CoverageProblem(incidence=A3, cost=COST3)
    with pytest.raises(ValueError, match="method"):
        min_cost_cover(pb, method="fast")
    with pytest.raises(ValueError, match="budget"):
        max_coverage(pb, budget=-1.0)
    with pytest.raises(ValueError, match="exactly one"):
        coverage_curve(pb)
    with pytest.raises(ValueError, match="max_cameras"):
        coverage_curve(pb, max_cameras=0)
    with pytest.raises(ValueError, match="k = 1 only"):
        max_coverage(CoverageProblem(incidence=A3, k=2), budget=3, method="heuristic")
    with pytest.raises(TypeError):
        min_cost_cover(pb, "exact")  # type: ignore[misc]


def test_read_orlib_scp(tmp_path: Path) -> None:
    f = tmp_path / "tiny.txt"
    f.write_text(" 3 3\n 3 3 5\n 2 1 3\n 3 1 2\n 3\n 2 2 3\n")
    inst = read_orlib_scp(f)
    assert inst.name == "tiny" and inst.cost.tolist() == [3.0, 3.0, 5.0]
    assert inst.incidence.toarray().tolist() == A3.tolist()
    assert min_cost_cover(CoverageProblem.from_orlib(inst)).cost == 5.0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (" 3 3\n 3 3 5\n 2 1 3\n 3 1 2\n", "file ends early; expected a column index of row 2"),
        (" 3 3\n 3 x 5\n", r"line 2: the cost of column 2 must be a number, got 'x'"),
        (" 3 3\n 3 3 5\n 2 1 4\n", r"line 3: a column index of row 1 must be in 1..3, got 4"),
        (" 3 3\n 3 3 -5\n", r"line 2: the cost of column 3 must be a finite number >= 0"),
        (" 1 1\n 1\n 1 1\n 7\n", r"line 4: unexpected extra data '7'"),
    ],
)
def test_read_orlib_scp_bad(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(OrlibFormatError, match=message):
        read_orlib_scp(f)
    with pytest.raises(OrlibFormatError, match="not found"):
        read_orlib_scp(tmp_path / "missing.txt")
