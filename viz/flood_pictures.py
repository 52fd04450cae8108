"""Pictures of a flood run: maximum-depth and hazard maps over the site plan, depth over time in
the garages and at the sensors (matplotlib, Agg), and the 3D scene with the water surface
(pyvista)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from viz._mpl import plot_style

__all__ = ["plot_flood_map", "plot_flood_series", "render_flood_scene"]

#: FD2321 classes (code -> name, colour): low, danger for some / most / all.
_HR_COLOURS = ("#ffffcc", "#fd8d3c", "#e31a1c", "#800026")


def _png(path: str | Path, who: str) -> Path:
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise ValueError(f"{who}: path {str(p)!r} must end in .png")
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def plot_flood_map(site: Any, field: np.ndarray, *, origin: tuple[float, float], cell_size_m: float,
                   path: str | Path, kind: str = "depth", title: str = "",
                   marks: dict[str, tuple[float, float]] | None = None) -> Path:
    """A plan of the site (buildings, ways) under ``field`` [ny, nx] (row 0 south): ``kind``
    ``"depth"`` (maximum depth in m, blues, dry cells blank) or ``"hazard"`` (FD2321 hazard
    rating, its four classes). ``marks`` labels points (sensors, garage ramps)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.figure import Figure

    if kind not in ("depth", "hazard"):
        raise ValueError(f"plot_flood_map: kind {kind!r}; expected 'depth' or 'hazard'")
    f = np.asarray(field, dtype=float)
    if f.ndim != 2:
        raise ValueError(f"plot_flood_map: field must be 2-D, got shape {f.shape}")
    p = _png(path, "plot_flood_map")
    ny, nx = f.shape
    ext = (origin[0], origin[0] + nx * cell_size_m, origin[1], origin[1] + ny * cell_size_m)
    with plot_style():
        fig = Figure(figsize=(10.0, 8.0))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        for w in site.ways:
            xs, ys = w.area.exterior.xy
            ax.fill(xs, ys, color="#dddddd", lw=0, zorder=1)
        if kind == "depth":
            show = np.where(f > 0.01, f, np.nan)
            im = ax.imshow(show, origin="lower", extent=ext, cmap="Blues", vmin=0.0,
                           vmax=max(0.5, float(np.nanmax(show)) if np.isfinite(show).any() else 0.5), zorder=2)
            fig.colorbar(im, ax=ax, shrink=0.8, label="maximum depth (m)")
        else:
            cmap = ListedColormap(list(_HR_COLOURS))
            norm = BoundaryNorm([0.0, 0.75, 1.25, 2.0, 100.0], cmap.N)
            show = np.where(f > 0.0, f, np.nan)
            im = ax.imshow(show, origin="lower", extent=ext, cmap=cmap, norm=norm, zorder=2)
            cb = fig.colorbar(im, ax=ax, shrink=0.8, ticks=[0.375, 1.0, 1.625, 2.5])
            cb.ax.set_yticklabels(["low", "danger for some", "danger for most", "danger for all"])
            cb.set_label("FD2321 hazard rating (maximum)")
        for b in site.buildings:
            xs, ys = b.footprint.exterior.xy
            if b.storeys > 0:
                ax.fill(xs, ys, color="#8c8c8c", zorder=3)
            else:
                ax.plot(xs, ys, color="#555555", lw=0.8, ls="--", zorder=3)
            c = b.footprint.representative_point()
            ax.text(c.x, c.y, b.id, ha="center", va="center", fontsize=7, color="white" if b.storeys else "#333333",
                    zorder=4)
        bx, by = site.boundary.exterior.xy
        ax.plot(bx, by, color="k", lw=1.0, zorder=4)
        for label, (x, y) in (marks or {}).items():
            ax.plot(x, y, "o", ms=3, color="#d62728", zorder=5)
            ax.annotate(label, (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points", zorder=5)
        ax.set_aspect("equal")
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        ax.set_title(title or ("Maximum flood depth" if kind == "depth" else "Flood hazard to people (FD2321)"))
        fig.tight_layout()
        fig.savefig(p, dpi=130)
    return p


def plot_flood_series(t: np.ndarray, garages: dict[str, np.ndarray], sensors: dict[str, np.ndarray], *,
                      path: str | Path, rain: tuple[tuple[float, ...], tuple[float, ...]] | None = None,
                      title: str = "") -> Path:
    """Depth over time: the rain hyetograph (if given), the garages' water depth with the car
    (0.3 m) and people (0.5 m) limits, and the depth at the sensors that got wet."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    p = _png(path, "plot_flood_series")
    t = np.asarray(t, dtype=float)
    with plot_style():
        fig = Figure(figsize=(10.0, 7.5))
        FigureCanvasAgg(fig)
        axs = fig.subplots(3, 1, sharex=True)
        if rain is not None:
            edges, mm = rain
            axs[0].stairs(mm, np.asarray(edges) / 60.0, fill=True, color="#6baed6")
        axs[0].set_ylabel("rain (mm/h)")
        for g, d in garages.items():
            axs[1].plot(t / 60.0, d, label=g)
        axs[1].axhline(0.3, color="tab:orange", ls="--", lw=0.8, label="cars (0.3 m)")
        axs[1].axhline(0.5, color="tab:red", ls="--", lw=0.8, label="people (0.5 m)")
        axs[1].set_ylabel("garage depth (m)")
        axs[1].legend(fontsize=8, loc="upper left")
        wet = sorted(((float(np.max(d)), k) for k, d in sensors.items() if len(d) and np.max(d) > 0.01), reverse=True)
        for _, k in wet[:10]:
            axs[2].plot(t / 60.0, sensors[k], label=k)
        axs[2].set_ylabel("depth at sensor (m)")
        if wet:
            axs[2].legend(fontsize=7, loc="upper left", ncol=2)
        axs[2].set_xlabel("time (min)")
        axs[0].set_title(title or "Rain, garage and sensors")
        fig.tight_layout()
        fig.savefig(p, dpi=130)
    return p


def render_flood_scene(site: Any, flood: Any, path: str | Path, *, depth: np.ndarray | None = None,
                       window_size: tuple[int, int] = (1600, 1000), camera_position: str = "iso") -> Path:
    """The site in 3D with the water surface (bed + depth where deeper than 2 cm) of ``flood``
    (a :class:`twin.flood.component.FloodComponent`), by default at its maximum depths,
    coloured by depth."""
    import pyvista as pv

    from viz.scene3d import render_scene

    g = flood.sg.grid
    h = flood.model.max_depth_m if depth is None else np.asarray(depth, dtype=float)
    ny, nx = g.shape
    x = g.origin[0] + (np.arange(nx) + 0.5) * g.cell_size_m
    y = g.origin[1] + (np.arange(ny) + 0.5) * g.cell_size_m
    X, Y = np.meshgrid(x, y)
    Z = g.bed_m + h + 0.05
    grid = pv.StructuredGrid(X, Y, Z)
    grid.point_data["depth"] = h.ravel(order="F")
    wet = grid.threshold(0.02, scalars="depth")
    extra = []
    if wet.n_cells:
        extra.append((wet.extract_surface(algorithm="dataset_surface"),
                      {"scalars": "depth", "cmap": "Blues", "clim": (0.0, max(0.5, float(h.max()))),
                       "opacity": 0.85, "show_scalar_bar": False}))
    return render_scene(site, path, window_size=window_size, camera_position=camera_position, show_devices=False,
                        show_view_cones=False, title=f"{site.name}: maximum flood depth (max {h.max():.2f} m)",
                        extra=extra, extra_legend=[("water (darker = deeper)", "#3182bd")])
