"""Pictures of a camera plan for planners and funders (matplotlib Agg, no pyplot global state).

* :func:`plot_coverage_curve` -- risk-weighted coverage (%) against the number of cameras (the
  output of :func:`optimizer.camera_sites.camera_curve`), with the public-area coverage of each
  point, an upper-bound band where the solver gives one, and optional markers (their weight
  seen at least once) for the estate's existing cameras and for a plan (e.g. the least-cost
  full cover).
* :func:`plot_camera_map` -- the site (boundary, ways at their width, building footprints
  coloured by use, gates) with the chosen cameras as dots and their view wedges (``fov_deg``
  wide, ``range_m`` long, as :meth:`geometry.site.CameraSpec.cone`; the wedge ignores
  occlusion), and, when ``meta`` is given, the demand points coloured seen / not seen by the
  cameras (occlusion-aware, :mod:`geometry.viewshed`). Distances in metres, site CRS.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from shapely.geometry import MultiPolygon, Polygon

from geometry.site import Device, DeviceKind, Site
from geometry.viewshed import PoseArray, visibility
from optimizer.camera_sites import CameraSiteMeta, CoverageReport
from optimizer.cameras import CoverageCurve
from viz import _style as st
from viz._mpl import plot_style

__all__ = ["plot_camera_map", "plot_coverage_curve"]

SEEN_COLOR = "#2e7d32"
UNSEEN_COLOR = "#c62828"


def _figure(w_in: float, h_in: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w_in, h_in))
    FigureCanvasAgg(fig)
    return fig


def _out_path(path: str | Path) -> Path:
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise ValueError(f"path {str(p)!r}: expected a file name ending in .png")
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def _polys(geom: Any) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [geom] if not geom.is_empty else []
    if isinstance(geom, MultiPolygon):
        return [g for g in geom.geoms if not g.is_empty]
    return []


def _fill(ax: Any, geom: Any, *, fc: str, ec: str = "none", lw: float = 0.0, alpha: float = 1.0,
          zorder: float = 1.0) -> None:
    """Fill polygons, holes included (a buffered ring road is a polygon with a hole)."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    for p in _polys(geom):
        verts: list[tuple[float, float]] = []
        codes: list[int] = []
        for ring in (p.exterior, *p.interiors):
            pts = list(ring.coords)
            verts += pts
            codes += [MPath.MOVETO] + [MPath.LINETO] * (len(pts) - 2) + [MPath.CLOSEPOLY]
        ax.add_patch(PathPatch(MPath(verts, codes), fc=fc, ec=ec, lw=lw, alpha=alpha, zorder=zorder))


def plot_coverage_curve(
    curve: CoverageCurve,
    path: str | Path,
    *,
    reports: Sequence[CoverageReport] | None = None,
    existing: CoverageReport | None = None,
    plan: CoverageReport | None = None,
    title: str = "Camera coverage vs number of cameras",
) -> Path:
    """Write the coverage-vs-cameras curve to ``path`` (.png) and return the path."""
    if not isinstance(curve, CoverageCurve):
        raise TypeError(f"curve must be an optimizer.cameras.CoverageCurve, got {type(curve).__name__}")
    if reports is not None and len(reports) != len(curve.budgets):
        raise ValueError(f"reports has {len(reports)} entries for {len(curve.budgets)} curve points")
    out = _out_path(path)
    with plot_style():
        fig = _figure(6.4, 4.0)
        ax = fig.add_subplot(1, 1, 1)
        ax.plot(curve.budgets, 100 * curve.coverage, "o-", color=st.CAMERA_COLOR,
                label="risk-weighted demand seen at least once (optimised)")
        with np.errstate(divide="ignore", invalid="ignore"):
            total = curve.covered_weight / np.where(curve.coverage > 0, curve.coverage, np.nan)
            bound = 100 * np.clip(curve.bound / total, 0, 1)
        if np.isfinite(bound).any():
            ax.fill_between(curve.budgets, 100 * curve.coverage, np.where(np.isfinite(bound), bound,
                            100 * curve.coverage), color=st.CAMERA_COLOR, alpha=0.15, label="upper bound")
        if reports is not None:
            ax.plot(curve.budgets, [100 * r.public_area_coverage for r in reports], "s--", color="#00897b",
                    label="public area seen")
        for rep, colour, word in ((existing, "#e07000", "existing cameras"), (plan, "#6a1b9a", "plan")):
            if rep is not None:
                x = rep.n_cameras if curve.by == "cameras" else rep.cost_cny
                ax.plot([x], [100 * rep.weighted_seen_once], "*", ms=12, color=colour,
                        label=f"{word}: {rep.n_cameras} cameras, {100 * rep.weighted_seen_once:.0f}% "
                              f"({100 * rep.public_area_coverage:.0f}% of public area)")
        ax.set_xlabel("number of cameras" if curve.by == "cameras" else "budget (CNY)")
        ax.set_ylabel("coverage (%)")
        ax.set_ylim(0, 102)
        ax.grid(alpha=0.3)
        ax.set_title(st.plain_text(title))
        ax.legend(loc="lower right", fontsize=7)
        fig.tight_layout()
        fig.savefig(out, dpi=120)
    return out


