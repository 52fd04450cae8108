"""Patrol routes: team orienteering on the estate graph, and randomised patrol schedules from a
Stackelberg security game.

**Routes** (:func:`plan_patrols`). ``n_patrols`` patrols leave ``start`` and finish at ``end``
within ``shift_s`` seconds each; every target (a node with a prize > 0: a hot spot, a stairwell to
inspect, a perimeter corner) collects its prize when visited. Walking time is shortest-path
length (m) / ``speed_m_s`` (default 1.2 m/s, a patrol's walking pace); a visit also costs the
node's dwell ``service_s`` (start and end are not charged). This is the Team Orienteering
Problem (Chao, Golden & Wasil 1996, EJOR 88:464-474), solved by the iterated local search of
:mod:`optimizer._top_kernel` (Vansteenwegen et al. 2009, with their GLS moves): on Chao's
instances p3.2.f, p4.2.a and p4.2.j it reaches the best known totals 300, 206 and 962, or
within 1.4 % over ten seeds (``tests/validation/test_patrols_chao.py``).

Input is either a square distance matrix (m; ``inf`` = no way) whose indices are the nodes, or a
``networkx`` graph whose edges carry a length in m (attribute ``length_m`` as in
:mod:`geometry.navgraph`, or ``length``). Shortest paths among start, end and the targets are
computed with ``scipy.sparse.csgraph.dijkstra``; the routes are returned both as stop lists and
as walks on the original graph (``paths``).

**Decay and rounds.** The shift may be split into ``rounds`` equal rounds (start == end: a loop
from the guard post); each round is one TOP. A visit deters for a while: its deterrent effect
wears off as ``exp(-elapsed / decay_tau_s)``, so a repeat visit after ``elapsed`` seconds is worth
``prize * (1 - exp(-elapsed / decay_tau_s))`` (a first visit the full prize). Round r plans with
the values at the round's start time; the reported ``prize`` is evaluated at the actual arrival
times. ``decay_tau_s=None`` means a visit does not wear off within the shift (repeat visits are
worth nothing). With ``rounds=1`` this is plain single-visit TOP.

**Randomised schedules** (:func:`solve_stackelberg`, :func:`randomized_patrols`). A predictable
patrol can be avoided. The defender commits to per-target coverage probabilities ``c`` (sum <=
resources, 0 <= c <= 1), the attacker sees them and attacks the target best for him. The strong
Stackelberg equilibrium of this compact security game is found by the multiple-LPs method of
Conitzer & Sandholm (2006), "Computing the optimal strategy to commit to", ACM EC, in the
coverage form of Kiekintveld et al. (2009), "Computing optimal randomized resource allocation
strategies in security games", AAMAS (ERASER without scheduling constraints): for every target
t*, maximise the defender's utility at t* subject to t* being the attacker's best response; the
best of these LPs (scipy ``linprog``, HiGHS) is the equilibrium.

Patrol routes that realise the coverage: a set of candidate plans (TOPs whose prizes are drawn
from the coverage: target i is in the draw with probability c_i) is mixed by an LP that
minimises the L1 gap between the plans' visit frequencies and ``c``; column generation adds plans
whose prizes are the LP's positive duals (a TOP is the pricing problem; when no dual is positive
the new column is a shift without visits) while that lowers the gap. Each
shift then draws one plan from the mixture with a seeded generator; the draw (seed, plan ids) is
kept in :class:`PatrolSchedule` for audit.

Units: m, s, m/s. Randomness: ``seed`` (int or ``numpy.random.SeedSequence``) is recorded; the
same inputs and seed give the same plan.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from optimizer._top_kernel import solve_top

__all__ = [
    "PatrolInputError",
    "PatrolPlan",
    "PatrolSchedule",
    "StackelbergSolution",
    "TopInstance",
    "plan_patrols",
    "randomized_patrols",
    "read_chao_top",
    "solve_stackelberg",
    "solve_top_matrix",
]

DEFAULT_SPEED_M_S = 1.2


class PatrolInputError(ValueError):
    """Bad input to the patrol planner; ``problems`` lists each problem, naming the argument, the
    node or edge and what was expected."""

    def __init__(self, problems: Sequence[str] | str, *, source: str = "plan_patrols") -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        if len(self.problems) == 1:
            msg = f"{source}: {self.problems[0]}"
        else:
            msg = f"{source}: {len(self.problems)} problems:\n  - " + "\n  - ".join(self.problems)
        super().__init__(msg)


@dataclass(frozen=True)
class PatrolPlan:
    """Result of :func:`plan_patrols`. Node ids are those of the input (graph nodes or matrix
    indices).

    ``routes[k]``: patrol k's stops, start ... end (rounds concatenated, the post once between
    rounds); ``paths[k]``: the same walked on the graph (every node passed); ``round_routes[r][k]``:
    patrol k's stops in round r; ``lengths_m[k]``, ``times_s[k]`` (walking + dwell, s) over the
    shift; ``prize``: total value collected (decayed values for repeat visits);
    ``visit_times_s[node]``: arrival times (s from the shift start) of all visits, sorted;
    ``out_of_reach``: targets that no round's budget can visit; ``seed``: the entropy used."""

    routes: list[list[Hashable]]
    paths: list[list[Hashable]]
    round_routes: list[list[list[Hashable]]]
    lengths_m: np.ndarray
    times_s: np.ndarray
    prize: float
    visit_times_s: dict[Hashable, list[float]]
    out_of_reach: list[Hashable]
    shift_s: float
    rounds: int
    seed: int

    @property
    def visited(self) -> set[Hashable]:
        """Targets visited at least once."""
        return set(self.visit_times_s)


