"""The peer side of bench_flood_anuga.py: the same flood cases run in ANUGA (PyPI ``anuga``).

Runs in the benchmark-only virtualenv ``.venv-bench-flood`` (ANUGA and its numpy there; never
in the project venv) as a subprocess of bench_flood_anuga.py:

    OMP_NUM_THREADS=1 .venv-bench-flood/bin/python benchmarks/_anuga_cases.py SPEC.json OUT.json

SPEC.json holds one case: ``{"case": "ritter", ...}`` or ``{"case": "rain", ...}`` (keys below).
Results (depths per square cell, steps, wall and CPU seconds, volumes) go to OUT.json.

It imports only numpy besides ANUGA, so bench_flood_anuga.py (project venv) imports the shared
case definitions from here — ``ritter_depth`` and ``rain_dem`` — and both tools get the same
terrain. Mesh: ANUGA's ``rectangular_cross`` (each square cell split into 4 triangles by its
diagonals); the bed is set per triangle centroid to the value of its square cell, so both tools
see the same piecewise-constant bed, and depths are compared per square cell (mean of its four
equal-area triangles, i.e. its stored volume over its area). Units SI; rain in m/s inside ANUGA
(``Rate_operator``), mm/h in the spec.

Ritter (1892) dam break: h = (2 c0 - x/t)^2 / (9 g) between the rarefaction tail x = -c0 t and
the front x = 2 c0 t, c0 = sqrt(g h0) (Stoker 1957, ch. 10).
"""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np

GRAVITY_M_S2 = 9.81  # as twin.flood._forcing_kernel.GRAVITY and ANUGA's default g


def ritter_depth(x: np.ndarray, t: float, h0: float) -> np.ndarray:
    """Exact Ritter depth (m) at x (m, dam at x = 0) after t (s); dry bed downstream."""
    c0 = math.sqrt(GRAVITY_M_S2 * h0)
    h = (2.0 * c0 - x / t) ** 2 / (9.0 * GRAVITY_M_S2)
    return np.where(x <= -c0 * t, h0, np.where(x >= 2.0 * c0 * t, 0.0, h))


def _dem_surface(X: np.ndarray, Y: np.ndarray, side: float) -> np.ndarray:
    u, v = X / side, Y / side
    return (5.0 + 1.0 * u + 0.6 * v
            + 0.4 * np.sin(2.0 * math.pi * 3.0 * u) * np.cos(2.0 * math.pi * 2.5 * v)
            - 1.5 * np.exp(-((u - 0.6) ** 2 + (v - 0.45) ** 2) / (2.0 * 0.15 ** 2)))


def rain_dem(n: int, cell_m: float) -> np.ndarray:
    """Synthetic bed level (m) at the centres of an n x n grid of ``cell_m`` cells, rows south to
    north: a gentle tilt to the south-west, smooth bumps (+-0.4 m, ~100-150 m wavelength) and a
    Gaussian depression 1.5 m deep (sigma 15 % of the side) off-centre, so that rain runs off
    the slopes into local hollows and the depression. Same shape at every n (scaled to the side)."""
    c = (np.arange(n) + 0.5) * cell_m
    X, Y = np.meshgrid(c, c)
    return np.ascontiguousarray(_dem_surface(X, Y, n * cell_m))


def _square_index(domain, nx: int, ny: int, dx: float, dy: float) -> np.ndarray:
    """Row-major index (j * nx + i) of the square cell holding each triangle's centroid."""
    cc = domain.centroid_coordinates
    i = np.clip(np.floor(cc[:, 0] / dx).astype(np.int64), 0, nx - 1)
    j = np.clip(np.floor(cc[:, 1] / dy).astype(np.int64), 0, ny - 1)
    return j * nx + i


def _per_square(values: np.ndarray, idx: np.ndarray, ncell: int) -> np.ndarray:
    """Mean over the (equal-area) triangles of each square cell."""
    s = np.bincount(idx, weights=values, minlength=ncell)
    k = np.bincount(idx, minlength=ncell)
    return s / np.maximum(k, 1)


def _evolve(domain, finaltime: float, yieldstep: float) -> tuple[int, float, float]:
    """Run ANUGA to ``finaltime``; (steps, wall s, CPU s). ANUGA resets its step counter at
    every yield, so the steps are summed per yield."""
    steps = 0
    wall = time.perf_counter()
    cpu = time.process_time()
    for _t in domain.evolve(yieldstep=yieldstep, finaltime=finaltime):
        steps += int(domain.number_of_steps)
    return steps, time.perf_counter() - wall, time.process_time() - cpu


