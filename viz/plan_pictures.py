"""Pictures of an evacuation-plan search (:func:`optimizer.plans.optimise_plan`) for planners:
matplotlib Agg, no pyplot global state.

* :func:`plot_plan_convergence` — the penalised estate RSET (s) of every trial, the best so far
  as a step line, pruned (capacity-infeasible) trials as ticks on the axis, the nearest-exit
  baseline as a dashed line and, when the search was rechecked with another model, the
  rechecked baseline and kept plan as markers at the right.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from viz._mpl import plot_style

if TYPE_CHECKING:
    from optimizer.plans import PlanResult

__all__ = ["plot_plan_convergence"]


def plot_plan_convergence(result: "PlanResult", *, path: str | Path, title: str = "", dpi: int = 150) -> Path:
    """Convergence of the plan search as a PNG at ``path`` (returns it; see the module docstring)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    out = Path(path)
    if out.suffix.lower() != ".png":
        raise ValueError(f"plot_plan_convergence: path must end in .png, got {str(path)!r}")
    if not result.history:
        raise ValueError("plot_plan_convergence: the result has no trials")
    out.parent.mkdir(parents=True, exist_ok=True)
    done = [r for r in result.history if r["state"] == "complete"]
    pruned = [r for r in result.history if r["state"] != "complete"]
    with plot_style():
        fig = Figure(figsize=(7.0, 4.0))
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.1, 0.13, 0.85, 0.75))
        ax.scatter([r["trial"] for r in done], [r["objective_s"] for r in done], s=14, color="#7a8ca8",
                   label=f"trial ({result.model} model)", zorder=3)
        best = [r["best_s"] for r in result.history]
        ax.step([r["trial"] for r in result.history], best, where="post", color="#1c2a4a", lw=1.6,
                label="best so far", zorder=4)
        ax.axhline(result.baseline.objective_s, color="#e07000", ls="--", lw=1.2,
                   label=f"nearest-exit baseline {result.baseline.objective_s:.0f} s")
        if pruned:
            lo = min(r["objective_s"] for r in done)
            ax.scatter([r["trial"] for r in pruned], [lo] * len(pruned), marker="|", s=60, color="#c62828",
                       label=f"pruned by capacity ({len(pruned)})", zorder=2)
        if result.recheck is not None and result.recheck_baseline is not None:
            xr = len(result.history) + 0.5
            ax.scatter([xr], [result.recheck_baseline.objective_s], marker="s", color="#e07000", s=30,
                       label=f"{result.recheck_model} baseline {result.recheck_baseline.objective_s:.0f} s", zorder=5)
            ax.scatter([xr], [result.recheck.objective_s], marker="*", color="#2e9d3f", s=80,
                       label=f"{result.recheck_model} kept plan {result.recheck.objective_s:.0f} s", zorder=6)
        finite = [r["objective_s"] for r in done if math.isfinite(r["objective_s"])]
        if finite:
            span = max(finite) - min(finite)
            ax.set_ylim(min(finite) - 0.1 * span - 5, max(finite) + 0.1 * span + 5)
        ax.set_xlabel("trial")
        ax.set_ylabel(f"estate RSET ({result.objective}, penalised) [s]")
        ax.set_title(title or "Evacuation plan search")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
        fig.savefig(out, dpi=dpi)
    return out