@dataclass(frozen=True)
class StackelbergSolution:
    """Strong Stackelberg equilibrium of a compact security game: ``coverage[t]`` the probability
    that target t is covered, ``attacked`` the attacker's best response (index), the players'
    expected utilities there, and the resources allowed."""

    coverage: np.ndarray
    attacked: int
    defender_utility: float
    attacker_utility: float
    resources: float


@dataclass(frozen=True)
class PatrolSchedule:
    """Randomised patrols: ``plans`` (candidates), ``weights`` (mixing probabilities), ``targets``
    (node ids, in the order of the vectors), ``coverage`` wanted, ``frequency`` of the mixture
    (expected visits per shift, per target), ``gap_l1`` = sum |frequency - coverage|; the audit
    log of the draw: ``seed`` and ``draws`` (plan id per shift), ``realised`` (visit fraction per
    target over the drawn shifts)."""

    plans: list[PatrolPlan]
    weights: np.ndarray
    targets: list[Hashable]
    coverage: np.ndarray
    frequency: np.ndarray
    gap_l1: float
    seed: int
    draws: np.ndarray
    realised: np.ndarray
    log: list[dict[str, Any]] = field(default_factory=list)

    def shift_plan(self, shift: int) -> PatrolPlan:
        """The plan drawn for shift ``shift``."""
        return self.plans[int(self.draws[shift])]


@dataclass(frozen=True)
class TopInstance:
    """A Team Orienteering instance in Chao's format: ``xy`` (n, 2), ``prizes`` (n,), ``n_routes``,
    ``tmax``; node 0 is the start, node n-1 the end; ``distance`` is Euclidean, not rounded (the
    convention of Chao et al. 1996 and the later TOP literature)."""

    name: str
    xy: np.ndarray
    prizes: np.ndarray
    n_routes: int
    tmax: float

    @property
    def distance(self) -> np.ndarray:
        diff = self.xy[:, None, :] - self.xy[None, :, :]
        return np.hypot(diff[..., 0], diff[..., 1])


def read_chao_top(path: str | Path) -> TopInstance:
    """Read a TOP instance of Chao et al. (1996): lines ``n N``, ``m K``, ``tmax T`` then ``x y
    score`` per node (fields separated by blanks, tabs or ``;``)."""
    path = Path(path)
    name = path.name
    lines = [ln for ln in path.read_text().splitlines()]
    rows: list[tuple[int, list[str]]] = [(i + 1, ln.replace(";", " ").split()) for i, ln in enumerate(lines)
                                         if ln.strip()]
    if len(rows) < 3:
        raise PatrolInputError("expected the header lines n, m, tmax", source=name)
    head: dict[str, float] = {}
    for key, (lineno, f) in zip(("n", "m", "tmax"), rows[:3]):
        if len(f) != 2 or f[0] != key:
            raise PatrolInputError(f"line {lineno}: expected '{key} <value>', got {' '.join(f)!r}", source=name)
        try:
            head[key] = float(f[1])
        except ValueError:
            raise PatrolInputError(f"line {lineno}: field {key}: expected a number, got {f[1]!r}", source=name) from None
    n, m = int(head["n"]), int(head["m"])
    if n < 2 or m < 1 or head["tmax"] <= 0:
        raise PatrolInputError(f"header: expected n >= 2, m >= 1, tmax > 0, got n={n}, m={m}, tmax={head['tmax']}",
                               source=name)
    body = rows[3:]
    if len(body) != n:
        raise PatrolInputError(f"expected {n} node lines (x y score) after the header, got {len(body)}", source=name)
    data = np.empty((n, 3))
    for k, (lineno, f) in enumerate(body):
        try:
            if len(f) != 3:
                raise ValueError
            data[k] = [float(v) for v in f]
        except ValueError:
            raise PatrolInputError(f"line {lineno}: expected 'x y score' (3 numbers), got {' '.join(f)!r}",
                                   source=name) from None
        if data[k, 2] < 0 or not np.isfinite(data[k]).all():
            raise PatrolInputError(f"line {lineno}: field score: expected a finite value >= 0, got {f[2]!r}",
                                   source=name)
    return TopInstance(name=name, xy=data[:, :2].copy(), prizes=data[:, 2].copy(), n_routes=m, tmax=head["tmax"])


