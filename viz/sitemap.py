"""A 2D map of the site with matplotlib (Agg; no pyplot global state), for reports.

What is drawn (site CRS, metres, x east, y north):

* terrain (when the site has one) as a faint hillshade with labelled ground contours (m);
* the estate boundary, open spaces coloured by kind, assembly points hatched green with their
  capacity (persons);
* ways at their true width, coloured by kind; the legend gives each kind's width range
  ("road (6-7 m wide)");
* building footprints coloured by use (colours and labels shared with the 3D scene through
  :mod:`viz._style`), a fully underground building (``storeys == 0``) as a dashed translucent
  outline below the ways; each building is labelled ``B01 · 18F`` with the counts of its
  per-household devices (smoke detectors ``SD``, emergency buttons ``btn``, wristbands ``WB``;
  thousands of them, so counted rather than drawn) beneath, explained in the legend;
* management grids as dashed outlines with ``GRID1 (worker)`` in a readable box;
* gates as squares labelled with their access control (face, plate, qr ...);
* cameras with the union of their view cones (``fov_deg`` wide, ``range_m`` long; drawn over the
  ways, under the buildings) and the other field devices (those not per household) as markers
  coloured by kind;
* a striped scale bar (0 and a round length), a north arrow, the legend outside the axes and a
  title with the counts of buildings, households, cameras and devices.

Labels are placed greedily (assembly points, gates and grids first, then buildings by area)
and a label that would overlap one already placed is shortened or left out, so dense imported
sites (hundreds of small buildings) stay readable.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterable

import numpy as np
from shapely.geometry import MultiPolygon, Polygon
from shapely.ops import unary_union

from geometry.site import Building, BuildingUse, DeviceKind, Site
from viz import _style as st
from viz._mpl import plot_style

__all__ = ["plot_site_map"]

#: per-household device kinds in the order their counts are listed under a building label
PER_HOUSEHOLD = (DeviceKind.SMOKE_DETECTOR, DeviceKind.EMERGENCY_BUTTON, DeviceKind.WRISTBAND)
#: matplotlib marker per device kind (colours from viz._style.DEVICE_COLORS)
DEVICE_MARKERS: dict[DeviceKind, str] = {
    DeviceKind.CAMERA: "^",
    DeviceKind.SMOKE_DETECTOR: "o",
    DeviceKind.HEAT_DETECTOR: "D",
    DeviceKind.DOOR_SENSOR: "s",
    DeviceKind.WATER_LEVEL: "v",
    DeviceKind.MANHOLE: "h",
    DeviceKind.EMERGENCY_BUTTON: "P",
    DeviceKind.WRISTBAND: "X",
}
UNDERGROUND_FACE = "#d5d9dd"
UNDERGROUND_EDGE = "#7d8c99"
CONTOUR_COLOR = "#8c7f66"
GATE_TEXT = "#8a3b00"
LABEL_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.7}
_WAY_Z = {"walkway": 3.0, "road": 3.1, "fire_lane": 3.2, "ramp": 3.3}


def _polys(geom: Any) -> list[Polygon]:
    if isinstance(geom, Polygon):
        return [] if geom.is_empty else [geom]
    if isinstance(geom, MultiPolygon):
        return [g for g in geom.geoms if not g.is_empty]
    return [g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon) and not g.is_empty]


def _fill(ax: Any, geom: Any, *, z: float, **kw: Any) -> None:
    """Add a (multi)polygon with its holes as one PathPatch per part."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    for poly in _polys(geom):
        rings = [np.asarray(poly.exterior.coords)[:, :2]] + [np.asarray(r.coords)[:, :2] for r in poly.interiors]
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


def _fmt_width(w: float) -> str:
    if w < 0.1:
        return f"{w:.1g}"
    return f"{w:.1f}".rstrip("0").rstrip(".") if w < 10.0 else f"{round(w):d}"


