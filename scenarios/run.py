"""Run a scenario and write its results folder (the data part; pictures are added by the face).

A results folder holds ``scenario.yaml`` (the resolved scenario: every default filled in, with
its seed, loadable again), ``metrics.json`` (see :mod:`scenarios.metrics`), ``events.parquet``
(every event of the run) and ``fields/`` (periodic snapshots of the state arrays, with
``evacuation_nodes.parquet`` naming the graph node behind each element of the
``evacuation.*`` arrays).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import yaml

from scenarios.builder import BuiltRun, build_run
from scenarios.metrics import compute_metrics
from scenarios.schema import Scenario

__all__ = ["RunResult", "run_scenario", "write_resolved_scenario"]


@dataclass
class RunResult:
    """What a run produced: its folder, metrics, events and the built twin (for pictures)."""

    out_dir: Path | None
    metrics: dict[str, Any]
    events: pd.DataFrame
    built: BuiltRun
    wall_s: float


def write_resolved_scenario(scenario: Scenario, path: Path, *, replication: int, base_dir: Path | str = ".") -> None:
    """Write the scenario with every default filled in and a site file path made absolute
    (against ``base_dir``), so the copy loads again from the results folder; the header
    records seed and replication (the spawn key of the run's SeedSequence is
    ``(replication,)``)."""
    if scenario.site is not None and scenario.site.file is not None and not Path(scenario.site.file).is_absolute():
        site = scenario.site.model_copy(update={"file": str((Path(base_dir) / scenario.site.file).resolve())})
        scenario = scenario.model_copy(update={"site": site})
    header = (
        f"# resolved scenario written by Shoumen; seed {scenario.seed}, replication {replication} "
        f"(numpy SeedSequence({scenario.seed}).spawn({scenario.replications})[{replication}])\n"
    )
    body = yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    path.write_text(header + body, encoding="utf-8")


def run_scenario(
    scenario: Scenario,
    *,
    out_dir: Path | str | None = None,
    base_dir: Path | str = ".",
    replication: int = 0,
    progress: Callable[[float], None] | None = None,
    realtime: bool = False,
    speed: float = 1.0,
) -> RunResult:
    """Build and run one replication; write the results folder when ``out_dir`` is given.
    ``realtime`` paces the clock at ``speed`` simulated seconds per wall-clock second (drills)."""
    started = time.perf_counter()
    built = build_run(scenario, base_dir=base_dir, replication=replication, realtime=realtime, speed=speed)
    built.twin.run(until=scenario.duration_s, progress=progress)
    if scenario.outputs.fields:
        built.twin.recorder.take_snapshot()  # the final state, whatever the snapshot period
    events = built.twin.recorder.events_frame()
    run_info = {
        "scenario": scenario.name,
        "seed": scenario.seed,
        "replication": replication,
        "replications": scenario.replications,
        "duration_s": scenario.duration_s,
        "dt_s": scenario.dt_s,
        "site": built.site.name if built.site is not None else "free-form geometry",
    }
    metrics = compute_metrics(events, run=run_info)
    out: Path | None = None
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        write_resolved_scenario(scenario, out / "scenario.yaml", replication=replication, base_dir=base_dir)
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        built.twin.recorder.write_events(out / "events.parquet")
        if scenario.outputs.fields:
            built.twin.recorder.write_fields(out / "fields")
            evac = built.components.get("evacuation")
            if evac is not None:
                evac.node_table().to_parquet(out / "fields" / "evacuation_nodes.parquet", index=False)
    return RunResult(out_dir=out, metrics=metrics, events=events, built=built,
                     wall_s=time.perf_counter() - started)