# --------------------------------------------------------------------------------------------
# TOP on a matrix


def _seed_int(seed: int | np.random.SeedSequence) -> tuple[int, np.random.SeedSequence]:
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    return int(ss.generate_state(1, np.uint32)[0]), ss


def solve_top_matrix(
    distance: np.ndarray,
    *,
    prizes: np.ndarray,
    start: int,
    end: int,
    n_routes: int,
    budget: float,
    service: np.ndarray | None = None,
    seed: int | np.random.SeedSequence = 0,
    restarts: int = 10,
    iterations: int = 200,
) -> tuple[list[list[int]], np.ndarray, float]:
    """Team Orienteering on a cost matrix (any unit; ``budget`` in the same unit). Returns (routes
    as index lists start ... end, route costs, total prize). Nodes whose detour
    ``distance[start, i] + service[i] + distance[i, end]`` exceeds the budget are skipped."""
    d = np.ascontiguousarray(distance, dtype=np.float64)
    n = d.shape[0]
    p = np.ascontiguousarray(prizes, dtype=np.float64)
    s = np.zeros(n) if service is None else np.ascontiguousarray(service, dtype=np.float64)
    allowed = (p > 0) & (d[start, :] + s + d[:, end] <= budget + 1e-9)
    allowed[start] = False
    allowed[end] = False
    big = np.where(np.isfinite(d), d, 1e18)
    symmetric = bool(np.allclose(big, big.T))
    kseed, _ = _seed_int(seed)
    R, L, C, P = solve_top(big, s, p, allowed, int(start), int(end), int(n_routes), float(budget),
                           kseed, int(restarts), int(iterations), 10, 3, symmetric, 0.5)
    routes = [[int(v) for v in R[k, : L[k]]] for k in range(n_routes)]
    return routes, np.asarray(C, dtype=np.float64), float(P)


# --------------------------------------------------------------------------------------------
# graph / matrix input


def _length_attr(graph: Any, attr: str | None) -> str:
    if attr is not None:
        return attr
    for name in ("length_m", "length"):
        if all(name in data for _, _, data in graph.edges(data=True)):
            return name
    raise PatrolInputError("graph edges must carry a length in m as attribute 'length_m' or 'length' "
                           "on every edge (or pass length_attr=)")


def _graph_csr(graph: Any, attr: str) -> tuple[list[Hashable], dict[Hashable, int], csr_matrix, bool]:
    nodes = list(graph.nodes)
    index = {v: i for i, v in enumerate(nodes)}
    directed = bool(graph.is_directed())
    best: dict[tuple[int, int], float] = {}
    problems: list[str] = []
    for u, v, data in graph.edges(data=True):
        w = data.get(attr)
        if w is None or not isinstance(w, (int, float, np.floating, np.integer)) or not math.isfinite(w) or w < 0:
            problems.append(f"edge ({u!r}, {v!r}): attribute {attr!r} must be a finite length >= 0 m, got {w!r}")
            continue
        w = max(float(w), 1e-9)  # csgraph would drop explicit zeros
        pairs = [(index[u], index[v])] if directed else [(index[u], index[v]), (index[v], index[u])]
        for key in pairs:
            if key not in best or w < best[key]:
                best[key] = w
    if problems:
        raise PatrolInputError(problems)
    n = len(nodes)
    if best:
        ij = np.array(list(best.keys()), dtype=np.int64)
        a = csr_matrix((np.array(list(best.values())), (ij[:, 0], ij[:, 1])), shape=(n, n))
    else:
        a = csr_matrix((n, n))
    return nodes, index, a, directed


