"""Pictures of a fire run: smoke-layer height, temperature and visibility over time in the
compartments that became untenable first, the people's FED over time (matplotlib, Agg), and
the 3D scene with every smoke-logged compartment coloured by its visibility (pyvista)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from viz._mpl import plot_style

__all__ = ["SMOKE_CLASSES", "plot_fed", "plot_fire_layers", "render_smoke_scene"]


def plot_fire_layers(frame: pd.DataFrame, *, path: str | Path, compartments: list[str], title: str = "",
                     aset_s: dict[str, float] | None = None, head_m: float = 1.83) -> Path:
    """Three panels over time for ``compartments`` (ids in ``frame``, the long table of
    :meth:`twin.fire.component.FireComponent.result_frame`): layer interface height above the
    floor (the 1.83 m tenability line drawn), upper-layer temperature (60 °C line) and visibility
    (10 m line, log scale); ASET marked per compartment when given. Returns the PNG path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    p = Path(path)
    if p.suffix.lower() != ".png":
        raise ValueError(f"plot_fire_layers: path {str(p)!r} must end in .png")
    missing = [c for c in compartments if c not in set(frame["compartment"])]
    if missing:
        raise ValueError(f"plot_fire_layers: compartments {missing} are not in the frame")
    p.parent.mkdir(parents=True, exist_ok=True)
    with plot_style():
        fig = Figure(figsize=(9.0, 7.5))
        FigureCanvasAgg(fig)
        axs = fig.subplots(3, 1, sharex=True)
        for c in compartments:
            d = frame[frame["compartment"] == c]
            line = axs[0].plot(d["t_s"], d["interface_m"], label=c)[0]
            axs[1].plot(d["t_s"], d["temp_c"], color=line.get_color())
            axs[2].plot(d["t_s"], np.clip(d["visibility_m"], 0.1, 1e3), color=line.get_color())
            if aset_s and np.isfinite(aset_s.get(c, np.inf)):
                for ax in axs:
                    ax.axvline(aset_s[c], color=line.get_color(), lw=0.8, ls=":")
        axs[0].axhline(head_m, color="k", lw=0.8, ls="--")
        axs[1].axhline(60.0, color="k", lw=0.8, ls="--")
        axs[2].axhline(10.0, color="k", lw=0.8, ls="--")
        axs[2].set_yscale("log")
        axs[0].set_ylabel("smoke layer\nabove floor (m)")
        axs[1].set_ylabel("layer\ntemperature (°C)")
        axs[2].set_ylabel("visibility (m)")
        axs[2].set_xlabel("time after ignition (s)")
        axs[0].legend(loc="upper right", fontsize=8)
        axs[0].set_title(title or "Smoke layers (dashed: tenability limits; dotted: ASET)")
        fig.tight_layout()
        fig.savefig(p, dpi=130)
    return p


