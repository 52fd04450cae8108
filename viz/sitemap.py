"""A 2D map of the site with matplotlib (Agg; no pyplot global state), for reports.

Shows terrain as faint hillshade with contours, building footprints coloured by use with
their id and storeys, ways drawn at their true width, open spaces and assembly points, grid
boundaries, gates, cameras with their view cones, and other devices. Per-household devices
(smoke detectors, emergency buttons, wristbands) are counted per building in the label instead
of drawn as thousands of dots.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import MultiPolygon, Polygon

from geometry.site import BuildingUse, DeviceKind, Site
from viz._mpl import plot_style

__all__ = ["plot_site_map"]

USE_COLOURS = {
    BuildingUse.WALKUP: "#e3b887",
    BuildingUse.HIGHRISE: "#8fa6c1",
    BuildingUse.KINDERGARTEN: "#f2a6c0",
    BuildingUse.COMMUNITY_CENTRE: "#b59ad6",
    BuildingUse.GARAGE: "#9a9a9a",
    BuildingUse.OTHER: "#c8c0b0",
}
WAY_STYLE = {"road": ("#6b6b6b", 3), "fire_lane": ("#c0553a", 3), "walkway": ("#f3efe6", 4), "ramp": ("#7d5ba6", 4)}
SPACE_COLOURS = {"square": "#e9c46a", "green": "#a7d08c", "playground": "#f4e285", "parking": "#c9c9c9",
                 "charging": "#9ecae1", "other": "#dddddd"}
DEVICE_MARKERS = {
    DeviceKind.HEAT_DETECTOR: ("^", "#e76f51", "heat detector"),
    DeviceKind.DOOR_SENSOR: ("s", "#6a4c93", "door sensor"),
    DeviceKind.WATER_LEVEL: ("D", "#1d7fd6", "water-level sensor"),
    DeviceKind.MANHOLE: ("o", "#5c4033", "manhole-cover sensor"),
}
PER_HOUSEHOLD = (DeviceKind.SMOKE_DETECTOR, DeviceKind.EMERGENCY_BUTTON, DeviceKind.WRISTBAND)


def _polys(geom: Any) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom]
    if isinstance(geom, MultiPolygon):
        return list(geom.geoms)
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)]


def _fill(ax: Any, geom: Any, *, z: float, **kw: Any) -> None:
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    for poly in _polys(geom):
        rings = [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords) for r in poly.interiors]
        verts = np.concatenate(rings)
        codes = np.concatenate([[MPath.MOVETO] + [MPath.LINETO] * (len(r) - 2) + [MPath.CLOSEPOLY] for r in rings])
        ax.add_patch(PathPatch(MPath(verts, codes), zorder=z, **kw))


def _hillshade(z: np.ndarray, cell: float) -> np.ndarray:
    """Lambert hillshade, sun from the north-west at 45° (values 0..1)."""
    gy, gx = np.gradient(z, cell)
    slope = np.arctan(np.hypot(gx, gy))
    aspect = np.arctan2(-gx, gy)
    az, alt = np.radians(315.0), np.radians(45.0)
    return np.clip(np.sin(alt) * np.cos(slope) + np.cos(alt) * np.sin(slope) * np.cos(az - aspect), 0, 1)


def plot_site_map(
    site: Site,
    path: str | Path | None = None,
    *,
    ax: Any = None,
    show_devices: bool = True,
    show_view_cones: bool = True,
    show_grids: bool = True,
    title: str | None = None,
    dpi: int = 150,
) -> Any:
    """Draw the site map on ``ax`` (or a new figure) and save it to ``path`` as PNG when given.
    Returns the matplotlib Figure. Drawn with a CJK-capable font chain (Chinese names)."""
    with plot_style():
        return _draw(site, path, ax=ax, show_devices=show_devices, show_view_cones=show_view_cones,
                     show_grids=show_grids, title=title, dpi=dpi)


def _draw(site: Site, path: str | Path | None, *, ax: Any, show_devices: bool, show_view_cones: bool,
          show_grids: bool, title: str | None, dpi: int) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    if ax is None:
        x0, y0, x1, y1 = site.boundary.bounds
        aspect = (y1 - y0) / max(x1 - x0, 1e-9)
        fig = Figure(figsize=(12, max(5.0, min(14.0, 9.0 * aspect + 1.5))), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.05, 0.06, 0.70, 0.86))
    else:
        fig = ax.figure
    ax.set_aspect("equal")
    ax.set_facecolor("#fbfaf6")
    bx0, by0, bx1, by1 = site.boundary.bounds
    pad = 0.04 * max(bx1 - bx0, by1 - by0)
    ax.set_xlim(bx0 - pad, bx1 + pad)
    ax.set_ylim(by0 - pad, by1 + pad)

    t = site.terrain
    if t is not None:
        ex = (t.bounds[0], t.bounds[2], t.bounds[1], t.bounds[3])
        ax.imshow(_hillshade(t.z, t.cell_size_m), origin="lower", extent=ex, cmap="gray", alpha=0.25, zorder=0,
                  vmin=0, vmax=1, interpolation="bilinear")
        ny, nx = t.z.shape
        xs = t.origin[0] + (np.arange(nx) + 0.5) * t.cell_size_m
        ys = t.origin[1] + (np.arange(ny) + 0.5) * t.cell_size_m
        if np.ptp(t.z) > 0.2:
            cs = ax.contour(xs, ys, t.z, levels=8, colors="#7a8a6a", linewidths=0.5, alpha=0.6, zorder=1)
            ax.clabel(cs, fontsize=6, fmt="%.1f m")

    _fill(ax, site.boundary, z=1.5, facecolor="none", edgecolor="#222222", linewidth=1.6)
    for o in site.open_spaces:
        _fill(ax, o.polygon, z=2, facecolor=SPACE_COLOURS.get(o.kind, "#dddddd"), edgecolor="#2d6a4f" if o.assembly_point else "none",
              linewidth=2.0 if o.assembly_point else 0, alpha=0.8)
        c = o.polygon.representative_point()
        label = o.id + (f"\nassembly {o.capacity:,} p" if o.assembly_point else "")
        ax.text(c.x, c.y, label, fontsize=6, ha="center", va="center", zorder=9, color="#1b4332")
    order = {"walkway": 3, "road": 3.2, "fire_lane": 3.3, "ramp": 3.4}
    for w in site.ways:
        colour, _ = WAY_STYLE.get(w.kind, ("#999999", 3))
        _fill(ax, w.area, z=order.get(w.kind, 3), facecolor=colour, edgecolor="#8d8d8d" if w.kind == "walkway" else "none",
              linewidth=0.3)

    household_counts: dict[str, dict[DeviceKind, int]] = {}
    for d in site.devices:
        if d.kind in PER_HOUSEHOLD and d.building:
            household_counts.setdefault(d.building, {}).setdefault(d.kind, 0)
            household_counts[d.building][d.kind] += 1
    for b in site.buildings:
        under = b.storeys == 0
        _fill(ax, b.footprint, z=4, facecolor="none" if under else USE_COLOURS[b.use], edgecolor="#333333",
              linewidth=0.8, linestyle="--" if under else "-", hatch="//" if under else None, alpha=0.9)
        for s in b.stairs:
            ax.plot(s.position.x, s.position.y, marker="s", ms=3, color="#222222", zorder=5)
        for e in b.exits:
            ax.plot(e.position.x, e.position.y, marker="o", ms=3, color="#d62828", zorder=5)
        c = b.footprint.representative_point()
        text = f"{b.id}\n{b.storeys}F" + (f"+B{b.basement_levels}" if b.basement_levels else "")
        if under:
            text = f"{b.id} (underground B{b.basement_levels})"
        counts = household_counts.get(b.id)
        if counts and show_devices:
            short = {DeviceKind.SMOKE_DETECTOR: "SD", DeviceKind.EMERGENCY_BUTTON: "btn", DeviceKind.WRISTBAND: "WB"}
            text += "\n" + " ".join(f"{n} {short[k]}" for k, n in sorted(counts.items(), key=lambda kv: kv[0].value))
        ax.text(c.x, c.y, text, fontsize=5.5, ha="center", va="center", zorder=9)

    if show_grids:
        for gr in site.grids:
            _fill(ax, gr.polygon, z=6, facecolor="none", edgecolor="#3a86ff", linewidth=1.0, linestyle=(0, (6, 3)))
            bx, by = gr.polygon.bounds[0], gr.polygon.bounds[3]
            ax.text(bx + 2, by - 2, f"{gr.id} · {gr.worker}", fontsize=6, color="#3a86ff", ha="left", va="top", zorder=9)

    for g in site.gates:
        ax.plot(g.position.x, g.position.y, marker="*", ms=12, color="#e85d04", markeredgecolor="k", zorder=8)
        ax.annotate(f"{g.id} ({g.kind}, {g.access})", (g.position.x, g.position.y), xytext=(5, 5),
                    textcoords="offset points", fontsize=6.5, zorder=9, color="#9c3d00")

    cams = site.devices_of(DeviceKind.CAMERA)
    if show_devices:
        for d in cams:
            if show_view_cones and d.camera is not None:
                _fill(ax, d.camera.cone(d.position), z=6.5, facecolor="#ffd166", edgecolor="none", alpha=0.22)
        if cams:
            xy = np.array([(d.position.x, d.position.y) for d in cams])
            ax.scatter(xy[:, 0], xy[:, 1], s=8, marker="v", c="#111111", zorder=7)
        for kind, (marker, colour, _label) in DEVICE_MARKERS.items():
            ds = [d for d in site.devices if d.kind == kind]
            if ds:
                xy = np.array([(d.position.x, d.position.y) for d in ds])
                ax.scatter(xy[:, 0], xy[:, 1], s=10, marker=marker, c=colour, zorder=7, edgecolors="none")

    # north arrow and scale bar
    span = bx1 - bx0
    nx_, ny_ = bx1 + pad * 0.5, by1 - pad * 0.2
    ax.annotate("N", xy=(nx_, ny_), xytext=(nx_, ny_ - 0.08 * (by1 - by0)), ha="center", fontsize=10,
                arrowprops={"arrowstyle": "-|>", "color": "k"}, zorder=10)
    bar = 10 ** np.floor(np.log10(max(span / 4, 1e-9)))
    bar = bar * 5 if span / bar > 20 else (bar * 2 if span / bar > 8 else bar)
    sx, sy = bx0, by0 - pad * 0.6
    ax.plot([sx, sx + bar], [sy, sy], color="k", lw=3, zorder=10, solid_capstyle="butt")
    ax.text(sx + bar / 2, sy + pad * 0.15, f"{bar:g} m", ha="center", va="bottom", fontsize=7, zorder=10)
    ax.set_xlabel("x east (m)")
    ax.set_ylabel("y north (m)")
    ax.tick_params(labelsize=7)
    ax.set_title(title or site.name, fontsize=11)

    used = {b.use for b in site.buildings}
    handles: list[Any] = [Patch(facecolor=USE_COLOURS[u], edgecolor="#333333", label=u.value.replace("_", " "))
                          for u in BuildingUse if u in used]
    kinds = {w.kind for w in site.ways}
    handles += [Patch(facecolor=WAY_STYLE[k][0], edgecolor="#8d8d8d", label=k.replace("_", " ")) for k in WAY_STYLE if k in kinds]
    if site.assembly_points:
        handles.append(Patch(facecolor=SPACE_COLOURS["square"], edgecolor="#2d6a4f", linewidth=2, label="assembly point"))
    handles += [Line2D([], [], marker="s", ls="", color="#222222", ms=4, label="stair core"),
                Line2D([], [], marker="o", ls="", color="#d62828", ms=4, label="building exit"),
                Line2D([], [], marker="*", ls="", color="#e85d04", markeredgecolor="k", ms=10, label="gate")]
    if show_grids and site.grids:
        handles.append(Line2D([], [], color="#3a86ff", ls="--", label="management grid"))
    if show_devices:
        if cams:
            handles.append(Line2D([], [], marker="v", ls="", color="#111111", ms=5, label=f"camera ({len(cams)})"))
            if show_view_cones:
                handles.append(Patch(facecolor="#ffd166", alpha=0.4, label="camera view cone"))
        for kind, (marker, colour, label) in DEVICE_MARKERS.items():
            n = len(site.devices_of(kind))
            if n:
                handles.append(Line2D([], [], marker=marker, ls="", color=colour, ms=5, label=f"{label} ({n})"))
        for kind in PER_HOUSEHOLD:
            n = len(site.devices_of(kind))
            if n:
                handles.append(Line2D([], [], ls="", label=f"{kind.value.replace('_', ' ')}: {n} (per building)"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=7, frameon=False)
    if path is not None:
        fig.savefig(Path(path), dpi=dpi)
    return fig
