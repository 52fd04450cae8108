"""Covering and p-median solvers on Beasley's OR-Library instances: exact vs heuristic.

Prints, per instance: the exact MILP's time and objective (and whether it is proven optimal),
the heuristic's time, objective and gap to the LP relaxation bound, and the published optimum.
Not a test: nothing here asserts (tests/validation/test_optimizer_orlib.py does).

Run: ``.venv/bin/python benchmarks/bench_coverage.py [--scp-only | --pmed-only]``.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from optimizer.cameras import CoverageProblem, min_cost_cover, read_orlib_scp
from optimizer.response import p_median, read_orlib_pmed

DATA = Path("/work/shared/data/benchmarks")


def bench_scp() -> None:
    rows = [ln for ln in (DATA / "orlib_scp/optima.csv").read_text().splitlines()
            if not ln.startswith("#")]
    best = {r["instance"]: r["best_known"] for r in csv.DictReader(rows)}
    names = sorted(best, key=lambda s: (int(s[3]), int(s[4:])))
    print(f"{'instance':9} {'m x n':>10} {'optimum':>8} | {'exact':>6} {'proven':>6} {'time s':>7} |"
          f" {'heur':>6} {'time ms':>8} {'gap LP':>7} {'vs opt':>7}")
    tot_e = tot_h = 0.0
    for name in names:
        inst = read_orlib_scp(DATA / f"orlib_scp/{name}.txt")
        pb = CoverageProblem.from_orlib(inst)
        ex = min_cost_cover(pb, method="exact")
        h = min_cost_cover(pb, method="heuristic")
        tot_e += ex.time_s
        tot_h += h.time_s
        m, n = inst.incidence.shape
        print(f"{name:9} {f'{m}x{n}':>10} {best[name]:>8} | {ex.cost:6.0f} {ex.optimal!s:>6} "
              f"{ex.time_s:7.2f} | {h.cost:6.0f} {h.time_s * 1e3:8.1f} {h.gap:7.2%} "
              f"{h.cost / ex.cost - 1:7.2%}")
    print(f"SCP total: exact {tot_e:.2f} s, heuristic {tot_h * 1e3:.0f} ms (heuristic time "
          f"excludes its LP bound)\n")


def bench_pmed() -> None:
    lines = (DATA / "orlib_pmed/optima.txt").read_text().splitlines()[1:]
    opt = {ln.split()[0]: ln.split()[1] for ln in lines if ln.strip()}
    print(f"{'instance':9} {'n':>4} {'p':>3} {'optimum':>8} | {'exact':>6} {'proven':>6} "
          f"{'time s':>7} {'how':>26} | {'heur':>6} {'time s':>7} {'gap LP':>7}")
    tot = 0.0
    for name in sorted(opt, key=lambda s: int(s[4:])):
        inst = read_orlib_pmed(DATA / f"orlib_pmed/{name}.txt")
        t0 = time.perf_counter()
        r = p_median(inst.dist, p=inst.p)
        te = time.perf_counter() - t0
        tot += te
        t0 = time.perf_counter()
        h = p_median(inst.dist, p=inst.p, method="heuristic")
        th = time.perf_counter() - t0
        print(f"{name:9} {inst.dist.shape[0]:4d} {inst.p:3d} {opt[name]:>8} | {r.objective:6.0f} "
              f"{r.optimal!s:>6} {te:7.2f} {r.method:>26} | {h.objective:6.0f} {th:7.2f} "
              f"{h.gap:7.2%}")
    print(f"p-median total exact: {tot:.2f} s (heuristic time includes its LP bound)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--scp-only", action="store_true")
    g.add_argument("--pmed-only", action="store_true")
    args = ap.parse_args()
    if not args.pmed_only:
        bench_scp()
    if not args.scp_only:
        bench_pmed()


if __name__ == "__main__":
    main()
