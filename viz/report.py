"""The run report: one self-contained ``report.html`` a planner can hand on.

It shows the run's seed and settings, the estate and per-building RSET table, the evacuation
curve (``evacuation_curve.png``, also written beside it), the worst bottlenecks, the injects and
the pictures already in the folder (``scene.png``, ``site_map.png``), embedded as data URIs so
the file stands alone.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from viz._mpl import plot_style

__all__ = ["plot_evacuation_curve", "write_report"]


def plot_evacuation_curve(events: pd.DataFrame, path: Path, *, title: str = "Evacuation curve") -> Path | None:
    """Cumulative people at targets and out of each building over time (PNG)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from scenarios.metrics import evacuation_curve, event_data

    t, cum = evacuation_curve(events)
    evac = event_data(events, "AgentsEvacuated")
    if t.size == 0 and evac.empty:
        return None
    with plot_style():
        return _draw_curve(t, cum, evac, path, title, Figure, FigureCanvasAgg)


def _draw_curve(t: np.ndarray, cum: np.ndarray, evac: pd.DataFrame, path: Path, title: str, Figure: Any,
                FigureCanvasAgg: Any) -> Path:
    fig = Figure(figsize=(8, 4.5), dpi=130)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    if not evac.empty:
        out = evac.sort_values("t", kind="stable").groupby("t")["count"].sum().cumsum()
        ax.step(out.index.to_numpy(float), out.to_numpy(float), where="post", color="#d08c2c", lw=1.6,
                label="left their building")
    if t.size:
        ax.step(np.r_[0.0, t], np.r_[0.0, cum], where="post", color="#2a6f97", lw=2.0, label="reached a target")
        total = float(cum[-1])
        ax.axhline(0.95 * total, color="0.5", lw=0.8, ls="--")
        ax.text(t[-1], 0.95 * total, " 95 %", va="bottom", ha="right", fontsize=8,
                color="0.3")
    ax.set_xlabel("time since scenario start (s)")
    ax.set_ylabel("people")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    return path


