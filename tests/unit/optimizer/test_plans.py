"""Evacuation plans by simulation in the loop: never worse than nearest-exit, capacities kept,
deterministic, bad plans refused."""

from __future__ import annotations

import numpy as np
import pytest

from agents.population import synthesize_households
from geometry.sample import sample_community
from optimizer.plans import COARSE_CROWD, PlanError, PlanProblem, evaluate_plan, optimise_plan

pytest.importorskip("optuna")


@pytest.fixture(scope="module")
def site():  # type: ignore[no-untyped-def]
    return sample_community()


def _problem(site, bids=("B12", "B14"), **kw):  # type: ignore[no-untyped-def]
    units = [(u, b) for b in bids for L in range(site.building(b).storeys) for u in site.building(b).unit_ids(L)]
    pop = synthesize_households(units, rng=np.random.default_rng(3), hour=3.0)
    return PlanProblem(site, pop, **kw)


@pytest.fixture(scope="module")
def stair_problem(site):  # type: ignore[no-untyped-def]
    return _problem(site, group_by="stair")


def test_problem_groups_exits_and_capacities(site, stair_problem) -> None:  # type: ignore[no-untyped-def]
    p = stair_problem
    assert set(p.groups) == {f"B12-S{i}" for i in range(1, 5)} | {f"B14-S{i}" for i in range(1, 4)}
    # walk-up entrances are separate stairwells: each reaches only its own door
    assert p.exit_options["B12-S1"] == ("B12-E1",)
    assert sum(p.group_persons.values()) == p.population.total
    assert p.capacities["SQ1"] == 3080.0  # the site's own capacity
    whole = _problem(site)
    assert whole.exit_options["B12"] == ()  # no single door serves every flat of a walk-up
    gr2 = _problem(site, targets=["SQ1", "GR2"])  # no site capacity: area / 0.5 m² per person
    area = next(o for o in site.open_spaces if o.id == "GR2").polygon.area
    assert gr2.capacities["GR2"] == pytest.approx(int(area / 0.5), abs=1)


def test_bad_problems_and_plans_are_refused(site, stair_problem) -> None:  # type: ignore[no-untyped-def]
    p = stair_problem
    with pytest.raises(PlanError, match=r"plan\['B99'\]: no building or stair"):
        p.validate({"B99": (None, None)})
    with pytest.raises(PlanError, match=r"use their stair ids"):
        p.validate({"B12": (None, "SQ1")})
    with pytest.raises(PlanError, match=r"exit 'B12-E9' is no exit of building B12"):
        p.validate({"B12-S1": ("B12-E9", None)})
    with pytest.raises(PlanError, match=r"exit 'B12-E2' cannot be reached from all flats of B12-S1"):
        p.validate({"B12-S1": ("B12-E2", None)})
    with pytest.raises(PlanError, match=r"target 'NOWHERE' is not one of SQ1, GR1"):
        p.validate({"B12-S1": (None, "NOWHERE")})
    with pytest.raises(PlanError, match=r"expected \(exit id or None, target id or None\)"):
        p.validate({"B12-S1": "SQ1"})  # type: ignore[dict-item]
    with pytest.raises(PlanError, match=r"targets: 'XX' is no open space or gate"):
        _problem(site, targets=["SQ1", "XX"])
    with pytest.raises(PlanError, match=r"capacities\['SQ1'\]: expected persons > 0"):
        _problem(site, capacities={"SQ1": 0})
    with pytest.raises(PlanError, match="group_by"):
        _problem(site, group_by="flat")
    with pytest.raises(PlanError, match="model"):
        evaluate_plan(p, {}, model="agent")


def test_plan_routes_people_to_their_target(stair_problem) -> None:  # type: ignore[no-untyped-def]
    p = stair_problem
    for model in ("flow", "crowd"):
        ev = evaluate_plan(p, {k: (None, "GR1") for k in p.groups}, model=model, settings=COARSE_CROWD)
        assert ev.arrivals == {"SQ1": 0, "GR1": p.population.total}, model
        assert ev.feasible and ev.not_arrived < 0.5
        assert ev.estate["out100_s"] < ev.estate["arrival100_s"] < 3600
    # a split plan: B12's people to the square, B14's to the green
    plan = {k: (None, "SQ1" if k.startswith("B12") else "GR1") for k in p.groups}
    ev = evaluate_plan(p, plan, model="crowd", settings=COARSE_CROWD)
    n12 = sum(v for k, v in p.group_persons.items() if k.startswith("B12"))
    assert ev.arrivals == {"SQ1": n12, "GR1": p.population.total - n12}


def test_over_capacity_is_penalised(site) -> None:  # type: ignore[no-untyped-def]
    p = _problem(site, group_by="stair", capacities={"GR1": 50})
    ev = evaluate_plan(p, {k: (None, "GR1") for k in p.groups}, model="flow")
    assert ev.violations == {"GR1": pytest.approx(p.population.total - 50)}
    assert ev.objective_s == pytest.approx(ev.estate["arrival100_s"] + 60.0 * (p.population.total - 50))


def test_optimised_plan_never_worse_than_baseline_and_keeps_capacity(site) -> None:  # type: ignore[no-untyped-def]
    # the square holds only part of the residents: plans that send too many there are pruned
    p = _problem(site, group_by="stair", capacities={"SQ1": 150})
    r = optimise_plan(p, n_trials=12, seed=1, model="flow", recheck="crowd", recheck_top=1)
    assert r.n_trials == 12 and r.history[0]["plan"] == p.baseline()
    assert r.evaluation.objective_s <= r.baseline.objective_s
    assert r.recheck is not None and r.recheck_baseline is not None
    assert r.recheck.objective_s <= r.recheck_baseline.objective_s
    for row in r.history:
        if row["state"] == "complete":
            continue
        assert p.committed_load(row["plan"])["SQ1"] > 150
    assert p.committed_load(r.plan)["SQ1"] <= 150 and not r.evaluation.violations
    bests = [row["best_s"] for row in r.history]
    assert all(a >= b for a, b in zip(bests, bests[1:]))


def test_same_seed_same_search(site) -> None:  # type: ignore[no-untyped-def]
    a = optimise_plan(_problem(site, group_by="stair"), n_trials=6, seed=4, model="flow", recheck=None)
    b = optimise_plan(_problem(site, group_by="stair"), n_trials=6, seed=4, model="flow", recheck=None)
    assert [r["plan"] for r in a.history] == [r["plan"] for r in b.history]
    assert [r["objective_s"] for r in a.history] == [r["objective_s"] for r in b.history]
    # the crowd model restored from its snapshot gives the fresh run's numbers
    p = _problem(site, group_by="stair")
    plan = {k: (None, "SQ1") for k in p.groups}
    e1 = evaluate_plan(p, plan, model="crowd", settings=COARSE_CROWD, seed=2)
    evaluate_plan(p, p.baseline(), model="crowd", settings=COARSE_CROWD, seed=2)
    e2 = evaluate_plan(p, plan, model="crowd", settings=COARSE_CROWD, seed=2)
    assert e1.estate == e2.estate and e1.arrivals == e2.arrivals


def test_convergence_plot(site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from viz.plan_pictures import plot_plan_convergence

    r = optimise_plan(_problem(site, group_by="stair", capacities={"SQ1": 150}), n_trials=5, seed=0, model="flow",
                      recheck=None)
    out = plot_plan_convergence(r, path=tmp_path / "conv.png")
    assert out.stat().st_size > 5000
    with pytest.raises(ValueError, match=r"\.png"):
        plot_plan_convergence(r, path=tmp_path / "conv.svg")