def _walk(pred: np.ndarray, row: int, target: int) -> list[int]:
    out = [target]
    while pred[row, out[-1]] >= 0:
        out.append(int(pred[row, out[-1]]))
    return out[::-1]


def _per_node(value: float | Mapping[Hashable, float] | np.ndarray | Sequence[float] | None, name: str,
              nodes: list[Hashable], index: dict[Hashable, int], *, default: float) -> np.ndarray:
    n = len(nodes)
    if value is None:
        return np.full(n, default)
    if isinstance(value, Mapping):
        out = np.full(n, default)
        bad = [k for k in value if k not in index]
        if bad:
            raise PatrolInputError([f"{name}: node {k!r} is not in the graph" for k in bad[:10]])
        for k, v in value.items():
            out[index[k]] = float(v)
        return out
    if np.isscalar(value):
        return np.full(n, float(value))  # type: ignore[arg-type]
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (n,):
        raise PatrolInputError(f"{name}: expected {n} values (one per node), got shape {arr.shape}")
    return arr.copy()


def _check_values(arr: np.ndarray, name: str, nodes: list[Hashable], unit: str) -> None:
    bad = np.flatnonzero(~np.isfinite(arr) | (arr < 0))
    if bad.size:
        raise PatrolInputError([f"{name}[{nodes[i]!r}] = {float(arr[i])!r}: expected a finite value >= 0 {unit}"
                                for i in bad[:10]])


@dataclass
class _Network:
    """Shortest paths among the terminals (start, end, targets)."""

    nodes: list[Hashable]
    terminals: np.ndarray       # node index of each terminal row
    dist: np.ndarray            # (T, T) m between terminals
    pred: np.ndarray | None     # (T, n) predecessors (graph input) or None (matrix input)


def _network(graph_or_matrix: Any, *, terminals_of: Any, length_attr: str | None,
             prizes: Any, service_s: Any, start: Hashable, end: Hashable
             ) -> tuple[_Network, np.ndarray, np.ndarray, int, int]:
    """Nodes, prizes and dwell per node, and the terminal network."""
    if isinstance(graph_or_matrix, (np.ndarray, list, tuple)):
        m = np.asarray(graph_or_matrix, dtype=np.float64)
        if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] < 1:
            raise PatrolInputError(f"distance matrix must be square (n, n), got shape {m.shape}")
        if np.isnan(m).any() or (m < 0).any():
            i, j = np.argwhere(np.isnan(m) | (m < 0))[0]
            raise PatrolInputError(f"distance matrix [{i}, {j}] = {m[i, j]!r}: expected a length >= 0 m "
                                   "(inf for no way)")
        nodes: list[Hashable] = list(range(m.shape[0]))
        index = {v: i for i, v in enumerate(nodes)}
        full = m
        pred_all = None
        graph_csr = None
        directed = True
    else:
        if not hasattr(graph_or_matrix, "edges") or not hasattr(graph_or_matrix, "is_directed"):
            raise PatrolInputError("graph_or_distance_matrix: expected a networkx graph or an (n, n) "
                                   f"array, got {type(graph_or_matrix).__name__}")
        attr = _length_attr(graph_or_matrix, length_attr)
        nodes, index, graph_csr, directed = _graph_csr(graph_or_matrix, attr)
        full = None
        pred_all = None
    for name, v in (("start", start), ("end", end)):
        if v not in index:
            raise PatrolInputError(f"{name}={v!r} is not a node of the "
                                   + ("distance matrix" if full is not None else "graph"))
    prize = _per_node(prizes, "prizes", nodes, index, default=0.0)
    _check_values(prize, "prizes", nodes, "")
    service = _per_node(service_s, "service_s", nodes, index, default=0.0)
    _check_values(service, "service_s", nodes, "s")
    si, ei = index[start], index[end]
    term = [si] if si == ei else [si, ei]
    term += [int(i) for i in np.flatnonzero(terminals_of(prize)) if i not in (si, ei)]
    terminals = np.array(term, dtype=np.int64)
    if full is not None:
        dist = full[np.ix_(terminals, terminals)]
        net = _Network(nodes, terminals, dist, None)
    else:
        dall, pred_all = dijkstra(graph_csr, directed=directed, indices=terminals, return_predecessors=True)
        net = _Network(nodes, terminals, dall[:, terminals], pred_all)
    return net, prize, service, si, ei


