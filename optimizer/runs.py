"""``shoumen optimize``: the optimizers run on a scenario's site, judged by simulation, written out.

What: four actions, each taking a scenario (a :class:`scenarios.schema.Scenario`, a scenario file
or a built-in scenario name resolved by the caller) and writing into ``out_dir``: the plan as
GeoJSON in the site's CRS, a map PNG over the site plan, ``metrics.json`` with before / after
figures *from simulation* and a ``report.html`` a funder can read.

* :func:`optimize_cameras` -- :func:`optimizer.camera_sites.plan_cameras` (least-cost cover with
  every entrance and gate seen twice, or the best cover within ``budget`` CNY / ``max_cameras``);
  before / after: :func:`agents.security.compare_cameras` (the site's cameras vs the plan, the
  site's indoor cameras kept) over ``days`` days of the same incident stream, plus the coverage
  report and camera density (domain.md: one camera per 200 m² of public area).
* :func:`optimize_patrols` -- a night shift (00:00-08:00, the first of the three 8-hour shifts
  of :func:`agents.security.default_responders`): ``n_patrols`` walking guards (default: one
  professional patrol per 500 residents, domain.md practice 4, spread over three shifts, less
  the guard kept at the main gate) leave the main gate and return to it; each hour is one round
  of :func:`optimizer.patrols.plan_patrols` (team orienteering; each visit costs ``check_s`` = 120 s
  of checking the place, an ASSUMPTION; a visit's deterrence wears off with a 1 h time constant)
  whose prizes are the night
  risk of the outdoor nodes (:func:`patrol_prizes`: theft hot spots and intrusion targets of
  :mod:`agents.incidents` at their night weights, and the perimeter breach points by their
  clearance from the gates). Before / after: :func:`agents.security.simulate_security` on the same
  incident stream with the night shift walking the site's default loop vs the planned routes.
* :func:`optimize_posts` -- where guards, responders and AEDs wait: p-median
  (:func:`optimizer.response.p_median`) over the outdoor navigation-graph nodes, on running
  times (2.5 m/s on the level, 0.6 m/s on stairs, as the dispatch of :mod:`agents.security`)
  to the places of a year of incidents drawn by :mod:`agents.incidents` (a separate seed from
  the evaluation stream); plus the maximal cover (:func:`optimizer.response.
  max_covering_response`) within ``standard_s`` of running time. Before / after: response p50 /
  p90 of :func:`agents.security.simulate_security` with the same number of standing guards per
  shift at the gate houses and the community office vs at the chosen posts.
* :func:`optimize_plan` -- the evacuation exit / assembly plan of :func:`optimizer.plans.
  optimise_plan` (Optuna TPE, flow model in the loop, the best plans re-simulated with the crowd
  model); before / after: the crowd model's RSET (last arrival at an assembly point) for
  nearest-exit vs the plan, with the assembly points' real capacities.

Bad input raises :class:`OptimizeInputError` naming the option and what was expected.
Units: s, m, CNY; coordinates in the site's CRS.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

from agents.incidents import (
    DAY_S,
    DEFAULT_INTRUSION_TARGETS,
    DEFAULT_THEFT_PLACES,
    SUBJECT_KINDS,
    IncidentPlaces,
    generate_incidents,
    incident_places,
)
from agents.security import (
    Responder,
    SecuritySettings,
    default_responders,
    simulate_security,
)
from geometry.site import Site
from scenarios.schema import Scenario

__all__ = [
    "OptimizeInputError",
    "OptimizeResult",
    "optimize_cameras",
    "optimize_patrols",
    "optimize_plan",
    "optimize_posts",
    "patrol_prizes",
    "scenario_site",
]

#: Residents per professional patrol (domain.md practice 4)
RESIDENTS_PER_PATROL = 500.0
RESIDENTS_PER_HOUSEHOLD = 2.83
#: The night shift planned by :func:`optimize_patrols`: 00:00-08:00 (shift 1 of default_responders)
NIGHT_SHIFT_H = (0.0, 8.0)
#: Default response standard of :func:`optimize_posts`: running time to the scene (s).
#: ASSUMPTION: a responder with an AED should reach a collapse within about 3 minutes.
DEFAULT_STANDARD_S = 180.0

Progress = Callable[[str], None]


class OptimizeInputError(ValueError):
    """A setting of ``shoumen optimize`` that cannot be used: ``problems`` names each option and
    what was expected."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


@dataclass
class OptimizeResult:
    """What an action wrote: ``files`` (paths in ``out_dir``) and ``metrics`` (as in metrics.json)."""

    action: str
    out_dir: Path
    files: list[Path]
    metrics: dict[str, Any]
    wall_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------- helpers
