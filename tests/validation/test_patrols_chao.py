"""Validation of the TOP solver against the best known totals of Chao, Golden & Wasil (1996)
instances (best known values as listed in shared/data/benchmarks/chao_top/best_known.txt, e.g.
Vansteenwegen et al. 2009; Ke et al. 2008): p3.2.f (300), p4.2.a (206), p4.2.j (962). Each
must come within 2 % with a fixed seed; routes are checked for feasibility from the coordinates.
Also the Stackelberg LP against a hand-solved game. Measured values and times are printed
(``pytest -s``)."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import numpy as np
import pytest

from optimizer.patrols import plan_patrols, read_chao_top, solve_stackelberg

DATA = Path("/work/shared/data/benchmarks/chao_top")
BEST = {ln.split()[0]: float(ln.split()[1]) for ln in (DATA / "best_known.txt").read_text().splitlines() if ln.strip()}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["p3.2.f.txt", "p4.2.a.txt", "p4.2.j.txt"])
def test_chao_within_two_percent(name: str) -> None:
    inst = read_chao_top(DATA / name)
    n = inst.prizes.shape[0]
    t0 = time.perf_counter()
    plan = plan_patrols(inst.distance, prizes=inst.prizes, start=0, end=n - 1, n_patrols=inst.n_routes,
                        shift_s=inst.tmax, speed_m_s=1.0, seed=0, restarts=10, iterations=200)
    dt = time.perf_counter() - t0
    best = BEST[name]
    gap = 100.0 * (best - plan.prize) / best
    print(f"\n{name}: best known {best:.0f}, ours {plan.prize:.0f}, gap {gap:.2f} %, {dt:.2f} s")
    assert gap <= 2.0
    # feasibility from the coordinates, not from the solver's own bookkeeping
    d = inst.distance
    seen: set[int] = set()
    total = 0.0
    for k, route in enumerate(plan.routes):
        assert route[0] == 0 and route[-1] == n - 1
        length = sum(d[a, b] for a, b in itertools.pairwise(route))
        assert length <= inst.tmax + 1e-9
        assert length == pytest.approx(plan.lengths_m[k])
        inner = route[1:-1]
        assert len(set(inner)) == len(inner) and not (seen & set(inner))
        assert 0 not in inner and n - 1 not in inner
        seen |= set(inner)
        total += float(inst.prizes[inner].sum())
    assert total == pytest.approx(plan.prize)
    assert len(plan.routes) == inst.n_routes


def test_stackelberg_two_targets_hand_solved() -> None:
    """Zero-sum, 2 targets, 1 resource: attacker values 10 and 5 if uncovered, 0 if covered. At
    the equilibrium the attacker is indifferent: 10 (1 - c1) = 5 (1 - c2), c1 + c2 = 1, so
    c = (2/3, 1/3), attacker utility 10/3, defender -10/3."""
    sol = solve_stackelberg(defender_covered=[0, 0], defender_uncovered=[-10, -5], attacker_covered=[0, 0],
                            attacker_uncovered=[10, 5], resources=1)
    np.testing.assert_allclose(sol.coverage, [2 / 3, 1 / 3], atol=1e-7)
    assert sol.attacker_utility == pytest.approx(10 / 3)
    assert sol.defender_utility == pytest.approx(-10 / 3)


def test_stackelberg_general_sum_hand_solved() -> None:
    """General sum, 2 targets, 1 resource. Attacker: 4 - 5 c0 at target 0, 2 - 4 c1 at target 1;
    defender: -8 + 9 c0 at 0, -(1 - c1) at 1. Attack on 1 needs 4 - 5 c0 <= 2 - 4 c1; with
    c0 = 1 - c1 that is c1 <= 1/3, so c = (2/3, 1/3) and the defender gets -2/3. Attack on 0 needs
    c0 <= 2/3 and gives at best -8 + 6 = -2. Equilibrium: c = (2/3, 1/3), attack on 1, Ud = -2/3,
    Ua = 2/3."""
    sol = solve_stackelberg(defender_covered=[1, 0], defender_uncovered=[-8, -1], attacker_covered=[-1, -2],
                            attacker_uncovered=[4, 2], resources=1)
    np.testing.assert_allclose(sol.coverage, [2 / 3, 1 / 3], atol=1e-7)
    assert sol.attacked == 1
    assert sol.defender_utility == pytest.approx(-2 / 3)
    assert sol.attacker_utility == pytest.approx(2 - 4 / 3)
