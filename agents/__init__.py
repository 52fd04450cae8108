"""People and teams: household and person-level population synthesis, the network-flow (SFPE
hydraulic) evacuation model, and the microscopic crowd model (collision-free speed model on
single levels and multi-level building atlases, the site-wide crowd evacuation, its metrics) —
each with its numba kernel in a private module."""

from agents.crowd import (
    DEFAULT_STAIR_FACTORS,
    EXIT_CHOICES,
    CrowdComponent,
    CrowdModel,
    CrowdParameters,
)
from agents.crowd_evacuation import CrowdEvacuation, CrowdEvacuationSettings
from agents.crowd_metrics import (
    FRUIN_STAIRWAY_M2,
    FRUIN_WALKWAY_M2,
    CrowdTrace,
    bottlenecks,
    density_maps,
    door_flows,
    evacuation_curve,
    fruin_los,
    queue_time,
    rset,
)
from agents.demographics import (
    CARRIED_CHILD_AGE_Y,
    PROFILE_NAMES,
    SPEED_DISTRIBUTIONS,
    STAIR_ASCENT_M_S,
    STAIR_DESCENT_M_S,
    WEIDMANN_FREE_SPEED_M_S,
    People,
    Profile,
    SpeedDistribution,
    SpeedGroup,
    draw_walking_speeds,
    speed_group_for,
    synthesize_people,
)
from agents.flow_evacuation import FlowEvacuation, FlowParameters, RouteTargetError
from agents.population import (
    HouseholdPopulation,
    at_home_fraction,
    default_premovement_median_s,
    synthesize_households,
)

__all__ = [
    "CARRIED_CHILD_AGE_Y",
    "DEFAULT_STAIR_FACTORS",
    "EXIT_CHOICES",
    "FRUIN_STAIRWAY_M2",
    "FRUIN_WALKWAY_M2",
    "CrowdComponent",
    "CrowdEvacuation",
    "CrowdEvacuationSettings",
    "CrowdModel",
    "CrowdParameters",
    "CrowdTrace",
    "bottlenecks",
    "density_maps",
    "door_flows",
    "evacuation_curve",
    "fruin_los",
    "queue_time",
    "rset",
    "PROFILE_NAMES",
    "SPEED_DISTRIBUTIONS",
    "STAIR_ASCENT_M_S",
    "STAIR_DESCENT_M_S",
    "WEIDMANN_FREE_SPEED_M_S",
    "People",
    "Profile",
    "SpeedDistribution",
    "SpeedGroup",
    "draw_walking_speeds",
    "speed_group_for",
    "synthesize_people",
    "FlowEvacuation",
    "FlowParameters",
    "HouseholdPopulation",
    "RouteTargetError",
    "at_home_fraction",
    "default_premovement_median_s",
    "synthesize_households",
]
