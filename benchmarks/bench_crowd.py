"""Side-by-side benchmark of Shoumen's crowd model (:class:`agents.crowd.CrowdModel`) against
JuPedSim 1.4.2's ``CollisionFreeSpeedModel`` (the model ours implements; Tordeux, Chraibi &
Seyfried 2016, arXiv:1512.05597) on the same rooms, agents and desired speeds.

Run (from the repository root)::

    .venv/bin/python benchmarks/bench_crowd.py [--cases a,b] [--peer-python .venv-bench/bin/python]
                                               [--seed 0] [--out benchmarks/results_crowd.json]

JuPedSim is a benchmark-only peer and is never a project dependency: install it into its own
virtual environment, ``python3 -m venv .venv-bench && .venv-bench/bin/pip install
jupedsim==1.4.2 shapely numpy``. Without it the script runs Shoumen only and says so.

Every run (each case x tool) is a separate child process, so its CPU seconds (``ru_utime +
ru_stime`` of the child from ``os.wait4``: the whole process, interpreter start, imports and
set-up included) and its peak resident memory (``ru_maxrss``) are its own. The parent draws the
agents (positions and desired speeds) once per case from ``--seed`` and hands the same arrays to
both tools through a ``.npz`` file. See ``--help`` for the cases and the columns.

Not a test: nothing here asserts a figure. Units SI (m, s, m/s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RADIUS_M = 0.2
V0_MPS = 1.34
WALL_M = 0.2  # wall thickness: the door is a walkable passage this deep
EXIT_DEPTH_M = 0.5  # exit area behind each door; an agent is out once its centre is in it
CELL_M = 0.1  # Shoumen raster cell size
SHOUMEN_DT = 0.05  # CrowdModel's default
JUPEDSIM_DT = 0.01  # jupedsim.Simulation's default

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (m)


# ----------------------------------------------------------------------------- cases
@dataclass
class Case:
    """One benchmark case. ``build(seed)`` returns the geometry spec (plain JSON: ``walkable``
    boxes, ``exits`` {id: box}, ``exit_width_m`` summed clear door width) and the agents
    (``x``, ``y``, ``v0`` arrays). ``tools``: which tools run it. ``shoumen_model``: optional
    hook building the :class:`CrowdModel` itself (for cases that are not box rooms, e.g. the
    sample community); it receives the spec and the agent arrays and returns a model with the
    agents added."""

    name: str
    description: str
    build: Callable[[int], tuple[dict[str, Any], dict[str, np.ndarray]]]
    tools: tuple[str, ...] = ("shoumen", "jupedsim")
    shoumen_model: Callable[[dict[str, Any], dict[str, np.ndarray]], Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def scatter(x0: float, y0: float, x1: float, y1: float, n: int, rng: np.random.Generator,
            *, gap: float = 2 * RADIUS_M + 0.02, max_tries: int = 2_000_000) -> np.ndarray:
    """n points uniformly in [x0, x1] x [y0, y1], pairwise centre distance > ``gap`` (random
    sequential addition with a cell hash), shape (n, 2)."""
    cs = gap
    grid: dict[tuple[int, int], list[int]] = {}
    pts = np.empty((n, 2))
    k = tries = 0
    while k < n:
        tries += 1
        if tries > max_tries:
            raise RuntimeError(f"scatter: could not place {n} agents in the room (placed {k})")
        p = rng.uniform((x0, y0), (x1, y1))
        ci, cj = int((p[0] - x0) / cs), int((p[1] - y0) / cs)
        ok = True
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for q in grid.get((ci + di, cj + dj), ()):
                    if (pts[q, 0] - p[0]) ** 2 + (pts[q, 1] - p[1]) ** 2 <= gap * gap:
                        ok = False
                        break
                if not ok:
                    break
            if not ok:
                break
        if ok:
            pts[k] = p
            grid.setdefault((ci, cj), []).append(k)
            k += 1
    return pts


def door(w: float, h: float, side: str, width: float) -> tuple[Box, Box]:
    """Passage through the wall and exit area behind it for a door of ``width`` centred in the
    ``side`` ('n', 's', 'e', 'w') wall of room [0, w] x [0, h]."""
    if side in ("n", "s"):
        a, b = w / 2 - width / 2, w / 2 + width / 2
        if side == "n":
            return (a, h, b, h + WALL_M), (a, h + WALL_M, b, h + WALL_M + EXIT_DEPTH_M)
        return (a, -WALL_M, b, 0.0), (a, -WALL_M - EXIT_DEPTH_M, b, -WALL_M)
    a, b = h / 2 - width / 2, h / 2 + width / 2
    if side == "e":
        return (w, a, w + WALL_M, b), (w + WALL_M, a, w + WALL_M + EXIT_DEPTH_M, b)
    return (-WALL_M, a, 0.0, b), (-WALL_M - EXIT_DEPTH_M, a, -WALL_M, b)


def room_case(w: float, h: float, n: int, doors: list[tuple[str, float]], seed: int
              ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    walk: list[Box] = [(0.0, 0.0, w, h)]
    exits: dict[str, Box] = {}
    for side, width in doors:
        passage, area = door(w, h, side, width)
        walk += [passage, area]
        exits[f"exit-{side}"] = area
    rng = np.random.default_rng(seed)
    margin = RADIUS_M + 0.1
    p = scatter(margin, margin, w - margin, h - margin, n, rng)
    v0 = np.full(n, V0_MPS)
    spec = {"room_m": [w, h], "walkable": walk, "exits": exits,
            "exit_width_m": float(sum(d for _, d in doors)), "n": n, "seed": seed}
    return spec, {"x": p[:, 0].copy(), "y": p[:, 1].copy(), "v0": v0}


def case_a(seed: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    return room_case(20.0, 20.0, 1000, [("n", 1.0)], seed)


def case_b(seed: int) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    return room_case(50.0, 50.0, 5000, [("n", 2.0), ("s", 2.0), ("e", 2.0), ("w", 2.0)], seed)


# Register further cases here. Case (c), the sample community's night evacuation (Shoumen only),
# goes in as Case("c", "...", build=case_c, tools=("shoumen",), shoumen_model=model_c), where
# model_c(spec, agents) builds the CrowdModel on the sample's raster and returns it.
CASES: dict[str, Case] = {
    "a": Case("a", "1,000 persons, 20 x 20 m room, one 1 m exit (north wall)", case_a),
    "b": Case("b", "5,000 persons, 50 x 50 m room, four 2 m exits (middle of each wall)", case_b),
}


# ----------------------------------------------------------------------------- child runs
def _progress(tool: str, t: float, inside: int) -> None:
    print(f"    .. {tool}: t = {t:7.1f} s simulated, {inside} inside", file=sys.stderr, flush=True)


def _metrics(exit_times: np.ndarray, n: int, width: float, t_end: float, stalled: bool, stall_s: float
             ) -> dict[str, Any]:
    te = np.sort(exit_times[np.isfinite(exit_times)])
    left = int(te.size)
    out: dict[str, Any] = {"n": n, "left": left, "inside": n - left, "t_end_s": t_end, "stalled": stalled,
                           "stall_s": stall_s}
    out["evac_time_s"] = float(te[-1]) if left == n and n else None
    if left >= 10:
        t10, t90 = np.percentile(te, [10, 90])
        out["t10_s"], out["t90_s"] = float(t10), float(t90)
        out["specific_flow_p_per_ms"] = 0.8 * left / (t90 - t10) / width if t90 > t10 else None
    else:
        out["specific_flow_p_per_ms"] = None
    return out


def child_shoumen(spec: dict[str, Any], ag: dict[str, np.ndarray], cap_s: float, stall_s: float,
                  case: Case) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from shapely.geometry import box

    from agents.crowd import CrowdModel
    from geometry.raster import rasterize_polygons

    # warm-up: load (or compile) the numba kernel outside the timed part
    wr = rasterize_polygons([box(0, 0, 2, 2), box(2, 0.5, 2.5, 1.5)], exits=box(2, 0.5, 2.5, 1.5), cell_size_m=CELL_M)
    wm = CrowdModel(wr, rng=0)
    wm.add_agents([1.0], [1.0], v0=V0_MPS)
    wm.run(5.0)

    t0, c0 = time.perf_counter(), time.process_time()
    if case.shoumen_model is not None:
        m = case.shoumen_model(spec, ag)
    else:
        r = rasterize_polygons([box(*b) for b in spec["walkable"]], exits=[box(*b) for b in spec["exits"].values()],
                               cell_size_m=CELL_M)
        m = CrowdModel(r, exits={k: box(*b) for k, b in spec["exits"].items()}, dt=SHOUMEN_DT,
                       rng=int(spec.get("seed", 0)))
        m.add_agents(ag["x"], ag["y"], v0=ag["v0"], radius=RADIUS_M)
    t_build = time.perf_counter() - t0
    n = m.n
    inside = n
    agent_steps = 0
    last_exit_t = 0.0
    next_report = 100.0
    stalled = False
    tl0 = time.perf_counter()
    while inside and m.t < cap_s - 1e-9:
        agent_steps += inside
        left = m.step()
        if left:
            inside -= left
            last_exit_t = m.t
        if m.t - last_exit_t > stall_s:
            stalled = True
            break
        if m.t >= next_report:
            _progress("shoumen", m.t, inside)
            next_report += 100.0
    loop_wall = time.perf_counter() - tl0
    res = _metrics(np.asarray(m.exit_times, dtype=float), n, spec["exit_width_m"], m.t, stalled, stall_s)
    res.update(dt_s=m.dt, cell_m=float(m.raster.cell_size_m), steps=round(m.t / m.dt), agent_steps=agent_steps,
               build_wall_s=t_build, loop_wall_s=loop_wall, sim_wall_s=time.perf_counter() - t0,
               sim_cpu_s=time.process_time() - c0, exit_counts=m.exit_counts())
    return res


def child_jupedsim(spec: dict[str, Any], ag: dict[str, np.ndarray], cap_s: float, stall_s: float,
                   case: Case) -> dict[str, Any]:
    import jupedsim as jps
    from shapely.geometry import box
    from shapely.ops import unary_union

    t0, c0 = time.perf_counter(), time.process_time()
    area = unary_union([box(*b) for b in spec["walkable"]])
    sim = jps.Simulation(model=jps.CollisionFreeSpeedModel(), geometry=area, dt=JUPEDSIM_DT)
    ids = list(spec["exits"])
    stages, journeys, centres = [], [], []
    for k in ids:
        b = spec["exits"][k]
        st = sim.add_exit_stage(box(*b))
        stages.append(st)
        journeys.append(sim.add_journey(jps.JourneyDescription([st])))
        centres.append(((b[0] + b[2]) / 2, (b[1] + b[3]) / 2))
    # JuPedSim has no route choice of its own: each agent walks to its nearest exit (straight
    # line; the same as the walking distance Shoumen descends in these empty convex rooms)
    c = np.asarray(centres)
    near = np.argmin(np.hypot(ag["x"][:, None] - c[None, :, 0], ag["y"][:, None] - c[None, :, 1]), axis=1)
    agent_exit: dict[int, int] = {}
    for i in range(ag["x"].size):
        e = int(near[i])
        aid = sim.add_agent(jps.CollisionFreeSpeedModelAgentParameters(
            position=(float(ag["x"][i]), float(ag["y"][i])), journey_id=journeys[e], stage_id=stages[e],
            radius=RADIUS_M, desired_speed=float(ag["v0"][i])))
        agent_exit[aid] = e
    t_build = time.perf_counter() - t0
    n = sim.agent_count()
    exit_t = np.full(n, np.nan)
    counts = np.zeros(len(ids), dtype=np.int64)
    out_k = 0
    agent_steps = 0
    last_exit_t = 0.0
    next_report = 100.0
    stalled = False
    tl0 = time.perf_counter()
    inside = n
    while inside and sim.elapsed_time() < cap_s - 1e-9:
        agent_steps += inside
        sim.iterate()
        gone = sim.removed_agents()
        if gone:
            t = sim.elapsed_time()
            for aid in gone:
                exit_t[out_k] = t
                counts[agent_exit[aid]] += 1
                out_k += 1
            last_exit_t = t
        inside = sim.agent_count()
        if sim.elapsed_time() - last_exit_t > stall_s:
            stalled = True
            break
        if sim.elapsed_time() >= next_report:
            _progress("jupedsim", sim.elapsed_time(), inside)
            next_report += 100.0
    loop_wall = time.perf_counter() - tl0
    res = _metrics(exit_t, n, spec["exit_width_m"], sim.elapsed_time(), stalled, stall_s)
    res.update(dt_s=sim.delta_time(), cell_m=None, steps=sim.iteration_count(), agent_steps=agent_steps,
               build_wall_s=t_build, loop_wall_s=loop_wall, sim_wall_s=time.perf_counter() - t0,
               sim_cpu_s=time.process_time() - c0,
               exit_counts={k: int(counts[i]) for i, k in enumerate(ids)}, jupedsim_version=jps.__version__)
    return res


def child_main(tool: str, case_name: str, npz: str, spec_json: str, cap_s: float, stall_s: float) -> None:
    spec = json.loads(Path(spec_json).read_text())
    with np.load(npz) as f:
        ag = {k: f[k] for k in f.files}
    case = CASES[case_name]
    fn = child_shoumen if tool == "shoumen" else child_jupedsim
    res = fn(spec, ag, cap_s, stall_s, case)
    print("RESULT " + json.dumps(res), flush=True)


# ----------------------------------------------------------------------------- parent
def peer_ok(peer: Path) -> tuple[bool, str]:
    if not peer.exists():
        return False, f"peer python {peer} not found"
    p = subprocess.run([str(peer), "-c", "import jupedsim, shapely, numpy; print(jupedsim.__version__)"],
                       capture_output=True, text=True, check=False)
    if p.returncode != 0:
        return False, f"jupedsim is not importable with {peer}: {p.stderr.strip().splitlines()[-1:]}"
    return True, p.stdout.strip()


def run_child(python: str, tool: str, case: str, npz: Path, spec: Path, cap_s: float, stall_s: float
              ) -> dict[str, Any]:
    cmd = [python, str(Path(__file__).resolve()), "--child", tool, "--case-name", case, "--npz", str(npz),
           "--spec", str(spec), "--cap", str(cap_s), "--stall", str(stall_s)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - t0
    line = next((ln for ln in stdout.splitlines() if ln.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        return {"error": f"child exited with {proc.returncode}", "stdout_tail": stdout[-2000:]}
    res = json.loads(line[len("RESULT "):])
    res.update(process_wall_s=wall, cpu_s=ru.ru_utime + ru.ru_stime, peak_mib=ru.ru_maxrss / 1024.0,
               agent_steps_per_s=res["agent_steps"] / res["loop_wall_s"] if res["loop_wall_s"] > 0 else None)
    return res


def evac_text(r: dict[str, Any]) -> str:
    if "error" in r:
        return "error"
    if r["evac_time_s"] is not None:
        return f"{r['evac_time_s']:.1f} s"
    if r["stalled"]:
        return f"froze: {r['inside']} left inside (nobody out for {r['stall_s']:.0f} s; stopped at {r['t_end_s']:.0f} s)"
    return f"not out by the {r['t_end_s']:.0f} s cap: {r['inside']} left inside"


def table(results: list[dict[str, Any]]) -> str:
    head = ("| case | tool | dt s | evac time | specific flow p/(m·s) | wall s | CPU s | agent-steps/s | peak MiB "
            "| CPU JuPedSim / ours |")
    rows = [head, "|" + "---|" * 10]
    cpu = {(r["case"], r["tool"]): r["result"].get("cpu_s") for r in results}
    for r in results:
        x = r["result"]
        if "error" in x:
            rows.append(f"| {r['case']} | {r['tool']} | | error | | | | | | |")
            continue
        ratio = ""
        if r["tool"] == "jupedsim" and cpu.get((r["case"], "shoumen")):
            ratio = f"{x['cpu_s'] / cpu[(r['case'], 'shoumen')]:.1f}" + ("*" if x["evac_time_s"] is None else "")
        f = x["specific_flow_p_per_ms"]
        rows.append(f"| {r['case']} | {r['tool']} | {x['dt_s']:g} | {evac_text(x)} | {'' if f is None else f'{f:.2f}'} "
                    f"| {x['sim_wall_s']:.1f} | {x['cpu_s']:.1f} | {x['agent_steps_per_s']:,.0f} "
                    f"| {x['peak_mib']:.0f} | {ratio} |")
    if any(r["tool"] == "jupedsim" and r["result"].get("evac_time_s", 0) is None for r in results):
        rows.append("\n\\* JuPedSim stopped before everybody was out: its CPU s covers only the simulated time "
                    "up to the stop, so the ratio understates its cost of a full evacuation.")
    return "\n".join(rows)


HELP_EPILOG = """cases:
  a  1,000 persons in a 20 x 20 m room with one 1 m exit (middle of the north wall)
  b  5,000 persons in a 50 x 50 m room with four 2 m exits (one in the middle of each wall)
  Both tools get the same walkable polygon (room + door passages through a 0.2 m wall + exit
  areas 0.5 m deep behind the doors; an agent is out once its centre is in an exit area), the
  same agents (radius 0.2 m, desired speed 1.34 m/s, uniformly placed at least 0.42 m apart and
  0.3 m from the walls, drawn from --seed) and each tool's own CFS defaults otherwise (Shoumen:
  time gap 1.2 s, dt 0.05 s, 0.1 m raster; JuPedSim CollisionFreeSpeedModel: time gap 1 s,
  dt 0.01 s). JuPedSim agents are sent to their nearest exit (it has no route choice); Shoumen's
  walk down the walking-distance field to the exits.