def _expand(net: _Network, stops: list[int]) -> list[Hashable]:
    """Stops (terminal rows) to a walk of node ids."""
    if not stops:
        return []
    if net.pred is None:
        return [net.nodes[net.terminals[t]] for t in stops]
    walk: list[int] = [int(net.terminals[stops[0]])]
    for a, b in itertools.pairwise(stops):
        seg = _walk(net.pred, a, int(net.terminals[b]))
        walk += seg[1:]
    return [net.nodes[i] for i in walk]


# --------------------------------------------------------------------------------------------
# plan_patrols


def plan_patrols(
    graph_or_distance_matrix: Any,
    *,
    prizes: Mapping[Hashable, float] | np.ndarray | Sequence[float],
    start: Hashable,
    end: Hashable,
    n_patrols: int,
    shift_s: float,
    speed_m_s: float = DEFAULT_SPEED_M_S,
    service_s: float | Mapping[Hashable, float] | np.ndarray = 0.0,
    rounds: int = 1,
    decay_tau_s: float | None = None,
    seed: int | np.random.SeedSequence = 0,
    restarts: int = 10,
    iterations: int = 200,
    length_attr: str | None = None,
) -> PatrolPlan:
    """Patrol routes that maximise the prize collected in a shift (see the module docstring for
    the model). ``prizes``: per node (mapping node -> value, or an array over the matrix
    indices / graph node order); nodes with prize 0 are not targets. ``service_s``: dwell per
    visit (s), a number or per node. ``rounds`` > 1 needs ``start == end``. ``restarts`` and
    ``iterations`` set the search effort (per round)."""
    problems: list[str] = []
    if not isinstance(n_patrols, (int, np.integer)) or n_patrols < 1:
        problems.append(f"n_patrols={n_patrols!r}: expected an integer >= 1")
    if not (isinstance(shift_s, (int, float)) and math.isfinite(shift_s) and shift_s > 0):
        problems.append(f"shift_s={shift_s!r}: expected a duration > 0 s")
    if not (isinstance(speed_m_s, (int, float)) and math.isfinite(speed_m_s) and speed_m_s > 0):
        problems.append(f"speed_m_s={speed_m_s!r}: expected a speed > 0 m/s")
    if not isinstance(rounds, (int, np.integer)) or rounds < 1:
        problems.append(f"rounds={rounds!r}: expected an integer >= 1")
    elif rounds > 1 and start != end:
        problems.append(f"rounds={rounds} needs start == end (a loop from the post), got start={start!r}, end={end!r}")
    if decay_tau_s is not None and not (math.isfinite(decay_tau_s) and decay_tau_s > 0):
        problems.append(f"decay_tau_s={decay_tau_s!r}: expected a time constant > 0 s or None")
    if restarts < 1 or iterations < 0:
        problems.append(f"restarts={restarts!r}, iterations={iterations!r}: expected restarts >= 1, iterations >= 0")
    if problems:
        raise PatrolInputError(problems)

    net, prize, service, si, ei = _network(graph_or_distance_matrix, terminals_of=lambda p: p > 0,
                                           length_attr=length_attr, prizes=prizes, service_s=service_s,
                                           start=start, end=end)
    nodes = net.nodes
    T = net.terminals
    ts_start = 0
    ts_end = 0 if si == ei else 1
    dist = net.dist
    # unreachable targets: an error (bad data), not a silent skip
    unreach = [nodes[T[t]] for t in range(len(T))
               if t not in (ts_start, ts_end) and not (math.isfinite(dist[ts_start, t]) and math.isfinite(dist[t, ts_end]))]
    if not math.isfinite(dist[ts_start, ts_end]):
        raise PatrolInputError(f"end={end!r} cannot be reached from start={start!r}")
    if unreach:
        raise PatrolInputError([f"target {v!r} (prize > 0) cannot be reached from start={start!r} "
                                f"and back to end={end!r} on the graph" for v in unreach[:10]]
                               + ([f"... and {len(unreach) - 10} more"] if len(unreach) > 10 else []))
    budget = float(shift_s) / rounds
    tt = dist / speed_m_s
    p_t = prize[T].copy()
    s_t = service[T].copy()
    p_t[[ts_start, ts_end]] = 0.0
    s_t[[ts_start, ts_end]] = 0.0
    if tt[ts_start, ts_end] > budget:
        raise PatrolInputError(f"shift_s={shift_s!r} s (per round {budget:.1f} s) is too short to walk from "
                               f"start={start!r} to end={end!r}: that takes {tt[ts_start, ts_end]:.1f} s "
                               f"at {speed_m_s} m/s")
    reach = tt[ts_start, :] + s_t + tt[:, ts_end] <= budget + 1e-9
    targets = [t for t in range(len(T)) if t not in (ts_start, ts_end)]
    out_of_reach = [nodes[T[t]] for t in targets if not reach[t]]
    if targets and len(out_of_reach) == len(targets):
        t_min = min(tt[ts_start, t] + s_t[t] + tt[t, ts_end] for t in targets)
        raise PatrolInputError(f"shift_s={shift_s!r} s (per round {budget:.1f} s) is too short to visit any target "
                               f"from start={start!r}: the quickest visit takes {t_min:.1f} s at {speed_m_s} m/s")

    kseed, ss = _seed_int(seed)
    round_seeds = ss.spawn(rounds)
    last = np.full(len(T), -np.inf)       # last visit time per terminal row
    visits: dict[Hashable, list[float]] = {}
    collected = 0.0
    round_routes: list[list[list[Hashable]]] = []
    stops_per_patrol: list[list[int]] = [[] for _ in range(n_patrols)]
    lengths = np.zeros(n_patrols)
    times = np.zeros(n_patrols)
    for r in range(rounds):
        t0 = r * budget
        if decay_tau_s is None:
            value = np.where(np.isfinite(last), 0.0, p_t)
        else:
            value = np.where(np.isfinite(last), p_t * (1.0 - np.exp(-(t0 - last) / decay_tau_s)), p_t)
        routes, _, _ = solve_top_matrix(tt, prizes=value, start=ts_start, end=ts_end, n_routes=int(n_patrols),
                                        budget=budget, service=s_t, seed=round_seeds[r],
                                        restarts=restarts, iterations=iterations)
        rr: list[list[Hashable]] = []
        arrivals: list[tuple[float, int]] = []
        for k, route in enumerate(routes):
            t = t0
            for a, b in itertools.pairwise(route):
                t += tt[a, b]
                lengths[k] += dist[a, b]
                times[k] += tt[a, b]
                if b != ts_end:
                    arrivals.append((t, b))
                    times[k] += s_t[b]
                    t += s_t[b]
            rr.append([nodes[T[v]] for v in route])
            stops_per_patrol[k] += route if not stops_per_patrol[k] else route[1:]
        for t, b in sorted(arrivals):
            if decay_tau_s is None:
                gain = 0.0 if math.isfinite(last[b]) else p_t[b]
            else:
                gain = p_t[b] * (1.0 - math.exp(-(t - last[b]) / decay_tau_s)) if math.isfinite(last[b]) else p_t[b]
            collected += gain
            last[b] = t
            visits.setdefault(nodes[T[b]], []).append(float(t))
        round_routes.append(rr)
    for v in visits.values():
        v.sort()
    return PatrolPlan(
        routes=[[nodes[T[v]] for v in st] for st in stops_per_patrol],
        paths=[_expand(net, st) for st in stops_per_patrol],
        round_routes=round_routes,
        lengths_m=lengths,
        times_s=times,
        prize=float(collected),
        visit_times_s=visits,
        out_of_reach=out_of_reach,
        shift_s=float(shift_s),
        rounds=int(rounds),
        seed=kseed,
    )


