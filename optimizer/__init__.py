"""Planning optimizers: camera placement, patrol routes, response posts and investment
portfolios.

* :mod:`optimizer.patrols` — patrol routes as a team orienteering problem (iterated local
  search, validated on Chao's instances) and randomised schedules from a Stackelberg
  security game.
"""

from optimizer.patrols import (
    PatrolInputError,
    PatrolPlan,
    PatrolSchedule,
    StackelbergSolution,
    TopInstance,
    plan_patrols,
    randomized_patrols,
    read_chao_top,
    solve_stackelberg,
    solve_top_matrix,
)

__all__ = [
    "PatrolInputError",
    "PatrolPlan",
    "PatrolSchedule",
    "StackelbergSolution",
    "TopInstance",
    "plan_patrols",
    "randomized_patrols",
    "read_chao_top",
    "solve_stackelberg",
    "solve_top_matrix",
]
