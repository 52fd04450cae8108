"""Pictures and the report of ``shoumen optimize`` (:mod:`optimizer.runs`): matplotlib Agg, no
pyplot global state.

* :func:`plot_camera_plan_map` -- the camera plan over the site plan (view wedges, demand seen /
  not seen): :func:`viz.camera_pictures.plot_camera_map`.
* :func:`plot_patrol_map` -- the site map (:func:`viz.sitemap.plot_site_map`, devices hidden) with
  the planned patrol routes as coloured lines, the site's default loop dashed and the night risk
  places as circles sized by their prize.
* :func:`plot_posts_map` -- the site map with today's guard posts (squares), the p-median posts
  (stars), the maximal-covering posts (triangles) and the incident places (dots sized by
  incidents a year).
* :func:`plot_evacuation_plan_map` -- the site map with an arrow from each planned building (or
  stair) to its assembly point and its exit ringed.
* :func:`write_optimize_report` -- a self-contained ``report.html``: what was optimised, the
  before / after table from simulation, the pictures (embedded), the settings.

Distances in metres, site CRS.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import networkx as nx

from geometry.site import Device, Site
from viz.report import _img, _table

__all__ = [
    "plot_camera_plan_map",
    "plot_evacuation_plan_map",
    "plot_patrol_map",
    "plot_posts_map",
    "write_optimize_outputs",
    "write_optimize_report",
]

_ROUTE_COLORS = ("#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#ad1457", "#4e342e")


def plot_camera_plan_map(site: Site, cameras: Sequence[Device], path: Path, *, meta: Any = None,
                         title: str = "") -> Path:
    """The camera plan's cones over the site (PNG at ``path``)."""
    from viz.camera_pictures import plot_camera_map

    return plot_camera_map(site, cameras, path, meta=meta, title=title)


def _base_map(site: Site) -> tuple[Any, Any]:
    from viz.sitemap import plot_site_map

    fig = plot_site_map(site, None, show_devices=False, show_view_cones=False, show_grids=False, title=None)
    return fig, fig.axes[0]


def _finish(fig: Any, ax: Any, path: Path, title: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 0.35), fontsize=7, framealpha=0.9)
    fig.savefig(path, dpi=110)
    return path


def plot_patrol_map(site: Site, graph: nx.Graph, routes: Sequence[Sequence[str]], path: Path, *,
                    prizes: Mapping[str, float], default_loop: Sequence[str] = (), title: str = "") -> Path:
    """Patrol routes over the site plan (module docstring)."""
    from viz._mpl import plot_style

    with plot_style():
        fig, ax = _base_map(site)

        def xy(ns: Sequence[str]) -> tuple[list[float], list[float]]:
            return [graph.nodes[n]["x"] for n in ns], [graph.nodes[n]["y"] for n in ns]

        if default_loop:
            x, y = xy(list(default_loop) + [default_loop[0]])
            ax.plot(x, y, ls="--", color="0.35", lw=1.2, zorder=20, label="default loop (before)")
        for k, r in enumerate(routes):
            x, y = xy(r)
            ax.plot(x, y, color=_ROUTE_COLORS[k % len(_ROUTE_COLORS)], lw=2.0, alpha=0.8, zorder=21,
                    label=f"patrol {k + 1} (after)")
        if prizes:
            top = max(prizes.values())
            x, y = xy(list(prizes))
            ax.scatter(x, y, s=[20 + 120 * v / top for v in prizes.values()], facecolor="none", edgecolor="#b71c1c",
                       lw=1.0, zorder=22, label="night risk place (size = risk)")
        return _finish(fig, ax, path, title)