columns:
  evac time      simulated time the last person is out; "froze: N left inside" when nobody has
                 left for --stall simulated seconds, or "not out by the cap" at --cap
  specific flow  0.8 N_out / (t90 - t10) / W: people through all exits between the 10th and 90th
                 percentile of the exit times, per second and per metre of total exit width W
                 (1 m in a, 8 m in b); over the agents that got out when a run froze
  wall s         wall-clock of the child's build + simulation (imports and warm-up excluded)
  CPU s          ru_utime + ru_stime of the child process (os.wait4): everything it did
  agent-steps/s  sum over time steps of agents inside / wall-clock of the stepping loop
  peak MiB       ru_maxrss of the child process
  ratio          CPU s of JuPedSim / CPU s of Shoumen on the same case (* when JuPedSim stopped
                 early: its CPU s then covers only part of the evacuation)
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Shoumen crowd model vs JuPedSim 1.4.2 CollisionFreeSpeedModel",
                                 epilog=HELP_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default="a,b", help="comma-separated case names (default a,b; known: "
                    + ",".join(CASES) + ")")
    ap.add_argument("--peer-python", default=".venv-bench/bin/python",
                    help="python with jupedsim 1.4.2 installed (default .venv-bench/bin/python)")
    ap.add_argument("--seed", type=int, default=0, help="seed for the agents' positions (default 0)")
    ap.add_argument("--out", default="benchmarks/results_crowd.json", help="results JSON (default %(default)s)")
    ap.add_argument("--cap", type=float, default=3000.0, help="simulated-time cap per run, s (default 3000)")
    ap.add_argument("--stall", type=float, default=120.0,
                    help="declare a run frozen when nobody left for this many simulated s (default 120)")
    ap.add_argument("--tools", default="shoumen,jupedsim", help="tools to run: shoumen, jupedsim or none (default shoumen,jupedsim)")
    ap.add_argument("--reuse", help="earlier results JSON files, comma-separated (same seed): their runs of the requested cases that "
                    "this call does not make (e.g. JuPedSim's, with --tools shoumen) go into the table and JSON")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--case-name", help=argparse.SUPPRESS)
    ap.add_argument("--npz", help=argparse.SUPPRESS)
    ap.add_argument("--spec", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        child_main(a.child, a.case_name, a.npz, a.spec, a.cap, a.stall)
        return 0

    names = [c.strip() for c in a.cases.split(",") if c.strip()]
    unknown = [c for c in names if c not in CASES]
    if unknown:
        ap.error(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(CASES)}")
    tools = [t.strip() for t in a.tools.split(",") if t.strip() and t.strip() != "none"]
    if set(tools) - {"shoumen", "jupedsim"}:
        ap.error("--tools takes shoumen and/or jupedsim, or none (only merge the --reuse files)")
    peer = Path(a.peer_python)
    peer = peer if peer.is_absolute() else ROOT / peer
    ours = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
    peer_version = None
    if "jupedsim" in tools:
        ok, msg = peer_ok(peer)
        if ok:
            peer_version = msg
            print(f"peer: JuPedSim {msg} ({peer})")
        else:
            print(f"peer: {msg}: running Shoumen only", flush=True)
            tools = [t for t in tools if t != "jupedsim"]
    plan = [(c, t) for c in names for t in tools if t in CASES[c].tools]
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as td:
        for k, (cname, tool) in enumerate(plan, 1):
            case = CASES[cname]
            npz, specf = Path(td) / f"{cname}.npz", Path(td) / f"{cname}.json"
            if not npz.exists():
                spec, ag = case.build(a.seed)
                np.savez(npz, **ag)
                specf.write_text(json.dumps(spec))
            print(f"[{k}/{len(plan)}] case {cname} ({case.description}), {tool} ...", flush=True)
            r = run_child(ours if tool == "shoumen" else str(peer), tool, cname, npz, specf, a.cap, a.stall)
            results.append({"case": cname, "tool": tool, "result": r})
            if "error" in r:
                print(f"[{k}/{len(plan)}] case {cname}, {tool}: FAILED {r['error']}\n{r['stdout_tail']}", flush=True)
            else:
                print(f"[{k}/{len(plan)}] case {cname}, {tool}: {evac_text(r)}, wall {r['sim_wall_s']:.1f} s, "
                      f"CPU {r['cpu_s']:.1f} s, peak {r['peak_mib']:.0f} MiB", flush=True)
    for prev_path in [p.strip() for p in (a.reuse or "").split(",") if p.strip()]:
        prev = json.loads(Path(prev_path).read_text())
        if prev.get("seed") != a.seed:
            ap.error(f"--reuse {prev_path}: its seed {prev.get('seed')} is not --seed {a.seed}")
        done = {(r["case"], r["tool"]) for r in results}
        for r in prev["runs"]:
            if r["case"] in names and (r["case"], r["tool"]) not in done and "error" not in r["result"]:
                results.append({**r, "reused_from": prev_path, "reused_date": prev.get("date")})
                if r["tool"] == "jupedsim":
                    peer_version = peer_version or prev.get("peer")
    order = {(c, t): i for i, (c, t) in enumerate((c, t) for c in names for t in ("shoumen", "jupedsim"))}
    results.sort(key=lambda r: order[(r["case"], r["tool"])])
    doc = {"date": time.strftime("%Y-%m-%d"), "machine": {"platform": platform.platform(),
                                                          "processor": platform.processor(),
                                                          "cpus": os.cpu_count(), "python": platform.python_version()},
           "seed": a.seed, "cap_s": a.cap, "stall_s": a.stall, "peer": peer_version,
           "cases": {c: CASES[c].description for c in names}, "runs": results}
    out = Path(a.out)
    out = out if out.is_absolute() else ROOT / out
    out.write_text(json.dumps(doc, indent=1))
    print(f"\nresults: {out}\n")
    print(table(results))
    if not any(r["tool"] == "jupedsim" for r in results):
        print("\n(JuPedSim not run: Shoumen only)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