def _quiet(msg: str) -> None:
    return None


def scenario_site(scenario: Scenario, *, base_dir: Path | str = ".") -> Site:
    """The scenario's site with its interventions applied (cameras, camera plans), validated."""
    from scenarios.builder import site_with_interventions

    if scenario.site is None:
        raise OptimizeInputError("the scenario has no 'site' (free-form geometry cannot be optimised)")
    return site_with_interventions(scenario, base_dir=Path(base_dir))


def _int_opt(name: str, v: Any, lo: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise OptimizeInputError(f"{name}: expected an integer >= {lo}, got {v!r}")
    return int(v)


def _pos_opt(name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise OptimizeInputError(f"{name}: expected a number > 0, got {v!r}")
    return float(v)


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return None if not math.isfinite(f) else round(f, 6)
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    return x


def _write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(_jsonable(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def _feature_collection(site: Site, kind: str, features: list[dict[str, Any]], **meta: Any) -> dict[str, Any]:
    fc: dict[str, Any] = {"type": "FeatureCollection", "name": f"{site.name} {kind}",
                          "shoumen": {"kind": kind, "site": site.name, "crs": site.crs, **meta},
                          "features": features}
    if site.crs and site.crs.upper() != "LOCAL":
        fc["crs"] = {"type": "name", "properties": {"name": site.crs}}
    return fc


def _summary_keys() -> tuple[str, ...]:
    return ("n_incidents", "subjects", "detection_rate", "subject_detection_rate", "camera_detections",
            "time_to_detect_p50_s", "response_p50_s", "response_p90_s", "within_target_share", "prevented",
            "prevented_rate", "caught", "density_per_200m2", "coverage_public_area", "coverage_entrances",
            "coverage_gates", "coverage_perimeter")


def _before_after(a: Mapping[str, Any], b: Mapping[str, Any], keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k in keys or _summary_keys():
        if k in a and k in b:
            va, vb = a[k], b[k]
            d = (float(vb) - float(va)) if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else None
            out[k] = {"before": va, "after": vb, "change": d}
    return out


def _residents(site: Site) -> float:
    return site.households * RESIDENTS_PER_HOUSEHOLD


def _outdoor_nodes(g: nx.Graph) -> list[str]:
    return [n for n, d in g.nodes(data=True) if d.get("building") is None]


def _xy(g: nx.Graph, n: str) -> tuple[float, float]:
    return float(g.nodes[n]["x"]), float(g.nodes[n]["y"])


def _main_gate(site: Site, g: nx.Graph) -> str:
    gates = [gt for gt in site.gates if gt.id in g]
    if not gates:
        raise OptimizeInputError(f"site {site.name!r}: no gate on the navigation graph (patrols start at the main gate)")
    main = next((gt for gt in gates if gt.access in ("guard", "qr")), gates[0])
    return main.id


# ----------------------------------------------------------------------------- cameras
def optimize_cameras(
    scenario: Scenario,
    *,
    out_dir: Path | str,
    base_dir: Path | str = ".",
    budget: float | None = None,
    max_cameras: int | None = None,
    k_entrance: int = 2,
    k_gate: int = 2,
    days: float = 60.0,
    seed: int = 0,
    time_limit_s: float = 30.0,
    progress: Progress = _quiet,
) -> OptimizeResult:
    """Plan cameras for the scenario's site and judge the plan by simulation (module docstring).
    Writes ``camera_plan.geojson``, ``camera_map.png``, ``metrics.json`` and ``report.html``."""
    from optimizer.camera_sites import camera_problem, plan_cameras
    from optimizer.security_value import camera_plan_security

    t0 = time.perf_counter()
    if budget is not None and max_cameras is not None:
        raise OptimizeInputError("give at most one of --budget and --max-cameras")
    if budget is not None:
        _pos_opt("--budget", budget)
    if max_cameras is not None:
        _int_opt("--max-cameras", max_cameras)
    _int_opt("--k-entrance", k_entrance)
    _int_opt("--k-gate", k_gate)
    _pos_opt("--days", days)
    out = Path(out_dir)
    site = scenario_site(scenario, base_dir=base_dir)
    progress(f"building candidate camera poses and demand points on {site.name}")
    prob, meta = camera_problem(site, k_entrance=k_entrance, k_gate=k_gate)
    cand = meta.candidates
    if budget is not None and budget < float(cand.cost.min()):
        j = int(np.argmin(cand.cost))
        raise OptimizeInputError(
            f"--budget {budget:,.0f} CNY is below the cost of one camera: the cheapest candidate "
            f"({cand.camera_type[j]} on a {cand.mount[j]} mount) costs {cand.cost[j]:,.0f} CNY")
    if meta.short_of_k:
        short = [i for i, d in enumerate(meta.demand.ids) if d in set(meta.short_of_k)]
        deg = meta.visibility.counts()
        ex = ", ".join(f"{meta.demand.ids[i]} ({meta.demand.kind[i]} at {meta.demand.ref[i]}: seen by "
                       f"{int(deg[i])} candidate pose(s), needs {int(meta.k_required[i])})" for i in short[:4])
        raise OptimizeInputError(
            f"coverage requirement infeasible: {len(short)} demand point(s) cannot be seen by as many cameras "
            f"as required (--k-entrance {k_entrance}, --k-gate {k_gate}); e.g. {ex}. Lower the k")
    how = "least-cost full cover" if budget is None and max_cameras is None else (
        f"best cover within {budget:,.0f} CNY" if budget is not None else f"best cover with {max_cameras} cameras")
    progress(f"solving the camera plan ({how}; {len(cand):,} candidate poses x {len(meta.demand):,} points)")
    plan = plan_cameras(site, budget=budget, max_cameras=max_cameras, problem=(prob, meta), time_limit_s=time_limit_s)
    progress(f"{len(plan.devices)} cameras chosen; simulating {days:g} days of incidents with the site's cameras "
             "and with the plan")
    cmp, _ = camera_plan_security(site, days=days, seed=seed, plan=plan)
    out.mkdir(parents=True, exist_ok=True)
    feats = []
    for j in plan.result.chosen:
        j = int(j)
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [float(cand.x[j]), float(cand.y[j])]},
                      "properties": {"id": cand.ids[j], "type": cand.camera_type[j], "model": cand.model[j],
                                     "yaw_deg": float(cand.yaw_deg[j]), "fov_deg": float(cand.fov_deg[j]),
                                     "range_m": float(cand.range_m[j]), "mount_height_m": float(cand.mount_height_m[j]),
                                     "mount": cand.mount[j], "anchor": cand.anchor[j], "cost_cny": float(cand.cost[j])}})
    gj = _write_json(out / "camera_plan.geojson", _feature_collection(site, "camera_plan", feats, objective=how,
                                                                      cost_cny=plan.report.cost_cny))
    ex = plan.existing.as_dict() if plan.existing is not None else {}
    rep = plan.report.as_dict()
    cover_keys = ("n_cameras", "cost_cny", "weighted_coverage", "public_area_coverage", "entrance_coverage",
                  "entrance_seen_once", "gate_coverage", "perimeter_coverage", "density_per_200m2")
    metrics = {
        "action": "cameras", "scenario": scenario.name, "site": site.name, "crs": site.crs, "seed": seed,
        "settings": {"budget_cny": budget, "max_cameras": max_cameras, "k_entrance": k_entrance, "k_gate": k_gate,
                     "days": days, "objective": how},
        "solver": {"optimal": bool(plan.result.optimal), "gap": plan.result.gap, "solve_s": plan.solve_time_s,
                   "candidates": len(cand), "demand_points": len(meta.demand), "unseeable_points": len(meta.unseeable)},
        "coverage": {"before": {k: ex.get(k) for k in cover_keys}, "after": {k: rep.get(k) for k in cover_keys},
                     "note": "before: the site's own outdoor cameras; density counts all of the site's cameras"},
        "simulation": {"before": "the site's cameras", "after": "the plan's cameras (+ the site's indoor cameras)",
                       "days": days, "figures": _before_after(cmp.a.summary, cmp.b.summary),
                       "incidents_gained": cmp.gained, "incidents_lost": cmp.lost},
        "files": ["camera_plan.geojson", "camera_map.png", "metrics.json", "report.html"],
    }
    _write_json(out / "metrics.json", metrics)
    return OptimizeResult("cameras", out, [gj, out / "metrics.json"], metrics, time.perf_counter() - t0,
                          extra={"site": site, "devices": plan.devices, "meta": meta, "plan": plan})


# ----------------------------------------------------------------------------- patrols
def patrol_prizes(site: Site, places: IncidentPlaces) -> dict[str, float]:
    """Night risk per outdoor node (module docstring): theft hot spots (charging points, car
    parks, entrances at their night weights of :data:`agents.incidents.DEFAULT_THEFT_PLACES`),
    intrusion targets (:data:`~agents.incidents.DEFAULT_INTRUSION_TARGETS`) -- each class's
    weight shared out over its places by their own weights -- and the perimeter breach points
    (weight 1 shared out by their clearance from the gates) at their nearest outdoor node.
    Gates and nodes without risk get no prize."""
    prize: dict[str, float] = {}
    for cls in ("charging", "parking", "entrance"):
        items = places.places.get(cls, [])
        if not items:
            continue
        w = DEFAULT_THEFT_PLACES.get(cls, (0.0, 0.0))[1] + DEFAULT_INTRUSION_TARGETS.get(cls, (0.0, 0.0))[1]
        tot = sum(it[4] for it in items) or 1.0
        for _, _, _, node, wt in items:
            n = places.out_nodes[node]
            prize[n] = prize.get(n, 0.0) + w * wt / tot
    bw = places.breach_weight
    if bw.size:
        for (x, y), wt in zip(places.breach_xy, bw / bw.sum()):
            n = places.out_nodes[places.nearest_out(float(x), float(y))]
            prize[n] = prize.get(n, 0.0) + float(wt)
    for gt in places.gate_ids:
        prize.pop(gt, None)
    return {n: round(v, 6) for n, v in prize.items() if v > 0}


def _night_guards(site: Site, g: nx.Graph, loops: list[tuple[str, ...]] | None, n_patrols: int | None) -> list[Responder]:
    """The default responders with the night shift (00-08 h) replaced: one guard at the main
    gate and one walking each of ``loops`` (``None``: the default responders unchanged)."""
    base = default_responders(site, graph=g)
    if loops is None:
        return base
    post = _main_gate(site, g)
    night = [r for r in base if r.role == "guard" and r.shifts == (NIGHT_SHIFT_H,)]
    rest = [r for r in base if r not in night]
    new = [Responder("guard-s1-1", "guard", post, (NIGHT_SHIFT_H,))]
    for k, lp in enumerate(loops):
        new.append(Responder(f"guard-s1-p{k + 1}", "guard", lp[0], (NIGHT_SHIFT_H,), patrol=lp, phase=0.0))
    return new + rest


def _night_summary(res: Any) -> dict[str, Any]:
    df = res.incidents
    h = (df["t_s"].to_numpy(float) % DAY_S) / 3600.0
    night = (h >= NIGHT_SHIFT_H[0]) & (h < NIGHT_SHIFT_H[1])
    subj = df["kind"].isin(SUBJECT_KINDS).to_numpy() & night
    det = df["detected"].to_numpy(bool)
    by = df["detected_by"].astype(str)
    resp = df["response_s"].to_numpy(float)[night & (df["kind"] != "hazard").to_numpy()]
    resp = resp[np.isfinite(resp)]
    return {
        "night_incidents": int(night.sum()),
        "night_subjects": int(subj.sum()),
        "night_subject_detection_rate": float(det[subj].mean()) if subj.any() else None,
        "night_patrol_detections": int((by.str.startswith("patrol:").to_numpy() & night).sum()),
        "night_prevented": int(df["prevented"].to_numpy(bool)[subj].sum()),
        "night_prevented_rate": float(df["prevented"].to_numpy(bool)[subj].mean()) if subj.any() else None,
        "night_time_to_detect_p50_s": float(np.nanmedian(df["time_to_detect_s"].to_numpy(float)[subj & det]))
        if (subj & det).any() else None,
        "night_response_p50_s": float(np.quantile(resp, 0.5)) if resp.size else None,
        "night_response_p90_s": float(np.quantile(resp, 0.9)) if resp.size else None,
    }


def optimize_patrols(
    scenario: Scenario,
    *,
    out_dir: Path | str,
    base_dir: Path | str = ".",
    n_patrols: int | None = None,
    shift_h: float = 8.0,
    round_h: float = 1.0,
    check_s: float = 120.0,
    days: float = 60.0,
    seed: int = 0,
    progress: Progress = _quiet,
) -> OptimizeResult:
    """Plan the night shift's patrol routes and judge them by simulation (module docstring).
    Writes ``patrol_routes.geojson``, ``patrol_map.png``, ``metrics.json`` and ``report.html``."""
    from optimizer.patrols import PatrolInputError, plan_patrols

    t0 = time.perf_counter()
    shift_h = _pos_opt("--shift-h", shift_h)
    if shift_h > 8.0:
        raise OptimizeInputError(f"--shift-h: the night shift is at most 8 h (00:00-08:00), got {shift_h:g}")
    round_h = min(_pos_opt("round_h", round_h), shift_h)
    check_s = float(check_s)
    if not math.isfinite(check_s) or check_s < 0:
        raise OptimizeInputError(f"check_s: expected a dwell >= 0 s per risk place, got {check_s!r}")
    _pos_opt("--days", days)
    out = Path(out_dir)
    site = scenario_site(scenario, base_dir=base_dir)
    progress(f"reading the night risk places of {site.name}")
    pl = incident_places(site)
    g = pl.graph
    residents = _residents(site)
    per_shift = math.ceil(max(3, math.ceil(residents / RESIDENTS_PER_PATROL)) / 3)
    k = _int_opt("--patrols", n_patrols) if n_patrols is not None else max(1, per_shift - 1)
    gate = _main_gate(site, g)
    prizes = patrol_prizes(site, pl)
    sub = g.subgraph(_outdoor_nodes(g) + [n for n in prizes if n not in g or g.nodes[n].get("building") is not None])
    rounds = max(1, int(round(shift_h / round_h)))
    progress(f"planning {k} patrol route(s) from gate {gate}: {shift_h:g} h shift in {rounds} round(s), "
             f"{len(prizes)} risk places")
    try:
        plan = plan_patrols(sub, prizes=prizes, start=gate, end=gate, n_patrols=k, shift_s=shift_h * 3600.0,
                            rounds=rounds, decay_tau_s=3600.0, seed=seed, restarts=4, iterations=100,
                            service_s=check_s)
    except PatrolInputError as exc:
        msgs = [p.replace("shift_s=", "--shift-h -> shift_s=") for p in exc.problems]
        if any("too short" in p for p in exc.problems):
            raise OptimizeInputError(f"--shift-h {shift_h:g} h is too short to leave gate {gate}: " + "; ".join(msgs)) from None
        raise OptimizeInputError(msgs) from None
    loops = [tuple(str(n) for n in p) for p in plan.paths if len(p) > 1]
    if not loops:
        raise OptimizeInputError(f"--shift-h {shift_h:g} h: no route leaves gate {gate} within the shift")
    progress(f"simulating {days:g} days of incidents: night shift on the default loop vs the planned routes")
    stream = generate_incidents(site, days=days, seed=seed, graph=g, places=pl)
    st = SecuritySettings()
    base_guards = default_responders(site, graph=g)
    plan_guards = _night_guards(site, g, loops, k)
    plan_guards[1:1] = [Responder(f"guard-s1-g{i + 2}", "guard", gate, (NIGHT_SHIFT_H,))
                        for i in range(k - len(loops))]  # patrols without a route stay at the gate
    ra = simulate_security(site, days=days, seed=seed, stream=stream, guards=base_guards, settings=st, graph=g)
    rb = simulate_security(site, days=days, seed=seed, stream=stream, guards=plan_guards, settings=st, graph=g)
    out.mkdir(parents=True, exist_ok=True)
    feats = []
    for i, path in enumerate(plan.paths):
        if len(path) < 2:
            continue
        stops = [str(s) for s in plan.routes[i]]
        vt = {str(s): [round(t, 1) for t in plan.visit_times_s.get(s, [])] for s in dict.fromkeys(plan.routes[i])
              if s != gate}
        feats.append({"type": "Feature",
                      "geometry": {"type": "LineString", "coordinates": [list(_xy(g, str(n))) for n in path]},
                      "properties": {"id": f"patrol-{i + 1}", "start": gate, "shift": "00:00-08:00",
                                     "shift_h": shift_h, "rounds": rounds, "length_m": float(plan.lengths_m[i]),
                                     "time_s": float(plan.times_s[i]), "stops": stops, "visit_times_s": vt,
                                     "nodes": [str(n) for n in path]}})
    for n, v in sorted(prizes.items()):
        x, y = _xy(g, n)
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                      "properties": {"id": n, "role": "risk place", "prize": v,
                                     "visits": len(plan.visit_times_s.get(n, []))}})
    gj = _write_json(out / "patrol_routes.geojson", _feature_collection(site, "patrol_routes", feats, gate=gate,
                                                                        n_patrols=k, shift_h=shift_h))
    default_loop = next((r.patrol for r in base_guards if r.patrol), ())
    total_prize = sum(prizes.values())
    metrics = {
        "action": "patrols", "scenario": scenario.name, "site": site.name, "crs": site.crs, "seed": seed,
        "settings": {"n_patrols": k, "shift_h": shift_h, "rounds": rounds, "start": gate, "days": days,
                     "residents": round(residents), "default_patrols": max(1, per_shift - 1),
                     "check_s_per_place": check_s, "decay_tau_s": 3600.0},
        "routes": {"prize_collected": plan.prize, "prize_total": total_prize, "risk_places": len(prizes),
                   "places_visited": len(plan.visited), "out_of_reach": [str(n) for n in plan.out_of_reach],
                   "lengths_m": plan.lengths_m.tolist(), "times_s": plan.times_s.tolist()},
        "simulation": {
            "before": f"night shift: 1 guard at {gate} + {per_shift - 1} walking the site's default loop",
            "after": f"night shift: {1 + k - len(loops)} guard(s) at {gate} + {len(loops)} walking the planned routes",
            "days": days,
            "figures": _before_after(ra.summary, rb.summary),
            "night": _before_after(_night_summary(ra), _night_summary(rb), tuple(_night_summary(ra))),
        },
        "files": ["patrol_routes.geojson", "patrol_map.png", "metrics.json", "report.html"],
    }
    _write_json(out / "metrics.json", metrics)
    return OptimizeResult("patrols", out, [gj, out / "metrics.json"], metrics, time.perf_counter() - t0,
                          extra={"site": site, "graph": g, "routes": loops, "prizes": prizes,
                                 "default_loop": default_loop, "gate": gate})


