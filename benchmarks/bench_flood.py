"""Throughput of the two flood solvers (twin.flood) on a 500 x 500 rain-on-grid run, one core.

Bumpy sloping 1 m grid (Manning n 0.03), 50 mm/h rain, open west side; the model is wetted for
600 s (this also compiles the kernels), then timed for further simulated time; the figure is
cell-updates per CPU second (steps x open cells / process time), best of 3. Not a test.
Run: NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/bench_flood.py
"""

from __future__ import annotations

import time

import numpy as np

from twin.flood import FloodForcing, FloodGrid, FloodModel


def _model(solver: str, n: int = 500) -> FloodModel:
    rng = np.random.default_rng(1)
    x = np.arange(n) * 1.0
    X, Y = np.meshgrid(x, x)
    z = 0.01 * X + 0.005 * Y + 0.3 * np.sin(X / 15) * np.cos(Y / 11) + 0.05 * rng.random((n, n))
    forcing = FloodForcing(rain_times_s=[0.0, 7200.0], rain_mm_h=[50.0],
                           boundaries={"west": "open"})
    return FloodModel(FloodGrid(z, 1.0, manning_n=0.03), solver=solver, forcing=forcing)


def main() -> None:
    for solver, span in (("inertial", 120.0), ("fv", 40.0)):
        m = _model(solver)
        m.run(600.0, record_fields=False)
        best = 0.0
        for _ in range(3):
            cpu = time.process_time()
            res = m.run(m.time_s + span, record_fields=False)
            cpu = time.process_time() - cpu
            best = max(best, res.cell_updates / cpu)
        mb = m.mass_balance()
        print(f"{solver:9s} 500x500 rain-on-grid: {best / 1e6:6.1f} M cell-updates/s (CPU, one "
              f"core), {res.steps} steps per {span:.0f} s, mass error {mb.relative_error:.1e}")


if __name__ == "__main__":
    main()