def _img(path: Path, alt: str) -> str:
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"><figcaption>{html.escape(alt)}</figcaption></figure>'


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    def cell(x: Any) -> str:
        if x is None:
            return "—"
        if isinstance(x, float):
            return f"{x:,.1f}"
        if isinstance(x, int):
            return f"{x:,}"
        return html.escape(str(x))

    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(out_dir: Path, *, metrics: dict[str, Any], events: pd.DataFrame, scenario: Any) -> Path:
    """Write ``evacuation_curve.png`` and ``report.html`` into ``out_dir``."""
    out_dir = Path(out_dir)
    run = metrics.get("run", {})
    plot_evacuation_curve(events, out_dir / "evacuation_curve.png", title=f"Evacuation curve — {run.get('scenario', '')}")
    est = metrics["estate"]
    b_rows = [[b, v["occupants"], v["evacuated"], v["first_out_s"], v["rset_95_s"], v["rset_100_s"]]
              for b, v in metrics["buildings"].items()]
    bn_rows = [[b["node"], b["kind"], b["max_queue_persons"], b["passed_persons"], b["mean_wait_s"], b["wait_person_s"]]
               for b in metrics["bottlenecks"]]
    inj_rows = [[i["t"], i["action"], i["target"]] for i in metrics["injects"]]
    desc = html.escape(getattr(scenario, "description", "") or "")
    fire = metrics.get("fire")
    fire_html = ""
    if fire:
        f_rows = [[b, v.get("first_detection_s"), v.get("alarm_s"), v.get("aset_escape_route_s"), v.get("rset_95_s"),
                   v.get("margin_95_s"), v.get("rset_100_s"), v.get("margin_100_s")] for b, v in fire.items()]
        c_rows = [[b, c["compartment"], c["aset_s"], c.get("rset_s"), c.get("margin_s")]
                  for b, v in fire.items() for c in v.get("first_untenable", [])]
        fire_html = ("<h2>Fire and smoke: ASET against RSET</h2><p>Two-zone smoke model; ASET of the escape route ="
                     " first time a corridor, lobby or stair shaft became untenable (layer below 1.83 m and hotter than"
                     " 60 °C or visibility under 10 m); a negative margin means people were still inside.</p>"
                     + _table(["building", "first detector (s)", "alarm (s)", "ASET route (s)", "RSET 95 % (s)",
                               "margin 95 % (s)", "RSET 100 % (s)", "margin 100 % (s)"], f_rows)
                     + _table(["building", "compartment", "ASET (s)", "last occupied (s)", "margin (s)"], c_rows)
                     + _img(out_dir / "fire_layers.png", "Smoke layer height, temperature and visibility over time")
                     + _img(out_dir / "scene_smoke.png", "The burning building in 3D at the moment of the most "
                            "smoke-logged compartments, coloured by visibility"))
        spread = [[b, f["compartment"], f["mechanism"], f["from"], f["ignition_s"], f["window_broken_s"],
                   f["flashover_s"]] for b, v in fire.items() for f in v.get("fires", [])]
        if spread:
            fire_html += ("<h3>Fires, windows and flashover</h3>"
                          + _table(["building", "compartment", "how it started", "from", "ignition (s)",
                                    "window broke (s)", "flashover (s)"], spread))
        fp = metrics.get("fire_people")
        if fp:
            p_rows = [[b, v["exposed"], v["fed_over_0_3"], v["sensitive_fed_over_0_3"], v["incapacitated"], v["max_fed"]]
                      for b, v in fp.get("by_building", {}).items()]
            fire_html += ("<h3>People in smoke</h3><p>FED as ISO 13571 (NIST FDS form) plus convective heat, dosed "
                          "while the head (1.5 m) is in a smoke layer; 0.3 is the threshold for sensitive people "
                          "(elderly, children, wheelchair users, impaired), 1.0 incapacitation.</p>"
                          + _table(["building", "exposed", "FED >= 0.3", "sensitive, FED >= 0.3", "incapacitated",
                                    "max FED"], p_rows)
                          + _img(out_dir / "fire_fed.png", "FED over time of the most exposed people"))
    fl = metrics.get("flood")
    if fl:
        g_rows = [[g, v["max_depth_m"], v["inflow_m3"], v["impassable_cars_s"], v["impassable_people_s"], v["full_s"]]
                  for g, v in fl["garages"].items()]
        r_rows = [[r["road"], r["vehicle"], r["closed_s"], r["reopened_s"]] for r in fl["roads"]]
        s_rows = [[d, t] for d, t in fl["sensors"].items()] + [[f"ground floor {b}", t]
                                                               for b, t in fl["ground_floors_flooded"].items()]
        v = fl["volumes_m3"]
        fire_html += (f"<h2>Flood</h2><p>{fl['storm']['total_mm']:.0f} mm of rain (peak {fl['storm']['peak_mm_h']:.0f} "
                      f"mm/h) against drainage of {fl['storm']['drainage_mm_h']:g} mm/h, {fl['grid']['solver']} solver on "
                      f"{fl['grid']['cells']:,} cells of {fl['grid']['cell_size_m']:g} m. Volumes (m³): rain {v['rain']:,.0f},"
                      f" drained and into garages {v['drained_and_garages']:,.0f}, left the estate "
                      f"{v['out_of_the_estate']:,.0f}, on the ground {v['on_the_ground']:,.0f} (balance error "
                      f"{v['relative_error']:.1e}). Maximum depth {fl['max_depth_m']:.2f} m. People at risk on flooded "
                      f"ground floors: {fl['people_at_risk']['people']} ({fl['people_at_risk']['elderly_living_alone']} "
                      "elderly living alone), listed in flood_people_at_risk.csv.</p>"
                      + _table(["garage", "max depth (m)", "inflow (m³)", "impassable to cars (s)",
                                "impassable to people (s)", "full (s)"], g_rows)
                      + _table(["road", "vehicle", "closed (s)", "reopened (s)"], r_rows)
                      + _table(["sensor / ground floor", "wet at (s)"], s_rows)
                      + _img(out_dir / "flood_max_depth.png", "Maximum depth")
                      + _img(out_dir / "flood_hazard.png", "FD2321 hazard to people (maximum)")
                      + _img(out_dir / "flood_series.png", "Rain, garage depth and sensors over time")
                      + _img(out_dir / "scene_flood.png", "The estate in 3D with the water at its maximum"))
    crowd = metrics.get("crowd")
    if crowd:
        model = ("microscopic crowd model: collision-free speed model (Tordeux, Chraibi &amp; Seyfried 2016) with "
                 f"stairs and landings, crowd step {crowd['settings']['dt_s']} s, exit choice "
                 f"{html.escape(str(crowd['settings']['exit_choice']))}")
        q = crowd.get("queue_s", {})
        c_rows = [[b, v["peak_density_p_m2"], v["fruin_los"], v["queue_s_p95"]] for b, v in crowd["buildings"].items()]
        crowd_html = (f"<h2>Crowd</h2><p>Queueing time per person (walking below 30 % of one's own speed): "
                      f"median {q.get('p50')} s, 95th percentile {q.get('p95')} s, longest {q.get('max')} s.</p>"
                      + _table(["building", "peak density (p/m², 1 m bins)", "Fruin LoS", "queueing p95 (s)"], c_rows)
                      + "<p>Flows through the building exits (10th-90th percentile window).</p>"
                      + _table(["exit", "persons", "width (m)", "flow (p/s)", "specific flow (p/(m·s))"],
                               [[e, v["persons"], v["width_m"], v["flow_p_s"], v["specific_flow_p_ms"]]
                                for e, v in crowd.get("exit_flows", {}).items()])
                      + _img(out_dir / "evacuation_by_profile.png", "Out of the building by mobility profile")
                      + "".join(_img(p, f"Peak density: {p.stem.removeprefix('density_')}")
                                for p in sorted(out_dir.glob("density_*.png"))))
    else:
        model = "SFPE hydraulic network-flow (Gwynne &amp; Rosenbaum, SFPE Handbook 5th ed., ch. 59)"
        crowd_html = ""
    doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shoumen report — {html.escape(str(run.get('scenario', '')))}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