# ----------------------------------------------------------------------------- posts
def _time_matrix(g: nx.Graph, sources: list[str], targets: list[str], st: SecuritySettings) -> np.ndarray:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    nodes = list(g.nodes)
    idx = {n: i for i, n in enumerate(nodes)}
    rows, cols, w = [], [], []
    for u, v, d in g.edges(data=True):
        sp = st.stair_speed_m_s if d.get("kind") == "stair" else st.run_speed_m_s
        tt = max(float(d["length_m"]) / sp, 1e-6)
        rows += [idx[u], idx[v]]
        cols += [idx[v], idx[u]]
        w += [tt, tt]
    csr = csr_matrix((w, (rows, cols)), shape=(len(nodes), len(nodes)))
    d = dijkstra(csr, directed=False, indices=[idx[s] for s in sources])
    return d[:, [idx[t] for t in targets]]


def _baseline_posts(site: Site, g: nx.Graph, p: int) -> list[str]:
    """Where guards wait today: the gate houses, then the community office (community centre
    exits), round-robin up to ``p``."""
    spots = [gt.id for gt in site.gates if gt.id in g]
    spots += [e.id for b in site.buildings if b.use.value == "community_centre" for e in b.exits[:1] if e.id in g]
    if not spots:
        spots = _outdoor_nodes(g)[:1]
    return [spots[i % len(spots)] for i in range(p)]


