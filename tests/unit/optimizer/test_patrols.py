"""Unit tests of optimizer.patrols: bad input, graph expansion, optimality on brute-forceable
instances, decay over rounds, determinism, randomised schedules."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from optimizer.patrols import (
    PatrolInputError,
    plan_patrols,
    randomized_patrols,
    read_chao_top,
    solve_stackelberg,
)


def _grid(n: int = 6, step: float = 20.0) -> nx.Graph:
    g = nx.grid_2d_graph(n, n)
    for u, v in g.edges:
        g.edges[u, v]["length_m"] = step
    return g


def _brute_top(d: np.ndarray, prize: np.ndarray, start: int, end: int, k: int, tmax: float) -> float:
    """Exact TOP by enumeration (tiny instances only)."""
    targets = [i for i in range(len(prize)) if i not in (start, end)]
    best_len: dict[frozenset[int], float] = {}
    for r in range(len(targets) + 1):
        for sub in itertools.combinations(targets, r):
            best = math.inf
            for perm in itertools.permutations(sub):
                seq = (start, *perm, end)
                best = min(best, sum(d[a, b] for a, b in itertools.pairwise(seq)))
            best_len[frozenset(sub)] = best
    best_total = 0.0
    for assign in itertools.product(range(k + 1), repeat=len(targets)):
        groups = [frozenset(t for t, a in zip(targets, assign) if a == j + 1) for j in range(k)]
        if all(best_len[g] <= tmax + 1e-9 for g in groups):
            best_total = max(best_total, float(sum(prize[list(g)].sum() for g in groups)))
    return best_total


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force_optimum(seed: int) -> None:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, size=(8, 2))
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    prize = rng.integers(1, 20, size=8).astype(float)
    prize[[0, 7]] = 0
    tmax = 180.0
    exact = _brute_top(d, prize, 0, 7, 2, tmax)
    plan = plan_patrols(d, prizes=prize, start=0, end=7, n_patrols=2, shift_s=tmax, speed_m_s=1.0, seed=seed)
    assert plan.prize == pytest.approx(exact)
    assert all(t <= tmax + 1e-9 for t in plan.times_s)


def test_asymmetric_matrix_feasible_and_optimal() -> None:
    rng = np.random.default_rng(7)
    d = rng.uniform(10, 60, size=(7, 7))
    np.fill_diagonal(d, 0.0)
    prize = np.array([0, 5, 8, 3, 9, 4, 0], float)
    exact = _brute_top(d, prize, 0, 6, 1, 120.0)
    plan = plan_patrols(d, prizes=prize, start=0, end=6, n_patrols=1, shift_s=120.0, speed_m_s=1.0)
    route = plan.routes[0]
    assert sum(d[a, b] for a, b in itertools.pairwise(route)) <= 120.0 + 1e-9
    assert plan.prize == pytest.approx(exact)


def test_graph_paths_walk_the_graph_and_times_add_up() -> None:
    g = _grid()
    prizes = {(5, 5): 10.0, (0, 5): 4.0, (5, 0): 4.0, (2, 3): 1.0}
    # (5, 5) needs 2 x 200 m + 15 s = 415 s: out of reach in 400 s, reachable in 460 s
    short = plan_patrols(g, prizes=prizes, start=(0, 0), end=(0, 0), n_patrols=2, shift_s=400.0,
                         speed_m_s=1.0, service_s=15.0, seed=1)
    assert short.out_of_reach == [(5, 5)] and short.prize == pytest.approx(9.0)
    plan = plan_patrols(g, prizes=prizes, start=(0, 0), end=(0, 0), n_patrols=2, shift_s=460.0,
                        speed_m_s=1.0, service_s=15.0, seed=1)
    assert plan.prize == pytest.approx(19.0) and plan.out_of_reach == []
    for k, path in enumerate(plan.paths):
        assert path[0] == (0, 0) and path[-1] == (0, 0)
        assert all(g.has_edge(a, b) for a, b in itertools.pairwise(path))
        length = 20.0 * (len(path) - 1)
        assert length == pytest.approx(plan.lengths_m[k])
        n_stops = len(plan.routes[k]) - 2
        assert plan.times_s[k] == pytest.approx(length / 1.0 + 15.0 * n_stops)
        assert plan.times_s[k] <= 460.0
        # the stops appear in the walk in order
        it = iter(path)
        assert all(any(s == p for p in it) for s in plan.routes[k])
    # (5, 5) is 200 m away: arrival at 200 s at the earliest
    assert plan.visit_times_s[(5, 5)][0] >= 200.0 - 1e-9
    assert plan.visited == set(prizes)


def test_length_attribute_named_length_and_directed_graph() -> None:
    g = nx.DiGraph()
    g.add_edge("post", "a", length=50.0)
    g.add_edge("a", "b", length=50.0)
    g.add_edge("b", "post", length=50.0)
    g.add_edge("a", "post", length=50.0)
    plan = plan_patrols(g, prizes={"a": 1.0, "b": 2.0}, start="post", end="post", n_patrols=1, shift_s=150.0,
                        speed_m_s=1.0)
    assert plan.routes[0] == ["post", "a", "b", "post"]
    plan = plan_patrols(g, prizes={"a": 1.0, "b": 2.0}, start="post", end="post", n_patrols=1, shift_s=149.0,
                        speed_m_s=1.0)
    assert plan.routes[0] == ["post", "a", "post"] and plan.prize == 1.0


def test_same_seed_same_plan_and_seed_recorded() -> None:
    g = _grid(7)
    rng = np.random.default_rng(3)
    prizes = {v: float(rng.integers(1, 9)) for v in g.nodes if rng.random() < 0.4}
    kw = {"prizes": prizes, "start": (0, 0), "end": (6, 6), "n_patrols": 2, "shift_s": 300.0}
    a = plan_patrols(g, seed=11, **kw)
    b = plan_patrols(g, seed=11, **kw)
    assert a.routes == b.routes and a.prize == b.prize and a.seed == b.seed


def test_rounds_and_decay_value_repeat_visits() -> None:
    d = np.array([[0.0, 100.0], [100.0, 0.0]])
    kw = {"prizes": [0.0, 10.0], "start": 0, "end": 0, "n_patrols": 1, "shift_s": 600.0, "speed_m_s": 1.0, "rounds": 3}
    once = plan_patrols(d, **kw)  # no decay: a repeat visit is worth nothing
    assert once.visit_times_s[1] == [100.0]
    assert once.prize == pytest.approx(10.0)
    tau = 300.0
    plan = plan_patrols(d, decay_tau_s=tau, **kw)
    assert plan.visit_times_s[1] == pytest.approx([100.0, 300.0, 500.0])
    expected = 10.0 + 2 * 10.0 * (1.0 - math.exp(-200.0 / tau))
    assert plan.prize == pytest.approx(expected)
    assert len(plan.round_routes) == 3 and plan.routes[0] == [0, 1, 0, 1, 0, 1, 0]


def test_out_of_reach_targets_are_listed_not_visited() -> None:
    d = np.array([[0, 10, 500], [10, 0, 500], [500, 500, 0]], float)
    plan = plan_patrols(d, prizes=[0, 1, 5], start=0, end=0, n_patrols=1, shift_s=100, speed_m_s=1.0)
    assert plan.out_of_reach == [2] and plan.visited == {1}


# ---------------------------------------------------------------- bad input


def test_negative_prize_is_an_error() -> None:
    d = np.ones((3, 3)) - np.eye(3)
    with pytest.raises(PatrolInputError, match=r"prizes\[1\] = -2.0: expected a finite value >= 0"):
        plan_patrols(d, prizes=[0, -2, 1], start=0, end=0, n_patrols=1, shift_s=10)
    with pytest.raises(PatrolInputError, match=r"prizes\[\(1, 1\)\]"):
        plan_patrols(_grid(3), prizes={(1, 1): -1.0}, start=(0, 0), end=(0, 0), n_patrols=1, shift_s=100)


def test_unreachable_target_is_an_error() -> None:
    g = _grid(3)
    g.add_edge("island-a", "island-b", length_m=5.0)
    with pytest.raises(PatrolInputError, match=r"target 'island-a' .*cannot be reached from start=\(0, 0\)"):
        plan_patrols(g, prizes={"island-a": 3.0, (2, 2): 1.0}, start=(0, 0), end=(0, 0), n_patrols=1, shift_s=600)
    with pytest.raises(PatrolInputError, match="end='island-b' cannot be reached"):
        plan_patrols(g, prizes={(2, 2): 1.0}, start=(0, 0), end="island-b", n_patrols=1, shift_s=600)


def test_budget_too_small_to_leave_start() -> None:
    g = _grid(4)
    with pytest.raises(PatrolInputError, match=r"too short to walk from start=\(0, 0\) to end=\(3, 3\): that takes 100.0 s"):
        plan_patrols(g, prizes={(1, 1): 1.0}, start=(0, 0), end=(3, 3), n_patrols=1, shift_s=60, speed_m_s=1.2)
    with pytest.raises(PatrolInputError, match=r"too short to visit any target .*quickest visit takes 80.0 s"):
        plan_patrols(g, prizes={(1, 1): 1.0, (3, 3): 2.0}, start=(0, 0), end=(0, 0), n_patrols=1, shift_s=60,
                     speed_m_s=1.0)


def test_other_bad_arguments() -> None:
    g = _grid(3)
    with pytest.raises(PatrolInputError, match="start='gate' is not a node of the graph"):
        plan_patrols(g, prizes={}, start="gate", end=(0, 0), n_patrols=1, shift_s=60)
    with pytest.raises(PatrolInputError, match="rounds=2 needs start == end"):
        plan_patrols(g, prizes={}, start=(0, 0), end=(1, 1), n_patrols=1, shift_s=60, rounds=2)
    with pytest.raises(PatrolInputError, match=r"n_patrols=0.*\n.*shift_s=-1"):
        plan_patrols(g, prizes={}, start=(0, 0), end=(0, 0), n_patrols=0, shift_s=-1)
    with pytest.raises(PatrolInputError, match=r"prizes: node 'x' is not in the graph"):
        plan_patrols(g, prizes={"x": 1.0}, start=(0, 0), end=(0, 0), n_patrols=1, shift_s=60)
    bad = _grid(2)
    bad.edges[(0, 0), (0, 1)]["length_m"] = -3.0
    with pytest.raises(PatrolInputError, match=r"edge \(\(0, 0\), \(0, 1\)\): attribute 'length_m' must be a finite length >= 0 m"):
        plan_patrols(bad, prizes={(1, 1): 1.0}, start=(0, 0), end=(0, 0), n_patrols=1, shift_s=600)
    no_len = nx.path_graph(3)
    with pytest.raises(PatrolInputError, match="'length_m' or 'length'"):
        plan_patrols(no_len, prizes={2: 1.0}, start=0, end=0, n_patrols=1, shift_s=600)
    with pytest.raises(PatrolInputError, match=r"square \(n, n\)"):
        plan_patrols(np.zeros((2, 3)), prizes=[0, 1], start=0, end=0, n_patrols=1, shift_s=60)
    with pytest.raises(PatrolInputError, match=r"service_s\[1\] = -5.0"):
        plan_patrols(np.ones((2, 2)), prizes=[0, 1], start=0, end=0, n_patrols=1, shift_s=60, service_s=[0, -5])


def test_read_chao_top_errors_name_file_and_line(tmp_path: Path) -> None:
    ok = tmp_path / "ok.txt"
    ok.write_text("n 3\nm 1\ntmax 5.0\n0 0 0\n1 0 4\n2 0 0\n")
    inst = read_chao_top(ok)
    assert inst.n_routes == 1 and inst.tmax == 5.0 and inst.prizes.tolist() == [0, 4, 0]
    bad = tmp_path / "bad.txt"
    bad.write_text("n;3\nm;1\ntmax;5.0\n0;0;0\n1;x;4\n2;0;0\n")
    with pytest.raises(PatrolInputError, match=r"bad.txt: line 5: expected 'x y score'"):
        read_chao_top(bad)
    short = tmp_path / "short.txt"
    short.write_text("n 3\nm 1\ntmax 5.0\n0 0 0\n")
    with pytest.raises(PatrolInputError, match=r"short.txt: expected 3 node lines"):
        read_chao_top(short)
    head = tmp_path / "head.txt"
    head.write_text("n 3\nk 1\ntmax 5.0\n")
    with pytest.raises(PatrolInputError, match=r"head.txt: line 2: expected 'm <value>'"):
        read_chao_top(head)


def test_stackelberg_bad_utilities() -> None:
    with pytest.raises(PatrolInputError, match="target 1: attacker_covered 9.0 > attacker_uncovered 5.0"):
        solve_stackelberg(defender_covered=[0, 0], defender_uncovered=[-1, -1], attacker_covered=[0, 9],
                          attacker_uncovered=[1, 5], resources=1)
    with pytest.raises(PatrolInputError, match="defender_uncovered: expected one value per target"):
        solve_stackelberg(defender_covered=[0, 0], defender_uncovered=[-1], attacker_covered=[0, 0],
                          attacker_uncovered=[1, 5], resources=1)


def test_stackelberg_enough_resources_covers_all() -> None:
    sol = solve_stackelberg(defender_covered=[0, 0, 0], defender_uncovered=[-3, -2, -1],
                            attacker_covered=[0, 0, 0], attacker_uncovered=[3, 2, 1], resources=3)
    np.testing.assert_allclose(sol.coverage[sol.attacked], 1.0)
    assert sol.defender_utility == pytest.approx(0.0)


# ---------------------------------------------------------------- randomised schedules


def test_randomized_patrols_match_coverage_and_log_the_draw() -> None:
    g = _grid(5)
    targets = [(4, 4), (0, 4), (4, 0), (2, 2), (1, 3)]
    values = np.array([10.0, 6.0, 6.0, 3.0, 2.0])
    sol = solve_stackelberg(defender_covered=np.zeros(5), defender_uncovered=-values,
                            attacker_covered=np.zeros(5), attacker_uncovered=values, resources=2)
    cov = dict(zip(targets, sol.coverage))
    kw = {"coverage": cov, "start": (0, 0), "end": (0, 0), "n_patrols": 1, "shift_s": 400.0, "speed_m_s": 1.0,
              "n_shifts": 400}
    sch = randomized_patrols(g, seed=42, **kw)
    want = np.array([cov[t] for t in sch.targets])
    np.testing.assert_allclose(sch.coverage, want)
    assert sch.gap_l1 < 0.05
    np.testing.assert_allclose(sch.frequency, want, atol=0.05)
    assert sch.weights.sum() == pytest.approx(1.0) and (sch.weights >= 0).all()
    # 400 draws: realised frequencies within ~4 standard errors
    assert np.abs(sch.realised - sch.frequency).max() < 4 * math.sqrt(0.25 / 400)
    assert sch.log[-1]["draws"] == sch.draws.tolist()
    for p in sch.plans:
        assert all(t <= 400.0 + 1e-9 for t in p.times_s)
    assert sch.shift_plan(0) is sch.plans[sch.draws[0]]
    again = randomized_patrols(g, seed=42, **kw)
    assert np.array_equal(again.draws, sch.draws)
    other = randomized_patrols(g, seed=43, **kw)
    assert not np.array_equal(other.draws, sch.draws)


def test_randomized_patrols_bad_coverage() -> None:
    with pytest.raises(PatrolInputError, match=r"coverage\[\(1, 1\)\] = 1.5: expected a probability"):
        randomized_patrols(_grid(3), coverage={(1, 1): 1.5}, start=(0, 0), end=(0, 0), n_patrols=1,
                           shift_s=300, n_shifts=3)
