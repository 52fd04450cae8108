"""Run a scenario and write its results folder (the data part; pictures are added by the face).

A results folder holds ``scenario.yaml`` (the resolved scenario: every default filled in, with
its seed, loadable again), ``metrics.json`` (see :mod:`scenarios.metrics`), ``events.parquet``
(every event of the run) and ``fields/`` (periodic snapshots of the state arrays, with
``evacuation_nodes.parquet`` naming the graph node behind each element of the
``evacuation.*`` arrays).
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from agents.crowd_evacuation import CrowdEvacuation
from agents.crowd_metrics import CrowdTrace
from scenarios.builder import BuiltRun, build_run
from scenarios.metrics import _r, compute_metrics
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


def fire_summary(fire: Any, metrics: dict[str, Any], evac: Any = None) -> dict[str, Any]:
    """Per burning building: detection, alarm, the compartments that became untenable first, and
    ASET against RSET: ASET of the building = the first time a corridor, lobby or stair shaft
    (the escape route) became untenable; margin = ASET - RSET (95 % and 100 %), negative when
    people were still inside. With the crowd model, each untenable compartment also gets its own
    RSET (the last time anybody was in it) and margin (ASET - that; negative: people were there
    after it became untenable)."""
    out = fire.summary()
    last = getattr(evac, "comp_last_occupied_s", None)
    if last is not None:
        for v in out.values():
            for c in v["first_untenable"]:
                r = float(last[fire.zone.index(c["compartment"])])
                c["rset_s"] = None if not np.isfinite(r) else round(r, 1)
                c["margin_s"] = None if not np.isfinite(r) else round(c["aset_s"] - r, 1)
    res = fire.result()
    aset = res.aset_s()
    kinds = np.asarray(fire.net.kind)
    for b, v in out.items():
        idx = [i for i in range(len(res.ids)) if fire.net.building[i] == b and kinds[i] in (1, 2)]
        route = min((float(aset[i]) for i in idx), default=float("inf"))
        rb = metrics.get("buildings", {}).get(b, {})
        v["aset_escape_route_s"] = None if not np.isfinite(route) else round(route, 1)
        for q in ("95", "100"):
            r = rb.get(f"rset_{q}_s")
            v[f"rset_{q}_s"] = r
            v[f"margin_{q}_s"] = (None if r is None else (round(route - r, 1) if np.isfinite(route) else "no untenable route"))
    return out


def flood_people_at_risk(flood: Any, built: Any) -> Any:
    """Residents of the ground floors (level 0) of the buildings whose doors took water, one row
    per person (building, flat, profile, age, living alone, when the water came in), elderly
    people living alone first, then the other elderly, wheelchair users, the impaired, children,
    the rest. Drawn from the run's households with the demographics of
    :func:`agents.demographics.synthesize_people` (the run's seed)."""
    import pandas as pd

    from agents.demographics import synthesize_people

    cols = ["building", "unit", "profile", "age_y", "lives_alone", "flooded_s"]
    pop = built.population
    if pop is None or not flood.ground_flooded:
        return pd.DataFrame(columns=cols)
    people = synthesize_people(pop, rng=built.twin.rng("flood-people"))
    unit = np.array([people.unit_ids[k] for k in people.household])
    bld = np.array([pop.buildings[k] for k in people.household])
    ground = np.array(["-L00-" in u for u in unit], dtype=bool)
    hit = ground & np.isin(bld, list(flood.ground_flooded))
    prof = np.array([people.profile_names[int(k)] for k in people.profile])
    df = pd.DataFrame({"building": bld[hit], "unit": unit[hit], "profile": prof[hit],
                       "age_y": np.round(people.age_years[hit], 0), "lives_alone": people.lives_alone[hit],
                       "flooded_s": [flood.ground_flooded[b] for b in bld[hit]]})
    order = {"elderly": 1, "wheelchair": 2, "impaired": 3, "child": 4, "able": 5}
    key = np.where(df["profile"].eq("elderly") & df["lives_alone"], 0, df["profile"].map(order).fillna(6))
    return df.assign(_k=key).sort_values(["_k", "flooded_s", "unit"], kind="stable").drop(columns="_k").reset_index(drop=True)


def write_flood_outputs(flood: Any, out: Path, at_risk: Any) -> None:
    """Maps (PNG) and rasters (ESRI ASCII and GeoTIFF) of the maximum depth and FD2321 hazard,
    the depth series, the people at risk (CSV) and the 3D scene with the water."""
    from geometry.dem import write_esri_ascii, write_geotiff
    from viz.flood_pictures import plot_flood_map, plot_flood_series

    g = flood.sg.grid
    epsg = None
    crs = str(getattr(flood.site, "crs", ""))
    if crs.upper().startswith("EPSG:"):
        epsg = int(crs.split(":")[1])
    fields = {"flood_max_depth": flood.model.max_depth_m, "flood_hazard": flood.max_hr}
    for name, f in fields.items():
        f = np.where(g.closed, np.nan, f)
        write_esri_ascii(out / f"{name}.asc", f, origin=g.origin, cell_size_m=g.cell_size_m)
        write_geotiff(out / f"{name}.tif", f, origin=g.origin, cell_size_m=g.cell_size_m, epsg=epsg)
    marks = {d.id: (d.position.x, d.position.y) for d in flood.site.devices if d.id in flood.sensor_fired}
    plot_flood_map(flood.site, flood.model.max_depth_m, origin=g.origin, cell_size_m=g.cell_size_m,
                   path=out / "flood_max_depth.png", kind="depth", marks=marks)
    plot_flood_map(flood.site, flood.max_hr, origin=g.origin, cell_size_m=g.cell_size_m,
                   path=out / "flood_hazard.png", kind="hazard")
    t, garages, sensors = flood.series()
    plot_flood_series(t, garages, sensors, path=out / "flood_series.png",
                      rain=(flood.storm.times_s, flood.storm.rain_mm_h))
    at_risk.to_csv(out / "flood_people_at_risk.csv", index=False)


def crowd_summary(evac: CrowdEvacuation) -> dict[str, Any]:
    """Crowd-model figures beyond the event metrics: queueing per person (s), flows through every
    building exit, peak density of the people on the move (1 m bins at least 3/4 floor) and its
    Fruin level of service per building, walking times, the model's settings."""
    from agents.crowd_metrics import density_maps, door_flows, fruin_los

    q = evac.queue_times()
    walked = evac.t_building_out - evac.t_start
    out: dict[str, Any] = {
        "model": "collision-free speed model (Tordeux et al. 2016) on multi-level atlases",
        "settings": {"dt_s": evac.settings.dt, "exit_choice": evac.settings.exit_choice,
                     "assistance_delay_s": evac.settings.assistance_delay_s},
        "people": len(q),
        "queue_s": {"p50": _r(np.quantile(q, 0.5)), "p95": _r(np.quantile(q, 0.95)), "max": _r(q.max())} if len(q) else {},
        "walk_to_exit_s": {"p50": _r(np.nanquantile(walked, 0.5)), "p95": _r(np.nanquantile(walked, 0.95))}
        if np.isfinite(walked).any() else {},
        "buildings": {},
    }
    # flows through every building exit (p/s and p/(m s), 10th-90th percentile window)
    times = {e: m.t_out[m.exit_used == k] for m in evac.models.values() for k, e in enumerate(m.exit_ids)}
    widths = {e: w for a in evac.atlases.values() for e, w in a.exit_widths_m.items()}  # the site's clear widths
    fl = door_flows(times, widths)
    out["exit_flows"] = {str(r.door): {"persons": int(r.persons), "width_m": _r(r.width_m),
                                       "flow_p_s": _r(r.mean_flow_p_s), "specific_flow_p_ms": _r(r.specific_flow_p_ms)}
                         for r in fl.itertuples(index=False)}
    for bid, m in evac.models.items():
        if not m._trace:
            continue
        peak, _ = density_maps(walking_trace(m.trace()), window_m=1.0, min_walkable_fraction=0.75)
        pk = float(np.nanmax(peak)) if np.isfinite(peak).any() else 0.0
        out["buildings"][bid] = {"peak_density_p_m2": _r(pk), "fruin_los": str(fruin_los(pk)),
                                 "queue_s_p95": _r(np.quantile(q[evac.members[bid]], 0.95))}
    return out


def walking_trace(tr: CrowdTrace) -> CrowdTrace:
    """The trace with only the people on the move: those still at home before their
    pre-movement ends are no crowd."""
    x = np.where(tr.walking, tr.x, np.nan).astype(tr.x.dtype)
    y = np.where(tr.walking, tr.y, np.nan).astype(tr.y.dtype)
    return dataclasses.replace(tr, x=x, y=y)


def write_crowd_outputs(evac: CrowdEvacuation, out: Path, *, animation: bool = False, pictures: int = 3) -> None:
    """``people.parquet`` (one row per person: building, unit, profile, times, queueing), the
    evacuation curves by mobility profile, peak-density maps of the ``pictures`` slowest
    buildings and of the estate, and on request a GIF of the slowest building."""
    from agents.crowd_metrics import bottlenecks, density_maps, evacuation_curve
    from viz.crowd_pictures import (
        animate_trace,
        plot_density_map,
        plot_evacuation_curves,
    )

    P = evac.people
    prof = np.array([P.profile_names[int(k)] for k in P.profile])
    pd.DataFrame({
        "building": evac.person_building.astype(str), "unit": [P.unit_ids[k] for k in P.household],
        "profile": prof, "age_y": P.age_years, "lives_alone": P.lives_alone, "v0_m_s": P.v0_m_s,
        "premovement_s": evac.premovement_s, "t_alarm_s": evac.t_alarm, "t_start_s": evac.t_start, "t_building_out_s": evac.t_building_out,
        "t_arrived_s": evac.t_arrived, "queue_s": evac.queue_times(), "fed": evac.fed,
        "incapacitated": evac.incapacitated, "max_water_m": evac.max_water_m, "swept": evac.swept,
    }).to_parquet(out / "people.parquet", index=False)
    curves = evacuation_curve(evac.t_building_out, groups=prof)
    plot_evacuation_curves(curves, path=out / "evacuation_by_profile.png",
                           title="Out of the building, by mobility profile")
    rs = evac.rset()
    slow = sorted(evac.models, key=lambda b: -(rs[b]["rset100_s"] if np.isfinite(rs[b]["rset100_s"]) else 1e18))
    def density_png(tr: CrowdTrace, path: Path, title: str) -> None:
        tr = walking_trace(tr)
        peak, _ = density_maps(tr, window_m=1.0, min_walkable_fraction=0.75)
        plot_density_map(peak, path=path, title=title, origin=tr.origin, bin_m=1.0, walkable=tr.walkable,
                         cell_size_m=tr.cell_size_m, bottleneck_table=bottlenecks(tr, top=5))

    for bid in slow[:pictures]:
        m = evac.models[bid]
        if m._trace:
            density_png(m.trace(), out / f"density_{bid}.png",
                        f"{bid}: peak density of people on the move (storeys, and the unrolled stair flights on top)")
    if evac.outdoor is not None and evac.outdoor._trace:
        density_png(evac.outdoor.trace(), out / "density_estate.png", "Estate: peak density of people on the move")
    if animation and slow and evac.models[slow[0]]._trace:
        animate_trace(evac.models[slow[0]].trace(), path=out / f"animation_{slow[0]}.gif", title=slow[0], max_frames=300)


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
            if evac is not None and hasattr(evac, "node_table"):
                evac.node_table().to_parquet(out / "fields" / "evacuation_nodes.parquet", index=False)
    fire = built.components.get("fire")
    if fire is not None:
        evac_ = built.components.get("evacuation")
        metrics["fire"] = fire_summary(fire, metrics, evac_)
        if isinstance(evac_, CrowdEvacuation):
            metrics["fire_people"] = evac_.exposure()
        if out is not None:
            (out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            frame = fire.result_frame()
            frame.to_parquet(out / "fire_compartments.parquet", index=False)
            worst = [c["compartment"] for v in metrics["fire"].values() for c in v["first_untenable"]][:5]
            if worst:
                from viz.fire_pictures import plot_fire_layers

                plot_fire_layers(frame, path=out / "fire_layers.png", compartments=worst,
                                 aset_s={c["compartment"]: c["aset_s"] for v in metrics["fire"].values()
                                         for c in v["first_untenable"]})
    flood = built.components.get("flood")
    if flood is not None:
        metrics["flood"] = flood.summary()
        at_risk = flood_people_at_risk(flood, built)
        metrics["flood"]["people_at_risk"] = {
            "people": int(len(at_risk)),
            "elderly_living_alone": int((at_risk["profile"].eq("elderly") & at_risk["lives_alone"]).sum())
            if len(at_risk) else 0,
            "buildings": sorted(set(at_risk["building"])) if len(at_risk) else []}
        evac_f = built.components.get("evacuation")
        if isinstance(evac_f, CrowdEvacuation):
            metrics["flood"]["people_outdoors"] = evac_f.water_exposure()
        if out is not None:
            write_flood_outputs(flood, out, at_risk)
            (out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    evac = built.components.get("evacuation")
    if isinstance(evac, CrowdEvacuation):
        metrics["crowd"] = crowd_summary(evac)
        if out is not None:
            write_crowd_outputs(evac, out, animation=scenario.outputs.animation)
            ft, who, fed = evac.fed_history()
            if ft.size and (fed > 0).any():
                from viz.fire_pictures import plot_fed

                P = evac.people
                labels = [f"{evac.person_building[k]} {P.profile_names[int(P.profile[k])]}" for k in who]
                plot_fed(ft, fed, path=out / "fire_fed.png", labels=labels)
            (out / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return RunResult(out_dir=out, metrics=metrics, events=events, built=built,
                     wall_s=time.perf_counter() - started)
