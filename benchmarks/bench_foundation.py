"""Foundation timings: sample community, navigation graph, distance fields, network-flow
evacuation of the demo scenario. Run: ``.venv/bin/python benchmarks/bench_foundation.py``.

Not a test: it prints wall-clock figures (best of N after a warm-up) for benchmarks/README.md.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np


def best_of(fn: Callable[[], object], n: int = 3) -> float:
    fn()  # warm-up (JIT compile, caches)
    best = float("inf")
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    from geometry.distance import distance_field
    from geometry.navgraph import build_nav_graph
    from geometry.raster import outdoor_raster, rasterize_polygons
    from geometry.sample import sample_community
    from scenarios.loader import load_scenario
    from scenarios.run import run_scenario
    from shapely.geometry import box

    site = sample_community()
    rows = [("sample community (18 buildings, 3,500 devices)", best_of(sample_community))]
    rows.append(("navigation graph of the sample (3,757 nodes)", best_of(lambda: build_nav_graph(site))))
    rows.append(("outdoor raster of the sample at 0.5 m", best_of(lambda: outdoor_raster(site, cell_size_m=0.5))))
    big = rasterize_polygons([box(0, 0, 150, 125)], cell_size_m=0.25)  # 600 x 500 cells
    mask = np.zeros_like(big.walkable)
    mask[250, 599] = True
    rows.append((f"distance field, 16-neighbour Dijkstra, {big.walkable.shape[1]} x {big.walkable.shape[0]} cells",
                 best_of(lambda: distance_field(big, targets=mask))))
    lib = Path(__file__).resolve().parents[1] / "scenarios" / "library"
    scenario = load_scenario(lib / "sample-evacuation.yaml")
    result = run_scenario(scenario)
    rows.append((f"demo evacuation, {result.metrics['estate']['occupants']:,} people, "
                 f"{result.metrics['simulated_s']:.0f} s simulated at dt 1 s", best_of(lambda: run_scenario(scenario), 2)))
    width = max(len(r[0]) for r in rows)
    for name, secs in rows:
        print(f"{name:<{width}}  {secs * 1000:9.1f} ms")


if __name__ == "__main__":
    main()
