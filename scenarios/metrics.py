"""Metrics of a run, computed from its recorded events only.

``metrics.json`` is the stable contract that experiments, optimizers and tests read, so this
module needs nothing but the event table (``events.parquet``): a run can be re-analysed without
being re-run. Everything is deterministic (sorted keys, rounded floats, no wall-clock times).

RSET (required safe escape time, ISO/TR 16738 / BS 7974) is reported per building as the time
from scenario start until 95 % and 100 % of the building's occupants have left it, and for the
estate as the time until 95 % and 100 % of everyone has reached a target (assembly point or gate).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["METRICS_VERSION", "compute_metrics", "evacuation_curve", "event_data"]

METRICS_VERSION = 1


def event_data(events: pd.DataFrame, type_: str) -> pd.DataFrame:
    """Rows of one event type with their ``data`` JSON expanded into columns."""
    rows = events[events["type"] == type_]
    if rows.empty:
        return pd.DataFrame(columns=["t", "subject"])
    data = pd.DataFrame([json.loads(d) if d else {} for d in rows["data"]], index=rows.index)
    data = data.drop(columns=[c for c in ("t", "subject") if c in data.columns])
    return pd.concat([rows[["t", "subject", "source"]], data], axis=1).reset_index(drop=True)


def _first_time_reaching(times: np.ndarray, totals: np.ndarray, goal: float) -> float | None:
    hit = np.flatnonzero(totals >= goal - 1e-9)
    return None if hit.size == 0 else float(times[hit[0]])


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(float(x), nd)


def evacuation_curve(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Estate evacuation curve: (times s, cumulative people at targets)."""
    arr = event_data(events, "AgentsArrived")
    if arr.empty:
        return np.zeros(0), np.zeros(0)
    arr = arr.sort_values("t", kind="stable")
    return arr["t"].to_numpy(float), np.cumsum(arr["count"].to_numpy(float))


def compute_metrics(events: pd.DataFrame, *, run: dict[str, Any] | None = None) -> dict[str, Any]:
    """The metrics dictionary written to ``metrics.json``. ``run`` (scenario name, seed,
    replication, duration) is copied in verbatim so results carry their seeds."""
    placed = event_data(events, "PopulationPlaced")
    evac = event_data(events, "AgentsEvacuated")
    finished = events[events["type"] == "RunFinished"]
    t_end = float(finished["t"].max()) if not finished.empty else (float(events["t"].max()) if len(events) else 0.0)

    buildings: dict[str, Any] = {}
    placed_rows = placed.sort_values("building", kind="stable") if not placed.empty else placed
    for _, row in placed_rows.iterrows():
        b, n = str(row["building"]), int(row["count"])
        rows = evac[evac["building"] == b].sort_values("t", kind="stable") if not evac.empty else evac
        times = rows["t"].to_numpy(float) if len(rows) else np.zeros(0)
        totals = rows["total"].to_numpy(float) if len(rows) else np.zeros(0)
        out = int(totals.max()) if totals.size else 0
        buildings[b] = {
            "occupants": n,
            "evacuated": out,
            "rset_95_s": _r(_first_time_reaching(times, totals, math.ceil(0.95 * n))) if n else 0.0,
            "rset_100_s": _r(_first_time_reaching(times, totals, n)) if n else 0.0,
            "first_out_s": _r(float(times[0])) if times.size else None,
        }

    total = int(sum(v["occupants"] for v in buildings.values()))
    t_arr, cum = evacuation_curve(events)
    arrived = int(cum[-1]) if cum.size else 0
    per_target: dict[str, int] = {}
    arr = event_data(events, "AgentsArrived")
    for _, row in arr.iterrows():
        per_target[str(row["target"])] = per_target.get(str(row["target"]), 0) + int(row["count"])

    bottlenecks = []
    # Bottleneck reports are cumulative and follow each RunFinished: a run continued in several
    # calls records several, and only the report after the last RunFinished is the final one.
    last_finish = np.flatnonzero((events["type"] == "RunFinished").to_numpy())
    tail = events.iloc[int(last_finish[-1]) + 1:] if last_finish.size else events
    bn = event_data(tail, "Bottleneck")
    for _, row in bn.iterrows():
        bottlenecks.append({
            "node": str(row["node"]),
            "building": str(row["building"]) or None,
            "kind": str(row["kind"]),
            "max_queue_persons": _r(float(row["max_queue"]), 1),
            "wait_person_s": _r(float(row["wait_person_s"]), 1),
            "passed_persons": _r(float(row["passed"]), 1),
            "mean_wait_s": _r(float(row["wait_person_s"]) / float(row["passed"]), 1) if float(row["passed"]) > 0 else None,
        })
    bottlenecks.sort(key=lambda d: (-(d["wait_person_s"] or 0.0), d["node"]))

    rset_b = [v["rset_100_s"] for v in buildings.values() if v["rset_100_s"] is not None]
    counts = events["type"].value_counts().sort_index()
    injects = event_data(events, "InjectApplied")
    return {
        "metrics_version": METRICS_VERSION,
        "run": dict(run or {}),
        "simulated_s": _r(t_end),
        "estate": {
            "occupants": total,
            "arrived": arrived,
            "not_evacuated": total - arrived,
            "rset_95_s": _r(_first_time_reaching(t_arr, cum, math.ceil(0.95 * total))) if total else None,
            "rset_100_s": _r(_first_time_reaching(t_arr, cum, total)) if total else None,
            "worst_building": max(buildings, key=lambda b: buildings[b]["rset_100_s"] or math.inf) if rset_b else None,
            "arrivals_by_target": dict(sorted(per_target.items())),
        },
        "buildings": buildings,
        "bottlenecks": bottlenecks,
        "injects": [
            {"t": _r(float(r["t"])), "action": str(r["action"]), "target": str(r["target"])}
            for _, r in injects.iterrows()
        ],
        "event_counts": {str(k): int(v) for k, v in counts.items()},
    }
