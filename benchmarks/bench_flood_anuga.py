"""Flood solvers (twin.flood) side by side with ANUGA (PyPI ``anuga``), one core (issue 5).

Cases (both tools, same discrete bed, depths compared per square cell; see _anuga_cases.py):

* ritter — Ritter's dam break (flood.md): a 130 m x 0.3 m channel on a 0.1 m grid (ours: 3 x 1300
  square cells, "fv" solver; ANUGA: rectangular_cross 1300 x 3, 15,600 triangles, its default
  flow algorithm DE0), h0 = 1 m for x < 0, dry beyond, flat, frictionless, closed (reflective)
  walls, t = 10 s. Along the centre row: mean absolute depth error against the exact solution
  over -36.3 m < x < 67.6 m (tail - 5 m to front + 5 m, as tests/validation/test_flood_solvers.py),
  depth at the dam (x = 0), front (largest x with depth > 1 mm), wall and CPU time of the run.
* ritter_sweep — the same on other grids (ours second order 0.4 / 0.2 / 0.05 m and first order
  0.1 m, ANUGA 0.2 / 0.4 / 0.8 m) to compare the tools' wall time at equal accuracy.
* rain200 / rain500 — rain on grid: the synthetic DEM of _anuga_cases.rain_dem (bumps, tilt, a
  1.5 m depression), 2 m cells, 200 x 200 and 500 x 500, Manning n 0.03, 100 mm/h uniform rain,
  closed boundaries, 600 s simulated (ANUGA on 500 x 500 for 120 s only, --anuga-rain500-s;
  ours is also sampled and timed at that time). Ours: "inertial" and "fv"; ANUGA: DE0 with the
  step capped at our fv solver's dry-grid step (ANUGA otherwise jumps a dry mesh to the yield
  time in one step). Cell-updates/s = steps x cells / wall s (ANUGA: triangles, 4 per square
  cell), wall s per simulated hour, stored volume against the rain volume, depths at five points.

Ours runs in this process (project venv, NUMBA_NUM_THREADS=1 set here before numba loads, kernels
warmed up first); ANUGA in ``.venv-bench-flood`` as a subprocess with OMP_NUM_THREADS=1. The
machine is shared, so CPU s are reported next to wall s. Not a test: nothing asserts a time.

Run:
    python3 -m venv .venv-bench-flood && .venv-bench-flood/bin/pip install anuga==4.1.0
    .venv/bin/python benchmarks/bench_flood_anuga.py            # ~6 min on 2 shared cores
    .venv/bin/python benchmarks/bench_flood_anuga.py --tools ours
    .venv/bin/python benchmarks/bench_flood_anuga.py --cases rain200_smooth_bed   # ANUGA on a
        continuous bed (sensitivity check of the depth differences, ~3 min)
Results: benchmarks/results_flood_anuga.json (``--out``).
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import argparse
import json
import math
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from _anuga_cases import GRAVITY_M_S2, rain_dem, ritter_depth

from twin.flood import FloodForcing, FloodGrid, FloodModel

ANUGA_PY = ROOT / ".venv-bench-flood" / "bin" / "python"

# Ritter case
DX_RITTER_M = 0.1
H0_M = 1.0
T_RITTER_S = 10.0
X0_M, X1_M = -50.0, 80.0
NY_RITTER = 3
# rain case
CELL_M = 2.0
RAIN_MM_H = 100.0
T_RAIN_S = 600.0
MANNING_N = 0.03
# points as fractions of the side (x, y): depression centre, south-west corner (low end of the
# tilt), a hollow between bumps, a slope, a bump crest
POINTS_UV: tuple[tuple[str, float, float], ...] = (
    ("depression", 0.60, 0.45), ("SW corner", 0.03, 0.03), ("hollow", 0.25, 0.50),
    ("slope", 0.75, 0.80), ("crest", 0.42, 0.10))


def _anuga(spec: dict) -> dict:
    """Run one case in ANUGA's venv; its JSON result."""
    if not ANUGA_PY.exists():
        raise SystemExit(f"{ANUGA_PY}: not found; create it with python3 -m venv "
                         f".venv-bench-flood && .venv-bench-flood/bin/pip install anuga")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as tmp:
        sp, op = Path(tmp) / "spec.json", Path(tmp) / "out.json"
        sp.write_text(json.dumps(spec))
        proc = subprocess.run([str(ANUGA_PY), str(HERE / "_anuga_cases.py"), str(sp), str(op)],
                              env=env, capture_output=True, text=True, cwd=tmp, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"ANUGA case {spec['case']} failed:\n{proc.stderr[-3000:]}")
        return json.loads(op.read_text())


