"""Benchmark of issue 4: the two-zone smoke model over every compartment of the sample
community at once (all 15 buildings and the garage: ~3,100 compartments, ~9,300 vents), one
hour simulated with a fire in every building (a fast t² kitchen fire of 3 MW in a mid-storey
flat, its door open), on one core. Reports wall and CPU seconds per simulated hour and the
speed-up over real time. Not a test: nothing asserts a time.

    .venv/bin/python benchmarks/bench_smoke.py [--dt 0.5] [--hours 1]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dt", type=float, default=0.5, help="zone-model step, s (default 0.5)")
    ap.add_argument("--hours", type=float, default=1.0, help="simulated hours (default 1)")
    a = ap.parse_args(argv)

    from geometry.sample import sample_community
    from twin.fire.component import zone_model_of
    from twin.fire.compartments import site_network
    from twin.fire.sources import FireSource

    site = sample_community()
    t0 = time.perf_counter()
    net = site_network(site)
    zm = zone_model_of(net)
    fires = []
    for b in site.buildings:
        units = [u for L in range(b.storeys) for u in b.unit_ids(L)] if b.storeys else []
        if not units:
            continue
        u = units[len(units) // 2]
        fires.append(FireSource(u, "fast", 3000.0, fuel="kitchen"))
        for v in net.vents_of(u):
            if net.vent_kind[v] == 0:
                zm.vopen[v] = 1.0
    build = time.perf_counter() - t0
    zm.run(fires, until_s=10.0, dt=a.dt)  # warm-up (numba compile or cache load)
    w0, c0 = time.perf_counter(), time.process_time()
    zm.run(fires, until_s=10.0 + 3600.0 * a.hours, dt=a.dt, record_every_s=5.0)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    led = zm.ledgers()
    print(f"compartments {len(net.ids):,}, vents {len(net.vent_ids):,}, fires {len(fires)}, dt {a.dt} s")
    print(f"network + model build: {build:.2f} s")
    print(f"simulated {3600 * a.hours:.0f} s in {wall:.2f} s wall, {cpu:.2f} s CPU: "
          f"{3600 * a.hours / cpu:,.0f}x faster than real time (CPU)")
    err = abs(led["mass_layers"] + led["mass_out"] - led["mass_in"]) / max(led["mass_in"], 1e-12)
    print(f"mass balance error {err:.1e}, untenable-by-layer compartments at the end: "
          f"{int(np.sum(zm.mu > 0))} with smoke")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