def _standing_guards(site: Site, g: nx.Graph, posts: list[str]) -> list[Responder]:
    out: list[Responder] = []
    for s, sh in enumerate(((0.0, 8.0), (8.0, 16.0), (16.0, 24.0))):
        for k, node in enumerate(posts):
            out.append(Responder(f"guard-s{s + 1}-{k + 1}", "guard", node, (sh,)))
    return out + [r for r in default_responders(site, graph=g) if r.role == "grid_worker"]


def optimize_posts(
    scenario: Scenario,
    *,
    out_dir: Path | str,
    base_dir: Path | str = ".",
    n_posts: int | None = None,
    standard_s: float = DEFAULT_STANDARD_S,
    days: float = 60.0,
    seed: int = 0,
    progress: Progress = _quiet,
) -> OptimizeResult:
    """Choose where guards / responders / AEDs wait and judge the posts by simulation (module
    docstring). Writes ``posts.geojson``, ``posts_map.png``, ``metrics.json`` and ``report.html``."""
    from optimizer.response import max_covering_response, p_median

    t0 = time.perf_counter()
    _pos_opt("--standard-s", standard_s)
    _pos_opt("--days", days)
    out = Path(out_dir)
    site = scenario_site(scenario, base_dir=base_dir)
    pl = incident_places(site)
    g = pl.graph
    residents = _residents(site)
    per_shift = math.ceil(max(3, math.ceil(residents / RESIDENTS_PER_PATROL)) / 3)
    cands = _outdoor_nodes(g)
    p = _int_opt("--posts", n_posts) if n_posts is not None else per_shift
    if p > len(cands):
        raise OptimizeInputError(f"--posts {p}: the site has only {len(cands)} outdoor places to post someone "
                                 "(navigation-graph nodes outside the buildings)")
    progress(f"drawing a year of incidents on {site.name} for the demand (seed {seed + 1})")
    demand_stream = generate_incidents(site, days=365.0, seed=seed + 1, graph=g, places=pl)
    counts = demand_stream.table["node"].astype(str).value_counts()
    dnodes = [n for n in counts.index if n in g]
    w = counts[dnodes].to_numpy(float)
    st = SecuritySettings()
    dist = _time_matrix(g, cands, dnodes, st)
    keep = np.isfinite(dist).all(axis=0)
    dnodes = [n for n, k_ in zip(dnodes, keep) if k_]
    dist, w = dist[:, keep], w[keep]
    progress(f"p-median: {p} post(s) among {len(cands)} outdoor places for {len(dnodes)} incident places")
    pm = p_median(dist, p=p, weight=w, time_limit_s=60.0)
    mc = max_covering_response(dist, standard=standard_s, p=p, weight=w, time_limit_s=60.0)
    base_posts = _baseline_posts(site, g, p)
    bidx = [cands.index(n) if n in cands else None for n in base_posts]
    posts = [cands[j] for j in pm.open]

    def served(opened: list[int]) -> dict[str, float]:
        dd = dist[opened].min(axis=0)
        return {"mean_time_s": float((dd * w).sum() / w.sum()), "max_time_s": float(dd.max()),
                "within_standard_share": float(w[dd <= standard_s].sum() / w.sum())}

    cover = {"before": served([j for j in bidx if j is not None]), "p_median": served(list(pm.open)),
             "max_covering": served(list(mc.open))}
    progress(f"simulating {days:g} days of incidents: guards at the gate houses / office vs at the chosen posts")
    stream = generate_incidents(site, days=days, seed=seed, graph=g, places=pl)
    ra = simulate_security(site, days=days, seed=seed, stream=stream, guards=_standing_guards(site, g, base_posts),
                           settings=st, graph=g)
    rb = simulate_security(site, days=days, seed=seed, stream=stream, guards=_standing_guards(site, g, posts),
                           settings=st, graph=g)
    out.mkdir(parents=True, exist_ok=True)
    feats = []
    for j in pm.open:
        n = cands[int(j)]
        x, y = _xy(g, n)
        mine = pm.assignment == int(j)
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                      "properties": {"id": f"post-{len(feats) + 1}", "node": n, "model": "p-median",
                                     "waits": "a guard on each shift with an AED and a first-aid kit",
                                     "incidents_per_year_served": float(w[mine].sum()),
                                     "mean_time_s": float((dist[int(j), mine] * w[mine]).sum() / max(w[mine].sum(), 1e-9))}})
    for j in mc.open:
        n = cands[int(j)]
        x, y = _xy(g, n)
        feats.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                      "properties": {"id": f"cover-{len(feats) + 1}", "node": n, "model": "max-covering",
                                     "waits": f"an AED / responder within {standard_s:g} s of the most incidents",
                                     "standard_s": standard_s}})
    gj = _write_json(out / "posts.geojson", _feature_collection(site, "posts", feats, n_posts=p, standard_s=standard_s))
    keys = ("response_p50_s", "response_p90_s", "within_target_share", "prevented", "prevented_rate",
            "detection_rate", "n_incidents")
    metrics = {
        "action": "posts", "scenario": scenario.name, "site": site.name, "crs": site.crs, "seed": seed,
        "settings": {"n_posts": p, "standard_s": standard_s, "days": days,
                     "run_speed_m_s": st.run_speed_m_s, "stair_speed_m_s": st.stair_speed_m_s},
        "posts": {"before": base_posts, "p_median": posts, "max_covering": [cands[int(j)] for j in mc.open],
                  "p_median_optimal": bool(pm.optimal), "max_covering_optimal": bool(mc.optimal)},
        "travel": cover,
        "simulation": {"before": f"{p} standing guard(s) per shift at the gate houses / community office",
                       "after": f"{p} standing guard(s) per shift at the p-median posts", "days": days,
                       "figures": _before_after(ra.summary, rb.summary, keys)},
        "files": ["posts.geojson", "posts_map.png", "metrics.json", "report.html"],
    }
    _write_json(out / "metrics.json", metrics)
    return OptimizeResult("posts", out, [gj, out / "metrics.json"], metrics, time.perf_counter() - t0,
                          extra={"site": site, "graph": g, "before": base_posts, "posts": posts,
                                 "cover": [cands[int(j)] for j in mc.open],
                                 "demand": {n: float(x) for n, x in zip(dnodes, w)}})