def _width_range(widths: Iterable[float]) -> str:
    ws = list(widths)
    lo, hi = _fmt_width(min(ws)), _fmt_width(max(ws))
    return f"{lo} m" if lo == hi else f"{lo}-{hi} m"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _counts_line(site: Site) -> str:
    """``18 buildings, 2,856 households, 106 cameras, 3,448 devices`` (zero terms after the
    buildings left out: an imported site has no households or devices recorded)."""
    parts = [_plural(len(site.buildings), "building")]
    for n, word in ((site.households, "household"), (len(site.devices_of(DeviceKind.CAMERA)), "camera"),
                    (len(site.devices), "device")):
        if n:
            parts.append(_plural(n, word))
    return ", ".join(parts)


class _Labels:
    """Greedy label placement: estimated text boxes in display pixels; a box that overlaps one
    already placed is refused."""

    def __init__(self, ax: Any) -> None:
        self.ax = ax
        self.px_per_pt = ax.figure.dpi / 72.0
        self.boxes: list[tuple[float, float, float, float]] = []

    def box(self, x: float, y: float, text: str, fontsize: float, *, ha: str = "center", va: str = "center",
            offset_pt: tuple[float, float] = (0.0, 0.0)) -> tuple[float, float, float, float]:
        lines = text.split("\n")
        # DejaVu Sans averages ~0.6 em per Latin character; CJK glyphs are a full em
        em = max(sum(1.0 if ord(c) > 0x2E80 else 0.6 for c in line) for line in lines)
        w = (em * fontsize + 4) * self.px_per_pt
        h = (len(lines) * 1.2 * fontsize + 3) * self.px_per_pt
        px, py = self.ax.transData.transform((x, y))
        px += offset_pt[0] * self.px_per_pt
        py += offset_pt[1] * self.px_per_pt
        x0 = px - w / 2 if ha == "center" else (px if ha == "left" else px - w)
        y0 = py - h / 2 if va == "center" else (py if va == "bottom" else py - h)
        return (x0, y0, x0 + w, y0 + h)

    def free(self, b: tuple[float, float, float, float], *, tol_px: float = 3.0) -> bool:
        """Whether ``b`` overlaps no placed box by more than ``tol_px`` (the boxes are generous)."""
        return all(b[2] - tol_px <= o[0] or o[2] - tol_px <= b[0] or b[3] - tol_px <= o[1] or o[3] - tol_px <= b[1]
                   for o in self.boxes)

    def add(self, b: tuple[float, float, float, float]) -> None:
        self.boxes.append(b)


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
    Returns the matplotlib Figure. Drawn with a CJK-capable font chain (Chinese names); text
    the installed fonts cannot draw is left out rather than shown as empty boxes."""
    # bold text falls back to the regular CJK face (WenQuanYi has no bold); matplotlib logs a
    # "Failed to find font weight bold" line per lookup, which is noise here
    fm_log = logging.getLogger("matplotlib.font_manager")
    level = fm_log.level
    fm_log.setLevel(max(level, logging.ERROR))
    try:
        with plot_style():
            return _draw(site, path, ax=ax, show_devices=show_devices, show_view_cones=show_view_cones,
                         show_grids=show_grids, title=title, dpi=dpi)
    finally:
        fm_log.setLevel(level)


def _new_figure(w_m: float, h_m: float, dpi: int) -> tuple[Any, Any]:
    """A figure whose axes have the site's aspect ratio, with room on the right for the legend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    aspect = h_m / max(w_m, 1e-9)
    ax_w = 8.6
    ax_h = ax_w * aspect
    if ax_h > 11.0:
        ax_h, ax_w = 11.0, 11.0 / aspect
    left, right, bottom, top = 0.8, 3.6, 0.7, 0.8  # inches around the axes
    fig_w, fig_h = left + ax_w + right, bottom + ax_h + top
    fig = Figure(figsize=(fig_w, fig_h), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((left / fig_w, bottom / fig_h, ax_w / fig_w, ax_h / fig_h))
    return fig, ax


def _draw(site: Site, path: str | Path | None, *, ax: Any, show_devices: bool, show_view_cones: bool,
          show_grids: bool, title: str | None, dpi: int) -> Any:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    bx0, by0, bx1, by1 = site.boundary.bounds
    w_m, h_m = max(bx1 - bx0, 1e-6), max(by1 - by0, 1e-6)
    pad = 0.035 * max(w_m, h_m)
    strip = 0.085 * max(w_m, h_m)  # below the boundary: scale bar and north arrow
    xlim = (bx0 - pad, bx1 + pad)
    ylim = (by0 - pad - strip, by1 + pad)
    own_figure = ax is None
    if own_figure:
        fig, ax = _new_figure(xlim[1] - xlim[0], ylim[1] - ylim[0], dpi)
    else:
        fig = ax.figure
    ax.set_aspect("equal")
    ax.set_facecolor("#fbfaf6")
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.apply_aspect()
    labels = _Labels(ax)
    handles: list[Any] = []

    # --- terrain: hillshade and labelled contours -------------------------------------------
    t = site.terrain
    if t is not None:
        ex = (t.bounds[0], t.bounds[2], t.bounds[1], t.bounds[3])
        ax.imshow(_hillshade(t.z, t.cell_size_m), origin="lower", extent=ex, cmap="gray", alpha=0.18, zorder=0,
                  vmin=0, vmax=1, interpolation="bilinear")
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
        zmin, zmax = float(np.nanmin(t.z)), float(np.nanmax(t.z))
        if zmax - zmin > 0.2:
            ny, nx = t.z.shape
            xs = t.origin[0] + (np.arange(nx) + 0.5) * t.cell_size_m
            ys = t.origin[1] + (np.arange(ny) + 0.5) * t.cell_size_m
            levels = [v for v in MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]).tick_values(zmin, zmax)
                      if zmin < v < zmax]
            if levels:
                # above open spaces and the underground garage, below ways and buildings
                cs = ax.contour(xs, ys, t.z, levels=levels, colors=CONTOUR_COLOR, linewidths=0.55, alpha=0.75,
                                linestyles="solid", zorder=2.6)
                ax.clabel(cs, fontsize=5.5, fmt=lambda v: f"{v:g} m", inline=True, inline_spacing=2,
                          colors="#5e5440")
                handles.append(Line2D([], [], color=CONTOUR_COLOR, lw=0.8, label="ground contour (m)"))

    # --- boundary and open spaces ------------------------------------------------------------
    _fill(ax, site.boundary, z=5.5, facecolor="none", edgecolor=st.BOUNDARY_COLOR, linewidth=1.6)
    assembly = [o for o in site.open_spaces if o.assembly_point]
    for o in site.open_spaces:
        if o.assembly_point:
            _fill(ax, o.polygon, z=2.5, facecolor=st.ASSEMBLY_COLOR, edgecolor=st.ASSEMBLY_EDGE, linewidth=1.2,
                  hatch="//", alpha=0.55)
        else:
            _fill(ax, o.polygon, z=2.0, facecolor=st.OPEN_COLORS.get(o.kind, st.OPEN_COLORS["other"]),
                  edgecolor="#9a9a8a", linewidth=0.4, alpha=0.9)
    if assembly:
        handles.append(Patch(facecolor=st.ASSEMBLY_COLOR, edgecolor=st.ASSEMBLY_EDGE, hatch="//", alpha=0.55,
                             label="assembly point (capacity, persons)"))
    for kind in st.OPEN_COLORS:
        if any(o.kind == kind and not o.assembly_point for o in site.open_spaces):
            handles.append(Patch(facecolor=st.OPEN_COLORS[kind], edgecolor="#9a9a8a", linewidth=0.4,
                                 label=f"{kind} (open space)"))
    for o in assembly:
        c = o.polygon.centroid if o.polygon.contains(o.polygon.centroid) else o.polygon.representative_point()
        text = f"{o.id}\n{o.capacity:,} p" if o.capacity else o.id
        b = labels.box(c.x, c.y, text, 7.5)
        labels.add(b)
        ax.text(c.x, c.y, text, fontsize=7.5, fontweight="bold", ha="center", va="center", color="#0b3d17",
                zorder=9, bbox=LABEL_BOX)

    # --- ways ----------------------------------------------------------------------------------
    for w in site.ways:
        colour = st.WAY_COLORS.get(w.kind, "#9e9e9e")
        _fill(ax, w.area, z=_WAY_Z.get(w.kind, 3.0), facecolor=colour,
              edgecolor="#b3a78f" if w.kind == "walkway" else "none", linewidth=0.3)
    kinds = [k for k in st.WAY_ORDER if any(w.kind == k for w in site.ways)]
    kinds += sorted({w.kind for w in site.ways} - set(st.WAY_ORDER))
    for k in kinds:
        rng = _width_range(w.width_m for w in site.ways if w.kind == k)
        handles.append(Patch(facecolor=st.WAY_COLORS.get(k, "#9e9e9e"), edgecolor="#b3a78f" if k == "walkway" else "none",
                             linewidth=0.3, label=f"{st.WAY_LABELS.get(k, k.replace('_', ' '))} ({rng} wide)"))

    # --- buildings -----------------------------------------------------------------------------
    for b in site.buildings:
        if st.is_underground(b):
            _fill(ax, b.footprint, z=2.2, facecolor=UNDERGROUND_FACE, edgecolor=UNDERGROUND_EDGE, linewidth=0.9,
                  linestyle=(0, (4, 2)), alpha=0.6)
        else:
            _fill(ax, b.footprint, z=4, facecolor=st.building_color(b), edgecolor="#444444", linewidth=0.6,
                  alpha=0.95)
    uses = {b.use for b in site.buildings if not st.is_underground(b)}
    for u in sorted(uses, key=lambda u: list(BuildingUse).index(u)):
        handles.append(Patch(facecolor=st.USE_COLORS[u], edgecolor="#444444", linewidth=0.6, label=st.USE_LABELS[u]))
    if any(st.is_underground(b) for b in site.buildings):
        handles.append(Patch(facecolor=UNDERGROUND_FACE, edgecolor=UNDERGROUND_EDGE, linestyle=(0, (4, 2)),
                             alpha=0.6, label=st.UNDERGROUND_LABEL))

    # --- grids, boundary and gates in the legend; their labels take precedence -----------------
    if show_grids and site.grids:
        for gr in site.grids:
            _fill(ax, gr.polygon, z=6, facecolor="none", edgecolor=st.GRID_COLOR, linewidth=1.2,
                  linestyle=(0, (7, 3)))
        handles.append(Line2D([], [], color=st.GRID_COLOR, lw=1.2, ls=(0, (5, 2)), label="management grid"))
    handles.append(Line2D([], [], color=st.BOUNDARY_COLOR, lw=1.6, label="estate boundary"))
    cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
    for g in site.gates:
        ax.plot(g.position.x, g.position.y, marker="s", ms=8, color=st.GATE_COLOR, markeredgecolor="#3b2000",
                markeredgewidth=0.8, zorder=8.5, ls="")
        east = g.position.x > cx + 0.3 * w_m
        south = g.position.y < cy
        access = st.plain_text(g.access) if g.access and g.access != "none" else "open"
        text = f"{st.plain_text(g.id)} ({access})"
        off = (-7.0 if east else 7.0, -6.0 if south else 6.0)
        ha, va = ("right" if east else "left"), ("top" if south else "bottom")
        labels.add(labels.box(g.position.x, g.position.y, text, 7.5, ha=ha, va=va, offset_pt=off))
        ax.annotate(text, (g.position.x, g.position.y), xytext=off, textcoords="offset points", ha=ha, va=va,
                    fontsize=7.5, fontweight="bold", color=GATE_TEXT, zorder=10, bbox=LABEL_BOX)
    if site.gates:
        handles.append(Line2D([], [], marker="s", ls="", ms=7, color=st.GATE_COLOR, markeredgecolor="#3b2000",
                              label="gate (access control)"))
    if show_grids:
        for gr in site.grids:
            gx, gy = gr.polygon.bounds[0], gr.polygon.bounds[3]
            worker = st.plain_text(gr.worker)
            text = f"{st.plain_text(gr.id)} ({worker})" if worker else st.plain_text(gr.id)
            labels.add(labels.box(gx, gy, text, 7.0, ha="left", va="top", offset_pt=(4.0, -3.0)))
            ax.annotate(text, (gx, gy), xytext=(4.0, -3.0), textcoords="offset points", ha="left", va="top",
                        fontsize=7.0, fontweight="bold", color=st.GRID_COLOR, zorder=9.5,
                        bbox={**LABEL_BOX, "alpha": 0.8})

    # --- devices ---------------------------------------------------------------------------------
    per_building = st.aggregate_household_devices(site) if show_devices else {}
    if show_devices:
        cams = site.devices_of(DeviceKind.CAMERA)
        if show_view_cones:
            cones = [d.camera.cone(d.position) for d in cams if d.camera is not None]
            if cones:
                # the union, so overlapping cones do not stack up; below the buildings so their
                # colours stay those of the legend and the 3D scene
                _fill(ax, unary_union(cones), z=3.5, facecolor=st.CONE_COLOR, edgecolor="none", alpha=0.22)
                handles.append(Patch(facecolor=st.CONE_COLOR, alpha=0.35, label="camera view cone (fov, range)"))
        for kind in DeviceKind:
            ds = [d for d in site.devices if d.kind == kind and (d.unit is None or d.building is None)]
            if not ds:
                continue
            xy = np.array([(d.position.x, d.position.y) for d in ds])
            cam = kind == DeviceKind.CAMERA
            ax.scatter(xy[:, 0], xy[:, 1], s=16 if cam else 11, marker=DEVICE_MARKERS.get(kind, "o"),
                       c=st.DEVICE_COLORS.get(kind, "#333333"), edgecolors="white", linewidths=0.35,
                       zorder=7.5 if cam else 7)
            handles.append(Line2D([], [], marker=DEVICE_MARKERS.get(kind, "o"), ls="", ms=5.5,
                                  color=st.DEVICE_COLORS.get(kind, "#333333"), markeredgecolor="white",
                                  markeredgewidth=0.3, label=f"{st.DEVICE_LABELS.get(kind, kind.value)} ({len(ds):,})"))
        totals = {k: sum(per.get(k, 0) for per in per_building.values()) for k in DeviceKind}
        listed = [k for k in PER_HOUSEHOLD if totals[k]] + [k for k in DeviceKind if totals[k] and k not in PER_HOUSEHOLD]
        if listed:
            text = "per-household devices, counted\nunder each building label:\n" + "\n".join(
                f"{st.DEVICE_ABBREV[k]} = {st.DEVICE_LABELS[k]} ({totals[k]:,})" for k in listed)
            handles.append(Line2D([], [], ls="", marker="", label=text))

    # --- building labels (largest first, shortened or left out where they would collide) -----
    for b in sorted(site.buildings, key=lambda b: -b.footprint.area):
        _label_building(ax, labels, b, per_building.get(b.id, {}))

    # --- scale bar and north arrow in the strip below the boundary ------------------------------
    _scale_bar(ax, bx0, by0 - pad - strip, w_m, strip)
    _north_arrow(ax, bx1 - 0.02 * w_m, by0 - pad - strip, by0 - 0.25 * pad, strip)

    # --- frame, title, legend --------------------------------------------------------------------
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    crs = "" if site.crs in ("", "LOCAL") else f", {site.crs}"
    ax.set_xlabel(f"x east (m{crs})")
    ax.set_ylabel(f"y north (m{crs})")
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.tick_params(labelsize=7)
    ax.set_title(st.plain_text(title if title is not None else site.name) or site.name, fontsize=12,
                 fontweight="bold", pad=17)
    ax.annotate(_counts_line(site), (0.5, 1.0), xycoords="axes fraction", xytext=(0, 4), textcoords="offset points",
                ha="center", va="bottom", fontsize=8.5, color="#444444")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.015, 1.0), borderaxespad=0.0, fontsize=7.5,
              title="Legend", title_fontsize=9, alignment="left", frameon=False, handlelength=2.0,
              labelspacing=0.45)
    if path is not None:
        if own_figure:
            fig.savefig(Path(path), dpi=dpi, bbox_inches="tight", pad_inches=0.12)
        else:
            fig.savefig(Path(path), dpi=dpi)
    return fig


