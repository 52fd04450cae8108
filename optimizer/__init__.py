"""Planning optimizers: camera placement, patrol routes, response posts and investment
portfolios.

* :mod:`optimizer.cameras` — camera placement as set covering (minimum cost, k-fold redundancy)
  and maximal covering under a budget: exact MILPs (HiGHS via SciPy) and a lazy-greedy +
  local-search heuristic with its gap to the LP bound; the coverage-vs-cameras curve;
* :mod:`optimizer.camera_sites` — the estate's camera placement: candidate poses on walls, lamp
  posts and gates, risk-weighted demand on paths, entrances, gates and perimeter, occlusion-aware
  viewsheds (:mod:`geometry.viewshed`), plans and the coverage-vs-cameras curve;
* :mod:`optimizer.response` — response posts: p-median, maximal covering under a response-time
  standard and location set covering;
* :mod:`optimizer.orlib` — OR-Library readers (set covering, p-median) for validation;
* :mod:`optimizer.plans` — evacuation plans (buildings or stairs to exits and assembly points)
  by simulation in the loop with Optuna, against nearest-exit;
* :mod:`optimizer.patrols` — patrol routes as a team orienteering problem (iterated local
  search, validated on Chao's instances) and randomised schedules from a Stackelberg
  security game.
"""

from optimizer.camera_sites import (
    DEFAULT_CAMERA_TYPES,
    DEFAULT_RISK,
    CameraCandidates,
    CameraPlan,
    CameraSiteMeta,
    CameraType,
    CoverageReport,
    DemandPoints,
    camera_candidates,
    camera_curve,
    camera_problem,
    demand_points,
    existing_coverage,
    outdoor_cameras,
    plan_cameras,
    report_for,
)
from optimizer.cameras import (
    CoverageCurve,
    CoverageProblem,
    CoverageResult,
    coverage_curve,
    max_coverage,
    min_cost_cover,
)
from optimizer.orlib import OrlibFormatError, PMedInstance, ScpInstance, read_orlib_pmed, read_orlib_scp
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
from optimizer.plans import (
    COARSE_CROWD,
    M2_PER_PERSON,
    PENALTY_S_PER_PERSON,
    Plan,
    PlanError,
    PlanEvaluation,
    PlanProblem,
    PlanResult,
    evaluate_plan,
    optimise_plan,
)
from optimizer.runs import (
    OptimizeInputError,
    OptimizeResult,
    optimize_cameras,
    optimize_patrols,
    optimize_plan,
    optimize_posts,
)
from optimizer.security_value import camera_plan_security
from optimizer.response import LocationResult, location_set_covering, max_covering_response, p_median

__all__ = [
    "OptimizeInputError",
    "OptimizeResult",
    "optimize_cameras",
    "optimize_patrols",
    "optimize_plan",
    "optimize_posts",
    "camera_plan_security",
    "COARSE_CROWD",
    "M2_PER_PERSON",
    "PENALTY_S_PER_PERSON",
    "Plan",
    "PlanError",
    "PlanEvaluation",
    "PlanProblem",
    "PlanResult",
    "evaluate_plan",
    "optimise_plan",
    "DEFAULT_CAMERA_TYPES",
    "DEFAULT_RISK",
    "CameraCandidates",
    "CameraPlan",
    "CameraSiteMeta",
    "CameraType",
    "CoverageReport",
    "DemandPoints",
    "camera_candidates",
    "camera_curve",
    "camera_problem",
    "demand_points",
    "existing_coverage",
    "outdoor_cameras",
    "plan_cameras",
    "report_for",
    "CoverageCurve",
    "CoverageProblem",
    "CoverageResult",
    "LocationResult",
    "OrlibFormatError",
    "PMedInstance",
    "ScpInstance",
    "coverage_curve",
    "location_set_covering",
    "max_coverage",
    "max_covering_response",
    "min_cost_cover",
    "p_median",
    "read_orlib_pmed",
    "read_orlib_scp",
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