h1 {{ font-size: 1.6em; }} table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }}
th {{ background: #f0f0f0; }} td:first-child, th:first-child {{ text-align: left; }}
figure {{ margin: 1em 0; }} img {{ max-width: 100%; border: 1px solid #ddd; }}
.kpi {{ display: inline-block; margin: 0 1.5em 1em 0; }} .kpi b {{ font-size: 1.5em; display: block; }}
</style></head><body>
<h1>Evacuation report — {html.escape(str(run.get('scenario', '')))}</h1>
<p>{desc}</p>
<p>Site <b>{html.escape(str(run.get('site', '')))}</b>; seed {run.get('seed')}, replication {run.get('replication')};
time step {run.get('dt_s')} s; simulated {metrics.get('simulated_s')} s. Model: {model}.</p>
<div>
<span class="kpi">occupants<b>{est['occupants']:,}</b></span>
<span class="kpi">reached a target<b>{est['arrived']:,}</b></span>
<span class="kpi">RSET 95 % (s)<b>{est['rset_95_s'] if est['rset_95_s'] is not None else '—'}</b></span>
<span class="kpi">RSET 100 % (s)<b>{est['rset_100_s'] if est['rset_100_s'] is not None else '—'}</b></span>
<span class="kpi">slowest building<b>{html.escape(str(est['worst_building'] or '—'))}</b></span>
</div>
{_img(out_dir / 'evacuation_curve.png', 'Evacuation curve: people out of their buildings and at targets over time')}
<h2>Buildings</h2>
{_table(['building', 'occupants', 'evacuated', 'first out (s)', 'RSET 95 % (s)', 'RSET 100 % (s)'], b_rows)}
<h2>Bottlenecks</h2>
<p>Ranked by total queueing time (person-seconds) at the node.</p>
{_table(['node', 'kind', 'max queue (persons)', 'passed (persons)', 'mean wait (s)', 'queueing (person·s)'], bn_rows)}
{crowd_html}
{fire_html}
<h2>Injects</h2>
{_table(['t (s)', 'action', 'target'], inj_rows) if inj_rows else '<p>None.</p>'}
<h2>Site</h2>
{_img(out_dir / 'site_map.png', 'Site map')}
{_img(out_dir / 'scene.png', '3D scene of the site')}
<p style="color:#777;font-size:0.85em">Generated by Shoumen. Metrics are computed from events.parquet
(see metrics.json); the resolved scenario with its seed is scenario.yaml.</p>
</body></html>
"""
    path = out_dir / "report.html"
    path.write_text(doc, encoding="utf-8")
    return path