def _label_building(ax: Any, labels: _Labels, b: Building, counts: dict[DeviceKind, int]) -> None:
    """Label ``b`` with its tag and per-household device counts; fall back to one count line,
    then to the tag alone, then to nothing when the label would overlap another one or dwarf
    a tiny footprint."""
    tag = st.plain_text(st.building_tag(b)) or b.id
    kinds = [k for k in PER_HOUSEHOLD if counts.get(k)] + [k for k in counts if k not in PER_HOUSEHOLD]
    parts = [f"{counts[k]:,} {st.DEVICE_ABBREV[k]}" for k in kinds]
    options = []
    if parts:
        options += [tag + "\n" + "\n".join(parts), tag + "\n" + " · ".join(parts)]
    options.append(tag)
    c = b.footprint.centroid if b.footprint.contains(b.footprint.centroid) else b.footprint.representative_point()
    fx0, fy0, fx1, fy1 = b.footprint.bounds
    (px0, py0), (px1, py1) = ax.transData.transform([(fx0, fy0), (fx1, fy1)])
    foot_w, foot_h = abs(px1 - px0), abs(py1 - py0)
    foot_area = b.footprint.area * (foot_w * foot_h) / max((fx1 - fx0) * (fy1 - fy0), 1e-9)  # px^2
    fs = 6.5
    for text in options:
        box = labels.box(c.x, c.y, text, fs)
        # a label may overhang its footprint a little, but not cover several neighbours
        bw, bh = box[2] - box[0], box[3] - box[1]
        too_big = bw > 2.2 * foot_w + 10 or bh > 3.0 * foot_h + 10 or bw * bh > 2.0 * foot_area
        if not too_big and labels.free(box):
            labels.add(box)
            ax.text(c.x, c.y, text, fontsize=fs, ha="center", va="center", zorder=9, color="#1a1a1a",
                    linespacing=1.05, bbox={**LABEL_BOX, "alpha": 0.55})
            return