def _domain(anuga, nx: int, ny: int, dx: float, dy: float, algorithm: str | None):
    dom = anuga.rectangular_cross_domain(nx, ny, len1=nx * dx, len2=ny * dy)
    dom.set_store(False)
    if algorithm:
        dom.set_flow_algorithm(algorithm)
    br = anuga.Reflective_boundary(dom)
    dom.set_boundary({"left": br, "right": br, "top": br, "bottom": br})
    return dom


def run_ritter(spec: dict) -> dict:
    import anuga

    dx, h0, t_end = spec["dx_m"], spec["h0_m"], spec["t_end_s"]
    nx, ny, x_dam = spec["nx"], spec["ny"], spec["x_dam_m"]  # domain x from 0; dam at x_dam
    t0 = time.perf_counter()
    dom = _domain(anuga, nx, ny, dx, dx, spec.get("algorithm"))
    idx = _square_index(dom, nx, ny, dx, dx)
    ntri = int(dom.number_of_triangles)
    cx = dom.centroid_coordinates[:, 0]
    dom.set_quantity("elevation", 0.0)
    dom.set_quantity("friction", 0.0)
    dom.set_quantity("stage", np.where(cx < x_dam, h0, 0.0), location="centroids")
    setup = time.perf_counter() - t0
    steps, wall, cpu = _evolve(dom, t_end, t_end)
    depth = (dom.quantities["stage"].centroid_values
             - dom.quantities["elevation"].centroid_values)
    h = _per_square(depth, idx, nx * ny).reshape(ny, nx)
    return {"tool": "ANUGA", "anuga_version": anuga.__version__,
            "flow_algorithm": dom.get_flow_algorithm(), "triangles": ntri, "steps": steps,
            "wall_s": wall, "cpu_s": cpu, "setup_s": setup,
            "depth_m": h.tolist()}


def run_rain(spec: dict) -> dict:
    import anuga

    n, dx = spec["n"], spec["cell_m"]
    t_end, rain_mm_h, manning = spec["t_end_s"], spec["rain_mm_h"], spec["manning_n"]
    t0 = time.perf_counter()
    dom = _domain(anuga, n, n, dx, dx, spec.get("algorithm"))
    idx = _square_index(dom, n, n, dx, dx)
    ntri = int(dom.number_of_triangles)
    z = rain_dem(n, dx).reshape(-1)
    if spec.get("bed") == "smooth":
        # sensitivity check only: the DEM's surface sampled at the triangle vertices (a
        # continuous, piecewise-linear bed) instead of our piecewise-constant square cells
        def surface(x: np.ndarray, y: np.ndarray) -> np.ndarray:
            return _dem_surface(x, y, n * dx)
        dom.set_quantity("elevation", surface, location="vertices")
        dom.set_quantity("stage", expression="elevation")
    else:
        dom.set_quantity("elevation", z[idx], location="centroids")
        dom.set_quantity("stage", z[idx], location="centroids")  # dry
    dom.set_quantity("friction", manning)
    if spec.get("max_dt_s"):
        # ANUGA takes one step to the yield time on a dry mesh (no wave speed): cap the step as
        # our solvers do (their step at 1 cm depth), so rain wets the slopes gradually
        dom.set_evolve_max_timestep(spec["max_dt_s"])
    rate = rain_mm_h / 3.6e6
    anuga.Rate_operator(dom, rate=rate)
    v0 = float(dom.get_water_volume())
    setup = time.perf_counter() - t0
    steps, wall, cpu = _evolve(dom, t_end, spec.get("yield_s", t_end))
    depth = (dom.quantities["stage"].centroid_values
             - dom.quantities["elevation"].centroid_values)
    h = _per_square(depth, idx, n * n).reshape(n, n)
    stored = float(dom.get_water_volume())
    rain_m3 = rate * t_end * (n * dx) ** 2
    pts = spec.get("points_ij", [])
    return {"tool": "ANUGA", "anuga_version": anuga.__version__,
            "flow_algorithm": dom.get_flow_algorithm(), "triangles": ntri, "steps": steps,
            "wall_s": wall, "cpu_s": cpu, "setup_s": setup, "t_end_s": t_end,
            "initial_m3": v0, "stored_m3": stored, "rain_m3": rain_m3,
            "volume_rel_error": abs(stored - v0 - rain_m3) / rain_m3,
            "max_depth_m": float(h.max()),
            "point_depth_m": [float(h[j, i]) for j, i in pts],
            "depth_m": h.tolist() if spec.get("return_field") else None}


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: _anuga_cases.py SPEC.json OUT.json")
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    if spec.get("case") == "ritter":
        out = run_ritter(spec)
    elif spec.get("case") == "rain":
        out = run_rain(spec)
    else:
        raise SystemExit(f"{sys.argv[1]}: case: expected 'ritter' or 'rain', got "
                         f"{spec.get('case')!r}")
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