# ----------------------------------------------------------------------------- Ritter
def _ritter_metrics(h_row: np.ndarray, dx: float = DX_RITTER_M) -> dict:
    xc = X0_M + (np.arange(h_row.size) + 0.5) * dx
    exact = ritter_depth(xc, T_RITTER_S, H0_M)
    c0 = math.sqrt(GRAVITY_M_S2 * H0_M)
    region = (xc > -c0 * T_RITTER_S - 5.0) & (xc < 2.0 * c0 * T_RITTER_S + 5.0)
    wet = xc[h_row > 1e-3]
    return {"mae_depth_m": float(np.abs(h_row - exact)[region].mean()),
            "max_abs_error_m": float(np.abs(h_row - exact)[region].max()),
            "depth_at_dam_m": float(np.interp(0.0, xc, h_row)),
            "front_x_m": float(wet.max()) if wet.size else None,
            "tail_x_m": float(xc[h_row < 0.99 * H0_M].min()),
            "exact": {"depth_at_dam_m": 4.0 * H0_M / 9.0, "front_x_m": 2.0 * c0 * T_RITTER_S,
                      "tail_x_m": -c0 * T_RITTER_S}}


def ritter_ours(dx: float = DX_RITTER_M, order: int = 2) -> dict:
    nx = round((X1_M - X0_M) / dx)
    grid = FloodGrid(np.zeros((NY_RITTER, nx)), dx, origin=(X0_M, 0.0), manning_n=0.0)
    xc = grid.cell_centres()[0]
    h_init = np.repeat(np.where(xc < 0.0, H0_M, 0.0)[None, :], NY_RITTER, axis=0)
    m = FloodModel(grid, solver="fv", order=order, initial_depth_m=h_init)
    cpu = time.process_time()
    res = m.run(T_RITTER_S, record_fields=False)
    cpu = time.process_time() - cpu
    out = {"tool": "ours", "solver": "fv", "order": order, "cfl": m.cfl, "dx_m": dx, "cells": grid.bed_m.size,
           "steps": res.steps,
           "wall_s": res.wall_s, "cpu_s": cpu,
           "mass_rel_error": res.mass_balance.relative_error}
    out.update(_ritter_metrics(m.depth_m[NY_RITTER // 2], dx))
    return out


def ritter_anuga(dx: float = DX_RITTER_M) -> dict:
    nx = round((X1_M - X0_M) / dx)
    r = _anuga({"case": "ritter", "dx_m": dx, "h0_m": H0_M, "t_end_s": T_RITTER_S,
                "nx": nx, "ny": NY_RITTER, "x_dam_m": -X0_M})
    h = np.asarray(r.pop("depth_m"))
    r["dx_m"] = dx
    r.update(_ritter_metrics(h[NY_RITTER // 2], dx))
    return r


def ritter_sweep(tools: set[str]) -> dict:
    """Accuracy against cost: ours on finer grids, ANUGA on coarser ones (3 cells across)."""
    out: dict = {"ours": [], "anuga": []}
    if "ours" in tools:
        # second order (default) on coarser and finer grids, and the first-order scheme on the
        # 0.1 m grid for reference
        for dx, order in ((0.4, 2), (0.2, 2), (0.05, 2), (0.1, 1)):
            out["ours"].append(ritter_ours(dx, order))
            print("ritter sweep ours ", dx, "order", order, out["ours"][-1]["mae_depth_m"],
                  out["ours"][-1]["wall_s"])
    if "anuga" in tools:
        for dx in (0.2, 0.4, 0.8):
            out["anuga"].append(ritter_anuga(dx))
            print("ritter sweep ANUGA", dx, out["anuga"][-1]["mae_depth_m"],
                  out["anuga"][-1]["wall_s"])
    return out


# ----------------------------------------------------------------------------- rain on grid
def _points_ij(n: int) -> list[tuple[int, int]]:
    return [(min(int(v * n), n - 1), min(int(u * n), n - 1)) for _, u, v in POINTS_UV]


def _fv_dry_dt(dx: float) -> float:
    # ANUGA's step cap of the rain runs: the first-order fv dry-grid step (kept as measured; the
    # second-order fv caps at 0.25 / 0.45 of it)
    from twin.flood import DEFAULT_CFL
    from twin.flood.solvers import DT_REFERENCE_DEPTH_M
    return DEFAULT_CFL * dx / math.sqrt(GRAVITY_M_S2 * DT_REFERENCE_DEPTH_M)


def rain_ours(n: int, solver: str, t_sample_s: float) -> tuple[dict, np.ndarray | None]:
    """Our solver on the n x n rain case to T_RAIN_S; depths also at ``t_sample_s``."""
    z = rain_dem(n, CELL_M)
    forcing = FloodForcing(rain_times_s=[0.0, T_RAIN_S], rain_mm_h=[RAIN_MM_H])
    m = FloodModel(FloodGrid(z, CELL_M, manning_n=MANNING_N), solver=solver, forcing=forcing)
    pts = _points_ij(n)
    steps, wall, cpu = 0, 0.0, 0.0
    sample = None
    stops = sorted({t_sample_s, T_RAIN_S})
    for t in stops:
        c = time.process_time()
        res = m.run(t, record_fields=False)
        cpu += time.process_time() - c
        wall += res.wall_s
        steps += res.steps
        if t == t_sample_s:
            sample = m.depth_m
            wall_sample, steps_sample = wall, steps
    mb = m.mass_balance()
    h = m.depth_m
    rain_m3 = RAIN_MM_H / 3.6e6 * T_RAIN_S * (n * CELL_M) ** 2
    cells = n * n
    return ({"tool": "ours", "solver": solver, "n": n, "cells": cells, "steps": steps,
             "t_end_s": T_RAIN_S, "wall_s": wall, "cpu_s": cpu,
             "cell_updates_per_s_wall": steps * cells / wall,
             "cell_updates_per_s_cpu": steps * cells / cpu,
             "wall_s_per_sim_hour": wall / T_RAIN_S * 3600.0,
             "stored_m3": mb.stored_m3, "rain_m3": rain_m3,
             "rain_m3_booked": mb.rain_m3,
             "volume_rel_error": abs(mb.stored_m3 - rain_m3) / rain_m3,
             "ledger_rel_error": mb.relative_error,
             "max_depth_m": float(h.max()),
             "point_depth_m": [float(h[j, i]) for j, i in pts],
             "t_sample_s": t_sample_s,
             "wall_s_to_sample": wall_sample, "steps_to_sample": steps_sample,
             "point_depth_at_sample_m": [float(sample[j, i]) for j, i in pts]}, sample)


def rain_anuga(n: int, t_end_s: float) -> tuple[dict, np.ndarray]:
    r = _anuga({"case": "rain", "n": n, "cell_m": CELL_M, "t_end_s": t_end_s,
                "rain_mm_h": RAIN_MM_H, "manning_n": MANNING_N, "points_ij": _points_ij(n),
                "max_dt_s": _fv_dry_dt(CELL_M), "yield_s": min(60.0, t_end_s),
                "return_field": True})
    h = np.asarray(r.pop("depth_m"))
    tri = r["triangles"]
    r.update({"n": n, "cells": n * n,
              "triangle_updates_per_s_wall": r["steps"] * tri / r["wall_s"],
              "triangle_updates_per_s_cpu": r["steps"] * tri / r["cpu_s"],
              "cell_updates_per_s_wall": r["steps"] * n * n / r["wall_s"],
              "wall_s_per_sim_hour": r["wall_s"] / t_end_s * 3600.0,
              "extrapolated_per_hour": t_end_s < T_RAIN_S})
    return r, h


def _compare(ours_h: np.ndarray, anuga_h: np.ndarray, n: int) -> dict:
    d = ours_h - anuga_h
    pts = _points_ij(n)
    return {"point_names": [p[0] for p in POINTS_UV], "points_ij": pts,
            "point_bed_m": [float(rain_dem(n, CELL_M)[j, i]) for j, i in pts],
            "point_abs_diff_m": [float(abs(d[j, i])) for j, i in pts],
            "max_abs_diff_at_points_m": float(max(abs(d[j, i]) for j, i in pts)),
            "max_abs_diff_field_m": float(np.abs(d).max()),
            "rms_diff_field_m": float(np.sqrt(np.mean(d * d)))}


# ----------------------------------------------------------------------------- bench_flood.py
def throughput_bench_flood() -> dict:
    """Run benchmarks/bench_flood.py (our 500 x 500 throughput figures) and keep its lines."""
    env = dict(os.environ, NUMBA_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(HERE / "bench_flood.py")], env=env,
                          capture_output=True, text=True, cwd=str(ROOT), check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"bench_flood.py failed:\n{proc.stderr[-3000:]}")
    return {"lines": proc.stdout.strip().splitlines()}


def _warm_up() -> None:
    """Compile / load the numba kernels before anything is timed."""
    for solver in ("inertial", "fv"):
        g = FloodGrid(np.zeros((4, 4)), 1.0)
        f = FloodForcing(rain_times_s=[0.0, 10.0], rain_mm_h=[10.0])
        FloodModel(g, solver=solver, forcing=f, initial_depth_m=0.1).run(2.0,
                                                                          record_fields=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tools", default="ours,anuga", help="comma list of ours, anuga")
    ap.add_argument("--cases", default="ritter,ritter_sweep,rain200,rain500,throughput",
                    help="comma list of ritter, ritter_sweep (ours finer, ANUGA coarser), "
                         "rain200, rain500, throughput (bench_flood.py); also rain200_smooth_bed "
                         "(ANUGA on a continuous bed, sensitivity check)")
    ap.add_argument("--anuga-rain200-s", type=float, default=T_RAIN_S,
                    help="simulated s for ANUGA on 200 x 200 (default 600)")
    ap.add_argument("--anuga-rain500-s", type=float, default=120.0,
                    help="simulated s for ANUGA on 500 x 500 (default 120; per hour "
                         "extrapolated)")
    ap.add_argument("--out", default=str(HERE / "results_flood_anuga.json"))
    a = ap.parse_args()
    tools = set(a.tools.split(","))
    cases = a.cases.split(",")
    import numba
    results: dict = {"machine": {"python": platform.python_version(),
                                 "numpy": np.__version__, "numba": numba.__version__,
                                 "cpu_count": os.cpu_count(), "platform": platform.platform(),
                                 "numba_threads": numba.config.NUMBA_NUM_THREADS},
                     "date": time.strftime("%Y-%m-%d %H:%M")}
    if "ours" in tools:
        _warm_up()
    for case in cases:
        if case == "ritter":
            r = {}
            if "ours" in tools:
                r["ours"] = ritter_ours()
                print("ritter ours ", {k: v for k, v in r["ours"].items() if k != "exact"})
            if "anuga" in tools:
                r["anuga"] = ritter_anuga()
                print("ritter ANUGA", {k: v for k, v in r["anuga"].items() if k != "exact"})
            if len(r) == 2:
                r["anuga_over_ours_wall"] = r["anuga"]["wall_s"] / r["ours"]["wall_s"]
                r["anuga_over_ours_cpu"] = r["anuga"]["cpu_s"] / r["ours"]["cpu_s"]
            results["ritter"] = r
        elif case == "ritter_sweep":
            results["ritter_sweep"] = ritter_sweep(tools)
        elif case in ("rain200", "rain500"):
            n = int(case[4:])
            t_anuga = a.anuga_rain200_s if n == 200 else a.anuga_rain500_s
            r = {}
            samples = {}
            if "ours" in tools:
                for solver in ("inertial", "fv"):
                    r[solver], samples[solver] = rain_ours(n, solver, t_anuga)
                    print(f"{case} ours {solver}",
                          {k: v for k, v in r[solver].items() if "point" not in k})
            if "anuga" in tools:
                r["anuga"], h_anuga = rain_anuga(n, t_anuga)
                print(f"{case} ANUGA", {k: v for k, v in r["anuga"].items() if "point" not in k})
                for solver, h in samples.items():
                    r[f"{solver}_vs_anuga_at_{t_anuga:g}s"] = _compare(h, h_anuga, n)
                    # same simulated span (0 to ANUGA's end time) for both tools
                    r[f"anuga_over_{solver}_wall_same_span"] = (
                        r["anuga"]["wall_s"] / r[solver]["wall_s_to_sample"])
            results[case] = r
        elif case == "rain200_smooth_bed":
            # sensitivity check (not in the default list, ~3 min): ANUGA on the DEM's surface
            # sampled at the triangle vertices (continuous bed) instead of the stepped one
            spec = {"case": "rain", "n": 200, "cell_m": CELL_M, "t_end_s": T_RAIN_S,
                    "rain_mm_h": RAIN_MM_H, "manning_n": MANNING_N,
                    "points_ij": _points_ij(200), "max_dt_s": _fv_dry_dt(CELL_M),
                    "yield_s": 60.0, "bed": "smooth"}
            r = _anuga(spec)
            r.pop("depth_m", None)
            results["rain200_anuga_smooth_bed"] = r
            print("rain200 ANUGA smooth bed", r)
        elif case == "throughput":
            results["bench_flood"] = throughput_bench_flood()
            print("\n".join(results["bench_flood"]["lines"]))
        else:
            raise SystemExit(f"--cases: unknown case {case!r}")
    if "anuga" in tools:
        results["machine"]["anuga_python"] = subprocess.run(
            [str(ANUGA_PY), "-c",
             "import platform, numpy; print(platform.python_version(), numpy.__version__)"],
            capture_output=True, text=True, check=True).stdout.strip()
    out = Path(a.out)
    if out.exists():  # keep cases of earlier runs that this run did not make
        old = json.loads(out.read_text())
        for k, v in old.items():
            if k not in results:
                results[k] = v
            elif isinstance(v, dict) and isinstance(results[k], dict) and k != "machine":
                for kk, vv in v.items():
                    results[k].setdefault(kk, vv)
    out.write_text(json.dumps(results, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