# --------------------------------------------------------------------------------------------
# Stackelberg security game


def solve_stackelberg(
    *,
    defender_covered: Sequence[float] | np.ndarray,
    defender_uncovered: Sequence[float] | np.ndarray,
    attacker_covered: Sequence[float] | np.ndarray,
    attacker_uncovered: Sequence[float] | np.ndarray,
    resources: float,
) -> StackelbergSolution:
    """Strong Stackelberg equilibrium of a compact security game with one attacker type
    (multiple LPs, Conitzer & Sandholm 2006; coverage form of Kiekintveld et al. 2009).
    Utilities per target: the defender gets ``defender_covered[t]`` if the attacked target is
    covered, ``defender_uncovered[t]`` if not (covered >= uncovered); the attacker
    ``attacker_uncovered[t]`` >= ``attacker_covered[t]``. ``resources`` bounds sum(coverage)."""
    rd, pd_, pa, ra = (np.asarray(x, dtype=np.float64) for x in
                       (defender_covered, defender_uncovered, attacker_covered, attacker_uncovered))
    n = rd.shape[0] if rd.ndim == 1 else -1
    problems: list[str] = []
    for name, a in (("defender_covered", rd), ("defender_uncovered", pd_), ("attacker_covered", pa),
                    ("attacker_uncovered", ra)):
        if a.ndim != 1 or a.shape[0] != n or n < 1:
            problems.append(f"{name}: expected one value per target ({n}), got shape {a.shape}")
        elif not np.isfinite(a).all():
            problems.append(f"{name}: expected finite utilities")
    if not problems:
        for t in np.flatnonzero(rd < pd_):
            problems.append(f"target {t}: defender_covered {rd[t]} < defender_uncovered {pd_[t]} (covering must not hurt the defender)")
        for t in np.flatnonzero(pa > ra):
            problems.append(f"target {t}: attacker_covered {pa[t]} > attacker_uncovered {ra[t]} (coverage must not help the attacker)")
    if not (isinstance(resources, (int, float, np.floating, np.integer)) and math.isfinite(resources) and resources >= 0):
        problems.append(f"resources={resources!r}: expected a number >= 0")
    if problems:
        raise PatrolInputError(problems, source="solve_stackelberg")
    best: tuple[float, float, int, np.ndarray] | None = None
    for ts in range(n):
        # variables c (n); maximise c_ts (rd-pd) + pd  <=> minimise -c_ts (rd - pd)
        cost = np.zeros(n)
        cost[ts] = -(rd[ts] - pd_[ts])
        # attacker: Ua(t) <= Ua(ts):  ra_t + c_t (pa_t - ra_t) - ra_ts - c_ts (pa_ts - ra_ts) <= 0
        A = np.zeros((n, n))
        b = np.zeros(n)
        for t in range(n):
            if t == ts:
                continue
            A[t, t] += pa[t] - ra[t]
            A[t, ts] -= pa[ts] - ra[ts]
            b[t] = ra[ts] - ra[t]
        A = np.vstack([A, np.ones((1, n))])
        b = np.append(b, float(resources))
        res = linprog(cost, A_ub=A, b_ub=b, bounds=[(0.0, 1.0)] * n, method="highs")
        if res.status != 0:
            continue
        c = np.clip(res.x, 0.0, 1.0)
        ud = pd_[ts] + c[ts] * (rd[ts] - pd_[ts])
        if best is None or ud > best[0] + 1e-9:
            ua = ra[ts] + c[ts] * (pa[ts] - ra[ts])
            best = (ud, ua, ts, c)
    assert best is not None  # the target with the largest uncovered attacker reward is always feasible
    return StackelbergSolution(coverage=best[3], attacked=best[2], defender_utility=float(best[0]),
                               attacker_utility=float(best[1]), resources=float(resources))