def plot_posts_map(site: Site, graph: nx.Graph, before: Sequence[str], posts: Sequence[str], cover: Sequence[str],
                   path: Path, *, demand: Mapping[str, float], title: str = "") -> Path:
    """Response posts over the site plan (module docstring)."""
    from viz._mpl import plot_style

    def xy(ns: Sequence[str]) -> tuple[list[float], list[float]]:
        return [graph.nodes[n]["x"] for n in ns], [graph.nodes[n]["y"] for n in ns]

    with plot_style():
        fig, ax = _base_map(site)
        if demand:
            top = max(demand.values())
            x, y = xy(list(demand))
            ax.scatter(x, y, s=[6 + 60 * v / top for v in demand.values()], color="#7b1fa2", alpha=0.45, zorder=20,
                       label="incident places (size = incidents a year)")
        x, y = xy(list(dict.fromkeys(before)))
        ax.scatter(x, y, marker="s", s=90, facecolor="none", edgecolor="0.2", lw=1.5, zorder=22,
                   label="guards today (before)")
        x, y = xy(posts)
        ax.scatter(x, y, marker="*", s=220, color="#d81b60", edgecolor="k", lw=0.5, zorder=23,
                   label="p-median posts (after)")
        x, y = xy(cover)
        ax.scatter(x, y, marker="^", s=70, facecolor="none", edgecolor="#00695c", lw=1.5, zorder=24,
                   label="max-covering posts")
        return _finish(fig, ax, path, title)


def plot_evacuation_plan_map(site: Site, problem: Any, plan: Mapping[str, tuple[str | None, str | None]], path: Path,
                             *, title: str = "") -> Path:
    """Arrows from each planned group's building (its exit when fixed) to its assembly point."""
    from viz._mpl import plot_style

    spaces = {o.id: o.polygon.representative_point() for o in site.open_spaces}
    spaces.update({g.id: g.position for g in site.gates})
    exits = {e.id: e.position for b in site.buildings for e in b.exits}
    with plot_style():
        fig, ax = _base_map(site)
        drawn = set()
        for key, (e, t) in plan.items():
            b = site.building(problem.group_building[key])
            if e is not None and e in exits:
                p0 = exits[e]
                ax.scatter([p0.x], [p0.y], s=60, facecolor="none", edgecolor="#c62828", lw=1.5, zorder=22,
                           label="planned exit" if "exit" not in drawn else None)
                drawn.add("exit")
            else:
                p0 = b.footprint.centroid
            if t is None:
                continue
            p1 = spaces[t]
            ax.annotate("", xy=(p1.x, p1.y), xytext=(p0.x, p0.y), zorder=23,
                        arrowprops=dict(arrowstyle="->", color="#1565c0", lw=1.6, alpha=0.85))
            ax.text(p0.x, p0.y, f"{key}→{t}", fontsize=6, color="#0d47a1", zorder=24)
        fixed = sum(1 for e, t in plan.values() if e is not None or t is not None)
        ax.plot([], [], color="#1565c0", lw=1.6, label=f"planned route ({fixed} of {len(plan)} groups fixed; "
                                                         "others: nearest)")
        return _finish(fig, ax, path, title)


def _fmt(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 3) if abs(v) < 10 else round(v, 1)
    if isinstance(v, (list, dict)):
        return ", ".join(f"{k} {x}" for k, x in v.items()) if isinstance(v, dict) else ", ".join(map(str, v))
    return v