# ----------------------------------------------------------------------------- evacuation plan
def scenario_population(scenario: Scenario, site: Site, *, seed: int) -> Any:
    """Households at home for the scenario's population settings (time of day, buildings)."""
    from agents.population import synthesize_households

    pop = scenario.population
    wanted = None if pop.buildings == "all" else set(pop.buildings)
    units = [(u, b.id) for b in site.buildings if b.use.residential and (wanted is None or b.id in wanted)
             for level in range(b.storeys) for u in b.unit_ids(level)]
    if not units:
        raise OptimizeInputError("population: no residential flat in the scenario's buildings")
    return synthesize_households(units, rng=np.random.default_rng(seed), residents_per_household=pop.residents_per_household,
                                 hour=pop.hour, at_home=pop.at_home_fraction, premovement_median_s=pop.premovement.median_s,
                                 premovement_sigma=pop.premovement.sigma, premovement_min_s=pop.premovement.min_s)


def optimize_plan(
    scenario: Scenario,
    *,
    out_dir: Path | str,
    base_dir: Path | str = ".",
    n_trials: int = 30,
    group_by: str = "building",
    seed: int = 0,
    recheck_top: int = 2,
    progress: Progress = _quiet,
) -> OptimizeResult:
    """Choose exit and assembly point per building (or walk-up stair) and compare the crowd
    model's RSET with nearest-exit (module docstring). Writes ``evacuation_plan.geojson``,
    ``plan_map.png``, ``plan_convergence.png``, ``metrics.json`` and ``report.html``."""
    from optimizer.plans import PlanError, PlanProblem, optimise_plan

    t0 = time.perf_counter()
    _int_opt("--trials", n_trials)
    out = Path(out_dir)
    site = scenario_site(scenario, base_dir=base_dir)
    pop = scenario_population(scenario, site, seed=seed)
    try:
        problem = PlanProblem(site, pop, group_by=group_by)
    except PlanError as exc:
        raise OptimizeInputError(str(exc)) from None
    progress(f"{pop.total:,} people at home at {scenario.population.time_of_day} in {len(problem.buildings)} "
             f"building(s); {len(problem.groups)} group(s), targets {', '.join(problem.targets)} "
             f"(capacity {', '.join(f'{t} {c:,.0f}' for t, c in problem.capacities.items())})")
    progress(f"searching {n_trials} plans (flow model), then re-simulating the best with the crowd model")
    res = optimise_plan(problem, n_trials=n_trials, seed=seed, model="flow", recheck="crowd", recheck_top=recheck_top)
    assert res.recheck is not None and res.recheck_baseline is not None and res.recheck_plan is not None
    kept, base = res.recheck, res.recheck_baseline
    plan = res.recheck_plan
    out.mkdir(parents=True, exist_ok=True)
    feats = []
    for key, (e, t) in plan.items():
        b = site.building(problem.group_building[key])
        from shapely.geometry import mapping

        feats.append({"type": "Feature", "geometry": mapping(b.footprint),
                      "properties": {"group": key, "building": b.id, "exit": e, "target": t,
                                     "persons": problem.group_persons[key],
                                     "exit_options": list(problem.exit_options[key])}})
    gj = _write_json(out / "evacuation_plan.geojson", _feature_collection(
        site, "evacuation_plan", feats, group_by=group_by, targets=list(problem.targets),
        capacities=problem.capacities, note="exit/target null = nearest (each person's own choice)"))

    def ev_dict(ev: Any) -> dict[str, Any]:
        return {"rset_100_s": ev.estate["arrival100_s"], "rset_95_s": ev.estate["arrival95_s"],
                "out_of_buildings_100_s": ev.estate["out100_s"], "arrivals": ev.arrivals,
                "over_capacity": ev.violations, "not_arrived": ev.not_arrived, "objective_s": ev.objective_s}

    b_, a_ = ev_dict(base), ev_dict(kept)
    metrics = {
        "action": "plan", "scenario": scenario.name, "site": site.name, "crs": site.crs, "seed": seed,
        "settings": {"trials": n_trials, "group_by": group_by, "time_of_day": scenario.population.time_of_day,
                     "people": pop.total, "buildings": list(problem.buildings), "targets": list(problem.targets),
                     "capacities": problem.capacities, "loop_model": "flow", "judged_by": "crowd"},
        "plan": {k: {"exit": e, "target": t} for k, (e, t) in plan.items()},
        "simulation": {"before": "nearest exit, nearest assembly point (crowd model)",
                       "after": "the plan (crowd model)", "model": "crowd",
                       "before_figures": b_, "after_figures": a_,
                       "figures": _before_after(b_, a_, ("rset_100_s", "rset_95_s", "out_of_buildings_100_s",
                                                         "not_arrived", "objective_s")),
                       "plan_beats_baseline": bool(kept.objective_s < base.objective_s - 1e-9)},
        "search": {"trials": res.n_trials, "flow_baseline_s": res.baseline.objective_s,
                   "flow_best_s": res.evaluation.objective_s,
                   "crowd_rechecked": [ev.objective_s for ev in res.recheck_all], "wall_s": res.wall_s},
        "files": ["evacuation_plan.geojson", "plan_map.png", "plan_convergence.png", "metrics.json", "report.html"],
    }
    _write_json(out / "metrics.json", metrics)
    return OptimizeResult("plan", out, [gj, out / "metrics.json"], metrics, time.perf_counter() - t0,
                          extra={"site": site, "problem": problem, "plan": plan, "result": res})
