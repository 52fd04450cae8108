"""Pictures of a fire run: smoke-layer height, temperature and visibility over time in the
compartments that became untenable first (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from viz._mpl import plot_style

__all__ = ["plot_fire_layers"]


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