def plot_camera_map(
    site: Site,
    cameras: Sequence[Device],
    path: str | Path,
    *,
    meta: CameraSiteMeta | None = None,
    title: str | None = None,
    dpi: int = 120,
) -> Path:
    """Write a 2D map of ``cameras`` and their view wedges over ``site`` to ``path`` (.png)."""
    if not isinstance(site, Site):
        raise TypeError(f"site must be a geometry.site.Site, got {type(site).__name__}")
    cams = list(cameras)
    for d in cams:
        if not isinstance(d, Device) or d.kind != DeviceKind.CAMERA or d.camera is None:
            raise ValueError(f"cameras: {getattr(d, 'id', d)!r} is not a camera device with optics")
    out = _out_path(path)
    x0, y0, x1, y1 = site.boundary.bounds
    w, h = x1 - x0, y1 - y0
    scale = 9.0 / max(w, h)
    with plot_style():
        fig = _figure(max(4.0, w * scale) + 2.2, max(3.0, h * scale) + 0.8)
        ax = fig.add_subplot(1, 1, 1)
        bx, by = site.boundary.exterior.xy
        ax.fill(bx, by, color="#f7f5ef", zorder=0)
        ax.plot(bx, by, color=st.BOUNDARY_COLOR, lw=1.2, zorder=5)
        for o in site.open_spaces:
            _fill(ax, o.polygon, fc=st.OPEN_COLORS.get(o.kind, "#e2e2d5"), zorder=1)
        for way in site.ways:
            _fill(ax, way.area, fc=st.WAY_COLORS.get(way.kind, "#cccccc"), zorder=2, alpha=0.8)
        for c in cams:
            _fill(ax, c.camera.cone(c.position, segments=24), fc=st.CONE_COLOR, alpha=0.25, zorder=3)
        for b in site.buildings:
            if st.is_underground(b):
                xs, ys = b.footprint.exterior.xy
                ax.plot(xs, ys, ls="--", color=st.building_color(b), lw=0.8, zorder=2.5)
            else:
                _fill(ax, b.footprint, fc=st.building_color(b), ec="#555555", lw=0.5, zorder=6)
        if meta is not None:
            dem = meta.demand
            seen = np.zeros(len(dem), bool)
            if cams:
                v = visibility(meta.grid, PoseArray.from_devices(cams), dem.xy, target_height_m=meta.target_height_m)
                seen = v.counts() > 0
            ax.scatter(dem.x[seen], dem.y[seen], s=2, color=SEEN_COLOR, zorder=7, label=f"demand seen ({seen.sum()})")
            ax.scatter(dem.x[~seen], dem.y[~seen], s=3, color=UNSEEN_COLOR, zorder=7,
                       label=f"demand not seen ({(~seen).sum()})")
        if cams:
            ax.scatter([c.position.x for c in cams], [c.position.y for c in cams], s=10, color=st.CAMERA_COLOR,
                       zorder=8, label=f"cameras ({len(cams)})")
        for g in site.gates:
            ax.scatter([g.position.x], [g.position.y], marker="s", s=30, color=st.GATE_COLOR, zorder=9)
        ax.set_aspect("equal")
        ax.set_xlim(x0 - 5, x1 + 5)
        ax.set_ylim(y0 - 5, y1 + 5)
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        ax.set_title(st.plain_text(title or f"{site.name}: {len(cams)} cameras"))
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, markerscale=3)
        fig.tight_layout()
        fig.savefig(out, dpi=dpi)
    return out