def _scale_bar(ax: Any, x0: float, y_strip: float, w_m: float, strip: float) -> None:
    """A black-and-white striped bar of a round length with ``0`` and the length above it."""
    from matplotlib.patches import Rectangle

    length = st.nice_length(w_m)
    n = 4
    seg = length / n
    h = 0.13 * strip
    y = y_strip + 0.3 * strip
    for i in range(n):
        ax.add_patch(Rectangle((x0 + i * seg, y), seg, h, facecolor="#1a1a1a" if i % 2 == 0 else "white",
                               edgecolor="#1a1a1a", linewidth=0.8, zorder=10))
    ty = y + h + 0.08 * strip
    ax.text(x0, ty, "0", ha="center", va="bottom", fontsize=7.5, zorder=10)
    ax.text(x0 + length, ty, f"{length:g} m", ha="center", va="bottom", fontsize=7.5, zorder=10)


def _north_arrow(ax: Any, x: float, y_strip: float, y_top: float, strip: float) -> None:
    """An upward arrow with a bold ``N`` at its tail, inside the strip below the site."""
    tail = y_strip + 0.32 * strip
    head = max(y_top, tail + 0.3 * strip)
    ax.annotate("", xy=(x, head), xytext=(x, tail),
                arrowprops={"arrowstyle": "-|>,head_width=0.45,head_length=0.9", "color": "#111111", "lw": 2.2},
                zorder=10)
    ax.text(x, tail - 0.05 * strip, "N", ha="center", va="top", fontsize=11, fontweight="bold", zorder=10)
