"""Evacuation plans: which building exit and which assembly point each building (or each
walk-up stair) uses, chosen to minimise the estate's RSET — simulation in the loop.

A *plan* maps a group key — a building id (``B12``) or, with ``group_by="stair"``, the stair of
a walk-up entrance (``B12-S1``; corridor buildings stay whole) — to ``(exit id | None, target id
| None)``: ``None`` leaves the choice to each person (nearest exit, nearest target), which is
also the *baseline* (nearest-exit) plan. A group's exit options are the exits of its building
that every one of its flats reaches inside the building (on the navigation graph), so walk-up
entrances, which are separate stairwells, cannot be sent to another entrance's door.

Objective: the estate's RSET, the time (s from the alarm) the last person (``arrival100_s``,
or 95 %: ``arrival95_s``) reaches a target, plus a penalty of :data:`PENALTY_S_PER_PERSON` for
each person beyond a target's capacity and for each person not arrived within ``until_s``.
Capacities are persons: the open space's own ``capacity`` when set, else its area at
:data:`M2_PER_PERSON` = 0.5 m² per standing person (the sample estate's documented default,
Fruin's queuing level of service D, 0.28-0.65 m²/p: J.J. Fruin, *Pedestrian Planning and
Design*, 1971); gates are unlimited (people leave the estate). A trial whose fixed assignments
alone exceed a capacity is pruned before it is simulated.

Models (``model=``):

* ``"crowd"`` — the microscopic :class:`agents.crowd_evacuation.CrowdEvacuation`; the plan is
  applied with :meth:`~agents.crowd_evacuation.CrowdEvacuation.assign_route`. The population,
  people and their start spots are built once per seed and restored from a snapshot for every
  plan (common random numbers: plans differ only in their routes).
* ``"flow"`` — the SFPE hydraulic network model :class:`agents.flow_evacuation.FlowEvacuation`
  on a plan graph: each group gets its own copy of its building's circulation with only its
  exit (or all, for ``None``), and each target its own copy of the estate's ways. Exact for one
  group per building and for separate walk-up stairwells; groups heading to different targets
  do not share way capacity outdoors (coarse, like the flow model itself). Per-building
  arrival times are not tracked (NaN); out-of-building times are.

Search: Optuna's TPE sampler (Bergstra et al. 2011, "Algorithms for hyper-parameter
optimization", NeurIPS; Optuna: Akiba et al. 2019, KDD), seeded, one categorical exit and
target choice per group; the baseline plan is enqueued as trial 0, so the best plan found is
never worse than the baseline under the loop model. ``recheck`` re-evaluates the baseline and
the best ``recheck_top`` distinct plans with the (finer) crowd model and keeps the best of
those — again never worse than the baseline under that model.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import networkx as nx
import numpy as np

from agents.crowd_evacuation import CrowdEvacuation, CrowdEvacuationSettings
from agents.flow_evacuation import FlowEvacuation
from agents.population import HouseholdPopulation
from geometry.navgraph import build_nav_graph
from geometry.site import Site

__all__ = [
    "COARSE_CROWD",
    "M2_PER_PERSON",
    "PENALTY_S_PER_PERSON",
    "Plan",
    "PlanEvaluation",
    "PlanError",
    "PlanProblem",
    "PlanResult",
    "evaluate_plan",
    "optimise_plan",
]

#: Standing space per person at an assembly point (m²/person) when the site gives no capacity.
M2_PER_PERSON = 0.5
#: Penalty (s of RSET) per person over a target's capacity or not arrived by ``until_s``.
PENALTY_S_PER_PERSON = 60.0
#: Crowd settings for the search loop: coarser step and estate grid, no position traces.
COARSE_CROWD = CrowdEvacuationSettings(dt=0.1, outdoor_cell_m=1.0, trace_every_s=0.0)
#: Crowd settings for the final evaluations (the model's defaults, no traces).
FINE_CROWD = CrowdEvacuationSettings(trace_every_s=0.0)
NEAREST = "(nearest)"
OBJECTIVES = ("arrival100_s", "arrival95_s")

Plan = dict[str, tuple[str | None, str | None]]


class PlanError(ValueError):
    """A bad plan problem or plan: the message names the key, the field and what was expected."""


class PlanProblem:
    """What an evacuation plan is chosen for: ``population`` (households at home; its
    buildings are the scope) on ``site``, the ``targets`` (assembly-point or gate ids; default
    the site's assembly points), groups by ``group_by`` ('building' or 'stair'), target
    ``capacities`` in persons (defaults: module docstring; overrides per target id)."""

    def __init__(
        self,
        site: Site,
        population: HouseholdPopulation,
        *,
        targets: list[str] | None = None,
        group_by: str = "building",
        capacities: Mapping[str, float] | None = None,
        m2_per_person: float = M2_PER_PERSON,
        graph: nx.Graph | None = None,
    ) -> None:
        problems: list[str] = []
        if group_by not in ("building", "stair"):
            problems.append(f"group_by: expected 'building' or 'stair', got {group_by!r}")
        if not (isinstance(m2_per_person, (int, float)) and m2_per_person > 0):
            problems.append(f"m2_per_person: expected a number > 0, got {m2_per_person!r}")
        if population.total <= 0:
            problems.append("population: nobody at home (no occupants)")
        spaces = {o.id: o for o in site.open_spaces}
        gates = {g.id for g in site.gates}
        tg = list(targets) if targets is not None else [o.id for o in site.assembly_points]
        if not tg:
            problems.append("targets: none given and the site has no assembly point")
        for t in tg:
            if t not in spaces and t not in gates:
                problems.append(f"targets: {t!r} is no open space or gate of the site; known: "
                                f"{', '.join(sorted(spaces) + sorted(gates))}")
        if len(set(tg)) != len(tg):
            problems.append(f"targets: duplicates in {tg}")
        known_b = {b.id for b in site.buildings}
        scope = sorted(set(population.buildings))
        for b in scope:
            if b not in known_b:
                problems.append(f"population: building {b!r} is not on the site")
        if problems:
            raise PlanError("; ".join(problems))
        self.site = site
        self.population = population
        self.targets: tuple[str, ...] = tuple(tg)
        self.buildings: tuple[str, ...] = tuple(scope)
        self.group_by = group_by
        cap: dict[str, float] = {}
        for t in tg:
            if t in spaces:
                o = spaces[t]
                cap[t] = float(o.capacity) if o.capacity > 0 else math.floor(o.polygon.area / m2_per_person)
            else:
                cap[t] = math.inf
        for t, c in (capacities or {}).items():
            if t not in cap:
                raise PlanError(f"capacities: {t!r} is not one of the targets {list(tg)}")
            if not (isinstance(c, (int, float)) and c > 0):
                raise PlanError(f"capacities[{t!r}]: expected persons > 0, got {c!r}")
            cap[t] = float(c)
        self.capacities = cap
        self.graph = graph if graph is not None else build_nav_graph(site)
        g = self.graph
        missing = [u for u in population.unit_ids if u not in g]
        if missing:
            raise PlanError(f"population: {len(missing)} dwelling units are not on the site's navigation graph, "
                            f"e.g. {missing[:3]}")
        # groups: key -> unit indices of the population
        groups: dict[str, list[int]] = {}
        gb: dict[str, str] = {}
        for k, (u, b) in enumerate(zip(population.unit_ids, population.buildings)):
            st = g.nodes[u].get("stair") if group_by == "stair" else None
            key = str(st) if st else b
            groups.setdefault(key, []).append(k)
            gb[key] = b
        self.groups: dict[str, np.ndarray] = {k: np.asarray(v, dtype=np.int64) for k, v in sorted(groups.items())}
        self.group_building = gb
        self.group_persons = {k: int(population.occupants[v].sum()) for k, v in self.groups.items()}
        # exit options: the building's exits every flat of the group reaches inside the building
        self.exits: dict[str, tuple[str, ...]] = {b: tuple(e.id for e in site.building(b).exits) for b in scope}
        self.exit_options: dict[str, tuple[str, ...]] = {}
        for b in scope:
            inside = g.subgraph([v for v, d in g.nodes(data=True) if d.get("building") == b])
            comp = {e: nx.node_connected_component(inside, e) for e in self.exits[b] if e in inside}
            for key, idx in self.groups.items():
                if gb[key] != b:
                    continue
                units = {population.unit_ids[i] for i in idx}
                self.exit_options[key] = tuple(e for e, c in comp.items() if units <= c)
        self._crowd_cache: dict[Any, tuple[CrowdEvacuation, dict[str, Any]]] = {}

    def baseline(self) -> Plan:
        """The nearest-exit plan: every person takes their nearest exit and nearest target."""
        return {k: (None, None) for k in self.groups}

    def validate(self, plan: Mapping[str, tuple[str | None, str | None]]) -> Plan:
        """``plan`` checked and completed (groups it leaves out get ``(None, None)``); raises
        :class:`PlanError` naming every bad key, exit or target."""
        problems: list[str] = []
        out = self.baseline()
        for key, val in plan.items():
            if key not in self.groups:
                hint = ""
                if self.group_by == "stair" and key in self.buildings:
                    hint = " (this problem groups walk-ups by stair: use their stair ids)"
                problems.append(f"plan[{key!r}]: no building or stair of this problem{hint}; known: "
                                f"{', '.join(self.groups)}")
                continue
            if not (isinstance(val, (tuple, list)) and len(val) == 2):
                problems.append(f"plan[{key!r}]: expected (exit id or None, target id or None), got {val!r}")
                continue
            e, t = val
            b = self.group_building[key]
            if e is not None and e not in self.exits[b]:
                problems.append(f"plan[{key!r}]: exit {e!r} is no exit of building {b}; known: {', '.join(self.exits[b])}")
            elif e is not None and e not in self.exit_options[key]:
                problems.append(f"plan[{key!r}]: exit {e!r} cannot be reached from all flats of {key} inside the "
                                f"building; reachable: {', '.join(self.exit_options[key]) or 'none (use None)'}")
            if t is not None and t not in self.targets:
                problems.append(f"plan[{key!r}]: target {t!r} is not one of {', '.join(self.targets)}")
            out[key] = (e, t)
        if problems:
            raise PlanError("; ".join(problems))
        return out

    def committed_load(self, plan: Plan) -> dict[str, int]:
        """Persons each target receives from the groups the plan sends there explicitly."""
        load = {t: 0 for t in self.targets}
        for key, (_, t) in plan.items():
            if t is not None:
                load[t] += self.group_persons[key]
        return load


@dataclass
class PlanEvaluation:
    """One simulated plan: ``objective_s`` (penalised), ``estate`` times (s: ``out95_s``,
    ``out100_s`` out of the buildings, ``arrival95_s``, ``arrival100_s`` at targets; ``inf``
    when somebody never made it), ``buildings`` (per building ``out100_s`` and
    ``arrival100_s``, NaN where the model does not track it), ``arrivals`` per target,
    ``violations`` (persons over capacity per target), ``not_arrived`` persons, ``wall_s``."""

    model: str
    plan: Plan
    objective_s: float
    estate: dict[str, float]
    buildings: dict[str, dict[str, float]]
    arrivals: dict[str, int]
    violations: dict[str, float]
    not_arrived: float
    wall_s: float

    @property
    def feasible(self) -> bool:
        return not self.violations and self.not_arrived < 0.5


def _penalised(problem: PlanProblem, ev: PlanEvaluation, objective: str) -> float:
    v = ev.estate[objective]
    over = sum(ev.violations.values()) + ev.not_arrived
    return float(v if math.isfinite(v) else ev.estate.get("until_s", 0.0)) + PENALTY_S_PER_PERSON * over


def _violations(problem: PlanProblem, arrivals: Mapping[str, float]) -> dict[str, float]:
    return {t: float(a - problem.capacities[t]) for t, a in arrivals.items() if a > problem.capacities[t] + 1e-6}


def evaluate_plan(
    problem: PlanProblem,
    plan: Mapping[str, tuple[str | None, str | None]],
    *,
    model: str = "crowd",
    seed: int = 0,
    until_s: float = 3600.0,
    objective: str = "arrival100_s",
    settings: CrowdEvacuationSettings = FINE_CROWD,
    flow_dt_s: float = 1.0,
) -> PlanEvaluation:
    """Simulate ``plan`` (validated; see :meth:`PlanProblem.validate`) with ``model`` ('crowd'
    or 'flow') until everyone arrived or ``until_s``; ``seed`` draws the crowd's people (the
    flow model is deterministic). Returns the estate's and buildings' times, arrivals per
    target and capacity violations (module docstring)."""
    if model not in ("crowd", "flow"):
        raise PlanError(f"model: expected 'crowd' or 'flow', got {model!r}")
    if objective not in OBJECTIVES:
        raise PlanError(f"objective: expected one of {OBJECTIVES}, got {objective!r}")
    if not (isinstance(until_s, (int, float)) and until_s > 0 and math.isfinite(until_s)):
        raise PlanError(f"until_s: expected a finite time > 0 s, got {until_s!r}")
    full = problem.validate(plan)
    t0 = time.perf_counter()
    if model == "crowd":
        ev = _eval_crowd(problem, full, seed=seed, until_s=until_s, settings=settings)
    else:
        ev = _eval_flow(problem, full, until_s=until_s, dt_s=flow_dt_s)
    ev.wall_s = time.perf_counter() - t0
    ev.estate["until_s"] = float(until_s)
    ev.objective_s = _penalised(problem, ev, objective)
    return ev


def _q(v: np.ndarray, f: float) -> float:
    if v.size == 0:
        return float("nan")
    if np.isnan(v).mean() > 1 - f + 1e-12:
        return float("inf")
    return float(np.nanquantile(np.where(np.isnan(v), np.inf, v), f, method="higher"))


def _eval_crowd(problem: PlanProblem, plan: Plan, *, seed: int, until_s: float,
                settings: CrowdEvacuationSettings) -> PlanEvaluation:
    key = (int(seed), settings)
    if key not in problem._crowd_cache:
        ev0 = CrowdEvacuation(problem.site, problem.population, targets=list(problem.targets), rng=int(seed),
                              settings=settings)
        problem._crowd_cache[key] = (ev0, ev0.get_state())
    ev, st0 = problem._crowd_cache[key]
    ev.set_state(st0)
    unit_of_person = ev.person_unit
    for gkey, (e, t) in plan.items():
        units = [problem.population.unit_ids[i] for i in problem.groups[gkey]]
        who = np.flatnonzero(np.isin(unit_of_person, units))
        ev.assign_route(who, exit_id=e, target=t)
    ev.run(until_s)
    assert ev.outdoor is not None
    counts = ev.outdoor.exit_counts()
    arrivals = {t: int(counts.get(t, 0)) for t in problem.targets}
    estate = {"out95_s": _q(ev.t_building_out, 0.95), "out100_s": _q(ev.t_building_out, 1.0),
              "arrival95_s": _q(ev.t_arrived, 0.95), "arrival100_s": _q(ev.t_arrived, 1.0)}
    bld = {b: {"out100_s": _q(ev.t_building_out[idx], 1.0), "arrival100_s": _q(ev.t_arrived[idx], 1.0)}
           for b, idx in ev.members.items()}
    return PlanEvaluation("crowd", plan, math.nan, estate, bld, arrivals, _violations(problem, arrivals),
                          float(ev.remaining()), 0.0)


def _plan_graph(problem: PlanProblem, plan: Plan) -> tuple[nx.Graph, list[str], dict[str, str]]:
    """The flow model's plan graph (module docstring): returns it, its target nodes and the
    target id of each."""
    g = problem.graph
    h = nx.Graph()
    outdoor = [v for v, d in g.nodes(data=True) if d.get("building") is None]
    tags = sorted({t or "*" for _, t in plan.values()})
    tnodes: list[str] = []
    tof: dict[str, str] = {}
    for tag in tags:
        for v in outdoor:
            h.add_node(f"{v}@{tag}", **g.nodes[v])
        for u, v, d in g.subgraph(outdoor).edges(data=True):
            h.add_edge(f"{u}@{tag}", f"{v}@{tag}", **d)
        for t in (problem.targets if tag == "*" else [tag]):
            tnodes.append(f"{t}@{tag}")
            tof[f"{t}@{tag}"] = t
    unit_ids = problem.population.unit_ids
    for gkey, (e, t) in plan.items():
        b = problem.group_building[gkey]
        tag = t or "*"
        mine = {unit_ids[i] for i in problem.groups[gkey]}
        allowed = set(problem.exit_options[gkey]) if e is None else {e}
        if not allowed:  # None with no exit reachable from every flat: each flat its own
            allowed = set(problem.exits[b])
        inside = [v for v, d in g.nodes(data=True) if d.get("building") == b
                  and (d.get("kind") not in ("unit", "room") or v in mine)
                  and (d.get("kind") != "exit" or v in allowed)]

        def name(v: str) -> str:
            return v if v in mine else f"{v}#{gkey}"

        for v in inside:
            h.add_node(name(v), **g.nodes[v])
        for u, v, d in g.subgraph(inside).edges(data=True):
            h.add_edge(name(u), name(v), **d)
        for x in inside:
            if g.nodes[x].get("kind") != "exit":
                continue
            for y in g.neighbors(x):
                if g.nodes[y].get("building") is None:
                    h.add_edge(name(x), f"{y}@{tag}", **g.edges[x, y])
    return h, tnodes, tof


def _eval_flow(problem: PlanProblem, plan: Plan, *, until_s: float, dt_s: float) -> PlanEvaluation:
    from twin.core import Twin
    from twin.events import AgentsArrived, AgentsEvacuated, AlarmRaised

    h, tnodes, tof = _plan_graph(problem, plan)
    twin = Twin(None, dt=dt_s, seed=0, snapshot_every_s=None)
    comp = twin.add(FlowEvacuation(h, problem.population, targets=tnodes))
    arr_t: list[tuple[float, int]] = []
    out_t: dict[str, list[tuple[float, int]]] = {b: [] for b in problem.buildings}
    twin.bus.subscribe(lambda ev: arr_t.append((ev.t, ev.count)), types=(AgentsArrived,))
    twin.bus.subscribe(lambda ev: out_t[ev.building].append((ev.t, ev.count)), types=(AgentsEvacuated,))
    twin.schedule(AlarmRaised(t=0.0, level="estate"), at=0.0)
    twin.run(until=until_s)
    assert isinstance(comp, FlowEvacuation)
    total = problem.population.total
    per_b = problem.population.per_building()

    def times(rows: list[tuple[float, int]], n: int) -> tuple[float, float]:
        if not rows:
            return math.inf, math.inf
        t = np.array([r[0] for r in rows])
        c = np.cumsum([r[1] for r in rows])
        q95 = float(t[np.searchsorted(c, math.ceil(0.95 * n))]) if c[-1] >= math.ceil(0.95 * n) else math.inf
        return q95, (float(t[-1]) if c[-1] >= n else math.inf)

    a95, a100 = times(arr_t, total)
    all_out = sorted([r for rows in out_t.values() for r in rows])
    o95, o100 = times(all_out, total)
    arrivals: dict[str, int] = {t: 0 for t in problem.targets}
    for node in tnodes:
        arrivals[tof[node]] += int(math.floor(comp.arrived[comp.index[node]] + 1e-6))
    bld = {b: {"out100_s": times(out_t[b], per_b[b])[1], "arrival100_s": math.nan} for b in problem.buildings}
    return PlanEvaluation("flow", plan, math.nan, {"out95_s": o95, "out100_s": o100, "arrival95_s": a95,
                                                   "arrival100_s": a100}, bld, arrivals,
                          _violations(problem, arrivals), round(max(comp.remaining(), 0.0), 6), 0.0)


@dataclass
class PlanResult:
    """What :func:`optimise_plan` found: the ``plan`` and its ``evaluation`` and the
    ``baseline``'s under the loop ``model``; ``history`` (one row per trial: ``trial``,
    ``state`` 'complete'|'pruned', ``objective_s`` (NaN when pruned), ``best_s`` so far,
    ``plan``); with a recheck, the plan kept after re-evaluating (``recheck_plan``) and the
    rechecked ``recheck`` and ``recheck_baseline`` evaluations; ``wall_s`` in all."""

    model: str
    objective: str
    plan: Plan
    evaluation: PlanEvaluation
    baseline: PlanEvaluation
    history: list[dict[str, Any]]
    recheck_model: str | None = None
    recheck_plan: Plan | None = None
    recheck: PlanEvaluation | None = None
    recheck_baseline: PlanEvaluation | None = None
    recheck_all: list[PlanEvaluation] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def n_trials(self) -> int:
        return len(self.history)


def optimise_plan(
    problem: PlanProblem,
    *,
    n_trials: int = 30,
    seed: int = 0,
    model: str = "flow",
    objective: str = "arrival100_s",
    until_s: float = 3600.0,
    loop_settings: CrowdEvacuationSettings = COARSE_CROWD,
    recheck: str | None = "crowd",
    recheck_top: int = 3,
    recheck_settings: CrowdEvacuationSettings = FINE_CROWD,
) -> PlanResult:
    """Search exit and target per group with Optuna's seeded TPE sampler (module docstring),
    simulating each plan with ``model`` ('flow', or 'crowd' with ``loop_settings``); the
    baseline is trial 0. ``recheck`` ('crowd' or None): re-evaluate the baseline and the best
    ``recheck_top`` distinct feasible plans with that model (``recheck_settings``) and keep the
    best. Deterministic for a given ``seed``."""
    import optuna

    if not (isinstance(n_trials, int) and n_trials >= 1):
        raise PlanError(f"n_trials: expected an integer >= 1, got {n_trials!r}")
    if model not in ("crowd", "flow") or recheck not in (None, "crowd", "flow"):
        raise PlanError(f"model/recheck: expected 'crowd' or 'flow' (recheck also None), got {model!r}/{recheck!r}")
    if objective not in OBJECTIVES:
        raise PlanError(f"objective: expected one of {OBJECTIVES}, got {objective!r}")
    t_start = time.perf_counter()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    exit_choices = {k: [NEAREST, *problem.exit_options[k]] for k in problem.groups}
    target_choices = {k: [NEAREST, *problem.targets] for k in problem.groups}

    def plan_of(params: Mapping[str, str]) -> Plan:
        out: Plan = {}
        for k in problem.groups:
            e = params.get(f"exit:{k}", NEAREST)
            t = params.get(f"target:{k}", NEAREST)
            out[k] = (None if e == NEAREST else e, None if t == NEAREST else t)
        return out

    def run(plan: Plan, m: str, s: CrowdEvacuationSettings) -> PlanEvaluation:
        return evaluate_plan(problem, plan, model=m, seed=seed, until_s=until_s, objective=objective, settings=s)

    history: list[dict[str, Any]] = []
    evals: dict[int, PlanEvaluation] = {}

    def objective_fn(trial: optuna.Trial) -> float:
        params: dict[str, str] = {}
        for k in problem.groups:
            if len(exit_choices[k]) > 1:
                params[f"exit:{k}"] = trial.suggest_categorical(f"exit:{k}", exit_choices[k])
            params[f"target:{k}"] = trial.suggest_categorical(f"target:{k}", target_choices[k])
        plan = plan_of(params)
        load = problem.committed_load(plan)
        best = min((r["objective_s"] for r in history if r["state"] == "complete"), default=math.inf)
        if any(load[t] > problem.capacities[t] for t in load):
            history.append({"trial": trial.number, "state": "pruned", "objective_s": math.nan, "best_s": best,
                            "plan": plan})
            raise optuna.TrialPruned(f"capacity: committed load {load} over {problem.capacities}")
        ev = run(plan, model, loop_settings)
        evals[trial.number] = ev
        history.append({"trial": trial.number, "state": "complete", "objective_s": ev.objective_s,
                        "best_s": min(best, ev.objective_s), "plan": plan})
        return ev.objective_s

    sampler = optuna.samplers.TPESampler(seed=seed)
    study = optuna.create_study(direction="minimize", sampler=sampler)
    base_params: dict[str, Any] = {f"target:{k}": NEAREST for k in problem.groups}
    base_params.update({f"exit:{k}": NEAREST for k in problem.groups if len(exit_choices[k]) > 1})
    study.enqueue_trial(base_params)
    study.optimize(objective_fn, n_trials=n_trials)
    baseline = evals[0]
    done = sorted((r for r in history if r["state"] == "complete"), key=lambda r: (r["objective_s"], r["trial"]))
    best_row = done[0]
    res = PlanResult(model=model, objective=objective, plan=best_row["plan"], evaluation=evals[best_row["trial"]],
                     baseline=baseline, history=history)
    if recheck is not None:
        cands: list[Plan] = [problem.baseline()]
        for r in done:
            if len(cands) > recheck_top:
                break
            if r["plan"] not in cands and evals[r["trial"]].feasible:
                cands.append(r["plan"])
        rs = [run(p, recheck, recheck_settings) for p in cands]
        k = min(range(len(rs)), key=lambda i: (rs[i].objective_s, i))
        res.recheck_model = recheck
        res.recheck_all = rs
        res.recheck_baseline = rs[0]
        res.recheck_plan = cands[k]
        res.recheck = rs[k]
    res.wall_s = time.perf_counter() - t_start
    return res