# --------------------------------------------------------------------------------------------
# randomised schedules


def _mix(A: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, float, np.ndarray, float]:
    """min sum|A w - c| over the simplex. Returns (w, gap, duals of the coverage rows, dual of the
    simplex row)."""
    n, m = A.shape
    cost = np.concatenate([np.zeros(m), np.ones(2 * n)])
    Aeq = np.zeros((n + 1, m + 2 * n))
    Aeq[:n, :m] = A
    Aeq[:n, m:m + n] = -np.eye(n)
    Aeq[:n, m + n:] = np.eye(n)
    Aeq[n, :m] = 1.0
    beq = np.append(c, 1.0)
    res = linprog(cost, A_eq=Aeq, b_eq=beq, bounds=[(0, None)] * (m + 2 * n), method="highs")
    if res.status != 0:  # pragma: no cover - the LP is always feasible and bounded
        raise RuntimeError(f"mixing LP failed: {res.message}")
    w = np.clip(res.x[:m], 0.0, None)
    w /= w.sum()
    y = np.asarray(res.eqlin.marginals)
    return w, float(res.fun), y[:n], float(y[n])


def randomized_patrols(
    graph_or_distance_matrix: Any,
    *,
    coverage: Mapping[Hashable, float] | np.ndarray | Sequence[float],
    start: Hashable,
    end: Hashable,
    n_patrols: int,
    shift_s: float,
    n_shifts: int,
    speed_m_s: float = DEFAULT_SPEED_M_S,
    service_s: float | Mapping[Hashable, float] | np.ndarray = 0.0,
    n_candidates: int = 12,
    column_rounds: int = 12,
    seed: int | np.random.SeedSequence = 0,
    restarts: int = 3,
    iterations: int = 60,
    length_attr: str | None = None,
) -> PatrolSchedule:
    """Randomised patrol plans whose per-target visit frequencies match ``coverage`` (per node,
    probabilities in [0, 1]; e.g. :attr:`StackelbergSolution.coverage`), and a seeded draw of
    one plan per shift for ``n_shifts`` shifts (see the module docstring)."""
    if not isinstance(n_shifts, (int, np.integer)) or n_shifts < 1:
        raise PatrolInputError(f"n_shifts={n_shifts!r}: expected an integer >= 1", source="randomized_patrols")
    if n_candidates < 1:
        raise PatrolInputError(f"n_candidates={n_candidates!r}: expected >= 1", source="randomized_patrols")
    net, cov, _, si, ei = _network(graph_or_distance_matrix, terminals_of=lambda p: p > 0,
                                   length_attr=length_attr, prizes=coverage, service_s=service_s,
                                   start=start, end=end)
    if (cov > 1.0 + 1e-9).any():
        i = int(np.argmax(cov))
        raise PatrolInputError(f"coverage[{net.nodes[i]!r}] = {cov[i]}: expected a probability in [0, 1]",
                               source="randomized_patrols")
    tnodes = [net.nodes[i] for i in net.terminals if i not in (si, ei)]
    c = np.array([cov[int(i)] for i in net.terminals if i not in (si, ei)])
    if not tnodes:
        raise PatrolInputError("coverage: no target with a probability > 0", source="randomized_patrols")
    ss = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    s_plan, s_draw = ss.spawn(2)
    rng_c = np.random.default_rng(s_plan)
    plan_seeds = iter(s_plan.spawn(n_candidates + column_rounds))
    G = graph_or_distance_matrix
    log: list[dict[str, Any]] = []

    def plan_for(values: np.ndarray, why: str) -> PatrolPlan:
        pr = {v: float(x) for v, x in zip(tnodes, values) if x > 0}
        p = plan_patrols(G, prizes=pr, start=start, end=end, n_patrols=n_patrols,
                         shift_s=shift_s, speed_m_s=speed_m_s, service_s=service_s, seed=next(plan_seeds),
                         restarts=restarts, iterations=iterations, length_attr=length_attr)
        log.append({"plan": len(plans), "why": why, "seed": p.seed})
        return p

    def column(p: PatrolPlan) -> np.ndarray:
        vis = p.visited
        return np.array([1.0 if v in vis else 0.0 for v in tnodes])

    plans: list[PatrolPlan] = []
    cols: list[np.ndarray] = []
    for j in range(n_candidates):
        draw = (rng_c.random(len(c)) < c).astype(np.float64)
        # only the drawn targets carry a prize (a plan visits nothing else); a small random
        # spread of the prizes varies which of them a too-short shift drops
        plans.append(plan_for(draw * (1.0 + 0.1 * rng_c.random(len(c))), "coverage draw"))
        cols.append(column(plans[-1]))
    w, gap, y, mu = _mix(np.array(cols).T, c)
    for _ in range(column_rounds):
        if gap <= 1e-6:
            break
        values = np.clip(y, 0.0, None)
        values[values <= 1e-12] = 0.0
        # all duals <= 0: every target is covered enough; the best new column is a shift
        # without visits (the patrol stays at its post)
        p = plan_for(values, "column generation (LP duals)" if values.any() else "no visits (all duals <= 0)")
        a = column(p)
        if float(y @ a) + mu <= 1e-9 or any(np.array_equal(a, b) for b in cols):
            log[-1]["kept"] = False
            break
        plans.append(p)
        cols.append(a)
        w, gap, y, mu = _mix(np.array(cols).T, c)
    A = np.array(cols).T
    rng = np.random.default_rng(s_draw)
    draws = rng.choice(len(plans), size=int(n_shifts), p=w)
    realised = A[:, draws].mean(axis=1)
    log.append({"draw_seed_entropy": s_draw.entropy, "draw_spawn_key": s_draw.spawn_key,
                "draws": draws.tolist()})
    return PatrolSchedule(plans=plans, weights=w, targets=tnodes, coverage=c, frequency=A @ w, gap_l1=gap,
                          seed=int(ss.entropy) if isinstance(ss.entropy, int) else 0, draws=draws,
                          realised=realised, log=log)