def write_optimize_report(out_dir: Path, metrics: Mapping[str, Any], *, title: str,
                          pictures: Sequence[tuple[Path, str]]) -> Path:
    """``report.html`` in ``out_dir``: the before / after table from simulation (and the other
    before / after blocks of ``metrics``), the pictures embedded, the settings."""
    out_dir = Path(out_dir)
    sim = metrics.get("simulation", {})
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>Scenario <b>{html.escape(str(metrics.get('scenario', '')))}</b> on "
             f"<b>{html.escape(str(metrics.get('site', '')))}</b>, seed {metrics.get('seed')}. "
             "Every figure below comes from simulating the same incidents or the same people both ways "
             "(common random numbers), so the difference is the plan's doing.</p>"]
    if sim:
        parts.append(f"<h2>Before and after</h2><p><b>Before:</b> {html.escape(str(sim.get('before', '')))}<br>"
                     f"<b>After:</b> {html.escape(str(sim.get('after', '')))}</p>")
        rows = [[k, _fmt(v.get("before")), _fmt(v.get("after")), _fmt(v.get("change"))]
                for k, v in sim.get("figures", {}).items()]
        parts.append(_table(["figure", "before", "after", "change"], rows))
        if sim.get("night"):
            parts.append("<h3>Night shift (00:00-08:00) only</h3>")
            parts.append(_table(["figure", "before", "after", "change"],
                                [[k, _fmt(v.get("before")), _fmt(v.get("after")), _fmt(v.get("change"))]
                                 for k, v in sim["night"].items()]))
    for block in ("coverage", "travel"):
        b = metrics.get(block)
        if isinstance(b, dict):
            cols = [c for c in b if isinstance(b[c], dict)]
            keys = list(dict.fromkeys(k for c in cols for k in b[c]))
            parts.append(f"<h2>{block.capitalize()}</h2>")
            parts.append(_table(["figure", *cols], [[k, *[_fmt(b[c].get(k)) for c in cols]] for k in keys]))
            if b.get("note"):
                parts.append(f"<p><small>{html.escape(str(b['note']))}</small></p>")
    for p, alt in pictures:
        parts.append(_img(Path(p), alt))
    for block in ("settings", "solver", "routes", "posts", "plan", "search"):
        b = metrics.get(block)
        if isinstance(b, dict) and b:
            parts.append(f"<h2>{block.capitalize()}</h2>")
            parts.append(_table(["item", "value"], [[k, _fmt(v) if not isinstance(v, dict) else
                                                     ", ".join(f"{kk}: {_fmt(vv)}" for kk, vv in v.items())]
                                                    for k, v in b.items()]))
    style = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:0.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
             "font-size:13px}th{background:#f0f0f0}td{text-align:right}td:first-child{text-align:left}"
             "img{max-width:100%}figure{margin:1em 0}")
    doc = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
           f"<style>{style}</style></head><body>{''.join(parts)}</body></html>")
    path = out_dir / "report.html"
    path.write_text(doc, encoding="utf-8")
    return path


def write_optimize_outputs(result: Any) -> list[Path]:
    """The map PNG(s) and ``report.html`` of an :class:`optimizer.runs.OptimizeResult` (its
    ``extra`` holds what to draw), written into its ``out_dir``; returns the files written and
    appends them to ``result.files``."""
    out, ex, m = Path(result.out_dir), result.extra, result.metrics
    site = ex["site"]
    pics: list[tuple[Path, str]] = []
    if result.action == "cameras":
        rep = ex["plan"].report
        pics.append((plot_camera_plan_map(site, ex["devices"], out / "camera_map.png", meta=ex["meta"],
                                          title=f"{site.name}: camera plan, {rep.n_cameras} cameras "
                                                f"(CNY {rep.cost_cny:,.0f})"), "camera plan: view cones"))
        title = f"Camera plan — {site.name}"
    elif result.action == "patrols":
        pics.append((plot_patrol_map(site, ex["graph"], ex["routes"], out / "patrol_map.png", prizes=ex["prizes"],
                                     default_loop=ex["default_loop"],
                                     title=f"{site.name}: {len(ex['routes'])} night patrol route(s) from {ex['gate']}"),
                     "night patrol routes"))
        title = f"Night patrol routes — {site.name}"
    elif result.action == "posts":
        pics.append((plot_posts_map(site, ex["graph"], ex["before"], ex["posts"], ex["cover"], out / "posts_map.png",
                                    demand=ex["demand"], title=f"{site.name}: {len(ex['posts'])} response post(s)"),
                     "response posts"))
        title = f"Response posts — {site.name}"
    elif result.action == "plan":
        from viz.plan_pictures import plot_plan_convergence

        pics.append((plot_evacuation_plan_map(site, ex["problem"], ex["plan"], out / "plan_map.png",
                                              title=f"{site.name}: evacuation plan"), "evacuation plan"))
        pics.append((plot_plan_convergence(ex["result"], path=out / "plan_convergence.png"), "plan search (flow model)"))
        title = f"Evacuation plan — {site.name}"
    else:
        raise ValueError(f"write_optimize_outputs: unknown action {result.action!r}")
    rh = write_optimize_report(out, m, title=title, pictures=pics)
    files = [p for p, _ in pics] + [rh]
    result.files.extend(files)
    return files
