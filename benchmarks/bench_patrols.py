"""Team Orienteering benchmark: our ILS (optimizer.patrols) on Chao, Golden & Wasil (1996)
instances against the best known totals (shared/data/benchmarks/chao_top/best_known.txt).

Run: ``.venv/bin/python benchmarks/bench_patrols.py [--seeds N] [--restarts R] [--iterations I]``.
Prints per instance and seed: best known, ours, gap %, seconds (after a warm-up call that loads
or compiles the numba kernel). Not a test: nothing is asserted here.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from optimizer.patrols import plan_patrols, read_chao_top

DATA = Path("/work/shared/data/benchmarks/chao_top")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0 .. N-1 per instance")
    ap.add_argument("--restarts", type=int, default=10)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--data", type=Path, default=DATA)
    args = ap.parse_args()
    best = {ln.split()[0]: float(ln.split()[1])
            for ln in (args.data / "best_known.txt").read_text().splitlines() if ln.strip()}
    t0 = time.perf_counter()
    plan_patrols(np.array([[0.0, 1.0], [1.0, 0.0]]), prizes=[0, 1], start=0, end=0, n_patrols=1, shift_s=5)
    print(f"warm-up (kernel load/compile): {time.perf_counter() - t0:.2f} s")
    print(f"{'instance':<12} {'seed':>4} {'best known':>10} {'ours':>8} {'gap %':>7} {'seconds':>8}")
    for name, bk in best.items():
        inst = read_chao_top(args.data / name)
        n = inst.prizes.shape[0]
        gaps, secs = [], []
        for seed in range(args.seeds):
            t = time.perf_counter()
            plan = plan_patrols(inst.distance, prizes=inst.prizes, start=0, end=n - 1, n_patrols=inst.n_routes,
                                shift_s=inst.tmax, speed_m_s=1.0, seed=seed, restarts=args.restarts,
                                iterations=args.iterations)
            dt = time.perf_counter() - t
            gap = 100.0 * (bk - plan.prize) / bk
            gaps.append(gap)
            secs.append(dt)
            print(f"{name:<12} {seed:>4} {bk:>10.0f} {plan.prize:>8.0f} {gap:>7.2f} {dt:>8.2f}")
        print(f"{name:<12} {'all':>4} {'':>10} {'':>8} {np.mean(gaps):>7.2f} {np.mean(secs):>8.2f}"
              f"   (mean; worst gap {max(gaps):.2f} %)")


if __name__ == "__main__":
    main()