def plot_fed(t: np.ndarray, fed: np.ndarray, *, path: str | Path, labels: list[str] | np.ndarray,
             n_top: int = 12, title: str = "") -> Path:
    """Two panels over time: the FED (ISO 13571) of the ``n_top`` most exposed people (``fed``
    [nt, np], one column per person, ``labels`` per person — e.g. their mobility profile — in
    the legend) with the 0.3 (sensitive people) and 1.0 (incapacitation) lines, and how many
    people are at or above each. Returns the PNG path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    p = Path(path)
    if p.suffix.lower() != ".png":
        raise ValueError(f"plot_fed: path {str(p)!r} must end in .png")
    fed = np.asarray(fed, dtype=float)
    t = np.asarray(t, dtype=float)
    if fed.ndim != 2 or fed.shape[0] != t.size or len(labels) != fed.shape[1]:
        raise ValueError(f"plot_fed: fed must be [len(t), len(labels)], got {fed.shape} for {t.size} times and "
                         f"{len(labels)} labels")
    p.parent.mkdir(parents=True, exist_ok=True)
    with plot_style():
        fig = Figure(figsize=(11.0, 6.0))
        FigureCanvasAgg(fig)
        axs = fig.subplots(2, 1, sharex=True)
        final = fed[-1] if fed.size else np.zeros(0)
        top = np.argsort(-final, kind="stable")[:n_top]
        top = top[final[top] > 0]
        for k in top:
            axs[0].plot(t, fed[:, k], lw=1.0, label=f"{labels[k]} ({final[k]:.2f})")
        axs[0].axhline(0.3, color="tab:orange", lw=0.8, ls="--")
        axs[0].axhline(1.0, color="tab:red", lw=0.8, ls="--")
        axs[0].set_ylabel("FED (ISO 13571)")
        if top.size:
            axs[0].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, title="final FED",
                          title_fontsize=7)
        axs[1].step(t, (fed >= 0.3).sum(axis=1), where="post", color="tab:orange", label="FED >= 0.3")
        axs[1].step(t, (fed >= 1.0).sum(axis=1), where="post", color="tab:red", label="FED >= 1 (incapacitated)")
        axs[1].step(t, (fed > 0).sum(axis=1), where="post", color="0.5", label="exposed (FED > 0)")
        axs[1].set_ylabel("people")
        axs[1].set_xlabel("time (s)")
        axs[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
        axs[0].set_title(title or f"Smoke dose of the {top.size} most exposed people")
        fig.tight_layout()
        fig.savefig(p, dpi=130)
    return p


#: Visibility classes of the 3D smoke scene: (upper bound of visibility in m, label, colour);
#: 10 m is fire.md's tenability limit for visibility, 5 m its limit in small familiar rooms.
SMOKE_CLASSES: tuple[tuple[float, str, str], ...] = (
    (2.0, "dense smoke (visibility < 2 m)", "#3a3a3a"),
    (5.0, "smoke, visibility 2-5 m", "#6e6e6e"),
    (10.0, "smoke, visibility 5-10 m (untenable)", "#9a9a9a"),
    (30.0, "light smoke, visibility 10-30 m", "#cfcfcf"),
)
_FIRE_COLOUR = "#e4572e"


def render_smoke_scene(site: Any, fire: Any, path: str | Path, *, t_s: float | None = None,
                       camera_position: str | None = None, window_size: tuple[int, int] = (1600, 1000)) -> Path:
    """The site in 3D with the smoke of ``fire`` (a run's :class:`twin.fire.component.FireComponent`)
    at ``t_s`` (default: the recorded moment with the most smoke-logged compartments): every
    flat, corridor, lobby and open storey whose upper layer has a visibility under 30 m is drawn
    as a block over its plan, a stair shaft as a column from its smoke interface to its top,
    both coloured by visibility (:data:`SMOKE_CLASSES`); burning compartments in red; the burning
    buildings' shells pale, framed from the side the first fire faces (``camera_position``
    overrides). Returns the PNG path."""
    from geometry.floorplan import storey_layout
    from twin.fire.compartments import KIND_SHAFT
    from viz.scene3d import _extrude, render_scene

    res = fire.result()
    vis = res.visibility_m()
    smoky = (vis < SMOKE_CLASSES[-1][0]) & (res.layer_kg > 0)
    if t_s is None:
        row = int(np.argmax(smoky.sum(axis=1)))
    else:
        if not (res.t[0] <= t_s <= res.t[-1]):
            raise ValueError(f"render_smoke_scene: t_s={t_s} s outside the recorded {res.t[0]:.0f}-{res.t[-1]:.0f} s")
        row = int(np.argmin(np.abs(res.t - t_s)))
    t = float(res.t[row])
    net = fire.net
    burning = {c for c, (when, _o, _m) in fire.ignited.items() if when <= t}
    layouts: dict[tuple[str, int], Any] = {}

    def plan(b: str, level: int) -> Any:
        if (b, level) not in layouts:
            layouts[(b, level)] = storey_layout(site.building(b), level)
        return layouts[(b, level)]

    groups: dict[str, list[Any]] = {}
    for c, cid in enumerate(res.ids):
        if not (smoky[row, c] or cid in burning):
            continue
        b, level, kind = net.building[c], int(net.level[c]), int(net.kind[c])
        lay = plan(b, level)
        h = float(site.building(b).storey_height_m)
        z0 = float(net.floor_z_m[c])
        if kind == KIND_SHAFT:
            poly = next((a.polygon for a in lay.stairs if a.id == cid), None)
            zb, zt = z0 + float(res.interface_m[row, c]), z0 + float(net.height_m[c])
        else:
            if cid.endswith("-C"):
                poly = lay.corridor
            elif lay.mode == "open":
                poly = lay.footprint
            else:
                poly = next((u.polygon for u in lay.units if u.id == cid), None)
            zb, zt = z0 + 0.05, z0 + 0.95 * h
        if poly is None or poly.is_empty or zt <= zb:
            continue
        colour = _FIRE_COLOUR if cid in burning else next(col for hi, _l, col in SMOKE_CLASSES if vis[row, c] < hi)
        for part in getattr(poly, "geoms", [poly]):
            groups.setdefault(colour, []).append(_extrude(part.buffer(0.25, join_style=2), zb, zt))
    extra = []
    for colour, meshes in groups.items():
        m = meshes[0].merge(meshes[1:]) if len(meshes) > 1 else meshes[0]
        extra.append((m, {"color": colour, "opacity": 1.0, "ambient": 0.3}))
    legend = [("burning", _FIRE_COLOUR)] + [(lab, col) for _hi, lab, col in SMOKE_CLASSES]
    shells = {b: "#f4f1ea" for b in sorted(set(net.building))}
    if camera_position is None:  # look at the face of the building nearest the first fire
        f0 = fire.fires[0].compartment
        b0 = site.building(net.building[net.index(f0)])
        try:
            lay = plan(b0.id, int(net.level[net.index(f0)]))
            pt = next(u.polygon.centroid for u in lay.units if u.id == f0)
        except StopIteration:
            pt = b0.footprint.centroid
        c0 = b0.footprint.centroid
        bearing = math.degrees(math.atan2(pt.x - c0.x, pt.y - c0.y)) % 360.0
        views = {"iso_ne": 45.0, "iso_se": 135.0, "iso_sw": 225.0, "iso_nw": 315.0}
        camera_position = min(views, key=lambda k: abs((views[k] - bearing + 180.0) % 360.0 - 180.0))
    return render_scene(site, path, window_size=window_size, camera_position=camera_position,
                        building_colors=shells, show_devices=False, show_view_cones=False,
                        title=f"{site.name}: smoke at {t / 60.0:.1f} min after ignition", extra=extra,
                        extra_legend=legend, focus=sorted(set(net.building)),
                        building_opacity={b: 0.18 for b in shells})
