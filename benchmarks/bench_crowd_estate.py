"""Benchmark case (c) of issue 3: the sample community's night-time full evacuation with the
microscopic crowd model (Shoumen only: JuPedSim has no stairs).

Everybody at home at 03:00 (~8,000 residents in 15 buildings, 6 to 18 storeys), an estate-wide
alarm at t = 0, pre-movement and walking speeds from agents.demographics, every person walking
from their flat down the stairs, out of the building and on to the nearest assembly point.
Reports: simulated evacuation time, RSET per building (slowest), wall and CPU seconds, the
real-time factor on one core (simulated s / CPU s), walking agent-steps per CPU second, peak
memory. Not a test: nothing here asserts a time.

    .venv/bin/python benchmarks/bench_crowd_estate.py [--seed 0] [--hour 3] [--out benchmarks/results_estate.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0, help="population and model seed (default 0)")
    ap.add_argument("--hour", type=float, default=3.0, help="time of day, sets who is at home (default 3 = night)")
    ap.add_argument("--cap", type=float, default=4000.0, help="simulated seconds at most (default 4000)")
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    a = ap.parse_args(argv)

    from agents.crowd_evacuation import CrowdEvacuation, CrowdEvacuationSettings
    from agents.population import synthesize_households
    from geometry.sample import sample_community

    t0, c0 = time.perf_counter(), time.process_time()
    site = sample_community()
    units = [(u, b.id) for b in site.buildings if b.use.residential for L in range(b.storeys) for u in b.unit_ids(L)]
    g = np.random.default_rng(a.seed)
    pop = synthesize_households(units, rng=g, hour=a.hour)
    ev = CrowdEvacuation(site, pop, targets=[o.id for o in site.assembly_points], rng=g,
                         settings=CrowdEvacuationSettings(trace_every_s=0.0))
    build_wall, build_cpu = time.perf_counter() - t0, time.process_time() - c0
    t1, c1 = time.perf_counter(), time.process_time()

    def progress(t: float, left: int) -> None:
        if int(t) % 300 == 0:
            print(f"  t = {t:6.0f} s simulated, {left:5d} not yet at an assembly point", file=sys.stderr, flush=True)

    t_end = ev.run(a.cap, progress=progress)
    wall, cpu = time.perf_counter() - t1, time.process_time() - c1
    steps = sum(m.agent_steps for m in ev.models.values()) + (ev.outdoor.agent_steps if ev.outdoor else 0)
    rs = ev.rset()
    bld = {b: v for b, v in rs.items() if b != "estate"}
    slow = max(bld, key=lambda b: bld[b]["rset100_s"])
    res = {
        "date": time.strftime("%Y-%m-%d"), "seed": a.seed, "hour": a.hour, "people": len(ev.t_arrived),
        "buildings": len(bld), "dt_s": ev.settings.dt, "simulated_s": round(t_end, 2),
        "everyone_at_assembly_s": rs["estate"]["arrival100_s"], "rset95_out_of_buildings_s": rs["estate"]["rset95_s"],
        "slowest_building": slow, "slowest_building_rset100_s": bld[slow]["rset100_s"],
        "not_arrived": ev.remaining(), "build_wall_s": round(build_wall, 1), "build_cpu_s": round(build_cpu, 1),
        "sim_wall_s": round(wall, 1), "sim_cpu_s": round(cpu, 1), "realtime_factor_cpu": round(t_end / cpu, 1),
        "agent_steps": int(steps), "agent_steps_per_cpu_s": round(steps / cpu),
        "peak_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }
    print(json.dumps(res, indent=2))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
