"""Pictures of a microscopic evacuation for planners (matplotlib Agg, no pyplot global state),
drawn from the plain arrays of :mod:`agents.crowd_metrics`, so they work for any crowd run.

* :func:`plot_density_map` — the peak crowd density (p/m², ``window_m`` bins) over the walkable
  map (walls grey), coloured by Fruin's walkway level of service (A-F, bands and their density
  ranges in the legend), with the top queueing places (:func:`agents.crowd_metrics.bottlenecks`)
  outlined, numbered and listed with their person-seconds of queueing, peak density and LoS.
* :func:`plot_evacuation_curves` — persons out over time, overall and per group, with RSET at
  95 % and 100 % marked (and the count never out, if any).
* :func:`animate_trace` — the agents as dots coloured by speed (m/s; grey while waiting to
  start) over the walkable map, one frame per sample; GIF through Pillow, MP4 when ffmpeg is
  installed. One scatter whose offsets and colours are updated per frame, so 10,000 agents
  stay cheap; long runs are thinned to at most ``max_frames`` frames.

Fonts: the CJK fallback chain of :mod:`viz._mpl` (region names and titles may be Chinese);
characters no installed font can draw are dropped with :func:`viz._style.plain_text`.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from agents.crowd_metrics import (
    FRUIN_WALKWAY_M2,
    LOS_LETTERS,
    CrowdTrace,
    bottlenecks,
    density_maps,
)
from viz import _style as st
from viz._mpl import plot_style

__all__ = ["LOS_COLORS", "animate_trace", "plot_density_map", "plot_evacuation_curves"]

log = logging.getLogger(__name__)

#: Fruin level of service A (free) ... F (jammed): green to dark red
LOS_COLORS: dict[str, str] = {"A": "#1a9850", "B": "#91cf60", "C": "#d9ef8b", "D": "#fee08b",
                              "E": "#fc8d59", "F": "#c62828"}
LOS_WORDS = {"A": "free flow", "B": "minor conflicts", "C": "speed restricted", "D": "most restricted",
             "E": "shuffling, stoppages", "F": "jammed, contact"}
WALL_COLOR = "#9e9e9e"
FLOOR_COLOR = "#ffffff"
OUTSIDE_COLOR = "#e6e6e6"
STAIR_COLOR = "#5c6bc0"
MARK_COLOR = "#0d47a1"
GROUP_COLORS = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#4e342e", "#546e7a")


def _figure(w_in: float, h_in: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w_in, h_in))
    FigureCanvasAgg(fig)
    return fig


def _out_path(path: str | Path, suffixes: tuple[str, ...]) -> Path:
    p = Path(path)
    if p.suffix.lower() not in suffixes:
        raise ValueError(f"path {str(p)!r}: expected a file name ending in {' or '.join(suffixes)}")
    p.parent.mkdir(parents=True, exist_ok=True)
    return p


def _floor_image(walkable: np.ndarray) -> np.ndarray:
    from matplotlib.colors import to_rgb

    img = np.empty(walkable.shape + (3,))
    img[...] = to_rgb(WALL_COLOR)
    img[walkable] = to_rgb(FLOOR_COLOR)
    return img


def _fig_size(w_m: float, h_m: float, *, side_in: float, max_w: float = 11.0, max_h: float = 8.0) -> tuple[float, float]:
    """Figure inches for a map of w_m x h_m metres plus a side panel of ``side_in`` inches."""
    aspect = h_m / max(w_m, 1e-9)
    w_map = min(max_w - side_in, max(4.0, (max_h - 1.2) / max(aspect, 1e-9)))
    h = min(max_h, max(3.2, w_map * aspect + 1.2))
    w_map = min(w_map, (h - 1.2) / max(aspect, 1e-9))
    return (max(w_map, 3.0) + side_in, h)


def _los_bounds(vmax: float) -> list[float]:
    b = [0.0] + [1.0 / a for a in FRUIN_WALKWAY_M2]
    return b + [max(vmax, b[-1] * 1.5)]


def plot_density_map(
    data: CrowdTrace | np.ndarray,
    *,
    path: str | Path,
    title: str = "",
    window_m: float = 1.0,
    origin: tuple[float, float] = (0.0, 0.0),
    bin_m: float = 1.0,
    walkable: np.ndarray | None = None,
    cell_size_m: float | None = None,
    bottleneck_table: pd.DataFrame | None = None,
    top: int = 5,
    slow_fraction: float = 0.3,
    dpi: int = 150,
) -> Path:
    """Peak-density map as a PNG at ``path``; returns the path.

    ``data``: a :class:`~agents.crowd_metrics.CrowdTrace` (densities from
    :func:`~agents.crowd_metrics.density_maps` on ``window_m`` bins, bottlenecks from
    :func:`~agents.crowd_metrics.bottlenecks` with ``top`` and ``slow_fraction``, walls and stairs
    from the trace), or a density array [ny', nx'] (p/m², NaN = no floor) with its bins'
    ``origin`` and size ``bin_m`` (m), optionally the ``walkable`` grid on the same origin with
    ``cell_size_m`` (default ``bin_m``) and a ``bottleneck_table`` (columns of
    :func:`~agents.crowd_metrics.bottlenecks`) to annotate.
    """
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.patches import Patch

    out = _out_path(path, (".png",))
    stair = None
    if isinstance(data, CrowdTrace):
        dens, _ = density_maps(data, window_m=window_m)
        origin, bin_m = data.origin, float(window_m)
        walkable, cell_size_m = data.walkable, data.cell_size_m
        stair = data.stair_mask
        if bottleneck_table is None:
            bottleneck_table = bottlenecks(data, top=top, slow_fraction=slow_fraction, window_m=window_m)
        regions = data.regions
    else:
        dens = np.asarray(data, dtype=np.float64)
        if dens.ndim != 2:
            raise ValueError(f"plot_density_map: expected a CrowdTrace or a 2-D density array, got shape {dens.shape}")
        if not (isinstance(bin_m, (int, float)) and bin_m > 0):
            raise ValueError(f"plot_density_map: bin_m must be a positive number of metres, got {bin_m!r}")
        regions = {}
        if walkable is not None:
            walkable = np.asarray(walkable, dtype=bool)
            if walkable.ndim != 2:
                raise ValueError(f"plot_density_map: walkable must be a 2-D grid, got shape {walkable.shape}")
            cell_size_m = float(cell_size_m or bin_m)
    ox, oy = float(origin[0]), float(origin[1])
    nby, nbx = dens.shape
    w_m, h_m = nbx * bin_m, nby * bin_m
    if walkable is not None and cell_size_m:
        w_m = max(w_m, walkable.shape[1] * cell_size_m)
        h_m = max(h_m, walkable.shape[0] * cell_size_m)
    finite = np.isfinite(dens)
    vmax = float(np.nanmax(dens)) if finite.any() else 0.0
    bt = bottleneck_table.head(top) if bottleneck_table is not None else pd.DataFrame()

    with plot_style():
        fig = _figure(*_fig_size(w_m, h_m, side_in=3.6))
        ax = fig.add_axes((0.07, 0.1, 0.93 - 3.6 / fig.get_figwidth(), 0.8))
        ax.set_facecolor(OUTSIDE_COLOR)
        if walkable is not None and cell_size_m:
            ny, nx = walkable.shape
            ax.imshow(_floor_image(walkable), origin="lower", interpolation="nearest", zorder=1,
                      extent=(ox, ox + nx * cell_size_m, oy, oy + ny * cell_size_m))
        bounds = _los_bounds(vmax)
        cmap = ListedColormap([LOS_COLORS[k] for k in LOS_LETTERS])
        norm = BoundaryNorm(bounds, cmap.N)
        k = round(bin_m / cell_size_m) if (walkable is not None and cell_size_m) else 0
        if k >= 1 and abs(k * cell_size_m - bin_m) < 1e-6 * bin_m:
            # density painted on the floor cells only, so walls inside a bin stay grey
            ny, nx = walkable.shape
            dc = np.full((ny, nx), np.nan)
            up = np.repeat(np.repeat(dens, k, axis=0), k, axis=1)[:ny, :nx]
            dc[: up.shape[0], : up.shape[1]] = up
            dc[~walkable] = np.nan
            img, ext = dc, (ox, ox + nx * cell_size_m, oy, oy + ny * cell_size_m)
        else:
            img, ext = dens, (ox, ox + nbx * bin_m, oy, oy + nby * bin_m)
        shown = np.ma.masked_where(~np.isfinite(img) | (np.nan_to_num(img) <= 0), img)
        ax.imshow(shown, origin="lower", interpolation="nearest", cmap=cmap, norm=norm, alpha=0.85, zorder=2,
                  extent=ext)
        if stair is not None and stair.any() and cell_size_m:
            ny, nx = stair.shape
            ax.contourf(ox + (np.arange(nx) + 0.5) * cell_size_m, oy + (np.arange(ny) + 0.5) * cell_size_m,
                        stair.astype(float), levels=[0.5, 1.5], colors="none", hatches=["////"], zorder=3)
            ax.contour(ox + (np.arange(nx) + 0.5) * cell_size_m, oy + (np.arange(ny) + 0.5) * cell_size_m,
                       stair.astype(float), levels=[0.5], colors=STAIR_COLOR, linewidths=0.8, zorder=3)
        lines = []
        for k, row in enumerate(bt.itertuples(index=False), start=1):
            name = str(row.region)
            if name in regions and regions[name].any() and cell_size_m and \
                    regions[name].sum() < 0.25 * max(int(walkable.sum()) if walkable is not None else 0, 1):
                mk = regions[name]
                ny, nx = mk.shape
                ax.contour(ox + (np.arange(nx) + 0.5) * cell_size_m, oy + (np.arange(ny) + 0.5) * cell_size_m,
                           mk.astype(float), levels=[0.5], colors=MARK_COLOR, linewidths=1.2, zorder=4)
            ax.annotate(str(k), (row.x_m, row.y_m), ha="center", va="center", fontsize=8, fontweight="bold",
                        color="white", zorder=6,
                        bbox={"boxstyle": "circle,pad=0.25", "facecolor": MARK_COLOR, "edgecolor": "white"})
            los = f", LoS {row.los}" if row.los else ""
            dens_txt = f"{row.peak_density_p_m2:.1f} p/m²" if np.isfinite(row.peak_density_p_m2) else "n/a"
            lines.append(f"{k}  {st.plain_text(name) or 'region'}\n"
                         f"    {row.person_s_queueing:,.0f} person-s queueing, up to {row.peak_queue_persons} at once\n"
                         f"    peak {dens_txt}{los}, {row.first_t_s:.0f}-{row.last_t_s:.0f} s")
        ax.set_xlim(ox, ox + w_m)
        ax.set_ylim(oy, oy + h_m)
        ax.set_aspect("equal")
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        sub = f"peak density {vmax:.1f} p/m² on {bin_m:g} m bins" if finite.any() else "no density data"
        ax.set_title((st.plain_text(title) + "\n" if title else "") + sub, fontsize=9, loc="left")
        handles = []
        for k, letter in enumerate(LOS_LETTERS):
            lo, hi = bounds[k], bounds[k + 1]
            rng = f"> {lo:.2f}" if k == len(LOS_LETTERS) - 1 else f"{lo:.2f}-{hi:.2f}"
            handles.append(Patch(facecolor=LOS_COLORS[letter], edgecolor="none", alpha=0.85,
                                 label=f"{letter}  {rng} p/m²  ({LOS_WORDS[letter]})"))
        handles.append(Patch(facecolor=FLOOR_COLOR, edgecolor="#bbbbbb", label="floor, nobody"))
        handles.append(Patch(facecolor=WALL_COLOR, edgecolor="none", label="wall / not walkable"))
        if stair is not None and stair.any():
            handles.append(Patch(facecolor="none", edgecolor=STAIR_COLOR, hatch="////", label="stairs"))
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False,
                        title="Peak density, Fruin (1971)\nwalkway level of service", title_fontsize=8,
                        fontsize=7, alignment="left")
        if lines:
            ax.text(1.02, 0.0, "Top queueing places\n" + "\n".join(lines), transform=ax.transAxes, fontsize=6.5,
                    va="bottom", ha="left", linespacing=1.25)
        fig.savefig(out, dpi=dpi)
    return out


def _rset_from_curve(df: pd.DataFrame, col: str, n: int) -> tuple[float, float]:
    t = df["t"].to_numpy(dtype=float)
    c = df[col].to_numpy(dtype=float)
    res = []
    for f in (0.95, 1.0):
        need = math.ceil(f * n - 1e-9)
        hit = np.flatnonzero(c >= need) if need > 0 else np.array([0])
        res.append(float(t[hit[0]]) if hit.size else math.inf)
    return res[0], res[1]


def plot_evacuation_curves(curves_df: pd.DataFrame, *, path: str | Path, title: str = "", dpi: int = 150) -> Path:
    """Evacuation curves as a PNG at ``path`` (returns it): persons out over time from
    :func:`agents.crowd_metrics.evacuation_curve` (columns ``t``, ``out`` and ``out_<group>``),
    the overall curve thick, groups thin, RSET 95 % and 100 % marked on the overall curve; the
    number never out is written when anyone is left (then RSET 100 % is infinite)."""
    out = _out_path(path, (".png",))
    for c in ("t", "out"):
        if c not in curves_df.columns:
            raise ValueError(f"plot_evacuation_curves: curves_df lacks column {c!r} (use evacuation_curve())")
    n = int(curves_df.attrs.get("n", int(curves_df["out"].max()) if len(curves_df) else 0))
    n_left = int(curves_df.attrs.get("n_left", n - int(curves_df["out"].max()) if len(curves_df) else 0))
    gsize = dict(curves_df.attrs.get("groups", {}))
    groups = [c for c in curves_df.columns if c.startswith("out_")]
    t = curves_df["t"].to_numpy(dtype=float)
    r95, r100 = _rset_from_curve(curves_df, "out", n)
    with plot_style():
        fig = _figure(7.5, 4.2)
        ax = fig.add_axes((0.09, 0.13, 0.66, 0.74))
        ax.step(t, curves_df["out"], where="post", color="#212121", lw=2.0, label=f"all ({n} persons)")
        for k, g in enumerate(groups):
            name = g[4:]
            lab = st.plain_text(name) or f"group {k + 1}"
            if name in gsize:
                lab += f" ({gsize[name]})"
            ax.step(t, curves_df[g], where="post", color=GROUP_COLORS[k % len(GROUP_COLORS)], lw=1.2, label=lab)
        tmax = float(t.max()) if t.size else 1.0
        for val, txt, ls in ((r95, "RSET 95 %", "--"), (r100, "RSET 100 %", ":")):
            if math.isfinite(val):
                ax.axvline(val, color="#b71c1c", ls=ls, lw=1.2)
                ax.text(val, max(n, 1) * 0.02, f"{txt} = {val:.0f} s ", rotation=90, ha="right", va="bottom",
                        fontsize=7.5, color="#b71c1c")
        if n_left:
            ax.text(0.98, 0.04, f"{n_left} never out: RSET 100 % = inf", transform=ax.transAxes, ha="right",
                    fontsize=8, color="#b71c1c")
        ax.set_xlim(0, tmax * 1.04 if tmax > 0 else 1.0)
        ax.set_ylim(0, max(n, 1) * 1.04)
        ax.set_xlabel("time (s)")
        ax.set_ylabel("persons out")
        ax.grid(True, color="#e0e0e0", lw=0.6)
        if n > 0:
            sec = ax.secondary_yaxis("right", functions=(lambda v: 100.0 * v / n, lambda p: p * n / 100.0))
            sec.set_ylabel("% out")
        r95s = f"{r95:.0f} s" if math.isfinite(r95) else "inf"
        r100s = f"{r100:.0f} s" if math.isfinite(r100) else "inf"
        ax.set_title((st.plain_text(title) + "\n" if title else "") + f"RSET 95 % {r95s}, 100 % {r100s}",
                     fontsize=9, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.1, 1.0), frameon=False, fontsize=7.5)
        fig.savefig(out, dpi=dpi)
    return out


def animate_trace(trace: CrowdTrace, *, path: str | Path, fps: int = 10, every: int = 1, max_frames: int = 1000,
                  dpi: int = 80, title: str = "") -> Path:
    """Animation of ``trace`` at ``path`` (``.gif``: Pillow; ``.mp4``: needs ffmpeg), one frame
    per ``every``-th sample (thinned further so at most ``max_frames`` frames are written);
    returns the path. Agents are dots of their body size (0.4 m) coloured by speed (red slow ...
    green at the fastest free speed), grey while waiting to start."""
    from matplotlib import animation, colormaps
    from matplotlib.colors import Normalize

    out = _out_path(path, (".gif", ".mp4"))
    for nm, v, lo in (("fps", fps, 1), ("every", every, 1), ("max_frames", max_frames, 1)):
        if not (isinstance(v, int) and v >= lo):
            raise ValueError(f"animate_trace: {nm} must be an integer >= {lo}, got {v!r}")
    if out.suffix.lower() == ".mp4":
        if not animation.writers.is_available("ffmpeg"):
            raise ValueError(f"animate_trace: {str(out)!r} needs ffmpeg, which is not installed; write a .gif")
        writer: Any = animation.FFMpegWriter(fps=fps)
    else:
        writer = animation.PillowWriter(fps=fps)
    frames = np.arange(0, trace.nt, every)
    if frames.size > max_frames:
        step = every * math.ceil(frames.size / max_frames)
        log.info("animate_trace: %d samples, every=%d raised to %d (max_frames=%d)", trace.nt, every, step, max_frames)
        frames = np.arange(0, trace.nt, step)
    h = trace.cell_size_m
    ny, nx = trace.walkable.shape
    ox, oy = trace.origin
    w_m, h_m = nx * h, ny * h
    vmax = float(np.max(trace.v0)) if trace.n else 1.0
    cmap = colormaps["RdYlGn"].with_extremes(bad="#8d8d8d")
    with plot_style():
        fig = _figure(*_fig_size(w_m, h_m, side_in=1.3, max_w=9.0, max_h=7.0))
        fw = fig.get_figwidth()
        ax = fig.add_axes((0.08, 0.1, 1.0 - 1.35 / fw - 0.08, 0.8))
        ax.set_facecolor(OUTSIDE_COLOR)
        ax.imshow(_floor_image(trace.walkable), origin="lower", interpolation="nearest",
                  extent=(ox, ox + w_m, oy, oy + h_m))
        ax.set_xlim(ox, ox + w_m)
        ax.set_ylim(oy, oy + h_m)
        ax.set_aspect("equal")
        ax.set_xlabel("x (m)")
        ax.set_ylabel("y (m)")
        fig.canvas.draw()
        ppm = ax.get_window_extent().width * 72.0 / fig.dpi / w_m  # points per metre
        size = max((0.4 * ppm) ** 2, 1.0)
        sc = ax.scatter(np.zeros(0), np.zeros(0), s=size, c=np.zeros(0), cmap=cmap,
                        norm=Normalize(0.0, vmax), linewidths=0, zorder=3)
        cax = fig.add_axes((1.0 - 1.15 / fw, 0.2, 0.14 / fw, 0.6))
        cb = fig.colorbar(sc, cax=cax)
        cb.set_label("speed (m/s); grey: waiting")
        head = ax.set_title("", fontsize=9, loc="left")
        ttl = st.plain_text(title)
        with writer.saving(fig, str(out), dpi):
            for k in frames:
                xs, ys = trace.x[k], trace.y[k]
                inside = np.isfinite(xs) & np.isfinite(ys)
                sp = np.ma.masked_array(trace.speed[k][inside].astype(float), mask=~trace.walking[k][inside])
                sc.set_offsets(np.column_stack([xs[inside], ys[inside]]))
                sc.set_array(sp)
                n_in = int(inside.sum())
                head.set_text((ttl + "\n" if ttl else "")
                              + f"t = {trace.t[k]:.0f} s   inside {n_in}   walking {int(trace.walking[k].sum())}"
                              f"   out {trace.n - n_in}")
                writer.grab_frame()
    return out
